package wirejson

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

type paramForm uint8

const (
	formInt    paramForm = iota // a varint
	formString                  // bytes shown as a string (or {"hex": ...})
	formToken                   // a draft-14 AUTHORIZATION_TOKEN structure
)

type paramDef struct {
	key  uint64
	name string
	form paramForm
}

var (
	setup07 = []paramDef{
		{wire.SetupRole, "role", formInt},
		{wire.SetupPath, "path", formString},
		{wire.SetupMaxRequestID, "max_subscribe_id", formInt},
	}
	message07 = []paramDef{
		{wire.Param07AuthorizationInfo, "authorization_info", formString},
		{wire.Param07DeliveryTimeout, "delivery_timeout", formInt},
		{wire.Param07MaxCacheDuration, "max_cache_duration", formInt},
	}
	setup14 = []paramDef{
		{wire.SetupPath, "path", formString},
		{wire.SetupMaxRequestID, "max_request_id", formInt},
		{wire.SetupAuthorizationToken, "authorization_token", formToken},
		{wire.SetupMaxAuthTokenCacheSize, "max_auth_token_cache_size", formInt},
		{wire.SetupAuthority, "authority", formString},
		{wire.SetupImplementation, "moqt_implementation", formString},
	}
	message14 = []paramDef{
		{wire.Param14DeliveryTimeout, "delivery_timeout", formInt},
		{wire.Param14AuthorizationToken, "authorization_token", formToken},
		{wire.Param14MaxCacheDuration, "max_cache_duration", formInt},
	}
)

func paramDefs(d wire.Draft, setup bool) []paramDef {
	switch {
	case d.Is07() && setup:
		return setup07
	case d.Is07():
		return message07
	case setup:
		return setup14
	}
	return message14
}

// unknownKey is the member that holds parameters without a known name.
const unknownKey = "unknown"

// params is a parameter list: an object whose members are the parameters in
// wire order, each under its known name for the draft and context (setup or
// message), and runs of other parameters as "unknown": [...]. A name may
// appear more than once (a repeated parameter, or unknown parameters on both
// sides of a known one); the order of members is the wire order.
func (v *visitor) params(name string, setup bool, p *wire.Params) {
	if v.toJSON {
		o := &object{}
		for _, pm := range *p {
			paramToJSON(o, v.d, setup, pm)
		}
		v.out.add(name, o)
		return
	}
	x, ok := v.take(name)
	if !ok {
		return
	}
	o, isObj := x.(*object)
	if !isObj {
		v.fail(name, "want an object, got %s", describe(x))
		return
	}
	ps, err := paramsFromJSON(v.d, setup, o, v.path+name)
	if err != nil {
		v.err = err
		return
	}
	*p = ps
}

func paramToJSON(o *object, d wire.Draft, setup bool, p wire.Param) {
	for _, def := range paramDefs(d, setup) {
		if def.key != p.Key {
			continue
		}
		switch {
		case def.form == formInt && p.IsInt:
			o.add(def.name, dec(p.Int))
			return
		case def.form == formString && !p.IsInt:
			o.add(def.name, bytesValue(string(p.Bytes)))
			return
		case def.form == formToken && !p.IsInt:
			o.add(def.name, tokenToJSON(p.Bytes))
			return
		}
		// A known key in the wrong form: fall through to the raw form,
		// which keeps the bytes.
	}
	e := &object{}
	e.add("id", hexID(p.Key))
	switch {
	case p.IsInt && !d.Is07():
		e.add("value", dec(p.Int))
	default:
		raw := p.Bytes
		if p.IsInt { // draft-07: the value is a varint inside the TLV
			raw = wire.AppendVarint(nil, p.Int)
		}
		e.add("length", dec(uint64(len(raw))))
		e.add("raw_hex", fmt.Sprintf("%x", raw))
	}
	if n := len(o.keys); n > 0 && o.keys[n-1] == unknownKey {
		o.vals[n-1] = append(o.vals[n-1].([]any), e)
		return
	}
	o.add(unknownKey, []any{e})
}

func paramsFromJSON(d wire.Draft, setup bool, o *object, path string) (wire.Params, error) {
	defs := paramDefs(d, setup)
	var ps wire.Params
	for i, name := range o.keys {
		val := o.vals[i]
		field := path + "." + name
		if name == unknownKey {
			a, ok := val.([]any)
			if !ok {
				return nil, &Error{Field: field, Detail: "want an array of {\"id\", \"length\", \"raw_hex\"} or {\"id\", \"value\"} objects, got " + describe(val)}
			}
			for j, e := range a {
				p, err := unknownParamFromJSON(d, e, fmt.Sprintf("%s[%d].", field, j))
				if err != nil {
					return nil, err
				}
				ps = append(ps, p)
			}
			continue
		}
		var def *paramDef
		for k := range defs {
			if defs[k].name == name {
				def = &defs[k]
			}
		}
		if def == nil {
			names := []string{}
			for _, d := range defs {
				names = append(names, d.name)
			}
			sort.Strings(names)
			return nil, &Error{Field: field, Detail: fmt.Sprintf("unknown parameter name (known here: %s; put others in %q)", strings.Join(names, ", "), unknownKey)}
		}
		switch def.form {
		case formInt:
			n, err := parseUint(val)
			if err != nil {
				return nil, &Error{Field: field, Detail: err.Error()}
			}
			ps = append(ps, wire.IntParam(def.key, n))
		case formString:
			s, err := parseBytesValue(val)
			if err != nil {
				return nil, &Error{Field: field, Detail: err.Error()}
			}
			ps = append(ps, wire.BytesParam(def.key, []byte(s)))
		case formToken:
			b, err := tokenFromJSON(d, val, field)
			if err != nil {
				return nil, err
			}
			ps = append(ps, wire.BytesParam(def.key, b))
		}
	}
	return ps, nil
}

func unknownParamFromJSON(d wire.Draft, e any, path string) (wire.Param, error) {
	o, ok := e.(*object)
	if !ok {
		return wire.Param{}, &Error{Field: strings.TrimSuffix(path, "."), Detail: "want an object, got " + describe(e)}
	}
	v := newReader(d, o, path)
	var p wire.Param
	v.u64("id", &p.Key)
	if v.err != nil {
		return p, v.err
	}
	wantInt := !d.Is07() && p.Key&1 == 0
	switch {
	case v.has("value") && (d.Is07() || wantInt):
		p.IsInt = true
		v.u64("value", &p.Int)
	case wantInt:
		v.fail("value", "missing (draft-14 parameter 0x%x has an even type, so its value is an integer)", p.Key)
	default:
		v.hexBytes("raw_hex", &p.Bytes)
		if p.Bytes == nil {
			p.Bytes = []byte{}
		}
		if v.has("length") {
			var n uint64
			v.u64("length", &n)
			if v.err == nil && n != uint64(len(p.Bytes)) {
				v.fail("length", "is %d but raw_hex holds %d bytes", n, len(p.Bytes))
			}
		}
	}
	return p, v.finish()
}

// AUTHORIZATION_TOKEN alias types (draft-14).
const (
	aliasDelete   = 0
	aliasRegister = 1
	aliasUseAlias = 2
	aliasUseValue = 3
)

// tokenToJSON shows a draft-14 Token structure as {"alias_type",
// "token_alias", "token_type", "token_value" (hex)} with the members its
// alias type uses. A value that does not re-encode to the same bytes
// (malformed, unknown alias type, non-minimal varints) is shown as
// {"raw_hex": ...}.
func tokenToJSON(b []byte) any {
	raw := func() any {
		o := &object{}
		o.add("raw_hex", fmt.Sprintf("%x", b))
		return o
	}
	at, n, err := wire.ParseVarint(b)
	if err != nil || at > aliasUseValue {
		return raw()
	}
	rest := b[n:]
	o := &object{}
	o.add("alias_type", dec(at))
	if at != aliasUseValue {
		alias, n, err := wire.ParseVarint(rest)
		if err != nil {
			return raw()
		}
		rest = rest[n:]
		o.add("token_alias", dec(alias))
	}
	if at == aliasRegister || at == aliasUseValue {
		tt, n, err := wire.ParseVarint(rest)
		if err != nil {
			return raw()
		}
		rest = rest[n:]
		o.add("token_type", dec(tt))
		o.add("token_value", fmt.Sprintf("%x", rest))
		rest = nil
	}
	if len(rest) != 0 {
		return raw()
	}
	back, err := tokenFromJSON(wire.Draft14, o, "")
	if err != nil || !bytes.Equal(back, b) {
		return raw()
	}
	return o
}

func tokenFromJSON(d wire.Draft, x any, field string) ([]byte, error) {
	o, ok := x.(*object)
	if !ok {
		return nil, &Error{Field: field, Detail: "want an object, got " + describe(x)}
	}
	v := newReader(d, o, field+".")
	if v.has("raw_hex") {
		var b []byte
		v.hexBytes("raw_hex", &b)
		return b, v.finish()
	}
	var at, alias, tt uint64
	var val []byte
	v.u64("alias_type", &at)
	if v.err == nil && at > aliasUseValue {
		v.fail("alias_type", "%d is not an alias type (0 DELETE, 1 REGISTER, 2 USE_ALIAS, 3 USE_VALUE); use raw_hex for other values", at)
	}
	if v.err != nil {
		return nil, v.err
	}
	b := wire.AppendVarint(nil, at)
	if at != aliasUseValue {
		v.u64("token_alias", &alias)
		b = wire.AppendVarint(b, alias)
	}
	if at == aliasRegister || at == aliasUseValue {
		v.u64("token_type", &tt)
		v.hexBytes("token_value", &val)
		b = wire.AppendVarint(b, tt)
		b = append(b, val...)
	}
	if err := v.finish(); err != nil {
		return nil, err
	}
	return b, nil
}
