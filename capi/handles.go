package main

import "sync"

// Handles are identifiers from one 64-bit counter, handed to C as pointer
// values. They are looked up here, never dereferenced, and never reused.
var handles = struct {
	sync.Mutex
	next    uintptr
	clients map[uintptr]*client
	pubs    map[uintptr]*publisher
	subs    map[uintptr]*subscriber
}{
	next:    0x10000,
	clients: map[uintptr]*client{},
	pubs:    map[uintptr]*publisher{},
	subs:    map[uintptr]*subscriber{},
}

// newID returns a fresh handle value (pointer-aligned, never 0).
func newIDLocked() uintptr {
	handles.next += 16
	return handles.next
}

func lookupClient(id uintptr) *client {
	handles.Lock()
	defer handles.Unlock()
	return handles.clients[id]
}

func lookupPublisher(id uintptr) *publisher {
	handles.Lock()
	defer handles.Unlock()
	return handles.pubs[id]
}

func lookupSubscriber(id uintptr) *subscriber {
	handles.Lock()
	defer handles.Unlock()
	return handles.subs[id]
}
