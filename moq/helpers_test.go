package moq

import (
	"context"
	"fmt"
	"testing"
)

// variantsWhere returns the variants whose draft satisfies keep.
func variantsWhere(keep func(Draft) bool) []struct {
	name   string
	scheme string
	draft  Draft
} {
	out := variants[:0:0]
	for _, v := range variants {
		if keep(v.draft) {
			out = append(out, v)
		}
	}
	return out
}

// is14 keeps draft-14 and later (16), whose semantics the draft-14 tests check.
func is14(d Draft) bool { return d == Draft14 || d == Draft16 || gen18(d) }

// gen18 reports whether d has draft-18 sessions (a stream per request).
func gen18(d Draft) bool { return d == Draft18 || d == Draft20 }
func is07(d Draft) bool  { return d.Is07() }
func anyDraft(Draft) bool {
	return true
}

// objectReader is a Subscription or a FetchStream.
type objectReader interface {
	ReadObject(ctx context.Context) (*Object, error)
}

// expectObjects reads len(want) objects and checks their (group, object)
// IDs and, when payloads is true, that each payload is "g<G>o<O>".
func expectObjects(t *testing.T, ctx context.Context, r objectReader, want []Location, payloads bool) {
	t.Helper()
	for i, w := range want {
		o, err := r.ReadObject(ctx)
		if err != nil {
			t.Fatalf("object %d (want %v): %v", i, w, err)
		}
		if o.Group != w.Group || o.ID != w.Object {
			t.Fatalf("object %d: got (%d,%d), want (%d,%d)", i, o.Group, o.ID, w.Group, w.Object)
		}
		if payloads {
			if p := string(o.Payload); p != payloadOf(w) {
				t.Fatalf("object %d: payload %q, want %q", i, p, payloadOf(w))
			}
		}
	}
}

func payloadOf(l Location) string {
	return fmt.Sprintf("g%do%d", l.Group, l.Object)
}

// writeGroup opens group g (nil: the next one), writes n objects whose
// payloads are payloadOf(loc), and closes it unless keepOpen.
func writeGroup(t *testing.T, tr *Track, n int, keepOpen bool) *GroupWriter {
	t.Helper()
	gw, err := tr.OpenGroup(nil)
	if err != nil {
		t.Fatal(err)
	}
	writeObjects(t, gw, n)
	if !keepOpen {
		if err := gw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return gw
}

func writeObjects(t *testing.T, gw *GroupWriter, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		id := gw.nextIDForTest()
		got, err := gw.WriteObject([]byte(payloadOf(Location{Group: gw.Group(), Object: id})), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != id {
			t.Fatalf("WriteObject returned ID %d, want %d", got, id)
		}
	}
}

func (g *GroupWriter) nextIDForTest() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.nextID
}

func loc(g, o uint64) Location { return Location{Group: g, Object: o} }

// subscribed is what a Subscribe started by subscribeAsync returned.
type subscribed struct {
	sub *Subscription
	err error
}

// subscribeAsync runs s.Subscribe on a goroutine of its own, for tests that
// play the peer meanwhile, and delivers its result on the channel returned.
func subscribeAsync(ctx context.Context, s *Session, ns Namespace, name string, opts SubscribeOptions) <-chan subscribed {
	ch := make(chan subscribed, 1)
	go func() {
		sub, err := s.Subscribe(ctx, ns, name, opts)
		ch <- subscribed{sub, err}
	}()
	return ch
}
