package moq

import (
	"io"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// TestStopSendingCounted: an object whose write fails because the
// subscriber stopped the stream (STOP_SENDING) is counted in the track's
// Dropped, where the publishing host sees it.
func TestStopSendingCounted(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, v.scheme, v.draft, nil)
			ns := Namespace{"stop", "sending"}
			tr, err := r.server.Publish(ns, "t", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r.subscribe(r.reqID(0), ns, "t")
			if ok := readUntil[*wire.SubscribeOK](r); ok.RequestID != r.reqID(0) {
				t.Fatalf("SUBSCRIBE_OK for %d", ok.RequestID)
			}
			g, err := tr.OpenGroup(nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.WriteObject([]byte("first"), nil); err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)
			st, err := r.conn.AcceptUniStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Read(make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			st.CancelRead(0x1)
			// A SUBSCRIBE answered after the STOP_SENDING was sent: the
			// server's QUIC stack has processed the STOP_SENDING (sent
			// first) by the time its session reads the SUBSCRIBE.
			if _, err := r.server.Publish(ns, "sync", TrackOptions{}); err != nil {
				t.Fatal(err)
			}
			r.subscribe(r.reqID(1), ns, "sync")
			if ok := readUntil[*wire.SubscribeOK](r); !gen18(v.draft) && ok.RequestID != r.reqID(1) { // 18, 20: no Request ID in answers
				t.Fatalf("SUBSCRIBE_OK for %d", ok.RequestID)
			}
			if d := tr.Stats().Dropped; d != 0 {
				t.Fatalf("Dropped %d before any write failed", d)
			}
			// This object's write fails; the next one opens a new stream,
			// and once it arrives the failed write has been counted.
			for _, p := range []string{"stopped", "next"} {
				if _, err := g.WriteObject([]byte(p), nil); err != nil {
					t.Fatal(err)
				}
			}
			st2, err := r.conn.AcceptUniStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(st2, make([]byte, 1)); err != nil {
				t.Fatalf("the stream after the stopped one: %v", err)
			}
			if d := tr.Stats().Dropped; d != 1 {
				t.Fatalf("track Dropped = %d after one write on a stopped stream, want 1", d)
			}
		})
	}
}
