package relay

import (
	"context"
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
)

// BenchmarkClusterHop: what one extra relay hop costs. Two relays of a
// cluster (embedded etcd on loopback), A and C; the publisher is on A.
// "one-relay": the subscriber is on A too (publisher -> A -> subscriber);
// "two-relays": the subscriber is on C (publisher -> A -> C -> subscriber,
// C subscribing to A over MoQT). Same relays, same run:
//
//	go test -run '^$' -bench ClusterHop -benchtime 2s ./relay/
//
// The latency runs are BenchmarkRelayLatency's (200 B at 1000 objects/s,
// p50/p99 of Write -> ReadObject; one op is one object); the cpu runs are
// BenchmarkRelayThroughput's flow (1 KiB objects, 30 per group, window
// 256), reporting the process CPU time per GB delivered.
//
// Prints the two-relays/one-relay ratios of p50, p99 and cpu-s/GB.
func BenchmarkClusterHop(b *testing.B) {
	var one, two latencies
	var cpuOne, cpuTwo float64
	b.Run("latency/one-relay", func(b *testing.B) { one = benchHop(b, false, true).latencies })
	b.Run("latency/two-relays", func(b *testing.B) { two = benchHop(b, true, true).latencies })
	b.Run("cpu/one-relay", func(b *testing.B) { cpuOne = benchHop(b, false, false).cpuGB })
	b.Run("cpu/two-relays", func(b *testing.B) { cpuTwo = benchHop(b, true, false).cpuGB })
	if one.p50 > 0 && two.p50 > 0 {
		fmt.Printf("ClusterHop latency ratios (two relays / one relay, same run): p50 %.2f (%.0f / %.0f µs), p99 %.2f (%.0f / %.0f µs)\n",
			two.p50/one.p50, two.p50, one.p50, two.p99/one.p99, two.p99, one.p99)
	}
	if cpuOne > 0 && cpuTwo > 0 {
		fmt.Printf("ClusterHop CPU ratio (two relays / one relay, cpu-s per GB delivered, same run): %.2f (%.2f / %.2f)\n",
			cpuTwo/cpuOne, cpuTwo, cpuOne)
	}
}

type hopResult struct {
	latencies
	cpuGB float64
}

func benchHop(b *testing.B, twoRelays, latency bool) hopResult {
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	s := setupCluster(b, ctx, twoRelays)
	defer s.closeAll()
	if latency {
		return hopResult{latencies: latencyRun(b, ctx, cancel, s)}
	}
	const size, perGroup = 1 << 10, 30
	r := runFlow(b, ctx, cancel, s, size, perGroup, relayWindowFanout)
	cpuGB := r.cpu.Seconds() / (float64(r.bytes) / 1e9)
	b.ReportMetric(cpuGB, "cpu-s/GB")
	b.ReportMetric(float64(r.lost), "dropped")
	return hopResult{cpuGB: cpuGB}
}

// setupCluster starts an embedded etcd and relays A and C of one cluster;
// a publisher of benchNS/"data" on A and one subscriber on A (twoRelays
// false) or C.
func setupCluster(b *testing.B, ctx context.Context, twoRelays bool) *benchSetup {
	b.Helper()
	etcd := startEtcd(b)
	var relays []*testRelay
	var sessions []*moq.Session
	closeAll := func() {
		benchSessions(sessions)
		for _, r := range relays {
			r.Close()
		}
	}
	fail := func(format string, args ...any) {
		closeAll()
		b.Fatalf(format, args...)
	}
	for _, id := range []string{"a", "c"} {
		cert, fp, err := transport.GenerateSelfSigned(nil, 0)
		if err != nil {
			fail("%v", err)
		}
		cfg := Config{Addr: "127.0.0.1:0", Cluster: clusterCfg(etcd, id)}
		cfg.Session.TLS.Certificates = []tls.Certificate{cert}
		r, err := New(cfg)
		if err != nil {
			fail("relay %s: %v", id, err)
		}
		relays = append(relays, &testRelay{Relay: r, fp: fp})
	}
	a, subRelay := relays[0], relays[0]
	if twoRelays {
		subRelay = relays[1]
	}
	pub, err := a.tryDial(quic14, nil)
	if err != nil {
		fail("dial publisher: %v", err)
	}
	sessions = append(sessions, pub)
	tr, err := pub.Publish(benchNS, "data", moq.TrackOptions{})
	if err != nil {
		fail("publish: %v", err)
	}
	if err := pub.Announce(ctx, benchNS); err != nil {
		fail("announce: %v", err)
	}
	ss, err := subRelay.tryDial(quic14, nil)
	if err != nil {
		fail("dial subscriber: %v", err)
	}
	sessions = append(sessions, ss)
	waitAnnounce(b, ctx, ss, benchNS, benchNS)
	sub, err := ss.Subscribe(ctx, benchNS, "data", moq.SubscribeOptions{})
	if err != nil {
		fail("subscribe: %v", err)
	}
	return &benchSetup{tr: tr, subs: []*moq.Subscription{sub}, pubSess: pub, subSess: []*moq.Session{ss}, relay: subRelay.Relay,
		closeAll: func() {
			tr.Close()
			closeAll()
		}}
}
