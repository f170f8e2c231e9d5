package interop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/moqtransport"
	"github.com/Eyevinn/moqtransport/quicmoq"
	"github.com/Eyevinn/moqtransport/webtransportmoq"
	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// eyTransport is one way an Eyevinn client reaches our listener or relay:
// raw QUIC or WebTransport, and the draft it offers (draft-14 by ALPN
// "moq-00" and SETUP; draft-16 by ALPN / WebTransport protocol "moqt-16").
type eyTransport struct {
	name  string
	wt    bool
	draft moq.Draft
}

// protocols returns what the Eyevinn client offers: the ALPN over raw QUIC,
// the WT-Available-Protocols over WebTransport (none for draft-14, which is
// negotiated in SETUP).
func (tr eyTransport) protocols() []string {
	if tr.draft == moq.Draft16 {
		return []string{"moqt-16"}
	}
	if tr.wt {
		return nil
	}
	return []string{"moq-00"}
}

// notExistCode is the code for "track does not exist": TRACK_DOES_NOT_EXIST
// 0x4 in draft-14's SUBSCRIBE_ERROR, DOES_NOT_EXIST 0x10 in draft-16's
// REQUEST_ERROR.
func notExistCode(d moq.Draft) uint64 {
	if d == moq.Draft16 {
		return 0x10
	}
	return uint64(moqtransport.ErrorCodeSubscribeTrackDoesNotExist)
}

// Eyevinn moqtransport v0.9.0's draft-16 deviations from the -16 text: it
// writes and reads FETCH in the draft-14 layout, and sends
// SUBSCRIBE_NAMESPACE on the control stream (and expects its answer and the
// namespaces there) instead of on a bidirectional stream of its own. Our
// side follows the text, so these exchanges cannot interoperate on 16.
const (
	eyevinnFetch16 = "Eyevinn moqtransport v0.9.0 writes FETCH in the draft-14 layout on draft-16 sessions"
	eyevinnNS16    = "Eyevinn moqtransport v0.9.0 sends SUBSCRIBE_NAMESPACE on the control stream on draft-16 sessions (the -16 text gives it a stream of its own)"
)

// skipOn16 skips a draft-16 subtest whose exchange Eyevinn v0.9.0 does not
// speak as the -16 text says.
func skipOn16(t *testing.T, d moq.Draft, why string) {
	t.Helper()
	if d == moq.Draft16 {
		t.Skip(why)
	}
}

// transports are the ways an Eyevinn client reaches our listener.
var transports = []eyTransport{
	{"quic14", false, moq.Draft14},
	{"wt14", true, moq.Draft14},
	{"quic16", false, moq.Draft16},
	{"wt16", true, moq.Draft16},
}

// ctxT returns a context that bounds one test.
func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for one value from ch, failing the test when ctx ends first.
func recv[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
	}
	var zero T
	return zero
}

func trackKey(ns []string, name string) string { return strings.Join(ns, "/") + "|" + name }

func sameTuple(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// eySub is a SUBSCRIBE the Eyevinn peer accepted.
type eySub struct {
	w   *moqtransport.SubscribeResponseWriter
	msg *moqtransport.SubscribeMessage
}

// eyFetch is a FETCH the Eyevinn peer accepted.
type eyFetch struct {
	w   *moqtransport.FetchResponseWriter
	msg *moqtransport.FetchMessage
}

// eyPeer is an Eyevinn moqtransport session with handlers that accept
// announces and namespace subscriptions, accept SUBSCRIBE and FETCH for the
// tracks it was told about (refusing others with TRACK_DOES_NOT_EXIST), and
// report everything on channels. The handlers run on Eyevinn's control
// stream goroutine, so they never block: the channels are buffered.
type eyPeer struct {
	sess        *moqtransport.Session
	announces   chan []string
	unannounces chan []string
	nsSubs      chan []string
	nsUnsubs    chan []string
	subs        chan eySub
	fetches     chan eyFetch
	tracks      map[string]bool
	refuse      bool // refuse PUBLISH_NAMESPACE and SUBSCRIBE_NAMESPACE
}

func newEyPeer(initialMaxRequestID uint64, tracks ...string) *eyPeer {
	p := &eyPeer{
		announces:   make(chan []string, 64),
		unannounces: make(chan []string, 64),
		nsSubs:      make(chan []string, 64),
		nsUnsubs:    make(chan []string, 64),
		subs:        make(chan eySub, 64),
		fetches:     make(chan eyFetch, 64),
		tracks:      map[string]bool{},
	}
	for _, k := range tracks {
		p.tracks[k] = true
	}
	p.sess = &moqtransport.Session{
		InitialMaxRequestID: initialMaxRequestID,
		Handler:             moqtransport.HandlerFunc(p.handle),
		SubscribeHandler:    moqtransport.SubscribeHandlerFunc(p.handleSubscribe),
		FetchHandler:        moqtransport.FetchHandlerFunc(p.handleFetch),
	}
	return p
}

func (p *eyPeer) handle(w moqtransport.ResponseWriter, m *moqtransport.Message) {
	switch m.Method {
	case moqtransport.MessageAnnounce:
		if p.refuse {
			_ = w.Reject(uint64(moqtransport.ErrorCodeAnnounceUninterested), "not interested")
			return
		}
		_ = w.Accept()
		p.announces <- m.Namespace
	case moqtransport.MessageUnannounce:
		p.unannounces <- m.Namespace
	case moqtransport.MessageSubscribeAnnounces:
		if p.refuse {
			_ = w.Reject(uint64(moqtransport.ErrorCodeSubscribeAnnouncesNotSupported), "no")
			return
		}
		_ = w.Accept()
		p.nsSubs <- m.Namespace
	case moqtransport.MessageUnsubscribeAnnounces:
		p.nsUnsubs <- m.Namespace
	default:
		if w != nil {
			_ = w.Reject(0, "not handled by the interop test")
		}
	}
}

func (p *eyPeer) handleSubscribe(w *moqtransport.SubscribeResponseWriter, m *moqtransport.SubscribeMessage) {
	if !p.tracks[trackKey(m.Namespace, m.Track)] {
		_ = w.Reject(moqtransport.ErrorCodeSubscribeTrackDoesNotExist, "unknown track")
		return
	}
	if err := w.Accept(); err != nil {
		return
	}
	p.subs <- eySub{w, m}
}

func (p *eyPeer) handleFetch(w *moqtransport.FetchResponseWriter, m *moqtransport.FetchMessage) {
	if !p.tracks[trackKey(m.Namespace, m.Track)] {
		_ = w.Reject(uint64(moqtransport.ErrorCodeFetchTrackDoesNotExist), "unknown track")
		return
	}
	if err := w.Accept(); err != nil {
		return
	}
	p.fetches <- eyFetch{w, m}
}

// env is our moq.Listener with one accepted session (srv) whose client is an
// Eyevinn session (ey), over raw QUIC or WebTransport.
type env struct {
	ln  *moq.Listener
	srv *moq.Session
	ey  *eyPeer
}

type envConfig struct {
	wt bool
	// draft the Eyevinn client offers (default draft-14).
	draft moq.Draft
	// eyMaxRequestID is the Eyevinn client's InitialMaxRequestID: the
	// request credit our server gets (Eyevinn's default, 0, grants none).
	eyMaxRequestID uint64
	// tracks the Eyevinn peer serves ("ns/ns|name").
	tracks []string
	// eyRefuse: the Eyevinn peer refuses announces and namespace
	// subscriptions.
	eyRefuse bool
	// opts for our listener (TLS is filled in).
	opts *moq.Options
}

// selfSigned returns a loopback certificate and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool, [32]byte) {
	t.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return cert, pool, fp
}

// newEnv starts our listener and connects an Eyevinn client to it.
func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	cert, pool, _ := selfSigned(t)
	opts := cfg.opts
	if opts == nil {
		opts = &moq.Options{}
	}
	opts.TLS.Certificates = []tls.Certificate{cert}
	ln, err := moq.Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ln: ln, ey: newEyPeer(cfg.eyMaxRequestID, cfg.tracks...)}
	e.ey.refuse = cfg.eyRefuse
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type res struct {
		s   *moq.Session
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := ln.Accept(ctx)
		ch <- res{s, err}
	}()
	if cfg.draft == 0 {
		cfg.draft = moq.Draft14
	}
	et := eyTransport{wt: cfg.wt, draft: cfg.draft}
	e.ey.sess.Protocols = et.protocols()
	conn, closeConn, err := dialEyevinn(ctx, et, ln.Addr().String(), pool)
	if err != nil {
		ln.Close()
		t.Fatalf("Eyevinn dial: %v", err)
	}
	if err := e.ey.sess.RunContext(ctx, conn); err != nil {
		closeConn()
		ln.Close()
		t.Fatalf("Eyevinn SETUP with our server: %v", err)
	}
	r := <-ch
	if r.err != nil {
		e.ey.sess.Close()
		closeConn()
		ln.Close()
		t.Fatalf("our Accept: %v", r.err)
	}
	e.srv = r.s
	t.Cleanup(func() {
		e.ey.sess.Close()
		closeConn()
		e.srv.Close()
		e.srv.Wait()
		e.ln.Close()
	})
	if e.srv.Draft() != cfg.draft {
		t.Fatalf("negotiated draft %v, want draft-%v", e.srv.Draft(), cfg.draft)
	}
	wantProto := "quic"
	if cfg.wt {
		wantProto = "webtransport"
	}
	if e.srv.Protocol() != wantProto {
		t.Fatalf("our session runs over %q, want %q", e.srv.Protocol(), wantProto)
	}
	return e
}

// dialEyevinn connects an Eyevinn client connection to addr: raw QUIC with
// the transport's ALPN, or WebTransport (https://addr/moq) with
// webtransport-go offering its protocols. closeConn releases what the dial
// created beyond the connection.
func dialEyevinn(ctx context.Context, et eyTransport, addr string, pool *x509.CertPool) (moqtransport.Connection, func(), error) {
	if !et.wt {
		qc, err := quic.DialAddr(ctx, addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: et.protocols()},
			&quic.Config{EnableDatagrams: true})
		if err != nil {
			return nil, nil, err
		}
		return quicmoq.NewClient(qc), func() { qc.CloseWithError(0, "") }, nil
	}
	tr := &webtransport.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, ApplicationProtocols: et.protocols()}
	_, ws, err := tr.Dial(ctx, "https://"+addr+"/moq", nil)
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	return webtransportmoq.NewClient(ws), func() { ws.CloseWithError(0, ""); tr.Close() }, nil
}

// eyCode returns the code of an Eyevinn request error.
func eyCode(t *testing.T, err error) uint64 {
	t.Helper()
	var pe moqtransport.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not an Eyevinn ProtocolError", err, err)
	}
	return pe.Code()
}

func payload(g, o uint64) []byte { return []byte(fmt.Sprintf("group %d object %d", g, o)) }
