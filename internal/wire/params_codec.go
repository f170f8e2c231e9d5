package wire

// paramCtx says which parameter space is being decoded, which matters for
// draft-07 (which known keys hold integers).
type paramCtx uint8

const (
	ctxSetup   paramCtx = iota // CLIENT_SETUP / SERVER_SETUP
	ctxMessage                 // version-specific message parameters
)

// isInt07 reports whether a draft-07 parameter key holds a varint.
func isInt07(ctx paramCtx, key uint64) bool {
	if ctx == ctxSetup {
		return key == SetupRole || key == SetupMaxRequestID
	}
	return key == Param07DeliveryTimeout || key == Param07MaxCacheDuration
}

// appendParams appends NumParams followed by the parameters in d's form.
func appendParams(b []byte, d Draft, ps Params) ([]byte, error) {
	b = AppendVarint(b, uint64(len(ps)))
	for _, p := range ps {
		var err error
		if d.Is07() {
			b, err = appendParam07(b, p)
		} else {
			b, err = AppendKVP(b, p)
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendParam07(b []byte, p Param) ([]byte, error) {
	if err := checkVarint("parameter type", p.Key); err != nil {
		return nil, err
	}
	b = AppendVarint(b, p.Key)
	if p.IsInt {
		if err := checkVarint("parameter value", p.Int); err != nil {
			return nil, err
		}
		b = AppendVarint(b, uint64(VarintLen(p.Int)))
		return AppendVarint(b, p.Int), nil
	}
	b = AppendVarint(b, uint64(len(p.Bytes)))
	return append(b, p.Bytes...), nil
}

// AppendKVP appends one draft-14 key-value pair: an even key with a varint
// value, or an odd key with a length and bytes.
func AppendKVP(b []byte, p Param) ([]byte, error) {
	if err := checkVarint("key", p.Key); err != nil {
		return nil, err
	}
	odd := p.Key&1 == 1
	if odd == p.IsInt {
		if odd {
			return nil, errf(KindInvalidValue, "key", "key 0x%x is odd and must carry bytes", p.Key)
		}
		return nil, errf(KindInvalidValue, "key", "key 0x%x is even and must carry an integer", p.Key)
	}
	b = AppendVarint(b, p.Key)
	if !odd {
		if err := checkVarint("value", p.Int); err != nil {
			return nil, err
		}
		return AppendVarint(b, p.Int), nil
	}
	if len(p.Bytes) > MaxControlMessage14 {
		return nil, errf(KindLimit, "value", "key 0x%x value is %d bytes, limit %d", p.Key, len(p.Bytes), MaxControlMessage14)
	}
	b = AppendVarint(b, uint64(len(p.Bytes)))
	return append(b, p.Bytes...), nil
}

// params reads NumParams and the parameters in d's form.
func (d *decoder) params(dr Draft, ctx paramCtx) Params {
	n := d.varint("parameters")
	if d.err != nil {
		return nil
	}
	if n > uint64(d.lim.params()) {
		d.fail(errf(KindLimit, "parameters", "%d parameters, limit %d", n, d.lim.params()))
		return nil
	}
	if n == 0 {
		return nil
	}
	ps := make(Params, 0, min(n, 16))
	for i := uint64(0); i < n && d.err == nil; i++ {
		var p Param
		if dr.Is07() {
			p = d.param07(ctx)
		} else {
			p = d.kvp("parameter", d.lim.paramBytes())
		}
		if d.err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

func (d *decoder) param07(ctx paramCtx) Param {
	key := d.varint("parameter type")
	val := d.lenBytes("parameter value", d.lim.paramBytes())
	if d.err != nil {
		return Param{}
	}
	if !isInt07(ctx, key) {
		return Param{Key: key, Bytes: val}
	}
	v, n, err := ParseVarint(val)
	if err != nil || n != len(val) {
		d.fail(errf(KindLengthMismatch, "parameter value", "parameter 0x%x holds a varint but its length is %d", key, len(val)))
		return Param{}
	}
	return Param{Key: key, IsInt: true, Int: v}
}

// kvp reads one draft-14 key-value pair.
func (d *decoder) kvp(field string, maxBytes int) Param {
	key := d.varint2(field, " type")
	if d.err != nil {
		return Param{}
	}
	if key&1 == 0 {
		return Param{Key: key, IsInt: true, Int: d.varint2(field, " value")}
	}
	var valueField string
	switch field { // constant names keep the hot path free of allocations
	case "parameter":
		valueField = "parameter value"
	case "extension":
		valueField = "extension value"
	default:
		valueField = field + " value"
	}
	return Param{Key: key, Bytes: d.lenBytes(valueField, min(maxBytes, MaxControlMessage14))}
}

// ParseExtensions splits a draft-14 extension headers block into its
// key-value pairs. Byte values alias ext.
func ParseExtensions(ext []byte, lim *Limits) (Params, error) {
	d := decoder{b: ext, framed: true, lim: lim}
	var ps Params
	for d.err == nil && d.remaining() > 0 {
		p := d.kvp("extension", lim.paramBytes())
		if d.err == nil {
			ps = append(ps, p)
		}
	}
	return ps, withMessage(d.err, "extension headers")
}

// ValidateExtensions checks that ext is a well-formed sequence of key-value
// pairs, without allocating.
func ValidateExtensions(ext []byte, lim *Limits) error {
	d := decoder{b: ext, framed: true, lim: lim}
	for d.err == nil && d.remaining() > 0 {
		d.kvp("extension", lim.paramBytes())
	}
	return withMessage(d.err, "extension headers")
}

// AppendExtensions appends key-value pairs as an extension headers block
// (without its length prefix).
func AppendExtensions(b []byte, ps Params) ([]byte, error) {
	for _, p := range ps {
		var err error
		if b, err = AppendKVP(b, p); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// validateExtensions checks the structure of an extension headers block of
// draft d: draft-16 keys are delta-coded, so the value form follows the
// running key, not the delta.
func validateExtensions(d Draft, ext []byte, lim *Limits) error {
	if d != Draft16 && !d.vi64() {
		return ValidateExtensions(ext, lim)
	}
	dec := decoder{b: ext, framed: true, lim: lim, v18: d.vi64()}
	dec.kvps16("extension", -1, lim.paramBytes(), false)
	return withMessage(dec.err, "extension headers")
}

// ParseExtensionsDraft splits an extension headers block of draft d into
// its key-value pairs (draft-16 and draft-18 properties: delta-coded keys,
// given back absolute).
// Byte values alias ext.
func ParseExtensionsDraft(d Draft, ext []byte, lim *Limits) (Params, error) {
	if d != Draft16 && !d.vi64() {
		return ParseExtensions(ext, lim)
	}
	dec := decoder{b: ext, framed: true, lim: lim, v18: d.vi64()}
	ps := dec.kvps16("extension", -1, lim.paramBytes(), true)
	return ps, withMessage(dec.err, "extension headers")
}

// AppendExtensionsDraft appends key-value pairs as an extension headers
// block of draft d (without its length prefix); draft-16 pairs are sorted
// by key and delta-coded.
func AppendExtensionsDraft(d Draft, b []byte, ps Params) ([]byte, error) {
	if d != Draft16 && !d.vi64() {
		return AppendExtensions(b, ps)
	}
	list, _ := mergeBinds(ps, nil, nil)
	return appendKVPs(b, list, false, d.vi64())
}
