package wirejson

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// object is a JSON object that keeps its keys in document order and may hold
// a key more than once (parameter lists use that to keep wire order).
type object struct {
	keys []string
	vals []any
}

func (o *object) add(k string, v any) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// get returns the value of the first member named k.
func (o *object) get(k string) (any, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// maxDepth bounds the nesting of JSON input, so that hostile input cannot
// exhaust the stack.
const maxDepth = 32

// parseJSON reads exactly one JSON value from data into a tree of *object,
// []any, string, json.Number, bool and nil, keeping object members in
// document order.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: more than one value in the input")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
		}
		switch t {
		case '{':
			o := &object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.add(k, v)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil // string, json.Number, bool, nil
	}
}

// marshal writes v (a tree as built by the encoders: *object, []any, string)
// as compact JSON. Strings are escaped without HTML escaping.
func marshal(v any) []byte {
	var b bytes.Buffer
	writeValue(&b, v)
	return b.Bytes()
}

func writeValue(b *bytes.Buffer, v any) {
	switch t := v.(type) {
	case *object:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeValue(b, t.vals[i])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case string:
		writeString(b, t)
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case nil:
		b.WriteString("null")
	default:
		panic(fmt.Sprintf("wirejson: cannot marshal %T", v))
	}
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}

// dec formats an integer as the vectors do: a decimal string.
func dec(v uint64) string { return strconv.FormatUint(v, 10) }

// hexID formats a parameter ID as the vectors do: "0x" and lowercase hex.
func hexID(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// bytesValue represents a byte string (a namespace field, a track name, a
// reason phrase, a string parameter) as a JSON string when it is valid UTF-8,
// else as {"hex": "..."}.
func bytesValue(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	o := &object{}
	o.add("hex", hex.EncodeToString([]byte(s)))
	return o
}

const maxVarint = 1<<62 - 1

// parseUint reads an integer (every integer in MoQT is a varint or smaller)
// given as a decimal string, a "0x" hex string or
// a JSON number.
func parseUint(v any) (uint64, error) {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case json.Number:
		s = string(t)
	default:
		return 0, fmt.Errorf("want an integer as a decimal string, got %s", describe(v))
	}
	var (
		n   uint64
		err error
	)
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err = strconv.ParseUint(rest, 16, 64)
	} else {
		n, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return 0, fmt.Errorf("want an unsigned integer, got %q", s)
	}
	if n > maxVarint {
		return 0, fmt.Errorf("%d exceeds the largest varint, 2^62-1", n)
	}
	return n, nil
}

// parseBytesValue reads a byte string written by bytesValue.
func parseBytesValue(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case *object:
		if len(t.keys) == 1 && t.keys[0] == "hex" {
			if s, ok := t.vals[0].(string); ok {
				b, err := hex.DecodeString(s)
				if err != nil {
					return "", fmt.Errorf("bad hex %q", s)
				}
				return string(b), nil
			}
		}
	}
	return "", fmt.Errorf(`want a string or {"hex": "..."}, got %s`, describe(v))
}

// parseHex reads a hex string.
func parseHex(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want a hex string, got %s", describe(v))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("bad hex %q", s)
	}
	return b, nil
}

func describe(v any) string {
	switch t := v.(type) {
	case *object:
		return "an object"
	case []any:
		return "an array"
	case string:
		return strconv.Quote(t)
	case json.Number:
		return "the number " + string(t)
	case bool:
		return strconv.FormatBool(t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
