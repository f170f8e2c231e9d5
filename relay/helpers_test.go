package relay

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		clusterChildMain() // a relay of TestClusterFailover's cluster
	}
	goleak.VerifyTestMain(m)
}

// testRelay is a relay on loopback with a pinned self-signed certificate.
type testRelay struct {
	*Relay
	fp [32]byte
}

// startRelay starts a relay on 127.0.0.1 with cfg (Addr and certificate
// filled in) and closes it when the test ends.
func startRelay(t *testing.T, cfg Config) *testRelay {
	t.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.Session.TLS.Certificates = []tls.Certificate{cert}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &testRelay{Relay: r, fp: fp}
}

// client is one way to connect: transport scheme and draft.
type client struct {
	name   string
	scheme string
	draft  moq.Draft
}

var (
	quic14   = client{"quic/14", "moqt", moq.Draft14}
	wt14     = client{"wt/14", "https", moq.Draft14}
	quic07cf = client{"quic/07cf", "moqt", moq.Draft07Cloudflare}
	wt07cf   = client{"wt/07cf", "https", moq.Draft07Cloudflare}
	quic07   = client{"quic/07", "moqt", moq.Draft07}
	wt07     = client{"wt/07", "https", moq.Draft07}
)

// dial connects a client to the relay; the session is closed when the test
// ends. opts may be nil.
func (r *testRelay) dial(t *testing.T, c client, opts *moq.Options) *moq.Session {
	t.Helper()
	s, err := r.tryDial(c, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", c.name, err)
	}
	t.Cleanup(func() {
		s.Close()
		s.Wait()
	})
	return s
}

func (r *testRelay) tryDial(c client, opts *moq.Options) (*moq.Session, error) {
	return r.tryDialURL(c, r.url(c.scheme), opts)
}

// tryDialURL dials url (pinning the relay's certificate, offering c's draft).
func (r *testRelay) tryDialURL(c client, url string, opts *moq.Options) (*moq.Session, error) {
	if opts == nil {
		opts = &moq.Options{}
	}
	o := *opts
	o.TLS.PinSHA256 = [][32]byte{r.fp}
	o.Drafts = []moq.Draft{c.draft}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return moq.Dial(ctx, url, &o)
}

func (r *testRelay) url(scheme string) string {
	return fmt.Sprintf("%s://%s/relay", scheme, r.Addr())
}

// ctxT returns a context that bounds a test's waits.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes: for state
// with no event to wait on (counters on the other side of a connection).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func payloadOf(g, o uint64) []byte { return []byte(fmt.Sprintf("g%do%d", g, o)) }

// publish connects a publisher, publishes (ns, name) and announces ns.
func (r *testRelay) publish(t *testing.T, c client, ns moq.Namespace, name string) (*moq.Session, *moq.Track) {
	t.Helper()
	pub := r.dial(t, c, nil)
	tr, err := pub.Publish(ns, name, moq.TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Announce(ctxT(t), ns); err != nil {
		t.Fatalf("announce %s from %s: %v", ns, c.name, err)
	}
	return pub, tr
}

// subscribeEach connects one subscriber of each client kind and subscribes
// it to (ns, name) with opts.
func (r *testRelay) subscribeEach(t *testing.T, ctx context.Context, clients []client, ns moq.Namespace, name string, opts moq.SubscribeOptions) []*moq.Subscription {
	t.Helper()
	subs := make([]*moq.Subscription, 0, len(clients))
	for _, c := range clients {
		sub, err := r.dial(t, c, nil).Subscribe(ctx, ns, name, opts)
		if err != nil {
			t.Fatalf("subscribe from %s: %v", c.name, err)
		}
		subs = append(subs, sub)
	}
	return subs
}

// writeGroups writes groups of perGroup objects with payloads payloadOf.
func writeGroups(t *testing.T, tr *moq.Track, groups, perGroup int) {
	t.Helper()
	for g := 0; g < groups; g++ {
		gw, err := tr.OpenGroup(nil)
		if err != nil {
			t.Fatal(err)
		}
		for o := 0; o < perGroup; o++ {
			if _, err := gw.WriteObject(payloadOf(gw.Group(), uint64(o)), nil); err != nil {
				t.Fatal(err)
			}
		}
		gw.Close()
	}
}

// expectGroups reads groups [first, first+groups) of perGroup objects each,
// in order, checking IDs and payloads.
func expectGroups(ctx context.Context, sub interface {
	ReadObject(context.Context) (*moq.Object, error)
}, first uint64, groups, perGroup int) error {
	for g := first; g < first+uint64(groups); g++ {
		for o := uint64(0); o < uint64(perGroup); o++ {
			obj, err := sub.ReadObject(ctx)
			if err != nil {
				return fmt.Errorf("object (%d,%d): %w", g, o, err)
			}
			if obj.Group != g || obj.ID != o {
				return fmt.Errorf("got object (%d,%d), want (%d,%d)", obj.Group, obj.ID, g, o)
			}
			if string(obj.Payload) != string(payloadOf(g, o)) {
				return fmt.Errorf("object (%d,%d): payload %q, want %q", g, o, obj.Payload, payloadOf(g, o))
			}
		}
	}
	return nil
}
