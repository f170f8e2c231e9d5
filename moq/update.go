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

// Update sends SUBSCRIBE_UPDATE (REQUEST_UPDATE in draft-16). In drafts 07
// and 14 the publisher sends no answer, and an update it cannot accept may
// end the subscription; in draft-16 Update waits for the answer (a
// *RequestError for REQUEST_ERROR).
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
	m.FilterType = wire.FilterAbsoluteStart // draft-16 carries the range as a filter
	if u.HasEnd {
		m.EndGroup = u.EndGroup + 1
		m.EndObject = u.EndObject
		m.FilterType = wire.FilterAbsoluteRange
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
	markUpdateAll(m)
	if !s.rules.updateAnswered {
		return s.send(m)
	}
	// Draft-16: REQUEST_UPDATE is answered.
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return s.closedErr()
	}
	p := s.register(id, opRequestUpdate)
	s.mu.Unlock()
	cleanup := func() { delete(s.pending, id) }
	if err := s.sendRequest(m, unlock, cleanup); err != nil {
		return err
	}
	a, err := s.await(ctx, p, cleanup)
	if err != nil {
		return err
	}
	if re, ok := a.(*wire.RequestError); ok {
		return &RequestError{Op: opRequestUpdate, Code: re.ErrorCode, Reason: re.Reason}
	}
	return nil
}
