package wire

import (
	"errors"
	"fmt"
)

// Draft-18 data streams and datagrams (draft-ietf-moq-transport-18, "Data
// Streams and Datagrams"). Every varint is the draft-18 form; Object
// Properties (16's extension headers) are a length then delta-coded
// key-value pairs, kept raw in Object.Extensions. The draft-neutral entry
// points (AppendSubgroupHeader, ParseSubgroupHeader, SubgroupEncoder,
// SubgroupDecoder, AppendFetchHeader, ParseFetchHeader, FetchEncoder,
// FetchDecoder, AppendDatagram, ParseDatagram) hand Draft18 to the
// functions here.
//
// Changes from 16 that the codec sees:
//   - SUBGROUP_HEADER types are 0b0XX1XXXX: 16's bits (PROPERTIES 0x01,
//     SUBGROUP_ID_MODE 0x06, END_OF_GROUP 0x08, DEFAULT_PRIORITY 0x20) plus
//     FIRST_OBJECT 0x40 ("the first object on this stream is the first of
//     the subgroup"); mode 0b11 is invalid.
//   - Fetch objects delta-code Group ID (by the FETCH's group order) and
//     Object ID; the Serialization Flags values 0x8C / 0x10C are End of
//     Range as in 16.
//   - Properties on an object whose status is not Normal are a protocol
//     violation (the 16 codec accepted them).
//   - Padding streams (type 0x132B3E28) and datagrams (0x132B3E29): zero
//     bytes to discard.
//
// Choices where the text is unclear (docs/protocol.md):
//   - End of Range: the text says "the Group ID and Object ID fields are
//     present"; they are read as absolute values (a delta-coded Group ID
//     always moves to another group, so an End of Range inside the prior
//     object's group could not be written otherwise).
//   - Without a Group ID Delta, "the Object ID is the prior Object's ID plus
//     the Object ID Delta" (not plus one more, unlike subgroup streams): the
//     codec follows the text.

// SubgroupBitFirstObject18 is the draft-18 SUBGROUP_HEADER FIRST_OBJECT bit.
const SubgroupBitFirstObject18 uint64 = 0x40

// isSubgroupType18 reports whether t is a valid draft-18 SUBGROUP_HEADER
// type: 0b0XX1XXXX with SUBGROUP_ID_MODE (0x06) not 0b11.
func isSubgroupType18(t uint64) bool {
	const mode = SubgroupBitExplicit | SubgroupBitFirstObject
	return t < 0x80 && t&0x10 != 0 && t&mode != mode
}

// isDatagramType18 reports whether t is a valid draft-18 OBJECT_DATAGRAM
// type: 0b00X0XXXX without both STATUS and END_OF_GROUP.
func isDatagramType18(t uint64) bool {
	return t < 0x30 && t&0x10 == 0 && !(t&DatagramBitStatus != 0 && t&DatagramBitEndOfGroup != 0)
}

// ErrPadding18 is what a draft-18 StreamReader returns for a padding stream
// (type 0x132B3E28): not an error of the peer; the stream is to be
// discarded.
var ErrPadding18 = errors.New("wire: draft-18 padding stream")

// ParseStreamType18 reads the type of a draft-18 unidirectional stream and
// returns it with its length: a subgroup header type, FETCH_HEADER (0x05),
// SETUP (0x2F00, a control stream) or PADDING (0x132B3E28). ErrNeedMore if
// b is too short; any other type is a *ProtocolError (KindUnknownMessage:
// the text closes the session).
func ParseStreamType18(b []byte) (uint64, int, error) {
	t, n, err := ParseVarint18(b)
	if err != nil {
		return 0, 0, err
	}
	if !isSubgroupType18(t) && t != StreamTypeFetch && t != StreamTypeSetup18 && t != StreamTypePadding18 {
		return 0, 0, withMessage(errf(KindUnknownMessage, "type", "stream type 0x%x is not a draft-18 stream type", t), "stream")
	}
	return t, n, nil
}

// CheckPadding18 checks padding data (after the type): every byte must be
// zero.
func CheckPadding18(b []byte) error {
	for i, c := range b {
		if c != 0 {
			return withMessage(errf(KindInvalidValue, "padding", "padding byte %d is 0x%02x, not zero", i, c), "PADDING")
		}
	}
	return nil
}

// appendProps18 appends a Properties Length and the properties block after
// checking its structure.
func appendProps18(b []byte, ext []byte) ([]byte, error) {
	if err := validateExtensions(Draft18, ext, encodeLimits); err != nil {
		return nil, err
	}
	b = AppendVarint18(b, uint64(len(ext)))
	return append(b, ext...), nil
}

// ---- subgroup streams ----

func appendSubgroupHeader18(b []byte, h *SubgroupHeader) ([]byte, error) {
	t := h.Type
	if !isSubgroupType18(t) {
		return nil, fmt.Errorf("wire: 0x%x is not a draft-18 subgroup header type", t)
	}
	if t&(SubgroupBitExplicit|SubgroupBitFirstObject) == 0 && h.Subgroup != 0 {
		return nil, fmt.Errorf("wire: subgroup header type 0x%x means subgroup 0, but the subgroup is %d", t, h.Subgroup)
	}
	b = AppendVarint18(b, t)
	b = AppendVarint18(b, h.TrackAlias)
	b = AppendVarint18(b, h.Group)
	if t&SubgroupBitExplicit != 0 {
		b = AppendVarint18(b, h.Subgroup)
	}
	if t&SubgroupBitDefaultPriority == 0 {
		b = append(b, h.Priority)
	}
	return b, nil
}

func parseSubgroupHeader18(b []byte) (SubgroupHeader, int, error) {
	r := decoder{b: b, v18: true}
	t := r.varint("type")
	if r.err != nil {
		return SubgroupHeader{}, 0, r.err
	}
	if !isSubgroupType18(t) {
		return SubgroupHeader{}, 0, withMessage(errf(KindUnknownMessage, "type", "stream type 0x%x is not a draft-18 subgroup header type", t), "SUBGROUP_HEADER")
	}
	h := SubgroupHeader{Type: t}
	h.TrackAlias = r.varint("track_alias")
	h.Group = r.varint("group_id")
	if t&SubgroupBitExplicit != 0 {
		h.Subgroup = r.varint("subgroup_id")
	}
	if t&SubgroupBitDefaultPriority == 0 {
		h.Priority = r.byte8("publisher_priority")
	}
	if r.err != nil {
		return SubgroupHeader{}, 0, withMessage(r.err, "SUBGROUP_HEADER")
	}
	return h, r.off, nil
}

// appendObjectHeader18 writes a subgroup object: Object ID Delta,
// [Properties], Payload Length, [Status when the length is 0].
func (e *SubgroupEncoder) appendObjectHeader18(b []byte, o *Object, payloadLen int) ([]byte, error) {
	t := e.Header.Type
	switch {
	case payloadLen < 0:
		return nil, fmt.Errorf("wire: invalid payload length %d", payloadLen)
	case !isSubgroupType18(t):
		return nil, fmt.Errorf("wire: 0x%x is not a draft-18 subgroup header type", t)
	case e.started && o.ID <= e.prev:
		return nil, fmt.Errorf("wire: object ID %d does not rise above the previous object ID %d in the subgroup stream", o.ID, e.prev)
	case !e.started && subgroupFromFirstObject(t) && o.ID != e.Header.Subgroup:
		return nil, fmt.Errorf("wire: subgroup header type 0x%x makes the first object ID the subgroup ID, but object %d is first in subgroup %d", t, o.ID, e.Header.Subgroup)
	case t&SubgroupBitExtensions == 0 && len(o.Extensions) > 0:
		return nil, fmt.Errorf("wire: subgroup header type 0x%x has no properties bit, but object %d has properties", t, o.ID)
	case o.Status != StatusNormal && len(o.Extensions) > 0:
		return nil, fmt.Errorf("wire: object with status 0x%x cannot have properties", uint64(o.Status))
	}
	if err := checkObjectStatus(Draft18, o.Status, payloadLen); err != nil {
		return nil, err
	}
	delta := o.ID
	if e.started {
		delta = o.ID - e.prev - 1
	}
	b = AppendVarint18(b, delta)
	if t&SubgroupBitExtensions != 0 {
		var err error
		if b, err = appendProps18(b, o.Extensions); err != nil {
			return nil, err
		}
	}
	b = AppendVarint18(b, uint64(payloadLen))
	if payloadLen == 0 {
		b = AppendVarint18(b, uint64(o.Status))
	}
	e.started, e.prev = true, o.ID
	return b, nil
}

func (dec *SubgroupDecoder) parseHead18(b []byte, ob *Object) (int, int, error) {
	h := &dec.Header
	if !isSubgroupType18(h.Type) {
		return 0, 0, withMessage(errf(KindUnknownMessage, "type", "stream type 0x%x is not a draft-18 subgroup header type", h.Type), "subgroup object")
	}
	r := decoder{b: b, lim: dec.Limits, v18: true}
	id := r.varint("object_id_delta")
	if r.err == nil && dec.started {
		if dec.prev == ^uint64(0) || id > ^uint64(0)-dec.prev-1 {
			r.fail(errf(KindInvalidValue, "object_id_delta", "object ID delta %d after object %d passes 2^64-1", id, dec.prev))
		}
		id += dec.prev + 1
	}
	if h.Type&SubgroupBitExtensions != 0 {
		ob.Extensions = r.objExt(Draft18, true)
	}
	pl, st := r.objLenStatus(Draft18)
	if r.err == nil && st != StatusNormal && len(ob.Extensions) > 0 {
		r.fail(errf(KindInvalidValue, "object_status", "object with status 0x%x has properties", uint64(st)))
	}
	if r.err != nil {
		return 0, 0, withMessage(r.err, "subgroup object")
	}
	ob.Group, ob.Subgroup, ob.Priority, ob.ID, ob.Status = h.Group, h.Subgroup, h.Priority, id, st
	if !dec.started && subgroupFromFirstObject(h.Type) {
		ob.Subgroup = id
	}
	return r.off, pl, nil
}

// ---- fetch streams ----

// fetchGroup18 computes a Group ID from its delta after prior group p.
func fetchGroup18(p, delta uint64, descending bool) (uint64, bool) {
	if delta == ^uint64(0) {
		return 0, false
	}
	step := delta + 1
	if descending {
		return p - step, p >= step
	}
	return p + step, p+step >= p
}

// appendObjectHeader18 writes a draft-18 fetch object with flags f (0: the
// shortest).
func (e *FetchEncoder) appendObjectHeader18(b []byte, o *Object, payloadLen int, f uint64) ([]byte, error) {
	if payloadLen < 0 {
		return nil, fmt.Errorf("wire: invalid payload length %d", payloadLen)
	}
	if f == 0 {
		f = e.flagsFor(o, e.real) // 18: only a real object (not End of Range) is a prior one
	}
	p := &e.prev
	desc := e.GroupOrder == GroupOrderDescending
	if f >= 128 {
		if !isEndOfRange18(e.Draft, f) {
			return nil, fmt.Errorf("wire: 0x%x is not a draft-%s fetch serialization flags value", f, e.Draft)
		}
		if payloadLen != 0 || len(o.Extensions) > 0 || o.Status != ObjectStatus(f) {
			return nil, fmt.Errorf("wire: an End of Range object (flags 0x%x) has status 0x%x, no payload and no properties", f, f)
		}
		b = AppendVarint18(b, f)
		b = AppendVarint18(AppendVarint18(b, o.Group), o.ID)
		b = AppendVarint18(b, 0)
		e.started, p.Group, p.ID = true, o.Group, o.ID
		return b, nil
	}
	if o.Status != StatusNormal {
		return nil, fmt.Errorf("wire: draft-18 fetch objects carry no status (0x%x); use an End of Range status or none", uint64(o.Status))
	}
	var groupDelta, idDelta uint64
	switch {
	case f&FetchFlagGroupID == 0 && (!e.started || o.Group != p.Group):
		return nil, fmt.Errorf("wire: fetch flags 0x%x leave out group %d, the prior object's is %d (first: %v)", f, o.Group, p.Group, !e.started)
	case f&FetchFlagGroupID != 0 && !e.started:
		groupDelta = o.Group
	case f&FetchFlagGroupID != 0 && !desc && o.Group > p.Group:
		groupDelta = o.Group - p.Group - 1
	case f&FetchFlagGroupID != 0 && desc && o.Group < p.Group:
		groupDelta = p.Group - o.Group - 1
	case f&FetchFlagGroupID != 0:
		return nil, fmt.Errorf("wire: group %d after group %d does not follow the fetch's group order (descending: %v)", o.Group, p.Group, desc)
	}
	switch {
	case f&FetchFlagObjectID == 0 && (!e.started || o.ID != p.ID+1):
		return nil, fmt.Errorf("wire: fetch flags 0x%x leave out object ID %d, which is not the prior's plus one", f, o.ID)
	case f&FetchFlagObjectID != 0 && (f&FetchFlagGroupID != 0 || !e.started):
		idDelta = o.ID
	case f&FetchFlagObjectID != 0 && o.ID >= p.ID:
		idDelta = o.ID - p.ID
	case f&FetchFlagObjectID != 0:
		return nil, fmt.Errorf("wire: object ID %d after %d in the same group cannot be delta-coded", o.ID, p.ID)
	}
	switch {
	case f&FetchFlagPriority == 0 && (!e.real || o.Priority != p.Priority):
		return nil, fmt.Errorf("wire: fetch flags 0x%x leave out priority %d (prior object's: %d, one exists: %v)", f, o.Priority, p.Priority, e.real)
	case f&FetchFlagExtensions == 0 && len(o.Extensions) > 0:
		return nil, fmt.Errorf("wire: fetch flags 0x%x have no properties bit, but the object has properties", f)
	}
	if f&FetchFlagDatagram == 0 {
		var want uint64
		switch f & FetchFlagSubgroupMask {
		case 1, 2:
			if !e.real {
				return nil, fmt.Errorf("wire: fetch flags 0x%x take the subgroup from a prior object, but there is none", f)
			}
			want = p.Subgroup + (f&FetchFlagSubgroupMask - 1)
		case 3:
			want = o.Subgroup
		}
		if o.Subgroup != want {
			return nil, fmt.Errorf("wire: fetch flags 0x%x give subgroup %d, not %d", f, want, o.Subgroup)
		}
	}
	b = AppendVarint18(b, f)
	if f&FetchFlagGroupID != 0 {
		b = AppendVarint18(b, groupDelta)
	}
	if f&FetchFlagDatagram == 0 && f&FetchFlagSubgroupMask == 3 {
		b = AppendVarint18(b, o.Subgroup)
	}
	if f&FetchFlagObjectID != 0 {
		b = AppendVarint18(b, idDelta)
	}
	if f&FetchFlagPriority != 0 {
		b = append(b, o.Priority)
	}
	if f&FetchFlagExtensions != 0 {
		var err error
		if b, err = appendProps18(b, o.Extensions); err != nil {
			return nil, err
		}
	}
	b = AppendVarint18(b, uint64(payloadLen))
	e.started, e.real = true, true
	e.prev = Object{Group: o.Group, Subgroup: o.Subgroup, ID: o.ID, Priority: o.Priority}
	return b, nil
}

// parseHead18 reads a draft-18 fetch object before its payload.
func (dec *FetchDecoder) parseHead18(b []byte, ob *Object) (int, int, error) {
	r := decoder{b: b, lim: dec.Limits, v18: true}
	p := &dec.prev
	f := r.varint("serialization_flags")
	if r.err != nil {
		return 0, 0, withMessage(r.err, "fetch object")
	}
	dec.pending = f
	need := func(field string, have bool) bool {
		if !have {
			r.fail(errf(KindInvalidValue, field, "serialization flags 0x%x take %s from the prior object, but there is none", f, field))
		}
		return have
	}
	switch {
	case isEndOfRange18(dec.Draft, f):
		ob.Status = ObjectStatus(f)
		ob.Group = r.varint("group_id")
		ob.ID = r.varint("object_id")
		ob.Subgroup, ob.Priority = p.Subgroup, p.Priority
	case f >= 128:
		r.fail(errf(KindInvalidValue, "serialization_flags", "serialization flags 0x%x are not defined", f))
	default:
		if f&FetchFlagGroupID != 0 {
			d := r.varint("group_id_delta")
			if r.err == nil && !dec.started {
				ob.Group = d
			} else if r.err == nil {
				g, ok := fetchGroup18(p.Group, d, dec.GroupOrder == GroupOrderDescending)
				if !ok {
					r.fail(errf(KindInvalidValue, "group_id_delta", "group ID delta %d after group %d leaves 0..2^64-1", d, p.Group))
				}
				ob.Group = g
			}
		} else if need("group_id", dec.started) {
			ob.Group = p.Group
		}
		if f&FetchFlagDatagram == 0 {
			switch f & FetchFlagSubgroupMask {
			case 1:
				if need("subgroup_id", dec.real) {
					ob.Subgroup = p.Subgroup
				}
			case 2:
				if need("subgroup_id", dec.real) {
					if p.Subgroup == ^uint64(0) {
						r.fail(errf(KindInvalidValue, "subgroup_id", "prior subgroup plus one passes 2^64-1"))
					}
					ob.Subgroup = p.Subgroup + 1
				}
			case 3:
				ob.Subgroup = r.varint("subgroup_id")
			}
		}
		if f&FetchFlagObjectID != 0 {
			d := r.varint("object_id_delta")
			switch {
			case r.err != nil:
			case f&FetchFlagGroupID != 0 || !dec.started:
				ob.ID = d
			case p.ID+d < p.ID:
				r.fail(errf(KindInvalidValue, "object_id_delta", "object ID delta %d after object %d passes 2^64-1", d, p.ID))
			default:
				ob.ID = p.ID + d
			}
		} else if need("object_id", dec.started) {
			if p.ID == ^uint64(0) {
				r.fail(errf(KindInvalidValue, "object_id", "prior object ID plus one passes 2^64-1"))
			}
			ob.ID = p.ID + 1
		}
		if f&FetchFlagPriority != 0 {
			ob.Priority = r.byte8("publisher_priority")
		} else if need("publisher_priority", dec.real) {
			ob.Priority = p.Priority
		}
		if f&FetchFlagExtensions != 0 {
			ob.Extensions = r.objExt(Draft18, true)
		}
	}
	pl := r.objPayloadLen()
	if r.err == nil && pl > 0 && f >= 128 {
		r.fail(errf(KindInvalidValue, "payload_length", "an End of Range object has a %d-byte payload", pl))
	}
	if r.err != nil {
		return 0, 0, withMessage(r.err, "fetch object")
	}
	return r.off, pl, nil
}

// isEndOfRange18 reports whether f is an End of Range value of the fetch
// stream of d: 0x8C and 0x10C, and in 20 also 0x20C (End of Timed-Out
// Range).
func isEndOfRange18(d Draft, f uint64) bool {
	return f == FetchEndOfNonExistent || f == FetchEndOfUnknownRange || (d == Draft20 && f == FetchEndOfTimedOutRange20)
}

// ---- datagrams ----

func appendDatagram18(b []byte, dg *Datagram) ([]byte, error) {
	o := &dg.Object
	if err := checkObjectStatus(Draft18, o.Status, len(o.Payload)); err != nil {
		return nil, err
	}
	t := dg.Type
	if t == 0 {
		t = datagramType14(dg)
	}
	if !isDatagramType18(t) {
		return nil, fmt.Errorf("wire: 0x%x is not a draft-18 datagram type", t)
	}
	if err := checkDatagramType(Draft16, t, dg); err != nil { // the same bits as 16
		return nil, err
	}
	if o.Status != StatusNormal && len(o.Extensions) > 0 {
		return nil, fmt.Errorf("wire: object with status 0x%x cannot have properties", uint64(o.Status))
	}
	b = AppendVarint18(b, t)
	b = AppendVarint18(b, dg.TrackAlias)
	b = AppendVarint18(b, o.Group)
	if t&DatagramBitNoObjectID == 0 {
		b = AppendVarint18(b, o.ID)
	}
	if t&DatagramBitDefaultPriority == 0 {
		b = append(b, o.Priority)
	}
	if t&DatagramBitExtensions != 0 {
		var err error
		if b, err = appendProps18(b, o.Extensions); err != nil {
			return nil, err
		}
	}
	if t&DatagramBitStatus != 0 {
		b = AppendVarint18(b, uint64(o.Status))
	}
	return append(b, o.Payload...), nil
}

// parseDatagram18 reads a draft-18 datagram. A padding datagram
// (DatagramTypePadding18, all zero after the type) is returned with that
// Type and no object.
func parseDatagram18(b []byte, lim *Limits) (Datagram, error) {
	r := decoder{b: b, framed: true, lim: lim, v18: true}
	var dg Datagram
	o := &dg.Object
	t := r.varint("type")
	dg.Type = t
	if r.err == nil && t == DatagramTypePadding18 {
		if err := CheckPadding18(b[r.off:]); err != nil {
			return Datagram{}, err
		}
		return Datagram{Type: t}, nil
	}
	if r.err == nil && !isDatagramType18(t) {
		r.fail(errf(KindUnknownMessage, "type", "datagram type 0x%x is not defined in draft-18", t))
	}
	dg.TrackAlias = r.varint("track_alias")
	o.Group = r.varint("group_id")
	if t&DatagramBitNoObjectID == 0 {
		o.ID = r.varint("object_id")
	}
	if t&DatagramBitDefaultPriority == 0 {
		o.Priority = r.byte8("publisher_priority")
	}
	if t&DatagramBitExtensions != 0 {
		o.Extensions = r.objExt(Draft18, false)
	}
	if t&DatagramBitStatus != 0 {
		o.Status = r.objStatus(Draft18)
		if r.err == nil && o.Status != StatusNormal && len(o.Extensions) > 0 {
			r.fail(errf(KindInvalidValue, "object_status", "object with status 0x%x has properties", uint64(o.Status)))
		}
	} else if r.err == nil {
		dg.EndOfGroup = t&DatagramBitEndOfGroup != 0
		if n, max := r.remaining(), r.lim.objectPayload(); n > max {
			r.fail(errf(KindLimit, "payload", "object payload is %d bytes, limit %d", n, max))
		}
		o.Payload = r.bytesN(r.remaining(), "payload")
	}
	if err := r.end("OBJECT_DATAGRAM"); err != nil {
		return Datagram{}, err
	}
	if len(o.Payload) == 0 {
		o.Payload = nil
	}
	return dg, nil
}
