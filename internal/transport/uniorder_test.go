package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

type fakeRecv struct{ id uint64 }

func (f *fakeRecv) Read([]byte) (int, error)        { return 0, errors.New("fake") }
func (f *fakeRecv) CancelRead(uint64)               {}
func (f *fakeRecv) SetReadDeadline(time.Time) error { return nil }

// feed returns an accept function that hands out the given stream IDs in
// the given order, then blocks until ctx is done.
func feed(ids ...uint64) func(context.Context) (ReceiveStream, uint64, error) {
	ch := make(chan uint64, len(ids))
	for _, id := range ids {
		ch <- id
	}
	return func(ctx context.Context) (ReceiveStream, uint64, error) {
		select {
		case id := <-ch:
			return &fakeRecv{id}, id, nil
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

func acceptIDs(t *testing.T, o *uniOrderer, n int) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []uint64
	for i := 0; i < n; i++ {
		s, err := o.Accept(ctx)
		if err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		got = append(got, s.(*fakeRecv).id)
	}
	return got
}

func TestUniOrdererRestoresOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Client-initiated uni streams: 2 is the HTTP/3 control stream, so the
	// first WebTransport stream is 6.
	o := newUniOrderer(ctx, feed(18, 6, 14, 10, 22), nil, false)
	got := acceptIDs(t, o, 5)
	want := []uint64{6, 10, 14, 18, 22}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestUniOrdererServerStreams(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := newUniOrderer(ctx, feed(11, 7, 15), nil, false)
	got := acceptIDs(t, o, 3)
	if got[0] != 7 || got[1] != 11 || got[2] != 15 {
		t.Fatalf("order %v, want [7 11 15]", got)
	}
}

// A stream that never arrives (reset before its header was read) holds the
// later ones back only for a bounded time; the order of what arrives is kept.
func TestUniOrdererGapNeverFills(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := newUniOrderer(ctx, feed(6, 14, 18), nil, false) // 10 never comes
	got := acceptIDs(t, o, 3)
	if got[0] != 6 || got[1] != 14 || got[2] != 18 {
		t.Fatalf("order %v, want [6 14 18]", got)
	}
}

// A browser's first WebTransport stream is above 6 (its QPACK streams took
// 6 and 10): it is released after the first-gap bound.
func TestUniOrdererFirstStreamAboveBase(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := newUniOrderer(ctx, feed(14, 18), nil, true)
	got := acceptIDs(t, o, 2)
	if got[0] != 14 || got[1] != 18 {
		t.Fatalf("order %v, want [14 18]", got)
	}
}

func TestUniOrdererEndsWithAcceptError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	o := newUniOrderer(ctx, feed(), nil, false)
	cancel()
	if _, err := o.Accept(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Accept after the connection ended: %v, want context.Canceled", err)
	}
}

// A gap after the first stream lasts only while packets arrive: a silent
// connection (a blackout) holds the streams after the missing one for as
// long as it is silent; each sample that saw packets adds at most
// uniOrderTick. Without a packet count the gap is wall time.
func TestUniOrdererGapIsLiveTime(t *testing.T) {
	var pkts uint64
	o := &uniOrderer{packets: func() uint64 { return pkts }}
	t0 := time.Unix(1000, 0)
	o.insert(orderedStream{&fakeRecv{6}, 6})
	if _, ok := o.pop(t0); !ok {
		t.Fatal("the first stream was held")
	}
	o.insert(orderedStream{&fakeRecv{14}, 14}) // 10 is missing
	if _, ok := o.pop(t0); ok {
		t.Fatal("14 released at once with 10 missing")
	}
	now := t0.Add(30 * time.Second)
	if _, ok := o.pop(now); ok {
		t.Fatal("14 released after 30 s in which the connection received nothing")
	}
	ticks := 0
	for {
		pkts++
		now = now.Add(uniOrderTick)
		ticks++
		if _, ok := o.pop(now); ok {
			break
		}
		if ticks > 100 {
			t.Fatal("14 never released while packets arrive")
		}
	}
	if want := int(uniOrderGap / uniOrderTick); ticks != want {
		t.Fatalf("14 released after %d live ticks, want %d", ticks, want)
	}

	// Before the first stream the gap is wall time: uniOrderGap, or, when
	// the peer's SETTINGS advertise QPACK, uniOrderFirstGap for a gap of
	// two streams (its QPACK streams).
	q := &uniOrderer{packets: func() uint64 { return pkts }, qpackPeer: true}
	q.insert(orderedStream{&fakeRecv{14}, 14}) // 6 and 10: QPACK streams
	if _, ok := q.pop(t0); ok {
		t.Fatal("14 released at once as the first stream")
	}
	if _, ok := q.pop(t0.Add(uniOrderFirstGap)); !ok {
		t.Fatal("14, two streams above the base of a QPACK peer, held past uniOrderFirstGap")
	}
	// A peer without QPACK (quic-go): 14 first means 6 and 10 are WebTransport
	// streams whose headers webtransport-go has not read yet (CPU load).
	n := &uniOrderer{packets: func() uint64 { return pkts }}
	n.insert(orderedStream{&fakeRecv{14}, 14})
	n.pop(t0)
	if _, ok := n.pop(t0.Add(uniOrderFirstGap)); ok {
		t.Fatal("14, two streams above the base of a peer without QPACK, released after uniOrderFirstGap")
	}
	n.insert(orderedStream{&fakeRecv{6}, 6})
	n.insert(orderedStream{&fakeRecv{10}, 10})
	for _, want := range []uint64{6, 10, 14} {
		if s, ok := n.pop(t0.Add(uniOrderFirstGap)); !ok || s.(*fakeRecv).id != want {
			t.Fatalf("stream %d not released in order once 6 and 10 came", want)
		}
	}
	if _, ok := n.pop(t0.Add(uniOrderFirstGap)); ok {
		t.Fatal("a stream released from an empty queue")
	}
	for _, qp := range []bool{false, true} {
		f := &uniOrderer{packets: func() uint64 { return pkts }, qpackPeer: qp}
		f.insert(orderedStream{&fakeRecv{18}, 18}) // 6 (and more) still on the way
		f.pop(t0)
		if _, ok := f.pop(t0.Add(uniOrderFirstGap)); ok {
			t.Fatalf("qpackPeer %v: 18, three streams above the base, released as the first stream after uniOrderFirstGap", qp)
		}
		f.insert(orderedStream{&fakeRecv{6}, 6})
		if s, ok := f.pop(t0.Add(uniOrderFirstGap)); !ok || s.(*fakeRecv).id != 6 {
			t.Fatalf("qpackPeer %v: 6 not released first once it came", qp)
		}
	}
	// The first gap of a peer without QPACK is live time too (the lower
	// streams may be waiting for the CPU, not for packets), up to
	// uniOrderFirstMax of wall time.
	for _, id := range []uint64{14, 18} {
		g := &uniOrderer{packets: func() uint64 { return pkts }}
		g.insert(orderedStream{&fakeRecv{id}, id})
		g.pop(t0)
		if _, ok := g.pop(t0.Add(uniOrderFirstMax - time.Millisecond)); ok {
			t.Fatalf("%d released as the first stream before uniOrderFirstMax while no packets came", id)
		}
		if _, ok := g.pop(t0.Add(uniOrderFirstMax)); !ok {
			t.Fatalf("%d held as the first stream past uniOrderFirstMax of wall time", id)
		}
		l := &uniOrderer{packets: func() uint64 { return pkts }}
		l.insert(orderedStream{&fakeRecv{id}, id})
		now := t0
		l.pop(now)
		ticks := 0
		for {
			pkts++
			now = now.Add(uniOrderTick)
			ticks++
			if _, ok := l.pop(now); ok {
				break
			}
			if ticks > 100 {
				t.Fatalf("%d never released as the first stream while packets arrive", id)
			}
		}
		if want := int(uniOrderGap / uniOrderTick); ticks != want {
			t.Fatalf("%d released as the first stream after %d live ticks, want %d", id, ticks, want)
		}
	}

	w := &uniOrderer{}
	w.insert(orderedStream{&fakeRecv{6}, 6})
	w.pop(t0)
	w.insert(orderedStream{&fakeRecv{14}, 14})
	if _, ok := w.pop(t0); ok {
		t.Fatal("14 released at once with 10 missing")
	}
	if _, ok := w.pop(t0.Add(uniOrderGap)); !ok {
		t.Fatal("without a packet count, 14 was held past uniOrderGap of wall time")
	}
}

// The QPACK hint comes from the peer's SETTINGS: a quic-go peer (ours)
// advertises no QPACK dynamic table, so the server holds any gap below its
// first stream uniOrderGap; a client never sees the server's SETTINGS.
func TestUniOrdererQPACKHint(t *testing.T) {
	s := startServer(t, nil)
	client, server := connect(t, s, ProtocolWebTransport, s.pinned())
	if server.(*wtConn).uni.qpackPeer || client.(*wtConn).uni.qpackPeer {
		t.Fatal("a quic-go peer taken for one that opens QPACK streams")
	}
	for _, c := range []struct {
		other map[uint64]uint64
		want  bool
	}{
		{nil, false},
		{map[uint64]uint64{0x2b603742: 1}, false}, // SETTINGS_WT_ENABLED alone (quic-go)
		{map[uint64]uint64{settingQPACKMaxTableCapacity: 0, settingQPACKBlockedStreams: 0}, false},
		{map[uint64]uint64{settingQPACKMaxTableCapacity: 4096}, true},
		{map[uint64]uint64{settingQPACKBlockedStreams: 100}, true},
	} {
		if got := qpackDynamicTable(&http3.Settings{Other: c.other}); got != c.want {
			t.Errorf("qpackDynamicTable(%v) = %v, want %v", c.other, got, c.want)
		}
	}
	if qpackDynamicTable(nil) {
		t.Error("qpackDynamicTable(nil) = true")
	}
}
