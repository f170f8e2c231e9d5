package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/quic-go/quic-go"
)

// socket is a client's own UDP socket and the quic.Transport on it.
type socket struct {
	tr  *quic.Transport
	udp net.PacketConn
}

// close closes the transport (destroying, without CONNECTION_CLOSE, any
// connection still on it) and then the socket.
func (s *socket) close() {
	if s == nil {
		return
	}
	_ = s.tr.Close()
	_ = s.udp.Close()
}

// quicConn adapts a raw QUIC connection (ALPN moq-00) to Conn.
type quicConn struct {
	conn *quic.Conn
	sock *socket       // owned by a dialed Conn; nil on the server side
	idle time.Duration // the local idle timeout, for the error

	done chan struct{}
	err  error // written before done is closed
}

func newQUICConn(qc *quic.Conn, sock *socket, idle time.Duration) *quicConn {
	c := &quicConn{conn: qc, sock: sock, idle: idle, done: make(chan struct{})}
	context.AfterFunc(qc.Context(), c.finish)
	return c
}

// finish runs once the QUIC connection is closed.
func (c *quicConn) finish() {
	c.err = quicCloseError(context.Cause(c.conn.Context()), c.conn.RemoteAddr(), c.idle)
	c.sock.close()
	close(c.done)
}

// quicCloseError maps the close cause of a QUIC connection.
func quicCloseError(cause error, remote net.Addr, idle time.Duration) error {
	if appErr, ok := errors.AsType[*quic.ApplicationError](cause); ok {
		return &ApplicationError{Code: uint64(appErr.ErrorCode), Reason: appErr.ErrorMessage, Remote: appErr.Remote}
	}
	if _, ok := errors.AsType[*quic.IdleTimeoutError](cause); ok {
		return &idleTimeoutError{remote: remote.String(), idle: idle, err: cause}
	}
	if cause == nil {
		cause = errors.New("unknown cause")
	}
	return fmt.Errorf("transport: QUIC connection with %s closed: %w", remote, cause)
}

func (c *quicConn) OpenStreamSync(ctx context.Context) (Stream, error) {
	s, err := c.conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	return quicStream{s}, nil
}

func (c *quicConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := c.conn.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return quicStream{s}, nil
}

func (c *quicConn) OpenUniStreamSync(ctx context.Context) (SendStream, error) {
	s, err := c.conn.OpenUniStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	return quicSendStream{s}, nil
}

func (c *quicConn) AcceptUniStream(ctx context.Context) (ReceiveStream, error) {
	s, err := c.conn.AcceptUniStream(ctx)
	if err != nil {
		return nil, err
	}
	return quicReceiveStream{s}, nil
}

func (c *quicConn) SendDatagram(b []byte) error {
	err := c.conn.SendDatagram(b)
	if tooLarge, ok := errors.AsType[*quic.DatagramTooLargeError](err); ok {
		return &DatagramTooLargeError{Size: len(b), Max: tooLarge.MaxDatagramPayloadSize, err: err}
	}
	return err
}

func (c *quicConn) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	return c.conn.ReceiveDatagram(ctx)
}

// CloseWithError sends CONNECTION_CLOSE with the code (clamped to
// MaxQUICErrorCode) and reason, and returns once the connection and, for a
// dialed Conn, its socket are released.
func (c *quicConn) CloseWithError(code uint64, reason string) error {
	_ = c.conn.CloseWithError(quic.ApplicationErrorCode(quicCode(code)), reason)
	<-c.done
	return nil
}

func (c *quicConn) Done() <-chan struct{} { return c.done }

func (c *quicConn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

func (c *quicConn) Protocol() Protocol   { return ProtocolQUIC }
func (c *quicConn) LocalAddr() net.Addr  { return c.conn.LocalAddr() }
func (c *quicConn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }
func (c *quicConn) Path() string         { return "" }
func (c *quicConn) NegotiatedProtocol() string {
	return c.conn.ConnectionState().TLS.NegotiatedProtocol
}
func (c *quicConn) Stats() Stats { return statsOf(c.conn) }

// statsOf converts quic-go's connection statistics.
func statsOf(qc *quic.Conn) Stats {
	s := qc.ConnectionStats()
	return Stats{
		SmoothedRTT:     s.SmoothedRTT,
		MinRTT:          s.MinRTT,
		LatestRTT:       s.LatestRTT,
		BytesSent:       s.BytesSent,
		BytesReceived:   s.BytesReceived,
		PacketsSent:     s.PacketsSent,
		PacketsReceived: s.PacketsReceived,
		PacketsLost:     s.PacketsLost,
	}
}

// quicStreamErr maps a quic-go stream reset to *StreamError.
func quicStreamErr(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[*quic.StreamError](err); ok {
		return &StreamError{Code: uint64(se.ErrorCode), Remote: se.Remote, err: err}
	}
	return err
}

// The stream wrappers are one pointer each and used by value: stored in an
// interface (SendStream, ReceiveStream, Stream) such a value needs no
// allocation of its own, so wrapping a stream costs nothing per stream.
type quicSendStream struct{ s *quic.SendStream }

func (s quicSendStream) Write(b []byte) (int, error) {
	n, err := s.s.Write(b)
	return n, quicStreamErr(err)
}
func (s quicSendStream) Close() error { return quicStreamErr(s.s.Close()) }
func (s quicSendStream) CancelWrite(code uint64) {
	s.s.CancelWrite(quic.StreamErrorCode(quicCode(code)))
}
func (s quicSendStream) SetWriteDeadline(t time.Time) error {
	return s.s.SetWriteDeadline(t)
}

// SetReliableBoundary makes what was written so far survive a later
// CancelWrite (RESET_STREAM_AT), when the peer supports it.
func (s quicSendStream) SetReliableBoundary() { s.s.SetReliableBoundary() }

type quicReceiveStream struct{ s *quic.ReceiveStream }

func (s quicReceiveStream) Read(b []byte) (int, error) {
	n, err := s.s.Read(b)
	return n, quicStreamErr(err)
}
func (s quicReceiveStream) CancelRead(code uint64) {
	s.s.CancelRead(quic.StreamErrorCode(quicCode(code)))
}
func (s quicReceiveStream) SetReadDeadline(t time.Time) error {
	return s.s.SetReadDeadline(t)
}

type quicStream struct{ s *quic.Stream }

func (s quicStream) Write(b []byte) (int, error) {
	n, err := s.s.Write(b)
	return n, quicStreamErr(err)
}
func (s quicStream) Read(b []byte) (int, error) {
	n, err := s.s.Read(b)
	return n, quicStreamErr(err)
}
func (s quicStream) Close() error            { return quicStreamErr(s.s.Close()) }
func (s quicStream) CancelWrite(code uint64) { s.s.CancelWrite(quic.StreamErrorCode(quicCode(code))) }
func (s quicStream) CancelRead(code uint64)  { s.s.CancelRead(quic.StreamErrorCode(quicCode(code))) }
func (s quicStream) SetWriteDeadline(t time.Time) error {
	return s.s.SetWriteDeadline(t)
}
func (s quicStream) SetReadDeadline(t time.Time) error {
	return s.s.SetReadDeadline(t)
}
