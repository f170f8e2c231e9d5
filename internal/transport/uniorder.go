package transport

import (
	"context"
	"sync"
	"time"
)

// uniOrderGap bounds how long Accept holds back a stream while a stream the
// peer opened before it has not arrived yet (it may have been reset before
// its WebTransport header could be read, and then never arrives).
//
// Before the first stream is released the gap is measured in wall time, and
// it is uniOrderGap too: under CPU load webtransport-go may read the header
// of a later stream first, and the first stream released fixes what "late"
// means for every stream after it (a subscriber that was handed group 2
// first drops groups 0 and 1). The one exception is a peer whose HTTP/3
// SETTINGS advertise a QPACK dynamic table (qpackPeer): such a peer's
// HTTP/3 layer opens its QPACK encoder and decoder streams after its
// control stream (browsers do; quic-go, which advertises no QPACK setting,
// opens none), so a first stream exactly two IDs above the lowest possible
// one is expected, and its gap is held only uniOrderFirstGap. The peer's
// SETTINGS are known only where webtransport-go shows them: on the server
// side. A client (a dialed session) holds any first gap uniOrderGap, so a
// server that opens QPACK streams delays the session's first data stream by
// uniOrderGap once; nothing is lost.
//
// After the first stream uniOrderGap is live time when the connection's
// received packets can be counted: time passes for a gap only while packets
// arrive (sampled at least every uniOrderTick). While the connection is
// silent (a blackout it rides out) the missing stream is in flight, not
// lost, and releasing the streams after it would get its group dropped as
// too late.
const (
	uniOrderGap      = time.Second
	uniOrderFirstGap = 200 * time.Millisecond
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
		if o.released && o.gapLive < uniOrderGap || !o.released && now.Sub(o.gapAt) < o.firstGap(first.id) {
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

// firstGap is the bound of a gap below stream id, the lowest pending one,
// before the first stream is released: uniOrderFirstGap if the peer's
// SETTINGS say the gap is likely its two QPACK streams, else uniOrderGap
// (wall time: a peer whose first stream comes alone must not wait for
// packets that may not come).
func (o *uniOrderer) firstGap(id uint64) time.Duration {
	if o.qpackPeer && id == o.next+8 {
		return uniOrderFirstGap
	}
	return uniOrderGap
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
			wait := o.firstGap(o.pending[0].id) - time.Since(o.gapAt)
			if o.released {
				wait = uniOrderGap - o.gapLive
				if o.packets != nil {
					wait = min(wait, uniOrderTick)
				}
			}
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
