package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGenerateSelfSigned(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hosts    []string
		validity time.Duration
		want     time.Duration
		dns      []string
		ips      []string
	}{
		{"defaults", nil, 0, DefaultSelfSignedValidity, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{"capped", []string{"relay.example", "10.0.0.1"}, 30 * 24 * time.Hour, MaxSelfSignedValidity, []string{"relay.example"}, []string{"10.0.0.1"}},
		{"short", []string{"a.example"}, time.Hour, time.Hour, []string{"a.example"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, fp, err := GenerateSelfSigned(tc.hosts, tc.validity)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(cert.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if got := leaf.NotAfter.Sub(leaf.NotBefore); got != tc.want || got > 14*24*time.Hour {
				t.Errorf("validity %v, want %v (at most 14 days)", got, tc.want)
			}
			if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
				t.Errorf("not valid now: %v .. %v", leaf.NotBefore, leaf.NotAfter)
			}
			pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
			if !ok || pub.Curve != elliptic.P256() {
				t.Fatalf("public key %T is not ECDSA P-256", leaf.PublicKey)
			}
			if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
				t.Fatalf("private key %T", cert.PrivateKey)
			}
			if fp != sha256.Sum256(cert.Certificate[0]) || fp != Fingerprint(leaf) {
				t.Error("fingerprint does not match the certificate")
			}
			if !slices.Equal(leaf.DNSNames, tc.dns) {
				t.Errorf("DNS SANs %v, want %v", leaf.DNSNames, tc.dns)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tc.ips) {
				t.Errorf("IP SANs %v, want %v", ips, tc.ips)
			}
			if err := leaf.VerifyHostname(tc.dns[0]); err != nil {
				t.Error(err)
			}
		})
	}
	if _, _, err := GenerateSelfSigned(nil, -time.Second); err == nil {
		t.Error("negative validity accepted")
	}
	if _, _, err := GenerateSelfSigned([]string{""}, 0); err == nil {
		t.Error("empty host accepted")
	}
}

func TestFingerprintFormatParse(t *testing.T) {
	var fp [32]byte
	for i := range fp {
		fp[i] = byte(i*7 + 0xa0)
	}
	s := FormatFingerprint(fp)
	if len(s) != 64 || strings.ToLower(s) != s || strings.Contains(s, ":") {
		t.Fatalf("FormatFingerprint = %q", s)
	}
	pairs := make([]string, 32)
	for i := range pairs {
		pairs[i] = s[2*i : 2*i+2]
	}
	colon := strings.Join(pairs, ":")
	for _, in := range []string{s, strings.ToUpper(s), colon, strings.ToUpper(colon), "  " + s + "\n"} {
		got, err := ParseFingerprint(in)
		if err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %x, %v", in, got, err)
		}
	}
	for _, bad := range []string{
		"",
		s[:62],
		s + "00",
		"zz" + s[2:],
		colon[:len(colon)-3],               // 31 pairs
		colon[:3] + ":" + colon[3:],        // empty group
		s[:3] + ":" + s[3:5] + ":" + s[5:], // misplaced colons
		strings.Replace(colon, ":", "-", 1),
	} {
		if _, err := ParseFingerprint(bad); err == nil {
			t.Errorf("ParseFingerprint(%q) accepted", bad)
		}
	}
}

func TestLoadCertificate(t *testing.T) {
	cert, fp, err := GenerateSelfSigned([]string{"localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got.Leaf == nil || Fingerprint(got.Leaf) != fp {
		t.Fatal("loaded certificate differs")
	}
	if _, err := LoadCertificate(filepath.Join(dir, "missing.pem"), keyFile); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestVerifyPinnedValidity(t *testing.T) {
	cert, fp, err := GenerateSelfSigned(nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	chain := []*x509.Certificate{cert.Leaf}
	pins := [][32]byte{fp}
	if err := verifyPinned(chain, pins, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := verifyPinned(chain, pins, cert.Leaf.NotAfter.Add(time.Second)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v", err)
	}
	if err := verifyPinned(chain, pins, cert.Leaf.NotBefore.Add(-time.Second)); err == nil || !strings.Contains(err.Error(), "not valid before") {
		t.Fatalf("not yet valid: %v", err)
	}
	if err := verifyPinned(nil, pins, time.Now()); err == nil {
		t.Fatal("empty chain accepted")
	}
}
