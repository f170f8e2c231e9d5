package moq

import (
	"fmt"
	"sync"
	"testing"
)

// Requests made from many goroutines at once go out in request-ID order
// (draft-14 peers close the session otherwise).
func TestConcurrentRequests(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			const n = 16
			for i := 0; i < n; i++ {
				if _, err := p.server.Publish(Namespace{"c"}, fmt.Sprint(i), TrackOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 3*n)
			for i := 0; i < n; i++ {
				wg.Add(3)
				go func() {
					defer wg.Done()
					sub, err := p.client.Subscribe(ctx, Namespace{"c"}, fmt.Sprint(i), SubscribeOptions{})
					if err == nil {
						err = sub.Close()
					}
					errs <- err
				}()
				go func() {
					defer wg.Done()
					_, err := p.client.TrackStatus(ctx, Namespace{"c"}, fmt.Sprint(i))
					errs <- err
				}()
				go func() {
					defer wg.Done()
					errs <- p.client.Announce(ctx, Namespace{"a", fmt.Sprint(i)})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := p.client.Err(); err != nil {
				t.Fatalf("session ended: %v", err)
			}
		})
	}
}
