package wire

// Draft-18 control messages, as draft-ietf-moq-transport-18 section
// "Control Messages" lays them out: the table of layouts. Every varint is
// the draft-18 form (varint18.go); framing is Type (vi64) Length (16).
//
// What changed from 16 (the text's sections):
//   - "Session initialization": the control channel is a pair of
//     unidirectional streams, each beginning with SETUP (0x2F00, also the
//     stream type); CLIENT_SETUP / SERVER_SETUP (0x20/0x21) are reserved.
//     SETUP carries Setup Options (key-value pairs) up to the end of the
//     payload, without a count.
//   - Every request (SUBSCRIBE, PUBLISH, FETCH, TRACK_STATUS,
//     PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE, SUBSCRIBE_TRACKS) opens its own
//     bidirectional stream; responses there carry no Request ID
//     (SUBSCRIBE_OK, FETCH_OK, PUBLISH_DONE, REQUEST_OK, REQUEST_ERROR).
//     UNSUBSCRIBE, FETCH_CANCEL, PUBLISH_NAMESPACE_DONE / _CANCEL,
//     MAX_REQUEST_ID and REQUESTS_BLOCKED are gone (a request is cancelled
//     by resetting its stream); PUBLISH_OK (0x1E) is a REQUEST_OK.
//   - REQUEST_UPDATE names no other request (it is sent on the request's
//     stream) but still consumes a Request ID of its own.
//   - GOAWAY: + Timeout, + Request ID (on the control stream only; the
//     decoder reads it when bytes remain).
//   - REQUEST_OK ends in Track Properties; REQUEST_ERROR may end in a
//     Redirect (when the code is REDIRECT, 0x34).
//   - SUBSCRIBE_NAMESPACE is 0x50 and lost its Subscribe Options;
//     SUBSCRIBE_TRACKS (0x51) and PUBLISH_BLOCKED (0x0F) are new.
//   - Message parameters are type-value pairs (params18.go).
//
// The text's message table still lists "0x1E PUBLISH_OK" but points it to
// REQUEST_OK, whose text says PUBLISH_OK is the name of a REQUEST_OK
// answering PUBLISH (and -19 marks 0x1E reserved): 0x1E is not decoded.

var table18 = newTable(
	msg(0x2F00, "SETUP", func(w walker, m *Setup) {
		w.setupOptions(&m.Params)
	}),
	msg(0x10, "GOAWAY", func(w walker, m *GoAway) {
		w.str("new_session_uri", &m.NewSessionURI, MaxGoAwayURI)
		w.varint("timeout", &m.Timeout)
		w.optVarint("request_id", &m.RequestID, &m.HasRequestID)
	}),
	msg(0x07, "REQUEST_OK", func(w walker, m *RequestOK) {
		w.params(ctxMessage, &m.Params, m, nil)
		w.trackExt(&m.TrackExtensions, m, nil)
	}),
	msg(0x05, "REQUEST_ERROR", func(w walker, m *RequestError) {
		w.varint("error_code", &m.ErrorCode)
		w.varint("retry_interval", &m.RetryInterval)
		w.reason(&m.Reason)
		walkRedirect18(w, m)
	}),
	msg(0x03, "SUBSCRIBE", func(w walker, m *Subscribe) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, true)
		w.trackName(m.Namespace, &m.Name)
		w.params(ctxMessage, &m.Params, m, subscribeBinds18)
	}),
	msg(0x04, "SUBSCRIBE_OK", func(w walker, m *SubscribeOK) {
		w.varint("track_alias", &m.TrackAlias)
		w.params(ctxMessage, &m.Params, m, subscribeOKBinds18)
		w.trackExt(&m.TrackExtensions, m, subscribeOKExtBinds16)
	}),
	msg(0x02, "REQUEST_UPDATE", func(w walker, m *SubscribeUpdate) {
		w.varint("request_id", &m.RequestID)
		w.params(ctxMessage, &m.Params, m, updateBinds18)
	}),
	msg(0x1D, "PUBLISH", func(w walker, m *Publish) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, true)
		w.trackName(m.Namespace, &m.Name)
		w.varint("track_alias", &m.TrackAlias)
		w.params(ctxMessage, &m.Params, m, publishBinds18)
		w.trackExt(&m.TrackExtensions, m, publishExtBinds16)
	}),
	msg(0x0B, "PUBLISH_DONE", func(w walker, m *PublishDone) {
		w.varint("status_code", &m.StatusCode)
		w.varint("stream_count", &m.StreamCount)
		w.reason(&m.Reason)
	}),
	msg(0x16, "FETCH", func(w walker, m *Fetch) {
		walkFetch18(w, m)
		w.params(ctxMessage, &m.Params, m, fetchBinds16)
	}),
	msg(0x18, "FETCH_OK", func(w walker, m *FetchOK) {
		w.flag("end_of_track", &m.EndOfTrack)
		w.loc("end_location", &m.End)
		w.params(ctxMessage, &m.Params, m, nil)
		w.trackExt(&m.TrackExtensions, m, nil)
	}),
	msg(0x0D, "TRACK_STATUS", func(w walker, m *TrackStatusRequest) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, true)
		w.trackName(m.Namespace, &m.Name)
		w.params(ctxMessage, &m.Params, m, trackStatusReqBinds18)
	}),
	msg(0x06, "PUBLISH_NAMESPACE", func(w walker, m *PublishNamespace) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, true)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x08, "NAMESPACE", func(w walker, m *NamespaceMsg) {
		w.tuple("track_namespace_suffix", &m.Suffix, true)
	}),
	msg(0x0E, "NAMESPACE_DONE", func(w walker, m *NamespaceDone) {
		w.tuple("track_namespace_suffix", &m.Suffix, true)
	}),
	msg(0x50, "SUBSCRIBE_NAMESPACE", func(w walker, m *SubscribeNamespace) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace_prefix", &m.Prefix, true)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x51, "SUBSCRIBE_TRACKS", func(w walker, m *SubscribeTracks) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace_prefix", &m.Prefix, true)
		w.params(ctxMessage, &m.Params, m, subscribeTracksBinds18)
	}),
	msg(0x0F, "PUBLISH_BLOCKED", func(w walker, m *PublishBlocked) {
		w.tuple("track_namespace_suffix", &m.Suffix, true)
		w.trackName(m.Suffix, &m.Name)
	}),
)

// walkFetch18 walks FETCH up to its parameters: Request ID, Fetch Type,
// then a Standalone Fetch (the track, allowing an empty namespace, then
// Start and End Location) or a Joining Fetch (Joining Request ID, Joining
// Start). Draft 20 has its own (control20.go).
func walkFetch18(w walker, m *Fetch) {
	w.varint("request_id", &m.RequestID)
	w.varint("fetch_type", &m.FetchType)
	if m.FetchType == FetchStandalone {
		w.tuple("track_namespace", &m.Namespace, true)
		w.trackName(m.Namespace, &m.Name)
		w.loc("start_location", &m.Start)
		w.loc("end_location", &m.End)
		return
	}
	walkFetchBody14(w, m) // the joining part with its Joining Start, or the error
}

// walkRedirect18 walks REQUEST_ERROR's Redirect, present exactly when the
// error code is REDIRECT.
func walkRedirect18(w walker, m *RequestError) {
	if m.ErrorCode != ErrorRedirect18 {
		if !w.reading() && m.Redirect != nil {
			w.invalid("redirect", "a Redirect needs error code REDIRECT (0x%x), not 0x%x", ErrorRedirect18, m.ErrorCode)
		}
		return
	}
	if w.reading() {
		m.Redirect = &Redirect{}
	}
	r := m.Redirect
	if r == nil {
		r = &Redirect{} // REDIRECT without a target: write an empty one
	}
	w.str("connect_uri", &r.ConnectURI, MaxGoAwayURI)
	w.tuple("track_namespace", &r.Namespace, true)
	w.trackName(r.Namespace, &r.Name)
}

// The draft-18 parameters that map to typed fields, per message. Those whose
// value is an integer are 16's binds (same types, same meanings); the
// Location and filter ones are re-coded in the draft-18 varint.
var (
	subscribeBinds18 = []pbind{
		bindForward(func(m *Subscribe) *bool { return &m.Forward }),
		bindPriority(func(m *Subscribe) *uint8 { return &m.SubscriberPriority }),
		bindFilter18(func(m *Subscribe) (*FilterType, *Location, *uint64) { return &m.FilterType, &m.Start, &m.EndGroup }),
		bindGroupOrder(GroupOrderPublisher, func(m *Subscribe) *uint8 { return &m.GroupOrder }),
	}
	trackStatusReqBinds18 = []pbind{
		bindFilter18(func(m *TrackStatusRequest) (*FilterType, *Location, *uint64) {
			return &m.FilterType, &m.Start, &m.EndGroup
		}),
	}
	subscribeOKBinds18 = []pbind{
		bindExpires(func(m *SubscribeOK) *uint64 { return &m.Expires }),
		bindLargest18(func(m *SubscribeOK) (*bool, *Location) { return &m.ContentExists, &m.Largest }),
	}
	updateBinds18 = []pbind{
		bindMask(UpdateForward, updateMask, bindForward(func(m *SubscribeUpdate) *bool { return &m.Forward })),
		bindMask(UpdatePriority, updateMask, bindPriority(func(m *SubscribeUpdate) *uint8 { return &m.SubscriberPriority })),
		bindMask(UpdateFilter, updateMask, bindUpdateFilter18()),
	}
	publishBinds18 = []pbind{
		bindLargest18(func(m *Publish) (*bool, *Location) { return &m.ContentExists, &m.Largest }),
		bindForward(func(m *Publish) *bool { return &m.Forward }),
	}
	subscribeTracksBinds18 = []pbind{
		bindForward(func(m *SubscribeTracks) *bool { return &m.Forward }),
	}
	// publishOKBinds18 are the parameters of a REQUEST_OK answering
	// PUBLISH (the text's PUBLISH_OK).
	publishOKBinds18 = []pbind{
		bindForward(func(m *PublishOK) *bool { return &m.Forward }),
		bindPriority(func(m *PublishOK) *uint8 { return &m.SubscriberPriority }),
		bindFilter18(func(m *PublishOK) (*FilterType, *Location, *uint64) { return &m.FilterType, &m.Start, &m.EndGroup }),
		bindGroupOrder(GroupOrderPublisher, func(m *PublishOK) *uint8 { return &m.GroupOrder }),
	}
	// trackStatusBinds18 read a REQUEST_OK answering TRACK_STATUS: its
	// parameters as in SUBSCRIBE_OK, the group order from its Track
	// Properties.
	trackStatusBinds18 = []pbind{
		bindExpires(func(m *TrackStatus) *uint64 { return &m.Expires }),
		bindLargest18(func(m *TrackStatus) (*bool, *Location) { return &m.ContentExists, &m.Largest }),
	}
	trackStatusExtBinds18 = []pbind{
		bindGroupOrder(GroupOrderAscending, func(m *TrackStatus) *uint8 { return &m.GroupOrder }),
	}
)

// binds18 returns the draft-18 parameter and track-property binds of m's
// type (nil for messages without typed parameters).
func binds18(m Message) (params, ext []pbind) {
	switch m.(type) {
	case *Subscribe:
		return subscribeBinds18, nil
	case *TrackStatusRequest:
		return trackStatusReqBinds18, nil
	case *SubscribeOK:
		return subscribeOKBinds18, subscribeOKExtBinds16
	case *SubscribeUpdate:
		return updateBinds18, nil
	case *Publish:
		return publishBinds18, publishExtBinds16
	case *Fetch:
		return fetchBinds16, nil
	case *SubscribeTracks:
		return subscribeTracksBinds18, nil
	}
	return nil, nil
}

// PublishOKFromRequestOK18 reads a draft-18 REQUEST_OK answering PUBLISH
// (the text's PUBLISH_OK) as the typed PublishOK fields (defaults when a
// parameter is absent). A malformed parameter is a *ProtocolError.
func PublishOKFromRequestOK18(m *RequestOK) (*PublishOK, error) {
	ok := &PublishOK{Params: m.Params}
	if err := applyBinds(m.Params, ok, publishOKBinds18); err != nil {
		return nil, withMessage(err, "REQUEST_OK")
	}
	return ok, nil
}

// RequestOKFromPublishOK18 builds the draft-18 REQUEST_OK answering PUBLISH
// from ok's typed fields and Params.
func RequestOKFromPublishOK18(ok *PublishOK) (*RequestOK, error) {
	ps, err := mergeBinds(ok.Params, ok, publishOKBinds18)
	if err != nil {
		return nil, err
	}
	return &RequestOK{Params: ps}, nil
}

// TrackStatusFromRequestOK18 reads a draft-18 REQUEST_OK answering
// TRACK_STATUS (the text's TRACK_STATUS_OK): Expires and Largest from its
// parameters, GroupOrder from its Track Properties
// (DEFAULT_PUBLISHER_GROUP_ORDER, ascending when absent).
func TrackStatusFromRequestOK18(m *RequestOK) (*TrackStatus, error) {
	ts := &TrackStatus{Params: m.Params}
	if err := applyBinds(m.Params, ts, trackStatusBinds18); err != nil {
		return nil, withMessage(err, "REQUEST_OK")
	}
	if err := applyBinds(m.TrackExtensions, ts, trackStatusExtBinds18); err != nil {
		return nil, withMessage(err, "REQUEST_OK")
	}
	return ts, nil
}

// RequestOKFromTrackStatus18 builds the draft-18 REQUEST_OK answering
// TRACK_STATUS from the typed TrackStatus fields: Expires and Largest as
// parameters, GroupOrder as the DEFAULT_PUBLISHER_GROUP_ORDER track property
// (ts.Params are kept). Values that cannot be written are left out here
// (AppendMessage fails on them later).
func RequestOKFromTrackStatus18(ts *TrackStatus) *RequestOK {
	ps, err := mergeBinds(ts.Params, ts, trackStatusBinds18)
	if err != nil {
		ps = ts.Params
	}
	ext, err := mergeBinds(nil, ts, trackStatusExtBinds18)
	if err != nil {
		ext = nil
	}
	return &RequestOK{RequestID: ts.RequestID, Params: ps, TrackExtensions: ext}
}
