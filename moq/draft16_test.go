package moq

import (
	"crypto/tls"
	"errors"
	"fmt"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

var schemes = []string{"moqt", "https"}

// dialDrafts dials ln allowing drafts (nil: the default list) and accepts
// the server's session. Both end at test end.
func dialDrafts(t *testing.T, ln *Listener, fp [32]byte, scheme string, drafts []Draft) (client, server *Session, err error) {
	t.Helper()
	ctx := ctxT(t)
	accepted := make(chan *Session, 1)
	go func() {
		s, err := ln.Accept(ctx)
		if err == nil {
			accepted <- s
		}
		close(accepted)
	}()
	c, err := Dial(ctx, fmt.Sprintf("%s://%s/v", scheme, ln.Addr()), &Options{Drafts: drafts, TLS: TLSConfig{PinSHA256: [][32]byte{fp}}})
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { c.Close(); c.Wait() })
	s := <-accepted
	if s == nil {
		t.Fatal("the server accepted no session")
	}
	t.Cleanup(func() { s.Close(); s.Wait() })
	return c, s, nil
}

// TestVersionNegotiation16: a client allowing 20, 18, 16, 14 and 07cf (the
// default) makes one handshake offering moqt-20, moqt-18, moqt-16 and moq-00 and
// runs the draft the server's configuration leads to.
func TestVersionNegotiation16(t *testing.T) {
	cases := []struct {
		name   string
		server []Draft
		client []Draft
		want   Draft
	}{
		{"server 14 only", []Draft{Draft14}, nil, Draft14},
		{"server 16 only", []Draft{Draft16}, nil, Draft16},
		{"server 16 and 14", []Draft{Draft16, Draft14}, nil, Draft16},
		{"server default", nil, nil, Draft20},
		{"server 18 only", []Draft{Draft18}, nil, Draft18},
		{"server 20 only", []Draft{Draft20}, nil, Draft20},
		{"server 18 and 16, client default", []Draft{Draft18, Draft16}, nil, Draft18},
		{"client 18 and 16, server default", nil, []Draft{Draft18, Draft16}, Draft18},
		{"client prefers 18, server prefers 20", nil, []Draft{Draft18, Draft20}, Draft20},
		{"server 16 and 14, client default", []Draft{Draft16, Draft14}, nil, Draft16},
		{"client 16 and 14, server default", nil, []Draft{Draft16, Draft14}, Draft16},
		{"client prefers 16, server prefers 18", nil, []Draft{Draft16, Draft18}, Draft18},
		{"client 18 then 07cf, server 14 and 07", []Draft{Draft14, Draft07}, []Draft{Draft18, Draft07Cloudflare}, Draft07Cloudflare},
		{"server 07cf only (SETUP fallback)", []Draft{Draft07Cloudflare}, nil, Draft07Cloudflare},
		{"client prefers 14, server prefers 16", nil, []Draft{Draft14, Draft16}, Draft16},
		{"client 14 only, server default", nil, []Draft{Draft14}, Draft14},
		{"client 16 then 07cf, server 14 and 07", []Draft{Draft14, Draft07}, []Draft{Draft16, Draft07Cloudflare}, Draft07Cloudflare},
	}
	for _, tc := range cases {
		for _, scheme := range schemes {
			t.Run(tc.name+"/"+scheme, func(t *testing.T) {
				t.Parallel()
				ln, fp := listenDrafts(t, tc.server...)
				c, s, err := dialDrafts(t, ln, fp, scheme, tc.client)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				if c.Draft() != tc.want || s.Draft() != tc.want {
					t.Fatalf("negotiated client %v / server %v, want %v", c.Draft(), s.Draft(), tc.want)
				}
				wantALPN := tc.want.ALPN()
				if got := c.conn.NegotiatedProtocol(); got != wantALPN {
					t.Fatalf("client connection protocol %q, want %q", got, wantALPN)
				}
			})
		}
	}
}

// TestVersionMismatch16: no common draft between 16 and 14 fails with
// ErrVersion, over both transports and in both directions.
func TestVersionMismatch16(t *testing.T) {
	cases := []struct {
		name           string
		server, client []Draft
	}{
		{"client 16, server 14", []Draft{Draft14}, []Draft{Draft16}},
		{"client 14, server 16", []Draft{Draft16}, []Draft{Draft14}},
		{"client 16, server 07", []Draft{Draft07}, []Draft{Draft16}},
		{"client 18, server 16", []Draft{Draft16}, []Draft{Draft18}},
		{"client 16, server 18", []Draft{Draft18}, []Draft{Draft16}},
		{"client 18, server 14", []Draft{Draft14}, []Draft{Draft18}},
		{"client 20, server 18", []Draft{Draft18}, []Draft{Draft20}},
		{"client 18, server 20", []Draft{Draft20}, []Draft{Draft18}},
	}
	for _, tc := range cases {
		for _, scheme := range schemes {
			t.Run(tc.name+"/"+scheme, func(t *testing.T) {
				t.Parallel()
				ln, fp := listenDrafts(t, tc.server...)
				_, err := Dial(ctxT(t), fmt.Sprintf("%s://%s/", scheme, ln.Addr()),
					&Options{Drafts: tc.client, TLS: TLSConfig{PinSHA256: [][32]byte{fp}}})
				if !errors.Is(err, ErrVersion) {
					t.Fatalf("dial: %v, want ErrVersion", err)
				}
			})
		}
	}
}

// rawServer is a draft-16 server that speaks MoQT bytes itself, to test how
// a client session copes with a misbehaving peer.
type rawServer struct {
	t      *testing.T
	conn   transport.Conn
	ctrl   transport.Stream
	cr     *wire.ControlReader
	client *Session
	setup  *wire.ClientSetup // the client's
	addr   string            // host:port the client dialed
}

func newRawServer16(t *testing.T, scheme string) *rawServer {
	t.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := transport.Listen("127.0.0.1:0", transport.ServerOptions{
		Options:   transport.Options{TLS: transport.TLSOptions{Certificates: []tls.Certificate{cert}}},
		Protocols: []string{Draft16.ALPN()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctx := ctxT(t)
	type dialed struct {
		s   *Session
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		s, err := Dial(ctx, fmt.Sprintf("%s://%s/raw", scheme, ln.Addr()),
			&Options{Drafts: []Draft{Draft16}, TLS: TLSConfig{PinSHA256: [][32]byte{fp}}})
		ch <- dialed{s, err}
	}()
	r := &rawServer{t: t}
	if r.conn, err = ln.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.conn.CloseWithError(0, "") })
	if r.ctrl, err = r.conn.AcceptStream(ctx); err != nil {
		t.Fatal(err)
	}
	r.cr = wire.NewControlReader(r.ctrl, Draft16, nil)
	m, err := r.cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	cs, ok := m.(*wire.ClientSetup)
	if !ok {
		t.Fatalf("got %T, want CLIENT_SETUP", m)
	}
	r.setup, r.addr = cs, ln.Addr().String()
	writeMsg(t, r.ctrl, &wire.ServerSetup{Params: wire.Params{wire.IntParam(wire.SetupMaxRequestID, 100)}})
	d := <-ch
	if d.err != nil {
		t.Fatal(d.err)
	}
	r.client = d.s
	t.Cleanup(func() { r.client.Close(); r.client.Wait() })
	return r
}

func writeMsg(t *testing.T, w transport.SendStream, m wire.Message) {
	t.Helper()
	b, err := wire.AppendMessage(nil, Draft16, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}

// expectViolation waits for s to end and checks that it closed the session
// itself with PROTOCOL_VIOLATION.
func expectViolation(t *testing.T, s *Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-ctxT(t).Done():
		t.Fatal("session still open, want closed with PROTOCOL_VIOLATION")
	}
	var se *SessionError
	if !errors.As(s.Err(), &se) || se.Code != CodeProtocolViolation || !se.Local {
		t.Fatalf("session ended with %v, want a local PROTOCOL_VIOLATION", s.Err())
	}
}

// TestDraft16HostileBidiStream: a bidirectional stream that does not start
// with SUBSCRIBE_NAMESPACE is a protocol violation.
func TestDraft16HostileBidiStream(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, scheme, Draft16, nil)
			st, err := r.conn.OpenStreamSync(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			writeMsg(t, st, &wire.Subscribe{RequestID: 0, Namespace: Namespace{"a"}, Name: "b",
				SubscriberPriority: 128, Forward: true, FilterType: FilterLargestObject})
			r.expectClosed(CodeProtocolViolation)
		})
	}
}

// TestDraft16HostileUnknownRequestOK: REQUEST_OK (or REQUEST_ERROR) for a
// request the server never sent is a protocol violation.
func TestDraft16HostileUnknownRequestOK(t *testing.T) {
	for _, m := range []wire.Message{&wire.RequestOK{RequestID: 5}, &wire.RequestError{RequestID: 3, ErrorCode: 0x10}} {
		for _, scheme := range schemes {
			t.Run(fmt.Sprintf("%T/%s", m, scheme), func(t *testing.T) {
				t.Parallel()
				r := newRawPeer(t, scheme, Draft16, nil)
				r.sendMsg(m)
				r.expectClosed(CodeProtocolViolation)
			})
		}
	}
}

// TestDraft16HostileControlStreamMessages: SUBSCRIBE_NAMESPACE, NAMESPACE
// and NAMESPACE_DONE belong on a namespace subscription's stream, not on
// the control stream.
func TestDraft16HostileControlStreamMessages(t *testing.T) {
	for _, m := range []wire.Message{
		&wire.SubscribeNamespace{RequestID: 0, Prefix: Namespace{"p"}},
		&wire.NamespaceMsg{Suffix: Namespace{"x"}},
		&wire.NamespaceDone{Suffix: Namespace{"x"}},
	} {
		t.Run(fmt.Sprintf("%T", m), func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, "moqt", Draft16, nil)
			r.sendMsg(m)
			r.expectClosed(CodeProtocolViolation)
		})
	}
}

// TestDraft16HostileNamespaceDoneFirst: NAMESPACE_DONE for a namespace no
// NAMESPACE announced closes the client's session.
func TestDraft16HostileNamespaceDoneFirst(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawServer16(t, scheme)
			ctx := ctxT(t)
			type res struct {
				n   *NamespaceSubscription
				err error
			}
			ch := make(chan res, 1)
			go func() {
				n, err := r.client.SubscribeNamespace(ctx, Namespace{"p"})
				ch <- res{n, err}
			}()
			st, err := r.conn.AcceptStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			m, err := wire.NewControlReader(st, Draft16, nil).Read()
			if err != nil {
				t.Fatal(err)
			}
			req, ok := m.(*wire.SubscribeNamespace)
			if !ok || !req.Prefix.Equal(Namespace{"p"}) {
				t.Fatalf("got %#v, want SUBSCRIBE_NAMESPACE for p", m)
			}
			writeMsg(t, st, &wire.RequestOK{RequestID: req.RequestID})
			got := <-ch
			if got.err != nil {
				t.Fatalf("subscribe namespace: %v", got.err)
			}
			writeMsg(t, st, &wire.NamespaceDone{Suffix: Namespace{"x"}})
			expectViolation(t, r.client)
			if _, err := got.n.Next(ctx); !errors.Is(err, ErrClosed) {
				t.Fatalf("Next after the violation: %v, want ErrClosed", err)
			}
		})
	}
}

// TestDraft16HostileAnswerKind: REQUEST_OK cannot answer a SUBSCRIBE (that
// takes SUBSCRIBE_OK): the client closes the session.
func TestDraft16HostileAnswerKind(t *testing.T) {
	r := newRawServer16(t, "moqt")
	ctx := ctxT(t)
	errc := make(chan error, 1)
	go func() {
		_, err := r.client.Subscribe(ctx, Namespace{"a"}, "b", SubscribeOptions{})
		errc <- err
	}()
	var sub *wire.Subscribe
	for sub == nil {
		m, err := r.cr.Read()
		if err != nil {
			t.Fatal(err)
		}
		sub, _ = m.(*wire.Subscribe)
	}
	writeMsg(t, r.ctrl, &wire.RequestOK{RequestID: sub.RequestID})
	expectViolation(t, r.client)
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe: %v, want ErrClosed", err)
	}
}

// recordingNSHandler accepts namespace subscriptions and reports their
// start and end.
type recordingNSHandler struct {
	nsHandler
	ended chan Namespace
}

func (h *recordingNSHandler) UnsubscribeNamespace(_ *Session, prefix Namespace) { h.ended <- prefix }

// TestDraft16NamespaceStream: the namespace subscription runs on its own
// stream; a namespace the server announced before the subscription is
// reported, the empty prefix is allowed, and closing the subscription ends
// it at the server.
func TestDraft16NamespaceStream(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			h := &recordingNSHandler{nsHandler: nsHandler{prefixes: make(chan Namespace, 1)}, ended: make(chan Namespace, 1)}
			p := newPair(t, scheme, Draft16, nil, &Options{Handler: h})
			ctx := ctxT(t)
			nsub, err := p.client.SubscribeNamespace(ctx, Namespace{})
			if err != nil {
				t.Fatalf("subscribe to the empty prefix: %v", err)
			}
			<-h.prefixes
			ns := Namespace{"a", "b"}
			if err := p.server.Announce(ctx, ns); err != nil {
				t.Fatal(err)
			}
			ev, err := nsub.Next(ctx)
			if err != nil || !ev.Active || !ev.Namespace.Equal(ns) {
				t.Fatalf("event %+v, %v; want %v active", ev, err, ns)
			}
			if err := nsub.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-h.ended:
				if len(got) != 0 {
					t.Fatalf("server ended prefix %v, want the empty prefix", got)
				}
			case <-ctx.Done():
				t.Fatal("the server never saw the namespace subscription end")
			}
			// The session goes on.
			if _, err := p.client.TrackStatus(ctx, Namespace{"x"}, "y"); err == nil {
				t.Fatal("track status of an unknown track succeeded")
			}
		})
	}
}

// TestDraft16NamespaceDoneByRequestID: PUBLISH_NAMESPACE_DONE names the
// PUBLISH_NAMESPACE by its request ID, both ways.
func TestDraft16NamespaceDoneByRequestID(t *testing.T) {
	r := newRawPeer(t, "moqt", Draft16, nil)
	ctx := ctxT(t)
	ns := Namespace{"pub"}
	r.sendMsg(&wire.PublishNamespace{RequestID: 0, Namespace: ns})
	if ok := readUntil[*wire.RequestOK](r); ok.RequestID != 0 {
		t.Fatalf("REQUEST_OK for %d, want 0", ok.RequestID)
	}
	if got := r.server.PeerNamespaces(); len(got) != 1 || !got[0].Equal(ns) {
		t.Fatalf("server's peer namespaces %v, want [%v]", got, ns)
	}
	r.sendMsg(&wire.PublishNamespaceDone{RequestID: 0})
	// Control messages are handled in order: once TRACK_STATUS is
	// answered, the DONE has been.
	r.sendMsg(&wire.TrackStatusRequest{RequestID: 2, Namespace: ns, Name: "t", SubscriberPriority: 128, Forward: true,
		FilterType: FilterLargestObject})
	if e := readUntil[*wire.RequestError](r); e.RequestID != 2 || e.ErrorCode != codes16.doesNotExist {
		t.Fatalf("got %+v, want REQUEST_ERROR DOES_NOT_EXIST for request 2", e)
	}
	if got := r.server.PeerNamespaces(); len(got) != 0 {
		t.Fatalf("server's peer namespaces %v after PUBLISH_NAMESPACE_DONE, want none", got)
	}

	// The server's own announce and withdrawal.
	errc := make(chan error, 1)
	go func() { errc <- r.server.Announce(ctx, Namespace{"srv"}) }()
	pn := readUntil[*wire.PublishNamespace](r)
	r.sendMsg(&wire.RequestOK{RequestID: pn.RequestID})
	if err := <-errc; err != nil {
		t.Fatalf("server announce: %v", err)
	}
	if err := r.server.Unannounce(Namespace{"srv"}); err != nil {
		t.Fatal(err)
	}
	if done := readUntil[*wire.PublishNamespaceDone](r); done.RequestID != pn.RequestID {
		t.Fatalf("PUBLISH_NAMESPACE_DONE for request %d, want %d", done.RequestID, pn.RequestID)
	}
}

// TestDraft16ClientSetup: a draft-16 CLIENT_SETUP carries no version; over
// raw QUIC it has PATH and AUTHORITY, over WebTransport neither.
func TestDraft16ClientSetup(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawServer16(t, scheme)
			if len(r.setup.Versions) != 0 {
				t.Errorf("versions %x in a draft-16 CLIENT_SETUP", r.setup.Versions)
			}
			path, hasPath := r.setup.Params.Get(wire.SetupPath)
			auth, hasAuth := r.setup.Params.Get(wire.SetupAuthority)
			if scheme == "https" {
				if hasPath || hasAuth {
					t.Errorf("PATH %v / AUTHORITY %v over WebTransport", hasPath, hasAuth)
				}
				return
			}
			if !hasPath || string(path.Bytes) != "/raw" {
				t.Errorf("PATH %q (present %v), want /raw", path.Bytes, hasPath)
			}
			if !hasAuth || string(auth.Bytes) != r.addr {
				t.Errorf("AUTHORITY %q (present %v), want %s", auth.Bytes, hasAuth, r.addr)
			}
			if v, ok := r.setup.Params.Int(wire.SetupMaxRequestID); !ok || v == 0 {
				t.Errorf("MAX_REQUEST_ID %d (present %v)", v, ok)
			}
		})
	}
}

// TestDraft16PublishNamespaceCancel: PUBLISH_NAMESPACE_CANCEL names the
// cancelled announce by its request ID; the namespace is then no longer
// announced.
func TestDraft16PublishNamespaceCancel(t *testing.T) {
	r := newRawPeer(t, "moqt", Draft16, nil)
	ctx := ctxT(t)
	errc := make(chan error, 1)
	go func() { errc <- r.server.Announce(ctx, Namespace{"srv"}) }()
	pn := readUntil[*wire.PublishNamespace](r)
	r.sendMsg(&wire.RequestOK{RequestID: pn.RequestID})
	if err := <-errc; err != nil {
		t.Fatalf("server announce: %v", err)
	}
	r.sendMsg(&wire.PublishNamespaceCancel{RequestID: pn.RequestID, ErrorCode: 0x1, Reason: "expired"})
	// Handled in order: once TRACK_STATUS is answered, so is the CANCEL.
	r.sendMsg(&wire.TrackStatusRequest{RequestID: 0, Namespace: Namespace{"x"}, Name: "y", SubscriberPriority: 128,
		Forward: true, FilterType: FilterLargestObject})
	readUntil[*wire.RequestError](r)
	if err := r.server.Unannounce(Namespace{"srv"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Unannounce after PUBLISH_NAMESPACE_CANCEL: %v, want ErrInvalid (no longer announced)", err)
	}
}

// TestDraft16RequestIDsAcrossStreams: requests travel on the control stream
// and on namespace subscription streams, so their IDs may arrive out of
// order; each ID is still usable only once.
func TestDraft16RequestIDsAcrossStreams(t *testing.T) {
	h := &nsHandler{prefixes: make(chan Namespace, 2)}
	r := newRawPeer(t, "moqt", Draft16, &Options{Handler: h})
	ctx := ctxT(t)
	// ID 2 on a namespace stream before ID 0 on the control stream.
	st, err := r.conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeMsg(t, st, &wire.SubscribeNamespace{RequestID: 2, Prefix: Namespace{"a"}, SubscribeOptions: wire.SubscribeOptionsNamespace})
	m, err := wire.NewControlReader(st, Draft16, nil).Read()
	if err != nil {
		t.Fatal(err)
	}
	if ok, isOK := m.(*wire.RequestOK); !isOK || ok.RequestID != 2 {
		t.Fatalf("namespace stream answer %#v, want REQUEST_OK for 2", m)
	}
	r.sendMsg(&wire.TrackStatusRequest{RequestID: 0, Namespace: Namespace{"x"}, Name: "y", SubscriberPriority: 128,
		Forward: true, FilterType: FilterLargestObject})
	if e := readUntil[*wire.RequestError](r); e.RequestID != 0 {
		t.Fatalf("answer for request %d, want 0", e.RequestID)
	}
	// ID 2 again: INVALID_REQUEST_ID.
	r.sendMsg(&wire.TrackStatusRequest{RequestID: 2, Namespace: Namespace{"x"}, Name: "y", SubscriberPriority: 128,
		Forward: true, FilterType: FilterLargestObject})
	r.expectClosed(CodeInvalidRequestID)
}

// TestDoesNotExistObjects: an object with status "does not exist" reaches
// draft-14 and draft-07 subscribers; draft-16 has no such status, so a
// draft-16 subscriber sees the gap (the objects around it arrive).
func TestDoesNotExistObjects(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"gaps"}
			tr, err := p.server.Publish(ns, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := p.client.Subscribe(ctx, ns, "t", SubscribeOptions{Filter: Filter{Type: FilterAbsoluteStart}})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			for id, st := range []ObjectStatus{StatusNormal, StatusDoesNotExist, StatusNormal} {
				o := &Object{Group: 0, ID: uint64(id), Status: st}
				if st == StatusNormal {
					o.Payload = []byte(payloadOf(loc(0, uint64(id))))
				}
				if err := tr.WriteObject(o); err != nil {
					t.Fatal(err)
				}
			}
			want := []Location{loc(0, 0), loc(0, 1), loc(0, 2)}
			if v.draft == Draft16 || gen18(v.draft) {
				want = []Location{loc(0, 0), loc(0, 2)}
			}
			for i, w := range want {
				o, err := sub.ReadObject(ctx)
				if err != nil {
					t.Fatalf("object %d: %v", i, err)
				}
				if o.Group != w.Group || o.ID != w.Object {
					t.Fatalf("object %d is (%d,%d), want (%d,%d)", i, o.Group, o.ID, w.Group, w.Object)
				}
			}
			// FETCH of the retained objects leaves the same ones out.
			f, err := p.client.Fetch(ctx, ns, "t", loc(0, 0), loc(0, 2), FetchOptions{})
			if err != nil {
				t.Fatalf("fetch: %v", err)
			}
			expectObjects(t, ctx, f, want, false)
			if o, err := f.ReadObject(ctx); !errors.Is(err, ErrEnded) {
				t.Fatalf("after the fetched objects: %v, %v; want ErrEnded", o, err)
			}
		})
	}
}
