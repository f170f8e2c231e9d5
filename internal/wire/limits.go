package wire

// Protocol limits that no configuration can raise.
const (
	// MaxTupleFields is the largest number of fields in a namespace tuple.
	MaxTupleFields = 32
	// MaxFullTrackName is the largest total length of namespace fields plus
	// track name, in bytes.
	MaxFullTrackName = 4096
	// MaxReasonPhrase is the largest reason phrase, in bytes.
	MaxReasonPhrase = 1024
	// MaxControlMessage14 is the largest draft-14 control message payload
	// (its length field has 16 bits).
	MaxControlMessage14 = 65535
	// MaxGoAwayURI is the largest GOAWAY new session URI.
	MaxGoAwayURI = 8192
	// MaxVarint is the largest value a QUIC varint can carry.
	MaxVarint = 1<<62 - 1
)

// Default limits.
const (
	DefaultMaxControlMessage = 65535
	DefaultMaxParamBytes     = 4096
	DefaultMaxParams         = 64
	DefaultMaxExtensionBytes = 16384
	DefaultMaxObjectPayload  = 16 << 20
	DefaultMaxVersions       = 64
)

// Limits bounds what a decoder accepts from the wire. Every length read from
// the wire is checked against these before anything is allocated. The zero
// value of a field means its default.
type Limits struct {
	// MaxControlMessage bounds a control message payload (draft-07's length
	// is a varint; draft-14's is at most 65535 anyway).
	MaxControlMessage int
	// MaxParamBytes bounds one parameter value (and one extension header
	// value).
	MaxParamBytes int
	// MaxParams bounds the number of parameters in one message.
	MaxParams int
	// MaxExtensionBytes bounds an object's extension headers block.
	MaxExtensionBytes int
	// MaxObjectPayload bounds an object payload.
	MaxObjectPayload int
	// AllowUnknownParams makes the draft-16 decoder keep message parameters
	// it does not know (and DELIVERY_TIMEOUT 0) instead of rejecting the
	// message, which the draft-16 text requires of a session (KindInvalidValue,
	// a PROTOCOL_VIOLATION). For tools that show what a peer sent.
	AllowUnknownParams bool
}

// DefaultLimits are the limits used when none are given.
var DefaultLimits = Limits{}

func (l *Limits) controlMessage() int {
	if l == nil || l.MaxControlMessage <= 0 {
		return DefaultMaxControlMessage
	}
	return l.MaxControlMessage
}

func (l *Limits) allowUnknownParams() bool { return l != nil && l.AllowUnknownParams }

func (l *Limits) paramBytes() int {
	if l == nil || l.MaxParamBytes <= 0 {
		return DefaultMaxParamBytes
	}
	return l.MaxParamBytes
}

func (l *Limits) params() int {
	if l == nil || l.MaxParams <= 0 {
		return DefaultMaxParams
	}
	return l.MaxParams
}

func (l *Limits) extensionBytes() int {
	if l == nil || l.MaxExtensionBytes <= 0 {
		return DefaultMaxExtensionBytes
	}
	return l.MaxExtensionBytes
}

func (l *Limits) objectPayload() int {
	if l == nil || l.MaxObjectPayload <= 0 {
		return DefaultMaxObjectPayload
	}
	return l.MaxObjectPayload
}
