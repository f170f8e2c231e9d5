package moq

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Idle timeout defaults (Options.IdleTimeout).
const (
	// DefaultClientIdleTimeout is a client's idle timeout: a relay that
	// went silent (killed, unreachable) is declared dead after this long.
	// Keep-alives every third of it keep a quiet but live session open.
	DefaultClientIdleTimeout = 5 * time.Second
	// DefaultServerIdleTimeout is a server's (Listen) idle timeout: long
	// enough for clients that send no keep-alives of their own; a client
	// asking for less (as ours do) gets less.
	DefaultServerIdleTimeout = 30 * time.Second
)

// Draft selects the MoQT wire format of a session.
type Draft = wire.Draft

// Drafts this package speaks.
const (
	// Draft07 is draft-ietf-moq-transport-07 with the specification's data
	// stream and datagram layouts.
	Draft07 = wire.Draft07
	// Draft07Cloudflare is draft-07 as Cloudflare's relay and moq-rs speak
	// it (Subscribe ID in subgroup stream headers, moq-rs datagrams).
	Draft07Cloudflare = wire.Draft07CF
	// Draft14 is draft-ietf-moq-transport-14.
	Draft14 = wire.Draft14
	// Draft16 is draft-ietf-moq-transport-16, selected by ALPN ("moqt-16")
	// rather than in SETUP.
	Draft16 = wire.Draft16
	// Draft18 is draft-ietf-moq-transport-18, selected by ALPN ("moqt-18"):
	// a pair of unidirectional control streams and every request on its own
	// bidirectional stream.
	Draft18 = wire.Draft18
	// Draft20 is draft-ietf-moq-transport-20, selected by ALPN ("moqt-20"):
	// draft 18's sessions with FETCH ranges in LOCATION_FILTER and the
	// joining fetch replaced by FILL_PARAMETERS (see docs/protocol.md).
	Draft20 = wire.Draft20
)

// Namespace is a track namespace: a tuple of 1 to 32 byte strings.
type Namespace = wire.Tuple

// Location is a (group, object) position in a track.
type Location = wire.Location

// TLSConfig configures certificate verification (client) and certificates
// (server).
type TLSConfig struct {
	// RootCAs replaces the system roots. Nil: system roots (Go honours
	// SSL_CERT_FILE and SSL_CERT_DIR).
	RootCAs *x509.CertPool
	// CAFile and CAPEM add PEM certificates as trusted roots.
	CAFile string
	CAPEM  []byte
	// PinSHA256 pins the server's leaf certificate by its SHA-256
	// fingerprint. When set, chain verification is replaced by the pin
	// (plus the certificate's validity period), as WebTransport's
	// serverCertificateHashes does.
	PinSHA256 [][32]byte
	// Insecure skips all verification. Only for tests and debugging.
	Insecure bool
	// ServerName overrides the name verified and sent as SNI.
	ServerName string
	// Certificates are the server's certificates.
	Certificates []tls.Certificate
}

// Options configure a session, on either side. The zero value is usable.
type Options struct {
	// Drafts lists the drafts to offer, in order of preference. A client's
	// first connection offers the protocols they need: "moqt-18" (Draft18),
	// "moqt-16" (Draft16) and "moq-00" (the others); the server picks. With "moq-00" the client
	// tries the first SETUP draft; if the server refuses its version, it
	// tries the next (a fresh connection, since draft-07 and draft-14 SETUP
	// messages cannot be combined). Default for clients: Draft18, Draft16,
	// Draft14, then Draft07Cloudflare. A server accepts any listed draft
	// (offering "moqt-18" / "moqt-16" only when Draft18 / Draft16 is listed,
	// "moq-00" only when a SETUP draft is); default: all, preferring the
	// newest. A server learns only the
	// draft-07 family from CLIENT_SETUP, so Draft07Layout picks the data
	// layout it uses with draft-07 clients.
	Drafts []Draft
	// Draft07Layout is the data-stream layout a server uses with draft-07
	// clients: Draft07Cloudflare (default) or Draft07.
	Draft07Layout Draft

	TLS TLSConfig

	// ConnectTimeout bounds Dial: QUIC and TLS handshake, WebTransport
	// CONNECT and MoQT SETUP. Default 10s.
	ConnectTimeout time.Duration
	// RequestTimeout bounds waiting for a response to a request (SUBSCRIBE,
	// ANNOUNCE, FETCH, ...) when the caller's context has no earlier
	// deadline. Default 10s.
	RequestTimeout time.Duration
	// IdleTimeout: a peer silent this long is declared dead (the QUIC idle
	// timeout; the shorter of both sides' applies). The session then ends
	// with an error wrapping ErrIdleTimeout that says so ("local idle
	// timeout: no packets from ... for 5s"). Default
	// DefaultClientIdleTimeout (5s) for Dial and Client, so that a relay
	// that died is noticed within seconds, and DefaultServerIdleTimeout
	// (30s) for Listen.
	IdleTimeout time.Duration
	// KeepAlive is the QUIC keep-alive period: a live but quiet peer is
	// never timed out as long as keep-alives get through. Default
	// IdleTimeout/3 (1.67s for clients); negative disables keep-alives.
	KeepAlive time.Duration

	// MaxObjectSize bounds an object payload, sent or received.
	// Default 16 MiB.
	MaxObjectSize int
	// MaxSubscriptions bounds concurrent subscriptions, in each direction.
	// Default 1024.
	MaxSubscriptions int
	// MaxAnnounces bounds concurrently announced namespaces, in each
	// direction. Default 256.
	MaxAnnounces int
	// MaxRequestID is the request credit granted to the peer at setup (the
	// number of requests it may make before we grant more). We grant more as
	// its requests complete. Default 1024. Draft-18 has no request credit:
	// there it bounds the peer's concurrent requests as the QUIC limit on
	// its bidirectional streams (each request has one; a few more are
	// allowed for WebTransport's and namespace subscriptions' own).
	MaxRequestID uint64
	// SubscriptionBuffer bounds the bytes buffered for one subscription
	// that the application has not read yet, and for one subscriber that the
	// network has not taken yet. When full, the oldest whole groups are
	// dropped and counted. Default 8 MiB.
	SubscriptionBuffer int
	// Retention bounds what a published track keeps for late joiners and
	// FETCH: at most RetainGroups groups (default 2) and RetainBytes bytes
	// (default 8 MiB).
	RetainGroups int
	RetainBytes  int

	// Logger receives the library's logs. Default: errors only, to stderr.
	Logger *slog.Logger

	// OnGoAway, if set, is called (on its own goroutine) when the peer sends
	// GOAWAY, with the new session URI ("" = reconnect to the same URL).
	OnGoAway func(newURI string)

	// Handler serves the peer's requests (SUBSCRIBE, ANNOUNCE, FETCH, ...).
	// Default: the session's own published tracks (see Session.Publish).
	Handler Handler

	// Implementation is sent as MOQT_IMPLEMENTATION in draft-14 and
	// draft-16 SETUP.
	Implementation string

	// WebTransportPath restricts a server to one URL path ("" = any).
	WebTransportPath string

	// AuthToken, if set, is sent as an AUTHORIZATION TOKEN (USE_VALUE, of
	// type AuthTokenType) in CLIENT_SETUP and in each request (SUBSCRIBE,
	// FETCH, TRACK_STATUS, PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE) on
	// draft-14 and later; on draft-07, whose setup has no token, as
	// AUTHORIZATION INFO in SUBSCRIBE, FETCH, ANNOUNCE and
	// SUBSCRIBE_ANNOUNCES. SubscribeOptions.AuthToken and
	// FetchOptions.AuthToken override it per request. At most 16 KiB.
	AuthToken string
	// AuthTokenType is the Token Type sent with AuthToken. Default 0: a
	// type agreed out of band (a JWT for relays that take one).
	AuthTokenType uint64
}

func (o *Options) connectTimeout() time.Duration { return durOr(o.ConnectTimeout, 10*time.Second) }
func (o *Options) requestTimeout() time.Duration { return durOr(o.RequestTimeout, 10*time.Second) }
func (o *Options) maxObjectSize() int            { return intOr(o.MaxObjectSize, wire.DefaultMaxObjectPayload) }
func (o *Options) maxSubscriptions() int         { return intOr(o.MaxSubscriptions, 1024) }
func (o *Options) maxAnnounces() int             { return intOr(o.MaxAnnounces, 256) }
func (o *Options) subscriptionBuffer() int       { return intOr(o.SubscriptionBuffer, 8<<20) }
func (o *Options) retainGroups() int             { return intOr(o.RetainGroups, 2) }
func (o *Options) retainBytes() int              { return intOr(o.RetainBytes, 8<<20) }
func (o *Options) maxRequestID() uint64 {
	if o.MaxRequestID == 0 {
		return 1024
	}
	return o.MaxRequestID
}

func (o *Options) clientDrafts() []Draft {
	if len(o.Drafts) == 0 {
		return []Draft{Draft20, Draft18, Draft16, Draft14, Draft07Cloudflare}
	}
	return o.Drafts
}

// serverProtocols lists the protocols a server offers, preferring the
// newest draft.
func (o *Options) serverProtocols() []string {
	var ps []string
	if o.accepts(Draft20) {
		ps = append(ps, Draft20.ALPN())
	}
	if o.accepts(Draft18) {
		ps = append(ps, Draft18.ALPN())
	}
	if o.accepts(Draft16) {
		ps = append(ps, Draft16.ALPN())
	}
	if o.accepts(Draft14) || o.accepts(Draft07) {
		ps = append(ps, Draft14.ALPN())
	}
	return ps
}

func (o *Options) draft07Layout() Draft {
	if o.Draft07Layout == Draft07 {
		return Draft07
	}
	return Draft07Cloudflare
}

// accepts reports whether a server accepts draft family d.
func (o *Options) accepts(d Draft) bool {
	if len(o.Drafts) == 0 {
		return true
	}
	for _, x := range o.Drafts {
		if x == d || (x.Is07() && d.Is07()) {
			return true
		}
	}
	return false
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return defaultLogger
}

func (o *Options) limits() *wire.Limits {
	return &wire.Limits{MaxObjectPayload: o.maxObjectSize()}
}

// transportOptions maps o to transport options, for a client (Dial) or a
// server (Listen).
func (o *Options) transportOptions(client bool) transport.Options {
	idle := o.IdleTimeout
	if idle <= 0 {
		idle = DefaultServerIdleTimeout
		if client {
			idle = DefaultClientIdleTimeout
		}
	}
	return transport.Options{
		TLS: transport.TLSOptions{
			RootCAs:      o.TLS.RootCAs,
			CAFile:       o.TLS.CAFile,
			CAPEM:        o.TLS.CAPEM,
			PinSHA256:    o.TLS.PinSHA256,
			Insecure:     o.TLS.Insecure,
			ServerName:   o.TLS.ServerName,
			Certificates: o.TLS.Certificates,
		},
		HandshakeTimeout:   o.connectTimeout(),
		IdleTimeout:        idle,
		KeepAlive:          o.KeepAlive,
		MaxIncomingStreams: o.maxIncomingStreams(),
	}
}

// maxIncomingStreams is the QUIC limit on the peer's concurrent
// bidirectional streams: draft-18 requests each take one for their
// lifetime, so the limit follows MaxRequestID (plus a margin for the
// control stream of earlier drafts and WebTransport's CONNECT stream).
func (o *Options) maxIncomingStreams() int64 {
	return int64(min(o.maxRequestID(), 1<<20)) + 16
}

func durOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func intOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
