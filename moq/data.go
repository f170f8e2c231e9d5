package moq

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// headerOrderWait bounds how long a data stream whose header has not
// arrived holds back the streams the peer opened after it, and again how
// long it holds them once its header is in. It is measured on the
// session's liveClock: time during which the connection receives packets.
// While nothing arrives at all (a blackout that the connection rides out)
// a missing header is in flight, not late, and the streams behind it wait
// for it instead of overtaking it and getting it dropped as too late.
const headerOrderWait = time.Second

// liveClock measures the time during which the connection delivers
// packets: a sample adds the time since the previous one (at most
// gateTick) only if the connection received a packet in between. The
// streams waiting at a gate sample it every gateTick, and so does a stream
// waiting for its header. Without a packet count (a test's session) all
// time is live.
type liveClock struct {
	packets func() uint64 // the connection's received packets; nil: all time is live
	now     func() int64  // monoNow; a test's clock in tests

	mu       sync.Mutex
	last     int64 // now() at the previous sample
	lastPkts uint64
	live     int64
}

func newLiveClock(packets func() uint64) *liveClock {
	c := &liveClock{packets: packets, now: monoNow}
	c.last = c.now()
	if packets != nil {
		c.lastPkts = packets()
	}
	return c
}

// Now returns the live time so far (nanoseconds).
func (c *liveClock) Now() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now()
	moved := true
	if c.packets != nil {
		p := c.packets()
		moved = p != c.lastPkts
		c.lastPkts = p
	}
	if moved {
		c.live += min(t-c.last, int64(gateTick))
	}
	c.last = t
	return c.live
}

// Stream reset codes we send with STOP_SENDING.
const (
	stopUnknownAlias uint64 = 0x1 // CANCELLED
)

// subForAlias finds the subscription of a track alias. In draft-14 a data
// stream may arrive before the SUBSCRIBE_OK that defines its alias: it
// waits for that up to the request timeout.
func (s *Session) subForAlias(alias uint64, wait bool) *Subscription {
	var timer *time.Timer
	for {
		s.mu.Lock()
		sub := s.subsByAlias[alias]
		ch := s.aliasCh
		// A draft-14 subscription has no alias until its SUBSCRIBE_OK: wait
		// only while one of ours still lacks it.
		pendingSubs := len(s.subs) > len(s.subsByAlias)
		s.mu.Unlock()
		if sub != nil || !wait || !pendingSubs {
			return sub
		}
		if timer == nil {
			timer = time.NewTimer(s.opts.requestTimeout())
			defer timer.Stop()
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil
		case <-s.done:
			return nil
		}
	}
}

// Goroutines kept waiting for the next data stream once theirs has ended:
// at most maxIdleDataWorkers, and those past keepIdleDataWorkers end after
// about idleWorkerTrim (their stacks, grown by the read path, are what
// makes them worth keeping through a burst of streams).
const (
	maxIdleDataWorkers  = 256
	keepIdleDataWorkers = 16
	idleWorkerTrim      = time.Second
)

// monoEpoch is the origin of monoNow: time.Since reads the monotonic clock.
var monoEpoch = time.Now()

func monoNow() int64 { return int64(time.Since(monoEpoch)) }

// streamGate orders the registration of data streams with their
// subscriptions: a stream registers after the stream accepted before it has
// released its gate. A gate whose deadline passes before its stream
// released it (its header or, when forwarding, its first object is late)
// no longer holds the next stream, which then waits for the gates before
// it instead: a stalled stream is passed over, and nothing overtakes the
// streams before it.
//
// A stream that has to wait registers its worker's wake channel (see
// dataWorker) with the gate; release signals every registered channel. The
// channels belong to the workers and are reused from stream to stream, so
// a wait allocates nothing; a worker may therefore be woken by a gate it
// no longer waits for, and checks its gate again when woken.
type streamGate struct {
	mu       sync.Mutex
	released bool
	waiters  [2]chan struct{} // wake channels of the workers waiting (the first two)
	more     []chan struct{}  // and of any more
	deadline atomic.Int64     // monoNow value; gateHeld while its stream waits for its predecessors
	prev     atomic.Pointer[streamGate]
}

// gateHeld is the deadline of a gate whose stream has its header and is
// waiting for the streams before it: they hold the next stream, not it.
const gateHeld = math.MaxInt64

// gateChunk is how many gates are allocated at once: one allocation per
// gateChunk data streams. A gate kept (by a stream that never sends its
// header, until the session ends) keeps its chunk, a few KiB.
const gateChunk = 64

// gateAlloc hands out gates from chunks; used by the accepting goroutine only.
type gateAlloc struct{ chunks[streamGate] }

func (a *gateAlloc) newStreamGate(prev *streamGate, deadline int64) *streamGate {
	g := a.next(gateChunk)
	g.init(prev, deadline)
	return g
}

func (g *streamGate) init(prev *streamGate, deadline int64) {
	g.deadline.Store(deadline)
	g.prev.Store(prev)
}

// release lets the next stream go; later calls do nothing.
func (g *streamGate) release() {
	g.mu.Lock()
	if g.released {
		g.mu.Unlock()
		return
	}
	g.released = true
	g.prev.Store(nil) // the chain of gates is kept only while it holds
	w := g.waiters
	more := g.more
	g.waiters, g.more = [2]chan struct{}{}, nil
	g.mu.Unlock()
	for _, ch := range w {
		if ch != nil {
			wakeUp(ch)
		}
	}
	for _, ch := range more {
		wakeUp(ch)
	}
}

// wakeUp signals a worker's wake channel (capacity 1) without blocking.
func wakeUp(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// wait registers wake to be signalled on release (once however often it is
// called) and returns true, or returns false if g is released.
func (g *streamGate) wait(wake chan struct{}) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released {
		return false
	}
	for i, ch := range g.waiters {
		if ch == wake {
			return true
		}
		if ch == nil {
			g.waiters[i] = wake
			return true
		}
	}
	for _, ch := range g.more {
		if ch == wake {
			return true
		}
	}
	g.more = append(g.more, wake)
	return true
}

// gateTick is how often streams waiting at a gate check its deadline: a
// stream whose header never comes holds the ones behind it for
// headerOrderWait plus up to one tick.
const gateTick = 100 * time.Millisecond

// waitGate waits until prev is released, or, when its deadline has passed,
// until the gate before it is (and so on); false if the session ended
// first. wake is the worker's wake channel. The waiters of a session share
// one ticking channel (armed while anyone waits) instead of a timer each.
func (s *Session) waitGate(w *dataWorkers, prev *streamGate, wake chan struct{}) bool {
	for g := prev; g != nil; {
		if !g.wait(wake) {
			return true
		}
		if g.deadline.Load() <= w.clock.Now() {
			g = g.prev.Load()
			continue
		}
		select {
		case <-wake: // g (or a gate this worker waited for before) is released: check g
		case <-s.done:
			return false
		case <-w.tick():
		}
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// tick returns a channel that is closed within gateTick.
func (w *dataWorkers) tick() <-chan struct{} {
	w.tickMu.Lock()
	defer w.tickMu.Unlock()
	if w.tickCh == nil {
		ch := make(chan struct{})
		w.tickCh = ch
		time.AfterFunc(gateTick, func() {
			w.tickMu.Lock()
			w.tickCh = nil
			w.tickMu.Unlock()
			close(ch)
		})
	}
	return w.tickCh
}

// dataJob is one accepted data stream, with the gates that order it.
type dataJob struct {
	st         transport.ReceiveStream
	prev, mine *streamGate
}

// dataWorkers hands data streams to goroutines: an idle one if there is
// one, a new one otherwise. A goroutine whose stream has ended waits for
// the next (up to maxIdleDataWorkers of them), so that the per-stream cost
// is a channel send, not a goroutine start and the growth of its stack.
type dataWorkers struct {
	jobs    chan dataJob
	trim    chan struct{} // an idle worker that receives from it ends
	idle    atomic.Int32
	trimSet atomic.Bool // a trim is scheduled

	tickMu sync.Mutex
	tickCh chan struct{} // see tick

	clock *liveClock // the gates' deadlines are on it
}

// trimIdle ends the idle workers past keepIdleDataWorkers.
func (w *dataWorkers) trimIdle() {
	w.trimSet.Store(false)
	for n := w.idle.Load() - keepIdleDataWorkers; n > 0; n-- {
		select {
		case w.trim <- struct{}{}:
		default:
			return
		}
	}
}

// acceptDataStreams accepts the peer's data streams until the session
// ends. Streams are accepted in the order the peer opened them; each one
// registers with its subscription only after the streams opened before it
// have (or have failed to, or have taken headerOrderWait to send a header),
// so that a subscription learns of group N before group N+1 and can deliver
// in order.
func (s *Session) acceptDataStreams() {
	conn := s.conn
	w := &dataWorkers{jobs: make(chan dataJob), trim: make(chan struct{}),
		clock: newLiveClock(func() uint64 { return conn.Stats().PacketsReceived })}
	var gates gateAlloc
	prev := gates.newStreamGate(nil, 0)
	prev.release()
	for {
		st, err := s.conn.AcceptUniStream(s.ctx)
		if err != nil {
			return
		}
		j := dataJob{st: st, prev: prev, mine: gates.newStreamGate(prev, w.clock.Now()+int64(headerOrderWait))}
		prev = j.mine
		select {
		case w.jobs <- j:
		default:
			go s.dataWorker(w, j)
		}
	}
}

// dataReader is what a data worker keeps from stream to stream.
type dataReader struct {
	r    wire.StreamReader // its buffers are reused
	objs objectAlloc       // Objects with small payloads come in chunks
	wake chan struct{}     // the worker's wake channel (see streamGate)
}

// dataReaders keeps the state of ended data workers for new ones (of any
// session): a burst of streams past the idle workers starts goroutines,
// and the idle ones past keepIdleDataWorkers end after idleWorkerTrim. A
// reused wake channel may still be registered with a gate of the worker
// that had it: a spurious wake-up, which waitGate tolerates.
var dataReaders = sync.Pool{New: func() any { return &dataReader{wake: make(chan struct{}, 1)} }}

func (s *Session) dataWorker(w *dataWorkers, j dataJob) {
	d := dataReaders.Get().(*dataReader)
	defer func() {
		d.r.Reset(nil, 0, nil) // forget the stream, keep the buffers
		dataReaders.Put(d)
	}()
	for {
		s.handleDataStream(w, d, j.st, j.prev, j.mine)
		j = dataJob{}
		n := w.idle.Add(1)
		if n > maxIdleDataWorkers {
			w.idle.Add(-1)
			return
		}
		if n > keepIdleDataWorkers && w.trimSet.CompareAndSwap(false, true) {
			time.AfterFunc(idleWorkerTrim, w.trimIdle)
		}
		select {
		case j = <-w.jobs:
			w.idle.Add(-1)
		case <-w.trim:
			w.idle.Add(-1)
			return
		case <-s.done:
			return
		}
	}
}

// handleDataStream reads one unidirectional stream from the peer with r.
// It registers the stream once prev is released, and releases mine when it
// has (or has failed to).
func (s *Session) handleDataStream(w *dataWorkers, d *dataReader, st transport.ReceiveStream, prev, mine *streamGate) {
	r := &d.r
	defer mine.release()
	// A peer that opens a stream and never sends its header must not hold
	// the streams behind it beyond headerOrderWait of live time (mine's
	// deadline: they then go first, and this stream's objects may come too
	// late to be delivered in order; then they are counted as dropped). The
	// header read itself is not given up on: a header held up by a blackout
	// or a slow recovery is in flight, and stopping the stream would lose its
	// objects where nobody can count them (the stream's track is in the
	// header). A silent stream costs this goroutine until the session ends,
	// as does a stream that never ends after its header.
	r.Reset(st, s.draft, s.lim)
	err := r.ReadHeader()
	if err == nil {
		// The header is here: while this stream waits for the ones before
		// it, they hold the next one.
		mine.deadline.Store(gateHeld)
	}
	if !s.waitGate(w, prev, d.wake) {
		return
	}
	// Forwarding, this stream holds the next one until its first object is
	// forwarded, for at most headerOrderWait. (Not longer: the streams held
	// back do not read, and their unread data uses up the connection's flow
	// control credit that this stream may need.)
	mine.deadline.Store(w.clock.Now() + int64(headerOrderWait))
	if err != nil {
		if pe, ok := wire.AsProtocolError(err); ok {
			s.protocolViolation(CodeProtocolViolation, "data stream: %v", pe)
		} else {
			st.CancelRead(stopUnknownAlias)
		}
		return
	}
	switch r.Kind() {
	case wire.StreamFetch:
		mine.release()
		s.readFetchStream(st, d)
	default:
		s.readSubgroupStream(st, d, mine)
	}
}

func (s *Session) readSubgroupStream(st transport.ReceiveStream, d *dataReader, mine *streamGate) {
	r := &d.r
	h := r.SubgroupHeader()
	sub := s.subForAlias(h.TrackAlias, s.rules.requestIDs)
	if sub == nil {
		s.log.Debug("data stream for an unknown track alias", "alias", h.TrackAlias)
		st.CancelRead(stopUnknownAlias)
		return
	}
	g := h.Group
	started := sub.streamStarted(g)
	if sub.fwd == nil || !started {
		// Forwarding (a relay) keeps mine until the first object is
		// forwarded: the Track opens its subscribers' streams in the order
		// the first objects reach it, and their subscriptions drop a group
		// that starts after a later one. So the next stream forwards
		// nothing before this one's first object is forwarded (or this
		// stream ends, or the deadline set above passes).
		mine.release()
	}
	if !started {
		// Too late to keep group order: the stream's objects are dropped,
		// each counted as it arrives (stopping the stream would leave
		// uncounted all but one of them).
		var o wire.Object
		var err error
		for {
			if err = r.Next(&o); err != nil {
				break
			}
			o = wire.Object{}
			sub.mu.Lock()
			sub.stats.Dropped++
			sub.mu.Unlock()
		}
		if pe, ok := wire.AsProtocolError(err); ok {
			s.protocolViolation(CodeProtocolViolation, "data stream (alias %d, group %d): %v", h.TrackAlias, g, pe)
		}
		sub.lateStreamEnded()
		return
	}
	subgroup := h.Subgroup
	var err error
	for {
		var o wire.Object
		if err = r.Next(&o); err != nil {
			break
		}
		subgroup = o.Subgroup
		o.Extensions = s.extFromWire(o.Extensions)
		sub.deliverStream(d.objs.copyOf((*Object)(&o)))
		mine.release()
	}
	// At EOF the subgroup is complete. A reset stream, a closed session or
	// a malformed stream: what arrived is delivered, and the subgroup is
	// incomplete.
	reset := err != io.EOF && !errors.Is(err, io.EOF)
	if reset {
		if pe, ok := wire.AsProtocolError(err); ok {
			s.protocolViolation(CodeProtocolViolation, "data stream (alias %d, group %d): %v", h.TrackAlias, g, pe)
		}
		var se *transport.StreamError
		if errors.As(err, &se) && se.Remote {
			// The publisher (or a relay, for a subscriber that fell
			// behind) reset the stream: the subgroup is incomplete, and
			// at least one of its objects is lost.
			sub.mu.Lock()
			if !sub.ended {
				sub.lostLocked(1, "subgroup stream reset", g)
			}
			sub.mu.Unlock()
		}
	}
	if sub.fwd != nil {
		// The end of the upstream stream ends the forwarded one the same
		// way: FIN, or a reset when the subgroup is incomplete.
		if reset {
			sub.fwd.resetSubgroup(g, subgroup)
		} else {
			sub.fwd.EndSubgroup(g, subgroup)
		}
	}
	sub.streamEnded(g)
}

func (s *Session) readFetchStream(st transport.ReceiveStream, d *dataReader) {
	r := &d.r
	id := r.FetchHeader().RequestID
	s.mu.Lock()
	f := s.fetches[id]
	s.mu.Unlock()
	if f == nil {
		st.CancelRead(stopUnknownAlias)
		return
	}
	if f.order == wire.GroupOrderDescending {
		r.SetFetchGroupOrder(f.order) // draft-18 Group ID deltas count down
	}
	for {
		var o wire.Object
		err := r.Next(&o)
		if err == nil {
			o.Extensions = s.extFromWire(o.Extensions)
			f.q.deliverDatagram(d.objs.copyOf((*Object)(&o))) // arrival order is the fetch's order
			continue
		}
		s.mu.Lock()
		if s.fetches[id] == f {
			delete(s.fetches, id)
		}
		s.mu.Unlock()
		s.closeRequest(id) // draft-18: the fetch's request stream ends with it
		switch {
		case errors.Is(err, io.EOF):
			f.finish(fmt.Errorf("moq: fetch complete: %w", ErrEnded))
		default:
			if pe, ok := wire.AsProtocolError(err); ok {
				s.protocolViolation(CodeProtocolViolation, "fetch stream %d: %v", id, pe)
			}
			f.finish(fmt.Errorf("moq: fetch stream failed: %w", err))
		}
		return
	}
}

// handleDatagram delivers one datagram.
func (s *Session) handleDatagram(b []byte) {
	dg, err := wire.ParseDatagram(b, s.draft, s.lim)
	if err != nil {
		if pe, ok := wire.AsProtocolError(err); ok {
			s.protocolViolation(CodeProtocolViolation, "datagram: %v", pe)
		} else {
			s.protocolViolation(CodeProtocolViolation, "datagram: %v", err)
		}
		return
	}
	s.mu.Lock()
	sub := s.subsByAlias[dg.TrackAlias]
	s.mu.Unlock()
	if sub == nil {
		return // unknown alias: datagrams are unreliable anyway
	}
	o := dg.Object
	o.Extensions = s.extFromWire(o.Extensions)
	sub.deliverDatagram((*Object)(&o))
}
