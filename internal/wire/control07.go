package wire

// Draft-07 control messages (shared by Draft07 and Draft07CF), as
// draft-ietf-moq-transport-07 section 6 lays them out: the table of
// layouts. Request IDs are the draft's Subscribe IDs; the walks shared with
// other drafts are in control_walks.go.

var table07 = newTable(
	msg(0x40, "CLIENT_SETUP", walkClientSetup),
	msg(0x41, "SERVER_SETUP", walkServerSetup),
	msg(0x10, "GOAWAY", walkGoAway),
	msg(0x15, "MAX_SUBSCRIBE_ID", walkMaxRequestID),
	msg(0x03, "SUBSCRIBE", func(w walker, m *Subscribe) {
		w.varint("subscribe_id", &m.RequestID)
		w.varint("track_alias", &m.TrackAlias)
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
		w.u8("subscriber_priority", &m.SubscriberPriority)
		w.groupOrder(&m.GroupOrder)
		walkFilter(w, "start", &m.FilterType, &m.Start, &m.EndGroup, &m.EndObject)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x04, "SUBSCRIBE_OK", func(w walker, m *SubscribeOK) {
		w.varint("subscribe_id", &m.RequestID)
		w.varint("expires", &m.Expires)
		w.groupOrder(&m.GroupOrder)
		walkContent(w, "largest", &m.ContentExists, &m.Largest)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x05, "SUBSCRIBE_ERROR", func(w walker, m *SubscribeError) {
		walkRequestError(w, &m.RequestID, &m.ErrorCode, &m.Reason)
		w.varint("track_alias", &m.TrackAlias)
	}),
	msg(0x02, "SUBSCRIBE_UPDATE", func(w walker, m *SubscribeUpdate) {
		w.varint("subscribe_id", &m.RequestID)
		w.loc("start", &m.Start)
		w.varint("end_group", &m.EndGroup)
		w.varint("end_object", &m.EndObject)
		w.u8("subscriber_priority", &m.SubscriberPriority)
		w.params(ctxMessage, &m.Params, m, nil)
		updateCarriesAll(w, m)
	}),
	msg(0x0A, "UNSUBSCRIBE", walkUnsubscribe),
	msg(0x0B, "SUBSCRIBE_DONE", func(w walker, m *PublishDone) {
		w.varint("subscribe_id", &m.RequestID)
		w.varint("status_code", &m.StatusCode)
		w.reason(&m.Reason)
		walkContent(w, "final", &m.ContentExists, &m.Final)
	}),
	msg(0x16, "FETCH", func(w walker, m *Fetch) {
		if !w.reading() && m.FetchType != 0 && m.FetchType != FetchStandalone {
			w.invalid("fetch_type", "fetch_type %d: draft-07 has only standalone fetches", m.FetchType)
		}
		w.varint("subscribe_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
		w.u8("subscriber_priority", &m.SubscriberPriority)
		w.groupOrder(&m.GroupOrder)
		w.loc("start", &m.Start)
		w.loc("end", &m.End)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x17, "FETCH_CANCEL", walkFetchCancel),
	msg(0x18, "FETCH_OK", func(w walker, m *FetchOK) {
		w.varint("subscribe_id", &m.RequestID)
		w.groupOrder(&m.GroupOrder)
		w.flag("end_of_track", &m.EndOfTrack)
		w.loc("largest", &m.End)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x19, "FETCH_ERROR", func(w walker, m *FetchError) {
		walkRequestError(w, &m.RequestID, &m.ErrorCode, &m.Reason)
	}),
	msg(0x06, "ANNOUNCE", func(w walker, m *PublishNamespace) {
		w.tuple("track_namespace", &m.Namespace, false)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x07, "ANNOUNCE_OK", func(w walker, m *PublishNamespaceOK) {
		w.tuple("track_namespace", &m.Namespace, false)
	}),
	msg(0x08, "ANNOUNCE_ERROR", func(w walker, m *PublishNamespaceError) {
		walkTupleError(w, "track_namespace", &m.Namespace, &m.ErrorCode, &m.Reason)
	}),
	msg(0x09, "UNANNOUNCE", walkNamespaceDone07),
	msg(0x0C, "ANNOUNCE_CANCEL", walkNamespaceCancel07),
	msg(0x0D, "TRACK_STATUS_REQUEST", func(w walker, m *TrackStatusRequest) {
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
	}),
	msg(0x0E, "TRACK_STATUS", func(w walker, m *TrackStatus) {
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
		w.varint("status_code", &m.StatusCode)
		w.loc("last", &m.Largest)
	}),
	msg(0x11, "SUBSCRIBE_ANNOUNCES", func(w walker, m *SubscribeNamespace) {
		w.tuple("track_namespace_prefix", &m.Prefix, true)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x12, "SUBSCRIBE_ANNOUNCES_OK", func(w walker, m *SubscribeNamespaceOK) {
		w.tuple("track_namespace_prefix", &m.Prefix, true)
	}),
	msg(0x13, "SUBSCRIBE_ANNOUNCES_ERROR", func(w walker, m *SubscribeNamespaceError) {
		walkTupleError(w, "track_namespace_prefix", &m.Prefix, &m.ErrorCode, &m.Reason)
	}),
	msg(0x14, "UNSUBSCRIBE_ANNOUNCES", walkUnsubscribeNamespace),
)
