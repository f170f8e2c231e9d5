package moq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ClientSubscribeOptions configure a Client subscription.
type ClientSubscribeOptions struct {
	SubscribeOptions
	// Persistent: keep subscribing (with the client's reconnect backoff)
	// while the track does not exist or after its publisher ended it, until
	// Close. Without it, a refusal or the end of the track ends the
	// subscription; a lost session is still survived when the client
	// reconnects.
	Persistent bool
	// OnSubscribe, if set, is told the answer to each SUBSCRIBE: accepted
	// (the first time, and again after each reconnect or, when persistent,
	// each time the track comes back), refused or unanswered (and whether
	// the subscription goes on trying), and the final failure when the
	// client's session is gone for good. It is called on the goroutine
	// running Subscribe or ReadObject, before that reads on, so it comes
	// before the objects of the SUBSCRIBE it reports; it must not block
	// long and must not call ReadObject.
	OnSubscribe func(SubscribeEvent)
}

// SubscribeEvent is the answer to one SUBSCRIBE of a ClientSubscription
// (ClientSubscribeOptions.OnSubscribe).
type SubscribeEvent struct {
	// Sub is the subscription.
	Sub *ClientSubscription
	// Err is nil when the SUBSCRIBE was accepted; otherwise why it failed
	// (a *RequestError when refused, ErrTimeout when unanswered, ...).
	Err error
	// Resubscribe: an accepted SUBSCRIBE after the first one.
	Resubscribe bool
	// Retrying: after a failure, the subscription goes on and subscribes
	// again; false after a failure means it ended with Err.
	Retrying bool
}

// ClientSubscription is a subscription of a Client that survives
// reconnects: when its session is lost it subscribes again on the next one
// (refusals are retried for RequestTimeout after a reconnect, since the
// publisher may not be back yet), and a persistent one also outlives its
// track. Subscribing again happens inside ReadObject, which one goroutine
// at a time should call.
//
// Objects come in order within each SUBSCRIBE. After subscribing again
// because the session was lost, objects of the last delivered group up to
// the last delivered object are skipped until a newer one comes (a relay
// replays the current group to a new subscriber); after a track ended (a
// persistent subscription), nothing is skipped: the next track is new. An
// absolute filter resumes after the last delivered object.
type ClientSubscription struct {
	c      *Client
	ns     Namespace
	name   string
	opts   ClientSubscribeOptions
	ctx    context.Context // done on Close
	cancel context.CancelFunc
	readMu sync.Mutex // serializes ReadObject

	mu         sync.Mutex
	sub        *Subscription
	cur        *Session // the session of sub, or of the last attempt
	dead       *Session // a session known to have ended
	err        error    // final
	retryAt    time.Time
	delay      time.Duration
	resubUntil time.Time
	made       uint64 // SUBSCRIBEs that were accepted
	dedup      bool   // after a lost session: skip a replay of what was delivered
	stats      SubscriptionStats
	pastDrops  uint64
}

// Subscribe subscribes to (ns, name) on the live session. Unless
// opts.Persistent, it waits for the first answer and returns its refusal
// (as Session.Subscribe); a persistent subscription returns at once and
// subscribes in ReadObject, once the client has a session.
func (c *Client) Subscribe(ctx context.Context, ns Namespace, name string, opts ClientSubscribeOptions) (*ClientSubscription, error) {
	if err := validateTrack(ns, name, false); err != nil {
		return nil, err
	}
	if opts.ForwardTo != nil {
		return nil, fmt.Errorf("moq: ForwardTo is for session subscriptions: %w", ErrInvalid)
	}
	c.mu.Lock()
	closed, live := c.closed, c.sess != nil && c.sess.Err() == nil
	reconnecting := c.phase == phaseReconnecting
	c.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case !live && !(opts.Persistent && reconnecting):
		return nil, ErrNotConnected
	}
	lo, _ := c.opts.backoff()
	cs := &ClientSubscription{c: c, ns: ns, name: name, opts: opts, delay: lo}
	cs.ctx, cs.cancel = context.WithCancel(context.Background())
	if opts.Persistent {
		return cs, nil
	}
	if err := cs.establish(ctx); err != nil {
		cs.cancel()
		return nil, err
	}
	return cs, nil
}

// Namespace and Name name the track.
func (cs *ClientSubscription) Namespace() Namespace { return cs.ns }
func (cs *ClientSubscription) Name() string         { return cs.name }

// Active reports whether a SUBSCRIBE is in place now (false while waiting
// for a session or retrying).
func (cs *ClientSubscription) Active() bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.sub != nil && cs.err == nil
}

// Resubscribes counts the SUBSCRIBEs accepted after the first.
func (cs *ClientSubscription) Resubscribes() uint64 {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.made == 0 {
		return 0
	}
	return cs.made - 1
}

// Err is why the subscription ended for good; nil while it lasts.
func (cs *ClientSubscription) Err() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.err
}

// Stats sums the counters of every SUBSCRIBE made for this subscription.
func (cs *ClientSubscription) Stats() SubscriptionStats {
	cs.mu.Lock()
	st, sub := cs.stats, cs.sub
	st.Dropped = cs.pastDrops
	cs.mu.Unlock()
	if sub != nil {
		st.Dropped += sub.Stats().Dropped
	}
	return st
}

// Close unsubscribes and ends the subscription; ReadObject then fails with
// an error wrapping ErrEnded.
func (cs *ClientSubscription) Close() error {
	cs.finish(fmt.Errorf("moq: unsubscribed: %w", ErrEnded))
	return nil
}

// finish ends the subscription with err (first reason wins) and returns
// the reason it ended with.
func (cs *ClientSubscription) finish(err error) error {
	cs.mu.Lock()
	if cs.err == nil {
		cs.err = err
	}
	err = cs.err
	sub := cs.sub
	cs.mu.Unlock()
	cs.cancel()
	if sub != nil {
		sub.Close()
	}
	return err
}

// ReadObject returns the next object, subscribing again as needed. It
// fails with the subscription's final error, or ctx's error (the
// subscription goes on).
func (cs *ClientSubscription) ReadObject(ctx context.Context) (*Object, error) {
	cs.readMu.Lock()
	defer cs.readMu.Unlock()
	for {
		cs.mu.Lock()
		sub, err := cs.sub, cs.err
		cs.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if sub == nil {
			if err := cs.establish(ctx); err != nil {
				return nil, err
			}
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(cs.ctx, cancel)
		o, err := sub.ReadObject(rctx)
		stop()
		cancel()
		if err == nil {
			if cs.accept(o) {
				return o, nil
			}
			continue
		}
		if cs.ctx.Err() != nil {
			return nil, cs.finish(ErrClosed)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		cs.retire(sub, err)
	}
}

// accept counts o, or reports it as a duplicate of what was delivered
// before the last SUBSCRIBE.
func (cs *ClientSubscription) accept(o *Object) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.dedup {
		if cs.stats.HasLatest && o.Group == cs.stats.Latest.Group && o.ID <= cs.stats.Latest.Object {
			return false
		}
		cs.dedup = false // past the replay
	}
	cs.stats.Objects++
	cs.stats.Bytes += uint64(len(o.Payload))
	if !cs.stats.HasLatest || o.Group > cs.stats.Latest.Group ||
		(o.Group == cs.stats.Latest.Group && o.ID > cs.stats.Latest.Object) {
		cs.stats.Latest, cs.stats.HasLatest = Location{Group: o.Group, Object: o.ID}, true
	}
	return true
}

// retire handles the end of sub: a lost session is waited out, an ended
// track is retried if persistent, anything else ends the subscription.
func (cs *ClientSubscription) retire(sub *Subscription, err error) {
	cs.mu.Lock()
	cs.sub = nil
	cs.pastDrops += sub.Stats().Dropped
	sess := cs.cur
	cs.mu.Unlock()
	sub.Close()
	switch {
	case sess.Err() != nil:
		// The same track goes on: a relay may replay what we have.
		cs.mu.Lock()
		cs.dead = sess
		cs.dedup = true
		cs.mu.Unlock()
	case cs.opts.Persistent && cs.rangeLeft():
		// The track ended: what comes next is a new one, not a replay.
		_, hi := cs.c.opts.backoff()
		cs.mu.Lock()
		cs.retryAt = time.Now().Add(cs.delay)
		cs.delay = min(cs.delay*2, hi)
		cs.dedup = false
		cs.mu.Unlock()
		cs.c.logger().Info("subscribing again", "namespace", cs.ns.String(), "track", cs.name, "reason", err)
	default:
		cs.finish(err)
	}
}

// rangeLeft reports whether a range subscription has groups left to
// deliver (always true for other filters).
func (cs *ClientSubscription) rangeLeft() bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	_, done := cs.filter()
	return !done
}

// filter is the filter of the next SUBSCRIBE: an absolute one resumes
// after the last delivered object. done reports a range whose end group
// was delivered already: nothing is left to subscribe to.
func (cs *ClientSubscription) filter() (o SubscribeOptions, done bool) {
	o = cs.opts.SubscribeOptions
	f := o.Filter
	if cs.stats.HasLatest && (f.Type == FilterAbsoluteStart || f.Type == FilterAbsoluteRange) {
		next := Location{Group: cs.stats.Latest.Group, Object: cs.stats.Latest.Object + 1}
		if f.Start.Less(next) {
			f.Start = next
		}
		o.Filter = f
		done = f.Type == FilterAbsoluteRange && cs.stats.Latest.Group >= f.EndGroup
	}
	return o, done
}

// report tells OnSubscribe, if set.
func (cs *ClientSubscription) report(ev SubscribeEvent) {
	if f := cs.opts.OnSubscribe; f != nil {
		ev.Sub = cs
		f(ev)
	}
}

// establish subscribes on the client's live session, waiting for one
// (after a lost session) and retrying refusals as the options allow.
func (cs *ClientSubscription) establish(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(cs.ctx, cancel)
	defer stop()
	callerGone := func() error {
		if cs.ctx.Err() != nil {
			return cs.finish(ErrClosed)
		}
		return ctx.Err()
	}
	lo, hi := cs.c.opts.backoff()
	for {
		cs.mu.Lock()
		dead, retryAt, prev := cs.dead, cs.retryAt, cs.cur
		cs.mu.Unlock()
		sess, err := cs.c.WaitSession(ctx, dead)
		if err != nil {
			if ctx.Err() != nil {
				return callerGone()
			}
			err = cs.finish(fmt.Errorf("moq: subscribe %s/%s: %w", cs.ns, cs.name, err))
			cs.report(SubscribeEvent{Err: err})
			return err
		}
		if prev != nil && sess != prev {
			// A new session: the publisher may not be back yet.
			cs.mu.Lock()
			cs.resubUntil = time.Now().Add(cs.c.opts.requestTimeout())
			cs.delay, cs.retryAt, retryAt = lo, time.Time{}, time.Time{}
			cs.mu.Unlock()
		}
		if wait := time.Until(retryAt); !retryAt.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return callerGone()
			case <-sess.Done():
				t.Stop()
				continue
			case <-t.C:
			}
		}
		cs.mu.Lock()
		opts, done := cs.filter()
		cs.cur = sess
		cs.mu.Unlock()
		if done {
			return cs.finish(fmt.Errorf("moq: subscribe %s/%s: the range was delivered: %w", cs.ns, cs.name, ErrEnded))
		}
		rctx, rcancel := context.WithTimeout(ctx, cs.c.opts.requestTimeout())
		sub, err := sess.Subscribe(rctx, cs.ns, cs.name, opts)
		rcancel()
		if err == nil {
			cs.mu.Lock()
			if cs.err != nil { // closed meanwhile
				cs.mu.Unlock()
				sub.Close()
				return cs.Err()
			}
			cs.sub = sub
			cs.made++
			again := cs.made > 1
			cs.retryAt = time.Time{}
			cs.delay = lo
			cs.mu.Unlock()
			cs.report(SubscribeEvent{Resubscribe: again})
			return nil
		}
		if ctx.Err() != nil {
			return callerGone()
		}
		if sess.Err() != nil {
			cs.mu.Lock()
			cs.dead = sess
			cs.mu.Unlock()
			continue
		}
		cs.mu.Lock()
		retry := cs.opts.Persistent || (time.Now().Before(cs.resubUntil) && !errors.Is(err, ErrInvalid))
		if retry {
			cs.retryAt = time.Now().Add(cs.delay)
			cs.delay = min(cs.delay*2, hi)
		}
		cs.mu.Unlock()
		if !retry {
			err = cs.finish(err)
			cs.report(SubscribeEvent{Err: err})
			return err
		}
		cs.report(SubscribeEvent{Err: err, Retrying: true})
		cs.c.logger().Info("subscribing again", "namespace", cs.ns.String(), "track", cs.name, "reason", err)
	}
}
