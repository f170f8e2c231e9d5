package moq

import (
	"context"
	"fmt"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Draft-20 sessions (rules.draft20) are draft-18 sessions (reqstream.go)
// whose messages differ in a few places. The engine keeps building and
// handling its draft-14 style messages; to20 converts what it sends and
// from20 what it receives:
//
//   - SUBSCRIBE, TRACK_STATUS and REQUEST_UPDATE filters: 14's filter types
//     <-> LOCATION_FILTER (no filter types in 20);
//   - FETCH: Start / End ("+1", 0 = whole group) <-> LOCATION_FILTER
//     (inclusive; absent: {0,0} through the Largest Object). FETCH_OK's End
//     Location is the last object, as the engine has always filled it;
//   - GOAWAY has no Request ID;
//   - the joining fetch is gone: JoiningFetch sends a REQUEST_UPDATE of the
//     subscription carrying FILL_PARAMETERS, whose objects come on a "fill
//     fetch stream" keyed by the update's Request ID; a SUBSCRIBE or
//     REQUEST_UPDATE with FILL_PARAMETERS is answered with a fill fetch
//     stream of the track's retained objects up to where the subscription
//     began (serveFill), the way a joining fetch is served.

// to20 returns m as a draft-20 session sends it (a copy when it changes).
func to20(m wire.Message) wire.Message {
	switch m := m.(type) {
	case *wire.GoAway:
		c := *m
		c.RequestID, c.HasRequestID = 0, false
		return &c
	case *wire.Subscribe:
		c := *m
		c.Location = locationOf(m.FilterType, m.Start, m.EndGroup)
		c.FilterType, c.Start, c.EndGroup, c.EndObject = 0, Location{}, 0, 0
		c.Params = withoutKey(m.Params, wire.Param16SubscriptionFilter)
		return &c
	case *wire.TrackStatusRequest:
		c := *m
		c.Location = locationOf(m.FilterType, m.Start, m.EndGroup)
		c.FilterType, c.Start, c.EndGroup, c.EndObject = 0, Location{}, 0, 0
		c.Params = withoutKey(m.Params, wire.Param16SubscriptionFilter)
		return &c
	case *wire.SubscribeUpdate:
		c := *m
		if m.Changed&wire.UpdateFilter != 0 {
			end := uint64(0)
			ft := wire.FilterAbsoluteStart
			if m.EndGroup != 0 {
				ft, end = wire.FilterAbsoluteRange, m.EndGroup-1 // "+1, 0 = open" in the engine's form
			}
			c.Location = locationOf(ft, m.Start, end)
			if c.Location.Fields == 0 {
				// Start {0,0}, open: the filter does not change (an empty
				// LOCATION_FILTER would remove it, {0,0} in two fields
				// would move the start to the Next Object).
				c.Changed &^= wire.UpdateFilter
			}
		}
		c.FilterType, c.Start, c.EndGroup, c.EndObject = 0, Location{}, 0, 0
		return &c
	case *wire.Fetch:
		if m.FetchType != wire.FetchStandalone {
			return m // refused by the codec: 20 has no joining FETCH
		}
		c := *m
		c.Location = wire.LocationFilter{Fields: 4, StartGroup: m.Start.Group, StartObject: m.Start.Object,
			EndGroup: m.End.Group}
		if m.End.Object == 0 {
			c.Location.Fields = 3 // the whole end group
		} else {
			c.Location.EndObject = m.End.Object - 1
		}
		c.Start, c.End = Location{}, Location{}
		return &c
	}
	return m
}

// locationOf is the LOCATION_FILTER of a draft-14 style filter (EndGroup
// absolute, inclusive).
func locationOf(ft wire.FilterType, start Location, endGroup uint64) wire.LocationFilter {
	switch ft {
	case wire.FilterNextGroupStart:
		return wire.LocationFilter{Fields: 1}
	case wire.FilterLargestObject:
		return wire.LocationFilter{Fields: 2}
	case wire.FilterAbsoluteStart:
		if start == (Location{}) {
			// {0,0} with no end is "no filter" ({0,0} in two fields
			// would be the Next Object).
			return wire.LocationFilter{}
		}
		return wire.LocationFilter{Fields: 2, StartGroup: start.Group, StartObject: start.Object}
	case wire.FilterAbsoluteRange:
		return wire.LocationFilter{Fields: 3, StartGroup: start.Group, StartObject: start.Object, EndGroup: endGroup}
	}
	return wire.LocationFilter{}
}

// withoutKey returns ps without parameters of key (a copy when one is
// dropped).
func withoutKey(ps wire.Params, key uint64) wire.Params {
	for i := range ps {
		if ps[i].Key == key {
			out := make(wire.Params, 0, len(ps)-1)
			for _, p := range ps {
				if p.Key != key {
					out = append(out, p)
				}
			}
			return out
		}
	}
	return ps
}

// from20 turns a received draft-20 message into the engine's draft-14
// style form (in place).
func from20(m wire.Message) {
	switch m := m.(type) {
	case *wire.Subscribe:
		m.FilterType, m.Start, m.EndGroup, m.EndObject = filterOf(m.Location)
	case *wire.TrackStatusRequest:
		m.FilterType, m.Start, m.EndGroup, m.EndObject = filterOf(m.Location)
	case *wire.SubscribeUpdate:
		if m.Changed&wire.UpdateFilter == 0 {
			return
		}
		lf := m.Location
		switch {
		case lf.Fields >= 3:
			m.Start = Location{Group: lf.StartGroup, Object: lf.StartObject}
			m.EndGroup = lf.EndGroup + 1
		case lf.Fields == 2:
			m.Start = Location{Group: lf.StartGroup, Object: lf.StartObject}
		default:
			// Removing the filter or a relative start cannot narrow a
			// subscription: the filter stays as it is.
			m.Changed &^= wire.UpdateFilter
		}
	case *wire.Fetch:
		lf := m.Location
		m.Start = Location{Group: lf.StartGroup, Object: lf.StartObject}
		switch lf.Fields {
		case 3:
			m.End = Location{Group: lf.EndGroup} // the whole end group
		case 4:
			m.End = Location{Group: lf.EndGroup, Object: lf.EndObject + 1}
			if lf.EndObject == ^uint64(0) {
				m.End.Object = 0
			}
		default:
			// Open end (the Largest Object) or a relative start: resolved
			// against the track when it is known (fetchRange20).
			m.End = Location{Group: ^uint64(0)}
		}
		if lf.Fields <= 1 {
			m.Start = Location{}
		}
	}
}

// filterOf is the draft-14 style filter of a subscription's
// LOCATION_FILTER: type, start, end group (absolute, inclusive), end object
// (exclusive, 0 = whole group). A relative start of more than 0 groups
// reads as NextGroupStart here; serveSubscribe moves it back against the
// track (relativeStart20).
func filterOf(lf wire.LocationFilter) (wire.FilterType, Location, uint64, uint64) {
	start := Location{Group: lf.StartGroup, Object: lf.StartObject}
	switch lf.Fields {
	case 0:
		// No filter passes every object: {0,0}, open ended.
		return wire.FilterAbsoluteStart, Location{}, 0, 0
	case 1:
		return wire.FilterNextGroupStart, Location{}, 0, 0
	case 2:
		if lf.NextObject() {
			return wire.FilterLargestObject, Location{}, 0, 0
		}
		return wire.FilterAbsoluteStart, start, 0, 0
	case 3:
		return wire.FilterAbsoluteRange, start, lf.EndGroup, 0
	}
	endObject := lf.EndObject + 1 // exclusive
	if lf.EndObject == ^uint64(0) {
		endObject = 0
	}
	return wire.FilterAbsoluteRange, start, lf.EndGroup, endObject
}

// relativeStart20 resolves a relative LOCATION_FILTER of a draft-20
// SUBSCRIBE against the track: {Largest.Group + 1 - N, 0}.
func relativeStart20(m *wire.Subscribe, t *Track, f Filter) Filter {
	if m.Location.Fields != 1 || m.Location.StartGroup == 0 {
		return f
	}
	largest, ok := t.Largest()
	if !ok {
		return f // nothing published yet: the next group
	}
	g := uint64(0)
	if largest.Group+1 > m.Location.StartGroup {
		g = largest.Group + 1 - m.Location.StartGroup
	}
	return Filter{Type: wire.FilterAbsoluteStart, Start: Location{Group: g}}
}

// fetchRange20 resolves a draft-20 FETCH's open end (the Largest Object)
// and relative start against the track.
func fetchRange20(m *wire.Fetch, t *Track, start, end Location) (Location, Location) {
	lf := m.Location
	if lf.Fields >= 3 {
		return start, end
	}
	largest, ok := t.Largest()
	if !ok {
		return Location{Group: 1}, Location{} // nothing to fetch: an empty range
	}
	if lf.Fields == 1 {
		start = Location{}
		if largest.Group+1 > lf.StartGroup {
			start.Group = largest.Group + 1 - lf.StartGroup
		}
	}
	return start, largest
}

// fillRange is the range of a fill fetch stream asked for by fill on a
// subscription that began after `largest` (exists: the track had content).
// Fetch rules: no LOCATION_FILTER is {0,0}; a relative one counts back
// from the group after `largest`. The range ends at `largest` at most (what
// the subscription itself does not carry).
func fillRange(fill *wire.FillParameters, largest Location, exists bool) (start, end Location, ok bool) {
	if !exists {
		return Location{}, Location{}, false
	}
	lf := fill.Location
	end = largest
	switch lf.Fields {
	case 0:
	case 1:
		if largest.Group+1 > lf.StartGroup {
			start.Group = largest.Group + 1 - lf.StartGroup
		}
	default:
		if lf.NextObject() {
			return Location{}, Location{}, false // from the Next Object: nothing before the subscription
		}
		start = Location{Group: lf.StartGroup, Object: lf.StartObject}
		if lf.Fields >= 3 {
			e := Location{Group: lf.EndGroup, Object: ^uint64(0)}
			if lf.Fields == 4 {
				e.Object = lf.EndObject
			}
			if e.Less(end) {
				end = e
			}
		}
	}
	return start, end, !end.Less(start)
}

// serveFill answers FILL_PARAMETERS of the peer's SUBSCRIBE or
// REQUEST_UPDATE id on subscription sub: a fill fetch stream (FETCH_HEADER
// with id) of the track's retained objects before the subscription's start.
// With nothing to send the stream carries the header alone.
//
// At most maxFills fills are sent at a time per session; past that a fill
// is not sent (a peer asking for fills faster than it reads them would
// otherwise pile them up). The fill stops when the subscription ends.
func (s *Session) serveFill(sub *subscriber, id uint64, fill *wire.FillParameters) {
	if s.fills.Add(1) > maxFills {
		s.fills.Add(-1)
		s.log.Debug("fill not sent: too many in flight", "request", id)
		return
	}
	defer s.fills.Add(-1)
	s.mu.Lock()
	largest, exists := sub.okLargest, sub.okExists
	s.mu.Unlock()
	var objs []*Object
	if start, end, ok := fillRange(fill, largest, exists); ok {
		objs = sub.track.retainedRange(start, end)
	}
	ctx := sub.ctx
	if ctx == nil {
		ctx = s.ctx
	}
	s.writeFetchStream(ctx, id, objs, false)
}

// maxFills bounds the fill fetch streams a session sends at a time.
const maxFills = 16

// JoiningFetch on a draft-20 session: a REQUEST_UPDATE of sub carrying
// FILL_PARAMETERS; the objects come on the fill fetch stream of the
// update's Request ID.
func (s *Session) joiningFetch20(ctx context.Context, sub *Subscription, start uint64, relative bool, opts FetchOptions) (*FetchStream, error) {
	fill := &wire.FillParameters{}
	switch {
	case relative:
		// 14: groups before the joined subscription's Largest group;
		// 20: groups before the next group.
		fill.Location = wire.LocationFilter{Fields: 1, StartGroup: start + 1}
	case start > 0:
		fill.Location = wire.LocationFilter{Fields: 2, StartGroup: start}
	}
	if opts.Priority != nil {
		fill.Params = append(fill.Params, wire.IntParam(wire.Param18SubscriberPriority, uint64(*opts.Priority)))
	}
	if opts.GroupOrder == wire.GroupOrderDescending {
		return nil, fmt.Errorf("moq: a draft-20 fill is sent in ascending order: %w", ErrUnsupported)
	}
	sub.mu.Lock()
	ended := sub.ended
	sub.mu.Unlock()
	if ended {
		return nil, fmt.Errorf("moq: subscription to %s/%s: %w", sub.ns, sub.name, ErrEnded)
	}
	unlock := s.lockRequests()
	defer unlock()
	id, err := s.allocRequestID(ctx)
	if err != nil {
		return nil, err
	}
	m := &wire.SubscribeUpdate{RequestID: id, SubscriptionRequestID: sub.reqID, Fill: fill}
	// The fill ends where the subscription began (its SUBSCRIBE_OK's
	// Largest Location), as served here.
	end, _ := sub.Largest()
	f := s.newFetchStream(id, sub.ns, sub.name)
	f.ok = &wire.FetchOK{End: end}
	p, cleanup, err := s.sendFetch(f, opRequestUpdate, m, unlock)
	if err != nil {
		return nil, err
	}
	a, err := s.await(ctx, p, func() { delete(s.pending, id) })
	if err != nil {
		s.mu.Lock()
		cleanup()
		s.mu.Unlock()
		f.finish(fmt.Errorf("moq: fill: %w", err))
		return nil, err
	}
	if re, ok := a.(*wire.RequestError); ok {
		s.mu.Lock()
		cleanup()
		s.mu.Unlock()
		f.finish(fmt.Errorf("moq: fill refused: %w", ErrEnded))
		return nil, &RequestError{Op: opRequestUpdate, Code: re.ErrorCode, Reason: re.Reason}
	}
	return f, nil
}

// refuse20 is the REQUEST_ERROR for a draft-20 request the engine does not
// serve (nil: serve it): Range Filters (SUBGROUP_, OBJECTID_, PRIORITY_,
// OBJECT_PROPERTY_ and TRACK_PROPERTY_FILTER) are decoded but not applied,
// so a SUBSCRIBE, FETCH or TRACK_STATUS carrying one is refused
// NOT_SUPPORTED rather than answered with objects outside them.
func refuse20(s *Session, m wire.Message) *wire.RequestError {
	if !s.rules.draft20 {
		return nil
	}
	var ps wire.Params
	switch m := m.(type) {
	case *wire.Subscribe:
		ps = m.Params
	case *wire.Fetch:
		ps = m.Params
	case *wire.TrackStatusRequest:
		ps = m.Params
	default:
		return nil
	}
	for _, p := range ps {
		if p.Key >= wire.Param20SubgroupFilter && p.Key <= wire.Param20TrackPropertyFilter {
			return &wire.RequestError{ErrorCode: s.rules.codes.notSupported, Reason: "range filters are not supported"}
		}
	}
	return nil
}
