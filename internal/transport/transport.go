// Package transport gives MoQT one connection interface over raw QUIC
// (quic-go, ALPN "moqt-16" or "moq-00") and WebTransport (webtransport-go,
// ALPN "h3", the MoQT protocol negotiated with WT-Available-Protocols and
// WT-Protocol), plus the TLS helpers both need: custom roots, SHA-256
// certificate pinning, and short-lived self-signed certificates.
package transport

import (
	"context"
	"io"
	"net"
	"time"
)

// Protocol names the kind of connection under a MoQT session.
type Protocol string

const (
	ProtocolQUIC         Protocol = "quic"         // raw QUIC, moqt:// URLs
	ProtocolWebTransport Protocol = "webtransport" // WebTransport over HTTP/3, https:// URLs
)

// ALPN values. MoQT drafts up to 14 share "moq-00" and negotiate their
// version in SETUP; from draft 15 on the ALPN ("moqt-NN") selects the draft.
// Over WebTransport the same MoQT values travel in WT-Available-Protocols
// (client) and WT-Protocol (server), with "h3" as the TLS ALPN.
const (
	ALPNMoQ    = "moq-00"
	ALPNMoQT16 = "moqt-16"
	ALPNH3     = "h3"
)

// DefaultProtocols are the MoQT protocols a listener accepts when
// ServerOptions.Protocols is empty, in its order of preference.
var DefaultProtocols = []string{ALPNMoQT16, ALPNMoQ}

// Conn is one connection carrying one MoQT session.
//
// Streams and datagrams are those of the QUIC connection (raw QUIC) or of
// the WebTransport session. Error codes are MoQT codes; WebTransport carries
// 32-bit codes, so larger codes are clamped by the WebTransport
// implementation.
type Conn interface {
	// OpenStreamSync opens a bidirectional stream, waiting for stream credit
	// until ctx is done.
	OpenStreamSync(ctx context.Context) (Stream, error)
	// AcceptStream waits for the peer's next bidirectional stream.
	AcceptStream(ctx context.Context) (Stream, error)
	// OpenUniStreamSync opens a unidirectional stream, waiting for credit.
	OpenUniStreamSync(ctx context.Context) (SendStream, error)
	// AcceptUniStream waits for the peer's next unidirectional stream.
	AcceptUniStream(ctx context.Context) (ReceiveStream, error)
	// SendDatagram sends one datagram. A datagram larger than the path
	// allows fails with an error wrapping ErrDatagramTooLarge.
	SendDatagram(b []byte) error
	// ReceiveDatagram waits for the next datagram.
	ReceiveDatagram(ctx context.Context) ([]byte, error)
	// CloseWithError closes the connection with an application error code
	// and reason. Closing twice is harmless.
	CloseWithError(code uint64, reason string) error
	// Done is closed when the connection is closed, by either side or by an
	// idle timeout.
	Done() <-chan struct{}
	// Err returns why the connection closed (nil while it is open). A close
	// by the peer with an application code is an *ApplicationError.
	Err() error
	Protocol() Protocol
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
	// Path is the URL path (and query) of a WebTransport session, or "" for
	// raw QUIC (where MoQT carries it in the SETUP PATH parameter).
	Path() string
	// Stats returns connection statistics.
	Stats() Stats
	// NegotiatedProtocol is the MoQT protocol the endpoints agreed on: the
	// TLS ALPN of a raw QUIC connection, the WT-Protocol of a WebTransport
	// session, or ALPNMoQ ("moq-00") for a WebTransport session that
	// negotiated none (a peer that predates protocol negotiation).
	NegotiatedProtocol() string
}

// SendStream is the sending half of a stream. Unidirectional streams over
// raw QUIC also implement ReliableResetter.
type SendStream interface {
	io.Writer
	// Close ends the stream cleanly (FIN).
	Close() error
	// CancelWrite resets the stream with an error code.
	CancelWrite(code uint64)
	SetWriteDeadline(t time.Time) error
}

// ReliableResetter is a SendStream whose reset can spare what was written
// before: after SetReliableBoundary, CancelWrite still delivers the data
// written so far (RESET_STREAM_AT, when the peer supports it).
type ReliableResetter interface {
	SetReliableBoundary()
}

// ReceiveStream is the receiving half of a stream.
type ReceiveStream interface {
	io.Reader
	// CancelRead asks the peer to stop sending (STOP_SENDING).
	CancelRead(code uint64)
	SetReadDeadline(t time.Time) error
}

// Stream is a bidirectional stream.
type Stream interface {
	SendStream
	ReceiveStream
}

// Stats are connection statistics.
type Stats struct {
	SmoothedRTT     time.Duration
	MinRTT          time.Duration
	LatestRTT       time.Duration
	BytesSent       uint64
	BytesReceived   uint64
	PacketsSent     uint64
	PacketsReceived uint64
	PacketsLost     uint64
}

// ApplicationError is the error a Conn reports when the peer (or the local
// side) closed the connection with an application error code.
type ApplicationError struct {
	Code   uint64
	Reason string
	Remote bool
}

func (e *ApplicationError) Error() string {
	who := "local"
	if e.Remote {
		who = "peer"
	}
	if e.Reason != "" {
		return "connection closed by " + who + " with code " + itoa(e.Code) + ": " + e.Reason
	}
	return "connection closed by " + who + " with code " + itoa(e.Code)
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
