package wirejson

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Kind names a wire unit that Decode and Encode convert.
type Kind string

// Kinds of wire unit.
const (
	// KindControl is one control message: type, length and payload.
	KindControl Kind = "control"
	// KindSubgroup is a whole subgroup stream: its header, then its objects
	// up to the end of the stream.
	KindSubgroup Kind = "subgroup"
	// KindDatagram is one OBJECT_DATAGRAM.
	KindDatagram Kind = "datagram"
	// KindFetch is a whole fetch stream: its header, then its objects up to
	// the end of the stream.
	KindFetch Kind = "fetch"
)

// Kinds lists the kinds in the order a user would look for them.
var Kinds = []Kind{KindControl, KindSubgroup, KindDatagram, KindFetch}

// ParseKind parses "control", "subgroup", "datagram" or "fetch".
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(s))
	for _, known := range Kinds {
		if k == known {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown kind %q (want control, subgroup, datagram or fetch)", s)
}

// Decode converts the bytes of one unit of kind k in draft d to its JSON form
// (compact). The input is taken to be the whole unit: for streams, the end of
// the input is the end of the stream, so an object cut short is an error of
// kind "truncated" naming the field (with Err wire.ErrNeedMore).
func Decode(d wire.Draft, k Kind, b []byte) ([]byte, error) {
	if k == KindControl {
		return DecodeMessage(d, b)
	}
	return DecodeData(d, k, b)
}

// Encode converts the JSON form of a unit of kind k in draft d to its bytes.
// An empty k is taken from the JSON: a control message if it has
// "message_type", else the data unit its "stream_type" names.
func Encode(d wire.Draft, k Kind, data []byte) ([]byte, error) {
	if k == "" {
		if tree, err := parseJSON(data); err == nil {
			if o, ok := tree.(*object); ok {
				if _, ok := o.get(MessageTypeKey); ok {
					k = KindControl
				}
			}
		}
	}
	if k == KindControl {
		return EncodeMessage(d, data)
	}
	return EncodeData(d, k, data)
}

// Stream and datagram names, as the vectors' "stream_type".
const (
	streamSubgroup07   = "stream_header_subgroup"
	streamSubgroup14   = "subgroup_header"
	streamFetch        = "fetch_header"
	streamDatagram     = "object_datagram"
	streamDatagramStat = "object_datagram_status"
)

func dataUnit(k Kind) string {
	switch k {
	case KindSubgroup:
		return "subgroup stream"
	case KindFetch:
		return "fetch stream"
	case KindDatagram:
		return "datagram"
	}
	return string(k)
}

// DecodeData converts a subgroup stream, a fetch stream or a datagram (k) of
// draft d to its JSON form (compact). Streams are objects with the header's
// fields and "objects": [...].
func DecodeData(d wire.Draft, k Kind, b []byte) ([]byte, error) {
	if err := checkDraft(d); err != nil {
		return nil, &Error{Op: "decode", Unit: dataUnit(k), Detail: err.Error()}
	}
	var (
		o   *object
		err error
	)
	switch {
	case k == KindSubgroup && d == wire.Draft16:
		o, err = decodeSubgroup16(b)
	case k == KindFetch && d == wire.Draft16:
		o, err = decodeFetch16(b)
	case k == KindSubgroup:
		o, err = decodeSubgroup(d, b)
	case k == KindFetch:
		o, err = decodeFetch(d, b)
	case k == KindDatagram:
		o, err = decodeDatagram(d, b)
	default:
		return nil, &Error{Op: "decode", Unit: string(k), Detail: fmt.Sprintf("%q is not a data kind (want subgroup, datagram or fetch)", k)}
	}
	if err != nil {
		return nil, err
	}
	return marshal(o), nil
}

// EncodeData converts the JSON form of a subgroup stream, a fetch stream or a
// datagram to bytes. An empty k is taken from the JSON's "stream_type".
func EncodeData(d wire.Draft, k Kind, data []byte) ([]byte, error) {
	unit := dataUnit(k)
	if k == "" {
		unit = "data unit"
	}
	fail := func(field, format string, args ...any) error {
		return &Error{Op: "encode", Unit: unit, Field: field, Detail: fmt.Sprintf(format, args...)}
	}
	if err := checkDraft(d); err != nil {
		return nil, fail("", "%v", err)
	}
	tree, err := parseJSON(data)
	if err != nil {
		return nil, fail("", "%v", err)
	}
	o, ok := tree.(*object)
	if !ok {
		return nil, fail("", "want a JSON object, got %s", describe(tree))
	}
	if k == "" {
		x, _ := o.get("stream_type")
		switch x {
		case streamSubgroup07, streamSubgroup14, stream16Subgroup:
			k = KindSubgroup
		case streamFetch, stream16Fetch:
			k = KindFetch
		case streamDatagram, streamDatagramStat, stream16Datagram:
			k = KindDatagram
		default:
			return nil, fail("stream_type", "cannot tell the kind of unit from %s", describe(x))
		}
		unit = dataUnit(k)
	}
	var b []byte
	switch {
	case k == KindSubgroup && d == wire.Draft16:
		b, err = encodeSubgroup16(o)
	case k == KindFetch && d == wire.Draft16:
		b, err = encodeFetch16(o)
	case k == KindSubgroup:
		b, err = encodeSubgroup(d, o)
	case k == KindFetch:
		b, err = encodeFetch(d, o)
	case k == KindDatagram:
		b, err = encodeDatagram(d, o)
	default:
		return nil, fail("", "%q is not a data kind (want subgroup, datagram or fetch)", k)
	}
	if err != nil {
		e := wrapErr("encode", unit, err)
		e.Op, e.Unit = "encode", unit
		return nil, e
	}
	return b, nil
}

// streamType visits "stream_type": written as name, and checked against the
// allowed names when read (it may be left out).
func streamType(v *visitor, name string, allowed ...string) {
	if v.toJSON {
		v.out.add("stream_type", name)
		return
	}
	if !v.has("stream_type") {
		return
	}
	x, _ := v.take("stream_type")
	for _, a := range allowed {
		if x == a {
			return
		}
	}
	v.fail("stream_type", "is %s, want %q", describe(x), strings.Join(allowed, `" or "`))
}

// ---------------------------------------------------------------------------
// Subgroup streams

func decodeSubgroup(d wire.Draft, b []byte) (*object, error) {
	const unit = "subgroup stream"
	h, n, err := wire.ParseSubgroupHeader(b, d)
	if errors.Is(err, wire.ErrNeedMore) {
		return nil, truncated(unit, "", walkSubgroupHeader(d, b))
	}
	if err != nil {
		return nil, wrapErr("decode", unit, err)
	}
	dec := wire.SubgroupDecoder{Draft: d, Header: h}
	objs := []any{}
	var prev uint64
	for off, i := n, 0; off < len(b); i++ {
		var ob wire.Object
		k, err := dec.ParseObject(b[off:], &ob)
		prefix := fmt.Sprintf("objects[%d].", i)
		if errors.Is(err, wire.ErrNeedMore) {
			return nil, truncated(unit, prefix, walkSubgroupObject(d, h.Type, b[off:]))
		}
		if err != nil {
			e := wrapErr("decode", unit, err)
			e.Field = strings.TrimSuffix(prefix+e.Field, ".")
			return nil, e
		}
		off += k
		v := newWriter(d)
		if d == wire.Draft14 {
			delta := ob.ID
			if i > 0 {
				delta = ob.ID - prev - 1
			}
			v.u64("object_id_delta", &delta)
			v.u64("object_id", &ob.ID)
			if h.Type&wire.SubgroupBitExtensions != 0 {
				visitExtensions(v, &ob, false)
			}
			visitPayload14(v, &ob)
		} else {
			v.u64("object_id", &ob.ID)
			visitPayload07(v, &ob)
		}
		objs = append(objs, v.out)
		prev = ob.ID
	}
	h = dec.Header // the decoder sets the subgroup of "first object ID" types
	v := newWriter(d)
	visitSubgroupHeader(v, d, &h, len(objs) > 0)
	v.out.add("objects", objs)
	return v.out, nil
}

// visitSubgroupHeader visits the header fields. Where the subgroup ID is the
// first object's ID, it comes after the priority (as in the vectors), and only
// if known (there are objects).
func visitSubgroupHeader(v *visitor, d wire.Draft, h *wire.SubgroupHeader, subgroupKnown bool) {
	if d == wire.Draft14 {
		streamType(v, streamSubgroup14, streamSubgroup14)
		if v.toJSON || v.has("stream_type_id") {
			v.u64("stream_type_id", &h.Type)
		}
	} else {
		streamType(v, streamSubgroup07, streamSubgroup07)
	}
	if d == wire.Draft07CF {
		v.u64("subscribe_id", &h.SubscribeID)
	}
	v.u64("track_alias", &h.TrackAlias)
	v.u64("group_id", &h.Group)
	fromFirst := d == wire.Draft14 && h.Type&wire.SubgroupBitExplicit == 0 && h.Type&wire.SubgroupBitFirstObject != 0
	if !fromFirst {
		v.u64("subgroup_id", &h.Subgroup)
	}
	v.u8("publisher_priority", &h.Priority)
	if fromFirst && (subgroupKnown || v.has("subgroup_id")) {
		v.u64("subgroup_id", &h.Subgroup)
	}
}

func encodeSubgroup(d wire.Draft, o *object) ([]byte, error) {
	v := newReader(d, o, "")
	var h wire.SubgroupHeader
	typeGiven := d == wire.Draft14 && v.has("stream_type_id")
	if d == wire.Draft14 && !typeGiven {
		// Choose the type after reading the objects; read the header fields
		// as for an explicit-subgroup type meanwhile, with the subgroup
		// optional.
		h.Type = 0x14
		if !v.has("subgroup_id") {
			h.Type = 0x12
		}
	}
	visitSubgroupHeader(v, d, &h, false)
	if v.err != nil {
		return nil, v.err
	}
	subgroupGiven := v.has("subgroup_id")
	arr := objectsArray(v)
	objs := make([]wire.Object, len(arr))
	anyExt := false
	var prev uint64
	for i, x := range arr {
		ov := objectReader(v, x, i)
		if ov == nil {
			return nil, v.err
		}
		ob := &objs[i]
		if d == wire.Draft14 {
			objectID14(ov, i, prev, &ob.ID)
			if !typeGiven || h.Type&wire.SubgroupBitExtensions != 0 {
				if ov.has("extension_headers_length") || ov.has("extension_headers") || ov.has("extension_headers_hex") {
					anyExt = true
				}
				visitExtensions(ov, ob, false)
			}
			visitPayload14(ov, ob)
		} else {
			ov.u64("object_id", &ob.ID)
			visitPayload07(ov, ob)
		}
		if err := ov.finish(); err != nil {
			return nil, err
		}
		prev = ob.ID
	}
	if err := v.finish(); err != nil {
		return nil, err
	}
	if d == wire.Draft14 {
		if !typeGiven {
			explicit := h.Subgroup != 0 && (len(objs) == 0 || objs[0].ID != h.Subgroup)
			h.Type = wire.SubgroupType(anyExt, explicit, false, h.Subgroup)
		}
		fromFirst := h.Type&wire.SubgroupBitExplicit == 0 && h.Type&wire.SubgroupBitFirstObject != 0
		if fromFirst && len(objs) > 0 {
			if subgroupGiven && h.Subgroup != objs[0].ID {
				return nil, &Error{Field: "subgroup_id", Detail: fmt.Sprintf("is %d, but stream type 0x%x makes it the first object's ID, %d", h.Subgroup, h.Type, objs[0].ID)}
			}
			h.Subgroup = objs[0].ID
		}
	} else {
		h.Type = wire.StreamTypeSubgroup07
	}
	b, err := wire.AppendSubgroupHeader(nil, d, &h)
	if err != nil {
		return nil, err
	}
	enc := wire.SubgroupEncoder{Draft: d, Header: h}
	for i := range objs {
		if b, err = enc.AppendObject(b, &objs[i]); err != nil {
			return nil, &Error{Field: fmt.Sprintf("objects[%d]", i), Detail: trimWire(err), Err: err}
		}
	}
	return b, nil
}

// objectID14 visits a draft-14 subgroup object's ID when reading: the
// absolute "object_id", the "object_id_delta" as on the wire, or both (which
// must agree).
func objectID14(v *visitor, i int, prev uint64, id *uint64) {
	hasID, hasDelta := v.has("object_id"), v.has("object_id_delta")
	var delta uint64
	if hasDelta {
		v.u64("object_id_delta", &delta)
	}
	if hasID {
		v.u64("object_id", id)
	}
	if v.err != nil {
		return
	}
	switch {
	case !hasID && !hasDelta:
		v.fail("object_id", "missing (give object_id or object_id_delta)")
	case !hasID && i == 0:
		*id = delta
	case !hasID:
		if prev >= maxVarint || delta > maxVarint-prev-1 {
			v.fail("object_id_delta", "%d after object %d exceeds the varint range", delta, prev)
			return
		}
		*id = prev + delta + 1
	case hasDelta:
		want := *id
		if i > 0 {
			if *id <= prev {
				v.fail("object_id", "%d does not rise above the previous object ID %d", *id, prev)
				return
			}
			want = *id - prev - 1
		}
		if delta != want {
			v.fail("object_id_delta", "is %d, but object_id %d gives %d", delta, *id, want)
		}
	}
}

// ---------------------------------------------------------------------------
// Fetch streams

func decodeFetch(d wire.Draft, b []byte) (*object, error) {
	const unit = "fetch stream"
	h, n, err := wire.ParseFetchHeader(b, d)
	if errors.Is(err, wire.ErrNeedMore) {
		return nil, truncated(unit, "", walkFetchHeader(d, b))
	}
	if err != nil {
		return nil, wrapErr("decode", unit, err)
	}
	v := newWriter(d)
	streamType(v, streamFetch)
	v.u64(idName(d), &h.RequestID)
	objs := []any{}
	for off, i := n, 0; off < len(b); i++ {
		var ob wire.Object
		k, err := wire.ParseFetchObject(b[off:], d, nil, &ob)
		prefix := fmt.Sprintf("objects[%d].", i)
		if errors.Is(err, wire.ErrNeedMore) {
			return nil, truncated(unit, prefix, walkFetchObject(d, b[off:]))
		}
		if err != nil {
			e := wrapErr("decode", unit, err)
			e.Field = strings.TrimSuffix(prefix+e.Field, ".")
			return nil, e
		}
		off += k
		ov := newWriter(d)
		visitFetchObject(ov, d, &ob)
		objs = append(objs, ov.out)
	}
	v.out.add("objects", objs)
	return v.out, nil
}

func visitFetchObject(v *visitor, d wire.Draft, ob *wire.Object) {
	v.u64("group_id", &ob.Group)
	v.u64("subgroup_id", &ob.Subgroup)
	v.u64("object_id", &ob.ID)
	v.u8("publisher_priority", &ob.Priority)
	if d == wire.Draft14 {
		visitExtensions(v, ob, true)
		visitPayload14(v, ob)
	} else {
		visitPayload07(v, ob)
	}
}

func encodeFetch(d wire.Draft, o *object) ([]byte, error) {
	v := newReader(d, o, "")
	streamType(v, streamFetch, streamFetch)
	var h wire.FetchHeader
	v.u64(idName(d), &h.RequestID)
	arr := objectsArray(v)
	if v.err != nil {
		return nil, v.err
	}
	b := wire.AppendFetchHeader(nil, d, h)
	for i, x := range arr {
		ov := objectReader(v, x, i)
		if ov == nil {
			return nil, v.err
		}
		var ob wire.Object
		visitFetchObject(ov, d, &ob)
		if err := ov.finish(); err != nil {
			return nil, err
		}
		var err error
		if b, err = wire.AppendFetchObject(b, d, &ob); err != nil {
			return nil, &Error{Field: fmt.Sprintf("objects[%d]", i), Detail: trimWire(err), Err: err}
		}
	}
	if err := v.finish(); err != nil {
		return nil, err
	}
	return b, nil
}

// ---------------------------------------------------------------------------
// Datagrams

func decodeDatagram(d wire.Draft, b []byte) (*object, error) {
	dg, err := wire.ParseDatagram(b, d, nil)
	if errors.Is(err, wire.ErrNeedMore) { // ParseDatagram reports truncation as a protocol error, but be safe
		return nil, truncated("datagram", "", "")
	}
	if err != nil {
		return nil, wrapErr("decode", "datagram", err)
	}
	v := newWriter(d)
	if d == wire.Draft16 {
		visitDatagram16(v, &dg)
	} else {
		visitDatagram(v, d, &dg)
	}
	return v.out, nil
}

func visitDatagram(v *visitor, d wire.Draft, dg *wire.Datagram) {
	ob := &dg.Object
	if d.Is07() {
		streamType(v, streamDatagram, streamDatagram)
		if d == wire.Draft07CF {
			v.u64("subscribe_id", &dg.SubscribeID)
		}
		v.u64("track_alias", &dg.TrackAlias)
		v.u64("group_id", &ob.Group)
		v.u64("object_id", &ob.ID)
		v.u8("publisher_priority", &ob.Priority)
		visitPayload07(v, ob)
		return
	}
	name := streamDatagram
	if dg.Type&wire.DatagramBitStatus != 0 {
		name = streamDatagramStat
	}
	streamType(v, name, streamDatagram, streamDatagramStat)
	typeKnown := v.toJSON || v.has("stream_type_id")
	if typeKnown {
		v.u64("stream_type_id", &dg.Type)
	}
	v.u64("track_alias", &dg.TrackAlias)
	v.u64("group_id", &ob.Group)
	switch {
	case typeKnown && dg.Type&wire.DatagramBitNoObjectID == 0:
		v.u64("object_id", &ob.ID)
	case !typeKnown && v.has("object_id"):
		v.u64("object_id", &ob.ID)
	case !typeKnown:
		dg.Type |= wire.DatagramBitNoObjectID
	}
	v.u8("publisher_priority", &ob.Priority)
	if (typeKnown && dg.Type&wire.DatagramBitExtensions != 0) ||
		(!typeKnown && (v.has("extension_headers") || v.has("extension_headers_hex") || v.has("extension_headers_length"))) {
		visitExtensions(v, ob, false)
		if !typeKnown && len(ob.Extensions) > 0 {
			dg.Type |= wire.DatagramBitExtensions
		}
	}
	if (typeKnown && dg.Type&wire.DatagramBitStatus != 0) || (!typeKnown && v.has("object_status")) {
		st := uint64(ob.Status)
		v.u64("object_status", &st)
		ob.Status = wire.ObjectStatus(st)
		if !typeKnown {
			dg.Type = dg.Type&^wire.DatagramBitNoObjectID | wire.DatagramBitStatus
		}
	} else {
		v.hexBytes("payload_hex", &ob.Payload)
	}
	if typeKnown {
		dg.EndOfGroup = dg.Type&wire.DatagramBitStatus == 0 && dg.Type&wire.DatagramBitEndOfGroup != 0
	}
}

func encodeDatagram(d wire.Draft, o *object) ([]byte, error) {
	v := newReader(d, o, "")
	var dg wire.Datagram
	if d == wire.Draft16 {
		visitDatagram16(v, &dg)
	} else {
		visitDatagram(v, d, &dg)
	}
	if err := v.finish(); err != nil {
		return nil, err
	}
	if len(dg.Object.Payload) == 0 {
		dg.Object.Payload = nil
	}
	if d == wire.Draft07 {
		dg.Type = wire.DatagramType07
	}
	return wire.AppendDatagram(nil, d, &dg)
}

// ---------------------------------------------------------------------------
// Shared object fields

// objectsArray takes the "objects" array (an empty stream may leave it out).
func objectsArray(v *visitor) []any {
	if !v.has("objects") {
		return nil
	}
	x, _ := v.take("objects")
	arr, ok := x.([]any)
	if !ok {
		v.fail("objects", "want an array of objects, got %s", describe(x))
	}
	return arr
}

// objectReader returns a reader for element i of "objects", or nil (with
// v.err set) if it is not an object.
func objectReader(v *visitor, x any, i int) *visitor {
	o, ok := x.(*object)
	if !ok {
		v.fail(fmt.Sprintf("objects[%d]", i), "want an object, got %s", describe(x))
		return nil
	}
	return newReader(v.d, o, fmt.Sprintf("%sobjects[%d].", v.path, i))
}

// visitPayload07 visits a draft-07 object's status and payload, written as
// the draft-07 vectors do: object_status always (0 when the payload is not
// empty, since the status is then not on the wire), payload_length, and
// payload_hex (possibly ""). When reading, all three may be left out.
func visitPayload07(v *visitor, ob *wire.Object) {
	if v.toJSON {
		st, n := uint64(ob.Status), uint64(len(ob.Payload))
		v.u64("object_status", &st)
		v.u64("payload_length", &n)
		v.hexBytes("payload_hex", &ob.Payload)
		return
	}
	readPayload(v, ob)
}

// visitPayload14 visits a draft-14 stream object's payload length, then its
// payload (when not empty) or its status (when the payload is empty).
func visitPayload14(v *visitor, ob *wire.Object) {
	if v.toJSON {
		n := uint64(len(ob.Payload))
		v.u64("payload_length", &n)
		if n > 0 {
			v.hexBytes("payload_hex", &ob.Payload)
		} else {
			st := uint64(ob.Status)
			v.u64("object_status", &st)
		}
		return
	}
	readPayload(v, ob)
}

func readPayload(v *visitor, ob *wire.Object) {
	if v.has("payload_hex") {
		v.hexBytes("payload_hex", &ob.Payload)
	}
	if len(ob.Payload) == 0 {
		ob.Payload = nil
	}
	if v.has("object_status") {
		st := uint64(ob.Status)
		v.u64("object_status", &st)
		ob.Status = wire.ObjectStatus(st)
	}
	if v.has("payload_length") {
		var n uint64
		v.u64("payload_length", &n)
		if v.err == nil && n != uint64(len(ob.Payload)) {
			v.fail("payload_length", "is %d but payload_hex holds %d bytes", n, len(ob.Payload))
		}
	}
	if v.err == nil && len(ob.Payload) > 0 && ob.Status != wire.StatusNormal {
		v.fail("object_status", "must be 0 for an object with a payload, got %d", uint64(ob.Status))
	}
}

// visitExtensions visits a draft-14 object's extension headers:
// "extension_headers_length", then, when not empty, either the parsed
// "extension_headers": [{"type": "60", "value": "1"}, {"type": "11",
// "value_hex": "..."}] (even types carry an integer, odd types bytes), or
// the raw "extension_headers_hex" (asHex, as the fetch vectors have it, or
// when the block does not re-encode to the same bytes). Both are accepted
// when reading.
func visitExtensions(v *visitor, ob *wire.Object, asHex bool) {
	if v.toJSON {
		n := uint64(len(ob.Extensions))
		v.u64("extension_headers_length", &n)
		if n == 0 {
			return
		}
		if !asHex {
			if list, ok := extensionList(ob.Extensions); ok {
				v.out.add("extension_headers", list)
				return
			}
		}
		v.hexBytes("extension_headers_hex", &ob.Extensions)
		return
	}
	switch {
	case v.has("extension_headers_hex"):
		v.hexBytes("extension_headers_hex", &ob.Extensions)
		v.skip("extension_headers") // reported below if also present
		if v.has("extension_headers") {
			v.fail("extension_headers", "give extension_headers or extension_headers_hex, not both")
		}
	case v.has("extension_headers"):
		x, _ := v.take("extension_headers")
		ob.Extensions = extensionsFromJSON(v, x)
	}
	if len(ob.Extensions) == 0 {
		ob.Extensions = nil
	}
	if v.has("extension_headers_length") {
		var n uint64
		v.u64("extension_headers_length", &n)
		if v.err == nil && n != uint64(len(ob.Extensions)) {
			v.fail("extension_headers_length", "is %d but the extension headers take %d bytes", n, len(ob.Extensions))
		}
	}
}

// extensionList parses an extension block into its JSON list, if it
// re-encodes to the same bytes.
func extensionList(ext []byte) ([]any, bool) {
	ps, err := wire.ParseExtensions(ext, &wire.Limits{MaxParamBytes: len(ext) + 1})
	if err != nil {
		return nil, false
	}
	back, err := wire.AppendExtensions(nil, ps)
	if err != nil || !bytes.Equal(back, ext) {
		return nil, false
	}
	list := make([]any, 0, len(ps))
	for _, p := range ps {
		e := &object{}
		e.add("type", dec(p.Key))
		if p.IsInt {
			e.add("value", dec(p.Int))
		} else {
			e.add("value_hex", fmt.Sprintf("%x", p.Bytes))
		}
		list = append(list, e)
	}
	return list, true
}

func extensionsFromJSON(v *visitor, x any) []byte {
	arr, ok := x.([]any)
	if !ok {
		v.fail("extension_headers", "want an array of {\"type\", \"value\"} or {\"type\", \"value_hex\"} objects, got %s", describe(x))
		return nil
	}
	var ps wire.Params
	for i, e := range arr {
		o, ok := e.(*object)
		if !ok {
			v.fail(fmt.Sprintf("extension_headers[%d]", i), "want an object, got %s", describe(e))
			return nil
		}
		ev := newReader(v.d, o, fmt.Sprintf("%sextension_headers[%d].", v.path, i))
		var p wire.Param
		ev.u64("type", &p.Key)
		if ev.err == nil {
			if p.Key&1 == 0 {
				p.IsInt = true
				ev.u64("value", &p.Int)
			} else {
				ev.hexBytes("value_hex", &p.Bytes)
			}
		}
		if err := ev.finish(); err != nil {
			v.err = err
			return nil
		}
		ps = append(ps, p)
	}
	b, err := wire.AppendExtensions(nil, ps)
	if err != nil {
		v.fail("extension_headers", "%v", err)
		return nil
	}
	return b
}

// ---------------------------------------------------------------------------
// Naming the field where a stream ends

func truncated(unit, prefix, field string) *Error {
	e := &Error{Op: "decode", Unit: unit, Kind: wire.KindTruncated.String(), Err: wire.ErrNeedMore}
	if field == "" {
		e.Detail = "unexpected end of input"
		return e
	}
	e.Field = prefix + field
	e.Detail = "unexpected end of input while reading " + field
	return e
}

// walker steps over the fields of a unit the codec found incomplete, to name
// the field in which the input ends.
type walker struct {
	b       []byte
	missing string // the first field that did not fit
}

func (w *walker) varint(field string) uint64 {
	if w.missing != "" {
		return 0
	}
	v, n, err := wire.ParseVarint(w.b)
	if err != nil {
		w.missing = field
		return 0
	}
	w.b = w.b[n:]
	return v
}

func (w *walker) skip(n uint64, field string) {
	if w.missing != "" {
		return
	}
	if uint64(len(w.b)) < n {
		w.missing = field
		return
	}
	w.b = w.b[n:]
}

func walkSubgroupHeader(d wire.Draft, b []byte) string {
	w := walker{b: b}
	t := w.varint("stream_type")
	if d == wire.Draft07CF {
		w.varint("subscribe_id")
	}
	w.varint("track_alias")
	w.varint("group_id")
	typed := d == wire.Draft14 || d == wire.Draft16
	if !typed || t&wire.SubgroupBitExplicit != 0 {
		w.varint("subgroup_id")
	}
	if d != wire.Draft16 || t&wire.SubgroupBitDefaultPriority == 0 {
		w.skip(1, "publisher_priority")
	}
	return w.missing
}

func walkSubgroupObject(d wire.Draft, t uint64, b []byte) string {
	w := walker{b: b}
	if d == wire.Draft14 || d == wire.Draft16 {
		w.varint("object_id_delta")
		if t&wire.SubgroupBitExtensions != 0 {
			w.skip(w.varint("extension_headers_length"), "extension_headers")
		}
	} else {
		w.varint("object_id")
	}
	walkPayload(&w)
	return w.missing
}

func walkFetchHeader(d wire.Draft, b []byte) string {
	w := walker{b: b}
	w.varint("stream_type")
	w.varint(idName(d))
	return w.missing
}

func walkFetchObject(d wire.Draft, b []byte) string {
	w := walker{b: b}
	w.varint("group_id")
	w.varint("subgroup_id")
	w.varint("object_id")
	w.skip(1, "publisher_priority")
	if d == wire.Draft14 {
		w.skip(w.varint("extension_headers_length"), "extension_headers")
	}
	walkPayload(&w)
	return w.missing
}

func walkPayload(w *walker) {
	n := w.varint("payload_length")
	if w.missing == "" && n == 0 {
		w.varint("object_status")
	}
	w.skip(n, "payload_hex")
}
