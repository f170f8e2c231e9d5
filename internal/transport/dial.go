package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"
)

// Dial connects to a MoQT server.
//
//   - moqt://host[:port][/path] dials raw QUIC offering opts.Protocols as
//     ALPN (default "moq-00"; datagrams enabled). The path is not sent by
//     the transport: MoQT carries it in the SETUP PATH parameter, and the
//     Conn's Path() is "".
//   - https://host[:port][/path][?query] dials QUIC with ALPN "h3" and opens a
//     WebTransport session with an extended CONNECT to path and query,
//     offering opts.Protocols in WT-Available-Protocols (when not empty).
//
// The Conn's NegotiatedProtocol tells which protocol the server picked.
// The port defaults to 443. A host name resolving to several addresses is
// dialed at its first IPv4 address, else its first address. The dial honours
// ctx and opts.HandshakeTimeout (on expiry the error wraps
// ErrHandshakeTimeout). Each Conn has its own UDP socket, released when the
// connection closes; a failed dial releases everything it opened.
func Dial(ctx context.Context, rawURL string, opts Options) (Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %q: %w", rawURL, err)
	}
	var alpns []string
	switch u.Scheme {
	case "moqt":
		alpns = opts.Protocols
		if len(alpns) == 0 {
			alpns = []string{ALPNMoQ}
		}
	case "https":
		alpns = []string{ALPNH3}
	default:
		return nil, fmt.Errorf("transport: dial %q: unsupported scheme %q (want moqt or https)", rawURL, u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("transport: dial %q: no host", rawURL)
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	opts = opts.withDefaults()
	for _, p := range opts.Protocols {
		if p == "" || p == ALPNH3 {
			return nil, fmt.Errorf("transport: dial %q: invalid MoQT protocol %q", rawURL, p)
		}
	}
	tlsConf, err := opts.TLS.clientTLSConfig(host, slices.Clone(alpns))
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", rawURL, err)
	}

	ctx, cancel := context.WithTimeoutCause(ctx, opts.HandshakeTimeout,
		fmt.Errorf("%w: not connected within %v", ErrHandshakeTimeout, opts.HandshakeTimeout))
	defer cancel()
	fail := func(err error) (Conn, error) {
		_, idle := errors.AsType[*quic.IdleTimeoutError](err)
		_, hs := errors.AsType[*quic.HandshakeTimeoutError](err)
		te, isTE := errors.AsType[*quic.TransportError](err)
		switch {
		case isTE && te.ErrorCode == quicCryptoNoALPN:
			err = fmt.Errorf("%w (offered %q): %w", ErrNoCommonProtocol, alpns, err)
		case ctx.Err() != nil:
			err = context.Cause(ctx)
		case idle || hs: // quic-go's handshake idle timeout fired first
			err = fmt.Errorf("%w: no answer within %v: %w", ErrHandshakeTimeout, opts.HandshakeTimeout, err)
		}
		return nil, fmt.Errorf("transport: dial %s: %w", rawURL, err)
	}

	raddr, err := resolveUDP(ctx, host, port)
	if err != nil {
		return fail(err)
	}
	network := "udp4"
	if raddr.AddrPort().Addr().Is6() {
		network = "udp6"
	}
	udp, err := net.ListenUDP(network, nil)
	if err != nil {
		return fail(fmt.Errorf("opening UDP socket: %w", err))
	}
	sock := &socket{tr: &quic.Transport{Conn: udp}, udp: udp}
	qc, err := sock.tr.Dial(ctx, raddr, tlsConf, opts.quicConfig())
	if err != nil {
		sock.close()
		return fail(err)
	}
	if u.Scheme == "moqt" {
		return newQUICConn(qc, sock, opts.IdleTimeout), nil
	}

	target := &url.URL{Scheme: "https", Host: net.JoinHostPort(host, port), Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	if target.Path == "" {
		target.Path = "/"
	}
	// Closing the QUIC connection unblocks every step of the CONNECT
	// exchange when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = qc.CloseWithError(h3NoError, "dial canceled") })
	wtTr := &webtransport.Transport{ApplicationProtocols: slices.Clone(opts.Protocols)}
	sess, err := connectWebTransport(ctx, wtTr, qc, target)
	if !stop() || err != nil {
		if sess != nil {
			_ = sess.CloseWithError(0, "dial canceled")
		}
		_ = qc.CloseWithError(h3NoError, "")
		sock.close()
		_ = wtTr.Close()
		if err == nil {
			err = context.Cause(ctx)
		}
		return fail(err)
	}
	return newWTConn(sess, qc, requestPath(target), sock, wtTr, opts.IdleTimeout, false), nil // the server's SETTINGS are not shown
}

// quicCryptoNoALPN is the QUIC error code of the TLS alert
// no_application_protocol (0x100 + 120).
const quicCryptoNoALPN = quic.TransportErrorCode(0x100 + 120)

// connectWebTransport sends the extended CONNECT on qc.
func connectWebTransport(ctx context.Context, wtTr *webtransport.Transport, qc *quic.Conn, target *url.URL) (*webtransport.Session, error) {
	cc, err := wtTr.NewClientConn(qc)
	if err != nil {
		return nil, err
	}
	rsp, sess, err := cc.Dial(ctx, target.String(), nil)
	if err != nil {
		if rsp != nil && (rsp.StatusCode < 200 || rsp.StatusCode > 299) {
			return nil, fmt.Errorf("WebTransport CONNECT to %s rejected with HTTP status %d %s",
				requestPath(target), rsp.StatusCode, http.StatusText(rsp.StatusCode))
		}
		return nil, fmt.Errorf("WebTransport CONNECT to %s: %w", requestPath(target), err)
	}
	return sess, nil
}

// resolveUDP resolves host (a name or an IP literal) and port.
func resolveUDP(ctx context.Context, host, port string) (*net.UDPAddr, error) {
	p, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", port, err)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, errors.New("resolving " + host + ": no addresses")
	}
	pick := addrs[0]
	for _, a := range addrs {
		if a.Unmap().Is4() {
			pick = a
			break
		}
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(pick.Unmap(), uint16(p))), nil
}
