package moq

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Delivery selects how a track's objects travel.
type Delivery uint8

const (
	// DeliveryStream sends each subgroup on its own QUIC unidirectional
	// stream: reliable and ordered within the subgroup.
	DeliveryStream Delivery = iota
	// DeliveryDatagram sends each object in one QUIC datagram: unreliable,
	// unordered, and the object must fit (see MaxDatagramPayload).
	DeliveryDatagram
	// DeliveryStreamReliable is DeliveryStream that never drops at the
	// publisher: DeliveryStream drops the oldest whole groups queued for a
	// subscriber that falls behind (Options.SubscriptionBuffer; counted in
	// TrackStats.Dropped), whereas a DeliveryStreamReliable write that
	// finds a subscriber's queue full writes nothing and fails with
	// ErrWouldBlock (counted in TrackStats.WouldBlock), and its objects,
	// once queued, are never dropped. A relay in between may still drop for
	// its own subscribers that fall behind; they count and log it
	// (SubscriptionStats.Dropped).
	DeliveryStreamReliable
)

// MaxDatagramPayload is the largest object payload accepted for datagram
// delivery. QUIC datagrams must fit in one packet; this bound leaves room for
// QUIC, WebTransport and MoQT headers on any path that carries the minimum
// QUIC packet size (1200 bytes).
const MaxDatagramPayload = 1024

// Filter types (the wire codes; meanings differ per draft where noted).
const (
	// FilterLatestGroup (draft-07): from the start of the current group.
	// On draft-14 code 0x1 means FilterNextGroupStart.
	FilterLatestGroup = wire.FilterLatestGroup
	// FilterNextGroupStart (draft-14): from the start of the next group.
	FilterNextGroupStart = wire.FilterNextGroupStart
	// FilterLatestObject (07) / FilterLargestObject (14): from the next
	// object (07: the current object).
	FilterLatestObject  = wire.FilterLatestObject
	FilterLargestObject = wire.FilterLargestObject
	// FilterAbsoluteStart: from Start on.
	FilterAbsoluteStart = wire.FilterAbsoluteStart
	// FilterAbsoluteRange: from Start to EndGroup (inclusive; on draft-07
	// also EndObject).
	FilterAbsoluteRange = wire.FilterAbsoluteRange
)

// FilterType is a SUBSCRIBE filter type.
type FilterType = wire.FilterType

// Filter chooses where a subscription starts and ends.
type Filter struct {
	Type     FilterType
	Start    Location // AbsoluteStart, AbsoluteRange
	EndGroup uint64   // AbsoluteRange: last group, inclusive
	// EndObject (draft-07 AbsoluteRange only): one more than the last
	// object of EndGroup; 0 means the whole group.
	EndObject uint64
}

// TrackOptions configure a published track.
type TrackOptions struct {
	Delivery Delivery
	// Priority is the publisher priority, 0 (first) to 255. Default 128.
	Priority *uint8
	// RetainGroups and RetainBytes bound the groups kept for late joiners
	// and FETCH. Zero: the session's Options (default 2 groups, 8 MiB).
	RetainGroups int
	RetainBytes  int
	// RetainAge drops retained groups that began longer ago than this (0:
	// no age limit).
	RetainAge time.Duration
	// MaxObjectSize bounds a payload. Zero: the session's Options (16 MiB).
	MaxObjectSize int
}

// Object is one received (or published) object. A received object, and
// the copy Track.Write makes, belong to the caller and are never reused by
// the library; but a small payload or extension block (up to 1 KiB) is
// carved from a 4 KiB allocation shared with the objects around it, and
// the Object itself from a chunk of 16: holding one for long keeps those
// alive (copy the payload to keep only its bytes).
type Object struct {
	Group    uint64
	Subgroup uint64
	ID       uint64
	// Priority is the publisher priority.
	Priority uint8
	Status   ObjectStatus
	// Extensions is the raw draft-14 extension headers block, or nil.
	Extensions []byte
	Payload    []byte
}

// ObjectStatus is an object's status code.
type ObjectStatus = wire.ObjectStatus

// objectOverhead approximates what an object costs in memory beyond its
// payload and extensions; every byte limit counts it, so that a flood of
// empty objects is bounded too.
const objectOverhead = 64

// cost is what o counts against byte limits.
func (o *Object) cost() int { return len(o.Payload) + len(o.Extensions) + objectOverhead }

// Object statuses.
const (
	StatusNormal       = wire.StatusNormal
	StatusDoesNotExist = wire.StatusDoesNotExist
	StatusEndOfGroup   = wire.StatusEndOfGroup
	StatusEndOfTrack   = wire.StatusEndOfTrack
)

// Track is a published track: the objects written to it go to every
// subscriber, on any session and any draft, and the most recent groups are
// retained for late joiners and FETCH. A Track is safe for concurrent use.
type Track struct {
	ns       Namespace
	name     string
	delivery Delivery
	priority atomic.Uint32 // publisher priority of objects written from now on
	maxObj   int
	retainG  int
	retainB  int
	retainA  time.Duration
	holds    int // Hold calls not yet released; guarded by mu

	mu          sync.Mutex
	subs        map[*subscriber]struct{}
	groups      []*retainedGroup // ascending group ID
	spare       []*retainedGroup // dropped groups kept for reuse (spareGroups at most)
	retained    int              // bytes
	hasContent  bool
	largest     Location
	nextGroup   uint64
	ended       bool
	onEnd       []func()
	onIdle      func()
	tooBig      bool // group tooBigGroup is not retained: over the byte limit alone
	tooBigGroup uint64
	stats       TrackStats
	dropped     atomic.Uint64
	room        chan struct{} // closed when a subscriber takes its queue (WaitWritable)
	roomWait    atomic.Bool   // room is set
	// Write's copies of small payloads, and their Objects (guarded by mu).
	slab wire.Slab
	objs objectAlloc
}

// TrackStats are a track's counters.
type TrackStats struct {
	ObjectsIn  uint64 // objects written to the track
	BytesIn    uint64 // their payload bytes
	ObjectsOut uint64 // objects queued to subscribers (one per subscriber)
	BytesOut   uint64 // their payload bytes
	Dropped    uint64 // objects dropped because a subscriber fell behind or stopped their stream, or datagrams the network refused
	WouldBlock uint64 // DeliveryStreamReliable writes refused with ErrWouldBlock
}

// Stats returns the track's counters.
func (t *Track) Stats() TrackStats {
	t.mu.Lock()
	st := t.stats
	t.mu.Unlock()
	st.Dropped = t.dropped.Load()
	return st
}

// OnIdle registers f to run, on its own goroutine, each time the last
// subscriber leaves (a relay ends its upstream subscription then).
func (t *Track) OnIdle(f func()) {
	t.mu.Lock()
	t.onIdle = f
	t.mu.Unlock()
}

type retainedGroup struct {
	id      uint64
	objects []*Object
	// dgram[i] tells whether objects[i] was sent as a datagram: a late
	// joiner's replay sends each object the way it was first sent, not in
	// the track's default mode.
	dgram  []bool
	bytes  int
	closed bool
	born   time.Time // when its first object was written
	// endedSub lists the subgroups whose stream ended (EndSubgroup), and
	// resetSub those whose stream was reset upstream (resetSubgroup): a
	// late joiner's replayed stream for them ends the same way.
	endedSub []uint64
	resetSub []uint64
}

// NewTrack creates a track that is not attached to any session. Sessions
// serve it through a Handler (as a relay does); applications usually call
// Session.Publish instead.
func NewTrack(ns Namespace, name string, opts TrackOptions) *Track {
	t := &Track{
		ns:       ns,
		name:     name,
		delivery: opts.Delivery,
		maxObj:   intOr(opts.MaxObjectSize, wire.DefaultMaxObjectPayload),
		retainG:  intOr(opts.RetainGroups, 2),
		retainB:  intOr(opts.RetainBytes, 8<<20),
		retainA:  opts.RetainAge,
		subs:     map[*subscriber]struct{}{},
	}
	prio := uint8(128)
	if opts.Priority != nil {
		prio = *opts.Priority
	}
	t.priority.Store(uint32(prio))
	return t
}

// SetPriority sets the publisher priority (0 first, 255 last) of the
// objects written from now on with Write, WriteMode and GroupWriter.
// WriteObject uses each object's own.
func (t *Track) SetPriority(p uint8) { t.priority.Store(uint32(p)) }

// Priority returns the publisher priority of the objects written next.
func (t *Track) Priority() uint8 { return uint8(t.priority.Load()) }

// Namespace returns the track's namespace.
func (t *Track) Namespace() Namespace { return t.ns }

// Name returns the track's name.
func (t *Track) Name() string { return t.name }

// Delivery returns the track's delivery mode.
func (t *Track) Delivery() Delivery { return t.delivery }

// Subscribers returns the number of current subscribers.
func (t *Track) Subscribers() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.subs)
}

// Largest returns the largest location written, and whether any object was.
func (t *Track) Largest() (Location, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.largest, t.hasContent
}

// Write publishes payload as a new group holding one object (object 0),
// then ends the group: the model of moq_publish_data. The payload is
// copied. It returns the group ID used.
func (t *Track) Write(payload []byte) (uint64, error) {
	return t.write(payload, true, t.delivery, t.Priority())
}

// writeOwned is Write without the copy; t owns p afterwards.
func (t *Track) writeOwned(p []byte) (uint64, error) { return t.writeOwnedMode(p, t.delivery) }

func (t *Track) writeOwnedMode(p []byte, mode Delivery) (uint64, error) {
	return t.writeOwnedModePriority(p, mode, t.Priority())
}

func (t *Track) writeOwnedModePriority(p []byte, mode Delivery, prio uint8) (uint64, error) {
	return t.write(p, false, mode, prio)
}

// write publishes p as a new group of one object; with copyP it copies p
// first (a small payload into the track's slab, under its lock).
func (t *Track) write(p []byte, copyP bool, mode Delivery, prio uint8) (uint64, error) {
	if err := t.checkPayloadMode(len(p), mode); err != nil {
		return 0, err
	}
	if copyP && len(p) > wire.SlabMax {
		p, copyP = bytes.Clone(p), false // outside the lock
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return 0, fmt.Errorf("moq: track %s/%s: %w", t.ns, t.name, ErrEnded)
	}
	if copyP {
		p = append(t.slab.Carve(len(p)), p...)
	}
	g := t.nextGroup
	o := t.objs.copyOf(&Object{Group: g, ID: 0, Priority: prio, Payload: p})
	if err := t.publishLocked(o, mode); err != nil {
		return 0, err
	}
	t.endGroupLocked(g)
	return g, nil
}

// WaitWritable waits until a DeliveryStreamReliable write of an object of
// size payload bytes would not fail with ErrWouldBlock (unless another
// writer fills the queues first), or until ctx is done (its error).
func (t *Track) WaitWritable(ctx context.Context, size int) error {
	cost := size + objectOverhead
	for {
		t.mu.Lock()
		// Armed before the queues are looked at: a subscriber that takes
		// its queue after the look sees roomWait and closes room (armed
		// after it, a subscriber taking its queue in between found
		// roomWait false, and this waited for a wake-up that never came).
		if t.room == nil {
			t.room = make(chan struct{})
			t.roomWait.Store(true)
		}
		ch := t.room
		full := false
		for s := range t.subs {
			if s.full(cost) {
				full = true
				break
			}
		}
		if !full || t.ended {
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// roomMade wakes WaitWritable: a subscriber has taken its queue, left, or
// the track ended.
func (t *Track) roomMade() {
	if !t.roomWait.Load() {
		return
	}
	t.mu.Lock()
	t.roomMadeLocked()
	t.mu.Unlock()
}

func (t *Track) roomMadeLocked() {
	if t.room != nil {
		close(t.room)
		t.room = nil
		t.roomWait.Store(false)
	}
}

// WriteModePriority is WriteMode with an explicit publisher priority for
// this one object.
func (t *Track) WriteModePriority(payload []byte, mode Delivery, priority uint8) (uint64, error) {
	return t.write(payload, true, mode, priority)
}

// WriteMode is Write with an explicit delivery for this one object
// (moq_publish_data's delivery_mode): a stream track may send an object as
// a datagram and the other way round.
func (t *Track) WriteMode(payload []byte, mode Delivery) (uint64, error) {
	return t.write(payload, true, mode, t.Priority())
}

func (t *Track) checkPayload(n int) error { return t.checkPayloadMode(n, t.delivery) }

func (t *Track) checkPayloadMode(n int, mode Delivery) error {
	if n > t.maxObj {
		return fmt.Errorf("moq: object of %d bytes exceeds the maximum object size %d: %w", n, t.maxObj, ErrTooLarge)
	}
	if mode == DeliveryDatagram && n > MaxDatagramPayload {
		return fmt.Errorf("moq: object of %d bytes does not fit in a datagram (maximum %d): %w", n, MaxDatagramPayload, ErrTooLarge)
	}
	return nil
}

// WriteObject publishes one object with explicit IDs. Within a subgroup,
// object IDs must rise; group IDs may jump forward. The payload is not
// copied: the caller must not modify it afterwards. This is the path a relay
// uses to forward objects with their IDs preserved.
func (t *Track) WriteObject(o *Object) error {
	if err := t.checkPayload(len(o.Payload)); err != nil {
		return err
	}
	if o.Status != StatusNormal && len(o.Payload) > 0 {
		return fmt.Errorf("moq: an object with status %d must have no payload: %w", o.Status, ErrInvalid)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return fmt.Errorf("moq: track %s/%s: %w", t.ns, t.name, ErrEnded)
	}
	if t.hasContent && o.Group < t.largest.Group && t.findGroup(o.Group) == nil {
		return fmt.Errorf("moq: group %d is older than the retained groups: %w", o.Group, ErrInvalid)
	}
	return t.publishLocked(o, t.delivery)
}

// writeForwarded publishes an object received from an upstream
// subscription, keeping its IDs and its delivery (stream or datagram).
func (t *Track) writeForwarded(o *Object, datagram bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return ErrEnded
	}
	mode := DeliveryStream
	if datagram {
		mode = DeliveryDatagram
	}
	return t.publishLocked(o, mode)
}

// EndGroup tells subscribers that group g is complete: its streams end.
func (t *Track) EndGroup(g uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.endGroupLocked(g)
}

// EndSubgroup ends one subgroup's stream (a relay forwards the end of an
// upstream stream this way).
func (t *Track) EndSubgroup(g, sg uint64) { t.endSubgroup(g, sg, false) }

// resetSubgroup ends one subgroup's stream with a reset: a relay forwards
// an upstream stream that was reset (the subgroup is incomplete) this way.
func (t *Track) resetSubgroup(g, sg uint64) { t.endSubgroup(g, sg, true) }

// endSubgroup records how a subgroup ended, for late joiners' replays, and
// tells the subscribers.
func (t *Track) endSubgroup(g, sg uint64, reset bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kind := evEndSubgroup
	if reset {
		kind = evResetSubgroup
	}
	if rg := t.findGroup(g); rg != nil {
		list := &rg.endedSub
		if reset {
			list = &rg.resetSub
		}
		if !slices.Contains(*list, sg) {
			*list = append(*list, sg)
		}
	}
	for s := range t.subs {
		s.enqueue(event{kind: kind, group: g, subgroup: sg})
	}
}

// Close ends the track: subscribers get PUBLISH_DONE (SUBSCRIBE_DONE in
// draft-07) with status "track ended", and further writes fail.
func (t *Track) Close() {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.ended = true
	t.roomMadeLocked()
	subs := make([]*subscriber, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.subs = map[*subscriber]struct{}{}
	onEnd := t.onEnd
	t.onEnd = nil
	t.mu.Unlock()
	for _, s := range subs {
		s.endTrack()
	}
	for _, f := range onEnd {
		f()
	}
}

func (t *Track) findGroup(g uint64) *retainedGroup {
	for _, rg := range t.groups {
		if rg.id == g {
			return rg
		}
	}
	return nil
}

// expireLocked drops retained groups older than the age limit.
func (t *Track) expireLocked() {
	if t.retainA <= 0 {
		return
	}
	cut := time.Now().Add(-t.retainA)
	n := 0
	for n < len(t.groups) && t.groups[n].born.Before(cut) {
		n++
	}
	t.dropGroupsLocked(n)
}

// spareGroups is how many dropped retainedGroups a Track keeps for reuse: a
// track written one object per group (Track.Write) then allocates no group
// bookkeeping per object once its retention is full.
const spareGroups = 4

// dropGroupsLocked drops the n oldest retained groups. Nothing outside the
// track's lock refers to a retainedGroup, so dropped ones are reused.
func (t *Track) dropGroupsLocked(n int) {
	if n <= 0 {
		return
	}
	for _, rg := range t.groups[:n] {
		t.retained -= rg.bytes
		if len(t.spare) < spareGroups {
			clear(rg.objects)
			clear(rg.dgram)
			*rg = retainedGroup{objects: rg.objects[:0], dgram: rg.dgram[:0], endedSub: rg.endedSub[:0], resetSub: rg.resetSub[:0]}
			t.spare = append(t.spare, rg)
		}
	}
	if len(t.groups) <= 64 {
		// Shift down, keeping the array: appending to a slice cut from the
		// front reallocates it every few groups.
		k := copy(t.groups, t.groups[n:])
		clear(t.groups[k:])
		t.groups = t.groups[:k]
		return
	}
	clear(t.groups[:n])
	t.groups = t.groups[n:]
}

// publishLocked retains o and fans it out. In DeliveryStreamReliable mode
// it first checks that every subscriber's queue has room (ErrWouldBlock,
// and nothing is written, when one has not).
func (t *Track) publishLocked(o *Object, mode Delivery) error {
	keep := mode == DeliveryStreamReliable
	if keep {
		for s := range t.subs {
			if s.full(o.cost()) {
				t.stats.WouldBlock++
				return fmt.Errorf("moq: track %s/%s: %w", t.ns, t.name, ErrWouldBlock)
			}
		}
	}
	datagram := mode == DeliveryDatagram
	loc := Location{Group: o.Group, Object: o.ID}
	if !t.hasContent || t.largest.Less(loc) {
		t.largest = loc
	}
	t.hasContent = true
	if o.Group >= t.nextGroup {
		t.nextGroup = o.Group + 1
	}
	// Retain (unless this group outgrew the retention limit on its own).
	t.retainLocked(o, datagram)
	t.stats.ObjectsIn++
	t.stats.BytesIn += uint64(len(o.Payload))
	t.stats.ObjectsOut += uint64(len(t.subs))
	t.stats.BytesOut += uint64(len(o.Payload) * len(t.subs))
	for s := range t.subs {
		s.enqueue(event{kind: evObject, obj: o, datagram: datagram, keep: keep})
	}
	return nil
}

// retainLocked keeps o for late joiners and FETCH, within the limits. A
// group of several objects bigger than the byte limit on its own is not
// retained at all (a late joiner would otherwise get its tail without its
// start); a group of one object is, whatever its size.
func (t *Track) retainLocked(o *Object, datagram bool) {
	if t.tooBig && o.Group == t.tooBigGroup {
		return
	}
	rg := t.findGroup(o.Group)
	if rg == nil {
		if k := len(t.spare); k > 0 {
			rg = t.spare[k-1]
			t.spare[k-1] = nil
			t.spare = t.spare[:k-1]
		} else {
			rg = &retainedGroup{}
		}
		rg.id = o.Group
		if t.retainA > 0 {
			rg.born = time.Now()
		}
		i := len(t.groups)
		for i > 0 && t.groups[i-1].id > o.Group {
			i--
		}
		t.groups = append(t.groups, nil)
		copy(t.groups[i+1:], t.groups[i:])
		t.groups[i] = rg
	}
	rg.objects = append(rg.objects, o)
	rg.dgram = append(rg.dgram, datagram)
	rg.bytes += o.cost()
	t.retained += o.cost()
	t.trimLocked()
}

// trimLocked drops the oldest retained groups past the limits. While the
// track is held (Hold), only the byte limit counts, doubled.
func (t *Track) trimLocked() {
	if t.holds > 0 {
		n, left := 0, t.retained
		for len(t.groups)-n > 1 && left > 2*t.retainB {
			left -= t.groups[n].bytes
			n++
		}
		t.dropGroupsLocked(n)
		return
	}
	t.expireLocked()
	n, left := 0, t.retained
	// The newest group is kept over the byte limit when it is one object:
	// an object of any size accepted is retained (for late joiners and
	// FETCH) until the next group comes.
	over := func(k int) bool {
		return left > t.retainB && (k-n > 1 || len(t.groups[n].objects) > 1)
	}
	for k := len(t.groups); k-n > 0 && (k-n > t.retainG || over(k)); n++ {
		if k-n == 1 && k-n <= t.retainG {
			t.tooBig, t.tooBigGroup = true, t.groups[n].id
		}
		left -= t.groups[n].bytes
	}
	t.dropGroupsLocked(n)
}

// Hold keeps what is written to the track retained beyond RetainGroups and
// RetainAge (up to twice RetainBytes) until the returned function is called
// (once; later calls do nothing). A relay holds a new track from the moment
// a subscriber asks for it until that subscriber is attached
// (SubscribeRequest.Attached), so that a burst forwarded meanwhile reaches
// it whole.
func (t *Track) Hold() (release func()) {
	t.mu.Lock()
	t.holds++
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			t.holds--
			t.trimLocked()
			t.mu.Unlock()
		})
	}
}

func (t *Track) endGroupLocked(g uint64) {
	if rg := t.findGroup(g); rg != nil {
		rg.closed = true
	}
	if g >= t.nextGroup {
		t.nextGroup = g + 1
	}
	for s := range t.subs {
		s.enqueue(event{kind: evEndGroup, group: g})
	}
}

// attach adds subscriber s, replaying retained objects from start, and
// returns the largest location (for SUBSCRIBE_OK).
func (t *Track) attach(s *subscriber, f Filter, d wire.Draft, replayFrom *Location) (Location, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended && replayFrom == nil {
		return Location{}, false, fmt.Errorf("moq: track %s/%s: %w", t.ns, t.name, ErrEnded)
	}
	start, replay := Location{}, false
	switch f.Type {
	case FilterLatestGroup: // == FilterNextGroupStart
		if d.Is07() {
			// Draft-07: from the start of the current group.
			if t.hasContent {
				start, replay = Location{Group: t.largest.Group}, true
			}
		} else {
			start = Location{Group: t.nextGroup}
		}
	case FilterLatestObject:
		if t.hasContent {
			start = Location{Group: t.largest.Group, Object: t.largest.Object + 1}
			if d.Is07() {
				start, replay = t.largest, true
			}
		}
	case FilterAbsoluteStart, FilterAbsoluteRange:
		start, replay = f.Start, true
	default:
		return Location{}, false, fmt.Errorf("moq: unknown filter type %d: %w", f.Type, ErrInvalid)
	}
	if replayFrom != nil && f.Type != FilterAbsoluteStart && f.Type != FilterAbsoluteRange {
		start, replay = *replayFrom, true
	}
	s.start = start
	if f.Type == FilterAbsoluteRange {
		s.hasEnd = true
		s.endGroup = f.EndGroup
		s.endObject = f.EndObject
		if f.EndGroup < f.Start.Group {
			return Location{}, false, fmt.Errorf("moq: range ends (group %d) before it starts (group %d): %w", f.EndGroup, f.Start.Group, ErrInvalid)
		}
	}
	if replay {
		t.expireLocked()
		for _, rg := range t.groups {
			if rg.id < start.Group {
				continue
			}
			for i, o := range rg.objects {
				s.enqueue(event{kind: evObject, obj: o, datagram: rg.dgram[i]})
			}
			for _, sg := range rg.endedSub {
				s.enqueue(event{kind: evEndSubgroup, group: rg.id, subgroup: sg})
			}
			for _, sg := range rg.resetSub {
				s.enqueue(event{kind: evResetSubgroup, group: rg.id, subgroup: sg})
			}
			if rg.closed {
				s.enqueue(event{kind: evEndGroup, group: rg.id})
			}
		}
	}
	if t.ended {
		s.endTrack() // what was retained, then PUBLISH_DONE
		return t.largest, t.hasContent, nil
	}
	t.subs[s] = struct{}{}
	return t.largest, t.hasContent, nil
}

// releaseIfIdle runs the OnIdle function if the track has no subscriber: a
// handler handed it out for a subscription that never attached.
func (t *Track) releaseIfIdle() {
	t.mu.Lock()
	idle := len(t.subs) == 0 && !t.ended && t.onIdle != nil
	f := t.onIdle
	t.mu.Unlock()
	if idle {
		go f()
	}
}

func (t *Track) detach(s *subscriber) {
	t.mu.Lock()
	_, was := t.subs[s]
	delete(t.subs, s)
	t.roomMadeLocked()
	idle := was && len(t.subs) == 0 && !t.ended && t.onIdle != nil
	f := t.onIdle
	t.mu.Unlock()
	if idle {
		go f()
	}
}

// retainedRange returns the retained objects in [start, end] (inclusive),
// in ascending order.
func (t *Track) retainedRange(start, end Location) []*Object {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
	var out []*Object
	for _, rg := range t.groups {
		if rg.id < start.Group || rg.id > end.Group {
			continue
		}
		for _, o := range rg.objects {
			l := Location{Group: o.Group, Object: o.ID}
			if l.Less(start) || end.Less(l) {
				continue
			}
			out = append(out, o)
		}
	}
	return out
}

// groupEnded reports whether group g is over: a later group was written,
// or g was ended.
func (t *Track) groupEnded(g uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hasContent && t.largest.Group > g {
		return true
	}
	rg := t.findGroup(g)
	return rg != nil && rg.closed
}

// OnClose registers f to run when the track is closed.
func (t *Track) OnClose(f func()) {
	t.mu.Lock()
	if !t.ended {
		t.onEnd = append(t.onEnd, f)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	f()
}

// GroupWriter writes the objects of one group, with rising object IDs.
type GroupWriter struct {
	t      *Track
	group  uint64
	nextID uint64
	closed bool
	mu     sync.Mutex
}

// OpenGroup starts a group. With id nil it is the next group after the
// largest written; otherwise *id, which must not be below the largest group
// written.
func (t *Track) OpenGroup(id *uint64) (*GroupWriter, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return nil, fmt.Errorf("moq: track %s/%s: %w", t.ns, t.name, ErrEnded)
	}
	g := t.nextGroup
	if id != nil {
		if t.hasContent && *id < t.largest.Group {
			return nil, fmt.Errorf("moq: group %d is below the largest group %d: %w", *id, t.largest.Group, ErrInvalid)
		}
		g = *id
	}
	if g >= t.nextGroup {
		t.nextGroup = g + 1
	}
	return &GroupWriter{t: t, group: g}, nil
}

// Group returns the group's ID.
func (g *GroupWriter) Group() uint64 { return g.group }

// WriteObject appends an object with the next object ID (payload copied;
// ext is a raw draft-14 extension headers block or nil) and returns its ID.
func (g *GroupWriter) WriteObject(payload, ext []byte) (uint64, error) {
	if err := g.t.checkPayload(len(payload)); err != nil {
		return 0, err
	}
	if ext != nil {
		if err := wire.ValidateExtensions(ext, nil); err != nil {
			return 0, fmt.Errorf("moq: bad extension headers: %w: %w", ErrInvalid, err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, fmt.Errorf("moq: group %d: %w", g.group, ErrEnded)
	}
	o := &Object{Group: g.group, ID: g.nextID, Priority: g.t.Priority(),
		Payload: append([]byte(nil), payload...), Extensions: append([]byte(nil), ext...)}
	if len(ext) == 0 {
		o.Extensions = nil
	}
	if err := g.t.WriteObject(o); err != nil {
		return 0, err
	}
	g.nextID++
	return o.ID, nil
}

// Close ends the group.
func (g *GroupWriter) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	g.t.EndGroup(g.group)
	return nil
}
