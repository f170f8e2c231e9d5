package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
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
	// subscribedCB is MoqSubscribeOptions.on_subscribed (0.6); 0: none.
	subscribedCB uintptr
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

	mc   *moq.Client  // the client's connection when the subscriber was made
	sess *moq.Session // a fetch's session

	mu      sync.Mutex
	cs      *moq.ClientSubscription
	fs      *moq.FetchStream
	ended   bool
	endErr  error
	stopped bool
	told    bool // on_subscribed has been called
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
	if c.mc == nil || (!live && !(p.persistent && c.reconnecting && !p.fetch)) {
		return nil, errf(codeNotConnected, "Not connected to MoQ server")
	}
	if p.queueLimit <= 0 {
		p.queueLimit = defaultQueueObjects
	}
	s := &subscriber{c: c, ns: ns, name: name, kind: kind, params: p, g: newGate(cb, ud),
		notify: make(chan struct{}), mc: c.mc, sess: c.sess}
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
func (s *subscriber) requestErr(err error, cfg *config) error {
	var re *moq.RequestError
	switch {
	case s.ctx.Err() != nil || errors.Is(err, moq.ErrClosed) || errors.Is(err, moq.ErrNotConnected):
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

func (s *subscriber) run(cfg *config) {
	defer recoverGoroutine("subscriber")
	if s.params.fetch {
		s.runFetch(cfg)
		return
	}
	// The moq.ClientSubscription subscribes again after a reconnect, and
	// after refusals when persistent.
	cs, err := s.mc.Subscribe(s.ctx, s.ns, s.name, moq.ClientSubscribeOptions{
		SubscribeOptions: s.params.opts, Persistent: s.params.persistent, OnSubscribe: s.onSubscribe(cfg)})
	if err != nil {
		if s.ctx.Err() == nil {
			err = s.requestErr(err, cfg)
			s.end(err)
			s.mu.Lock()
			told := s.told
			s.mu.Unlock()
			if !told && s.params.subscribedCB != 0 {
				// Refused before any SUBSCRIBE was sent (the session ended).
				s.callSubscribed(codeOf(err), err.Error())
			}
		}
		return
	}
	s.mu.Lock()
	s.cs = cs
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		cs.Close()
		return
	}
	for {
		o, err := cs.ReadObject(s.ctx)
		if err != nil {
			if s.ctx.Err() == nil {
				s.end(errf(codeNotConnected, "%s ended: %v", s.what(), err))
			}
			return
		}
		if !s.deliver(o, time.Now()) {
			return
		}
	}
}

// onSubscribe reports the answers to the subscription's SUBSCRIBEs to
// on_subscribed, if the host gave one. The moq.ClientSubscription calls it
// on the goroutine that then delivers the objects (run), so it is serial
// with the object callbacks and comes before the objects it announces.
func (s *subscriber) onSubscribe(cfg *config) func(moq.SubscribeEvent) {
	if s.params.subscribedCB == 0 {
		return nil
	}
	return func(ev moq.SubscribeEvent) {
		s.mu.Lock()
		if s.cs == nil {
			s.cs = ev.Sub // moq_subscriber_stats from inside the callback sees it
		}
		s.told = true
		s.mu.Unlock()
		track := nsString(s.ns) + "/" + s.name
		if ev.Err == nil {
			msg := "subscribed to " + track
			if ev.Resubscribe {
				msg = fmt.Sprintf("subscribed again to %s (resubscription %d)", track, ev.Sub.Resubscribes())
			}
			s.callSubscribed(codeOK, msg)
			return
		}
		err := s.requestErr(ev.Err, cfg)
		msg := err.Error()
		if ev.Retrying {
			msg += "; retrying"
		} else {
			s.end(err) // moq_is_subscribed is false inside the callback
		}
		s.callSubscribed(codeOf(err), msg)
	}
}

// callSubscribed calls on_subscribed, unless the handle was stopped.
func (s *subscriber) callSubscribed(code int, msg string) {
	_, ud, ok := s.g.enter()
	if !ok {
		return
	}
	cs := C.CString(msg)
	C.moq__call_subscribed(C.uintptr_t(s.params.subscribedCB), C.uintptr_t(ud), C.uintptr_t(s.id), C.int(code), cs)
	C.free(unsafe.Pointer(cs))
	s.g.leave()
}

// runFetch runs a FETCH on the session the subscriber was made on and
// delivers its objects.
func (s *subscriber) runFetch(cfg *config) {
	sess := s.sess
	rctx, cancel := context.WithTimeout(s.ctx, cfg.requestTimeout)
	fs, err := sess.Fetch(rctx, s.ns, s.name, s.params.start, s.params.end, moq.FetchOptions{})
	cancel()
	if err != nil {
		if s.ctx.Err() == nil {
			err = s.requestErr(err, cfg)
			s.end(err)
			s.fetchDone(err)
		}
		return
	}
	s.mu.Lock()
	s.fs = fs
	stopped := s.stopped
	s.mu.Unlock()
	defer fs.Close()
	if stopped {
		return
	}
	var got fetchRange
	for {
		o, err := fs.ReadObject(s.ctx)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if sess.Err() != nil {
				err = sess.Err()
			}
			if errors.Is(err, moq.ErrEnded) {
				s.end(errf(codeNotConnected, "%s: complete", s.what()))
				s.fetchDoneMsg(got.describe(s.params.start, s.params.end))
				return
			}
			err = errf(codeNotConnected, "%s ended: %v", s.what(), err)
			s.end(err)
			s.fetchDone(err)
			return
		}
		got.add(o)
		if !s.deliver(o, time.Now()) {
			return
		}
	}
}

// fetchRange is what a fetch delivered.
type fetchRange struct {
	n           uint64
	first, last moq.Location
}

func (r *fetchRange) add(o *moq.Object) {
	l := moq.Location{Group: o.Group, Object: o.ID}
	if r.n == 0 || l.Less(r.first) {
		r.first = l
	}
	if r.n == 0 || r.last.Less(l) {
		r.last = l
	}
	r.n++
}

// describe is the done callback's message for a completed fetch of
// start..end: how much came, and "partial: ..." when the publisher no
// longer (or not yet) had part of the range.
func (r *fetchRange) describe(start, end moq.Location) string {
	if r.n == 0 {
		return fmt.Sprintf("partial: no object of (%d,%d)..(%d,%s) was available", start.Group, start.Object, end.Group, objStr(end.Object))
	}
	got := fmt.Sprintf("%d objects, (%d,%d)..(%d,%d)", r.n, r.first.Group, r.first.Object, r.last.Group, r.last.Object)
	early := start.Less(r.first) && !(start.Group == r.first.Group && start.Object == 0 && r.first.Object == 0)
	late := r.last.Group < end.Group || (end.Object != ^uint64(0) && r.last.Group == end.Group && r.last.Object < end.Object)
	if early || late {
		return fmt.Sprintf("partial: %s of (%d,%d)..(%d,%s) was available", got, start.Group, start.Object, end.Group, objStr(end.Object))
	}
	return "complete: " + got
}

func objStr(o uint64) string {
	if o == ^uint64(0) {
		return "end"
	}
	return fmt.Sprint(o)
}

// fetchDone calls the fetch's done callback (once: runFetch calls it at
// most once), unless the handle was stopped.
func (s *subscriber) fetchDone(err error) {
	if !s.params.fetch || s.params.doneCB == 0 {
		return
	}
	code, msg := codeOK, ""
	if err != nil {
		code, msg = codeOf(err), err.Error()
	}
	s.callDone(code, msg)
}

// fetchDoneMsg reports a completed fetch with MOQ_OK and msg.
func (s *subscriber) fetchDoneMsg(msg string) {
	if s.params.doneCB == 0 {
		return
	}
	s.callDone(codeOK, msg)
}

// callDone calls the done callback, unless the handle was stopped.
func (s *subscriber) callDone(code int, msg string) {
	_, ud, ok := s.g.enter()
	if !ok {
		return
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
// groups past the object and byte limits. The byte limit does not count the
// largest object queued: an object of any size accepted is delivered.
func (s *subscriber) push(o *moq.Object, at time.Time) {
	byteLimit := s.c.subBufferLimit()
	n := len(o.Payload) + len(o.Extensions)
	overBytes := func() bool {
		if s.qBytes+n <= byteLimit {
			return false
		}
		largest := n
		for _, e := range s.q {
			largest = max(largest, len(e.o.Payload)+len(e.o.Extensions))
		}
		return s.qBytes+n > byteLimit+largest
	}
	for len(s.q) > 0 && (len(s.q) >= s.params.queueLimit || overBytes()) {
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

// subStats are moq_subscriber_stats's numbers.
type subStats struct {
	objects, bytes, dropped uint64
	latest                  moq.Location
	hasLatest               bool
	active                  bool
	resubscribes            uint64
}

// stats implements moq_subscriber_stats.
func (s *subscriber) stats() subStats {
	s.mu.Lock()
	st := subStats{objects: s.objects, bytes: s.bytes, dropped: s.dropped, latest: s.latest, hasLatest: s.hasLatest}
	cs, fs, ended := s.cs, s.fs, s.ended
	s.mu.Unlock()
	if cs != nil {
		st.dropped += cs.Stats().Dropped
		st.active = cs.Active() && !ended
		st.resubscribes = cs.Resubscribes()
	}
	if fs != nil {
		st.active = !ended
	}
	return st
}

// halt stops the subscription (UNSUBSCRIBE, or FETCH_CANCEL) and its
// callbacks.
func (s *subscriber) halt(reason error) {
	s.end(reason)
	s.mu.Lock()
	s.stopped = true
	cs, fs := s.cs, s.fs
	s.mu.Unlock()
	s.cancel()
	if cs != nil {
		cs.Close()
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
	ended, endErr := s.ended, s.endErr
	s.mu.Unlock()
	if ended {
		return false, endErr
	}
	// A subscription waiting for a reconnect, or retrying, still counts.
	if err := s.mc.Err(); err != nil && !s.mc.Reconnecting() {
		return false, errf(codeNotConnected, "session ended: %v", err)
	}
	return true, nil
}
