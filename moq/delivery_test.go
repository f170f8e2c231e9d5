package moq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
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

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLossOnTheWayIsCounted: objects that never reach the subscriber (a
// relay dropped them for a subscriber that fell behind) are counted in its
// Stats().Dropped and logged: each group ID skipped counts one, and so
// does a subgroup stream the publisher resets.
func TestLossOnTheWayIsCounted(t *testing.T) {
	ctx := ctxT(t)
	var logs syncBuffer
	up := newRawPeer(t, "moqt", Draft14, &Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	sub, _ := subscribeRaw(t, ctx, up)
	open := func() transport.SendStream {
		st, err := up.conn.OpenUniStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	read := func(g uint64) {
		t.Helper()
		o, err := sub.ReadObject(ctx)
		if err != nil || o.Group != g {
			t.Fatalf("read %v, %v: want group %d", o, err, g)
		}
	}
	for _, g := range []uint64{0, 1, 4} { // groups 2 and 3 never come
		if err := up.writeGroup(open(), 7, g); err != nil {
			t.Fatal(err)
		}
		read(g)
	}
	if st := sub.Stats(); st.Dropped != 2 || st.Objects != 3 {
		t.Fatalf("stats %+v, want 3 objects and 2 dropped (groups 2 and 3)", st)
	}
	if l := logs.String(); !strings.Contains(l, "objects lost") || !strings.Contains(l, "lost=2") {
		t.Fatalf("log %q: want a warning about 2 lost objects", l)
	}
	// Group 5's stream is reset after its header: counted once, whether the
	// header arrived (a reset subgroup) or not (a skipped group).
	st := open()
	h := wire.SubgroupHeader{TrackAlias: 7, Group: 5, Priority: 1, Type: wire.SubgroupType(false, false, false, 0)}
	b, err := wire.AppendSubgroupHeader(nil, Draft14, &h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(b); err != nil {
		t.Fatal(err)
	}
	st.CancelWrite(0x1)
	if err := up.writeGroup(open(), 7, 6); err != nil {
		t.Fatal(err)
	}
	read(6)
	if st := sub.Stats(); st.Dropped != 3 || st.Objects != 4 {
		t.Fatalf("stats %+v, want 4 objects and 3 dropped", st)
	}
}

// TestLateDatagramIsUncounted: a datagram group that arrives after a later
// one (reordered) is first counted as lost, then uncounted when it comes.
func TestLateDatagramIsUncounted(t *testing.T) {
	ctx := ctxT(t)
	up := newRawPeer(t, "moqt", Draft14, nil)
	sub, _ := subscribeRaw(t, ctx, up)
	send := func(g uint64) {
		t.Helper()
		b, err := wire.AppendDatagram(nil, Draft14, &wire.Datagram{TrackAlias: 7, Object: wire.Object{Group: g, Payload: []byte("x")}})
		if err != nil {
			t.Fatal(err)
		}
		if err := up.conn.SendDatagram(b); err != nil {
			t.Fatal(err)
		}
		if o, err := sub.ReadObject(ctx); err != nil || o.Group != g {
			t.Fatalf("read %v, %v: want group %d", o, err, g)
		}
	}
	send(0)
	send(3)
	if st := sub.Stats(); st.Dropped != 2 {
		t.Fatalf("dropped %d after groups 0 and 3, want 2", st.Dropped)
	}
	send(1)
	if st := sub.Stats(); st.Dropped != 1 {
		t.Fatalf("dropped %d after group 1 came late, want 1", st.Dropped)
	}
	send(10000)
	if st := sub.Stats(); st.Dropped != 1+9996 {
		t.Fatalf("dropped %d after a jump to group 10000, want %d", st.Dropped, 1+9996)
	}
	send(10000 + maxGapGroups + 2) // a jump this large is a sparse numbering, not loss
	if st := sub.Stats(); st.Dropped != 1+9996 {
		t.Fatalf("dropped %d after a jump of %d groups, want %d", st.Dropped, maxGapGroups+2, 1+9996)
	}
}

// TestObjectLargerThanTheQueues: an object of the maximum size (16 MiB)
// goes through queues of the default 8 MiB on both sides.
func TestObjectLargerThanTheQueues(t *testing.T) {
	p := newPair(t, "moqt", Draft16, nil, nil)
	ctx := ctxT(t)
	ns := Namespace{"big"}
	tr, err := p.client.Publish(ns, "t", TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.client.Announce(ctx, ns); err != nil {
		t.Fatal(err)
	}
	sub, err := p.server.Subscribe(ctx, ns, "t", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{0xAB}, wire.DefaultMaxObjectPayload)
	big[len(big)-1] = 1
	if _, err := tr.Write(big); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	o, err := sub.ReadObject(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(o.Payload, big) {
		t.Fatalf("read group %d, %d bytes: want the 16 MiB object", o.Group, len(o.Payload))
	}
	if st, ts := sub.Stats(), tr.Stats(); st.Dropped != 0 || ts.Dropped != 0 {
		t.Fatalf("dropped: subscriber %d, publisher %d", st.Dropped, ts.Dropped)
	}
}

// TestReliableStreamBurst: a DeliveryStreamReliable publisher writing a
// burst flat out is told ErrWouldBlock instead of having its objects
// dropped; retrying after WaitWritable, every object arrives, in order,
// and nothing is dropped anywhere.
func TestReliableStreamBurst(t *testing.T) {
	for _, v := range []struct{ name, scheme string }{{"quic", "moqt"}, {"wt", "https"}} {
		t.Run(v.name, func(t *testing.T) {
			// A small queue, so that the burst overflows it many times.
			p := newPair(t, v.scheme, Draft16, &Options{SubscriptionBuffer: 256 << 10}, nil)
			ctx := ctxT(t)
			ns := Namespace{"burst"}
			tr, err := p.client.Publish(ns, "t", TrackOptions{Delivery: DeliveryStreamReliable})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.client.Announce(ctx, ns); err != nil {
				t.Fatal(err)
			}
			sub, err := p.server.Subscribe(ctx, ns, "t", SubscribeOptions{BufferBytes: 64 << 20})
			if err != nil {
				t.Fatal(err)
			}
			const n = 1000
			payload := make([]byte, 16<<10)
			got := make(chan error, 1)
			go func() {
				for i := range n {
					o, err := sub.ReadObject(ctx)
					if err != nil {
						got <- err
						return
					}
					if o.Group != uint64(i) || len(o.Payload) != len(payload) || o.Payload[0] != byte(i) {
						got <- fmt.Errorf("object %d: got group %d, %d bytes", i, o.Group, len(o.Payload))
						return
					}
				}
				got <- nil
			}()
			for i := 0; i < n; {
				payload[0] = byte(i)
				_, err := tr.Write(payload)
				if errors.Is(err, ErrWouldBlock) {
					if err := tr.WaitWritable(ctx, len(payload)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				i++
			}
			if err := <-got; err != nil {
				t.Fatal(err)
			}
			ts, ss := tr.Stats(), sub.Stats()
			if ts.Dropped != 0 || ss.Dropped != 0 {
				t.Fatalf("dropped: publisher %d, subscriber %d", ts.Dropped, ss.Dropped)
			}
			t.Logf("%d writes refused with ErrWouldBlock", ts.WouldBlock)
		})
	}
}
