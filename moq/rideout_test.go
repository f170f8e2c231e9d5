package moq

import (
	"context"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// writeGroup writes group g (objects 0 to n-1, 1 if n is omitted, each
// with its payloadOf) on st, a subgroup stream of alias, and ends the
// stream.
func (r *rawPeer) writeGroup(st transport.SendStream, alias, g uint64, n ...uint64) error {
	h := wire.SubgroupHeader{TrackAlias: alias, Group: g, Priority: 1, Type: wire.SubgroupType(false, false, false, 0)}
	b, err := wire.AppendSubgroupHeader(nil, r.draft, &h)
	if err != nil {
		r.t.Fatal(err)
	}
	enc := wire.SubgroupEncoder{Draft: r.draft, Header: h}
	count := uint64(1)
	if len(n) > 0 {
		count = n[0]
	}
	for id := range count {
		p := payloadOf(Location{Group: g, Object: id})
		if b, err = enc.AppendObjectHeader(b, &wire.Object{Group: g, ID: id}, len(p)); err != nil {
			r.t.Fatal(err)
		}
		b = append(b, p...)
	}
	if _, err := st.Write(b); err != nil {
		return err
	}
	return st.Close()
}

// subscribeRaw subscribes server's session to the raw peer's track, which
// answers with alias 7.
func subscribeRaw(t *testing.T, ctx context.Context, up *rawPeer) (*Subscription, uint64) {
	t.Helper()
	subc := subscribeAsync(ctx, up.server, Namespace{"up"}, "t", SubscribeOptions{})
	req := readUntil[*wire.Subscribe](up)
	up.sendMsg(&wire.SubscribeOK{RequestID: req.RequestID, TrackAlias: 7, GroupOrder: wire.GroupOrderAscending})
	res := <-subc
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res.sub, req.RequestID
}

// A group whose stream starts after a later group was delivered is dropped,
// and every one of its objects is counted, not just one per stream.
func TestLateStreamCountsEveryObject(t *testing.T) {
	ctx := ctxT(t)
	up := newRawPeer(t, "moqt", Draft14, nil)
	sub, reqID := subscribeRaw(t, ctx, up)
	open := func() transport.SendStream {
		st, err := up.conn.OpenUniStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if err := up.writeGroup(open(), 7, 2); err != nil {
		t.Fatal(err)
	}
	expectObjects(t, ctx, sub, []Location{{Group: 2}}, true)
	if err := up.writeGroup(open(), 7, 1, 3); err != nil { // too late: group 2 is out
		t.Fatal(err)
	}
	// PUBLISH_DONE for both streams: the subscription ends once both have
	// been read.
	up.sendMsg(&wire.PublishDone{RequestID: reqID, StatusCode: 0x2, StreamCount: 2, Reason: "done"})
	select {
	case <-sub.Done():
	case <-ctx.Done():
		t.Fatal("the subscription did not end after PUBLISH_DONE")
	}
	if st := sub.Stats(); st.Objects != 1 || st.Dropped != 3 {
		t.Fatalf("stats %+v, want 1 object delivered and the late group's 3 dropped", st)
	}
}

// TestStreamHeaderDelayedBySilence is the ride-out of a blackout on one
// connection: the stream of group 1 is opened first but its data is held
// up (on a network: lost, and retransmitted only after the blackout; here
// the peer writes it only after the silence), while the stream of group 2
// has arrived. As long as the connection receives nothing, the missing
// header is in flight, not late: the header read is not given up on (it
// used to be after the request timeout, far shorter than the silence),
// group 2 does not overtake group 1 (the silence is longer than
// headerOrderWait), and once the data comes both groups are delivered in
// order with nothing dropped.
// Before, group 1's stream was stopped and lost without being counted, and
// group 2 was delivered alone.
func TestStreamHeaderDelayedBySilence(t *testing.T) {
	// The request timeout (which used to bound the header read) is well
	// above the packets that follow the handshake and the first streams,
	// which do count as live time.
	const requestTimeout = time.Second
	ctx := ctxT(t)
	up := newRawPeer(t, "moqt", Draft14, &Options{RequestTimeout: requestTimeout})
	sub, _ := subscribeRaw(t, ctx, up)

	first, err := up.conn.OpenUniStreamSync(ctx) // group 1: nothing sent yet
	if err != nil {
		t.Fatal(err)
	}
	second, err := up.conn.OpenUniStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.writeGroup(second, 7, 2); err != nil {
		t.Fatal(err)
	}
	// The blackout itself: the peer sends nothing for longer than both the
	// request timeout and headerOrderWait.
	<-time.After(max(headerOrderWait, requestTimeout) + 1500*time.Millisecond)
	if err := up.writeGroup(first, 7, 1); err != nil {
		t.Fatalf("group 1's stream was given up on during the silence: %v", err)
	}
	expectObjects(t, ctx, sub, []Location{{Group: 1}, {Group: 2}}, true)
	if st := sub.Stats(); st.Dropped != 0 || st.Objects != 2 {
		t.Fatalf("stats %+v, want 2 objects and none dropped", st)
	}
}

// The live clock advances only across samples between which the
// connection received a packet, by at most gateTick per sample.
func TestLiveClock(t *testing.T) {
	var now int64
	var pkts uint64
	c := newLiveClock(func() uint64 { return pkts })
	c.now = func() int64 { return now }
	c.last = 0
	step := func(d time.Duration, got uint64) int64 {
		now += int64(d)
		pkts += got
		return c.Now()
	}
	if l := step(10*time.Second, 0); l != 0 {
		t.Fatalf("10 s without a packet: live %v, want 0", time.Duration(l))
	}
	if l := step(10*time.Second, 1); l != int64(gateTick) {
		t.Fatalf("a packet after 10 s of silence: live %v, want one tick (%v)", time.Duration(l), gateTick)
	}
	for range 10 {
		step(gateTick/2, 3)
	}
	if l := c.Now(); l != int64(gateTick)+10*int64(gateTick/2) {
		t.Fatalf("after 10 half ticks with packets: live %v", time.Duration(l))
	}
	all := newLiveClock(nil)
	all.now = func() int64 { return now }
	all.last = now
	now += int64(gateTick / 2)
	if l := all.Now(); l != int64(gateTick/2) {
		t.Fatalf("without a packet count: live %v, want all of %v", time.Duration(l), gateTick/2)
	}
}
