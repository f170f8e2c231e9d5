package relay

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// BenchmarkRelayAllocs200B counts heap allocations per object (process
// wide, runtime.MemStats.Mallocs around the flow) for 200-byte objects,
// one per group, in the same run:
//   - relay: publisher -> relay -> subscriber (two QUIC hops);
//   - direct: publisher -> subscriber (one hop);
//   - quichop: one raw quic-go stream per object, written and read with
//     reused buffers by one goroutine at each end, so that it counts
//     quic-go's allocations for one hop and nothing of its own.
//
// The relay's own share per forwarded object is then estimated as relay -
// direct - quichop: the relay run adds to the direct one the relay's work
// plus one more QUIC hop. It is an estimate: quic-go's count varies a
// little with timing (acknowledgements, MAX_STREAMS frames, packet
// batching), so a share within about +-1 of zero means the relay
// allocates nothing per object of its own.
func BenchmarkRelayAllocs200B(b *testing.B) {
	var r, d, q float64
	b.Run("relay", func(b *testing.B) { r = allocsThroughput(b, true) })
	b.Run("direct", func(b *testing.B) { d = allocsThroughput(b, false) })
	b.Run("quichop", func(b *testing.B) { q = allocsQUICHop(b, 200) })
	if r > 0 && d > 0 && q > 0 {
		fmt.Printf("RelayAllocs200B (allocs per object, same run): relay %.2f, direct %.2f, quic-go hop %.2f; relay's own share (relay - direct - hop) %.2f\n",
			r, d, q, r-d-q)
	}
}

// mallocs returns the process's heap allocations so far.
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

func allocsThroughput(b *testing.B, relay bool) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	s := setupFlow(b, ctx, relay)
	defer s.closeAll()
	m0 := mallocs()
	res := runFlow(b, ctx, cancel, s, 200, 1, relayWindowSmall)
	per := float64(mallocs()-m0) / float64(max(res.objects, 1))
	b.ReportMetric(per, "allocs/obj")
	return per
}

// allocsQUICHop sends b.N messages of size bytes, each on its own
// unidirectional stream, and reads them one stream after the other; at
// most relayWindowSmall messages are unread at any time, as in the flows.
func allocsQUICHop(b *testing.B, size int) float64 {
	rc, closeRaw := newRawConns(b)
	defer closeRaw()
	ctx, cancel := context.WithTimeout(context.Background(), relayBenchTimeout)
	defer cancel()
	n := b.N
	payload := make([]byte, size)
	done := make(chan error, 1)
	window := make(chan struct{}, relayWindowSmall)
	b.ResetTimer()
	m0 := mallocs()
	go func() {
		buf := make([]byte, size+1)
		for i := 0; i < n; i++ {
			st, err := rc.server.AcceptUniStream(ctx)
			if err != nil {
				done <- err
				return
			}
			got := 0
			for {
				k, err := st.Read(buf)
				got += k
				if err == io.EOF {
					break
				}
				if err != nil {
					done <- err
					return
				}
			}
			if got != size {
				done <- fmt.Errorf("message %d: %d bytes, want %d", i, got, size)
				return
			}
			<-window
		}
		done <- nil
	}()
	for i := 0; i < n; i++ {
		select {
		case window <- struct{}{}:
		case err := <-done:
			b.Fatalf("receiver: %v", err)
		}
		st, err := rc.client.OpenUniStreamSync(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Write(payload); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	per := float64(mallocs()-m0) / float64(max(n, 1))
	b.ReportMetric(per, "allocs/obj")
	return per
}
