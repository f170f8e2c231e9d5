package moq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Listener accepts MoQT sessions, raw QUIC and WebTransport on one UDP
// port, draft-07, draft-14, draft-16 and draft-18 alike (16 and 18
// selected by the protocols "moqt-16" / "moqt-18", the others by SETUP
// after "moq-00").
type Listener struct {
	tl     *transport.Listener
	opts   *Options
	ch     chan *Session
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Listen starts a MoQT server on addr (e.g. "127.0.0.1:4443"). opts.TLS
// must carry a certificate.
func Listen(addr string, opts *Options) (*Listener, error) {
	if opts == nil {
		opts = &Options{}
	}
	if len(opts.TLS.Certificates) == 0 {
		return nil, fmt.Errorf("moq: listen %s: no TLS certificate: %w", addr, ErrInvalid)
	}
	protos := opts.serverProtocols()
	if len(protos) == 0 {
		return nil, fmt.Errorf("moq: listen %s: Options.Drafts %v holds no known draft: %w", addr, opts.Drafts, ErrInvalid)
	}
	tl, err := transport.Listen(addr, transport.ServerOptions{
		Options:          opts.transportOptions(false),
		WebTransportPath: opts.WebTransportPath,
		Protocols:        protos,
	})
	if err != nil {
		return nil, fmt.Errorf("moq: listen %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{tl: tl, opts: opts, ch: make(chan *Session), ctx: ctx, cancel: cancel}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Addr returns the UDP address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.tl.Addr() }

// Accept returns the next session whose SETUP has completed.
func (l *Listener) Accept(ctx context.Context) (*Session, error) {
	select {
	case s := <-l.ch:
		return s, nil
	case <-l.ctx.Done():
		return nil, fmt.Errorf("moq: listener closed: %w", net.ErrClosed)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops accepting and releases the socket. Sessions already accepted
// are not closed; sessions still in SETUP are.
func (l *Listener) Close() error {
	l.cancel()
	err := l.tl.Close()
	l.wg.Wait()
	return err
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	for {
		conn, err := l.tl.Accept(l.ctx)
		if err != nil {
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			s, err := serverSetup(l.ctx, conn, l.opts)
			if err != nil {
				l.opts.logger().Debug("session setup failed", "remote", conn.RemoteAddr().String(), "err", err)
				return
			}
			select {
			case l.ch <- s:
			case <-l.ctx.Done():
				s.CloseWithError(CodeGoAwayTimeout, "server shutting down")
			}
		}()
	}
}

// serverSetup accepts the control stream, reads CLIENT_SETUP (draft-16
// when the connection negotiated "moqt-16"; otherwise its first bytes tell
// the draft family), and answers SERVER_SETUP.
func serverSetup(ctx context.Context, conn transport.Conn, opts *Options) (*Session, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.connectTimeout())
	defer cancel()
	fail := func(code uint64, format string, args ...any) (*Session, error) {
		err := fmt.Errorf(format, args...)
		conn.CloseWithError(code, err.Error())
		return nil, err
	}
	switch conn.NegotiatedProtocol() {
	case wire.Draft18.ALPN():
		return serverSetup18(ctx, conn, opts, Draft18)
	case wire.Draft20.ALPN():
		return serverSetup18(ctx, conn, opts, Draft20)
	}
	ctrl, err := conn.AcceptStream(ctx)
	if err != nil {
		conn.CloseWithError(CodeProtocolViolation, "no control stream")
		return nil, fmt.Errorf("moq: accept control stream: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		ctrl.SetReadDeadline(dl)
	}
	if conn.NegotiatedProtocol() == wire.Draft16.ALPN() {
		return serverSetupOn(conn, ctrl, wire.NewControlReader(ctrl, wire.Draft16, opts.limits()), wire.Draft16, opts)
	}
	cr := wire.NewControlReader(ctrl, wire.Draft14, opts.limits())
	first, err := cr.Peek(1)
	if err != nil {
		return fail(CodeProtocolViolation, "moq: read CLIENT_SETUP: %v", err)
	}
	fam, err := wire.SetupFamily(first)
	if errors.Is(err, wire.ErrNeedMore) {
		if first, err = cr.Peek(2); err == nil {
			fam, err = wire.SetupFamily(first)
		}
	}
	if err != nil {
		return fail(CodeProtocolViolation, "moq: not a CLIENT_SETUP: %v", err)
	}
	draft := fam
	if fam.Is07() {
		draft = opts.draft07Layout()
	}
	cr.SetDraft(draft)
	return serverSetupOn(conn, ctrl, cr, draft, opts)
}

// serverSetupOn reads CLIENT_SETUP of draft from cr, checks the version
// (drafts that negotiate it in SETUP) and answers SERVER_SETUP.
func serverSetupOn(conn transport.Conn, ctrl transport.Stream, cr *wire.ControlReader, draft wire.Draft, opts *Options) (*Session, error) {
	fail := func(code uint64, format string, args ...any) (*Session, error) {
		err := fmt.Errorf(format, args...)
		conn.CloseWithError(code, err.Error())
		return nil, err
	}
	m, err := cr.Read()
	if err != nil {
		return fail(CodeProtocolViolation, "moq: read CLIENT_SETUP: %v", err)
	}
	cs, ok := m.(*wire.ClientSetup)
	if !ok {
		return fail(CodeProtocolViolation, "moq: expected CLIENT_SETUP, got %s", wire.MessageName(draft, m))
	}
	offered := !draft.VersionInSetup() || slices.Contains(cs.Versions, draft.Version())
	if !offered || !opts.accepts(draft) {
		code := CodeVersionNegotiationFailed
		if draft.Is07() {
			code = CodeProtocolViolation
		}
		return fail(code, "moq: no common version (client offered %x)", cs.Versions)
	}
	ctrl.SetReadDeadline(time.Time{})
	s := newSession(conn, ctrl, draft, opts, true)
	s.ctrlReader = cr
	if code, err := s.acceptClientSetup(cs.Params); err != nil {
		return fail(code, "%v", err)
	}
	ss := &wire.ServerSetup{Params: s.setupParams(false)}
	if draft.VersionInSetup() {
		ss.Version = draft.Version()
	}
	if err := s.send(ss); err != nil {
		conn.CloseWithError(CodeInternalError, "")
		return nil, err
	}
	s.start()
	return s, nil
}

// acceptClientSetup applies the client's SETUP parameters on a server
// session: the path, the peer's limits, its authorization tokens. An error
// comes with the session close code to refuse the client with.
func (s *Session) acceptClientSetup(ps wire.Params) (uint64, error) {
	s.path = s.conn.Path()
	if p, ok := ps.Get(wire.SetupPath); ok && s.conn.Protocol() == transport.ProtocolQUIC {
		s.path = string(p.Bytes)
	}
	if err := s.readPeerSetup(ps); err != nil {
		return CodeProtocolViolation, err
	}
	toks, code, err := readTokens(s.draft, true, ps)
	if err != nil {
		name := "CLIENT_SETUP"
		if s.rules.requestStreams {
			name = "SETUP"
		}
		return code, fmt.Errorf("moq: %s authorization token: %v", name, err)
	}
	s.setupTokens = toks
	return 0, nil
}

// GoAway asks the client to move to newURI ("" = reconnect to the same
// URL), then closes the session with GOAWAY_TIMEOUT after drain unless the
// client closes it first. Only servers send GOAWAY in draft-07.
func (s *Session) GoAway(newURI string, drain time.Duration) error {
	if !s.isServer && s.draft.Is07() {
		return fmt.Errorf("moq: draft-07 clients cannot send GOAWAY: %w", ErrUnsupported)
	}
	if !s.isServer && newURI != "" {
		return fmt.Errorf("moq: a client's GOAWAY carries no URI: %w", ErrInvalid)
	}
	s.mu.Lock()
	if s.goAwaySent {
		s.mu.Unlock()
		return nil
	}
	s.goAwaySent = true
	ga := &wire.GoAway{NewSessionURI: newURI}
	if s.rules.requestStreams {
		// Draft-18: the drain time, and the smallest of the peer's Request
		// IDs not processed (every later request is refused GOING_AWAY).
		ga.Timeout = uint64(drain.Milliseconds())
		ga.RequestID, ga.HasRequestID = s.peerNextReqID, true
	}
	s.mu.Unlock()
	if err := s.send(ga); err != nil {
		return err
	}
	go func() {
		t := time.NewTimer(drain)
		defer t.Stop()
		select {
		case <-t.C:
			s.CloseWithError(CodeGoAwayTimeout, "GOAWAY drain time over")
		case <-s.done:
		}
	}()
	return nil
}
