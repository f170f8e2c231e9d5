package moq

import (
	"bytes"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// allocSink makes the copies escape, as they do in use.
var allocSink *Object

// Objects with small payloads come from chunks (no allocation of their
// own, amortised), each a distinct copy; an object with a large payload is
// allocated on its own, so that no chunk keeps a large payload alive.
func TestObjectAllocChunks(t *testing.T) {
	var a objectAlloc
	small := &Object{Group: 1, ID: 2, Payload: make([]byte, wire.SlabMax)}
	large := &Object{Group: 3, Payload: make([]byte, wire.SlabMax+1)}
	bigExt := &Object{Group: 4, Extensions: make([]byte, wire.SlabMax+1)}
	seen := map[*Object]bool{}
	for i := range 3 * objectChunk {
		p := a.copyOf(small)
		if p == small || seen[p] || p.Group != 1 || p.ID != 2 || len(p.Payload) != wire.SlabMax {
			t.Fatalf("copy %d: not a distinct copy", i)
		}
		seen[p] = true
	}
	if n := testing.AllocsPerRun(32*objectChunk, func() { allocSink = a.copyOf(small) }); n != 0 {
		t.Errorf("copying a small object: %v allocations, want 0 (amortised)", n)
	}
	if n := testing.AllocsPerRun(1000, func() { allocSink = a.copyOf(large) }); n != 1 {
		t.Errorf("copying an object with a large payload: %v allocations, want 1", n)
	}
	if n := testing.AllocsPerRun(1000, func() { allocSink = a.copyOf(bigExt) }); n != 1 {
		t.Errorf("copying an object with large extensions: %v allocations, want 1", n)
	}
	if p := a.copyOf(large); !bytes.Equal(p.Payload, large.Payload) || p.Group != 3 {
		t.Error("large copy differs")
	}
}

// The application queue of a Subscription stays first in, first out when
// it moves back to the front of its array, and an application that keeps
// up (one object queued, one read) costs no allocation.
func TestSubscriptionQueueReuse(t *testing.T) {
	sub := &Subscription{wake: make(chan struct{}, 1), limit: 1 << 30}
	objs := make([]Object, 1000)
	next, want := 0, 0
	push := func(n int) {
		sub.mu.Lock()
		for range n {
			objs[next].ID = uint64(next)
			sub.pushLocked(&objs[next])
			next++
		}
		sub.mu.Unlock()
	}
	read := func(n int) {
		for range n {
			o, _, ok := sub.TryReadObject()
			if !ok || o != &objs[want] {
				t.Fatalf("read %d: got %v (ok %v)", want, o, ok)
			}
			want++
		}
	}
	// Fill, drain part, refill past the end: the queue moves or grows.
	for _, step := range [][2]int{{8, 5}, {10, 3}, {1, 6}, {20, 20}, {7, 1}, {7, 1}, {7, 1}, {30, 35}, {3, 3}} {
		push(step[0])
		read(step[1])
	}
	read(next - want)
	if _, _, ok := sub.TryReadObject(); ok {
		t.Fatal("an object read from an empty queue")
	}
	o := &Object{}
	if n := testing.AllocsPerRun(100, func() {
		for range 10 {
			sub.mu.Lock()
			sub.pushLocked(o)
			sub.mu.Unlock()
			sub.TryReadObject()
		}
	}); n != 0 {
		t.Errorf("queue one, read one (ten times): %v allocations, want 0", n)
	}
}

// Track.Write copies small payloads into the track's slab: each retained
// copy keeps its bytes when the caller reuses its buffer, and appending
// to one never reaches the next.
func TestTrackWriteSlabCopies(t *testing.T) {
	tr := NewTrack(Namespace{"slab"}, "t", TrackOptions{RetainGroups: 8})
	buf := make([]byte, 100)
	for i := range 3 {
		for j := range buf {
			buf[j] = byte(i)
		}
		if _, err := tr.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.Write(nil); err != nil {
		t.Fatal(err)
	}
	clear(buf)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.groups) != 4 {
		t.Fatalf("%d groups retained, want 4", len(tr.groups))
	}
	for i, rg := range tr.groups[:3] {
		p := rg.objects[0].Payload
		_ = append(p, 0xFF)
		if len(p) != 100 || cap(p) != 100 || !bytes.Equal(p, bytes.Repeat([]byte{byte(i)}, 100)) {
			t.Fatalf("group %d: payload %v (cap %d)", i, p, cap(p))
		}
	}
	if p := tr.groups[3].objects[0].Payload; len(p) != 0 {
		t.Fatalf("empty write retained %d bytes", len(p))
	}
}
