package transport

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrIdleTimeout is wrapped by Conn.Err when the connection closed
	// because the peer sent nothing for the QUIC idle timeout.
	ErrIdleTimeout = errors.New("transport: local idle timeout (no packets from the peer)")
	// ErrDatagramTooLarge is wrapped by the error SendDatagram returns when a
	// datagram does not fit into one QUIC packet. See DatagramTooLargeError.
	ErrDatagramTooLarge = errors.New("transport: datagram too large")
	// ErrHandshakeTimeout is wrapped by Dial's error when the QUIC handshake
	// (and, for WebTransport, the CONNECT exchange) did not finish within
	// Options.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("transport: handshake timeout")
	// ErrNoCommonProtocol is wrapped by Dial's error when a raw QUIC server
	// speaks none of the offered protocols (TLS alert
	// no_application_protocol).
	ErrNoCommonProtocol = errors.New("transport: no common application protocol")
)

// Error-code limits of the two protocols.
const (
	// MaxQUICErrorCode is the largest code raw QUIC can carry (a 62-bit
	// varint). Larger codes passed to CloseWithError, CancelWrite or
	// CancelRead on a raw QUIC Conn are clamped to it.
	MaxQUICErrorCode = 1<<62 - 1
	// MaxWebTransportErrorCode is the largest code a WebTransport stream
	// reset or session close can carry (32 bits). Larger codes are clamped
	// to it.
	MaxWebTransportErrorCode = math.MaxUint32
)

func quicCode(code uint64) uint64 { return min(code, MaxQUICErrorCode) }

func wtCode(code uint64) uint32 { return uint32(min(code, MaxWebTransportErrorCode)) }

// idleTimeoutError reports an idle timeout; it matches ErrIdleTimeout and
// the underlying quic-go error.
type idleTimeoutError struct {
	remote string
	idle   time.Duration // the local setting; zero when unknown
	err    error
}

// Error says that this side gave up (a local decision: the peer did not
// close anything), and after how long.
func (e *idleTimeoutError) Error() string {
	s := "transport: local idle timeout: no packets from " + e.remote
	if e.idle > 0 {
		s += " for " + e.idle.String()
	}
	return s + " (the peer is gone or unreachable)"
}

func (e *idleTimeoutError) Unwrap() []error { return []error{ErrIdleTimeout, e.err} }

// Timeout reports true, as for net.Error.
func (e *idleTimeoutError) Timeout() bool { return true }

// DatagramTooLargeError is returned by Conn.SendDatagram for a datagram that
// does not fit into a QUIC packet. It matches ErrDatagramTooLarge with
// errors.Is.
type DatagramTooLargeError struct {
	// Size is the length of the rejected datagram.
	Size int
	// Max is the largest datagram payload that currently fits. For
	// WebTransport it is conservative: it assumes the longest (8-byte)
	// quarter-stream-ID prefix of an HTTP datagram.
	Max int64
	err error
}

func (e *DatagramTooLargeError) Error() string {
	return fmt.Sprintf("transport: datagram of %d bytes too large (max %d bytes)", e.Size, e.Max)
}

func (e *DatagramTooLargeError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrDatagramTooLarge}
	}
	return []error{ErrDatagramTooLarge, e.err}
}

// StreamError reports that a stream was reset by the peer (RESET_STREAM, or
// STOP_SENDING in response to a write) or canceled locally with a code. Read
// and Write on the streams of both Conn kinds return it; the original
// quic-go or webtransport-go error is available through errors.As.
type StreamError struct {
	Code   uint64
	Remote bool
	err    error
}

func (e *StreamError) Error() string {
	who := "locally"
	if e.Remote {
		who = "by the peer"
	}
	return "transport: stream canceled " + who + " with code " + itoa(e.Code)
}

func (e *StreamError) Unwrap() error { return e.err }

// CertificatePinError is the verification error of a server certificate
// whose SHA-256 fingerprint matches none of TLSOptions.PinSHA256. The dial
// error wraps it (errors.As).
type CertificatePinError struct {
	// Got is the fingerprint of the server's leaf certificate.
	Got [32]byte
	// Pins are the accepted fingerprints.
	Pins [][32]byte
}

func (e *CertificatePinError) Error() string {
	pins := make([]string, len(e.Pins))
	for i, p := range e.Pins {
		pins[i] = FormatFingerprint(p)
	}
	return "transport: certificate pin mismatch: server leaf certificate SHA-256 " + FormatFingerprint(e.Got) +
		" matches none of the pinned fingerprints [" + strings.Join(pins, ", ") + "]"
}
