package transport

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/quic-go/quic-go"
)

// Defaults applied to zero Options fields.
const (
	DefaultHandshakeTimeout      = 10 * time.Second
	DefaultIdleTimeout           = 30 * time.Second
	DefaultMaxIncomingUniStreams = 10000
	DefaultMaxIncomingStreams    = 100
)

// Options configure a client (Dial) or a server (Listen).
type Options struct {
	// TLS configures certificates and their verification.
	TLS TLSOptions
	// HandshakeTimeout bounds the QUIC handshake plus, for WebTransport, the
	// CONNECT exchange. Zero or negative means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// IdleTimeout is the QUIC max idle timeout (the smaller of both
	// endpoints' values applies). Zero or negative means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// KeepAlive is the QUIC keep-alive (PING) period. Zero means
	// IdleTimeout/3; negative disables keep-alives.
	KeepAlive time.Duration
	// MaxIncomingUniStreams is the number of concurrent unidirectional
	// streams the peer may open. Zero means DefaultMaxIncomingUniStreams;
	// negative allows none.
	MaxIncomingUniStreams int64
	// MaxIncomingStreams is the number of concurrent bidirectional streams
	// the peer may open (for WebTransport this includes the CONNECT stream).
	// Zero means DefaultMaxIncomingStreams; negative allows none.
	MaxIncomingStreams int64
	// Protocols are the MoQT protocols a client offers, in its order of
	// preference (ALPNMoQT16, ALPNMoQ): as the TLS ALPN list over raw QUIC,
	// in WT-Available-Protocols over WebTransport. Empty means ALPNMoQ alone
	// over raw QUIC and no WT-Available-Protocols header over WebTransport
	// (as before protocol negotiation existed). Servers use
	// ServerOptions.Protocols instead.
	Protocols []string
}

// TLSOptions configure TLS. Clients use the verification fields; servers use
// Certificates.
//
// Verification modes, strongest first applied:
//   - Insecure: no verification at all (only when explicitly asked for);
//   - PinSHA256 set: the server's leaf certificate must have one of the
//     given SHA-256 fingerprints and be inside its validity period; the
//     chain and the host name are NOT verified. This mirrors WebTransport's
//     serverCertificateHashes and lets clients use short-lived self-signed
//     certificates (see GenerateSelfSigned);
//   - otherwise normal WebPKI verification of chain and name against
//     RootCAs/CAFile/CAPEM, or the system roots.
type TLSOptions struct {
	// RootCAs are the trusted roots. Nil means the system roots (Go honours
	// SSL_CERT_FILE and SSL_CERT_DIR).
	RootCAs *x509.CertPool
	// CAFile names a PEM file of CA certificates. They are added to a copy of
	// RootCAs, or, when RootCAs is nil, form the root set on their own.
	CAFile string
	// CAPEM holds PEM CA certificates, used like CAFile.
	CAPEM []byte
	// PinSHA256 lists accepted leaf-certificate SHA-256 fingerprints; see the
	// type documentation.
	PinSHA256 [][32]byte
	// Insecure skips all verification, pins included.
	Insecure bool
	// ServerName overrides the name sent in SNI and verified in the
	// certificate (default: the URL host).
	ServerName string
	// Certificates are the server's certificates (server side only).
	Certificates []tls.Certificate
}

// ServerOptions configure Listen.
type ServerOptions struct {
	Options
	// WebTransportPath is the only URL path at which WebTransport CONNECT
	// requests are accepted (the query is not compared); other paths get
	// 404. Empty accepts any path.
	WebTransportPath string
	// CheckOrigin decides whether a WebTransport request's Origin is allowed
	// (false gets 403). Nil allows every origin, which suits MoQT endpoints
	// that authenticate in-band; set it when browsers on foreign pages must
	// not be able to connect with the user's ambient credentials.
	CheckOrigin func(*http.Request) bool
	// Protocols are the MoQT protocols the server accepts, in its order of
	// preference; empty means DefaultProtocols (ALPNMoQT16, then ALPNMoQ).
	// They are offered as TLS ALPN values next to "h3" (raw QUIC), and matched
	// against a WebTransport client's WT-Available-Protocols, the server's
	// preference deciding. A WebTransport client that offers no protocol
	// gets a session without WT-Protocol (read as ALPNMoQ).
	Protocols []string
}

// protocols returns the server's protocols, defaulted.
func (o ServerOptions) protocols() []string {
	if len(o.Protocols) == 0 {
		return slices.Clone(DefaultProtocols)
	}
	return slices.Clone(o.Protocols)
}

func (o Options) withDefaults() Options {
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	switch {
	case o.KeepAlive == 0:
		o.KeepAlive = o.IdleTimeout / 3
	case o.KeepAlive < 0:
		o.KeepAlive = 0
	}
	if o.MaxIncomingUniStreams == 0 {
		o.MaxIncomingUniStreams = DefaultMaxIncomingUniStreams
	}
	if o.MaxIncomingStreams == 0 {
		o.MaxIncomingStreams = DefaultMaxIncomingStreams
	}
	return o
}

// quicConfig returns the quic-go configuration for defaulted options. Both
// connection kinds enable datagrams and stream resets with partial delivery
// (required by webtransport-go; harmless for raw QUIC).
func (o Options) quicConfig() *quic.Config {
	return &quic.Config{
		HandshakeIdleTimeout:             o.HandshakeTimeout,
		MaxIdleTimeout:                   o.IdleTimeout,
		KeepAlivePeriod:                  o.KeepAlive,
		MaxIncomingStreams:               o.MaxIncomingStreams,
		MaxIncomingUniStreams:            o.MaxIncomingUniStreams,
		EnableDatagrams:                  true,
		EnableStreamResetPartialDelivery: true,
	}
}

// clientTLSConfig builds the client TLS configuration for host and the
// ALPN values alpns.
func (o TLSOptions) clientTLSConfig(host string, alpns []string) (*tls.Config, error) {
	conf := &tls.Config{
		ServerName: host,
		NextProtos: alpns,
		MinVersion: tls.VersionTLS13,
	}
	if o.ServerName != "" {
		conf.ServerName = o.ServerName
	}
	if o.Insecure {
		conf.InsecureSkipVerify = true
		return conf, nil
	}
	if len(o.PinSHA256) > 0 {
		pins := slices.Clone(o.PinSHA256)
		// Chain verification is replaced by VerifyConnection, which crypto/tls
		// calls even with InsecureSkipVerify.
		conf.InsecureSkipVerify = true
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyPinned(cs.PeerCertificates, pins, time.Now())
		}
		return conf, nil
	}
	roots, err := o.rootPool()
	if err != nil {
		return nil, err
	}
	conf.RootCAs = roots
	return conf, nil
}

// rootPool returns the root CAs: RootCAs plus CAFile and CAPEM.
func (o TLSOptions) rootPool() (*x509.CertPool, error) {
	if o.CAFile == "" && len(o.CAPEM) == 0 {
		return o.RootCAs, nil
	}
	pool := x509.NewCertPool()
	if o.RootCAs != nil {
		pool = o.RootCAs.Clone()
	}
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("transport: reading CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("transport: CA file %s holds no PEM certificate", o.CAFile)
		}
	}
	if len(o.CAPEM) > 0 && !pool.AppendCertsFromPEM(o.CAPEM) {
		return nil, errors.New("transport: CAPEM holds no PEM certificate")
	}
	return pool, nil
}

// verifyPinned checks the leaf certificate against the pins and its validity
// period.
func verifyPinned(chain []*x509.Certificate, pins [][32]byte, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("transport: server sent no certificate")
	}
	leaf := chain[0]
	got := sha256.Sum256(leaf.Raw)
	if !slices.Contains(pins, got) {
		return &CertificatePinError{Got: got, Pins: pins}
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("transport: pinned certificate %s is not valid before %s",
			FormatFingerprint(got), leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("transport: pinned certificate %s expired at %s",
			FormatFingerprint(got), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
