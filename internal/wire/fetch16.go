package wire

import "fmt"

// Draft-16 fetch stream objects. Each object starts with Serialization
// Flags that say which fields are present and which are taken from the
// prior object on the stream, so coding needs the stream's state:
// FetchEncoder and FetchDecoder keep it (for drafts 07 and 14 they are
// stateless wrappers of AppendFetchObject and ParseFetchObject).
//
// Deviation: the text makes a first object that takes a field from the
// (missing) prior object a protocol violation. For the group, subgroup and
// object ID the decoder does so; a first object without a Publisher
// Priority is accepted with Priority 128 (the default publisher priority),
// as the moqtap vectors have such objects.

// Draft-16 fetch Serialization Flags.
const (
	FetchFlagSubgroupMask  uint64 = 0x03 // 0: zero, 1: prior, 2: prior+1, 3: present
	FetchFlagObjectID      uint64 = 0x04
	FetchFlagGroupID       uint64 = 0x08
	FetchFlagPriority      uint64 = 0x10
	FetchFlagExtensions    uint64 = 0x20
	FetchFlagDatagram      uint64 = 0x40
	FetchEndOfNonExistent  uint64 = 0x8C
	FetchEndOfUnknownRange uint64 = 0x10C
	// FetchEndOfTimedOutRange20 is draft-20's End of Timed-Out Range: the
	// objects up to it (inclusive) were not available within the FETCH's
	// FILL_TIMEOUT.
	FetchEndOfTimedOutRange20 uint64 = 0x20C
)

// Draft-16 fetch stream End of Range markers, as Object.Status: the object
// stands for the end (inclusive) of a range of objects that do not exist,
// or whose status is unknown. Only Group and ID are on the wire.
const (
	StatusEndOfNonExistentRange ObjectStatus = ObjectStatus(FetchEndOfNonExistent)
	StatusEndOfUnknownRange     ObjectStatus = ObjectStatus(FetchEndOfUnknownRange)
	// StatusEndOfTimedOutRange20 is draft-20 only.
	StatusEndOfTimedOutRange20 ObjectStatus = ObjectStatus(FetchEndOfTimedOutRange20)
)

// FetchEncoder writes the objects of one fetch stream of Draft in order.
type FetchEncoder struct {
	Draft Draft
	// GroupOrder is the FETCH's group order (draft-18 only, where Group
	// IDs are delta-coded along it): GroupOrderDescending counts down,
	// anything else up.
	GroupOrder uint8

	started bool
	real    bool // draft-18: an object other than End of Range was written
	prev    Object
}

// AppendObjectHeader appends everything of o before its payload. In draft
// 16 the encoder chooses the shortest Serialization Flags (fields equal to
// the prior object's are left out). On error nothing is appended and the
// state is unchanged.
func (e *FetchEncoder) AppendObjectHeader(b []byte, o *Object, payloadLen int) ([]byte, error) {
	return e.AppendObjectHeaderFlags(b, o, payloadLen, 0)
}

// AppendObjectHeaderFlags is AppendObjectHeader with draft-16 Serialization
// Flags given: non-zero flags are written as given after checking them
// against o and the prior object (to re-encode what FetchDecoder.Flags
// reported); 0 lets the encoder choose. Other drafts ignore flags.
func (e *FetchEncoder) AppendObjectHeaderFlags(b []byte, o *Object, payloadLen int, flags uint64) ([]byte, error) {
	if e.Draft.vi64() {
		return e.appendObjectHeader18(b, o, payloadLen, flags)
	}
	if e.Draft != Draft16 {
		return AppendFetchObjectHeader(b, e.Draft, o, payloadLen)
	}
	if payloadLen < 0 || uint64(payloadLen) > MaxVarint {
		return nil, fmt.Errorf("wire: invalid payload length %d", payloadLen)
	}
	if v := o.Group | o.Subgroup | o.ID; v > MaxVarint {
		return nil, checkVarintFields([]string{"group ID", "subgroup ID", "object ID"}, []uint64{o.Group, o.Subgroup, o.ID})
	}
	f := flags
	if f == 0 {
		f = e.flagsFor(o, e.started)
	}
	if err := e.check(f, o, payloadLen); err != nil {
		return nil, err
	}
	b = AppendVarint(b, f)
	if f >= 128 { // End of Range
		b = AppendVarint(AppendVarint(b, o.Group), o.ID)
		b = AppendVarint(b, 0)
		if !e.started {
			// The marker keeps the prior object's subgroup and priority, and
			// before any object the priority is 128, as FetchDecoder reads
			// it: an object after it that leaves out its priority has 128.
			e.prev.Priority = 128
		}
		e.started, e.prev.Group, e.prev.ID = true, o.Group, o.ID
		return b, nil
	}
	if f&FetchFlagGroupID != 0 {
		b = AppendVarint(b, o.Group)
	}
	if f&FetchFlagDatagram == 0 && f&FetchFlagSubgroupMask == 3 {
		b = AppendVarint(b, o.Subgroup)
	}
	if f&FetchFlagObjectID != 0 {
		b = AppendVarint(b, o.ID)
	}
	if f&FetchFlagPriority != 0 {
		b = append(b, o.Priority)
	}
	if f&FetchFlagExtensions != 0 {
		var err error
		if b, err = appendExtBlock(Draft16, b, o.Extensions); err != nil {
			return nil, err
		}
	}
	b = AppendVarint(b, uint64(payloadLen))
	e.started = true
	e.prev = Object{Group: o.Group, Subgroup: o.Subgroup, ID: o.ID, Priority: o.Priority}
	return b, nil
}

// AppendObject appends o (header and payload).
func (e *FetchEncoder) AppendObject(b []byte, o *Object) ([]byte, error) {
	return e.AppendObjectFlags(b, o, 0)
}

// AppendObjectFlags appends o with the given draft-16 Serialization Flags
// (0: chosen by the encoder; see AppendObjectHeaderFlags).
func (e *FetchEncoder) AppendObjectFlags(b []byte, o *Object, flags uint64) ([]byte, error) {
	b, err := e.AppendObjectHeaderFlags(b, o, len(o.Payload), flags)
	if err != nil {
		return nil, err
	}
	return append(b, o.Payload...), nil
}

// flagsFor chooses the shortest Serialization Flags for o. prior tells
// whether the previous object's subgroup and priority may be referred to
// (16: any object was written; 18: an object other than End of Range).
func (e *FetchEncoder) flagsFor(o *Object, prior bool) uint64 {
	switch o.Status {
	case StatusEndOfNonExistentRange, StatusEndOfUnknownRange, StatusEndOfTimedOutRange20:
		return uint64(o.Status) // a draft that lacks the value refuses it
	}
	p := &e.prev
	var f uint64
	if !e.started || o.Group != p.Group {
		f |= FetchFlagGroupID
	}
	switch {
	case o.Subgroup == 0:
	case prior && o.Subgroup == p.Subgroup:
		f |= 1
	case prior && o.Subgroup == p.Subgroup+1:
		f |= 2
	default:
		f |= 3
	}
	if !e.started || o.ID != p.ID+1 {
		f |= FetchFlagObjectID
	}
	if !prior || o.Priority != p.Priority {
		f |= FetchFlagPriority
	}
	if len(o.Extensions) > 0 {
		f |= FetchFlagExtensions
	}
	return f
}

// check reports flags f that cannot carry o after the prior object.
func (e *FetchEncoder) check(f uint64, o *Object, payloadLen int) error {
	p := &e.prev
	if f >= 128 {
		if f != FetchEndOfNonExistent && f != FetchEndOfUnknownRange {
			return fmt.Errorf("wire: 0x%x is not a draft-16 fetch serialization flags value", f)
		}
		if payloadLen != 0 || len(o.Extensions) > 0 || o.Status != ObjectStatus(f) {
			return fmt.Errorf("wire: an End of Range object (flags 0x%x) has status 0x%x, no payload and no extensions", f, f)
		}
		return nil
	}
	if o.Status != StatusNormal {
		return fmt.Errorf("wire: draft-16 fetch objects carry no status (0x%x); use an End of Range status or none", uint64(o.Status))
	}
	needPrior := f&FetchFlagGroupID == 0 || f&FetchFlagObjectID == 0 ||
		(f&FetchFlagDatagram == 0 && (f&FetchFlagSubgroupMask == 1 || f&FetchFlagSubgroupMask == 2))
	switch {
	case needPrior && !e.started:
		return fmt.Errorf("wire: fetch flags 0x%x take a field from the prior object, but this is the first", f)
	case f&FetchFlagGroupID == 0 && o.Group != p.Group:
		return fmt.Errorf("wire: fetch flags 0x%x leave out group %d, the prior object's is %d", f, o.Group, p.Group)
	case f&FetchFlagObjectID == 0 && o.ID != p.ID+1:
		return fmt.Errorf("wire: fetch flags 0x%x leave out object ID %d, which is not the prior's plus one", f, o.ID)
	case f&FetchFlagPriority == 0 && e.started && o.Priority != p.Priority:
		return fmt.Errorf("wire: fetch flags 0x%x leave out priority %d, the prior object's is %d", f, o.Priority, p.Priority)
	case f&FetchFlagExtensions == 0 && len(o.Extensions) > 0:
		return fmt.Errorf("wire: fetch flags 0x%x have no extensions bit, but the object has %d bytes of extension headers", f, len(o.Extensions))
	}
	if f&FetchFlagDatagram == 0 {
		var want uint64
		switch f & FetchFlagSubgroupMask {
		case 0:
			want = 0
		case 1:
			want = p.Subgroup
		case 2:
			want = p.Subgroup + 1
		default:
			want = o.Subgroup
		}
		if o.Subgroup != want {
			return fmt.Errorf("wire: fetch flags 0x%x give subgroup %d, not %d", f, want, o.Subgroup)
		}
	}
	return nil
}

// FetchDecoder parses the objects of one fetch stream of Draft in order.
type FetchDecoder struct {
	Draft  Draft
	Limits *Limits
	// GroupOrder is the FETCH's group order (draft-18 only; see
	// FetchEncoder.GroupOrder).
	GroupOrder uint8

	started bool
	real    bool // draft-18: an object other than End of Range was parsed
	prev    Object
	pending uint64 // flags of the object parseHead read
	flags   uint64 // flags of the last object committed
}

// Flags returns the draft-16 Serialization Flags of the last object parsed
// (0 before the first, and in other drafts).
func (dec *FetchDecoder) Flags() uint64 { return dec.flags }

// ParseObject parses one whole object at the start of b into o and returns
// the number of bytes used (see ParseFetchObject). ErrNeedMore leaves o and
// the state unchanged.
func (dec *FetchDecoder) ParseObject(b []byte, o *Object) (int, error) {
	var ob Object
	n, pl, err := dec.parseHead(b, &ob)
	if err != nil {
		return 0, err
	}
	if len(b)-n < pl {
		return 0, ErrNeedMore
	}
	if pl > 0 {
		ob.Payload = b[n : n+pl : n+pl]
	}
	dec.commit(&ob)
	*o = ob
	return n + pl, nil
}

func (dec *FetchDecoder) commit(ob *Object) {
	dec.started = true
	dec.real = dec.real || ob.Status < 128
	dec.flags = dec.pending
	dec.prev = Object{Group: ob.Group, Subgroup: ob.Subgroup, ID: ob.ID, Priority: ob.Priority}
}

// parseHead parses the fields of the next object before its payload; it
// does not change the state (see commit).
func (dec *FetchDecoder) parseHead(b []byte, ob *Object) (int, int, error) {
	if dec.Draft.vi64() {
		return dec.parseHead18(b, ob)
	}
	if dec.Draft != Draft16 {
		return parseFetchHead(b, dec.Draft, dec.Limits, ob)
	}
	r := decoder{b: b, lim: dec.Limits}
	p := &dec.prev
	f := r.varint("serialization_flags")
	if r.err != nil {
		return 0, 0, withMessage(r.err, "fetch object")
	}
	dec.pending = f
	prevPriority := p.Priority
	if !dec.started {
		prevPriority = 128 // the default publisher priority (see above)
	}
	prior := func(field string) bool {
		if !dec.started {
			r.fail(errf(KindInvalidValue, field, "serialization flags 0x%x take %s from the prior object, but this is the first object", f, field))
			return false
		}
		return true
	}
	switch {
	case f == FetchEndOfNonExistent || f == FetchEndOfUnknownRange:
		ob.Status = ObjectStatus(f)
		ob.Group = r.varint("group_id")
		ob.ID = r.varint("object_id")
		ob.Subgroup, ob.Priority = p.Subgroup, prevPriority
	case f >= 128:
		r.fail(errf(KindInvalidValue, "serialization_flags", "serialization flags 0x%x are not defined", f))
	default:
		if f&FetchFlagGroupID != 0 {
			ob.Group = r.varint("group_id")
		} else if prior("group_id") {
			ob.Group = p.Group
		}
		if f&FetchFlagDatagram == 0 {
			switch f & FetchFlagSubgroupMask {
			case 1:
				if prior("subgroup_id") {
					ob.Subgroup = p.Subgroup
				}
			case 2:
				if prior("subgroup_id") {
					ob.Subgroup = p.Subgroup + 1
				}
			case 3:
				ob.Subgroup = r.varint("subgroup_id")
			}
		}
		if f&FetchFlagObjectID != 0 {
			ob.ID = r.varint("object_id")
		} else if prior("object_id") {
			ob.ID = p.ID + 1
		}
		if f&FetchFlagPriority != 0 {
			ob.Priority = r.byte8("publisher_priority")
		} else {
			ob.Priority = prevPriority
		}
		if f&FetchFlagExtensions != 0 {
			ob.Extensions = r.objExt(Draft16, true)
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
