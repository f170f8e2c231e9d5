package moq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Namespace subscriptions on their own streams (draft-16): the subscriber
// opens a bidirectional stream with SUBSCRIBE_NAMESPACE; the publisher
// answers REQUEST_OK or REQUEST_ERROR there, then sends NAMESPACE and
// NAMESPACE_DONE (namespace suffixes after the prefix) on it; the
// subscriber ends the subscription by closing the stream.

// nsStreamCancelled is the stream error code with which the subscriber
// ends a namespace subscription stream (and the publisher a stream it does
// not serve).
const nsStreamCancelled uint64 = 0x1 // CANCELLED

// subscribeNamespaceStream is SubscribeNamespace in a draft with namespace
// streams. The caller validated prefix.
func (s *Session) subscribeNamespaceStream(ctx context.Context, prefix Namespace) (*NamespaceSubscription, error) {
	k := prefix.Key()
	n := &NamespaceSubscription{sess: s, prefix: prefix, wake: make(chan struct{}, 1)}
	unlock := s.lockRequests()
	defer unlock()
	s.mu.Lock()
	_, dup := s.nsSubs[k]
	s.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("moq: prefix %q is already subscribed: %w", prefix.String(), ErrInvalid)
	}
	id, err := s.allocRequestID(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("moq: opening a SUBSCRIBE_NAMESPACE stream: %w", s.connErrOr(err))
	}
	n.st = st
	s.mu.Lock()
	if s.closing || s.nsSubs[k] != nil {
		closing := s.closing
		s.mu.Unlock()
		st.CancelWrite(nsStreamCancelled)
		st.CancelRead(nsStreamCancelled)
		if closing {
			return nil, s.closedErr()
		}
		return nil, fmt.Errorf("moq: prefix %q is already subscribed: %w", prefix.String(), ErrInvalid)
	}
	s.nsSubs[k] = n
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		if s.nsSubs[k] == n {
			delete(s.nsSubs, k)
		}
		s.mu.Unlock()
		st.CancelWrite(nsStreamCancelled)
		st.CancelRead(nsStreamCancelled)
	}
	req := &wire.SubscribeNamespace{RequestID: id, Prefix: prefix, Params: s.authParams(false, "")}
	setSubscribeOptions(req)
	b, err := wire.AppendMessage(nil, s.draft, req)
	if err == nil {
		_, err = st.Write(b)
	}
	unlock()
	if err != nil {
		forget()
		return nil, fmt.Errorf("moq: write SUBSCRIBE_NAMESPACE: %w", s.connErrOr(err))
	}

	// The answer, bounded by ctx and the request timeout.
	st.SetReadDeadline(time.Now().Add(s.opts.requestTimeout()))
	stop := context.AfterFunc(ctx, func() { st.CancelRead(nsStreamCancelled) })
	cr := wire.NewControlReader(st, s.draft, s.lim)
	m, err := cr.Read()
	stopped := !stop()
	if err != nil {
		forget()
		switch {
		case stopped:
			return nil, fmt.Errorf("moq: SUBSCRIBE_NAMESPACE: %w", ctxErr(ctx))
		case isTimeout(err):
			return nil, fmt.Errorf("moq: SUBSCRIBE_NAMESPACE: %w: no answer within %v", ErrTimeout, s.opts.requestTimeout())
		}
		if pe, ok := wire.AsProtocolError(err); ok {
			s.protocolViolation(CodeProtocolViolation, "SUBSCRIBE_NAMESPACE stream: %v", pe)
		}
		return nil, fmt.Errorf("moq: SUBSCRIBE_NAMESPACE: no answer: %w", s.connErrOr(err))
	}
	st.SetReadDeadline(time.Time{})
	switch m := m.(type) {
	case *wire.RequestOK:
		if !s.rules.requestStreams && m.RequestID != id {
			forget()
			s.protocolViolation(CodeProtocolViolation, "REQUEST_OK for request %d on the stream of request %d", m.RequestID, id)
			return nil, s.closedErr()
		}
	case *wire.RequestError:
		forget()
		if !s.rules.requestStreams && m.RequestID != id {
			s.protocolViolation(CodeProtocolViolation, "REQUEST_ERROR for request %d on the stream of request %d", m.RequestID, id)
			return nil, s.closedErr()
		}
		return nil, &RequestError{Op: opSubscribeNamespace, Code: m.ErrorCode, Reason: m.Reason}
	default:
		forget()
		s.protocolViolation(CodeProtocolViolation, "%s before the answer on a SUBSCRIBE_NAMESPACE stream", wire.MessageName(s.draft, m))
		return nil, s.closedErr()
	}
	s.wg.Add(1)
	go s.readNamespaceStream(n, cr)
	return n, nil
}

// readNamespaceStream delivers the NAMESPACE and NAMESPACE_DONE messages of
// an accepted namespace subscription until the stream or the session ends.
func (s *Session) readNamespaceStream(n *NamespaceSubscription, cr *wire.ControlReader) {
	defer s.wg.Done()
	active := map[string]bool{}
	fail := func(format string, args ...any) {
		s.protocolViolation(CodeProtocolViolation, format, args...)
		n.finish(s.closedErr())
	}
	for {
		m, err := cr.Read()
		if err != nil {
			if pe, ok := wire.AsProtocolError(err); ok {
				fail("SUBSCRIBE_NAMESPACE stream: %v", pe)
				return
			}
			s.mu.Lock()
			if s.nsSubs[n.prefix.Key()] == n {
				delete(s.nsSubs, n.prefix.Key())
			}
			s.mu.Unlock()
			if s.ctx.Err() != nil {
				n.finish(s.closedErr())
			} else if errors.Is(err, io.EOF) {
				n.finish(fmt.Errorf("moq: the publisher ended the namespace subscription: %w", ErrEnded))
			} else {
				n.finish(fmt.Errorf("moq: namespace subscription stream: %w: %w", ErrEnded, err))
			}
			n.st.CancelWrite(nsStreamCancelled)
			return
		}
		switch m := m.(type) {
		case *wire.NamespaceMsg:
			ns := append(slices.Clone(n.prefix), m.Suffix...)
			if err := validateTrack(ns, "", false); err != nil {
				fail("NAMESPACE %s: %v", ns, err)
				return
			}
			if active[ns.Key()] {
				continue // already reported
			}
			active[ns.Key()] = true
			n.push(NamespaceEvent{Namespace: ns, Active: true})
		case *wire.NamespaceDone:
			ns := append(slices.Clone(n.prefix), m.Suffix...)
			if !active[ns.Key()] {
				fail("NAMESPACE_DONE for %s, which no NAMESPACE announced", ns)
				return
			}
			delete(active, ns.Key())
			n.push(NamespaceEvent{Namespace: ns, Active: false})
		default:
			fail("%s on a SUBSCRIBE_NAMESPACE stream", wire.MessageName(s.draft, m))
			return
		}
	}
}

// inNamespaceSub is the peer's namespace subscription on its own stream.
type inNamespaceSub struct {
	sess   *Session
	st     transport.Stream
	prefix Namespace

	mu     sync.Mutex // serialises writes to st; guards the fields below
	ready  bool       // REQUEST_OK written: events go out at once
	queue  []NamespaceEvent
	told   map[string]bool // namespaces sent with NAMESPACE and not withdrawn
	closed bool
}

// bidiLoop accepts the peer's bidirectional streams (draft-16: each must be
// a SUBSCRIBE_NAMESPACE).
func (s *Session) bidiLoop() {
	defer s.wg.Done()
	for {
		st, err := s.conn.AcceptStream(s.ctx)
		if err != nil {
			return
		}
		s.wg.Add(1)
		if s.rules.requestStreams {
			go s.serveRequestStream(st)
		} else {
			go s.serveNamespaceStream(st)
		}
	}
}

// serveNamespaceStream serves one bidirectional stream from the peer.
func (s *Session) serveNamespaceStream(st transport.Stream) {
	defer s.wg.Done()
	cr, m, ok := s.readOpeningMessage(st, "bidirectional stream", nsStreamCancelled)
	if !ok {
		return
	}
	req, ok := m.(*wire.SubscribeNamespace)
	if !ok {
		s.protocolViolation(CodeProtocolViolation, "bidirectional stream starting with %s, not SUBSCRIBE_NAMESPACE", wire.MessageName(s.draft, m))
		return
	}
	s.serveNamespaceRequest(st, cr, req)
}

// readOpeningMessage reads the first message of a bidirectional stream the
// peer opened, waiting at most the request timeout. A malformed message
// closes the session (PROTOCOL_VIOLATION, naming what); a stream that ends
// or stays silent first is reset both ways with code. ok is false then.
func (s *Session) readOpeningMessage(st transport.Stream, what string, code uint64) (*wire.ControlReader, wire.Message, bool) {
	st.SetReadDeadline(time.Now().Add(s.opts.requestTimeout()))
	cr := wire.NewControlReader(st, s.draft, s.lim)
	m, err := cr.Read()
	if err != nil {
		if pe, ok := wire.AsProtocolError(err); ok {
			s.protocolViolation(CodeProtocolViolation, "%s: %v", what, pe)
			return nil, nil, false
		}
		st.CancelRead(code)
		st.CancelWrite(code)
		return nil, nil, false
	}
	return cr, m, true
}

// serveNamespaceRequest serves the peer's SUBSCRIBE_NAMESPACE req, read
// from st through cr.
func (s *Session) serveNamespaceRequest(st transport.Stream, cr *wire.ControlReader, req *wire.SubscribeNamespace) {
	if !s.acceptRequestID(req.RequestID) {
		return
	}
	defer s.retireRequest()
	st.SetReadDeadline(time.Time{})
	in := &inNamespaceSub{sess: s, st: st, prefix: req.Prefix, told: map[string]bool{}}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.inNsSubs[in] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inNsSubs, in)
		s.mu.Unlock()
		in.mu.Lock()
		in.closed = true
		in.mu.Unlock()
	}()

	err := fmt.Errorf("moq: namespace subscriptions are served by relays: %w", ErrUnsupported)
	if aerr := s.authorizeRequest(RequestSubscribeNamespace, req.Prefix, "", req.Params); aerr != nil {
		err = aerr
	} else if s.handler != nil {
		err = s.handler.SubscribeNamespace(s, req.Prefix)
	}
	if err != nil {
		code, reason := s.requestErrorCode(err, opSubscribeNamespace)
		if errors.Is(err, ErrUnsupported) {
			code = s.rules.codes.notSupported
		}
		in.write(&wire.RequestError{RequestID: req.RequestID, ErrorCode: code, Reason: reason})
		st.Close()
		st.CancelRead(nsStreamCancelled)
		return
	}
	in.mu.Lock()
	ok := in.writeLocked(&wire.RequestOK{RequestID: req.RequestID})
	for _, ev := range in.queue {
		if ok {
			ok = in.sendLocked(ev)
		}
	}
	in.queue, in.ready = nil, true
	in.mu.Unlock()

	// The subscriber sends nothing more: the stream's end (or reset) ends
	// the subscription.
	m, err := cr.Read()
	if u, isUpdate := m.(*wire.SubscribeUpdate); err == nil && isUpdate && s.rules.requestStreams {
		// Draft-18 may update the prefix: not supported; the text has the
		// stream closed after the REQUEST_ERROR.
		if s.acceptRequestID(u.RequestID) {
			in.write(&wire.RequestError{RequestID: u.RequestID, ErrorCode: s.rules.codes.notSupported,
				Reason: "REQUEST_UPDATE of a SUBSCRIBE_NAMESPACE is not supported"})
			s.retireRequest()
		}
		in.mu.Lock()
		in.closed = true
		in.mu.Unlock()
		st.Close()
		st.CancelRead(nsStreamCancelled)
		if s.handler != nil && s.ctx.Err() == nil {
			s.handler.UnsubscribeNamespace(s, req.Prefix)
		}
		return
	}
	if err == nil {
		s.protocolViolation(CodeProtocolViolation, "%s after SUBSCRIBE_NAMESPACE on its stream", wire.MessageName(s.draft, m))
		return
	}
	if pe, isPE := wire.AsProtocolError(err); isPE {
		s.protocolViolation(CodeProtocolViolation, "SUBSCRIBE_NAMESPACE stream: %v", pe)
		return
	}
	st.CancelWrite(nsStreamCancelled)
	if s.handler != nil && s.ctx.Err() == nil {
		s.handler.UnsubscribeNamespace(s, req.Prefix)
	}
}

// tell reports ns (active: announced; else withdrawn) to the subscriber if
// it matches the prefix and changes what it was told.
func (in *inNamespaceSub) tell(ns Namespace, active bool) {
	if !ns.HasPrefix(in.prefix) {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	k := ns.Key()
	if in.closed || in.told[k] == active {
		return
	}
	if active {
		in.told[k] = true
	} else {
		delete(in.told, k)
	}
	ev := NamespaceEvent{Namespace: ns, Active: active}
	if !in.ready {
		in.queue = append(in.queue, ev)
		return
	}
	in.sendLocked(ev)
}

func (in *inNamespaceSub) sendLocked(ev NamespaceEvent) bool {
	suffix := slices.Clone(ev.Namespace[len(in.prefix):])
	if ev.Active {
		return in.writeLocked(&wire.NamespaceMsg{Suffix: suffix})
	}
	return in.writeLocked(&wire.NamespaceDone{Suffix: suffix})
}

func (in *inNamespaceSub) write(m wire.Message) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.writeLocked(m)
}

// writeLocked writes one message on the stream; a subscriber that does not
// read for the request timeout loses the stream.
func (in *inNamespaceSub) writeLocked(m wire.Message) bool {
	if in.closed {
		return false
	}
	s := in.sess
	b, err := wire.AppendMessage(nil, s.draft, m)
	if err != nil {
		s.log.Warn("encoding a namespace subscription message", "err", err)
		return false
	}
	in.st.SetWriteDeadline(time.Now().Add(s.opts.requestTimeout()))
	if _, err := in.st.Write(b); err != nil {
		in.closed = true
		in.st.CancelWrite(nsStreamCancelled)
		in.st.CancelRead(nsStreamCancelled)
		return false
	}
	return true
}

// offerNamespace and withdrawNamespace report a namespace we announce or
// withdraw to the peer's namespace subscriptions on streams (draft-16).
func (s *Session) offerNamespace(ns Namespace)    { s.tellNamespace(ns, true) }
func (s *Session) withdrawNamespace(ns Namespace) { s.tellNamespace(ns, false) }

func (s *Session) tellNamespace(ns Namespace, active bool) {
	if !s.rules.namespaceStreams {
		return
	}
	s.mu.Lock()
	ins := make([]*inNamespaceSub, 0, len(s.inNsSubs))
	for in := range s.inNsSubs {
		ins = append(ins, in)
	}
	s.mu.Unlock()
	for _, in := range ins {
		in.tell(ns, active)
	}
}

// isTimeout reports whether err is a stream's deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// setSubscribeOptions asks for NAMESPACE messages (not PUBLISH) in a
// draft-16 SUBSCRIBE_NAMESPACE.
func setSubscribeOptions(m *wire.SubscribeNamespace) {
	m.SubscribeOptions = wire.SubscribeOptionsNamespace
}
