package wire

// Draft-07 control message payloads (shared by Draft07 and Draft07CF),
// as draft-ietf-moq-transport-07 section 6 lays them out. Request IDs are
// the draft's Subscribe IDs.

// name07 returns the draft-07 name of control message type t, or "".
func name07(t uint64) string {
	switch t {
	case 0x40:
		return descClientSetup.n07
	case 0x41:
		return descServerSetup.n07
	case 0x10:
		return descGoAway.n07
	case 0x15:
		return descMaxRequestID.n07
	case 0x03:
		return descSubscribe.n07
	case 0x04:
		return descSubscribeOK.n07
	case 0x05:
		return descSubscribeError.n07
	case 0x02:
		return descSubscribeUpdate.n07
	case 0x0A:
		return descUnsubscribe.n07
	case 0x0B:
		return descPublishDone.n07
	case 0x16:
		return descFetch.n07
	case 0x17:
		return descFetchCancel.n07
	case 0x18:
		return descFetchOK.n07
	case 0x19:
		return descFetchError.n07
	case 0x06:
		return descPublishNamespace.n07
	case 0x07:
		return descPublishNamespaceOK.n07
	case 0x08:
		return descPublishNamespaceError.n07
	case 0x09:
		return descPublishNamespaceDone.n07
	case 0x0C:
		return descPublishNamespaceCancel.n07
	case 0x0D:
		return descTrackStatusRequest.n07
	case 0x0E:
		return descTrackStatus.n07
	case 0x11:
		return descSubscribeNamespace.n07
	case 0x12:
		return descSubscribeNamespaceOK.n07
	case 0x13:
		return descSubscribeNamespaceError.n07
	case 0x14:
		return descUnsubscribeNamespace.n07
	}
	return ""
}

// parse07 decodes the payload of a draft-07 message of type t. It returns
// nil for an unknown type; field errors are left in p.err.
func (p *ctlDecoder) parse07(t uint64) Message {
	const id = "subscribe_id"
	switch t {
	case 0x40:
		m := &ClientSetup{}
		m.Versions = p.versions()
		m.Params = p.params(p.d, ctxSetup)
		return m
	case 0x41:
		m := &ServerSetup{}
		m.Version = p.varint("selected_version")
		m.Params = p.params(p.d, ctxSetup)
		return m
	case 0x10:
		return &GoAway{NewSessionURI: p.str("new_session_uri", MaxGoAwayURI)}
	case 0x15:
		return &MaxRequestID{RequestID: p.varint(id)}
	case 0x03:
		m := &Subscribe{}
		m.RequestID = p.varint(id)
		m.TrackAlias = p.varint("track_alias")
		m.Namespace = p.namespace()
		m.Name = p.trackName("track_name", m.Namespace)
		m.SubscriberPriority = p.byte8("subscriber_priority")
		m.GroupOrder = p.groupOrder()
		m.FilterType = p.filterType()
		if m.FilterType == FilterAbsoluteStart || m.FilterType == FilterAbsoluteRange {
			m.Start = p.location("start")
		}
		if m.FilterType == FilterAbsoluteRange {
			m.EndGroup = p.varint("end_group")
			m.EndObject = p.varint("end_object")
		}
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x04:
		m := &SubscribeOK{}
		m.RequestID = p.varint(id)
		m.Expires = p.varint("expires")
		m.GroupOrder = p.groupOrder()
		m.ContentExists = p.boolean("content_exists")
		if m.ContentExists {
			m.Largest = p.location("largest")
		}
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x05:
		m := &SubscribeError{}
		m.RequestID = p.varint(id)
		m.ErrorCode = p.varint("error_code")
		m.Reason = p.reason("reason_phrase")
		m.TrackAlias = p.varint("track_alias")
		return m
	case 0x02:
		m := &SubscribeUpdate{}
		m.RequestID = p.varint(id)
		m.Start = p.location("start")
		m.EndGroup = p.varint("end_group")
		m.EndObject = p.varint("end_object")
		m.SubscriberPriority = p.byte8("subscriber_priority")
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x0A:
		return &Unsubscribe{RequestID: p.varint(id)}
	case 0x0B:
		m := &PublishDone{}
		m.RequestID = p.varint(id)
		m.StatusCode = p.varint("status_code")
		m.Reason = p.reason("reason_phrase")
		m.ContentExists = p.boolean("content_exists")
		if m.ContentExists {
			m.Final = p.location("final")
		}
		return m
	case 0x16:
		m := &Fetch{}
		m.RequestID = p.varint(id)
		m.Namespace = p.namespace()
		m.Name = p.trackName("track_name", m.Namespace)
		m.SubscriberPriority = p.byte8("subscriber_priority")
		m.GroupOrder = p.groupOrder()
		m.Start = p.location("start")
		m.End = p.location("end")
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x17:
		return &FetchCancel{RequestID: p.varint(id)}
	case 0x18:
		m := &FetchOK{}
		m.RequestID = p.varint(id)
		m.GroupOrder = p.groupOrder()
		m.EndOfTrack = p.boolean("end_of_track")
		m.End = p.location("largest")
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x19:
		m := &FetchError{}
		m.RequestID = p.varint(id)
		m.ErrorCode = p.varint("error_code")
		m.Reason = p.reason("reason_phrase")
		return m
	case 0x06:
		m := &PublishNamespace{}
		m.Namespace = p.namespace()
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x07:
		return &PublishNamespaceOK{Namespace: p.namespace()}
	case 0x08:
		m := &PublishNamespaceError{}
		m.Namespace = p.namespace()
		m.ErrorCode = p.varint("error_code")
		m.Reason = p.reason("reason_phrase")
		return m
	case 0x09:
		return &PublishNamespaceDone{Namespace: p.namespace()}
	case 0x0C:
		m := &PublishNamespaceCancel{}
		m.Namespace = p.namespace()
		m.ErrorCode = p.varint("error_code")
		m.Reason = p.reason("reason_phrase")
		return m
	case 0x0D:
		m := &TrackStatusRequest{}
		m.Namespace = p.namespace()
		m.Name = p.trackName("track_name", m.Namespace)
		return m
	case 0x0E:
		m := &TrackStatus{}
		m.Namespace = p.namespace()
		m.Name = p.trackName("track_name", m.Namespace)
		m.StatusCode = p.varint("status_code")
		m.Largest = p.location("last")
		return m
	case 0x11:
		m := &SubscribeNamespace{}
		m.Prefix = p.prefix()
		m.Params = p.params(p.d, ctxMessage)
		return m
	case 0x12:
		return &SubscribeNamespaceOK{Prefix: p.prefix()}
	case 0x13:
		m := &SubscribeNamespaceError{}
		m.Prefix = p.prefix()
		m.ErrorCode = p.varint("error_code")
		m.Reason = p.reason("reason_phrase")
		return m
	case 0x14:
		return &UnsubscribeNamespace{Prefix: p.prefix()}
	}
	return nil
}

// encode07 writes the draft-07 payload of m, which exists in draft-07.
func encode07(e *ctlEncoder, m Message) {
	const id = "subscribe_id"
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
	case *Subscribe:
		e.varint(id, v.RequestID)
		e.varint("track_alias", v.TrackAlias)
		e.namespace(v.Namespace)
		e.trackName(v.Namespace, v.Name)
		e.u8(v.SubscriberPriority)
		e.groupOrder(v.GroupOrder)
		e.filterType(v.FilterType)
		if v.FilterType == FilterAbsoluteStart || v.FilterType == FilterAbsoluteRange {
			e.location("start", v.Start)
		}
		if v.FilterType == FilterAbsoluteRange {
			e.varint("end_group", v.EndGroup)
			e.varint("end_object", v.EndObject)
		}
		e.params(v.Params)
	case *SubscribeOK:
		e.varint(id, v.RequestID)
		e.varint("expires", v.Expires)
		e.groupOrder(v.GroupOrder)
		e.boolean(v.ContentExists)
		if v.ContentExists {
			e.location("largest", v.Largest)
		}
		e.params(v.Params)
	case *SubscribeError:
		e.varint(id, v.RequestID)
		e.varint("error_code", v.ErrorCode)
		e.reason(v.Reason)
		e.varint("track_alias", v.TrackAlias)
	case *SubscribeUpdate:
		e.varint(id, v.RequestID)
		e.location("start", v.Start)
		e.varint("end_group", v.EndGroup)
		e.varint("end_object", v.EndObject)
		e.u8(v.SubscriberPriority)
		e.params(v.Params)
	case *Unsubscribe:
		e.varint(id, v.RequestID)
	case *PublishDone:
		e.varint(id, v.RequestID)
		e.varint("status_code", v.StatusCode)
		e.reason(v.Reason)
		e.boolean(v.ContentExists)
		if v.ContentExists {
			e.location("final", v.Final)
		}
	case *Fetch:
		if v.FetchType != 0 && v.FetchType != FetchStandalone {
			e.failf("fetch_type %d: draft-07 has only standalone fetches", v.FetchType)
		}
		e.varint(id, v.RequestID)
		e.namespace(v.Namespace)
		e.trackName(v.Namespace, v.Name)
		e.u8(v.SubscriberPriority)
		e.groupOrder(v.GroupOrder)
		e.location("start", v.Start)
		e.location("end", v.End)
		e.params(v.Params)
	case *FetchCancel:
		e.varint(id, v.RequestID)
	case *FetchOK:
		e.varint(id, v.RequestID)
		e.groupOrder(v.GroupOrder)
		e.boolean(v.EndOfTrack)
		e.location("largest", v.End)
		e.params(v.Params)
	case *FetchError:
		e.varint(id, v.RequestID)
		e.varint("error_code", v.ErrorCode)
		e.reason(v.Reason)
	case *PublishNamespace:
		e.namespace(v.Namespace)
		e.params(v.Params)
	case *PublishNamespaceOK:
		e.namespace(v.Namespace)
	case *PublishNamespaceError:
		e.namespace(v.Namespace)
		e.varint("error_code", v.ErrorCode)
		e.reason(v.Reason)
	case *PublishNamespaceDone:
		e.namespace(v.Namespace)
	case *PublishNamespaceCancel:
		e.namespace(v.Namespace)
		e.varint("error_code", v.ErrorCode)
		e.reason(v.Reason)
	case *TrackStatusRequest:
		e.namespace(v.Namespace)
		e.trackName(v.Namespace, v.Name)
	case *TrackStatus:
		e.namespace(v.Namespace)
		e.trackName(v.Namespace, v.Name)
		e.varint("status_code", v.StatusCode)
		e.location("last", v.Largest)
	case *SubscribeNamespace:
		e.prefix(v.Prefix)
		e.params(v.Params)
	case *SubscribeNamespaceOK:
		e.prefix(v.Prefix)
	case *SubscribeNamespaceError:
		e.prefix(v.Prefix)
		e.varint("error_code", v.ErrorCode)
		e.reason(v.Reason)
	case *UnsubscribeNamespace:
		e.prefix(v.Prefix)
	default:
		e.failf("%T does not exist in draft-07", m)
	}
}
