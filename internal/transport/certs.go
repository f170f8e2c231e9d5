package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Self-signed certificate validity limits. Browsers accept a certificate
// through WebTransport's serverCertificateHashes only if it is valid for at
// most 14 days (and is ECDSA P-256).
const (
	MaxSelfSignedValidity     = 14 * 24 * time.Hour
	DefaultSelfSignedValidity = 13 * 24 * time.Hour
)

// GenerateSelfSigned creates a self-signed ECDSA P-256 server certificate
// for hosts (DNS names or IP addresses; default localhost, 127.0.0.1 and
// ::1) and returns it with the SHA-256 fingerprint of its DER encoding.
// validity 0 means DefaultSelfSignedValidity; longer than
// MaxSelfSignedValidity is capped to it; negative is an error. NotAfter -
// NotBefore equals the validity, with NotBefore one minute in the past to
// tolerate clock skew.
func GenerateSelfSigned(hosts []string, validity time.Duration) (tls.Certificate, [32]byte, error) {
	var fp [32]byte
	switch {
	case validity < 0:
		return tls.Certificate{}, fp, fmt.Errorf("transport: negative certificate validity %v", validity)
	case validity == 0:
		validity = DefaultSelfSignedValidity
	case validity > MaxSelfSignedValidity:
		validity = MaxSelfSignedValidity
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fp, fmt.Errorf("transport: generating P-256 key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fp, fmt.Errorf("transport: generating serial number: %w", err)
	}
	notBefore := time.Now().Add(-time.Minute).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0]},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if h == "" {
			return tls.Certificate{}, fp, errors.New("transport: empty host name for certificate")
		}
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fp, fmt.Errorf("transport: creating certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fp, fmt.Errorf("transport: parsing generated certificate: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return cert, sha256.Sum256(der), nil
}

// Fingerprint returns the SHA-256 hash of the certificate's DER encoding, the
// value WebTransport's serverCertificateHashes and TLSOptions.PinSHA256 use.
func Fingerprint(cert *x509.Certificate) [32]byte {
	return sha256.Sum256(cert.Raw)
}

// FormatFingerprint formats a fingerprint as 64 lowercase hex digits without
// separators.
func FormatFingerprint(fp [32]byte) string {
	return hex.EncodeToString(fp[:])
}

// ParseFingerprint parses a SHA-256 fingerprint written as 64 hex digits,
// either contiguous or as 32 colon-separated pairs ("AB:CD:..."), in any
// case. Surrounding white space is ignored.
func ParseFingerprint(s string) ([32]byte, error) {
	var fp [32]byte
	t := strings.TrimSpace(s)
	if strings.Contains(t, ":") {
		parts := strings.Split(t, ":")
		if len(parts) != len(fp) {
			return fp, fmt.Errorf("transport: fingerprint %q: want %d colon-separated byte pairs, got %d", s, len(fp), len(parts))
		}
		for i, p := range parts {
			if len(p) != 2 {
				return fp, fmt.Errorf("transport: fingerprint %q: group %d is %q, want two hex digits", s, i+1, p)
			}
		}
		t = strings.Join(parts, "")
	}
	if len(t) != 2*len(fp) {
		return fp, fmt.Errorf("transport: fingerprint %q: want %d hex digits, got %d characters", s, 2*len(fp), len(t))
	}
	if _, err := hex.Decode(fp[:], []byte(t)); err != nil {
		return [32]byte{}, fmt.Errorf("transport: fingerprint %q: %w", s, err)
	}
	return fp, nil
}

// LoadCertificate loads a PEM certificate chain and its private key, with
// Leaf parsed.
func LoadCertificate(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: loading certificate %s with key %s: %w", certFile, keyFile, err)
	}
	if cert.Leaf == nil {
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("transport: parsing certificate %s: %w", certFile, err)
		}
		cert.Leaf = leaf
	}
	return cert, nil
}
