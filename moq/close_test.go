package moq

import (
	"fmt"
	"testing"
)

// Objects published just before Close still reach the subscriber: Close
// flushes before closing the connection.
func TestCloseFlushesPublishedObjects(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"flush"}
			tr, err := p.client.Publish(ns, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := p.server.Subscribe(ctx, ns, "t", SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			const n = 200
			payload := make([]byte, 4000)
			for i := 0; i < n; i++ {
				copy(payload, fmt.Sprint(i))
				if _, err := tr.Write(payload); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.client.Close(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				o, err := sub.ReadObject(ctx)
				if err != nil {
					t.Fatalf("object %d of %d: %v", i, n, err)
				}
				if o.Group != uint64(i) {
					t.Fatalf("object %d: group %d", i, o.Group)
				}
			}
		})
	}
}
