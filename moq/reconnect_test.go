package moq_test

// Tests of moq.Client against our relay on loopback: reconnection after the
// relay restarts, persistent subscriptions, and the client's error paths.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/moq-ffi/moq-ffi-go/relay"
)

// testRelay can be stopped and started again on the same address with the
// same certificate.
type testRelay struct {
	t    *testing.T
	addr string
	cert tls.Certificate
	fp   [32]byte
	r    *relay.Relay
}

func startRelay(t *testing.T) *testRelay {
	t.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	tr := &testRelay{t: t, addr: "127.0.0.1:0", cert: cert, fp: fp}
	tr.start()
	tr.addr = tr.r.Addr().String()
	t.Cleanup(func() { tr.r.Close() })
	return tr
}

func (tr *testRelay) start() {
	tr.t.Helper()
	var cfg relay.Config
	cfg.Addr = tr.addr
	cfg.Session.TLS.Certificates = []tls.Certificate{tr.cert}
	r, err := relay.New(cfg)
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.r = r
}

func (tr *testRelay) url(scheme string) string { return scheme + "://" + tr.addr + "/moq" }

// events records a client's events and lets a test wait for one.
type events struct {
	mu   sync.Mutex
	evs  []moq.ClientEvent
	wake chan struct{}
}

func newEvents() *events { return &events{wake: make(chan struct{})} }

func (e *events) add(ev moq.ClientEvent) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	close(e.wake)
	e.wake = make(chan struct{})
	e.mu.Unlock()
}

// waitFor waits until the n-th event matching f has been recorded.
func (e *events) waitFor(t *testing.T, ctx context.Context, n int, what string, f func(moq.ClientEvent) bool) {
	t.Helper()
	for {
		e.mu.Lock()
		seen := 0
		for _, ev := range e.evs {
			if f(ev) {
				seen++
			}
		}
		wake := e.wake
		e.mu.Unlock()
		if seen >= n {
			return
		}
		select {
		case <-wake:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

func (e *events) states() []moq.ClientState {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []moq.ClientState
	for _, ev := range e.evs {
		out = append(out, ev.State)
	}
	return out
}

func newClient(tr *testRelay, d moq.Draft, reconnect bool, ev *events) *moq.Client {
	opts := &moq.ClientOptions{Reconnect: reconnect, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}
	opts.Drafts = []moq.Draft{d}
	opts.TLS.PinSHA256 = [][32]byte{tr.fp}
	if ev != nil {
		opts.OnEvent = ev.add
	}
	return moq.NewClient(opts)
}

// ticker publishes one single-object group per tick on tr until stop; its
// payloads name the group.
func ticker(tr *moq.Track, stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				tr.Write([]byte("tick"))
			}
		}
	}()
}

// readAfter reads until an object of a group after g arrives, checking
// that objects come in strictly increasing order.
func readAfter(t *testing.T, ctx context.Context, cs *moq.ClientSubscription, last *moq.Location, has *bool, g uint64) {
	t.Helper()
	readUntil(t, ctx, cs, last, has, func(o *moq.Object) bool { return o.Group > g })
}

// readUntil reads until done returns true for an object, checking that
// objects come in strictly increasing order.
func readUntil(t *testing.T, ctx context.Context, cs *moq.ClientSubscription, last *moq.Location, has *bool, done func(*moq.Object) bool) {
	t.Helper()
	for {
		o, err := cs.ReadObject(ctx)
		if err != nil {
			t.Fatalf("ReadObject: %v", err)
		}
		l := moq.Location{Group: o.Group, Object: o.ID}
		if *has && !(l.Group > last.Group || (l.Group == last.Group && l.Object > last.Object)) {
			t.Fatalf("object %v after %v: duplicate or out of order", l, *last)
		}
		*last, *has = l, true
		if done(o) {
			return
		}
	}
}

// clientEnd is how one client of a pair connects.
type clientEnd struct {
	scheme    string
	draft     moq.Draft
	reconnect bool
	ev        *events // may be nil
}

// pubSubPair connects a publisher and a subscriber client to tr (closed at
// the end of the test); the publisher announces ns and publishes ns/"t".
func pubSubPair(t *testing.T, ctx context.Context, tr *testRelay, ns moq.Namespace, pub, sub clientEnd) (pc, sc *moq.Client, track *moq.Track) {
	t.Helper()
	connect := func(e clientEnd) *moq.Client {
		c := newClient(tr, e.draft, e.reconnect, e.ev)
		t.Cleanup(func() { c.Close() })
		if err := c.Connect(ctx, tr.url(e.scheme)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	pc, sc = connect(pub), connect(sub)
	if err := pc.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	track, err := pc.Publish(ns, "t", moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pc, sc, track
}

func TestClientReconnectsAfterRelayRestart(t *testing.T) {
	for _, v := range []struct {
		scheme string
		draft  moq.Draft
	}{{"moqt", moq.Draft14}, {"https", moq.Draft07Cloudflare}} {
		t.Run(v.scheme+"/"+v.draft.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tr := startRelay(t)
			pubEv, subEv := newEvents(), newEvents()
			ns := moq.Namespace{"reconnect", v.draft.String()}
			pc, sc, track := pubSubPair(t, ctx, tr, ns, clientEnd{scheme: v.scheme, draft: v.draft, reconnect: true, ev: pubEv},
				clientEnd{scheme: v.scheme, draft: v.draft, reconnect: true, ev: subEv})
			// The group the track had reached when the subscription was
			// made again (ReadObject makes it, and calls OnSubscribe).
			var resubGroup atomic.Int64
			resubGroup.Store(-1)
			cs, err := sc.Subscribe(ctx, ns, "t", moq.ClientSubscribeOptions{OnSubscribe: func(ev moq.SubscribeEvent) {
				if ev.Err == nil && ev.Resubscribe {
					if l, ok := track.Largest(); ok {
						resubGroup.Store(int64(l.Group))
					}
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			ticker(track, stop, &wg)
			defer func() { close(stop); wg.Wait() }()

			var last moq.Location
			var has bool
			readAfter(t, ctx, cs, &last, &has, 0)

			// Restart the relay: both clients lose their sessions.
			tr.r.Close()
			pubEv.waitFor(t, ctx, 1, "publisher's session end", func(e moq.ClientEvent) bool {
				return e.Reconnecting && (e.State == moq.ClientFailed || e.State == moq.ClientDisconnected) && e.Session != nil
			})
			subEv.waitFor(t, ctx, 1, "subscriber's session end", func(e moq.ClientEvent) bool {
				return e.Reconnecting && (e.State == moq.ClientFailed || e.State == moq.ClientDisconnected) && e.Session != nil
			})
			if !pc.Reconnecting() || pc.Session() != nil {
				t.Fatalf("publisher: reconnecting %v, session %v", pc.Reconnecting(), pc.Session())
			}
			tr.start()

			// Once the subscription is made again, the groups written after
			// it reach the subscriber through the new relay, in order and
			// without duplicates. (Reading only past the group read before
			// the restart would end on an object still queued from the old
			// session, before the resubscription.)
			readUntil(t, ctx, cs, &last, &has, func(o *moq.Object) bool {
				g := resubGroup.Load()
				return g >= 0 && o.Group > uint64(g)
			})
			pubEv.waitFor(t, ctx, 1, "publisher reconnected", func(e moq.ClientEvent) bool {
				return e.State == moq.ClientConnected && e.Reconnecting
			})
			if got := pc.Reconnects(); got != 1 {
				t.Errorf("publisher reconnects = %d, want 1", got)
			}
			if got := sc.Reconnects(); got != 1 {
				t.Errorf("subscriber reconnects = %d, want 1", got)
			}
			if !pc.Announced(ns) {
				t.Error("namespace not announced again after the reconnect")
			}
			if cs.Resubscribes() != 1 || !cs.Active() {
				t.Errorf("resubscribes = %d, active = %v; want 1, true", cs.Resubscribes(), cs.Active())
			}
			if st := cs.Stats(); st.Objects < 2 || st.Latest != last {
				t.Errorf("stats %+v, last read %v", st, last)
			}
			want := []moq.ClientState{moq.ClientConnecting, moq.ClientConnected}
			if got := subEv.states(); len(got) < 4 || got[0] != want[0] || got[1] != want[1] || got[len(got)-1] != moq.ClientConnected {
				t.Errorf("subscriber states %v", got)
			}
		})
	}
}

func TestClientPersistentSubscription(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := startRelay(t)
	sc := newClient(tr, moq.Draft14, false, nil)
	defer sc.Close()
	if err := sc.Connect(ctx, tr.url("moqt")); err != nil {
		t.Fatal(err)
	}
	ns := moq.Namespace{"persistent"}
	// OnSubscribe reports each answer (issue 15).
	var evMu sync.Mutex
	var evs []moq.SubscribeEvent
	retried := make(chan struct{})
	var retriedOnce sync.Once
	onSub := func(ev moq.SubscribeEvent) {
		evMu.Lock()
		evs = append(evs, ev)
		evMu.Unlock()
		if ev.Retrying {
			retriedOnce.Do(func() { close(retried) })
		}
	}
	takeEvents := func() []moq.SubscribeEvent {
		evMu.Lock()
		defer evMu.Unlock()
		out := evs
		evs = nil
		return out
	}

	// Without Persistent, a track nobody publishes is refused.
	_, err := sc.Subscribe(ctx, ns, "t", moq.ClientSubscribeOptions{OnSubscribe: onSub})
	var re *moq.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("subscribe to a missing track: %v, want a *moq.RequestError", err)
	}
	if ev := takeEvents(); len(ev) != 1 || !errors.As(ev[0].Err, &re) || ev[0].Retrying {
		t.Fatalf("OnSubscribe events for a refusal: %+v", ev)
	}

	cs, err := sc.Subscribe(ctx, ns, "t", moq.ClientSubscribeOptions{Persistent: true, OnSubscribe: onSub})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	got := make(chan error, 1)
	go func() {
		o, err := cs.ReadObject(ctx)
		if err == nil && string(o.Payload) != "tick" {
			err = fmt.Errorf("payload %q", o.Payload)
		}
		got <- err
	}()

	// The publisher comes after the subscription.
	publish := func() (*moq.Client, chan struct{}, *sync.WaitGroup) {
		pc := newClient(tr, moq.Draft14, false, nil)
		if err := pc.Connect(ctx, tr.url("https")); err != nil {
			t.Fatal(err)
		}
		if err := pc.Announce(ctx, ns); err != nil {
			t.Fatal(err)
		}
		track, err := pc.Publish(ns, "t", moq.TrackOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		ticker(track, stop, &wg)
		return pc, stop, &wg
	}
	// The subscription has been refused at least once (and goes on).
	select {
	case <-retried:
	case <-ctx.Done():
		t.Fatal("no retrying OnSubscribe event for a missing track")
	}
	pc, stop, wg := publish()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// Refusals while nobody published (retrying), then one acceptance.
	ev := takeEvents()
	if n := len(ev); n < 2 || ev[n-1].Err != nil || ev[n-1].Resubscribe || ev[n-1].Sub != cs {
		t.Fatalf("OnSubscribe events before the first object: %+v", ev)
	}
	for _, e := range ev[:len(ev)-1] {
		if !errors.As(e.Err, &re) || !e.Retrying {
			t.Fatalf("OnSubscribe event before the track existed: %+v", e)
		}
	}

	// The publisher goes away and another one comes: the subscription
	// follows.
	close(stop)
	wg.Wait()
	pc.Close()
	pc, stop, wg = publish()
	defer func() { close(stop); wg.Wait(); pc.Close() }()
	var last moq.Location
	var has bool
	for cs.Resubscribes() == 0 {
		readAfter(t, ctx, cs, &last, &has, 0)
		has = false // a new publisher starts its groups again
	}
	if err := cs.Err(); err != nil {
		t.Fatal(err)
	}
	// The track came back: accepted again, as a resubscription.
	ev = takeEvents()
	if n := len(ev); n < 1 || ev[n-1].Err != nil || !ev[n-1].Resubscribe {
		t.Fatalf("OnSubscribe events after the publisher came back: %+v", ev)
	}
	cs.Close()
	if _, err := cs.ReadObject(ctx); !errors.Is(err, moq.ErrEnded) {
		t.Fatalf("ReadObject after Close: %v, want ErrEnded", err)
	}
}

func TestClientStatesAndErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := startRelay(t)
	ev := newEvents()
	c := newClient(tr, moq.Draft14, false, ev)
	ns := moq.Namespace{"errors"}

	if err := c.Announce(ctx, ns); !errors.Is(err, moq.ErrNotConnected) {
		t.Errorf("announce before connect: %v", err)
	}
	if _, err := c.Subscribe(ctx, ns, "t", moq.ClientSubscribeOptions{Persistent: true}); !errors.Is(err, moq.ErrNotConnected) {
		t.Errorf("persistent subscribe while not connected: %v", err)
	}
	if err := c.Connect(ctx, "ftp://127.0.0.1/"); !errors.Is(err, moq.ErrInvalid) {
		t.Errorf("bad URL: %v", err)
	}
	if err := c.Connect(ctx, tr.url("moqt")); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx, tr.url("moqt")); !errors.Is(err, moq.ErrConnected) {
		t.Errorf("second connect: %v", err)
	}
	if err := c.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := c.Announce(ctx, ns); !errors.Is(err, moq.ErrInvalid) {
		t.Errorf("announcing twice: %v", err)
	}
	if _, err := c.Publish(ns, "t", moq.TrackOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ns, "t", moq.TrackOptions{}); !errors.Is(err, moq.ErrInvalid) {
		t.Errorf("publishing twice: %v", err)
	}
	if err := c.Unannounce(moq.Namespace{"never"}); !errors.Is(err, moq.ErrInvalid) {
		t.Errorf("unannouncing what was not announced: %v", err)
	}
	if err := c.Disconnect(); err != nil {
		t.Fatal(err)
	}
	if c.Session() != nil || c.Announced(ns) {
		t.Error("session or announce left after Disconnect")
	}
	if _, err := c.WaitSession(ctx, nil); !errors.Is(err, moq.ErrNotConnected) {
		t.Errorf("WaitSession after Disconnect: %v", err)
	}
	// The bad URL is refused before any event (issue 15).
	want := []moq.ClientState{moq.ClientConnecting, moq.ClientConnected, moq.ClientDisconnected}
	if got := ev.states(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", got, want)
	}
	// Connect again after Disconnect, then Close.
	if err := c.Connect(ctx, tr.url("https")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := c.Connect(ctx, tr.url("moqt")); !errors.Is(err, moq.ErrClosed) {
		t.Errorf("connect after Close: %v", err)
	}
	if err := c.Disconnect(); !errors.Is(err, moq.ErrClosed) {
		t.Errorf("disconnect after Close: %v", err)
	}

	// Disconnect cancels a connection attempt that cannot finish (nothing
	// answers on port 9).
	ev2 := newEvents()
	d := newClient(tr, moq.Draft14, false, ev2)
	defer d.Close()
	done := make(chan error, 1)
	go func() { done <- d.Connect(ctx, "moqt://127.0.0.1:9/") }()
	ev2.waitFor(t, ctx, 1, "connecting", func(e moq.ClientEvent) bool { return e.State == moq.ClientConnecting })
	if err := d.Connect(ctx, tr.url("moqt")); !errors.Is(err, moq.ErrConnecting) {
		t.Errorf("connect during a connect: %v", err)
	}
	d.Disconnect()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled connect: %v, want context.Canceled", err)
	}
}

func TestTrackSetPriorityThroughRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := startRelay(t)
	ns := moq.Namespace{"prio"}
	_, sc, track := pubSubPair(t, ctx, tr, ns, clientEnd{scheme: "moqt", draft: moq.Draft14},
		clientEnd{scheme: "https", draft: moq.Draft07Cloudflare})
	if track.Priority() != 128 {
		t.Fatalf("default priority %d", track.Priority())
	}
	cs, err := sc.Subscribe(ctx, ns, "t", moq.ClientSubscribeOptions{SubscribeOptions: moq.SubscribeOptions{
		Filter: moq.Filter{Type: moq.FilterAbsoluteStart}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := track.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	track.SetPriority(7)
	gw, err := track.OpenGroup(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.WriteObject([]byte("b"), nil); err != nil {
		t.Fatal(err)
	}
	gw.Close()
	for i, want := range []uint8{128, 7} {
		o, err := cs.ReadObject(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if o.Priority != want || o.Group != uint64(i) {
			t.Errorf("object %d: group %d priority %d, want group %d priority %d", i, o.Group, o.Priority, i, want)
		}
	}
}

// A subscriber that loses only its own session subscribes again through the
// same relay, which replays its current group: what was delivered before is
// not delivered twice.
func TestClientResubscribeSkipsReplayedObjects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := startRelay(t)
	ev := newEvents()
	ns := moq.Namespace{"replay"}
	_, sc, track := pubSubPair(t, ctx, tr, ns, clientEnd{scheme: "moqt", draft: moq.Draft07Cloudflare},
		clientEnd{scheme: "moqt", draft: moq.Draft07Cloudflare, reconnect: true, ev: ev})
	cs, err := sc.Subscribe(ctx, ns, "t", moq.ClientSubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	// Three objects in group 0 (kept open: the relay's current group).
	gw, err := track.OpenGroup(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := gw.WriteObject([]byte{byte(i)}, nil); err != nil {
			t.Fatal(err)
		}
		o, err := cs.ReadObject(ctx)
		if err != nil || o.Group != 0 || o.ID != uint64(i) {
			t.Fatalf("object %d: %+v, %v", i, o, err)
		}
	}
	// The subscriber's session ends; the client reconnects.
	old := sc.Session()
	old.Close()
	ev.waitFor(t, ctx, 1, "reconnected", func(e moq.ClientEvent) bool { return e.State == moq.ClientConnected && e.Reconnecting })
	if _, err := gw.WriteObject([]byte{3}, nil); err != nil {
		t.Fatal(err)
	}
	o, err := cs.ReadObject(ctx)
	if err != nil || o.Group != 0 || o.ID != 3 {
		t.Fatalf("after the reconnect: %+v, %v; want group 0 object 3", o, err)
	}
	if st := cs.Stats(); st.Objects != 4 || cs.Resubscribes() != 1 {
		t.Errorf("stats %+v, resubscribes %d", st, cs.Resubscribes())
	}
	gw.Close()
}

// A server that sends GOAWAY with a new session URI moves a reconnecting
// client there; a client that does not reconnect just ends its session.
func TestClientFollowsGoAway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listen := func() *moq.Listener {
		opts := &moq.Options{}
		opts.TLS.Certificates = []tls.Certificate{cert}
		ln, err := moq.Listen("127.0.0.1:0", opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln
	}
	old, next := listen(), listen()
	for _, reconnect := range []bool{true, false} {
		ev := newEvents()
		opts := &moq.ClientOptions{Reconnect: reconnect, ReconnectMin: 10 * time.Millisecond}
		opts.Drafts = []moq.Draft{moq.Draft14}
		opts.TLS.PinSHA256 = [][32]byte{fp}
		opts.OnEvent = ev.add
		var goaway sync.WaitGroup
		goaway.Add(1)
		opts.OnGoAway = func(string) { goaway.Done() }
		c := moq.NewClient(opts)
		if err := c.Connect(ctx, "moqt://"+old.Addr().String()+"/"); err != nil {
			t.Fatal(err)
		}
		srv, err := old.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.GoAway("moqt://"+next.Addr().String()+"/", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		goaway.Wait()
		ev.waitFor(t, ctx, 1, "the end of the first session", func(e moq.ClientEvent) bool {
			return e.State == moq.ClientDisconnected && e.Session != nil
		})
		if reconnect {
			moved, err := next.Accept(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ev.waitFor(t, ctx, 1, "reconnected", func(e moq.ClientEvent) bool { return e.State == moq.ClientConnected && e.Reconnecting })
			if c.Reconnects() != 1 || c.Session() == nil {
				t.Errorf("reconnects %d, session %v", c.Reconnects(), c.Session())
			}
			moved.Close()
		} else if c.Session() != nil || c.Reconnecting() {
			t.Error("a client without Reconnect still has a session after GOAWAY")
		}
		c.Close()
		srv.Close()
	}
}

// A persistent subscription to a range ends when the range has been
// delivered, instead of subscribing again for ever.
func TestClientPersistentRangeEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := startRelay(t)
	ns := moq.Namespace{"range"}
	end := clientEnd{scheme: "moqt", draft: moq.Draft14}
	_, sc, track := pubSubPair(t, ctx, tr, ns, end, end)
	first := uint64(999)
	gw, err := track.OpenGroup(&first) // Write continues from group 1000
	if err != nil {
		t.Fatal(err)
	}
	gw.Close()
	cs, err := sc.Subscribe(ctx, ns, "t", moq.ClientSubscribeOptions{Persistent: true, SubscribeOptions: moq.SubscribeOptions{
		Filter: moq.Filter{Type: moq.FilterAbsoluteRange, Start: moq.Location{Group: 1000}, EndGroup: 1001}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	ticker(track, stop, &wg)
	defer func() { close(stop); wg.Wait() }()
	n := 0
	for {
		o, err := cs.ReadObject(ctx)
		if err != nil {
			if !errors.Is(err, moq.ErrEnded) || ctx.Err() != nil {
				t.Fatalf("after %d objects: %v, want the end of the range", n, err)
			}
			break
		}
		if o.Group < 1000 || o.Group > 1001 {
			t.Fatalf("group %d outside the range", o.Group)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no object of the range")
	}
}

// Close ends a persistent subscription that is waiting to retry (the track
// does not exist): the blocked ReadObject returns at once with ErrEnded,
// and so does Disconnect for one waiting for a session.
func TestClientSubscriptionCloseWhileRetrying(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := startRelay(t)
	ev := newEvents()
	opts := &moq.ClientOptions{Reconnect: true, ReconnectMin: time.Hour, ReconnectMax: time.Hour} // retries wait an hour
	opts.Drafts = []moq.Draft{moq.Draft14}
	opts.TLS.PinSHA256 = [][32]byte{tr.fp}
	opts.OnEvent = ev.add
	c := moq.NewClient(opts)
	defer c.Close()
	if err := c.Connect(ctx, tr.url("moqt")); err != nil {
		t.Fatal(err)
	}
	cs, err := c.Subscribe(ctx, moq.Namespace{"nobody"}, "t", moq.ClientSubscribeOptions{Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := cs.ReadObject(ctx)
		done <- err
	}()
	// The first SUBSCRIBE is refused and the next waits an hour: Close
	// ends it wherever it is (the round trip or the wait).
	cs.Close()
	if err := <-done; !errors.Is(err, moq.ErrEnded) {
		t.Fatalf("ReadObject after Close: %v, want ErrEnded", err)
	}

	// A subscription waiting for a session ends with the client's Close.
	cs2, err := c.Subscribe(ctx, moq.Namespace{"nobody"}, "t2", moq.ClientSubscribeOptions{Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	tr.r.Close() // the client will wait an hour before reconnecting
	ev.waitFor(t, ctx, 1, "session lost", func(e moq.ClientEvent) bool { return e.Session != nil && e.State != moq.ClientConnected })
	go func() {
		_, err := cs2.ReadObject(ctx)
		done <- err
	}()
	c.Close()
	if err := <-done; err == nil || ctx.Err() != nil {
		t.Fatalf("ReadObject after the client's Close: %v", err)
	}
}
