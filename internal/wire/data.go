package wire

// Data plane, draft-neutral.

// Object is one MoQT object as received or to be sent.
type Object struct {
	Group    uint64
	Subgroup uint64
	ID       uint64
	Priority uint8 // publisher priority
	Status   ObjectStatus
	// Extensions is the raw draft-14 extension headers block (a sequence of
	// key-value pairs, without its length), or nil. Kept raw so that relays
	// forward it untouched; ParseExtensions splits it.
	Extensions []byte
	// Payload is the object's payload. Decoders may alias their input.
	Payload []byte
}

// Data stream and datagram type codes.
const (
	StreamTypeSubgroup07 uint64 = 0x04 // STREAM_HEADER_SUBGROUP (07)
	StreamTypeFetch      uint64 = 0x05 // FETCH_HEADER (07 and 14)
	DatagramType07       uint64 = 0x01 // OBJECT_DATAGRAM (07 spec layout)
)

// Draft-14 SUBGROUP_HEADER type bits (types 0x10-0x15, 0x18-0x1D).
const (
	SubgroupBitExtensions  uint64 = 0x01
	SubgroupBitFirstObject uint64 = 0x02 // subgroup ID = first object ID
	SubgroupBitExplicit    uint64 = 0x04 // subgroup ID field present
	SubgroupBitEndOfGroup  uint64 = 0x08
	// SubgroupBitDefaultPriority (draft-16 only): the header has no
	// Publisher Priority; the subscription's applies (types 0x30-0x3D).
	SubgroupBitDefaultPriority uint64 = 0x20
)

// Draft-14 OBJECT_DATAGRAM type bits (types 0x00-0x07, 0x20-0x21).
const (
	DatagramBitExtensions uint64 = 0x01
	DatagramBitEndOfGroup uint64 = 0x02
	DatagramBitNoObjectID uint64 = 0x04
	DatagramBitStatus     uint64 = 0x20
	// DatagramBitDefaultPriority (draft-16 only): no Publisher Priority;
	// the subscription's applies.
	DatagramBitDefaultPriority uint64 = 0x08
)

// SubgroupHeader is the header of a subgroup stream: draft-07
// STREAM_HEADER_SUBGROUP or draft-14 SUBGROUP_HEADER.
type SubgroupHeader struct {
	// Type is the stream type: 0x04 in draft-07; in draft-14 one of
	// 0x10-0x15, 0x18-0x1D (see SubgroupType). Encoders use it as given.
	Type        uint64
	SubscribeID uint64 // Draft07CF only
	TrackAlias  uint64
	Group       uint64
	// Subgroup is the subgroup ID. With draft-14 types whose subgroup ID is
	// the first object's ID, decoders set it when the first object arrives.
	Subgroup uint64
	// Priority is the publisher priority; with a draft-16 type that has
	// SubgroupBitDefaultPriority it is not on the wire (left 0 by decoders,
	// ignored by encoders): the subscription's publisher priority applies.
	Priority uint8
}

// SubgroupType returns the draft-14 SUBGROUP_HEADER type for the given
// properties: whether objects carry extension blocks, how the subgroup ID is
// conveyed, and whether the stream ends its group.
//
// With explicitID the subgroup ID is written in the header (types 0x14/0x15,
// 0x1C/0x1D). Otherwise it is not written: a subgroup of 0 gives the "subgroup
// ID is 0" types (0x10/0x11, 0x18/0x19), and a non-zero subgroup gives the
// "subgroup ID = first object ID" types (0x12/0x13, 0x1A/0x1B), in which case
// the stream's first object must have ID subgroup (SubgroupEncoder checks it).
func SubgroupType(extensions, explicitID, endOfGroup bool, subgroup uint64) uint64 {
	t := uint64(0x10)
	if extensions {
		t |= SubgroupBitExtensions
	}
	switch {
	case explicitID:
		t |= SubgroupBitExplicit
	case subgroup != 0:
		t |= SubgroupBitFirstObject
	}
	if endOfGroup {
		t |= SubgroupBitEndOfGroup
	}
	return t
}

// FetchHeader is the header of a fetch stream.
type FetchHeader struct {
	RequestID uint64 // 07: Subscribe ID
}

// Datagram is one OBJECT_DATAGRAM.
type Datagram struct {
	// Type is the datagram type: 0x01 in draft-07 (spec layout), unused in
	// Draft07CF (no type byte), one of 0x00-0x07, 0x20-0x21 in draft-14.
	Type        uint64
	SubscribeID uint64 // Draft07CF only
	TrackAlias  uint64
	Object      Object // Subgroup is unused
	// EndOfGroup is draft-14's End of Group bit.
	EndOfGroup bool
}
