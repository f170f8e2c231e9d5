package moq

import (
	"errors"
	"fmt"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
)

// Session termination codes (draft-14 names; draft-07 shares 0x0-0x3 and
// 0x10, see codes07 for the rest).
const (
	CodeNoError                  uint64 = 0x0
	CodeInternalError            uint64 = 0x1
	CodeUnauthorized             uint64 = 0x2
	CodeProtocolViolation        uint64 = 0x3
	CodeInvalidRequestID         uint64 = 0x4 // 14; 07: Duplicate Track Alias
	CodeDuplicateTrackAlias      uint64 = 0x5 // 14; 07: Parameter Length Mismatch
	CodeKeyValueFormattingError  uint64 = 0x6 // 14; 07: Too Many Subscribes
	CodeTooManyRequests          uint64 = 0x7 // 14
	CodeGoAwayTimeout            uint64 = 0x10
	CodeVersionNegotiationFailed uint64 = 0x15 // 14
)

// Request error codes used by this package, per draft. The drafts number
// SUBSCRIBE_ERROR codes differently.
const (
	// draft-14 SUBSCRIBE_ERROR / TRACK_STATUS_ERROR / FETCH_ERROR
	errInternal14         uint64 = 0x0
	errNotSupported14     uint64 = 0x3
	errTrackNotExist14    uint64 = 0x4
	errInvalidRange14     uint64 = 0x5
	errUninterested14     uint64 = 0x4 // PUBLISH_ERROR / PUBLISH_NAMESPACE_ERROR
	errPrefixOverlap14    uint64 = 0x5 // SUBSCRIBE_NAMESPACE_ERROR
	errNoObjects14        uint64 = 0x6 // FETCH_ERROR
	errJoiningRequestID14 uint64 = 0x7 // FETCH_ERROR

	errUnauthorized14 uint64 = 0x1 // every draft-14 request error

	// draft-07 SUBSCRIBE_ERROR (also used for its other request errors)
	errUnauthorized07  uint64 = 0x4
	errInternal07      uint64 = 0x0
	errInvalidRange07  uint64 = 0x1
	errTrackNotExist07 uint64 = 0x3
)

// PUBLISH_DONE (14) / SUBSCRIBE_DONE (07) status codes.
const (
	done07Unsubscribed  uint64 = 0x0
	done07Internal      uint64 = 0x1
	done07TrackEnded    uint64 = 0x3
	done07SubEnded      uint64 = 0x4
	done07GoingAway     uint64 = 0x5
	done14Internal      uint64 = 0x0
	done14TrackEnded    uint64 = 0x2
	done14SubEnded      uint64 = 0x3
	done14GoingAway     uint64 = 0x4
	done14TooFarBehind  uint64 = 0x6
	done14Unsubscribed  uint64 = 0x3 // 14 has no "unsubscribed": SUBSCRIPTION_ENDED
	resetCancelled      uint64 = 0x1 // stream reset: CANCELLED
	resetInternal       uint64 = 0x0
	resetSessionClosed  uint64 = 0x3
	resetDeliveryTimout uint64 = 0x2
)

// Errors returned by this package. Test with errors.Is.
var (
	// ErrClosed: the session is closed (by either side, or because the peer
	// went silent for the idle timeout).
	ErrClosed = errors.New("moq: session closed")
	// ErrTimeout: a request got no answer before its deadline.
	ErrTimeout = errors.New("moq: timed out")
	// ErrTooLarge: an object exceeds the maximum object size, or a datagram
	// does not fit in one QUIC datagram.
	ErrTooLarge = errors.New("moq: too large")
	// ErrLimit: a configured limit (subscriptions, announces, buffered bytes)
	// is reached.
	ErrLimit = errors.New("moq: limit reached")
	// ErrUnsupported: the negotiated draft has no such operation.
	ErrUnsupported = errors.New("moq: not supported by this draft")
	// ErrInvalid: an argument is invalid.
	ErrInvalid = errors.New("moq: invalid argument")
	// ErrEnded: the track or subscription has ended.
	ErrEnded = errors.New("moq: ended")
	// ErrWouldBlock: a DeliveryStreamReliable write found a subscriber's
	// queue full; nothing was written. Write again later (e.g. next frame).
	ErrWouldBlock = errors.New("moq: would block: a subscriber's queue is full")
	// ErrVersion: the peer speaks none of the offered drafts.
	ErrVersion = errors.New("moq: no common MoQT version")
	// ErrUnauthorized, returned by a Handler, refuses a request with the
	// draft's "unauthorized" code (draft-14: 0x1; draft-07: 0x4).
	ErrUnauthorized = errors.New("moq: unauthorized")
	// ErrPrefixOverlap, returned by a Handler's SubscribeNamespace, refuses
	// a namespace subscription that overlaps one the session already has,
	// with the draft's code (draft-16: PREFIX_OVERLAP 0x30; draft-14: 0x5).
	ErrPrefixOverlap = errors.New("moq: namespace prefix overlaps an existing subscription")
	// ErrIdleTimeout is wrapped by a session's error when this side ended
	// it because nothing arrived from the peer for the idle timeout
	// (Options.IdleTimeout): the peer is gone or unreachable.
	ErrIdleTimeout = transport.ErrIdleTimeout
)

// RequestError is a request refused by the peer: SUBSCRIBE_ERROR,
// PUBLISH_NAMESPACE_ERROR / ANNOUNCE_ERROR, FETCH_ERROR, ... It carries the
// peer's code and reason phrase.
type RequestError struct {
	Op     string // e.g. "SUBSCRIBE"
	Code   uint64
	Reason string
}

func (e *RequestError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("moq: %s refused with code %#x", e.Op, e.Code)
	}
	return fmt.Sprintf("moq: %s refused with code %#x: %s", e.Op, e.Code, e.Reason)
}

// SessionError is why a session ended: the transport's error, a protocol
// violation we detected (Local), or the peer's close code.
type SessionError struct {
	Code   uint64
	Reason string
	Local  bool  // we closed it
	Err    error // the underlying cause, if any
}

func (e *SessionError) Error() string {
	if e.Local && errors.Is(e.Err, ErrIdleTimeout) {
		// No code was sent or received: say what happened.
		return "moq: session lost: " + e.Err.Error()
	}
	who := "peer"
	if e.Local {
		who = "local"
	}
	s := fmt.Sprintf("moq: session closed (%s, code %#x)", who, e.Code)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil && e.Reason == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *SessionError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrClosed, e.Err}
	}
	return []error{ErrClosed}
}
