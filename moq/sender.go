package moq

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

type evKind uint8

const (
	evObject evKind = iota
	evEndGroup
	evEndSubgroup
	evResetSubgroup // the subgroup is incomplete: its stream is reset
	evEndTrack
)

type event struct {
	kind     evKind
	obj      *Object
	group    uint64
	subgroup uint64
	datagram bool // evObject: send as a datagram
	keep     bool // evObject: DeliveryStreamReliable, never dropped
}

type streamKey struct{ group, subgroup uint64 }

type outStream struct {
	st  transport.SendStream
	enc wire.SubgroupEncoder
}

// subscriber is one peer subscription to one of our tracks: a bounded event
// queue filled by the track (never blocking it) and drained by one goroutine
// that writes streams or datagrams. When the queue is over its byte limit,
// the oldest whole groups are dropped and counted.
type subscriber struct {
	sess       *Session
	track      *Track
	reqID      uint64
	alias      uint64
	subPrio    uint8
	start      Location
	hasEnd     bool
	endGroup   uint64
	endObject  uint64 // draft-07: exclusive, 0 = whole group
	limitBytes int

	mu        sync.Mutex
	q         []event
	qBytes    int
	qMax      int // the largest object queued since the queue was last taken (at least)
	wake      chan struct{}
	stopped   bool
	resetG    map[uint64]bool
	dropped   uint64   // objects dropped because the subscriber fell behind
	busy      bool     // the run goroutine is writing a batch
	paused    bool     // draft-14 Forward = 0: objects are not sent
	okLargest Location // the Largest Location sent in SUBSCRIBE_OK
	okExists  bool
	skipping  bool // the rest of group skipGroup is dropped
	skipGroup uint64
	rangeDone bool

	// ctx ends when the subscription does (or the session): it unblocks a
	// run goroutine waiting for stream credit or flow control.
	ctx    context.Context
	cancel context.CancelFunc
	curMu  sync.Mutex
	curSt  transport.SendStream // the stream being written

	// Owned by the run goroutine.
	streams     map[streamKey]*outStream
	spareOut    []*outStream  // ended streams' records, for reuse (maxSpareOut at most)
	streamCount atomic.Uint64 // read by detach on other goroutines
	lastSent    Location
	sentAny     bool
	buf         []byte
	done        chan struct{}
}

func newSubscriber(sess *Session, t *Track, reqID, alias uint64, prio uint8) *subscriber {
	ctx, cancel := context.WithCancel(sess.sessCtx())
	return &subscriber{
		ctx:        ctx,
		cancel:     cancel,
		sess:       sess,
		track:      t,
		reqID:      reqID,
		alias:      alias,
		subPrio:    prio,
		limitBytes: sess.opts.subscriptionBuffer(),
		wake:       make(chan struct{}, 1),
		resetG:     map[uint64]bool{},
		streams:    map[streamKey]*outStream{},
		done:       make(chan struct{}),
	}
}

// inRange reports whether location l passes the subscriber's filter.
func (s *subscriber) inRange(l Location) bool {
	if l.Less(s.start) {
		return false
	}
	if s.hasEnd {
		if l.Group > s.endGroup {
			return false
		}
		if (s.sess.draft.Is07() || s.sess.rules.draft20) && l.Group == s.endGroup && s.endObject != 0 && l.Object >= s.endObject {
			return false
		}
	}
	return true
}

// enqueue adds an event; called with the track's lock held, never blocks.
func (s *subscriber) enqueue(ev event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	switch ev.kind {
	case evObject:
		g := ev.obj.Group
		if s.paused {
			return
		}
		if s.skipping && g == s.skipGroup && !ev.keep {
			s.dropped++ // the rest of a group dropped for being too large
			s.track.dropped.Add(1)
			return
		}
		if !s.inRange(Location{Group: g, Object: ev.obj.ID}) {
			// An object past a range's end group ends the range: a relay's
			// forwarded track never sends group ends of its own.
			if s.hasEnd && g > s.endGroup && !s.rangeDone {
				s.rangeDone = true
				s.q = append(s.q, event{kind: evEndGroup, group: s.endGroup})
				s.signalLocked()
			}
			return
		}
		s.qBytes += ev.obj.cost()
		s.qMax = max(s.qMax, ev.obj.cost())
	case evEndGroup:
		if ev.group < s.start.Group {
			return
		}
	}
	s.q = append(s.q, ev)
	if s.qBytes > s.limitBytes+s.qMax {
		s.dropOldestLocked()
	}
	s.signalLocked()
}

// full reports whether an object costing cost would take the queue past
// its limit (DeliveryStreamReliable writes then fail with ErrWouldBlock).
// An empty queue takes an object of any size. A subscriber that is not
// taking objects (stopped, paused) is never full.
func (s *subscriber) full(cost int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.stopped && !s.paused && s.qBytes > 0 && s.qBytes+cost > s.limitBytes
}

func (s *subscriber) signalLocked() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dropOldestLocked drops the queued objects of the oldest groups. The
// limit does not count the largest object queued: an object of any size the
// track accepts goes through, and so do the objects behind it, up to the
// limit. It drops down to three quarters of the limit, so that a subscriber
// that stays behind costs one pass over its queue per quarter of the limit,
// not one per object. The newest group is kept unless it alone is over the
// limit (then the rest of it is dropped too, as it arrives). Groups holding
// a DeliveryStreamReliable object are never dropped.
func (s *subscriber) dropOldestLocked() {
	per := map[uint64]int{}
	pinned := map[uint64]bool{} // groups holding DeliveryStreamReliable objects
	var newest uint64
	largest := 0
	for _, ev := range s.q {
		if ev.kind == evObject {
			per[ev.obj.Group] += ev.obj.cost()
			newest = max(newest, ev.obj.Group)
			largest = max(largest, ev.obj.cost())
			if ev.keep {
				pinned[ev.obj.Group] = true
			}
		}
	}
	s.qMax = largest
	groups := make([]uint64, 0, len(per))
	for g := range per {
		if g != newest && !pinned[g] {
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	target := s.limitBytes/4*3 + largest
	drop := map[uint64]bool{}
	left := s.qBytes
	for _, g := range groups {
		if left <= target {
			break
		}
		drop[g] = true
		left -= per[g]
	}
	if left > s.limitBytes+largest && !pinned[newest] {
		drop[newest] = true
		s.skipping, s.skipGroup = true, newest
	}
	if len(drop) == 0 {
		return
	}
	kept := s.q[:0]
	for _, ev := range s.q {
		if ev.kind == evObject && drop[ev.obj.Group] {
			s.qBytes -= ev.obj.cost()
			s.dropped++
			s.track.dropped.Add(1)
			continue
		}
		kept = append(kept, ev)
	}
	clear(s.q[len(kept):])
	s.q = kept
	for g := range drop {
		s.resetG[g] = true
	}
}

// stopCtx ends the subscriber's context (placeholders have none).
func (s *subscriber) stopCtx() {
	if s.cancel != nil {
		s.cancel()
	}
}

// waitDrained waits until everything queued has been written to the
// network (or the subscriber stopped), at most until deadline.
func (s *subscriber) waitDrained(deadline time.Time) {
	for {
		s.mu.Lock()
		drained := s.stopped || (len(s.q) == 0 && !s.busy)
		s.mu.Unlock()
		if drained || !time.Now().Before(deadline) {
			return
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-s.done:
			return
		case <-s.sess.done:
			return
		}
	}
}

// run drains the queue until the subscriber stops or the session ends.
func (s *subscriber) run() {
	defer close(s.done)
	defer s.stopCtx() // after stop below: ending normally resets nothing
	// A write blocked on a peer's flow control is abandoned when the
	// subscription ends.
	stop := context.AfterFunc(s.ctx, func() {
		s.curMu.Lock()
		st := s.curSt
		s.curMu.Unlock()
		if st != nil {
			st.CancelWrite(resetCancelled)
		}
	})
	defer stop()
	var batch []event
	for {
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			s.closeStreams(true)
			return
		}
		// Let the writers run first (the publisher, or a relay's upstream
		// streams): the objects they queue meanwhile go out in this batch,
		// and quic-go packs the streams written back to back into the same
		// packets. Without this the batch is often one object, sent in a
		// packet of its own, and every packet costs a sendmsg on this side
		// and an ACK and MAX_STREAMS packet back. With nothing else
		// runnable (a light load) it returns at once.
		runtime.Gosched()
		for {
			s.mu.Lock()
			if s.stopped {
				s.mu.Unlock()
				s.closeStreams(true)
				return
			}
			batch, s.q = s.q, batch[:0]
			s.qBytes, s.qMax = 0, 0
			s.busy = len(batch) > 0
			var resets []uint64
			for g := range s.resetG {
				resets = append(resets, g)
				delete(s.resetG, g)
			}
			s.mu.Unlock()
			if len(batch) > 0 && s.track != nil {
				s.track.roomMade()
			}
			for _, g := range resets {
				s.resetGroup(g)
			}
			if len(batch) == 0 {
				break
			}
			for i := range batch {
				if !s.process(batch, i) {
					s.closeStreams(false)
					return
				}
				batch[i] = event{}
			}
		}
	}
}

// process handles event i of batch; false means the subscription is over.
func (s *subscriber) process(batch []event, i int) bool {
	ev := &batch[i]
	switch ev.kind {
	case evObject:
		switch {
		case !wire.ValidStatus(s.sess.draft, ev.obj.Status):
			// A status the draft cannot carry (draft-16 has no "does not
			// exist": such an object is simply not sent).
			s.sess.log.Debug("object status not in this draft; not sent", "group", ev.obj.Group,
				"object", ev.obj.ID, "status", uint64(ev.obj.Status))
		case ev.datagram:
			s.sendDatagram(ev.obj)
		default:
			s.writeObject(ev.obj, i+1 < len(batch) && endsStream(&batch[i+1], ev.obj))
		}
		if l := (Location{Group: ev.obj.Group, Object: ev.obj.ID}); !s.sentAny || s.lastSent.Less(l) {
			s.lastSent, s.sentAny = l, true
		}
	case evEndGroup:
		for k, os := range s.streams {
			if k.group <= ev.group {
				os.st.Close()
				s.forgetStream(k, os)
			}
		}
		s.mu.Lock()
		rangeOver := s.hasEnd && ev.group >= s.endGroup
		s.mu.Unlock()
		if rangeOver {
			s.finish(s.sess.doneCode(doneSubscriptionEnded), "subscription range complete")
			return false
		}
	case evEndSubgroup:
		k := streamKey{ev.group, ev.subgroup}
		if os := s.streams[k]; os != nil {
			os.st.Close()
			s.forgetStream(k, os)
		}
	case evResetSubgroup:
		// Reset, but deliver what was forwarded where the transport can.
		k := streamKey{ev.group, ev.subgroup}
		if os := s.streams[k]; os != nil {
			if rr, ok := os.st.(transport.ReliableResetter); ok {
				rr.SetReliableBoundary()
			}
			s.dropStream(k, os)
		}
	case evEndTrack:
		s.closeStreams(false)
		s.finish(s.sess.doneCode(doneTrackEnded), "track ended")
		return false
	}
	return true
}

// endsStream reports whether event next ends the stream of object o (its
// group's or its subgroup's end): the object's write then carries the FIN,
// and next finds the stream gone.
func endsStream(next *event, o *Object) bool {
	switch next.kind {
	case evEndGroup:
		return next.group >= o.Group
	case evEndSubgroup:
		return next.group == o.Group && next.subgroup == o.Subgroup
	}
	return false
}

func (s *subscriber) sendDatagram(o *Object) {
	dg := wire.Datagram{SubscribeID: s.reqID, TrackAlias: s.alias, Object: wire.Object{
		Group: o.Group, ID: o.ID, Priority: o.Priority, Status: o.Status, Extensions: s.sess.extToWire(o.Extensions), Payload: o.Payload}}
	if s.sess.draft == wire.Draft07 {
		dg.Type = wire.DatagramType07
	}
	if s.sess.draft.Is07() {
		dg.Object.Extensions = nil // draft-07 objects carry no extension headers
	}
	b, err := wire.AppendDatagram(s.buf[:0], s.sess.draft, &dg)
	if err != nil {
		s.sess.log.Error("encode datagram", "err", err)
		return
	}
	s.buf = b
	if err := s.sess.conn.SendDatagram(b); err != nil {
		s.mu.Lock()
		s.dropped++
		s.mu.Unlock()
		s.track.dropped.Add(1)
		if errors.Is(err, transport.ErrDatagramTooLarge) {
			s.sess.log.Warn("datagram too large for the path; object dropped", "group", o.Group, "object", o.ID, "size", len(b))
		}
	}
}

// writeObject writes o on its subgroup's stream, opening the stream if
// needed. A new stream's header and a small object go out in one Write, and
// with fin the stream ends right after the object: a one-object stream
// costs one STREAM frame (header, object and FIN), not three.
func (s *subscriber) writeObject(o *Object, fin bool) {
	k := streamKey{o.Group, o.Subgroup}
	os := s.streams[k]
	b := s.buf[:0]
	if os == nil {
		st, err := s.sess.conn.OpenUniStreamSync(s.ctx)
		if err != nil {
			return // the subscription or the session is ending
		}
		h := wire.SubgroupHeader{SubscribeID: s.reqID, TrackAlias: s.alias, Group: o.Group, Subgroup: o.Subgroup, Priority: o.Priority}
		if s.sess.rules.requestIDs {
			// Always a type that carries extension blocks: an object later in
			// the stream may have extensions (one byte per object when not).
			h.Type = wire.SubgroupType(true, o.Subgroup != 0, false, o.Subgroup)
		} else {
			h.Type = wire.StreamTypeSubgroup07
		}
		os = s.newOutStream()
		os.st, os.enc = st, wire.SubgroupEncoder{Draft: s.sess.draft, Header: h}
		b, err = wire.AppendSubgroupHeader(b, s.sess.draft, &h)
		if err != nil {
			st.CancelWrite(resetInternal)
			s.sess.log.Error("encode subgroup header", "err", err)
			return
		}
		s.streams[k] = os
		s.streamCount.Add(1)
	}
	wo := wire.Object{Group: o.Group, Subgroup: o.Subgroup, ID: o.ID, Priority: o.Priority, Status: o.Status, Extensions: s.sess.extToWire(o.Extensions)}
	if s.sess.draft.Is07() {
		wo.Extensions = nil // draft-07 objects carry no extension headers
	}
	hb, err := os.enc.AppendObjectHeader(b, &wo, len(o.Payload))
	if err != nil {
		s.sess.log.Error("encode object", "group", o.Group, "object", o.ID, "err", err)
		if len(b) > 0 {
			// The stream's header was never written: the stream is unusable.
			s.dropStream(k, os)
		}
		return
	}
	b = hb
	small := len(o.Payload) <= 4096
	if small {
		b = append(b, o.Payload...)
	}
	s.buf = b
	s.curMu.Lock()
	s.curSt = os.st
	s.curMu.Unlock()
	if s.ctx.Err() != nil {
		s.dropStream(k, os)
		return
	}
	if _, err := os.st.Write(b); err != nil {
		s.writeFailed(k, os, err)
		return
	}
	if !small {
		if _, err := os.st.Write(o.Payload); err != nil {
			s.writeFailed(k, os, err)
			return
		}
	}
	if fin || o.Status == StatusEndOfGroup || o.Status == StatusEndOfTrack {
		os.st.Close()
		s.forgetStream(k, os)
	}
}

// writeFailed drops a stream whose write failed. If the peer stopped it
// (STOP_SENDING), the object is counted as dropped (the subscriber's and the
// track's Dropped): it was not delivered, and the peer does not count what
// it never received. (Objects written before the STOP_SENDING arrived were
// accepted by the transport and are lost uncounted.)
func (s *subscriber) writeFailed(k streamKey, os *outStream, err error) {
	if se, ok := errors.AsType[*transport.StreamError](err); ok && se.Remote {
		s.mu.Lock()
		s.dropped++
		s.mu.Unlock()
		s.track.dropped.Add(1)
	}
	s.dropStream(k, os)
}

func (s *subscriber) dropStream(k streamKey, os *outStream) {
	os.st.CancelWrite(resetCancelled)
	s.forgetStream(k, os)
}

// maxSpareOut bounds the outStream records a subscriber keeps for reuse.
const maxSpareOut = 16

// newOutStream returns a spare outStream record, or a new one.
func (s *subscriber) newOutStream() *outStream {
	if k := len(s.spareOut); k > 0 {
		os := s.spareOut[k-1]
		s.spareOut[k-1] = nil
		s.spareOut = s.spareOut[:k-1]
		return os
	}
	return new(outStream)
}

// forgetStream removes the ended stream k from the open ones and keeps its
// record for reuse. Only the run goroutine refers to the records (the
// cancellation callback holds the stream itself, curSt, not the record).
func (s *subscriber) forgetStream(k streamKey, os *outStream) {
	delete(s.streams, k)
	*os = outStream{}
	if len(s.spareOut) < maxSpareOut {
		s.spareOut = append(s.spareOut, os)
	}
}

// resetGroup resets the streams of a group whose objects were dropped.
func (s *subscriber) resetGroup(g uint64) {
	for k, os := range s.streams {
		if k.group == g {
			s.dropStream(k, os)
		}
	}
}

// closeStreams ends every open stream: FIN normally, RESET when aborting.
func (s *subscriber) closeStreams(abort bool) {
	for k, os := range s.streams {
		if abort {
			os.st.CancelWrite(resetCancelled)
		} else {
			os.st.Close()
		}
		s.forgetStream(k, os)
	}
}

// finish sends PUBLISH_DONE and forgets the subscription.
func (s *subscriber) finish(code uint64, reason string) {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	if s.track != nil { // a placeholder while the handler runs has no track yet
		s.track.detach(s)
	}
	if s.sess.forgetSubscriber(s) {
		m := s.sess.publishDone(s.reqID, code, reason, s.streamCount.Load())
		// Draft-07 subscribers learn the last object sent, so that they can
		// wait for it: the data streams may arrive after this message.
		m.ContentExists, m.Final = s.sentAny, s.lastSent
		s.sess.send(m)
	}
}

// endTrack is called by Track.Close.
func (s *subscriber) endTrack() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.q = append(s.q, event{kind: evEndTrack})
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// detach stops the subscriber at once (UNSUBSCRIBE, session end). With
// sendDone it also sends PUBLISH_DONE with code and reason.
func (s *subscriber) detach(sendDone bool, code uint64, reason string) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	defer s.stopCtx()
	s.q = nil
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	if s.track != nil { // a placeholder while the handler runs has no track yet
		s.track.detach(s)
	}
	if sendDone {
		s.sess.send(s.sess.publishDone(s.reqID, code, reason, s.streamCount.Load()))
	}
}

// Dropped returns the number of objects dropped for this subscriber.
func (s *subscriber) droppedCount() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}
