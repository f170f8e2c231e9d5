package moq

import (
	"context"
	"fmt"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// FetchStream receives the objects of a FETCH, in the order the publisher
// sends them (ascending by default). ReadObject returns an error wrapping
// ErrEnded after the last object.
type FetchStream struct {
	q    *Subscription // the object queue (no ordering buffer needed)
	ok   *wire.FetchOK
	sess *Session
	id   uint64
	// order is the group order asked for (draft-18 fetch streams
	// delta-code Group IDs along it).
	order uint8
}

// End returns the location of the last object the publisher will send.
func (f *FetchStream) End() Location { return f.ok.End }

// ReadObject returns the next object, waiting until one arrives, the fetch
// ends or ctx is done.
func (f *FetchStream) ReadObject(ctx context.Context) (*Object, error) { return f.q.ReadObject(ctx) }

// Close cancels the fetch if it is still running (FETCH_CANCEL).
func (f *FetchStream) Close() error {
	f.sess.mu.Lock()
	running := f.sess.fetches[f.id] == f
	delete(f.sess.fetches, f.id)
	f.sess.mu.Unlock()
	f.finish(fmt.Errorf("moq: fetch cancelled: %w", ErrEnded))
	if running {
		return f.sess.send(&wire.FetchCancel{RequestID: f.id})
	}
	return nil
}

func (f *FetchStream) finish(err error) { f.q.finish(err) }

// FetchOptions configure a FETCH.
type FetchOptions struct {
	Priority   *uint8
	GroupOrder uint8
	// AuthToken, if set, replaces Options.AuthToken for this FETCH.
	AuthToken string
}

// Fetch asks for the objects from start to end (both inclusive) of a track
// and waits for the publisher's answer.
func (s *Session) Fetch(ctx context.Context, ns Namespace, name string, start, end Location, opts FetchOptions) (*FetchStream, error) {
	if err := validateTrack(ns, name, false); err != nil {
		return nil, err
	}
	if end.Less(start) {
		return nil, fmt.Errorf("moq: fetch range ends before it starts: %w", ErrInvalid)
	}
	wend := end
	if wend.Object == ^uint64(0) {
		wend.Object = 0 // the whole group
	} else {
		wend.Object++
	}
	return s.fetch(ctx, &wire.Fetch{FetchType: wire.FetchStandalone, Namespace: ns, Name: name, Start: start, End: wend}, opts)
}

// JoiningFetch (draft-14) fetches the groups before a subscription's start:
// the previous `groups` groups (relative) or from group `start` (absolute),
// up to where the subscription begins.
func (s *Session) JoiningFetch(ctx context.Context, sub *Subscription, start uint64, relative bool, opts FetchOptions) (*FetchStream, error) {
	if !s.rules.requestIDs {
		return nil, fmt.Errorf("moq: joining fetch needs draft-14: %w", ErrUnsupported)
	}
	if s.rules.draft20 {
		return s.joiningFetch20(ctx, sub, start, relative, opts)
	}
	ft := wire.FetchAbsoluteJoining
	if relative {
		ft = wire.FetchRelativeJoining
	}
	return s.fetch(ctx, &wire.Fetch{FetchType: ft, JoiningRequestID: sub.reqID, JoiningStart: start}, opts)
}

// newFetchStream makes the receiving side of a fetch whose objects come on
// the fetch stream of request id: a FETCH's, or a draft-20 fill's. Its queue
// takes the whole range, and groups missing from the range are not counted
// as lost (noteGroupLocked).
func (s *Session) newFetchStream(id uint64, ns Namespace, name string) *FetchStream {
	return &FetchStream{sess: s, id: id, q: &Subscription{sess: s, reqID: id, ns: ns, name: name,
		limit: 1 << 62, wake: make(chan struct{}, 1), open: map[uint64]int{}, buffered: map[uint64][]*Object{},
		done: make(chan struct{}), fetch: true}}
}

// sendFetch registers f under its request ID as the pending request op,
// sends m (the request whose answer f waits for) and releases the request
// lock with unlock. cleanup (to be called holding s.mu) forgets f and the
// pending request; sendFetch has called it already when it fails.
func (s *Session) sendFetch(f *FetchStream, op string, m wire.Message, unlock func()) (*pendingReq, func(), error) {
	id := f.id
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, nil, s.closedErr()
	}
	p := s.register(id, op)
	s.fetches[id] = f
	s.mu.Unlock()
	cleanup := func() {
		delete(s.pending, id)
		if s.fetches[id] == f {
			delete(s.fetches, id)
		}
	}
	if err := s.sendRequest(m, unlock, cleanup); err != nil {
		return nil, nil, err
	}
	return p, cleanup, nil
}

func (s *Session) fetch(ctx context.Context, m *wire.Fetch, opts FetchOptions) (*FetchStream, error) {
	m.SubscriberPriority = 128
	if opts.Priority != nil {
		m.SubscriberPriority = *opts.Priority
	}
	m.GroupOrder = opts.GroupOrder
	if err := validToken(opts.AuthToken); err != nil {
		return nil, err
	}
	m.Params = s.authParams(false, opts.AuthToken)
	unlock := s.lockRequests()
	defer unlock()
	id, err := s.allocRequestID(ctx)
	if err != nil {
		return nil, err
	}
	m.RequestID = id
	f := s.newFetchStream(id, m.Namespace, m.Name)
	f.order = m.GroupOrder
	p, cleanup, err := s.sendFetch(f, "FETCH", m, unlock)
	if err != nil {
		return nil, err
	}
	resp, err := s.await(ctx, p, cleanup)
	if err != nil {
		if s.ctx.Err() == nil {
			s.send(&wire.FetchCancel{RequestID: id})
		}
		return nil, err
	}
	switch resp := resp.(type) {
	case *wire.FetchOK:
		f.ok = resp
		return f, nil
	case *wire.FetchError:
		s.mu.Lock()
		cleanup()
		s.mu.Unlock()
		return nil, &RequestError{Op: "FETCH", Code: resp.ErrorCode, Reason: resp.Reason}
	}
	return nil, fmt.Errorf("moq: unexpected answer %s to FETCH", wire.MessageName(s.draft, resp))
}
