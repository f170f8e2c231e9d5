package moq

import (
	"context"
	"fmt"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// SubscriptionUpdate narrows a subscription (SUBSCRIBE_UPDATE): a later
// start, an end, another priority. The drafts allow narrowing only.
type SubscriptionUpdate struct {
	Start Location
	// HasEnd and EndGroup set the last group delivered (inclusive).
	HasEnd   bool
	EndGroup uint64
	// EndObject (draft-07 only): one more than the last object of EndGroup;
	// 0 means the whole group.
	EndObject uint64
	// Priority is the new subscriber priority.
	Priority uint8
	// Paused (draft-14 only) stops the publisher sending (Forward = 0)
	// until an update without it.
	Paused bool
}

// Update sends SUBSCRIBE_UPDATE. The publisher sends no answer; an update
// it cannot accept may end the subscription.
func (sub *Subscription) Update(ctx context.Context, u SubscriptionUpdate) error {
	s := sub.sess
	if u.HasEnd && u.EndGroup < u.Start.Group {
		return fmt.Errorf("moq: update ends (group %d) before it starts (group %d): %w", u.EndGroup, u.Start.Group, ErrInvalid)
	}
	if u.Paused && s.draft.Is07() {
		return fmt.Errorf("moq: pausing a subscription needs draft-14: %w", ErrUnsupported)
	}
	sub.mu.Lock()
	ended := sub.ended
	sub.mu.Unlock()
	if ended {
		return fmt.Errorf("moq: subscription to %s/%s: %w", sub.ns, sub.name, ErrEnded)
	}
	m := &wire.SubscribeUpdate{RequestID: sub.reqID, Start: u.Start, SubscriberPriority: u.Priority, Forward: !u.Paused}
	if u.HasEnd {
		m.EndGroup = u.EndGroup + 1
		m.EndObject = u.EndObject
	}
	if s.draft.Is07() {
		return s.send(m)
	}
	unlock := s.lockRequests()
	defer unlock()
	id, err := s.allocRequestID(ctx)
	if err != nil {
		return err
	}
	m.RequestID, m.SubscriptionRequestID = id, sub.reqID
	return s.send(m)
}
