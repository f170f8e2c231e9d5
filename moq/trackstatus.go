package moq

import (
	"context"
	"fmt"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// TrackStatus is the answer to a TRACK_STATUS request.
type TrackStatus struct {
	// Largest is the largest location the publisher has, when HasContent.
	Largest    Location
	HasContent bool
	// Code is draft-07's status code (0 in progress, 2 not yet begun,
	// 3 finished, 4 relay cannot reach the publisher); 0 on draft-14.
	Code uint64
}

// TrackStatus asks the peer about a track without subscribing to it. A
// track the peer does not know gives a *RequestError (draft-14
// TRACK_STATUS_ERROR; draft-07 status "does not exist", code 1).
func (s *Session) TrackStatus(ctx context.Context, ns Namespace, name string) (TrackStatus, error) {
	if err := validateTrack(ns, name, false); err != nil {
		return TrackStatus{}, err
	}
	var (
		p   *pendingReq
		id  uint64
		err error
	)
	key := "ts" + trackKey(ns, name)
	unlock := s.lockRequests()
	defer unlock()
	if s.rules.requestIDs {
		if id, err = s.allocRequestID(ctx); err != nil {
			return TrackStatus{}, err
		}
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return TrackStatus{}, s.closedErr()
	}
	if s.draft.Is07() {
		p, err = s.register07(key, "TRACK_STATUS_REQUEST")
	} else {
		p = s.register(id, "TRACK_STATUS")
	}
	s.mu.Unlock()
	if err != nil {
		return TrackStatus{}, err
	}
	cleanup := func() {
		if s.draft.Is07() {
			delete(s.pending07, key)
		} else {
			delete(s.pending, id)
		}
	}
	req := &wire.TrackStatusRequest{RequestID: id, Namespace: ns, Name: name, SubscriberPriority: 128,
		FilterType: wire.FilterLargestObject, Forward: true, Params: s.authParams(false, "")}
	if err := s.sendRequest(req, unlock, cleanup); err != nil {
		return TrackStatus{}, err
	}
	m, err := s.await(ctx, p, cleanup)
	if err != nil {
		return TrackStatus{}, err
	}
	switch m := m.(type) {
	case *wire.TrackStatus:
		if s.draft.Is07() {
			switch m.StatusCode {
			case 0x01:
				return TrackStatus{}, &RequestError{Op: "TRACK_STATUS_REQUEST", Code: m.StatusCode, Reason: "track does not exist"}
			case 0x00, 0x03, 0x04:
				return TrackStatus{Largest: m.Largest, HasContent: true, Code: m.StatusCode}, nil
			}
			return TrackStatus{Code: m.StatusCode}, nil
		}
		return TrackStatus{Largest: m.Largest, HasContent: m.ContentExists}, nil
	case *wire.TrackStatusError:
		return TrackStatus{}, &RequestError{Op: "TRACK_STATUS", Code: m.ErrorCode, Reason: m.Reason}
	}
	return TrackStatus{}, fmt.Errorf("moq: unexpected answer %s to %s", wire.MessageName(s.draft, m), p.op)
}
