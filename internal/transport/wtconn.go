package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/webtransport-go"
)

// h3NoError is the QUIC application code of an orderly HTTP/3 close.
const h3NoError = quic.ApplicationErrorCode(http3.ErrCodeNoError)

// wtCloseLinger bounds how long a locally closed WebTransport session waits
// for the peer to close the QUIC connection (which it does once it has read
// WT_CLOSE_SESSION) before closing it itself. Closing at once could overtake
// the capsule, and the peer would not learn the code and reason.
const wtCloseLinger = time.Second

// wtMaxPrefix is the longest quarter-stream-ID varint that prefixes an HTTP
// datagram; DatagramTooLargeError.Max subtracts it.
const wtMaxPrefix = 8

// wtConn adapts a WebTransport session to Conn.
//
// Each Conn carries one session on its own QUIC connection: when the session
// ends, the QUIC connection is closed too (after a local close, once the peer
// closed it or wtCloseLinger passed).
type wtConn struct {
	sess  *webtransport.Session
	qconn *quic.Conn
	path  string
	sock  *socket                 // owned by a dialed Conn; nil on the server side
	wtTr  *webtransport.Transport // dialed Conn only
	idle  time.Duration           // the local idle timeout, for the error

	uni *uniOrderer // restores the peer's opening order of uni streams

	localClose atomic.Bool
	done       chan struct{}
	err        error // written before done is closed
}

// newWTConn wraps sess. idle: the local idle timeout (for the reason given
// when it fires). qpackPeer: the peer's HTTP/3 SETTINGS advertise a
// QPACK dynamic table (known on the server side only; see uniOrderGap).
func newWTConn(sess *webtransport.Session, qc *quic.Conn, path string, sock *socket, wtTr *webtransport.Transport, idle time.Duration, qpackPeer bool) *wtConn {
	c := &wtConn{sess: sess, qconn: qc, path: path, sock: sock, wtTr: wtTr, idle: idle, done: make(chan struct{})}
	c.uni = newUniOrderer(sess.Context(), func(ctx context.Context) (ReceiveStream, uint64, error) {
		s, err := sess.AcceptUniStream(ctx)
		if err != nil {
			return nil, 0, err
		}
		return wtReceiveStream{s}, uint64(s.StreamID()), nil
	}, func() uint64 { return qc.ConnectionStats().PacketsReceived }, qpackPeer)
	go c.run()
	return c
}

// requestPath returns the path and query of a URL as sent in :path.
func requestPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// run waits for the session or the QUIC connection to end, closes the other,
// records the cause and releases owned resources.
func (c *wtConn) run() {
	select {
	case <-c.sess.Context().Done():
	case <-c.qconn.Context().Done():
	}
	if c.localClose.Load() {
		t := time.NewTimer(wtCloseLinger)
		select {
		case <-c.qconn.Context().Done():
		case <-t.C:
		}
		t.Stop()
	}
	_ = c.qconn.CloseWithError(h3NoError, "")
	<-c.sess.Context().Done() // follows the QUIC close: the CONNECT stream fails
	c.err = c.closeError()
	c.sock.close()
	if c.wtTr != nil {
		_ = c.wtTr.Close()
	}
	close(c.done)
}

// sessionErr returns the error the (closed) session recorded. The session
// exposes it only through its methods: OpenStream returns it without
// opening a stream once the session is closed.
func (c *wtConn) sessionErr() error {
	s, err := c.sess.OpenStream()
	if s != nil { // cannot happen after the session context is done
		s.CancelWrite(0)
		s.CancelRead(0)
	}
	return err
}

// closeError maps why the session ended: a WT_CLOSE_SESSION (sent or
// received) gives *ApplicationError; an idle timeout of the QUIC connection
// wraps ErrIdleTimeout; otherwise the QUIC cause (or, when this side closed
// QUIC, the session's error) is wrapped.
func (c *wtConn) closeError() error {
	sessErr := c.sessionErr()
	if se, ok := errors.AsType[*webtransport.SessionError](sessErr); ok {
		return &ApplicationError{Code: uint64(se.ErrorCode), Reason: se.Message, Remote: se.Remote}
	}
	qcause := context.Cause(c.qconn.Context())
	if _, ok := errors.AsType[*quic.IdleTimeoutError](qcause); ok {
		return &idleTimeoutError{remote: c.qconn.RemoteAddr().String(), idle: c.idle, err: qcause}
	}
	primary := qcause
	if appErr, ok := errors.AsType[*quic.ApplicationError](qcause); ok && !appErr.Remote && sessErr != nil {
		primary = sessErr // we closed QUIC because the session had ended
	}
	if primary == nil {
		primary = errors.New("unknown cause")
	}
	return fmt.Errorf("transport: WebTransport session with %s ended: %w", c.qconn.RemoteAddr(), primary)
}

func (c *wtConn) OpenStreamSync(ctx context.Context) (Stream, error) {
	s, err := c.sess.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	return wtStream{s}, nil
}

func (c *wtConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := c.sess.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return wtStream{s}, nil
}

func (c *wtConn) OpenUniStreamSync(ctx context.Context) (SendStream, error) {
	s, err := c.sess.OpenUniStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	return wtSendStream{s}, nil
}

// AcceptUniStream returns the peer's uni streams in the order it opened
// them (see uniOrderer).
func (c *wtConn) AcceptUniStream(ctx context.Context) (ReceiveStream, error) {
	return c.uni.Accept(ctx)
}

func (c *wtConn) SendDatagram(b []byte) error {
	err := c.sess.SendDatagram(b)
	if tooLarge, ok := errors.AsType[*quic.DatagramTooLargeError](err); ok {
		return &DatagramTooLargeError{Size: len(b), Max: max(tooLarge.MaxDatagramPayloadSize-wtMaxPrefix, 0), err: err}
	}
	return err
}

func (c *wtConn) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	return c.sess.ReceiveDatagram(ctx)
}

// CloseWithError sends WT_CLOSE_SESSION with the code (clamped to
// MaxWebTransportErrorCode) and reason, then closes the QUIC connection once
// the peer has closed it or after a linger of at most one second, and
// returns when everything is released.
func (c *wtConn) CloseWithError(code uint64, reason string) error {
	c.localClose.Store(true)
	_ = c.sess.CloseWithError(webtransport.SessionErrorCode(wtCode(code)), reason)
	<-c.done
	return nil
}

func (c *wtConn) Done() <-chan struct{} { return c.done }

func (c *wtConn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

func (c *wtConn) Protocol() Protocol   { return ProtocolWebTransport }
func (c *wtConn) LocalAddr() net.Addr  { return c.qconn.LocalAddr() }
func (c *wtConn) RemoteAddr() net.Addr { return c.qconn.RemoteAddr() }
func (c *wtConn) Path() string         { return c.path }
func (c *wtConn) NegotiatedProtocol() string {
	if p := c.sess.SessionState().ApplicationProtocol; p != "" {
		return p
	}
	return ALPNMoQ
}

// Stats are those of the QUIC connection under the session, so they include
// HTTP/3 framing and control traffic.
func (c *wtConn) Stats() Stats { return statsOf(c.qconn) }

// HTTP/3 settings of QPACK (RFC 9204, section 5).
const (
	settingQPACKMaxTableCapacity = 0x1
	settingQPACKBlockedStreams   = 0x7
)

// qpackDynamicTable reports whether HTTP/3 settings advertise a QPACK
// dynamic table: a peer that does has a decoder (and usually an encoder)
// stream of its own.
func qpackDynamicTable(s *http3.Settings) bool {
	return s != nil && (s.Other[settingQPACKMaxTableCapacity] != 0 || s.Other[settingQPACKBlockedStreams] != 0)
}

// wtStreamErr maps a webtransport-go stream reset to *StreamError.
func wtStreamErr(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[*webtransport.StreamError](err); ok {
		return &StreamError{Code: uint64(se.ErrorCode), Remote: se.Remote, err: err}
	}
	return err
}

// Like the QUIC ones, the wrappers are one pointer used by value: no
// allocation per stream.
type wtSendStream struct{ s *webtransport.SendStream }

func (s wtSendStream) Write(b []byte) (int, error) {
	n, err := s.s.Write(b)
	return n, wtStreamErr(err)
}
func (s wtSendStream) Close() error { return wtStreamErr(s.s.Close()) }
func (s wtSendStream) CancelWrite(code uint64) {
	s.s.CancelWrite(webtransport.StreamErrorCode(wtCode(code)))
}
func (s wtSendStream) SetWriteDeadline(t time.Time) error { return s.s.SetWriteDeadline(t) }

type wtReceiveStream struct{ s *webtransport.ReceiveStream }

func (s wtReceiveStream) Read(b []byte) (int, error) {
	n, err := s.s.Read(b)
	return n, wtStreamErr(err)
}
func (s wtReceiveStream) CancelRead(code uint64) {
	s.s.CancelRead(webtransport.StreamErrorCode(wtCode(code)))
}
func (s wtReceiveStream) SetReadDeadline(t time.Time) error { return s.s.SetReadDeadline(t) }

type wtStream struct{ s *webtransport.Stream }

func (s wtStream) Write(b []byte) (int, error) {
	n, err := s.s.Write(b)
	return n, wtStreamErr(err)
}
func (s wtStream) Read(b []byte) (int, error) {
	n, err := s.s.Read(b)
	return n, wtStreamErr(err)
}
func (s wtStream) Close() error { return wtStreamErr(s.s.Close()) }
func (s wtStream) CancelWrite(code uint64) {
	s.s.CancelWrite(webtransport.StreamErrorCode(wtCode(code)))
}
func (s wtStream) CancelRead(code uint64) {
	s.s.CancelRead(webtransport.StreamErrorCode(wtCode(code)))
}
func (s wtStream) SetWriteDeadline(t time.Time) error { return s.s.SetWriteDeadline(t) }
func (s wtStream) SetReadDeadline(t time.Time) error  { return s.s.SetReadDeadline(t) }
