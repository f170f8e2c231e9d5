package wire

// Draft-14 control message payloads, as draft-ietf-moq-transport-14 section 9
// lays them out, with one deviation taken from the moqtap vectors:
// PUBLISH_NAMESPACE_OK and SUBSCRIBE_NAMESPACE_OK are written with a
// parameter list after the Request ID (the draft text has the Request ID
// only), and are read either way.

// name14 returns the draft-14 name of control message type t, or "".
func name14(t uint64) string {
	switch t {
	case 0x20:
		return descClientSetup.n14
	case 0x21:
		return descServerSetup.n14
	case 0x10:
		return descGoAway.n14
	case 0x15:
		return descMaxRequestID.n14
	case 0x1A:
		return descRequestsBlocked.n14
	case 0x03:
		return descSubscribe.n14
	case 0x04:
		return descSubscribeOK.n14
	case 0x05:
		return descSubscribeError.n14
	case 0x02:
		return descSubscribeUpdate.n14
	case 0x0A:
		return descUnsubscribe.n14
	case 0x0B:
		return descPublishDone.n14
	case 0x1D:
		return descPublish.n14
	case 0x1E:
		return descPublishOK.n14
	case 0x1F:
		return descPublishError.n14
	case 0x16:
		return descFetch.n14
	case 0x17:
		return descFetchCancel.n14
	case 0x18:
		return descFetchOK.n14
	case 0x19:
		return descFetchError.n14
	case 0x06:
		return descPublishNamespace.n14
	case 0x07:
		return descPublishNamespaceOK.n14
	case 0x08:
		return descPublishNamespaceError.n14
	case 0x09:
		return descPublishNamespaceDone.n14
	case 0x0C:
		return descPublishNamespaceCancel.n14
	case 0x0D:
		return descTrackStatusRequest.n14
	case 0x0E:
		return descTrackStatus.n14
	case 0x0F:
		return descTrackStatusError.n14
	case 0x11:
		return descSubscribeNamespace.n14
	case 0x12:
		return descSubscribeNamespaceOK.n14
	case 0x13:
		return descSubscribeNamespaceError.n14
	case 0x14:
		return descUnsubscribeNamespace.n14
	}
	return ""
}

// parse14 decodes the payload of a draft-14 message of type t. It returns
// nil for an unknown type; field errors are left in p.err.
func (p *ctlDecoder) parse14(t uint64) Message {
	const id = "request_id"
	switch t {
	case 0x20:
		m := &ClientSetup{}
		m.Versions = p.versions()
		m.Params = p.params(p.d, ctxSetup)
		return m
	case 0x21:
		m := &ServerSetup{}
		m.Version = p.varint("selected_version")
		m.Params = p.params(p.d, ctxSetup)
		return m
	case 0x10:
		return &GoAway{NewSessionURI: p.str("new_session_uri", MaxGoAwayURI)}
	case 0x15:
		return &MaxRequestID{RequestID: p.varint(id)}
	case 0x1A:
		return &RequestsBlocked{MaximumRequestID: p.varint("maximum_request_id")}
	case 0x03:
		m := &Subscribe{}
		p.subscribe14(m)
		return m
	case 0x0D:
		m := &TrackStatusRequest{}
		p.subscribe14((*Subscribe)(m))
		return m
	case 0x04:
		m := &SubscribeOK{}
		m.RequestID = p.varint(id)
		m.TrackAlias = p.varint("track_alias")
		m.Expires = p.varint("expires")
		m.GroupOrder = p.groupOrder()
		m.ContentExists = p.boolean("content_exists")
		if m.ContentExists {
			m.Largest = p.location("largest_location")
		}
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x0E:
		m := &TrackStatus{}
		m.RequestID = p.varint(id)
		m.TrackAlias = p.varint("track_alias")
		m.Expires = p.varint("expires")
		m.GroupOrder = p.groupOrder()
		m.ContentExists = p.boolean("content_exists")
		if m.ContentExists {
			m.Largest = p.location("largest_location")
		}
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x05:
		m := &SubscribeError{}
		m.RequestID, m.ErrorCode, m.Reason = p.requestError()
		return m
	case 0x0F:
		m := &TrackStatusError{}
		m.RequestID, m.ErrorCode, m.Reason = p.requestError()
		return m
	case 0x1F:
		m := &PublishError{}
		m.RequestID, m.ErrorCode, m.Reason = p.requestError()
		return m
	case 0x19:
		m := &FetchError{}
		m.RequestID, m.ErrorCode, m.Reason = p.requestError()
		return m
	case 0x08:
		m := &PublishNamespaceError{}
		m.RequestID, m.ErrorCode, m.Reason = p.requestError()
		return m
	case 0x13:
		m := &SubscribeNamespaceError{}
		m.RequestID, m.ErrorCode, m.Reason = p.requestError()
		return m
	case 0x02:
		m := &SubscribeUpdate{}
		m.RequestID = p.varint(id)
		m.SubscriptionRequestID = p.varint("subscription_request_id")
		m.Start = p.location("start_location")
		m.EndGroup = p.varint("end_group")
		m.SubscriberPriority = p.byte8("subscriber_priority")
		m.Forward = p.boolean("forward")
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x0A:
		return &Unsubscribe{RequestID: p.varint(id)}
	case 0x0B:
		m := &PublishDone{}
		m.RequestID = p.varint(id)
		m.StatusCode = p.varint("status_code")
		m.StreamCount = p.varint("stream_count")
		m.Reason = p.reason("reason_phrase")
		return m
	case 0x1D:
		m := &Publish{}
		m.RequestID = p.varint(id)
		m.Namespace = p.namespace()
		m.Name = p.trackName("track_name", m.Namespace)
		m.TrackAlias = p.varint("track_alias")
		m.GroupOrder = p.groupOrder()
		m.ContentExists = p.boolean("content_exists")
		if m.ContentExists {
			m.Largest = p.location("largest_location")
		}
		m.Forward = p.boolean("forward")
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x1E:
		m := &PublishOK{}
		m.RequestID = p.varint(id)
		m.Forward = p.boolean("forward")
		m.SubscriberPriority = p.byte8("subscriber_priority")
		m.GroupOrder = p.groupOrder()
		m.FilterType = p.filterType()
		if m.FilterType == FilterAbsoluteStart || m.FilterType == FilterAbsoluteRange {
			m.Start = p.location("start_location")
		}
		if m.FilterType == FilterAbsoluteRange {
			m.EndGroup = p.varint("end_group")
		}
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x16:
		m := &Fetch{}
		m.RequestID = p.varint(id)
		m.SubscriberPriority = p.byte8("subscriber_priority")
		m.GroupOrder = p.groupOrder()
		m.FetchType = p.varint("fetch_type")
		if p.err != nil {
			return m
		}
		switch m.FetchType {
		case FetchStandalone:
			m.Namespace = p.namespace()
			m.Name = p.trackName("track_name", m.Namespace)
			m.Start = p.location("start_location")
			m.End = p.location("end_location")
		case FetchRelativeJoining, FetchAbsoluteJoining:
			m.JoiningRequestID = p.varint("joining_request_id")
			m.JoiningStart = p.varint("joining_start")
		default:
			p.fieldErr(KindInvalidValue, "fetch_type", "fetch_type %d is not a defined fetch type", m.FetchType)
			return m
		}
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x17:
		return &FetchCancel{RequestID: p.varint(id)}
	case 0x18:
		m := &FetchOK{}
		m.RequestID = p.varint(id)
		m.GroupOrder = p.groupOrder()
		m.EndOfTrack = p.boolean("end_of_track")
		m.End = p.location("end_location")
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x06:
		m := &PublishNamespace{}
		m.RequestID = p.varint(id)
		m.Namespace = p.namespace()
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x07:
		m := &PublishNamespaceOK{}
		m.RequestID, m.Params = p.requestOK()
		return m
	case 0x12:
		m := &SubscribeNamespaceOK{}
		m.RequestID, m.Params = p.requestOK()
		return m
	case 0x09:
		return &PublishNamespaceDone{Namespace: p.namespace()}
	case 0x0C:
		m := &PublishNamespaceCancel{}
		m.Namespace = p.namespace()
		m.ErrorCode = p.varint("error_code")
		m.Reason = p.reason("reason_phrase")
		return m
	case 0x11:
		m := &SubscribeNamespace{}
		m.RequestID = p.varint(id)
		m.Prefix = p.prefix()
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x14:
		return &UnsubscribeNamespace{Prefix: p.prefix()}
	}
	return nil
}

// subscribe14 reads the fields of SUBSCRIBE (and TRACK_STATUS).
func (p *ctlDecoder) subscribe14(m *Subscribe) {
	m.RequestID = p.varint("request_id")
	m.Namespace = p.namespace()
	m.Name = p.trackName("track_name", m.Namespace)
	m.SubscriberPriority = p.byte8("subscriber_priority")
	m.GroupOrder = p.groupOrder()
	m.Forward = p.boolean("forward")
	m.FilterType = p.filterType()
	if m.FilterType == FilterAbsoluteStart || m.FilterType == FilterAbsoluteRange {
		m.Start = p.location("start_location")
	}
	if m.FilterType == FilterAbsoluteRange {
		m.EndGroup = p.varint("end_group")
	}
	m.Params = p.params(p.d, ctxMessage)
}

// requestError reads Request ID, Error Code and Reason Phrase.
func (p *ctlDecoder) requestError() (uint64, uint64, string) {
	id := p.varint("request_id")
	code := p.varint("error_code")
	return id, code, p.reason("reason_phrase")
}

// requestOK reads a Request ID and, when the payload goes on, a parameter
// list (PUBLISH_NAMESPACE_OK, SUBSCRIBE_NAMESPACE_OK).
func (p *ctlDecoder) requestOK() (uint64, Params) {
	id := p.varint("request_id")
	if p.err != nil || p.remaining() == 0 {
		return id, nil
	}
	return id, p.params(p.d, ctxMessage)
}

// encode14 writes the draft-14 payload of m.
func encode14(e *ctlEncoder, m Message) {
	const id = "request_id"
	switch v := m.(type) {
	case *ClientSetup:
		e.versions(v.Versions)
		e.params(v.Params)
	case *ServerSetup:
		e.varint("selected_version", v.Version)
		e.params(v.Params)
	case *GoAway:
		e.str("new_session_uri", v.NewSessionURI, MaxGoAwayURI)
	case *MaxRequestID:
		e.varint(id, v.RequestID)
	case *RequestsBlocked:
		e.varint("maximum_request_id", v.MaximumRequestID)
	case *Subscribe:
		e.subscribe14(v)
	case *TrackStatusRequest:
		e.subscribe14((*Subscribe)(v))
	case *SubscribeOK:
		e.subscribeOK14(v.RequestID, v.TrackAlias, v.Expires, v.GroupOrder, v.ContentExists, v.Largest, v.Params)
	case *TrackStatus:
		e.subscribeOK14(v.RequestID, v.TrackAlias, v.Expires, v.GroupOrder, v.ContentExists, v.Largest, v.Params)
	case *SubscribeError:
		e.requestError(v.RequestID, v.ErrorCode, v.Reason)
	case *TrackStatusError:
		e.requestError(v.RequestID, v.ErrorCode, v.Reason)
	case *PublishError:
		e.requestError(v.RequestID, v.ErrorCode, v.Reason)
	case *FetchError:
		e.requestError(v.RequestID, v.ErrorCode, v.Reason)
	case *PublishNamespaceError:
		e.requestError(v.RequestID, v.ErrorCode, v.Reason)
	case *SubscribeNamespaceError:
		e.requestError(v.RequestID, v.ErrorCode, v.Reason)
	case *SubscribeUpdate:
		e.varint(id, v.RequestID)
		e.varint("subscription_request_id", v.SubscriptionRequestID)
		e.location("start_location", v.Start)
		e.varint("end_group", v.EndGroup)
		e.u8(v.SubscriberPriority)
		e.boolean(v.Forward)
		e.params(v.Params)
	case *Unsubscribe:
		e.varint(id, v.RequestID)
	case *PublishDone:
		e.varint(id, v.RequestID)
		e.varint("status_code", v.StatusCode)
		e.varint("stream_count", v.StreamCount)
		e.reason(v.Reason)
	case *Publish:
		e.varint(id, v.RequestID)
		e.namespace(v.Namespace)
		e.trackName(v.Namespace, v.Name)
		e.varint("track_alias", v.TrackAlias)
		e.groupOrder(v.GroupOrder)
		e.boolean(v.ContentExists)
		if v.ContentExists {
			e.location("largest_location", v.Largest)
		}
		e.boolean(v.Forward)
		e.params(v.Params)
	case *PublishOK:
		e.varint(id, v.RequestID)
		e.boolean(v.Forward)
		e.u8(v.SubscriberPriority)
		e.groupOrder(v.GroupOrder)
		e.filterType(v.FilterType)
		if v.FilterType == FilterAbsoluteStart || v.FilterType == FilterAbsoluteRange {
			e.location("start_location", v.Start)
		}
		if v.FilterType == FilterAbsoluteRange {
			e.varint("end_group", v.EndGroup)
		}
		e.params(v.Params)
	case *Fetch:
		e.varint(id, v.RequestID)
		e.u8(v.SubscriberPriority)
		e.groupOrder(v.GroupOrder)
		e.varint("fetch_type", v.FetchType)
		switch v.FetchType {
		case FetchStandalone:
			e.namespace(v.Namespace)
			e.trackName(v.Namespace, v.Name)
			e.location("start_location", v.Start)
			e.location("end_location", v.End)
		case FetchRelativeJoining, FetchAbsoluteJoining:
			e.varint("joining_request_id", v.JoiningRequestID)
			e.varint("joining_start", v.JoiningStart)
		default:
			e.failf("fetch_type %d is not a defined fetch type (1 standalone, 2 relative joining, 3 absolute joining)", v.FetchType)
		}
		e.params(v.Params)
	case *FetchCancel:
		e.varint(id, v.RequestID)
	case *FetchOK:
		e.varint(id, v.RequestID)
		e.groupOrder(v.GroupOrder)
		e.boolean(v.EndOfTrack)
		e.location("end_location", v.End)
		e.params(v.Params)
	case *PublishNamespace:
		e.varint(id, v.RequestID)
		e.namespace(v.Namespace)
		e.params(v.Params)
	case *PublishNamespaceOK:
		e.varint(id, v.RequestID)
		e.params(v.Params)
	case *SubscribeNamespaceOK:
		e.varint(id, v.RequestID)
		e.params(v.Params)
	case *PublishNamespaceDone:
		e.namespace(v.Namespace)
	case *PublishNamespaceCancel:
		e.namespace(v.Namespace)
		e.varint("error_code", v.ErrorCode)
		e.reason(v.Reason)
	case *SubscribeNamespace:
		e.varint(id, v.RequestID)
		e.prefix(v.Prefix)
		e.params(v.Params)
	case *UnsubscribeNamespace:
		e.prefix(v.Prefix)
	default:
		e.failf("%T does not exist in draft-14", m)
	}
}

func (e *ctlEncoder) subscribe14(v *Subscribe) {
	e.varint("request_id", v.RequestID)
	e.namespace(v.Namespace)
	e.trackName(v.Namespace, v.Name)
	e.u8(v.SubscriberPriority)
	e.groupOrder(v.GroupOrder)
	e.boolean(v.Forward)
	e.filterType(v.FilterType)
	if v.FilterType == FilterAbsoluteStart || v.FilterType == FilterAbsoluteRange {
		e.location("start_location", v.Start)
	}
	if v.FilterType == FilterAbsoluteRange {
		e.varint("end_group", v.EndGroup)
	}
	e.params(v.Params)
}

func (e *ctlEncoder) subscribeOK14(reqID, alias, expires uint64, order uint8, exists bool, largest Location, ps Params) {
	e.varint("request_id", reqID)
	e.varint("track_alias", alias)
	e.varint("expires", expires)
	e.groupOrder(order)
	e.boolean(exists)
	if exists {
		e.location("largest_location", largest)
	}
	e.params(ps)
}

func (e *ctlEncoder) requestError(reqID, code uint64, reason string) {
	e.varint("request_id", reqID)
	e.varint("error_code", code)
	e.reason(reason)
}
