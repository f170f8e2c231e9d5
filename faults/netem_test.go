//go:build linux

package faults

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// TestNetem: the session engine and the relay over an impaired link (see
// netLab). The relay runs in one namespace, publisher and subscriber in the
// other, so every object crosses the impaired link twice.
func TestNetem(t *testing.T) {
	mode(t)
	if !inner() {
		l := newLab(t)
		l.runInside(t, 25*time.Minute)
		return
	}
	l := labFromEnv()
	l.im = l.startImpairer(t)
	r := startRelay(t, l.relayNS, relayIP+":0")
	fp := r.fingerprint(t)
	// Draft-07 SETUP does not tell the data layout: a relay serves one to
	// draft-07 clients, so the specification layout has its own relay.
	r07 := startRelay(t, l.relayNS, relayIP+":0", "--draft07-layout", "07")
	relayFor := func(d draftRow) (*relayProc, [32]byte) {
		if d.draft == moq.Draft07 {
			return r07, r07.fingerprint(t)
		}
		return r, fp
	}
	groups, perGroup, datagrams := 20, 10, 500
	if full(t) {
		groups, perGroup, datagrams = 100, 10, 2000
	}

	t.Run("loss5-delay50", func(t *testing.T) {
		l.impair(t, 50*time.Millisecond, 5)
		for i, d := range drafts {
			// Alternate raw QUIC and WebTransport.
			scheme := []string{"moqt", "https"}[i%2]
			t.Run("stream-"+d.name+"-"+scheme, func(t *testing.T) {
				r, fp := relayFor(d)
				streamUnderLoss(t, l, r, fp, d, scheme, groups, perGroup)
			})
		}
		for _, d := range drafts {
			if !full(t) && d.name != "14" {
				continue
			}
			t.Run("datagram-"+d.name, func(t *testing.T) {
				r, fp := relayFor(d)
				datagramUnderLoss(t, l, r, fp, d, datagrams)
			})
		}
	})
	t.Run("loss30-blackout10s", func(t *testing.T) {
		// Draft-16 over WebTransport (the ordering of its uni streams is
		// restored above QUIC), draft-14 and draft-20 (requests on streams
		// of their own) over raw QUIC; the short form runs only the first
		// reconnect row.
		rows := []struct {
			d      draftRow
			scheme string
		}{{drafts[3], "https"}, {drafts[2], "moqt"}, {drafts[5], "moqt"}}
		if !full(t) {
			rows = rows[:1]
		}
		for _, row := range rows {
			name := row.d.name + "-" + row.scheme
			// A short idle timeout: the 10 s blackout ends the session, and
			// the clients must reconnect and resubscribe.
			t.Run("reconnect-"+name, func(t *testing.T) { blackout(t, l, r, fp, row.d, row.scheme, 3*time.Second, true) })
			if full(t) {
				// The default idle timeout (30 s): QUIC rides the blackout out.
				t.Run("ride-out-"+name, func(t *testing.T) { blackout(t, l, r, fp, row.d, row.scheme, 30*time.Second, false) })
			}
		}
	})
}

func seqPayload(seq uint64, size int) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint64(p, seq)
	for i := 8; i < size; i++ {
		p[i] = byte(seq) + byte(i)
	}
	return p
}

// checkPayload returns the sequence number in p, or an error when p is not
// what seqPayload made.
func checkPayload(p []byte, size int) (uint64, error) {
	if len(p) != size {
		return 0, fmt.Errorf("payload of %d bytes, want %d", len(p), size)
	}
	seq := binary.BigEndian.Uint64(p)
	for i := 8; i < size; i++ {
		if p[i] != byte(seq)+byte(i) {
			return seq, fmt.Errorf("payload of %d corrupted at byte %d", seq, i)
		}
	}
	return seq, nil
}

func dialPair(t *testing.T, ctx context.Context, url string, opts *moq.Options, d draftRow) (pub, sub *moq.Session) {
	t.Helper()
	pub, err := moq.Dial(ctx, url, opts)
	skipUnsupported(t, d, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	if pub.Draft() != d.draft {
		t.Fatalf("publisher speaks %v, want %v", pub.Draft(), d.draft)
	}
	sub, err = moq.Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return pub, sub
}

// streamUnderLoss: groups x perGroup objects over stream delivery through
// the relay; every one must arrive, in order, once, intact.
func streamUnderLoss(t *testing.T, l *netLab, r *relayProc, fp [32]byte, d draftRow, scheme string, groups, perGroup int) {
	ctx := ctxFor(t, 5*time.Minute)
	url := fmt.Sprintf("%s://%s/", scheme, r.addr)
	opts := &moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{fp}}, Drafts: []moq.Draft{d.draft}}
	pub, sub := dialPair(t, ctx, url, opts, d)
	ns := moq.Namespace{"netem", "stream", d.name, scheme}
	tr, err := pub.Publish(ns, "objects", moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	s, err := sub.Subscribe(ctx, ns, "objects", moq.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const size = 1000
	start := time.Now()
	fwd0, drop0 := l.im.forwarded.Load(), l.im.dropped.Load()
	writeErr := make(chan error, 1)
	go func() {
		defer close(writeErr)
		defer tr.Close()
		var seq uint64
		for g := 0; g < groups; g++ {
			gw, err := tr.OpenGroup(nil)
			if err != nil {
				writeErr <- err
				return
			}
			for o := 0; o < perGroup; o++ {
				if _, err := gw.WriteObject(seqPayload(seq, size), nil); err != nil {
					writeErr <- err
					return
				}
				seq++
			}
			gw.Close()
		}
	}()
	want := uint64(groups * perGroup)
	var next uint64
	var last moq.Location
	for {
		o, err := s.ReadObject(ctx)
		if errors.Is(err, moq.ErrEnded) {
			break
		}
		if err != nil {
			t.Fatalf("after %d of %d objects: %v", next, want, err)
		}
		seq, err := checkPayload(o.Payload, size)
		if err != nil {
			t.Fatal(err)
		}
		if seq != next {
			t.Fatalf("object %d (group %d object %d) arrived where %d was due: lost, duplicated or out of order",
				seq, o.Group, o.ID, next)
		}
		l := moq.Location{Group: o.Group, Object: o.ID}
		if next > 0 && !(l.Group > last.Group || (l.Group == last.Group && l.Object > last.Object)) {
			t.Fatalf("location %v after %v", l, last)
		}
		if o.Group != seq/uint64(perGroup) || o.ID != seq%uint64(perGroup) {
			t.Fatalf("object %d at group %d object %d", seq, o.Group, o.ID)
		}
		last = l
		next++
	}
	if err := <-writeErr; err != nil {
		t.Fatalf("publishing: %v", err)
	}
	if next != want {
		t.Fatalf("the subscription ended after %d of %d objects (stats %+v)", next, want, s.Stats())
	}
	st := s.Stats()
	if st.Objects != want || st.Dropped != 0 {
		t.Fatalf("stats %+v, want %d objects and none dropped", st, want)
	}
	figure(t, "draft %s over %s, 5%% loss + 50 ms each way: %d/%d objects delivered in order, none duplicated, in %v (the link dropped %d of %d packets)",
		d.name, scheme, next, want, time.Since(start).Round(time.Millisecond),
		l.im.dropped.Load()-drop0, l.im.forwarded.Load()-fwd0+l.im.dropped.Load()-drop0)
}

// datagramUnderLoss: n datagram objects through the relay; the loss the
// subscriber sees (sequence numbers missing) must be the loss its stats
// report (published minus delivered), with no duplicates.
func datagramUnderLoss(t *testing.T, l *netLab, r *relayProc, fp [32]byte, d draftRow, n int) {
	ctx := ctxFor(t, 5*time.Minute)
	url := fmt.Sprintf("moqt://%s/", r.addr)
	opts := &moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{fp}}, Drafts: []moq.Draft{d.draft}}
	pub, sub := dialPair(t, ctx, url, opts, d)
	ns := moq.Namespace{"netem", "datagram", d.name}
	tr, err := pub.Publish(ns, "objects", moq.TrackOptions{Delivery: moq.DeliveryDatagram})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	s, err := sub.Subscribe(ctx, ns, "objects", moq.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const size = 200
	fwd0, drop0 := l.im.forwarded.Load(), l.im.dropped.Load()
	writeErr := make(chan error, 1)
	go func() {
		defer close(writeErr)
		defer tr.Close()
		// Paced (one every 2 ms) so that what is lost is lost on the way,
		// not in the publisher's own queue.
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < n; i++ {
			<-tick.C
			if _, err := tr.Write(seqPayload(uint64(i), size)); err != nil {
				writeErr <- err
				return
			}
		}
	}()
	seen := make(map[uint64]bool, n)
	for {
		o, err := s.ReadObject(ctx)
		if errors.Is(err, moq.ErrEnded) {
			break
		}
		if err != nil {
			t.Fatalf("after %d objects: %v", len(seen), err)
		}
		seq, err := checkPayload(o.Payload, size)
		if err != nil {
			t.Fatal(err)
		}
		if seq >= uint64(n) {
			t.Fatalf("object %d was never published", seq)
		}
		if seen[seq] {
			t.Fatalf("object %d delivered twice", seq)
		}
		seen[seq] = true
	}
	if err := <-writeErr; err != nil {
		t.Fatalf("publishing: %v", err)
	}
	published := tr.Stats().ObjectsIn
	if published != uint64(n) {
		t.Fatalf("track stats: %d objects in, want %d", published, n)
	}
	lostSeen := uint64(n - len(seen))
	st := s.Stats()
	lostReported := published - st.Objects
	if lostSeen != lostReported {
		t.Fatalf("loss seen %d, loss reported by the stats %d (published %d, subscription stats %+v)",
			lostSeen, lostReported, published, st)
	}
	if lostSeen == 0 {
		t.Fatalf("no datagram of %d was lost on a link that drops 5%% each way: the impairment is not in place", n)
	}
	figure(t, "draft %s datagrams, 5%% loss + 50 ms each way: %d published, %d delivered, loss %d (%.1f%%) seen = reported; dropped by the subscriber %d, by the publisher %d; the link dropped %d of %d packets (both directions, ACKs included)",
		d.name, n, st.Objects, lostSeen, 100*float64(lostSeen)/float64(n), st.Dropped, tr.Stats().Dropped,
		l.im.dropped.Load()-drop0, l.im.forwarded.Load()-fwd0+l.im.dropped.Load()-drop0)
}

// events records a Client's events.
type events struct {
	mu  sync.Mutex
	evs []moq.ClientEvent
}

func (e *events) add(ev moq.ClientEvent) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) count(st moq.ClientState, reconnecting bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.evs {
		if ev.State == st && ev.Reconnecting == reconnecting {
			n++
		}
	}
	return n
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := ""
	for _, ev := range e.evs {
		s += fmt.Sprintf("[%v reconnecting=%v err=%v] ", ev.State, ev.Reconnecting, ev.Err)
	}
	return s
}

// blackout: a publisher and a persistent subscriber (moq.Client with
// reconnection) on a link with 30% loss each way, then 10 s with no link at
// all, then 30% loss again. The subscriber must receive objects written
// after the blackout within the documented bounds (idle timeout, reconnect
// backoff, connect and request timeouts), in order and never twice; with
// wantReconnect the clients must have been told of the loss and have
// reconnected, otherwise the session must have ridden the blackout out
// without losing an object.
func blackout(t *testing.T, l *netLab, r *relayProc, fp [32]byte, d draftRow, scheme string, idle time.Duration, wantReconnect bool) {
	l.impair(t, 50*time.Millisecond, 30)
	t.Cleanup(func() { l.impair(t, 0, 0) })
	const (
		connectTimeout = 10 * time.Second
		requestTimeout = 10 * time.Second
		reconnectMax   = 2 * time.Second
		blackoutFor    = 10 * time.Second
	)
	ctx := ctxFor(t, 5*time.Minute)
	url := fmt.Sprintf("%s://%s/", scheme, r.addr)
	mk := func(ev *events) *moq.Client {
		o := &moq.ClientOptions{Reconnect: true, ReconnectMin: 200 * time.Millisecond, ReconnectMax: reconnectMax, OnEvent: ev.add}
		o.TLS.PinSHA256 = [][32]byte{fp}
		o.Drafts = []moq.Draft{d.draft}
		o.IdleTimeout = idle
		o.ConnectTimeout = connectTimeout
		o.RequestTimeout = requestTimeout
		c := moq.NewClient(o)
		t.Cleanup(func() { c.Close() })
		if err := c.Connect(ctx, url); err != nil {
			t.Fatal(err)
		}
		if got := c.Session().Draft(); got != d.draft {
			t.Fatalf("client speaks %v, want %v", got, d.draft)
		}
		return c
	}
	var pubEv, subEv events
	pc := mk(&pubEv)
	sc := mk(&subEv)
	ns := moq.Namespace{"netem", "blackout", fmt.Sprint(wantReconnect), d.name, scheme}
	if err := pc.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	tr, err := pc.Publish(ns, "seq", moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := sc.Subscribe(ctx, ns, "seq", moq.ClientSubscribeOptions{Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	// The writer: one object (one group) every 50 ms; written counts them.
	var (
		mu      sync.Mutex
		written uint64
	)
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for seq := uint64(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := tr.Write(seqPayload(seq, 100)); err != nil {
				t.Errorf("write %d: %v", seq, err)
				return
			}
			mu.Lock()
			written = seq + 1
			mu.Unlock()
		}
	}()
	defer func() { close(stop); <-writerDone }()

	// The reader: checks order; got reports each sequence number.
	got := make(chan uint64, 1<<16)
	readErr := make(chan error, 1)
	go func() {
		for {
			o, err := cs.ReadObject(ctx)
			if err != nil {
				readErr <- err
				return
			}
			seq, err := checkPayload(o.Payload, 100)
			if err != nil {
				readErr <- err
				return
			}
			got <- seq
		}
	}()
	var (
		received int
		last     uint64
		missing  uint64
	)
	// waitFor reads until an object with a sequence number >= want arrives
	// or limit passes.
	waitFor := func(want uint64, limit time.Duration, what string) {
		t.Helper()
		deadline := time.NewTimer(limit)
		defer deadline.Stop()
		for {
			select {
			case seq := <-got:
				if received > 0 && seq <= last {
					t.Fatalf("object %d after %d: duplicated or out of order", seq, last)
				}
				if received > 0 {
					missing += seq - last - 1
				}
				received++
				last = seq
				if seq >= want {
					return
				}
			case err := <-readErr:
				t.Fatalf("subscription failed: %v", err)
			case <-deadline.C:
				t.Fatalf("%s: nothing past object %d within %v (last %d, client events: %s)", what, want, limit, last, subEv.String())
			}
		}
	}
	waitFor(20, 2*time.Minute, "before the blackout")
	sessBefore := sc.Session()

	l.impair(t, 50*time.Millisecond, 100)
	blackStart := time.Now()
	<-time.After(blackoutFor) // the fault itself lasts 10 s
	l.impair(t, 50*time.Millisecond, 30)
	mu.Lock()
	after := written
	mu.Unlock()
	// Documented bounds: the idle timeout ends a dead session; then
	// reconnect attempts follow at most ReconnectMax apart, each bounded by
	// ConnectTimeout; a resubscription waits at most RequestTimeout. On top
	// a minute for the 30% loss (QUIC's backoff after the blackout).
	bound := idle + 2*(reconnectMax+connectTimeout) + requestTimeout + time.Minute
	waitFor(after, bound, "after the blackout")
	recovered := time.Since(blackStart) - blackoutFor

	reconnected := sc.Reconnects() > 0 || pc.Reconnects() > 0
	st := cs.Stats()
	figure(t, "draft %s over %s, 30%% loss + 50 ms, 10 s blackout, idle timeout %v: reconnected=%v (publisher %d, subscriber %d reconnects, %d resubscribes), objects flowing again %v after the link came back (bound %v), %d received in order, none duplicated, %d missing (subscription stats: %d dropped; publisher's track: %d written, %d dropped)",
		d.name, scheme, idle, reconnected, pc.Reconnects(), sc.Reconnects(), cs.Resubscribes(), recovered.Round(100*time.Millisecond), bound, received, missing, st.Dropped,
		tr.Stats().ObjectsIn, tr.Stats().Dropped)

	if wantReconnect {
		if sc.Reconnects() == 0 || pc.Reconnects() == 0 {
			t.Fatalf("reconnects: publisher %d, subscriber %d; want both after a blackout longer than the idle timeout",
				pc.Reconnects(), sc.Reconnects())
		}
		// The host was told: the loss, then a reconnection.
		for _, e := range []*events{&pubEv, &subEv} {
			if e.count(moq.ClientFailed, true) == 0 || e.count(moq.ClientConnected, true) == 0 {
				t.Fatalf("events %s: want a failure and a reconnection reported", e.String())
			}
		}
		if cs.Resubscribes() == 0 {
			t.Fatal("the subscription was not made again")
		}
	} else {
		if reconnected || sc.Session() != sessBefore {
			t.Fatalf("the session did not ride the blackout out (idle timeout %v): events %s", idle, subEv.String())
		}
		// The documented guarantee (docs/faults.md, "Riding out a
		// blackout"): a header that QUIC recovers within headerOrderWait of
		// live time loses nothing; one that takes longer lets the streams
		// behind it go first, and its objects are counted as dropped. A
		// loss the subscriber's stats do not count is a failure.
		if missing != st.Dropped {
			t.Fatalf("%d objects lost although the session survived, %d counted as dropped (too late to keep group order): %d lost uncounted",
				missing, st.Dropped, int64(missing)-int64(st.Dropped))
		}
		if missing != 0 {
			t.Logf("%d objects counted as dropped: their streams' headers took more than headerOrderWait of live time to be recovered (objects flowing again %v after the link came back)",
				missing, recovered.Round(100*time.Millisecond))
		}
	}
	// Closing is bounded too.
	closed := make(chan struct{})
	go func() { sc.Close(); pc.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(connectTimeout + requestTimeout):
		t.Fatal("closing the clients hung")
	}
}
