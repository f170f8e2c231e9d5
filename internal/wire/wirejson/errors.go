package wirejson

import (
	"errors"
	"strings"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Error reports a failed conversion and says where it failed. Its text has
// the form
//
//	decode SUBSCRIBE: truncated field track_name: unexpected end of input while reading track_name
//	encode SUBSCRIBE: field start_group: missing
//
// (no package prefix, so that a command-line tool can print it after its own
// name). Err is the underlying error, if any: a *wire.ProtocolError from the
// codec, or wire.ErrNeedMore; errors.Is and errors.As see it.
type Error struct {
	Op     string // "decode" (bytes to JSON) or "encode" (JSON to bytes)
	Unit   string // what was being converted, e.g. "SUBSCRIBE" or "subgroup stream"
	Kind   string // the protocol error kind ("truncated", "invalid value", ...), or "" for a JSON problem
	Field  string // the field at fault, when known
	Detail string // what was wrong
	Err    error  // the underlying error, or nil
}

func (e *Error) Error() string {
	s := e.Op
	if e.Unit != "" {
		s += " " + e.Unit
	}
	s += ":"
	if e.Kind != "" {
		s += " " + e.Kind
	}
	if e.Field != "" {
		s += " field " + e.Field
	}
	if e.Kind != "" || e.Field != "" {
		s += ":"
	}
	return s + " " + e.Detail
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// wrapErr turns an error from the codec into an *Error. A *wire.ProtocolError
// gives its kind, field, detail and (if set) the unit name.
func wrapErr(op, unit string, err error) *Error {
	var we *Error
	if errors.As(err, &we) {
		return we
	}
	e := &Error{Op: op, Unit: unit, Err: err}
	if pe, ok := wire.AsProtocolError(err); ok {
		if pe.Message != "" {
			e.Unit = pe.Message
		}
		e.Kind = pe.Kind.String()
		e.Field = pe.Field
		e.Detail = pe.Detail
		if e.Detail == "" {
			e.Detail = pe.Kind.String()
		}
		return e
	}
	e.Detail = trimWire(err)
	return e
}

// trimWire returns err's text without the codec's "wire: " prefix.
func trimWire(err error) string {
	return strings.TrimPrefix(err.Error(), "wire: ")
}
