package wire

// Layout walks that more than one message or draft shares.

// idField is the name of the request-correlation field: draft-07's
// Subscribe ID, later drafts' Request ID.
func idField(d Draft) string {
	if d.Is07() {
		return "subscribe_id"
	}
	return "request_id"
}

func walkClientSetup(w walker, m *ClientSetup) {
	w.versions(&m.Versions)
	w.params(ctxSetup, &m.Params, m, nil)
}

func walkServerSetup(w walker, m *ServerSetup) {
	w.varint("selected_version", &m.Version)
	w.params(ctxSetup, &m.Params, m, nil)
}

func walkGoAway(w walker, m *GoAway) {
	w.str("new_session_uri", &m.NewSessionURI, MaxGoAwayURI)
}

func walkMaxRequestID(w walker, m *MaxRequestID) {
	w.varint(idField(w.draft()), &m.RequestID)
}

func walkRequestsBlocked(w walker, m *RequestsBlocked) {
	w.varint("maximum_request_id", &m.MaximumRequestID)
}

func walkUnsubscribe(w walker, m *Unsubscribe) {
	w.varint(idField(w.draft()), &m.RequestID)
}

func walkFetchCancel(w walker, m *FetchCancel) {
	w.varint(idField(w.draft()), &m.RequestID)
}

// walkRequestError walks Request ID, Error Code and Reason Phrase.
func walkRequestError(w walker, id, code *uint64, reason *string) {
	w.varint(idField(w.draft()), id)
	w.varint("error_code", code)
	w.reason(reason)
}

// walkTupleError walks a namespace (or prefix), Error Code and Reason
// Phrase (draft-07 ANNOUNCE_ERROR, SUBSCRIBE_ANNOUNCES_ERROR).
func walkTupleError(w walker, field string, t *Tuple, code *uint64, reason *string) {
	w.tuple(field, t, field == "track_namespace_prefix")
	w.varint("error_code", code)
	w.reason(reason)
}

// walkNamespaceDone07 is UNANNOUNCE (07) / PUBLISH_NAMESPACE_DONE (14).
func walkNamespaceDone07(w walker, m *PublishNamespaceDone) {
	w.tuple("track_namespace", &m.Namespace, false)
}

// walkNamespaceCancel07 is ANNOUNCE_CANCEL (07) / PUBLISH_NAMESPACE_CANCEL
// (14).
func walkNamespaceCancel07(w walker, m *PublishNamespaceCancel) {
	w.tuple("track_namespace", &m.Namespace, false)
	w.varint("error_code", &m.ErrorCode)
	w.reason(&m.Reason)
}

// walkUnsubscribeNamespace: a prefix of 0..32 fields in draft-07 (whose text
// sets no lower bound), 1..32 in draft-14.
func walkUnsubscribeNamespace(w walker, m *UnsubscribeNamespace) {
	w.tuple("track_namespace_prefix", &m.Prefix, w.draft().Is07())
}

// walkContent walks a Content Exists flag and, when set, a Location.
func walkContent(w walker, field string, exists *bool, l *Location) {
	w.flag("content_exists", exists)
	if *exists {
		w.loc(field, l)
	}
}

// walkFilter walks a Filter Type and the locations it has: Start for
// AbsoluteStart and AbsoluteRange, End Group (and, in draft-07, End Object)
// for AbsoluteRange.
func walkFilter(w walker, startField string, ft *FilterType, start *Location, endGroup, endObject *uint64) {
	w.filterType(ft)
	if *ft == FilterAbsoluteStart || *ft == FilterAbsoluteRange {
		w.loc(startField, start)
	}
	if *ft == FilterAbsoluteRange {
		w.varint("end_group", endGroup)
		if endObject != nil {
			w.varint("end_object", endObject)
		}
	}
}

// walkSubscribe14 is draft-14 SUBSCRIBE (and TRACK_STATUS).
func walkSubscribe14(w walker, m *Subscribe) {
	w.varint("request_id", &m.RequestID)
	w.tuple("track_namespace", &m.Namespace, false)
	w.trackName(m.Namespace, &m.Name)
	w.u8("subscriber_priority", &m.SubscriberPriority)
	w.groupOrder(&m.GroupOrder)
	w.flag("forward", &m.Forward)
	walkFilter(w, "start_location", &m.FilterType, &m.Start, &m.EndGroup, nil)
	w.params(ctxMessage, &m.Params, m, nil)
}

// walkSubscribeOK14 is draft-14 SUBSCRIBE_OK (and TRACK_STATUS_OK).
func walkSubscribeOK14(w walker, id, alias, expires *uint64, order *uint8, exists *bool, largest *Location, ps *Params) {
	w.varint("request_id", id)
	w.varint("track_alias", alias)
	w.varint("expires", expires)
	w.groupOrder(order)
	walkContent(w, "largest_location", exists, largest)
	w.params(ctxMessage, ps, nil, nil)
}

func walkPublishDone14(w walker, m *PublishDone) {
	w.varint("request_id", &m.RequestID)
	w.varint("status_code", &m.StatusCode)
	w.varint("stream_count", &m.StreamCount)
	w.reason(&m.Reason)
}

// walkFetchBody14 walks a FETCH's standalone or joining part (14, 16).
func walkFetchBody14(w walker, m *Fetch) {
	switch m.FetchType {
	case FetchStandalone:
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
		w.loc("start_location", &m.Start)
		w.loc("end_location", &m.End)
	case FetchRelativeJoining, FetchAbsoluteJoining:
		w.varint("joining_request_id", &m.JoiningRequestID)
		w.varint("joining_start", &m.JoiningStart)
	default:
		w.invalid("fetch_type", "fetch_type %d is not a defined fetch type (1 standalone, 2 relative joining, 3 absolute joining)", m.FetchType)
	}
}

// updateCarriesAll marks a decoded draft-07/14 update as carrying every
// field (those drafts have no optional ones).
func updateCarriesAll(w walker, m *SubscribeUpdate) {
	if w.reading() {
		m.Changed = UpdateAll
	}
}
