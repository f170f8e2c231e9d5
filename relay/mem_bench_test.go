package relay

// Memory benchmarks (docs/benchmarks.md, "Memory"): live heap per idle
// session, per subscription, and the heap's growth over a long run. Every
// figure is the live heap after two forced collections, in this one process
// (clients and relay alike), so "per session" counts both ends.
//
//	go test -run '^$' -bench 'Memory' -benchtime 1x ./relay/
//	go test -run '^$' -bench 'MemoryGrowth' -benchtime 1x ./relay/ -args -relay.memobjects=1000000

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

var memObjects = flag.Int("relay.memobjects", 1_000_000, "objects BenchmarkMemoryGrowth sends through the relay")

// liveHeap is the live heap after two collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// memRelay starts a relay for a memory benchmark.
func memRelay(b *testing.B) *testRelay {
	b.Helper()
	s := setupRelay(b, context.Background(), 0)
	b.Cleanup(s.closeAll)
	return &testRelay{Relay: s.relay, fp: s.relay.Fingerprint()}
}

// BenchmarkMemoryPerSession: the heap taken by an idle session (client and
// relay ends), over 200 sessions, per transport.
func BenchmarkMemoryPerSession(b *testing.B) {
	for _, c := range []client{quic14, wt14, quic18, wt18} {
		b.Run(c.name, func(b *testing.B) {
			const n = 200
			r := memRelay(b)
			var total float64
			for range b.N {
				before := liveHeap()
				sessions := make([]*moq.Session, 0, n)
				for range n {
					s, err := r.tryDial(c, nil)
					if err != nil {
						benchSessions(sessions)
						b.Fatal(err)
					}
					sessions = append(sessions, s)
				}
				after := liveHeap()
				total += float64(after-before) / n
				benchSessions(sessions)
			}
			b.ReportMetric(total/float64(b.N), "heap-B/session")
		})
	}
}

// BenchmarkMemoryPerSubscription: the heap taken by one subscription end to
// end (subscriber, relay track and upstream subscription, publisher's
// sender), over 500 tracks of one publisher subscribed from one session.
func BenchmarkMemoryPerSubscription(b *testing.B) {
	// Draft-18 subscriptions hold a bidirectional stream (and a reader on
	// each end) for their lifetime.
	for _, c := range []client{quic14, quic16, quic18} {
		b.Run(c.name, func(b *testing.B) { benchMemoryPerSubscription(b, c) })
	}
}

func benchMemoryPerSubscription(b *testing.B, c client) {
	const n = 500
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	r := memRelay(b)
	pub, err := r.tryDial(c, nil)
	if err != nil {
		b.Fatal(err)
	}
	sub, err := r.tryDial(c, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer benchSessions([]*moq.Session{pub, sub})
	ns := moq.Namespace{"mem"}
	for i := range n {
		if _, err := pub.Publish(ns, fmt.Sprint(i), moq.TrackOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	if err := pub.Announce(ctx, ns); err != nil {
		b.Fatal(err)
	}
	var total float64
	for range b.N {
		before := liveHeap()
		subs := make([]*moq.Subscription, n)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				subs[i], errs[i] = sub.Subscribe(ctx, ns, fmt.Sprint(i), moq.SubscribeOptions{})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		after := liveHeap()
		total += float64(after-before) / n
		for _, s := range subs {
			s.Close()
		}
	}
	b.ReportMetric(total/float64(b.N), "heap-B/subscription")
}

// BenchmarkMemoryGrowth: -relay.memobjects 200-byte objects (one per
// group) through the relay to one subscriber, paced by the usual window;
// reports the live heap after the first tenth and at the end, and their
// ratio (1.0: no growth).
func BenchmarkMemoryGrowth(b *testing.B) {
	n := *memObjects
	first := n / 10
	if first == 0 {
		b.Fatal("-relay.memobjects must be at least 10")
	}
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		s := setupRelay(b, ctx, 1)
		w := newWindow(relayWindowSmall, 1)
		payload := make([]byte, 200)
		reached := make(chan struct{})
		readErr := make(chan error, 1)
		go func() {
			_, _, lost, err := reader(ctx, s.subs[0], w, n, len(payload), 1, func(o *moq.Object, _ time.Time) {
				if o.Group == uint64(first-1) {
					close(reached)
				}
			})
			if err == nil && lost > 0 {
				err = fmt.Errorf("%d objects lost", lost)
			}
			readErr <- err
		}()
		fail := func(err error) {
			cancel()
			s.closeAll()
			b.Fatal(err)
		}
		if err := publish(s.tr, payload, first, 1, func(seq int) error { return w.take(ctx, seq) }, nil); err != nil {
			fail(err)
		}
		select {
		case <-reached:
		case err := <-readErr:
			fail(fmt.Errorf("reader ended early: %v", err))
		}
		early := liveHeap()
		if err := publish(s.tr, payload, n-first, 1, func(seq int) error { return w.take(ctx, first+seq) }, nil); err != nil {
			fail(err)
		}
		if err := <-readErr; err != nil {
			fail(err)
		}
		late := liveHeap()
		s.closeAll()
		cancel()
		b.ReportMetric(float64(early)/(1<<20), "heap-MiB@10%")
		b.ReportMetric(float64(late)/(1<<20), "heap-MiB@100%")
		b.ReportMetric(float64(late)/float64(early), "growth")
	}
}
