package wire

import "errors"

// Alias Types of the AUTHORIZATION TOKEN parameter's Token structure
// (draft-14 and draft-16, "AUTHORIZATION TOKEN").
const (
	AliasDelete   uint64 = 0x0 // Alias; no Type or Value
	AliasRegister uint64 = 0x1 // Alias, Type and Value
	AliasUseAlias uint64 = 0x2 // Alias; no Type or Value
	AliasUseValue uint64 = 0x3 // Type and Value; no Alias
)

// MaxAuthTokenValue bounds a Token Value (and a draft-07 AUTHORIZATION
// INFO string) taken from a peer: a JWT is a few hundred bytes.
const MaxAuthTokenValue = 16 << 10

// AuthToken is the Token structure carried by an AUTHORIZATION TOKEN
// parameter (setup and message parameter 0x03, draft-14 and later):
//
//	Token { Alias Type (i), [Token Alias (i),] [Token Type (i),] [Token Value (..)] }
//
// Alias is meaningful for DELETE, REGISTER and USE_ALIAS; Type and Value
// for REGISTER and USE_VALUE. The Value runs to the end of the parameter.
type AuthToken struct {
	AliasType uint64
	Alias     uint64
	Type      uint64
	Value     []byte
}

// hasAlias and hasValue tell which optional fields an Alias Type carries.
func hasAlias(at uint64) bool { return at != AliasUseValue }
func hasValue(at uint64) bool { return at == AliasRegister || at == AliasUseValue }

// AppendAuthToken appends t's Token structure (the parameter's value, without
// key or length).
func AppendAuthToken(b []byte, t AuthToken) ([]byte, error) {
	if t.AliasType > AliasUseValue {
		return nil, errf(KindInvalidValue, "alias_type", "alias type %d is not DELETE, REGISTER, USE_ALIAS or USE_VALUE", t.AliasType)
	}
	if !hasValue(t.AliasType) && len(t.Value) > 0 {
		return nil, errf(KindInvalidValue, "token_value", "alias type %d carries no token value", t.AliasType)
	}
	if len(t.Value) > MaxAuthTokenValue {
		return nil, errf(KindLimit, "token_value", "token value is %d bytes, limit %d", len(t.Value), MaxAuthTokenValue)
	}
	for _, f := range []struct {
		name string
		v    uint64
	}{{"token_alias", t.Alias}, {"token_type", t.Type}} {
		if err := checkVarint(f.name, f.v); err != nil {
			return nil, err
		}
	}
	b = AppendVarint(b, t.AliasType)
	if hasAlias(t.AliasType) {
		b = AppendVarint(b, t.Alias)
	}
	if hasValue(t.AliasType) {
		b = AppendVarint(b, t.Type)
		b = append(b, t.Value...)
	}
	return b, nil
}

// ParseAuthToken decodes a Token structure that fills b (the value of one
// AUTHORIZATION TOKEN parameter). A malformed structure is a
// *ProtocolError, which the drafts answer by closing the session with
// KEY_VALUE_FORMATTING_ERROR. The returned Value aliases b.
func ParseAuthToken(b []byte) (AuthToken, error) {
	var t AuthToken
	field := func() (uint64, bool) {
		v, n, err := ParseVarint(b)
		if err != nil {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	var ok bool
	if t.AliasType, ok = field(); !ok {
		return t, tokenErr(KindTruncated, "alias_type", "empty token")
	}
	if t.AliasType > AliasUseValue {
		return t, tokenErr(KindInvalidValue, "alias_type", "alias type %d is not DELETE, REGISTER, USE_ALIAS or USE_VALUE", t.AliasType)
	}
	if hasAlias(t.AliasType) {
		if t.Alias, ok = field(); !ok {
			return t, tokenErr(KindTruncated, "token_alias", "token ends before its alias")
		}
	}
	if !hasValue(t.AliasType) {
		if len(b) > 0 {
			return t, tokenErr(KindLengthMismatch, "token_alias", "%d bytes after the alias of a DELETE or USE_ALIAS token", len(b))
		}
		return t, nil
	}
	if t.Type, ok = field(); !ok {
		return t, tokenErr(KindTruncated, "token_type", "token ends before its type")
	}
	if len(b) > MaxAuthTokenValue {
		return t, tokenErr(KindLimit, "token_value", "token value is %d bytes, limit %d", len(b), MaxAuthTokenValue)
	}
	t.Value = b
	return t, nil
}

func tokenErr(k Kind, field, format string, args ...any) error {
	e := errf(k, field, format, args...)
	e.Message = "AUTHORIZATION TOKEN"
	return e
}

// AuthTokenParam is the parameter that carries a token of type tokenType
// and value v, used as is (USE_VALUE), in draft d's setup or message
// parameters. Draft-07 has no Token structure: its message parameter
// AUTHORIZATION INFO (0x02) carries v alone (tokenType is not sent), and its
// setup has no token parameter (setup true: ok false).
func AuthTokenParam(d Draft, setup bool, tokenType uint64, v []byte) (p Param, ok bool, err error) {
	if d.Is07() {
		if setup {
			return Param{}, false, nil
		}
		if len(v) > MaxAuthTokenValue {
			return Param{}, false, errf(KindLimit, "authorization_info", "token is %d bytes, limit %d", len(v), MaxAuthTokenValue)
		}
		return BytesParam(Param07AuthorizationInfo, v), true, nil
	}
	b, err := AppendAuthToken(nil, AuthToken{AliasType: AliasUseValue, Type: tokenType, Value: v})
	if err != nil {
		return Param{}, false, err
	}
	return BytesParam(SetupAuthorizationToken, b), true, nil
}

// errTokenNotBytes: a token parameter decoded as an integer (draft-14's odd
// key 0x03 cannot be one; a draft-07 parameter could in principle).
var errTokenNotBytes = errors.New("wire: authorization parameter is not a byte string")

// AuthTokens returns the tokens in draft d's setup (setup true) or message
// parameters, in order: every AUTHORIZATION TOKEN (0x03) parameter's Token
// structure in draft-14 and later; in draft-07 every AUTHORIZATION INFO
// (0x02) message parameter as a USE_VALUE token of Type 0 (draft-07 setup
// parameters carry no token). A Token structure that does not decode is a
// *ProtocolError.
func AuthTokens(d Draft, setup bool, ps Params) ([]AuthToken, error) {
	var out []AuthToken
	for _, p := range ps {
		switch {
		case d.Is07() && !setup && p.Key == Param07AuthorizationInfo:
			if p.IsInt {
				return nil, tokenErr(KindInvalidValue, "authorization_info", "%v", errTokenNotBytes)
			}
			if len(p.Bytes) > MaxAuthTokenValue {
				return nil, tokenErr(KindLimit, "authorization_info", "token is %d bytes, limit %d", len(p.Bytes), MaxAuthTokenValue)
			}
			out = append(out, AuthToken{AliasType: AliasUseValue, Value: p.Bytes})
		case !d.Is07() && p.Key == SetupAuthorizationToken:
			if p.IsInt {
				return nil, tokenErr(KindInvalidValue, "token", "%v", errTokenNotBytes)
			}
			t, err := ParseAuthToken(p.Bytes)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	return out, nil
}
