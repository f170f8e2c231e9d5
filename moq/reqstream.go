package moq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Draft-18 sessions (rules.requestStreams). The control channel is a pair
// of unidirectional streams, each opened with SETUP; after SETUP only
// GOAWAY travels there. Every request (SUBSCRIBE, FETCH, TRACK_STATUS,
// PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE, PUBLISH, SUBSCRIBE_TRACKS) opens
// its own bidirectional stream; its answer (without a Request ID), its
// REQUEST_UPDATEs and their answers, and PUBLISH_DONE travel on it.
//
// The engine keeps building its messages as for draft-16 (with Request
// IDs); send18 routes them: a request opens a stream, an answer goes to the
// stream of the request it answers, UNSUBSCRIBE / FETCH_CANCEL /
// PUBLISH_NAMESPACE_DONE / PUBLISH_NAMESPACE_CANCEL reset the request's
// stream, MAX_REQUEST_ID and REQUESTS_BLOCKED are not sent. Reading a
// request stream turns what arrives (and the stream's end) back into the
// messages the engine handles (dispatch), with the Request ID filled in.
//
// How a stream's end is read (the text: "cancel requests by abruptly
// terminating any directions of a stream that are still open"; the
// publisher ends a subscription with PUBLISH_DONE and FIN): a reset from
// the peer cancels the request; a FIN from the requester after a request
// that lasts (SUBSCRIBE, PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE) cancels it
// too, after one that does not (FETCH, TRACK_STATUS) it only says that no
// REQUEST_UPDATE follows. The responder FINs after a final answer
// (REQUEST_ERROR, FETCH_OK, TRACK_STATUS's REQUEST_OK, PUBLISH_DONE); the
// requester FINs when it has what it asked for.

// reqCancelled is the stream error code (CANCELLED) with which a request
// stream is reset.
const reqCancelled uint64 = 0x1

// reqGoingAway is the REQUEST_ERROR code GOING_AWAY (18).
const reqGoingAway uint64 = 0x6

// opPublish is the peer's PUBLISH (refused: publisher-initiated
// subscriptions are not taken).
const opPublish = "PUBLISH"

// reqStream is one draft-18 request stream.
type reqStream struct {
	st   transport.Stream
	id   uint64 // the request's Request ID
	op   string
	mine bool // we sent the request

	mu      sync.Mutex // serialises writes; guards updates
	updates []uint64   // mine: our REQUEST_UPDATE IDs awaiting an answer, in order
}

func (r *reqStream) write(s *Session, m wire.Message) error {
	b, err := wire.AppendMessage(nil, s.draft, m)
	if err != nil {
		return fmt.Errorf("moq: encode %s: %w", wire.MessageName(s.draft, m), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.SetWriteDeadline(time.Now().Add(s.opts.requestTimeout()))
	if _, err := r.st.Write(b); err != nil {
		return fmt.Errorf("moq: write %s: %w", wire.MessageName(s.draft, m), s.connErrOr(err))
	}
	return nil
}

// reset ends both directions of the stream abruptly.
func (r *reqStream) reset() {
	r.st.CancelWrite(reqCancelled)
	r.st.CancelRead(reqCancelled)
}

// clientSetup18 sends the client's SETUP on its control stream and reads
// the server's from the server's.
func (s *Session) clientSetup18(ctx context.Context) error {
	if err := s.sendControl(&wire.Setup{Params: s.setupParams(true)}); err != nil {
		return setupErr(ctx, "send SETUP", err)
	}
	in, err := s.conn.AcceptUniStream(ctx)
	if err != nil {
		return s.setupReadErr(ctx, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		in.SetReadDeadline(dl)
	}
	cr := wire.NewControlReader(in, s.draft, s.lim)
	m, err := cr.Read()
	if err != nil {
		if pe, ok := wire.AsProtocolError(err); ok {
			return fmt.Errorf("moq: the server's control stream: %w", pe)
		}
		return s.setupReadErr(ctx, err)
	}
	in.SetReadDeadline(time.Time{})
	st, ok := m.(*wire.Setup)
	if !ok {
		return fmt.Errorf("%w: expected SETUP, got %s", ErrVersion, wire.MessageName(s.draft, m))
	}
	if err := s.readPeerSetup(st.Params); err != nil {
		return err
	}
	s.ctrlReader = cr
	return nil
}

// setupReadErr is clientSetup's error when the server's SETUP did not come.
func (s *Session) setupReadErr(ctx context.Context, err error) error {
	cerr := s.closeReason(ctx, err)
	var ae *transport.ApplicationError
	if errors.As(cerr, &ae) && ae.Remote && refusalCode(ae.Code) {
		return fmt.Errorf("moq: the server refused the session: %w", connSessionError(cerr))
	}
	return fmt.Errorf("%w: no SETUP from the server: %w", ErrVersion, cerr)
}

// serverSetup18 reads the client's SETUP from its control stream, opens
// ours and answers SETUP.
func serverSetup18(ctx context.Context, conn transport.Conn, opts *Options, d Draft) (*Session, error) {
	fail := func(code uint64, format string, args ...any) (*Session, error) {
		err := fmt.Errorf(format, args...)
		conn.CloseWithError(code, err.Error())
		return nil, err
	}
	if !opts.accepts(d) {
		return fail(CodeVersionNegotiationFailed, "moq: draft-%s is not accepted", d)
	}
	in, err := conn.AcceptUniStream(ctx)
	if err != nil {
		return fail(CodeProtocolViolation, "moq: no control stream: %v", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		in.SetReadDeadline(dl)
	}
	cr := wire.NewControlReader(in, d, opts.limits())
	m, err := cr.Read()
	if err != nil {
		return fail(CodeProtocolViolation, "moq: read SETUP: %v", err)
	}
	cs, ok := m.(*wire.Setup)
	if !ok {
		return fail(CodeProtocolViolation, "moq: expected SETUP, got %s", wire.MessageName(d, m))
	}
	in.SetReadDeadline(time.Time{})
	ctrl, err := conn.OpenUniStreamSync(ctx)
	if err != nil {
		return fail(CodeInternalError, "moq: open control stream: %v", err)
	}
	s := newSession(conn, ctrl, d, opts, true)
	s.ctrlReader = cr
	if code, err := s.acceptClientSetup(cs.Params); err != nil {
		return fail(code, "%v", err)
	}
	if err := s.sendControl(&wire.Setup{Params: s.setupParams(false)}); err != nil {
		conn.CloseWithError(CodeInternalError, "")
		return nil, err
	}
	s.start()
	return s, nil
}

// send18 routes one message the engine built (draft-16 style) in a
// draft-18 session.
func (s *Session) send18(m wire.Message) error {
	if s.rules.draft20 {
		m = to20(m)
	}
	switch m := m.(type) {
	case *wire.Setup, *wire.GoAway:
		return s.sendControl(m)
	case *wire.MaxRequestID, *wire.RequestsBlocked:
		return nil // no request credit in 18
	case *wire.Subscribe:
		return s.openRequest(m.RequestID, opSubscribe, m)
	case *wire.Fetch:
		return s.openRequest(m.RequestID, opFetch, m)
	case *wire.TrackStatusRequest:
		return s.openRequest(m.RequestID, opTrackStatus, m)
	case *wire.PublishNamespace:
		return s.openRequest(m.RequestID, opPublishNamespace, m)
	case *wire.SubscribeUpdate:
		s.mu.Lock()
		rs := s.reqStreams[m.SubscriptionRequestID]
		s.mu.Unlock()
		if rs == nil || !rs.mine {
			return fmt.Errorf("moq: REQUEST_UPDATE: request %d has ended: %w", m.SubscriptionRequestID, ErrEnded)
		}
		rs.mu.Lock()
		rs.updates = append(rs.updates, m.RequestID)
		rs.mu.Unlock()
		return rs.write(s, m)
	case *wire.Unsubscribe:
		s.cancelRequest(m.RequestID)
		return nil
	case *wire.FetchCancel:
		s.cancelRequest(m.RequestID)
		return nil
	case *wire.PublishNamespaceDone:
		s.cancelRequest(m.RequestID)
		return nil
	case *wire.PublishNamespaceCancel:
		s.cancelRequest(m.RequestID)
		return nil
	}
	id, final, ok := answerOf(m)
	if !ok {
		return fmt.Errorf("moq: %s has no draft-18 form: %w", wire.MessageName(wire.Draft16, m), ErrUnsupported)
	}
	return s.answer18(id, m, final)
}

// answerOf returns the Request ID an answer to the peer's request carries
// and whether it is the last message we send on that request's stream.
func answerOf(m wire.Message) (id uint64, final, ok bool) {
	switch m := m.(type) {
	case *wire.SubscribeOK:
		return m.RequestID, false, true
	case *wire.PublishNamespaceOK:
		return m.RequestID, false, true
	case *wire.RequestOK: // answers a REQUEST_UPDATE
		return m.RequestID, false, true
	case *wire.RequestError: // answers a REQUEST_UPDATE
		return m.RequestID, false, true
	case *wire.SubscribeError:
		return m.RequestID, true, true
	case *wire.FetchOK:
		return m.RequestID, true, true
	case *wire.FetchError:
		return m.RequestID, true, true
	case *wire.TrackStatus:
		return m.RequestID, true, true
	case *wire.TrackStatusError:
		return m.RequestID, true, true
	case *wire.PublishNamespaceError:
		return m.RequestID, true, true
	case *wire.PublishError:
		return m.RequestID, true, true
	case *wire.PublishDone:
		return m.RequestID, true, true
	}
	return 0, false, false
}

// answer18 writes an answer on the stream of the peer's request id (or of
// the peer's REQUEST_UPDATE id); final ends our side of the stream. An
// answer to a request the peer has cancelled is dropped.
func (s *Session) answer18(id uint64, m wire.Message, final bool) error {
	s.mu.Lock()
	rs := s.reqStreams[id]
	if rs != nil && rs.mine {
		rs = nil // answers go to the peer's requests only
	}
	if rs != nil && (final || rs.id != id) {
		// The request is over, or a REQUEST_UPDATE's alias is answered.
		delete(s.reqStreams, id)
	}
	s.mu.Unlock()
	if rs == nil {
		if _, ok := m.(*wire.PublishNamespaceOK); ok {
			// Cancelled while the handler decided: withdraw what it took.
			s.dispatch(&wire.PublishNamespaceDone{RequestID: id})
		}
		s.log.Debug("answer to a cancelled request dropped", "message", wire.MessageName(wire.Draft16, m), "request", id)
		return nil
	}
	err := rs.write(s, s.rules.specialize(m))
	if final && rs.id == id {
		rs.st.Close()
	}
	if err != nil {
		rs.reset()
	}
	return err
}

// openRequest opens a request stream, writes m (the request) on it and
// starts reading its answers.
func (s *Session) openRequest(id uint64, op string, m wire.Message) error {
	b, err := wire.AppendMessage(nil, s.draft, m)
	if err != nil {
		return fmt.Errorf("moq: encode %s: %w", wire.MessageName(s.draft, m), err)
	}
	// The peer's stream limit bounds our requests in flight: wait for a
	// stream at most the request timeout.
	ctx, cancel := context.WithTimeout(s.sessCtx(), s.opts.requestTimeout())
	st, err := s.conn.OpenStreamSync(ctx)
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil {
		if timedOut {
			return fmt.Errorf("moq: opening a %s stream (the peer's stream limit): %w", op, ErrTimeout)
		}
		return fmt.Errorf("moq: opening a %s stream: %w", op, s.connErrOr(err))
	}
	rs := &reqStream{st: st, id: id, op: op, mine: true}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		rs.reset()
		return s.closedErr()
	}
	s.reqStreams[id] = rs
	s.mu.Unlock()
	rs.st.SetWriteDeadline(time.Now().Add(s.opts.requestTimeout()))
	if _, err := st.Write(b); err != nil {
		s.forgetReqStream(rs)
		rs.reset()
		return fmt.Errorf("moq: write %s: %w", op, s.connErrOr(err))
	}
	s.wg.Add(1)
	go s.readAnswers(rs)
	return nil
}

// forgetReqStream removes rs from the session's streams; false if it was
// no longer there.
func (s *Session) forgetReqStream(rs *reqStream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reqStreams[rs.id] != rs {
		return false
	}
	delete(s.reqStreams, rs.id)
	return true
}

// cancelRequest resets the stream of request id (ours or the peer's).
func (s *Session) cancelRequest(id uint64) {
	s.mu.Lock()
	rs := s.reqStreams[id]
	if rs != nil && rs.id == id {
		delete(s.reqStreams, id)
	} else {
		rs = nil
	}
	s.mu.Unlock()
	if rs != nil {
		rs.reset()
	}
}

// closeRequest ends our side of our request id cleanly: we have what we
// asked for (a fetch whose data stream ended).
func (s *Session) closeRequest(id uint64) {
	if !s.rules.requestStreams {
		return
	}
	s.mu.Lock()
	rs := s.reqStreams[id]
	if rs != nil && rs.mine && rs.id == id {
		delete(s.reqStreams, id)
	} else {
		rs = nil
	}
	s.mu.Unlock()
	if rs != nil {
		// Not CancelRead: FETCH_OK may still be on its way (the data stream
		// can end first); the publisher's FIN ends the reading.
		rs.st.Close()
	}
}

// readAnswers reads what arrives on the stream of our request rs.
func (s *Session) readAnswers(rs *reqStream) {
	defer s.wg.Done()
	cr := wire.NewControlReader(rs.st, s.draft, s.lim)
	answered, done, failed, goAway := false, false, false, false
	violation := func(format string, args ...any) {
		rs.reset()
		s.protocolViolation(CodeProtocolViolation, "%s stream: "+format, append([]any{rs.op}, args...)...)
	}
	for {
		m, err := cr.Read()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if pe, ok := wire.AsProtocolError(err); ok {
				violation("%v", pe)
				return
			}
			var se *transport.StreamError
			if !errors.Is(err, io.EOF) && !errors.As(err, &se) {
				return // the connection is going down: closeWith ends the request
			}
			s.ownRequestEnded(rs, answered, done, failed, se != nil)
			return
		}
		if done {
			violation("%s after PUBLISH_DONE", wire.MessageName(s.draft, m))
			return
		}
		switch m := m.(type) {
		case *wire.SubscribeOK:
			if rs.op != opSubscribe || answered {
				violation("unexpected SUBSCRIBE_OK")
				return
			}
			answered = true
			m.RequestID = rs.id
			s.onSubscribeOK(m)
		case *wire.FetchOK:
			if rs.op != opFetch || answered {
				violation("unexpected FETCH_OK")
				return
			}
			answered = true
			m.RequestID = rs.id
			s.resolve(rs.id, m)
		case *wire.RequestOK, *wire.RequestError:
			if answered {
				rs.mu.Lock()
				var uid uint64
				ok := len(rs.updates) > 0
				if ok {
					uid, rs.updates = rs.updates[0], rs.updates[1:]
				}
				rs.mu.Unlock()
				if !ok {
					violation("%s with no REQUEST_UPDATE waiting for it", wire.MessageName(s.draft, m))
					return
				}
				setRequestID(m, uid)
				s.onGenericAnswer(uid, m)
				continue
			}
			answered = true
			_, failed = m.(*wire.RequestError)
			setRequestID(m, rs.id)
			if ok, isOK := m.(*wire.RequestOK); isOK && rs.op == opTrackStatus {
				ts, err := wire.TrackStatusFromRequestOK18(ok)
				if err != nil {
					violation("%v", err)
					return
				}
				ts.RequestID = rs.id
				s.resolve(rs.id, ts)
				continue
			}
			s.onGenericAnswer(rs.id, m)
		case *wire.PublishDone:
			if rs.op != opSubscribe || !answered || failed {
				violation("unexpected PUBLISH_DONE")
				return
			}
			done = true
			m.RequestID = rs.id
			s.onPublishDone(m)
		case *wire.PublishStateNotify:
			// Draft 20: the publisher reports its state (Largest Object,
			// FORWARD, filter) on a subscription's stream: taken as
			// information, not acted on.
			if rs.op != opSubscribe || !answered || failed {
				violation("unexpected PUBLISH_STATE_NOTIFY")
				return
			}
			s.log.Debug("PUBLISH_STATE_NOTIFY", "request", rs.id, "largest", m.Largest, "exists", m.ContentExists)
		case *wire.GoAway:
			// A per-request GOAWAY: the responder asks for the request
			// elsewhere. It is not re-issued (the request stays as it is
			// until the responder ends it).
			if goAway {
				violation("second GOAWAY")
				return
			}
			goAway = true
			s.log.Info("peer sent GOAWAY on a request stream", "op", rs.op, "request", rs.id, "uri", m.NewSessionURI)
		default:
			violation("unexpected %s", wire.MessageName(s.draft, m))
			return
		}
		if s.ctx.Err() != nil {
			return
		}
	}
}

func setRequestID(m wire.Message, id uint64) {
	switch m := m.(type) {
	case *wire.RequestOK:
		m.RequestID = id
	case *wire.RequestError:
		m.RequestID = id
	}
}

// ownRequestEnded handles the end of the peer's side of our request's
// stream (reset: abruptly).
func (s *Session) ownRequestEnded(rs *reqStream, answered, done, failed, reset bool) {
	if rs.op == opFetch && answered && !failed && !reset {
		// The fetch goes on on its data stream; its end closes the
		// request (closeRequest), a FetchStream.Close resets it.
		return
	}
	if !s.forgetReqStream(rs) {
		return // we cancelled or closed it
	}
	if reset {
		rs.st.CancelWrite(reqCancelled)
	} else {
		rs.st.Close()
	}
	rs.mu.Lock()
	updates := rs.updates
	rs.updates = nil
	rs.mu.Unlock()
	for _, uid := range updates {
		s.onGenericAnswer(uid, &wire.RequestError{RequestID: uid, ErrorCode: s.rules.codes.internal, Reason: "request stream closed"})
	}
	how := "closed"
	if reset {
		how = "reset"
	}
	if !answered {
		s.onGenericAnswer(rs.id, &wire.RequestError{RequestID: rs.id, ErrorCode: s.rules.codes.internal,
			Reason: "request stream " + how + " by the peer without an answer"})
		return
	}
	if failed {
		return // refused: nothing was established
	}
	switch rs.op {
	case opSubscribe:
		if !done {
			s.onPublishDone(&wire.PublishDone{RequestID: rs.id, StatusCode: done14Internal,
				Reason: "subscription stream " + how + " by the publisher"})
		}
	case opPublishNamespace:
		s.dispatch(&wire.PublishNamespaceCancel{RequestID: rs.id, ErrorCode: s.rules.codes.internal,
			Reason: "request stream " + how})
	}
}

// serveRequestStream serves one bidirectional stream from the peer: a
// request, then what follows it on the stream.
func (s *Session) serveRequestStream(st transport.Stream) {
	defer s.wg.Done()
	cr, m, ok := s.readOpeningMessage(st, "request stream", reqCancelled)
	if !ok {
		return
	}
	st.SetReadDeadline(time.Time{})
	if s.rules.draft20 {
		from20(m)
	}
	var id uint64
	var op string
	switch m := m.(type) {
	case *wire.SubscribeNamespace:
		s.serveNamespaceRequest(st, cr, m)
		return
	case *wire.SubscribeTracks:
		if !s.acceptRequestID(m.RequestID) {
			return
		}
		defer s.retireRequest()
		rs := &reqStream{st: st, id: m.RequestID, op: "SUBSCRIBE_TRACKS"}
		rs.write(s, &wire.RequestError{ErrorCode: s.rules.codes.notSupported, Reason: "SUBSCRIBE_TRACKS is not supported"})
		st.Close()
		st.CancelRead(reqCancelled)
		return
	case *wire.Subscribe:
		id, op = m.RequestID, opSubscribe
	case *wire.Fetch:
		id, op = m.RequestID, opFetch
	case *wire.TrackStatusRequest:
		id, op = m.RequestID, opTrackStatus
	case *wire.PublishNamespace:
		id, op = m.RequestID, opPublishNamespace
	case *wire.Publish:
		id, op = m.RequestID, opPublish
	default:
		s.protocolViolation(CodeProtocolViolation, "request stream starting with %s", wire.MessageName(s.draft, m))
		return
	}
	rs := &reqStream{st: st, id: id, op: op}
	if !s.registerPeerStream(rs, id) {
		return
	}
	s.mu.Lock()
	goingAway := s.goAwaySent
	s.mu.Unlock()
	refusal := refuse20(s, m)
	if goingAway {
		// After our GOAWAY every new request is refused GOING_AWAY.
		refusal = &wire.RequestError{RequestID: id, ErrorCode: reqGoingAway, Reason: "going away"}
	}
	if refusal != nil {
		if s.acceptRequestID(id) {
			refusal.RequestID = id
			s.answer18(id, refusal, true)
			s.retireRequest()
			st.CancelRead(reqCancelled)
		}
		return
	}
	s.dispatch(m) // checks the Request ID
	goAway := false
	for {
		m, err := cr.Read()
		if err != nil {
			if pe, ok := wire.AsProtocolError(err); ok {
				s.protocolViolation(CodeProtocolViolation, "%s stream: %v", op, pe)
				return
			}
			var se *transport.StreamError
			if s.ctx.Err() != nil || (!errors.Is(err, io.EOF) && !errors.As(err, &se)) {
				return // the session is going down
			}
			s.peerRequestEnded(rs, se != nil)
			return
		}
		switch m := m.(type) {
		case *wire.GoAway:
			// The requester is going away: the request ends when it closes
			// the stream.
			if goAway || m.NewSessionURI != "" && s.isServer {
				s.protocolViolation(CodeProtocolViolation, "a second GOAWAY, or one with a URI from a client, on a %s stream", op)
				return
			}
			goAway = true
		case *wire.SubscribeUpdate:
			if !s.registerPeerStream(rs, m.RequestID) {
				return
			}
			if s.rules.draft20 {
				from20(m)
			}
			if op != opSubscribe {
				if s.acceptRequestID(m.RequestID) {
					s.send(&wire.RequestError{RequestID: m.RequestID, ErrorCode: s.rules.codes.notSupported,
						Reason: "REQUEST_UPDATE of a " + op + " is not supported"})
					s.retireRequest()
				}
				continue
			}
			m.SubscriptionRequestID = id
			s.onSubscribeUpdate(m)
		default:
			s.protocolViolation(CodeProtocolViolation, "%s on a %s stream", wire.MessageName(s.draft, m), op)
			return
		}
		if s.ctx.Err() != nil {
			return
		}
	}
}

// registerPeerStream records rs as the stream of the peer's request (or
// REQUEST_UPDATE) id. A Request ID already in use closes the session.
func (s *Session) registerPeerStream(rs *reqStream, id uint64) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return false
	}
	if s.reqStreams[id] != nil {
		s.mu.Unlock()
		s.protocolViolation(CodeInvalidRequestID, "request ID %d is already in use", id)
		return false
	}
	s.reqStreams[id] = rs
	s.mu.Unlock()
	return true
}

// peerRequestEnded handles the end of the peer's side of its request's
// stream (reset: abruptly).
func (s *Session) peerRequestEnded(rs *reqStream, reset bool) {
	lasting := rs.op == opSubscribe || rs.op == opPublishNamespace
	if !reset && !lasting {
		return // no more REQUEST_UPDATEs; the answer still goes out
	}
	s.forgetReqStream(rs)
	rs.st.CancelWrite(reqCancelled)
	switch rs.op {
	case opSubscribe:
		s.onUnsubscribe(rs.id)
	case opFetch:
		s.endFetch(rs.id)
	case opPublishNamespace:
		s.dispatch(&wire.PublishNamespaceDone{RequestID: rs.id})
	}
}

// extToWire converts an object's extension headers from the API's
// draft-14 form (absolute keys) to the session's wire form: draft-16
// delta-coded keys, draft-18 properties (delta-coded, vi64). Pairs go out
// sorted by key. A block that cannot be converted is left out.
func (s *Session) extToWire(ext []byte) []byte {
	if (s.draft != Draft16 && s.draft != Draft18 && s.draft != Draft20) || len(ext) == 0 {
		return ext
	}
	ps, err := wire.ParseExtensions(ext, nil)
	if err != nil {
		return nil
	}
	b, err := wire.AppendExtensionsDraft(s.draft, nil, ps)
	if err != nil || len(b) == 0 {
		return nil
	}
	return b
}

// extFromWire converts received extension headers (draft-16 delta-coded,
// draft-18 properties) to the API's draft-14 form.
func (s *Session) extFromWire(ext []byte) []byte {
	if (s.draft != Draft16 && s.draft != Draft18 && s.draft != Draft20) || len(ext) == 0 {
		return ext
	}
	ps, err := wire.ParseExtensionsDraft(s.draft, ext, s.lim)
	if err != nil {
		return nil
	}
	b, err := wire.AppendExtensions(nil, ps)
	if err != nil || len(b) == 0 {
		return nil
	}
	return b
}
