package transport

import (
	"context"
	"sync"
	"time"
)

// uniOrderGap bounds how long Accept holds back a stream while a stream the
// peer opened before it has not arrived yet (it may have been reset before
// its WebTransport header could be read, and then never arrives). It is
// live time when the connection's received packets can be counted: time
// passes for a gap only while packets arrive (sampled at least every
// uniOrderTick). While the connection is silent (a blackout it rides out)
// the missing stream is in flight, not lost, and releasing the streams
// after it would get its group dropped as too late.
//
// Before the first stream is released the same live bound applies, with a
// wall-time cap of uniOrderFirstMax (a peer whose first stream comes alone
// must not wait for packets that may not come). The first stream released
// fixes what "late" means for the streams after it (a subscriber handed
// group 2 first drops groups 0 and 1), and under CPU load webtransport-go
// may read the header of a later stream first: the lower streams have
// arrived, their goroutines have not run yet. Live time does not run while
// they wait for the CPU unless more packets come, so a burst of streams at
// the start of a session (the 1000-session load suite: 20 at once, then
// nothing) keeps its order however long the goroutines take, up to the cap.
// (A wall-time bound, 200 ms and then 1 s, passed under that load.)
//
// The one gap that is expected is that of a peer whose HTTP/3 SETTINGS
// advertise a QPACK dynamic table (qpackPeer): its HTTP/3 layer opens its
// QPACK encoder and decoder streams after its control stream (browsers do;
// quic-go, which advertises no QPACK setting, opens none), so its first
// WebTransport stream is two IDs above the lowest possible one, and that
// gap is held only uniOrderFirstGap of wall time. The peer's SETTINGS are
// known only where webtransport-go shows them: on the server side. A client
// (a dialed session) treats a server that opens QPACK streams like any
// other gap: its session's first data stream waits once for uniOrderGap of
// live time (at most uniOrderFirstMax); nothing is lost.
const (
	uniOrderGap      = time.Second
	uniOrderFirstGap = 200 * time.Millisecond
	uniOrderFirstMax = 5 * time.Second
	uniOrderTick     = 100 * time.Millisecond
)

// uniOrderer restores the peer's opening order of unidirectional streams.
//
// quic-go hands streams to AcceptUniStream in stream-ID order, but
// webtransport-go reads each stream's WebTransport header on its own
// goroutine, so its AcceptUniStream may return streams out of order. MoQT
// opens one stream per subgroup, and a subscriber that sees group N+1
// before group N cannot deliver in order. Stream IDs of one initiator rise by
// 4; the first WebTransport stream follows the peer's HTTP/3 control stream
// (ID 2 or 3), so the lowest possible ID is 6 or 7. Accept returns streams
// in ID order, waiting at most uniOrderGap for a missing one.
type uniOrderer struct {
	in      chan orderedStream
	errc    chan error
	packets func() uint64 // the connection's received packets; nil: wall time
	// qpackPeer: the peer's SETTINGS advertise a QPACK dynamic table, so
	// its two QPACK streams may lie below its first WebTransport stream.
	qpackPeer bool

	mu       sync.Mutex
	pending  []orderedStream // sorted by id
	next     uint64          // the ID expected next; 0 = not known yet
	released bool            // a stream has been released
	gapAt    time.Time       // when the current gap was first seen
	gapLive  time.Duration   // live time the current gap has lasted
	gapLast  time.Time       // the gap's last sample
	gapPkts  uint64          // packets received at gapLast
}

type orderedStream struct {
	s  ReceiveStream
	id uint64
}

// newUniOrderer starts pulling streams from accept until it fails. packets,
// if not nil, counts the connection's received packets; qpackPeer says the
// peer's SETTINGS advertise a QPACK dynamic table (see uniOrderGap).
func newUniOrderer(ctx context.Context, accept func(context.Context) (ReceiveStream, uint64, error), packets func() uint64, qpackPeer bool) *uniOrderer {
	o := &uniOrderer{in: make(chan orderedStream, 64), errc: make(chan error, 1), packets: packets, qpackPeer: qpackPeer}
	go func() {
		for {
			s, id, err := accept(ctx)
			if err != nil {
				o.errc <- err
				return
			}
			select {
			case o.in <- orderedStream{s, id}:
			case <-ctx.Done():
				s.CancelRead(0)
				o.errc <- ctx.Err()
				return
			}
		}
	}()
	return o
}

func (o *uniOrderer) insert(x orderedStream) {
	if o.next == 0 {
		o.next = x.id&3 | 4 // the first stream after the HTTP/3 control stream
	}
	i := len(o.pending)
	o.pending = append(o.pending, x)
	for i > 0 && o.pending[i-1].id > x.id {
		o.pending[i] = o.pending[i-1]
		i--
	}
	o.pending[i] = x
}

// pop returns the next stream if it may be released now.
func (o *uniOrderer) pop(now time.Time) (ReceiveStream, bool) {
	if len(o.pending) == 0 {
		return nil, false
	}
	first := o.pending[0]
	if first.id > o.next {
		if o.gapAt.IsZero() {
			o.gapAt, o.gapLive, o.gapLast = now, 0, now
			if o.packets != nil {
				o.gapPkts = o.packets()
			}
		} else {
			o.sampleGap(now)
		}
		if o.holdFor(now, first.id) > 0 {
			return nil, false
		}
	}
	o.gapAt = time.Time{}
	o.released = true
	o.pending = o.pending[1:]
	if first.id >= o.next {
		o.next = first.id + 4
	}
	return first.s, true
}

// holdFor returns how much longer (at most; the live part is sampled) the
// current gap below stream id, the lowest pending one, holds it: 0 if it
// may go now.
func (o *uniOrderer) holdFor(now time.Time, id uint64) time.Duration {
	wall := now.Sub(o.gapAt)
	if !o.released && o.qpackPeer && id == o.next+8 {
		return max(uniOrderFirstGap-wall, 0) // the QPACK streams
	}
	if o.gapLive >= uniOrderGap {
		return 0
	}
	wait := uniOrderGap - o.gapLive
	if o.packets != nil {
		wait = min(wait, uniOrderTick)
	}
	if !o.released {
		wait = min(wait, max(uniOrderFirstMax-wall, 0))
	}
	return wait
}

// sampleGap adds the time since the gap's last sample to its live time:
// all of it without a packet count, else at most uniOrderTick and only if
// a packet arrived meanwhile.
func (o *uniOrderer) sampleGap(now time.Time) {
	d := now.Sub(o.gapLast)
	o.gapLast = now
	if o.packets == nil {
		o.gapLive += d
		return
	}
	if p := o.packets(); p != o.gapPkts {
		o.gapPkts = p
		o.gapLive += min(d, uniOrderTick)
	}
}

// Accept returns the next stream in opening order.
func (o *uniOrderer) Accept(ctx context.Context) (ReceiveStream, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		// Take everything already queued before deciding.
		for drained := false; !drained; {
			select {
			case x := <-o.in:
				o.insert(x)
			default:
				drained = true
			}
		}
		if s, ok := o.pop(time.Now()); ok {
			return s, nil
		}
		var gapC <-chan time.Time
		if len(o.pending) > 0 {
			wait := max(o.holdFor(time.Now(), o.pending[0].id), time.Millisecond)
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			gapC = timer.C
		}
		select {
		case x := <-o.in:
			o.insert(x)
		case <-gapC:
		case err := <-o.errc:
			o.errc <- err
			if len(o.pending) > 0 {
				o.gapAt, o.gapLive = time.Now().Add(-uniOrderGap), uniOrderGap
				continue
			}
			return nil, err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
