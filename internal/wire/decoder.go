package wire

import "fmt"

// decoder is a cursor over a byte slice with a sticky error. Once a read
// fails, every later read returns zero values and the first error is kept.
//
// framed says whether running out of bytes is final: inside a control message
// whose length is known (framed), a short read is a KindTruncated protocol
// error; on a stream prefix (not framed) it is ErrNeedMore.
type decoder struct {
	b      []byte
	off    int
	err    error
	framed bool
	lim    *Limits
	// v18: varints are in the draft-18 form (varint18.go).
	v18 bool
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) short(field string) {
	if d.framed {
		d.fail(errf(KindTruncated, field, "unexpected end of input while reading %s", field))
	} else {
		d.fail(ErrNeedMore)
	}
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) varint(field string) uint64 { return d.varint2(field, "") }

// varint2 reads a varint whose field name is field+suffix; the name is only
// built when the read fails, so the hot path does not allocate.
func (d *decoder) varint2(field, suffix string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n, err := parseVarintFor(d.v18, d.b[d.off:])
	if err != nil {
		d.short(field + suffix)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) byte8(field string) uint8 {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.short(field)
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) uint16(field string) uint16 {
	if d.err != nil {
		return 0
	}
	if d.remaining() < 2 {
		d.short(field)
		return 0
	}
	v := uint16(d.b[d.off])<<8 | uint16(d.b[d.off+1])
	d.off += 2
	return v
}

// bytesN returns the next n bytes without copying.
func (d *decoder) bytesN(n int, field string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || d.remaining() < n {
		d.short(field)
		return nil
	}
	v := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return v
}

// lenBytes reads a varint length, checks it against max, then returns that
// many bytes (without copying).
func (d *decoder) lenBytes(field string, max int) []byte {
	n := d.varint2(field, " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(max) {
		d.fail(errf(KindLimit, field, "%s is %d bytes, limit %d", field, n, max))
		return nil
	}
	return d.bytesN(int(n), field)
}

// str reads a length-prefixed byte string as a Go string (a copy).
func (d *decoder) str(field string, max int) string {
	return string(d.lenBytes(field, max))
}

// reason reads a reason phrase.
func (d *decoder) reason(field string) string {
	return d.str(field, MaxReasonPhrase)
}

// tuple reads a namespace tuple: a count (1..32, or 0..32 when allowEmpty)
// then that many byte strings. The total length is checked against
// MaxFullTrackName.
func (d *decoder) tuple(field string, allowEmpty bool) Tuple {
	n := d.varint(field)
	if d.err != nil {
		return nil
	}
	if n > MaxTupleFields || (n == 0 && !allowEmpty) {
		d.fail(errf(KindInvalidValue, field, "%s has %d fields, allowed %d..%d", field, n, boolInt(!allowEmpty), MaxTupleFields))
		return nil
	}
	t := make(Tuple, 0, n)
	total := 0
	for i := uint64(0); i < n; i++ {
		b := d.lenBytes(field, MaxFullTrackName-total)
		if d.err != nil {
			return nil
		}
		if d.v18 && len(b) == 0 { // draft-18: every field has at least one byte
			d.fail(errf(KindInvalidValue, field, "%s field %d is empty", field, i))
			return nil
		}
		total += len(b)
		t = append(t, string(b))
	}
	return t
}

// trackName reads a track name whose length, together with ns, must not
// exceed MaxFullTrackName.
func (d *decoder) trackName(field string, ns Tuple) string {
	return d.str(field, MaxFullTrackName-ns.byteLen())
}

// boolean reads a one-byte 0/1 flag.
func (d *decoder) boolean(field string) bool {
	v := d.byte8(field)
	if d.err == nil && v > 1 {
		d.fail(errf(KindInvalidValue, field, "%s must be 0 or 1, got %d", field, v))
	}
	return v == 1
}

func (d *decoder) location(field string) Location {
	return Location{Group: d.varint2(field, ".group"), Object: d.varint2(field, ".object")}
}

// end reports trailing bytes in a framed message as a length mismatch.
func (d *decoder) end(msg string) error {
	if d.err == nil && d.framed && d.off != len(d.b) {
		d.fail(errf(KindLengthMismatch, "", "%d bytes left after the last field", len(d.b)-d.off))
	}
	return withMessage(d.err, msg)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkVarint reports an encoder-side value that cannot be a varint.
func checkVarint(field string, v uint64) error {
	if v > MaxVarint {
		return fmt.Errorf("wire: %s %d exceeds the varint range", field, v)
	}
	return nil
}
