package relay

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// rawSubscribe connects to the relay with the transport and wire packages
// only (draft-14, raw QUIC), subscribes to (ns, name), and then never
// accepts or reads a data stream: QUIC flow control soon stalls the relay's
// writes to it.
func rawSubscribe(t *testing.T, r *testRelay, ns moq.Namespace, name string) transport.Conn {
	t.Helper()
	ctx := ctxT(t)
	conn, err := transport.Dial(ctx, r.url("moqt"), transport.Options{TLS: transport.TLSOptions{PinSHA256: [][32]byte{r.fp}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseWithError(0, "test over") })
	ctrl, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := wire.Draft14
	send := func(m wire.Message) {
		t.Helper()
		b, err := wire.AppendMessage(nil, d, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ctrl.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	cr := wire.NewControlReader(ctrl, d, nil)
	send(&wire.ClientSetup{Versions: []uint64{d.Version()}, Params: wire.Params{
		wire.IntParam(wire.SetupMaxRequestID, 16), wire.BytesParam(wire.SetupPath, []byte("/relay"))}})
	if m, err := cr.Read(); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(*wire.ServerSetup); !ok {
		t.Fatalf("got %T, want SERVER_SETUP", m)
	}
	send(&wire.Subscribe{RequestID: 0, Namespace: ns, Name: name, SubscriberPriority: 128, Forward: true,
		FilterType: wire.FilterNextGroupStart})
	for {
		m, err := cr.Read()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *wire.SubscribeOK:
			return conn
		case *wire.SubscribeError:
			t.Fatalf("raw subscribe refused: %d %s", m.ErrorCode, m.Reason)
		}
	}
}

// TestSlowSubscriber: a subscriber that never reads stalls the relay's
// writes to it; its queue overflows and the relay drops its oldest groups
// (counted in the track's stats and the metrics), while the publisher and
// the other subscribers carry on and receive everything.
func TestSlowSubscriber(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := startRelay(t, Config{Metrics: NewMetrics(reg), Session: moq.Options{SubscriptionBuffer: 256 << 10}})
	ctx := ctxT(t)
	ns := moq.Namespace{"slow"}
	_, tr := r.publish(t, quic14, ns, "t")
	fastClients := []client{quic14, wt07cf}
	fast := r.subscribeEach(t, ctx, fastClients, ns, "t", moq.SubscribeOptions{})
	rawSubscribe(t, r, ns, "t")

	// 160 groups of one 16 KiB object: 2.5 MiB, far beyond the slow
	// subscriber's flow-control window plus its 256 KiB queue. The fast
	// subscribers read each object before the next is written, so their
	// queues never fill.
	payload := make([]byte, 16<<10)
	const n = 160
	for i := range n {
		payload[0] = byte(i)
		g, err := tr.Write(payload)
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		for j, sub := range fast {
			o, err := sub.ReadObject(ctx)
			if err != nil {
				t.Fatalf("%s: object %d: %v", fastClients[j].name, i, err)
			}
			if o.Group != g || o.ID != 0 || len(o.Payload) != len(payload) || o.Payload[0] != byte(i) {
				t.Fatalf("%s: got (%d,%d) of %d bytes, want (%d,0)", fastClients[j].name, o.Group, o.ID, len(o.Payload), g)
			}
		}
	}
	var dropped uint64
	for _, st := range r.activeTrackStats() {
		dropped += st.Dropped
	}
	if dropped == 0 {
		t.Fatal("the relay's track stats count no drops for the slow subscriber")
	}
	if got := gathered(t, reg, "moq_relay_dropped_objects_total"); got != float64(dropped) {
		t.Errorf("moq_relay_dropped_objects_total = %v, want %d", got, dropped)
	}
	for j, sub := range fast {
		if st := sub.Stats(); st.Dropped != 0 || st.Objects != n {
			t.Errorf("%s: stats %+v, want %d objects and no drops", fastClients[j].name, st, n)
		}
	}
}

// gathered returns the sum of a metric's samples in reg.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// TestShutdown: Shutdown sends GOAWAY to every session (OnGoAway fires on
// both drafts and transports); the relay stops when the clients leave, or,
// when they stay, at the end of the drain (here: the context given to
// Shutdown).
func TestShutdown(t *testing.T) {
	clients := []client{quic18, wt18, quic14, wt14, quic07cf, wt07cf}
	for _, leave := range []bool{true, false} {
		name := "clients-leave"
		if !leave {
			name = "clients-stay"
		}
		t.Run(name, func(t *testing.T) {
			r := startRelay(t, Config{Drain: time.Minute})
			goaway := make(chan int, len(clients))
			var sessions []*moq.Session
			for i, c := range clients {
				s := r.dial(t, c, &moq.Options{OnGoAway: func(uri string) {
					if uri == "" {
						goaway <- i
					}
				}})
				sessions = append(sessions, s)
			}
			eventually(t, "the relay to register the sessions", func() bool {
				r.mu.Lock()
				defer r.mu.Unlock()
				return len(r.sessions) == len(clients)
			})
			sctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- r.Shutdown(sctx) }()
			for range clients {
				select {
				case i := <-goaway:
					if leave {
						sessions[i].Close()
					}
				case err := <-done:
					t.Fatalf("Shutdown returned before every GOAWAY arrived: %v", err)
				case <-ctxT(t).Done():
					t.Fatal("no GOAWAY")
				}
			}
			if !leave {
				cancel() // the drain is over
			}
			if err := <-done; err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			for i, s := range sessions {
				<-s.Done() // the relay closed the ones that stayed
				if !leave && !errors.Is(s.Err(), moq.ErrClosed) {
					t.Errorf("%s: session error %v", clients[i].name, s.Err())
				}
			}
			if _, err := r.tryDial(quic14, &moq.Options{ConnectTimeout: time.Second}); err == nil {
				t.Fatal("dial after Shutdown succeeded")
			}
		})
	}
}

// TestMetrics scrapes the relay's metrics over HTTP: sessions, tracks and
// objects in move as clients come, publish and go.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := startRelay(t, Config{Metrics: NewMetrics(reg)})
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	ctx := ctxT(t)
	scrape := func() map[string]float64 {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out := map[string]float64{}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || line[0] == '#' {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			name := line[:i]
			if j := strings.IndexByte(name, '{'); j >= 0 {
				name = name[:j]
			}
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			out[name] += v
		}
		return out
	}
	m := scrape()
	if m["moq_relay_sessions"] != 0 || m["moq_relay_tracks"] != 0 || m["moq_relay_objects_in_total"] != 0 {
		t.Fatalf("idle relay: %v", m)
	}
	ns := moq.Namespace{"metrics"}
	_, tr := r.publish(t, quic14, ns, "t")
	subSess := r.dial(t, wt07cf, nil)
	sub, err := subSess.Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeGroups(t, tr, 5, 2)
	if err := expectGroups(ctx, sub, 0, 5, 2); err != nil {
		t.Fatal(err)
	}
	// A session serves its requests as soon as its setup is done; the relay
	// counts it when its accept loop takes it, which may come just after.
	eventually(t, "both sessions to be counted", func() bool {
		m = scrape()
		return m["moq_relay_sessions"] == 2
	})
	if m["moq_relay_sessions"] != 2 || m["moq_relay_tracks"] != 1 || m["moq_relay_objects_in_total"] != 10 ||
		m["moq_relay_objects_out_total"] != 10 || m["moq_relay_announced_namespaces"] != 1 {
		t.Fatalf("active relay: %v", m)
	}
	subSess.Close()
	eventually(t, "the subscriber's session and track to end", func() bool {
		m = scrape()
		return m["moq_relay_sessions"] == 1 && m["moq_relay_tracks"] == 0
	})
	if m["moq_relay_objects_in_total"] != 10 || m["moq_relay_sessions_total"] != 2 {
		t.Fatalf("totals after the track ended: %v", m)
	}
}

// TestGeneratedCertificate: without a configured certificate the relay
// makes a self-signed one; clients pin Fingerprint.
func TestGeneratedCertificate(t *testing.T) {
	r, err := New(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tr := &testRelay{Relay: r, fp: r.Fingerprint()}
	for _, c := range []client{quic14, wt07cf} {
		s, err := tr.tryDial(c, nil)
		if err != nil {
			t.Fatalf("%s: dial pinning Fingerprint: %v", c.name, err)
		}
		s.Close()
		s.Wait()
	}
}
