package moq

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Draft-18 request streams, seen from a raw client (rawPeer with Draft18:
// each request message opens its own bidirectional stream, read reads the
// last one).

// reqOn18 opens a request stream and writes m on it.
func (r *rawPeer) reqOn18(m wire.Message) (transport.Stream, *wire.ControlReader) {
	r.t.Helper()
	r.sendMsg(m)
	return r.req, r.reqCR
}

// readOn reads the next message of a request stream.
func readOn(t *testing.T, st transport.Stream, cr *wire.ControlReader) (wire.Message, error) {
	t.Helper()
	st.SetReadDeadline(time.Now().Add(10 * time.Second))
	return cr.Read()
}

func writeMsg18(t *testing.T, w transport.SendStream, m wire.Message) {
	t.Helper()
	b, err := wire.AppendMessage(nil, Draft18, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}

func sub18(id uint64, ns Namespace, name string) *wire.Subscribe {
	return &wire.Subscribe{RequestID: id, Namespace: ns, Name: name, SubscriberPriority: 128,
		Forward: true, FilterType: FilterLatestObject}
}

// TestDraft18SubscribeStream: SUBSCRIBE_OK comes on the request's stream
// without a Request ID; REQUEST_UPDATE there is answered there; resetting
// the stream unsubscribes (the track loses its subscriber).
func TestDraft18SubscribeStream(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, scheme, Draft18, nil)
			ns := Namespace{"s18"}
			tr, err := r.server.Publish(ns, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			idle := make(chan struct{}, 1)
			tr.OnIdle(func() { idle <- struct{}{} })
			st, cr := r.reqOn18(sub18(0, ns, "t"))
			m, err := readOn(t, st, cr)
			if _, ok := m.(*wire.SubscribeOK); err != nil || !ok {
				t.Fatalf("got %T, %v; want SUBSCRIBE_OK", m, err)
			}
			if tr.Subscribers() != 1 {
				t.Fatalf("%d subscribers, want 1", tr.Subscribers())
			}
			u := &wire.SubscribeUpdate{RequestID: 2, SubscriberPriority: 5, Changed: wire.UpdatePriority}
			writeMsg18(t, st, u)
			r.nextReq = 4 // the update took Request ID 2
			if m, err := readOn(t, st, cr); err != nil {
				t.Fatal(err)
			} else if _, ok := m.(*wire.RequestOK); !ok {
				t.Fatalf("update answered with %T, want REQUEST_OK", m)
			}
			st.CancelWrite(reqCancelled)
			st.CancelRead(reqCancelled)
			select {
			case <-idle:
			case <-ctxT(t).Done():
				t.Fatal("the reset did not end the subscription")
			}
			r.expectServing()
		})
	}
}

// TestDraft18PublishDone: the end of a track sends PUBLISH_DONE on the
// subscription's stream, then FIN.
func TestDraft18PublishDone(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, scheme, Draft18, nil)
			ns := Namespace{"done18"}
			tr, err := r.server.Publish(ns, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			st, cr := r.reqOn18(sub18(0, ns, "t"))
			if m, err := readOn(t, st, cr); err != nil {
				t.Fatal(err)
			} else if _, ok := m.(*wire.SubscribeOK); !ok {
				t.Fatalf("got %T, want SUBSCRIBE_OK", m)
			}
			tr.Close()
			m, err := readOn(t, st, cr)
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := m.(*wire.PublishDone); !ok || d.StatusCode != done14TrackEnded {
				t.Fatalf("got %#v, want PUBLISH_DONE with TRACK_ENDED", m)
			}
			if m, err := readOn(t, st, cr); !errors.Is(err, io.EOF) {
				t.Fatalf("after PUBLISH_DONE: %T, %v; want the stream's end", m, err)
			}
		})
	}
}

// TestDraft18OneShotRequests: TRACK_STATUS and FETCH are answered on their
// streams, which then end (FIN); SUBSCRIBE_TRACKS and PUBLISH are refused
// with REQUEST_ERROR and FIN; the session goes on.
func TestDraft18OneShotRequests(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, scheme, Draft18, nil)
			ns := Namespace{"once18"}
			tr, err := r.server.Publish(ns, "t", TrackOptions{RetainGroups: 2})
			if err != nil {
				t.Fatal(err)
			}
			tr.Write([]byte("a"))
			expectAnswer := func(name string, m wire.Message, check func(wire.Message) bool) {
				t.Helper()
				st, cr := r.reqOn18(m)
				got, err := readOn(t, st, cr)
				if err != nil || !check(got) {
					t.Fatalf("%s answered %#v, %v", name, got, err)
				}
				if got, err := readOn(t, st, cr); !errors.Is(err, io.EOF) {
					t.Fatalf("%s: after the answer %T, %v; want the stream's end", name, got, err)
				}
				st.Close()
			}
			expectAnswer("TRACK_STATUS", &wire.TrackStatusRequest{RequestID: 0, Namespace: ns, Name: "t"}, func(m wire.Message) bool {
				ok, isOK := m.(*wire.RequestOK)
				if !isOK {
					return false
				}
				ts, err := wire.TrackStatusFromRequestOK18(ok)
				return err == nil && ts.ContentExists && ts.Largest == (Location{Group: 0, Object: 0})
			})
			expectAnswer("FETCH", &wire.Fetch{RequestID: 2, FetchType: wire.FetchStandalone, Namespace: ns, Name: "t",
				End: Location{Group: 1}, SubscriberPriority: 1}, func(m wire.Message) bool {
				ok, isOK := m.(*wire.FetchOK)
				return isOK && ok.End == Location{Group: 0, Object: 0}
			})
			refused := func(code uint64) func(wire.Message) bool {
				return func(m wire.Message) bool {
					e, ok := m.(*wire.RequestError)
					return ok && e.ErrorCode == code
				}
			}
			expectAnswer("SUBSCRIBE_TRACKS", &wire.SubscribeTracks{RequestID: 4, Prefix: ns, Forward: true}, refused(0x3))
			expectAnswer("PUBLISH", &wire.Publish{RequestID: 6, Namespace: ns, Name: "p", TrackAlias: 1, Forward: true}, refused(0x20))
			r.expectServing()
		})
	}
}

// TestDraft18Hostile: what a draft-18 server closes the session for.
func TestDraft18Hostile(t *testing.T) {
	cases := []struct {
		name string
		code uint64
		act  func(r *rawPeer)
	}{
		{"request on the control stream", CodeProtocolViolation, func(r *rawPeer) {
			b, err := wire.AppendMessage(nil, Draft18, sub18(0, Namespace{"x"}, "t"))
			if err != nil {
				r.t.Fatal(err)
			}
			r.sendRaw(b)
		}},
		{"answer opening a stream", CodeProtocolViolation, func(r *rawPeer) {
			st, err := r.conn.OpenStreamSync(ctxT(r.t))
			if err != nil {
				r.t.Fatal(err)
			}
			writeMsg18(r.t, st, &wire.RequestOK{})
		}},
		{"request ID reused", CodeInvalidRequestID, func(r *rawPeer) {
			r.reqOn18(&wire.PublishNamespace{RequestID: 0, Namespace: Namespace{"a"}})
			if m := r.read(); !isRequestOK(m) {
				r.t.Fatalf("got %T, want REQUEST_OK", m)
			}
			r.reqOn18(&wire.PublishNamespace{RequestID: 0, Namespace: Namespace{"b"}})
		}},
		{"request ID of the server's side", CodeInvalidRequestID, func(r *rawPeer) {
			r.reqOn18(&wire.PublishNamespace{RequestID: 1, Namespace: Namespace{"a"}})
		}},
		{"malformed message on a request stream", CodeProtocolViolation, func(r *rawPeer) {
			st, err := r.conn.OpenStreamSync(ctxT(r.t))
			if err != nil {
				r.t.Fatal(err)
			}
			st.Write(r.frame(0x03, []byte{0x80})) // SUBSCRIBE ending inside its first varint
		}},
		{"unexpected message after the request", CodeProtocolViolation, func(r *rawPeer) {
			st, _ := r.reqOn18(&wire.PublishNamespace{RequestID: 0, Namespace: Namespace{"a"}})
			if m := r.read(); !isRequestOK(m) {
				r.t.Fatalf("got %T, want REQUEST_OK", m)
			}
			writeMsg18(r.t, st, &wire.SubscribeOK{TrackAlias: 1})
		}},
		{"second request on a stream", CodeProtocolViolation, func(r *rawPeer) {
			st, _ := r.reqOn18(&wire.PublishNamespace{RequestID: 0, Namespace: Namespace{"a"}})
			writeMsg18(r.t, st, &wire.PublishNamespace{RequestID: 2, Namespace: Namespace{"b"}})
		}},
		{"control stream closed", CodeProtocolViolation, func(r *rawPeer) {
			r.ctrl.Close()
		}},
		{"unknown control message", CodeProtocolViolation, func(r *rawPeer) {
			r.sendRaw(r.frame(0x3F00, nil))
		}},
	}
	for _, tc := range cases {
		for _, scheme := range schemes {
			t.Run(tc.name+"/"+scheme, func(t *testing.T) {
				t.Parallel()
				r := newRawPeer(t, scheme, Draft18, nil)
				tc.act(r)
				r.expectClosed(tc.code)
			})
		}
	}
}

func isRequestOK(m wire.Message) bool {
	_, ok := m.(*wire.RequestOK)
	return ok
}

// rawServer18 is a draft-18 server that speaks MoQT bytes itself, to test
// how a client session copes with a misbehaving peer.
type rawServer18 struct {
	t      *testing.T
	conn   transport.Conn
	client *Session
	setup  *wire.Setup // the client's
	addr   string      // host:port the client dialed
	draft  Draft       // 18 or 20
}

func newRawServer18(t *testing.T, scheme string) *rawServer18 {
	t.Helper()
	return newRawServer(t, scheme, Draft18)
}

// newRawServer is a raw server of draft d (18 or 20).
func newRawServer(t *testing.T, scheme string, d Draft) *rawServer18 {
	t.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := transport.Listen("127.0.0.1:0", transport.ServerOptions{
		Options:   transport.Options{TLS: transport.TLSOptions{Certificates: []tls.Certificate{cert}}},
		Protocols: []string{d.ALPN()},
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
			&Options{Drafts: []Draft{d}, TLS: TLSConfig{PinSHA256: [][32]byte{fp}}})
		ch <- dialed{s, err}
	}()
	r := &rawServer18{t: t, draft: d}
	if r.conn, err = ln.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.conn.CloseWithError(0, "") })
	in, err := r.conn.AcceptUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := wire.NewControlReader(in, d, nil).Read()
	if err != nil || !isSetup(m) {
		t.Fatalf("client's control stream: %T, %v; want SETUP", m, err)
	}
	r.setup, r.addr = m.(*wire.Setup), ln.Addr().String()
	out, err := r.conn.OpenUniStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeMsg18(t, out, &wire.Setup{})
	dl := <-ch
	if dl.err != nil {
		t.Fatal(dl.err)
	}
	r.client = dl.s
	t.Cleanup(func() { r.client.Close(); r.client.Wait() })
	return r
}

// acceptRequest accepts the client's next request stream and reads its
// request.
func (r *rawServer18) acceptRequest() (transport.Stream, wire.Message) {
	r.t.Helper()
	st, err := r.conn.AcceptStream(ctxT(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	m, err := readOn(r.t, st, wire.NewControlReader(st, r.draft, nil))
	if err != nil {
		r.t.Fatal(err)
	}
	return st, m
}

// TestDraft18ClientHostile: answers a draft-18 client closes the session
// for, on the stream of its SUBSCRIBE.
func TestDraft18ClientHostile(t *testing.T) {
	cases := []struct {
		name    string
		answers []wire.Message
	}{
		{"second SUBSCRIBE_OK", []wire.Message{&wire.SubscribeOK{TrackAlias: 1}, &wire.SubscribeOK{TrackAlias: 2}}},
		{"REQUEST_OK without an update", []wire.Message{&wire.SubscribeOK{TrackAlias: 1}, &wire.RequestOK{}}},
		{"PUBLISH_DONE before SUBSCRIBE_OK", []wire.Message{&wire.PublishDone{StatusCode: 0x2}}},
		{"FETCH_OK to a SUBSCRIBE", []wire.Message{&wire.FetchOK{}}},
		{"REQUEST_OK to a SUBSCRIBE", []wire.Message{&wire.RequestOK{}}},
		{"PUBLISH_DONE after REQUEST_ERROR", []wire.Message{&wire.RequestError{ErrorCode: 0x10}, &wire.PublishDone{StatusCode: 0x2}}},
	}
	for _, tc := range cases {
		for _, scheme := range schemes {
			t.Run(tc.name+"/"+scheme, func(t *testing.T) {
				t.Parallel()
				r := newRawServer18(t, scheme)
				go r.client.Subscribe(context.Background(), Namespace{"x"}, "t", SubscribeOptions{})
				st, m := r.acceptRequest()
				if _, ok := m.(*wire.Subscribe); !ok {
					t.Fatalf("got %T, want SUBSCRIBE", m)
				}
				for _, a := range tc.answers {
					writeMsg18(t, st, a)
				}
				expectViolation(t, r.client)
			})
		}
	}
}

// TestDraft18ClientRequestReset: a publisher that resets a subscription's
// stream ends the subscription (ErrEnded), and one that resets a request
// before answering fails it; the session goes on.
func TestDraft18ClientRequestReset(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawServer18(t, scheme)
			ctx := ctxT(t)
			ch := subscribeAsync(ctx, r.client, Namespace{"x"}, "t", SubscribeOptions{})
			st, _ := r.acceptRequest()
			writeMsg18(t, st, &wire.SubscribeOK{TrackAlias: 1})
			res := <-ch
			if res.err != nil {
				t.Fatal(res.err)
			}
			st.CancelWrite(reqCancelled)
			if _, err := res.sub.ReadObject(ctx); !errors.Is(err, ErrEnded) {
				t.Fatalf("read after the reset: %v, want ErrEnded", err)
			}
			ch = subscribeAsync(ctx, r.client, Namespace{"x"}, "u", SubscribeOptions{})
			st, _ = r.acceptRequest()
			st.CancelWrite(reqCancelled)
			if res := <-ch; res.err == nil {
				t.Fatal("SUBSCRIBE whose stream was reset succeeded")
			}
			if r.client.Err() != nil {
				t.Fatalf("session ended: %v", r.client.Err())
			}
		})
	}
}

// FuzzServerSession18 feeds a draft-18 server session a raw client's bytes:
// a script of operations, each [op][length][length bytes]:
//
//	op%4 == 0: the bytes on the control stream as they are
//	op%4 == 1: a new bidirectional (request) stream carrying the bytes,
//	           left open (its FIN comes when op is 0x81 or above)
//	op%4 == 2: a new unidirectional stream carrying the bytes, then closed
//	op%4 == 3: a datagram
//
// Whatever it sends, the session must not panic and must end when the peer
// closes the connection.
func FuzzServerSession18(f *testing.F) {
	ns := Namespace{"fz"}
	msg := func(m wire.Message) []byte {
		b, err := wire.AppendMessage(nil, Draft18, m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	var script []byte
	add := func(op byte, b []byte) {
		script = append(script, op, byte(len(b)))
		script = append(script, b...)
	}
	add(1, append(msg(sub18(0, ns, "t")), msg(&wire.SubscribeUpdate{RequestID: 2, Forward: false, Changed: wire.UpdateForward})...))
	add(0x81, msg(&wire.Fetch{RequestID: 4, FetchType: wire.FetchStandalone, Namespace: ns, Name: "t", End: Location{Group: 1}}))
	add(1, msg(&wire.TrackStatusRequest{RequestID: 6, Namespace: ns, Name: "t"}))
	add(1, msg(&wire.SubscribeNamespace{RequestID: 8, Prefix: ns}))
	add(1, msg(&wire.PublishNamespace{RequestID: 10, Namespace: Namespace{"p"}}))
	add(1, msg(&wire.SubscribeTracks{RequestID: 12, Prefix: ns, Forward: true}))
	add(0, msg(&wire.GoAway{}))
	f.Add(script)
	f.Add([]byte{1, 3, 0x03, 0x00, 0x01})
	f.Add([]byte{1, 2, 0x07, 0x00, 0x00})
	f.Add([]byte{0, 4, 0x80, 0x2F, 0x00, 0x00})

	f.Fuzz(func(t *testing.T, script []byte) {
		r := newRawPeer(t, "moqt", Draft18, &Options{RequestTimeout: 200 * time.Millisecond, IdleTimeout: 5 * time.Second,
			Logger: slog.New(slog.DiscardHandler)})
		tr, err := r.server.Publish(ns, "t", TrackOptions{RetainGroups: 1})
		if err != nil {
			t.Fatal(err)
		}
		tr.Write([]byte("hello"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for len(script) >= 2 {
			op, n := script[0], int(script[1])
			script = script[2:]
			if n > len(script) {
				n = len(script)
			}
			b := script[:n]
			script = script[n:]
			switch op % 4 {
			case 0:
				r.ctrl.Write(b)
			case 1:
				if st, err := r.conn.OpenStreamSync(ctx); err == nil {
					st.Write(b)
					if op >= 0x81 {
						st.Close()
					}
				}
			case 2:
				if st, err := r.conn.OpenUniStreamSync(ctx); err == nil {
					st.Write(b)
					st.Close()
				}
			case 3:
				r.conn.SendDatagram(b)
			}
		}
		select {
		case <-r.server.Done():
			var se *SessionError
			if !errors.As(r.server.Err(), &se) {
				t.Fatalf("the server session ended with %v, want a *SessionError", r.server.Err())
			}
		default:
		}
		r.conn.CloseWithError(0, "")
		select {
		case <-r.server.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the server session did not end within 10s of its peer closing the connection")
		}
	})
}

// TestExtensionsOnTheWire: the API's extension block (draft-14 form,
// absolute keys) goes out in each draft's form and comes back unchanged:
// draft-16 delta-codes the keys, draft-18 also re-codes the varints (a
// value of 300 is two bytes in either varint, but not the same two).
func TestExtensionsOnTheWire(t *testing.T) {
	api, err := wire.AppendExtensions(nil, wire.Params{wire.IntParam(0x2, 300), wire.BytesParam(0x3, []byte("m")),
		wire.IntParam(0x40, 1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Draft{Draft14, Draft16, Draft18} {
		s := &Session{draft: d, lim: &wire.Limits{}}
		w := s.extToWire(api)
		ps, err := wire.ParseExtensionsDraft(d, w, nil)
		if err != nil {
			t.Fatalf("%v: %x does not parse: %v", d, w, err)
		}
		if len(ps) != 3 || ps[0].Key != 0x2 || ps[0].Int != 300 || ps[1].Key != 0x3 || string(ps[1].Bytes) != "m" || ps[2].Key != 0x40 || ps[2].Int != 1 {
			t.Fatalf("%v: %x parses as %+v", d, w, ps)
		}
		if back := s.extFromWire(w); !bytes.Equal(back, api) {
			t.Fatalf("%v: back %x, want %x", d, back, api)
		}
	}
}

// TestDraft18ManyRequests: each draft-18 request holds a bidirectional
// stream for its lifetime; more subscriptions than QUIC's default stream
// limit (100) run at once (Options.MaxRequestID sets the limit).
func TestDraft18ManyRequests(t *testing.T) {
	for _, v := range variantsWhere(func(d Draft) bool { return d == Draft18 }) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			const n = 150
			p := newPair(t, v.scheme, v.draft, nil, &Options{MaxRequestID: n})
			ctx := ctxT(t)
			ns := Namespace{"many18"}
			subs := make([]*Subscription, 0, n)
			tracks := make([]*Track, 0, n)
			for i := range n {
				name := fmt.Sprint(i)
				tr, err := p.server.Publish(ns, name, TrackOptions{})
				if err != nil {
					t.Fatal(err)
				}
				tracks = append(tracks, tr)
				sub, err := p.client.Subscribe(ctx, ns, name, SubscribeOptions{})
				if err != nil {
					t.Fatalf("subscription %d: %v", i, err)
				}
				subs = append(subs, sub)
			}
			// All of them are live: each gets its object.
			for i, sub := range subs {
				tracks[i].Write([]byte("x"))
				if o, err := sub.ReadObject(ctx); err != nil || string(o.Payload) != "x" {
					t.Fatalf("subscription %d: %v, %v", i, o, err)
				}
			}
			for _, sub := range subs {
				sub.Close()
			}
		})
	}
}

// TestDraft18FetchDescending: a draft-18 FETCH asking for descending group
// order gets the groups last first (objects within a group in order): the
// fetch stream delta-codes Group IDs downwards, and both ends agree.
func TestDraft18FetchDescending(t *testing.T) {
	for _, v := range variantsWhere(func(d Draft) bool { return d == Draft18 }) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"desc18"}
			tr, err := p.server.Publish(ns, "t", TrackOptions{RetainGroups: 8})
			if err != nil {
				t.Fatal(err)
			}
			for g := 0; g < 4; g++ {
				writeGroup(t, tr, 2, false)
			}
			f, err := p.client.Fetch(ctx, ns, "t", loc(1, 0), loc(3, 1), FetchOptions{GroupOrder: wire.GroupOrderDescending})
			if err != nil {
				t.Fatal(err)
			}
			expectObjects(t, ctx, f, []Location{loc(3, 0), loc(3, 1), loc(2, 0), loc(2, 1), loc(1, 0), loc(1, 1)}, true)
			if o, err := f.ReadObject(ctx); !errors.Is(err, ErrEnded) {
				t.Fatalf("after the fetched objects: %v, %v; want ErrEnded", o, err)
			}
		})
	}
}

// TestDraft18GoAway: a draft-18 server's GOAWAY carries its drain time
// and the smallest of the client's Request IDs it has not processed; a
// request after it is refused GOING_AWAY on its stream.
func TestDraft18GoAway(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, scheme, Draft18, nil)
			r.reqOn18(&wire.PublishNamespace{RequestID: 0, Namespace: Namespace{"a"}})
			if m := r.read(); !isRequestOK(m) {
				t.Fatalf("got %T, want REQUEST_OK", m)
			}
			if err := r.server.GoAway("", 30*time.Second); err != nil {
				t.Fatal(err)
			}
			r.reqCR = nil // read the control stream
			ga, ok := r.read().(*wire.GoAway)
			if !ok || ga.Timeout != 30000 || !ga.HasRequestID || ga.RequestID != 2 {
				t.Fatalf("got %#v, want GOAWAY with timeout 30000 and request ID 2", ga)
			}
			r.reqOn18(&wire.PublishNamespace{RequestID: 2, Namespace: Namespace{"b"}})
			if e, ok := r.read().(*wire.RequestError); !ok || e.ErrorCode != reqGoingAway {
				t.Fatalf("request after GOAWAY answered %#v, want REQUEST_ERROR GOING_AWAY", e)
			}
		})
	}
}

// TestDraft18HostileGoAway: a GOAWAY naming a Request ID of the wrong side,
// and a second GOAWAY on one request stream, close the session.
func TestDraft18HostileGoAway(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme+"/wrong side", func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, scheme, Draft18, nil)
			r.sendMsg(&wire.GoAway{RequestID: 2, HasRequestID: true}) // the server's IDs are odd
			r.expectClosed(CodeInvalidRequestID)
		})
		t.Run(scheme+"/twice on a request stream", func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, scheme, Draft18, nil)
			st, _ := r.reqOn18(&wire.PublishNamespace{RequestID: 0, Namespace: Namespace{"a"}})
			writeMsg18(t, st, &wire.GoAway{})
			writeMsg18(t, st, &wire.GoAway{})
			r.expectClosed(CodeProtocolViolation)
		})
	}
}

// TestDraft18HostileRequestIDJump: a Request ID far ahead of the next one
// (draft-18 has no maximum) closes the session with INVALID_REQUEST_ID at
// once, and one a little ahead (a request overtaken by the next) is taken.
func TestDraft18HostileRequestIDJump(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, scheme, Draft18, nil)
			r.reqOn18(&wire.PublishNamespace{RequestID: 6, Namespace: Namespace{"a"}})
			if m := r.read(); !isRequestOK(m) {
				t.Fatalf("got %T, want REQUEST_OK", m)
			}
			r.reqOn18(&wire.PublishNamespace{RequestID: 1 << 50, Namespace: Namespace{"b"}})
			r.expectClosed(CodeInvalidRequestID)
		})
	}
}

// TestDraft18StreamLimit: the server's MaxRequestID (4) makes its
// bidirectional stream limit 20; the client's lasting requests beyond it
// wait for a stream and fail with ErrTimeout, and a closed subscription
// frees its stream for the next request.
func TestDraft18StreamLimit(t *testing.T) {
	for _, v := range variantsWhere(func(d Draft) bool { return d == Draft18 }) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, &Options{RequestTimeout: time.Second}, &Options{MaxRequestID: 4})
			ctx := ctxT(t)
			ns := Namespace{"limit18"}
			var subs []*Subscription
			var err error
			for i := 0; ; i++ {
				name := fmt.Sprint(i)
				if _, perr := p.server.Publish(ns, name, TrackOptions{}); perr != nil {
					t.Fatal(perr)
				}
				var sub *Subscription
				if sub, err = p.client.Subscribe(ctx, ns, name, SubscribeOptions{}); err != nil {
					break
				}
				subs = append(subs, sub)
				if i > 20 {
					t.Fatalf("%d subscriptions open, beyond the stream limit of 20", len(subs))
				}
			}
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("request beyond the limit: %v, want ErrTimeout", err)
			}
			// WebTransport's CONNECT stream takes one of the 20.
			if len(subs) < 19 {
				t.Fatalf("only %d subscriptions before the limit of 20", len(subs))
			}
			// The stream's credit comes back once both sides have ended it:
			// until then a request may still time out waiting.
			subs[0].Close()
			for {
				_, err := p.client.Subscribe(ctx, ns, "0", SubscribeOptions{})
				if err == nil {
					break
				}
				if !errors.Is(err, ErrTimeout) || ctx.Err() != nil {
					t.Fatalf("subscribe after one closed: %v", err)
				}
			}
		})
	}
}

// TestDraft18ClientRedirect: a REQUEST_ERROR with REDIRECT (and its
// Redirect) fails the SUBSCRIBE with code 0x34 (the redirect is not
// followed) and the session goes on.
func TestDraft18ClientRedirect(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawServer18(t, scheme)
			ch := make(chan error, 1)
			go func() {
				_, err := r.client.Subscribe(ctxT(t), Namespace{"x"}, "t", SubscribeOptions{})
				ch <- err
			}()
			st, _ := r.acceptRequest()
			writeMsg18(t, st, &wire.RequestError{ErrorCode: wire.ErrorRedirect18, Reason: "elsewhere",
				Redirect: &wire.Redirect{ConnectURI: "moqt://other.example/", Namespace: Namespace{"y"}, Name: "u"}})
			st.Close()
			var re *RequestError
			if err := <-ch; !errors.As(err, &re) || re.Code != wire.ErrorRedirect18 {
				t.Fatalf("SUBSCRIBE answered REDIRECT: %v, want a *RequestError with code 0x34", err)
			}
			if r.client.Err() != nil {
				t.Fatalf("session ended: %v", r.client.Err())
			}
		})
	}
}

// TestDraft18ClientSetup: a draft-18 client's SETUP has no MAX_REQUEST_ID;
// over raw QUIC it carries PATH and AUTHORITY, over WebTransport neither;
// it names the implementation.
func TestDraft18ClientSetup(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := newRawServer18(t, scheme)
			ps := r.setup.Params
			if _, ok := ps.Get(wire.SetupMaxRequestID); ok {
				t.Error("MAX_REQUEST_ID in a draft-18 SETUP")
			}
			if impl, ok := ps.Get(wire.SetupImplementation); !ok || string(impl.Bytes) != "moq-ffi-go" {
				t.Errorf("MOQT_IMPLEMENTATION %q (present %v)", impl.Bytes, ok)
			}
			path, hasPath := ps.Get(wire.SetupPath)
			auth, hasAuth := ps.Get(wire.SetupAuthority)
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
		})
	}
}
