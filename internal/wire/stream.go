package wire

import (
	"errors"
	"fmt"
	"math"
)

// Subgroup and fetch streams: headers and objects, for draft-07 (spec and
// Cloudflare layouts) and draft-14. See moqt-wire.md sections 5, 7 and 10.
//
// Decoders here work on byte slices that hold a prefix of a stream: running
// out of bytes is ErrNeedMore, never a protocol error. StreamReader turns that
// into KindTruncated when the stream really ends.

// encodeLimits is what encoders validate extension blocks against: structure
// only, no configured size limits (the peer's limits are not known here).
var encodeLimits = &Limits{
	MaxParamBytes:     math.MaxInt,
	MaxExtensionBytes: math.MaxInt,
	MaxObjectPayload:  math.MaxInt,
}

// errUnknownDraft is returned for a Draft value outside Draft07, Draft07CF
// and Draft14.
var errUnknownDraft = errors.New("wire: unknown draft")

func unknownDraft(d Draft) error {
	return fmt.Errorf("%w %v", errUnknownDraft, d)
}

// isSubgroupType14 reports whether t is a defined draft-14 SUBGROUP_HEADER
// type: 0x10-0x15 or 0x18-0x1D (both subgroup-ID bits set is undefined).
func isSubgroupType14(t uint64) bool {
	const both = SubgroupBitExplicit | SubgroupBitFirstObject
	return t >= 0x10 && t <= 0x1D && t&both != both
}

// isSubgroupType reports whether t is a defined SUBGROUP_HEADER type of d
// (14 or 16). Draft-16 adds the DEFAULT_PRIORITY bit (0x20): 0x30-0x35,
// 0x38-0x3D, whose header has no Publisher Priority.
func isSubgroupType(d Draft, t uint64) bool {
	switch d {
	case Draft14:
		return isSubgroupType14(t)
	case Draft16:
		return isSubgroupType14(t &^ SubgroupBitDefaultPriority)
	}
	return false
}

// typedData reports whether d's data streams carry typed subgroup headers
// and extension blocks (draft-14 and later).
func typedData(d Draft) bool { return d == Draft14 || d == Draft16 }

// knownDataDraft reports whether d is a draft whose data plane is coded.
func knownDataDraft(d Draft) bool { return d.Is07() || typedData(d) }

// subgroupFromFirstObject reports whether a draft-14 type says "subgroup ID =
// first object ID".
func subgroupFromFirstObject(t uint64) bool {
	return t&SubgroupBitExplicit == 0 && t&SubgroupBitFirstObject != 0
}

// subgroupHeaderName names the subgroup header unit in errors.
func subgroupHeaderName(d Draft) string {
	if typedData(d) {
		return "SUBGROUP_HEADER"
	}
	return "STREAM_HEADER_SUBGROUP"
}

// checkVarintFields reports the first of the named values that is not a
// varint. names and vals have the same length.
func checkVarintFields(names []string, vals []uint64) error {
	for i, v := range vals {
		if err := checkVarint(names[i], v); err != nil {
			return err
		}
	}
	return nil
}

// checkObjectStatus validates an object's status on the encoding side: it
// must be defined in d, and a non-Normal status has no payload.
func checkObjectStatus(d Draft, st ObjectStatus, payloadLen int) error {
	if !ValidStatus(d, st) {
		return fmt.Errorf("wire: object status 0x%x is not defined in draft %v", uint64(st), d)
	}
	if st != StatusNormal && payloadLen > 0 {
		return fmt.Errorf("wire: object with status 0x%x must have an empty payload, got %d bytes", uint64(st), payloadLen)
	}
	return nil
}

// appendLenStatus appends PayloadLen and, when it is 0, the status.
func appendLenStatus(b []byte, payloadLen int, st ObjectStatus) []byte {
	b = AppendVarint(b, uint64(payloadLen))
	if payloadLen == 0 {
		b = AppendVarint(b, uint64(st))
	}
	return b
}

// appendExtBlock appends ExtLen and the extension block after checking that
// ext is a well-formed sequence of key-value pairs.
func appendExtBlock(d Draft, b []byte, ext []byte) ([]byte, error) {
	if err := validateExtensions(d, ext, encodeLimits); err != nil {
		return nil, err
	}
	b = AppendVarint(b, uint64(len(ext)))
	return append(b, ext...), nil
}

// objExt reads ExtLen and the extension block of a draft-14 object, checking
// ExtLen against the limit before taking the bytes and the block's structure
// after. allowEmpty says whether ExtLen 0 is allowed (it is not in a
// datagram whose type has the extensions bit). An empty block is nil.
func (r *decoder) objExt(d Draft, allowEmpty bool) []byte {
	n := r.varint("extension_headers_length")
	if r.err != nil {
		return nil
	}
	if max := r.lim.extensionBytes(); n > uint64(max) {
		r.fail(errf(KindLimit, "extension_headers_length", "extension headers are %d bytes, limit %d", n, max))
		return nil
	}
	if n == 0 {
		if !allowEmpty {
			r.fail(errf(KindInvalidValue, "extension_headers_length", "extension headers length is 0 but the type says extensions are present"))
		}
		return nil
	}
	ext := r.bytesN(int(n), "extension_headers")
	if r.err == nil {
		if err := validateExtensions(d, ext, r.lim); err != nil {
			r.fail(err)
			return nil
		}
	}
	return ext
}

// objPayloadLen reads a payload length and checks it against the limit.
func (r *decoder) objPayloadLen() int {
	n := r.varint("payload_length")
	if r.err != nil {
		return 0
	}
	if max := r.lim.objectPayload(); n > uint64(max) {
		r.fail(errf(KindLimit, "payload_length", "object payload is %d bytes, limit %d", n, max))
		return 0
	}
	return int(n)
}

// objStatus reads an object status and checks that d defines it.
func (r *decoder) objStatus(d Draft) ObjectStatus {
	s := r.varint("object_status")
	if r.err == nil && !ValidStatus(d, ObjectStatus(s)) {
		r.fail(errf(KindInvalidValue, "object_status", "object status 0x%x is not defined in draft %v", s, d))
		return 0
	}
	return ObjectStatus(s)
}

// objLenStatus reads PayloadLen and, when it is 0, the status.
func (r *decoder) objLenStatus(d Draft) (int, ObjectStatus) {
	n := r.objPayloadLen()
	if r.err != nil || n > 0 {
		return n, StatusNormal
	}
	return 0, r.objStatus(d)
}

// ---------------------------------------------------------------------------
// Subgroup stream header

// AppendSubgroupHeader appends the subgroup stream header h, including its
// type varint, in draft d's layout:
//
//   - Draft07: 0x04 TrackAlias Group Subgroup Priority(8); h.Type is ignored.
//   - Draft07CF: 0x04 SubscribeID TrackAlias Group Subgroup Priority(8).
//   - Draft14: Type TrackAlias Group [Subgroup] Priority(8). h.Type must be a
//     defined type (see SubgroupType). The Subgroup field is written only for
//     the explicit types; for the "subgroup ID is 0" types h.Subgroup must be
//     0, and for the "first object ID" types it is not written (SubgroupEncoder
//     checks that the first object's ID equals h.Subgroup).
func AppendSubgroupHeader(b []byte, d Draft, h *SubgroupHeader) ([]byte, error) {
	if d.vi64() {
		return appendSubgroupHeader18(b, h)
	}
	if v := h.SubscribeID | h.TrackAlias | h.Group | h.Subgroup; v > MaxVarint {
		return nil, checkVarintFields(
			[]string{"subscribe ID", "track alias", "group ID", "subgroup ID"},
			[]uint64{h.SubscribeID, h.TrackAlias, h.Group, h.Subgroup})
	}
	switch d {
	case Draft07, Draft07CF:
		b = AppendVarint(b, StreamTypeSubgroup07)
		if d == Draft07CF {
			b = AppendVarint(b, h.SubscribeID)
		}
		b = AppendVarint(b, h.TrackAlias)
		b = AppendVarint(b, h.Group)
		b = AppendVarint(b, h.Subgroup)
	case Draft14, Draft16:
		if !isSubgroupType(d, h.Type) {
			return nil, fmt.Errorf("wire: 0x%x is not a draft-%v subgroup header type", h.Type, d)
		}
		if h.Type&(SubgroupBitExplicit|SubgroupBitFirstObject) == 0 && h.Subgroup != 0 {
			return nil, fmt.Errorf("wire: subgroup header type 0x%x means subgroup 0, but the subgroup is %d", h.Type, h.Subgroup)
		}
		b = AppendVarint(b, h.Type)
		b = AppendVarint(b, h.TrackAlias)
		b = AppendVarint(b, h.Group)
		if h.Type&SubgroupBitExplicit != 0 {
			b = AppendVarint(b, h.Subgroup)
		}
		if d == Draft16 && h.Type&SubgroupBitDefaultPriority != 0 {
			return b, nil // no Publisher Priority
		}
	default:
		return nil, unknownDraft(d)
	}
	return append(b, h.Priority), nil
}

// ParseSubgroupHeader parses a subgroup stream header including its type
// varint. It returns the header and the number of bytes used. ErrNeedMore if b
// is too short. A type that is not a subgroup stream type of d is a
// *ProtocolError of KindUnknownMessage. For draft-14 types whose subgroup ID
// is the first object's ID, the returned Subgroup is 0 until a
// SubgroupDecoder sets it.
func ParseSubgroupHeader(b []byte, d Draft) (SubgroupHeader, int, error) {
	if d.vi64() {
		return parseSubgroupHeader18(b)
	}
	if !knownDataDraft(d) {
		return SubgroupHeader{}, 0, unknownDraft(d)
	}
	r := decoder{b: b}
	t := r.varint("type")
	if r.err != nil {
		return SubgroupHeader{}, 0, r.err
	}
	if (typedData(d) && !isSubgroupType(d, t)) || (!typedData(d) && t != StreamTypeSubgroup07) {
		return SubgroupHeader{}, 0, withMessage(errf(KindUnknownMessage, "type", "stream type 0x%x is not a subgroup stream type of draft %v", t, d), subgroupHeaderName(d))
	}
	h := r.subgroupHeaderBody(d, t)
	if r.err != nil {
		return SubgroupHeader{}, 0, withMessage(r.err, subgroupHeaderName(d))
	}
	return h, r.off, nil
}

// subgroupHeaderBody reads the subgroup header fields after the type t.
func (r *decoder) subgroupHeaderBody(d Draft, t uint64) SubgroupHeader {
	h := SubgroupHeader{Type: t}
	if d == Draft07CF {
		h.SubscribeID = r.varint("subscribe_id")
	}
	h.TrackAlias = r.varint("track_alias")
	h.Group = r.varint("group_id")
	if !typedData(d) || t&SubgroupBitExplicit != 0 {
		h.Subgroup = r.varint("subgroup_id")
	}
	if d != Draft16 || t&SubgroupBitDefaultPriority == 0 {
		h.Priority = r.byte8("publisher_priority")
	}
	return h
}

// ---------------------------------------------------------------------------
// Subgroup stream objects

// SubgroupEncoder writes the objects of one subgroup stream, keeping the
// delta-coding state. Set Draft and Header (the header written with
// AppendSubgroupHeader), then append the objects in order. Object IDs must
// rise within the stream. The objects' Group, Subgroup and Priority are not
// written (they are the header's); Extensions are allowed only with a
// draft-14 type that has the extensions bit.
type SubgroupEncoder struct {
	Draft  Draft
	Header SubgroupHeader

	started bool   // an object has been written
	prev    uint64 // ID of the last object written
}

// AppendObjectHeader appends everything of object o that comes before its
// payload (object ID or ID delta, extension block, payload length, status);
// the caller then writes payloadLen bytes of payload. A non-Normal status
// requires payloadLen 0. On error nothing is appended, nil is returned and the
// encoder's state is unchanged.
func (e *SubgroupEncoder) AppendObjectHeader(b []byte, o *Object, payloadLen int) ([]byte, error) {
	if e.Draft.vi64() {
		return e.appendObjectHeader18(b, o, payloadLen)
	}
	if payloadLen < 0 || uint64(payloadLen) > MaxVarint {
		return nil, fmt.Errorf("wire: invalid payload length %d", payloadLen)
	}
	if o.ID > MaxVarint {
		return nil, checkVarint("object ID", o.ID)
	}
	if e.started && o.ID <= e.prev {
		return nil, fmt.Errorf("wire: object ID %d does not rise above the previous object ID %d in the subgroup stream", o.ID, e.prev)
	}
	if err := checkObjectStatus(e.Draft, o.Status, payloadLen); err != nil {
		return nil, err
	}
	switch e.Draft {
	case Draft07, Draft07CF:
		if len(o.Extensions) > 0 {
			return nil, errors.New("wire: draft-07 objects carry no extension headers")
		}
		b = AppendVarint(b, o.ID)
	case Draft14, Draft16:
		t := e.Header.Type
		if !isSubgroupType(e.Draft, t) {
			return nil, fmt.Errorf("wire: 0x%x is not a draft-%v subgroup header type", t, e.Draft)
		}
		if !e.started && subgroupFromFirstObject(t) && o.ID != e.Header.Subgroup {
			return nil, fmt.Errorf("wire: subgroup header type 0x%x makes the first object ID the subgroup ID, but object %d is first in subgroup %d", t, o.ID, e.Header.Subgroup)
		}
		delta := o.ID
		if e.started {
			delta = o.ID - e.prev - 1
		}
		b = AppendVarint(b, delta)
		if t&SubgroupBitExtensions != 0 {
			var err error
			if b, err = appendExtBlock(e.Draft, b, o.Extensions); err != nil {
				return nil, err
			}
		} else if len(o.Extensions) > 0 {
			return nil, fmt.Errorf("wire: subgroup header type 0x%x has no extensions bit, but object %d has extension headers", t, o.ID)
		}
	default:
		return nil, unknownDraft(e.Draft)
	}
	b = appendLenStatus(b, payloadLen, o.Status)
	e.started = true
	e.prev = o.ID
	return b, nil
}

// AppendObject appends object o (header and payload).
func (e *SubgroupEncoder) AppendObject(b []byte, o *Object) ([]byte, error) {
	b, err := e.AppendObjectHeader(b, o, len(o.Payload))
	if err != nil {
		return nil, err
	}
	return append(b, o.Payload...), nil
}

// SubgroupDecoder parses the objects of one subgroup stream from bytes,
// keeping the delta-coding state. Set Draft, Header (from ParseSubgroupHeader)
// and optionally Limits (nil means DefaultLimits). For draft-14 types whose
// subgroup ID is the first object's ID, the decoder sets Header.Subgroup when
// it parses the first object.
type SubgroupDecoder struct {
	Draft  Draft
	Header SubgroupHeader
	Limits *Limits

	started bool   // an object has been parsed
	prev    uint64 // ID of the last object parsed
}

// ParseObject parses one whole object at the start of b into o and returns
// the number of bytes used. Group, Subgroup and Priority come from the
// header; Payload and Extensions alias b (nil when empty). ErrNeedMore if b
// does not yet hold the whole object; o and the decoder's state are then
// unchanged, so the call can be repeated with more bytes.
func (dec *SubgroupDecoder) ParseObject(b []byte, o *Object) (int, error) {
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

// parseHead parses the fields of the next object before its payload into ob
// (everything but Payload) and returns their length and the payload length.
// It does not change the decoder's state (see commit).
func (dec *SubgroupDecoder) parseHead(b []byte, ob *Object) (int, int, error) {
	if dec.Draft.vi64() {
		return dec.parseHead18(b, ob)
	}
	r := decoder{b: b, lim: dec.Limits}
	h := &dec.Header
	var id uint64
	switch dec.Draft {
	case Draft07, Draft07CF:
		id = r.varint("object_id")
		if r.err == nil && dec.started && id <= dec.prev {
			r.fail(errf(KindInvalidValue, "object_id", "object ID %d does not rise above the previous object ID %d", id, dec.prev))
		}
	case Draft14, Draft16:
		if !isSubgroupType(dec.Draft, h.Type) {
			return 0, 0, withMessage(errf(KindUnknownMessage, "type", "stream type 0x%x is not a draft-%v subgroup stream type", h.Type, dec.Draft), "subgroup object")
		}
		id = r.varint("object_id_delta")
		if r.err == nil && dec.started {
			if dec.prev >= MaxVarint || id > MaxVarint-dec.prev-1 {
				r.fail(errf(KindInvalidValue, "object_id_delta", "object ID delta %d after object %d exceeds the varint range", id, dec.prev))
			}
			id += dec.prev + 1
		}
		if h.Type&SubgroupBitExtensions != 0 {
			ob.Extensions = r.objExt(dec.Draft, true)
		}
	default:
		return 0, 0, unknownDraft(dec.Draft)
	}
	pl, st := r.objLenStatus(dec.Draft)
	if r.err != nil {
		return 0, 0, withMessage(r.err, "subgroup object")
	}
	ob.Group = h.Group
	ob.Subgroup = h.Subgroup
	if !dec.started && typedData(dec.Draft) && subgroupFromFirstObject(h.Type) {
		ob.Subgroup = id
	}
	ob.Priority = h.Priority
	ob.ID = id
	ob.Status = st
	return r.off, pl, nil
}

// commit records ob as parsed: it advances the delta-coding state and, for
// "first object ID" types, sets the header's subgroup.
func (dec *SubgroupDecoder) commit(ob *Object) {
	if !dec.started && (typedData(dec.Draft) || dec.Draft.vi64()) && subgroupFromFirstObject(dec.Header.Type) {
		dec.Header.Subgroup = ob.ID
	}
	dec.started = true
	dec.prev = ob.ID
}

// ---------------------------------------------------------------------------
// Fetch streams

// AppendFetchHeader appends a fetch stream header: 0x05 then the Subscribe ID
// (draft-07) or Request ID (draft-14). The layout is the same in every draft.
// A RequestID above MaxVarint is a programming error and is truncated.
func AppendFetchHeader(b []byte, d Draft, h FetchHeader) []byte {
	if d.vi64() {
		return AppendVarint18(AppendVarint18(b, StreamTypeFetch), h.RequestID)
	}
	b = AppendVarint(b, StreamTypeFetch)
	return AppendVarint(b, h.RequestID)
}

// ParseFetchHeader parses a fetch stream header including its type varint and
// returns it with the number of bytes used. ErrNeedMore if b is too short; a
// type other than 0x05 is a *ProtocolError of KindUnknownMessage.
func ParseFetchHeader(b []byte, d Draft) (FetchHeader, int, error) {
	if !knownDataDraft(d) && !d.vi64() {
		return FetchHeader{}, 0, unknownDraft(d)
	}
	r := decoder{b: b, v18: d.vi64()}
	t := r.varint("type")
	if r.err == nil && t != StreamTypeFetch {
		return FetchHeader{}, 0, withMessage(errf(KindUnknownMessage, "type", "stream type 0x%x is not a fetch stream", t), "FETCH_HEADER")
	}
	h := r.fetchHeaderBody(d)
	if r.err != nil {
		return FetchHeader{}, 0, withMessage(r.err, "FETCH_HEADER")
	}
	return h, r.off, nil
}

func (r *decoder) fetchHeaderBody(d Draft) FetchHeader {
	if typedData(d) || d.vi64() {
		return FetchHeader{RequestID: r.varint("request_id")}
	}
	return FetchHeader{RequestID: r.varint("subscribe_id")}
}

// AppendFetchObjectHeader appends everything of fetch-stream object o that
// comes before its payload: Group Subgroup Object Priority(8), in draft-14
// ExtLen and the extension block, then PayloadLen and (when it is 0) the
// status. The caller then writes payloadLen bytes of payload. On error
// nothing is appended and nil is returned.
func AppendFetchObjectHeader(b []byte, d Draft, o *Object, payloadLen int) ([]byte, error) {
	if payloadLen < 0 || uint64(payloadLen) > MaxVarint {
		return nil, fmt.Errorf("wire: invalid payload length %d", payloadLen)
	}
	if v := o.Group | o.Subgroup | o.ID; v > MaxVarint {
		return nil, checkVarintFields([]string{"group ID", "subgroup ID", "object ID"}, []uint64{o.Group, o.Subgroup, o.ID})
	}
	if err := checkObjectStatus(d, o.Status, payloadLen); err != nil {
		return nil, err
	}
	if d != Draft07 && d != Draft07CF && d != Draft14 {
		return nil, unknownDraft(d)
	}
	if d != Draft14 && len(o.Extensions) > 0 {
		return nil, errors.New("wire: draft-07 objects carry no extension headers")
	}
	b = AppendVarint(b, o.Group)
	b = AppendVarint(b, o.Subgroup)
	b = AppendVarint(b, o.ID)
	b = append(b, o.Priority)
	if d == Draft14 {
		var err error
		if b, err = appendExtBlock(d, b, o.Extensions); err != nil {
			return nil, err
		}
	}
	return appendLenStatus(b, payloadLen, o.Status), nil
}

// AppendFetchObject appends fetch-stream object o (header and payload).
func AppendFetchObject(b []byte, d Draft, o *Object) ([]byte, error) {
	b, err := AppendFetchObjectHeader(b, d, o, len(o.Payload))
	if err != nil {
		return nil, err
	}
	return append(b, o.Payload...), nil
}

// ParseFetchObject parses one whole fetch-stream object at the start of b into
// o and returns the number of bytes used. Payload and Extensions alias b (nil
// when empty). lim may be nil. ErrNeedMore if b does not yet hold the whole
// object; o is then unchanged.
func ParseFetchObject(b []byte, d Draft, lim *Limits, o *Object) (int, error) {
	var ob Object
	n, pl, err := parseFetchHead(b, d, lim, &ob)
	if err != nil {
		return 0, err
	}
	if len(b)-n < pl {
		return 0, ErrNeedMore
	}
	if pl > 0 {
		ob.Payload = b[n : n+pl : n+pl]
	}
	*o = ob
	return n + pl, nil
}

// parseFetchHead parses the fields of a fetch-stream object before its
// payload into ob and returns their length and the payload length.
func parseFetchHead(b []byte, d Draft, lim *Limits, ob *Object) (int, int, error) {
	if d != Draft07 && d != Draft07CF && d != Draft14 {
		return 0, 0, unknownDraft(d)
	}
	r := decoder{b: b, lim: lim}
	ob.Group = r.varint("group_id")
	ob.Subgroup = r.varint("subgroup_id")
	ob.ID = r.varint("object_id")
	ob.Priority = r.byte8("publisher_priority")
	if d == Draft14 {
		ob.Extensions = r.objExt(d, true)
	}
	pl, st := r.objLenStatus(d)
	if r.err != nil {
		return 0, 0, withMessage(r.err, "fetch object")
	}
	ob.Status = st
	return r.off, pl, nil
}
