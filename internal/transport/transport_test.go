package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var protocols = []Protocol{ProtocolQUIC, ProtocolWebTransport}

// testTimeout only guards against hangs; no assertion depends on it.
const testTimeout = 30 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

type testServer struct {
	l    *Listener
	cert tls.Certificate
	fp   [32]byte
}

// startServer listens on loopback with a fresh self-signed certificate and
// WebTransport path /moq; the listener closes at test end.
func startServer(t *testing.T, mutate func(*ServerOptions)) *testServer {
	t.Helper()
	cert, fp, err := GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts := ServerOptions{
		Options:          Options{TLS: TLSOptions{Certificates: []tls.Certificate{cert}}},
		WebTransportPath: "/moq",
	}
	if mutate != nil {
		mutate(&opts)
	}
	l, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("closing listener: %v", err)
		}
	})
	return &testServer{l: l, cert: cert, fp: fp}
}

func (s *testServer) url(p Protocol, path string) string {
	if p == ProtocolQUIC {
		return "moqt://" + s.l.Addr().String() + path
	}
	return "https://" + s.l.Addr().String() + path
}

func (s *testServer) pinned() Options {
	return Options{TLS: TLSOptions{PinSHA256: [][32]byte{s.fp}}}
}

type acceptResult struct {
	c   Conn
	err error
}

func (s *testServer) acceptAsync(ctx context.Context) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		c, err := s.l.Accept(ctx)
		ch <- acceptResult{c, err}
	}()
	return ch
}

// connect dials the server and accepts the matching server-side Conn; both
// are closed at test end.
func connect(t *testing.T, s *testServer, p Protocol, opts Options) (client, server Conn) {
	t.Helper()
	ctx := testContext(t)
	accepted := s.acceptAsync(ctx)
	client, err := Dial(ctx, s.url(p, "/moq?x=1"), opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = client.CloseWithError(0, "") })
	r := <-accepted
	if r.err != nil {
		t.Fatalf("accept: %v", r.err)
	}
	t.Cleanup(func() { _ = r.c.CloseWithError(0, "") })
	return client, r.c
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

func write(t *testing.T, w SendStream, s string) {
	t.Helper()
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close stream: %v", err)
	}
}

// exchangeDatagram sends msg from one side until the other receives it
// (datagrams are unreliable, and a WebTransport peer drops datagrams that
// arrive before its session is registered).
func exchangeDatagram(t *testing.T, ctx context.Context, from, to Conn, msg []byte) {
	t.Helper()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan []byte, 1)
	go func() {
		b, err := to.ReceiveDatagram(rctx)
		if err == nil {
			got <- b
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := from.SendDatagram(msg); err != nil {
			t.Fatalf("send datagram: %v", err)
		}
		select {
		case b := <-got:
			if !bytes.Equal(b, msg) {
				t.Fatalf("datagram = %q, want %q", b, msg)
			}
			return
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("datagram %q never arrived", msg)
		}
	}
}

func TestStreamsAndDatagrams(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testContext(t)
			srv := startServer(t, nil)
			cl, sv := connect(t, srv, p, srv.pinned())

			for _, c := range []Conn{cl, sv} {
				if c.Protocol() != p {
					t.Errorf("Protocol() = %q, want %q", c.Protocol(), p)
				}
				if c.LocalAddr() == nil || c.RemoteAddr() == nil {
					t.Errorf("missing addresses")
				}
				if c.Err() != nil {
					t.Errorf("Err() on open conn = %v", c.Err())
				}
			}
			wantPath := ""
			if p == ProtocolWebTransport {
				wantPath = "/moq?x=1"
			}
			if cl.Path() != wantPath || sv.Path() != wantPath {
				t.Errorf("Path() client %q server %q, want %q", cl.Path(), sv.Path(), wantPath)
			}

			// Bidirectional echo.
			cs, err := cl.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			write(t, cs, "ping over bidi")
			ss, err := sv.AcceptStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, ss)
			if got != "ping over bidi" {
				t.Fatalf("server read %q", got)
			}
			write(t, ss, "echo: "+got)
			if got := readAll(t, cs); got != "echo: ping over bidi" {
				t.Fatalf("client read %q", got)
			}

			// Unidirectional both ways.
			for _, dir := range []struct {
				name     string
				from, to Conn
			}{{"client to server", cl, sv}, {"server to client", sv, cl}} {
				us, err := dir.from.OpenUniStreamSync(ctx)
				if err != nil {
					t.Fatal(err)
				}
				write(t, us, "uni "+dir.name)
				rs, err := dir.to.AcceptUniStream(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := readAll(t, rs); got != "uni "+dir.name {
					t.Fatalf("%s: read %q", dir.name, got)
				}
			}

			// Datagrams both ways.
			exchangeDatagram(t, ctx, cl, sv, []byte("datagram to server"))
			exchangeDatagram(t, ctx, sv, cl, []byte("datagram to client"))

			for name, c := range map[string]Conn{"client": cl, "server": sv} {
				st := c.Stats()
				if st.BytesSent == 0 || st.BytesReceived == 0 || st.PacketsSent == 0 || st.PacketsReceived == 0 || st.SmoothedRTT <= 0 {
					t.Errorf("%s stats look empty: %+v", name, st)
				}
			}
		})
	}
}

func TestStreamResets(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testContext(t)
			srv := startServer(t, nil)
			cl, sv := connect(t, srv, p, srv.pinned())

			// RESET_STREAM on a unidirectional stream.
			us, err := cl.OpenUniStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := us.Write([]byte("partial")); err != nil {
				t.Fatal(err)
			}
			us.CancelWrite(42)
			rs, err := sv.AcceptUniStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(rs)
			var se *StreamError
			if !errors.As(err, &se) || se.Code != 42 || !se.Remote {
				t.Fatalf("read after reset: %v, want remote StreamError 42", err)
			}

			// STOP_SENDING on a bidirectional stream.
			bs, err := cl.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bs.Write([]byte("first")); err != nil {
				t.Fatal(err)
			}
			ss, err := sv.AcceptStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ss.CancelRead(43)
			for {
				_, err := bs.Write([]byte("more"))
				if err == nil {
					if ctx.Err() != nil {
						t.Fatal("writes kept succeeding after STOP_SENDING")
					}
					continue
				}
				if !errors.As(err, &se) || se.Code != 43 || !se.Remote {
					t.Fatalf("write after STOP_SENDING: %v, want remote StreamError 43", err)
				}
				break
			}
			ss.CancelWrite(0)
		})
	}
}

func TestCloseWithApplicationError(t *testing.T) {
	clamped := map[Protocol]uint64{ProtocolQUIC: MaxQUICErrorCode, ProtocolWebTransport: MaxWebTransportErrorCode}
	for _, p := range protocols {
		for _, tc := range []struct {
			name     string
			byServer bool
			code     uint64
			want     uint64
		}{
			{"client closes", false, 0x1234, 0x1234},
			{"server closes", true, 0x10, 0x10},
			{"code clamped", false, math.MaxUint64, clamped[p]},
		} {
			t.Run(string(p)+"/"+tc.name, func(t *testing.T) {
				srv := startServer(t, nil)
				cl, sv := connect(t, srv, p, srv.pinned())
				closer, peer := cl, sv
				if tc.byServer {
					closer, peer = sv, cl
				}
				if err := closer.CloseWithError(tc.code, "bye now"); err != nil {
					t.Fatal(err)
				}
				<-closer.Done()
				<-peer.Done()
				var ae *ApplicationError
				if err := peer.Err(); !errors.As(err, &ae) || ae.Code != tc.want || ae.Reason != "bye now" || !ae.Remote {
					t.Fatalf("peer Err() = %v (%T), want remote ApplicationError %#x %q", err, err, tc.want, "bye now")
				}
				if err := closer.Err(); !errors.As(err, &ae) || ae.Code != tc.want || ae.Remote {
					t.Fatalf("closer Err() = %v, want local ApplicationError %#x", err, tc.want)
				}
				if err := closer.CloseWithError(1, "again"); err != nil {
					t.Fatalf("second close: %v", err)
				}
			})
		}
	}
}

func TestDualProtocolListener(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, nil)
	type dialed struct {
		c   Conn
		err error
	}
	dials := make(chan dialed, len(protocols))
	for _, p := range protocols {
		go func() {
			c, err := Dial(ctx, srv.url(p, "/moq"), srv.pinned())
			dials <- dialed{c, err}
		}()
	}
	servers := map[Protocol]Conn{}
	for range protocols {
		c, err := srv.l.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.CloseWithError(0, "") })
		servers[c.Protocol()] = c
	}
	clients := map[Protocol]Conn{}
	for range protocols {
		d := <-dials
		if d.err != nil {
			t.Fatal(d.err)
		}
		t.Cleanup(func() { _ = d.c.CloseWithError(0, "") })
		clients[d.c.Protocol()] = d.c
	}
	if len(servers) != 2 || len(clients) != 2 {
		t.Fatalf("got server protocols %v and client protocols %v, want one of each", servers, clients)
	}
	for _, p := range protocols {
		s, err := clients[p].OpenUniStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		write(t, s, "hello "+string(p))
		r, err := servers[p].AcceptUniStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, r); got != "hello "+string(p) {
			t.Fatalf("%s: read %q", p, got)
		}
	}
}

func TestCertificateVerification(t *testing.T) {
	srv := startServer(t, nil)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.cert.Certificate[0]})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	wrongFP := srv.fp
	wrongFP[0] ^= 0xff

	for _, p := range protocols {
		for _, tc := range []struct {
			name  string
			tls   TLSOptions
			check func(t *testing.T, err error) // nil: must connect
		}{
			{name: "right pin", tls: TLSOptions{PinSHA256: [][32]byte{wrongFP, srv.fp}}},
			{name: "wrong pin", tls: TLSOptions{PinSHA256: [][32]byte{wrongFP}}, check: func(t *testing.T, err error) {
				var pe *CertificatePinError
				if !errors.As(err, &pe) || pe.Got != srv.fp {
					t.Fatalf("error %v does not carry a CertificatePinError for the server's certificate", err)
				}
				for _, fp := range [][32]byte{srv.fp, wrongFP} {
					if !strings.Contains(err.Error(), FormatFingerprint(fp)) {
						t.Errorf("error %q does not name fingerprint %s", err, FormatFingerprint(fp))
					}
				}
			}},
			{name: "no pin no CA", check: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				if !errors.As(err, &ua) || !strings.Contains(err.Error(), "unknown authority") {
					t.Fatalf("error %v, want an unknown authority error", err)
				}
			}},
			{name: "CAPEM", tls: TLSOptions{CAPEM: certPEM}},
			{name: "CAFile", tls: TLSOptions{CAFile: caFile}},
			{name: "RootCAs", tls: TLSOptions{RootCAs: poolOf(t, certPEM)}},
			{name: "CA with wrong server name", tls: TLSOptions{CAPEM: certPEM, ServerName: "example.com"}, check: func(t *testing.T, err error) {
				var he x509.HostnameError
				if !errors.As(err, &he) {
					t.Fatalf("error %v, want a host name error", err)
				}
			}},
			{name: "CA with right server name", tls: TLSOptions{CAPEM: certPEM, ServerName: "localhost"}},
			{name: "insecure", tls: TLSOptions{Insecure: true}},
		} {
			t.Run(string(p)+"/"+tc.name, func(t *testing.T) {
				ctx := testContext(t)
				c, err := Dial(ctx, srv.url(p, "/moq"), Options{TLS: tc.tls})
				if tc.check != nil {
					if err == nil {
						_ = c.CloseWithError(0, "")
						t.Fatal("dial succeeded, want verification failure")
					}
					t.Logf("dial error: %v", err)
					tc.check(t, err)
					return
				}
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				sc, err := srv.l.Accept(ctx)
				if err != nil {
					t.Fatal(err)
				}
				_ = c.CloseWithError(0, "")
				<-sc.Done()
			})
		}
	}
}

func poolOf(t *testing.T, pemBytes []byte) *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("bad PEM")
	}
	return pool
}

// killSocket closes a dialed Conn's transport and socket without sending
// CONNECTION_CLOSE, so that the peer sees silence.
func killSocket(t *testing.T, c Conn) {
	t.Helper()
	switch c := c.(type) {
	case *quicConn:
		c.sock.close()
	case *wtConn:
		c.sock.close()
	default:
		t.Fatalf("unexpected Conn type %T", c)
	}
}

func TestIdleTimeout(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			srv := startServer(t, func(o *ServerOptions) { o.IdleTimeout = 300 * time.Millisecond })
			cl, sv := connect(t, srv, p, srv.pinned())
			killSocket(t, cl)
			<-cl.Done()
			<-sv.Done()
			err := sv.Err()
			if !errors.Is(err, ErrIdleTimeout) {
				t.Fatalf("server Err() = %v, want ErrIdleTimeout", err)
			}
			if _, ok := errors.AsType[*quic.IdleTimeoutError](err); !ok {
				t.Fatalf("server Err() = %v does not wrap quic's idle timeout error", err)
			}
			t.Logf("server Err(): %v", err)
		})
	}
}

func TestDatagramTooLarge(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			srv := startServer(t, nil)
			cl, sv := connect(t, srv, p, srv.pinned())
			for name, c := range map[string]Conn{"client": cl, "server": sv} {
				big := make([]byte, 64<<10)
				err := c.SendDatagram(big)
				if !errors.Is(err, ErrDatagramTooLarge) {
					t.Fatalf("%s: SendDatagram(64 KiB) = %v, want ErrDatagramTooLarge", name, err)
				}
				var tl *DatagramTooLargeError
				if !errors.As(err, &tl) || tl.Size != len(big) || tl.Max <= 0 || tl.Max >= int64(len(big)) {
					t.Fatalf("%s: error %v lacks sizes", name, err)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tl.Max)) {
					t.Errorf("%s: error %q does not state the maximum", name, err)
				}
				if err := c.SendDatagram(make([]byte, tl.Max)); err != nil {
					t.Fatalf("%s: SendDatagram(max=%d) = %v", name, tl.Max, err)
				}
			}
		})
	}
}

func TestWebTransportRejections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*ServerOptions)
		path   string
		status int
	}{
		{"wrong path", nil, "/other", http.StatusNotFound},
		{"origin refused", func(o *ServerOptions) { o.CheckOrigin = func(*http.Request) bool { return false } }, "/moq", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.mutate)
			_, err := Dial(testContext(t), srv.url(ProtocolWebTransport, tc.path), srv.pinned())
			if err == nil {
				t.Fatal("dial succeeded")
			}
			if want := fmt.Sprintf("status %d %s", tc.status, http.StatusText(tc.status)); !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not contain %q", err, want)
			}
			t.Logf("dial error: %v", err)
		})
	}
	t.Run("any path", func(t *testing.T) {
		srv := startServer(t, func(o *ServerOptions) { o.WebTransportPath = "" })
		ctx := testContext(t)
		accepted := srv.acceptAsync(ctx)
		c, err := Dial(ctx, srv.url(ProtocolWebTransport, "/some/where?a=b"), srv.pinned())
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseWithError(0, "")
		r := <-accepted
		if r.err != nil {
			t.Fatal(r.err)
		}
		defer r.c.CloseWithError(0, "")
		if r.c.Path() != "/some/where?a=b" {
			t.Fatalf("server Path() = %q", r.c.Path())
		}
	})
}

func TestDialFailures(t *testing.T) {
	// A UDP socket that never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	for _, p := range protocols {
		t.Run(string(p)+"/handshake timeout", func(t *testing.T) {
			u := "moqt://" + silent.LocalAddr().String()
			if p == ProtocolWebTransport {
				u = "https://" + silent.LocalAddr().String() + "/moq"
			}
			_, err := Dial(testContext(t), u, Options{HandshakeTimeout: 200 * time.Millisecond, TLS: TLSOptions{Insecure: true}})
			if !errors.Is(err, ErrHandshakeTimeout) {
				t.Fatalf("error %v, want ErrHandshakeTimeout", err)
			}
		})
		t.Run(string(p)+"/canceled", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := Dial(ctx, "moqt://"+silent.LocalAddr().String(), Options{})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
		})
	}
	for _, u := range []string{"http://127.0.0.1:1/", "moqt:///nohost", "::bad"} {
		if _, err := Dial(t.Context(), u, Options{}); err == nil {
			t.Errorf("Dial(%q) succeeded", u)
		}
	}
	if _, err := Listen("127.0.0.1:0", ServerOptions{}); err == nil {
		t.Error("Listen without certificate succeeded")
	}
}

func TestListenerClose(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			srv := startServer(t, nil)
			ctx := testContext(t)
			cl, sv := connect(t, srv, p, srv.pinned())
			blocked := srv.acceptAsync(ctx)
			if err := srv.l.Close(); err != nil {
				t.Fatal(err)
			}
			if r := <-blocked; !errors.Is(r.err, net.ErrClosed) {
				t.Fatalf("blocked Accept returned %v, want net.ErrClosed", r.err)
			}
			if _, err := srv.l.Accept(ctx); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
			}
			<-sv.Done()
			<-cl.Done()
			t.Logf("client Err() after listener close: %v", cl.Err())
			if p == ProtocolQUIC {
				var ae *ApplicationError
				if !errors.As(cl.Err(), &ae) || ae.Reason != "listener closed" || !ae.Remote {
					t.Fatalf("client Err() = %v, want remote close \"listener closed\"", cl.Err())
				}
			}
			if err := srv.l.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(entries)
}

// TestDialReleasesResources checks that failed dials and closed Conns leave
// no UDP socket and no goroutine behind.
func TestDialReleasesResources(t *testing.T) {
	srv := startServer(t, nil)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx := testContext(t)
	wrongPin := Options{TLS: TLSOptions{PinSHA256: [][32]byte{{1, 2, 3}}}}
	canceled, cancel := context.WithCancel(ctx)
	cancel()

	// Warm up lazily created runtime resources (network poller, ...).
	connect(t, srv, ProtocolQUIC, srv.pinned())
	fds := openFDs(t)
	goroutines := goleak.IgnoreCurrent()

	// The failing dials go to a server of their own, closed before the
	// check: what the server side keeps of a handshake the client gave up
	// on (until the client's close or the handshake timeout reaches it) is
	// not the dialer's to release.
	refusing, err := Listen("127.0.0.1:0", ServerOptions{
		Options: Options{TLS: TLSOptions{Certificates: []tls.Certificate{srv.cert}}}, WebTransportPath: "/moq"})
	if err != nil {
		t.Fatal(err)
	}
	refusingURL := func(p Protocol, path string) string {
		return (&testServer{l: refusing}).url(p, path)
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		url  string
		opts Options
	}{
		{"quic wrong pin", ctx, refusingURL(ProtocolQUIC, ""), wrongPin},
		{"webtransport wrong pin", ctx, refusingURL(ProtocolWebTransport, "/moq"), wrongPin},
		{"webtransport 404", ctx, refusingURL(ProtocolWebTransport, "/nope"), srv.pinned()},
		{"quic timeout", ctx, "moqt://" + silent.LocalAddr().String(), Options{HandshakeTimeout: 100 * time.Millisecond}},
		{"webtransport timeout", ctx, "https://" + silent.LocalAddr().String() + "/", Options{HandshakeTimeout: 100 * time.Millisecond}},
		{"canceled", canceled, refusingURL(ProtocolQUIC, ""), srv.pinned()},
	} {
		if _, err := Dial(tc.ctx, tc.url, tc.opts); err == nil {
			t.Fatalf("%s: dial succeeded", tc.name)
		}
	}
	if err := refusing.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range protocols {
		accepted := srv.acceptAsync(ctx)
		c, err := Dial(ctx, srv.url(p, "/moq"), srv.pinned())
		if err != nil {
			t.Fatal(err)
		}
		r := <-accepted
		if r.err != nil {
			t.Fatal(r.err)
		}
		_ = c.CloseWithError(0, "")
		_ = r.c.CloseWithError(0, "")
	}
	if got := openFDs(t); got != fds {
		t.Errorf("open file descriptors: %d before, %d after", fds, got)
	}
	goleak.VerifyNone(t, goroutines)
}
