package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
	"github.com/moq-ffi/moq-ffi-go/moq"
)

// Cross-draft matrix: every client kind the relay serves, as publisher, to
// every kind as subscriber. A relay speaks one draft-07 data layout (its
// Draft07Layout), so the matrix runs twice: with the Cloudflare layout
// (07cf clients) and with the specification's (07 clients).

var (
	quic20 = client{"quic/20", "moqt", moq.Draft20}
	wt20   = client{"wt/20", "https", moq.Draft20}
	quic18 = client{"quic/18", "moqt", moq.Draft18}
	wt18   = client{"wt/18", "https", moq.Draft18}
	quic16 = client{"quic/16", "moqt", moq.Draft16}
	wt16   = client{"wt/16", "https", moq.Draft16}
)

// kindsFor returns the client kinds a relay with draft-07 layout l serves.
func kindsFor(l moq.Draft) []client {
	k07 := []client{quic07cf, wt07cf}
	if l == moq.Draft07 {
		k07 = []client{quic07, wt07}
	}
	return append([]client{quic20, wt20, quic18, wt18, quic16, wt16, quic14, wt14}, k07...)
}

// crossObjects are the objects every pair must carry: payloads of several
// sizes, an empty payload, a status, a skipped group.
func crossObjects(t *testing.T, withExt bool) []*moq.Object {
	t.Helper()
	var ext []byte
	if withExt {
		var err error
		ext, err = wire.AppendExtensions(nil, wire.Params{wire.IntParam(0x2, 7), wire.BytesParam(0x3, []byte("meta"))})
		if err != nil {
			t.Fatal(err)
		}
	}
	return []*moq.Object{
		{Group: 0, ID: 0, Payload: []byte("first"), Extensions: ext},
		{Group: 0, ID: 1, Payload: []byte{}},
		{Group: 0, ID: 2, Status: moq.StatusDoesNotExist},
		{Group: 0, ID: 3, Payload: bytes.Repeat([]byte("x"), 10000)},
		{Group: 0, ID: 4, Status: moq.StatusEndOfGroup},
		{Group: 3, ID: 5, Payload: []byte("jump")},
	}
}

// TestCrossDraftMatrix: objects published by each client kind reach
// subscribers of every kind through one relay with IDs, statuses and
// payloads intact; extension headers reach every subscriber whose draft has
// them when the publisher's draft has them (draft-07 has none).
func TestCrossDraftMatrix(t *testing.T) {
	for _, layout := range []moq.Draft{moq.Draft07Cloudflare, moq.Draft07} {
		kinds := kindsFor(layout)
		for _, pc := range kinds {
			t.Run(fmt.Sprintf("layout%s/%s", layout, pc.name), func(t *testing.T) {
				r := startRelay(t, Config{Session: moq.Options{Draft07Layout: layout}})
				ctx := ctxT(t)
				ns := moq.Namespace{"cross", pc.name}
				_, tr := r.publish(t, pc, ns, "t")
				subs := make([]*moq.Subscription, len(kinds))
				for i, sc := range kinds {
					sub, err := r.dial(t, sc, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
					if err != nil {
						t.Fatalf("subscribe from %s: %v", sc.name, err)
					}
					subs[i] = sub
				}
				want := crossObjects(t, !pc.draft.Is07())
				for _, o := range want {
					if err := tr.WriteObject(o); err != nil {
						t.Fatal(err)
					}
					if o.Status == moq.StatusEndOfGroup {
						tr.EndGroup(o.Group)
					}
				}
				tr.EndGroup(3)
				for i, sub := range subs {
					sc := kinds[i]
					for _, w := range want {
						if w.Status == moq.StatusDoesNotExist && (!hasDoesNotExist(pc.draft) || !hasDoesNotExist(sc.draft)) {
							continue // draft-16 and 18 have no "does not exist" status: such objects are left out
						}
						o, err := sub.ReadObject(ctx)
						if err != nil {
							t.Fatalf("%s -> %s: object (%d,%d): %v", pc.name, sc.name, w.Group, w.ID, err)
						}
						if o.Group != w.Group || o.ID != w.ID || o.Status != w.Status || !bytes.Equal(o.Payload, w.Payload) {
							t.Fatalf("%s -> %s: got (%d,%d) status %d payload %d bytes, want (%d,%d) status %d payload %d bytes",
								pc.name, sc.name, o.Group, o.ID, o.Status, len(o.Payload), w.Group, w.ID, w.Status, len(w.Payload))
						}
						wantExt := w.Extensions
						if sc.draft.Is07() {
							wantExt = nil // dropped: draft-07 has no extension headers
						}
						if !bytes.Equal(o.Extensions, wantExt) {
							t.Fatalf("%s -> %s: object (%d,%d): extensions %x, want %x", pc.name, sc.name, w.Group, w.ID, o.Extensions, wantExt)
						}
					}
				}
			})
		}
	}
}

// TestCrossDraftDatagrams: datagram objects cross between every pair of
// drafts through the relay (one relay, one publisher per kind).
func TestCrossDraftDatagrams(t *testing.T) {
	kinds := kindsFor(moq.Draft07Cloudflare)
	for _, pc := range kinds {
		t.Run(pc.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			ns := moq.Namespace{"dgram", pc.name}
			pub := r.dial(t, pc, nil)
			tr, err := pub.Publish(ns, "t", moq.TrackOptions{Delivery: moq.DeliveryDatagram})
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Announce(ctx, ns); err != nil {
				t.Fatal(err)
			}
			subs := make([]*moq.Subscription, len(kinds))
			for i, sc := range kinds {
				if subs[i], err = r.dial(t, sc, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{}); err != nil {
					t.Fatalf("subscribe from %s: %v", sc.name, err)
				}
			}
			// Datagrams may be lost: each subscriber in turn, a datagram is
			// written until one reaches it (a lost one is written again
			// after a read window; no assertion depends on that window).
			for i, sub := range subs {
				sc := kinds[i]
				for {
					if ctx.Err() != nil {
						t.Fatalf("%s -> %s: no datagram arrived", pc.name, sc.name)
					}
					g, err := tr.Write([]byte("dg " + sc.name))
					if err != nil {
						t.Fatal(err)
					}
					o := readGroupWithin(t, sub, g)
					if o == nil {
						continue
					}
					if string(o.Payload) != "dg "+sc.name || o.ID != 0 {
						t.Fatalf("%s -> %s: got (%d,%d) %q", pc.name, sc.name, o.Group, o.ID, o.Payload)
					}
					break
				}
			}
		})
	}
}

// readGroupWithin reads sub's objects until one of group g arrives (nil when
// none came within a read window: the datagram may have been lost). Objects
// of earlier groups (written for an earlier reader, or late) are skipped.
func readGroupWithin(t *testing.T, sub *moq.Subscription, g uint64) *moq.Object {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		o, err := sub.ReadObject(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil
		}
		if err != nil {
			t.Fatalf("reading datagram objects: %v", err)
		}
		if o.Group == g {
			return o
		}
		if o.Group > g {
			t.Fatalf("object of group %d while waiting for group %d", o.Group, g)
		}
	}
}

// TestCrossDraftNamespaces: a namespace subscription of each draft sees
// announces made by clients of every draft, and their withdrawal.
func TestCrossDraftNamespaces(t *testing.T) {
	kinds := kindsFor(moq.Draft07Cloudflare)
	for _, wc := range kinds {
		t.Run(wc.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			nsub, err := r.dial(t, wc, nil).SubscribeNamespace(ctx, moq.Namespace{"disc"})
			if err != nil {
				t.Fatalf("subscribe namespace: %v", err)
			}
			for _, ac := range kinds {
				ns := moq.Namespace{"disc", ac.name}
				pub := r.dial(t, ac, nil)
				if err := pub.Announce(ctx, ns); err != nil {
					t.Fatalf("announce from %s: %v", ac.name, err)
				}
				expectNS(t, ctx, nsub, ns, true)
				if err := pub.Unannounce(ns); err != nil {
					t.Fatal(err)
				}
				expectNS(t, ctx, nsub, ns, false)
			}
		})
	}
}

// hasDoesNotExist reports whether draft d has the object status "does not
// exist" (gone from 16 on).
func hasDoesNotExist(d moq.Draft) bool {
	return d != moq.Draft16 && d != moq.Draft18 && d != moq.Draft20
}

// TestCrossDraftJoiningFill: a joining FETCH and a draft-20 fill (its
// replacement: FILL_PARAMETERS in a REQUEST_UPDATE, answered with a fill
// fetch stream) are both served from the relay's cache of the track,
// whatever the publisher's draft: 14 and 16 subscribers joining a track
// published over 20, and 20 subscribers filling from tracks published over
// 14 and 16.
func TestCrossDraftJoiningFill(t *testing.T) {
	cases := []struct{ pub, sub client }{
		{quic20, quic14}, {wt20, wt16}, {quic14, wt20}, {wt16, quic20},
	}
	for _, tc := range cases {
		t.Run(tc.pub.name+"->"+tc.sub.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			ctx := ctxT(t)
			ns := moq.Namespace{"join", tc.pub.name}
			_, tr := r.publish(t, tc.pub, ns, "t")
			// A first subscriber makes the track active; the relay caches
			// what it forwards.
			first, err := r.dial(t, quic18, nil).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			writeGroups(t, tr, 3, 2)
			if err := expectGroups(ctx, first, 0, 3, 2); err != nil {
				t.Fatal(err)
			}
			s := r.dial(t, tc.sub, nil)
			sub, err := s.Subscribe(ctx, ns, "t", moq.SubscribeOptions{Filter: moq.Filter{Type: moq.FilterLargestObject}})
			if err != nil {
				t.Fatal(err)
			}
			if l, ok := sub.Largest(); !ok || l != (moq.Location{Group: 2, Object: 1}) {
				t.Fatalf("SUBSCRIBE_OK largest %v %v, want {2 1}", l, ok)
			}
			f, err := s.JoiningFetch(ctx, sub, 1, true, moq.FetchOptions{})
			if err != nil {
				t.Fatalf("joining fetch: %v", err)
			}
			for _, w := range []moq.Location{{Group: 1, Object: 0}, {Group: 1, Object: 1}, {Group: 2, Object: 0}, {Group: 2, Object: 1}} {
				o, err := f.ReadObject(ctx)
				if err != nil {
					t.Fatalf("joined object %v: %v", w, err)
				}
				if o.Group != w.Group || o.ID != w.Object || string(o.Payload) != string(payloadOf(w.Group, w.Object)) {
					t.Fatalf("joined (%d,%d) %q, want %v", o.Group, o.ID, o.Payload, w)
				}
			}
			if _, err := f.ReadObject(ctx); !errors.Is(err, moq.ErrEnded) {
				t.Fatalf("after the joined objects: %v, want ErrEnded", err)
			}
			// The subscription goes on from there.
			writeGroups(t, tr, 1, 1)
			if err := expectGroups(ctx, sub, 3, 1, 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}
