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
	formInt      paramForm = iota // a varint
	formString                    // bytes shown as a string (or {"hex": ...})
	formToken                     // a draft-14/16 AUTHORIZATION_TOKEN structure
	formLocation                  // a draft-16 Location: {"group", "object"}
	formFilter                    // a draft-16 Subscription Filter
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
	// Draft-16 setup parameters are those of 14 (setup keys do not change
	// between versions).
	message16 = []paramDef{
		{wire.Param16DeliveryTimeout, "delivery_timeout", formInt},
		{wire.Param16AuthorizationToken, "authorization_token", formToken},
		{wire.Param16Expires, "expires", formInt},
		{wire.Param16LargestObject, "largest_object", formLocation},
		{wire.Param16Forward, "forward", formInt},
		{wire.Param16SubscriberPriority, "subscriber_priority", formInt},
		{wire.Param16SubscriptionFilter, "subscription_filter", formFilter},
		{wire.Param16GroupOrder, "group_order", formInt},
		{wire.Param16NewGroupRequest, "new_group_request", formInt},
	}
	// ext16 are the draft-16 extension headers (track and object).
	ext16 = []paramDef{
		{wire.Ext16DeliveryTimeout, "delivery_timeout", formInt},
		{wire.Ext16MaxCacheDuration, "max_cache_duration", formInt},
		{wire.Ext16DefaultPublisherPriority, "default_publisher_priority", formInt},
		{wire.Ext16DefaultPublisherGroupOrder, "default_publisher_group_order", formInt},
		{wire.Ext16DynamicGroups, "dynamic_groups", formInt},
		{wire.Ext16PriorGroupIDGap, "prior_group_id_gap", formInt},
		{wire.Ext16PriorObjectIDGap, "prior_object_id_gap", formInt},
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
	case d == wire.Draft16:
		return message16
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
			paramToJSONDefs(o, v.d, paramDefs(v.d, setup), pm)
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
	ps, err := paramsFromJSONDefs(v.d, paramDefs(v.d, setup), o, v.path+name)
	if err != nil {
		v.err = err
		return
	}
	*p = ps
}

func paramToJSONDefs(o *object, d wire.Draft, defs []paramDef, p wire.Param) {
	for _, def := range defs {
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
		case def.form == formLocation && !p.IsInt:
			if x, ok := locationToJSON(p.Bytes); ok {
				o.add(def.name, x)
				return
			}
		case def.form == formFilter && !p.IsInt:
			if x, ok := filterToJSON(p.Bytes); ok {
				o.add(def.name, x)
				return
			}
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

func paramsFromJSONDefs(d wire.Draft, defs []paramDef, o *object, path string) (wire.Params, error) {
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
		case formLocation:
			b, err := locationFromJSON(d, val, field)
			if err != nil {
				return nil, err
			}
			ps = append(ps, wire.BytesParam(def.key, b))
		case formFilter:
			b, err := filterFromJSON(d, val, field)
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

// locationToJSON shows a draft-16 Location parameter (LARGEST_OBJECT) as
// {"group", "object"}, if it is exactly one Location that re-encodes to the
// same bytes.
func locationToJSON(b []byte) (any, bool) {
	g, n, err := wire.ParseVarint(b)
	if err != nil {
		return nil, false
	}
	ob, m, err := wire.ParseVarint(b[n:])
	if err != nil || n+m != len(b) || !bytes.Equal(wire.AppendVarint(wire.AppendVarint(nil, g), ob), b) {
		return nil, false
	}
	o := &object{}
	o.add("group", dec(g))
	o.add("object", dec(ob))
	return o, true
}

func locationFromJSON(d wire.Draft, x any, field string) ([]byte, error) {
	o, ok := x.(*object)
	if !ok {
		return nil, &Error{Field: field, Detail: "want {\"group\", \"object\"}, got " + describe(x)}
	}
	v := newReader(d, o, field+".")
	var l wire.Location
	v.u64("group", &l.Group)
	v.u64("object", &l.Object)
	if err := v.finish(); err != nil {
		return nil, err
	}
	return wire.AppendVarint(wire.AppendVarint(nil, l.Group), l.Object), nil
}

// filterToJSON shows a draft-16 Subscription Filter as {"filter_type",
// "start_group", "start_object", "end_group"} with the members its type
// has, if it parses and re-encodes to the same bytes.
func filterToJSON(b []byte) (any, bool) {
	var vals []uint64
	rest := b
	for len(rest) > 0 {
		x, n, err := wire.ParseVarint(rest)
		if err != nil {
			return nil, false
		}
		vals = append(vals, x)
		rest = rest[n:]
	}
	if len(vals) == 0 {
		return nil, false
	}
	want := map[uint64]int{1: 1, 2: 1, 3: 3, 4: 4}[vals[0]]
	if want == 0 || len(vals) != want {
		return nil, false
	}
	o := &object{}
	for i, name := range []string{"filter_type", "start_group", "start_object", "end_group"}[:want] {
		o.add(name, dec(vals[i]))
	}
	back, err := filterFromJSON(wire.Draft16, o, "")
	if err != nil || !bytes.Equal(back, b) {
		return nil, false
	}
	return o, true
}

func filterFromJSON(d wire.Draft, x any, field string) ([]byte, error) {
	o, ok := x.(*object)
	if !ok {
		return nil, &Error{Field: field, Detail: "want an object with filter_type, got " + describe(x)}
	}
	v := newReader(d, o, field+".")
	var ft, sg, so, eg uint64
	v.u64("filter_type", &ft)
	b := wire.AppendVarint(nil, ft)
	if ft == 3 || ft == 4 {
		v.u64("start_group", &sg)
		v.u64("start_object", &so)
		b = wire.AppendVarint(wire.AppendVarint(b, sg), so)
	}
	if ft == 4 {
		v.u64("end_group", &eg)
		b = wire.AppendVarint(b, eg)
	}
	if err := v.finish(); err != nil {
		return nil, err
	}
	return b, nil
}
