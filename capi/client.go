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
	"net/url"
	"sync"
	"sync/atomic"
	"time"

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

// client is a MoqClient.
type client struct {
	id    uintptr
	connQ *serialQueue
	done  chan struct{} // closed by destroy

	mu            sync.Mutex
	dead          bool
	phase         connPhase
	cancelConnect context.CancelFunc
	sess          *moq.Session
	cfg           *config
	settings      *settings       // moq_client_configure; nil: defaults
	catalogs      map[string]bool // catalog tracks holding a client reference (this session)
	reconnects    uint64
	url           string                   // the URL of the last moq_connect
	wantNS        map[string]moq.Namespace // namespaces to announce again after a reconnect
	reconnecting  bool                     // the reconnect loop is running
	changed       chan struct{}            // closed and replaced when the session changes
	endErr        error                    // why the last session ended or failed
	connCB        uintptr
	connUD        uintptr
	announced     map[string]bool
	tracks        map[string]*pubTrack
	pubs          map[uintptr]*publisher
	subs          map[uintptr]*subscriber

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
		connQ:     newSerialQueue(),
		done:      make(chan struct{}),
		announced: map[string]bool{},
		tracks:    map[string]*pubTrack{},
		pubs:      map[uintptr]*publisher{},
		subs:      map[uintptr]*subscriber{},
		wantNS:    map[string]moq.Namespace{},
		changed:   make(chan struct{}),
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
	u, err := url.Parse(rawURL)
	if err != nil {
		return errf(codeInvalid, "Invalid URL format: %v", err)
	}
	if u.Scheme != "https" && u.Scheme != "moqt" {
		return errf(codeInvalid, "URL must start with https:// (WebTransport) or moqt:// (raw QUIC): %q", rawURL)
	}
	if u.Host == "" || u.Hostname() == "" {
		return errf(codeInvalid, "Invalid URL format: no host in %q", rawURL)
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
	case c.phase == phaseConnected:
		c.mu.Unlock()
		return errf(codeInvalid, "client is already connected; call moq_disconnect first")
	}
	c.phase = phaseConnecting
	c.connCB, c.connUD = cb, ud
	ctx, cancel := context.WithCancel(context.Background())
	c.cancelConnect = cancel
	c.mu.Unlock()
	defer cancel()

	c.notify(stateConnecting, true)

	sess, cur, err := c.dial(ctx, rawURL, cfg)

	c.mu.Lock()
	cancelled := c.dead || ctx.Err() != nil
	if err == nil && cancelled {
		go sess.Close()
		err = errf(codeConnFailed, "moq_connect %s: cancelled by moq_disconnect or moq_client_destroy", rawURL)
	}
	if err != nil {
		if !errors.As(err, new(*ffiError)) {
			code := codeConnFailed
			if errors.Is(err, moq.ErrTimeout) && !cancelled {
				code = codeTimeout
			}
			err = &ffiError{code: code, msg: err.Error()}
		}
		c.phase = phaseIdle
		c.cancelConnect = nil
		c.endErr = err
		dead := c.dead
		c.mu.Unlock()
		if !dead {
			c.notify(stateFailed, true)
		}
		logger().Info("connect failed", "url", rawURL, "err", err)
		return err
	}
	c.phase = phaseConnected
	c.cancelConnect = nil
	c.sess = sess
	c.cfg = cfg
	c.url = rawURL
	c.endErr = nil
	c.announced = map[string]bool{}
	c.wantNS = map[string]moq.Namespace{}
	c.changedLocked()
	c.mu.Unlock()
	cur.Store(sess)
	if sess.GoAwayReceived() {
		go sess.Close()
	}
	logger().Info("connected", "url", rawURL, "draft", sess.Draft().String(), "transport", sess.Protocol())
	c.notify(stateConnected, true)
	go c.watch(sess)
	c.startAnnounceListener(sess, cfg, false)
	return nil
}

// dial connects a session for the client; cur is set by the caller once the
// session is adopted (GOAWAY then closes it).
func (c *client) dial(ctx context.Context, rawURL string, cfg *config) (*moq.Session, *atomic.Pointer[moq.Session], error) {
	opts := cfg.opts
	opts.Handler = handler{c}
	cur := new(atomic.Pointer[moq.Session])
	opts.OnGoAway = func(uri string) {
		if s := cur.Load(); s != nil {
			logger().Warn("relay sent GOAWAY; closing the session", "url", rawURL, "new_uri", uri)
			s.Close()
		}
	}
	sess, err := moq.Dial(ctx, rawURL, &opts)
	return sess, cur, err
}

// changedLocked wakes everything waiting for a session change.
func (c *client) changedLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// watch reports the end of a session that moq_disconnect did not end.
func (c *client) watch(sess *moq.Session) {
	defer recoverGoroutine("session watcher")
	<-sess.Done()
	c.mu.Lock()
	if c.sess != sess {
		c.mu.Unlock()
		return
	}
	err := sess.Err()
	if err == nil {
		err = moq.ErrClosed
	}
	c.endErr = errf(codeNotConnected, "session ended: %v", err)
	state := stateFailed
	var se *moq.SessionError
	if sess.GoAwayReceived() || (errors.As(err, &se) && se.Code == moq.CodeNoError) {
		state = stateDisconnected
	}
	if st := c.settings; st != nil && st.reconnect && !c.dead {
		// Keep the tracks (they are served to whichever session asks) and
		// the namespaces to announce; reconnect in the background.
		c.sess = nil
		c.nsSub = nil
		c.announced = map[string]bool{}
		c.phase = phaseConnecting
		c.reconnecting = true
		ctx, cancel := context.WithCancel(context.Background())
		c.cancelConnect = cancel
		cfg, url := c.cfg, c.url
		c.changedLocked()
		c.mu.Unlock()
		logger().Info("session ended; reconnecting", "err", err)
		c.notify(state, false)
		go c.reconnectLoop(ctx, url, cfg, st)
		return
	}
	tracks := c.detachSessionLocked()
	c.mu.Unlock()
	closeTracks(tracks)
	logger().Info("session ended", "err", err)
	c.notify(state, false)
}

// reconnectLoop connects again after a lost session, with exponential
// backoff, until it succeeds or moq_disconnect / moq_client_destroy cancel
// it.
func (c *client) reconnectLoop(ctx context.Context, url string, cfg *config, st *settings) {
	defer recoverGoroutine("reconnect")
	delay := st.reconnectMin
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(delay*2, st.reconnectMax)
		c.notify(stateConnecting, true)
		sess, cur, err := c.dial(ctx, url, cfg)
		c.mu.Lock()
		if ctx.Err() != nil || c.dead || !c.reconnecting {
			c.mu.Unlock()
			if err == nil {
				sess.Close()
			}
			return
		}
		if err != nil {
			c.endErr = errf(codeNotConnected, "reconnecting to %s: %v", url, err)
			c.mu.Unlock()
			logger().Info("reconnect attempt failed", "url", url, "err", err, "next_in", delay)
			c.notify(stateFailed, true)
			continue
		}
		c.sess = sess
		c.phase = phaseConnected
		c.reconnecting = false
		c.cancelConnect = nil
		c.endErr = nil
		c.reconnects++
		for _, p := range c.pubs {
			p.sess = sess
		}
		want := make([]moq.Namespace, 0, len(c.wantNS))
		for _, ns := range c.wantNS {
			want = append(want, ns)
		}
		c.mu.Unlock()
		cur.Store(sess)
		if sess.GoAwayReceived() {
			go sess.Close()
		}
		logger().Info("connected", "url", url, "draft", sess.Draft().String(), "transport", sess.Protocol(), "reconnect", true)
		for _, ns := range want {
			actx, cancel := context.WithTimeout(sess.Context(), cfg.requestTimeout)
			err := sess.Announce(actx, ns)
			cancel()
			if err != nil {
				logger().Warn("announcing again after reconnect failed", "namespace", nsString(ns), "err", err)
				continue
			}
			c.mu.Lock()
			if c.sess == sess {
				c.announced[ns.Key()] = true
			}
			c.mu.Unlock()
		}
		c.mu.Lock()
		c.changedLocked() // subscriptions subscribe again
		c.mu.Unlock()
		c.notify(stateConnected, true)
		go c.watch(sess)
		c.startAnnounceListener(sess, cfg, false)
		return
	}
}

// waitSession waits for a live session other than old (after a reconnect);
// it fails when the client will not get one (no reconnect, disconnected,
// destroyed) or stop is done.
func (c *client) waitSession(old *moq.Session, stop context.Context) (*moq.Session, *config, error) {
	for {
		c.mu.Lock()
		switch {
		case c.dead:
			c.mu.Unlock()
			return nil, nil, errDead()
		case c.sess != nil && c.sess != old && c.sess.Err() == nil:
			s, cfg := c.sess, c.cfg
			c.mu.Unlock()
			return s, cfg, nil
		case c.sess != nil && c.sess == old && c.settings != nil && c.settings.reconnect:
			// The session is ending; watch will start reconnecting.
		case !c.reconnecting && (c.sess == nil || c.sess == old):
			c.mu.Unlock()
			return nil, nil, errf(codeNotConnected, "session ended")
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-stop.Done():
			return nil, nil, errf(codeNotConnected, "stopped")
		}
	}
}

// detachSessionLocked forgets the current session and returns its tracks
// for closing.
func (c *client) detachSessionLocked() []*pubTrack {
	c.sess = nil
	c.phase = phaseIdle
	c.nsSub = nil
	var ts []*pubTrack
	for _, t := range c.tracks {
		ts = append(ts, t)
	}
	c.tracks = map[string]*pubTrack{}
	c.announced = map[string]bool{}
	c.wantNS = map[string]moq.Namespace{}
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
	if c.reconnecting {
		c.reconnecting = false
		c.cancelConnect()
		c.cancelConnect = nil
		c.endErr = errf(codeNotConnected, "disconnected by moq_disconnect")
		tracks := c.detachSessionLocked()
		c.changedLocked()
		subs := make([]*subscriber, 0, len(c.subs))
		for _, s := range c.subs {
			subs = append(subs, s)
		}
		c.mu.Unlock()
		closeTracks(tracks)
		for _, s := range subs {
			s.halt(errf(codeNotConnected, "session closed by moq_disconnect"))
		}
		c.notify(stateDisconnected, true)
		return nil
	}
	if c.phase == phaseConnecting {
		c.cancelConnect()
		c.mu.Unlock()
		return nil
	}
	sess := c.sess
	if sess == nil {
		c.mu.Unlock()
		return nil
	}
	c.endErr = errf(codeNotConnected, "disconnected by moq_disconnect")
	tracks := c.detachSessionLocked()
	var subs []*subscriber
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.changedLocked()
	ann := c.ann
	c.mu.Unlock()
	sess.Close()
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
	c.reconnecting = false
	if c.cancelConnect != nil {
		c.cancelConnect()
	}
	c.changedLocked()
	sess := c.sess
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
	if sess != nil {
		sess.Close()
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
	k := ns.Key()
	c.mu.Lock()
	dup := c.announced[k]
	c.mu.Unlock()
	if dup {
		return errf(codeInvalid, "Namespace already announced: %s", nsStr)
	}
	ctx, cancel := context.WithTimeout(sess.Context(), cfg.requestTimeout)
	defer cancel()
	err = sess.Announce(ctx, ns)
	if err != nil {
		var re *moq.RequestError
		switch {
		case errors.As(err, &re):
			return errf(codeConnFailed, "announce %s refused by the relay: %v", nsStr, err)
		case sess.Err() != nil:
			return errf(codeNotConnected, "announce %s: session ended: %v", nsStr, sess.Err())
		case errors.Is(err, moq.ErrTimeout) || ctx.Err() != nil:
			return errf(codeTimeout, "announce %s: no answer from the relay within %v", nsStr, cfg.requestTimeout)
		}
		return fmt.Errorf("announce %s: %w", nsStr, err)
	}
	c.mu.Lock()
	if c.sess == sess {
		c.announced[k] = true
		c.wantNS[k] = ns
	}
	c.mu.Unlock()
	return nil
}

// handler serves the relay's requests on a client's session: SUBSCRIBE,
// FETCH and TRACK_STATUS from the client's publishers, and ANNOUNCEs to the
// announce listener.
type handler struct{ c *client }

func (h handler) track(s *moq.Session, ns moq.Namespace, name string) (*moq.Track, error) {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != s {
		return nil, moq.ErrTrackNotFound
	}
	pt := c.tracks[trackKey(ns, name)]
	if pt == nil {
		return nil, moq.ErrTrackNotFound
	}
	return pt.track, nil
}

func (h handler) Subscribe(s *moq.Session, req *moq.SubscribeRequest) (*moq.Track, error) {
	return h.track(s, req.Namespace, req.Name)
}

func (h handler) Fetch(s *moq.Session, req *moq.FetchRequest) (*moq.Track, error) {
	return h.track(s, req.Namespace, req.Name)
}

func (h handler) TrackStatus(s *moq.Session, ns moq.Namespace, name string) (*moq.Track, error) {
	return h.track(s, ns, name)
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
