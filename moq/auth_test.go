package moq

import (
	"errors"
	"slices"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// authRecorder is a Handler and Authorizer that records what it is asked and
// refuses requests whose token is "deny".
type authRecorder struct {
	asked chan AuthRequest
}

func (h *authRecorder) AuthorizeRequest(s *Session, req *AuthRequest) error {
	h.asked <- *req
	for _, t := range req.Tokens {
		if t.Value == "deny" {
			return ErrUnauthorized
		}
	}
	return nil
}

func (h *authRecorder) Subscribe(*Session, *SubscribeRequest) (*Track, error) {
	return nil, ErrTrackNotFound
}
func (h *authRecorder) Fetch(*Session, *FetchRequest) (*Track, error) { return nil, ErrTrackNotFound }
func (h *authRecorder) TrackStatus(*Session, Namespace, string) (*Track, error) {
	return nil, ErrTrackNotFound
}
func (h *authRecorder) Announce(*Session, Namespace) error           { return nil }
func (h *authRecorder) Unannounce(*Session, Namespace)               {}
func (h *authRecorder) SubscribeNamespace(*Session, Namespace) error { return nil }
func (h *authRecorder) UnsubscribeNamespace(*Session, Namespace)     {}
func (h *authRecorder) SessionClosed(*Session, error)                {}

func tokenValues(ts []AuthToken) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Value)
	}
	return out
}

// TestAuthTokensReachHandler: Options.AuthToken travels in CLIENT_SETUP
// (draft-14) and in each request, per-request overrides replace it, and the
// server's Authorizer sees them all and can refuse.
func TestAuthTokensReachHandler(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			h := &authRecorder{asked: make(chan AuthRequest, 8)}
			p := newPair(t, v.scheme, v.draft, &Options{AuthToken: "tok-session"}, &Options{Handler: h})
			ctx := ctxT(t)
			var wantSetup []string
			if !v.draft.Is07() {
				wantSetup = []string{"tok-session"}
			}
			if got := tokenValues(p.server.SetupTokens()); !slices.Equal(got, wantSetup) {
				t.Fatalf("setup tokens %q, want %q", got, wantSetup)
			}
			expect := func(kind RequestKind, ns Namespace, want ...string) {
				t.Helper()
				select {
				case req := <-h.asked:
					if req.Kind != kind || !req.Namespace.Equal(ns) || !slices.Equal(tokenValues(req.Tokens), want) {
						t.Fatalf("asked %+v, want %s of %v with tokens %q", req, kind, ns, want)
					}
				default:
					t.Fatalf("the authorizer was not asked about %s", kind)
				}
			}
			ns := Namespace{"auth", "ns"}
			if err := p.client.Announce(ctx, ns); err != nil {
				t.Fatal(err)
			}
			expect(RequestAnnounce, ns, "tok-session")
			if _, err := p.client.Subscribe(ctx, ns, "t", SubscribeOptions{AuthToken: "tok-sub"}); !errors.As(err, new(*RequestError)) {
				t.Fatalf("subscribe: %v, want the handler's refusal", err)
			}
			expect(RequestSubscribe, ns, "tok-sub")
			_, err := p.client.Fetch(ctx, ns, "t", Location{}, Location{Group: 1}, FetchOptions{AuthToken: "deny"})
			wantCode := errUnauthorized14
			if v.draft.Is07() {
				wantCode = errUnauthorized07
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Code != wantCode {
				t.Fatalf("fetch with a denied token: %v, want code %#x", err, wantCode)
			}
			expect(RequestFetch, ns, "deny")
			if _, err := p.client.TrackStatus(ctx, ns, "t"); err == nil && !v.draft.Is07() {
				t.Fatal("track status of a missing track succeeded")
			}
			if v.draft.Is07() {
				expect(RequestTrackStatus, ns) // draft-07 TRACK_STATUS_REQUEST has no parameters
			} else {
				expect(RequestTrackStatus, ns, "tok-session")
			}
			if _, err := p.client.SubscribeNamespace(ctx, Namespace{"auth"}); err != nil {
				t.Fatal(err)
			}
			expect(RequestSubscribeNamespace, Namespace{"auth"}, "tok-session")
		})
	}
}

// TestAuthTokenAliases: we advertise no token cache, so a request that
// registers an alias overflows it and one that uses or deletes an alias
// names an unknown one; a Token that does not decode is a formatting error.
func TestAuthTokenAliases(t *testing.T) {
	for _, v := range variantsWhere(is14) {
		for _, tc := range []struct {
			name  string
			token []byte
			code  uint64
		}{
			{"use alias", []byte{byte(wire.AliasUseAlias), 0x01}, codeUnknownAuthTokenAlias},
			{"delete", []byte{byte(wire.AliasDelete), 0x01}, codeUnknownAuthTokenAlias},
			{"register", []byte{byte(wire.AliasRegister), 0x01, 0x00, 'x'}, codeAuthTokenCacheOverflow},
			{"malformed", []byte{0x09}, CodeKeyValueFormattingError},
		} {
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				r := newRawPeer(t, v.scheme, v.draft, nil)
				r.sendMsg(&wire.Subscribe{RequestID: 0, Namespace: Namespace{"a"}, Name: "t", SubscriberPriority: 128,
					Forward: true, FilterType: FilterLatestObject,
					Params: wire.Params{wire.BytesParam(wire.Param14AuthorizationToken, tc.token)}})
				r.expectClosed(tc.code)
			})
		}
	}
}

// TestSetupTokenAliases: in CLIENT_SETUP a REGISTER is used as its value
// (the drafts' rule for a registration beyond the cache); a USE_ALIAS can
// name nothing yet.
func TestSetupTokenAliases(t *testing.T) {
	reg, _ := wire.AppendAuthToken(nil, wire.AuthToken{AliasType: wire.AliasRegister, Alias: 1, Type: 2, Value: []byte("v")})
	toks, _, err := readTokens(Draft14, true, wire.Params{wire.BytesParam(wire.SetupAuthorizationToken, reg)})
	if err != nil || len(toks) != 1 || toks[0] != (AuthToken{Type: 2, Value: "v"}) {
		t.Fatalf("REGISTER in setup: %+v, %v", toks, err)
	}
	if _, code, err := readTokens(Draft14, false, wire.Params{wire.BytesParam(wire.Param14AuthorizationToken, reg)}); err == nil || code != codeAuthTokenCacheOverflow {
		t.Fatalf("REGISTER in a request: code %#x, %v", code, err)
	}
	use := []byte{byte(wire.AliasUseAlias), 0x01}
	if _, code, err := readTokens(Draft14, true, wire.Params{wire.BytesParam(wire.SetupAuthorizationToken, use)}); err == nil || code != codeUnknownAuthTokenAlias {
		t.Fatalf("USE_ALIAS in setup: code %#x, %v", code, err)
	}
	if _, code, err := readTokens(Draft07, false, wire.Params{wire.IntParam(wire.Param07AuthorizationInfo, 1)}); err == nil || code != CodeProtocolViolation {
		t.Fatalf("integer AUTHORIZATION INFO: code %#x, %v", code, err)
	}
}

// TestAuthTokenTooLong: an oversized token is refused before anything is
// sent.
func TestAuthTokenTooLong(t *testing.T) {
	long := string(make([]byte, wire.MaxAuthTokenValue+1))
	if _, err := Dial(ctxT(t), "moqt://127.0.0.1:1/x", &Options{AuthToken: long}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Dial with a %d-byte token: %v, want ErrInvalid", len(long), err)
	}
	p := newPair(t, "moqt", Draft14, nil, nil)
	if _, err := p.client.Subscribe(ctxT(t), Namespace{"a"}, "t", SubscribeOptions{AuthToken: long}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("subscribe: %v, want ErrInvalid", err)
	}
	if _, err := p.client.Fetch(ctxT(t), Namespace{"a"}, "t", Location{}, Location{}, FetchOptions{AuthToken: long}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fetch: %v, want ErrInvalid", err)
	}
}
