package relay

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// TestFanOut: one publisher, 50 subscribers of mixed drafts and transports;
// every subscriber receives every object, in order, IDs preserved.
func TestFanOut(t *testing.T) {
	r := startRelay(t, Config{})
	ctx := ctxT(t)
	ns := moq.Namespace{"live", "fan"}
	_, tr := r.publish(t, quic14, ns, "video")

	kinds := []client{quic18, wt18, quic14, wt14, quic07cf, wt07cf}
	const nSubs = 50
	sessions := make([]*moq.Session, nSubs)
	subs := make([]*moq.Subscription, nSubs)
	errs := make([]error, nSubs)
	var wg sync.WaitGroup
	// At most 16 handshakes at once: quic-go refuses connections
	// (CONNECTION_REFUSED) beyond 32 completed handshakes not yet accepted,
	// which a burst of 50 under the race detector can reach.
	sem := make(chan struct{}, 16)
	for i := range nSubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := r.tryDial(kinds[i%len(kinds)], nil)
			if err != nil {
				errs[i] = err
				return
			}
			sessions[i] = s
			subs[i], errs[i] = s.Subscribe(ctx, ns, "video", moq.SubscribeOptions{})
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, s := range sessions {
			if s != nil {
				s.Close()
				s.Wait()
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("subscriber %d (%s): %v", i, kinds[i%len(kinds)].name, err)
		}
	}
	if n := tr.Subscribers(); n != 1 {
		t.Fatalf("publisher has %d subscribers, want 1 (the relay's single upstream subscription)", n)
	}

	const groups, perGroup = 20, 5 // 100 objects
	writeGroups(t, tr, groups, perGroup)
	for i := range nSubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = expectGroups(ctx, subs[i], 0, groups, perGroup)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("subscriber %d (%s): %v", i, kinds[i%len(kinds)].name, err)
		}
	}
	if st := r.activeTrackStats(); len(st) != 1 || st[0].ObjectsIn != groups*perGroup || st[0].Dropped != 0 {
		t.Errorf("relay track stats %+v, want one track with %d objects in and no drops", st, groups*perGroup)
	}
}

// TestLateJoiner: a draft-07 subscriber with the LatestGroup filter joining
// after groups were written gets the latest group from the relay's cache,
// then the new groups.
func TestLateJoiner(t *testing.T) {
	for _, late := range []client{quic07cf, wt07cf} {
		t.Run(late.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			ns := moq.Namespace{"late"}
			_, tr := r.publish(t, quic14, ns, "t")
			early := r.dial(t, wt14, nil)
			esub, err := early.Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			writeGroups(t, tr, 5, 3)
			if err := expectGroups(ctx, esub, 0, 5, 3); err != nil {
				t.Fatalf("early subscriber: %v", err) // the relay has it all now
			}
			s := r.dial(t, late, nil)
			sub, err := s.Subscribe(ctx, ns, "t", moq.SubscribeOptions{Filter: moq.Filter{Type: moq.FilterLatestGroup}})
			if err != nil {
				t.Fatal(err)
			}
			if l, ok := sub.Largest(); !ok || l != (moq.Location{Group: 4, Object: 2}) {
				t.Errorf("SUBSCRIBE_OK largest %v %v, want (4,2)", l, ok)
			}
			if err := expectGroups(ctx, sub, 4, 1, 3); err != nil {
				t.Fatalf("cached group: %v", err)
			}
			writeGroups(t, tr, 2, 3)
			if err := expectGroups(ctx, sub, 5, 2, 3); err != nil {
				t.Fatalf("new groups: %v", err)
			}
		})
	}
}

// TestFetchFromCache: FETCH of a track that is active (someone subscribed)
// is served from the relay's cache; a track that is not active is refused
// with the draft's "does not exist" code.
func TestFetchFromCache(t *testing.T) {
	for _, fc := range []client{quic20, quic18, wt18, quic14, wt14, quic07cf, wt07cf} {
		t.Run(fc.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			ns := moq.Namespace{"fetch"}
			_, tr := r.publish(t, quic14, ns, "t")
			sub, err := r.dial(t, quic07cf, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			writeGroups(t, tr, 4, 3)
			if err := expectGroups(ctx, sub, 0, 4, 3); err != nil {
				t.Fatal(err)
			}
			s := r.dial(t, fc, nil)
			f, err := s.Fetch(ctx, ns, "t", moq.Location{Group: 1, Object: 1}, moq.Location{Group: 2, Object: ^uint64(0)}, moq.FetchOptions{})
			if err != nil {
				t.Fatalf("fetch: %v", err)
			}
			if f.End() != (moq.Location{Group: 2, Object: 2}) {
				t.Errorf("FETCH_OK end %v, want (2,2)", f.End())
			}
			for _, w := range []moq.Location{{Group: 1, Object: 1}, {Group: 1, Object: 2}, {Group: 2, Object: 0}, {Group: 2, Object: 1}, {Group: 2, Object: 2}} {
				o, err := f.ReadObject(ctx)
				if err != nil {
					t.Fatalf("fetched object %v: %v", w, err)
				}
				if o.Group != w.Group || o.ID != w.Object || string(o.Payload) != string(payloadOf(w.Group, w.Object)) {
					t.Fatalf("fetched (%d,%d) %q, want %v", o.Group, o.ID, o.Payload, w)
				}
			}
			if _, err := f.ReadObject(ctx); !errors.Is(err, moq.ErrEnded) {
				t.Fatalf("after the last fetched object: %v, want ErrEnded", err)
			}
			_, err = s.Fetch(ctx, ns, "other", moq.Location{}, moq.Location{Group: 1}, moq.FetchOptions{})
			wantRequestError(t, err, notExistCode(fc.draft))
		})
	}
}

func notExistCode(d moq.Draft) uint64 {
	switch {
	case d.Is07():
		return 0x3
	case d == moq.Draft16 || d == moq.Draft18 || d == moq.Draft20:
		return 0x10 // REQUEST_ERROR DOES_NOT_EXIST
	}
	return 0x4
}

func wantRequestError(t *testing.T, err error, code uint64) {
	t.Helper()
	var re *moq.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *moq.RequestError with code %#x", err, code)
	}
	if re.Code != code {
		t.Fatalf("got %v, want code %#x", re, code)
	}
}

// TestPublisherDisconnect: the publisher's session ends; the subscribers'
// subscriptions end with an error wrapping moq.ErrEnded (a PUBLISH_DONE /
// SUBSCRIBE_DONE with status "track ended": 0x2 in draft-14, 0x3 in
// draft-07). The publisher reconnects and announces again; a new subscriber
// gets the new objects.
func TestPublisherDisconnect(t *testing.T) {
	for _, pc := range []client{quic14, wt07cf, quic18} {
		t.Run(pc.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			ns := moq.Namespace{"dc"}
			pub, tr := r.publish(t, pc, ns, "t")
			subClients := []client{quic14, quic07cf}
			var subs []*moq.Subscription
			for _, sc := range subClients {
				sub, err := r.dial(t, sc, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				subs = append(subs, sub)
			}
			writeGroups(t, tr, 1, 2)
			for i, sub := range subs {
				if err := expectGroups(ctx, sub, 0, 1, 2); err != nil {
					t.Fatalf("%s: %v", subClients[i].name, err)
				}
			}
			pub.Close()
			for i, sub := range subs {
				_, err := sub.ReadObject(ctx)
				if !errors.Is(err, moq.ErrEnded) {
					t.Fatalf("%s: after the publisher left: %v, want ErrEnded", subClients[i].name, err)
				}
				var coded interface{ Code() uint64 }
				want := uint64(0x2)
				if subClients[i].draft.Is07() {
					want = 0x3
				}
				if !errors.As(err, &coded) || coded.Code() != want {
					t.Fatalf("%s: %v: want status code %#x (track ended)", subClients[i].name, err, want)
				}
			}
			// Reconnect at once: the relay may not have processed the old
			// session's end yet; the announce and subscribe must still work.
			_, tr2 := r.publish(t, pc, ns, "t")
			sub, err := r.dial(t, wt14, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatalf("subscribe after reconnect: %v", err)
			}
			writeGroups(t, tr2, 2, 2)
			if err := expectGroups(ctx, sub, 0, 2, 2); err != nil {
				t.Fatalf("after reconnect: %v", err)
			}
		})
	}
}

// TestAnnounceConflict: a second publisher announcing a namespace that
// another publisher holds is refused.
func TestAnnounceConflict(t *testing.T) {
	for _, c := range []client{quic14, wt07cf, wt18} {
		t.Run(c.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			ns := moq.Namespace{"taken"}
			r.publish(t, quic14, ns, "t")
			err := r.dial(t, c, nil).Announce(ctx, ns)
			var re *moq.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("second announce: %v, want *moq.RequestError", err)
			}
		})
	}
}

// TestSubscribeUnknown: SUBSCRIBE to an unknown namespace, or to an unknown
// track of an announced namespace (refused by a publisher of another
// draft), fails with the subscriber's draft's "does not exist" code.
func TestSubscribeUnknown(t *testing.T) {
	cases := []struct {
		name     string
		pub, sub client
	}{
		{"14/14", quic14, quic14},
		{"14/07cf", quic14, wt07cf},
		{"07cf/14", quic07cf, wt14},
		{"07cf/07cf", wt07cf, quic07cf},
		{"18/14", quic18, wt14},
		{"14/18", wt14, quic18},
		{"18/18", wt18, wt18},
		{"16/07cf", quic16, wt07cf},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			r.publish(t, c.pub, moq.Namespace{"known"}, "t")
			s := r.dial(t, c.sub, nil)
			_, err := s.Subscribe(ctx, moq.Namespace{"nobody"}, "t", moq.SubscribeOptions{})
			wantRequestError(t, err, notExistCode(c.sub.draft))
			_, err = s.Subscribe(ctx, moq.Namespace{"known"}, "missing", moq.SubscribeOptions{})
			wantRequestError(t, err, notExistCode(c.sub.draft))
			// The refusal is not cached: the track can be subscribed once it exists.
			if _, err := s.Subscribe(ctx, moq.Namespace{"known"}, "t", moq.SubscribeOptions{}); err != nil {
				t.Fatalf("subscribe to the published track: %v", err)
			}
		})
	}
}

// TestSubscribeNamespace: a client subscribed to a prefix learns of
// announces made before and after, and of their withdrawal. Draft-07
// (SUBSCRIBE_ANNOUNCES) allows an empty prefix, which matches every
// namespace; draft-14 requires 1 to 32 fields (section 2.4.1: an N of 0 is
// a protocol violation), so the library refuses an empty prefix locally.
func TestSubscribeNamespace(t *testing.T) {
	for _, wc := range []client{quic18, wt18, quic14, wt14, quic07cf, wt07cf} {
		t.Run(wc.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			before, _ := r.publish(t, wt14, moq.Namespace{"live", "before"}, "t")
			_ = before
			w := r.dial(t, wc, nil)
			nsub, err := w.SubscribeNamespace(ctx, moq.Namespace{"live"})
			if err != nil {
				t.Fatalf("subscribe namespace: %v", err)
			}
			expectNS(t, ctx, nsub, moq.Namespace{"live", "before"}, true)

			pub := r.dial(t, quic07cf, nil)
			if err := pub.Announce(ctx, moq.Namespace{"other"}); err != nil {
				t.Fatal(err)
			}
			if err := pub.Announce(ctx, moq.Namespace{"live", "after"}); err != nil {
				t.Fatal(err)
			}
			expectNS(t, ctx, nsub, moq.Namespace{"live", "after"}, true)
			if err := pub.Unannounce(moq.Namespace{"live", "after"}); err != nil {
				t.Fatal(err)
			}
			expectNS(t, ctx, nsub, moq.Namespace{"live", "after"}, false)

			// An overlapping prefix is refused.
			if _, err := w.SubscribeNamespace(ctx, moq.Namespace{"live", "x"}); err == nil {
				t.Fatal("overlapping namespace subscription accepted")
			}

			// Empty prefix.
			w2 := r.dial(t, wc, nil)
			all, err := w2.SubscribeNamespace(ctx, moq.Namespace{})
			if wc.draft == moq.Draft14 {
				if !errors.Is(err, moq.ErrInvalid) {
					t.Fatalf("draft-14 empty prefix: %v, want ErrInvalid", err)
				}
				// The session is still usable.
				if _, err := w2.SubscribeNamespace(ctx, moq.Namespace{"other"}); err != nil {
					t.Fatalf("after the refused empty prefix: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("draft %s empty prefix: %v", wc.draft, err) // 07 and 18 have it
			}
			got := map[string]bool{}
			for range 2 {
				ev, err := all.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got[ev.Namespace.String()] = ev.Active
			}
			if !got["live/before"] || !got["other"] {
				t.Fatalf("empty prefix saw %v, want live/before and other", got)
			}
		})
	}
}

func expectNS(t *testing.T, ctx context.Context, n *moq.NamespaceSubscription, ns moq.Namespace, active bool) {
	t.Helper()
	ev, err := n.Next(ctx)
	if err != nil {
		t.Fatalf("waiting for %s (active %v): %v", ns, active, err)
	}
	if !ev.Namespace.Equal(ns) || ev.Active != active {
		t.Fatalf("got %s (active %v), want %s (active %v)", ev.Namespace, ev.Active, ns, active)
	}
}

// TestLastSubscriberLeaves: when the last downstream subscriber leaves, the
// relay unsubscribes upstream and the publisher's track has no subscriber.
func TestLastSubscriberLeaves(t *testing.T) {
	for _, pc := range []client{quic14, wt07cf, quic07, wt18} {
		t.Run(pc.name, func(t *testing.T) {
			cfg := Config{}
			if pc.draft == moq.Draft07 {
				cfg.Session.Draft07Layout = moq.Draft07
			}
			r := startRelay(t, cfg)
			ctx := ctxT(t)
			ns := moq.Namespace{"idle"}
			_, tr := r.publish(t, pc, ns, "t")
			a, err := r.dial(t, quic14, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			bc := wt07cf
			if pc.draft == moq.Draft07 {
				bc = wt07 // the relay speaks the spec layout to draft-07 clients
			}
			b, err := r.dial(t, bc, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "one upstream subscriber", func() bool { return tr.Subscribers() == 1 })
			a.Close()
			writeGroups(t, tr, 1, 1) // still flowing to b
			if err := expectGroups(ctx, b, 0, 1, 1); err != nil {
				t.Fatal(err)
			}
			if n := tr.Subscribers(); n != 1 {
				t.Fatalf("after one of two left: %d upstream subscribers, want 1", n)
			}
			b.Close()
			eventually(t, "the upstream UNSUBSCRIBE", func() bool { return tr.Subscribers() == 0 })
			eventually(t, "the relay forgetting the track", func() bool { return len(r.activeTrackStats()) == 0 })
			// A new subscriber starts a new upstream subscription.
			c, err := r.dial(t, client{"quic/" + bc.draft.String(), "moqt", bc.draft}, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			writeGroups(t, tr, 1, 1)
			first := uint64(1)
			if pc.draft.Is07() {
				// The relay subscribes to draft-07 publishers with LatestGroup:
				// the current group (0) comes again.
				first = 0
			}
			if err := expectGroups(ctx, c, first, int(2-first), 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func (c client) String() string { return fmt.Sprintf("%s (%s)", c.name, c.scheme) }

// A SUBSCRIBE that arrives while the track's last subscriber leaves (the
// relay ending its upstream subscription) is still served: the session asks
// the relay again for the track instead of refusing it.
func TestSubscribeRacingLastUnsubscribe(t *testing.T) {
	r := startRelay(t, Config{})
	ctx := ctxT(t)
	ns := moq.Namespace{"race"}
	r.publish(t, quic14, ns, "t")
	a := r.dial(t, quic14, nil)
	b := r.dial(t, wt07cf, nil)
	for i := 0; i < 100; i++ {
		first, err := a.Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
		if err != nil {
			t.Fatalf("round %d: first subscriber: %v", i, err)
		}
		done := make(chan error, 1)
		go func() {
			sub, err := b.Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err == nil {
				sub.Close()
			}
			done <- err
		}()
		first.Close()
		if err := <-done; err != nil {
			t.Fatalf("round %d: a subscriber racing the last one's departure was refused: %v", i, err)
		}
	}
}

// TestBurstBeforeFirstSubscriberAttaches: a publisher that writes a burst of
// groups the moment the relay subscribes to it (as `moq pub` does) gets all
// of it to the subscriber that asked, even when the burst is larger than
// the cache: the relay holds the new track until that subscriber is
// attached.
func TestBurstBeforeFirstSubscriberAttaches(t *testing.T) {
	r := startRelay(t, Config{CacheGroups: 2})
	ctx := ctxT(t)
	for round := 0; round < 20; round++ {
		ns := moq.Namespace{"burst", fmt.Sprint(round)}
		_, tr := r.publish(t, quic14, ns, "t")
		burst := make(chan struct{})
		go func() {
			defer close(burst)
			// No event tells of the first subscriber; spin, to write the
			// burst as soon as possible after it.
			for tr.Subscribers() == 0 && ctx.Err() == nil {
				runtime.Gosched()
			}
			writeGroups(t, tr, 10, 1)
		}()
		sub := r.dial(t, wt07cf, nil)
		s, err := sub.Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := expectGroups(ctx, s, 0, 10, 1); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		<-burst
		s.Close()
	}
}
