package moq

import (
	"context"
	"fmt"
	"sync"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// validateTrack checks a namespace and track name against the protocol's
// limits before anything is sent.
func validateTrack(ns Namespace, name string, prefix bool) error {
	if len(ns) > wire.MaxTupleFields || (len(ns) == 0 && !prefix) {
		return fmt.Errorf("moq: namespace has %d fields; 1 to %d allowed: %w", len(ns), wire.MaxTupleFields, ErrInvalid)
	}
	n := len(name)
	for _, f := range ns {
		n += len(f)
	}
	if n > wire.MaxFullTrackName {
		return fmt.Errorf("moq: namespace and name are %d bytes; %d allowed: %w", n, wire.MaxFullTrackName, ErrInvalid)
	}
	return nil
}

func trackKey(ns Namespace, name string) string {
	return ns.Key() + "\x00" + string(wire.AppendVarint(nil, uint64(len(name)))) + name
}

func (s *Session) closedErr() error {
	if err := s.Err(); err != nil {
		return err
	}
	return ErrClosed
}

// Publish creates a track served to this session's peer: the peer's
// SUBSCRIBE, FETCH and TRACK_STATUS for (ns, name) are answered from it.
// The namespace should be announced (Announce) for a relay to route
// subscribers to it. Publishing the same name again fails until the first
// track is closed.
func (s *Session) Publish(ns Namespace, name string, opts TrackOptions) (*Track, error) {
	if err := validateTrack(ns, name, false); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, s.closedErr()
	}
	return publishIn(&s.mu, s.tracks, ns, name, s.opts.trackDefaults(opts))
}

// trackDefaults fills what opts leaves at zero from the session options.
func (o *Options) trackDefaults(opts TrackOptions) TrackOptions {
	if opts.MaxObjectSize == 0 {
		opts.MaxObjectSize = o.maxObjectSize()
	}
	if opts.RetainGroups == 0 {
		opts.RetainGroups = o.retainGroups()
	}
	if opts.RetainBytes == 0 {
		opts.RetainBytes = o.retainBytes()
	}
	return opts
}

// publishIn creates a track in tracks (guarded by mu, which the caller
// holds) that leaves it when closed; a name already there is an error.
func publishIn(mu *sync.Mutex, tracks map[string]*Track, ns Namespace, name string, opts TrackOptions) (*Track, error) {
	k := trackKey(ns, name)
	if _, dup := tracks[k]; dup {
		return nil, fmt.Errorf("moq: track %s/%s is already published: %w", ns, name, ErrInvalid)
	}
	t := NewTrack(ns, name, opts)
	tracks[k] = t
	t.OnClose(func() {
		mu.Lock()
		if tracks[k] == t {
			delete(tracks, k)
		}
		mu.Unlock()
	})
	return t, nil
}

// Announce announces a namespace to the peer (PUBLISH_NAMESPACE in 14,
// ANNOUNCE in 07) and waits for its answer: nil for OK, a *RequestError for
// its refusal, ErrTimeout without an answer.
func (s *Session) Announce(ctx context.Context, ns Namespace) error {
	if err := validateTrack(ns, "", false); err != nil {
		return err
	}
	k := ns.Key()
	s.offerNamespace(ns)
	s.mu.Lock()
	if _, dup := s.announced[k]; dup {
		s.mu.Unlock()
		return fmt.Errorf("moq: namespace %s is already announced: %w", ns, ErrInvalid)
	}
	if len(s.announced) >= s.opts.maxAnnounces() {
		s.mu.Unlock()
		return fmt.Errorf("moq: %d namespaces announced: %w", len(s.announced), ErrLimit)
	}
	s.mu.Unlock()
	unlock := func() {}
	var (
		p   *pendingReq
		id  uint64
		err error
	)
	if s.draft.Is07() {
		s.mu.Lock()
		p, err = s.register07("ann"+k, "ANNOUNCE")
		s.mu.Unlock()
		if err != nil {
			return err
		}
	} else {
		unlock = s.lockRequests()
		if id, err = s.allocRequestID(ctx); err != nil {
			unlock()
			return err
		}
		s.mu.Lock()
		p = s.register(id, "PUBLISH_NAMESPACE")
		s.mu.Unlock()
	}
	cleanup := func() {
		if s.draft.Is07() {
			delete(s.pending07, "ann"+k)
		} else {
			delete(s.pending, id)
		}
	}
	if err := s.sendRequest(&wire.PublishNamespace{RequestID: id, Namespace: ns, Params: s.authParams(false, "")}, unlock, cleanup); err != nil {
		return err
	}
	m, err := s.await(ctx, p, cleanup)
	if err != nil {
		return err
	}
	switch m := m.(type) {
	case *wire.PublishNamespaceOK:
		s.mu.Lock()
		s.announced[k] = ns
		s.announcedID[k] = id
		s.mu.Unlock()
		return nil
	case *wire.PublishNamespaceError:
		return &RequestError{Op: wire.MessageName(s.draft, m), Code: m.ErrorCode, Reason: m.Reason}
	}
	return fmt.Errorf("moq: unexpected answer %s to %s", wire.MessageName(s.draft, m), p.op)
}

// Unannounce withdraws an announced namespace (PUBLISH_NAMESPACE_DONE /
// UNANNOUNCE).
func (s *Session) Unannounce(ns Namespace) error {
	k := ns.Key()
	s.mu.Lock()
	_, ok := s.announced[k]
	id := s.announcedID[k]
	delete(s.announced, k)
	delete(s.announcedID, k)
	s.mu.Unlock()
	s.withdrawNamespace(ns)
	if !ok {
		return fmt.Errorf("moq: namespace %s is not announced: %w", ns, ErrInvalid)
	}
	return s.send(&wire.PublishNamespaceDone{Namespace: ns, RequestID: id})
}

// Subscribe subscribes to a track and waits for the publisher's answer:
// the Subscription on SUBSCRIBE_OK, a *RequestError on SUBSCRIBE_ERROR,
// ErrTimeout without an answer.
func (s *Session) Subscribe(ctx context.Context, ns Namespace, name string, opts SubscribeOptions) (*Subscription, error) {
	if err := validateTrack(ns, name, false); err != nil {
		return nil, err
	}
	if err := validToken(opts.AuthToken); err != nil {
		return nil, err
	}
	f := opts.Filter
	if f.Type == 0 {
		f.Type = FilterLatestGroup
	}
	if f.Type > FilterAbsoluteRange {
		return nil, fmt.Errorf("moq: unknown filter type %d: %w", f.Type, ErrInvalid)
	}
	if f.Type == FilterAbsoluteRange && f.EndGroup < f.Start.Group {
		return nil, fmt.Errorf("moq: range ends (group %d) before it starts (group %d): %w", f.EndGroup, f.Start.Group, ErrInvalid)
	}
	s.mu.Lock()
	n := len(s.subs)
	s.mu.Unlock()
	if n >= s.opts.maxSubscriptions() {
		return nil, fmt.Errorf("moq: %d subscriptions active: %w", n, ErrLimit)
	}
	unlock := s.lockRequests()
	defer unlock()
	id, err := s.allocRequestID(ctx)
	if err != nil {
		return nil, err
	}
	prio := uint8(128)
	if opts.Priority != nil {
		prio = *opts.Priority
	}
	sub := &Subscription{
		sess:     s,
		reqID:    id,
		ns:       ns,
		name:     name,
		limit:    intOr(opts.BufferBytes, s.opts.subscriptionBuffer()),
		wake:     make(chan struct{}, 1),
		open:     map[uint64]int{},
		buffered: map[uint64][]*Object{},
		done:     make(chan struct{}),
		fwd:      opts.ForwardTo,
	}
	msg := &wire.Subscribe{
		RequestID: id, Namespace: ns, Name: name, SubscriberPriority: prio, GroupOrder: opts.GroupOrder,
		Forward: true, FilterType: f.Type, Start: f.Start, EndGroup: f.EndGroup, EndObject: f.EndObject,
		Params: s.authParams(false, opts.AuthToken),
	}
	if s.draft == Draft16 || s.draft == Draft18 {
		// Always state the filter, even AbsoluteStart {0,0} (what an absent
		// SUBSCRIPTION_FILTER means): peers that read an absent filter as
		// "largest object" (Eyevinn moqtransport v0.9.0) then start where
		// we asked. The codec fills the listed key with the typed filter.
		msg.Params = append(msg.Params, wire.BytesParam(wire.Param16SubscriptionFilter, nil))
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, s.closedErr()
	}
	p := s.register(id, "SUBSCRIBE")
	s.subs[id] = sub
	if s.draft.Is07() {
		sub.alias, sub.hasAlias = s.nextAlias, true
		s.nextAlias++
		s.subsByAlias[sub.alias] = sub
		msg.TrackAlias = sub.alias
	}
	s.mu.Unlock()
	cleanup := func() {
		delete(s.pending, id)
		if s.subs[id] == sub {
			delete(s.subs, id)
		}
		if sub.hasAlias && s.subsByAlias[sub.alias] == sub {
			delete(s.subsByAlias, sub.alias)
		}
		s.wakeAliasWaitersLocked()
	}
	if err := s.sendRequest(msg, unlock, cleanup); err != nil {
		return nil, err
	}
	m, err := s.await(ctx, p, cleanup)
	if err != nil {
		if s.ctx.Err() == nil {
			s.send(&wire.Unsubscribe{RequestID: id}) // a late SUBSCRIBE_OK must not leave the publisher sending
		}
		sub.finish(err)
		return nil, err
	}
	switch m := m.(type) {
	case *wire.SubscribeOK:
		sub.ok = m
		return sub, nil
	case *wire.SubscribeError:
		s.mu.Lock()
		cleanup()
		s.mu.Unlock()
		rerr := &RequestError{Op: "SUBSCRIBE", Code: m.ErrorCode, Reason: m.Reason}
		sub.finish(rerr)
		return nil, rerr
	}
	s.mu.Lock()
	cleanup()
	s.mu.Unlock()
	err = fmt.Errorf("moq: unexpected answer %s to SUBSCRIBE", wire.MessageName(s.draft, m))
	sub.finish(err)
	return nil, err
}

// forgetSubscription removes sub from the session; false if it was gone.
func (s *Session) forgetSubscription(sub *Subscription) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs[sub.reqID] != sub {
		return false
	}
	delete(s.subs, sub.reqID)
	sub.mu.Lock()
	if sub.hasAlias && s.subsByAlias[sub.alias] == sub {
		delete(s.subsByAlias, sub.alias)
	}
	sub.mu.Unlock()
	s.wakeAliasWaitersLocked()
	return !s.closing
}

// registerAlias records the track alias of a draft-14 subscription from its
// SUBSCRIBE_OK; false if the alias is already in use.
func (s *Session) registerAliasLocked(sub *Subscription, alias uint64) bool {
	if other, dup := s.subsByAlias[alias]; dup && other != sub {
		return false
	}
	sub.mu.Lock()
	sub.alias, sub.hasAlias = alias, true
	sub.mu.Unlock()
	s.subsByAlias[alias] = sub
	s.wakeAliasWaitersLocked()
	return true
}

// wakeAliasWaitersLocked makes data streams waiting for an unknown alias
// look again (an alias was registered, or a subscription went away).
func (s *Session) wakeAliasWaitersLocked() {
	close(s.aliasCh)
	s.aliasCh = make(chan struct{})
}
