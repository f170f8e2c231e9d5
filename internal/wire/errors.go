package wire

import (
	"errors"
	"fmt"
)

// ErrNeedMore reports that the input ends before the unit being decoded (a
// varint, a framed control message, a stream header or an object) is complete.
// It is not a protocol error: a stream reader waits for more bytes and tries
// again. At the end of a stream it becomes a protocol violation.
var ErrNeedMore = errors.New("wire: need more bytes")

// Kind classifies a ProtocolError.
type Kind uint8

const (
	// KindTruncated: a framed unit (a control message whose length field says
	// it is complete, or a stream that has ended) ran out of bytes while
	// reading a field.
	KindTruncated Kind = iota + 1
	// KindInvalidValue: a field holds a value the draft does not allow.
	KindInvalidValue
	// KindUnknownMessage: an unknown control message type or data stream type.
	KindUnknownMessage
	// KindLimit: a length or count exceeds a configured or protocol limit.
	KindLimit
	// KindLengthMismatch: a control message's payload is longer than its
	// fields, or a parameter's length does not fit its type.
	KindLengthMismatch
)

func (k Kind) String() string {
	switch k {
	case KindTruncated:
		return "truncated"
	case KindInvalidValue:
		return "invalid value"
	case KindUnknownMessage:
		return "unknown message"
	case KindLimit:
		return "limit exceeded"
	case KindLengthMismatch:
		return "length mismatch"
	}
	return "protocol error"
}

// ProtocolError is a protocol violation found while decoding: the peer sent
// something no correct peer sends. A session that receives one closes with
// PROTOCOL_VIOLATION (or the draft's more specific code).
type ProtocolError struct {
	Kind    Kind
	Message string // the message or unit being decoded, e.g. "SUBSCRIBE"
	Field   string // the field that failed, e.g. "track_namespace"
	Detail  string // what was wrong
}

func (e *ProtocolError) Error() string {
	s := "wire: " + e.Kind.String()
	if e.Message != "" {
		s += " in " + e.Message
	}
	if e.Field != "" {
		s += " field " + e.Field
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// AsProtocolError returns the *ProtocolError in err's chain, if any.
func AsProtocolError(err error) (*ProtocolError, bool) {
	var pe *ProtocolError
	ok := errors.As(err, &pe)
	return pe, ok
}

func errf(k Kind, field, format string, args ...any) *ProtocolError {
	return &ProtocolError{Kind: k, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// withMessage names the message in a ProtocolError (if err is one) and
// returns err.
func withMessage(err error, msg string) error {
	if pe, ok := err.(*ProtocolError); ok && pe.Message == "" {
		pe.Message = msg
	}
	return err
}
