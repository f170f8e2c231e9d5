package wire

// Slabs for small byte slices.
const (
	// SlabSize is the size of the slabs that a Slab carves small slices
	// from: one allocation for many small objects instead of one each
	// (twenty 200-byte payloads). Small, because a slice kept alive keeps
	// its whole slab: a relay track that goes idle keeps its last small
	// object, and so at most SlabSize bytes, not more.
	SlabSize = 4 << 10
	// SlabMax is the largest slice a Slab carves; longer ones are
	// allocated on their own.
	SlabMax = 1 << 10
)

// Slab hands out small byte slices (payloads, extension blocks) carved
// from shared SlabSize allocations. A carved slice has its length as its
// capacity, so appending to it copies it and never reaches its neighbour.
// The garbage collector frees a slab once nothing refers into it: a small
// slice kept long (by a relay's cache, by an application) keeps its whole
// slab alive, at most SlabSize bytes per slice kept (shared with the
// slices carved next to it). The zero Slab is ready; it is not safe for
// concurrent use.
type Slab struct{ free []byte }

// Carve returns an empty slice of capacity n: from the slab if n is at
// most SlabMax, allocated on its own otherwise.
func (s *Slab) Carve(n int) []byte {
	if n > SlabMax {
		return make([]byte, 0, n)
	}
	if len(s.free) < n {
		s.free = make([]byte, SlabSize)
	}
	p := s.free[:0:n]
	s.free = s.free[n:]
	return p
}
