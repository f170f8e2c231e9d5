package wire

import "fmt"

// Draft-18 message parameters (draft-ietf-moq-transport-18, "Message
// Parameters").
//
// A parameter is Type Delta (vi64) then a Value whose encoding each
// parameter's definition gives: uint8 (one byte), varint, Location (two
// varints) or length-prefixed bytes; TRACK_NAMESPACE_PREFIX is a Track
// Namespace structure. There is no length for an unknown type to be skipped
// by (the list is bounded by a count), so an unknown parameter is always a
// protocol violation, Limits.AllowUnknownParams or not. Types are ascending
// (the delta is unsigned); a repeated type (delta 0) is refused except for
// AUTHORIZATION_TOKEN (the text's table of repeatable parameters is left to
// do; 14 and 16 allowed several tokens). A parameter in a message its
// definition does not list is refused (paramScope18) unless
// Limits.AllowUnknownParams is set.
//
// In Params, uint8 and varint parameters are IsInt; LARGEST_OBJECT holds the
// Location's two varints as on the wire, TRACK_NAMESPACE_PREFIX the encoded
// Track Namespace, the length-prefixed ones their value bytes.
//
// Setup Options (SETUP) and Track / Object Properties are Key-Value-Pairs
// as in 16 (odd types carry a length), in the draft-18 varint.

// Draft-18 message parameter types.
const (
	Param18ObjectDeliveryTimeout   uint64 = 0x02
	Param18AuthorizationToken      uint64 = 0x03
	Param18RendezvousTimeout       uint64 = 0x04
	Param18SubgroupDeliveryTimeout uint64 = 0x06
	Param18Expires                 uint64 = 0x08
	Param18LargestObject           uint64 = 0x09
	Param18FillTimeout             uint64 = 0x0A
	Param18Forward                 uint64 = 0x10
	Param18SubscriberPriority      uint64 = 0x20
	Param18SubscriptionFilter      uint64 = 0x21
	Param18GroupOrder              uint64 = 0x22
	Param18NewGroupRequest         uint64 = 0x32
	Param18TrackNamespacePrefix    uint64 = 0x34
)

// Draft-18 property types (track and object properties).
const (
	Prop18ObjectDeliveryTimeout      uint64 = 0x02
	Prop18MaxCacheDuration           uint64 = 0x04
	Prop18SubgroupDeliveryTimeout    uint64 = 0x06
	Prop18ImmutableProperties        uint64 = 0x0B
	Prop18DefaultPublisherPriority   uint64 = 0x0E
	Prop18DefaultPublisherGroupOrder uint64 = 0x22
	Prop18DynamicGroups              uint64 = 0x30
	Prop18PriorGroupIDGap            uint64 = 0x3C
	Prop18PriorObjectIDGap           uint64 = 0x3E
)

// IsMandatoryTrackProperty18 reports whether property type key is in the
// draft-18 Mandatory Track Property range 0x4000-0x7FFF: a receiver that
// does not understand one must not process or forward the track, and one
// carried as an Object Property makes the track malformed.
func IsMandatoryTrackProperty18(key uint64) bool { return key >= 0x4000 && key <= 0x7FFF }

// StreamTypeSetup18 is the draft-18 control stream type, which is also the
// SETUP message type: a control stream begins with SETUP.
const StreamTypeSetup18 uint64 = 0x2F00

// Padding stream and datagram types (draft-18 "Padding").
const (
	StreamTypePadding18   uint64 = 0x132B3E28
	DatagramTypePadding18 uint64 = 0x132B3E29
)

// paramScope18 returns the parameter types the text allows in m (each
// parameter's definition lists the messages it "MAY appear in"; any other
// message is a PROTOCOL_VIOLATION). A REQUEST_OK may answer any request, so
// it allows the union of PUBLISH_OK, REQUEST_UPDATE_OK and TRACK_STATUS_OK.
// TRACK_STATUS is "identical to SUBSCRIBE" without the delivery parameters;
// the codec allows AUTHORIZATION_TOKEN (listed) and SUBSCRIPTION_FILTER (not
// listed, but a TRACK_STATUS is treated as a SUBSCRIBE). FETCH_OK is listed
// by no parameter.
func paramScope18(m Message) []uint64 {
	switch m.(type) {
	case *Subscribe:
		return []uint64{Param18ObjectDeliveryTimeout, Param18AuthorizationToken, Param18RendezvousTimeout,
			Param18SubgroupDeliveryTimeout, Param18Forward, Param18SubscriberPriority, Param18SubscriptionFilter,
			Param18GroupOrder, Param18NewGroupRequest}
	case *SubscribeOK:
		return []uint64{Param18Expires, Param18LargestObject}
	case *SubscribeUpdate:
		return []uint64{Param18ObjectDeliveryTimeout, Param18AuthorizationToken, Param18SubgroupDeliveryTimeout,
			Param18Forward, Param18SubscriberPriority, Param18SubscriptionFilter, Param18NewGroupRequest,
			Param18TrackNamespacePrefix}
	case *Publish:
		return []uint64{Param18AuthorizationToken, Param18Expires, Param18LargestObject, Param18Forward}
	case *RequestOK:
		return []uint64{Param18ObjectDeliveryTimeout, Param18SubgroupDeliveryTimeout, Param18Expires,
			Param18LargestObject, Param18Forward, Param18SubscriberPriority, Param18SubscriptionFilter,
			Param18GroupOrder, Param18NewGroupRequest}
	case *Fetch:
		return []uint64{Param18AuthorizationToken, Param18FillTimeout, Param18SubscriberPriority, Param18GroupOrder}
	case *TrackStatusRequest:
		return []uint64{Param18AuthorizationToken, Param18SubscriptionFilter}
	case *PublishNamespace, *SubscribeNamespace:
		return []uint64{Param18AuthorizationToken}
	case *SubscribeTracks:
		return []uint64{Param18AuthorizationToken, Param18Forward}
	}
	return nil
}

// checkScope reports the first parameter of ps that m may not carry in d
// (18 or 20).
func checkScope(d Draft, m Message, ps Params) error {
	scope := paramScope18(m)
	if d == Draft20 {
		scope = paramScope20(m)
	}
	return checkKeys(scope, ps, "this message")
}

// checkKeys reports the first parameter of ps whose type scope does not
// hold (where names the block in the error).
func checkKeys(scope []uint64, ps Params, where string) error {
next:
	for _, p := range ps {
		for _, k := range scope {
			if p.Key == k {
				continue next
			}
		}
		return errf(KindInvalidValue, "parameters", "parameter 0x%x may not appear in %s", p.Key, where)
	}
	return nil
}

// param18Form is how a draft-18 parameter's value is encoded.
type param18Form uint8

const (
	p18Unknown param18Form = iota
	p18Uint8
	p18Varint
	p18Location
	p18Bytes
	p18Namespace
)

// paramFormOf returns the value encoding of parameter key in d (18 or
// 20).
func paramFormOf(d Draft, key uint64) param18Form {
	if d == Draft20 {
		if f := param20FormOf(key); f != p18Unknown {
			return f
		}
	}
	switch key {
	case Param18Forward, Param18SubscriberPriority, Param18GroupOrder:
		return p18Uint8
	case Param18ObjectDeliveryTimeout, Param18RendezvousTimeout, Param18SubgroupDeliveryTimeout,
		Param18Expires, Param18FillTimeout, Param18NewGroupRequest:
		return p18Varint
	case Param18LargestObject:
		return p18Location
	case Param18AuthorizationToken, Param18SubscriptionFilter:
		return p18Bytes
	case Param18TrackNamespacePrefix:
		return p18Namespace
	}
	return p18Unknown
}

// checkParamValue checks the values the text of d (18 or 20) restricts
// whatever the message (FORWARD 0/1, GROUP_ORDER 1/2; 20: params20.go).
func checkParamValue(d Draft, p Param) error {
	if d == Draft20 {
		if err := checkParam20Value(p); err != nil {
			return err
		}
	}
	switch p.Key {
	case Param18Forward:
		if p.Int > 1 {
			return errf(KindInvalidValue, "forward", "forward %d is not 0 or 1", p.Int)
		}
	case Param18GroupOrder:
		if p.Int != uint64(GroupOrderAscending) && p.Int != uint64(GroupOrderDescending) {
			return errf(KindInvalidValue, "group_order", "group order %d is not 1 or 2", p.Int)
		}
	}
	return nil
}

// params18 reads a draft-18 parameter list and sets m's typed fields from
// it (binds).
func (p *ctlDecoder) params18(v *Params, m Message, binds []pbind) {
	ps := p.readParams18(nil)
	if p.err != nil {
		return
	}
	*v = ps
	if !p.lim.allowUnknownParams() {
		if err := checkScope(p.d, m, ps); err != nil {
			p.fail(err)
			return
		}
	}
	p.fail(applyBinds(ps, m, binds))
}

// readParams18 reads a draft-18 (or 20) parameter list: its count, then
// each parameter's Type Delta and value, checking the values. Which
// message may carry them is the caller's to check, except that with a
// non-nil only every type must be in it (checked before its value is
// read: a nested block, FILL_PARAMETERS).
func (p *ctlDecoder) readParams18(only []uint64) Params {
	n := p.varint("parameters")
	if p.err != nil {
		return nil
	}
	if n > uint64(p.lim.params()) {
		p.fail(errf(KindLimit, "parameters", "%d parameters, limit %d", n, p.lim.params()))
		return nil
	}
	var ps Params
	var key uint64
	for i := uint64(0); i < n; i++ {
		delta := p.varint2("parameter", " type")
		if p.err != nil {
			return nil
		}
		if key+delta < key {
			p.fail(errf(KindInvalidValue, "parameter", "type delta %d after type 0x%x passes 2^64-1", delta, key))
			return nil
		}
		key += delta
		if i > 0 && delta == 0 && !repeatable(p.d, key) {
			p.fail(errf(KindInvalidValue, "parameter", "parameter 0x%x repeated", key))
			return nil
		}
		if only != nil {
			if err := checkKeys(only, Params{{Key: key}}, "FILL_PARAMETERS"); err != nil {
				p.fail(err)
				return nil
			}
		}
		q := Param{Key: key}
		switch paramFormOf(p.d, key) {
		case p18Uint8:
			q.IsInt, q.Int = true, uint64(p.byte8("parameter value"))
		case p18Varint:
			q.IsInt, q.Int = true, p.varint("parameter value")
		case p18Location:
			at := p.off
			p.location("largest_object")
			q.Bytes = p.b[at:p.off:p.off]
		case p18Bytes:
			q.Bytes = p.lenBytes("parameter value", p.lim.paramBytes())
		case p18Namespace:
			at := p.off
			p.tuple("track_namespace_prefix", true)
			q.Bytes = p.b[at:p.off:p.off]
		default:
			p.fail(errf(KindInvalidValue, "parameter", "unknown message parameter 0x%x (draft-%s parameters cannot be skipped)", key, p.d))
			return nil
		}
		if p.err != nil {
			return nil
		}
		if err := checkParamValue(p.d, q); err != nil {
			p.fail(err)
			return nil
		}
		if ps == nil {
			ps = make(Params, 0, 4)
		}
		ps = append(ps, q)
	}
	return ps
}

// params18 writes a draft-18 parameter list, merging m's typed fields
// (binds) into ps.
func (e *ctlEncoder) params18(ps Params, m Message, binds []pbind) {
	if e.err != nil {
		return
	}
	list, err := mergeBinds(ps, m, binds)
	if err != nil {
		e.err = err
		return
	}
	if err := checkScope(e.d, m, list); err != nil {
		e.err = err
		return
	}
	b, err := appendParams18(e.b, e.d, list)
	if err != nil {
		e.err = fmt.Errorf("parameters: %w", err)
		return
	}
	e.b = b
}

// appendParams18 appends a sorted parameter list of d (18 or 20) with its
// count.
func appendParams18(b []byte, d Draft, ps Params) ([]byte, error) {
	b = AppendVarint18(b, uint64(len(ps)))
	var prev uint64
	for i, p := range ps {
		if i > 0 && p.Key == prev && !repeatable(d, p.Key) {
			return nil, fmt.Errorf("parameter 0x%x repeated", p.Key)
		}
		form := paramFormOf(d, p.Key)
		if form == p18Unknown {
			return nil, fmt.Errorf("parameter 0x%x is not a draft-%s message parameter", p.Key, d)
		}
		if p.IsInt != (form == p18Uint8 || form == p18Varint) {
			return nil, fmt.Errorf("parameter 0x%x has the wrong form (integer %v)", p.Key, p.IsInt)
		}
		if err := checkParamValue(d, p); err != nil {
			return nil, err
		}
		b = AppendVarint18(b, p.Key-prev)
		prev = p.Key
		switch form {
		case p18Uint8:
			if p.Int > 255 {
				return nil, fmt.Errorf("parameter 0x%x value %d does not fit a uint8", p.Key, p.Int)
			}
			b = append(b, byte(p.Int))
		case p18Varint:
			b = AppendVarint18(b, p.Int)
		case p18Location:
			d := decoder{b: p.Bytes, framed: true, v18: true}
			d.location("largest_object")
			if d.end("") != nil {
				return nil, fmt.Errorf("parameter 0x%x is not one Location", p.Key)
			}
			b = append(b, p.Bytes...)
		case p18Namespace:
			d := decoder{b: p.Bytes, framed: true, v18: true}
			d.tuple("track_namespace_prefix", true)
			if d.end("") != nil {
				return nil, fmt.Errorf("parameter 0x%x is not one Track Namespace", p.Key)
			}
			b = append(b, p.Bytes...)
		case p18Bytes:
			if len(p.Bytes) > MaxControlMessage14 {
				return nil, fmt.Errorf("parameter 0x%x value is %d bytes, limit %d", p.Key, len(p.Bytes), MaxControlMessage14)
			}
			b = AppendVarint18(b, uint64(len(p.Bytes)))
			b = append(b, p.Bytes...)
		}
	}
	return b, nil
}

// repeatable reports whether parameter key may appear more than once in a
// message of d: AUTHORIZATION_TOKEN (as in 14 and 16), and in 20 the Range
// Filters.
func repeatable(d Draft, key uint64) bool {
	return key == Param18AuthorizationToken || (d == Draft20 && isRangeFilter20(key))
}

// Location18 encodes l as a draft-18 LARGEST_OBJECT parameter value.
func Location18(l Location) []byte { return AppendVarint18(AppendVarint18(nil, l.Group), l.Object) }

// Namespace18 encodes t as a draft-18 Track Namespace (the
// TRACK_NAMESPACE_PREFIX parameter value). It does not check t's limits;
// encoding the message does.
func Namespace18(t Tuple) []byte {
	b := AppendVarint18(nil, uint64(len(t)))
	for _, f := range t {
		b = AppendVarint18(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// ParseNamespace18 decodes a TRACK_NAMESPACE_PREFIX parameter value.
func ParseNamespace18(b []byte) (Tuple, error) {
	d := decoder{b: b, framed: true, v18: true}
	t := d.tuple("track_namespace_prefix", true)
	if err := d.end(""); err != nil {
		return nil, err
	}
	return t, nil
}

// bindLargest18: LARGEST_OBJECT (0x09), a Location; absent means no content.
func bindLargest18[M any](f func(*M) (*bool, *Location)) pbind {
	return pbind{key: Param18LargestObject,
		set: func(m Message, p *Param) error {
			exists, l := f(any(m).(*M))
			if p == nil {
				*exists, *l = false, Location{}
				return nil
			}
			d := decoder{b: p.Bytes, framed: true, v18: true}
			*l = d.location("largest_object")
			if err := d.end(""); err != nil {
				return errf(KindLengthMismatch, "largest_object", "LARGEST_OBJECT is %d bytes, not one Location", len(p.Bytes))
			}
			*exists = true
			return nil
		},
		get: func(m Message) (Param, emit, error) {
			exists, l := f(any(m).(*M))
			if !*exists {
				return Param{}, emitNever, nil
			}
			p := keepOwn(m, BytesParam(Param18LargestObject, Location18(*l)), func(v []byte) bool {
				d := decoder{b: v, framed: true, v18: true}
				own := d.location("largest_object")
				return d.end("") == nil && own == *l
			})
			return p, emitAlways, nil
		}}
}

// bindFilter18: SUBSCRIPTION_FILTER (0x21), as bindFilter but with the
// draft-18 filter (End Group Delta; the typed EndGroup is the last group).
func bindFilter18[M any](f func(*M) (*FilterType, *Location, *uint64)) pbind {
	return bindFilterOf(filter18, f)
}

// parseFilter18 decodes a draft-18 Subscription Filter: Filter Type,
// [Start Location], [End Group Delta]; end is set to the last group,
// Start.Group + End Group Delta (past 2^64-1 is a protocol violation).
func parseFilter18(b []byte, ft *FilterType, start *Location, end *uint64) error {
	d := decoder{b: b, framed: true, v18: true}
	t := d.varint("filter_type")
	if d.err == nil && (t < uint64(FilterNextGroupStart) || t > uint64(FilterAbsoluteRange)) {
		return errf(KindInvalidValue, "filter_type", "filter_type %d is not a defined filter type", t)
	}
	*ft, *start, *end = FilterType(t), Location{}, 0
	if *ft == FilterAbsoluteStart || *ft == FilterAbsoluteRange {
		*start = d.location("start_location")
	}
	if *ft == FilterAbsoluteRange {
		delta := d.varint("end_group_delta")
		if d.err == nil && start.Group+delta < start.Group {
			return errf(KindInvalidValue, "end_group_delta", "start group %d plus end group delta %d passes 2^64-1", start.Group, delta)
		}
		*end = start.Group + delta
	}
	if d.err != nil || d.off != len(b) {
		return errf(KindLengthMismatch, "subscription_filter", "SUBSCRIPTION_FILTER of %d bytes does not hold one filter of type %d", len(b), t)
	}
	return nil
}

// appendFilter18 encodes a draft-18 Subscription Filter; end is the last
// group and must not be below start.Group.
func appendFilter18(b []byte, ft FilterType, start Location, end uint64) ([]byte, error) {
	if ft < FilterNextGroupStart || ft > FilterAbsoluteRange {
		return nil, fmt.Errorf("filter_type %d is not a defined filter type", uint64(ft))
	}
	b = AppendVarint18(b, uint64(ft))
	if ft == FilterAbsoluteStart || ft == FilterAbsoluteRange {
		b = AppendVarint18(AppendVarint18(b, start.Group), start.Object)
	}
	if ft == FilterAbsoluteRange {
		if end < start.Group {
			return nil, fmt.Errorf("end group %d is below start group %d", end, start.Group)
		}
		b = AppendVarint18(b, end-start.Group)
	}
	return b, nil
}

// bindUpdateFilter18 is SUBSCRIPTION_FILTER in a draft-18 REQUEST_UPDATE,
// as bindUpdateFilter: SubscribeUpdate.EndGroup is the last group plus one
// (0 = open).
func bindUpdateFilter18() pbind { return bindUpdateFilterOf(filter18) }
