package wire

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// Control message framing and the draft-neutral entry points. Each draft's
// messages are a table of layouts (layout.go): control07.go, control14.go,
// control16.go.

// tableFor returns d's table of control messages, or nil.
func tableFor(d Draft) *table {
	switch d {
	case Draft07, Draft07CF:
		return table07
	case Draft14:
		return table14
	case Draft16:
		return table16
	case Draft18:
		return table18
	case Draft20:
		return table20
	}
	return nil
}

// isNil reports whether m is nil or a nil pointer.
func isNil(m Message) bool {
	if m == nil {
		return true
	}
	v := reflect.ValueOf(m)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// MessageType returns the wire type code of m in draft d. It returns false
// if m does not exist in d (a draft-14-only message in draft-07), if d is not
// a known draft, or if m is nil.
func MessageType(d Draft, m Message) (uint64, bool) {
	if isNil(m) {
		return 0, false
	}
	if l := tableFor(d).of(m); l != nil {
		return l.typ, true
	}
	return 0, false
}

// MessageName returns m's name in draft d, e.g. "ANNOUNCE" in 07 and
// "PUBLISH_NAMESPACE" in 14. A message that does not exist in d, or a draft
// that is not known, gets its draft-14 name (a draft-16-only message its
// draft-16 name). A nil m gives "".
func MessageName(d Draft, m Message) string {
	if isNil(m) {
		return ""
	}
	for _, t := range []*table{tableFor(d), table14, table16, table18} {
		if l := t.of(m); l != nil {
			return l.name
		}
	}
	return ""
}

// typeName returns the name of control message type t in draft d, or "" if
// t is not a control message type of d.
func typeName(d Draft, t uint64) string {
	if tb := tableFor(d); tb != nil {
		if l := tb.byType[t]; l != nil {
			return l.name
		}
	}
	return ""
}

// SetupFamily tells from the first bytes of a control stream which draft
// family the CLIENT_SETUP there belongs to: type 0x40 (the two bytes 0x40
// 0x40) means Draft07, type 0x20 (the byte 0x20) means Draft14. It returns
// ErrNeedMore if b is too short to tell, and a *ProtocolError
// (KindUnknownMessage) if the stream does not start with a CLIENT_SETUP of
// either family. Draft07 stands for both draft-07 layouts; which one a peer
// uses on its data streams cannot be told from the control stream.
func SetupFamily(b []byte) (Draft, error) {
	if len(b) == 0 {
		return DraftUnknown, ErrNeedMore
	}
	switch b[0] {
	case 0x20:
		return Draft14, nil
	case 0x40:
		if len(b) < 2 {
			return DraftUnknown, ErrNeedMore
		}
		if b[1] == 0x40 {
			return Draft07, nil
		}
		return DraftUnknown, &ProtocolError{Kind: KindUnknownMessage, Field: "type",
			Detail: fmt.Sprintf("control stream starts with 0x40 0x%02x, not a CLIENT_SETUP (0x40 0x40 in draft-07, 0x20 in draft-14)", b[1])}
	}
	return DraftUnknown, &ProtocolError{Kind: KindUnknownMessage, Field: "type",
		Detail: fmt.Sprintf("control stream starts with 0x%02x, not a CLIENT_SETUP (0x40 0x40 in draft-07, 0x20 in draft-14)", b[0])}
}

// AppendMessage appends m framed for draft d: Type(i) Length(i) Payload in
// draft-07 (both layouts), Type(i) Length(16) Payload in draft-14.
//
// Fields that d does not carry, or that the message's own flags leave out
// (a Start location under a filter without one, Largest when ContentExists
// is false), are ignored. Values that cannot be written correctly are
// errors and nothing is appended: a message that does not exist in d, a
// varint above 2^62-1, a group order above 2, a filter type or fetch type
// that the draft does not define, an empty or over-long version list, a
// namespace tuple with a bad field count, a namespace plus track name over
// 4096 bytes, a reason phrase over 1024 bytes, a GOAWAY URI over 8192 bytes,
// a parameter of the wrong form, or a draft-14 payload over 65535 bytes.
// On error b is returned unchanged.
func AppendMessage(b []byte, d Draft, m Message) ([]byte, error) {
	if isNil(m) {
		return b, errors.New("wire: cannot encode a nil control message")
	}
	name := MessageName(d, m)
	if name == "" {
		return b, fmt.Errorf("wire: cannot encode unknown control message %T", m)
	}
	tb := tableFor(d)
	if tb == nil {
		return b, fmt.Errorf("wire: cannot encode %s for unknown draft %v", name, d)
	}
	l := tb.of(m)
	if l == nil {
		return b, fmt.Errorf("wire: %s does not exist in draft-%v", name, d)
	}
	start := len(b)
	out := appendVarintFor(d.vi64(), b, l.typ)
	lenAt := len(out)
	if d.Is07() {
		out = append(out, 0) // a one-byte length; widened below if needed
	} else {
		out = append(out, 0, 0)
	}
	payloadAt := len(out)
	out, err := encodeWalk(l, d, out, m)
	if err != nil {
		return b[:start], fmt.Errorf("wire: cannot encode %s for draft-%v: %w", name, d, err)
	}
	e := ctlEncoder{b: out}
	n := len(e.b) - payloadAt
	if !d.Is07() {
		if n > MaxControlMessage14 {
			return b[:start], fmt.Errorf("wire: cannot encode %s for draft-%v: payload is %d bytes, the 16-bit length allows %d", name, d, n, MaxControlMessage14)
		}
		e.b[lenAt] = byte(n >> 8)
		e.b[lenAt+1] = byte(n)
		return e.b, nil
	}
	if l := VarintLen(uint64(n)); l > 1 {
		// Widen the length field: shift the payload right by l-1 bytes.
		for range l - 1 {
			e.b = append(e.b, 0)
		}
		copy(e.b[payloadAt+l-1:], e.b[payloadAt:payloadAt+n])
	}
	AppendVarint(e.b[:lenAt], uint64(n))
	return e.b, nil
}

// ParseMessage decodes one framed control message of draft d at the start of
// b and returns it with the number of bytes used.
//
// It returns ErrNeedMore when b does not yet hold the whole frame (type,
// length and payload), and a *ProtocolError otherwise: KindLimit when the
// payload length exceeds lim.MaxControlMessage (checked as soon as the length
// is read, before waiting for the payload) or a field exceeds its limit;
// KindUnknownMessage for a type d does not define; KindTruncated when the
// payload ends inside a field; KindLengthMismatch when bytes are left after
// the last field; KindInvalidValue for values the draft forbids (filter type
// 0, an empty version list, a group order above 2, ...).
//
// When the frame is complete but its payload is bad, the returned count is
// the frame's size, so that a caller may skip it; otherwise it is 0 on
// error. The returned message does not alias b. A nil lim means the
// defaults.
func ParseMessage(b []byte, d Draft, lim *Limits) (Message, int, error) {
	tb := tableFor(d)
	if tb == nil {
		return nil, 0, &ProtocolError{Kind: KindInvalidValue, Detail: fmt.Sprintf("cannot decode control messages of unknown draft %v", d)}
	}
	hdr, length, err := frameHeader(b, d, lim)
	if err != nil {
		return nil, 0, err
	}
	total := hdr + length
	if len(b) < total {
		return nil, 0, ErrNeedMore
	}
	typ, _, _ := parseVarintFor(d.vi64(), b)
	l := tb.byType[typ]
	if l == nil {
		return nil, total, &ProtocolError{Kind: KindUnknownMessage, Field: "type",
			Detail: fmt.Sprintf("unknown message type 0x%X in draft-%v", typ, d)}
	}
	m := l.new()
	if err := decodeWalk(l, d, b[hdr:total], lim, m); err != nil {
		return nil, total, err
	}
	ownParams(m)
	return m, total, nil
}

// The walkers reach the coder through an interface, so a coder on the
// stack would escape to the heap on every message; they are pooled
// instead.
var (
	encoderPool = sync.Pool{New: func() any { return new(ctlEncoder) }}
	decoderPool = sync.Pool{New: func() any { return new(ctlDecoder) }}
)

// encodeWalk appends m's payload (layout l) to b.
func encodeWalk(l *layout, d Draft, b []byte, m Message) ([]byte, error) {
	e := encoderPool.Get().(*ctlEncoder)
	*e = ctlEncoder{b: b, d: d}
	l.walk(writer{e}, m)
	b, err := e.b, e.err
	*e = ctlEncoder{}
	encoderPool.Put(e)
	return b, err
}

// decodeWalk decodes payload into m (layout l) and checks that all of it
// was used.
func decodeWalk(l *layout, d Draft, payload []byte, lim *Limits, m Message) error {
	p := decoderPool.Get().(*ctlDecoder)
	*p = ctlDecoder{decoder: decoder{b: payload, framed: true, lim: lim, v18: d.vi64()}, d: d}
	l.walk(reader{p}, m)
	err := p.end(l.name)
	*p = ctlDecoder{}
	decoderPool.Put(p)
	return err
}

// frameHeader reads a control message's type and length at the start of b
// and checks the length against the limit. It returns the header size and
// the payload length, or ErrNeedMore.
func frameHeader(b []byte, d Draft, lim *Limits) (hdr, length int, err error) {
	typ, tn, err := parseVarintFor(d.vi64(), b)
	if err != nil {
		return 0, 0, ErrNeedMore
	}
	var n uint64
	var ln int
	if !d.Is07() {
		if len(b) < tn+2 {
			return 0, 0, ErrNeedMore
		}
		n, ln = uint64(b[tn])<<8|uint64(b[tn+1]), 2
	} else if n, ln, err = ParseVarint(b[tn:]); err != nil {
		return 0, 0, ErrNeedMore
	}
	if limit := lim.controlMessage(); n > uint64(limit) {
		return 0, 0, &ProtocolError{Kind: KindLimit, Message: typeName(d, typ), Field: "length",
			Detail: fmt.Sprintf("control message payload is %d bytes, limit %d", n, limit)}
	}
	return tn + ln, int(n), nil
}

// paramsOf returns a pointer to m's parameter list, or nil if m has none.
func paramsOf(m Message) *Params {
	switch v := m.(type) {
	case *ClientSetup:
		return &v.Params
	case *ServerSetup:
		return &v.Params
	case *Subscribe:
		return &v.Params
	case *SubscribeOK:
		return &v.Params
	case *SubscribeUpdate:
		return &v.Params
	case *Publish:
		return &v.Params
	case *PublishOK:
		return &v.Params
	case *Fetch:
		return &v.Params
	case *FetchOK:
		return &v.Params
	case *PublishNamespace:
		return &v.Params
	case *PublishNamespaceOK:
		return &v.Params
	case *TrackStatusRequest:
		return &v.Params
	case *TrackStatus:
		return &v.Params
	case *SubscribeNamespace:
		return &v.Params
	case *SubscribeNamespaceOK:
		return &v.Params
	case *RequestOK:
		return &v.Params
	case *Setup:
		return &v.Params
	case *SubscribeTracks:
		return &v.Params
	case *PublishStateNotify:
		return &v.Params
	}
	return nil
}

// trackExtOf returns a pointer to m's draft-16 track extensions, or nil.
func trackExtOf(m Message) *Params {
	switch v := m.(type) {
	case *SubscribeOK:
		return &v.TrackExtensions
	case *Publish:
		return &v.TrackExtensions
	case *FetchOK:
		return &v.TrackExtensions
	}
	return nil
}

// ownParams copies the byte values of m's parameters and track extensions
// (which alias the decoder's input) into new blocks.
func ownParams(m Message) {
	ownList(paramsOf(m))
	ownList(trackExtOf(m))
	if ok, isOK := m.(*RequestOK); isOK {
		ownList(&ok.TrackExtensions) // draft-18 Track Properties
	}
}

func ownList(pp *Params) {
	if pp == nil {
		return
	}
	total, hasBytes := 0, false
	for _, p := range *pp {
		if !p.IsInt {
			total += len(p.Bytes)
			hasBytes = true
		}
	}
	if !hasBytes {
		return
	}
	block := make([]byte, 0, total)
	for i := range *pp {
		p := &(*pp)[i]
		if p.IsInt {
			continue
		}
		at := len(block)
		block = append(block, p.Bytes...)
		p.Bytes = block[at:len(block):len(block)]
	}
}

// ctlDecoder decodes control message payloads.
type ctlDecoder struct {
	decoder
	d Draft
}

func (p *ctlDecoder) fieldErr(k Kind, field, format string, args ...any) {
	p.fail(errf(k, field, format, args...))
}

// location reads a Location. It shadows decoder.location, which builds its
// field names on every call (an allocation each); here they are built only
// when the read fails.
func (p *ctlDecoder) location(field string) Location {
	if p.err != nil {
		return Location{}
	}
	g, n, err := parseVarintFor(p.v18, p.b[p.off:])
	if err != nil {
		p.short(field + ".group")
		return Location{}
	}
	o, m, err := parseVarintFor(p.v18, p.b[p.off+n:])
	if err != nil {
		p.short(field + ".object")
		return Location{}
	}
	p.off += n + m
	return Location{Group: g, Object: o}
}

// groupOrder reads a group order byte (0, 1 or 2).
func (p *ctlDecoder) groupOrder() uint8 {
	v := p.byte8("group_order")
	if p.err == nil && v > GroupOrderDescending {
		p.fieldErr(KindInvalidValue, "group_order", "group order %d is not 0, 1 or 2", v)
	}
	return v
}

// filterType reads a subscription filter type (1..4).
func (p *ctlDecoder) filterType() FilterType {
	v := p.varint("filter_type")
	if p.err == nil && (v < uint64(FilterLatestGroup) || v > uint64(FilterAbsoluteRange)) {
		p.fieldErr(KindInvalidValue, "filter_type", "filter_type %d is not a defined filter type", v)
	}
	return FilterType(v)
}

// versions reads a CLIENT_SETUP version list.
func (p *ctlDecoder) versions() []uint64 {
	n := p.varint("supported_versions")
	if p.err != nil {
		return nil
	}
	if n == 0 {
		p.fieldErr(KindInvalidValue, "supported_versions", "supported_versions must not be empty")
		return nil
	}
	if n > DefaultMaxVersions {
		p.fieldErr(KindLimit, "supported_versions", "%d versions, limit %d", n, DefaultMaxVersions)
		return nil
	}
	vs := make([]uint64, 0, n)
	for i := uint64(0); i < n && p.err == nil; i++ {
		vs = append(vs, p.varint("supported_version"))
	}
	return vs
}

// ctlEncoder writes control message payloads with a sticky error.
type ctlEncoder struct {
	b   []byte
	err error
	d   Draft
}

func (e *ctlEncoder) failf(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf(format, args...)
	}
}

func (e *ctlEncoder) varint(field string, v uint64) {
	if e.err != nil {
		return
	}
	if e.d.vi64() { // every uint64 is a draft-18 varint
		e.b = AppendVarint18(e.b, v)
		return
	}
	if v > MaxVarint {
		e.failf("%s %d exceeds the varint range", field, v)
		return
	}
	e.b = AppendVarint(e.b, v)
}

func (e *ctlEncoder) u8(v uint8) {
	if e.err == nil {
		e.b = append(e.b, v)
	}
}

func (e *ctlEncoder) boolean(v bool) { e.u8(uint8(boolInt(v))) }

func (e *ctlEncoder) groupOrder(v uint8) {
	if v > GroupOrderDescending {
		e.failf("group_order %d is not 0, 1 or 2", v)
	}
	e.u8(v)
}

func (e *ctlEncoder) filterType(f FilterType) {
	if f < FilterLatestGroup || f > FilterAbsoluteRange {
		e.failf("filter_type %d is not a defined filter type", uint64(f))
	}
	e.varint("filter_type", uint64(f))
}

// str writes a length-prefixed byte string of at most max bytes.
func (e *ctlEncoder) str(field, s string, limit int) {
	if len(s) > limit {
		e.failf("%s is %d bytes, limit %d", field, len(s), limit)
	}
	if e.err == nil {
		e.b = appendVarintFor(e.d.vi64(), e.b, uint64(len(s))) // a Go length is below 2^62
		e.b = append(e.b, s...)
	}
}

func (e *ctlEncoder) reason(s string) { e.str("reason_phrase", s, MaxReasonPhrase) }

func (e *ctlEncoder) tuple(field string, t Tuple, allowEmpty bool) {
	if len(t) > MaxTupleFields || (len(t) == 0 && !allowEmpty) {
		e.failf("%s has %d fields, allowed %d..%d", field, len(t), boolInt(!allowEmpty), MaxTupleFields)
	}
	if n := t.byteLen(); n > MaxFullTrackName {
		e.failf("%s is %d bytes, limit %d", field, n, MaxFullTrackName)
	}
	e.varint(field, uint64(len(t)))
	for i, f := range t {
		if e.d.vi64() && f == "" {
			e.failf("%s field %d is empty", field, i)
		}
		e.str(field, f, MaxFullTrackName)
	}
}

// trackName writes a track name whose length, together with ns, must not
// exceed MaxFullTrackName.
func (e *ctlEncoder) trackName(ns Tuple, name string) {
	e.str("track_name", name, max(MaxFullTrackName-ns.byteLen(), 0))
}

func (e *ctlEncoder) location(field string, l Location) {
	// Field names are built only on error: concatenating them up front
	// would allocate on every call.
	switch {
	case e.d.vi64():
		e.varint(field, l.Group)
		e.varint(field, l.Object)
	case l.Group > MaxVarint:
		e.varint(field+".group", l.Group)
	case l.Object > MaxVarint:
		e.varint(field+".object", l.Object)
	case e.err == nil:
		e.b = AppendVarint(AppendVarint(e.b, l.Group), l.Object)
	}
}

func (e *ctlEncoder) versions(vs []uint64) {
	if len(vs) == 0 {
		e.failf("supported_versions must not be empty")
	} else if len(vs) > DefaultMaxVersions {
		e.failf("%d versions, limit %d", len(vs), DefaultMaxVersions)
	}
	e.varint("supported_versions", uint64(len(vs)))
	for _, v := range vs {
		e.varint("supported_version", v)
	}
}

func (e *ctlEncoder) params(ps Params) {
	if e.err != nil {
		return
	}
	b, err := appendParams(e.b, e.d, ps)
	if err != nil {
		e.err = fmt.Errorf("parameters: %w", err)
		return
	}
	e.b = b
}
