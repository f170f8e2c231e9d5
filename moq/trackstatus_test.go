package moq

import (
	"errors"
	"testing"
)

func TestTrackStatus(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"status"}
			tr, err := p.server.Publish(ns, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Published but empty.
			st, err := p.client.TrackStatus(ctx, ns, "t")
			if err != nil {
				t.Fatalf("status of an empty track: %v", err)
			}
			if st.HasContent {
				t.Fatalf("empty track reports content: %+v", st)
			}
			for i := 0; i < 3; i++ {
				if _, err := tr.Write([]byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}
			st, err = p.client.TrackStatus(ctx, ns, "t")
			if err != nil {
				t.Fatal(err)
			}
			if !st.HasContent || st.Largest != (Location{Group: 2, Object: 0}) {
				t.Fatalf("status %+v, want content up to group 2 object 0", st)
			}
			_, err = p.client.TrackStatus(ctx, ns, "missing")
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("status of a missing track: %v, want *RequestError", err)
			}
		})
	}
}
