package wire

import (
	"bytes"
	"fmt"
	"slices"
)

// Draft-20 message parameters, Setup Options and codes: the published -20
// where moqtap's vectors show it (FILL_PARAMETERS), else the editor's copy
// of 2026-08-21 (see Draft20, control20.go). The parameter block is
// draft-18's (params18.go: Type Delta, a value in each parameter's own
// encoding, a count, no skipping of unknown types); what 20 changes:
//   - LOCATION_FILTER (0x21, -19's rename of SUBSCRIPTION_FILTER) lost its
//     Filter Type: the value is zero to four vi64 fields whose number gives
//     the filter's shape (LocationFilter). It may appear in FETCH (whose
//     Start / End Locations moved into it), SUBSCRIBE, TRACK_STATUS,
//     PUBLISH, REQUEST_UPDATE and PUBLISH_STATE_NOTIFY.
//   - Range Filters (-19): SUBGROUP_FILTER 0x25, OBJECTID_FILTER 0x26,
//     PRIORITY_FILTER 0x27, OBJECT_PROPERTY_FILTER 0x28,
//     TRACK_PROPERTY_FILTER 0x29, length-prefixed and repeatable. A bad
//     value is answered with REQUEST_ERROR INVALID_FILTER, not a session
//     error, so the codec keeps them as bytes and leaves their checks to
//     ParseRangeFilter20 / CheckRangeFilters20.
//   - INCLUDE_PROPERTIES (0x35), a uint8 0 or 1.
//   - FILL_PARAMETERS (0x23, published -20), in SUBSCRIBE and
//     REQUEST_UPDATE: a nested parameter block asking for a fill fetch
//     stream (FillParameters); FILL_TIMEOUT may appear in it as well as
//     in FETCH.
//   - Scopes (paramScope20): PUBLISH_OK (a REQUEST_OK answering PUBLISH)
//     lost FORWARD, SUBSCRIBER_PRIORITY, the filter, GROUP_ORDER,
//     NEW_GROUP_REQUEST and the delivery timeouts; PUBLISH gained them
//     (the publisher's initial subscription settings).

// Draft-20 message parameter types (the others keep their draft-18 codes,
// Param18*).
const (
	Param20LocationFilter       uint64 = 0x21
	Param20FillParameters       uint64 = 0x23
	Param20SubgroupFilter       uint64 = 0x25
	Param20ObjectIDFilter       uint64 = 0x26
	Param20PriorityFilter       uint64 = 0x27
	Param20ObjectPropertyFilter uint64 = 0x28
	Param20TrackPropertyFilter  uint64 = 0x29
	Param20IncludeProperties    uint64 = 0x35
)

// Draft-20 Setup Options new since 18 (-19).
const (
	// SetupOption20MaxFilterRanges limits the Ranges the peer may send in
	// all Range Filters of one subscription or fetch (default 0: none).
	SetupOption20MaxFilterRanges uint64 = 0x06
	// SetupOption20MaxRequestUpdates limits the unanswered REQUEST_UPDATEs
	// per request stream (default 0: no limit).
	SetupOption20MaxRequestUpdates uint64 = 0x08
)

// Draft-20 error codes new since 18 (-19). DUPLICATE_SUBSCRIPTION (0x19)
// is gone.
const (
	// ErrorTooManyRequestUpdates20 is a session close code.
	ErrorTooManyRequestUpdates20 uint64 = 0x1B
	// ErrorConflictingFilters20 and ErrorInvalidFilter20 are REQUEST_ERROR
	// codes.
	ErrorConflictingFilters20 uint64 = 0x35
	ErrorInvalidFilter20      uint64 = 0x36
)

func isRangeFilter20(key uint64) bool {
	return key >= Param20SubgroupFilter && key <= Param20TrackPropertyFilter
}

// param20FormOf is the value encoding of the parameters 20 adds.
func param20FormOf(key uint64) param18Form {
	switch {
	case key == Param20IncludeProperties:
		return p18Uint8
	case isRangeFilter20(key), key == Param20FillParameters:
		return p18Bytes
	}
	return p18Unknown
}

// checkParam20Value checks what 20 makes a session error whatever the
// message: INCLUDE_PROPERTIES 0/1, a well-formed LOCATION_FILTER and
// FILL_PARAMETERS.
func checkParam20Value(p Param) error {
	switch p.Key {
	case Param20FillParameters:
		_, err := ParseFillParameters(p.Bytes)
		return err
	case Param20IncludeProperties:
		if p.Int > 1 {
			return errf(KindInvalidValue, "include_properties", "include_properties %d is not 0 or 1", p.Int)
		}
	case Param20LocationFilter:
		_, err := ParseLocationFilter(p.Bytes)
		return err
	}
	return nil
}

// The SUBSCRIBE and SUBSCRIBE_TRACKS scopes (package variables: a scope
// check allocates nothing).
var (
	subscribeScope20 = []uint64{Param18ObjectDeliveryTimeout, Param18AuthorizationToken, Param18RendezvousTimeout,
		Param18SubgroupDeliveryTimeout, Param18Forward, Param18SubscriberPriority, Param20LocationFilter,
		Param18GroupOrder, Param20FillParameters, Param20SubgroupFilter, Param20ObjectIDFilter, Param20PriorityFilter,
		Param20ObjectPropertyFilter, Param18NewGroupRequest, Param20IncludeProperties}
	subscribeTracksScope20 = []uint64{Param18ObjectDeliveryTimeout, Param18AuthorizationToken, Param18RendezvousTimeout,
		Param18SubgroupDeliveryTimeout, Param18Forward, Param18SubscriberPriority, Param20LocationFilter,
		Param18GroupOrder, Param20SubgroupFilter, Param20ObjectIDFilter, Param20PriorityFilter,
		Param20ObjectPropertyFilter, Param20TrackPropertyFilter, Param18NewGroupRequest, Param20IncludeProperties}
)

// paramScope20 returns the parameter types each parameter's definition in
// the editor's copy lets m carry, plus FILL_PARAMETERS in SUBSCRIBE and
// REQUEST_UPDATE (published -20; not SUBSCRIBE_TRACKS, not FETCH).
// SUBSCRIBE_TRACKS takes every other subscription parameter ("Parameters
// on SUBSCRIBE_TRACKS") and TRACK_PROPERTY_FILTER; TRACK_STATUS,
// "identical to SUBSCRIBE" without the delivery parameters, takes
// AUTHORIZATION_TOKEN, INCLUDE_PROPERTIES and (as in the 18 codec) the
// Location filter. A REQUEST_OK may answer any request: EXPIRES and
// LARGEST_OBJECT. The codec cannot tell a REQUEST_UPDATE of a
// subscription (which alone may carry FILL_PARAMETERS) from one of
// another request: that is the engine's to check.
func paramScope20(m Message) []uint64 {
	switch m.(type) {
	case *Subscribe:
		return subscribeScope20
	case *SubscribeTracks:
		return subscribeTracksScope20
	case *SubscribeOK, *RequestOK:
		return []uint64{Param18Expires, Param18LargestObject}
	case *SubscribeUpdate:
		return []uint64{Param18ObjectDeliveryTimeout, Param18AuthorizationToken, Param18SubgroupDeliveryTimeout,
			Param18Forward, Param18SubscriberPriority, Param20LocationFilter, Param20SubgroupFilter,
			Param20ObjectIDFilter, Param20PriorityFilter, Param20ObjectPropertyFilter, Param20TrackPropertyFilter,
			Param18NewGroupRequest, Param18TrackNamespacePrefix, Param20FillParameters}
	case *Publish:
		return []uint64{Param18ObjectDeliveryTimeout, Param18AuthorizationToken, Param18SubgroupDeliveryTimeout,
			Param18Expires, Param18LargestObject, Param18Forward, Param18SubscriberPriority, Param20LocationFilter,
			Param18GroupOrder}
	case *PublishStateNotify:
		return []uint64{Param18LargestObject, Param18Forward, Param20LocationFilter}
	case *Fetch:
		return []uint64{Param18AuthorizationToken, Param18FillTimeout, Param18SubscriberPriority, Param20LocationFilter,
			Param18GroupOrder, Param20SubgroupFilter, Param20ObjectIDFilter, Param20PriorityFilter,
			Param20ObjectPropertyFilter, Param20IncludeProperties}
	case *TrackStatusRequest:
		return []uint64{Param18AuthorizationToken, Param20LocationFilter, Param20IncludeProperties}
	case *PublishNamespace, *SubscribeNamespace:
		return []uint64{Param18AuthorizationToken}
	}
	return nil
}

// ---- LOCATION_FILTER ----

// LocationFilter is a draft-20 LOCATION_FILTER value: Fields (0 to 4) vi64
// values, their number giving the shape ("Location Filters"):
//
//	0  no filter (in REQUEST_UPDATE: remove the filter)
//	1  StartGroup only: relative, the start is {Largest.Group + 1 -
//	   StartGroup, 0} (0: the Next Group)
//	2  StartGroup, StartObject: an absolute start, open-ended; both 0 is
//	   the Next Object, {Largest.Group, Largest.Object + 1}
//	3  + EndGroupDelta: ends after all of group EndGroup
//	4  + EndObject: ends at {EndGroup, EndObject}, inclusive
//
// EndGroup is absolute (StartGroup + EndGroupDelta on the wire). In a
// FETCH an open end is the Largest Object. The count comes from decoding
// values until the parameter's Length is used up (a vi64 need not be
// minimal, so Length alone cannot give it).
type LocationFilter struct {
	Fields      uint8
	StartGroup  uint64
	StartObject uint64
	EndGroup    uint64
	EndObject   uint64
}

// Relative reports whether f is the one-field relative form.
func (f LocationFilter) Relative() bool { return f.Fields == 1 }

// NextObject reports whether f is the two-field {0, 0} form (start at the
// Next Object).
func (f LocationFilter) NextObject() bool {
	return f.Fields == 2 && f.StartGroup == 0 && f.StartObject == 0
}

// ParseLocationFilter decodes a LOCATION_FILTER value. More than four
// fields, a field running past the value, or StartGroup + EndGroupDelta
// past 2^64-1 (which the text makes a PROTOCOL_VIOLATION) is a
// *ProtocolError.
func ParseLocationFilter(b []byte) (LocationFilter, error) {
	d := decoder{b: b, framed: true, v18: true}
	var v [4]uint64
	var n uint8
	for d.off < len(b) {
		if n == 4 {
			return LocationFilter{}, errf(KindInvalidValue, "location_filter", "LOCATION_FILTER holds more than four fields")
		}
		v[n] = d.varint("location_filter")
		if d.err != nil {
			return LocationFilter{}, errf(KindLengthMismatch, "location_filter", "LOCATION_FILTER field %d runs past the parameter's %d bytes", n+1, len(b))
		}
		n++
	}
	f := LocationFilter{Fields: n, StartGroup: v[0], StartObject: v[1], EndObject: v[3]}
	if n >= 3 {
		if v[0]+v[2] < v[0] {
			return LocationFilter{}, errf(KindInvalidValue, "end_group_delta", "start group %d plus end group delta %d passes 2^64-1", v[0], v[2])
		}
		f.EndGroup = v[0] + v[2]
	}
	return f, nil
}

// AppendLocationFilter appends f's value (without the parameter's type and
// length).
func AppendLocationFilter(b []byte, f LocationFilter) ([]byte, error) {
	if f.Fields > 4 {
		return nil, fmt.Errorf("wire: a LOCATION_FILTER has at most four fields, not %d", f.Fields)
	}
	v := [4]uint64{f.StartGroup, f.StartObject, 0, f.EndObject}
	if f.Fields >= 3 {
		if f.EndGroup < f.StartGroup {
			return nil, fmt.Errorf("wire: LOCATION_FILTER end group %d is below start group %d", f.EndGroup, f.StartGroup)
		}
		v[2] = f.EndGroup - f.StartGroup
	}
	for i := uint8(0); i < f.Fields; i++ {
		b = AppendVarint18(b, v[i])
	}
	return b, nil
}

// bindLocation20: LOCATION_FILTER (0x21) as a typed LocationFilter. The
// draft-18 typed filter fields (FilterType) must be zero: 20 has no filter
// types, and a filter set there would otherwise be dropped in silence.
func bindLocation20[M any](f func(*M) (*LocationFilter, *FilterType)) pbind {
	return pbind{key: Param20LocationFilter,
		set: func(m Message, p *Param) error {
			lf, _ := f(any(m).(*M))
			if p == nil {
				*lf = LocationFilter{}
				return nil
			}
			v, err := ParseLocationFilter(p.Bytes)
			*lf = v
			return err
		},
		get: func(m Message) (Param, emit, error) {
			lf, ft := f(any(m).(*M))
			if ft != nil && *ft != 0 {
				return Param{}, emitNever, fmt.Errorf("wire: draft-20 has no filter types (FilterType %d); set Location", uint64(*ft))
			}
			b, err := AppendLocationFilter(nil, *lf)
			p := keepOwn(m, BytesParam(Param20LocationFilter, b), func(v []byte) bool {
				own, err := ParseLocationFilter(v)
				return err == nil && own == *lf
			})
			// Fields 0 is written only where Params hold an empty one
			// (a decoded message) or, in REQUEST_UPDATE, when UpdateFilter
			// is set (bindMask).
			return p, pick(lf.Fields == 0, emitDefault, emitAlways), err
		}}
}

// keepOwn returns m's own parameter of p's type when its value is
// equivalent to p's (same reports it), else p: re-encoding a decoded
// message then keeps a non-canonical (longer) varint as it came.
func keepOwn(m Message, p Param, same func([]byte) bool) Param {
	if pp := paramsOf(m); pp != nil {
		if i := pp.index(p.Key); i >= 0 && !(*pp)[i].IsInt && same((*pp)[i].Bytes) {
			return (*pp)[i]
		}
	}
	return p
}

// ---- Range Filters ----

// RangeFilter is a draft-20 Range Filter parameter value: SetID, the
// Property Type (OBJECT_ / TRACK_PROPERTY_FILTER only) and the inclusive
// ranges, decoded from their delta coding. An open last range has OpenEnd.
type RangeFilter struct {
	Key          uint64
	SetID        uint8
	PropertyType uint64
	Ranges       []Range
	OpenEnd      bool
}

// Range is one inclusive range of a RangeFilter (End unused when it is the
// open last one).
type Range struct{ Start, End uint64 }

// ParseRangeFilter20 decodes the value of Range Filter parameter key. The
// errors it returns are those the text answers with REQUEST_ERROR
// INVALID_FILTER (ErrorInvalidFilter20): a value that does not parse, a
// delta past 2^64-1, an odd Property Type, a priority above 255. A
// zero-length value (REQUEST_UPDATE: remove the filter) is a RangeFilter
// without ranges.
func ParseRangeFilter20(key uint64, b []byte) (RangeFilter, error) {
	rf := RangeFilter{Key: key}
	if !isRangeFilter20(key) {
		return rf, fmt.Errorf("wire: 0x%x is not a Range Filter parameter", key)
	}
	if len(b) == 0 {
		return rf, nil
	}
	rf.SetID = b[0]
	d := decoder{b: b[1:], framed: true, v18: true}
	if key == Param20ObjectPropertyFilter || key == Param20TrackPropertyFilter {
		rf.PropertyType = d.varint("property_type")
		if d.err == nil && rf.PropertyType%2 != 0 {
			return rf, fmt.Errorf("wire: range filter property type 0x%x is odd (not an integer property)", rf.PropertyType)
		}
	}
	var prev uint64
	for d.err == nil && d.off < len(d.b) {
		ds := d.varint("start")
		if d.err == nil && prev+ds < prev {
			return rf, fmt.Errorf("wire: range start delta %d after %d passes 2^64-1", ds, prev)
		}
		r := Range{Start: prev + ds}
		if d.err == nil && d.off == len(d.b) {
			rf.Ranges, rf.OpenEnd = append(rf.Ranges, r), true
			break
		}
		de := d.varint("end")
		if d.err == nil && r.Start+de < r.Start {
			return rf, fmt.Errorf("wire: range end delta %d after %d passes 2^64-1", de, r.Start)
		}
		r.End, prev = r.Start+de, r.Start+de
		rf.Ranges = append(rf.Ranges, r)
	}
	if d.err != nil {
		return rf, fmt.Errorf("wire: range filter 0x%x: %w", key, d.err)
	}
	if key == Param20PriorityFilter {
		if n := len(rf.Ranges); rf.OpenEnd && rf.Ranges[n-1].Start > 255 || !rf.OpenEnd && n > 0 && rf.Ranges[n-1].End > 255 {
			return rf, fmt.Errorf("wire: priority filter value above 255")
		}
	}
	return rf, nil
}

// AppendRangeFilter20 appends rf's value (without type and length).
func AppendRangeFilter20(b []byte, rf RangeFilter) ([]byte, error) {
	if !isRangeFilter20(rf.Key) {
		return nil, fmt.Errorf("wire: 0x%x is not a Range Filter parameter", rf.Key)
	}
	b = append(b, rf.SetID)
	if rf.Key == Param20ObjectPropertyFilter || rf.Key == Param20TrackPropertyFilter {
		b = AppendVarint18(b, rf.PropertyType)
	}
	var prev uint64
	for i, r := range rf.Ranges {
		if r.Start < prev {
			return nil, fmt.Errorf("wire: range %d starts at %d, not after %d", i, r.Start, prev)
		}
		b = AppendVarint18(b, r.Start-prev)
		if rf.OpenEnd && i == len(rf.Ranges)-1 {
			break
		}
		if r.End < r.Start {
			return nil, fmt.Errorf("wire: range %d ends at %d, before its start %d", i, r.End, r.Start)
		}
		b = AppendVarint18(b, r.End-r.Start)
		prev = r.End
	}
	return b, nil
}

// CheckRangeFilters20 checks the Range Filters of one message together:
// each parses, no (type, SetID, Property Type) repeats, and their ranges
// number at most maxRanges (the peer's MAX_FILTER_RANGES). An error is
// answered with REQUEST_ERROR INVALID_FILTER.
func CheckRangeFilters20(ps Params, maxRanges uint64) error {
	type id struct {
		key, prop uint64
		set       uint8
	}
	seen := map[id]bool{}
	var n uint64
	for _, p := range ps {
		if !isRangeFilter20(p.Key) {
			continue
		}
		rf, err := ParseRangeFilter20(p.Key, p.Bytes)
		if err != nil {
			return err
		}
		k := id{p.Key, rf.PropertyType, rf.SetID}
		if seen[k] {
			return fmt.Errorf("wire: range filter 0x%x with set %d and property type 0x%x repeated", p.Key, rf.SetID, rf.PropertyType)
		}
		seen[k] = true
		n += uint64(len(rf.Ranges))
	}
	if n > maxRanges {
		return fmt.Errorf("wire: %d filter ranges, MAX_FILTER_RANGES is %d", n, maxRanges)
	}
	return nil
}

// ---- FILL_PARAMETERS ----

// fillScope20 is what a FILL_PARAMETERS value may hold (the published
// -20's Table 6, as moqtap's vectors and codec give it: eight types;
// TRACK_PROPERTY_FILTER, AUTHORIZATION_TOKEN, INCLUDE_PROPERTIES and
// FILL_PARAMETERS itself are not among them).
var fillScope20 = []uint64{Param18FillTimeout, Param18SubscriberPriority, Param20LocationFilter, Param18GroupOrder,
	Param20SubgroupFilter, Param20ObjectIDFilter, Param20PriorityFilter, Param20ObjectPropertyFilter}

// FillParameters is a draft-20 FILL_PARAMETERS (0x23) value, carried by a
// SUBSCRIBE or by a REQUEST_UPDATE of a subscription: its presence asks the
// publisher for a fill fetch stream, Objects of the subscription's track on
// a fetch stream keyed by that message's Request ID (what a joining fetch
// did before -20). It holds only the fill's settings that differ from the
// subscription's, its LOCATION_FILTER evaluated with fetch rules. It
// applies to the message carrying it only (not sticky).
//
// On the wire the value is a whole parameter block, Number of Parameters
// first (an empty one is the single byte 0x00), its Type Delta chain
// starting again from 0 (the enclosing message's chain goes on from
// 0x23). Only FILL_TIMEOUT, SUBSCRIBER_PRIORITY, LOCATION_FILTER,
// GROUP_ORDER and the SUBGROUP / OBJECTID / PRIORITY / OBJECT_PROPERTY
// Range Filters may appear in it; anything else, or bytes left after the
// block, is a protocol violation.
type FillParameters struct {
	// Location is the fill's LOCATION_FILTER (Fields 0: none, the fetch
	// default of {0,0} through the Largest Object).
	Location LocationFilter
	// Params are the nested parameters in wire order (LOCATION_FILTER
	// among them when decoded); absent ones are inherited from the
	// subscription. Encoding merges Location in, as for a message.
	Params Params
}

// ParseFillParameters decodes a FILL_PARAMETERS value. A malformed one is a
// *ProtocolError.
func ParseFillParameters(b []byte) (FillParameters, error) {
	p := ctlDecoder{decoder: decoder{b: b, framed: true, v18: true}, d: Draft20}
	ps := p.readParams18(fillScope20)
	if p.err == nil && p.off != len(b) {
		p.fail(errf(KindLengthMismatch, "fill_parameters", "%d bytes left after the FILL_PARAMETERS block", len(b)-p.off))
	}
	if p.err != nil {
		return FillParameters{}, p.err
	}
	f := FillParameters{Params: ps}
	if i := ps.index(Param20LocationFilter); i >= 0 {
		lf, err := ParseLocationFilter(ps[i].Bytes)
		if err != nil {
			return FillParameters{}, err
		}
		f.Location = lf
	}
	return f, nil
}

// AppendFillParameters appends f's value (without the parameter's type and
// length): its Params with Location merged in, sorted by type.
func AppendFillParameters(b []byte, f FillParameters) ([]byte, error) {
	list := slices.Clone(f.Params)
	if i := list.index(Param20LocationFilter); i >= 0 || f.Location.Fields != 0 {
		v, err := AppendLocationFilter(nil, f.Location)
		if err != nil {
			return nil, err
		}
		switch {
		case i < 0:
			list = append(list, BytesParam(Param20LocationFilter, v))
		case !locationHolds(list[i], f.Location): // else keep its own (possibly non-canonical) bytes
			list[i] = BytesParam(Param20LocationFilter, v)
		}
	}
	slices.SortStableFunc(list, cmpKey)
	if err := checkKeys(fillScope20, list, "FILL_PARAMETERS"); err != nil {
		return nil, err
	}
	return appendParams18(b, Draft20, list)
}

// locationHolds reports whether p is a LOCATION_FILTER holding lf.
func locationHolds(p Param, lf LocationFilter) bool {
	own, err := ParseLocationFilter(p.Bytes)
	return !p.IsInt && err == nil && own == lf
}

// bindFill20: FILL_PARAMETERS (0x23) as a typed *FillParameters (nil:
// absent, no fill). Written whenever set, REQUEST_UPDATE included (it is
// not one of the sticky settings Changed tracks).
func bindFill20[M any](f func(*M) **FillParameters) pbind {
	return pbind{key: Param20FillParameters,
		set: func(m Message, p *Param) error {
			fp := f(any(m).(*M))
			*fp = nil
			if p == nil {
				return nil
			}
			v, err := ParseFillParameters(p.Bytes)
			if err != nil {
				return err
			}
			*fp = &v
			return nil
		},
		get: func(m Message) (Param, emit, error) {
			fp := *f(any(m).(*M))
			if fp == nil {
				return Param{}, emitNever, nil
			}
			b, err := AppendFillParameters(nil, *fp)
			if err != nil {
				return Param{}, emitNever, fmt.Errorf("wire: FILL_PARAMETERS: %w", err)
			}
			p := keepOwn(m, BytesParam(Param20FillParameters, b), func(v []byte) bool {
				own, err := ParseFillParameters(v)
				if err != nil {
					return false
				}
				ob, err := AppendFillParameters(nil, own)
				return err == nil && bytes.Equal(ob, b)
			})
			return p, emitAlways, nil
		}}
}
