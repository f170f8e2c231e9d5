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
	if n := testing.AllocsPerRun(10*objectChunk, func() { allocSink = a.copyOf(small) }); n != 0 {
		t.Errorf("copying a small object: %v allocations, want 0 (amortised)", n)
	}
	if n := testing.AllocsPerRun(100, func() { allocSink = a.copyOf(large) }); n != 1 {
		t.Errorf("copying an object with a large payload: %v allocations, want 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { allocSink = a.copyOf(bigExt) }); n != 1 {
		t.Errorf("copying an object with large extensions: %v allocations, want 1", n)
	}
	if p := a.copyOf(large); !bytes.Equal(p.Payload, large.Payload) || p.Group != 3 {
		t.Error("large copy differs")
	}
}
