package moq

import (
	"errors"
	"testing"
)

// TestSubscribeFilters checks where each SUBSCRIBE filter starts (and, for
// AbsoluteRange, ends) against a track whose group 0 is open with objects
// 0 and 1 when the subscription arrives.
func TestSubscribeFilters(t *testing.T) {
	cases := []struct {
		name   string
		drafts func(Draft) bool
		filter Filter
		// before the subscription: closed groups, then the open group 0 or
		// the open group after them, with 2 objects.
		closedBefore int
		want         []Location
		ends         bool // the subscription ends (ErrEnded) after want
	}{
		{name: "07/LatestGroup", drafts: is07, filter: Filter{Type: FilterLatestGroup},
			want: []Location{loc(0, 0), loc(0, 1), loc(0, 2), loc(1, 0), loc(1, 1)}},
		{name: "07/LatestObject", drafts: is07, filter: Filter{Type: FilterLatestObject},
			want: []Location{loc(0, 1), loc(0, 2), loc(1, 0), loc(1, 1)}},
		{name: "14/NextGroupStart", drafts: is14, filter: Filter{Type: FilterNextGroupStart},
			want: []Location{loc(1, 0), loc(1, 1)}},
		{name: "14/LargestObject", drafts: is14, filter: Filter{Type: FilterLargestObject},
			want: []Location{loc(0, 2), loc(1, 0), loc(1, 1)}},
		{name: "AbsoluteStart", drafts: anyDraft, filter: Filter{Type: FilterAbsoluteStart, Start: loc(0, 1)},
			want: []Location{loc(0, 1), loc(0, 2), loc(1, 0), loc(1, 1)}},
		{name: "AbsoluteStartRetained", drafts: anyDraft, closedBefore: 2,
			filter: Filter{Type: FilterAbsoluteStart, Start: loc(1, 1)},
			// groups 0 and 1 closed, group 2 open with 0,1; then 2,2 and group 3.
			want: []Location{loc(1, 1), loc(2, 0), loc(2, 1), loc(2, 2), loc(3, 0), loc(3, 1)}},
		{name: "AbsoluteRange", drafts: anyDraft, closedBefore: 1,
			filter: Filter{Type: FilterAbsoluteRange, Start: loc(0, 1), EndGroup: 1},
			// group 0 closed, group 1 open with 0,1; then 1,2 and group 2 (not delivered).
			want: []Location{loc(0, 1), loc(1, 0), loc(1, 1), loc(1, 2)}, ends: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range variantsWhere(c.drafts) {
				t.Run(v.name, func(t *testing.T) {
					t.Parallel()
					p := newPair(t, v.scheme, v.draft, nil, nil)
					ctx := ctxT(t)
					ns := Namespace{"filters"}
					tr, err := p.server.Publish(ns, "t", TrackOptions{RetainGroups: 8})
					if err != nil {
						t.Fatal(err)
					}
					for i := 0; i < c.closedBefore; i++ {
						writeGroup(t, tr, 2, false)
					}
					gw := writeGroup(t, tr, 2, true)
					sub, err := p.client.Subscribe(ctx, ns, "t", SubscribeOptions{Filter: c.filter})
					if err != nil {
						t.Fatalf("subscribe: %v", err)
					}
					defer sub.Close()
					writeObjects(t, gw, 1)
					gw.Close()
					writeGroup(t, tr, 2, false)
					writeGroup(t, tr, 1, false) // one more group, beyond any range end
					expectObjects(t, ctx, sub, c.want, true)
					if c.ends {
						o, err := sub.ReadObject(ctx)
						if !errors.Is(err, ErrEnded) {
							t.Fatalf("after the range: object %v, err %v; want ErrEnded", o, err)
						}
						return
					}
					// The next object is the first of the extra group.
					last := c.want[len(c.want)-1]
					expectObjects(t, ctx, sub, []Location{loc(last.Group+1, 0)}, true)
				})
			}
		})
	}
}
