package moq

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// headerOrderWait bounds how long a data stream whose header has not
// arrived holds back the streams the peer opened after it.
const headerOrderWait = time.Second

// Stream reset codes we send with STOP_SENDING.
const (
	stopUnknownAlias uint64 = 0x1 // CANCELLED
	stopLate         uint64 = 0x1
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

// handleDataStream reads one unidirectional stream from the peer. prev is
// closed when the stream accepted before this one has registered; this one
// closes mine when it has.
func (s *Session) handleDataStream(st transport.ReceiveStream, prev <-chan struct{}, mine chan struct{}) {
	release := sync.OnceFunc(func() { close(mine) })
	defer release()
	// A peer that opens a stream and never sends its header must not hold
	// this goroutine beyond the request timeout, nor the streams behind it
	// beyond headerOrderWait (they then go first, and this stream's objects
	// may come too late to be delivered in order).
	st.SetReadDeadline(time.Now().Add(s.opts.requestTimeout()))
	stall := time.AfterFunc(headerOrderWait, release)
	defer stall.Stop()
	r := wire.NewStreamReader(st, s.draft, s.lim)
	err := r.ReadHeader()
	select {
	case <-prev:
	case <-s.done:
		return
	}
	if err != nil {
		if pe, ok := wire.AsProtocolError(err); ok {
			s.protocolViolation(CodeProtocolViolation, "data stream: %v", pe)
		} else {
			st.CancelRead(stopUnknownAlias)
		}
		return
	}
	st.SetReadDeadline(time.Time{})
	switch r.Kind() {
	case wire.StreamFetch:
		release()
		s.readFetchStream(st, r)
	default:
		s.readSubgroupStream(st, r, release)
	}
}

func (s *Session) readSubgroupStream(st transport.ReceiveStream, r *wire.StreamReader, release func()) {
	h := r.SubgroupHeader()
	sub := s.subForAlias(h.TrackAlias, s.rules.requestIDs)
	if sub == nil {
		s.log.Debug("data stream for an unknown track alias", "alias", h.TrackAlias)
		st.CancelRead(stopUnknownAlias)
		return
	}
	g := h.Group
	started := sub.streamStarted(g)
	if sub.fwd != nil && started {
		// Forwarding (a relay): the Track opens its subscribers' streams in
		// the order the first objects reach it, and their subscriptions
		// drop a group that starts after a later one. So the next stream
		// forwards nothing before this one's first object is forwarded (or
		// this stream ends, or a request timeout passes).
		t := time.AfterFunc(s.opts.requestTimeout(), release)
		defer t.Stop()
	} else {
		release()
	}
	if !started {
		sub.mu.Lock()
		sub.stats.Dropped++
		sub.mu.Unlock()
		st.CancelRead(stopLate)
		return
	}
	defer sub.streamEnded(g)
	subgroup := h.Subgroup
	reset := false
	if sub.fwd != nil {
		// The end of the upstream stream ends the forwarded one the same
		// way: FIN, or a reset when the subgroup is incomplete.
		defer func() {
			if reset {
				sub.fwd.resetSubgroup(g, subgroup)
			} else {
				sub.fwd.EndSubgroup(g, subgroup)
			}
		}()
	}
	for {
		o := new(wire.Object)
		err := r.Next(o)
		if err == nil {
			subgroup = o.Subgroup
			sub.deliverStream((*Object)(o))
			release()
			continue
		}
		if errors.Is(err, io.EOF) {
			return
		}
		// A reset stream, a closed session or a malformed stream: what
		// arrived is delivered, and the subgroup is incomplete.
		reset = true
		if pe, ok := wire.AsProtocolError(err); ok {
			s.protocolViolation(CodeProtocolViolation, "data stream (alias %d, group %d): %v", h.TrackAlias, g, pe)
		}
		return
	}
}

func (s *Session) readFetchStream(st transport.ReceiveStream, r *wire.StreamReader) {
	id := r.FetchHeader().RequestID
	s.mu.Lock()
	f := s.fetches[id]
	s.mu.Unlock()
	if f == nil {
		st.CancelRead(stopUnknownAlias)
		return
	}
	for {
		o := new(wire.Object)
		err := r.Next(o)
		if err == nil {
			f.q.deliverDatagram((*Object)(o)) // arrival order is the fetch's order
			continue
		}
		s.mu.Lock()
		if s.fetches[id] == f {
			delete(s.fetches, id)
		}
		s.mu.Unlock()
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
	sub.deliverDatagram((*Object)(&o))
}
