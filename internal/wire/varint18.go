package wire

// The draft-18 variable-length integer (draft-ietf-moq-transport-18,
// "Variable-Length Integers", written vi64): the number of leading 1 bits of
// the first byte gives the length, 1 to 9 bytes; the bits after the first 0
// and the following bytes hold the value, big-endian. The ninth length
// (first byte 0xFF) carries a full 64-bit value in the 8 bytes after it.
// Any length that can hold the value is valid (non-minimal encodings are
// accepted); the encoder writes the shortest.
//
//	leading bits  bytes  value bits  range
//	0             1       7          0..127
//	10            2      14          0..16383
//	110           3      21          0..2^21-1
//	1110          4      28          0..2^28-1
//	11110         5      35          0..2^35-1
//	111110        6      42          0..2^42-1
//	1111110       7      49          0..2^49-1
//	11111110      8      56          0..2^56-1
//	11111111      9      64          0..2^64-1

// VarintLen18 returns the number of bytes of the shortest draft-18 encoding
// of v (1..9).
func VarintLen18(v uint64) int {
	for n := 1; n < 9; n++ {
		if v < 1<<(7*n) {
			return n
		}
	}
	return 9
}

// AppendVarint18 appends the shortest draft-18 encoding of v. Every uint64
// can be encoded.
func AppendVarint18(b []byte, v uint64) []byte {
	n := VarintLen18(v)
	if n == 9 {
		return append(b, 0xff, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	// n-1 leading 1 bits, a 0, then the top value bits in the first byte.
	prefix := byte(0xff << (9 - n))
	b = append(b, prefix|byte(v>>(8*(n-1))))
	for i := n - 2; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// varint18Len returns the encoded length announced by first byte c.
func varint18Len(c byte) int {
	n := 1
	for c&0x80 != 0 && n < 9 {
		n++
		c <<= 1
	}
	return n
}

// ParseVarint18 decodes a draft-18 varint from the start of b, accepting
// non-minimal encodings. It returns the value and the number of bytes used,
// or ErrNeedMore if b is too short.
func ParseVarint18(b []byte) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, ErrNeedMore
	}
	n := varint18Len(b[0])
	if len(b) < n {
		return 0, 0, ErrNeedMore
	}
	var v uint64
	if n < 9 {
		v = uint64(b[0] & (0xff >> n)) // the bits after the first 0
	}
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n, nil
}

// parseVarintFor decodes a varint in draft-18 form (v18) or QUIC form.
func parseVarintFor(v18 bool, b []byte) (uint64, int, error) {
	if v18 {
		return ParseVarint18(b)
	}
	return ParseVarint(b)
}

// appendVarintFor appends v in draft-18 form (v18) or QUIC form.
func appendVarintFor(v18 bool, b []byte, v uint64) []byte {
	if v18 {
		return AppendVarint18(b, v)
	}
	return AppendVarint(b, v)
}
