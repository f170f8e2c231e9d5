package relay

import (
	"bytes"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// TestMaxObjectThroughDefaultRelay: an object of the maximum size (16 MiB,
// twice the default per-subscriber queue) goes through a relay with the
// default configuration, to subscribers of every draft, with nothing
// dropped.
func TestMaxObjectThroughDefaultRelay(t *testing.T) {
	r := startRelay(t, Config{})
	ctx := ctxT(t)
	ns := moq.Namespace{"big"}
	_, tr := r.publish(t, quic14, ns, "t")
	clients := []client{{"quic/16", "moqt", moq.Draft16}, wt14, quic07cf}
	subs := r.subscribeEach(t, ctx, clients, ns, "t", moq.SubscribeOptions{})
	big := bytes.Repeat([]byte{0x5A}, 16<<20)
	big[0] = 1
	if _, err := tr.Write(big); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		o, err := sub.ReadObject(ctx)
		if err != nil {
			t.Fatalf("%s: %v", clients[i].name, err)
		}
		if !bytes.Equal(o.Payload, big) {
			t.Fatalf("%s: got group %d of %d bytes, want the 16 MiB object", clients[i].name, o.Group, len(o.Payload))
		}
		if o, err := sub.ReadObject(ctx); err != nil || string(o.Payload) != "after" {
			t.Fatalf("%s: then %v, %v", clients[i].name, o, err)
		}
		if st := sub.Stats(); st.Dropped != 0 {
			t.Errorf("%s: %d dropped", clients[i].name, st.Dropped)
		}
	}
	for _, st := range r.activeTrackStats() {
		if st.Dropped != 0 {
			t.Errorf("the relay dropped %d objects", st.Dropped)
		}
	}
}

// TestRelayDropsReachTheSubscriber: a burst far beyond a small
// per-subscriber queue makes the relay drop groups; whatever it drops, each
// subscriber accounts for every object: delivered or counted in its
// Stats().Dropped (the groups it never saw).
func TestRelayDropsReachTheSubscriber(t *testing.T) {
	r := startRelay(t, Config{Session: moq.Options{SubscriptionBuffer: 64 << 10}})
	ctx := ctxT(t)
	ns := moq.Namespace{"burst"}
	_, tr := r.publish(t, quic14, ns, "t")
	clients := []client{{"quic/16", "moqt", moq.Draft16}, wt14, quic07cf}
	// A buffer for the whole burst: the subscribers themselves drop nothing.
	subs := r.subscribeEach(t, ctx, clients, ns, "t", moq.SubscribeOptions{BufferBytes: 64 << 20})
	// A first group that every subscriber sees, then the burst.
	first, err := tr.Write([]byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		if o, err := sub.ReadObject(ctx); err != nil || o.Group != first {
			t.Fatalf("%s: %v, %v", clients[i].name, o, err)
		}
	}
	const n = 400
	payload := make([]byte, 16<<10)
	var last uint64
	for range n {
		if last, err = tr.Write(payload); err != nil {
			t.Fatal(err)
		}
	}
	for i, sub := range subs {
		for {
			o, err := sub.ReadObject(ctx)
			if err != nil {
				t.Fatalf("%s: %v", clients[i].name, err)
			}
			if o.Group == last {
				break
			}
		}
		st := sub.Stats()
		if st.Objects-1+st.Dropped != n {
			t.Errorf("%s: %d delivered + %d dropped, want %d", clients[i].name, st.Objects-1, st.Dropped, n)
		}
		t.Logf("%s: %d delivered, %d counted as dropped", clients[i].name, st.Objects-1, st.Dropped)
	}
	var relayDropped uint64
	for _, st := range r.activeTrackStats() {
		relayDropped += st.Dropped
	}
	t.Logf("the relay dropped %d objects, the publisher %d", relayDropped, tr.Stats().Dropped)
}
