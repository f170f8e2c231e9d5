package wire

import (
	"fmt"
	"reflect"
)

// A draft's control messages are a table of layouts. A layout is one walk
// over a message's fields, written once and used both ways: the decoder
// walks it reading each field into the struct, the encoder walks it writing
// each field from the struct. A draft is then its table (type code, name,
// Go type, walk) plus the parts that really differ between drafts: the
// framing (control.go), the parameter form (params_codec.go, params16.go)
// and the few fields whose codec differs (group order, filter type).

// walker is what a layout walks with: a reader (decoding into the fields) or
// a writer (encoding from them). Every method is a no-op once an error is
// kept; the first error wins.
type walker interface {
	// reading reports whether the walk decodes (fields are being filled).
	reading() bool
	draft() Draft
	varint(field string, v *uint64)
	u8(field string, v *uint8)
	flag(field string, v *bool)
	groupOrder(v *uint8)
	filterType(v *FilterType)
	loc(field string, v *Location)
	str(field string, v *string, limit int)
	reason(v *string)
	tuple(field string, v *Tuple, allowEmpty bool)
	trackName(ns Tuple, v *string)
	versions(v *[]uint64)
	// params walks a parameter list in the draft's form (07, 14: a count
	// and the parameters; 16: a count and delta-coded key-value pairs,
	// with binds mapping parameters to typed fields of m).
	params(ctx paramCtx, v *Params, m Message, binds []pbind)
	// optParams is params where the list may be missing at the end of the
	// payload (draft-14 PUBLISH_NAMESPACE_OK / SUBSCRIBE_NAMESPACE_OK).
	optParams(v *Params)
	// trackExt walks draft-16 Track Extensions: key-value pairs up to the
	// end of the payload.
	// Draft 20 reuses draft-18 walks: params and trackExt then take the
	// binds of binds20, not those the walk names.
	trackExt(v *Params, m Message, binds []pbind)
	// optVarint walks a varint that may be missing at the end of the
	// payload (draft-18 GOAWAY's Request ID): present says whether it is
	// there.
	optVarint(field string, v *uint64, present *bool)
	// setupOptions walks draft-18 Setup Options: key-value pairs up to the
	// end of the payload, without a count.
	setupOptions(v *Params)
	// invalid reports a value the draft does not allow.
	invalid(field, format string, args ...any)
}

// layout is one control message in one draft.
type layout struct {
	typ    uint64
	name   string
	goType reflect.Type
	new    func() Message
	walk   func(w walker, m Message)
}

// msg builds a layout for the message type *M from a typed walk.
func msg[M any, PM interface {
	*M
	Message
}](typ uint64, name string, walk func(w walker, m PM)) layout {
	return layout{
		typ: typ, name: name, goType: reflect.TypeFor[PM](),
		new:  func() Message { return PM(new(M)) },
		walk: func(w walker, m Message) { walk(w, m.(PM)) },
	}
}

// table is a draft's control messages, by type code and by Go type.
type table struct {
	byType map[uint64]*layout
	byGo   map[reflect.Type]*layout
}

func newTable(ls ...layout) *table {
	t := &table{byType: map[uint64]*layout{}, byGo: map[reflect.Type]*layout{}}
	for i := range ls {
		l := &ls[i]
		if t.byType[l.typ] != nil || t.byGo[l.goType] != nil {
			panic(fmt.Sprintf("wire: layout table has %s (0x%x) twice", l.name, l.typ))
		}
		t.byType[l.typ] = l
		t.byGo[l.goType] = l
	}
	return t
}

// of returns the layout of m's concrete type, or nil.
func (t *table) of(m Message) *layout {
	if t == nil || m == nil {
		return nil
	}
	return t.byGo[reflect.TypeOf(m)]
}

// ---- the reader ----

// reader walks a layout decoding into the fields.
type reader struct{ p *ctlDecoder }

func (r reader) reading() bool                  { return true }
func (r reader) draft() Draft                   { return r.p.d }
func (r reader) varint(f string, v *uint64)     { *v = r.p.varint(f) }
func (r reader) u8(f string, v *uint8)          { *v = r.p.byte8(f) }
func (r reader) flag(f string, v *bool)         { *v = r.p.boolean(f) }
func (r reader) groupOrder(v *uint8)            { *v = r.p.groupOrder() }
func (r reader) filterType(v *FilterType)       { *v = r.p.filterType() }
func (r reader) loc(f string, v *Location)      { *v = r.p.location(f) }
func (r reader) str(f string, v *string, n int) { *v = r.p.decoder.str(f, n) }
func (r reader) reason(v *string)               { *v = r.p.decoder.reason("reason_phrase") }
func (r reader) tuple(f string, v *Tuple, e bool) {
	*v = r.p.decoder.tuple(f, e)
}
func (r reader) trackName(ns Tuple, v *string) { *v = r.p.decoder.trackName("track_name", ns) }
func (r reader) versions(v *[]uint64)          { *v = r.p.versions() }
func (r reader) optParams(v *Params) {
	if r.p.err != nil || r.p.remaining() == 0 {
		return
	}
	*v = r.p.decoder.params(r.p.d, ctxMessage)
}
func (r reader) optVarint(f string, v *uint64, present *bool) {
	*present = r.p.err == nil && r.p.remaining() > 0
	if *present {
		*v = r.p.varint(f)
	}
}
func (r reader) setupOptions(v *Params) {
	if r.p.err == nil {
		*v = r.p.kvps16("setup_option", -1, r.p.lim.paramBytes(), true)
	}
}
func (r reader) params(ctx paramCtx, v *Params, m Message, binds []pbind) {
	if r.p.d.vi64() {
		if r.p.d == Draft20 {
			binds, _ = binds20(m)
		}
		r.p.params18(v, m, binds)
		return
	}
	if r.p.d == Draft16 {
		if _, ok := m.(*RequestOK); ok && r.p.err == nil && r.p.remaining() == 0 {
			// A REQUEST_OK that ends after its Request ID is read as one
			// with no parameters (Eyevinn moqtransport v0.9.0 omits the
			// count); we always write it.
			return
		}
		r.p.params16(ctx, v, m, binds)
		return
	}
	*v = r.p.decoder.params(r.p.d, ctx)
}
func (r reader) trackExt(v *Params, m Message, binds []pbind) {
	if r.p.d == Draft20 {
		_, binds = binds20(m)
	}
	r.p.trackExt16(v, m, binds)
}
func (r reader) invalid(f, format string, args ...any) {
	r.p.fieldErr(KindInvalidValue, f, format, args...)
}

// ---- the writer ----

// writer walks a layout encoding from the fields.
type writer struct{ e *ctlEncoder }

func (w writer) reading() bool                    { return false }
func (w writer) draft() Draft                     { return w.e.d }
func (w writer) varint(f string, v *uint64)       { w.e.varint(f, *v) }
func (w writer) u8(_ string, v *uint8)            { w.e.u8(*v) }
func (w writer) flag(_ string, v *bool)           { w.e.boolean(*v) }
func (w writer) groupOrder(v *uint8)              { w.e.groupOrder(*v) }
func (w writer) filterType(v *FilterType)         { w.e.filterType(*v) }
func (w writer) loc(f string, v *Location)        { w.e.location(f, *v) }
func (w writer) str(f string, v *string, n int)   { w.e.str(f, *v, n) }
func (w writer) reason(v *string)                 { w.e.reason(*v) }
func (w writer) tuple(f string, v *Tuple, e bool) { w.e.tuple(f, *v, e) }
func (w writer) trackName(ns Tuple, v *string)    { w.e.trackName(ns, *v) }
func (w writer) versions(v *[]uint64)             { w.e.versions(*v) }
func (w writer) optParams(v *Params)              { w.e.params(*v) }
func (w writer) optVarint(f string, v *uint64, present *bool) {
	if *present {
		w.e.varint(f, *v)
	}
}
func (w writer) setupOptions(v *Params) { w.e.params16(*v, nil, nil, false) }
func (w writer) params(_ paramCtx, v *Params, m Message, binds []pbind) {
	if w.e.d.vi64() {
		if w.e.d == Draft20 {
			binds, _ = binds20(m)
		}
		w.e.params18(*v, m, binds)
		return
	}
	if w.e.d == Draft16 {
		w.e.params16(*v, m, binds, true)
		return
	}
	w.e.params(*v)
}
func (w writer) trackExt(v *Params, m Message, binds []pbind) {
	if w.e.d == Draft20 {
		_, binds = binds20(m)
	}
	w.e.params16(*v, m, binds, false)
}
func (w writer) invalid(f, format string, args ...any) {
	w.e.failf(format, args...)
}
