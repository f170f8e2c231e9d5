package moq

import (
	"errors"
	"testing"
)

// An update that sets an end makes the publisher end the subscription after
// that group.
func TestSubscribeUpdateEnd(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"upd"}
			tr, err := p.server.Publish(ns, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := p.client.Subscribe(ctx, ns, "t", SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Write([]byte("g0")); err != nil {
				t.Fatal(err)
			}
			o, err := sub.ReadObject(ctx)
			if err != nil || string(o.Payload) != "g0" {
				t.Fatalf("first object: %v %v", o, err)
			}
			// End after group 2.
			if err := sub.Update(ctx, SubscriptionUpdate{Start: Location{Group: 1}, HasEnd: true, EndGroup: 2, Priority: 64}); err != nil {
				t.Fatal(err)
			}
			// The update has no answer: write until the publisher has seen it
			// (its subscriber leaves the track once group 2 is done).
			want := []string{"g1", "g2"}
			for i := 1; i <= 2; i++ {
				if _, err := tr.Write([]byte(want[i-1])); err != nil {
					t.Fatal(err)
				}
			}
			for _, w := range want {
				o, err := sub.ReadObject(ctx)
				if err != nil {
					t.Fatalf("want %s: %v", w, err)
				}
				if string(o.Payload) != w {
					t.Fatalf("got %q, want %q", o.Payload, w)
				}
			}
			if _, err := sub.ReadObject(ctx); !errors.Is(err, ErrEnded) {
				t.Fatalf("after the end group: %v, want ErrEnded", err)
			}
		})
	}
}
