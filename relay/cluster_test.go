package relay

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

const testClusterToken = "cluster-secret-for-tests"

// freeLoopbackURL returns http://127.0.0.1:PORT with a port free just now.
func freeLoopbackURL(t testing.TB) url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return url.URL{Scheme: "http", Host: addr}
}

// startEtcd runs an embedded single-member etcd on loopback (client and
// peer URLs on free ports, data in a temporary directory), closed when the
// test ends, and returns its client URL.
func startEtcd(t testing.TB) string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = t.TempDir()
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cu, pu := freeLoopbackURL(t), freeLoopbackURL(t)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("embedded etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("embedded etcd: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("embedded etcd did not start")
	}
	return cu.String()
}

// clusterCfg is a cluster configuration for the tests: 1 s lease.
func clusterCfg(etcd, id string) *ClusterConfig {
	return &ClusterConfig{Endpoints: []string{etcd}, ID: id, Token: testClusterToken, TTL: time.Second,
		PeerOptions: moq.Options{IdleTimeout: 2 * time.Second}}
}

// startClusterRelay starts an in-process relay of the cluster.
func startClusterRelay(t *testing.T, etcd, id string, cfg Config) *testRelay {
	t.Helper()
	cfg.Cluster = clusterCfg(etcd, id)
	return startRelay(t, cfg)
}

// waitAnnounce subscribes to namespace prefix on s and waits until ns is
// announced: the relay s is connected to knows where ns is served.
func waitAnnounce(t testing.TB, ctx context.Context, s *moq.Session, prefix, ns moq.Namespace) *moq.NamespaceSubscription {
	t.Helper()
	nsub, err := s.SubscribeNamespace(ctx, prefix)
	if err != nil {
		t.Fatalf("subscribe namespace %s: %v", prefix, err)
	}
	for {
		ev, err := nsub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for the announce of %s: %v", ns, err)
		}
		if ev.Active && ev.Namespace.Equal(ns) {
			return nsub
		}
	}
}

// TestClusterPublishOnASubscribeOnC: a track published on relay A reaches
// subscribers of every transport and draft on relay C through one upstream
// subscription (C to A, over WebTransport: A advertises an https:// URL),
// with relays that require a user token (the peer link is admitted by the
// cluster token).
func TestClusterPublishOnASubscribeOnC(t *testing.T) {
	etcd := startEtcd(t)
	auth := Config{Authorize: RequireToken("user-token")}
	// A on a port chosen here, so that its advertised URL can name it.
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addrA := udp.LocalAddr().String()
	udp.Close()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfgA := auth
	cfgA.Addr = addrA
	cfgA.Session.TLS.Certificates = []tls.Certificate{cert}
	cfgA.Cluster = clusterCfg(etcd, "relay-a")
	cfgA.Cluster.Advertise = "https://" + addrA + "/relay"
	rA, err := New(cfgA)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rA.Close() })
	a := &testRelay{Relay: rA, fp: fp}
	startClusterRelay(t, etcd, "relay-b", auth)
	reg := prometheus.NewRegistry()
	cfgC := auth
	cfgC.Metrics = NewMetrics(reg)
	c := startClusterRelay(t, etcd, "relay-c", cfgC)
	ctx := ctxT(t)
	ns := moq.Namespace{"live", "cluster"}

	urlOf := func(r *testRelay, scheme string) string { return r.url(scheme) + "?token=user-token" }
	pubS, err := a.tryDialURL(wt07cf, urlOf(a, "moqt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pubS.Close(); pubS.Wait() })
	tr, err := pubS.Publish(ns, "video", moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pubS.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}

	kinds := []client{quic16, quic14, wt14, quic07cf, wt07cf}
	subs := make([]*moq.Subscription, len(kinds))
	for i, k := range kinds {
		s, err := c.tryDialURL(k, urlOf(c, k.scheme), nil)
		if err != nil {
			t.Fatalf("dial C %s: %v", k.name, err)
		}
		t.Cleanup(func() { s.Close(); s.Wait() })
		if i == 0 {
			waitAnnounce(t, ctx, s, moq.Namespace{"live"}, ns)
		}
		if subs[i], err = s.Subscribe(ctx, ns, "video", moq.SubscribeOptions{}); err != nil {
			t.Fatalf("subscribe on C (%s): %v", k.name, err)
		}
	}
	if n := tr.Subscribers(); n != 1 {
		t.Fatalf("publisher has %d subscribers, want 1 (relay A's upstream)", n)
	}
	const groups, perGroup = 5, 4
	writeGroups(t, tr, groups, perGroup)
	var wg sync.WaitGroup
	errs := make([]error, len(kinds))
	for i := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = expectGroups(ctx, subs[i], 0, groups, perGroup)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("subscriber on C (%s): %v", kinds[i].name, err)
		}
	}
	ps := c.PeerStats()
	if len(ps) != 1 || ps[0].Relay != "relay-a" || ps[0].Tracks != 1 || ps[0].Connects != 1 || !ps[0].Up ||
		ps[0].ObjectsIn != groups*perGroup {
		t.Errorf("C's peer links %+v, want one to relay-a: up, 1 connect, 1 track, %d objects in", ps, groups*perGroup)
	}
	// The same through Prometheus.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == "relay-a" {
				v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
				got[mf.GetName()] = v
			}
		}
	}
	if got["moq_relay_peer_up"] != 1 || got["moq_relay_peer_tracks"] != 1 || got["moq_relay_peer_connects_total"] != 1 ||
		got["moq_relay_peer_objects_in_total"] != groups*perGroup {
		t.Errorf("C's peer metrics for relay-a: %v", got)
	}
	// An outside client with a forged cluster token (wrong secret) and no
	// user token is not admitted as a peer.
	forged, err := c.tryDialURL(quic16, c.url("moqt"), &moq.Options{AuthToken: "moq-cluster-1;;not-the-secret"})
	if err == nil {
		t.Cleanup(func() { forged.Close(); forged.Wait() })
		_, err = forged.Subscribe(ctx, ns, "video", moq.SubscribeOptions{})
	}
	if err == nil {
		t.Fatal("a client with a forged cluster token subscribed")
	}
	// The peer link is a WebTransport session of C's, draft-16, seen by A.
	var peerSeen bool
	a.mu.Lock()
	for s := range a.sessions {
		if s.Protocol() == "webtransport" && s.Draft() == moq.Draft16 && s.Path() == "/relay" {
			peerSeen = true
		}
	}
	a.mu.Unlock()
	if !peerSeen {
		t.Error("relay A has no draft-16 WebTransport session at /relay: the peer link did not use the advertised URL")
	}
}

// TestClusterNamespaceDiscovery: a namespace subscriber on C sees what is
// announced on A and B, and withdrawals, through the registry.
func TestClusterNamespaceDiscovery(t *testing.T) {
	etcd := startEtcd(t)
	a := startClusterRelay(t, etcd, "a", Config{})
	b := startClusterRelay(t, etcd, "b", Config{Drain: time.Minute})
	c := startClusterRelay(t, etcd, "c", Config{})
	ctx := ctxT(t)
	w := c.dial(t, quic14, nil)
	nsub, err := w.SubscribeNamespace(ctx, moq.Namespace{"live"})
	if err != nil {
		t.Fatal(err)
	}
	pa := a.dial(t, quic07cf, nil)
	if err := pa.Announce(ctx, moq.Namespace{"live", "a"}); err != nil {
		t.Fatal(err)
	}
	expectNS(t, ctx, nsub, moq.Namespace{"live", "a"}, true)
	pb := b.dial(t, wt14, nil)
	if err := pb.Announce(ctx, moq.Namespace{"other", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := pb.Announce(ctx, moq.Namespace{"live", "b"}); err != nil {
		t.Fatal(err)
	}
	expectNS(t, ctx, nsub, moq.Namespace{"live", "b"}, true) // not other/b: outside the prefix
	if err := pa.Unannounce(moq.Namespace{"live", "a"}); err != nil {
		t.Fatal(err)
	}
	expectNS(t, ctx, nsub, moq.Namespace{"live", "a"}, false)
	// A relay that shuts down leaves the registry (lease revoked) before
	// it drains its sessions: B's publisher is still there (it ignores
	// GOAWAY) when C's subscriber sees the withdrawal.
	shut := make(chan error, 1)
	go func() { shut <- b.Shutdown(ctx) }()
	expectNS(t, ctx, nsub, moq.Namespace{"live", "b"}, false)
	if pb.Err() != nil {
		t.Fatalf("B's publisher session ended before the withdrawal was seen: %v", pb.Err())
	}
	pb.Close()
	if err := <-shut; err != nil {
		t.Fatalf("shutdown of B: %v", err)
	}

	// A late namespace subscriber gets the current remote announces.
	pa2 := a.dial(t, quic16, nil)
	if err := pa2.Announce(ctx, moq.Namespace{"live", "a2"}); err != nil {
		t.Fatal(err)
	}
	expectNS(t, ctx, nsub, moq.Namespace{"live", "a2"}, true)
	w2 := c.dial(t, wt07cf, nil)
	nsub2, err := w2.SubscribeNamespace(ctx, moq.Namespace{"live"})
	if err != nil {
		t.Fatal(err)
	}
	expectNS(t, ctx, nsub2, moq.Namespace{"live", "a2"}, true)
}

// TestClusterPeerAuthAndLoops: a request carrying a hop list is honoured
// only with the cluster secret, and a hop list that already holds the relay
// is refused as a loop.
func TestClusterPeerAuthAndLoops(t *testing.T) {
	etcd := startEtcd(t)
	a := startClusterRelay(t, etcd, "relay-a", Config{})
	b := startClusterRelay(t, etcd, "relay-b", Config{})
	ctx := ctxT(t)
	ns := moq.Namespace{"loop"}
	_, tr := b.publish(t, quic14, ns, "t")
	w := a.dial(t, quic14, nil)
	waitAnnounce(t, ctx, w, ns, ns)

	// An outside client without a cluster token: an ordinary subscriber.
	if sub, err := w.Subscribe(ctx, ns, "t", moq.SubscribeOptions{}); err != nil {
		t.Fatalf("plain subscribe on A to B's track: %v", err)
	} else {
		sub.Close()
	}
	// Posing as a peer with a wrong secret.
	_, err := w.Subscribe(ctx, ns, "t", moq.SubscribeOptions{AuthToken: "moq-cluster-1;relay-x;wrong"})
	var re *moq.RequestError
	if !errors.As(err, &re) || !strings.Contains(re.Reason, "bad cluster token") {
		t.Fatalf("subscribe with a wrong cluster secret: %v, want a refusal naming the bad cluster token", err)
	}
	// A hop list holding A, with the right secret: a loop.
	_, err = w.Subscribe(ctx, ns, "t", moq.SubscribeOptions{AuthToken: "moq-cluster-1;relay-b,relay-a;" + testClusterToken})
	if !errors.As(err, &re) || !strings.Contains(re.Reason, "relay loop") || !strings.Contains(re.Reason, "relay-b,relay-a") {
		t.Fatalf("subscribe with A on the hop path: %v, want a relay loop refusal", err)
	}
	// The hop list travels: A forwards to B with "relay-z,relay-a"; B is
	// not on it, so B serves the track.
	sub, err := w.Subscribe(ctx, ns, "t", moq.SubscribeOptions{AuthToken: "moq-cluster-1;relay-z;" + testClusterToken})
	if err != nil {
		t.Fatalf("peer subscribe with a hop list without A: %v", err)
	}
	writeGroups(t, tr, 1, 1)
	if err := expectGroups(ctx, sub, 0, 1, 1); err != nil {
		t.Fatal(err)
	}
	sub.Close()
	// With relay-b already on it, A does not route back to B, and there
	// is no other relay serving the namespace: not found.
	_, err = w.Subscribe(ctx, ns, "t2", moq.SubscribeOptions{AuthToken: "moq-cluster-1;relay-b;" + testClusterToken})
	if !errors.Is(err, moq.ErrTrackNotFound) && !(errors.As(err, &re) && re.Code == 0x4) {
		t.Fatalf("peer subscribe routed back to a relay on the hop path: %v, want track not found (no route)", err)
	}
}

// The failover test runs relay A in a child process (this test binary run
// again, see TestMain) so that it can be killed with SIGKILL: no GOAWAY, no
// lease revocation, sockets gone at once; in-process, a relay's sessions
// would have to be torn down by hand, which is not a crash.
const childEnv = "MOQ_RELAY_CLUSTER_CHILD"

// childStandalone as childEnv's value makes the child a relay of no
// cluster (BenchmarkRelayLatencyPaired/process).
const childStandalone = "-"

// clusterChildMain runs a relay of the cluster described by the
// environment, prints "ADDR <addr> FP <hex>" and serves until its stdin
// closes (the parent is gone) or it is killed.
func clusterChildMain() {
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var cl *ClusterConfig
	if etcd := os.Getenv(childEnv); etcd != childStandalone {
		cl = clusterCfg(etcd, os.Getenv(childEnv+"_ID"))
	}
	r, err := New(Config{Addr: "127.0.0.1:0", Session: moq.Options{TLS: moq.TLSConfig{Certificates: []tls.Certificate{cert}}}, Cluster: cl})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ADDR %s FP %s\n", r.Addr(), hex.EncodeToString(fp[:]))
	io.Copy(io.Discard, os.Stdin)
	r.Close()
	os.Exit(0)
}

// startChildRelay starts relay id in a child process.
func startChildRelay(t testing.TB, etcd, id string) (*exec.Cmd, *testRelay, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+etcd, childEnv+"_ID="+id)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	var addr, fpHex string
	if _, err2 := fmt.Sscanf(line, "ADDR %s FP %s", &addr, &fpHex); err != nil || err2 != nil {
		t.Fatalf("child relay: %q: %v %v", line, err, err2)
	}
	b, err := hex.DecodeString(fpHex)
	if err != nil || len(b) != 32 {
		t.Fatalf("child relay fingerprint %q", fpHex)
	}
	return cmd, &testRelay{fp: [32]byte(b)}, addr
}

// TestClusterFailover: the publisher's relay A is killed (SIGKILL); the
// publisher moves to relay B and announces again; once A's lease has
// expired, relay C moves its upstream to B, and its subscribers (a
// persistent Client subscription and a plain draft-07 session
// subscription) keep receiving on the same subscription, with no object
// twice.
func TestClusterFailover(t *testing.T) {
	etcd := startEtcd(t)
	cmdA, a, addrA := startChildRelay(t, etcd, "relay-a")
	b := startClusterRelay(t, etcd, "relay-b", Config{})
	c := startClusterRelay(t, etcd, "relay-c", Config{})
	ctx := ctxT(t)
	ns := moq.Namespace{"live", "failover"}

	// The publisher: a Client whose session dies quickly without its relay.
	failed := make(chan struct{}, 1)
	pub := moq.NewClient(&moq.ClientOptions{Options: moq.Options{IdleTimeout: time.Second,
		TLS: moq.TLSConfig{PinSHA256: [][32]byte{a.fp, b.fp}}, Drafts: []moq.Draft{moq.Draft14}},
		OnEvent: func(ev moq.ClientEvent) {
			if ev.State == moq.ClientFailed && ev.Session != nil {
				select {
				case failed <- struct{}{}:
				default:
				}
			}
		}})
	t.Cleanup(func() { pub.Close() })
	if err := pub.Connect(ctx, "moqt://"+addrA+"/"); err != nil {
		t.Fatal(err)
	}
	tr, err := pub.Publish(ns, "video", moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// It writes one object per group, paced, until the test ends.
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			gw, err := tr.OpenGroup(nil)
			if err != nil {
				return
			}
			gw.WriteObject(payloadOf(gw.Group(), 0), nil)
			gw.Close()
		}
	}()
	defer func() { close(stop); writer.Wait() }()

	// The subscriber on C: persistent, fast retries.
	subC := moq.NewClient(&moq.ClientOptions{Options: moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{c.fp}}},
		Reconnect: true, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	t.Cleanup(func() { subC.Close() })
	if err := subC.Connect(ctx, c.url("moqt")); err != nil {
		t.Fatal(err)
	}
	waitAnnounce(t, ctx, subC.Session(), ns, ns)
	cs, err := subC.Subscribe(ctx, ns, "video", moq.ClientSubscribeOptions{Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	plain := c.dial(t, wt07cf, nil)
	ps, err := plain.Subscribe(ctx, ns, "video", moq.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}

	type reader interface {
		ReadObject(context.Context) (*moq.Object, error)
	}
	var last [2]uint64
	var seen [2]int
	readFrom := func(i int, sub reader) {
		t.Helper()
		o, err := sub.ReadObject(ctx)
		if err != nil {
			t.Fatalf("subscriber %d on C after %d objects: %v", i, seen[i], err)
		}
		if seen[i] > 0 && o.Group <= last[i] {
			t.Fatalf("subscriber %d: object (%d,%d) after group %d: a duplicate or out of order", i, o.Group, o.ID, last[i])
		}
		if string(o.Payload) != string(payloadOf(o.Group, o.ID)) {
			t.Fatalf("subscriber %d: object (%d,%d): payload %q", i, o.Group, o.ID, o.Payload)
		}
		last[i] = o.Group
		seen[i]++
	}
	read := func() { readFrom(0, cs) }
	for seen[0] < 10 {
		read()
	}

	killed := time.Now()
	if err := cmdA.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	// The publisher notices (idle timeout) and moves to B.
	select {
	case <-failed:
	case <-ctx.Done():
		t.Fatal("the publisher did not notice that relay A died")
	}
	pub.Disconnect()
	if err := pub.Connect(ctx, b.url("moqt")); err != nil {
		t.Fatalf("publisher to B: %v", err)
	}
	if err := pub.Announce(ctx, ns); err != nil {
		t.Fatalf("announce on B: %v", err)
	}
	republished := time.Since(killed)
	// Groups from written on are written after the publisher moved to B.
	written := tr.Stats().ObjectsIn
	for last[0] < written {
		read()
	}
	resumed := time.Since(killed)
	// A few more: the new route is steady.
	for range 10 {
		read()
	}
	for last[1] < last[0] {
		readFrom(1, ps)
	}
	t.Logf("failover: publisher on B %v after SIGKILL of A; subscribers on C resumed %v after it (lease TTL 1s asked, 2s granted: etcd's minimum; publisher idle timeout 1s)",
		republished.Round(time.Millisecond), resumed.Round(time.Millisecond))
	if n := cs.Resubscribes(); n != 0 {
		t.Errorf("the persistent subscriber subscribed again %d times, want 0: relay C should have moved its upstream", n)
	}
	var toB bool
	for _, p := range c.PeerStats() {
		if p.Relay == "relay-b" && p.Up && p.Tracks == 1 && p.Reroutes == 1 {
			toB = true
		}
	}
	if !toB {
		t.Errorf("C's peer links %+v: want the track rerouted through relay-b", c.PeerStats())
	}
}

// TestClusterOriginStartsOver: when the origin relay is lost (SIGKILL) and
// the relay that serves the namespace then has a track that started over
// (another publisher, from group 0; its SUBSCRIBE_OK says so), the relay
// ends the track instead of forwarding groups its subscribers would drop as
// late.
func TestClusterOriginStartsOver(t *testing.T) {
	etcd := startEtcd(t)
	cmdA, a, addrA := startChildRelay(t, etcd, "a")
	b := startClusterRelay(t, etcd, "b", Config{})
	c := startClusterRelay(t, etcd, "c", Config{})
	ctx := ctxT(t)
	ns := moq.Namespace{"over"}
	pub1, err := a.tryDialURL(quic14, "moqt://"+addrA+"/", &moq.Options{IdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub1.Close(); pub1.Wait() })
	tr1, err := pub1.Publish(ns, "t", moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub1.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	w := c.dial(t, quic16, nil)
	waitAnnounce(t, ctx, w, ns, ns)
	sub, err := w.Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The first publisher is at group 1000000.
	g := uint64(1000000)
	gw, err := tr1.OpenGroup(&g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.WriteObject(payloadOf(g, 0), nil); err != nil {
		t.Fatal(err)
	}
	gw.Close()
	if err := expectGroups(ctx, sub, g, 1, 1); err != nil {
		t.Fatal(err)
	}
	// A new publisher on B, whose track starts at group 0, with a
	// subscriber there (so that B's SUBSCRIBE_OK to C tells where the
	// track is); it goes on writing until the subscriber on C has its
	// answer.
	_, tr2 := b.publish(t, quic14, ns, "t")
	onB, err := b.dial(t, quic14, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeGroups(t, tr2, 1, 1)
	if err := expectGroups(ctx, onB, 0, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := cmdA.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			gw, err := tr2.OpenGroup(nil)
			if err != nil {
				return
			}
			gw.WriteObject(payloadOf(gw.Group(), 0), nil)
			gw.Close()
		}
	}()
	o, err := sub.ReadObject(ctx)
	close(stop)
	wg.Wait()
	if err == nil {
		t.Fatalf("got object (%d,%d) of a track that started over, want the subscription ended", o.Group, o.ID)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the subscription neither ended nor got anything")
	}
}

// TestClusterPlannedShutdown: a relay that shuts down sends GOAWAY with
// the URL of another relay of the cluster; its publisher (a Client) moves
// there and announces again, and a subscriber on a third relay keeps its
// subscription, with no object twice.
func TestClusterPlannedShutdown(t *testing.T) {
	etcd := startEtcd(t)
	a := startClusterRelay(t, etcd, "a", Config{Drain: time.Minute})
	b := startClusterRelay(t, etcd, "b", Config{})
	c := startClusterRelay(t, etcd, "c", Config{})
	ctx := ctxT(t)
	ns := moq.Namespace{"planned"}
	moved := make(chan string, 1)
	pub := moq.NewClient(&moq.ClientOptions{Options: moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{a.fp, b.fp, c.fp}}},
		Reconnect: true, ReconnectMin: 20 * time.Millisecond,
		OnEvent: func(ev moq.ClientEvent) {
			if ev.State == moq.ClientConnected && ev.Reconnecting {
				select {
				case moved <- ev.Session.RemoteAddr():
				default:
				}
			}
		}})
	t.Cleanup(func() { pub.Close() })
	if err := pub.Connect(ctx, a.url("moqt")); err != nil {
		t.Fatal(err)
	}
	tr, err := pub.Publish(ns, "t", moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			gw, err := tr.OpenGroup(nil)
			if err != nil {
				return
			}
			gw.WriteObject(payloadOf(gw.Group(), 0), nil)
			gw.Close()
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	w := c.dial(t, wt14, nil)
	waitAnnounce(t, ctx, w, ns, ns)
	sub, err := w.Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	seen := 0
	read := func() {
		t.Helper()
		o, err := sub.ReadObject(ctx)
		if err != nil {
			t.Fatalf("subscriber on C after %d objects: %v", seen, err)
		}
		if seen > 0 && o.Group <= last {
			t.Fatalf("object (%d,%d) after group %d: a duplicate or out of order", o.Group, o.ID, last)
		}
		last = o.Group
		seen++
	}
	for seen < 5 {
		read()
	}
	shut := make(chan error, 1)
	go func() { shut <- a.Shutdown(ctx) }()
	var to string
	select {
	case to = <-moved:
	case <-ctx.Done():
		t.Fatal("the publisher did not move to another relay")
	}
	if to != b.Addr().String() && to != c.Addr().String() {
		t.Fatalf("the publisher moved to %s, want relay B (%s) or C (%s)", to, b.Addr(), c.Addr())
	}
	written := tr.Stats().ObjectsIn
	for last < written {
		read()
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown of A: %v", err)
	}
}
