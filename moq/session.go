package moq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Session is one MoQT session over one connection, on either side. It can
// publish and subscribe at once. All methods are safe for concurrent use.
type Session struct {
	conn      transport.Conn
	draft     wire.Draft
	rules     draftRules // what the engine does differently in this draft
	opts      *Options
	log       *slog.Logger
	lim       *wire.Limits
	isServer  bool
	handler   Handler
	path      string // the URL path the client asked for
	authority string // client over raw QUIC: the URL's host[:port]
	// setupTokens are the client's CLIENT_SETUP tokens (server sessions).
	setupTokens []AuthToken

	ctrl       transport.SendStream // our control stream (18: unidirectional)
	ctrlReader *wire.ControlReader
	ctrlMu     sync.Mutex // serialises control writes
	reqMu      sync.Mutex // held from a request ID's allocation until its request is written
	wbuf       []byte

	ctx    context.Context // cancelled when the session ends
	cancel context.CancelFunc

	mu sync.Mutex
	// Outgoing requests.
	nextReqID    uint64 // our next request ID
	peerMaxReqID uint64 // we may use request IDs below this
	creditCh     chan struct{}
	blockedSent  uint64 // REQUESTS_BLOCKED already sent for this maximum
	pending      map[uint64]*pendingReq
	pending07    map[string]*pendingReq // draft-07 requests keyed by namespace or track
	subs         map[uint64]*Subscription
	subsByAlias  map[uint64]*Subscription
	aliasCh      chan struct{} // closed and replaced when an alias is registered
	fetches      map[uint64]*FetchStream
	nextAlias    uint64 // draft-07: aliases we choose for our subscriptions
	announced    map[string]Namespace
	announcedID  map[string]uint64 // request IDs of announced (14, 16)
	nsSubs       map[string]*NamespaceSubscription
	inNsSubs     map[*inNamespaceSub]struct{} // the peer's namespace subscriptions on streams (16)
	peerSkipped  map[uint64]bool              // request IDs the peer skipped, still usable (16)
	peerNS       map[string]Namespace         // namespaces the peer announced to us
	peerNSByID   map[uint64]Namespace         // the same by request ID (14, 16)
	// Incoming requests.
	peerNextReqID uint64 // the next request ID the peer may use
	grantedMax    uint64 // our MAX_REQUEST_ID to the peer (exclusive)
	peerOpen      uint64 // the peer's requests still in progress
	open07        uint64 // draft-07: the peer's ID-less requests in progress (acceptOther)
	inSubs        map[uint64]*subscriber
	inAlias       uint64 // draft-14: aliases we assign as publisher
	inFetches     map[uint64]context.CancelFunc
	fills         atomic.Int32 // draft-20 fill fetch streams being sent (draft20.go)
	// reqStreams are the request streams of draft-18 by Request ID: ours,
	// the peer's, and the peer's REQUEST_UPDATE IDs while unanswered.
	reqStreams map[uint64]*reqStream
	// Published tracks served by the built-in handler.
	tracks map[string]*Track

	goAwayRecv bool
	goAwaySent bool
	closing    bool
	closeErr   error
	done       chan struct{}
	wg         sync.WaitGroup
}

type pendingReq struct {
	op string
	ch chan wire.Message // buffered, 1
}

// Draft returns the session's negotiated draft and layout.
func (s *Session) Draft() Draft { return s.draft }

// Protocol returns "quic" or "webtransport".
func (s *Session) Protocol() string { return string(s.conn.Protocol()) }

// Path returns the URL path the client connected to (WebTransport URL path,
// or the PATH setup parameter on raw QUIC).
func (s *Session) Path() string { return s.path }

// RemoteAddr returns the peer's address.
func (s *Session) RemoteAddr() string { return s.conn.RemoteAddr().String() }

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended, or nil while it is open.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr
}

// Context returns a context cancelled when the session ends.
func (s *Session) Context() context.Context { return s.ctx }

// sessCtx is s.ctx, or a background context for a Session built bare (in
// unit tests).
func (s *Session) sessCtx() context.Context {
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}

// ConnStats are a connection's QUIC statistics: RTT, bytes and packets sent,
// received and lost.
type ConnStats = transport.Stats

// ConnStats returns the connection's statistics.
func (s *Session) ConnStats() ConnStats { return s.conn.Stats() }

func newSession(conn transport.Conn, ctrl transport.SendStream, draft wire.Draft, opts *Options, isServer bool) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		conn:        conn,
		draft:       draft,
		rules:       rulesFor(draft),
		opts:        opts,
		log:         opts.logger().With("draft", draft.String(), "transport", string(conn.Protocol())),
		lim:         opts.limits(),
		isServer:    isServer,
		handler:     opts.Handler,
		ctrl:        ctrl,
		ctx:         ctx,
		cancel:      cancel,
		creditCh:    make(chan struct{}),
		pending:     map[uint64]*pendingReq{},
		pending07:   map[string]*pendingReq{},
		subs:        map[uint64]*Subscription{},
		subsByAlias: map[uint64]*Subscription{},
		aliasCh:     make(chan struct{}),
		fetches:     map[uint64]*FetchStream{},
		announced:   map[string]Namespace{},
		announcedID: map[string]uint64{},
		peerNSByID:  map[uint64]Namespace{},
		nsSubs:      map[string]*NamespaceSubscription{},
		inNsSubs:    map[*inNamespaceSub]struct{}{},
		peerSkipped: map[uint64]bool{},
		peerNS:      map[string]Namespace{},
		inSubs:      map[uint64]*subscriber{},
		inFetches:   map[uint64]context.CancelFunc{},
		tracks:      map[string]*Track{},
		reqStreams:  map[uint64]*reqStream{},
		done:        make(chan struct{}),
	}
	if s.rules.requestStreams {
		// No MAX_REQUEST_ID: the peer's stream limits bound requests.
		s.peerMaxReqID = math.MaxUint64
	}
	if s.rules.requestIDs {
		if isServer {
			s.nextReqID, s.peerNextReqID = 1, 0
		} else {
			s.nextReqID, s.peerNextReqID = 0, 1
		}
	}
	s.grantedMax = s.initialGrant()
	if s.rules.requestStreams {
		s.grantedMax = math.MaxUint64
	}
	return s
}

// reqStep is the distance between consecutive request IDs of one side.
func (s *Session) reqStep() uint64 {
	if s.rules.requestIDs {
		return 2
	}
	return 1
}

// initialGrant is the MAX_REQUEST_ID / MAX_SUBSCRIBE_ID we send in SETUP.
func (s *Session) initialGrant() uint64 {
	return s.peerNextReqID + s.opts.maxRequestID()*s.reqStep()
}

func (s *Session) setupParams(client bool) wire.Params {
	var ps wire.Params
	if s.draft.Is07() {
		ps = append(ps, wire.IntParam(wire.SetupRole, wire.RolePubSub))
	}
	if !s.rules.requestStreams {
		ps = append(ps, wire.IntParam(wire.SetupMaxRequestID, s.grantedMax))
	}
	if client && s.conn.Protocol() == transport.ProtocolQUIC {
		// PATH is path-abempty plus query: sent even when empty.
		ps = append(ps, wire.BytesParam(wire.SetupPath, []byte(s.path)))
		if s.rules.sendAuthority && s.authority != "" {
			ps = append(ps, wire.BytesParam(wire.SetupAuthority, []byte(s.authority)))
		}
	}
	if !s.draft.Is07() {
		impl := s.opts.Implementation
		if impl == "" {
			impl = "moq-ffi-go"
		}
		ps = append(ps, wire.BytesParam(wire.SetupImplementation, []byte(impl)))
	}
	if client {
		ps = append(ps, s.authParams(true, "")...)
	}
	return ps
}

// Dial connects to a MoQT server or relay and completes SETUP. url is
// https://host[:port]/path (WebTransport) or moqt://host[:port]/path (raw
// QUIC). ctx bounds the whole call, as does opts.ConnectTimeout.
//
// The first connection offers every protocol the allowed drafts need
// (opts.Drafts): "moqt-18" for Draft18, "moqt-16" for Draft16, "moq-00" for
// the drafts that negotiate their version in SETUP (14, 07); the server
// picks. On "moqt-18" / "moqt-16" the session runs that draft (18: SETUP on
// a pair of unidirectional streams). On "moq-00" the SETUP drafts are tried in
// order, the first on that connection, each further one on a fresh
// connection offering "moq-00" alone (draft-07 and draft-14 SETUP messages
// cannot be combined).
func Dial(ctx context.Context, rawURL string, opts *Options) (*Session, error) {
	if opts == nil {
		opts = &Options{}
	}
	u, err := CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	drafts := opts.clientDrafts()
	for _, d := range drafts {
		if !knownDraft(d) {
			return nil, fmt.Errorf("moq: unknown draft %v in Options.Drafts: %w", d, ErrInvalid)
		}
	}
	if err := validToken(opts.AuthToken); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.connectTimeout())
	defer cancel()
	var errs []error
	fail := func() (*Session, error) {
		if ctx.Err() != nil && !errors.Is(errors.Join(errs...), ErrTimeout) {
			errs = append(errs, ErrTimeout)
		}
		return nil, fmt.Errorf("moq: connect %s: %w", rawURL, errors.Join(errs...))
	}
	protos := protocolsFor(drafts)
	conn, err := dialConn(ctx, rawURL, opts, protos)
	if err != nil {
		errs = append(errs, fmt.Errorf("offering %q: %w", protos, err))
		return fail()
	}
	var setupDrafts []Draft // drafts that negotiate in SETUP, in order
	for _, d := range drafts {
		if d.VersionInSetup() {
			setupDrafts = append(setupDrafts, d)
		}
	}
	switch got := conn.NegotiatedProtocol(); {
	case got == wire.Draft20.ALPN() && slices.Contains(drafts, Draft20),
		got == wire.Draft18.ALPN() && slices.Contains(drafts, Draft18):
		d := Draft18
		if got == wire.Draft20.ALPN() {
			d = Draft20
		}
		s, err := setupOn(ctx, conn, u, d, opts)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("draft %s: %w", d, err))
		return fail()
	case got == wire.Draft16.ALPN() && slices.Contains(drafts, Draft16):
		s, err := setupOn(ctx, conn, u, Draft16, opts)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("draft %s: %w", Draft16, err))
		return fail()
	case got != wire.Draft14.ALPN() || len(setupDrafts) == 0:
		conn.CloseWithError(CodeVersionNegotiationFailed, "no common protocol")
		errs = append(errs, fmt.Errorf("%w: offered %q, the server chose %q", ErrVersion, protos, got))
		return fail()
	}
	for i, d := range setupDrafts {
		if i > 0 {
			if conn, err = dialConn(ctx, rawURL, opts, []string{d.ALPN()}); err != nil {
				errs = append(errs, fmt.Errorf("draft %s: %w", d, err))
				break
			}
		}
		s, err := setupOn(ctx, conn, u, d, opts)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("draft %s: %w", d, err))
		if !errors.Is(err, ErrVersion) || ctx.Err() != nil {
			break
		}
	}
	return fail()
}

// protocolsFor lists the protocols (ALPN / WebTransport protocol values)
// that drafts need, in the order the drafts first need them.
func protocolsFor(drafts []Draft) []string {
	var ps []string
	for _, d := range drafts {
		if p := d.ALPN(); !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// dialConn opens a connection offering protos.
func dialConn(ctx context.Context, rawURL string, opts *Options, protos []string) (transport.Conn, error) {
	topts := opts.transportOptions(true)
	topts.Protocols = protos
	if strings.HasPrefix(strings.ToLower(rawURL), "https:") && !slices.Contains(protos, wire.Draft16.ALPN()) &&
		!slices.Contains(protos, wire.Draft18.ALPN()) && !slices.Contains(protos, wire.Draft20.ALPN()) {
		// WebTransport without draft-16 or 18: no WT-Available-Protocols at all,
		// as before protocol negotiation (servers of those drafts need
		// none, and some may not expect the header).
		topts.Protocols = nil
	}
	conn, err := transport.Dial(ctx, rawURL, topts)
	if err != nil {
		// QUIC's handshake timer (the same duration) may fire just before
		// the context's deadline: both are a timeout.
		if ctx.Err() != nil || errors.Is(err, transport.ErrHandshakeTimeout) {
			return nil, fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		if errors.Is(err, transport.ErrNoCommonProtocol) {
			return nil, fmt.Errorf("%w: %w", ErrVersion, err)
		}
		return nil, err
	}
	return conn, nil
}

// setupOn runs the client's SETUP for draft d on conn; on failure conn is
// closed.
func setupOn(ctx context.Context, conn transport.Conn, u *url.URL, d wire.Draft, opts *Options) (*Session, error) {
	var ctrl transport.SendStream
	var in transport.ReceiveStream
	var err error
	if rulesFor(d).requestStreams {
		ctrl, err = conn.OpenUniStreamSync(ctx)
	} else {
		var st transport.Stream
		st, err = conn.OpenStreamSync(ctx)
		ctrl, in = st, st
	}
	if err != nil {
		conn.CloseWithError(CodeInternalError, "")
		return nil, setupErr(ctx, "open control stream", err)
	}
	s := newSession(conn, ctrl, d, opts, false)
	if u.Scheme == "moqt" {
		s.authority = u.Host
		s.path = u.EscapedPath()
		if u.RawQuery != "" {
			s.path += "?" + u.RawQuery
		}
	} else {
		s.path = conn.Path()
	}
	if s.rules.requestStreams {
		err = s.clientSetup18(ctx)
	} else {
		err = s.clientSetup(ctx, in)
	}
	if err != nil {
		conn.CloseWithError(CodeProtocolViolation, "setup failed")
		return nil, err
	}
	s.start()
	return s, nil
}

func setupErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w: %w", what, ErrTimeout, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (s *Session) clientSetup(ctx context.Context, in transport.ReceiveStream) error {
	cs := &wire.ClientSetup{Params: s.setupParams(true)}
	if s.draft.VersionInSetup() {
		cs.Versions = []uint64{s.draft.Version()}
	}
	if err := s.send(cs); err != nil {
		return setupErr(ctx, "send CLIENT_SETUP", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		in.SetReadDeadline(dl)
	}
	cr := wire.NewControlReader(in, s.draft, s.lim)
	m, err := cr.Read()
	if err != nil {
		cerr := s.closeReason(ctx, err)
		var ae *transport.ApplicationError
		if errors.As(cerr, &ae) && ae.Remote && refusalCode(ae.Code) {
			// Refused (unauthorized, bad path): another draft will not help.
			return fmt.Errorf("moq: the server refused the session: %w", connSessionError(cerr))
		}
		// The server closed or reset without answering: most often a server
		// that does not speak this draft. Let Dial try the next one.
		return fmt.Errorf("%w: no SERVER_SETUP: %w", ErrVersion, cerr)
	}
	in.SetReadDeadline(time.Time{})
	ss, ok := m.(*wire.ServerSetup)
	if !ok {
		return fmt.Errorf("%w: expected SERVER_SETUP, got %s", ErrVersion, wire.MessageName(s.draft, m))
	}
	if s.draft.VersionInSetup() && ss.Version != s.draft.Version() {
		return fmt.Errorf("%w: server selected version %#x, offered %#x", ErrVersion, ss.Version, s.draft.Version())
	}
	if err := s.readPeerSetup(ss.Params); err != nil {
		return err
	}
	s.ctrlReader = cr
	return nil
}

// readPeerSetup applies the peer's SETUP parameters.
func (s *Session) readPeerSetup(ps wire.Params) error {
	if s.draft.Is07() {
		role, ok := ps.Int(wire.SetupRole)
		if ok && (role < wire.RolePublisher || role > wire.RolePubSub) {
			return fmt.Errorf("moq: peer sent invalid ROLE %d", role)
		}
	}
	if v, ok := ps.Int(wire.SetupMaxRequestID); ok {
		s.peerMaxReqID = v
	}
	return nil
}

// connErrOr returns the connection's close error if it has one, else err.
// closeReason is why the connection ended, when a read during setup failed:
// it waits a little (at most setupCloseWait, within ctx) for the connection
// to report its close, which may come just after the stream's end.
func (s *Session) closeReason(ctx context.Context, err error) error {
	t := time.NewTimer(setupCloseWait)
	defer t.Stop()
	select {
	case <-s.conn.Done():
	case <-t.C:
	case <-ctx.Done():
	}
	return s.connErrOr(err)
}

// refusalCode reports whether a session close code refuses the client
// (rather than its draft): Unauthorized, bad path or authority, auth token
// errors.
func refusalCode(c uint64) bool {
	return c == 0x2 || c == 0x8 || c == 0x9 || (c >= 0x13 && c <= 0x1A && c != 0x15)
}

func (s *Session) connErrOr(err error) error {
	select {
	case <-s.conn.Done():
		if cerr := s.conn.Err(); cerr != nil {
			return cerr
		}
	default:
	}
	return err
}

// start launches the session's goroutines.
func (s *Session) start() {
	s.wg.Add(3)
	go s.controlLoop()
	go s.uniLoop()
	go s.datagramLoop()
	if s.rules.namespaceStreams {
		s.wg.Add(1)
		go s.bidiLoop()
	}
	go func() {
		select {
		case <-s.conn.Done():
			s.closeWith(connSessionError(s.conn.Err()), false)
		case <-s.done:
		}
	}()
}

// connSessionError converts the error of a closed connection.
func connSessionError(err error) *SessionError {
	var ae *transport.ApplicationError
	if errors.As(err, &ae) {
		return &SessionError{Code: ae.Code, Reason: ae.Reason, Local: !ae.Remote, Err: err}
	}
	// An idle timeout is this side's decision; the peer closed nothing.
	return &SessionError{Code: CodeInternalError, Err: err, Local: errors.Is(err, ErrIdleTimeout)}
}

// Bounds of Close's flush of published data.
const (
	closeDrain = 2 * time.Second
	closeGrace = 500 * time.Millisecond
)

// connCloseWait bounds how long the control loop waits, after a read error
// that is not a stream reset, for the connection to report its close.
const connCloseWait = time.Second

// setupCloseWait is connCloseWait during setup, where it delays trying the
// next draft against a server that ends the stream but not the connection.
const setupCloseWait = 250 * time.Millisecond

// send writes one control message.
func (s *Session) send(m wire.Message) error {
	if s.rules.requestStreams {
		return s.send18(m)
	}
	return s.sendControl(m)
}

// sendControl writes one message on the control stream.
func (s *Session) sendControl(m wire.Message) error {
	m = s.rules.specialize(m)
	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	b, err := wire.AppendMessage(s.wbuf[:0], s.draft, m)
	if err != nil {
		return fmt.Errorf("moq: encode %s: %w", wire.MessageName(s.draft, m), err)
	}
	s.wbuf = b
	if _, err := s.ctrl.Write(b); err != nil {
		return fmt.Errorf("moq: write %s: %w", wire.MessageName(s.draft, m), s.connErrOr(err))
	}
	return nil
}

// sendOrClose sends m; a failure ends the session.
func (s *Session) sendOrClose(m wire.Message) {
	if err := s.send(m); err != nil {
		s.closeWith(&SessionError{Code: CodeInternalError, Local: true, Err: err}, true)
	}
}

// Close ends the session gracefully: it ends its subscriptions, sends the
// objects already published (Close waits at most closeDrain for
// subscribers' queues to be written, then for the connection to go quiet,
// a few round trips with nothing sent, at most closeGrace more: closing a
// QUIC connection discards unacknowledged data), withdraws announced
// namespaces and closes the connection with NO_ERROR.
func (s *Session) Close() error {
	s.mu.Lock()
	closed := s.closing
	var nss []*wire.PublishNamespaceDone
	for k, ns := range s.announced {
		nss = append(nss, &wire.PublishNamespaceDone{Namespace: ns, RequestID: s.announcedID[k]})
	}
	var subs []*Subscription
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	var senders []*subscriber
	for _, in := range s.inSubs {
		senders = append(senders, in)
	}
	s.mu.Unlock()
	if closed {
		return nil
	}
	// A peer that stopped reading the control stream must not hold Close.
	s.ctrl.SetWriteDeadline(time.Now().Add(closeDrain + closeGrace))
	// What we receive stops first: acknowledging it would keep the
	// connection from going quiet below.
	for _, sub := range subs {
		s.send(&wire.Unsubscribe{RequestID: sub.reqID})
	}
	if len(senders) > 0 {
		deadline := time.Now().Add(closeDrain)
		for _, in := range senders {
			if in.track != nil {
				in.waitDrained(deadline)
			}
		}
		s.waitQuiet(deadline.Add(closeGrace))
	}
	for _, m := range nss {
		s.send(m)
	}
	s.closeWith(&SessionError{Code: CodeNoError, Local: true, Reason: "closed"}, true)
	return nil
}

// waitQuiet waits until the connection has sent nothing for a few round
// trips, the session ends, or deadline. Written data leaves as fast as
// congestion control allows, and a lost packet is sent again within a
// probe timeout (about three round trips): so a connection quiet that long
// has had its data acknowledged.
func (s *Session) waitQuiet(deadline time.Time) {
	last := s.conn.Stats().BytesSent
	for {
		grace := min(max(3*s.conn.Stats().SmoothedRTT+10*time.Millisecond, 10*time.Millisecond), closeGrace)
		wait := min(grace, time.Until(deadline))
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return
		}
		now := s.conn.Stats().BytesSent
		if now == last {
			return
		}
		last = now
	}
}

// CloseWithError closes the session at once with a MoQT error code.
func (s *Session) CloseWithError(code uint64, reason string) {
	s.closeWith(&SessionError{Code: code, Reason: reason, Local: true}, true)
}

// closeWith ends the session once: records err, closes the connection
// (with err's code when closeConn), fails pending requests, ends
// subscriptions and subscribers, and waits for nothing.
func (s *Session) closeWith(err *SessionError, closeConn bool) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	s.closeErr = err
	pend := s.pending
	s.pending = map[uint64]*pendingReq{}
	for k, p := range s.pending07 {
		pend[^uint64(0)-uint64(len(pend))] = p
		delete(s.pending07, k)
	}
	subs := s.subs
	s.subs = map[uint64]*Subscription{}
	fetches := s.fetches
	s.fetches = map[uint64]*FetchStream{}
	inSubs := s.inSubs
	s.inSubs = map[uint64]*subscriber{}
	nsSubs := s.nsSubs
	s.nsSubs = map[string]*NamespaceSubscription{}
	for _, c := range s.inFetches {
		c()
	}
	s.mu.Unlock()

	if closeConn {
		s.conn.CloseWithError(err.Code, err.Reason)
	}
	s.cancel()
	for _, p := range pend {
		close(p.ch)
	}
	for _, sub := range subs {
		sub.finish(err)
	}
	for _, f := range fetches {
		f.finish(err)
	}
	for _, in := range inSubs {
		in.detach(false, 0, "")
	}
	for _, n := range nsSubs {
		n.finish(err)
	}
	if err.Code != CodeNoError || !err.Local {
		s.log.Debug("session closed", "err", err)
	}
	close(s.done)
	if s.handler != nil {
		go s.handler.SessionClosed(s, err)
	}
}

// protocolViolation closes the session because the peer broke the protocol.
func (s *Session) protocolViolation(code uint64, format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	s.log.Warn("closing session: protocol violation", "reason", reason)
	s.closeWith(&SessionError{Code: code, Reason: reason, Local: true}, true)
}

// register creates a pending request entry for request ID id.
func (s *Session) register(id uint64, op string) *pendingReq {
	p := &pendingReq{op: op, ch: make(chan wire.Message, 1)}
	s.pending[id] = p
	return p
}

func (s *Session) register07(key, op string) (*pendingReq, error) {
	if _, dup := s.pending07[key]; dup {
		return nil, fmt.Errorf("moq: a %s for this name is already in progress: %w", op, ErrInvalid)
	}
	p := &pendingReq{op: op, ch: make(chan wire.Message, 1)}
	s.pending07[key] = p
	return p, nil
}

// await waits for the response to p, bounded by ctx and the request
// timeout. cleanup runs (under s.mu) when it gives up.
func (s *Session) await(ctx context.Context, p *pendingReq, cleanup func()) (wire.Message, error) {
	t := time.NewTimer(s.opts.requestTimeout())
	defer t.Stop()
	select {
	case m, ok := <-p.ch:
		if !ok {
			return nil, fmt.Errorf("moq: %s: %w", p.op, s.Err())
		}
		return m, nil
	case <-ctx.Done():
		s.mu.Lock()
		cleanup()
		s.mu.Unlock()
		return nil, fmt.Errorf("moq: %s: %w", p.op, ctxErr(ctx))
	case <-t.C:
		s.mu.Lock()
		cleanup()
		s.mu.Unlock()
		return nil, fmt.Errorf("moq: %s: %w: no answer within %v", p.op, ErrTimeout, s.opts.requestTimeout())
	}
}

// ctxErr is ctx's error, wrapping ErrTimeout when its deadline passed (a
// cancellation is not a timeout).
func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return ctx.Err()
}

// sendRequest sends the request m and releases the request lock with
// unlock; when the send fails it runs cleanup (which forgets the pending
// request) under s.mu.
func (s *Session) sendRequest(m wire.Message, unlock, cleanup func()) error {
	err := s.send(m)
	unlock()
	if err != nil {
		s.mu.Lock()
		cleanup()
		s.mu.Unlock()
	}
	return err
}

// lockRequests serialises new requests, so that request IDs go out in the
// order they were allocated (the peer requires it). The caller holds it from
// allocRequestID until the request is written, and calls the returned
// function (idempotent) then; a deferred call covers early returns.
func (s *Session) lockRequests() func() {
	s.reqMu.Lock()
	return sync.OnceFunc(s.reqMu.Unlock)
}

// allocRequestID returns our next request ID, waiting for credit from the
// peer if needed. Called without s.mu held.
func (s *Session) allocRequestID(ctx context.Context) (uint64, error) {
	t := time.NewTimer(s.opts.requestTimeout())
	defer t.Stop()
	for {
		s.mu.Lock()
		if s.closing {
			err := s.closeErr
			s.mu.Unlock()
			return 0, err
		}
		if s.nextReqID < s.peerMaxReqID {
			id := s.nextReqID
			s.nextReqID += s.reqStep()
			s.mu.Unlock()
			return id, nil
		}
		ch := s.creditCh
		sendBlocked := s.rules.requestIDs && s.blockedSent != s.peerMaxReqID+1
		max := s.peerMaxReqID
		if sendBlocked {
			s.blockedSent = max + 1
		}
		s.mu.Unlock()
		if sendBlocked {
			s.send(&wire.RequestsBlocked{MaximumRequestID: max})
		}
		select {
		case <-ch:
		case <-s.done:
		case <-ctx.Done():
			return 0, fmt.Errorf("moq: waiting for request credit from the peer: %w", ctxErr(ctx))
		case <-t.C:
			return 0, fmt.Errorf("moq: waiting for request credit from the peer (maximum %d): %w", max, ErrTimeout)
		}
	}
}

// controlLoop reads and dispatches the peer's control messages.
func (s *Session) controlLoop() {
	defer s.wg.Done()
	for {
		m, err := s.ctrlReader.Read()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if pe, ok := wire.AsProtocolError(err); ok {
				s.protocolViolation(CodeProtocolViolation, "%v", pe)
				return
			}
			if errors.Is(err, io.EOF) {
				s.protocolViolation(CodeProtocolViolation, "control stream closed by the peer")
				return
			}
			var se *transport.StreamError
			if !errors.As(err, &se) {
				// The connection is going down: the stream's error races
				// the connection's, which tells the peer's code and reason.
				t := time.NewTimer(connCloseWait)
				select {
				case <-s.conn.Done():
				case <-s.done:
				case <-t.C:
				}
				t.Stop()
				if cerr := s.conn.Err(); cerr != nil {
					s.closeWith(connSessionError(cerr), false)
					return
				}
			}
			s.closeWith(&SessionError{Code: CodeInternalError, Err: s.connErrOr(err)}, true)
			return
		}
		if _, ok := m.(*wire.GoAway); s.rules.requestStreams && !ok {
			// Draft-18: requests and their answers have streams of their own.
			s.protocolViolation(CodeProtocolViolation, "%s on the control stream", wire.MessageName(s.draft, m))
			return
		}
		s.dispatch(m)
		if s.ctx.Err() != nil {
			return
		}
	}
}

// uniLoop accepts the peer's unidirectional (data) streams (data.go).
func (s *Session) uniLoop() {
	defer s.wg.Done()
	s.acceptDataStreams()
}

// datagramLoop receives the peer's datagrams.
func (s *Session) datagramLoop() {
	defer s.wg.Done()
	for {
		b, err := s.conn.ReceiveDatagram(s.ctx)
		if err != nil {
			return
		}
		s.handleDatagram(b)
	}
}

// Wait blocks until the session has ended and its goroutines have stopped.
func (s *Session) Wait() {
	<-s.done
	s.wg.Wait()
}
