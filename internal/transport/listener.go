package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dunglas/httpsfv"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/webtransport-go"
)

// maxPendingConns bounds connections that completed their handshake (raw
// QUIC) or CONNECT (WebTransport) but wait for Accept. More are refused.
const maxPendingConns = 256

// Codes the listener closes connections with.
const (
	closeCodeListenerClosed = 0 // reason "listener closed"
	closeCodeBusy           = 0 // reason "too many connections waiting for accept"
)

type quicConnKey struct{}

// Listener accepts raw QUIC (ALPN moqt-16 or moq-00, as configured) and
// WebTransport (ALPN h3) connections on one UDP socket, dispatching on the
// negotiated ALPN.
type Listener struct {
	opts      ServerOptions
	protocols []string // MoQT protocols accepted, in order of preference
	udp       *net.UDPConn
	tr        *quic.Transport
	ln        *quic.EarlyListener
	wt        *webtransport.Server

	accepted chan Conn
	closing  chan struct{}

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup // accept loop and per-connection handlers
	pending   atomic.Int64

	mu    sync.Mutex
	conns map[*quic.Conn]struct{} // open raw QUIC connections
}

// Listen opens a UDP socket on addr (host:port; port 0 picks one) and serves
// MoQT over raw QUIC and over WebTransport on it. opts.TLS.Certificates must
// hold the server certificate. WebTransport accepts extended CONNECT
// requests at opts.WebTransportPath (any path if empty; others get 404),
// subject to opts.CheckOrigin (403 when it refuses).
func Listen(addr string, opts ServerOptions) (*Listener, error) {
	if len(opts.TLS.Certificates) == 0 {
		return nil, fmt.Errorf("transport: listen %s: no TLS certificate (ServerOptions.TLS.Certificates)", addr)
	}
	opts.Options = opts.Options.withDefaults()
	udpAddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	udp, err := net.ListenUDP("udp", udpAddr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	protocols := opts.protocols()
	for _, p := range protocols {
		if p == "" || p == ALPNH3 {
			_ = udp.Close()
			return nil, fmt.Errorf("transport: listen %s: invalid MoQT protocol %q", addr, p)
		}
	}
	tr := &quic.Transport{Conn: udp}
	tlsConf := &tls.Config{
		Certificates: opts.TLS.Certificates,
		// crypto/tls picks the first of these the client offers: the
		// server's preference decides.
		NextProtos: append(slices.Clone(protocols), ALPNH3),
		MinVersion: tls.VersionTLS13,
	}
	ln, err := tr.ListenEarly(tlsConf, opts.quicConfig())
	if err != nil {
		_ = tr.Close()
		_ = udp.Close()
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	l := &Listener{
		opts:      opts,
		protocols: protocols,
		udp:       udp,
		tr:        tr,
		ln:        ln,
		accepted:  make(chan Conn),
		closing:   make(chan struct{}),
		conns:     make(map[*quic.Conn]struct{}),
	}
	h3 := &http3.Server{
		Handler: http.HandlerFunc(l.serveWebTransport),
		ConnContext: func(ctx context.Context, qc *quic.Conn) context.Context {
			return context.WithValue(ctx, quicConnKey{}, qc)
		},
	}
	// Advertises WebTransport and datagrams in SETTINGS (browsers need it).
	webtransport.ConfigureHTTP3Server(h3)
	l.wt = &webtransport.Server{
		H3: h3,
		// serveWebTransport applies opts.CheckOrigin itself.
		CheckOrigin:          func(*http.Request) bool { return true },
		ApplicationProtocols: slices.Clone(protocols),
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Addr returns the local address of the UDP socket.
func (l *Listener) Addr() net.Addr { return l.udp.LocalAddr() }

// Accept waits for the next connection: a raw QUIC connection after its
// handshake, or a WebTransport session after its CONNECT was answered 200.
// After Close it returns an error wrapping net.ErrClosed.
func (l *Listener) Accept(ctx context.Context) (Conn, error) {
	select {
	case <-l.closing:
		return nil, l.errClosed()
	default:
	}
	select {
	case c := <-l.accepted:
		return c, nil
	case <-l.closing:
		return nil, l.errClosed()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *Listener) errClosed() error {
	return fmt.Errorf("transport: listener on %s closed: %w", l.udp.LocalAddr(), net.ErrClosed)
}

// Close stops accepting and closes the UDP socket. Connections on the socket
// cannot outlive it: Close first ends those still open, accepted or not,
// with CONNECTION_CLOSE (code 0, "listener closed") so that peers learn at
// once. Close accepted Conns yourself beforehand to close them with your
// own code. Close waits for the listener's goroutines; it is idempotent.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closing)
		_ = l.ln.Close()
		_ = l.wt.Close() // closes the HTTP/3 connections it serves
		l.mu.Lock()
		conns := make([]*quic.Conn, 0, len(l.conns))
		for qc := range l.conns {
			conns = append(conns, qc)
		}
		l.mu.Unlock()
		var wg sync.WaitGroup
		for _, qc := range conns {
			wg.Go(func() { _ = qc.CloseWithError(closeCodeListenerClosed, "listener closed") })
		}
		wg.Wait()
		_ = l.tr.Close()
		if err := l.udp.Close(); err != nil {
			l.closeErr = fmt.Errorf("transport: closing listener socket %s: %w", l.udp.LocalAddr(), err)
		}
		l.wg.Wait()
	})
	return l.closeErr
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	for {
		qc, err := l.ln.Accept(context.Background())
		if err != nil {
			return // listener closed
		}
		l.wg.Add(1)
		go l.handle(qc)
	}
}

// handle dispatches one QUIC connection on its ALPN.
func (l *Listener) handle(qc *quic.Conn) {
	defer l.wg.Done()
	switch alpn := qc.ConnectionState().TLS.NegotiatedProtocol; {
	case alpn != ALPNH3 && slices.Contains(l.protocols, alpn):
		l.handleQUIC(qc)
	case alpn == ALPNH3:
		// Serves HTTP/3 until the connection closes; sessions arrive through
		// serveWebTransport.
		if err := l.wt.ServeQUICConn(qc); err != nil && qc.Context().Err() == nil {
			_ = qc.CloseWithError(h3NoError, err.Error())
		}
	default:
		_ = qc.CloseWithError(0, fmt.Sprintf("unsupported ALPN %q", alpn))
	}
}

func (l *Listener) handleQUIC(qc *quic.Conn) {
	l.mu.Lock()
	l.conns[qc] = struct{}{}
	l.mu.Unlock()
	context.AfterFunc(qc.Context(), func() {
		l.mu.Lock()
		delete(l.conns, qc)
		l.mu.Unlock()
	})
	select {
	case <-qc.HandshakeComplete():
	case <-qc.Context().Done():
		return
	case <-l.closing:
		_ = qc.CloseWithError(closeCodeListenerClosed, "listener closed")
		return
	}
	l.deliver(newQUICConn(qc, nil, 0)) // the idle timeout in force may be the client's shorter one
}

// serveWebTransport is the HTTP/3 handler: it checks path and origin and
// upgrades to a WebTransport session.
func (l *Listener) serveWebTransport(w http.ResponseWriter, r *http.Request) {
	if p := l.opts.WebTransportPath; p != "" && r.URL.Path != p {
		http.Error(w, "no WebTransport endpoint at "+r.URL.Path, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodConnect {
		http.Error(w, "WebTransport extended CONNECT required", http.StatusMethodNotAllowed)
		return
	}
	if co := l.opts.CheckOrigin; co != nil && !co(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	qc, _ := r.Context().Value(quicConnKey{}).(*quic.Conn)
	if qc == nil {
		http.Error(w, "internal error: no QUIC connection", http.StatusInternalServerError)
		return
	}
	l.preferProtocol(r)
	sess, err := l.wt.Upgrade(w, r)
	if err != nil {
		http.Error(w, "WebTransport upgrade failed: "+err.Error(), http.StatusBadRequest)
		return
	}
	// Upgrade has waited for the client's SETTINGS.
	var qpackPeer bool
	if st, ok := w.(http3.Settingser); ok {
		qpackPeer = qpackDynamicTable(st.Settings())
	}
	l.deliver(newWTConn(sess, qc, requestPath(r.URL), nil, nil, 0, qpackPeer))
}

// preferProtocol narrows the client's WT-Available-Protocols to the one the
// server prefers among them, so that webtransport-go (which would take the
// client's first acceptable one) answers with the server's choice, as TLS
// ALPN does over raw QUIC. A header it cannot parse is left alone.
func (l *Listener) preferProtocol(r *http.Request) {
	key := http.CanonicalHeaderKey(wtAvailableProtocols)
	vals := r.Header[key]
	if len(vals) == 0 {
		return
	}
	list, err := httpsfv.UnmarshalList(vals)
	if err != nil {
		return
	}
	var offered []string
	for _, m := range list {
		it, ok := m.(httpsfv.Item)
		if !ok {
			return
		}
		p, ok := it.Value.(string)
		if !ok {
			return
		}
		offered = append(offered, p)
	}
	for _, p := range l.protocols {
		if slices.Contains(offered, p) {
			v, err := httpsfv.Marshal(httpsfv.List{httpsfv.NewItem(p)})
			if err == nil {
				r.Header[key] = []string{v}
			}
			return
		}
	}
}

// wtAvailableProtocols is the header in which a WebTransport client offers
// application protocols.
const wtAvailableProtocols = "WT-Available-Protocols"

// deliver hands c to Accept, or closes it when the listener closes, when c
// closes first, or when too many connections are waiting.
func (l *Listener) deliver(c Conn) {
	if l.pending.Add(1) > maxPendingConns {
		l.pending.Add(-1)
		_ = c.CloseWithError(closeCodeBusy, "too many connections waiting for accept")
		return
	}
	defer l.pending.Add(-1)
	select {
	case l.accepted <- c:
	case <-c.Done():
	case <-l.closing:
		_ = c.CloseWithError(closeCodeListenerClosed, "listener closed")
	}
}
