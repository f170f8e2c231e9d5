// Package relay is a MoQT relay: it accepts publishers and subscribers of
// draft-07 (both layouts) and draft-14, over raw QUIC and WebTransport on one
// UDP port, routes subscriptions to the publisher that announced the
// namespace (one upstream subscription per track, however many
// subscribers), fans objects out to every subscriber with IDs preserved,
// across drafts, and keeps a bounded cache of recent groups per track for
// late joiners and FETCH.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// Config configures a Relay. The zero value listens on 127.0.0.1:4443 with
// a generated self-signed certificate.
type Config struct {
	// Addr is the UDP address to listen on. Default "127.0.0.1:4443".
	Addr string
	// Session options for every accepted session. TLS.Certificates must be
	// set (New generates a self-signed certificate when it is empty).
	Session moq.Options
	// CacheGroups and CacheBytes bound each track's cache. Defaults 4 and
	// 16 MiB.
	CacheGroups int
	CacheBytes  int
	// MaxSessions bounds concurrent sessions. Default 1024.
	MaxSessions int
	// Drain is how long Shutdown waits after GOAWAY before closing sessions.
	// Default 5s.
	Drain time.Duration
	// Logger receives the relay's logs. Default: errors to stderr.
	Logger *slog.Logger
	// Metrics, if set, receives the relay's counters.
	Metrics *Metrics
}

// Relay is a running relay.
type Relay struct {
	cfg Config
	ln  *moq.Listener
	log *slog.Logger
	m   *Metrics

	mu        sync.Mutex
	sessions  map[*moq.Session]struct{}
	announces map[string]*announce   // by namespace key
	tracks    map[string]*relayTrack // by track key
	nsSubs    map[*moq.Session][]moq.Namespace
	closed    bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type announce struct {
	sess *moq.Session
	ns   moq.Namespace
}

// relayTrack is one upstream subscription fanned out through a Track.
type relayTrack struct {
	key   string
	track *moq.Track
	ready chan struct{} // closed when the upstream answered
	err   error         // the upstream's refusal, set before ready closes
	up    *moq.Subscription
	pub   *moq.Session
}

// New starts a relay listening on cfg.Addr.
func New(cfg Config) (*Relay, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:4443"
	}
	if cfg.CacheGroups <= 0 {
		cfg.CacheGroups = 4
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = 16 << 20
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 1024
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	opts := cfg.Session
	if opts.Logger == nil {
		opts.Logger = log
	}
	if opts.RetainGroups == 0 {
		opts.RetainGroups = cfg.CacheGroups
	}
	if opts.RetainBytes == 0 {
		opts.RetainBytes = cfg.CacheBytes
	}
	r := &Relay{
		cfg:       cfg,
		log:       log,
		m:         cfg.Metrics,
		sessions:  map[*moq.Session]struct{}{},
		announces: map[string]*announce{},
		tracks:    map[string]*relayTrack{},
		nsSubs:    map[*moq.Session][]moq.Namespace{},
	}
	opts.Handler = r
	ln, err := moq.Listen(cfg.Addr, &opts)
	if err != nil {
		return nil, err
	}
	r.ln = ln
	r.m.bind(r.activeTrackStats)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.acceptLoop()
	return r, nil
}

// Addr returns the relay's UDP address.
func (r *Relay) Addr() net.Addr { return r.ln.Addr() }

func (r *Relay) acceptLoop() {
	defer r.wg.Done()
	for {
		s, err := r.ln.Accept(r.ctx)
		if err != nil {
			return
		}
		r.mu.Lock()
		if r.closed || len(r.sessions) >= r.cfg.MaxSessions {
			r.mu.Unlock()
			s.CloseWithError(moq.CodeInternalError, "relay is full")
			continue
		}
		r.sessions[s] = struct{}{}
		r.mu.Unlock()
		r.m.sessionOpened(s)
		r.log.Info("session", "remote", s.RemoteAddr(), "draft", s.Draft().String(), "transport", s.Protocol(), "path", s.Path())
	}
}

// Close stops the relay at once: every session is closed.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	sessions := r.sessionList()
	r.mu.Unlock()
	r.cancel()
	for _, s := range sessions {
		s.CloseWithError(moq.CodeNoError, "relay closing")
	}
	err := r.ln.Close()
	r.wg.Wait()
	for _, s := range sessions {
		s.Wait()
	}
	return err
}

// Shutdown sends GOAWAY to every session, waits until they have all closed
// or the drain time (or ctx) is over, then closes the relay.
func (r *Relay) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	sessions := r.sessionList()
	r.mu.Unlock()
	for _, s := range sessions {
		if err := s.GoAway("", r.cfg.Drain); err != nil {
			r.log.Debug("goaway", "remote", s.RemoteAddr(), "err", err)
		}
	}
	t := time.NewTimer(r.cfg.Drain)
	defer t.Stop()
	for _, s := range sessions {
		select {
		case <-s.Done():
		case <-t.C:
			return r.Close()
		case <-ctx.Done():
			return r.Close()
		}
	}
	return r.Close()
}

func (r *Relay) sessionList() []*moq.Session {
	out := make([]*moq.Session, 0, len(r.sessions))
	for s := range r.sessions {
		out = append(out, s)
	}
	return out
}

func trackKey(ns moq.Namespace, name string) string {
	return ns.Key() + "\x00" + name
}

// findPublisher returns the session that announced the namespace serving
// ns: the announce equal to ns, or else the longest announced prefix of ns.
func (r *Relay) findPublisherLocked(ns moq.Namespace) *announce {
	for n := len(ns); n >= 1; n-- {
		if a := r.announces[ns[:n].Key()]; a != nil {
			return a
		}
	}
	return nil
}

// Announce implements moq.Handler: a publisher announces a namespace.
func (r *Relay) Announce(s *moq.Session, ns moq.Namespace) error {
	k := ns.Key()
	r.mu.Lock()
	if a := r.announces[k]; a != nil && a.sess != s {
		r.mu.Unlock()
		return &moq.RequestError{Op: "ANNOUNCE", Code: 0x4, Reason: "namespace already announced by another publisher"}
	}
	r.announces[k] = &announce{sess: s, ns: ns}
	var targets []*moq.Session
	for sub, prefixes := range r.nsSubs {
		if sub == s {
			continue
		}
		for _, p := range prefixes {
			if ns.HasPrefix(p) {
				targets = append(targets, sub)
				break
			}
		}
	}
	r.mu.Unlock()
	r.m.announceChanged(1)
	for _, t := range targets {
		r.forwardAnnounce(t, ns)
	}
	return nil
}

// forwardAnnounce announces ns to a namespace subscriber (in the
// background: the subscriber's answer must not hold the publisher).
func (r *Relay) forwardAnnounce(s *moq.Session, ns moq.Namespace) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(s.Context(), 10*time.Second)
		defer cancel()
		if err := s.Announce(ctx, ns); err != nil && !errors.Is(err, moq.ErrInvalid) {
			r.log.Debug("forward announce", "namespace", ns.String(), "to", s.RemoteAddr(), "err", err)
		}
	}()
}

// Unannounce implements moq.Handler.
func (r *Relay) Unannounce(s *moq.Session, ns moq.Namespace) {
	r.removeAnnounce(s, ns)
}

func (r *Relay) removeAnnounce(s *moq.Session, ns moq.Namespace) {
	k := ns.Key()
	r.mu.Lock()
	a := r.announces[k]
	if a == nil || a.sess != s {
		r.mu.Unlock()
		return
	}
	delete(r.announces, k)
	var targets []*moq.Session
	for sub, prefixes := range r.nsSubs {
		for _, p := range prefixes {
			if ns.HasPrefix(p) {
				targets = append(targets, sub)
				break
			}
		}
	}
	r.mu.Unlock()
	r.m.announceChanged(-1)
	for _, t := range targets {
		t.Unannounce(ns)
	}
}

// Subscribe implements moq.Handler: one upstream subscription per track.
func (r *Relay) Subscribe(s *moq.Session, req *moq.SubscribeRequest) (*moq.Track, error) {
	rt, err := r.track(req.Namespace, req.Name)
	if err != nil {
		return nil, err
	}
	return rt.track, nil
}

// track returns the relay track for (ns, name), subscribing upstream if it
// is not active yet; concurrent callers share one upstream subscription.
func (r *Relay) track(ns moq.Namespace, name string) (*relayTrack, error) {
	k := trackKey(ns, name)
	r.mu.Lock()
	if rt := r.tracks[k]; rt != nil {
		r.mu.Unlock()
		<-rt.ready
		if rt.err != nil {
			return nil, rt.err
		}
		return rt, nil
	}
	a := r.findPublisherLocked(ns)
	if a == nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("relay: no publisher for namespace %s: %w", ns, moq.ErrTrackNotFound)
	}
	rt := &relayTrack{key: k, ready: make(chan struct{}), pub: a.sess,
		track: moq.NewTrack(ns, name, moq.TrackOptions{RetainGroups: r.cfg.CacheGroups, RetainBytes: r.cfg.CacheBytes,
			MaxObjectSize: r.cfg.Session.MaxObjectSize})}
	r.tracks[k] = rt
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	filter := moq.Filter{Type: moq.FilterLargestObject}
	if a.sess.Draft() != moq.Draft14 {
		filter = moq.Filter{Type: moq.FilterLatestGroup} // draft-07: from the current group
	}
	up, err := a.sess.Subscribe(ctx, ns, name, moq.SubscribeOptions{Filter: filter, ForwardTo: rt.track})
	if err != nil {
		r.mu.Lock()
		if r.tracks[k] == rt {
			delete(r.tracks, k)
		}
		r.mu.Unlock()
		var re *moq.RequestError
		if errors.As(err, &re) {
			rt.err = re
		} else {
			rt.err = &moq.RequestError{Op: "SUBSCRIBE", Code: 0x0, Reason: "upstream: " + err.Error()}
		}
		close(rt.ready)
		rt.track.Close()
		return nil, rt.err
	}
	rt.up = up
	r.m.trackChanged(1)
	// The last downstream subscriber leaving ends the upstream subscription.
	rt.track.OnIdle(func() { r.dropTrack(rt) })
	// The upstream ending (publisher gone, track ended) ends the downstream ones.
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case <-up.Done():
		case <-r.ctx.Done():
		}
		r.dropTrack(rt)
	}()
	close(rt.ready)
	return rt, nil
}

// dropTrack ends a relay track: upstream UNSUBSCRIBE, downstream
// PUBLISH_DONE.
func (r *Relay) dropTrack(rt *relayTrack) {
	r.mu.Lock()
	own := r.tracks[rt.key] == rt
	if own {
		delete(r.tracks, rt.key)
	}
	r.mu.Unlock()
	if !own {
		return
	}
	r.m.trackChanged(-1)
	r.m.addTrackStats(rt.track.Stats())
	rt.up.Close()
	rt.track.Close()
}

// activeTrackStats returns the counters of the active tracks.
func (r *Relay) activeTrackStats() []moq.TrackStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]moq.TrackStats, 0, len(r.tracks))
	for _, rt := range r.tracks {
		if rt.track != nil {
			out = append(out, rt.track.Stats())
		}
	}
	return out
}

// Fetch implements moq.Handler: served from the cache of an active track.
func (r *Relay) Fetch(s *moq.Session, req *moq.FetchRequest) (*moq.Track, error) {
	r.mu.Lock()
	rt := r.tracks[trackKey(req.Namespace, req.Name)]
	r.mu.Unlock()
	if rt == nil {
		return nil, fmt.Errorf("relay: track not active: %w", moq.ErrTrackNotFound)
	}
	<-rt.ready
	if rt.err != nil {
		return nil, rt.err
	}
	return rt.track, nil
}

// TrackStatus implements moq.Handler.
func (r *Relay) TrackStatus(s *moq.Session, ns moq.Namespace, name string) (*moq.Track, error) {
	r.mu.Lock()
	rt := r.tracks[trackKey(ns, name)]
	r.mu.Unlock()
	if rt == nil {
		return nil, fmt.Errorf("relay: track not active: %w", moq.ErrTrackNotFound)
	}
	<-rt.ready
	if rt.err != nil {
		return nil, rt.err
	}
	return rt.track, nil
}

// SubscribeNamespace implements moq.Handler: current and future announces
// under prefix are forwarded to s.
func (r *Relay) SubscribeNamespace(s *moq.Session, prefix moq.Namespace) error {
	r.mu.Lock()
	for _, p := range r.nsSubs[s] {
		if p.HasPrefix(prefix) || prefix.HasPrefix(p) {
			r.mu.Unlock()
			return &moq.RequestError{Op: "SUBSCRIBE_NAMESPACE", Code: 0x5, Reason: "prefix overlaps an existing subscription"}
		}
	}
	r.nsSubs[s] = append(r.nsSubs[s], prefix)
	var existing []moq.Namespace
	for _, a := range r.announces {
		if a.sess != s && a.ns.HasPrefix(prefix) {
			existing = append(existing, a.ns)
		}
	}
	r.mu.Unlock()
	for _, ns := range existing {
		r.forwardAnnounce(s, ns)
	}
	return nil
}

// UnsubscribeNamespace implements moq.Handler.
func (r *Relay) UnsubscribeNamespace(s *moq.Session, prefix moq.Namespace) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps := r.nsSubs[s]
	for i, p := range ps {
		if p.Equal(prefix) {
			r.nsSubs[s] = append(ps[:i], ps[i+1:]...)
			break
		}
	}
}

// SessionClosed implements moq.Handler: the session's announces are
// withdrawn; its upstream subscriptions end by themselves.
func (r *Relay) SessionClosed(s *moq.Session, err error) {
	r.mu.Lock()
	_, known := r.sessions[s]
	delete(r.sessions, s)
	delete(r.nsSubs, s)
	var mine []moq.Namespace
	for _, a := range r.announces {
		if a.sess == s {
			mine = append(mine, a.ns)
		}
	}
	r.mu.Unlock()
	for _, ns := range mine {
		r.removeAnnounce(s, ns)
	}
	if known {
		r.m.sessionClosed(s)
	}
	r.log.Info("session closed", "remote", s.RemoteAddr(), "err", err)
}

var _ moq.Handler = (*Relay)(nil)

// String describes the relay for logs.
func (r *Relay) String() string { return fmt.Sprintf("relay on %s", r.Addr()) }
