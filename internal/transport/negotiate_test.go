package transport

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
)

// TestProtocolNegotiation dials servers configured for different MoQT
// protocols with different offers, over both transports, and checks what
// both ends report as negotiated.
func TestProtocolNegotiation(t *testing.T) {
	both := []string{ALPNMoQT16, ALPNMoQ}
	cases := []struct {
		name   string
		server []string // nil: DefaultProtocols
		offer  []string
		want   string
	}{
		{"default server, client offers 16 then 00", nil, both, ALPNMoQT16},
		{"server preference wins over the client's order", nil, []string{ALPNMoQ, ALPNMoQT16}, ALPNMoQT16},
		{"server prefers 00", []string{ALPNMoQ, ALPNMoQT16}, both, ALPNMoQ},
		{"server speaks only 00", []string{ALPNMoQ}, both, ALPNMoQ},
		{"server speaks only 16", []string{ALPNMoQT16}, both, ALPNMoQT16},
		{"client offers only 16", nil, []string{ALPNMoQT16}, ALPNMoQT16},
		{"client offers nothing (moq-00 client)", nil, nil, ALPNMoQ},
	}
	for _, tc := range cases {
		for _, p := range protocols {
			t.Run(tc.name+"/"+string(p), func(t *testing.T) {
				srv := startServer(t, func(o *ServerOptions) { o.Protocols = tc.server })
				opts := srv.pinned()
				opts.Protocols = tc.offer
				client, server := connect(t, srv, p, opts)
				if got := client.NegotiatedProtocol(); got != tc.want {
					t.Errorf("client negotiated %q, want %q", got, tc.want)
				}
				if got := server.NegotiatedProtocol(); got != tc.want {
					t.Errorf("server negotiated %q, want %q", got, tc.want)
				}
				// The connection works.
				ctx := testContext(t)
				s, err := client.OpenUniStreamSync(ctx)
				if err != nil {
					t.Fatal(err)
				}
				write(t, s, "ping")
				r, err := server.AcceptUniStream(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := readAll(t, r); got != "ping" {
					t.Fatalf("read %q", got)
				}
			})
		}
	}
}

// TestProtocolMismatch: over raw QUIC a client whose offer the server does
// not speak fails its TLS handshake; over WebTransport the server answers
// without WT-Protocol and the session reads as moq-00.
func TestProtocolMismatch(t *testing.T) {
	srv := startServer(t, func(o *ServerOptions) { o.Protocols = []string{ALPNMoQ} })
	opts := srv.pinned()
	opts.Protocols = []string{ALPNMoQT16}
	ctx := testContext(t)
	c, err := Dial(ctx, srv.url(ProtocolQUIC, "/moq"), opts)
	if err == nil {
		_ = c.CloseWithError(0, "")
		t.Fatal("raw QUIC dial offering only moqt-16 to a moq-00 server succeeded")
	}
	if !errors.Is(err, ErrNoCommonProtocol) {
		t.Errorf("error %q does not wrap ErrNoCommonProtocol", err)
	}

	client, server := connect(t, srv, ProtocolWebTransport, opts)
	if got := client.NegotiatedProtocol(); got != ALPNMoQ {
		t.Errorf("client negotiated %q, want %q (no WT-Protocol)", got, ALPNMoQ)
	}
	if got := server.NegotiatedProtocol(); got != ALPNMoQ {
		t.Errorf("server negotiated %q, want %q", got, ALPNMoQ)
	}
}

// TestInvalidProtocols: "h3" and "" are refused as MoQT protocols on both
// sides.
func TestInvalidProtocols(t *testing.T) {
	cert, _, err := GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{ALPNH3}, {ALPNMoQ, ""}} {
		opts := ServerOptions{Options: Options{TLS: TLSOptions{Certificates: []tls.Certificate{cert}}}, Protocols: bad}
		if l, err := Listen("127.0.0.1:0", opts); err == nil {
			_ = l.Close()
			t.Errorf("Listen with protocols %q succeeded", bad)
		}
		_, err := Dial(testContext(t), "moqt://127.0.0.1:1/", Options{Protocols: bad})
		if err == nil || !strings.Contains(err.Error(), "invalid MoQT protocol") {
			t.Errorf("Dial with protocols %q: err = %v, want an invalid protocol error", bad, err)
		}
	}
}
