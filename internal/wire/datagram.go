package wire

import (
	"errors"
	"fmt"
)

// OBJECT_DATAGRAM in draft-07 (spec layout), Draft07CF (moq-rs layout, no type
// byte) and draft-14. One datagram carries one object.

// isDatagramType14 reports whether t is a defined draft-14 datagram type.
func isDatagramType14(t uint64) bool {
	return t <= 0x07 || t == DatagramBitStatus || t == DatagramBitStatus|DatagramBitExtensions
}

// isDatagramType reports whether t is a defined datagram type of d (14 or
// 16). Draft-16 adds the DEFAULT_PRIORITY bit (0x08): 0x00-0x0F, and the
// status types 0x20, 0x21, 0x24, 0x25, 0x28, 0x29, 0x2C, 0x2D.
func isDatagramType(d Draft, t uint64) bool {
	switch d {
	case Draft14:
		return isDatagramType14(t)
	case Draft16:
		return t < 0x30 && t&0x10 == 0 && !(t&DatagramBitStatus != 0 && t&DatagramBitEndOfGroup != 0)
	}
	return false
}

// hasPriority reports whether a datagram of type t in d carries a
// Publisher Priority.
func datagramHasPriority(d Draft, t uint64) bool {
	return d != Draft16 || t&DatagramBitDefaultPriority == 0
}

// datagramType14 returns the draft-14 datagram type AppendDatagram derives
// for dg when dg.Type is 0 (see AppendDatagram).
func datagramType14(dg *Datagram) uint64 {
	var t uint64
	if dg.Object.Status != StatusNormal {
		t = DatagramBitStatus
	} else if dg.EndOfGroup {
		t = DatagramBitEndOfGroup
	}
	if len(dg.Object.Extensions) > 0 {
		t |= DatagramBitExtensions
	}
	return t
}

// AppendDatagram appends datagram dg in draft d's layout:
//
//   - Draft07: 0x01 TrackAlias Group Object Priority(8) PayloadLen
//     [Status if PayloadLen is 0] Payload. dg.Type must be 0 or 0x01.
//   - Draft07CF: SubscribeID TrackAlias Group Object Priority(8) Status
//     PayloadLen Payload (no type byte; dg.Type is ignored).
//   - Draft14: Type TrackAlias Group [Object] Priority(8) [ExtLen Ext]
//     [Status] [Payload], no payload length.
//
// Draft-14 type: a zero dg.Type is derived from dg. A non-Normal
// Object.Status gives a status datagram, 0x20 (0x21 with extensions), where
// EndOfGroup cannot be expressed and must be false. Otherwise the type is
// 0x00, plus 0x01 when Object.Extensions is non-empty and 0x02 when
// EndOfGroup is set. The "Object ID absent" bit (0x04) is never derived: the
// object ID is always written, so that a zero Type also stands for type 0x00
// and every decoded datagram re-encodes to its own bytes. To save that byte
// for object 0, set Type explicitly (e.g. 0x04). A non-zero dg.Type is
// validated against dg: the extensions bit must match a non-empty Extensions
// block, the End of Group bit must match EndOfGroup, the "Object ID absent"
// bit needs object ID 0, a status type needs an empty payload and a payload
// type needs status Normal.
//
// Object.Subgroup is not sent. Draft-07 objects carry no extensions and
// draft-07 datagrams no EndOfGroup flag. A non-Normal status requires an
// empty payload.
func AppendDatagram(b []byte, d Draft, dg *Datagram) ([]byte, error) {
	if d.vi64() {
		return appendDatagram18(b, dg)
	}
	o := &dg.Object
	if v := dg.SubscribeID | dg.TrackAlias | o.Group | o.ID; v > MaxVarint {
		return nil, checkVarintFields([]string{"subscribe ID", "track alias", "group ID", "object ID"},
			[]uint64{dg.SubscribeID, dg.TrackAlias, o.Group, o.ID})
	}
	if err := checkObjectStatus(d, o.Status, len(o.Payload)); err != nil {
		return nil, err
	}
	if d.Is07() && len(o.Extensions) > 0 {
		return nil, errors.New("wire: draft-07 objects carry no extension headers")
	}
	if d.Is07() && dg.EndOfGroup {
		return nil, errors.New("wire: draft-07 datagrams have no End of Group flag (use status End of Group)")
	}
	switch d {
	case Draft07:
		if dg.Type != 0 && dg.Type != DatagramType07 {
			return nil, fmt.Errorf("wire: 0x%x is not a draft-07 datagram type", dg.Type)
		}
		b = AppendVarint(b, DatagramType07)
		b = AppendVarint(b, dg.TrackAlias)
		b = AppendVarint(b, o.Group)
		b = AppendVarint(b, o.ID)
		b = append(b, o.Priority)
		b = appendLenStatus(b, len(o.Payload), o.Status)
	case Draft07CF:
		b = AppendVarint(b, dg.SubscribeID)
		b = AppendVarint(b, dg.TrackAlias)
		b = AppendVarint(b, o.Group)
		b = AppendVarint(b, o.ID)
		b = append(b, o.Priority)
		b = AppendVarint(b, uint64(o.Status))
		b = AppendVarint(b, uint64(len(o.Payload)))
	case Draft14, Draft16:
		t := dg.Type
		if t == 0 {
			t = datagramType14(dg)
		}
		if err := checkDatagramType(d, t, dg); err != nil {
			return nil, err
		}
		b = AppendVarint(b, t)
		b = AppendVarint(b, dg.TrackAlias)
		b = AppendVarint(b, o.Group)
		if t&DatagramBitNoObjectID == 0 {
			b = AppendVarint(b, o.ID)
		}
		if datagramHasPriority(d, t) {
			b = append(b, o.Priority)
		}
		if t&DatagramBitExtensions != 0 {
			var err error
			if b, err = appendExtBlock(d, b, o.Extensions); err != nil {
				return nil, err
			}
		}
		if t&DatagramBitStatus != 0 {
			b = AppendVarint(b, uint64(o.Status))
		}
	default:
		return nil, unknownDraft(d)
	}
	return append(b, o.Payload...), nil
}

// checkDatagramType checks that type t can carry dg.
func checkDatagramType(d Draft, t uint64, dg *Datagram) error {
	o := &dg.Object
	switch {
	case !isDatagramType(d, t):
		return fmt.Errorf("wire: 0x%x is not a draft-%v datagram type", t, d)
	case t&DatagramBitExtensions != 0 && len(o.Extensions) == 0:
		return fmt.Errorf("wire: datagram type 0x%x has the extensions bit but the object has no extension headers", t)
	case t&DatagramBitExtensions == 0 && len(o.Extensions) > 0:
		return fmt.Errorf("wire: datagram type 0x%x has no extensions bit but the object has extension headers", t)
	case (t&DatagramBitEndOfGroup != 0) != dg.EndOfGroup:
		return fmt.Errorf("wire: datagram type 0x%x does not match EndOfGroup=%v", t, dg.EndOfGroup)
	case t&DatagramBitNoObjectID != 0 && o.ID != 0:
		return fmt.Errorf("wire: datagram type 0x%x omits the object ID, which must then be 0, not %d", t, o.ID)
	case t&DatagramBitStatus != 0 && len(o.Payload) > 0:
		return fmt.Errorf("wire: status datagram type 0x%x cannot carry a payload", t)
	case t&DatagramBitStatus == 0 && o.Status != StatusNormal:
		return fmt.Errorf("wire: datagram type 0x%x carries a payload, not status 0x%x", t, uint64(o.Status))
	}
	return nil
}

// ParseDatagram parses one whole datagram in draft d's layout (see
// AppendDatagram). Object.Payload and Object.Extensions alias b (nil when
// empty). lim may be nil. Since a datagram is complete, a short datagram is a
// *ProtocolError of KindTruncated (not ErrNeedMore), and bytes after a
// draft-07 payload or a draft-14 status are KindLengthMismatch. The returned
// Type is the wire type (0x01 for Draft07, 0 for Draft07CF); EndOfGroup
// reflects the draft-14 type bit.
func ParseDatagram(b []byte, d Draft, lim *Limits) (Datagram, error) {
	if d.vi64() {
		return parseDatagram18(b, lim)
	}
	r := decoder{b: b, framed: true, lim: lim}
	var dg Datagram
	o := &dg.Object
	switch d {
	case Draft07:
		dg.Type = r.varint("type")
		if r.err == nil && dg.Type != DatagramType07 {
			r.fail(errf(KindUnknownMessage, "type", "datagram type 0x%x is not defined in draft-07", dg.Type))
		}
		dg.TrackAlias = r.varint("track_alias")
		o.Group = r.varint("group_id")
		o.ID = r.varint("object_id")
		o.Priority = r.byte8("publisher_priority")
		var n int
		n, o.Status = r.objLenStatus(d)
		o.Payload = r.bytesN(n, "payload")
	case Draft07CF:
		dg.SubscribeID = r.varint("subscribe_id")
		dg.TrackAlias = r.varint("track_alias")
		o.Group = r.varint("group_id")
		o.ID = r.varint("object_id")
		o.Priority = r.byte8("publisher_priority")
		o.Status = r.objStatus(d)
		n := r.objPayloadLen()
		if r.err == nil && n > 0 && o.Status != StatusNormal {
			r.fail(errf(KindInvalidValue, "payload_length", "object with status 0x%x has a %d-byte payload", uint64(o.Status), n))
		}
		o.Payload = r.bytesN(n, "payload")
	case Draft14, Draft16:
		dg.Type = r.varint("type")
		if r.err == nil && !isDatagramType(d, dg.Type) {
			r.fail(errf(KindUnknownMessage, "type", "datagram type 0x%x is not defined in draft-%v", dg.Type, d))
		}
		t := dg.Type
		dg.TrackAlias = r.varint("track_alias")
		o.Group = r.varint("group_id")
		if t&DatagramBitNoObjectID == 0 {
			o.ID = r.varint("object_id")
		}
		if datagramHasPriority(d, t) {
			o.Priority = r.byte8("publisher_priority")
		}
		if t&DatagramBitExtensions != 0 {
			o.Extensions = r.objExt(d, false)
		}
		if t&DatagramBitStatus != 0 {
			o.Status = r.objStatus(d)
		} else if r.err == nil {
			dg.EndOfGroup = t&DatagramBitEndOfGroup != 0
			if n, max := r.remaining(), r.lim.objectPayload(); n > max {
				r.fail(errf(KindLimit, "payload", "object payload is %d bytes, limit %d", n, max))
			}
			o.Payload = r.bytesN(r.remaining(), "payload")
		}
	default:
		return Datagram{}, unknownDraft(d)
	}
	if err := r.end("OBJECT_DATAGRAM"); err != nil {
		return Datagram{}, err
	}
	if len(o.Payload) == 0 {
		o.Payload = nil
	}
	return dg, nil
}
