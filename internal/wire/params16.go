package wire

import (
	"fmt"
	"slices"
)

// Draft-16 parameters and track extensions.
//
// In draft-16 every parameter list (setup and message parameters, track
// extensions, object extension headers) is a sequence of Key-Value-Pairs
// whose keys are delta-coded: each pair carries its key minus the previous
// key. The wire order is therefore ascending by key, and a list round-trips
// byte for byte once it is kept sorted.
//
// Many fields that draft-14 carried in fixed positions (subscriber
// priority, group order, forward, the subscription filter, expires, the
// largest location) are parameters in draft-16. The codec maps them to the
// same typed struct fields that draft-14 uses, so the session engine reads
// and writes those fields whatever the draft:
//
//   - Decoding fills Params with every pair in wire order (known ones
//     included) and then sets each typed field from its parameter, or to the
//     draft's default when the parameter is absent (SUBSCRIBER_PRIORITY 128,
//     FORWARD 1, no SUBSCRIPTION_FILTER = AbsoluteStart {0,0} (the text's
//     equivalent of unfiltered), EXPIRES 0, no LARGEST_OBJECT =
//     ContentExists false, GROUP_ORDER as the message's text says).
//   - Encoding writes each typed field as its parameter: where Params
//     already holds that key, the typed value replaces the value there;
//     otherwise the parameter is added unless the typed value is the
//     draft's default (so that a decoded message re-encodes to the same
//     bytes, and a message built by the engine carries only what differs
//     from the defaults). The list is then sorted by key (stably; the wire
//     form requires it) and delta-coded.
//
// REQUEST_UPDATE is different: an absent parameter means "unchanged", so
// SubscribeUpdate.Changed says which typed fields the message carries (see
// UpdateFields).

// Draft-16 message parameter keys.
const (
	Param16DeliveryTimeout    uint64 = 0x02
	Param16AuthorizationToken uint64 = 0x03
	Param16Expires            uint64 = 0x08
	Param16LargestObject      uint64 = 0x09
	Param16Forward            uint64 = 0x10
	Param16SubscriberPriority uint64 = 0x20
	Param16SubscriptionFilter uint64 = 0x21
	Param16GroupOrder         uint64 = 0x22
	Param16NewGroupRequest    uint64 = 0x32
)

// Draft-16 extension header types (track and object extensions).
const (
	Ext16DeliveryTimeout            uint64 = 0x02
	Ext16MaxCacheDuration           uint64 = 0x04
	Ext16ImmutableExtensions        uint64 = 0x0B
	Ext16DefaultPublisherPriority   uint64 = 0x0E
	Ext16DefaultPublisherGroupOrder uint64 = 0x22
	Ext16DynamicGroups              uint64 = 0x30
	Ext16PriorGroupIDGap            uint64 = 0x3C
	Ext16PriorObjectIDGap           uint64 = 0x3E
)

// Setup parameter MAX_AUTH_TOKEN_CACHE_SIZE etc. keep the draft-14 keys
// (SetupPath, SetupMaxRequestID, ...): setup keys are the same in every
// version.

// known16 reports whether key is a draft-16 message parameter.
func known16(key uint64) bool {
	switch key {
	case Param16DeliveryTimeout, Param16AuthorizationToken, Param16Expires, Param16LargestObject,
		Param16Forward, Param16SubscriberPriority, Param16SubscriptionFilter, Param16GroupOrder,
		Param16NewGroupRequest:
		return true
	}
	return false
}

// UpdateFields says which typed fields a draft-16 REQUEST_UPDATE carries
// (an absent parameter leaves the subscription's value unchanged).
type UpdateFields uint8

const (
	// UpdateFilter: FilterType, Start and EndGroup (SUBSCRIPTION_FILTER).
	UpdateFilter UpdateFields = 1 << iota
	// UpdatePriority: SubscriberPriority (SUBSCRIBER_PRIORITY).
	UpdatePriority
	// UpdateForward: Forward (FORWARD).
	UpdateForward
	// UpdateAll is every field, as a draft-07 or draft-14 update carries.
	UpdateAll = UpdateFilter | UpdatePriority | UpdateForward
)

// pbind maps one parameter key to typed fields of a message.
type pbind struct {
	key uint64
	// set fills the typed fields from the parameter (present) or to their
	// defaults (p == nil). It returns an error for a malformed value.
	set func(m Message, p *Param) error
	// get returns the typed value as a parameter and what to do with it,
	// or an error for a value that cannot be written.
	get func(m Message) (Param, emit, error)
}

type emit uint8

const (
	emitDefault emit = iota // write only where the list already holds the key
	emitAlways              // write (replace the list's value or add)
	emitNever               // do not write; drop the key from the list
)

// bindPriority: SUBSCRIBER_PRIORITY (0x20), 0..255, default 128.
func bindPriority[M any](f func(*M) *uint8) pbind {
	return pbind{key: Param16SubscriberPriority,
		set: func(m Message, p *Param) error {
			v := f(any(m).(*M))
			if p == nil {
				*v = 128
				return nil
			}
			if p.Int > 255 {
				return errf(KindInvalidValue, "subscriber_priority", "subscriber priority %d is above 255", p.Int)
			}
			*v = uint8(p.Int)
			return nil
		},
		get: func(m Message) (Param, emit, error) {
			v := *f(any(m).(*M))
			return IntParam(Param16SubscriberPriority, uint64(v)), pick(v == 128, emitDefault, emitAlways), nil
		}}
}

// bindGroupOrder: GROUP_ORDER (0x22, a parameter) or
// DEFAULT_PUBLISHER_GROUP_ORDER (0x22, a track extension): 1 or 2; absent
// means def. A typed 0 (the publisher's order) is never written.
func bindGroupOrder[M any](def uint8, f func(*M) *uint8) pbind {
	return pbind{key: Param16GroupOrder,
		set: func(m Message, p *Param) error {
			v := f(any(m).(*M))
			if p == nil {
				*v = def
				return nil
			}
			if p.Int != uint64(GroupOrderAscending) && p.Int != uint64(GroupOrderDescending) {
				return errf(KindInvalidValue, "group_order", "group order %d is not 1 or 2", p.Int)
			}
			*v = uint8(p.Int)
			return nil
		},
		get: func(m Message) (Param, emit, error) {
			v := *f(any(m).(*M))
			switch {
			case v == GroupOrderPublisher:
				return Param{}, emitNever, nil
			case v > GroupOrderDescending:
				return Param{}, emitNever, fmt.Errorf("group_order %d is not 0, 1 or 2", v)
			}
			return IntParam(Param16GroupOrder, uint64(v)), pick(v == def, emitDefault, emitAlways), nil
		}}
}

// bindForward: FORWARD (0x10), 0 or 1, default 1.
func bindForward[M any](f func(*M) *bool) pbind {
	return pbind{key: Param16Forward,
		set: func(m Message, p *Param) error {
			v := f(any(m).(*M))
			if p == nil {
				*v = true
				return nil
			}
			if p.Int > 1 {
				return errf(KindInvalidValue, "forward", "forward %d is not 0 or 1", p.Int)
			}
			*v = p.Int == 1
			return nil
		},
		get: func(m Message) (Param, emit, error) {
			v := *f(any(m).(*M))
			return IntParam(Param16Forward, uint64(boolInt(v))), pick(v, emitDefault, emitAlways), nil
		}}
}

// bindExpires: EXPIRES (0x08), milliseconds, default 0 (never).
func bindExpires[M any](f func(*M) *uint64) pbind {
	return pbind{key: Param16Expires,
		set: func(m Message, p *Param) error {
			v := f(any(m).(*M))
			*v = 0
			if p != nil {
				*v = p.Int
			}
			return nil
		},
		get: func(m Message) (Param, emit, error) {
			v := *f(any(m).(*M))
			return IntParam(Param16Expires, v), pick(v == 0, emitDefault, emitAlways), nil
		}}
}

// bindLargest: LARGEST_OBJECT (0x09), a Location; absent means no content.
func bindLargest[M any](f func(*M) (*bool, *Location)) pbind {
	return pbind{key: Param16LargestObject,
		set: func(m Message, p *Param) error {
			exists, l := f(any(m).(*M))
			if p == nil {
				*exists, *l = false, Location{}
				return nil
			}
			d := decoder{b: p.Bytes, framed: true}
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
			if err := checkLocation("largest_object", *l); err != nil {
				return Param{}, emitNever, err
			}
			return BytesParam(Param16LargestObject, appendLocation(nil, *l)), emitAlways, nil
		}}
}

// filterCoding is a draft's SUBSCRIPTION_FILTER: its parameter key and the
// coding of its Subscription Filter structure (End Group is the last group
// in 16, a delta from the start group in 18 and 20).
type filterCoding struct {
	key    uint64
	parse  func(b []byte, ft *FilterType, start *Location, end *uint64) error
	append func(b []byte, ft FilterType, start Location, end uint64) ([]byte, error)
}

var (
	filter16 = filterCoding{Param16SubscriptionFilter, parseFilter, appendFilter}
	filter18 = filterCoding{Param18SubscriptionFilter, parseFilter18, appendFilter18}
)

// bindFilter: SUBSCRIPTION_FILTER (0x21): Filter Type, [Start Location],
// [End Group]. Absent means unfiltered, which the text makes equal to
// AbsoluteStart {0,0}. A typed FilterType 0 is never written.
func bindFilter[M any](f func(*M) (*FilterType, *Location, *uint64)) pbind {
	return bindFilterOf(filter16, f)
}

// bindFilterOf is bindFilter in the coding c (the typed end is the last
// group in every draft).
func bindFilterOf[M any](c filterCoding, f func(*M) (*FilterType, *Location, *uint64)) pbind {
	return pbind{key: c.key,
		set: func(m Message, p *Param) error {
			ft, start, end := f(any(m).(*M))
			if p == nil {
				*ft, *start, *end = FilterAbsoluteStart, Location{}, 0
				return nil
			}
			return c.parse(p.Bytes, ft, start, end)
		},
		get: func(m Message) (Param, emit, error) {
			ft, start, end := f(any(m).(*M))
			if *ft == 0 {
				return Param{}, emitNever, nil
			}
			b, err := c.append(nil, *ft, *start, *end)
			if err != nil {
				return Param{}, emitNever, err
			}
			return BytesParam(c.key, b), pick(*ft == FilterAbsoluteStart && *start == (Location{}), emitDefault, emitAlways), nil
		}}
}

// parseFilter decodes a Subscription Filter structure.
func parseFilter(b []byte, ft *FilterType, start *Location, end *uint64) error {
	d := decoder{b: b, framed: true}
	t := d.varint("filter_type")
	if d.err == nil && (t < uint64(FilterNextGroupStart) || t > uint64(FilterAbsoluteRange)) {
		return errf(KindInvalidValue, "filter_type", "filter_type %d is not a defined filter type", t)
	}
	*ft, *start, *end = FilterType(t), Location{}, 0
	if *ft == FilterAbsoluteStart || *ft == FilterAbsoluteRange {
		*start = d.location("start_location")
	}
	if *ft == FilterAbsoluteRange {
		*end = d.varint("end_group")
	}
	if d.err != nil || d.off != len(b) {
		return errf(KindLengthMismatch, "subscription_filter", "SUBSCRIPTION_FILTER of %d bytes does not hold one filter of type %d", len(b), t)
	}
	return nil
}

// appendFilter encodes a Subscription Filter structure.
func appendFilter(b []byte, ft FilterType, start Location, end uint64) ([]byte, error) {
	if ft < FilterNextGroupStart || ft > FilterAbsoluteRange {
		return nil, fmt.Errorf("filter_type %d is not a defined filter type", uint64(ft))
	}
	b = AppendVarint(b, uint64(ft))
	if ft == FilterAbsoluteStart || ft == FilterAbsoluteRange {
		if err := checkLocation("start_location", start); err != nil {
			return nil, err
		}
		b = appendLocation(b, start)
	}
	if ft == FilterAbsoluteRange {
		if err := checkVarint("end_group", end); err != nil {
			return nil, err
		}
		b = AppendVarint(b, end)
	}
	return b, nil
}

func checkLocation(field string, l Location) error {
	if err := checkVarint(field+".group", l.Group); err != nil {
		return err
	}
	return checkVarint(field+".object", l.Object)
}

func appendLocation(b []byte, l Location) []byte {
	return AppendVarint(AppendVarint(b, l.Group), l.Object)
}

// bindMask makes a bind for REQUEST_UPDATE: present sets bit in the mask,
// absent leaves the typed fields zero; written exactly when bit is set.
func bindMask[M any](bit UpdateFields, mask func(*M) *UpdateFields, b pbind) pbind {
	return pbind{key: b.key,
		set: func(m Message, p *Param) error {
			if p == nil {
				return nil
			}
			*mask(any(m).(*M)) |= bit
			return b.set(m, p)
		},
		get: func(m Message) (Param, emit, error) {
			if *mask(any(m).(*M))&bit == 0 {
				return Param{}, emitNever, nil
			}
			p, e, err := b.get(m)
			if e == emitNever || err != nil {
				return p, e, err
			}
			return p, emitAlways, nil
		}}
}

func pick(isDefault bool, def, other emit) emit {
	if isDefault {
		return def
	}
	return other
}

// ---- decoding ----

// kvps16 reads n delta-coded key-value pairs (n < 0: up to the end) and,
// when keep, returns them (else it only checks them, without allocating).
func (d *decoder) kvps16(field string, n int, maxBytes int, keep bool) Params {
	var ps Params
	var key uint64
	var valueField string
	switch field { // constant names keep the hot path free of allocations
	case "parameter":
		valueField = "parameter value"
	case "extension":
		valueField = "extension value"
	case "setup_option":
		valueField = "setup_option value"
	default:
		valueField = "track_extension value"
	}
	for i := 0; (n < 0 && d.remaining() > 0) || i < n; i++ {
		delta := d.varint2(field, " type")
		if d.err != nil {
			return nil
		}
		if key+delta < key {
			d.fail(errf(KindInvalidValue, field, "delta type %d after type %d passes 2^64-1", delta, key))
			return nil
		}
		key += delta
		var p Param
		if key&1 == 0 {
			p = Param{Key: key, IsInt: true, Int: d.varint2(valueField, "")}
		} else {
			p = Param{Key: key, Bytes: d.lenBytes(valueField, min(maxBytes, MaxControlMessage14))}
		}
		if d.err != nil {
			return nil
		}
		if !keep {
			continue
		}
		if ps == nil {
			ps = make(Params, 0, 4)
		}
		ps = append(ps, p)
	}
	return ps
}

// params16 reads a draft-16 parameter list and sets m's typed fields from
// it (binds).
func (p *ctlDecoder) params16(ctx paramCtx, v *Params, m Message, binds []pbind) {
	n := p.varint("parameters")
	if p.err != nil {
		return
	}
	if n > uint64(p.lim.params()) {
		p.fail(errf(KindLimit, "parameters", "%d parameters, limit %d", n, p.lim.params()))
		return
	}
	*v = p.kvps16("parameter", int(n), p.lim.paramBytes(), true)
	if p.err != nil {
		return
	}
	if ctx == ctxMessage && !p.lim.allowUnknownParams() {
		for _, q := range *v {
			if !known16(q.Key) {
				p.fail(errf(KindInvalidValue, "parameters", "unknown message parameter 0x%x", q.Key))
				return
			}
			if q.Key == Param16DeliveryTimeout && q.Int == 0 {
				p.fail(errf(KindInvalidValue, "delivery_timeout", "DELIVERY_TIMEOUT must not be 0"))
				return
			}
		}
	}
	p.fail(applyBinds(*v, m, binds))
}

// trackExt16 reads draft-16 Track Extensions (up to the end of the payload).
func (p *ctlDecoder) trackExt16(v *Params, m Message, binds []pbind) {
	if p.err != nil {
		return
	}
	*v = p.kvps16("track_extension", -1, p.lim.paramBytes(), true)
	if p.err == nil {
		p.fail(applyBinds(*v, m, binds))
	}
}

func (ps Params) index(k uint64) int {
	for i := range ps {
		if ps[i].Key == k {
			return i
		}
	}
	return -1
}

// ---- encoding ----

// params16 writes a draft-16 parameter list (withCount) or a track
// extensions block (without a count), merging m's typed fields (binds) into
// ps as the comment at the top of this file says.
func (e *ctlEncoder) params16(ps Params, m Message, binds []pbind, withCount bool) {
	if e.err != nil {
		return
	}
	list, err := mergeBinds(ps, m, binds)
	if err != nil {
		e.err = err
		return
	}
	b, err := appendKVPs(e.b, list, withCount, e.d.vi64())
	if err != nil {
		e.err = fmt.Errorf("parameters: %w", err)
		return
	}
	e.b = b
}

// mergeBinds returns ps with m's typed fields (binds) merged in, sorted by
// key. ps itself is not changed.
func mergeBinds(ps Params, m Message, binds []pbind) (Params, error) {
	list := ps
	if len(binds) > 0 {
		list = make(Params, 0, len(ps)+len(binds))
		list = append(list, ps...)
		for _, b := range binds {
			p, how, err := b.get(m)
			if err != nil {
				return nil, err
			}
			i := list.index(b.key)
			switch {
			case how == emitNever && i >= 0:
				list = slices.Delete(list, i, i+1)
			case how == emitNever:
			case i >= 0:
				list[i] = p
			case how == emitAlways:
				list = append(list, p)
			}
		}
	}
	if !slices.IsSortedFunc(list, cmpKey) {
		if len(binds) == 0 {
			list = slices.Clone(list)
		}
		slices.SortStableFunc(list, cmpKey)
	}
	return list, nil
}

// applyBinds sets m's typed fields from ps (binds).
func applyBinds(ps Params, m Message, binds []pbind) error {
	for _, b := range binds {
		var err error
		if i := ps.index(b.key); i >= 0 {
			err = b.set(m, &ps[i])
		} else {
			err = b.set(m, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func cmpKey(a, b Param) int {
	switch {
	case a.Key < b.Key:
		return -1
	case a.Key > b.Key:
		return 1
	}
	return 0
}

// appendKVPs16 appends sorted pairs delta-coded, with their count first
// when withCount.
func appendKVPs16(b []byte, ps Params, withCount bool) ([]byte, error) {
	return appendKVPs(b, ps, withCount, false)
}

// appendKVPs appends sorted pairs delta-coded (varints in the draft-18 form
// when v18, where every uint64 fits), with their count first when withCount.
func appendKVPs(b []byte, ps Params, withCount, v18 bool) ([]byte, error) {
	check := checkVarint
	if v18 {
		check = func(string, uint64) error { return nil }
	}
	if withCount {
		b = appendVarintFor(v18, b, uint64(len(ps)))
	}
	var prev uint64
	for _, p := range ps {
		if err := checkKVPForm(p); err != nil {
			return nil, err
		}
		if err := check("key delta", p.Key-prev); err != nil {
			return nil, err
		}
		b = appendVarintFor(v18, b, p.Key-prev)
		prev = p.Key
		if p.IsInt {
			if err := check("value", p.Int); err != nil {
				return nil, err
			}
			b = appendVarintFor(v18, b, p.Int)
			continue
		}
		if len(p.Bytes) > MaxControlMessage14 {
			return nil, errf(KindLimit, "value", "key 0x%x value is %d bytes, limit %d", p.Key, len(p.Bytes), MaxControlMessage14)
		}
		b = appendVarintFor(v18, b, uint64(len(p.Bytes)))
		b = append(b, p.Bytes...)
	}
	return b, nil
}

func checkKVPForm(p Param) error {
	odd := p.Key&1 == 1
	if odd == p.IsInt {
		if odd {
			return errf(KindInvalidValue, "key", "key 0x%x is odd and must carry bytes", p.Key)
		}
		return errf(KindInvalidValue, "key", "key 0x%x is even and must carry an integer", p.Key)
	}
	return nil
}
