package moq

import (
	"errors"
	"testing"
	"time"
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

// Draft-14: an update with Forward = 0 pauses the subscription; another
// resumes it.
func TestSubscribeUpdatePause(t *testing.T) {
	p := newPair(t, "moqt", Draft14, nil, nil)
	ctx := ctxT(t)
	ns := Namespace{"pause"}
	tr, err := p.server.Publish(ns, "t", TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := p.client.Subscribe(ctx, ns, "t", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Update(ctx, SubscriptionUpdate{Priority: 128, Paused: true}); err != nil {
		t.Fatal(err)
	}
	// The update has no answer: the server's subscriber shows when it is paused.
	waitFor(t, func() bool {
		p.server.mu.Lock()
		defer p.server.mu.Unlock()
		for _, in := range p.server.inSubs {
			in.mu.Lock()
			paused := in.paused
			in.mu.Unlock()
			if paused {
				return true
			}
		}
		return false
	})
	tr.Write([]byte("while paused"))
	if err := sub.Update(ctx, SubscriptionUpdate{Priority: 128}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		p.server.mu.Lock()
		defer p.server.mu.Unlock()
		for _, in := range p.server.inSubs {
			in.mu.Lock()
			paused := in.paused
			in.mu.Unlock()
			if !paused {
				return true
			}
		}
		return false
	})
	tr.Write([]byte("after"))
	o, err := sub.ReadObject(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Payload) != "after" {
		t.Fatalf("got %q, want only the object written after resuming", o.Payload)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s. For
// state that has no event to wait on (an update has no answer).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
