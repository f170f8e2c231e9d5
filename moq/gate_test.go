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
	if !s.waitGate(w, g) {
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
	go func() { done <- s.waitGate(w, stalled) }()
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
	go func() { done <- s.waitGate(w, stalled) }()
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
	if !s.waitGate(w, c) {
		t.Fatal("waitGate past a chain of expired gates = false, want true")
	}
}

// The end of the session ends the wait with false.
func TestGateSessionEnds(t *testing.T) {
	s, w := gateSession()
	g := newStreamGate(nil, gateHeld)
	done := make(chan bool, 1)
	go func() { done <- s.waitGate(w, g) }()
	close(s.done)
	if ok := <-done; ok {
		t.Fatal("waitGate = true after the session ended, want false")
	}
}
