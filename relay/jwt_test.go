package relay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// authClients are the drafts and transports the auth tests run over; a
// draft-16 row goes here. (The relay serves one draft-07 data layout,
// Cloudflare's by default, so the draft-07 rows use it.)
var authClients = []client{quic18, wt18, quic16, wt16, quic14, wt14, quic07cf, wt07cf}

// hasSetupToken: the draft's CLIENT_SETUP can carry an AUTHORIZATION TOKEN.
func hasSetupToken(c client) bool { return !c.draft.Is07() }

const testSecret = "0123456789abcdef0123456789abcdef-test-secret"

// jwtKeys are an HS256 secret and an ES256 key pair, with the verifiers.
type jwtKeys struct {
	es     *ecdsa.PrivateKey
	esPEM  []byte
	hs     *JWTVerifier
	esVer  *JWTVerifier
	secret []byte
}

func newJWTKeys(t testing.TB) *jwtKeys {
	t.Helper()
	k := &jwtKeys{secret: []byte(testSecret)}
	var err error
	if k.es, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.es.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	k.esPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if k.hs, err = NewJWTVerifier(JWTHS256, append([]byte(testSecret), '\n')); err != nil {
		t.Fatal(err)
	}
	if k.esVer, err = NewJWTVerifier(JWTES256, k.esPEM); err != nil {
		t.Fatal(err)
	}
	return k
}

// sign makes a token with method and key.
func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func expiresIn(d time.Duration) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(d))}
}

// dialWithToken connects c carrying tok: in CLIENT_SETUP where the draft
// has one, else in the URL (?jwt=).
func (r *testRelay) dialWithToken(c client, tok string) (*moq.Session, error) {
	if hasSetupToken(c) {
		return r.tryDial(c, &moq.Options{AuthToken: tok})
	}
	return r.tryDialURL(c, fmt.Sprintf("%s?jwt=%s", r.url(c.scheme), url.QueryEscape(tok)), &moq.Options{AuthToken: tok})
}

// refusedCode returns the session error code of a refused session (the
// refusal may end the session during setup or just after), or fails.
func refusedCode(t *testing.T, s *moq.Session, err error) uint64 {
	t.Helper()
	if err == nil {
		if err := s.Announce(ctxT(t), moq.Namespace{"refused"}); err == nil {
			s.Close()
			s.Wait()
			t.Fatal("announce accepted on a session that should be refused")
		}
		<-s.Done()
		err = s.Err()
		s.Wait()
	}
	var se *moq.SessionError
	if !errors.As(err, &se) {
		t.Fatalf("%v: want a session closed by the relay", err)
	}
	return se.Code
}

// TestJWTSession: a session is admitted with a valid token in its setup
// (or URL) and refused otherwise: expired (EXPIRED_AUTH_TOKEN where the
// draft has it), not yet valid, wrong key, alg none, another algorithm,
// and an HS256 token keyed with the ES256 public key (alg confusion).
func TestJWTSession(t *testing.T) {
	k := newJWTKeys(t)
	otherSecret := []byte("another-secret-another-secret-another")
	valid := expiresIn(time.Hour)
	for _, ver := range []struct {
		name string
		v    *JWTVerifier
		good string
	}{
		{"HS256", k.hs, sign(t, jwt.SigningMethodHS256, k.secret, valid)},
		{"ES256", k.esVer, sign(t, jwt.SigningMethodES256, k.es, valid)},
	} {
		r := startRelay(t, Config{Authorize: ver.v.Authorize})
		bad := []struct {
			name    string
			tok     string
			expired bool
		}{
			{"expired", sign(t, jwt.SigningMethodHS256, k.secret, expiresIn(-time.Minute)), true},
			{"expired ES256", sign(t, jwt.SigningMethodES256, k.es, expiresIn(-time.Minute)), true},
			{"not yet valid", sign(t, jwt.SigningMethodHS256, k.secret, jwt.RegisteredClaims{NotBefore: jwt.NewNumericDate(time.Now().Add(time.Hour))}), false},
			{"wrong key", sign(t, jwt.SigningMethodHS256, otherSecret, valid), false},
			{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid), false},
			{"HS384", sign(t, jwt.SigningMethodHS384, k.secret, valid), false},
			{"alg confusion", sign(t, jwt.SigningMethodHS256, k.esPEM, valid), false},
			{"garbage", "not.a.jwt", false},
		}
		for _, c := range authClients {
			t.Run(ver.name+"/"+c.name, func(t *testing.T) {
				s, err := r.dialWithToken(c, ver.good)
				if err != nil {
					t.Fatalf("valid token refused: %v", err)
				}
				ns := moq.Namespace{"jwt", ver.name, c.name}
				if err := s.Announce(ctxT(t), ns); err != nil {
					t.Fatalf("announce with a valid token: %v", err)
				}
				s.Close()
				s.Wait()
				for _, b := range bad {
					if ver.name == "ES256" && b.name == "expired" {
						continue // an HS256 token: refused for its algorithm
					}
					if ver.name == "HS256" && b.name == "expired ES256" {
						continue
					}
					s, err := r.dialWithToken(c, b.tok)
					code := refusedCode(t, s, err)
					want := uint64(codeUnauthorized)
					if b.expired && hasSetupToken(c) {
						want = codeExpiredAuthToken
					}
					if code != want {
						t.Fatalf("%s: session closed with %#x, want %#x", b.name, code, want)
					}
				}
				// No token at all.
				s, err = r.tryDial(c, nil)
				if code := refusedCode(t, s, err); code != codeUnauthorized {
					t.Fatalf("no token: closed with %#x, want %#x", code, codeUnauthorized)
				}
			})
		}
	}
}

// TestJWTClaims: the publish and subscribe claims restrict the namespaces;
// a request's own token replaces the session's for that request, and an
// expired one gets EXPIRED_AUTH_TOKEN (draft-14) or Unauthorized.
func TestJWTClaims(t *testing.T) {
	k := newJWTKeys(t)
	r := startRelay(t, Config{Authorize: k.hs.Authorize})
	ctx := ctxT(t)
	type claims struct {
		jwt.RegisteredClaims
		Publish   any `json:"publish,omitempty"`
		Subscribe any `json:"subscribe,omitempty"`
	}
	tok := func(pub, sub any, exp time.Duration) string {
		return sign(t, jwt.SigningMethodHS256, k.secret, claims{RegisteredClaims: expiresIn(exp), Publish: pub, Subscribe: sub})
	}
	for _, c := range authClients {
		t.Run(c.name, func(t *testing.T) {
			unauthorized := uint64(0x1) // draft-14 UNAUTHORIZED
			if c.draft.Is07() {
				unauthorized = 0x4 // draft-07 Unauthorized
			}
			refused := func(err error, want uint64, what string) {
				t.Helper()
				var re *moq.RequestError
				if !errors.As(err, &re) || re.Code != want {
					t.Fatalf("%s: %v, want a refusal with code %#x", what, err, want)
				}
			}
			cn := strings.ReplaceAll(c.name, "/", "-")
			room := moq.Namespace{"live", cn, "room1"}
			// The publisher may publish under live/<client> only, and
			// subscribe to nothing.
			pub, err := r.dialWithToken(c, tok([]string{"live/" + cn}, []string{}, time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pub.Close(); pub.Wait() })
			tr, err := pub.Publish(room, "t", moq.TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Announce(ctx, room); err != nil {
				t.Fatalf("announce inside the publish prefix: %v", err)
			}
			refused(pub.Announce(ctx, moq.Namespace{"other", cn}), unauthorized, "announce outside the publish prefix")
			_, err = pub.Subscribe(ctx, room, "t", moq.SubscribeOptions{})
			refused(err, unauthorized, "subscribe with an empty subscribe claim")

			// The subscriber may subscribe under live/<client>/room1 (array
			// form), and publish nothing.
			sub, err := r.dialWithToken(c, tok([]string{}, [][]string{room}, time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sub.Close(); sub.Wait() })
			refused(sub.Announce(ctx, room), unauthorized, "announce with an empty publish claim")
			_, err = sub.Subscribe(ctx, moq.Namespace{"live", cn}, "t", moq.SubscribeOptions{})
			refused(err, unauthorized, "subscribe above the subscribe prefix")
			// A request's own token replaces the session's: an unrestricted
			// one lets this subscribe through to "not found", an expired
			// one is refused.
			_, err = sub.Subscribe(ctx, moq.Namespace{"live", cn}, "t", moq.SubscribeOptions{AuthToken: tok(nil, nil, time.Hour)})
			if err == nil || !errors.Is(err, moq.ErrTrackNotFound) && !isNotFound(err, c) {
				t.Fatalf("subscribe with an unrestricted request token: %v, want track not found", err)
			}
			expiredCode := expiredTokenCode(c.draft)
			if c.draft.Is07() {
				expiredCode = unauthorized
			}
			_, err = sub.Subscribe(ctx, room, "t", moq.SubscribeOptions{AuthToken: tok(nil, nil, -time.Minute)})
			refused(err, expiredCode, "subscribe with an expired request token")
			s, err := sub.Subscribe(ctx, room, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatalf("subscribe inside the subscribe prefix: %v", err)
			}
			writeGroups(t, tr, 1, 2)
			if err := expectGroups(ctx, s, 0, 1, 2); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// isNotFound: the relay's "track does not exist" for the client's draft.
func isNotFound(err error, c client) bool {
	var re *moq.RequestError
	if !errors.As(err, &re) {
		return false
	}
	return re.Code == notExistCode(c.draft)
}

// TestTokenAndJWT: --token-file and --jwt-key together (AnyOf): the static
// token (URL or setup token) allows everything, a JWT what its claims
// allow; the static token is checked again on each request.
func TestTokenAndJWT(t *testing.T) {
	k := newJWTKeys(t)
	r := startRelay(t, Config{Authorize: AnyOf(RequireToken("static-token"), k.hs.Authorize)})
	ctx := ctxT(t)
	for _, c := range []client{quic14, wt07cf} {
		t.Run(c.name, func(t *testing.T) {
			s, err := r.tryDial(c, &moq.Options{AuthToken: "static-token"})
			if !hasSetupToken(c) {
				s, err = r.tryDialURL(c, r.url(c.scheme)+"?token=static-token", nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Announce(ctx, moq.Namespace{"any", c.name}); err != nil {
				t.Fatalf("static token: %v", err)
			}
			s.Close()
			s.Wait()
			jt := sign(t, jwt.SigningMethodHS256, k.secret, jwt.MapClaims{"publish": []string{"jwt"}})
			s, err = r.dialWithToken(c, jt)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { s.Close(); s.Wait() }()
			if err := s.Announce(ctx, moq.Namespace{"jwt", c.name}); err != nil {
				t.Fatalf("JWT inside its prefix: %v", err)
			}
			var re *moq.RequestError
			if err := s.Announce(ctx, moq.Namespace{"any", c.name, "x"}); !errors.As(err, &re) {
				t.Fatalf("JWT outside its prefix: %v, want a refusal", err)
			}
			s2, err := r.dialWithToken(c, "wrong")
			if code := refusedCode(t, s2, err); code != codeUnauthorized {
				t.Fatalf("wrong token: %#x", code)
			}
		})
	}
}

func TestJWTVerifierKeys(t *testing.T) {
	k := newJWTKeys(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := LoadJWTVerifier(JWTHS256, write("secret", []byte(testSecret+"\n"))); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadJWTVerifier(JWTES256, write("pub.pem", k.esPEM)); err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for _, tc := range []struct {
		alg, what string
		key       []byte
	}{
		{JWTHS256, "short secret", []byte("short\n")},
		{JWTHS256, "a PEM key as secret", k.esPEM},
		{JWTES256, "a secret as PEM", []byte(testSecret)},
		{JWTES256, "a P-384 key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})},
		{"RS256", "another algorithm", k.esPEM},
		{"none", "alg none", []byte(testSecret)},
	} {
		if _, err := NewJWTVerifier(tc.alg, tc.key); err == nil {
			t.Errorf("%s (%s) accepted", tc.what, tc.alg)
		}
	}
	if _, err := LoadJWTVerifier(JWTHS256, filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing key file accepted")
	}
	// Claims: both namespace forms; a bad one is refused.
	c, err := k.hs.Verify(sign(t, jwt.SigningMethodHS256, k.secret, jwt.MapClaims{"publish": []any{"a/b", []string{"c", "d/e"}}, "subscribe": []string{""}}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*c.Publish, NamespaceList{{"a", "b"}, {"c", "d/e"}}) || !reflect.DeepEqual(*c.Subscribe, NamespaceList{{}}) {
		t.Fatalf("claims %q %q", *c.Publish, *c.Subscribe)
	}
	if !c.Subscribe.allows(moq.Namespace{"x"}) || !c.Publish.allows(moq.Namespace{"c", "d/e", "f"}) || c.Publish.allows(moq.Namespace{"c", "d"}) {
		t.Fatal("prefix matching")
	}
	if _, err := k.hs.Verify(sign(t, jwt.SigningMethodHS256, k.secret, jwt.MapClaims{"publish": "a/b"})); err == nil || !strings.Contains(err.Error(), "array") {
		t.Fatalf("a publish claim that is not an array: %v", err)
	}
	if _, err := k.hs.Verify(sign(t, jwt.SigningMethodHS256, k.secret, jwt.MapClaims{"subscribe": []any{1}})); err == nil {
		t.Fatal("a number in a namespace list accepted")
	}
}

// BenchmarkJWTVerify: the cost of one verification (done at admission and
// for every request), HS256 and ES256; compare the two in the same run.
func BenchmarkJWTVerify(b *testing.B) {
	k := newJWTKeys(b)
	claims := jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix(), "publish": []string{"live/a"}, "subscribe": []string{"live"}}
	for _, c := range []struct {
		name string
		v    *JWTVerifier
		m    jwt.SigningMethod
		key  any
	}{
		{"HS256", k.hs, jwt.SigningMethodHS256, k.secret},
		{"ES256", k.esVer, jwt.SigningMethodES256, k.es},
	} {
		tok, err := jwt.NewWithClaims(c.m, claims).SignedString(c.key)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
