package wirejson

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Draft-16 data units, in the form of the draft-16 moqtap vectors:
//
//   - subgroup: {"stream_type": "subgroup", "header_type": "0x10",
//     "track_alias", "group_id", "subgroup_id", "publisher_priority" (not with
//     the default-priority bit), "end_of_group": true (with that bit),
//     "objects": [{"object_id", "extension_headers" (when not empty),
//     "payload_length", "status" (when the payload is empty),
//     "payload_hex"}]}
//   - datagram: {"stream_type": "datagram", "datagram_type": "0x00",
//     "track_alias", "group_id", "object_id", "publisher_priority",
//     "end_of_group", "extension_headers", "object_status" or "payload_hex"}
//   - fetch: {"stream_type": "fetch", "request_id", "objects":
//     [{"serialization_flags": "0x1c", "group_id", "subgroup_id" (not for
//     datagram objects), "object_id", "publisher_priority" (left out for a
//     first object without one), "extension_headers", "payload_length",
//     "payload_hex"}]}
//
// Extension headers are an object by name (as parameters are). Object IDs
// are absolute. When reading, the type and flags members are required (they
// say which fields are on the wire); fields the flags take from the prior
// object may be left out.

const (
	stream16Subgroup = "subgroup"
	stream16Datagram = "datagram"
	stream16Fetch    = "fetch"
)

// typeHex formats a type or flags value as the draft-16 vectors do.
func typeHex(v uint64) string { return fmt.Sprintf("0x%02x", v) }

// visitTypeHex visits a hex type member ("0x10"; decimal is accepted when
// reading).
func visitTypeHex(v *visitor, name string, p *uint64) {
	if v.toJSON {
		v.out.add(name, typeHex(*p))
		return
	}
	v.u64(name, p)
}

// extensions16 visits a draft-16 object's extension headers as an object by
// name, left out when empty.
func extensions16(v *visitor, ob *wire.Object) {
	if v.toJSON {
		if len(ob.Extensions) == 0 {
			return
		}
		ps, err := wire.ParseExtensionsDraft(wire.Draft16, ob.Extensions, &wire.Limits{MaxParamBytes: len(ob.Extensions) + 1})
		if err == nil {
			o := &object{}
			for _, p := range ps {
				paramToJSONDefs(o, v.d, ext16, p)
			}
			if back, err := extBlockFromJSON(v.d, o, ""); err == nil && string(back) == string(ob.Extensions) {
				v.out.add("extension_headers", o)
				return
			}
		}
		v.hexBytes("extension_headers_hex", &ob.Extensions)
		return
	}
	switch {
	case v.has("extension_headers_hex"):
		v.hexBytes("extension_headers_hex", &ob.Extensions)
	case v.has("extension_headers"):
		x, _ := v.take("extension_headers")
		b, err := extBlockFromJSON(v.d, x, v.path+"extension_headers")
		if err != nil {
			v.err = err
			return
		}
		ob.Extensions = b
	}
	if len(ob.Extensions) == 0 {
		ob.Extensions = nil
	}
}

func extBlockFromJSON(d wire.Draft, x any, field string) ([]byte, error) {
	o, ok := x.(*object)
	if !ok {
		return nil, &Error{Field: field, Detail: "want an object, got " + describe(x)}
	}
	ps, err := paramsFromJSONDefs(d, ext16, o, field)
	if err != nil {
		return nil, err
	}
	b, err := wire.AppendExtensionsDraft(d, nil, ps)
	if err != nil {
		return nil, &Error{Field: field, Detail: trimWire(err), Err: err}
	}
	return b, nil
}

// ---- subgroup streams ----

func visitSubgroupHeader16(v *visitor, h *wire.SubgroupHeader) {
	streamType(v, stream16Subgroup, stream16Subgroup)
	visitTypeHex(v, "header_type", &h.Type)
	v.u64("track_alias", &h.TrackAlias)
	v.u64("group_id", &h.Group)
	if v.toJSON || v.has("subgroup_id") {
		v.u64("subgroup_id", &h.Subgroup)
	}
	if h.Type&wire.SubgroupBitDefaultPriority == 0 {
		v.u8("publisher_priority", &h.Priority)
	}
	eog := h.Type&wire.SubgroupBitEndOfGroup != 0
	if v.toJSON && eog {
		v.out.add("end_of_group", true)
	} else if !v.toJSON && v.has("end_of_group") {
		var got bool
		v.flag("end_of_group", &got)
		if v.err == nil && got != eog {
			v.fail("end_of_group", "is %v, but header type 0x%x says %v", got, h.Type, eog)
		}
	}
}

func visitSubgroupObject16(v *visitor, ob *wire.Object, ext bool) {
	v.u64("object_id", &ob.ID)
	if ext {
		extensions16(v, ob)
	}
	if v.toJSON {
		n := uint64(len(ob.Payload))
		v.u64("payload_length", &n)
		if n == 0 {
			st := uint64(ob.Status)
			v.u64("status", &st)
		}
		v.hexBytes("payload_hex", &ob.Payload)
		return
	}
	if v.has("status") {
		st := uint64(ob.Status)
		v.u64("status", &st)
		ob.Status = wire.ObjectStatus(st)
	}
	readPayload(v, ob)
}

func decodeSubgroup16(b []byte) (*object, error) {
	const unit = "subgroup stream"
	d := wire.Draft16
	h, n, err := wire.ParseSubgroupHeader(b, d)
	if errors.Is(err, wire.ErrNeedMore) {
		return nil, truncated(unit, "", walkSubgroupHeader(d, b))
	}
	if err != nil {
		return nil, wrapErr("decode", unit, err)
	}
	dec := wire.SubgroupDecoder{Draft: d, Header: h}
	objs := []any{}
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
		ov := newWriter(d)
		visitSubgroupObject16(ov, &ob, h.Type&wire.SubgroupBitExtensions != 0)
		objs = append(objs, ov.out)
	}
	h = dec.Header
	v := newWriter(d)
	visitSubgroupHeader16(v, &h)
	v.out.add("objects", objs)
	return v.out, nil
}

func encodeSubgroup16(o *object) ([]byte, error) {
	d := wire.Draft16
	v := newReader(d, o, "")
	var h wire.SubgroupHeader
	visitSubgroupHeader16(v, &h)
	if v.err != nil {
		return nil, v.err
	}
	subgroupGiven := v.has("subgroup_id")
	arr := objectsArray(v)
	objs := make([]wire.Object, len(arr))
	for i, x := range arr {
		ov := objectReader(v, x, i)
		if ov == nil {
			return nil, v.err
		}
		visitSubgroupObject16(ov, &objs[i], h.Type&wire.SubgroupBitExtensions != 0)
		if err := ov.finish(); err != nil {
			return nil, err
		}
	}
	if err := v.finish(); err != nil {
		return nil, err
	}
	fromFirst := h.Type&wire.SubgroupBitExplicit == 0 && h.Type&wire.SubgroupBitFirstObject != 0
	if fromFirst && len(objs) > 0 {
		if subgroupGiven && h.Subgroup != objs[0].ID {
			return nil, &Error{Field: "subgroup_id", Detail: fmt.Sprintf("is %d, but header type 0x%x makes it the first object's ID, %d", h.Subgroup, h.Type, objs[0].ID)}
		}
		h.Subgroup = objs[0].ID
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

// ---- datagrams ----

func visitDatagram16(v *visitor, dg *wire.Datagram) {
	ob := &dg.Object
	streamType(v, stream16Datagram, stream16Datagram)
	visitTypeHex(v, "datagram_type", &dg.Type)
	t := dg.Type
	v.u64("track_alias", &dg.TrackAlias)
	v.u64("group_id", &ob.Group)
	if v.toJSON || v.has("object_id") {
		v.u64("object_id", &ob.ID)
	}
	if t&wire.DatagramBitDefaultPriority == 0 {
		v.u8("publisher_priority", &ob.Priority)
	}
	status := t&wire.DatagramBitStatus != 0
	dg.EndOfGroup = !status && t&wire.DatagramBitEndOfGroup != 0
	if v.toJSON && dg.EndOfGroup {
		v.out.add("end_of_group", true)
	} else if !v.toJSON && v.has("end_of_group") {
		var got bool
		v.flag("end_of_group", &got)
		if v.err == nil && got != dg.EndOfGroup {
			v.fail("end_of_group", "is %v, but datagram type 0x%x says %v", got, t, dg.EndOfGroup)
		}
	}
	if t&wire.DatagramBitExtensions != 0 {
		extensions16(v, ob)
	}
	if status {
		st := uint64(ob.Status)
		v.u64("object_status", &st)
		ob.Status = wire.ObjectStatus(st)
		return
	}
	v.hexBytes("payload_hex", &ob.Payload)
}

// ---- fetch streams ----

// visitFetchObject16 visits one draft-16 fetch object; first says whether
// it is the stream's first object, prev is the prior object (for members
// left out when reading).
func visitFetchObject16(v *visitor, ob *wire.Object, flags *uint64, first bool, prev *wire.Object) {
	if !v.toJSON {
		// Defaults from the prior object, for members the flags leave out.
		ob.Group, ob.Subgroup, ob.ID, ob.Priority = prev.Group, prev.Subgroup, prev.ID+1, prev.Priority
		if first {
			ob.Group, ob.Subgroup, ob.ID, ob.Priority = 0, 0, 0, 128
		}
	}
	visitTypeHex(v, "serialization_flags", flags)
	f := *flags
	endOfRange := f == wire.FetchEndOfNonExistent || f == wire.FetchEndOfUnknownRange
	opt := func(name string, p *uint64) {
		if v.toJSON || v.has(name) {
			v.u64(name, p)
		}
	}
	opt("group_id", &ob.Group)
	if endOfRange || f&wire.FetchFlagDatagram == 0 {
		if !v.toJSON && f&wire.FetchFlagSubgroupMask == 0 && !endOfRange {
			ob.Subgroup = 0
		}
		opt("subgroup_id", &ob.Subgroup)
	} else if !v.toJSON {
		ob.Subgroup = 0
	}
	opt("object_id", &ob.ID)
	if endOfRange || f&wire.FetchFlagPriority != 0 || !first {
		if v.toJSON || v.has("publisher_priority") {
			v.u8("publisher_priority", &ob.Priority)
		}
	}
	if !endOfRange && f&wire.FetchFlagExtensions != 0 {
		extensions16(v, ob)
	}
	if endOfRange {
		ob.Status = wire.ObjectStatus(f)
	}
	if v.toJSON {
		n := uint64(len(ob.Payload))
		v.u64("payload_length", &n)
		if n > 0 {
			v.hexBytes("payload_hex", &ob.Payload)
		}
		return
	}
	if v.has("payload_hex") {
		v.hexBytes("payload_hex", &ob.Payload)
	}
	if len(ob.Payload) == 0 {
		ob.Payload = nil
	}
	if v.has("payload_length") {
		var n uint64
		v.u64("payload_length", &n)
		if v.err == nil && n != uint64(len(ob.Payload)) {
			v.fail("payload_length", "is %d but payload_hex holds %d bytes", n, len(ob.Payload))
		}
	}
}

func decodeFetch16(b []byte) (*object, error) {
	const unit = "fetch stream"
	d := wire.Draft16
	h, n, err := wire.ParseFetchHeader(b, d)
	if errors.Is(err, wire.ErrNeedMore) {
		return nil, truncated(unit, "", walkFetchHeader(d, b))
	}
	if err != nil {
		return nil, wrapErr("decode", unit, err)
	}
	v := newWriter(d)
	streamType(v, stream16Fetch)
	v.u64("request_id", &h.RequestID)
	objs := []any{}
	dec := wire.FetchDecoder{Draft: d}
	for off, i := n, 0; off < len(b); i++ {
		var ob wire.Object
		k, err := dec.ParseObject(b[off:], &ob)
		prefix := fmt.Sprintf("objects[%d].", i)
		if errors.Is(err, wire.ErrNeedMore) {
			return nil, truncated(unit, prefix, "")
		}
		if err != nil {
			e := wrapErr("decode", unit, err)
			e.Field = strings.TrimSuffix(prefix+e.Field, ".")
			return nil, e
		}
		off += k
		ov := newWriter(d)
		flags := dec.Flags()
		visitFetchObject16(ov, &ob, &flags, i == 0, nil)
		objs = append(objs, ov.out)
	}
	v.out.add("objects", objs)
	return v.out, nil
}

func encodeFetch16(o *object) ([]byte, error) {
	d := wire.Draft16
	v := newReader(d, o, "")
	streamType(v, stream16Fetch, stream16Fetch)
	var h wire.FetchHeader
	v.u64("request_id", &h.RequestID)
	arr := objectsArray(v)
	if v.err != nil {
		return nil, v.err
	}
	b := wire.AppendFetchHeader(nil, d, h)
	enc := wire.FetchEncoder{Draft: d}
	var prev wire.Object
	for i, x := range arr {
		ov := objectReader(v, x, i)
		if ov == nil {
			return nil, v.err
		}
		var ob wire.Object
		var flags uint64
		visitFetchObject16(ov, &ob, &flags, i == 0, &prev)
		if err := ov.finish(); err != nil {
			return nil, err
		}
		var err error
		if b, err = enc.AppendObjectFlags(b, &ob, flags); err != nil {
			return nil, &Error{Field: "objects[" + strconv.Itoa(i) + "]", Detail: trimWire(err), Err: err}
		}
		prev = ob
	}
	if err := v.finish(); err != nil {
		return nil, err
	}
	return b, nil
}
