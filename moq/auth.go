package moq

import (
	"fmt"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// AuthToken is an authorization token a peer sent: the Token Type and Token
// Value of a draft-14 (and later) AUTHORIZATION TOKEN parameter, or a
// draft-07 AUTHORIZATION INFO string (Type 0).
type AuthToken struct {
	Type  uint64
	Value string
}

// RequestKind names a peer request, as an Authorizer sees it.
type RequestKind string

// The requests an Authorizer is asked about.
const (
	RequestSubscribe          RequestKind = "subscribe"
	RequestFetch              RequestKind = "fetch"
	RequestTrackStatus        RequestKind = "track-status"
	RequestAnnounce           RequestKind = "announce"
	RequestSubscribeNamespace RequestKind = "subscribe-namespace"
)

// AuthRequest describes one peer request to an Authorizer.
type AuthRequest struct {
	Kind      RequestKind
	Namespace Namespace // the namespace, or the prefix of a namespace subscription
	Name      string    // the track name (subscribe, fetch, track status)
	// Tokens are the request's own AUTHORIZATION TOKEN (draft-14 and
	// later) or AUTHORIZATION INFO (draft-07) parameters, in order; the
	// session's setup tokens are Session.SetupTokens.
	Tokens []AuthToken
}

// Authorizer may be implemented by a Handler. The session then asks it about
// each peer request (SUBSCRIBE, FETCH, TRACK_STATUS, ANNOUNCE /
// PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE / SUBSCRIBE_ANNOUNCES) before
// handing the request to the Handler, on the request's goroutine; an error
// refuses the request as a Handler error does (ErrUnauthorized or a
// *RequestError to choose the code). Joining fetches are asked as fetches of
// the joined track.
type Authorizer interface {
	AuthorizeRequest(s *Session, req *AuthRequest) error
}

// SetupTokens returns the AUTHORIZATION TOKEN parameters of the client's
// CLIENT_SETUP (server sessions, draft-14 and later; draft-07 setup has no
// token, and client sessions return nil).
func (s *Session) SetupTokens() []AuthToken { return s.setupTokens }

// Token alias handling. We never send MAX_AUTH_TOKEN_CACHE_SIZE, so our
// cache size is the default 0 and no alias can be registered: a REGISTER in
// CLIENT_SETUP is used as its value (as the drafts require), a REGISTER in a
// request overflows the cache (AUTH_TOKEN_CACHE_OVERFLOW), and USE_ALIAS or
// DELETE name an alias that is not registered (UNKNOWN_AUTH_TOKEN_ALIAS).
const (
	codeAuthTokenCacheOverflow uint64 = 0x13
	codeUnknownAuthTokenAlias  uint64 = 0x17
)

// readTokens reads the tokens of a CLIENT_SETUP (setup) or a request's
// parameters; an error comes with the session error code to close with.
func readTokens(d wire.Draft, setup bool, ps wire.Params) ([]AuthToken, uint64, error) {
	toks, err := wire.AuthTokens(d, setup, ps)
	if err != nil {
		if d.Is07() {
			return nil, CodeProtocolViolation, err
		}
		return nil, CodeKeyValueFormattingError, err
	}
	var out []AuthToken
	for _, t := range toks {
		switch {
		case t.AliasType == wire.AliasUseValue || (setup && t.AliasType == wire.AliasRegister):
			out = append(out, AuthToken{Type: t.Type, Value: string(t.Value)})
		case t.AliasType == wire.AliasRegister:
			return nil, codeAuthTokenCacheOverflow, fmt.Errorf("moq: token alias %d registered, but MAX_AUTH_TOKEN_CACHE_SIZE is 0", t.Alias)
		default:
			return nil, codeUnknownAuthTokenAlias, fmt.Errorf("moq: unknown token alias %d", t.Alias)
		}
	}
	return out, 0, nil
}

// authorizeRequest reads a request's tokens and asks the handler's
// Authorizer, if any, about it.
func (s *Session) authorizeRequest(kind RequestKind, ns Namespace, name string, ps wire.Params) error {
	toks, code, err := readTokens(s.draft, false, ps)
	if err != nil {
		s.protocolViolation(code, "authorization token: %v", err)
		return err
	}
	a, ok := s.handler.(Authorizer)
	if !ok {
		return nil
	}
	return a.AuthorizeRequest(s, &AuthRequest{Kind: kind, Namespace: ns, Name: name, Tokens: toks})
}

// authParams are the token parameters of our own requests (setup: of
// CLIENT_SETUP): the override if set, else Options.AuthToken.
func (s *Session) authParams(setup bool, override string) wire.Params {
	tok := override
	if tok == "" {
		tok = s.opts.AuthToken
	}
	if tok == "" {
		return nil
	}
	p, ok, err := wire.AuthTokenParam(s.draft, setup, s.opts.AuthTokenType, []byte(tok))
	if err != nil || !ok {
		return nil // validated by Dial (validToken)
	}
	return wire.Params{p}
}

// validToken checks a token before it is sent.
func validToken(tok string) error {
	if len(tok) > wire.MaxAuthTokenValue {
		return fmt.Errorf("moq: authorization token is %d bytes, limit %d: %w", len(tok), wire.MaxAuthTokenValue, ErrInvalid)
	}
	return nil
}
