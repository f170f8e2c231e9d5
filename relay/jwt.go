package relay

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// JWT algorithms a JWTVerifier takes.
const (
	JWTHS256 = "HS256" // HMAC-SHA256 with a shared secret
	JWTES256 = "ES256" // ECDSA P-256 with SHA-256, verified with a public key
)

// minHS256Secret is RFC 7518's minimum HS256 key size (the hash's 256 bits).
const minHS256Secret = 32

// JWTVerifier admits sessions and requests that present a JSON Web Token
// (RFC 7519) signed with its key, in its one algorithm: the token's "alg"
// header must be that algorithm (so "none", and an HS256 token made with an
// ES256 public key as its secret, are refused). "exp" and "nbf", when
// present, are checked (no leeway). Claims beyond the registered ones (see
// JWTClaims) restrict what the token allows.
//
// A token is taken, for a request, from the request's own AUTHORIZATION
// TOKEN parameters (draft-07: AUTHORIZATION INFO) if it has any, else from
// the session; for the session, from its CLIENT_SETUP AUTHORIZATION TOKEN
// parameters, then the URL query parameters jwt= and token=. A session
// without any is refused (draft-07 clients, whose setup has no token, put it
// in the URL).
type JWTVerifier struct {
	alg    string
	key    any
	parser *jwt.Parser
}

// JWTClaims are the claims a JWTVerifier reads. "publish" and "subscribe"
// list namespace prefixes, each a '/'-separated string ("live/room1") or
// an array of namespace fields (["live", "room1"]); "" or [] is the empty
// prefix, which matches every namespace. An absent (or null) claim leaves
// that direction unrestricted; an empty list forbids it.
//
//   - publish: PUBLISH_NAMESPACE / ANNOUNCE of a namespace under one of the
//     prefixes.
//   - subscribe: SUBSCRIBE, FETCH and TRACK_STATUS of a track whose
//     namespace is under one of the prefixes, and SUBSCRIBE_NAMESPACE /
//     SUBSCRIBE_ANNOUNCES of a prefix that is itself under one of them.
type JWTClaims struct {
	jwt.RegisteredClaims
	Publish   *NamespaceList `json:"publish,omitempty"`
	Subscribe *NamespaceList `json:"subscribe,omitempty"`
}

// NamespaceList is a list of namespace prefixes in a JWT claim.
type NamespaceList []moq.Namespace

// UnmarshalJSON reads strings ("a/b") and arrays of strings (["a", "b"]).
func (l *NamespaceList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("namespace list: want an array: %w", err)
	}
	out := NamespaceList{}
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			if s == "" {
				out = append(out, moq.Namespace{})
			} else {
				out = append(out, moq.Namespace(strings.Split(s, "/")))
			}
			continue
		}
		var fields []string
		if err := json.Unmarshal(r, &fields); err != nil {
			return fmt.Errorf("namespace list: %s is neither a string nor an array of strings", r)
		}
		out = append(out, moq.Namespace(fields))
	}
	*l = out
	return nil
}

// MarshalJSON writes each prefix as an array of fields.
func (l NamespaceList) MarshalJSON() ([]byte, error) {
	out := make([][]string, len(l))
	for i, ns := range l {
		out[i] = append([]string{}, ns...)
	}
	return json.Marshal(out)
}

// allows reports whether ns is under one of the prefixes (a nil list allows
// everything).
func (l *NamespaceList) allows(ns moq.Namespace) bool {
	if l == nil {
		return true
	}
	for _, p := range *l {
		if ns.HasPrefix(p) {
			return true
		}
	}
	return false
}

// NewJWTVerifier makes a verifier for alg (JWTHS256 or JWTES256) with key:
// the shared secret for HS256 (at least 32 bytes; trailing white space,
// such as a file's final newline, is dropped), a PEM public key (or
// certificate) on the P-256 curve for ES256.
func NewJWTVerifier(alg string, key []byte) (*JWTVerifier, error) {
	v := &JWTVerifier{alg: alg}
	switch alg {
	case JWTHS256:
		secret := bytes.TrimRight(key, " \t\r\n")
		if len(secret) < minHS256Secret {
			return nil, fmt.Errorf("relay: HS256 secret is %d bytes; at least %d needed", len(secret), minHS256Secret)
		}
		if bytes.Contains(secret, []byte("-----BEGIN")) {
			return nil, errors.New("relay: HS256 secret looks like a PEM key; use ES256 for a public key")
		}
		v.key = append([]byte{}, secret...)
	case JWTES256:
		pub, err := jwt.ParseECPublicKeyFromPEM(key)
		if err != nil {
			return nil, fmt.Errorf("relay: ES256 key: %w", err)
		}
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("relay: ES256 key is on %s, not P-256", pub.Curve.Params().Name)
		}
		v.key = pub
	default:
		return nil, fmt.Errorf("relay: JWT algorithm %q: want HS256 or ES256", alg)
	}
	v.parser = jwt.NewParser(jwt.WithValidMethods([]string{alg}))
	return v, nil
}

// LoadJWTVerifier reads the key of NewJWTVerifier from a file.
func LoadJWTVerifier(alg, file string) (*JWTVerifier, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("relay: JWT key: %w", err)
	}
	return NewJWTVerifier(alg, b)
}

// Verify checks a token's signature, algorithm, exp and nbf, and returns its
// claims. An expired token's error wraps ErrTokenExpired (one not valid
// yet is just refused: the drafts call that UNAUTHORIZED, retryable).
func (v *JWTVerifier) Verify(token string) (*JWTClaims, error) {
	claims := &JWTClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if t.Method.Alg() != v.alg {
			return nil, fmt.Errorf("algorithm %q, want %q", t.Method.Alg(), v.alg)
		}
		if _, ok := v.key.(*ecdsa.PublicKey); ok {
			if _, ok := t.Method.(*jwt.SigningMethodECDSA); !ok {
				return nil, errors.New("not an ECDSA token")
			}
		} else if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, errors.New("not an HMAC token")
		}
		return v.key, nil
	})
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, fmt.Errorf("JWT: %w: %v", ErrTokenExpired, err)
		}
		return nil, fmt.Errorf("JWT: %w", err)
	}
	return claims, nil
}

// sessionTokens are the session's own credentials, in the order tried.
func sessionTokens(s *moq.Session) []string {
	var out []string
	for _, t := range s.SetupTokens() {
		out = append(out, t.Value)
	}
	return append(out, queryValues(s, "jwt", "token")...)
}

// Authorize is a Config.Authorize function: the session must present a
// valid token, and each request one (its own or the session's) whose
// claims allow it.
func (v *JWTVerifier) Authorize(s *moq.Session, req AuthRequest) error {
	var cands []string
	if req.Op != OpSession {
		for _, t := range req.Tokens {
			cands = append(cands, t.Value)
		}
	}
	if len(cands) == 0 {
		cands = sessionTokens(s)
	}
	if len(cands) == 0 {
		return errors.New("no JWT presented")
	}
	var errs []error
	for _, tok := range cands {
		c, err := v.Verify(tok)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := c.allow(req); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return errors.Join(errs...)
}

// allow checks a request against the claims' namespace restrictions.
func (c *JWTClaims) allow(req AuthRequest) error {
	var l *NamespaceList
	switch req.Op {
	case OpSession:
		return nil
	case OpAnnounce:
		l = c.Publish
	case OpSubscribe, OpFetch, OpTrackStatus, OpSubscribeNamespace:
		l = c.Subscribe
	default:
		return fmt.Errorf("JWT: unknown operation %q", req.Op)
	}
	if !l.allows(req.Namespace) {
		return fmt.Errorf("JWT: %s of %q is outside the token's prefixes", req.Op, req.Namespace.String())
	}
	return nil
}
