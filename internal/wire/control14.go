package wire

// Draft-14 control messages, as draft-ietf-moq-transport-14 section 9 lays
// them out: the table of layouts. The walks shared with other drafts are
// in control_walks.go.
//
// One deviation, taken from the moqtap vectors: PUBLISH_NAMESPACE_OK and
// SUBSCRIBE_NAMESPACE_OK are written with a parameter list after the
// Request ID (the draft text has the Request ID only), and are read either
// way.

var table14 = newTable(
	msg(0x20, "CLIENT_SETUP", walkClientSetup),
	msg(0x21, "SERVER_SETUP", walkServerSetup),
	msg(0x10, "GOAWAY", walkGoAway),
	msg(0x15, "MAX_REQUEST_ID", walkMaxRequestID),
	msg(0x1A, "REQUESTS_BLOCKED", walkRequestsBlocked),
	msg(0x03, "SUBSCRIBE", walkSubscribe14),
	msg(0x04, "SUBSCRIBE_OK", func(w walker, m *SubscribeOK) {
		walkSubscribeOK14(w, &m.RequestID, &m.TrackAlias, &m.Expires, &m.GroupOrder, &m.ContentExists, &m.Largest, &m.Params)
	}),
	msg(0x05, "SUBSCRIBE_ERROR", func(w walker, m *SubscribeError) {
		walkRequestError(w, &m.RequestID, &m.ErrorCode, &m.Reason)
	}),
	msg(0x02, "SUBSCRIBE_UPDATE", func(w walker, m *SubscribeUpdate) {
		w.varint("request_id", &m.RequestID)
		w.varint("subscription_request_id", &m.SubscriptionRequestID)
		w.loc("start_location", &m.Start)
		w.varint("end_group", &m.EndGroup)
		w.u8("subscriber_priority", &m.SubscriberPriority)
		w.flag("forward", &m.Forward)
		w.params(ctxMessage, &m.Params, m, nil)
		updateCarriesAll(w, m)
	}),
	msg(0x0A, "UNSUBSCRIBE", walkUnsubscribe),
	msg(0x0B, "PUBLISH_DONE", walkPublishDone14),
	msg(0x1D, "PUBLISH", func(w walker, m *Publish) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
		w.varint("track_alias", &m.TrackAlias)
		w.groupOrder(&m.GroupOrder)
		walkContent(w, "largest_location", &m.ContentExists, &m.Largest)
		w.flag("forward", &m.Forward)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x1E, "PUBLISH_OK", func(w walker, m *PublishOK) {
		w.varint("request_id", &m.RequestID)
		w.flag("forward", &m.Forward)
		w.u8("subscriber_priority", &m.SubscriberPriority)
		w.groupOrder(&m.GroupOrder)
		walkFilter(w, "start_location", &m.FilterType, &m.Start, &m.EndGroup, nil)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x1F, "PUBLISH_ERROR", func(w walker, m *PublishError) {
		walkRequestError(w, &m.RequestID, &m.ErrorCode, &m.Reason)
	}),
	msg(0x16, "FETCH", func(w walker, m *Fetch) {
		w.varint("request_id", &m.RequestID)
		w.u8("subscriber_priority", &m.SubscriberPriority)
		w.groupOrder(&m.GroupOrder)
		w.varint("fetch_type", &m.FetchType)
		walkFetchBody14(w, m)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x17, "FETCH_CANCEL", walkFetchCancel),
	msg(0x18, "FETCH_OK", func(w walker, m *FetchOK) {
		w.varint("request_id", &m.RequestID)
		w.groupOrder(&m.GroupOrder)
		w.flag("end_of_track", &m.EndOfTrack)
		w.loc("end_location", &m.End)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x19, "FETCH_ERROR", func(w walker, m *FetchError) {
		walkRequestError(w, &m.RequestID, &m.ErrorCode, &m.Reason)
	}),
	msg(0x06, "PUBLISH_NAMESPACE", func(w walker, m *PublishNamespace) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, false)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x07, "PUBLISH_NAMESPACE_OK", func(w walker, m *PublishNamespaceOK) {
		w.varint("request_id", &m.RequestID)
		w.optParams(&m.Params)
	}),
	msg(0x08, "PUBLISH_NAMESPACE_ERROR", func(w walker, m *PublishNamespaceError) {
		walkRequestError(w, &m.RequestID, &m.ErrorCode, &m.Reason)
	}),
	msg(0x09, "PUBLISH_NAMESPACE_DONE", walkNamespaceDone07),
	msg(0x0C, "PUBLISH_NAMESPACE_CANCEL", walkNamespaceCancel07),
	msg(0x0D, "TRACK_STATUS", func(w walker, m *TrackStatusRequest) { walkSubscribe14(w, (*Subscribe)(m)) }),
	msg(0x0E, "TRACK_STATUS_OK", func(w walker, m *TrackStatus) {
		walkSubscribeOK14(w, &m.RequestID, &m.TrackAlias, &m.Expires, &m.GroupOrder, &m.ContentExists, &m.Largest, &m.Params)
	}),
	msg(0x0F, "TRACK_STATUS_ERROR", func(w walker, m *TrackStatusError) {
		walkRequestError(w, &m.RequestID, &m.ErrorCode, &m.Reason)
	}),
	msg(0x11, "SUBSCRIBE_NAMESPACE", func(w walker, m *SubscribeNamespace) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace_prefix", &m.Prefix, false)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x12, "SUBSCRIBE_NAMESPACE_OK", func(w walker, m *SubscribeNamespaceOK) {
		w.varint("request_id", &m.RequestID)
		w.optParams(&m.Params)
	}),
	msg(0x13, "SUBSCRIBE_NAMESPACE_ERROR", func(w walker, m *SubscribeNamespaceError) {
		walkRequestError(w, &m.RequestID, &m.ErrorCode, &m.Reason)
	}),
	msg(0x14, "UNSUBSCRIBE_NAMESPACE", walkUnsubscribeNamespace),
)
