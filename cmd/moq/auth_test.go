package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
)

// TestRelayJWTCommand: "moq relay --jwt-key --jwt-alg HS256" with "moq pub"
// and "moq sub --auth-token-file": a token whose claims allow the
// namespace carries lines from pub to sub; sub without a token, or with one
// restricted to another namespace, fails; bad flag combinations are refused
// at start.
func TestRelayJWTCommand(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("os/signal.signal_recv"))
	dir := t.TempDir()
	write := func(name, content string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := "cli-test-secret-cli-test-secret-0123456789"
	keyFile := write("secret", secret+"\n")
	tok := func(claims jwt.MapClaims) string {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pubTok := write("pub.jwt", tok(jwt.MapClaims{"publish": []string{"cli/jwt"}, "subscribe": []string{"cli/jwt"}})+"\n")
	subTok := write("sub.jwt", tok(jwt.MapClaims{"publish": []string{}, "subscribe": []string{"cli/jwt"}}))
	otherTok := write("other.jwt", tok(jwt.MapClaims{"subscribe": []string{"elsewhere"}}))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--jwt-key", keyFile}, "--jwt-alg"},
		{[]string{"--jwt-alg", "HS256"}, "--jwt-key"},
		{[]string{"--jwt-key", keyFile, "--jwt-alg", "none"}, "algorithm"},
		{[]string{"--jwt-key", keyFile, "--jwt-alg", "ES256"}, "ES256"},
		{[]string{"--jwt-key", dir + "/missing", "--jwt-alg", "HS256"}, "missing"},
	} {
		r := wait(t, ctx, "relay", startCLI(ctx, nil, nil, append([]string{"relay", "--listen", "127.0.0.1:0"}, bad.args...)...))
		if r.code == 0 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("relay %v: exit %d, stderr %q (want %q)", bad.args, r.code, r.stderr, bad.want)
		}
	}

	addr, pin, stop, relayDone := startRelayCLI(t, ctx, "--jwt-key", keyFile, "--jwt-alg", "HS256")
	url, pinHex := "moqt://"+addr+"/", transport.FormatFingerprint(pin)
	pubCh := startCLI(ctx, strings.NewReader("one\ntwo\n"), nil, "pub", url, "cli/jwt", "track", "--pin", pinHex, "--auth-token-file", pubTok)
	// Wait for the announce through a session of its own (with the
	// subscriber's token: namespace subscriptions fall under "subscribe").
	s, err := moq.Dial(ctx, url, &moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{pin}}, AuthToken: strings.TrimSpace(readFile(t, subTok))})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.SubscribeNamespace(ctx, moq.Namespace{"cli"})
	if err == nil {
		t.Fatal("a namespace subscription above the token's prefix was accepted")
	}
	if n, err = s.SubscribeNamespace(ctx, moq.Namespace{"cli", "jwt"}); err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := n.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for the announce: %v", err)
		}
		if ev.Active {
			break
		}
	}
	s.Close()
	s.Wait()

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no token", nil, "unauthorized"},
		{"other namespace", []string{"--auth-token-file", otherTok}, "unauthorized"},
	} {
		r := wait(t, ctx, "sub", startCLI(ctx, nil, nil, append([]string{"sub", url, "cli/jwt", "track", "--pin", pinHex, "--count", "2", "--output", "lines"}, c.args...)...))
		if r.code == 0 || !strings.Contains(strings.ToLower(r.stderr), c.want) {
			t.Errorf("sub with %s: exit %d, stdout %q, stderr %q", c.name, r.code, r.stdout, r.stderr)
		}
	}
	sub := wait(t, ctx, "sub", startCLI(ctx, nil, nil, "sub", url, "cli/jwt", "track", "--pin", pinHex, "--count", "2", "--output", "lines", "--auth-token-file", subTok))
	if sub.code != 0 || sub.stdout != "one\ntwo\n" {
		t.Errorf("sub with a token: exit %d, stdout %q, stderr %q", sub.code, sub.stdout, sub.stderr)
	}
	if pub := wait(t, ctx, "pub", pubCh); pub.code != 0 {
		t.Errorf("pub: exit %d, stderr %q", pub.code, pub.stderr)
	}
	stop()
	if r := wait(t, ctx, "relay", relayDone); r.code != 0 {
		t.Fatalf("relay: exit %d, stderr %q", r.code, r.stderr)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
