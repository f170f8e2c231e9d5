package moq

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// ErrTrackNotFound, returned by a Handler, is answered with the draft's
// "track does not exist" code.
var ErrTrackNotFound = errors.New("moq: track does not exist")

// lookupTrack finds a track published on this session.
func (s *Session) lookupTrack(ns Namespace, name string) (*Track, error) {
	s.mu.Lock()
	t := s.tracks[trackKey(ns, name)]
	s.mu.Unlock()
	if t == nil {
		return nil, ErrTrackNotFound
	}
	return t, nil
}

// requestErrorCode picks the code to send for a handler's error.
func (s *Session) requestErrorCode(err error, op string) (uint64, string) {
	var re *RequestError
	if errors.As(err, &re) {
		return re.Code, re.Reason
	}
	switch {
	case errors.Is(err, ErrTrackNotFound):
		return s.rules.codes.doesNotExist, "track does not exist"
	case errors.Is(err, ErrInvalid):
		return s.rules.codes.invalidRange, err.Error()
	case errors.Is(err, ErrUnauthorized):
		return s.rules.codes.unauthorized, err.Error()
	case errors.Is(err, ErrPrefixOverlap):
		return s.rules.codes.prefixOverlap, err.Error()
	}
	return s.rules.codes.internal, err.Error()
}

func (s *Session) onSubscribe(m *wire.Subscribe) {
	s.mu.Lock()
	over := len(s.inSubs) >= s.opts.maxSubscriptions()
	if _, dup := s.inSubs[m.RequestID]; dup {
		s.mu.Unlock()
		s.protocolViolation(CodeProtocolViolation, "duplicate subscribe ID %d", m.RequestID)
		return
	}
	if s.draft.Is07() {
		for _, in := range s.inSubs {
			if in.alias == m.TrackAlias {
				s.mu.Unlock()
				s.protocolViolation(0x4, "duplicate track alias %d", m.TrackAlias) // draft-07: Duplicate Track Alias
				return
			}
		}
	}
	// A placeholder holds the request ID (and the alias) while the handler runs.
	ph := &subscriber{sess: s, reqID: m.RequestID, alias: m.TrackAlias, wake: make(chan struct{}, 1), resetG: map[uint64]bool{}}
	if !over {
		s.inSubs[m.RequestID] = ph
	}
	s.mu.Unlock()
	if over {
		s.send(&wire.SubscribeError{RequestID: m.RequestID, ErrorCode: s.rules.codes.internal, Reason: "too many subscriptions", TrackAlias: m.TrackAlias})
		s.retireRequest()
		return
	}
	go s.serveSubscribe(m, ph)
}

func (s *Session) serveSubscribe(m *wire.Subscribe, ph *subscriber) {
	req := &SubscribeRequest{
		Namespace: m.Namespace, Name: m.Name, SubscriberPriority: m.SubscriberPriority, GroupOrder: m.GroupOrder,
		Filter:  Filter{Type: m.FilterType, Start: m.Start, EndGroup: m.EndGroup, EndObject: m.EndObject},
		Forward: m.Forward || s.draft.Is07(),
	}
	attached := func() {
		if f := req.Attached; f != nil {
			req.Attached = nil
			f()
		}
	}
	defer attached()
	lookup := func() (*Track, error) {
		var t *Track
		var err error
		if s.handler != nil {
			attached()
			req.ReplayFrom = nil
			t, err = s.handler.Subscribe(s, req)
		} else {
			t, err = s.lookupTrack(m.Namespace, m.Name)
		}
		if err == nil && t == nil {
			err = ErrTrackNotFound
		}
		return t, err
	}
	var t *Track
	err := s.authorizeRequest(RequestSubscribe, m.Namespace, m.Name, m.Params)
	if err == nil {
		t, err = lookup()
	}
	refuse := func(err error) {
		s.mu.Lock()
		mine := s.inSubs[m.RequestID] == ph
		if mine {
			delete(s.inSubs, m.RequestID)
		}
		s.mu.Unlock()
		code, reason := s.requestErrorCode(err, "SUBSCRIBE")
		s.send(&wire.SubscribeError{RequestID: m.RequestID, ErrorCode: code, Reason: reason, TrackAlias: m.TrackAlias})
		if mine {
			s.retireRequest() // else UNSUBSCRIBE retired it
		}
	}
	if err != nil {
		refuse(err)
		return
	}
	alias := m.TrackAlias
	s.mu.Lock()
	if s.rules.requestIDs {
		alias = s.inAlias
		s.inAlias++
	}
	cancelled := s.inSubs[m.RequestID] != ph
	s.mu.Unlock()
	if cancelled {
		t.releaseIfIdle() // a relay's upstream must not outlive its would-be subscriber
		return            // unsubscribed (or the session ended) while the handler ran
	}
	var (
		sub     *subscriber
		largest Location
		exists  bool
	)
	if s.rules.draft20 {
		req.Filter = relativeStart20(m, t, req.Filter)
	}
	for try := 1; ; try++ {
		sub = newSubscriber(s, t, m.RequestID, alias, m.SubscriberPriority)
		sub.paused = !req.Forward // draft-14 Forward = 0: set up, send nothing yet
		largest, exists, err = t.attach(sub, req.Filter, s.draft, req.ReplayFrom)
		if err == nil {
			break
		}
		sub.stopCtx()
		t.releaseIfIdle()
		if !errors.Is(err, ErrEnded) || s.handler == nil || try == 3 {
			refuse(err)
			return
		}
		// The track ended between the handler's answer and now (a relay
		// ends its upstream when the last subscriber leaves): ask again.
		if t, err = lookup(); err != nil {
			refuse(err)
			return
		}
	}
	s.mu.Lock()
	if s.inSubs[m.RequestID] != ph {
		s.mu.Unlock()
		sub.stopCtx()
		t.detach(sub)
		return
	}
	sub.okLargest, sub.okExists = largest, exists // for joining fetches
	s.inSubs[m.RequestID] = sub
	s.mu.Unlock()
	s.send(&wire.SubscribeOK{RequestID: m.RequestID, TrackAlias: alias, GroupOrder: wire.GroupOrderAscending,
		ContentExists: exists, Largest: largest})
	if m.Fill != nil && s.rules.draft20 {
		go s.serveFill(sub, m.RequestID, m.Fill)
	}
	go sub.run()
}

// forgetSubscriber removes an incoming subscription; false if it was gone.
func (s *Session) forgetSubscriber(sub *subscriber) bool {
	s.mu.Lock()
	if s.inSubs[sub.reqID] != sub {
		s.mu.Unlock()
		return false
	}
	delete(s.inSubs, sub.reqID)
	closing := s.closing
	s.mu.Unlock()
	s.retireRequest()
	return !closing
}

func (s *Session) onUnsubscribe(id uint64) {
	s.mu.Lock()
	sub := s.inSubs[id]
	delete(s.inSubs, id)
	s.mu.Unlock()
	if sub == nil {
		return // already ended: UNSUBSCRIBE crossed our PUBLISH_DONE
	}
	defer s.retireRequest() // after the answer
	if sub.track == nil {
		return // the handler is still running; serveSubscribe sees it is gone
	}
	// Draft-07 answers UNSUBSCRIBE with SUBSCRIBE_DONE (status Unsubscribed);
	// draft-14 has no such status and needs no answer.
	sub.detach(s.draft.Is07(), done07Unsubscribed, "unsubscribed")
}

func (s *Session) onSubscribeUpdate(m *wire.SubscribeUpdate) {
	id := m.RequestID
	if s.rules.requestIDs {
		if !s.acceptRequestID(m.RequestID) {
			return
		}
		defer s.retireRequest() // after the answer (16); 14 sends none
		id = m.SubscriptionRequestID
	}
	s.mu.Lock()
	sub := s.inSubs[id]
	s.mu.Unlock()
	if sub == nil || sub.track == nil {
		if s.rules.updateAnswered {
			s.send(&wire.RequestError{RequestID: m.RequestID, ErrorCode: s.rules.codes.doesNotExist, Reason: "no such subscription"})
		}
		return
	}
	if m.Fill != nil && s.rules.draft20 {
		if s.fills.Load() >= maxFills {
			s.send(&wire.RequestError{RequestID: m.RequestID, ErrorCode: s.rules.codes.internal, Reason: "too many fills in flight"})
			return
		}
		// After the answer: the fill fetch stream of this update.
		defer func() { go s.serveFill(sub, m.RequestID, m.Fill) }()
	}
	if s.rules.updateAnswered {
		defer s.send(&wire.RequestOK{RequestID: m.RequestID})
	}
	// An update may only narrow the subscription: move the start forward
	// and set or lower the end.
	// Draft-16 updates carry only what changes (07 and 14 decode as all).
	filter := m.Changed&wire.UpdateFilter != 0
	sub.mu.Lock()
	if filter && sub.start.Less(m.Start) {
		sub.start = m.Start
	}
	if filter && m.EndGroup != 0 {
		end := m.EndGroup - 1
		if !sub.hasEnd || end < sub.endGroup {
			sub.hasEnd, sub.endGroup = true, end
			if s.draft.Is07() {
				sub.endObject = m.EndObject
			}
		}
	}
	if m.Changed&wire.UpdatePriority != 0 {
		sub.subPrio = m.SubscriberPriority
	}
	if s.rules.requestIDs && m.Changed&wire.UpdateForward != 0 {
		sub.paused = !m.Forward
	}
	hasEnd, endGroup := sub.hasEnd, sub.endGroup
	sub.mu.Unlock()
	// An end the track has already passed ends the subscription now (after
	// what is queued); otherwise the end group's end does.
	if hasEnd && sub.track.groupEnded(endGroup) {
		sub.enqueue(event{kind: evEndGroup, group: endGroup})
	}
}

func (s *Session) onFetch(m *wire.Fetch) {
	ctx, cancel := context.WithCancel(s.ctx)
	s.mu.Lock()
	s.inFetches[m.RequestID] = cancel
	s.mu.Unlock()
	go s.serveFetch(ctx, m)
}

func (s *Session) fetchError(id uint64, code uint64, reason string) {
	s.send(&wire.FetchError{RequestID: id, ErrorCode: code, Reason: reason})
	s.endFetch(id)
}

// endFetch cancels and forgets one of the peer's fetches, once.
func (s *Session) endFetch(id uint64) {
	s.mu.Lock()
	c := s.inFetches[id]
	delete(s.inFetches, id)
	s.mu.Unlock()
	if c != nil {
		c()
		s.retireRequest()
	}
}

func (s *Session) serveFetch(ctx context.Context, m *wire.Fetch) {
	req := &FetchRequest{Namespace: m.Namespace, Name: m.Name, SubscriberPriority: m.SubscriberPriority,
		GroupOrder: m.GroupOrder, Start: m.Start, End: m.End}
	var t *Track
	if s.rules.requestIDs && m.FetchType != wire.FetchStandalone {
		// Joining fetch: the range ends at the joined subscription's start.
		s.mu.Lock()
		sub := s.inSubs[m.JoiningRequestID]
		s.mu.Unlock()
		if sub == nil || sub.track == nil {
			s.fetchError(m.RequestID, s.rules.codes.joiningRequestID, "no such subscription to join")
			return
		}
		t = sub.track
		// The range ends at the Largest Location of the joined
		// subscription's SUBSCRIBE_OK (inclusive); without content there,
		// there is nothing to join.
		if !sub.okExists {
			s.fetchError(m.RequestID, s.rules.codes.invalidRange, "the joined subscription started on an empty track")
			return
		}
		end := sub.okLargest
		var g uint64
		if m.FetchType == wire.FetchRelativeJoining {
			if end.Group >= m.JoiningStart {
				g = end.Group - m.JoiningStart
			}
		} else {
			g = m.JoiningStart
		}
		req.Namespace, req.Name = t.Namespace(), t.Name()
		req.Start, req.End = Location{Group: g}, end
		if err := s.authorizeRequest(RequestFetch, req.Namespace, req.Name, m.Params); err != nil {
			code, reason := s.requestErrorCode(err, "FETCH")
			s.fetchError(m.RequestID, code, reason)
			return
		}
	} else {
		// Standalone: End.Object is "+1", 0 meaning the whole end group.
		if m.End.Object == 0 {
			req.End.Object = ^uint64(0)
		} else {
			req.End.Object = m.End.Object - 1
		}
		if req.End.Less(req.Start) {
			s.fetchError(m.RequestID, s.rules.codes.invalidRange, "range ends before it starts")
			return
		}
		err := s.authorizeRequest(RequestFetch, m.Namespace, m.Name, m.Params)
		switch {
		case err != nil:
		case s.handler != nil:
			t, err = s.handler.Fetch(s, req)
		default:
			t, err = s.lookupTrack(m.Namespace, m.Name)
		}
		if err == nil && t == nil {
			err = ErrTrackNotFound
		}
		if err != nil {
			code, reason := s.requestErrorCode(err, "FETCH")
			s.fetchError(m.RequestID, code, reason)
			return
		}
		if s.rules.draft20 {
			req.Start, req.End = fetchRange20(m, t, req.Start, req.End)
		}
	}
	objs := t.retainedRange(req.Start, req.End)
	if len(objs) == 0 {
		s.fetchError(m.RequestID, s.rules.codes.noObjects, "no objects in range")
		return
	}
	last := objs[len(objs)-1]
	descending := s.rules.requestStreams && m.GroupOrder == wire.GroupOrderDescending
	if descending {
		// Draft-18 sends fetched groups in the order asked for (objects
		// within a group in ID order).
		slices.SortStableFunc(objs, func(a, b *Object) int { return cmp.Compare(b.Group, a.Group) })
	}
	s.send(&wire.FetchOK{RequestID: m.RequestID, GroupOrder: wire.GroupOrderAscending,
		End: Location{Group: last.Group, Object: last.ID}})
	defer s.endFetch(m.RequestID)
	s.writeFetchStream(ctx, m.RequestID, objs, descending)
}

// writeFetchStream sends objs on a fetch stream of request id (a FETCH's,
// or on draft 20 the fill of a SUBSCRIBE or REQUEST_UPDATE).
func (s *Session) writeFetchStream(ctx context.Context, id uint64, objs []*Object, descending bool) {
	st, err := s.conn.OpenUniStreamSync(ctx)
	if err != nil {
		return
	}
	// FETCH_CANCEL (or the session's end) abandons a write blocked on the
	// peer's flow control.
	stop := context.AfterFunc(ctx, func() { st.CancelWrite(resetCancelled) })
	defer stop()
	b := wire.AppendFetchHeader(nil, s.draft, wire.FetchHeader{RequestID: id})
	enc := wire.FetchEncoder{Draft: s.draft} // draft-16 objects refer to the prior one
	if descending {
		enc.GroupOrder = wire.GroupOrderDescending
	}
	for _, o := range objs {
		if ctx.Err() != nil {
			st.CancelWrite(resetCancelled)
			return
		}
		if !wire.ValidStatus(s.draft, o.Status) {
			continue // draft-16 has no "does not exist": the object is left out
		}
		wo := *(*wire.Object)(o)
		wo.Extensions = s.extToWire(wo.Extensions)
		if s.draft.Is07() {
			wo.Extensions = nil // draft-07 objects carry no extension headers
		}
		var err error
		if b, err = enc.AppendObject(b, &wo); err != nil {
			st.CancelWrite(resetInternal)
			return
		}
		if len(b) >= 32<<10 {
			if _, err := st.Write(b); err != nil {
				return
			}
			b = b[:0]
		}
	}
	if _, err := st.Write(b); err != nil {
		return
	}
	st.Close()
}

func (s *Session) onTrackStatus(m *wire.TrackStatusRequest) {
	go func() {
		defer s.retireOther() // after the answer
		var (
			t   *Track
			err error
		)
		err = s.authorizeRequest(RequestTrackStatus, m.Namespace, m.Name, m.Params)
		switch {
		case err != nil:
		case s.handler != nil:
			t, err = s.handler.TrackStatus(s, m.Namespace, m.Name)
		default:
			t, err = s.lookupTrack(m.Namespace, m.Name)
		}
		if err == nil && t == nil {
			err = ErrTrackNotFound
		}
		if s.draft.Is07() {
			ts := &wire.TrackStatus{Namespace: m.Namespace, Name: m.Name}
			if err != nil {
				ts.StatusCode = 0x01 // does not exist
			} else if l, ok := t.Largest(); ok {
				ts.StatusCode, ts.Largest = 0x00, l
			} else {
				ts.StatusCode = 0x02 // not yet begun
			}
			s.send(ts)
			return
		}
		if err != nil {
			code, reason := s.requestErrorCode(err, "TRACK_STATUS")
			s.send(&wire.TrackStatusError{RequestID: m.RequestID, ErrorCode: code, Reason: reason})
			return
		}
		l, ok := t.Largest()
		s.send(&wire.TrackStatus{RequestID: m.RequestID, GroupOrder: wire.GroupOrderAscending, ContentExists: ok, Largest: l})
	}()
}

func (s *Session) onAnnounce(m *wire.PublishNamespace) {
	go func() {
		defer s.retireOther() // after the answer
		var err error
		s.mu.Lock()
		_, known := s.peerNS[m.Namespace.Key()]
		full := !known && len(s.peerNS) >= s.opts.maxAnnounces()
		s.mu.Unlock()
		if full {
			err = &RequestError{Op: "ANNOUNCE", Code: 0x0, Reason: "too many namespaces announced on this session"}
		} else if err = s.authorizeRequest(RequestAnnounce, m.Namespace, "", m.Params); err == nil && s.handler != nil {
			err = s.handler.Announce(s, m.Namespace)
		}
		if err == nil {
			s.mu.Lock()
			s.peerNS[m.Namespace.Key()] = m.Namespace
			if s.rules.requestIDs {
				s.peerNSByID[m.RequestID] = m.Namespace
			}
			s.mu.Unlock()
			s.notifyNamespace(m.Namespace, true)
			s.send(&wire.PublishNamespaceOK{RequestID: m.RequestID, Namespace: m.Namespace})
			return
		}
		code, reason := s.requestErrorCode(err, "ANNOUNCE")
		s.send(&wire.PublishNamespaceError{RequestID: m.RequestID, Namespace: m.Namespace, ErrorCode: code, Reason: reason})
	}()
}

func (s *Session) onUnannounce(ns Namespace) {
	s.mu.Lock()
	_, ok := s.peerNS[ns.Key()]
	delete(s.peerNS, ns.Key())
	for id, x := range s.peerNSByID {
		if x.Equal(ns) {
			delete(s.peerNSByID, id)
		}
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	s.notifyNamespace(ns, false)
	if s.handler != nil {
		go s.handler.Unannounce(s, ns)
	}
}

func (s *Session) onSubscribeNamespace(m *wire.SubscribeNamespace) {
	go func() {
		defer s.retireOther() // after the answer
		err := fmt.Errorf("moq: namespace subscriptions are served by relays: %w", ErrUnsupported)
		if aerr := s.authorizeRequest(RequestSubscribeNamespace, m.Prefix, "", m.Params); aerr != nil {
			err = aerr
		} else if s.handler != nil {
			err = s.handler.SubscribeNamespace(s, m.Prefix)
		}
		if err == nil {
			s.send(&wire.SubscribeNamespaceOK{RequestID: m.RequestID, Prefix: m.Prefix})
			return
		}
		code, reason := s.requestErrorCode(err, "SUBSCRIBE_NAMESPACE")
		if errors.Is(err, ErrUnsupported) && !s.draft.Is07() {
			code = s.rules.codes.notSupported
		}
		s.send(&wire.SubscribeNamespaceError{RequestID: m.RequestID, Prefix: m.Prefix, ErrorCode: code, Reason: reason})
	}()
}

func (s *Session) onUnsubscribeNamespace(prefix Namespace) {
	if s.handler != nil {
		go s.handler.UnsubscribeNamespace(s, prefix)
	}
}
