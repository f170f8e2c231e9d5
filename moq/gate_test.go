package moq

import "testing"

// The ordering gates of data streams (data.go): which gate a waiting stream
// ends up waiting for. Each case either returns (the wait is over) or would
// hang until the test's own timeout: none relies on timing.

func gateSession() (*Session, *dataWorkers) {
	return &Session{done: make(chan struct{})}, &dataWorkers{jobs: make(chan dataJob), trim: make(chan struct{}), clock: newLiveClock(nil)}
}

// A released gate lets the next stream go at once, whatever its deadline.
func TestGateReleased(t *testing.T) {
	s, w := gateSession()
	g := newStreamGate(nil, gateHeld)
	g.release()
	g.release() // a second release does nothing
	if !s.waitGate(w, g, make(chan struct{}, 1)) {
		t.Fatal("waitGate on a released gate = false, want true")
	}
}

// A gate whose deadline has passed hands the waiter on to the gate before
// it: the stream behind a stalled one still goes after the streams before
// the stalled one. Here the one before never releases, so only the end of
// the session ends the wait (with false); going past the stalled gate
// alone would return true.
func TestGateExpiredWaitsForPredecessor(t *testing.T) {
	s, w := gateSession()
	first := newStreamGate(nil, gateHeld) // its stream has its header and waits
	stalled := newStreamGate(first, 0)    // expired, never released
	done := make(chan bool, 1)
	go func() { done <- s.waitGate(w, stalled, make(chan struct{}, 1)) }()
	close(s.done)
	if ok := <-done; ok {
		t.Fatal("waitGate went past an expired gate while the gate before it held")
	}
	if stalled.prev.Load() != first {
		t.Fatal("an unreleased gate lost its predecessor")
	}
	stalled.release()
	if stalled.prev.Load() != nil {
		t.Fatal("a released gate still refers to its predecessor")
	}
}

// Once the gate before a stalled one is released, the waiter goes.
func TestGateExpiredPredecessorReleased(t *testing.T) {
	s, w := gateSession()
	first := newStreamGate(nil, gateHeld)
	stalled := newStreamGate(first, 0)
	done := make(chan bool, 1)
	go func() { done <- s.waitGate(w, stalled, make(chan struct{}, 1)) }()
	first.release()
	if ok := <-done; !ok {
		t.Fatal("waitGate = false, want true once the predecessor is released")
	}
}

// A chain of expired gates with nothing before them lets the waiter go.
func TestGateExpiredChain(t *testing.T) {
	s, w := gateSession()
	a := newStreamGate(nil, 0)
	b := newStreamGate(a, 0)
	c := newStreamGate(b, 0)
	if !s.waitGate(w, c, make(chan struct{}, 1)) {
		t.Fatal("waitGate past a chain of expired gates = false, want true")
	}
}

// The end of the session ends the wait with false.
func TestGateSessionEnds(t *testing.T) {
	s, w := gateSession()
	g := newStreamGate(nil, gateHeld)
	done := make(chan bool, 1)
	go func() { done <- s.waitGate(w, g, make(chan struct{}, 1)) }()
	close(s.done)
	if ok := <-done; ok {
		t.Fatal("waitGate = true after the session ended, want false")
	}
}

// A worker's wake channel may hold a signal from a gate it waited for
// before: that does not end the wait for a gate that still holds (here
// only the end of the session does, with false).
func TestGateStaleWake(t *testing.T) {
	s, w := gateSession()
	g := newStreamGate(nil, gateHeld)
	wake := make(chan struct{}, 1)
	wake <- struct{}{} // left over from an earlier gate
	done := make(chan bool, 1)
	go func() { done <- s.waitGate(w, g, wake) }()
	close(s.done)
	if ok := <-done; ok {
		t.Fatal("waitGate = true on a stale wake-up while its gate held")
	}
}

// Release signals every worker registered with the gate, each once
// however often it registered.
func TestGateWakesEveryWaiter(t *testing.T) {
	g := newStreamGate(nil, gateHeld)
	chans := []chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}, 1)}
	for range 2 {
		for _, ch := range chans {
			if !g.wait(ch) {
				t.Fatal("wait on a held gate = false")
			}
		}
	}
	if len(g.more) != len(chans)-len(g.waiters) {
		t.Fatalf("gate keeps %d extra waiters, want %d", len(g.more), len(chans)-len(g.waiters))
	}
	g.release()
	for i, ch := range chans {
		select {
		case <-ch:
		default:
			t.Fatalf("waiter %d not signalled on release", i)
		}
	}
	if g.wait(chans[0]) {
		t.Fatal("wait on a released gate = true")
	}
}

// Gates from a gateAlloc are distinct, chained as asked, and come in
// chunks: more than a chunk's worth works.
func TestGateAlloc(t *testing.T) {
	var a gateAlloc
	prev := a.newStreamGate(nil, 0)
	seen := map[*streamGate]bool{prev: true}
	for i := range 2*gateChunk + 1 {
		g := a.newStreamGate(prev, int64(i))
		if seen[g] {
			t.Fatalf("gate %d handed out twice", i)
		}
		seen[g] = true
		if g.prev.Load() != prev || g.deadline.Load() != int64(i) || g.released {
			t.Fatalf("gate %d not initialised", i)
		}
		prev = g
	}
}

// newStreamGate allocates one gate on its own (the session's accepting
// goroutine takes them from a gateAlloc).
func newStreamGate(prev *streamGate, deadline int64) *streamGate {
	g := new(streamGate)
	g.init(prev, deadline)
	return g
}
