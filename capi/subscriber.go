package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"sync"
	"time"
	"unsafe"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// subKind is how a subscriber hands objects to the host.
type subKind int

const (
	kindData    subKind = iota // MoqDataCallback (moq_subscribe)
	kindCatalog                // MoqCatalogCallback (moq_subscribe_catalog)
	kindObject                 // MoqObjectCallback (moq_subscribe_ex, moq_fetch)
	kindPoll                   // queued for moq_subscriber_poll
)

// defaultQueueObjects is MoqSubscribeOptions.queue_objects's default.
const defaultQueueObjects = 1024

// subParams are what moq_subscribe_ex and moq_fetch add to a subscription.
type subParams struct {
	opts       moq.SubscribeOptions
	queueLimit int
	fetch      bool
	start, end moq.Location
	doneCB     uintptr
	persistent bool
}

// queued is an object waiting for moq_subscriber_poll.
type queued struct {
	o  *moq.Object
	at time.Time
}

// subscriber is a MoqSubscriber: a subscription (data, catalog, object
// callback or poll mode) or a fetch.
type subscriber struct {
	id     uintptr
	c      *client
	ns     moq.Namespace
	name   string
	kind   subKind
	params subParams
	g      *gate
	ctx    context.Context // done when the subscriber is stopped
	cancel context.CancelFunc

	mu       sync.Mutex
	sess     *moq.Session // the current session; nil while waiting for one
	retrying bool         // waiting to subscribe again (reconnect, persistent)
	sub      *moq.Subscription
	fs       *moq.FetchStream
	ended    bool
	endErr   error
	stopped  bool
	// Poll mode.
	q      []queued
	qBytes int
	notify chan struct{} // closed and replaced when q or ended changes
	// Statistics.
	objects, bytes, dropped uint64
	hasLatest               bool
	latest                  moq.Location
}

func checkTrackNames(nsStr, name string) (moq.Namespace, error) {
	ns, err := parseNamespace(nsStr)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errf(codeInvalid, "track name is empty")
	}
	if len(nsStr)+len(name) > maxNameLen {
		return nil, errf(codeInvalid, "namespace and track name are longer than %d bytes", maxNameLen)
	}
	return ns, nil
}

// subscribe implements moq_subscribe and moq_subscribe_catalog.
func (c *client) subscribe(nsStr, name string, cb, ud uintptr, catalog bool) (*subscriber, error) {
	kind := kindData
	if catalog {
		kind = kindCatalog
	}
	return c.subscribeKind(nsStr, name, cb, ud, kind, subParams{})
}

// subscribeKind starts a subscriber of any kind.
func (c *client) subscribeKind(nsStr, name string, cb, ud uintptr, kind subKind, p subParams) (*subscriber, error) {
	ns, err := checkTrackNames(nsStr, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil, errDead()
	}
	live := c.sess != nil && c.sess.Err() == nil
	if !live && !(p.persistent && c.reconnecting) {
		return nil, errf(codeNotConnected, "Not connected to MoQ server")
	}
	if p.queueLimit <= 0 {
		p.queueLimit = defaultQueueObjects
	}
	s := &subscriber{c: c, ns: ns, name: name, kind: kind, params: p, g: newGate(cb, ud),
		notify: make(chan struct{})}
	if live {
		s.sess = c.sess
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	handles.Lock()
	s.id = newIDLocked()
	handles.subs[s.id] = s
	handles.Unlock()
	c.subs[s.id] = s
	go s.run(c.cfg)
	return s, nil
}

// wakeLocked wakes pollers.
func (s *subscriber) wakeLocked() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// end records why the subscription ended (first reason wins).
func (s *subscriber) end(err error) {
	s.mu.Lock()
	first := !s.ended
	if first {
		s.ended, s.endErr = true, err
		s.wakeLocked()
	}
	s.mu.Unlock()
	if first {
		logger().Info("subscription ended", "namespace", nsString(s.ns), "track", s.name, "reason", err)
	}
}

func (s *subscriber) what() string {
	if s.params.fetch {
		return "fetch " + nsString(s.ns) + "/" + s.name
	}
	return "subscribe " + nsString(s.ns) + "/" + s.name
}

// requestErr maps the failure of a SUBSCRIBE or FETCH.
func (s *subscriber) requestErr(err error, cfg *config, sess *moq.Session) error {
	var re *moq.RequestError
	switch {
	case s.ctx.Err() != nil || sess.Err() != nil:
		return errf(codeNotConnected, "%s ended before it was answered", s.what())
	case errors.As(err, &re):
		return errf(codeConnFailed, "%s refused: %v", s.what(), err)
	case errors.Is(err, moq.ErrTimeout) || errors.Is(err, context.DeadlineExceeded):
		return errf(codeTimeout, "%s: no answer within %v", s.what(), cfg.requestTimeout)
	case errors.Is(err, moq.ErrInvalid):
		return errf(codeInvalid, "%s: %v", s.what(), err)
	}
	return errf(codeConnFailed, "%s: %v", s.what(), err)
}

// How an attempt ended.
type attemptEnd int

const (
	endFinal   attemptEnd = iota // the subscriber is finished
	endSession                   // the session ended: subscribe again after a reconnect
	endRetry                     // refused or ended: retry if persistent
)

// backoff returns the client's retry delays.
func (c *client) backoff() (lo, hi time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.settings; st != nil {
		return st.reconnectMin, st.reconnectMax
	}
	return 500 * time.Millisecond, 30 * time.Second
}

func (s *subscriber) setRetrying(v bool) {
	s.mu.Lock()
	s.retrying = v
	s.mu.Unlock()
}

func (s *subscriber) run(cfg *config) {
	defer recoverGoroutine("subscriber")
	lo, hi := s.c.backoff()
	delay := lo
	// After a reconnect the publisher may not be back yet: a refused
	// SUBSCRIBE is retried until this deadline.
	var resubUntil time.Time
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess == nil {
		ns, ncfg, err := s.c.waitSession(nil, s.ctx)
		if err != nil {
			s.end(errf(codeNotConnected, "%s: no session: %v", s.what(), err))
			return
		}
		sess, cfg = ns, ncfg
		s.mu.Lock()
		s.sess = sess
		s.mu.Unlock()
	}
	for {
		how, err := s.attempt(sess, cfg)
		if s.ctx.Err() != nil {
			return
		}
		switch {
		case how == endFinal && err == nil:
			return
		case how == endSession && !s.params.fetch:
			s.setRetrying(true)
			ns, ncfg, werr := s.c.waitSession(sess, s.ctx)
			if werr != nil {
				s.end(err)
				return
			}
			sess, cfg, delay = ns, ncfg, lo
			resubUntil = time.Now().Add(cfg.requestTimeout)
			s.mu.Lock()
			s.sess = sess
			s.mu.Unlock()
		case how == endRetry && !s.params.fetch && (s.params.persistent ||
			(codeOf(err) != codeNotConnected && time.Now().Before(resubUntil))):
			s.setRetrying(true)
			logger().Info("subscribing again", "namespace", nsString(s.ns), "track", s.name, "reason", err, "in", delay)
			t := time.NewTimer(delay)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-sess.Done():
				t.Stop()
			case <-t.C:
			}
			delay = min(delay*2, hi)
		default:
			s.end(err)
			s.fetchDone(err)
			return
		}
	}
}

// attempt runs one SUBSCRIBE (or FETCH) on sess and delivers its objects
// until it ends.
func (s *subscriber) attempt(sess *moq.Session, cfg *config) (attemptEnd, error) {
	actx, acancel := context.WithCancel(sess.Context())
	defer acancel()
	stop := context.AfterFunc(s.ctx, acancel)
	defer stop()
	how := func() attemptEnd {
		if sess.Err() != nil {
			return endSession
		}
		return endRetry
	}
	rctx, cancel := context.WithTimeout(actx, cfg.requestTimeout)
	var read func(context.Context) (*moq.Object, error)
	var closer func() error
	if s.params.fetch {
		fs, err := sess.Fetch(rctx, s.ns, s.name, s.params.start, s.params.end, moq.FetchOptions{})
		cancel()
		if err != nil {
			return endRetry, s.requestErr(err, cfg, sess)
		}
		read, closer = fs.ReadObject, fs.Close
		s.mu.Lock()
		s.fs = fs
	} else {
		sub, err := sess.Subscribe(rctx, s.ns, s.name, s.params.opts)
		cancel()
		if err != nil {
			return how(), s.requestErr(err, cfg, sess)
		}
		read, closer = sub.ReadObject, sub.Close
		s.mu.Lock()
		s.sub = sub
	}
	s.retrying = false
	if s.stopped {
		s.mu.Unlock()
		closer()
		return endFinal, nil
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.sub != nil {
			s.dropped += s.sub.Stats().Dropped
		}
		s.sub, s.fs = nil, nil
		s.mu.Unlock()
		closer()
	}()
	for {
		o, err := read(actx)
		if err != nil {
			if sess.Err() != nil {
				err = sess.Err()
			}
			if s.params.fetch && errors.Is(err, moq.ErrEnded) && actx.Err() == nil {
				s.end(errf(codeNotConnected, "%s: complete", s.what()))
				s.fetchDone(nil)
				return endFinal, nil
			}
			return how(), errf(codeNotConnected, "%s ended: %v", s.what(), err)
		}
		if !s.deliver(o, time.Now()) {
			return endFinal, nil
		}
	}
}

// fetchDone calls the fetch's done callback (once: run calls it at most
// once), unless the handle was stopped.
func (s *subscriber) fetchDone(err error) {
	if !s.params.fetch || s.params.doneCB == 0 {
		return
	}
	_, ud, ok := s.g.enter()
	if !ok {
		return
	}
	code, msg := codeOK, ""
	if err != nil {
		code, msg = codeOf(err), err.Error()
	}
	cs := C.CString(msg)
	C.moq__call_fetch_done(C.uintptr_t(s.params.doneCB), C.uintptr_t(ud), C.int(code), cs)
	C.free(unsafe.Pointer(cs))
	s.g.leave()
}

// count records a delivered object in the statistics.
func (s *subscriber) countLocked(o *moq.Object) {
	s.objects++
	s.bytes += uint64(len(o.Payload))
	s.hasLatest = true
	s.latest = moq.Location{Group: o.Group, Object: o.ID}
}

// deliver hands an object to the host; false when the subscriber stopped.
func (s *subscriber) deliver(o *moq.Object, at time.Time) bool {
	if s.kind == kindPoll {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stopped {
			return false
		}
		s.push(o, at)
		return true
	}
	cb, ud, ok := s.g.enter()
	if !ok {
		return false
	}
	// Counted before the call, so that a host that saw the object also
	// sees it in moq_subscriber_stats.
	s.mu.Lock()
	s.countLocked(o)
	s.mu.Unlock()
	if cb != 0 {
		switch s.kind {
		case kindCatalog:
			deliverCatalog(cb, ud, o.Payload, nsString(s.ns)+"/"+s.name)
		case kindData:
			C.moq__call_data(C.uintptr_t(cb), C.uintptr_t(ud), bytesPtr(o.Payload), C.size_t(len(o.Payload)))
		case kindObject:
			var ext *C.uint8_t
			if len(o.Extensions) > 0 {
				ext = (*C.uint8_t)(unsafe.Pointer(&o.Extensions[0]))
			}
			C.moq__call_object(C.uintptr_t(cb), C.uintptr_t(ud), C.uint64_t(o.Group), C.uint64_t(o.Subgroup),
				C.uint64_t(o.ID), C.uint8_t(o.Priority), C.uint8_t(o.Status), bytesPtr(o.Payload),
				C.size_t(len(o.Payload)), ext, C.size_t(len(o.Extensions)), C.uint64_t(at.UnixMicro()))
		}
	}
	s.g.leave()
	return true
}

// bytesPtr is a C pointer to b's bytes, valid (never NULL) when b is empty.
func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return C.moq__empty()
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// push queues an object for moq_subscriber_poll, dropping the oldest whole
// groups past the object and byte limits.
func (s *subscriber) push(o *moq.Object, at time.Time) {
	byteLimit := s.c.subBufferLimit()
	n := len(o.Payload) + len(o.Extensions)
	for len(s.q) > 0 && (len(s.q) >= s.params.queueLimit || s.qBytes+n > byteLimit) {
		g := s.q[0].o.Group
		kept := s.q[:0]
		for _, e := range s.q {
			if e.o.Group == g {
				s.dropped++
				s.qBytes -= len(e.o.Payload) + len(e.o.Extensions)
				continue
			}
			kept = append(kept, e)
		}
		for i := len(kept); i < len(s.q); i++ {
			s.q[i] = queued{}
		}
		s.q = kept
	}
	s.q = append(s.q, queued{o: o, at: at})
	s.qBytes += n
	s.wakeLocked()
}

// subBufferLimit is the configured per-subscription byte bound.
func (c *client) subBufferLimit() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg != nil && c.cfg.opts.SubscriptionBuffer > 0 {
		return c.cfg.opts.SubscriptionBuffer
	}
	return 8 << 20
}

// poll implements moq_subscriber_poll: it takes the next queued object into
// buf (host memory) and fills *obj.
func (s *subscriber) poll(obj *C.MoqObject, buf unsafe.Pointer, bufLen uint64, timeout time.Duration) (needed uint64, err error) {
	if s.kind != kindPoll {
		return 0, errf(codeInvalid, "subscriber is not in poll mode (it has a callback)")
	}
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	for {
		s.mu.Lock()
		if len(s.q) > 0 {
			e := s.q[0]
			need := uint64(len(e.o.Payload)) + uint64(len(e.o.Extensions))
			if bufLen < need || (buf == nil && need > 0) {
				s.mu.Unlock()
				return need, errf(codeBufferTooSmall, "buffer of %d bytes is too small: the next object needs %d", bufLen, need)
			}
			s.q[0] = queued{}
			s.q = s.q[1:]
			s.qBytes -= int(need)
			s.countLocked(e.o)
			s.mu.Unlock()
			fillObject(obj, e, buf)
			return need, nil
		}
		if s.ended {
			err := s.endErr
			s.mu.Unlock()
			if codeOf(err) != codeNotConnected {
				err = errf(codeNotConnected, "%v", err)
			}
			return 0, err
		}
		wake := s.notify
		s.mu.Unlock()
		if timer == nil {
			return 0, errf(codeTimeout, "no object yet")
		}
		select {
		case <-wake:
		case <-timer:
			return 0, errf(codeTimeout, "no object within %v", timeout)
		}
	}
}

// fillObject copies an object into buf and describes it in *obj.
func fillObject(obj *C.MoqObject, e queued, buf unsafe.Pointer) {
	o := e.o
	*obj = C.MoqObject{}
	obj.group_id = C.uint64_t(o.Group)
	obj.subgroup_id = C.uint64_t(o.Subgroup)
	obj.object_id = C.uint64_t(o.ID)
	obj.priority = C.uint8_t(o.Priority)
	obj.status = C.uint8_t(o.Status)
	obj.received_us = C.uint64_t(e.at.UnixMicro())
	obj.payload_len = C.size_t(len(o.Payload))
	obj.extensions_len = C.size_t(len(o.Extensions))
	if buf == nil {
		obj.payload = C.moq__empty()
		return
	}
	b := unsafe.Slice((*byte)(buf), len(o.Payload)+len(o.Extensions))
	copy(b, o.Payload)
	copy(b[len(o.Payload):], o.Extensions)
	obj.payload = (*C.uint8_t)(buf)
	if len(o.Extensions) > 0 {
		obj.extensions = (*C.uint8_t)(unsafe.Add(buf, len(o.Payload)))
	}
}

// stats implements moq_subscriber_stats.
func (s *subscriber) stats() (objects, bytes, dropped uint64, latest moq.Location, has bool) {
	s.mu.Lock()
	objects, bytes, dropped, latest, has = s.objects, s.bytes, s.dropped, s.latest, s.hasLatest
	sub := s.sub
	s.mu.Unlock()
	if sub != nil {
		dropped += sub.Stats().Dropped
	}
	return
}

// halt stops the subscription (UNSUBSCRIBE, or FETCH_CANCEL) and its
// callbacks.
func (s *subscriber) halt(reason error) {
	s.end(reason)
	s.mu.Lock()
	s.stopped = true
	sub, fs := s.sub, s.fs
	s.mu.Unlock()
	s.cancel()
	if sub != nil {
		sub.Close()
	}
	if fs != nil {
		fs.Close()
	}
	s.g.close()
}

// destroy implements moq_subscriber_destroy.
func (s *subscriber) destroy() {
	handles.Lock()
	delete(handles.subs, s.id)
	handles.Unlock()
	s.c.mu.Lock()
	delete(s.c.subs, s.id)
	s.c.mu.Unlock()
	s.halt(errf(codeInvalid, "unsubscribed"))
	s.mu.Lock()
	s.q = nil
	s.mu.Unlock()
}

// isSubscribed implements moq_is_subscribed; err says why not.
func (s *subscriber) isSubscribed() (bool, error) {
	s.mu.Lock()
	ended, endErr, retrying, sess := s.ended, s.endErr, s.retrying, s.sess
	s.mu.Unlock()
	if ended {
		return false, endErr
	}
	if retrying || sess == nil {
		return true, nil
	}
	if err := sess.Err(); err != nil && !s.c.isReconnecting() {
		return false, errf(codeNotConnected, "session ended: %v", err)
	}
	return true, nil
}

func (c *client) isReconnecting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reconnecting
}
