package moq

import "github.com/moq-ffi/moq-ffi-go/internal/wire"

// objectChunk is how many Objects with small payloads are allocated at
// once. An Object kept (in a Track's retained groups, by an application)
// keeps its chunk alive, and with it its chunk neighbours' small payloads:
// carved in the same order from one wire.Slab, 16 objects of at most
// wire.SlabMax bytes of payload and as much of extensions span at most
// nine slabs (36 KiB); 200-byte objects without extensions span one or
// two (4-8 KiB).
const objectChunk = 16

// objectAlloc hands out Objects: those whose payload and extensions are
// small (carved from a wire.Slab) from chunks, others on their own, so
// that a chunk never keeps a large payload alive. Not safe for concurrent
// use.
type objectAlloc struct{ free []Object }

// copyOf returns a heap copy of o.
func (a *objectAlloc) copyOf(o *Object) *Object {
	if len(o.Payload) > wire.SlabMax || len(o.Extensions) > wire.SlabMax {
		p := new(Object)
		*p = *o
		return p
	}
	if len(a.free) == 0 {
		a.free = make([]Object, objectChunk)
	}
	p := &a.free[0]
	a.free = a.free[1:]
	*p = *o
	return p
}
