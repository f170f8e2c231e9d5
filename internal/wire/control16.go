package wire

// Draft-16 control messages, as draft-ietf-moq-transport-16 section 9 lays
// them out: the table of layouts. The parameters that replace draft-14's
// fixed fields are mapped to the same typed fields (params16.go).
//
// Deviations and choices:
//   - Unknown message parameters are a protocol violation in the text; the
//     decoder rejects them (KindInvalidValue) unless
//     Limits.AllowUnknownParams is set, as the moqtap vectors and the
//     `moq wire` tool expect. Unknown setup parameters are kept.
//   - TRACK_STATUS has the layout of SUBSCRIBE; of the typed fields only the
//     filter is mapped (the text leaves out delivery parameters such as
//     SUBSCRIBER_PRIORITY), the rest stay in Params.
//   - CLIENT_SETUP / SERVER_SETUP carry no versions (ALPN "moqt-16" selects
//     the version): ClientSetup.Versions and ServerSetup.Version are ignored
//     when encoding and left empty when decoding.

var table16 = newTable(
	msg(0x20, "CLIENT_SETUP", func(w walker, m *ClientSetup) {
		w.params(ctxSetup, &m.Params, m, nil)
	}),
	msg(0x21, "SERVER_SETUP", func(w walker, m *ServerSetup) {
		w.params(ctxSetup, &m.Params, m, nil)
	}),
	msg(0x10, "GOAWAY", walkGoAway),
	msg(0x15, "MAX_REQUEST_ID", walkMaxRequestID),
	msg(0x1A, "REQUESTS_BLOCKED", walkRequestsBlocked),
	msg(0x07, "REQUEST_OK", func(w walker, m *RequestOK) {
		w.varint("request_id", &m.RequestID)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x05, "REQUEST_ERROR", func(w walker, m *RequestError) {
		w.varint("request_id", &m.RequestID)
		w.varint("error_code", &m.ErrorCode)
		w.varint("retry_interval", &m.RetryInterval)
		w.reason(&m.Reason)
	}),
	msg(0x03, "SUBSCRIBE", func(w walker, m *Subscribe) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
		w.params(ctxMessage, &m.Params, m, subscribeBinds16)
	}),
	msg(0x04, "SUBSCRIBE_OK", func(w walker, m *SubscribeOK) {
		w.varint("request_id", &m.RequestID)
		w.varint("track_alias", &m.TrackAlias)
		w.params(ctxMessage, &m.Params, m, subscribeOKBinds16)
		w.trackExt(&m.TrackExtensions, m, subscribeOKExtBinds16)
	}),
	msg(0x02, "REQUEST_UPDATE", func(w walker, m *SubscribeUpdate) {
		w.varint("request_id", &m.RequestID)
		w.varint("existing_request_id", &m.SubscriptionRequestID)
		w.params(ctxMessage, &m.Params, m, updateBinds16)
	}),
	msg(0x0A, "UNSUBSCRIBE", walkUnsubscribe),
	msg(0x1D, "PUBLISH", func(w walker, m *Publish) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
		w.varint("track_alias", &m.TrackAlias)
		w.params(ctxMessage, &m.Params, m, publishBinds16)
		w.trackExt(&m.TrackExtensions, m, publishExtBinds16)
	}),
	msg(0x1E, "PUBLISH_OK", func(w walker, m *PublishOK) {
		w.varint("request_id", &m.RequestID)
		w.params(ctxMessage, &m.Params, m, publishOKBinds16)
	}),
	msg(0x0B, "PUBLISH_DONE", walkPublishDone14),
	msg(0x16, "FETCH", func(w walker, m *Fetch) {
		w.varint("request_id", &m.RequestID)
		w.varint("fetch_type", &m.FetchType)
		walkFetchBody14(w, m)
		w.params(ctxMessage, &m.Params, m, fetchBinds16)
	}),
	msg(0x18, "FETCH_OK", func(w walker, m *FetchOK) {
		w.varint("request_id", &m.RequestID)
		w.flag("end_of_track", &m.EndOfTrack)
		w.loc("end_location", &m.End)
		w.params(ctxMessage, &m.Params, m, nil)
		w.trackExt(&m.TrackExtensions, m, nil)
	}),
	msg(0x17, "FETCH_CANCEL", walkFetchCancel),
	msg(0x0D, "TRACK_STATUS", func(w walker, m *TrackStatusRequest) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, false)
		w.trackName(m.Namespace, &m.Name)
		w.params(ctxMessage, &m.Params, m, trackStatusReqBinds16)
	}),
	msg(0x06, "PUBLISH_NAMESPACE", func(w walker, m *PublishNamespace) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace", &m.Namespace, false)
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x08, "NAMESPACE", func(w walker, m *NamespaceMsg) {
		w.tuple("track_namespace_suffix", &m.Suffix, true)
	}),
	msg(0x09, "PUBLISH_NAMESPACE_DONE", func(w walker, m *PublishNamespaceDone) {
		w.varint("request_id", &m.RequestID)
	}),
	msg(0x0E, "NAMESPACE_DONE", func(w walker, m *NamespaceDone) {
		w.tuple("track_namespace_suffix", &m.Suffix, true)
	}),
	msg(0x0C, "PUBLISH_NAMESPACE_CANCEL", func(w walker, m *PublishNamespaceCancel) {
		w.varint("request_id", &m.RequestID)
		w.varint("error_code", &m.ErrorCode)
		w.reason(&m.Reason)
	}),
	msg(0x11, "SUBSCRIBE_NAMESPACE", func(w walker, m *SubscribeNamespace) {
		w.varint("request_id", &m.RequestID)
		w.tuple("track_namespace_prefix", &m.Prefix, true)
		w.varint("subscribe_options", &m.SubscribeOptions)
		if m.SubscribeOptions > SubscribeOptionsBoth {
			w.invalid("subscribe_options", "subscribe options %d is not 0, 1 or 2", m.SubscribeOptions)
		}
		w.params(ctxMessage, &m.Params, m, nil)
	}),
)

// The draft-16 parameters that map to typed fields, per message.
var (
	subscribeBinds16 = []pbind{
		bindForward(func(m *Subscribe) *bool { return &m.Forward }),
		bindPriority(func(m *Subscribe) *uint8 { return &m.SubscriberPriority }),
		bindFilter(func(m *Subscribe) (*FilterType, *Location, *uint64) { return &m.FilterType, &m.Start, &m.EndGroup }),
		bindGroupOrder(GroupOrderPublisher, func(m *Subscribe) *uint8 { return &m.GroupOrder }),
	}
	trackStatusReqBinds16 = []pbind{
		bindFilter(func(m *TrackStatusRequest) (*FilterType, *Location, *uint64) {
			return &m.FilterType, &m.Start, &m.EndGroup
		}),
	}
	subscribeOKBinds16 = []pbind{
		bindExpires(func(m *SubscribeOK) *uint64 { return &m.Expires }),
		bindLargest(func(m *SubscribeOK) (*bool, *Location) { return &m.ContentExists, &m.Largest }),
	}
	subscribeOKExtBinds16 = []pbind{
		bindGroupOrder(GroupOrderAscending, func(m *SubscribeOK) *uint8 { return &m.GroupOrder }),
	}
	updateBinds16 = []pbind{
		bindMask(UpdateForward, updateMask, bindForward(func(m *SubscribeUpdate) *bool { return &m.Forward })),
		bindMask(UpdatePriority, updateMask, bindPriority(func(m *SubscribeUpdate) *uint8 { return &m.SubscriberPriority })),
		bindMask(UpdateFilter, updateMask, bindUpdateFilter()),
	}
	publishBinds16 = []pbind{
		bindLargest(func(m *Publish) (*bool, *Location) { return &m.ContentExists, &m.Largest }),
		bindForward(func(m *Publish) *bool { return &m.Forward }),
	}
	publishExtBinds16 = []pbind{
		bindGroupOrder(GroupOrderAscending, func(m *Publish) *uint8 { return &m.GroupOrder }),
	}
	publishOKBinds16 = []pbind{
		bindForward(func(m *PublishOK) *bool { return &m.Forward }),
		bindPriority(func(m *PublishOK) *uint8 { return &m.SubscriberPriority }),
		bindFilter(func(m *PublishOK) (*FilterType, *Location, *uint64) { return &m.FilterType, &m.Start, &m.EndGroup }),
		bindGroupOrder(GroupOrderPublisher, func(m *PublishOK) *uint8 { return &m.GroupOrder }),
	}
	fetchBinds16 = []pbind{
		bindPriority(func(m *Fetch) *uint8 { return &m.SubscriberPriority }),
		bindGroupOrder(GroupOrderAscending, func(m *Fetch) *uint8 { return &m.GroupOrder }),
	}
)

func updateMask(m *SubscribeUpdate) *UpdateFields { return &m.Changed }

// bindUpdateFilter is SUBSCRIPTION_FILTER in REQUEST_UPDATE. On the wire
// the filter's End Group is the last group; SubscribeUpdate.EndGroup is, as
// in draft-14, that plus one (0 = open). An update built the draft-14 way
// (FilterType 0) is written as AbsoluteStart, or AbsoluteRange when
// EndGroup is set.
func bindUpdateFilter() pbind { return bindUpdateFilterOf(filter16) }

// bindUpdateFilterOf is bindUpdateFilter in the coding c.
func bindUpdateFilterOf(c filterCoding) pbind {
	return pbind{key: c.key,
		set: func(m Message, p *Param) error {
			u := m.(*SubscribeUpdate)
			if p == nil {
				return nil
			}
			if err := c.parse(p.Bytes, &u.FilterType, &u.Start, &u.EndGroup); err != nil {
				return err
			}
			if u.FilterType == FilterAbsoluteRange {
				if u.EndGroup == ^uint64(0) { // draft 18 and on: a delta can reach it
					return errf(KindInvalidValue, "end_group_delta", "end group 2^64-1 cannot be held as last group plus one")
				}
				u.EndGroup++
			}
			return nil
		},
		get: func(m Message) (Param, emit, error) {
			u := m.(*SubscribeUpdate)
			ft, end := u.FilterType, uint64(0)
			if ft == 0 {
				ft = FilterAbsoluteStart
				if u.EndGroup > 0 {
					ft = FilterAbsoluteRange
				}
			}
			if ft == FilterAbsoluteRange && u.EndGroup > 0 {
				end = u.EndGroup - 1
			}
			b, err := c.append(nil, ft, u.Start, end)
			return BytesParam(c.key, b), emitAlways, err
		}}
}

// trackStatusBinds16 are the SUBSCRIBE_OK-like parameters of a REQUEST_OK
// that answers TRACK_STATUS ("the same parameters it would have set in a
// SUBSCRIBE_OK"), plus GROUP_ORDER where a publisher sends it.
var trackStatusBinds16 = []pbind{
	bindExpires(func(m *TrackStatus) *uint64 { return &m.Expires }),
	bindLargest(func(m *TrackStatus) (*bool, *Location) { return &m.ContentExists, &m.Largest }),
	bindGroupOrder(GroupOrderAscending, func(m *TrackStatus) *uint8 { return &m.GroupOrder }),
}

// TrackStatusFromRequestOK reads a draft-16 REQUEST_OK that answers a
// TRACK_STATUS as the draft-14 TRACK_STATUS_OK fields: RequestID, Expires
// (EXPIRES), ContentExists and Largest (LARGEST_OBJECT), GroupOrder
// (GROUP_ORDER; ascending when absent); Params is the REQUEST_OK's list. A
// malformed parameter is a *ProtocolError.
func TrackStatusFromRequestOK(m *RequestOK) (*TrackStatus, error) {
	ts := &TrackStatus{RequestID: m.RequestID, Params: m.Params}
	if err := applyBinds(m.Params, ts, trackStatusBinds16); err != nil {
		return nil, withMessage(err, "REQUEST_OK")
	}
	return ts, nil
}

// RequestOKFromTrackStatus builds the draft-16 REQUEST_OK answering a
// TRACK_STATUS from draft-14 TRACK_STATUS_OK fields (RequestID, Expires,
// ContentExists/Largest, GroupOrder; ts.Params are kept). Values that cannot
// be written make AppendMessage fail later; here they are left out.
func RequestOKFromTrackStatus(ts *TrackStatus) *RequestOK {
	ps, err := mergeBinds(ts.Params, ts, trackStatusBinds16)
	if err != nil {
		ps = ts.Params
	}
	return &RequestOK{RequestID: ts.RequestID, Params: ps}
}

// binds16 returns the draft-16 parameter and track-extension binds of m's
// type (nil for messages without typed parameters).
func binds16(m Message) (params, ext []pbind) {
	switch m.(type) {
	case *Subscribe:
		return subscribeBinds16, nil
	case *TrackStatusRequest:
		return trackStatusReqBinds16, nil
	case *SubscribeOK:
		return subscribeOKBinds16, subscribeOKExtBinds16
	case *SubscribeUpdate:
		return updateBinds16, nil
	case *Publish:
		return publishBinds16, publishExtBinds16
	case *PublishOK:
		return publishOKBinds16, nil
	case *Fetch:
		return fetchBinds16, nil
	}
	return nil, nil
}

// ApplyParams sets the typed fields of a draft-16 or draft-18 message from
// its Params
// and TrackExtensions, as decoding does (absent parameters give the
// draft's defaults; for REQUEST_UPDATE, Changed is set from the parameters
// present). Use it on a message built from its parameter lists (e.g. from
// JSON) before encoding, so that AppendMessage writes those lists as they
// are. Other drafts: nothing to do. A malformed parameter value is a
// *ProtocolError.
func ApplyParams(d Draft, m Message) error {
	if (d != Draft16 && !d.vi64()) || isNil(m) {
		return nil
	}
	ps, ext := binds16(m)
	switch d {
	case Draft18:
		ps, ext = binds18(m)
	case Draft20:
		ps, ext = binds20(m)
	}
	if u, ok := m.(*SubscribeUpdate); ok {
		u.Changed, u.FilterType, u.Start, u.EndGroup, u.Location = 0, 0, Location{}, 0, LocationFilter{}
	}
	if pp := paramsOf(m); pp != nil && ps != nil {
		if err := applyBinds(*pp, m, ps); err != nil {
			return withMessage(err, MessageName(d, m))
		}
	}
	if ep := trackExtOf(m); ep != nil && ext != nil {
		if err := applyBinds(*ep, m, ext); err != nil {
			return withMessage(err, MessageName(d, m))
		}
	}
	return nil
}

// ToDraft16 returns the draft-16 message that stands for a draft-14 m
// which draft-16 dropped, so that an engine may build replies the draft-14
// way: the per-request errors (SUBSCRIBE_ERROR, PUBLISH_ERROR, FETCH_ERROR,
// TRACK_STATUS_ERROR, PUBLISH_NAMESPACE_ERROR, SUBSCRIBE_NAMESPACE_ERROR)
// become REQUEST_ERROR (Retry Interval 0: do not retry), PUBLISH_NAMESPACE_OK
// and SUBSCRIBE_NAMESPACE_OK become REQUEST_OK, TRACK_STATUS_OK becomes
// RequestOKFromTrackStatus. Any other m is returned as it is.
func ToDraft16(m Message) Message {
	reqErr := func(id, code uint64, reason string) Message {
		return &RequestError{RequestID: id, ErrorCode: code, Reason: reason}
	}
	switch v := m.(type) {
	case *SubscribeError:
		return reqErr(v.RequestID, v.ErrorCode, v.Reason)
	case *PublishError:
		return reqErr(v.RequestID, v.ErrorCode, v.Reason)
	case *FetchError:
		return reqErr(v.RequestID, v.ErrorCode, v.Reason)
	case *TrackStatusError:
		return reqErr(v.RequestID, v.ErrorCode, v.Reason)
	case *PublishNamespaceError:
		return reqErr(v.RequestID, v.ErrorCode, v.Reason)
	case *SubscribeNamespaceError:
		return reqErr(v.RequestID, v.ErrorCode, v.Reason)
	case *PublishNamespaceOK:
		return &RequestOK{RequestID: v.RequestID, Params: v.Params}
	case *SubscribeNamespaceOK:
		return &RequestOK{RequestID: v.RequestID, Params: v.Params}
	case *TrackStatus:
		return RequestOKFromTrackStatus(v)
	}
	return m
}
