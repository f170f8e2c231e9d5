package wire

// VarintLen returns the number of bytes of the minimal encoding of v.
// v must not exceed MaxVarint.
func VarintLen(v uint64) int {
	switch {
	case v <= 63:
		return 1
	case v <= 16383:
		return 2
	case v <= 1<<30-1:
		return 4
	default:
		return 8
	}
}

// AppendVarint appends the minimal QUIC varint encoding of v. Values above
// MaxVarint are a programming error; they are truncated to 62 bits, so
// encoders check them first (see checkVarint).
func AppendVarint(b []byte, v uint64) []byte {
	switch {
	case v <= 63:
		return append(b, byte(v))
	case v <= 16383:
		return append(b, byte(v>>8)|0x40, byte(v))
	case v <= 1<<30-1:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(b, byte(v>>56)&0x3f|0xc0, byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// ParseVarint decodes a QUIC varint from the start of b, accepting
// non-minimal encodings. It returns the value and the number of bytes used,
// or ErrNeedMore if b is too short.
func ParseVarint(b []byte) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, ErrNeedMore
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, ErrNeedMore
	}
	v := uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n, nil
}
