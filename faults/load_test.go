//go:build linux

package faults

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// TestLoad: MOQ_LOAD_SESSIONS (short 100, full 1000) concurrent sessions on
// one relay (a `moq relay` process on loopback), half publishers and half
// subscribers, on draft-14 and draft-07 (Cloudflare layout), raw QUIC and
// WebTransport mixed; every subscriber must receive all its publisher's
// objects in order while one session floods the relay with requests and
// another subscribes to a busy track and never reads. The relay's RSS and
// CPU time per session are reported.
func TestLoad(t *testing.T) {
	n := 100
	if full(t) {
		n = 1000
	}
	n = envInt(t, "MOQ_LOAD_SESSIONS", n)
	n -= n % 2
	const objects = 20
	r := startRelay(t, "", "127.0.0.1:0")
	fp := r.fingerprint(t)
	ctx := ctxFor(t, 15*time.Minute)
	base, err := readProc(r.pid())
	if err != nil {
		t.Fatal(err)
	}

	// Session i: pair i/2, publisher when i is even. The pairs cover
	// every combination of drafts and both transports.
	variant := func(i int) (string, *moq.Options) {
		p := i / 2
		drafts := []moq.Draft{moq.Draft20, moq.Draft18, moq.Draft16, moq.Draft14, moq.Draft07Cloudflare}
		nd := len(drafts)
		d := drafts[p%nd] // the publisher's draft
		if i%2 == 1 {
			d = drafts[(p/nd)%nd] // the subscriber's
		}
		scheme := []string{"moqt", "https"}[(p/(nd*nd))%2]
		return fmt.Sprintf("%s://%s/", scheme, r.addr),
			&moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{fp}}, Drafts: []moq.Draft{d}}
	}
	sessions := make([]*moq.Session, n)
	var all sync.WaitGroup
	t.Cleanup(func() {
		for _, s := range sessions {
			if s != nil {
				s.CloseWithError(0, "")
			}
		}
	})

	// Connect everyone, 32 handshakes at a time.
	start := time.Now()
	sem := make(chan struct{}, 32)
	var dialErrs atomic.Int64
	var firstErr atomic.Value
	for i := range sessions {
		all.Add(1)
		sem <- struct{}{}
		go func() {
			defer all.Done()
			defer func() { <-sem }()
			url, opts := variant(i)
			s, err := moq.Dial(ctx, url, opts)
			if err != nil {
				dialErrs.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Errorf("session %d: %w", i, err))
				return
			}
			sessions[i] = s
		}()
	}
	all.Wait()
	if dialErrs.Load() > 0 {
		t.Fatalf("%d of %d sessions failed to connect; first: %v", dialErrs.Load(), n, firstErr.Load())
	}
	connected := time.Since(start)

	// Publishers (even indices) publish and announce; subscribers (odd)
	// subscribe to the publisher before them.
	pubs := n / 2
	tracks := make([]*moq.Track, pubs)
	for p := 0; p < pubs; p++ {
		all.Add(1)
		sem <- struct{}{}
		go func() {
			defer all.Done()
			defer func() { <-sem }()
			s := sessions[2*p]
			ns := moq.Namespace{"load", fmt.Sprint(p)}
			tr, err := s.Publish(ns, "t", moq.TrackOptions{})
			if err == nil {
				err = s.Announce(ctx, ns)
			}
			if err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("publisher %d: %w", p, err))
				return
			}
			tracks[p] = tr
		}()
	}
	all.Wait()
	if e := firstErr.Load(); e != nil {
		t.Fatal(e)
	}
	subs := make([]*moq.Subscription, pubs)
	for p := 0; p < pubs; p++ {
		all.Add(1)
		sem <- struct{}{}
		go func() {
			defer all.Done()
			defer func() { <-sem }()
			s, err := sessions[2*p+1].Subscribe(ctx, moq.Namespace{"load", fmt.Sprint(p)}, "t", moq.SubscribeOptions{})
			if err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("subscriber %d: %w", p, err))
				return
			}
			subs[p] = s
		}()
	}
	all.Wait()
	if e := firstErr.Load(); e != nil {
		t.Fatal(e)
	}
	held, err := readProc(r.pid())
	if err != nil {
		t.Fatal(err)
	}
	setup := time.Since(start)

	// The troublemakers: a request flood and a slow reader.
	url, opts := variant(0)
	flooder, err := moq.Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer flooder.Close()
	busyPub, err := moq.Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer busyPub.Close()
	slow, err := moq.Dial(ctx, url, &moq.Options{TLS: opts.TLS, Drafts: opts.Drafts, SubscriptionBuffer: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	busyNS := moq.Namespace{"load", "busy"}
	busy, err := busyPub.Publish(busyNS, "t", moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := busyPub.Announce(ctx, busyNS); err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Subscribe(ctx, busyNS, "t", moq.SubscribeOptions{}); err != nil {
		t.Fatal(err)
	}
	stopTrouble := make(chan struct{})
	var trouble sync.WaitGroup
	stopOnce := sync.OnceFunc(func() { close(stopTrouble); trouble.Wait() })
	defer stopOnce()
	var floodSent, floodRefused, busyWritten atomic.Int64
	// The traffic starts once the flood and the busy track are in full swing.
	floodReady, busyReady := make(chan struct{}), make(chan struct{})
	var floodOnce, busyOnce sync.Once
	for w := 0; w < 64; w++ {
		trouble.Add(1)
		go func() {
			defer trouble.Done()
			for i := 0; ; i++ {
				select {
				case <-stopTrouble:
					return
				default:
				}
				_, err := flooder.Subscribe(ctx, moq.Namespace{"load", "nobody", fmt.Sprint(w)}, fmt.Sprint(i), moq.SubscribeOptions{})
				if floodSent.Add(1) == 1000 {
					floodOnce.Do(func() { close(floodReady) })
				}
				var re *moq.RequestError
				switch {
				case errors.As(err, &re), errors.Is(err, moq.ErrLimit):
					floodRefused.Add(1)
				case err != nil:
					if ctx.Err() == nil && flooder.Err() == nil {
						t.Errorf("flood request: %v", err)
					}
					return
				default:
					t.Errorf("a SUBSCRIBE to a track nobody publishes was accepted")
					return
				}
			}
		}()
	}
	trouble.Add(1)
	go func() {
		defer trouble.Done()
		// 16 KiB every 2 ms (8 MiB/s): far more than the slow reader takes.
		payload := make([]byte, 16<<10)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopTrouble:
				return
			case <-tick.C:
			}
			if _, err := busy.Write(payload); err != nil {
				t.Errorf("busy track: %v", err)
				return
			}
			if busyWritten.Add(1) == 500 {
				busyOnce.Do(func() { close(busyReady) })
			}
		}
	}()

	for _, ready := range []chan struct{}{floodReady, busyReady} {
		select {
		case <-ready:
		case <-ctx.Done():
			t.Fatalf("the flood (%d requests) or the busy track (%d objects) did not get going", floodSent.Load(), busyWritten.Load())
		}
	}

	// Everyone else: objects through the relay, checked in order.
	var skipped, skippedSubs atomic.Int64
	var skipExample atomic.Value
	traffic := time.Now()
	for p := 0; p < pubs; p++ {
		all.Add(1)
		go func() {
			defer all.Done()
			for i := 0; i < objects; i++ {
				if _, err := tracks[p].Write([]byte(fmt.Sprintf("%d/%d", p, i))); err != nil {
					firstErr.CompareAndSwap(nil, fmt.Errorf("publisher %d write %d: %w", p, i, err))
					return
				}
			}
		}()
		all.Add(1)
		go func() {
			defer all.Done()
			// Read up to the last object; anything skipped is counted.
			next := 0
			for next < objects {
				o, err := subs[p].ReadObject(ctx)
				if err != nil {
					firstErr.CompareAndSwap(nil, fmt.Errorf("subscriber %d after object %d: %w", p, next, err))
					return
				}
				var pp, i int
				if _, err := fmt.Sscanf(string(o.Payload), "%d/%d", &pp, &i); err != nil || pp != p || i < next {
					firstErr.CompareAndSwap(nil, fmt.Errorf("subscriber %d got %q after object %d: foreign, duplicated or out of order", p, o.Payload, next-1))
					return
				}
				if i > next {
					skipped.Add(int64(i - next))
					if skippedSubs.Add(1) == 1 {
						skipExample.Store(fmt.Sprintf("subscriber %d (draft %v, publisher on %v) got object %d after %d; its stats %+v",
							p, sessions[2*p+1].Draft(), sessions[2*p].Draft(), i, next-1, subs[p].Stats()))
					}
				}
				next = i + 1
			}
		}()
	}
	all.Wait()
	trafficTime := time.Since(traffic)
	stopOnce()
	if e := firstErr.Load(); e != nil {
		t.Fatal(e)
	}
	combos := map[string]int{}
	var uncounted uint64
	for p := 0; p < pubs; p++ {
		if st := subs[p].Stats(); st.Objects < objects {
			combos[fmt.Sprintf("%v->%v/%s", sessions[2*p].Draft(), sessions[2*p+1].Draft(), sessions[2*p+1].Protocol())]++
			if missing := objects - st.Objects; missing > st.Dropped {
				uncounted += missing - st.Dropped
			}
		}
	}
	if skipped.Load() > 0 {
		t.Logf("subscribers short of objects, by publisher->subscriber draft/subscriber transport: %v", combos)
		msg := fmt.Sprintf("%d objects never delivered to %d of %d subscribers, %d of them not counted as dropped (each object is its own group, so its own stream; the later group came first and the earlier ones were dropped as too late); e.g. %s",
			skipped.Load(), skippedSubs.Load(), pubs, uncounted, skipExample.Load())
		if lateDropsTolerated() && uncounted == 0 {
			t.Log("KNOWN ISSUE: " + msg)
		} else {
			t.Error(msg)
		}
	}
	after, err := readProc(r.pid())
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sessions {
		if err := s.Err(); err != nil {
			t.Fatalf("session %d ended: %v", i, err)
		}
	}
	if floodSent.Load() == 0 || busyWritten.Load() == 0 {
		t.Fatal("the flood or the busy track did not run")
	}
	if e := r.stderr.String(); strings.Contains(e, "level=ERROR") {
		t.Fatalf("the relay logged errors:\n%s", e)
	}
	figure(t, "%d sessions (%d publishers, %d subscribers, drafts 20, 18, 16, 14 and 07cf, QUIC and WebTransport) held on one relay: connected in %v, subscribed in %v; %d objects each delivered in order in %v while %d flood requests (%d refused) and a never-reading subscriber of a %d-object busy track ran",
		n, pubs, pubs, connected.Round(time.Millisecond), setup.Round(time.Millisecond), objects, trafficTime.Round(time.Millisecond),
		floodSent.Load(), floodRefused.Load(), busyWritten.Load())
	figure(t, "relay RSS %d KiB idle, %d KiB with %d sessions: %.1f KiB per session; relay CPU %v for connecting and subscribing (%.2f ms per session), %v for the traffic",
		base.rssKB, held.rssKB, n, float64(held.rssKB-base.rssKB)/float64(n),
		(held.cpu - base.cpu).Round(10*time.Millisecond), float64((held.cpu-base.cpu).Microseconds())/1000/float64(n),
		(after.cpu - held.cpu).Round(10*time.Millisecond))
}
