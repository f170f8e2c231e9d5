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
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
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
	// CacheAge drops cached groups older than this. Default 0: no age limit.
	CacheAge time.Duration
	// MaxSessions bounds concurrent sessions. Default 1024.
	MaxSessions int
	// Drain is how long Shutdown waits after GOAWAY before closing sessions.
	// Default 5s.
	Drain time.Duration
	// Logger receives the relay's logs. Default: errors to stderr.
	Logger *slog.Logger
	// Metrics, if set, receives the relay's counters.
	Metrics *Metrics
	// Authorize, if set, is asked about each new session (OpSession, once,
	// before any of its requests is served) and about each request. An
	// error refuses: the session is closed with Unauthorized (0x2), or the
	// request gets its draft's "unauthorized" code (a *moq.RequestError
	// chooses another). It runs on the sessions' goroutines; RequireToken
	// is a ready one.
	Authorize func(s *moq.Session, req AuthRequest) error
	// Cluster, if set, joins the relay to a cluster of relays sharing a
	// registry in etcd (see ClusterConfig and docs/relay.md, "Cluster").
	Cluster *ClusterConfig
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
	admit     map[*moq.Session]*admission // Config.Authorize's answers about sessions
	// fwd holds, per namespace subscriber and namespace, the completion of
	// the last announce or withdrawal forwarded to it: they run in order.
	fwd    map[fwdKey]chan struct{}
	closed bool
	fp     [32]byte

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	cl *cluster // nil unless Config.Cluster
}

type announce struct {
	sess *moq.Session
	ns   moq.Namespace
}

type fwdKey struct {
	sess *moq.Session
	ns   string
}

// relayTrack is one upstream subscription fanned out through a Track.
// After ready, up, pub, peer, route, lost and rerouting change under r.mu
// (a clustered relay moves the upstream to another relay when its origin
// relay is lost).
type relayTrack struct {
	key   string
	ns    moq.Namespace
	name  string
	track *moq.Track
	ready chan struct{} // closed when the upstream answered
	err   error         // the upstream's refusal, set before ready closes
	up    *moq.Subscription
	pub   *moq.Session
	peer  string   // the peer relay's ID when the upstream is one (cluster)
	route string   // then the key of the registered namespace it serves
	hops  []string // and the hop list of the request that made the track
	// lost: the registry says the peer no longer serves the route;
	// rerouting: a new upstream is being looked for.
	lost, rerouting bool
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
	if len(opts.TLS.Certificates) == 0 {
		host, _, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("relay: address %q: %w", cfg.Addr, err)
		}
		var hosts []string
		if host != "" && host != "0.0.0.0" && host != "::" {
			hosts = []string{host, "localhost", "127.0.0.1", "::1"}
		}
		cert, _, err := transport.GenerateSelfSigned(hosts, 0)
		if err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		opts.TLS.Certificates = []tls.Certificate{cert}
	}
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
		admit:     map[*moq.Session]*admission{},
		fwd:       map[fwdKey]chan struct{}{},
	}
	if c := opts.TLS.Certificates[0]; c.Leaf != nil {
		r.fp = transport.Fingerprint(c.Leaf)
	} else if len(c.Certificate) > 0 {
		r.fp = sha256.Sum256(c.Certificate[0])
	}
	if cfg.Cluster != nil && cfg.Authorize != nil {
		// Peer relays are admitted by the cluster token.
		user := cfg.Authorize
		r.cfg.Authorize = func(s *moq.Session, req AuthRequest) error {
			if req.Op == OpSession && r.cl != nil && r.cl.isPeer(s.SetupTokens()) {
				return nil
			}
			return user(s, req)
		}
	}
	if cfg.Cluster != nil {
		cl, err := newCluster(r, *cfg.Cluster)
		if err != nil {
			return nil, err
		}
		r.cl = cl // before any session can ask for it
	}
	opts.Handler = r
	ln, err := moq.Listen(cfg.Addr, &opts)
	if err != nil {
		if r.cl != nil {
			r.cl.close()
		}
		return nil, err
	}
	r.ln = ln
	r.m.bind(r.activeTrackStats)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if r.cl != nil {
		if err := r.cl.start(ln.Addr().String()); err != nil {
			r.cancel()
			ln.Close()
			return nil, err
		}
		r.m.bindPeers(r.PeerStats)
	}
	r.wg.Add(1)
	go r.acceptLoop()
	return r, nil
}

// Addr returns the relay's UDP address.
func (r *Relay) Addr() net.Addr { return r.ln.Addr() }

// Fingerprint returns the SHA-256 fingerprint of the relay's leaf
// certificate: clients pin it (moq.TLSConfig.PinSHA256), which is how they
// trust the self-signed certificate New generates when none is configured.
func (r *Relay) Fingerprint() [32]byte { return r.fp }

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
		if sessionDone(s) {
			r.mu.Unlock() // closed already: SessionClosed has run or will find nothing
			continue
		}
		r.sessions[s] = struct{}{}
		r.mu.Unlock()
		r.m.sessionOpened(s)
		r.log.Info("session", "remote", s.RemoteAddr(), "draft", s.Draft().String(), "transport", s.Protocol(), "path", redactQuery(s.Path()))
		if r.cfg.Authorize != nil {
			go r.admitted(s) // closes the session if refused
		}
	}
}

// Close stops the relay at once: every session is closed.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	sessions := r.sessionList()
	r.mu.Unlock()
	r.cancel()
	if r.cl != nil {
		r.cl.close() // the registry entries go at once
	}
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
	uri := ""
	if r.cl != nil {
		uri = r.cl.otherRelay() // clients move there
		r.cl.leave()            // the other relays stop routing here
	}
	for _, s := range sessions {
		if err := s.GoAway(uri, r.cfg.Drain); err != nil {
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

// sessionDone reports whether s has ended. Checked under r.mu before
// registering anything for s: SessionClosed runs after Done is closed and
// takes r.mu, so either it sees the registration or the registration sees
// Done.
func sessionDone(s *moq.Session) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

// Announce implements moq.Handler: a publisher announces a namespace.
func (r *Relay) Announce(s *moq.Session, ns moq.Namespace) error {
	k := ns.Key()
	r.mu.Lock()
	if sessionDone(s) {
		// SessionClosed may already have run: registering now would leave
		// a dead publisher behind.
		r.mu.Unlock()
		return fmt.Errorf("relay: session closed: %w", moq.ErrClosed)
	}
	var stale *announce
	if a := r.announces[k]; a != nil && a.sess != s {
		select {
		case <-a.sess.Done():
			// The previous publisher's session has ended and SessionClosed
			// has not run yet: a reconnecting publisher takes over.
			stale = a
		default:
			r.mu.Unlock()
			return &moq.RequestError{Op: "ANNOUNCE", Code: 0x4, Reason: "namespace already announced by another publisher"}
		}
	}
	fresh := r.announces[k] == nil
	r.announces[k] = &announce{sess: s, ns: ns}
	var fwds []func()
	for sub, prefixes := range r.nsSubs {
		if sub == s {
			continue
		}
		for _, p := range prefixes {
			if ns.HasPrefix(p) {
				if stale != nil {
					fwds = append(fwds, r.forwardLocked(sub, ns, false))
				}
				fwds = append(fwds, r.forwardLocked(sub, ns, true))
				break
			}
		}
	}
	r.mu.Unlock()
	if fresh {
		r.m.announceChanged(1)
	}
	if r.cl != nil {
		r.cl.reconcile(ns)
	}
	for _, f := range fwds {
		f()
	}
	return nil
}

// forwardLocked prepares the forwarding of an announce (or, with announce
// false, its withdrawal) of ns to a namespace subscriber; the returned
// function starts it in the background (the subscriber's answer must not
// hold the publisher). Operations on one (subscriber, namespace) run in the
// order they were prepared, so that a withdrawal never overtakes the
// announce it withdraws (Session.Unannounce needs the answer to it).
func (r *Relay) forwardLocked(s *moq.Session, ns moq.Namespace, announce bool) func() {
	k := fwdKey{s, ns.Key()}
	prev := r.fwd[k]
	done := make(chan struct{})
	r.fwd[k] = done
	return func() {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() {
				r.mu.Lock()
				if r.fwd[k] == done {
					delete(r.fwd, k)
				}
				r.mu.Unlock()
				close(done)
			}()
			if prev != nil {
				select {
				case <-prev:
				case <-s.Done():
					return
				}
			}
			if !announce {
				s.Unannounce(ns) // ErrInvalid if the announce failed: nothing to withdraw
				return
			}
			ctx, cancel := context.WithTimeout(s.Context(), 10*time.Second)
			defer cancel()
			if err := s.Announce(ctx, ns); err != nil && !errors.Is(err, moq.ErrInvalid) {
				r.log.Debug("forward announce", "namespace", ns.String(), "to", s.RemoteAddr(), "err", err)
			}
		}()
	}
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
	var fwds []func()
	// Namespace subscribers keep the namespace while another relay of the
	// cluster serves it.
	for sub, prefixes := range r.nsSubs {
		if r.cl != nil && r.cl.hasRemote(ns) {
			break
		}
		for _, p := range prefixes {
			if ns.HasPrefix(p) {
				fwds = append(fwds, r.forwardLocked(sub, ns, false))
				break
			}
		}
	}
	r.mu.Unlock()
	r.m.announceChanged(-1)
	if r.cl != nil {
		r.cl.reconcile(ns)
	}
	for _, f := range fwds {
		f()
	}
}

// Subscribe implements moq.Handler: one upstream subscription per track.
func (r *Relay) Subscribe(s *moq.Session, req *moq.SubscribeRequest) (*moq.Track, error) {
	var hops []string
	if r.cl != nil {
		hops = r.cl.takeHops(s, req.Namespace, req.Name)
	}
	rt, hold, err := r.track(req.Namespace, req.Name, hops)
	if err != nil {
		return nil, err
	}
	if hold != nil {
		// This subscriber asked before the upstream subscription was in
		// place: it gets everything forwarded since, which the track
		// keeps (Hold) until the subscriber is attached.
		req.ReplayFrom = &moq.Location{}
		req.Attached = hold
	}
	return rt.track, nil
}

// track returns the relay track for (ns, name), subscribing upstream if it
// is not active yet; concurrent callers share one upstream subscription. A
// caller that asked before the upstream subscription was in place (it
// created it, or waited for it) gets hold, a Track.Hold taken when it
// asked, to release once it is attached.
//
// Without a local publisher, a clustered relay routes the subscription to
// the origin relay found in the registry; hops are the relays the request
// has been through already (a peer's request), this relay is added.
func (r *Relay) track(ns moq.Namespace, name string, hops []string) (rt *relayTrack, hold func(), err error) {
	k := trackKey(ns, name)
	r.mu.Lock()
	if rt := r.tracks[k]; rt != nil {
		select {
		case <-rt.ready:
			up, rerouting := rt.up, rt.rerouting
			r.mu.Unlock()
			if rt.err != nil {
				return nil, nil, rt.err
			}
			if rerouting {
				return rt, nil, nil // the subscriber waits with the others
			}
			select {
			case <-up.Done():
				// The upstream has ended (the publisher left) and the
				// watcher has not dropped the track yet: drop it and start
				// afresh.
				r.dropTrack(rt)
				return r.track(ns, name, hops)
			default:
			}
			return rt, nil, nil
		default:
		}
		hold := rt.track.Hold()
		r.mu.Unlock()
		<-rt.ready
		if rt.err != nil {
			hold()
			return nil, nil, rt.err
		}
		return rt, hold, nil
	}
	a := r.findPublisherLocked(ns)
	var peer, route, token string
	if a == nil && r.cl != nil {
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
		sess, id, key, err := r.cl.route(ctx, ns, hops)
		cancel()
		if err != nil {
			return nil, nil, err
		}
		r.mu.Lock()
		if r.tracks[k] != nil || r.findPublisherLocked(ns) != nil {
			// Someone was quicker (or the publisher came here): start over.
			r.mu.Unlock()
			return r.track(ns, name, hops)
		}
		a = &announce{sess: sess, ns: ns}
		peer, route, token = id, key, r.cl.token(append(append([]string(nil), hops...), r.cl.cfg.ID))
	}
	if a == nil {
		r.mu.Unlock()
		return nil, nil, fmt.Errorf("relay: no publisher for namespace %s: %w", ns, moq.ErrTrackNotFound)
	}
	rt = &relayTrack{key: k, ns: ns, name: name, ready: make(chan struct{}), pub: a.sess, peer: peer, route: route, hops: hops,
		track: moq.NewTrack(ns, name, moq.TrackOptions{RetainGroups: r.cfg.CacheGroups, RetainBytes: r.cfg.CacheBytes, RetainAge: r.cfg.CacheAge,
			MaxObjectSize: r.cfg.Session.MaxObjectSize})}
	r.tracks[k] = rt
	hold = rt.track.Hold()
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	filter := moq.Filter{Type: moq.FilterLargestObject}
	if a.sess.Draft().Is07() {
		filter = moq.Filter{Type: moq.FilterLatestGroup} // draft-07: from the current group
	}
	up, err := a.sess.Subscribe(ctx, ns, name, moq.SubscribeOptions{Filter: filter, ForwardTo: rt.track, AuthToken: token})
	if err != nil {
		r.mu.Lock()
		if r.tracks[k] == rt {
			delete(r.tracks, k)
		}
		r.mu.Unlock()
		rt.err = downstreamError(a.sess.Draft(), err)
		close(rt.ready)
		hold()
		rt.track.Close()
		return nil, nil, rt.err
	}
	rt.up = up
	r.m.trackChanged(1)
	// The last downstream subscriber leaving ends the upstream subscription.
	rt.track.OnIdle(func() { r.dropIdle(rt) })
	// The upstream ending (publisher gone, track ended) ends the
	// downstream ones, unless it came through a peer relay that was lost
	// and another relay serves the track now.
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			r.mu.Lock()
			up := rt.up
			r.mu.Unlock()
			select {
			case <-up.Done():
			case <-r.ctx.Done():
				r.dropTrack(rt)
				return
			}
			if r.cl == nil || !r.cl.reroute(rt) {
				r.dropTrack(rt)
				return
			}
		}
	}()
	close(rt.ready)
	return rt, hold, nil
}

// downstreamError converts the upstream's refusal of a SUBSCRIBE into the
// error given to downstream subscribers, who may speak another draft: the
// codes differ per draft, so "does not exist" becomes ErrTrackNotFound
// (each session answers it with its own draft's code) and anything else
// becomes an internal error (code 0x0 in both drafts): the relay chose the
// upstream filter, so a range error there is not the subscriber's.
func downstreamError(up moq.Draft, err error) error {
	var re *moq.RequestError
	if !errors.As(err, &re) {
		return &moq.RequestError{Op: "SUBSCRIBE", Code: 0x0, Reason: "upstream: " + err.Error()}
	}
	notExist, alsoNotExist := uint64(0x4), uint64(0x4) // draft-14 TRACK_DOES_NOT_EXIST
	switch {
	case up.Is07():
		notExist, alsoNotExist = 0x3, 0x3 // draft-07 Track Does Not Exist
	case up == moq.Draft16:
		// REQUEST_ERROR DOES_NOT_EXIST; Eyevinn moqtransport v0.9.0 sends
		// draft-14's 0x4 on 16 (MALFORMED_AUTH_TOKEN in the text), taken
		// as before.
		notExist, alsoNotExist = 0x10, 0x4
	case up == moq.Draft18, up == moq.Draft20:
		notExist, alsoNotExist = 0x10, 0x10
	}
	if re.Code == notExist || re.Code == alsoNotExist {
		return fmt.Errorf("relay: upstream: %s: %w", re.Reason, moq.ErrTrackNotFound)
	}
	return &moq.RequestError{Op: "SUBSCRIBE", Code: 0x0, Reason: "upstream: " + re.Reason}
}

// dropTrack ends a relay track: upstream UNSUBSCRIBE, downstream
// PUBLISH_DONE.
func (r *Relay) dropTrack(rt *relayTrack) {
	r.mu.Lock()
	own := r.tracks[rt.key] == rt
	if own {
		delete(r.tracks, rt.key)
	}
	up, peer := rt.up, rt.peer
	r.mu.Unlock()
	if !own {
		return
	}
	r.m.trackChanged(-1)
	r.m.addTrackStats(rt.track.Stats())
	if peer != "" && r.cl != nil {
		r.cl.addEnded(peer, rt.track.Stats())
	}
	up.Close()
	rt.track.Close()
}

// dropIdle drops a track whose last subscriber left, unless one has come
// since (OnIdle runs on a goroutine of its own: a SUBSCRIBE may have been
// attached to the track meanwhile, and would otherwise be ended at once; a
// downstream relay's UNSUBSCRIBE and SUBSCRIBE of the same track arrive
// that way).
func (r *Relay) dropIdle(rt *relayTrack) {
	r.mu.Lock()
	idle := r.tracks[rt.key] == rt && rt.track.Subscribers() == 0
	r.mu.Unlock()
	if idle {
		r.dropTrack(rt)
	}
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
			return moq.ErrPrefixOverlap
		}
	}
	if sessionDone(s) {
		r.mu.Unlock()
		return fmt.Errorf("relay: session closed: %w", moq.ErrClosed)
	}
	r.nsSubs[s] = append(r.nsSubs[s], prefix)
	var fwds []func()
	for _, a := range r.announces {
		if a.sess != s && a.ns.HasPrefix(prefix) {
			fwds = append(fwds, r.forwardLocked(s, a.ns, true))
		}
	}
	if r.cl != nil {
		// And those other relays of the cluster serve.
		for _, ns := range r.cl.remoteNamespaces() {
			if ns.HasPrefix(prefix) && r.announces[ns.Key()] == nil {
				fwds = append(fwds, r.forwardLocked(s, ns, true))
			}
		}
	}
	r.mu.Unlock()
	for _, f := range fwds {
		f()
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
	delete(r.admit, s)
	if r.cl != nil {
		r.cl.sessionClosed(s)
	}
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
