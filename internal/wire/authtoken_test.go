package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestAuthTokenRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		tok  AuthToken
		want []byte
	}{
		{"use value", AuthToken{AliasType: AliasUseValue, Type: 0, Value: []byte("abc")}, []byte{0x03, 0x00, 'a', 'b', 'c'}},
		{"use value, empty", AuthToken{AliasType: AliasUseValue, Type: 5}, []byte{0x03, 0x05}},
		{"register", AuthToken{AliasType: AliasRegister, Alias: 7, Type: 64, Value: []byte("x")}, []byte{0x01, 0x07, 0x40, 0x40, 'x'}},
		{"use alias", AuthToken{AliasType: AliasUseAlias, Alias: 300}, []byte{0x02, 0x41, 0x2c}},
		{"delete", AuthToken{AliasType: AliasDelete, Alias: 1}, []byte{0x00, 0x01}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := AppendAuthToken(nil, tc.tok)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tc.want) {
				t.Fatalf("encoded % x, want % x", b, tc.want)
			}
			got, err := ParseAuthToken(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.AliasType != tc.tok.AliasType || got.Alias != tc.tok.Alias || got.Type != tc.tok.Type || !bytes.Equal(got.Value, tc.tok.Value) {
				t.Fatalf("decoded %+v, want %+v", got, tc.tok)
			}
		})
	}
}

func TestAuthTokenMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		kind Kind
	}{
		{"empty", nil, KindTruncated},
		{"unknown alias type", []byte{0x04, 0x00}, KindInvalidValue},
		{"register without alias", []byte{0x01}, KindTruncated},
		{"register without type", []byte{0x01, 0x01}, KindTruncated},
		{"use value without type", []byte{0x03}, KindTruncated},
		{"use alias with trailing bytes", []byte{0x02, 0x01, 0x00}, KindLengthMismatch},
		{"delete with trailing bytes", []byte{0x00, 0x01, 'x'}, KindLengthMismatch},
		{"truncated varint alias", []byte{0x02, 0x40}, KindTruncated},
		{"oversized value", append([]byte{0x03, 0x00}, make([]byte, MaxAuthTokenValue+1)...), KindLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAuthToken(tc.b)
			pe, ok := AsProtocolError(err)
			if !ok || pe.Kind != tc.kind {
				t.Fatalf("err %v, want a %v protocol error", err, tc.kind)
			}
		})
	}
	for _, tok := range []AuthToken{
		{AliasType: 9},
		{AliasType: AliasUseAlias, Alias: 1, Value: []byte("x")},
		{AliasType: AliasUseValue, Type: MaxVarint + 1},
		{AliasType: AliasUseValue, Value: make([]byte, MaxAuthTokenValue+1)},
	} {
		if _, err := AppendAuthToken(nil, tok); err == nil {
			t.Errorf("AppendAuthToken(%+v) accepted", tok)
		}
	}
}

// TestAuthTokensParams: the token travels in each draft's own parameter
// through a real SUBSCRIBE and CLIENT_SETUP encode/decode.
func TestAuthTokensParams(t *testing.T) {
	for _, d := range []Draft{Draft07, Draft07CF, Draft14} {
		t.Run(d.String(), func(t *testing.T) {
			p, ok, err := AuthTokenParam(d, false, 0, []byte("tok"))
			if err != nil || !ok {
				t.Fatalf("message param: %v %v", ok, err)
			}
			sub := &Subscribe{RequestID: 2, TrackAlias: 1, Namespace: Tuple{"a"}, Name: "t", GroupOrder: GroupOrderAscending,
				FilterType: FilterLatestObject, Forward: true, Params: Params{IntParam(0x20, 1), p}}
			if d.Is07() {
				sub.Params = Params{p}
			}
			b, err := AppendMessage(nil, d, sub)
			if err != nil {
				t.Fatal(err)
			}
			m, _, err := ParseMessage(b, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			toks, err := AuthTokens(d, false, m.(*Subscribe).Params)
			if err != nil || len(toks) != 1 || string(toks[0].Value) != "tok" || toks[0].AliasType != AliasUseValue {
				t.Fatalf("tokens %+v, %v", toks, err)
			}
			sp, ok, err := AuthTokenParam(d, true, 0, []byte("tok"))
			if err != nil || ok != !d.Is07() {
				t.Fatalf("setup param: ok %v, err %v", ok, err)
			}
			if ok {
				toks, err := AuthTokens(d, true, Params{BytesParam(SetupPath, []byte("/x")), sp, sp})
				if err != nil || len(toks) != 2 {
					t.Fatalf("setup tokens %+v, %v", toks, err)
				}
			}
		})
	}
	if _, err := AuthTokens(Draft14, false, Params{BytesParam(Param14AuthorizationToken, []byte{0x07})}); err == nil {
		t.Fatal("a malformed token structure was accepted")
	}
	var pe *ProtocolError
	if _, err := AuthTokens(Draft07, false, Params{IntParam(Param07AuthorizationInfo, 1)}); !errors.As(err, &pe) {
		t.Fatalf("an integer AUTHORIZATION INFO: %v", err)
	}
}
