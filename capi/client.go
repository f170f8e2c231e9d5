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

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// Connection states (MoqConnectionState).
const (
	stateDisconnected = 0
	stateConnecting   = 1
	stateConnected    = 2
	stateFailed       = 3
)

type connPhase int

const (
	phaseIdle connPhase = iota
	phaseConnecting
	phaseConnected
)

// client is a MoqClient. The session, its reconnection, re-announcing and
// the tracks served on each session are a moq.Client's (one per
// moq_connect); this type maps them to the C contract and mirrors the state
// the C functions check.
type client struct {
	id    uintptr
	connQ *serialQueue
	done  chan struct{} // closed by destroy

	mu           sync.Mutex
	dead         bool
	phase        connPhase
	mc           *moq.Client // of the last moq_connect; nil after moq_disconnect
	sess         *moq.Session
	cfg          *config
	settings     *settings       // moq_client_configure; nil: defaults
	catalogs     map[string]bool // catalog tracks holding a client reference (this session)
	reconnects   uint64
	reconnecting bool  // the session was lost and mc is reconnecting
	endErr       error // why the last session ended or failed
	connCB       uintptr
	connUD       uintptr
	tracks       map[string]*pubTrack
	pubs         map[uintptr]*publisher
	subs         map[uintptr]*subscriber

	// The announce listener.
	ann        *gate
	annCh      chan annEvent
	annReg     bool
	nsSub      *moq.NamespaceSubscription
	nsPending  bool
	warnedNS14 bool
}

type annEvent struct {
	sess *moq.Session
	ns   string
}

// pubTrack is a published track shared by the publishers of one name.
type pubTrack struct {
	ended bool // moq_publisher_end_track; guarded by the client's mu
	key   string
	track *moq.Track
	refs  int
}

func newClient() *client {
	c := &client{
		connQ:  newSerialQueue(),
		done:   make(chan struct{}),
		tracks: map[string]*pubTrack{},
		pubs:   map[uintptr]*publisher{},
		subs:   map[uintptr]*subscriber{},
	}
	handles.Lock()
	c.id = newIDLocked()
	handles.clients[c.id] = c
	handles.Unlock()
	return c
}

// notify delivers a connection state to the host's callback. With wait, the
// callback has run when notify returns (see serialQueue).
func (c *client) notify(state int, wait bool) {
	c.mu.Lock()
	cb, ud, dead := c.connCB, c.connUD, c.dead
	c.mu.Unlock()
	if cb == 0 || dead {
		return
	}
	c.connQ.post(func() {
		C.moq__call_conn(C.uintptr_t(cb), C.uintptr_t(ud), C.int(state))
	}, wait)
}

func errDead() error { return errf(codeInvalid, "client handle is invalid or destroyed") }

// connect implements moq_connect.
func (c *client) connect(rawURL string, cb, ud uintptr) error {
	if _, err := moq.CheckURL(rawURL); err != nil {
		// Scheme, host, port range, no user information, no fragment.
		return errf(codeInvalid, "Invalid URL: %v", err)
	}
	c.mu.Lock()
	st := c.settings
	c.mu.Unlock()
	cfg, err := loadConfig(st)
	if err != nil {
		return err
	}
	c.mu.Lock()
	switch {
	case c.dead:
		c.mu.Unlock()
		return errDead()
	case c.phase == phaseConnecting:
		c.mu.Unlock()
		return errf(codeInvalid, "a connection attempt is already in progress on this client")
	case c.phase != phaseIdle:
		c.mu.Unlock()
		return errf(codeInvalid, "client is already connected; call moq_disconnect first")
	}
	opts := &moq.ClientOptions{Options: cfg.opts}
	opts.Handler = handler{c}
	if st != nil {
		opts.Reconnect, opts.ReconnectMin, opts.ReconnectMax = st.reconnect, st.reconnectMin, st.reconnectMax
	}
	var mc *moq.Client
	opts.OnEvent = func(ev moq.ClientEvent) { c.onEvent(mc, rawURL, ev) }
	mc = moq.NewClient(opts)
	c.phase = phaseConnecting
	c.connCB, c.connUD = cb, ud
	c.mc = mc
	c.cfg = cfg
	c.mu.Unlock()

	if err := mc.Connect(context.Background(), rawURL); err != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.mc == mc {
			c.mc = nil
		}
		return connectErr(rawURL, err, c.dead)
	}
	return nil
}

// connectErr maps the failure of a connection attempt.
func connectErr(rawURL string, err error, dead bool) error {
	cancelled := dead || errors.Is(err, context.Canceled)
	if cancelled {
		return errf(codeConnFailed, "moq_connect %s: cancelled by moq_disconnect or moq_client_destroy", rawURL)
	}
	if errors.Is(err, moq.ErrTimeout) {
		return &ffiError{code: codeTimeout, msg: err.Error()}
	}
	return &ffiError{code: codeConnFailed, msg: err.Error()}
}

// onEvent mirrors a state change of mc and reports it to the host's
// connection callback.
func (c *client) onEvent(mc *moq.Client, rawURL string, ev moq.ClientEvent) {
	c.mu.Lock()
	if c.mc != mc || c.dead {
		c.mu.Unlock()
		return
	}
	var tracks []*pubTrack
	ended := false
	state, wait := stateConnecting, true
	switch ev.State {
	case moq.ClientConnecting:
		c.phase = phaseConnecting
	case moq.ClientConnected:
		state = stateConnected
		c.phase = phaseConnected
		c.sess = ev.Session
		c.endErr = nil
		if c.reconnecting {
			c.reconnects++
			for _, p := range c.pubs {
				p.sess = ev.Session
			}
		}
		c.reconnecting = false
	default: // failed or disconnected
		state = stateFailed
		if ev.State == moq.ClientDisconnected {
			state = stateDisconnected
		}
		switch {
		case ev.Session != nil && ev.Reconnecting:
			// Keep the tracks (mc serves them to the next session) and
			// the namespaces (mc announces them again).
			c.endErr = errf(codeNotConnected, "session ended: %v", ev.Err)
			c.sess = nil
			c.nsSub = nil
			c.phase = phaseConnecting
			c.reconnecting = true
			wait = false
		case ev.Session != nil:
			c.endErr = errf(codeNotConnected, "session ended: %v", ev.Err)
			tracks = c.detachSessionLocked()
			c.mc = nil
			ended = true
			wait = false
		case ev.Reconnecting:
			c.endErr = errf(codeNotConnected, "reconnecting to %s: %v", rawURL, ev.Err)
		default:
			c.endErr = connectErr(rawURL, ev.Err, c.dead)
			c.phase = phaseIdle
		}
	}
	cfg := c.cfg
	c.mu.Unlock()
	closeTracks(tracks)
	if ended {
		mc.Close() // idle: no goroutine, no event
	}
	// mc has logged the transition (with the library's logger).
	c.notify(state, wait)
	if state == stateConnected {
		c.startAnnounceListener(ev.Session, cfg, false)
	}
}

// detachSessionLocked forgets the current session and returns its tracks
// for closing.
func (c *client) detachSessionLocked() []*pubTrack {
	c.sess = nil
	c.phase = phaseIdle
	c.reconnecting = false
	c.nsSub = nil
	var ts []*pubTrack
	for _, t := range c.tracks {
		ts = append(ts, t)
	}
	c.tracks = map[string]*pubTrack{}
	c.catalogs = nil
	return ts
}

func closeTracks(ts []*pubTrack) {
	for _, t := range ts {
		t.track.Close()
	}
}

// disconnect implements moq_disconnect.
func (c *client) disconnect() error {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return errDead()
	}
	mc := c.mc
	if mc == nil {
		c.mu.Unlock()
		return nil
	}
	if c.phase == phaseConnecting && !c.reconnecting {
		// moq_connect returns its error and reports FAILED.
		c.mu.Unlock()
		mc.Disconnect()
		return nil
	}
	c.mc = nil // mc's events are not reported from here on
	c.endErr = errf(codeNotConnected, "disconnected by moq_disconnect")
	tracks := c.detachSessionLocked()
	subs := make([]*subscriber, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	ann := c.ann
	c.mu.Unlock()
	mc.Close()
	closeTracks(tracks)
	for _, s := range subs {
		s.halt(errf(codeNotConnected, "session closed by moq_disconnect"))
	}
	if ann != nil {
		// Announce events of the old session are dropped from now on.
		ann.barrier()
	}
	c.notify(stateDisconnected, true)
	return nil
}

// destroy implements moq_client_destroy.
func (c *client) destroy() {
	handles.Lock()
	delete(handles.clients, c.id)
	handles.Unlock()
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	mc := c.mc
	c.mc = nil
	tracks := c.detachSessionLocked()
	subs := make([]*subscriber, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	pubs := c.pubs
	c.subs = map[uintptr]*subscriber{}
	c.pubs = map[uintptr]*publisher{}
	ann := c.ann
	c.mu.Unlock()
	handles.Lock()
	for id := range pubs {
		delete(handles.pubs, id)
	}
	for _, s := range subs {
		delete(handles.subs, s.id)
	}
	handles.Unlock()
	c.connQ.close()
	if mc != nil {
		mc.Close()
	}
	closeTracks(tracks)
	for _, s := range subs {
		s.halt(errf(codeInvalid, "client destroyed"))
	}
	if ann != nil {
		ann.close()
	}
	close(c.done)
}

// isConnected implements moq_is_connected; err says why not.
func (c *client) isConnected() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false, errDead()
	}
	if c.sess != nil {
		if err := c.sess.Err(); err != nil {
			return false, errf(codeNotConnected, "session ended: %v", err)
		}
		return true, nil
	}
	if c.endErr != nil {
		return false, c.endErr
	}
	if c.phase == phaseConnecting {
		return false, errf(codeNotConnected, "connection attempt in progress")
	}
	return false, errf(codeNotConnected, "Not connected to MoQ server")
}

// session returns the live session, or NOT_CONNECTED.
func (c *client) session() (*moq.Session, *config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil, nil, errDead()
	}
	if c.sess == nil || c.sess.Err() != nil {
		return nil, nil, errf(codeNotConnected, "Not connected to MoQ server")
	}
	return c.sess, c.cfg, nil
}

// announce implements moq_announce_namespace.
func (c *client) announce(nsStr string) error {
	ns, err := parseNamespace(nsStr)
	if err != nil {
		return err
	}
	sess, cfg, err := c.session()
	if err != nil {
		return err
	}
	c.mu.Lock()
	mc := c.mc
	c.mu.Unlock()
	if mc == nil {
		return errf(codeNotConnected, "Not connected to MoQ server")
	}
	if mc.Announced(ns) {
		return errf(codeInvalid, "Namespace already announced: %s", nsStr)
	}
	ctx, cancel := context.WithTimeout(sess.Context(), cfg.requestTimeout)
	defer cancel()
	err = mc.Announce(ctx, ns)
	if err != nil {
		var re *moq.RequestError
		switch {
		case errors.As(err, &re):
			return errf(codeConnFailed, "announce %s refused by the relay: %v", nsStr, err)
		case errors.Is(err, moq.ErrInvalid):
			return errf(codeInvalid, "announce %s: %v", nsStr, err)
		case sess.Err() != nil || errors.Is(err, moq.ErrNotConnected):
			return errf(codeNotConnected, "announce %s: session ended: %v", nsStr, sess.Err())
		case errors.Is(err, moq.ErrTimeout) || ctx.Err() != nil:
			return errf(codeTimeout, "announce %s: no answer from the relay within %v", nsStr, cfg.requestTimeout)
		}
		return fmt.Errorf("announce %s: %w", nsStr, err)
	}
	return nil
}

// announcedLocked reports whether ns is announced on the live session
// (c.mu held; the moq.Client never calls back into capi holding its own
// lock).
func (c *client) announcedLocked(ns moq.Namespace) bool {
	return c.mc != nil && c.mc.Announced(ns)
}

// handler serves what the moq.Client does not: ANNOUNCEs go to the
// announce listener. The client's tracks are served by the moq.Client.
type handler struct{ c *client }

func (h handler) Subscribe(*moq.Session, *moq.SubscribeRequest) (*moq.Track, error) {
	return nil, moq.ErrTrackNotFound
}

func (h handler) Fetch(*moq.Session, *moq.FetchRequest) (*moq.Track, error) {
	return nil, moq.ErrTrackNotFound
}

func (h handler) TrackStatus(*moq.Session, moq.Namespace, string) (*moq.Track, error) {
	return nil, moq.ErrTrackNotFound
}

func (h handler) Announce(s *moq.Session, ns moq.Namespace) error {
	c := h.c
	c.mu.Lock()
	ch, reg := c.annCh, c.annReg && !c.dead
	c.mu.Unlock()
	if !reg || ch == nil {
		return nil
	}
	select {
	case ch <- annEvent{sess: s, ns: nsString(ns)}:
	default:
		logger().Warn("announce listener is not keeping up; namespace dropped", "namespace", nsString(ns))
	}
	return nil
}

func (h handler) Unannounce(*moq.Session, moq.Namespace) {}

func (h handler) SubscribeNamespace(*moq.Session, moq.Namespace) error {
	return fmt.Errorf("moq_ffi: clients do not serve namespace subscriptions: %w", moq.ErrUnsupported)
}

func (h handler) UnsubscribeNamespace(*moq.Session, moq.Namespace) {}

func (h handler) SessionClosed(*moq.Session, error) {}

func trackKey(ns moq.Namespace, name string) string { return ns.Key() + "\x00" + name }
