package moq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ClientState is a Client's connection state, as reported by ClientEvent.
type ClientState int

const (
	// ClientConnecting: a connection attempt (first or reconnect) starts.
	ClientConnecting ClientState = iota + 1
	// ClientConnected: a session is up (after a reconnect: its namespaces
	// are announced again and its subscriptions are being made again).
	ClientConnected
	// ClientFailed: an attempt failed, or the session failed.
	ClientFailed
	// ClientDisconnected: the session ended cleanly (Disconnect, the peer
	// closed with NO_ERROR, or GOAWAY).
	ClientDisconnected
)

func (s ClientState) String() string {
	switch s {
	case ClientConnecting:
		return "connecting"
	case ClientConnected:
		return "connected"
	case ClientFailed:
		return "failed"
	case ClientDisconnected:
		return "disconnected"
	}
	return fmt.Sprintf("ClientState(%d)", int(s))
}

// ClientEvent is a state change of a Client.
type ClientEvent struct {
	State ClientState
	// Session is the new session (ClientConnected) or the one that ended
	// (ClientFailed / ClientDisconnected after a session); nil otherwise.
	Session *Session
	// Err says why (ClientFailed, and ClientDisconnected when the peer
	// ended the session).
	Err error
	// Reconnecting: the event belongs to automatic reconnection (an
	// attempt, or a session end after which the client will reconnect).
	Reconnecting bool
}

// ClientOptions configure a Client.
type ClientOptions struct {
	// Options configure each session. Options.Handler serves what the
	// client's own tracks (Client.Publish) do not; Options.OnGoAway is
	// called before the client moves to the new URI.
	Options

	// Reconnect: when a session ends other than by Disconnect or Close,
	// connect again (to the GOAWAY URI if the peer gave one) with
	// exponential backoff from ReconnectMin (default 500ms) doubling up to
	// ReconnectMax (default 30s), until it succeeds or Disconnect/Close.
	Reconnect    bool
	ReconnectMin time.Duration
	ReconnectMax time.Duration

	// OnEvent, if set, is called for each state change, synchronously on
	// the goroutine that made it (Connect's caller, Disconnect's caller,
	// or the client's own goroutines), with no lock held. It may call the
	// Client's methods.
	OnEvent func(ClientEvent)
}

func (o *ClientOptions) backoff() (lo, hi time.Duration) {
	lo = durOr(o.ReconnectMin, 500*time.Millisecond)
	hi = max(durOr(o.ReconnectMax, 30*time.Second), lo)
	return lo, hi
}

// Errors of Client.Connect.
var (
	ErrConnecting = fmt.Errorf("moq: a connection attempt is already in progress: %w", ErrInvalid)
	ErrConnected  = fmt.Errorf("moq: already connected: %w", ErrInvalid)
	// ErrNotConnected: the client has no live session.
	ErrNotConnected = errors.New("moq: not connected")
)

type clientPhase uint8

const (
	phaseIdle clientPhase = iota
	phaseConnecting
	phaseConnected
	phaseReconnecting
)

// Client is a MoQT client that outlives its sessions: with
// ClientOptions.Reconnect it connects again when a session is lost,
// announces its namespaces again, keeps serving its tracks (publishers
// continue with new groups) and makes its subscriptions again. A Client is
// safe for concurrent use.
type Client struct {
	opts ClientOptions

	mu         sync.Mutex
	closed     bool
	phase      clientPhase
	url        string             // where the next attempt goes (GOAWAY may change it)
	cancel     context.CancelFunc // of the running attempt or reconnect loop
	sess       *Session
	endErr     error
	changed    chan struct{} // closed and replaced when sess or phase changes
	reconnects uint64
	tracks     map[string]*Track
	wantNS     map[string]Namespace // announced: announced again on each new session
	announced  map[string]bool      // announced on the current session
}

// NewClient returns a client; Connect connects it.
func NewClient(opts *ClientOptions) *Client {
	c := &Client{changed: make(chan struct{}), tracks: map[string]*Track{},
		wantNS: map[string]Namespace{}, announced: map[string]bool{}}
	if opts != nil {
		c.opts = *opts
	}
	return c
}

func (c *Client) emit(ev ClientEvent) {
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(ev)
	}
}

func (c *Client) changedLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Connect dials url (https:// for WebTransport, moqt:// for raw QUIC) and
// returns when the session is set up, or with why not. It fails with
// ErrConnecting or ErrConnected when an attempt is under way or a session
// (or automatic reconnection) is live; Disconnect first. Disconnect and
// Close cancel it. A URL that CheckURL rejects fails at once (wrapping
// ErrInvalid), before any event.
func (c *Client) Connect(ctx context.Context, url string) error {
	if _, err := CheckURL(url); err != nil {
		return err // before any event: nothing was attempted
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.phase == phaseConnecting:
		c.mu.Unlock()
		return ErrConnecting
	case c.phase != phaseIdle:
		c.mu.Unlock()
		return ErrConnected
	}
	c.phase = phaseConnecting
	c.url = url
	actx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	c.mu.Unlock()
	defer cancel()

	c.emit(ClientEvent{State: ClientConnecting})
	sess, err := c.dial(actx, url)
	c.mu.Lock()
	cancelled := c.closed || (actx.Err() != nil && ctx.Err() == nil)
	if err == nil && cancelled {
		go sess.Close()
		err = fmt.Errorf("moq: connecting to %s: cancelled by Disconnect or Close: %w", url, context.Canceled)
	}
	if err != nil {
		c.phase = phaseIdle
		c.cancel = nil
		c.endErr = err
		closed := c.closed
		c.changedLocked()
		c.mu.Unlock()
		if !closed {
			c.emit(ClientEvent{State: ClientFailed, Err: err})
		}
		c.logger().Info("connect failed", "url", url, "err", err)
		return err
	}
	c.adoptLocked(sess)
	c.mu.Unlock()
	c.started(sess, false)
	return nil
}

func (c *Client) logger() *slog.Logger { return c.opts.logger() }

// dial connects one session with the client's handler.
func (c *Client) dial(ctx context.Context, url string) (*Session, error) {
	opts := c.opts.Options
	opts.Handler = clientHandler{c: c, next: c.opts.Handler}
	user := c.opts.OnGoAway
	var mu sync.Mutex
	var sess *Session
	opts.OnGoAway = func(uri string) {
		if user != nil {
			user(uri)
		}
		if _, err := CheckURL(uri); uri != "" && err != nil {
			c.logger().Warn("GOAWAY names an unusable URI; reconnecting to the same one", "new_uri", uri)
			uri = ""
		}
		c.mu.Lock()
		if uri != "" && c.sess != nil {
			c.url = uri
		}
		c.mu.Unlock()
		mu.Lock()
		s := sess
		mu.Unlock()
		if s != nil {
			c.logger().Warn("peer sent GOAWAY; closing the session", "new_uri", uri)
			s.Close()
		}
	}
	s, err := Dial(ctx, url, &opts)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	sess = s
	mu.Unlock()
	return s, nil
}

// adoptLocked makes sess the client's session.
func (c *Client) adoptLocked(sess *Session) {
	c.phase = phaseConnected
	c.cancel = nil
	c.sess = sess
	c.endErr = nil
	c.announced = map[string]bool{}
}

// started finishes adopting a session: namespaces are announced again
// (after a reconnect), waiters wake, the event is emitted and the session
// is watched.
func (c *Client) started(sess *Session, reconnect bool) {
	if sess.GoAwayReceived() {
		go sess.Close()
	}
	c.mu.Lock()
	url := c.url
	c.mu.Unlock()
	c.logger().Info("connected", "url", url, "draft", sess.Draft().String(), "transport", sess.Protocol(), "reconnect", reconnect)
	c.mu.Lock()
	want := make([]Namespace, 0, len(c.wantNS))
	for _, ns := range c.wantNS {
		want = append(want, ns)
	}
	c.mu.Unlock()
	for _, ns := range want {
		actx, cancel := context.WithTimeout(sess.Context(), c.opts.requestTimeout())
		err := sess.Announce(actx, ns)
		cancel()
		if err != nil {
			c.logger().Warn("announcing again after reconnect failed", "namespace", ns.String(), "err", err)
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
	c.emit(ClientEvent{State: ClientConnected, Session: sess, Reconnecting: reconnect})
	go c.watch(sess)
}

// watch handles the end of a session that Disconnect did not end.
func (c *Client) watch(sess *Session) {
	<-sess.Done()
	c.mu.Lock()
	if c.sess != sess {
		c.mu.Unlock()
		return
	}
	err := sess.Err()
	if err == nil {
		err = ErrClosed
	}
	state := ClientFailed
	var se *SessionError
	if sess.GoAwayReceived() || (errors.As(err, &se) && se.Code == CodeNoError) {
		state = ClientDisconnected
	}
	c.sess = nil
	c.announced = map[string]bool{}
	c.endErr = err
	if c.opts.Reconnect && !c.closed {
		c.phase = phaseReconnecting
		ctx, cancel := context.WithCancel(context.Background())
		c.cancel = cancel
		c.changedLocked()
		c.mu.Unlock()
		c.logger().Info("session ended; reconnecting", "err", err)
		c.emit(ClientEvent{State: state, Session: sess, Err: err, Reconnecting: true})
		go c.reconnectLoop(ctx)
		return
	}
	c.phase = phaseIdle
	c.wantNS = map[string]Namespace{}
	c.changedLocked()
	c.mu.Unlock()
	c.logger().Info("session ended", "err", err)
	c.emit(ClientEvent{State: state, Session: sess, Err: err})
}

// reconnectLoop connects again with exponential backoff until it succeeds
// or ctx is cancelled (Disconnect, Close).
func (c *Client) reconnectLoop(ctx context.Context) {
	lo, hi := c.opts.backoff()
	delay := lo
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(delay*2, hi)
		c.mu.Lock()
		url := c.url
		c.mu.Unlock()
		c.emit(ClientEvent{State: ClientConnecting, Reconnecting: true})
		sess, err := c.dial(ctx, url)
		c.mu.Lock()
		if ctx.Err() != nil || c.closed || c.phase != phaseReconnecting {
			c.mu.Unlock()
			if err == nil {
				sess.Close()
			}
			return
		}
		if err != nil {
			c.endErr = fmt.Errorf("moq: reconnecting to %s: %w", url, err)
			c.mu.Unlock()
			c.logger().Info("reconnect attempt failed", "url", url, "err", err, "next_in", delay)
			c.emit(ClientEvent{State: ClientFailed, Err: err, Reconnecting: true})
			continue
		}
		c.adoptLocked(sess)
		c.reconnects++
		c.mu.Unlock()
		c.started(sess, true)
		return
	}
}

// Disconnect ends the session (or cancels the connection attempt or
// reconnection under way) and forgets the announced namespaces; the
// client can Connect again. Published tracks stay registered.
func (c *Client) Disconnect() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	switch c.phase {
	case phaseIdle:
		c.mu.Unlock()
		return nil
	case phaseConnecting:
		// Connect returns its error and reports ClientFailed.
		c.cancel()
		c.mu.Unlock()
		return nil
	}
	sess := c.detachLocked(fmt.Errorf("moq: disconnected by Disconnect: %w", ErrClosed))
	c.mu.Unlock()
	if sess != nil {
		sess.Close()
	}
	c.emit(ClientEvent{State: ClientDisconnected, Session: sess})
	return nil
}

// detachLocked stops the attempt or reconnection under way, forgets the
// session and the namespaces, and returns the session to close.
func (c *Client) detachLocked(why error) *Session {
	if c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	sess := c.sess
	c.sess = nil
	c.phase = phaseIdle
	c.endErr = why
	c.wantNS = map[string]Namespace{}
	c.announced = map[string]bool{}
	c.changedLocked()
	return sess
}

// Close disconnects, closes the tracks published with Client.Publish and
// ends every ClientSubscription. It reports no event.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	sess := c.detachLocked(ErrClosed)
	tracks := make([]*Track, 0, len(c.tracks))
	for _, t := range c.tracks {
		tracks = append(tracks, t)
	}
	c.mu.Unlock()
	if sess != nil {
		sess.Close()
	}
	for _, t := range tracks {
		t.Close()
	}
	return nil
}

// Session returns the live session, or nil.
func (c *Client) Session() *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil || c.sess.Err() != nil {
		return nil
	}
	return c.sess
}

// Err says why the client has no live session: nil while connected, the
// last failure otherwise.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.sess != nil:
		return c.sess.Err()
	case c.endErr != nil:
		return c.endErr
	case c.phase != phaseIdle:
		return fmt.Errorf("moq: connection attempt in progress: %w", ErrNotConnected)
	}
	return ErrNotConnected
}

// Reconnecting reports whether automatic reconnection is under way.
func (c *Client) Reconnecting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phase == phaseReconnecting
}

// Reconnects counts the sessions made by automatic reconnection.
func (c *Client) Reconnects() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reconnects
}

// WaitSession waits for a live session other than old (pass nil for any):
// after a reconnect, the new one. It fails with ErrNotConnected when the
// client will not get one (not connected and not reconnecting), ErrClosed
// after Close, or ctx's error.
func (c *Client) WaitSession(ctx context.Context, old *Session) (*Session, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, ErrClosed
		case c.sess != nil && c.sess != old && c.sess.Err() == nil:
			s := c.sess
			c.mu.Unlock()
			return s, nil
		case c.sess != nil && c.sess == old && c.opts.Reconnect:
			// Ending: watch will start reconnecting.
		case c.phase != phaseReconnecting && (c.sess == nil || c.sess == old):
			err := c.endErr
			c.mu.Unlock()
			if err == nil {
				return nil, ErrNotConnected
			}
			return nil, fmt.Errorf("%w: %w", ErrNotConnected, err)
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Announce announces ns on the live session and waits for the answer (see
// Session.Announce). After a reconnect the client announces it again,
// until Unannounce or Disconnect. Announcing a namespace twice is an
// error.
func (c *Client) Announce(ctx context.Context, ns Namespace) error {
	if err := validateTrack(ns, "", false); err != nil {
		return err
	}
	c.mu.Lock()
	sess := c.sess
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case sess == nil || sess.Err() != nil:
		c.mu.Unlock()
		return ErrNotConnected
	case c.wantNS[ns.Key()] != nil:
		c.mu.Unlock()
		return fmt.Errorf("moq: namespace %s is already announced: %w", ns, ErrInvalid)
	}
	c.mu.Unlock()
	if err := sess.Announce(ctx, ns); err != nil {
		return err
	}
	c.mu.Lock()
	if c.sess == sess {
		c.announced[ns.Key()] = true
		c.wantNS[ns.Key()] = ns
	}
	c.mu.Unlock()
	return nil
}

// Announced reports whether ns is announced on the live session.
func (c *Client) Announced(ns Namespace) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.announced[ns.Key()]
}

// Unannounce withdraws ns and stops announcing it after reconnects.
func (c *Client) Unannounce(ns Namespace) error {
	c.mu.Lock()
	k := ns.Key()
	_, want := c.wantNS[k]
	on := c.announced[k]
	sess := c.sess
	delete(c.wantNS, k)
	delete(c.announced, k)
	c.mu.Unlock()
	if !want {
		return fmt.Errorf("moq: namespace %s is not announced: %w", ns, ErrInvalid)
	}
	if on && sess != nil {
		return sess.Unannounce(ns)
	}
	return nil
}

// Publish creates a track that the client serves on every session, until
// the track is closed: the peer's SUBSCRIBE, FETCH and TRACK_STATUS for
// (ns, name) are answered from it. Defaults come from ClientOptions.Options
// as for Session.Publish.
func (c *Client) Publish(ns Namespace, name string, opts TrackOptions) (*Track, error) {
	if err := validateTrack(ns, name, false); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	return publishIn(&c.mu, c.tracks, ns, name, c.opts.trackDefaults(opts))
}

// track finds a track the client serves to sess.
func (c *Client) track(sess *Session, ns Namespace, name string) *Track {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != sess {
		return nil
	}
	return c.tracks[trackKey(ns, name)]
}

// clientHandler serves a client's sessions: the client's tracks first,
// then the tracks published on the session itself, then the user's
// Handler.
type clientHandler struct {
	c    *Client
	next Handler
}

func (h clientHandler) find(s *Session, ns Namespace, name string, next func() (*Track, error)) (*Track, error) {
	if t := h.c.track(s, ns, name); t != nil {
		return t, nil
	}
	if t, err := s.lookupTrack(ns, name); err == nil {
		return t, nil
	}
	if h.next != nil {
		return next()
	}
	return nil, ErrTrackNotFound
}

func (h clientHandler) Subscribe(s *Session, req *SubscribeRequest) (*Track, error) {
	return h.find(s, req.Namespace, req.Name, func() (*Track, error) { return h.next.Subscribe(s, req) })
}

func (h clientHandler) Fetch(s *Session, req *FetchRequest) (*Track, error) {
	return h.find(s, req.Namespace, req.Name, func() (*Track, error) { return h.next.Fetch(s, req) })
}

func (h clientHandler) TrackStatus(s *Session, ns Namespace, name string) (*Track, error) {
	return h.find(s, ns, name, func() (*Track, error) { return h.next.TrackStatus(s, ns, name) })
}

func (h clientHandler) Announce(s *Session, ns Namespace) error {
	if h.next != nil {
		return h.next.Announce(s, ns)
	}
	return nil
}

func (h clientHandler) Unannounce(s *Session, ns Namespace) {
	if h.next != nil {
		h.next.Unannounce(s, ns)
	}
}

func (h clientHandler) SubscribeNamespace(s *Session, prefix Namespace) error {
	if h.next != nil {
		return h.next.SubscribeNamespace(s, prefix)
	}
	return fmt.Errorf("moq: namespace subscriptions are served by relays: %w", ErrUnsupported)
}

func (h clientHandler) UnsubscribeNamespace(s *Session, prefix Namespace) {
	if h.next != nil {
		h.next.UnsubscribeNamespace(s, prefix)
	}
}

func (h clientHandler) SessionClosed(s *Session, err error) {
	if h.next != nil {
		h.next.SessionClosed(s, err)
	}
}
