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

// chunks hands out zeroed values of T carved from arrays of n at a time:
// one allocation per n values. The garbage collector frees an array once
// none of its values is referred to; values are never handed out twice.
// Not safe for concurrent use.
type chunks[T any] struct{ free []T }

// next returns a zeroed T from the current array, making a new array of n
// when it is used up.
func (c *chunks[T]) next(n int) *T {
	if len(c.free) == 0 {
		c.free = make([]T, n)
	}
	p := &c.free[0]
	c.free = c.free[1:]
	return p
}

// objectAlloc hands out Objects: those whose payload and extensions are
// small (carved from a wire.Slab) from chunks, others on their own, so
// that a chunk never keeps a large payload alive. Not safe for concurrent
// use.
type objectAlloc struct{ chunks[Object] }

// copyOf returns a heap copy of o.
func (a *objectAlloc) copyOf(o *Object) *Object {
	if len(o.Payload) > wire.SlabMax || len(o.Extensions) > wire.SlabMax {
		p := new(Object)
		*p = *o
		return p
	}
	p := a.next(objectChunk)
	*p = *o
	return p
}
