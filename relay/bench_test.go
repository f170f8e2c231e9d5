package relay

// Benchmarks of the relay, each next to baselines measured in the same
// benchmark binary and the same run, so that ratios compare figures taken
// under the same machine load:
//
//	go test -run '^$' -bench 'Relay' -benchtime 2s ./relay/
//
// All traffic is draft-14 over raw QUIC on loopback, in this one process
// (publisher, relay and subscribers alike).
//
//   - BenchmarkRelayThroughput200B, BenchmarkRelayThroughput64KiB:
//     publisher -> relay -> subscriber ("relay"), publisher -> subscriber
//     ("direct") and plain quic-go ("rawquic"). One op is one object.
//   - BenchmarkRelayLatency: 200-byte objects at a steady 1000 objects/s;
//     one op is one object, so b.N objects take b.N milliseconds (use
//     -benchtime 3000x for three seconds). Reports the one-way latency from
//     Track.Write to the return of ReadObject: p50 and p99 in µs.
//   - BenchmarkRelayLatencyPaired: the same objects written to a relay path
//     and a direct pair at once; reports the per-object difference (what
//     the relay adds, with noise common to both paths cancelled), each
//     path's own percentiles, and how much the machine and the runtime
//     held the process up meanwhile (os-wait-ms/s, gosched-p99-µs, gcs).
//   - BenchmarkRelayFanout100: one publisher, 100 subscribers via the relay,
//     1 KiB objects; reports the process CPU time per GB delivered (summed
//     over all subscribers), next to the direct 1 -> 1 case.
//
// As in moq/bench_test.go, every sender is paced by a window of objects in
// flight (sent but not yet read by the receiving application), so that
// objects/s counts delivered objects and nothing is dropped; "dropped"
// reports any gap in the received sequence all the same.

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/quic-go/quic-go"
)

const (
	// relayBenchTimeout bounds one benchmark run: a stall fails the
	// benchmark instead of hanging it.
	relayBenchTimeout = 2 * time.Minute
	// Windows of objects in flight, as in moq/bench_test.go: 256 x 200 B,
	// 64 x 64 KiB (4 MiB, half the default 8 MiB buffers), 256 x 1 KiB.
	relayWindowSmall  = 256
	relayWindowLarge  = 64
	relayWindowFanout = 256
)

var benchNS = moq.Namespace{"bench"}

// benchSetup is a publisher's track and its subscriptions, over the relay
// or directly.
type benchSetup struct {
	tr       *moq.Track
	subs     []*moq.Subscription
	pubSess  *moq.Session
	subSess  []*moq.Session // the subscribers' sessions (direct: the server end)
	relay    *Relay         // nil when direct
	closeAll func()
}

// dropped sums the objects dropped on the way: by the publisher's session
// (its queue to the relay or to the direct subscriber), by the relay (its
// queues to the subscribers) and by the subscriptions.
func (s *benchSetup) dropped() uint64 {
	n := s.tr.Stats().Dropped
	if s.relay != nil {
		for _, st := range s.relay.activeTrackStats() {
			n += st.Dropped
		}
	}
	for _, sub := range s.subs {
		n += sub.Stats().Dropped
	}
	return n
}

// benchSessions closes sessions and waits for them.
func benchSessions(ss []*moq.Session) {
	for _, s := range ss {
		if s != nil {
			s.Close()
		}
	}
	for _, s := range ss {
		if s != nil {
			s.Wait()
		}
	}
}

// setupRelay starts a relay on loopback, a publisher that publishes and
// announces benchNS/"data", and nSubs subscribers to it through the relay
// (at most 16 handshakes at once: quic-go's accept queue holds 32).
func setupRelay(b *testing.B, ctx context.Context, nSubs int) *benchSetup {
	b.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{Addr: "127.0.0.1:0"}
	cfg.Session.TLS.Certificates = []tls.Certificate{cert}
	rl, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := &testRelay{Relay: rl, fp: fp}
	return setupThrough(b, ctx, nSubs, r, r.url("moqt"), func() { rl.Close() }, rl)
}

// setupRelayProcess is setupRelay with the relay in a child process (this
// test binary run again, see TestMain): the relay's garbage collector and
// scheduler are its own, as in a deployment, and the publisher's and
// subscribers' process no longer shares them with it. The relay's own drop
// counters and packet losses are not read.
func setupRelayProcess(b *testing.B, ctx context.Context) *benchSetup {
	b.Helper()
	cmd, r, addr := startChildRelay(b, childStandalone, "")
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	return setupThrough(b, ctx, 1, r, fmt.Sprintf("moqt://%s/relay", addr), stop, nil)
}

// setupThrough connects the publisher and nSubs subscribers of setupRelay
// to the relay r at url; closeRelay stops it; rl is r when it runs in this
// process (for its counters), else nil.
func setupThrough(b *testing.B, ctx context.Context, nSubs int, r *testRelay, url string, closeRelay func(), rl *Relay) *benchSetup {
	b.Helper()
	sessions := make([]*moq.Session, nSubs+1)
	fail := func(format string, args ...any) {
		benchSessions(sessions)
		closeRelay()
		b.Fatalf(format, args...)
	}
	pub, err := r.tryDialURL(quic14, url, nil)
	if err != nil {
		fail("dial publisher: %v", err)
	}
	sessions[nSubs] = pub
	tr, err := pub.Publish(benchNS, "data", moq.TrackOptions{})
	if err != nil {
		fail("publish: %v", err)
	}
	if err := pub.Announce(ctx, benchNS); err != nil {
		fail("announce: %v", err)
	}
	subs := make([]*moq.Subscription, nSubs)
	errs := make([]error, nSubs)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range nSubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := r.tryDialURL(quic14, url, nil)
			if err != nil {
				errs[i] = fmt.Errorf("dial: %w", err)
				return
			}
			sessions[i] = s
			subs[i], errs[i] = s.Subscribe(ctx, benchNS, "data", moq.SubscribeOptions{})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tr.Close()
		fail("subscribers: %v", err)
	}
	return &benchSetup{tr: tr, subs: subs, pubSess: pub, subSess: sessions[:nSubs], relay: rl, closeAll: func() {
		tr.Close()
		benchSessions(sessions)
		closeRelay()
	}}
}

// setupFlow is setupRelay with one subscriber, or setupDirect.
func setupFlow(b *testing.B, ctx context.Context, relay bool) *benchSetup {
	if relay {
		return setupRelay(b, ctx, 1)
	}
	return setupDirect(b, ctx)
}

// setupDirect connects a client session to a listener on loopback: the
// client publishes and announces benchNS/"data", the server session
// subscribes to it (the moq package's benchmark pair).
func setupDirect(b *testing.B, ctx context.Context) *benchSetup {
	b.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := moq.Listen("127.0.0.1:0", &moq.Options{TLS: moq.TLSConfig{Certificates: []tls.Certificate{cert}}})
	if err != nil {
		b.Fatal(err)
	}
	type res struct {
		s   *moq.Session
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := ln.Accept(ctx)
		ch <- res{s, err}
	}()
	url := fmt.Sprintf("moqt://%s/bench", ln.Addr())
	pub, err := moq.Dial(ctx, url, &moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{fp}}, Drafts: []moq.Draft{moq.Draft14}})
	if err != nil {
		ln.Close()
		<-ch
		b.Fatalf("dial %s: %v", url, err)
	}
	a := <-ch
	sessions := []*moq.Session{pub, a.s}
	fail := func(format string, args ...any) {
		benchSessions(sessions)
		ln.Close()
		b.Fatalf(format, args...)
	}
	if a.err != nil {
		fail("accept: %v", a.err)
	}
	tr, err := pub.Publish(benchNS, "data", moq.TrackOptions{})
	if err != nil {
		fail("publish: %v", err)
	}
	if err := pub.Announce(ctx, benchNS); err != nil {
		fail("announce: %v", err)
	}
	sub, err := a.s.Subscribe(ctx, benchNS, "data", moq.SubscribeOptions{})
	if err != nil {
		tr.Close()
		fail("subscribe: %v", err)
	}
	return &benchSetup{tr: tr, subs: []*moq.Subscription{sub}, pubSess: pub, subSess: []*moq.Session{a.s}, closeAll: func() {
		tr.Close()
		benchSessions(sessions)
		ln.Close()
	}}
}

// window paces the publisher: at most size objects in flight, an object
// leaving flight once every subscriber has read it (or skipped it: a gap).
// Subscribers read in order, so objects complete in order and slot
// seq%size is free again by the time object seq+size takes a credit.
type window struct {
	credits chan struct{}
	pending []atomic.Int32 // readers still to read object seq, at seq % size
	readers int32
}

func newWindow(size, readers int) *window {
	return &window{credits: make(chan struct{}, size), pending: make([]atomic.Int32, size), readers: int32(readers)}
}

// take waits for room for object seq.
func (w *window) take(ctx context.Context, seq int) error {
	select {
	case w.credits <- struct{}{}:
		w.pending[seq%len(w.pending)].Store(w.readers)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("object %d: waiting for the subscribers: %w", seq, ctx.Err())
	}
}

// done records that one reader is past object seq.
func (w *window) done(seq int) {
	if w.pending[seq%len(w.pending)].Add(-1) == 0 {
		<-w.credits
	}
}

// reader reads n objects of size bytes from sub, perGroup per group
// (sequence number group*perGroup+id: a fresh track starts at group 0),
// checking that sequence numbers rise; onObject (if set) sees each object
// when ReadObject returns. Returns the objects and bytes read and the gaps.
func reader(ctx context.Context, sub *moq.Subscription, w *window, n, size, perGroup int,
	onObject func(*moq.Object, time.Time)) (objects, bytes, lost int, err error) {
	next := 0
	for next < n {
		o, err := sub.ReadObject(ctx)
		if err != nil {
			return objects, bytes, lost, fmt.Errorf("reading object %d of %d (%d received): %w", next, n, objects, err)
		}
		now := time.Now()
		seq := int(o.Group)*perGroup + int(o.ID)
		if seq < next || seq >= n || len(o.Payload) != size {
			return objects, bytes, lost, fmt.Errorf("object (%d,%d) of %d bytes after sequence %d", o.Group, o.ID, len(o.Payload), next)
		}
		if onObject != nil {
			onObject(o, now)
		}
		lost += seq - next
		objects++
		bytes += len(o.Payload)
		if w != nil {
			for ; next <= seq; next++ {
				w.done(next)
			}
		}
		next = seq + 1
	}
	return objects, bytes, lost, nil
}

// publish writes n objects of payload, perGroup per group, each after
// pace(seq) returns nil; before (if set) may stamp the payload.
func publish(tr *moq.Track, payload []byte, n, perGroup int, pace func(seq int) error, before func([]byte)) error {
	for seq := 0; seq < n; {
		if perGroup == 1 {
			if err := pace(seq); err != nil {
				return err
			}
			if before != nil {
				before(payload)
			}
			if _, err := tr.Write(payload); err != nil {
				return fmt.Errorf("object %d: %w", seq, err)
			}
			seq++
			continue
		}
		gw, err := tr.OpenGroup(nil)
		if err != nil {
			return fmt.Errorf("object %d: open group: %w", seq, err)
		}
		for j := 0; j < perGroup && seq < n; j++ {
			if err := pace(seq); err != nil {
				gw.Close()
				return err
			}
			if before != nil {
				before(payload)
			}
			if _, err := gw.WriteObject(payload, nil); err != nil {
				gw.Close()
				return fmt.Errorf("object %d: %w", seq, err)
			}
			seq++
		}
		if err := gw.Close(); err != nil {
			return fmt.Errorf("object %d: close group: %w", seq, err)
		}
	}
	return nil
}

// flowResult is what runFlow measured.
type flowResult struct {
	objects, bytes, lost int
	cpu                  time.Duration // process CPU time between the timer's start and stop
	packets              uint64        // QUIC packets sent on the publisher's and the subscribers' connections, both ways
}

// packets counts the QUIC packets sent and received by the publisher's
// session and, via the relay, the subscribers' sessions: every packet of
// every hop, both directions (ACKs included), each hop counted at one end.
func (s *benchSetup) packets() uint64 {
	ends := []*moq.Session{s.pubSess}
	if s.relay != nil {
		ends = append(ends, s.subSess...)
	}
	var n uint64
	for _, ss := range ends {
		st := ss.ConnStats()
		n += st.PacketsSent + st.PacketsReceived
	}
	return n
}

// lostPackets counts the QUIC packets declared lost (quic-go's loss
// detection: by a reordering threshold or a probe timeout) by every end of
// every connection of s, the relay's ends included.
func (s *benchSetup) lostPackets() uint64 {
	ends := append([]*moq.Session{s.pubSess}, s.subSess...)
	if s.relay != nil {
		ends = append(ends, s.relay.sessionList()...)
	}
	var n uint64
	for _, ss := range ends {
		n += ss.ConnStats().PacketsLost
	}
	return n
}

// runFlow publishes b.N objects of size bytes through s, paced by a window
// of windowSize objects, and reads them on every subscription; the
// benchmark timer (and the CPU clock) cover the first write to the last
// read.
func runFlow(b *testing.B, ctx context.Context, cancel context.CancelFunc, s *benchSetup, size, perGroup, windowSize int) flowResult {
	n := b.N
	w := newWindow(windowSize, len(s.subs))
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	type res struct {
		objects, bytes, lost int
		err                  error
	}
	results := make(chan res, len(s.subs))
	b.SetBytes(int64(size * len(s.subs))) // MB/s: payload delivered to all subscribers
	b.ResetTimer()
	cpu0 := processCPU(b)
	pk0 := s.packets()
	for _, sub := range s.subs {
		go func() {
			o, by, l, err := reader(ctx, sub, w, n, size, perGroup, nil)
			if err != nil {
				cancel()
			}
			results <- res{o, by, l, err}
		}()
	}
	pubErr := publish(s.tr, payload, n, perGroup, func(seq int) error { return w.take(ctx, seq) }, nil)
	if pubErr != nil {
		cancel()
	}
	var r flowResult
	var errs []error
	for range s.subs {
		x := <-results
		r.objects += x.objects
		r.bytes += x.bytes
		r.lost += x.lost
		if x.err != nil {
			errs = append(errs, x.err)
		}
	}
	b.StopTimer()
	r.cpu = processCPU(b) - cpu0
	r.packets = s.packets() - pk0
	if pubErr != nil || len(errs) > 0 {
		b.Fatalf("publish: %v; receive: %v; dropped on the way %d", pubErr, errors.Join(errs...), s.dropped())
	}
	if r.lost > 0 {
		b.Logf("b.N=%d: %d objects lost (dropped on the way %d)", n, r.lost, s.dropped())
	}
	return r
}

// processCPU returns the user plus system CPU time of the process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchThroughput(b *testing.B, relay bool, size, perGroup, windowSize int) flowRate {
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	s := setupFlow(b, ctx, relay)
	defer s.closeAll()
	r := runFlow(b, ctx, cancel, s, size, perGroup, windowSize)
	rate := float64(r.objects) / b.Elapsed().Seconds()
	cpu := float64(r.cpu.Nanoseconds()) / 1e3 / float64(max(r.objects, 1))
	b.ReportMetric(rate, "objects/s")
	b.ReportMetric(float64(r.packets)/float64(max(r.objects, 1)), "pkts/obj")
	b.ReportMetric(cpu, "cpu-µs/obj")
	b.ReportMetric(float64(r.lost), "dropped")
	return flowRate{rate, cpu}
}

// ratioRun runs the relay, direct and rawquic variants of one throughput
// benchmark in this order and logs their ratios: figures taken in the same
// run, minutes apart at most, on the same machine load.
//
// The second line compares CPU time per object the other way round
// (rawquic's over ours), which the other loads of a shared machine disturb
// less than throughput: 0.5 for the relay means two hops each as cheap as
// raw quic-go.
func ratioRun(b *testing.B, name string, relay, direct, raw func(b *testing.B) flowRate) {
	var r, d, q flowRate
	b.Run("relay", func(b *testing.B) { r = relay(b) })
	b.Run("direct", func(b *testing.B) { d = direct(b) })
	b.Run("rawquic", func(b *testing.B) { q = raw(b) })
	if r.rate > 0 && d.rate > 0 && q.rate > 0 {
		fmt.Printf("RelayThroughput%s ratios (objects/s, same run): relay/rawquic %.3f, direct/rawquic %.3f, relay/direct %.3f\n",
			name, r.rate/q.rate, d.rate/q.rate, r.rate/d.rate)
	}
	if r.cpu > 0 && d.cpu > 0 && q.cpu > 0 {
		fmt.Printf("RelayThroughput%s CPU efficiency (rawquic cpu-µs/obj over ours, same run): relay %.3f, direct %.3f\n",
			name, q.cpu/r.cpu, q.cpu/d.cpu)
	}
}

// flowRate is a throughput benchmark's objects/s and process CPU time per
// object in µs.
type flowRate struct{ rate, cpu float64 }

// BenchmarkRelayThroughput200B: 200-byte objects, one per group
// (Track.Write: one QUIC stream per object), window 256.
// Logs the relay/rawquic, direct/rawquic and relay/direct ratios.
func BenchmarkRelayThroughput200B(b *testing.B) {
	ratioRun(b, "200B",
		func(b *testing.B) flowRate { return benchThroughput(b, true, 200, 1, relayWindowSmall) },
		func(b *testing.B) flowRate { return benchThroughput(b, false, 200, 1, relayWindowSmall) },
		func(b *testing.B) flowRate { return benchRawStreams(b, 200, relayWindowSmall) })
}

// BenchmarkRelayThroughput64KiB: 64 KiB objects, 30 per group (one stream
// per group), window 64.
// Logs the ratios as BenchmarkRelayThroughput200B does.
func BenchmarkRelayThroughput64KiB(b *testing.B) {
	ratioRun(b, "64KiB",
		func(b *testing.B) flowRate { return benchThroughput(b, true, 64<<10, 30, relayWindowLarge) },
		func(b *testing.B) flowRate { return benchThroughput(b, false, 64<<10, 30, relayWindowLarge) },
		func(b *testing.B) flowRate { return benchRawStream(b, 64<<10, relayWindowLarge) })
}

// BenchmarkRelayLatency: 200-byte objects, one per group, written at a
// steady 1000 objects/s (object i at start + i ms, not paced by the
// receiver); each payload carries its write time on the monotonic clock.
// One op is one object: b.N objects take b.N ms (ns/op ~ 1e6 by design).
// Reports p50, p99 and max of the one-way latency Write -> ReadObject
// return, in µs.
func BenchmarkRelayLatency(b *testing.B) {
	b.Run("relay", func(b *testing.B) { benchLatency(b, true) })
	b.Run("direct", func(b *testing.B) { benchLatency(b, false) })
}

func benchLatency(b *testing.B, relay bool) {
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	s := setupFlow(b, ctx, relay)
	defer s.closeAll()
	latencyRun(b, ctx, cancel, s)
}

// latencyRun is benchLatency's measurement over the setup s (one
// subscription).
func latencyRun(b *testing.B, ctx context.Context, cancel context.CancelFunc, s *benchSetup) latencies {
	const size, interval = 200, time.Millisecond
	n := b.N
	base := time.Now() // time.Since(base) reads the monotonic clock
	lat := make([]time.Duration, 0, n)
	recvErr := make(chan error, 1)
	var lost int
	b.ResetTimer()
	go func() {
		var err error
		_, _, lost, err = reader(ctx, s.subs[0], nil, n, size, 1, func(o *moq.Object, now time.Time) {
			sent := time.Duration(binary.LittleEndian.Uint64(o.Payload))
			lat = append(lat, now.Sub(base)-sent)
		})
		if err != nil {
			cancel()
		}
		recvErr <- err
	}()
	payload := make([]byte, size)
	start := time.Now()
	pace := func(seq int) error {
		if d := time.Until(start.Add(time.Duration(seq) * interval)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	stamp := func(p []byte) { binary.LittleEndian.PutUint64(p, uint64(time.Since(base))) }
	pubErr := publish(s.tr, payload, n, 1, pace, stamp)
	if pubErr != nil {
		cancel()
	}
	rerr := <-recvErr
	b.StopTimer()
	if pubErr != nil || rerr != nil {
		b.Fatalf("publish: %v; receive: %v; dropped on the way %d", pubErr, rerr, s.dropped())
	}
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	l := latencies{p50: us(percentile(lat, 50)), p99: us(percentile(lat, 99))}
	b.ReportMetric(l.p50, "p50-µs")
	b.ReportMetric(l.p99, "p99-µs")
	b.ReportMetric(us(lat[len(lat)-1]), "max-µs")
	b.ReportMetric(float64(lost), "dropped")
	return l
}

// BenchmarkRelayLatencyPaired: what the relay adds to the latency of each
// object, with the machine's noise taken out. A relay path (publisher ->
// relay -> subscriber) and a direct session pair (publisher -> subscriber)
// run side by side in this process; every object i is written to both
// tracks back to back at start + i ms (200 B, one per group), each write
// stamped just before it, and read on both. For each object the added
// latency is lat_relay(i) - lat_direct(i): a GC pause, a descheduling or
// another job's burst that delays both copies of an object cancels out,
// where a difference of separately measured percentiles does not. Writes
// alternate which path goes first (even objects the relay's, odd ones the
// direct one's), so that the second write's wait behind the first is shared
// evenly; the log line gives the median of each half.
//
// Reports p50, p99 and max of the per-object added latency (added-*), each
// path's own p50 and p99 (relay-*, direct-*), in µs. One op is one object
// (ns/op ~ 1e6 by design, as BenchmarkRelayLatency).
//
// Sub-benchmarks: "inprocess" runs the relay in this process, as the other
// relay benchmarks do; "process" runs it in a child process, as deployed,
// so that it has its own garbage collector and scheduler.
func BenchmarkRelayLatencyPaired(b *testing.B) {
	for _, v := range []struct {
		name  string
		setup func(b *testing.B, ctx context.Context) *benchSetup
	}{
		{"inprocess", func(b *testing.B, ctx context.Context) *benchSetup { return setupRelay(b, ctx, 1) }},
		{"process", setupRelayProcess},
	} {
		b.Run(v.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
			defer cancel()
			rs := v.setup(b, ctx)
			defer rs.closeAll()
			ds := setupDirect(b, ctx)
			defer ds.closeAll()
			pairedLatencyRun(b, ctx, cancel, rs, ds)
		})
	}
}

// pairedResult is what pairedLatencyRun measured, in µs.
type pairedResult struct {
	relay, direct, added latencies
	addedP90, addedMax   float64
}

// pairedLatencyRun writes b.N objects at 1000/s to rs's and ds's tracks
// (one subscription each) and returns the percentiles of each path's
// latency and of their per-object difference.
func pairedLatencyRun(b *testing.B, ctx context.Context, cancel context.CancelFunc, rs, ds *benchSetup) pairedResult {
	const size, interval = 200, time.Millisecond
	n := b.N
	base := time.Now() // time.Since(base) reads the monotonic clock
	// lat[p][seq]: path p's latency of object seq (group seq: fresh tracks
	// start at group 0); each slot is written by one reader.
	var lat [2][]time.Duration
	setups := [2]*benchSetup{rs, ds}
	recvErr := make(chan error, 2)
	var lost [2]int
	b.ResetTimer()
	for p := range setups {
		lat[p] = make([]time.Duration, n)
		for i := range lat[p] {
			lat[p][i] = -1
		}
		go func() {
			var err error
			_, _, lost[p], err = reader(ctx, setups[p].subs[0], nil, n, size, 1, func(o *moq.Object, now time.Time) {
				lat[p][o.Group] = now.Sub(base) - time.Duration(binary.LittleEndian.Uint64(o.Payload))
			})
			if err != nil {
				cancel()
			}
			recvErr <- err
		}()
	}
	payload := make([]byte, size) // Track.Write copies it
	// How far behind its schedule object seq was written (for the dump): Go
	// timers wait in the network poller with a millisecond resolution, so
	// up to ~1 ms is the timer's doing, and more is the process held up.
	late := make([]time.Duration, n)
	noise0 := readNoise()
	lost0 := rs.lostPackets() + ds.lostPackets()
	start := time.Now()
	var pubErr error
	for seq := 0; seq < n && pubErr == nil; seq++ {
		if d := time.Until(start.Add(time.Duration(seq) * interval)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				pubErr = ctx.Err()
				continue
			}
		}
		late[seq] = time.Since(start) - time.Duration(seq)*interval
		for k := range 2 {
			tr := setups[(seq+k)%2].tr // even objects: relay first
			binary.LittleEndian.PutUint64(payload, uint64(time.Since(base)))
			if _, err := tr.Write(payload); err != nil {
				pubErr = fmt.Errorf("object %d: %w", seq, err)
				break
			}
		}
	}
	if pubErr != nil {
		cancel()
	}
	rerr := errors.Join(<-recvErr, <-recvErr)
	b.StopTimer()
	noise := readNoise().since(noise0, time.Since(start))
	pktsLost := rs.lostPackets() + ds.lostPackets() - lost0
	if pubErr != nil || rerr != nil {
		b.Fatalf("publish: %v; receive: %v; dropped on the way: relay %d, direct %d", pubErr, rerr, rs.dropped(), ds.dropped())
	}
	if *latDump != "" {
		var sb strings.Builder
		sb.WriteString("# object relay-µs direct-µs (-1: not received) written-late-µs\n")
		for seq := range n {
			fmt.Fprintf(&sb, "%d %.1f %.1f %.1f\n", seq, float64(lat[0][seq])/1e3, float64(lat[1][seq])/1e3, float64(late[seq])/1e3)
		}
		if err := os.WriteFile(*latDump, []byte(sb.String()), 0o644); err != nil {
			b.Errorf("-relay.latdump: %v", err)
		}
	}
	var added, addedRelayFirst, addedDirectFirst []time.Duration
	for seq := range n {
		if lat[0][seq] < 0 || lat[1][seq] < 0 {
			continue // lost on one path (counted in dropped)
		}
		d := lat[0][seq] - lat[1][seq]
		added = append(added, d)
		if seq%2 == 0 {
			addedRelayFirst = append(addedRelayFirst, d)
		} else {
			addedDirectFirst = append(addedDirectFirst, d)
		}
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	pct := func(d []time.Duration) latencies {
		d = slices.Clone(d)
		slices.Sort(d)
		if len(d) == 0 {
			return latencies{}
		}
		return latencies{p50: us(percentile(d, 50)), p99: us(percentile(d, 99))}
	}
	received := func(l []time.Duration) []time.Duration {
		return slices.DeleteFunc(slices.Clone(l), func(x time.Duration) bool { return x < 0 })
	}
	r := pairedResult{relay: pct(received(lat[0])), direct: pct(received(lat[1])), added: pct(added)}
	if len(added) > 0 {
		sorted := slices.Sorted(slices.Values(added))
		r.addedP90, r.addedMax = us(percentile(sorted, 90)), us(sorted[len(sorted)-1])
	}
	b.ReportMetric(r.added.p50, "added-p50-µs")
	b.ReportMetric(r.addedP90, "added-p90-µs")
	b.ReportMetric(r.added.p99, "added-p99-µs")
	b.ReportMetric(r.addedMax, "added-max-µs")
	b.ReportMetric(r.relay.p50, "relay-p50-µs")
	b.ReportMetric(r.relay.p99, "relay-p99-µs")
	b.ReportMetric(r.direct.p50, "direct-p50-µs")
	b.ReportMetric(r.direct.p99, "direct-p99-µs")
	b.ReportMetric(float64(lost[0]+lost[1]), "dropped")
	noise.report(b)
	b.ReportMetric(float64(pktsLost), "pkts-lost")
	if n >= 100 { // not on the b.N=1 probe
		b.Logf("%d objects: added latency p50 %.0f µs when the relay's copy was written first, %.0f µs when the direct one was",
			n, pct(addedRelayFirst).p50, pct(addedDirectFirst).p50)
	}
	return r
}

var latDump = flag.String("relay.latdump", "", "BenchmarkRelayLatencyPaired writes each object's latency on both paths to this file")

// noiseSample is what the machine and the Go runtime did to this process
// so far: the time its threads waited for a CPU while runnable (Linux
// schedstat; -1 where unreadable), the Go scheduler's latency histogram
// (goroutines runnable until running), the GC's stop-the-world pauses and
// the GC cycles.
type noiseSample struct {
	osWait   time.Duration
	sched    *metrics.Float64Histogram
	pauses   *metrics.Float64Histogram // stop-the-world pauses for the GC, stopping included
	stopping *metrics.Float64Histogram // of which the time taken to stop every goroutine
	gcs      uint64
}

func readNoise() noiseSample {
	ms := []metrics.Sample{{Name: "/sched/latencies:seconds"}, {Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/sched/pauses/total/gc:seconds"}, {Name: "/sched/pauses/stopping/gc:seconds"}}
	metrics.Read(ms)
	n := noiseSample{osWait: osRunqueueWait(), gcs: ms[1].Value.Uint64()}
	if ms[0].Value.Kind() == metrics.KindFloat64Histogram {
		n.sched = ms[0].Value.Float64Histogram()
	}
	if ms[2].Value.Kind() == metrics.KindFloat64Histogram {
		n.pauses = ms[2].Value.Float64Histogram()
	}
	if ms[3].Value.Kind() == metrics.KindFloat64Histogram {
		n.stopping = ms[3].Value.Float64Histogram()
	}
	return n
}

// noise is the machine's and the runtime's share in one run.
type noise struct {
	osWaitPerSec float64 // ms the process's threads waited for a CPU per second of the run (summed over threads)
	schedP99     float64 // µs: p99 of the Go scheduler latency over the run (upper bucket bound)
	gcPauseMax   float64 // µs: the longest GC stop-the-world pause in the run (upper bucket bound)
	gcStopMax    float64 // µs: the longest wait for the world to stop, for the GC
	gcs          uint64
}

// since returns what happened between n0 and n over a run of d.
func (n noiseSample) since(n0 noiseSample, d time.Duration) noise {
	r := noise{osWaitPerSec: -1, schedP99: -1, gcs: n.gcs - n0.gcs,
		gcPauseMax: histMaxSince(n.pauses, n0.pauses), gcStopMax: histMaxSince(n.stopping, n0.stopping)}
	if n.osWait >= 0 && n0.osWait >= 0 {
		// (A thread that ended in between takes its share with it.)
		r.osWaitPerSec = float64(max(n.osWait-n0.osWait, 0)) / float64(time.Millisecond) / d.Seconds()
	}
	if n.sched != nil && n0.sched != nil && len(n.sched.Counts) == len(n0.sched.Counts) {
		var total uint64
		counts := make([]uint64, len(n.sched.Counts))
		for i := range counts {
			counts[i] = n.sched.Counts[i] - n0.sched.Counts[i]
			total += counts[i]
		}
		var acc uint64
		for i, c := range counts {
			acc += c
			if total > 0 && acc*100 >= total*99 {
				r.schedP99 = bucketTop(n.sched.Buckets, i) * 1e6
				break
			}
		}
	}
	return r
}

// histMaxSince returns the upper bound (µs) of the highest bucket of
// seconds-histogram h that gained counts since h0; -1 if unknown.
func histMaxSince(h, h0 *metrics.Float64Histogram) float64 {
	if h == nil || h0 == nil || len(h.Counts) != len(h0.Counts) {
		return -1
	}
	top := 0.0
	for i := range h.Counts {
		if h.Counts[i] > h0.Counts[i] {
			top = bucketTop(h.Buckets, i) * 1e6
		}
	}
	return top
}

// bucketTop is the upper bound of histogram bucket i, or its lower bound
// for the open last bucket.
func bucketTop(buckets []float64, i int) float64 {
	if math.IsInf(buckets[i+1], 1) {
		return buckets[i]
	}
	return buckets[i+1]
}

func (n noise) report(b *testing.B) {
	b.ReportMetric(n.osWaitPerSec, "os-wait-ms/s")
	b.ReportMetric(n.schedP99, "gosched-p99-µs")
	b.ReportMetric(float64(n.gcs), "gcs")
	b.ReportMetric(n.gcPauseMax, "gc-pause-max-µs")
	b.ReportMetric(n.gcStopMax, "gc-stop-max-µs")
}

// osRunqueueWait sums the time this process's threads have spent waiting
// on a CPU run queue (the second field of /proc/self/task/*/schedstat);
// -1 where it cannot be read.
func osRunqueueWait() time.Duration {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return -1
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return -1
		}
		sum += time.Duration(v)
	}
	return sum
}

// latencies are a latency run's percentiles in µs.
type latencies struct{ p50, p99 float64 }

// percentile returns the p-th percentile (nearest rank) of sorted d.
func percentile(d []time.Duration, p int) time.Duration {
	k := (len(d)*p + 99) / 100 // ceil(len*p/100)
	if k < 1 {
		k = 1
	}
	return d[k-1]
}

// BenchmarkRelayFanout100: one publisher, 1 KiB objects, 30 per group,
// window 256 objects (an object leaves the window once every subscriber has
// read it). "relay": 100 subscribers through the relay; "direct": one
// subscriber, no relay. One op is one published object; MB/s counts the
// payload delivered to all subscribers. cpu-s/GB is the
// process CPU time (user + system, getrusage) from the first write to the
// last read, divided by the payload bytes delivered to all subscribers;
// publisher, relay and subscribers all run in this process, so it is the
// whole system's cost per delivered byte.
func BenchmarkRelayFanout100(b *testing.B) {
	b.Run("relay", func(b *testing.B) { benchFanout(b, true, 100) })
	b.Run("direct", func(b *testing.B) { benchFanout(b, false, 1) })
}

func benchFanout(b *testing.B, relay bool, nSubs int) {
	const size, perGroup = 1 << 10, 30
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	var s *benchSetup
	if relay {
		s = setupRelay(b, ctx, nSubs)
	} else {
		s = setupDirect(b, ctx)
	}
	defer s.closeAll()
	r := runFlow(b, ctx, cancel, s, size, perGroup, relayWindowFanout)
	b.ReportMetric(r.cpu.Seconds()/(float64(r.bytes)/1e9), "cpu-s/GB")
	b.ReportMetric(float64(r.lost), "dropped")
}

const rawBenchALPN = "moq-relay-bench-raw"

// rawConns is a plain quic-go connection on loopback: client sends, server
// receives.
type rawConns struct {
	client, server *quic.Conn
}

func newRawConns(b *testing.B) (*rawConns, func()) {
	b.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	conf := &quic.Config{MaxIncomingUniStreams: transport.DefaultMaxIncomingUniStreams, MaxIdleTimeout: 30 * time.Second}
	ln, err := quic.ListenAddr("127.0.0.1:0",
		&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{rawBenchALPN}}, conf)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch := make(chan *quic.Conn, 1)
	go func() {
		c, _ := ln.Accept(ctx)
		ch <- c
	}()
	c, err := quic.DialAddr(ctx, ln.Addr().String(), &tls.Config{
		NextProtos:         []string{rawBenchALPN},
		InsecureSkipVerify: true, // checked against the pin instead
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || transport.Fingerprint(cs.PeerCertificates[0]) != fp {
				return errors.New("server certificate does not match the pin")
			}
			return nil
		},
	}, conf)
	if err != nil {
		ln.Close()
		<-ch
		b.Fatal(err)
	}
	srv := <-ch
	if srv == nil {
		c.CloseWithError(0, "")
		ln.Close()
		b.Fatal("accept failed")
	}
	rc := &rawConns{client: c, server: srv}
	return rc, func() {
		c.CloseWithError(0, "")
		srv.CloseWithError(0, "")
		<-c.Context().Done()
		<-srv.Context().Done()
		ln.Close()
	}
}

// packets counts the packets sent and received by the client end.
func (rc *rawConns) packets() uint64 {
	st := rc.client.ConnectionStats()
	return st.PacketsSent + st.PacketsReceived
}

// report reports n messages' rate, packets and process CPU time per
// message, and returns the rate.
func (rc *rawConns) report(b *testing.B, n int, pk0 uint64, cpu0 time.Duration) flowRate {
	cpu := float64((processCPU(b) - cpu0).Nanoseconds()) / 1e3 / float64(max(n, 1))
	rate := float64(n) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "objects/s")
	b.ReportMetric(float64(rc.packets()-pk0)/float64(max(n, 1)), "pkts/obj")
	b.ReportMetric(cpu, "cpu-µs/obj")
	b.ReportMetric(0, "dropped")
	return flowRate{rate, cpu}
}

// benchRawStreams: the quic-go ceiling for one object per stream: each
// message on its own unidirectional stream, read concurrently.
func benchRawStreams(b *testing.B, size, windowSize int) flowRate {
	rc, closeRaw := newRawConns(b)
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	n := b.N
	w := newWindow(windowSize, 1)
	var got atomic.Int64
	allIn := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // ends when the connection closes
		defer wg.Done()
		for {
			st, err := rc.server.AcceptUniStream(context.Background())
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, size+1)
				k, err := io.ReadFull(st, buf)
				if k != size || !errors.Is(err, io.ErrUnexpectedEOF) {
					b.Errorf("stream %d: read %d bytes, err %v; want %d bytes then EOF", st.StreamID(), k, err, size)
					cancel()
					return
				}
				// Streams complete in any order: give back a credit
				// without the per-object slots of the window.
				<-w.credits
				if got.Add(1) == int64(n) {
					close(allIn)
				}
			}()
		}
	}()
	defer func() {
		closeRaw()
		wg.Wait()
	}()
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	pk0, cpu0 := rc.packets(), processCPU(b)
	for i := 0; i < n; i++ {
		select {
		case w.credits <- struct{}{}:
		case <-ctx.Done():
			b.Fatalf("message %d: %v", i, ctx.Err())
		}
		st, err := rc.client.OpenUniStreamSync(ctx)
		if err != nil {
			b.Fatalf("message %d: open stream: %v", i, err)
		}
		if _, err := st.Write(payload); err != nil {
			b.Fatalf("message %d: write: %v", i, err)
		}
		st.Close()
	}
	select {
	case <-allIn:
	case <-ctx.Done():
		b.Fatalf("received %d of %d messages: %v", got.Load(), n, ctx.Err())
	}
	b.StopTimer()
	return rc.report(b, n, pk0, cpu0)
}

// benchRawStream: the quic-go ceiling for large objects: one
// unidirectional stream carrying all the messages.
func benchRawStream(b *testing.B, size, windowSize int) flowRate {
	rc, closeRaw := newRawConns(b)
	defer closeRaw()
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	n := b.N
	w := newWindow(windowSize, 1)
	recvErr := make(chan error, 1)
	go func() {
		st, err := rc.server.AcceptUniStream(ctx)
		if err != nil {
			recvErr <- err
			return
		}
		buf := make([]byte, size)
		for i := 0; i < n; i++ {
			if _, err := io.ReadFull(st, buf); err != nil {
				recvErr <- fmt.Errorf("message %d of %d: %w", i, n, err)
				cancel()
				return
			}
			w.done(i)
		}
		recvErr <- nil
	}()
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	pk0, cpu0 := rc.packets(), processCPU(b)
	st, err := rc.client.OpenUniStreamSync(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var sendErr error
	for i := 0; i < n && sendErr == nil; i++ {
		if sendErr = w.take(ctx, i); sendErr == nil {
			_, sendErr = st.Write(payload)
		}
	}
	st.Close()
	rerr := <-recvErr
	b.StopTimer()
	if sendErr != nil || rerr != nil {
		b.Fatalf("send: %v; receive: %v", sendErr, rerr)
	}
	return rc.report(b, n, pk0, cpu0)
}
