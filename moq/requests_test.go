package moq

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSubscribeUnknownTrack: SUBSCRIBE to a track nobody publishes is
// refused with a *RequestError; announcing works once per namespace.
func TestSubscribeUnknownTrackAndAnnounce(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			_, err := p.client.Subscribe(ctx, Namespace{"nobody"}, "nothing", SubscribeOptions{})
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("subscribe to an unknown track: %v, want a *RequestError", err)
			}
			if re.Op != "SUBSCRIBE" {
				t.Fatalf("RequestError.Op = %q", re.Op)
			}
			ns := Namespace{"ann", "x"}
			if err := p.client.Announce(ctx, ns); err != nil {
				t.Fatalf("announce: %v", err)
			}
			if err := p.client.Announce(ctx, ns); err == nil {
				t.Fatal("second announce of the same namespace succeeded")
			}
			// The server saw the namespace.
			found := false
			for _, got := range p.server.PeerNamespaces() {
				if got.Key() == ns.Key() {
					found = true
				}
			}
			if !found {
				t.Fatalf("server's peer namespaces %v lack %v", p.server.PeerNamespaces(), ns)
			}
			// The session still works after the refusals.
			tr, err := p.server.Publish(Namespace{"ok"}, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := p.client.Subscribe(ctx, Namespace{"ok"}, "t", SubscribeOptions{})
			if err != nil {
				t.Fatalf("subscribe after refusals: %v", err)
			}
			tr.Write([]byte("x"))
			if o, err := sub.ReadObject(ctx); err != nil || string(o.Payload) != "x" {
				t.Fatalf("read: %v %v", o, err)
			}
		})
	}
}

// TestFetch: a standalone FETCH returns the retained objects of its range
// with their IDs and payloads; a range without objects is refused.
func TestFetch(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"fetch"}
			tr, err := p.server.Publish(ns, "t", TrackOptions{RetainGroups: 4})
			if err != nil {
				t.Fatal(err)
			}
			for g := 0; g < 3; g++ {
				writeGroup(t, tr, 3, false)
			}
			f, err := p.client.Fetch(ctx, ns, "t", loc(0, 1), loc(2, 0), FetchOptions{})
			if err != nil {
				t.Fatalf("fetch: %v", err)
			}
			if f.End() != loc(2, 0) {
				t.Fatalf("fetch End() = %v, want {2 0}", f.End())
			}
			expectObjects(t, ctx, f, []Location{loc(0, 1), loc(0, 2), loc(1, 0), loc(1, 1), loc(1, 2), loc(2, 0)}, true)
			if o, err := f.ReadObject(ctx); !errors.Is(err, ErrEnded) {
				t.Fatalf("after the last fetched object: %v, %v; want ErrEnded", o, err)
			}
			f.Close()

			// A whole-group end (Object = max).
			f, err = p.client.Fetch(ctx, ns, "t", loc(2, 1), Location{Group: 2, Object: ^uint64(0)}, FetchOptions{})
			if err != nil {
				t.Fatalf("fetch to the end of a group: %v", err)
			}
			expectObjects(t, ctx, f, []Location{loc(2, 1), loc(2, 2)}, true)
			if _, err := f.ReadObject(ctx); !errors.Is(err, ErrEnded) {
				t.Fatalf("after the last fetched object: %v; want ErrEnded", err)
			}

			_, err = p.client.Fetch(ctx, ns, "t", loc(10, 0), loc(11, 0), FetchOptions{})
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("fetch of an empty range: %v, want a *RequestError", err)
			}
			_, err = p.client.Fetch(ctx, ns, "nope", loc(0, 0), loc(1, 0), FetchOptions{})
			if !errors.As(err, &re) {
				t.Fatalf("fetch of an unknown track: %v, want a *RequestError", err)
			}
			if v.draft.Is07() {
				if _, err := p.client.JoiningFetch(ctx, nil, 1, true, FetchOptions{}); !errors.Is(err, ErrUnsupported) {
					t.Fatalf("joining fetch on draft-07: %v, want ErrUnsupported", err)
				}
			}
		})
	}
}

// TestJoiningFetch (draft-14): a LargestObject subscription plus a joining
// fetch of the previous group gives the objects before the subscription.
func TestJoiningFetch(t *testing.T) {
	for _, v := range variantsWhere(is14) {
		for _, relative := range []bool{true, false} {
			name := v.name + "/absolute"
			if relative {
				name = v.name + "/relative"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				p := newPair(t, v.scheme, v.draft, nil, nil)
				ctx := ctxT(t)
				ns := Namespace{"join"}
				tr, err := p.server.Publish(ns, "t", TrackOptions{RetainGroups: 4})
				if err != nil {
					t.Fatal(err)
				}
				for g := 0; g < 3; g++ {
					writeGroup(t, tr, 2, false)
				}
				sub, err := p.client.Subscribe(ctx, ns, "t", SubscribeOptions{Filter: Filter{Type: FilterLargestObject}})
				if err != nil {
					t.Fatal(err)
				}
				defer sub.Close()
				if l, ok := sub.Largest(); !ok || l != loc(2, 1) {
					t.Fatalf("SUBSCRIBE_OK largest %v %v, want {2 1}", l, ok)
				}
				start := uint64(1) // absolute: from group 1
				if relative {
					start = 1 // one group before the largest
				}
				f, err := p.client.JoiningFetch(ctx, sub, start, relative, FetchOptions{})
				if err != nil {
					t.Fatalf("joining fetch: %v", err)
				}
				expectObjects(t, ctx, f, []Location{loc(1, 0), loc(1, 1), loc(2, 0), loc(2, 1)}, true)
				if _, err := f.ReadObject(ctx); !errors.Is(err, ErrEnded) {
					t.Fatalf("after the joining fetch: %v, want ErrEnded", err)
				}
				// The subscription goes on from there.
				writeGroup(t, tr, 1, false)
				expectObjects(t, ctx, sub, []Location{loc(3, 0)}, true)
			})
		}
	}
}

// TestDatagrams: a datagram track's objects arrive; a payload over
// MaxDatagramPayload is refused at Write.
func TestDatagrams(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"dg"}
			tr, err := p.server.Publish(ns, "t", TrackOptions{Delivery: DeliveryDatagram})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Write(make([]byte, MaxDatagramPayload+1)); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("oversized datagram object: %v, want ErrTooLarge", err)
			}
			gw, err := tr.OpenGroup(nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gw.WriteObject(make([]byte, MaxDatagramPayload+1), nil); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("oversized datagram object via a group: %v, want ErrTooLarge", err)
			}
			gw.Close()
			sub, err := p.client.Subscribe(ctx, ns, "t", SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			// Datagrams may be lost: write each payload until it arrives.
			for _, size := range []int{0, 1, 100, MaxDatagramPayload} {
				payload := []byte(strings.Repeat("d", size))
				payload = append(payload[:0:0], payload...)
				for {
					g, err := tr.Write(payload)
					if err != nil {
						t.Fatal(err)
					}
					o, err := readUntilGroup(t, sub, g)
					if err != nil {
						t.Fatalf("size %d: %v", size, err)
					}
					if o != nil {
						if len(o.Payload) != size || o.ID != 0 {
							t.Fatalf("size %d: got object %d with %d bytes", size, o.ID, len(o.Payload))
						}
						break
					}
				}
			}
		})
	}
}

// readUntilGroup reads datagram objects until one of group g arrives
// (returned) or none comes for a while (nil: the caller resends). Objects
// of earlier groups, late copies of resent ones, are skipped.
func readUntilGroup(t *testing.T, sub *Subscription, g uint64) (*Object, error) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		o, err := sub.ReadObject(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if o.Group == g {
			return o, nil
		}
		if o.Group > g {
			t.Fatalf("object of group %d while waiting for group %d", o.Group, g)
		}
	}
}
