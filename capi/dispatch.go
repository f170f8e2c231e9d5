package main

import "sync"

// gate guards one serial stream of callbacks: a dispatcher enters it before
// invoking the host's callback and leaves after; closing it stops further
// callbacks and waits for the running one, unless the closer is itself
// running inside a library callback (then it cannot wait without risking a
// deadlock, so it does not).
type gate struct {
	mu     sync.Mutex
	cond   sync.Cond
	closed bool
	busy   bool
	cb, ud uintptr
}

func newGate(cb, ud uintptr) *gate {
	g := &gate{cb: cb, ud: ud}
	g.cond.L = &g.mu
	return g
}

// enter returns the callback to invoke, and false when the gate is closed.
// Callers must leave() after invoking it.
func (g *gate) enter() (cb, ud uintptr, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, 0, false
	}
	g.busy = true
	return g.cb, g.ud, true
}

func (g *gate) leave() {
	g.mu.Lock()
	g.busy = false
	g.cond.Broadcast()
	g.mu.Unlock()
}

// waitIdleLocked waits for a running callback to return, unless the calling
// thread is inside a library callback.
func (g *gate) waitIdleLocked() {
	if !g.busy {
		return
	}
	g.mu.Unlock()
	in := inCallback()
	g.mu.Lock()
	if in {
		return
	}
	for g.busy {
		g.cond.Wait()
	}
}

// close stops the gate for good and waits for a running callback.
func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.waitIdleLocked()
	g.mu.Unlock()
}

// set replaces the callback; once it returns, the old callback is not
// running (see waitIdleLocked) and will not be invoked again.
func (g *gate) set(cb, ud uintptr) {
	g.mu.Lock()
	g.cb, g.ud = cb, ud
	g.waitIdleLocked()
	g.mu.Unlock()
}

// serialQueue delivers a client's connection callbacks in order, one at a
// time. The thread that posts an event delivers it (and any queued behind
// it) itself when nobody else is delivering; a thread that must see its
// event delivered before returning (moq_connect, moq_disconnect) waits for
// the deliverer, unless it is itself inside a library callback.
type serialQueue struct {
	mu       sync.Mutex
	cond     sync.Cond
	q        []func()
	running  bool
	closed   bool
	posted   uint64
	finished uint64
}

func newSerialQueue() *serialQueue {
	s := &serialQueue{}
	s.cond.L = &s.mu
	return s
}

// post queues f and, if nobody is delivering, delivers the queue on this
// thread. With wait, it returns only once f has run (or was dropped).
func (s *serialQueue) post(f func(), wait bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.q = append(s.q, f)
	s.posted++
	mine := s.posted
	if s.running {
		if wait {
			s.mu.Unlock()
			in := inCallback()
			s.mu.Lock()
			for !in && s.finished < mine && s.running {
				s.cond.Wait()
			}
		}
		s.mu.Unlock()
		return
	}
	s.running = true
	for len(s.q) > 0 && !s.closed {
		g := s.q[0]
		s.q[0] = nil
		s.q = s.q[1:]
		s.mu.Unlock()
		func() {
			defer recoverGoroutine("connection callback")
			g()
		}()
		s.mu.Lock()
		s.finished++
		s.cond.Broadcast()
	}
	s.q = nil
	s.running = false
	s.cond.Broadcast()
	s.mu.Unlock()
}

// close drops queued events and waits for a running one (unless called
// from inside a callback).
func (s *serialQueue) close() {
	s.mu.Lock()
	s.closed = true
	s.q = nil
	if s.running {
		s.mu.Unlock()
		in := inCallback()
		s.mu.Lock()
		for !in && s.running {
			s.cond.Wait()
		}
	}
	s.mu.Unlock()
}

// barrier waits for a running callback to return (unless called from inside
// a library callback) without closing the gate.
func (g *gate) barrier() {
	g.mu.Lock()
	g.waitIdleLocked()
	g.mu.Unlock()
}
