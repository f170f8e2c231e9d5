package moq

import (
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// dispatch handles one control message from the peer. It runs on the
// control loop and never blocks on the application: requests are served on
// their own goroutines.
func (s *Session) dispatch(m wire.Message) {
	switch m := m.(type) {
	case *wire.ClientSetup, *wire.ServerSetup:
		s.protocolViolation(CodeProtocolViolation, "%s after setup", wire.MessageName(s.draft, m))

	case *wire.GoAway:
		s.onGoAway(m)
	case *wire.MaxRequestID:
		s.mu.Lock()
		if m.RequestID < s.peerMaxReqID {
			s.mu.Unlock()
			s.protocolViolation(CodeProtocolViolation, "MAX_REQUEST_ID decreased from %d to %d", s.peerMaxReqID, m.RequestID)
			return
		}
		s.peerMaxReqID = m.RequestID
		close(s.creditCh)
		s.creditCh = make(chan struct{})
		s.mu.Unlock()
	case *wire.RequestsBlocked:
		s.grantCredit(true)

	// Answers to our requests.
	case *wire.RequestOK:
		s.onGenericAnswer(m.RequestID, m)
	case *wire.RequestError:
		s.onGenericAnswer(m.RequestID, m)
	case *wire.SubscribeOK:
		s.onSubscribeOK(m)
	case *wire.SubscribeError:
		s.resolve(m.RequestID, m)
	case *wire.FetchOK:
		s.resolve(m.RequestID, m)
	case *wire.FetchError:
		s.resolve(m.RequestID, m)
	case *wire.TrackStatusError:
		s.resolve(m.RequestID, m)
	case *wire.TrackStatus:
		if s.draft.Is07() {
			s.resolve07("ts"+trackKey(m.Namespace, m.Name), m)
		} else {
			s.resolve(m.RequestID, m)
		}
	case *wire.PublishNamespaceOK:
		if s.draft.Is07() {
			s.resolve07("ann"+m.Namespace.Key(), m)
		} else {
			s.resolve(m.RequestID, m)
		}
	case *wire.PublishNamespaceError:
		if s.draft.Is07() {
			s.resolve07("ann"+m.Namespace.Key(), m)
		} else {
			s.resolve(m.RequestID, m)
		}
	case *wire.SubscribeNamespaceOK:
		if s.draft.Is07() {
			s.resolve07("sns"+m.Prefix.Key(), m)
		} else {
			s.resolve(m.RequestID, m)
		}
	case *wire.SubscribeNamespaceError:
		if s.draft.Is07() {
			s.resolve07("sns"+m.Prefix.Key(), m)
		} else {
			s.resolve(m.RequestID, m)
		}
	case *wire.PublishDone:
		s.onPublishDone(m)
	case *wire.PublishNamespaceCancel:
		ns, ok := m.Namespace, true
		s.mu.Lock()
		if s.rules.namespaceDoneByID {
			ns, ok = s.announcedByIDLocked(m.RequestID)
		}
		if ok {
			delete(s.announced, ns.Key())
			delete(s.announcedID, ns.Key())
		}
		s.mu.Unlock()
		if !ok {
			s.log.Debug("PUBLISH_NAMESPACE_CANCEL for no current announce", "request", m.RequestID)
			return
		}
		s.log.Warn("peer cancelled our announce", "namespace", ns.String(), "code", m.ErrorCode, "reason", m.Reason)
	case *wire.PublishOK, *wire.PublishError:
		// We never send PUBLISH.
		s.protocolViolation(CodeProtocolViolation, "%s without a PUBLISH", wire.MessageName(s.draft, m))

	// The peer's requests.
	case *wire.Subscribe:
		if s.acceptRequestID(m.RequestID) {
			s.onSubscribe(m)
		}
	case *wire.SubscribeUpdate:
		s.onSubscribeUpdate(m)
	case *wire.Unsubscribe:
		s.onUnsubscribe(m.RequestID)
	case *wire.Fetch:
		if s.acceptRequestID(m.RequestID) {
			s.onFetch(m)
		}
	case *wire.FetchCancel:
		s.endFetch(m.RequestID)
	case *wire.TrackStatusRequest:
		if s.acceptOther(m.RequestID, func() {
			// 0x04: the relay cannot obtain the status (draft-07).
			s.send(&wire.TrackStatus{Namespace: m.Namespace, Name: m.Name, StatusCode: 0x04})
		}) {
			s.onTrackStatus(m)
		}
	case *wire.PublishNamespace:
		if s.acceptOther(m.RequestID, func() {
			s.send(&wire.PublishNamespaceError{Namespace: m.Namespace, ErrorCode: 0x0, Reason: tooManyInProgress})
		}) {
			s.onAnnounce(m)
		}
	case *wire.PublishNamespaceDone:
		if s.rules.namespaceDoneByID {
			s.mu.Lock()
			ns, ok := s.peerNSByID[m.RequestID]
			s.mu.Unlock()
			if !ok {
				s.log.Debug("PUBLISH_NAMESPACE_DONE for no current announce", "request", m.RequestID)
				return
			}
			s.onUnannounce(ns)
			return
		}
		s.onUnannounce(m.Namespace)
	case *wire.SubscribeNamespace:
		if s.rules.namespaceStreams {
			s.protocolViolation(CodeProtocolViolation, "SUBSCRIBE_NAMESPACE on the control stream")
			return
		}
		if s.acceptOther(m.RequestID, func() {
			s.send(&wire.SubscribeNamespaceError{Prefix: m.Prefix, ErrorCode: 0x0, Reason: tooManyInProgress})
		}) {
			s.onSubscribeNamespace(m)
		}
	case *wire.UnsubscribeNamespace:
		s.onUnsubscribeNamespace(m.Prefix)
	case *wire.Publish:
		if s.acceptRequestID(m.RequestID) {
			// Publisher-initiated subscriptions are not taken.
			s.send(&wire.PublishError{RequestID: m.RequestID, ErrorCode: s.rules.codes.uninterested, Reason: "PUBLISH not accepted"})
			s.retireRequest()
		}
	default:
		s.protocolViolation(CodeProtocolViolation, "unexpected %s", wire.MessageName(s.draft, m))
	}
}

// acceptRequestID checks a request ID from the peer: draft-14 IDs must be
// exactly the next expected one; draft-07 Subscribe IDs must rise. Both
// must be below the maximum we granted. A bad ID closes the session.
func (s *Session) acceptRequestID(id uint64) bool {
	s.mu.Lock()
	if s.rules.namespaceStreams && s.rules.requestIDs {
		// Requests arrive on several streams, so not necessarily in order:
		// an ID may skip ahead, and a skipped one may come later, once.
		if id%2 != s.peerNextReqID%2 || (id < s.peerNextReqID && !s.peerSkipped[id]) {
			want := s.peerNextReqID
			s.mu.Unlock()
			s.protocolViolation(CodeInvalidRequestID, "request ID %d reused or of the wrong side (next is %d)", id, want)
			return false
		}
		if id >= s.grantedMax {
			max := s.grantedMax
			s.mu.Unlock()
			s.protocolViolation(CodeTooManyRequests, "request ID %d is not below the granted maximum %d", id, max)
			return false
		}
		if s.rules.requestStreams && id > s.peerNextReqID && (id-s.peerNextReqID)/2 > s.maxRequestGap() {
			// Draft-18 has no maximum: IDs go up by 2 per request, and
			// only the requests in flight (bounded by the stream limit)
			// can be overtaken. A jump further ahead is not a next ID (and
			// would make the skipped set huge).
			want := s.peerNextReqID
			s.mu.Unlock()
			s.protocolViolation(CodeInvalidRequestID, "request ID %d is too far ahead of the next one (%d)", id, want)
			return false
		}
		if id < s.peerNextReqID {
			delete(s.peerSkipped, id)
		} else {
			for x := s.peerNextReqID; x < id; x += 2 {
				s.peerSkipped[x] = true
			}
			s.peerNextReqID = id + 2
		}
		s.peerOpen++
		s.mu.Unlock()
		return true
	}
	if s.rules.requestIDs && id != s.peerNextReqID {
		want := s.peerNextReqID
		s.mu.Unlock()
		s.protocolViolation(CodeInvalidRequestID, "request ID %d, expected %d", id, want)
		return false
	}
	if s.draft.Is07() && id < s.peerNextReqID {
		want := s.peerNextReqID
		s.mu.Unlock()
		s.protocolViolation(CodeProtocolViolation, "subscribe ID %d reused (next is at least %d)", id, want)
		return false
	}
	if id >= s.grantedMax {
		max := s.grantedMax
		s.mu.Unlock()
		code := CodeTooManyRequests
		if s.draft.Is07() {
			code = 0x6 // draft-07: Too Many Subscribes
		}
		s.protocolViolation(code, "request ID %d is not below the granted maximum %d", id, max)
		return false
	}
	s.peerNextReqID = id + s.reqStep()
	s.peerOpen++
	s.mu.Unlock()
	return true
}

// maxRequestGap bounds how many of the peer's draft-18 Request IDs a
// request may skip: each request in flight holds a stream (the stream
// limit) and may have REQUEST_UPDATEs in flight too.
func (s *Session) maxRequestGap() uint64 {
	return 4*uint64(s.opts.maxIncomingStreams()) + 64
}

// retireRequest records that one of the peer's requests (one that took a
// request ID) has completed, which may return credit to the peer.
func (s *Session) retireRequest() {
	s.mu.Lock()
	if s.peerOpen > 0 {
		s.peerOpen--
	}
	s.mu.Unlock()
	s.grantCredit(false)
}

const tooManyInProgress = "too many requests in progress on this session"

// acceptOther admits a request that takes a request ID only in draft-14
// (announce, track status, namespace subscription). Draft-07 gives these
// no ID and so no credit: at most Options.MaxRequestID of them are served
// at once, and refuse answers the others.
func (s *Session) acceptOther(id uint64, refuse func()) bool {
	if !s.draft.Is07() {
		return s.acceptRequestID(id)
	}
	s.mu.Lock()
	ok := s.open07 < s.opts.maxRequestID()
	if ok {
		s.open07++
	}
	s.mu.Unlock()
	if !ok {
		refuse()
	}
	return ok
}

// retireOther ends a request admitted by acceptOther.
func (s *Session) retireOther() {
	if !s.draft.Is07() {
		s.retireRequest()
		return
	}
	s.mu.Lock()
	s.open07--
	s.mu.Unlock()
}

// grantCredit raises the peer's request maximum so that it may have
// Options.MaxRequestID requests in progress: when half a window of its
// requests has completed, or at once when it told us it is blocked.
func (s *Session) grantCredit(blocked bool) {
	s.mu.Lock()
	maxReq := s.opts.maxRequestID()
	window := maxReq * s.reqStep()
	if s.closing || s.peerOpen >= maxReq {
		s.mu.Unlock()
		return
	}
	newMax := s.peerNextReqID + (maxReq-s.peerOpen)*s.reqStep()
	if newMax <= s.grantedMax || (!blocked && newMax-s.grantedMax < max(window/2, 1)) {
		s.mu.Unlock()
		return
	}
	s.grantedMax = newMax
	s.mu.Unlock()
	s.send(&wire.MaxRequestID{RequestID: newMax})
}

// answers reports whether m can answer a request made with op.
func answers(op string, m wire.Message) bool {
	switch m.(type) {
	case *wire.SubscribeOK, *wire.SubscribeError:
		return op == "SUBSCRIBE"
	case *wire.FetchOK, *wire.FetchError:
		return op == "FETCH"
	case *wire.TrackStatus, *wire.TrackStatusError:
		return op == "TRACK_STATUS" || op == "TRACK_STATUS_REQUEST"
	case *wire.PublishNamespaceOK, *wire.PublishNamespaceError:
		return op == "PUBLISH_NAMESPACE" || op == "ANNOUNCE"
	case *wire.SubscribeNamespaceOK, *wire.SubscribeNamespaceError:
		return op == "SUBSCRIBE_NAMESPACE" || op == "SUBSCRIBE_ANNOUNCES"
	case *wire.RequestOK, *wire.RequestError:
		return op == opRequestUpdate
	}
	return false
}

// onGenericAnswer handles a draft-16 REQUEST_OK or REQUEST_ERROR: the
// pending request with its ID says what it answers. An answer to a request
// we never sent, or one that cannot answer the request's kind, is a
// protocol violation; one to a request we gave up on is dropped.
func (s *Session) onGenericAnswer(id uint64, m wire.Message) {
	s.mu.Lock()
	p := s.pending[id]
	issued := id < s.nextReqID && id%s.reqStep() == s.nextReqID%s.reqStep()
	s.mu.Unlock()
	name := wire.MessageName(s.draft, m)
	if p == nil {
		if !issued {
			s.protocolViolation(CodeProtocolViolation, "%s for request %d, which was never sent", name, id)
			return
		}
		s.log.Debug("answer to an unknown or abandoned request", "message", name, "request", id)
		return
	}
	g, ok := generalize(p.op, m)
	if !ok {
		s.protocolViolation(CodeProtocolViolation, "%s cannot answer request %d, a %s", name, id, p.op)
		return
	}
	s.resolve(id, g)
}

// announcedByIDLocked finds the namespace we announced with request id.
func (s *Session) announcedByIDLocked(id uint64) (Namespace, bool) {
	for k, rid := range s.announcedID {
		if rid == id {
			return s.announced[k], true
		}
	}
	return nil, false
}

// resolve hands a response to the request waiting for it. An answer of
// the wrong kind for the request ID is a protocol violation.
func (s *Session) resolve(id uint64, m wire.Message) {
	s.mu.Lock()
	p := s.pending[id]
	if p != nil && !answers(p.op, m) {
		s.mu.Unlock()
		s.protocolViolation(CodeProtocolViolation, "%s for request %d, a %s", wire.MessageName(s.draft, m), id, p.op)
		return
	}
	delete(s.pending, id)
	s.mu.Unlock()
	if p == nil {
		s.log.Debug("answer to an unknown or abandoned request", "message", wire.MessageName(s.draft, m), "request", id)
		return
	}
	p.ch <- m
}

func (s *Session) resolve07(key string, m wire.Message) {
	s.mu.Lock()
	p := s.pending07[key]
	delete(s.pending07, key)
	s.mu.Unlock()
	if p == nil {
		s.log.Debug("answer to an unknown or abandoned request", "message", wire.MessageName(s.draft, m))
		return
	}
	p.ch <- m
}

func (s *Session) onSubscribeOK(m *wire.SubscribeOK) {
	s.mu.Lock()
	p := s.pending[m.RequestID]
	sub := s.subs[m.RequestID]
	if p != nil && !answers(p.op, m) {
		s.mu.Unlock()
		s.protocolViolation(CodeProtocolViolation, "SUBSCRIBE_OK for request %d, a %s", m.RequestID, p.op)
		return
	}
	if p == nil || sub == nil {
		s.mu.Unlock()
		s.log.Debug("SUBSCRIBE_OK for an unknown or abandoned subscription", "request", m.RequestID)
		return
	}
	if s.rules.requestIDs && !s.registerAliasLocked(sub, m.TrackAlias) {
		s.mu.Unlock()
		s.protocolViolation(CodeDuplicateTrackAlias, "track alias %d is already in use", m.TrackAlias)
		return
	}
	delete(s.pending, m.RequestID)
	s.mu.Unlock()
	p.ch <- m
}

func (s *Session) onPublishDone(m *wire.PublishDone) {
	s.mu.Lock()
	sub := s.subs[m.RequestID]
	s.mu.Unlock()
	if sub == nil {
		return
	}
	var final *Location
	if s.draft.Is07() && m.ContentExists {
		final = &m.Final
	}
	grace := min(s.opts.requestTimeout(), doneGrace)
	sub.publisherDone(&doneError{code: m.StatusCode, reason: m.Reason, draft: s.draft}, m.StreamCount, final, grace)
}

// doneGrace bounds how long a subscription waits, after PUBLISH_DONE, for
// data streams that may never come (reset, or dropped by a relay).
const doneGrace = 3 * time.Second

func (s *Session) onGoAway(m *wire.GoAway) {
	s.mu.Lock()
	dup := s.goAwayRecv
	s.goAwayRecv = true
	s.mu.Unlock()
	switch {
	case dup:
		s.protocolViolation(CodeProtocolViolation, "second GOAWAY")
		return
	case s.isServer && s.draft.Is07():
		s.protocolViolation(CodeProtocolViolation, "GOAWAY from a draft-07 client")
		return
	case s.isServer && m.NewSessionURI != "":
		s.protocolViolation(CodeProtocolViolation, "GOAWAY from a client with a URI")
		return
	case m.HasRequestID && m.RequestID%2 != s.nextReqID%2:
		// Draft-18: the Request ID names one of ours.
		s.protocolViolation(CodeInvalidRequestID, "GOAWAY names request ID %d, not one of this side's", m.RequestID)
		return
	}
	s.log.Info("peer sent GOAWAY", "uri", m.NewSessionURI)
	if f := s.opts.OnGoAway; f != nil {
		go f(m.NewSessionURI)
	}
}

// GoAwayReceived reports whether the peer sent GOAWAY.
func (s *Session) GoAwayReceived() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.goAwayRecv
}

// doneError is a PUBLISH_DONE / SUBSCRIBE_DONE from the publisher.
type doneError struct {
	code   uint64
	reason string
	draft  wire.Draft
}

func (e *doneError) Error() string {
	s := "moq: subscription ended by the publisher"
	if e.reason != "" {
		s += ": " + e.reason
	}
	return s
}

// Code returns the PUBLISH_DONE status code.
func (e *doneError) Code() uint64 { return e.code }

func (e *doneError) Unwrap() error { return ErrEnded }

type doneKind uint8

const (
	doneTrackEnded doneKind = iota
	doneSubscriptionEnded
	doneGoingAway
	doneInternal
	doneUnsubscribed
)

// doneCode maps a done reason to the draft's status code.
func (s *Session) doneCode(k doneKind) uint64 {
	if s.draft.Is07() {
		switch k {
		case doneTrackEnded:
			return done07TrackEnded
		case doneSubscriptionEnded:
			return done07SubEnded
		case doneGoingAway:
			return done07GoingAway
		case doneUnsubscribed:
			return done07Unsubscribed
		}
		return done07Internal
	}
	switch k {
	case doneTrackEnded:
		return done14TrackEnded
	case doneSubscriptionEnded, doneUnsubscribed:
		return done14SubEnded
	case doneGoingAway:
		return done14GoingAway
	}
	return done14Internal
}

func (s *Session) publishDone(reqID, code uint64, reason string, streams uint64) *wire.PublishDone {
	return &wire.PublishDone{RequestID: reqID, StatusCode: code, Reason: reason, StreamCount: streams}
}
