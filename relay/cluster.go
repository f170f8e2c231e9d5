package relay

// Relay clustering: several relays share a registry in etcd and act as one.
// Each relay registers itself (its advertised URL and certificate
// fingerprint) and each namespace announced to it under one lease; a relay
// asked for a track it has no publisher for finds the origin relay in the
// registry and subscribes to it over MoQT as a client (one upstream per
// track, shared by its subscribers, as with local publishers). Peer
// requests carry a cluster token holding the shared secret and the hop list
// of the relays already on the path; a relay that finds itself in the list
// refuses the request (a loop).

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// ClusterConfig joins a relay to a cluster (Config.Cluster).
type ClusterConfig struct {
	// Endpoints are the etcd client URLs, e.g. http://127.0.0.1:2379.
	Endpoints []string
	// Prefix is the etcd key prefix shared by the cluster's relays.
	// Default "/moq-relay/".
	Prefix string
	// ID names this relay in the registry and in hop lists: letters,
	// digits, '.', '_' and '-', at most 64. Default: 16 random hex digits.
	ID string
	// Advertise is the URL peers dial to reach this relay (moqt://HOST:PORT/
	// or https://HOST:PORT/PATH). Default moqt://ADDR/ with the relay's
	// bound address.
	Advertise string
	// Token is the cluster's shared secret. Peers present it on their
	// connections to each other; a request carrying a hop list is honoured
	// only with it. Required.
	Token string
	// TTL is the lease of this relay's registry entries: they vanish this
	// long after the relay stops renewing them (a crash). Whole seconds,
	// default 3s.
	TTL time.Duration
	// PeerOptions configure the sessions dialed to peer relays (the peer's
	// certificate is pinned by the fingerprint it registered; the cluster
	// token is sent as AUTHORIZATION TOKEN).
	PeerOptions moq.Options
}

// Errors of the cluster.
var (
	// ErrRelayLoop refuses a peer request whose hop list already holds
	// this relay.
	ErrRelayLoop = errors.New("relay loop")
	// ErrClusterToken refuses a request that carries a cluster token with
	// the wrong secret.
	ErrClusterToken = errors.New("bad cluster token")
)

// clusterTokenPrefix starts a cluster token: "moq-cluster-1;HOPS;SECRET",
// HOPS being the relay IDs already on the path, comma-separated.
const clusterTokenPrefix = "moq-cluster-1;"

// maxHops bounds the hop list.
const maxHops = 8

var relayIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// member is a relay of the cluster, as registered.
type member struct {
	URL string `json:"url"`
	FP  string `json:"fp"` // hex SHA-256 of its leaf certificate
}

// nsEntry is one relay's registration of a namespace.
type nsEntry struct {
	rev int64 // etcd ModRevision: the newest registration wins
}

// peerLink is this relay's session to a peer relay.
type peerLink struct {
	id    string
	ready chan struct{}
	sess  *moq.Session
	err   error
}

// peerStat is a peer link's counters.
type peerStat struct {
	connects uint64
	failures uint64
	reroutes uint64
	ended    moq.TrackStats
}

type cluster struct {
	r      *Relay
	cfg    ClusterConfig
	cli    *clientv3.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	regMu  sync.Mutex // serializes registry writes

	mu      sync.Mutex
	leaving bool // leave was called: do not register again
	lease   clientv3.LeaseID
	members map[string]member
	remote  map[string]map[string]nsEntry // namespace key -> relay ID -> entry
	remNS   map[string]moq.Namespace      // namespace key -> namespace
	peers   map[string]*peerLink
	stats   map[string]*peerStat
	hops    map[hopKey][]string // hop lists of admitted peer SUBSCRIBEs, taken by Subscribe
	synced  chan struct{}       // closed after the first registry read
	changed chan struct{}       // closed (and replaced) at each registry change
}

type hopKey struct {
	s   *moq.Session
	key string
}

func (c *ClusterConfig) defaults(r *Relay) error {
	if len(c.Endpoints) == 0 {
		return errors.New("relay: cluster: no etcd endpoints")
	}
	if c.Token == "" {
		return errors.New("relay: cluster: the cluster token is empty")
	}
	if c.Prefix == "" {
		c.Prefix = "/moq-relay/"
	}
	if !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if c.ID == "" {
		var b [8]byte
		rand.Read(b[:])
		c.ID = hex.EncodeToString(b[:])
	}
	if !relayIDRe.MatchString(c.ID) {
		return fmt.Errorf("relay: cluster: relay ID %q: want 1 to 64 letters, digits, '.', '_' or '-'", c.ID)
	}
	if c.Advertise != "" {
		u, err := url.Parse(c.Advertise)
		if err != nil || (u.Scheme != "moqt" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("relay: cluster: advertised URL %q: want moqt://HOST:PORT/ or https://HOST:PORT/PATH", c.Advertise)
		}
	}
	if c.TTL <= 0 {
		c.TTL = 3 * time.Second
	}
	return nil
}

// newCluster checks the configuration and makes the etcd client (which
// connects in the background); start joins.
func newCluster(r *Relay, cfg ClusterConfig) (*cluster, error) {
	if err := cfg.defaults(r); err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cfg.Endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("relay: cluster: etcd: %w", err)
	}
	c := &cluster{r: r, cfg: cfg, cli: cli, members: map[string]member{}, remote: map[string]map[string]nsEntry{},
		remNS: map[string]moq.Namespace{}, peers: map[string]*peerLink{}, stats: map[string]*peerStat{},
		hops: map[hopKey][]string{}, synced: make(chan struct{}), changed: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// start registers the relay (listening on addr) and starts watching the
// registry; it returns once the registry has been read. On failure the
// cluster is closed.
func (c *cluster) start(addr string) error {
	if c.cfg.Advertise == "" {
		c.cfg.Advertise = "moqt://" + addr + "/"
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if err := c.register(ctx); err != nil {
		c.close()
		return fmt.Errorf("relay: cluster: registering in etcd %s: %w", strings.Join(c.cfg.Endpoints, ","), err)
	}
	c.wg.Add(2)
	go c.keepAlive()
	go c.watchLoop()
	select {
	case <-c.synced:
	case <-ctx.Done():
		c.close()
		return fmt.Errorf("relay: cluster: reading the registry: %w", ctx.Err())
	}
	return nil
}

func (c *cluster) memberKey(id string) string { return c.cfg.Prefix + "relays/" + id }

// nsKeyPrefix encodes a namespace for the registry: fields query-escaped,
// joined by '/', so that a field-wise prefix is a string prefix.
func nsPath(ns moq.Namespace) string {
	parts := make([]string, len(ns))
	for i, f := range ns {
		parts[i] = url.QueryEscape(f)
	}
	return strings.Join(parts, "/")
}

func parseNSPath(p string) (moq.Namespace, error) {
	parts := strings.Split(p, "/")
	ns := make(moq.Namespace, len(parts))
	for i, s := range parts {
		f, err := url.QueryUnescape(s)
		if err != nil {
			return nil, err
		}
		ns[i] = f
	}
	return ns, nil
}

func (c *cluster) nsKey(ns moq.Namespace, id string) string {
	return c.cfg.Prefix + "ns/" + nsPath(ns) + "|" + id
}

// register grants a lease and puts the relay's entries under it: itself and
// every namespace announced to it.
func (c *cluster) register(ctx context.Context) error {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	ttl := int64((c.cfg.TTL + time.Second - 1) / time.Second)
	g, err := c.cli.Grant(ctx, ttl)
	if err != nil {
		return err
	}
	if g.TTL != ttl {
		// etcd raises a TTL below its minimum (1.5 x its election
		// timeout, rounded up: 2 s by default).
		c.r.log.Info("cluster: etcd granted another lease TTL", "asked", ttl, "granted", g.TTL)
	}
	v, _ := json.Marshal(member{URL: c.cfg.Advertise, FP: hex.EncodeToString(c.r.fp[:])})
	if _, err := c.cli.Put(ctx, c.memberKey(c.cfg.ID), string(v), clientv3.WithLease(g.ID)); err != nil {
		return err
	}
	c.mu.Lock()
	c.lease = g.ID
	c.mu.Unlock()
	for _, ns := range c.r.localNamespaces() {
		if _, err := c.cli.Put(ctx, c.nsKey(ns, c.cfg.ID), "{}", clientv3.WithLease(g.ID)); err != nil {
			return err
		}
	}
	return nil
}

// keepAlive renews the lease; if it is lost (etcd unreachable for longer
// than the TTL), the relay registers again with a new one.
func (c *cluster) keepAlive() {
	defer c.wg.Done()
	for c.ctx.Err() == nil {
		c.mu.Lock()
		lease := c.lease
		c.mu.Unlock()
		ch, err := c.cli.KeepAlive(c.ctx, lease)
		if err == nil {
			for range ch {
			}
		}
		c.mu.Lock()
		leaving := c.leaving
		c.mu.Unlock()
		if c.ctx.Err() != nil || leaving {
			return
		}
		c.r.log.Warn("cluster: etcd lease lost; registering again", "err", err)
		for c.ctx.Err() == nil {
			ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
			err := c.register(ctx)
			cancel()
			if err == nil {
				break
			}
			c.r.log.Warn("cluster: registering in etcd", "err", err)
			select {
			case <-c.ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// reconcile makes the registry say whether this relay serves ns, from the
// relay's current state (so that concurrent announces and withdrawals end
// in the right state, whatever order they reach here in).
func (c *cluster) reconcile(ns moq.Namespace) {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	c.r.mu.Lock()
	a := c.r.announces[ns.Key()]
	c.r.mu.Unlock()
	c.mu.Lock()
	lease, leaving := c.lease, c.leaving
	c.mu.Unlock()
	if leaving || lease == 0 {
		return // not registered yet: register puts every local namespace
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	var err error
	if a != nil {
		_, err = c.cli.Put(ctx, c.nsKey(ns, c.cfg.ID), "{}", clientv3.WithLease(lease))
	} else {
		_, err = c.cli.Delete(ctx, c.nsKey(ns, c.cfg.ID))
	}
	if err != nil && c.ctx.Err() == nil {
		c.r.log.Warn("cluster: registry update", "namespace", ns.String(), "err", err)
	}
}

// watchLoop reads the registry, then follows its changes; after a watch
// failure (compaction, lost connection) it reads it again.
func (c *cluster) watchLoop() {
	defer c.wg.Done()
	first := true
	for c.ctx.Err() == nil {
		resp, err := c.cli.Get(c.ctx, c.cfg.Prefix, clientv3.WithPrefix())
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			c.r.log.Warn("cluster: reading the registry", "err", err)
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		c.resync(resp)
		if first {
			close(c.synced)
			first = false
		}
		wch := c.cli.Watch(c.ctx, c.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
		for wr := range wch {
			if err := wr.Err(); err != nil {
				c.r.log.Warn("cluster: registry watch", "err", err)
				break
			}
			for _, ev := range wr.Events {
				c.apply(string(ev.Kv.Key), ev.Kv.Value, ev.Kv.ModRevision, ev.Type == clientv3.EventTypeDelete)
			}
		}
	}
}

// resync replaces the registry view with a full read.
func (c *cluster) resync(resp *clientv3.GetResponse) {
	seen := map[string]bool{}
	for _, kv := range resp.Kvs {
		seen[string(kv.Key)] = true
		c.apply(string(kv.Key), kv.Value, kv.ModRevision, false)
	}
	// Entries gone meanwhile.
	c.mu.Lock()
	var gone []string
	for id := range c.members {
		if !seen[c.memberKey(id)] {
			gone = append(gone, c.memberKey(id))
		}
	}
	for k, byRelay := range c.remote {
		for id := range byRelay {
			if key := c.nsKey(c.remNS[k], id); !seen[key] {
				gone = append(gone, key)
			}
		}
	}
	c.mu.Unlock()
	for _, k := range gone {
		c.apply(k, nil, 0, true)
	}
}

// apply takes one registry change into the view and acts on it: remote
// announces are forwarded to namespace subscribers, routes through a relay
// that left (or no longer serves the namespace) are dropped so that their
// subscribers subscribe again.
func (c *cluster) apply(key string, value []byte, rev int64, deleted bool) {
	defer c.signal()
	rest, ok := strings.CutPrefix(key, c.cfg.Prefix)
	if !ok {
		return
	}
	switch {
	case strings.HasPrefix(rest, "relays/"):
		id := strings.TrimPrefix(rest, "relays/")
		if id == c.cfg.ID {
			return
		}
		c.mu.Lock()
		if deleted {
			delete(c.members, id)
			p := c.peers[id]
			delete(c.peers, id)
			c.mu.Unlock()
			c.r.log.Info("cluster: relay left", "relay", id)
			if p != nil {
				c.closeLink(p)
			}
			c.r.dropRoutes(id)
			return
		}
		var m member
		if err := json.Unmarshal(value, &m); err != nil {
			c.mu.Unlock()
			c.r.log.Warn("cluster: bad registry entry", "key", key, "err", err)
			return
		}
		prev, known := c.members[id]
		c.members[id] = m
		var stale *peerLink
		if known && prev != m {
			// The relay came back (a restart under the same ID, another
			// address or certificate): the old link is dead.
			stale = c.peers[id]
			delete(c.peers, id)
		}
		c.mu.Unlock()
		if stale != nil {
			c.closeLink(stale)
			c.r.dropRoutes(id)
		}
	case strings.HasPrefix(rest, "ns/"):
		p, id, ok := cutLast(strings.TrimPrefix(rest, "ns/"), "|")
		if !ok || id == c.cfg.ID {
			return
		}
		ns, err := parseNSPath(p)
		if err != nil {
			return
		}
		k := ns.Key()
		c.mu.Lock()
		before := len(c.remote[k])
		if deleted {
			if m := c.remote[k]; m != nil {
				delete(m, id)
				if len(m) == 0 {
					delete(c.remote, k)
					delete(c.remNS, k)
				}
			}
		} else {
			if c.remote[k] == nil {
				c.remote[k] = map[string]nsEntry{}
			}
			c.remote[k][id] = nsEntry{rev: rev}
			c.remNS[k] = ns
		}
		after := len(c.remote[k])
		c.mu.Unlock()
		// A namespace withdrawn from a live relay ends there: that relay
		// ends the tracks (PUBLISH_DONE) and so do the relays routed to it.
		if (before == 0) != (after == 0) {
			c.r.remoteAnnounce(ns, after > 0)
		}
	}
}

// signal wakes those waiting for a registry change.
func (c *cluster) signal() {
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// changes returns a channel closed at the next registry change.
func (c *cluster) changes() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// rerouteWait bounds how long a relay keeps the subscriptions of a track
// whose origin relay was lost while it looks for another: long enough for
// the publisher to reach another relay and for the lost relay's lease to
// expire.
func (c *cluster) rerouteWait() time.Duration { return 2*c.cfg.TTL + 5*time.Second }

// reroute moves the upstream of a track whose origin relay was lost (its
// session ended, or it left the registry) to
// the relay that serves the namespace now, or to a publisher that came to
// this relay; the downstream subscriptions go on, with the objects of the
// new upstream. It gives up (false: the track is dropped) when the upstream
// ended otherwise (the publisher ended the track), when the track lost its
// subscribers, or after rerouteWait.
func (c *cluster) reroute(rt *relayTrack) bool {
	r := c.r
	r.mu.Lock()
	ok := r.tracks[rt.key] == rt && rt.peer != "" && (rt.lost || rt.pub.Err() != nil)
	if ok {
		rt.rerouting = true
	}
	old := rt.peer
	r.mu.Unlock()
	if !ok {
		return false
	}
	defer func() {
		r.mu.Lock()
		rt.rerouting = false
		r.mu.Unlock()
	}()
	r.log.Info("cluster: origin relay lost; rerouting", "namespace", rt.ns.String(), "track", rt.name, "relay", old)
	ctx, cancel := context.WithTimeout(c.ctx, c.rerouteWait())
	defer cancel()
	for {
		changed := c.changes()
		r.mu.Lock()
		alive := r.tracks[rt.key] == rt
		a := r.findPublisherLocked(rt.ns)
		r.mu.Unlock()
		if !alive || rt.track.Subscribers() == 0 {
			return false
		}
		var (
			sess        *moq.Session
			id, key     string
			err         error
			token       string
			filter      = moq.Filter{Type: moq.FilterLargestObject}
			description = "local publisher"
		)
		if a != nil {
			sess = a.sess
			if sess.Draft().Is07() {
				filter = moq.Filter{Type: moq.FilterLatestGroup}
			}
		} else {
			sess, id, key, err = c.route(ctx, rt.ns, rt.hops)
			token = c.token(append(append([]string(nil), rt.hops...), c.cfg.ID))
			description = "relay " + id
		}
		if err == nil {
			var up *moq.Subscription
			up, err = sess.Subscribe(ctx, rt.ns, rt.name, moq.SubscribeOptions{Filter: filter, ForwardTo: rt.track, AuthToken: token})
			if err == nil {
				if nl, ok := up.Largest(); ok {
					if ol, ok := rt.track.Largest(); ok && nl.Less(ol) {
						// The new origin's track is behind what was
						// forwarded: not a continuation (a publisher that
						// started again). End the track; subscribers
						// subscribe again to the new one.
						up.Close()
						r.log.Info("cluster: the new origin's track starts over; ending the track", "namespace", rt.ns.String(), "track", rt.name)
						return false
					}
				}
				r.mu.Lock()
				if r.tracks[rt.key] != rt {
					r.mu.Unlock()
					up.Close()
					return false
				}
				rt.up, rt.pub, rt.peer, rt.route, rt.lost = up, sess, id, key, false
				r.mu.Unlock()
				if id != "" {
					c.mu.Lock()
					c.statLocked(id).reroutes++
					c.mu.Unlock()
				}
				r.log.Info("cluster: rerouted", "namespace", rt.ns.String(), "track", rt.name, "to", description)
				return true
			}
		}
		r.log.Debug("cluster: rerouting", "namespace", rt.ns.String(), "track", rt.name, "err", err)
		select {
		case <-changed:
		case <-ctx.Done():
			r.log.Info("cluster: no new origin; ending the track", "namespace", rt.ns.String(), "track", rt.name)
			return false
		}
	}
}

// otherRelay returns the advertised URL of another relay of the cluster
// (picked at random), or "" if there is none: the GOAWAY URI of a relay
// that shuts down.
func (c *cluster) otherRelay() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.members { // map order: random enough
		return m.URL
	}
	return ""
}

// closeLink closes a peer link in the background (it may still be
// dialing).
func (c *cluster) closeLink(p *peerLink) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		<-p.ready
		if p.sess != nil {
			p.sess.CloseWithError(moq.CodeNoError, "peer relay left the cluster")
			p.sess.Wait()
		}
	}()
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// hasRemote reports whether another relay serves ns.
func (c *cluster) hasRemote(ns moq.Namespace) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.remote[ns.Key()]) > 0
}

// remoteNamespaces lists the namespaces other relays serve.
func (c *cluster) remoteNamespaces() []moq.Namespace {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]moq.Namespace, 0, len(c.remNS))
	for _, ns := range c.remNS {
		out = append(out, ns)
	}
	return out
}

// route finds the relay serving ns (the longest registered prefix; among
// relays, the newest registration), skipping this relay and those on the
// hop list, and returns a session to it.
func (c *cluster) route(ctx context.Context, ns moq.Namespace, hops []string) (sess *moq.Session, id, key string, err error) {
	c.mu.Lock()
	for n := len(ns); n >= 1 && id == ""; n-- {
		k := ns[:n].Key()
		type cand struct {
			id  string
			rev int64
		}
		var cands []cand
		for rid, e := range c.remote[k] {
			if rid == c.cfg.ID || contains(hops, rid) {
				continue
			}
			if _, ok := c.members[rid]; !ok {
				continue
			}
			cands = append(cands, cand{rid, e.rev})
		}
		if len(cands) > 0 {
			sort.Slice(cands, func(i, j int) bool { return cands[i].rev > cands[j].rev })
			id, key = cands[0].id, k
		}
	}
	c.mu.Unlock()
	if id == "" {
		return nil, "", "", fmt.Errorf("relay: no publisher for namespace %s in the cluster: %w", ns, moq.ErrTrackNotFound)
	}
	sess, err = c.peer(ctx, id)
	if err != nil {
		return nil, "", "", &moq.RequestError{Op: "SUBSCRIBE", Code: 0x0, Reason: fmt.Sprintf("origin relay %s unreachable: %v", id, err)}
	}
	return sess, id, key, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// peer returns the session to relay id, dialing it if there is none (one
// session per peer, shared by all the tracks routed through it).
func (c *cluster) peer(ctx context.Context, id string) (*moq.Session, error) {
	c.mu.Lock()
	p := c.peers[id]
	if p != nil {
		select {
		case <-p.ready:
			if p.err != nil || p.sess.Err() != nil {
				delete(c.peers, id)
				p = nil
			}
		default:
		}
	}
	if p != nil {
		c.mu.Unlock()
		select {
		case <-p.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if p.err != nil {
			return nil, p.err
		}
		return p.sess, nil
	}
	m, ok := c.members[id]
	if !ok {
		c.mu.Unlock()
		return nil, fmt.Errorf("relay %s is not a member", id)
	}
	p = &peerLink{id: id, ready: make(chan struct{})}
	c.peers[id] = p
	st := c.statLocked(id)
	c.mu.Unlock()

	opts := c.cfg.PeerOptions
	opts.Handler = nil
	opts.AuthToken = c.token(nil)
	if len(opts.Drafts) == 0 {
		opts.Drafts = []moq.Draft{moq.Draft16, moq.Draft14} // drafts with setup tokens
	}
	opts.TLS.PinSHA256 = nil
	if fp, err := hex.DecodeString(m.FP); err == nil && len(fp) == 32 {
		opts.TLS.PinSHA256 = [][32]byte{[32]byte(fp)}
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	sess, err := moq.Dial(dctx, m.URL, &opts)
	cancel()
	c.mu.Lock()
	if err != nil {
		st.failures++
		if c.peers[id] == p {
			delete(c.peers, id)
		}
	} else {
		st.connects++
	}
	stale := c.ctx.Err() != nil || c.peers[id] != p
	c.mu.Unlock()
	if err == nil && stale {
		sess.CloseWithError(moq.CodeNoError, "peer relay left the cluster")
		err = errors.New("peer relay left the cluster")
	}
	p.sess, p.err = sess, err
	close(p.ready)
	if err != nil {
		return nil, err
	}
	c.r.log.Info("cluster: peer link up", "relay", id, "url", m.URL, "draft", sess.Draft().String())
	return sess, nil
}

func (c *cluster) statLocked(id string) *peerStat {
	st := c.stats[id]
	if st == nil {
		st = &peerStat{}
		c.stats[id] = st
	}
	return st
}

// token is the cluster token with a hop list.
func (c *cluster) token(hops []string) string {
	return clusterTokenPrefix + strings.Join(hops, ",") + ";" + c.cfg.Token
}

// parseToken reads a cluster token: ok false if v is not one; err if it is
// one with the wrong secret.
func (c *cluster) parseToken(v string) (hops []string, ok bool, err error) {
	rest, ok := strings.CutPrefix(v, clusterTokenPrefix)
	if !ok {
		return nil, false, nil
	}
	h, secret, found := strings.Cut(rest, ";")
	if !found || subtle.ConstantTimeCompare([]byte(secret), []byte(c.cfg.Token)) != 1 {
		return nil, true, ErrClusterToken
	}
	if h != "" {
		hops = strings.Split(h, ",")
	}
	for _, id := range hops {
		if !relayIDRe.MatchString(id) {
			return nil, true, fmt.Errorf("%w: hop %q", ErrClusterToken, id)
		}
	}
	return hops, true, nil
}

// isPeer reports whether tokens hold a valid cluster token.
func (c *cluster) isPeer(tokens []moq.AuthToken) bool {
	for _, t := range tokens {
		if _, ok, err := c.parseToken(t.Value); ok && err == nil {
			return true
		}
	}
	return false
}

// checkRequest looks at a request's cluster token, if any: a wrong secret
// is refused, a hop list holding this relay is refused (a loop), a valid
// one admits the request (peer is true) and, for a SUBSCRIBE, keeps its
// hop list for Subscribe.
func (c *cluster) checkRequest(s *moq.Session, req *moq.AuthRequest) (peer bool, err error) {
	for _, t := range req.Tokens {
		hops, ok, err := c.parseToken(t.Value)
		if !ok {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("relay: %w: %w", moq.ErrUnauthorized, err)
		}
		if contains(hops, c.cfg.ID) {
			return false, &moq.RequestError{Op: string(req.Kind), Code: 0x0,
				Reason: fmt.Sprintf("%v: relay %s is already on the hop path %s", ErrRelayLoop, c.cfg.ID, strings.Join(hops, ","))}
		}
		if len(hops) >= maxHops {
			return false, &moq.RequestError{Op: string(req.Kind), Code: 0x0,
				Reason: fmt.Sprintf("%v: hop path %s is too long (at most %d relays)", ErrRelayLoop, strings.Join(hops, ","), maxHops)}
		}
		if req.Kind == moq.RequestSubscribe {
			c.mu.Lock()
			c.hops[hopKey{s, trackKey(req.Namespace, req.Name)}] = hops
			c.mu.Unlock()
		}
		return true, nil
	}
	return false, nil
}

// takeHops returns (and forgets) the hop list of a peer's SUBSCRIBE.
func (c *cluster) takeHops(s *moq.Session, ns moq.Namespace, name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := hopKey{s, trackKey(ns, name)}
	h := c.hops[k]
	delete(c.hops, k)
	return h
}

// sessionClosed forgets a session's pending hop lists.
func (c *cluster) sessionClosed(s *moq.Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.hops {
		if k.s == s {
			delete(c.hops, k)
		}
	}
}

// addEnded adds an ended track's counters to its peer link's.
func (c *cluster) addEnded(id string, st moq.TrackStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &c.statLocked(id).ended
	e.ObjectsIn += st.ObjectsIn
	e.BytesIn += st.BytesIn
	e.ObjectsOut += st.ObjectsOut
	e.BytesOut += st.BytesOut
	e.Dropped += st.Dropped
}

// PeerStats are the counters of one peer link.
type PeerStats struct {
	Relay    string // the peer's ID
	Up       bool   // a session to it is open
	Connects uint64 // sessions opened to it
	Failures uint64 // failed dials
	Reroutes uint64 // tracks moved to it after their origin relay was lost
	Tracks   int    // tracks routed through it now
	moq.TrackStats
}

// PeerStats returns the counters of each peer link (nil without a
// cluster).
func (r *Relay) PeerStats() []PeerStats {
	c := r.cl
	if c == nil {
		return nil
	}
	live := map[string]*PeerStats{}
	r.mu.Lock()
	for _, rt := range r.tracks {
		if rt.peer == "" {
			continue
		}
		ps := live[rt.peer]
		if ps == nil {
			ps = &PeerStats{Relay: rt.peer}
			live[rt.peer] = ps
		}
		ps.Tracks++
		st := rt.track.Stats()
		ps.ObjectsIn += st.ObjectsIn
		ps.BytesIn += st.BytesIn
		ps.ObjectsOut += st.ObjectsOut
		ps.BytesOut += st.BytesOut
		ps.Dropped += st.Dropped
	}
	r.mu.Unlock()
	c.mu.Lock()
	for id, st := range c.stats {
		ps := live[id]
		if ps == nil {
			ps = &PeerStats{Relay: id}
			live[id] = ps
		}
		ps.Connects, ps.Failures, ps.Reroutes = st.connects, st.failures, st.reroutes
		ps.ObjectsIn += st.ended.ObjectsIn
		ps.BytesIn += st.ended.BytesIn
		ps.ObjectsOut += st.ended.ObjectsOut
		ps.BytesOut += st.ended.BytesOut
		ps.Dropped += st.ended.Dropped
		if p := c.peers[id]; p != nil {
			select {
			case <-p.ready:
				ps.Up = p.err == nil && p.sess.Err() == nil
			default:
			}
		}
	}
	c.mu.Unlock()
	out := make([]PeerStats, 0, len(live))
	for _, ps := range live {
		out = append(out, *ps)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Relay < out[j].Relay })
	return out
}

// ClusterID returns the relay's ID in its cluster ("" without one).
func (r *Relay) ClusterID() string {
	if r.cl == nil {
		return ""
	}
	return r.cl.cfg.ID
}

// leave revokes the lease: the relay's entries vanish at once, so that the
// other relays stop routing to it (Shutdown, before the drain).
func (c *cluster) leave() {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	c.mu.Lock()
	lease, leaving := c.lease, c.leaving
	c.leaving = true
	c.mu.Unlock()
	if lease == 0 || leaving {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := c.cli.Revoke(ctx, lease); err != nil {
		c.r.log.Debug("cluster: revoking the lease", "err", err)
	}
}

// close leaves the cluster (if it has not yet) and closes the peer links.
func (c *cluster) close() {
	c.leave()
	c.mu.Lock()
	peers := c.peers
	c.peers = map[string]*peerLink{}
	c.mu.Unlock()
	c.cancel()
	for _, p := range peers {
		<-p.ready
		if p.sess != nil {
			p.sess.CloseWithError(moq.CodeNoError, "relay closing")
			p.sess.Wait()
		}
	}
	c.wg.Wait()
	c.cli.Close()
}

// localNamespaces lists the namespaces announced to this relay.
func (r *Relay) localNamespaces() []moq.Namespace {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]moq.Namespace, 0, len(r.announces))
	for _, a := range r.announces {
		out = append(out, a.ns)
	}
	return out
}

// remoteAnnounce forwards a namespace another relay started (or stopped)
// serving to the matching namespace subscribers, unless a local publisher
// announced it (then they know it already, and keep knowing it).
func (r *Relay) remoteAnnounce(ns moq.Namespace, present bool) {
	r.mu.Lock()
	if r.closed || r.announces[ns.Key()] != nil {
		r.mu.Unlock()
		return
	}
	var fwds []func()
	for sub, prefixes := range r.nsSubs {
		for _, p := range prefixes {
			if ns.HasPrefix(p) {
				fwds = append(fwds, r.forwardLocked(sub, ns, present))
				break
			}
		}
	}
	r.mu.Unlock()
	for _, f := range fwds {
		f()
	}
}

// dropRoutes ends the upstreams of the tracks routed through relay id, which
// left the cluster: each track's watcher then reroutes it (reroute) or,
// failing that, drops it.
func (r *Relay) dropRoutes(id string) {
	r.mu.Lock()
	var drop []*relayTrack
	for _, rt := range r.tracks {
		select {
		case <-rt.ready:
		default:
			continue // still subscribing: peer and route are not set yet
		}
		if rt.err == nil && rt.peer == id {
			rt.lost = true
			drop = append(drop, rt)
		}
	}
	r.mu.Unlock()
	for _, rt := range drop {
		r.mu.Lock()
		up := rt.up
		r.mu.Unlock()
		up.Close()
	}
}
