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
	"unsafe"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// Delivery modes (MoqDeliveryMode).
const (
	deliveryDatagram       = 0
	deliveryStream         = 1
	deliveryStreamReliable = 2
)

func toDelivery(mode int) (moq.Delivery, error) {
	switch mode {
	case deliveryDatagram:
		return moq.DeliveryDatagram, nil
	case deliveryStream:
		return moq.DeliveryStream, nil
	case deliveryStreamReliable:
		return moq.DeliveryStreamReliable, nil
	}
	return 0, errf(codeInvalid, "delivery_mode %d is not MOQ_DELIVERY_DATAGRAM (0), MOQ_DELIVERY_STREAM (1) or MOQ_DELIVERY_STREAM_RELIABLE (2)", mode)
}

// publisher is a MoqPublisher.
type publisher struct {
	id     uintptr
	c      *client
	sess   *moq.Session
	pt     *pubTrack
	maxObj int
	dead   bool // guarded by c.mu

	mu      sync.Mutex
	prio    *uint8 // moq_publisher_set_priority; nil: the track's default
	inGroup bool   // a group begun with moq_group_begin is in progress
	group   uint64
	nextObj uint64
}

// createPublisher implements moq_create_publisher_ex.
func (c *client) createPublisher(nsStr, name string, mode int) (*publisher, error) {
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
	d, err := toDelivery(mode)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil, errDead()
	}
	if c.sess == nil || c.sess.Err() != nil {
		return nil, errf(codeNotConnected, "Not connected to MoQ server")
	}
	if !c.announcedLocked(ns) {
		return nil, errf(codeInvalid, "Namespace not announced: %s", nsStr)
	}
	k := trackKey(ns, name)
	pt := c.tracks[k]
	if pt == nil {
		tr, err := c.mc.Publish(ns, name, moq.TrackOptions{Delivery: d, MaxObjectSize: c.cfg.maxObjectSize()})
		if err != nil {
			return nil, errf(codeInternal, "publish: %v", err)
		}
		pt = &pubTrack{key: k, track: tr}
		c.tracks[k] = pt
	}
	pt.refs++
	p := &publisher{c: c, sess: c.sess, pt: pt, maxObj: c.cfg.maxObjectSize()}
	handles.Lock()
	p.id = newIDLocked()
	handles.pubs[p.id] = p
	handles.Unlock()
	c.pubs[p.id] = p
	return p, nil
}

// destroy implements moq_publisher_destroy.
func (p *publisher) destroy() {
	handles.Lock()
	delete(handles.pubs, p.id)
	handles.Unlock()
	c := p.c
	c.mu.Lock()
	if p.dead {
		c.mu.Unlock()
		return
	}
	p.dead = true
	delete(c.pubs, p.id)
	p.pt.refs--
	last := p.pt.refs == 0
	if last && c.tracks[p.pt.key] == p.pt {
		delete(c.tracks, p.pt.key)
	}
	c.mu.Unlock()
	if last {
		p.pt.track.Close()
	}
}

// publish implements moq_publish_data. data is host memory, copied here.
func (p *publisher) publish(data []byte, mode int) error {
	d, err := toDelivery(mode)
	if err != nil {
		return err
	}
	if len(data) > p.maxObj {
		return errf(codeInvalid, "data_len %d exceeds the maximum object size of %d bytes", len(data), p.maxObj)
	}
	if d == moq.DeliveryDatagram && len(data) > moq.MaxDatagramPayload {
		return errf(codeInvalid, "data_len %d exceeds the maximum datagram object size of %d bytes; use MOQ_DELIVERY_STREAM", len(data), moq.MaxDatagramPayload)
	}
	if err := p.usable(); err != nil {
		return err
	}
	p.mu.Lock()
	prio := p.prio
	p.mu.Unlock()
	if prio != nil && d == p.pt.track.Delivery() {
		// This publisher's priority, not the track's.
		_, err = p.pt.track.WriteModePriority(data, d, *prio)
	} else {
		_, err = p.pt.track.WriteMode(data, d)
	}
	return p.mapWriteErr(err)
}

// usable reports why the publisher cannot publish, if it cannot.
func (p *publisher) usable() error {
	c := p.c
	c.mu.Lock()
	dead, cur, ended, mine := p.dead || c.dead, c.sess, p.pt.ended, p.sess
	c.mu.Unlock()
	if dead {
		return errf(codeInvalid, "publisher handle is invalid or destroyed")
	}
	if ended {
		return errf(codeInvalid, "the track was ended by moq_publisher_end_track")
	}
	if cur == nil || cur != mine || cur.Err() != nil {
		if mine != nil && mine.Err() != nil {
			return errf(codeNotConnected, "the publisher's session has ended: %v", mine.Err())
		}
		return errf(codeNotConnected, "the publisher's session has ended")
	}
	return nil
}

func (p *publisher) mapWriteErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, moq.ErrEnded):
		if e := p.usable(); e != nil {
			return e
		}
		return errf(codeNotConnected, "the publisher's session has ended")
	case errors.Is(err, moq.ErrTooLarge), errors.Is(err, moq.ErrInvalid):
		return errf(codeInvalid, "%v", err)
	case errors.Is(err, moq.ErrWouldBlock):
		return errf(codeWouldBlock, "a subscriber's queue is full: nothing was published, publish again later")
	}
	return errf(codeInternal, "publish: %v", err)
}

// subscribeAnnounces implements moq_subscribe_announces.
func (c *client) subscribeAnnounces(cb, ud uintptr) error {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return errDead()
	}
	if c.ann == nil {
		c.ann = newGate(0, 0)
		c.annCh = make(chan annEvent, 1024)
		go c.annLoop(c.ann, c.annCh)
	}
	g := c.ann
	c.annReg = cb != 0
	var old *moq.NamespaceSubscription
	if cb == 0 {
		old, c.nsSub = c.nsSub, nil
	}
	sess, cfg := c.sess, c.cfg
	c.mu.Unlock()
	g.set(cb, ud)
	if old != nil {
		old.Close()
	}
	if cb == 0 || sess == nil {
		return nil
	}
	return c.startAnnounceListener(sess, cfg, true)
}

// startAnnounceListener sends SUBSCRIBE_ANNOUNCES / SUBSCRIBE_NAMESPACE for
// a registered listener, waiting for the answer when wait is set.
func (c *client) startAnnounceListener(sess *moq.Session, cfg *config, wait bool) error {
	c.mu.Lock()
	if !c.annReg || c.sess != sess || c.nsSub != nil || c.nsPending {
		c.mu.Unlock()
		return nil
	}
	prefix := moq.Namespace{}
	if cfg.hasPrefix {
		prefix = cfg.announcePrefix
	} else if !sess.Draft().Is07() {
		warn := !c.warnedNS14
		c.warnedNS14 = true
		c.mu.Unlock()
		if warn {
			logger().Warn("draft-14 has no empty namespace prefix: the announce listener reports only namespaces the relay announces unasked; set MOQ_FFI_ANNOUNCE_PREFIX to ask for a prefix")
		}
		return nil
	}
	c.nsPending = true
	c.mu.Unlock()
	do := func() error {
		ctx, cancel := context.WithTimeout(sess.Context(), cfg.requestTimeout)
		defer cancel()
		n, err := sess.SubscribeNamespace(ctx, prefix)
		c.mu.Lock()
		c.nsPending = false
		keep := err == nil && c.annReg && c.sess == sess && c.nsSub == nil && !c.dead
		if keep {
			c.nsSub = n
		}
		c.mu.Unlock()
		if err != nil {
			var re *moq.RequestError
			switch {
			case errors.As(err, &re):
				return errf(codeConnFailed, "announce subscription refused by the relay: %v", err)
			case sess.Err() != nil:
				return errf(codeNotConnected, "announce subscription: session ended: %v", sess.Err())
			case errors.Is(err, moq.ErrTimeout):
				return errf(codeTimeout, "announce subscription: no answer within %v", cfg.requestTimeout)
			}
			return errf(codeConnFailed, "announce subscription: %v", err)
		}
		if !keep {
			n.Close()
			return nil
		}
		go func() { // Events are reported through the handler; drop the queue.
			for {
				if _, err := n.Next(sess.Context()); err != nil {
					return
				}
			}
		}()
		return nil
	}
	if wait {
		return do()
	}
	go func() {
		defer recoverGoroutine("announce listener")
		if err := do(); err != nil {
			logger().Warn("announce listener not started", "err", err)
		}
	}()
	return nil
}

// annLoop delivers announce callbacks, one at a time.
func (c *client) annLoop(g *gate, ch chan annEvent) {
	defer recoverGoroutine("announce dispatcher")
	for {
		select {
		case <-c.done:
			return
		case ev := <-ch:
			cb, ud, ok := g.enter()
			if !ok {
				return
			}
			c.mu.Lock()
			current := c.sess == ev.sess && !c.dead
			c.mu.Unlock()
			if cb != 0 && current {
				cs := C.CString(ev.ns)
				C.moq__call_track(C.uintptr_t(cb), C.uintptr_t(ud), cs)
				C.free(unsafe.Pointer(cs))
			}
			g.leave()
		}
	}
}
