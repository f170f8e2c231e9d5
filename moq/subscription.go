package moq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// SubscribeOptions configure a subscription.
type SubscribeOptions struct {
	// Filter chooses where the subscription starts (and ends). Default:
	// FilterLatestGroup on draft-07 (the current group), FilterNextGroupStart
	// on draft-14.
	Filter Filter
	// Priority is the subscriber priority, 0 (first) to 255. Default 128.
	Priority *uint8
	// GroupOrder: 0 = the publisher's, 1 = ascending, 2 = descending.
	GroupOrder uint8
	// BufferBytes bounds received objects not yet read by the application.
	// When full, the oldest whole groups are dropped and counted. Zero: the
	// session's SubscriptionBuffer (default 8 MiB).
	BufferBytes int
	// ForwardTo, if set, sends every received object straight into this
	// Track, IDs and delivery (stream or datagram) preserved, and ends the
	// Track's subgroup streams when the publisher's end: the forwarding
	// path of a relay. Nothing is queued for ReadObject, which only reports
	// the end of the subscription.
	ForwardTo *Track
	// AuthToken, if set, replaces Options.AuthToken for this SUBSCRIBE.
	AuthToken string
}

// SubscriptionStats are a subscription's counters.
type SubscriptionStats struct {
	Objects uint64 // delivered to the application
	Bytes   uint64 // payload bytes delivered
	// Dropped counts objects dropped here (buffer full, or arrived too late
	// to keep order) and objects lost on the way: each group ID skipped
	// (dropped by a relay for a subscriber that fell behind, a lost
	// datagram; see noteGroupLocked) and each subgroup stream that the
	// publisher or relay reset (incomplete) counts as one.
	Dropped   uint64
	Latest    Location
	HasLatest bool
}

// Subscription receives the objects of one track. Objects of stream tracks
// are delivered exactly once, in (group, object) order; datagram objects in
// arrival order. Read them with ReadObject.
type Subscription struct {
	sess      *Session
	reqID     uint64
	ns        Namespace
	name      string
	limit     int
	ok        *wire.SubscribeOK
	fetchDone chan struct{}

	mu       sync.Mutex
	alias    uint64
	hasAlias bool
	q        []*Object // ready for the application: a window of qBase
	qBase    []*Object // q's backing array from its start
	qBytes   int
	qMax     int // the largest object queued since the queue was last empty (at least)
	wake     chan struct{}
	err      error // why it ended
	ended    bool  // no more objects will be queued
	stats    SubscriptionStats
	// Ordering of stream objects by group.
	open      map[uint64]int       // open streams per group
	buffered  map[uint64][]*Object // objects of groups not yet deliverable
	spareBuf  [][]*Object          // emptied buffered slices, for reuse (maxSpareBuf at most)
	bufBytes  int
	delivered bool
	last      uint64 // last group delivered
	done      chan struct{}
	active    []uint64 // sorted: the groups in open or buffered
	fwd       *Track   // ForwardTo
	skipping  bool     // the rest of group skipGroup is dropped (too large)
	skipGroup uint64
	// The publisher's PUBLISH_DONE may overtake data streams: the
	// subscription ends when they have been read (or after a grace time).
	seen       uint64    // data streams started
	late       int       // streams too late to deliver, still being read (their objects counted as dropped)
	pubDone    error     // set when PUBLISH_DONE arrived
	pubStreams uint64    // draft-14: streams the publisher opened
	pubFinal   *Location // draft-07: the last object sent, if any
	doneTimer  *time.Timer
	// Loss detection (see noteGroupLocked): the largest group seen, and the
	// groups counted as lost that may still arrive (reordered datagrams,
	// streams held up).
	fetch     bool // a FETCH's queue: groups may be missing from the range
	gapSeen   bool
	gapMax    uint64
	gaps      map[uint64]struct{}
	lostLogAt time.Time // when loss was last logged
	lostNew   uint64    // objects counted lost since then
}

// A Subscription keeps up to maxSpareBuf emptied slices of buffered
// objects (of at most maxSpareBufCap entries) for the next groups.
const (
	maxSpareBuf    = 4
	maxSpareBufCap = 1024
)

// maxGapGroups bounds a detected gap: a jump of more group IDs than this is
// taken for a publisher numbering its groups sparsely (e.g. by time), not
// for loss.
const maxGapGroups = 1 << 20

// maxGapsKept bounds the lost groups remembered in case they still arrive
// (reordered datagrams, streams held up): the most recent ones.
const maxGapsKept = 4096

// lostLogEvery spaces the log lines that report lost objects.
const lostLogEvery = time.Second

// noteGroupLocked counts the objects that never reached this subscription:
// publishers number their groups consecutively (Track.Write does), so a
// group ID that skips ahead of the largest seen means the groups between
// were lost on the way (dropped by a relay for a subscriber that fell
// behind, datagrams lost by the network or by a full receive queue): each
// counts as one dropped object, until it arrives after all (then it is
// uncounted). A jump of more than maxGapGroups is not counted.
func (sub *Subscription) noteGroupLocked(g uint64) {
	switch {
	case sub.fetch:
	case !sub.gapSeen:
		sub.gapSeen, sub.gapMax = true, g
	case g > sub.gapMax:
		missing := g - sub.gapMax - 1
		if missing > 0 && missing <= maxGapGroups {
			if sub.gaps == nil {
				sub.gaps = map[uint64]struct{}{}
			}
			for x := max(sub.gapMax+1, g-min(g, maxGapsKept)); x < g; x++ {
				sub.gaps[x] = struct{}{}
			}
			if len(sub.gaps) > 2*maxGapsKept {
				// Forget the oldest: they will not come any more.
				for x := range sub.gaps {
					if x+maxGapsKept < g {
						delete(sub.gaps, x)
					}
				}
			}
			sub.lostLocked(missing, "groups missing", g)
		}
		sub.gapMax = g
	case g < sub.gapMax:
		if _, ok := sub.gaps[g]; ok {
			delete(sub.gaps, g)
			sub.stats.Dropped--
			if sub.lostNew > 0 {
				sub.lostNew--
			}
		}
	}
}

// lostLocked counts n objects lost on the way and logs it (a warning, at
// most one line per lostLogEvery per subscription).
func (sub *Subscription) lostLocked(n uint64, what string, g uint64) {
	sub.stats.Dropped += n
	sub.lostNew += n
	if now := time.Now(); now.Sub(sub.lostLogAt) >= lostLogEvery && sub.lostNew > 0 {
		sub.sess.log.Warn("objects lost before reaching the subscriber (dropped by the publisher or a relay for a subscriber that fell behind, or lost datagrams); counted as dropped",
			"namespace", sub.ns.String(), "track", sub.name, "lost", sub.lostNew, "why", what, "group", g,
			"dropped_total", sub.stats.Dropped)
		sub.lostLogAt, sub.lostNew = now, 0
	}
}

// Namespace returns the subscribed track's namespace.
func (sub *Subscription) Namespace() Namespace { return sub.ns }

// Name returns the subscribed track's name.
func (sub *Subscription) Name() string { return sub.name }

// Largest returns the largest location the publisher reported in its
// SUBSCRIBE_OK, if content existed then.
func (sub *Subscription) Largest() (Location, bool) {
	return sub.ok.Largest, sub.ok.ContentExists
}

// Done is closed when the subscription has ended: no more objects will
// arrive. Objects still queued can be read.
func (sub *Subscription) Done() <-chan struct{} { return sub.done }

// Err returns why the subscription ended (nil while active). A track that
// ended normally gives an error wrapping ErrEnded.
func (sub *Subscription) Err() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

// Stats returns the subscription's counters.
func (sub *Subscription) Stats() SubscriptionStats {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.stats
}

// ReadObject returns the next object, waiting until one arrives, the
// subscription ends (its error; ErrEnded when the track ended) or ctx is
// done.
func (sub *Subscription) ReadObject(ctx context.Context) (*Object, error) {
	for {
		o, err, ok := sub.TryReadObject()
		if ok || err != nil {
			return o, err
		}
		select {
		case <-sub.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// TryReadObject returns the next object without waiting. ok is false when
// none is queued; err is set once the subscription has ended and nothing is
// left.
func (sub *Subscription) TryReadObject() (o *Object, err error, ok bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if len(sub.q) > 0 {
		o = sub.q[0]
		sub.q[0] = nil
		sub.q = sub.q[1:]
		sub.qBytes -= o.cost()
		if len(sub.q) > 0 {
			sub.signal()
		} else {
			sub.qMax = 0
			sub.q = sub.qBase[:0] // start again at the front
		}
		return o, nil, true
	}
	if sub.ended {
		return nil, sub.err, false
	}
	return nil, nil, false
}

func (sub *Subscription) signal() {
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// Close unsubscribes (UNSUBSCRIBE). Objects still queued can be read; then
// ReadObject returns an error wrapping ErrEnded. Closing twice is harmless.
func (sub *Subscription) Close() error {
	sub.mu.Lock()
	ended := sub.pubDone != nil
	sub.mu.Unlock()
	if sub.sess.forgetSubscription(sub) && !ended {
		sub.sess.send(&wire.Unsubscribe{RequestID: sub.reqID})
	}
	sub.finish(fmt.Errorf("moq: unsubscribed: %w", ErrEnded))
	return nil
}

// finish ends the subscription with err (first call wins).
func (sub *Subscription) finish(err error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ended {
		return
	}
	sub.ended = true
	sub.err = err
	if sub.doneTimer != nil {
		sub.doneTimer.Stop()
	}
	if sub.lostNew > 0 {
		// What was lost since the last line, which may be a while ago.
		sub.lostLogAt = time.Time{}
		sub.lostLocked(0, "at the end of the subscription", sub.gapMax)
	}
	// Whatever waits behind a stalled group is delivered now.
	sub.flushBufferedLocked()
	sub.signal()
	close(sub.done)
}

// pushLocked queues o for the application, dropping the oldest groups if
// the buffer is full.
func (sub *Subscription) pushLocked(o *Object) {
	if sub.ended && sub.err != nil && !errors.Is(sub.err, ErrEnded) {
		return
	}
	if sub.skipping && o.Group == sub.skipGroup {
		sub.stats.Dropped++
		return
	}
	sub.appendQLocked(o)
	sub.qBytes += o.cost()
	sub.qMax = max(sub.qMax, o.cost())
	sub.stats.Objects++
	sub.stats.Bytes += uint64(len(o.Payload))
	l := Location{Group: o.Group, Object: o.ID}
	if !sub.stats.HasLatest || sub.stats.Latest.Less(l) {
		sub.stats.Latest, sub.stats.HasLatest = l, true
	}
	if sub.qBytes > sub.limit+sub.qMax {
		sub.dropOldestLocked()
	}
	sub.signal()
}

// appendQLocked appends o to the application queue. A full queue that
// has been read from moves back to the front of its array when that frees
// at least as much room as it holds; otherwise it grows.
func (sub *Subscription) appendQLocked(o *Object) {
	if n := len(sub.q); n == cap(sub.q) {
		if h := cap(sub.qBase) - cap(sub.q); h > 0 && h >= n {
			copy(sub.qBase[:n], sub.q)
			clear(sub.qBase[h : h+n])
			sub.q = sub.qBase[:n]
		}
	}
	grow := len(sub.q) == cap(sub.q)
	sub.q = append(sub.q, o)
	if grow {
		sub.qBase = sub.q[:0]
	}
}

// dropOldestLocked drops the oldest whole groups from the application
// queue, down to three quarters of the limit (so that an application that
// stays behind costs one pass per quarter of the buffer), keeping at least
// the newest group unless it alone is over the limit. The limit does not
// count the largest object queued: an object of any size the session
// accepts is delivered.
func (sub *Subscription) dropOldestLocked() {
	newest := sub.q[len(sub.q)-1].Group
	largest := 0
	for _, o := range sub.q {
		largest = max(largest, o.cost())
	}
	sub.qMax = largest
	target := sub.limit/4*3 + largest
	i := 0
	for i < len(sub.q) && sub.qBytes > target {
		g := sub.q[i].Group
		if g == newest && sub.qBytes <= sub.limit+largest {
			break
		}
		if g == newest {
			// The newest group alone is over the limit: it goes too, and
			// so does the rest of it as it arrives.
			sub.skipping, sub.skipGroup = true, g
		}
		for i < len(sub.q) && sub.q[i].Group == g {
			sub.qBytes -= sub.q[i].cost()
			sub.stats.Dropped++
			sub.stats.Objects--
			sub.stats.Bytes -= uint64(len(sub.q[i].Payload))
			i++
		}
	}
	if i > 0 {
		clear(sub.q[:i])
		sub.q = sub.q[i:]
	}
}

// streamStarted registers a data stream of group g; false if the group is
// already behind what was delivered (its objects will be dropped and
// counted: call lateStreamEnded when the stream ends).
func (sub *Subscription) streamStarted(g uint64) bool {
	sub.mu.Lock()
	sub.noteGroupLocked(g)
	sub.seen++
	if sub.delivered && g < sub.last {
		sub.late++
		sub.mu.Unlock()
		return false
	}
	sub.open[g]++
	sub.markActiveLocked(g)
	sub.mu.Unlock()
	return true
}

// lateStreamEnded unregisters a data stream that came too late.
func (sub *Subscription) lateStreamEnded() {
	sub.mu.Lock()
	sub.late--
	drained := sub.drainedLocked()
	sub.mu.Unlock()
	if drained {
		sub.completeDone()
	}
}

// streamEnded unregisters a data stream of group g.
func (sub *Subscription) streamEnded(g uint64) {
	sub.mu.Lock()
	if sub.open[g] > 1 {
		sub.open[g]--
	} else {
		delete(sub.open, g)
		sub.unmarkIfIdleLocked(g)
	}
	sub.pumpLocked()
	drained := sub.drainedLocked()
	sub.mu.Unlock()
	if drained {
		sub.completeDone()
	}
}

// publisherDone handles PUBLISH_DONE / SUBSCRIBE_DONE: the subscription
// ends with err once the data streams the publisher sent have been read
// (draft-14: streams of them; draft-07: up to the object final), or after
// grace.
func (sub *Subscription) publisherDone(err error, streams uint64, final *Location, grace time.Duration) {
	sub.mu.Lock()
	if sub.ended || sub.pubDone != nil {
		sub.mu.Unlock()
		return
	}
	sub.pubDone, sub.pubStreams, sub.pubFinal = err, streams, final
	drained := sub.drainedLocked()
	if !drained {
		sub.doneTimer = time.AfterFunc(grace, sub.completeDone)
	}
	sub.mu.Unlock()
	if drained {
		sub.completeDone()
	}
}

// drainedLocked reports whether a subscription whose publisher is done has
// received everything it should wait for.
func (sub *Subscription) drainedLocked() bool {
	if sub.pubDone == nil || sub.ended || len(sub.open) > 0 || sub.late > 0 {
		return false
	}
	if sub.sess.rules.requestIDs {
		return sub.seen >= sub.pubStreams
	}
	if sub.pubFinal != nil {
		return sub.stats.HasLatest && !sub.stats.Latest.Less(*sub.pubFinal)
	}
	return true
}

// completeDone ends a subscription whose publisher is done.
func (sub *Subscription) completeDone() {
	sub.mu.Lock()
	err := sub.pubDone
	sub.mu.Unlock()
	sub.sess.forgetSubscription(sub)
	sub.finish(err)
}

// forward passes an object to the ForwardTo track.
func (sub *Subscription) forward(o *Object, datagram bool) {
	sub.mu.Lock()
	if sub.ended {
		sub.mu.Unlock()
		return
	}
	sub.stats.Objects++
	sub.stats.Bytes += uint64(len(o.Payload))
	if l := (Location{Group: o.Group, Object: o.ID}); !sub.stats.HasLatest || sub.stats.Latest.Less(l) {
		sub.stats.Latest, sub.stats.HasLatest = l, true
	}
	sub.mu.Unlock()
	if err := sub.fwd.writeForwarded(o, datagram); err != nil {
		sub.mu.Lock()
		sub.stats.Dropped++
		sub.mu.Unlock()
	}
	if datagram {
		sub.mu.Lock()
		drained := sub.drainedLocked()
		sub.mu.Unlock()
		if drained {
			sub.completeDone()
		}
	}
}

// deliverStream takes an object read from a stream.
func (sub *Subscription) deliverStream(o *Object) {
	if sub.fwd != nil {
		sub.forward(o, false)
		return
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ended {
		return
	}
	if sub.delivered && o.Group < sub.last {
		sub.stats.Dropped++
		return
	}
	b, ok := sub.buffered[o.Group]
	if k := len(sub.spareBuf); !ok && k > 0 {
		b = sub.spareBuf[k-1]
		sub.spareBuf[k-1] = nil
		sub.spareBuf = sub.spareBuf[:k-1]
	}
	sub.buffered[o.Group] = append(b, o)
	sub.markActiveLocked(o.Group)
	sub.bufBytes += o.cost()
	sub.pumpLocked()
	// A stalled earlier group must not hold later ones forever: past the
	// buffer limit, give up on it.
	for sub.bufBytes > sub.limit {
		g, ok := sub.lowestOpenLocked()
		if !ok {
			break
		}
		delete(sub.open, g)
		sub.unmarkIfIdleLocked(g)
		sub.pumpLocked()
	}
}

// deliverDatagram takes an object received in a datagram.
func (sub *Subscription) deliverDatagram(o *Object) {
	sub.mu.Lock()
	sub.noteGroupLocked(o.Group)
	sub.mu.Unlock()
	if sub.fwd != nil {
		sub.forward(o, true)
		return
	}
	sub.mu.Lock()
	if sub.ended {
		sub.mu.Unlock()
		return
	}
	sub.pushLocked(o)
	drained := sub.drainedLocked()
	sub.mu.Unlock()
	if drained {
		sub.completeDone()
	}
}

// markActiveLocked records that group g has an open stream or buffered
// objects. active is kept sorted, so the lowest such group is active[0].
func (sub *Subscription) markActiveLocked(g uint64) {
	if i, found := slices.BinarySearch(sub.active, g); !found {
		sub.active = slices.Insert(sub.active, i, g)
	}
}

// unmarkIfIdleLocked forgets group g once it has neither.
func (sub *Subscription) unmarkIfIdleLocked(g uint64) {
	if sub.open[g] > 0 || len(sub.buffered[g]) > 0 {
		return
	}
	if i, found := slices.BinarySearch(sub.active, g); found {
		sub.active = slices.Delete(sub.active, i, i+1)
	}
}

func (sub *Subscription) lowestOpenLocked() (uint64, bool) {
	for _, g := range sub.active {
		if sub.open[g] > 0 {
			return g, true
		}
	}
	return 0, false
}

// pumpLocked delivers buffered objects in group order: the lowest group
// that is open or buffered goes first; groups above it wait until its
// streams end.
func (sub *Subscription) pumpLocked() {
	for len(sub.active) > 0 {
		m := sub.active[0]
		objs, ok := sub.buffered[m]
		delete(sub.buffered, m)
		for _, o := range objs {
			sub.bufBytes -= o.cost()
			sub.delivered, sub.last = true, m
			sub.pushLocked(o)
		}
		if ok && len(sub.spareBuf) < maxSpareBuf && cap(objs) <= maxSpareBufCap {
			clear(objs)
			sub.spareBuf = append(sub.spareBuf, objs[:0])
		}
		if sub.open[m] > 0 {
			return
		}
		sub.active = slices.Delete(sub.active, 0, 1)
	}
}

// flushBufferedLocked delivers everything buffered, in group order.
func (sub *Subscription) flushBufferedLocked() {
	sub.open = map[uint64]int{}
	sub.active = sub.active[:0]
	for g := range sub.buffered {
		sub.active = append(sub.active, g)
	}
	slices.Sort(sub.active)
	sub.pumpLocked()
}
