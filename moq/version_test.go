package moq

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
)

func listenDrafts(t *testing.T, drafts ...Draft) (*Listener, [32]byte) {
	t.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen("127.0.0.1:0", &Options{Drafts: drafts, TLS: TLSConfig{Certificates: []tls.Certificate{cert}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, fp
}

// A client allowing both drafts falls back to draft-07 when the server does
// not take draft-14.
func TestVersionFallback(t *testing.T) {
	for _, scheme := range []string{"moqt", "https"} {
		t.Run(scheme, func(t *testing.T) {
			ln, fp := listenDrafts(t, Draft07Cloudflare)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			accepted := make(chan *Session, 1)
			go func() {
				s, err := ln.Accept(ctx)
				if err == nil {
					accepted <- s
				}
			}()
			c, err := Dial(ctx, fmt.Sprintf("%s://%s/", scheme, ln.Addr()), &Options{TLS: TLSConfig{PinSHA256: [][32]byte{fp}}})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer func() { c.Close(); c.Wait() }()
			if c.Draft() != Draft07Cloudflare {
				t.Fatalf("negotiated %v, want 07cf", c.Draft())
			}
			s := <-accepted
			defer func() { s.Close(); s.Wait() }()
			if s.Draft() != Draft07Cloudflare {
				t.Fatalf("server negotiated %v", s.Draft())
			}
		})
	}
}

// No common draft: the dial fails with ErrVersion, not a hang.
func TestVersionMismatch(t *testing.T) {
	ln, fp := listenDrafts(t, Draft14)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Dial(ctx, fmt.Sprintf("moqt://%s/", ln.Addr()), &Options{Drafts: []Draft{Draft07Cloudflare},
		TLS: TLSConfig{PinSHA256: [][32]byte{fp}}})
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("dial: %v, want ErrVersion", err)
	}
}
