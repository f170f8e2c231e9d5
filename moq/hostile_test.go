package moq

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// rawPeer is a client that speaks MoQT bytes itself, to test how a server
// session copes with a misbehaving peer.
type rawPeer struct {
	t     *testing.T
	draft Draft
	conn  transport.Conn
	ctrl  transport.SendStream    // the control stream (18: ours, unidirectional)
	in    transport.ReceiveStream // where the server's control messages come
	cr    *wire.ControlReader
	// Draft-18: the stream of the last request sent, where read reads.
	req     transport.Stream
	reqCR   *wire.ControlReader
	nextReq uint64 // above the highest Request ID sent
	reqOf   uint64 // draft-18: the Request ID of the request stream req
	server  *Session
	ln      *Listener
}

// newRawPeer starts a server and connects a raw client to it, completing
// SETUP by hand.
func newRawPeer(t *testing.T, scheme string, d Draft, sopts *Options) *rawPeer {
	t.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sopts == nil {
		sopts = &Options{}
	}
	sopts.TLS.Certificates = []tls.Certificate{cert}
	if d == Draft07 {
		sopts.Draft07Layout = Draft07
	}
	ln, err := Listen("127.0.0.1:0", sopts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := fmt.Sprintf("%s://%s/raw", scheme, ln.Addr())
	conn, err := transport.Dial(ctx, url, transport.Options{TLS: transport.TLSOptions{PinSHA256: [][32]byte{fp}},
		Protocols: []string{d.ALPN()}})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	r := &rawPeer{t: t, draft: d, conn: conn, ln: ln}
	t.Cleanup(func() {
		conn.CloseWithError(0, "")
		if r.server != nil {
			r.server.Close()
			r.server.Wait()
		}
		ln.Close()
	})
	if gen18(d) {
		// A pair of unidirectional control streams, SETUP both ways.
		if r.ctrl, err = conn.OpenUniStreamSync(ctx); err != nil {
			t.Fatal(err)
		}
		r.sendMsg(&wire.Setup{Params: wire.Params{wire.BytesParam(wire.SetupPath, []byte("/raw"))}})
		if r.in, err = conn.AcceptUniStream(ctx); err != nil {
			t.Fatal(err)
		}
		r.cr = wire.NewControlReader(r.in, d, nil)
		if m := r.read(); !isSetup(m) {
			t.Fatalf("got %T, want SETUP", m)
		}
		if r.server, err = ln.Accept(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.ctrl, r.in = st, st
	ps := wire.Params{wire.IntParam(wire.SetupMaxRequestID, 100)}
	if d.Is07() {
		ps = append(ps, wire.IntParam(wire.SetupRole, wire.RolePubSub))
	}
	r.sendMsg(&wire.ClientSetup{Versions: []uint64{d.Version()}, Params: ps})
	r.cr = wire.NewControlReader(r.in, d, nil)
	m := r.read()
	if _, ok := m.(*wire.ServerSetup); !ok {
		t.Fatalf("got %T, want SERVER_SETUP", m)
	}
	if r.server, err = ln.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

func isSetup(m wire.Message) bool {
	_, ok := m.(*wire.Setup)
	return ok
}

func (r *rawPeer) sendMsg(m wire.Message) {
	r.t.Helper()
	if r.draft == Draft20 {
		m = to20(m) // the tests' messages are in the engine's form
	}
	b, err := wire.AppendMessage(nil, r.draft, m)
	if err != nil {
		r.t.Fatal(err)
	}
	if gen18(r.draft) && isRequest18(m) {
		// Draft-18: a request opens a stream of its own.
		st, err := r.conn.OpenStreamSync(ctxT(r.t))
		if err != nil {
			r.t.Fatal(err)
		}
		if _, err := st.Write(b); err != nil {
			r.t.Fatal(err)
		}
		r.req, r.reqCR = st, wire.NewControlReader(st, r.draft, nil)
		r.reqOf = requestID18(m)
		if id := requestID18(m); id+2 > r.nextReq {
			r.nextReq = id + 2
		}
		return
	}
	r.sendRaw(b)
}

// requestID18 returns the Request ID of a draft-18 request message.
func requestID18(m wire.Message) uint64 {
	switch m := m.(type) {
	case *wire.Subscribe:
		return m.RequestID
	case *wire.Fetch:
		return m.RequestID
	case *wire.TrackStatusRequest:
		return m.RequestID
	case *wire.PublishNamespace:
		return m.RequestID
	case *wire.SubscribeNamespace:
		return m.RequestID
	case *wire.Publish:
		return m.RequestID
	case *wire.SubscribeTracks:
		return m.RequestID
	}
	return 0
}

// isRequest18 reports whether m opens a draft-18 request stream.
func isRequest18(m wire.Message) bool {
	switch m.(type) {
	case *wire.Subscribe, *wire.Fetch, *wire.TrackStatusRequest, *wire.PublishNamespace,
		*wire.SubscribeNamespace, *wire.Publish, *wire.SubscribeTracks:
		return true
	}
	return false
}

func (r *rawPeer) sendRaw(b []byte) {
	r.t.Helper()
	if _, err := r.ctrl.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// read returns the server's next control message.
func (r *rawPeer) read() wire.Message {
	r.t.Helper()
	if r.reqCR != nil {
		r.req.SetReadDeadline(time.Now().Add(10 * time.Second))
		m, err := r.reqCR.Read()
		if err != nil {
			r.t.Fatalf("reading the server's request stream: %v", err)
		}
		// Answers on a draft-18 request stream carry no Request ID: it is
		// the stream's, as the session engine reads it.
		switch a := m.(type) {
		case *wire.SubscribeOK:
			a.RequestID = r.reqOf
		case *wire.RequestOK:
			a.RequestID = r.reqOf
		case *wire.RequestError:
			a.RequestID = r.reqOf
		}
		return m
	}
	r.in.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := r.cr.Read()
	if err != nil {
		r.t.Fatalf("reading the server's control stream: %v", err)
	}
	return m
}

// readUntil skips messages until one of type T arrives.
func readUntil[T wire.Message](r *rawPeer) T {
	r.t.Helper()
	for {
		if m, ok := r.read().(T); ok {
			return m
		}
	}
}

// expectClosed waits for the server session to end and checks its code.
func (r *rawPeer) expectClosed(code uint64) {
	r.t.Helper()
	ctx := ctxT(r.t)
	select {
	case <-r.server.Done():
	case <-ctx.Done():
		r.t.Fatalf("server session still open, want closed with code %#x", code)
	}
	var se *SessionError
	if !errors.As(r.server.Err(), &se) {
		r.t.Fatalf("server Err() = %v, want a *SessionError", r.server.Err())
	}
	if se.Code != code || !se.Local {
		r.t.Fatalf("server closed with %v (code %#x, local %v), want local code %#x", se, se.Code, se.Local, code)
	}
	select {
	case <-r.conn.Done(): // the peer sees the close too
	case <-ctx.Done():
		r.t.Fatal("raw connection still open after the server closed")
	}
}

// frame frames a raw control message payload for the peer's draft.
func (r *rawPeer) frame(typ uint64, payload []byte) []byte {
	b := wire.AppendVarint(nil, typ)
	if gen18(r.draft) {
		b = wire.AppendVarint18(nil, typ)
	}
	if !r.draft.Is07() {
		b = append(b, byte(len(payload)>>8), byte(len(payload)))
	} else {
		b = wire.AppendVarint(b, uint64(len(payload)))
	}
	return append(b, payload...)
}

func (r *rawPeer) subscribe(id uint64, ns Namespace, name string) {
	r.t.Helper()
	r.sendMsg(&wire.Subscribe{RequestID: id, TrackAlias: id, Namespace: ns, Name: name, SubscriberPriority: 128,
		Forward: true, FilterType: FilterLatestObject})
}

// reqID is the n-th client request ID of the draft.
func (r *rawPeer) reqID(n uint64) uint64 {
	if !r.draft.Is07() {
		return 2 * n
	}
	return n
}

func TestHostileMalformedControlMessage(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, nil)
			// SUBSCRIBE whose payload ends inside its first varint.
			r.sendRaw(r.frame(0x03, []byte{0x40}))
			r.expectClosed(CodeProtocolViolation)
		})
	}
}

func TestHostileTrailingBytes(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, nil)
			// UNSUBSCRIBE (0x0A) with a byte after its only field.
			r.sendRaw(r.frame(0x0A, []byte{0x00, 0x00}))
			r.expectClosed(CodeProtocolViolation)
		})
	}
}

func TestHostileUnknownMessageType(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, nil)
			r.sendRaw(r.frame(0x3f, nil))
			r.expectClosed(CodeProtocolViolation)
		})
	}
}

func TestHostileSecondSetup(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, nil)
			if gen18(v.draft) {
				r.sendMsg(&wire.Setup{})
			} else {
				r.sendMsg(&wire.ClientSetup{Versions: []uint64{v.draft.Version()}})
			}
			r.expectClosed(CodeProtocolViolation)
		})
	}
}

// TestHostileTooManyRequests: requests beyond the granted maximum close
// the session with TOO_MANY_REQUESTS (draft-07: TOO_MANY_SUBSCRIBES).
func TestHostileTooManyRequests(t *testing.T) {
	for _, v := range variantsWhere(hasRequestCredit) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, &Options{MaxRequestID: 2})
			ns := Namespace{"many"}
			for i := 0; i < 3; i++ {
				if _, err := r.server.Publish(ns, fmt.Sprint(i), TrackOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			// Two subscriptions stay active, so no credit comes back.
			for n := uint64(0); n < 2; n++ {
				r.subscribe(r.reqID(n), ns, fmt.Sprint(n))
				if ok := readUntil[*wire.SubscribeOK](r); ok.RequestID != r.reqID(n) {
					t.Fatalf("SUBSCRIBE_OK for %d, want %d", ok.RequestID, r.reqID(n))
				}
			}
			r.subscribe(r.reqID(2), ns, "2")
			want := CodeTooManyRequests
			if v.draft.Is07() {
				want = 0x6 // Too Many Subscribes
			}
			r.expectClosed(want)
		})
	}
}

// TestHostileRequestIDCredit: credit comes back as requests complete.
func TestHostileRequestIDCredit(t *testing.T) {
	for _, v := range variantsWhere(hasRequestCredit) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, &Options{MaxRequestID: 2})
			ns := Namespace{"credit"}
			if _, err := r.server.Publish(ns, "t", TrackOptions{}); err != nil {
				t.Fatal(err)
			}
			for n := uint64(0); n < 6; n++ {
				r.subscribe(r.reqID(n), ns, "t")
				if ok := readUntil[*wire.SubscribeOK](r); ok.RequestID != r.reqID(n) {
					t.Fatalf("SUBSCRIBE_OK for %d, want %d", ok.RequestID, r.reqID(n))
				}
				r.sendMsg(&wire.Unsubscribe{RequestID: r.reqID(n)})
				if v.draft.Is07() {
					readUntil[*wire.PublishDone](r)
				}
				// Wait for the new maximum (with two requests of credit, it
				// is sent for every completed request).
				if max := readUntil[*wire.MaxRequestID](r); max.RequestID <= r.reqID(n+1) {
					t.Fatalf("MAX_REQUEST_ID %d after request %d completed", max.RequestID, r.reqID(n))
				}
			}
			select {
			case <-r.server.Done():
				t.Fatalf("session closed: %v", r.server.Err())
			default:
			}
		})
	}
}

// TestHostileUnknownAliasStream: a data stream for an alias nobody
// subscribed is stopped; the session stays up.
func TestHostileUnknownAliasStream(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, nil)
			st := r.openSubgroupStream(99)
			r.expectStopped(st)
			r.expectServing()
		})
	}
}

// TestHostileSilentUniStream: a data stream that stops inside its header
// does not hold the streams behind it beyond headerOrderWait while the
// connection carries packets (the bound is live time: here the server's
// keep-alives and the peer's acknowledgements keep it live;
// TestStreamHeaderDelayedBySilence covers a silent connection), nor the
// session.
func TestHostileSilentUniStream(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, &Options{RequestTimeout: 300 * time.Millisecond, KeepAlive: 20 * time.Millisecond})
			ctx := ctxT(t)
			silent, err := r.conn.OpenUniStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			half := []byte{0x40} // half a varint
			if gen18(v.draft) {
				half = []byte{0x80}
			}
			if _, err := silent.Write(half); err != nil {
				t.Fatal(err)
			}
			// A stream opened after it is still handled: stopped, as its
			// alias is unknown.
			r.expectStopped(r.openSubgroupStream(7))
			r.expectServing()
		})
	}
}

// openSubgroupStream opens a data stream with a subgroup header for alias
// and one object.
func (r *rawPeer) openSubgroupStream(alias uint64) transport.SendStream {
	r.t.Helper()
	st, err := r.conn.OpenUniStreamSync(ctxT(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	h := wire.SubgroupHeader{SubscribeID: alias, TrackAlias: alias, Group: 0, Priority: 1}
	if !r.draft.Is07() {
		h.Type = wire.SubgroupType(false, false, false, 0)
	} else {
		h.Type = wire.StreamTypeSubgroup07
	}
	b, err := wire.AppendSubgroupHeader(nil, r.draft, &h)
	if err != nil {
		r.t.Fatal(err)
	}
	enc := wire.SubgroupEncoder{Draft: r.draft, Header: h}
	b, err = enc.AppendObjectHeader(b, &wire.Object{Group: 0, ID: 0}, 3)
	if err != nil {
		r.t.Fatal(err)
	}
	b = append(b, "abc"...)
	if _, err := st.Write(b); err != nil {
		r.t.Fatal(err)
	}
	return st
}

// expectStopped writes to st until the peer's STOP_SENDING makes a write
// fail.
func (r *rawPeer) expectStopped(st transport.SendStream) {
	r.t.Helper()
	st.SetWriteDeadline(time.Now().Add(10 * time.Second))
	chunk := make([]byte, 1024)
	for {
		_, err := st.Write(chunk)
		if err == nil {
			continue
		}
		var se *transport.StreamError
		if !errors.As(err, &se) || !se.Remote {
			r.t.Fatalf("write on a stream the server should stop: %v, want a remote StreamError", err)
		}
		return
	}
}

// expectServing checks the server still answers a SUBSCRIBE.
func (r *rawPeer) expectServing() {
	r.t.Helper()
	ns := Namespace{"still", "here"}
	if _, err := r.server.Publish(ns, "t", TrackOptions{}); err != nil {
		r.t.Fatal(err)
	}
	if gen18(r.draft) {
		// A new request stream; the answer carries no Request ID.
		r.subscribe(r.nextReq, ns, "t")
		readUntil[*wire.SubscribeOK](r)
	} else {
		r.subscribe(r.reqID(0), ns, "t")
		if ok := readUntil[*wire.SubscribeOK](r); ok.RequestID != r.reqID(0) {
			r.t.Fatalf("SUBSCRIBE_OK for %d", ok.RequestID)
		}
	}
	select {
	case <-r.server.Done():
		r.t.Fatalf("server session ended: %v", r.server.Err())
	default:
	}
}

// blockingStatus is a Handler whose TrackStatus waits for release.
type blockingStatus struct {
	nsHandler
	entered chan struct{}
	release chan struct{}
}

func (h *blockingStatus) TrackStatus(*Session, Namespace, string) (*Track, error) {
	h.entered <- struct{}{}
	<-h.release
	return nil, ErrTrackNotFound
}

// TestHostileDraft07RequestFlood: draft-07 track-status requests (and
// announces, namespace subscriptions) take no request ID, so no credit
// bounds them: at most MaxRequestID are served at once and the rest are
// answered at once, not queued on goroutines.
func TestHostileDraft07RequestFlood(t *testing.T) {
	h := &blockingStatus{entered: make(chan struct{}, 16), release: make(chan struct{})}
	r := newRawPeer(t, "moqt", Draft07Cloudflare, &Options{MaxRequestID: 4, Handler: h})
	req := func(name string) {
		r.sendMsg(&wire.TrackStatusRequest{Namespace: Namespace{"flood"}, Name: name})
	}
	for i := 0; i < 4; i++ {
		req(fmt.Sprint(i))
		<-h.entered
	}
	for i := 4; i < 10; i++ {
		req(fmt.Sprint(i))
		ts := readUntil[*wire.TrackStatus](r)
		if ts.Name != fmt.Sprint(i) || ts.StatusCode != 0x04 {
			t.Fatalf("request %d over the limit: answer for %q with status %d, want %d with 0x04", i, ts.Name, ts.StatusCode, i)
		}
	}
	close(h.release)
	for i := 0; i < 4; i++ {
		if ts := readUntil[*wire.TrackStatus](r); ts.StatusCode != 0x01 {
			t.Fatalf("a served request: status %d, want 0x01 (does not exist)", ts.StatusCode)
		}
	}
	// Served again once the others are answered.
	req("again")
	<-h.entered
	if ts := readUntil[*wire.TrackStatus](r); ts.Name != "again" || ts.StatusCode != 0x01 {
		t.Fatalf("after the flood: %q status %d", ts.Name, ts.StatusCode)
	}
	if err := r.server.Err(); err != nil {
		t.Fatalf("the session ended: %v", err)
	}
}

// trackHandler serves one track to every SUBSCRIBE.
type trackHandler struct {
	nsHandler
	track *Track
}

func (h *trackHandler) Subscribe(*Session, *SubscribeRequest) (*Track, error) { return h.track, nil }

// TestForwardedResetStaysAReset: a subgroup stream that the upstream
// publisher resets is incomplete, so the forwarding track (a relay's) resets
// the downstream stream too instead of ending it as if it were complete.
func TestForwardedResetStaysAReset(t *testing.T) {
	for _, reset := range []bool{true, false} {
		t.Run(fmt.Sprint("reset=", reset), func(t *testing.T) {
			ctx := ctxT(t)
			fwd := NewTrack(Namespace{"fwd"}, "t", TrackOptions{})
			down := newRawPeer(t, "moqt", Draft14, &Options{Handler: &trackHandler{track: fwd}})
			down.subscribe(down.reqID(0), Namespace{"fwd"}, "t")
			readUntil[*wire.SubscribeOK](down)

			up := newRawPeer(t, "moqt", Draft14, nil)
			subErr := make(chan error, 1)
			go func() {
				_, err := up.server.Subscribe(ctx, Namespace{"up"}, "t", SubscribeOptions{ForwardTo: fwd})
				subErr <- err
			}()
			req := readUntil[*wire.Subscribe](up)
			up.sendMsg(&wire.SubscribeOK{RequestID: req.RequestID, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending})
			if err := <-subErr; err != nil {
				t.Fatal(err)
			}
			st := up.openSubgroupStream(7) // object (0,0) "abc"
			// The downstream stream opens when the object is forwarded.
			in, err := down.conn.AcceptUniStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if reset {
				st.CancelWrite(0x1)
			} else {
				st.Close()
			}
			in.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(in)
			var se *transport.StreamError
			switch {
			case reset && !errors.As(err, &se):
				t.Fatalf("downstream stream ended with %v, want a reset", err)
			case !reset && err != nil:
				t.Fatalf("downstream stream ended with %v, want FIN", err)
			}
			// The object forwarded before the reset is delivered all the
			// same (over raw QUIC the relay marks it reliable with
			// RESET_STREAM_AT, in case the reset overtakes it).
			if !bytes.HasSuffix(got, []byte("abc")) {
				t.Fatalf("downstream stream carried %x, want the object \"abc\"", got)
			}
		})
	}
}

// hasRequestCredit keeps the drafts with MAX_REQUEST_ID (all before 18).
func hasRequestCredit(d Draft) bool { return !gen18(d) }
