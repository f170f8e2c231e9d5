package moq

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// replayedDelivery subscribes a raw draft-14 peer from (0,0) to a track
// that already holds groups 0 and 1 and returns, per group, the payload that
// came in a datagram and the one that came on a stream.
func replayedDelivery(t *testing.T, tr *Track) (dgrams, streams map[uint64][]byte) {
	t.Helper()
	ctx := ctxT(t)
	r := newRawPeer(t, "moqt", Draft14, &Options{Handler: &trackHandler{track: tr}})
	r.sendMsg(&wire.Subscribe{RequestID: 0, TrackAlias: 0, Namespace: tr.Namespace(), Name: tr.Name(),
		SubscriberPriority: 128, Forward: true, FilterType: FilterAbsoluteStart, Start: Location{}})
	readUntil[*wire.SubscribeOK](r)
	dgrams, streams = map[uint64][]byte{}, map[uint64][]byte{}
	// One object of each kind is expected.
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := r.conn.ReceiveDatagram(dctx)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	dg, err := wire.ParseDatagram(b, Draft14, nil)
	if err != nil {
		t.Fatal(err)
	}
	dgrams[dg.Object.Group] = dg.Object.Payload
	st, err := r.conn.AcceptUniStream(dctx)
	if err != nil {
		t.Fatalf("no stream: %v", err)
	}
	st.SetReadDeadline(time.Now().Add(10 * time.Second))
	var sr wire.StreamReader
	sr.Reset(st, Draft14, nil)
	if err := sr.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	for {
		var o wire.Object
		if err := sr.Next(&o); err != nil {
			if err != io.EOF {
				t.Fatalf("stream: %v", err)
			}
			break
		}
		streams[o.Group] = o.Payload
	}
	return dgrams, streams
}

// TestReplayKeepsEachObjectsDelivery: a late joiner's replay from the
// retained groups sends each object the way it was published (WriteMode),
// not in the track's default delivery mode. A large stream object on a
// datagram track would otherwise be lost (too large for a datagram).
func TestReplayKeepsEachObjectsDelivery(t *testing.T) {
	big := bytes.Repeat([]byte("B"), 4000)
	t.Run("stream track", func(t *testing.T) {
		tr := NewTrack(Namespace{"r"}, "t", TrackOptions{Delivery: DeliveryStream})
		if _, err := tr.WriteMode([]byte("dg"), DeliveryDatagram); err != nil { // group 0
			t.Fatal(err)
		}
		if _, err := tr.Write(big); err != nil { // group 1
			t.Fatal(err)
		}
		dg, st := replayedDelivery(t, tr)
		if string(dg[0]) != "dg" || !bytes.Equal(st[1], big) || len(dg) != 1 || len(st) != 1 {
			t.Fatalf("datagrams of groups %v, streams of groups %v: want group 0 as a datagram, group 1 on a stream", keys(dg), keys(st))
		}
	})
	t.Run("datagram track", func(t *testing.T) {
		tr := NewTrack(Namespace{"r"}, "t", TrackOptions{Delivery: DeliveryDatagram})
		if _, err := tr.WriteMode(big, DeliveryStream); err != nil { // group 0
			t.Fatal(err)
		}
		if _, err := tr.Write([]byte("dg")); err != nil { // group 1
			t.Fatal(err)
		}
		dg, st := replayedDelivery(t, tr)
		if string(dg[1]) != "dg" || !bytes.Equal(st[0], big) || len(dg) != 1 || len(st) != 1 {
			t.Fatalf("datagrams of groups %v, streams of groups %v: want group 0 on a stream, group 1 as a datagram", keys(dg), keys(st))
		}
	})
}

func keys[V any](m map[uint64]V) []uint64 {
	var ks []uint64
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
