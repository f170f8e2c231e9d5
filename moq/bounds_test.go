package moq

import (
	"errors"
	"testing"
)

// A refused SUBSCRIBE does not count against MaxSubscriptions afterwards.
func TestRefusedSubscribesAreForgotten(t *testing.T) {
	for _, d := range []Draft{Draft14, Draft07Cloudflare} {
		t.Run(d.String(), func(t *testing.T) {
			p := newPair(t, "moqt", d, &Options{MaxSubscriptions: 3}, nil)
			ctx := ctxT(t)
			for i := 0; i < 6; i++ {
				_, err := p.client.Subscribe(ctx, Namespace{"x"}, "nope", SubscribeOptions{})
				var re *RequestError
				if !errors.As(err, &re) {
					t.Fatalf("attempt %d: %v, want the peer's refusal", i, err)
				}
			}
			p.client.mu.Lock()
			n, na := len(p.client.subs), len(p.client.subsByAlias)
			p.client.mu.Unlock()
			if n != 0 || na != 0 {
				t.Fatalf("%d subscriptions and %d aliases left after refusals", n, na)
			}
		})
	}
}

// Empty objects count against the byte limits: a flood of them in one group
// is bounded in the subscriber's queue and in the track's retention.
func TestEmptyObjectFloodIsBounded(t *testing.T) {
	sess := &Session{opts: &Options{SubscriptionBuffer: 1024}, draft: Draft14}
	tr := NewTrack(Namespace{"a"}, "b", TrackOptions{RetainGroups: 1, RetainBytes: 1024})
	sub := newSubscriber(sess, tr, 0, 0, 128)
	if _, _, err := tr.attach(sub, Filter{Type: FilterAbsoluteStart}, Draft14, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100000; i++ {
		if err := tr.WriteObject(&Object{Group: 0, ID: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	sub.mu.Lock()
	queued, dropped := len(sub.q), sub.dropped
	sub.mu.Unlock()
	if queued*objectOverhead > 1024 {
		t.Fatalf("subscriber queue holds %d objects over a 1024-byte limit", queued)
	}
	if dropped == 0 {
		t.Fatal("nothing counted as dropped")
	}
	if got := len(tr.retainedRange(Location{}, Location{Group: 1})); got*objectOverhead > 1024 {
		t.Fatalf("track retains %d objects over a 1024-byte limit", got)
	}
}

// A range subscription ends after its end group even when the publisher
// never ends groups explicitly (as a relay's forwarded tracks do not).
func TestRangeEndsWithoutGroupEnds(t *testing.T) {
	p := newPair(t, "moqt", Draft14, nil, nil)
	ctx := ctxT(t)
	tr, err := p.server.Publish(Namespace{"r"}, "t", TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := p.client.Subscribe(ctx, Namespace{"r"}, "t", SubscribeOptions{Filter: Filter{
		Type: FilterAbsoluteRange, Start: Location{Group: 1}, EndGroup: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for g := uint64(0); g < 5; g++ {
		if err := tr.WriteObject(&Object{Group: g, Payload: []byte{byte(g)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []uint64{1, 2} {
		o, err := sub.ReadObject(ctx)
		if err != nil || o.Group != want {
			t.Fatalf("want group %d: %v %v", want, o, err)
		}
	}
	if _, err := sub.ReadObject(ctx); !errors.Is(err, ErrEnded) {
		t.Fatalf("after the range: %v, want ErrEnded", err)
	}
}
