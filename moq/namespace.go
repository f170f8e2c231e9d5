package moq

import (
	"context"
	"fmt"
	"sync"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// NamespaceEvent is a namespace announced (Active) or withdrawn by the peer.
type NamespaceEvent struct {
	Namespace Namespace
	Active    bool
}

// NamespaceSubscription receives the namespaces the peer announces under a
// prefix (SUBSCRIBE_NAMESPACE in 14, SUBSCRIBE_ANNOUNCES in 07).
type NamespaceSubscription struct {
	sess   *Session
	st     transport.Stream // draft-16: the subscription's own stream
	prefix Namespace
	mu     sync.Mutex
	q      []NamespaceEvent
	wake   chan struct{}
	err    error
	ended  bool
}

// maxNamespaceEvents bounds a namespace subscription's unread events.
const maxNamespaceEvents = 4096

// Prefix returns the subscribed prefix.
func (n *NamespaceSubscription) Prefix() Namespace { return n.prefix }

// Next returns the next event, waiting until one arrives, the subscription
// ends, or ctx is done.
func (n *NamespaceSubscription) Next(ctx context.Context) (NamespaceEvent, error) {
	for {
		n.mu.Lock()
		if len(n.q) > 0 {
			ev := n.q[0]
			n.q = n.q[1:]
			n.mu.Unlock()
			return ev, nil
		}
		if n.ended {
			err := n.err
			n.mu.Unlock()
			return NamespaceEvent{}, err
		}
		n.mu.Unlock()
		select {
		case <-n.wake:
		case <-ctx.Done():
			return NamespaceEvent{}, ctx.Err()
		}
	}
}

func (n *NamespaceSubscription) push(ev NamespaceEvent) {
	n.mu.Lock()
	if !n.ended && len(n.q) < maxNamespaceEvents {
		n.q = append(n.q, ev)
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *NamespaceSubscription) finish(err error) {
	n.mu.Lock()
	if !n.ended {
		n.ended, n.err = true, err
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Close withdraws the namespace subscription.
func (n *NamespaceSubscription) Close() error {
	s := n.sess
	k := n.prefix.Key()
	s.mu.Lock()
	own := s.nsSubs[k] == n
	if own {
		delete(s.nsSubs, k)
	}
	closing := s.closing
	s.mu.Unlock()
	n.finish(fmt.Errorf("moq: namespace subscription closed: %w", ErrEnded))
	if n.st != nil {
		// Draft-16: closing the stream ends the subscription.
		err := n.st.Close()
		n.st.CancelRead(nsStreamCancelled)
		if closing {
			return nil
		}
		return err
	}
	if own && !closing {
		return s.send(&wire.UnsubscribeNamespace{Prefix: n.prefix})
	}
	return nil
}

// SubscribeNamespace asks the peer for the namespaces under prefix and
// waits for its answer. Namespaces the peer had already announced to this
// session are reported first. In draft-07 an empty prefix asks for all
// namespaces; draft-14 requires 1 to 32 fields (an empty tuple is a
// protocol violation there), so an empty prefix fails with ErrInvalid.
func (s *Session) SubscribeNamespace(ctx context.Context, prefix Namespace) (*NamespaceSubscription, error) {
	if err := validateTrack(prefix, "", s.rules.emptyPrefix); err != nil {
		return nil, err
	}
	if s.rules.namespaceStreams {
		return s.subscribeNamespaceStream(ctx, prefix)
	}
	k := prefix.Key()
	n := &NamespaceSubscription{sess: s, prefix: prefix, wake: make(chan struct{}, 1)}
	var (
		p   *pendingReq
		id  uint64
		err error
	)
	unlock := s.lockRequests()
	defer unlock()
	s.mu.Lock()
	_, dup := s.nsSubs[k]
	s.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("moq: prefix %q is already subscribed: %w", prefix.String(), ErrInvalid)
	}
	if !s.draft.Is07() {
		if id, err = s.allocRequestID(ctx); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, s.closedErr()
	}
	if _, dup := s.nsSubs[k]; dup {
		s.mu.Unlock()
		return nil, fmt.Errorf("moq: prefix %q is already subscribed: %w", prefix.String(), ErrInvalid)
	}
	if s.draft.Is07() {
		if p, err = s.register07("sns"+k, "SUBSCRIBE_ANNOUNCES"); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	} else {
		p = s.register(id, "SUBSCRIBE_NAMESPACE")
	}
	// Registered now so that announces racing the OK are not lost.
	s.nsSubs[k] = n
	for _, ns := range s.peerNS {
		if ns.HasPrefix(prefix) {
			n.q = append(n.q, NamespaceEvent{Namespace: ns, Active: true})
		}
	}
	s.mu.Unlock()
	cleanup := func() {
		delete(s.pending07, "sns"+k)
		delete(s.pending, id)
		if s.nsSubs[k] == n {
			delete(s.nsSubs, k)
		}
	}
	if err := s.sendRequest(&wire.SubscribeNamespace{RequestID: id, Prefix: prefix, Params: s.authParams(false, "")}, unlock, cleanup); err != nil {
		return nil, err
	}
	m, err := s.await(ctx, p, cleanup)
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *wire.SubscribeNamespaceOK:
		return n, nil
	case *wire.SubscribeNamespaceError:
		s.mu.Lock()
		cleanup()
		s.mu.Unlock()
		return nil, &RequestError{Op: wire.MessageName(s.draft, m), Code: m.ErrorCode, Reason: m.Reason}
	}
	return nil, fmt.Errorf("moq: unexpected answer %s to %s", wire.MessageName(s.draft, m), p.op)
}

// notifyNamespace reports a peer's announce or withdrawal to matching
// namespace subscriptions and the Announces listener.
func (s *Session) notifyNamespace(ns Namespace, active bool) {
	s.mu.Lock()
	var targets []*NamespaceSubscription
	for _, n := range s.nsSubs {
		if n.st == nil && ns.HasPrefix(n.prefix) { // streams report their own
			targets = append(targets, n)
		}
	}
	s.mu.Unlock()
	for _, n := range targets {
		n.push(NamespaceEvent{Namespace: ns, Active: active})
	}
}

// PeerNamespaces returns the namespaces the peer has announced to this
// session and not withdrawn.
func (s *Session) PeerNamespaces() []Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Namespace, 0, len(s.peerNS))
	for _, ns := range s.peerNS {
		out = append(out, ns)
	}
	return out
}
