package moq

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTrackCloseEndsSubscription: after Track.Close the subscriber reads
// every queued object, then an error wrapping ErrEnded.
func TestTrackCloseEndsSubscription(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"close"}
			tr, err := p.server.Publish(ns, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := p.client.Subscribe(ctx, ns, "t", SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var want []Location
			for g := uint64(0); g < 5; g++ {
				writeGroup(t, tr, 3, false)
				for o := uint64(0); o < 3; o++ {
					want = append(want, loc(g, o))
				}
			}
			// A group left open is ended by the close.
			writeGroup(t, tr, 2, true)
			want = append(want, loc(5, 0), loc(5, 1))
			tr.Close()
			if _, err := tr.Write([]byte("late")); !errors.Is(err, ErrEnded) {
				t.Fatalf("Write after Close: %v, want ErrEnded", err)
			}
			expectObjects(t, ctx, sub, want, true)
			o, err := sub.ReadObject(ctx)
			if !errors.Is(err, ErrEnded) {
				t.Fatalf("after the track ended: %v, %v; want ErrEnded", o, err)
			}
			<-sub.Done()
			if !errors.Is(sub.Err(), ErrEnded) {
				t.Fatalf("Err() = %v, want ErrEnded", sub.Err())
			}
			// The name can be published again.
			if _, err := p.server.Publish(ns, "t", TrackOptions{}); err != nil {
				t.Fatalf("publish again after Close: %v", err)
			}
		})
	}
}

// nsHandler is a server Handler that accepts namespace subscriptions and
// reports them on a channel; everything else is refused or ignored.
type nsHandler struct {
	prefixes chan Namespace
}

func (h *nsHandler) Subscribe(*Session, *SubscribeRequest) (*Track, error) {
	return nil, ErrTrackNotFound
}
func (h *nsHandler) Fetch(*Session, *FetchRequest) (*Track, error) { return nil, ErrTrackNotFound }
func (h *nsHandler) TrackStatus(*Session, Namespace, string) (*Track, error) {
	return nil, ErrTrackNotFound
}
func (h *nsHandler) Announce(*Session, Namespace) error { return nil }
func (h *nsHandler) Unannounce(*Session, Namespace)     {}
func (h *nsHandler) SubscribeNamespace(_ *Session, prefix Namespace) error {
	h.prefixes <- prefix
	return nil
}
func (h *nsHandler) UnsubscribeNamespace(*Session, Namespace) {}
func (h *nsHandler) SessionClosed(*Session, error)            {}

// TestSubscribeNamespace: the client subscribes to a prefix; the server's
// handler accepts, the server announces a matching namespace and then
// withdraws it; the client sees both.
func TestSubscribeNamespace(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			h := &nsHandler{prefixes: make(chan Namespace, 1)}
			p := newPair(t, v.scheme, v.draft, nil, &Options{Handler: h})
			ctx := ctxT(t)
			prefix := Namespace{"live"}
			nsub, err := p.client.SubscribeNamespace(ctx, prefix)
			if err != nil {
				t.Fatalf("subscribe namespace: %v", err)
			}
			defer nsub.Close()
			if got := <-h.prefixes; got.Key() != prefix.Key() {
				t.Fatalf("handler saw prefix %v, want %v", got, prefix)
			}
			ns := Namespace{"live", "room7"}
			if err := p.server.Announce(ctx, ns); err != nil {
				t.Fatalf("server announce: %v", err)
			}
			ev, err := nsub.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Namespace.Key() != ns.Key() || !ev.Active {
				t.Fatalf("event %+v, want %v active", ev, ns)
			}
			if err := p.server.Unannounce(ns); err != nil {
				t.Fatal(err)
			}
			ev, err = nsub.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Namespace.Key() != ns.Key() || ev.Active {
				t.Fatalf("event %+v, want %v withdrawn", ev, ns)
			}
			// A second subscription to the same prefix is refused locally.
			if _, err := p.client.SubscribeNamespace(ctx, prefix); !errors.Is(err, ErrInvalid) {
				t.Fatalf("duplicate prefix: %v, want ErrInvalid", err)
			}
		})
	}
}

// TestSubscribeNamespaceRefused: without a Handler, the server refuses
// namespace subscriptions with a *RequestError.
func TestSubscribeNamespaceRefused(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			_, err := p.client.SubscribeNamespace(ctxT(t), Namespace{"x"})
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("subscribe namespace without a handler: %v, want a *RequestError", err)
			}
		})
	}
}

// TestGoAway: the server's GOAWAY reaches the client's OnGoAway with the
// URI; a draft-07 client cannot send GOAWAY; a draft-14 client can (no URI).
func TestGoAway(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			uris := make(chan string, 1)
			serverURIs := make(chan string, 1)
			p := newPair(t, v.scheme, v.draft, &Options{OnGoAway: func(u string) { uris <- u }},
				&Options{OnGoAway: func(u string) { serverURIs <- u }})
			ctx := ctxT(t)
			const target = "moqt://elsewhere/x"
			if err := p.server.GoAway(target, time.Minute); err != nil {
				t.Fatal(err)
			}
			select {
			case u := <-uris:
				if u != target {
					t.Fatalf("OnGoAway(%q), want %q", u, target)
				}
			case <-ctx.Done():
				t.Fatal("no GOAWAY")
			}
			if !p.client.GoAwayReceived() {
				t.Fatal("GoAwayReceived() = false")
			}
			if err := p.client.GoAway("moqt://x/", time.Minute); err == nil {
				t.Fatal("client GOAWAY with a URI accepted")
			}
			err := p.client.GoAway("", time.Minute)
			if v.draft.Is07() {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("draft-07 client GOAWAY: %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("draft-14 client GOAWAY: %v", err)
			}
			select {
			case u := <-serverURIs:
				if u != "" {
					t.Fatalf("server OnGoAway(%q), want \"\"", u)
				}
			case <-ctx.Done():
				t.Fatal("server got no GOAWAY")
			}
		})
	}
}

// TestGoAwayDrainTimeout: a client that stays after GOAWAY is closed with
// GOAWAY_TIMEOUT when the drain time is over.
func TestGoAwayDrainTimeout(t *testing.T) {
	v := variants[0]
	p := newPair(t, v.scheme, v.draft, nil, nil)
	if err := p.server.GoAway("", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	<-p.client.Done()
	var se *SessionError
	if !errors.As(p.client.Err(), &se) || se.Code != CodeGoAwayTimeout || se.Local {
		t.Fatalf("client Err() = %v, want a remote GOAWAY_TIMEOUT", p.client.Err())
	}
}

// TestPeerCloseWithError: the server sees the client's close code.
func TestPeerCloseWithError(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			// An active subscription on the server ends with the session.
			tr, err := p.client.Publish(Namespace{"a"}, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := p.server.Subscribe(ctx, Namespace{"a"}, "t", SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_ = tr
			p.client.CloseWithError(0x2a, "bye now")
			<-p.server.Done()
			var se *SessionError
			if !errors.As(p.server.Err(), &se) {
				t.Fatalf("server Err() = %v, want a *SessionError", p.server.Err())
			}
			if se.Code != 0x2a || se.Local || se.Reason != "bye now" {
				t.Fatalf("server Err() = %+v, want remote code 0x2a reason %q", se, "bye now")
			}
			if !errors.Is(p.server.Err(), ErrClosed) {
				t.Fatalf("server Err() does not wrap ErrClosed")
			}
			if _, err := sub.ReadObject(ctx); !errors.Is(err, ErrClosed) {
				t.Fatalf("subscription after the peer closed: %v, want ErrClosed", err)
			}
			var ce *SessionError
			if !errors.As(p.client.Err(), &ce) || ce.Code != 0x2a || !ce.Local {
				t.Fatalf("client Err() = %v, want local code 0x2a", p.client.Err())
			}
			// Requests on a closed session fail at once.
			if _, err := p.server.Subscribe(ctx, Namespace{"a"}, "t", SubscribeOptions{}); !errors.Is(err, ErrClosed) {
				t.Fatalf("subscribe on a closed session: %v, want ErrClosed", err)
			}
		})
	}
}

// TestIdleTimeout: with keep-alives off on both sides and a short idle
// timeout, a silent connection is declared dead and both sessions end,
// failing what waits on them.
func TestIdleTimeout(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft,
				&Options{IdleTimeout: 300 * time.Millisecond, KeepAlive: -1},
				&Options{IdleTimeout: 300 * time.Millisecond, KeepAlive: -1})
			ctx := ctxT(t)
			tr, err := p.server.Publish(Namespace{"idle"}, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := p.client.Subscribe(ctx, Namespace{"idle"}, "t", SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_ = tr
			var wg sync.WaitGroup
			var readErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, readErr = sub.ReadObject(ctx)
			}()
			for _, s := range []*Session{p.server, p.client} {
				select {
				case <-s.Done():
				case <-ctx.Done():
					t.Fatal("session still open after the idle timeout")
				}
				var se *SessionError
				if !errors.As(s.Err(), &se) || !errors.Is(s.Err(), ErrClosed) {
					t.Fatalf("Err() = %v, want a *SessionError wrapping ErrClosed", s.Err())
				}
				// Issue 15: the reason says this side timed out, not the peer.
				if !errors.Is(s.Err(), ErrIdleTimeout) || !se.Local || !strings.Contains(s.Err().Error(), "local idle timeout") {
					t.Fatalf("Err() = %v, want a local idle timeout", s.Err())
				}
			}
			if msg := p.client.Err().Error(); !strings.Contains(msg, "for 300ms") {
				t.Fatalf("client Err() = %v, want the idle timeout named", msg)
			}
			wg.Wait()
			if !errors.Is(readErr, ErrClosed) {
				t.Fatalf("pending ReadObject: %v, want ErrClosed", readErr)
			}
		})
	}
}

// endedHandler hands out a track that has already ended the first `ended`
// times it is asked (as a relay may, when its last subscriber leaves just
// then), and a live track after that.
type endedHandler struct {
	nsHandler
	mu    sync.Mutex
	asks  int
	ended int
	live  *Track
}

func (h *endedHandler) Subscribe(_ *Session, req *SubscribeRequest) (*Track, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asks++
	if h.asks <= h.ended {
		t := NewTrack(req.Namespace, req.Name, TrackOptions{})
		t.Close()
		return t, nil
	}
	return h.live, nil
}

// TestSubscribeAsksAgainForAnEndedTrack: a track that ended between the
// handler's answer and the subscriber's attaching is asked for again (at
// most three times in all), rather than refused at once.
func TestSubscribeAsksAgainForAnEndedTrack(t *testing.T) {
	for _, ended := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(ended), func(t *testing.T) {
			h := &endedHandler{ended: ended, live: NewTrack(Namespace{"x"}, "t", TrackOptions{})}
			p := newPair(t, "moqt", Draft14, nil, &Options{Handler: h})
			ctx := ctxT(t)
			sub, err := p.client.Subscribe(ctx, Namespace{"x"}, "t", SubscribeOptions{})
			if ended < 3 {
				if err != nil {
					t.Fatalf("subscribe: %v", err)
				}
				sub.Close()
			} else if err == nil {
				t.Fatal("a track that is always ended was served")
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if want := min(ended+1, 3); h.asks != want {
				t.Errorf("handler asked %d times, want %d", h.asks, want)
			}
		})
	}
}

// TestHoldKeepsABurstForTheSubscriber: groups written while the track is
// held are all retained (beyond RetainGroups) and replayed to the
// subscriber the hold was for; once it is attached the hold is released
// and retention is back to its limit.
func TestHoldKeepsABurstForTheSubscriber(t *testing.T) {
	tr := NewTrack(Namespace{"held"}, "t", TrackOptions{RetainGroups: 2})
	release := tr.Hold()
	for i := 0; i < 10; i++ {
		if _, err := tr.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	retained := func() int {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.groups)
	}
	if n := retained(); n != 10 {
		t.Fatalf("held track retains %d groups, want 10", n)
	}
	h := &heldHandler{track: tr, release: release, attached: make(chan struct{})}
	p := newPair(t, "moqt", Draft14, nil, &Options{Handler: h})
	ctx := ctxT(t)
	sub, err := p.client.Subscribe(ctx, Namespace{"held"}, "t", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := 0; i < 10; i++ {
		o, err := sub.ReadObject(ctx)
		if err != nil || o.Group != uint64(i) {
			t.Fatalf("object %d: %+v, %v", i, o, err)
		}
	}
	<-h.attached
	if n := retained(); n != 2 {
		t.Fatalf("released track retains %d groups, want 2", n)
	}
}

type heldHandler struct {
	nsHandler
	track    *Track
	release  func()
	attached chan struct{}
}

func (h *heldHandler) Subscribe(_ *Session, req *SubscribeRequest) (*Track, error) {
	req.ReplayFrom = &Location{}
	req.Attached = func() {
		h.release()
		close(h.attached)
	}
	return h.track, nil
}

// TestQuietSessionKeptAlive: a client with a short idle timeout and the
// default keep-alive (a third of it) stays connected to a server with the
// default options while neither side has anything to send: keep-alives keep
// both sides' idle timers from firing (the negotiated idle timeout is the
// client's). The quiet period is the subject of the test.
func TestQuietSessionKeptAlive(t *testing.T) {
	const idle = 400 * time.Millisecond
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, &Options{IdleTimeout: idle}, nil)
			quiet := time.NewTimer(6 * idle)
			defer quiet.Stop()
			select {
			case <-p.client.Done():
				t.Fatalf("client session ended while quiet: %v", p.client.Err())
			case <-p.server.Done():
				t.Fatalf("server session ended while quiet: %v", p.server.Err())
			case <-quiet.C:
			}
			ctx := ctxT(t)
			if _, err := p.server.Publish(Namespace{"quiet"}, "t", TrackOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := p.client.Subscribe(ctx, Namespace{"quiet"}, "t", SubscribeOptions{}); err != nil {
				t.Fatalf("subscribe after the quiet period: %v", err)
			}
		})
	}
}
