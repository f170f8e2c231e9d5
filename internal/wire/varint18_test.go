package wire

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestVarint18TextExamples: the "Example Integer Encodings" table of
// draft-ietf-moq-transport-18, "Variable-Length Integers", decoded and (for
// the shortest encodings) encoded.
func TestVarint18TextExamples(t *testing.T) {
	for _, c := range []struct {
		hex     string
		v       uint64
		minimal bool
	}{
		{"25", 37, true},
		{"8025", 37, false},
		{"bbbd", 15293, true},
		{"ed7f3e7d", 226442877, true},
		{"faa1a0e403d8", 2893212287960, true},
		{"fc8998abc66bc0", 151288809941952, true},
		{"fefa318fa8e3ca11", 70423237261249041, true},
		{"ffffffffffffffffff", 18446744073709551615, true},
	} {
		b, _ := hex.DecodeString(c.hex)
		v, n, err := ParseVarint18(b)
		if err != nil || v != c.v || n != len(b) {
			t.Errorf("ParseVarint18(%s) = %d, %d, %v; want %d, %d", c.hex, v, n, err, c.v, len(b))
		}
		if c.minimal {
			if got := AppendVarint18(nil, c.v); !bytes.Equal(got, b) {
				t.Errorf("AppendVarint18(%d) = %x, want %s", c.v, got, c.hex)
			}
		}
	}
}

// appendVarint18N encodes v in exactly n bytes (n at least its shortest
// length), a non-minimal encoding when n is longer.
func appendVarint18N(b []byte, v uint64, n int) []byte {
	if n == 9 {
		b = append(b, 0xff)
		for i := 7; i >= 0; i-- {
			b = append(b, byte(v>>(8*i)))
		}
		return b
	}
	b = append(b, byte(0xff<<(9-n))|byte(v>>(8*(n-1))))
	for i := n - 2; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// TestVarint18Boundaries: at every length boundary the shortest encoding
// has the table's length, and every value decodes from every length that
// can hold it (non-minimal encodings are valid), and every prefix is short.
func TestVarint18Boundaries(t *testing.T) {
	var vals []uint64
	for n := 1; n <= 8; n++ {
		max := uint64(1)<<(7*n) - 1
		vals = append(vals, max-1, max, max+1)
	}
	vals = append(vals, 0, 1, 127, 128, 1<<62-1, 1<<62, 1<<63, ^uint64(0)-1, ^uint64(0))
	for _, v := range vals {
		want := 9
		for n := 1; n <= 8; n++ {
			if v <= uint64(1)<<(7*n)-1 {
				want = n
				break
			}
		}
		if got := VarintLen18(v); got != want {
			t.Errorf("VarintLen18(%d) = %d, want %d", v, got, want)
		}
		enc := AppendVarint18([]byte{0xaa}, v)[1:]
		if len(enc) != want {
			t.Errorf("AppendVarint18(%d) = %x: %d bytes, want %d", v, enc, len(enc), want)
		}
		if !bytes.Equal(enc, appendVarint18N(nil, v, want)) {
			t.Errorf("AppendVarint18(%d) = %x, want %x", v, enc, appendVarint18N(nil, v, want))
		}
		for n := want; n <= 9; n++ {
			b := appendVarint18N(nil, v, n)
			got, used, err := ParseVarint18(append(b, 0x55)) // a trailing byte is not read
			if err != nil || got != v || used != n {
				t.Errorf("ParseVarint18(%x) = %d, %d, %v; want %d, %d", b, got, used, err, v, n)
			}
			for cut := range b {
				if _, _, err := ParseVarint18(b[:cut]); err != ErrNeedMore {
					t.Errorf("ParseVarint18(%x) cut at %d: %v, want ErrNeedMore", b, cut, err)
				}
			}
		}
	}
}

// TestVarint18FirstByte: every first byte announces the length its leading
// 1 bits say, and a 1-byte value is the byte itself below 0x80.
func TestVarint18FirstByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := 1
		for bit := 7; bit >= 0 && c&(1<<bit) != 0; bit-- {
			want++
		}
		if want > 9 {
			want = 9
		}
		b := make([]byte, 9)
		b[0] = byte(c)
		v, n, err := ParseVarint18(b)
		if err != nil || n != want {
			t.Fatalf("first byte %#02x: length %d, %v; want %d", c, n, err, want)
		}
		if c < 0x80 && v != uint64(c) {
			t.Fatalf("first byte %#02x: value %d", c, v)
		}
		// Every value bit of the first byte counts: all ones below the
		// first 0 give the top bits of the value.
		if want < 9 {
			top := uint64(c) & (0xff >> want)
			if v != top<<(8*(want-1)) {
				t.Fatalf("first byte %#02x then zeros: value %#x, want %#x", c, v, top<<(8*(want-1)))
			}
		}
	}
	if _, _, err := ParseVarint18(nil); err != ErrNeedMore {
		t.Errorf("ParseVarint18(nil): %v", err)
	}
}

// TestVarint18RoundTripSweep: values around every power of two round-trip.
func TestVarint18RoundTripSweep(t *testing.T) {
	for s := 0; s < 64; s++ {
		for _, d := range []int64{-1, 0, 1} {
			v := uint64(1)<<s + uint64(d)
			b := AppendVarint18(nil, v)
			got, n, err := ParseVarint18(b)
			if err != nil || got != v || n != len(b) || n != VarintLen18(v) {
				t.Fatalf("%d: %x -> %d, %d, %v", v, b, got, n, err)
			}
		}
	}
}

func FuzzVarint18(f *testing.F) {
	for _, h := range []string{"25", "8025", "bbbd", "ffffffffffffffffff", "fe", ""} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := ParseVarint18(b)
		if err != nil {
			if err != ErrNeedMore {
				t.Fatalf("error %v", err)
			}
			return
		}
		if n < 1 || n > 9 || n > len(b) {
			t.Fatalf("used %d of %d", n, len(b))
		}
		enc := AppendVarint18(nil, v)
		if len(enc) > n {
			t.Fatalf("shortest encoding of %d is %d bytes, input used %d", v, len(enc), n)
		}
		if !bytes.Equal(appendVarint18N(nil, v, n), b[:n]) {
			t.Fatalf("%x does not re-encode at length %d", b[:n], n)
		}
	})
}
