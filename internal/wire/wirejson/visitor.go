package wirejson

import (
	"fmt"
	"math"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// visitor walks the fields of one wire unit in wire order, in one of two
// directions: toJSON copies Go values into an ordered JSON object; otherwise
// it copies members of a parsed JSON object into Go values. One walk
// function per unit serves both directions, so the two cannot disagree.
//
// Fields whose presence depends on an earlier field (a filter type, a
// content-exists flag) are visited conditionally; in the JSON-to-Go
// direction the earlier field has been read by then.
type visitor struct {
	toJSON bool
	d      wire.Draft
	out    *object // toJSON
	in     *object // !toJSON
	seen   []bool  // !toJSON: which members of in were consumed
	path   string  // prefix of field names in errors, e.g. "objects[2]."
	err    error
}

func newWriter(d wire.Draft) *visitor {
	return &visitor{toJSON: true, d: d, out: &object{}}
}

// newReader returns a visitor reading from o. Duplicate member names are
// rejected (only parameter objects may repeat names, and those are read by
// params, not through a visitor).
func newReader(d wire.Draft, o *object, path string) *visitor {
	v := &visitor{d: d, in: o, seen: make([]bool, len(o.keys)), path: path}
	for i, k := range o.keys {
		for _, k2 := range o.keys[:i] {
			if k == k2 {
				v.fail(k, "appears more than once")
				return v
			}
		}
	}
	return v
}

func (v *visitor) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = &Error{Field: v.path + field, Detail: fmt.Sprintf(format, args...)}
	}
}

// has reports whether the JSON object being read has member name. (When
// writing it reports false.)
func (v *visitor) has(name string) bool {
	if v.toJSON {
		return false
	}
	_, ok := v.in.get(name)
	return ok
}

// take returns member name of the JSON object being read and marks it
// consumed; a missing member is an error.
func (v *visitor) take(name string) (any, bool) {
	if v.err != nil {
		return nil, false
	}
	for i, k := range v.in.keys {
		if k == name {
			v.seen[i] = true
			return v.in.vals[i], true
		}
	}
	v.fail(name, "missing")
	return nil, false
}

// skip marks member name consumed without reading it.
func (v *visitor) skip(name string) {
	if v.toJSON {
		return
	}
	for i, k := range v.in.keys {
		if k == name {
			v.seen[i] = true
		}
	}
}

// finish reports members that no field consumed.
func (v *visitor) finish() error {
	if v.err == nil && !v.toJSON {
		for i, k := range v.in.keys {
			if !v.seen[i] {
				v.fail(k, "unexpected field (not part of this unit in draft %s, or not allowed here)", v.d)
				break
			}
		}
	}
	return v.err
}

func (v *visitor) u64(name string, p *uint64) {
	if v.toJSON {
		v.out.add(name, dec(*p))
		return
	}
	if x, ok := v.take(name); ok {
		n, err := parseUint(x)
		if err != nil {
			v.fail(name, "%v", err)
			return
		}
		*p = n
	}
}

func (v *visitor) u8(name string, p *uint8) {
	n := uint64(*p)
	v.u64(name, &n)
	if !v.toJSON && v.err == nil {
		if n > math.MaxUint8 {
			v.fail(name, "%d does not fit in 8 bits", n)
			return
		}
		*p = uint8(n)
	}
}

// flag is a one-byte 0/1 field, written "0" or "1" (true and false are
// accepted when reading).
func (v *visitor) flag(name string, p *bool) {
	if v.toJSON {
		s := "0"
		if *p {
			s = "1"
		}
		v.out.add(name, s)
		return
	}
	x, ok := v.take(name)
	if !ok {
		return
	}
	if b, isBool := x.(bool); isBool {
		*p = b
		return
	}
	n, err := parseUint(x)
	if err != nil || n > 1 {
		v.fail(name, "want \"0\" or \"1\", got %s", describe(x))
		return
	}
	*p = n == 1
}

// str is a byte string: a JSON string if valid UTF-8, else {"hex": ...}.
func (v *visitor) str(name string, p *string) {
	if v.toJSON {
		v.out.add(name, bytesValue(*p))
		return
	}
	if x, ok := v.take(name); ok {
		s, err := parseBytesValue(x)
		if err != nil {
			v.fail(name, "%v", err)
			return
		}
		*p = s
	}
}

// hexBytes is a byte string written as lowercase hex.
func (v *visitor) hexBytes(name string, p *[]byte) {
	if v.toJSON {
		v.out.add(name, fmt.Sprintf("%x", *p))
		return
	}
	if x, ok := v.take(name); ok {
		b, err := parseHex(x)
		if err != nil {
			v.fail(name, "%v", err)
			return
		}
		*p = b
	}
}

// tuple is a namespace: an array of byte strings.
func (v *visitor) tuple(name string, p *wire.Tuple) {
	if v.toJSON {
		a := make([]any, 0, len(*p))
		for _, f := range *p {
			a = append(a, bytesValue(f))
		}
		v.out.add(name, a)
		return
	}
	x, ok := v.take(name)
	if !ok {
		return
	}
	a, isArr := x.([]any)
	if !isArr {
		v.fail(name, "want an array of strings, got %s", describe(x))
		return
	}
	t := make(wire.Tuple, 0, len(a))
	for i, e := range a {
		s, err := parseBytesValue(e)
		if err != nil {
			v.fail(fmt.Sprintf("%s[%d]", name, i), "%v", err)
			return
		}
		t = append(t, s)
	}
	*p = t
}

// loc is a Location as {"group": ..., "object": ...}.
func (v *visitor) loc(name string, p *wire.Location) {
	if v.toJSON {
		o := &object{}
		o.add("group", dec(p.Group))
		o.add("object", dec(p.Object))
		v.out.add(name, o)
		return
	}
	x, ok := v.take(name)
	if !ok {
		return
	}
	o, isObj := x.(*object)
	if !isObj {
		v.fail(name, `want {"group": ..., "object": ...}, got %s`, describe(x))
		return
	}
	sub := newReader(v.d, o, v.path+name+".")
	sub.u64("group", &p.Group)
	sub.u64("object", &p.Object)
	if err := sub.finish(); err != nil {
		v.err = err
	}
}

// versions is an array of integers.
func (v *visitor) versions(name string, p *[]uint64) {
	if v.toJSON {
		a := make([]any, 0, len(*p))
		for _, n := range *p {
			a = append(a, dec(n))
		}
		v.out.add(name, a)
		return
	}
	x, ok := v.take(name)
	if !ok {
		return
	}
	a, isArr := x.([]any)
	if !isArr {
		v.fail(name, "want an array of integers, got %s", describe(x))
		return
	}
	vs := make([]uint64, 0, len(a))
	for i, e := range a {
		n, err := parseUint(e)
		if err != nil {
			v.fail(fmt.Sprintf("%s[%d]", name, i), "%v", err)
			return
		}
		vs = append(vs, n)
	}
	*p = vs
}
