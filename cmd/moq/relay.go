package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/moq-ffi/moq-ffi-go/relay"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
)

type relayFlags struct {
	listen      string
	cert, key   string
	path        string
	metrics     string
	fingerprint string
	drain       time.Duration
	cacheGroups int
	cacheBytes  int
	cacheAge    time.Duration
	subBuffer   int
	layout07    string
	drafts      string
	tokenFile   string
	jwtKey      string
	jwtAlg      string
	verbose     bool

	etcd, advertise, relayID, clusterTokenFile, clusterPrefix string
	clusterTTL                                                time.Duration
}

func addRelayCmd(root *cobra.Command) {
	var f relayFlags
	cmd := &cobra.Command{
		Use:   "relay",
		Short: "Run a MoQT relay (drafts 07, 14, 16, 18 and 20, raw QUIC and WebTransport on one port)",
		Long: `relay runs a Media over QUIC relay. Publishers connect and announce namespaces;
subscribers connect and subscribe to tracks; the relay forwards each track from
its publisher to all its subscribers, keeping the most recent groups for late
joiners and FETCH.

One UDP port serves raw QUIC (moqt://HOST:PORT/, ALPN moqt-20, moqt-18,
moqt-16 or moq-00) and WebTransport (https://HOST:PORT/PATH), and draft-07,
draft-14, draft-16, draft-18 and draft-20 clients alike: a publisher's tracks reach subscribers of
every draft.

Without --cert/--key it makes a self-signed certificate valid for 13 days and
prints its SHA-256 fingerprint: clients pin it (browsers through
serverCertificateHashes). --fingerprint-http serves that fingerprint as text
over plain HTTP, so a local web page can fetch it.

--token-file FILE admits only clients that present the token from FILE: in
their URL (https://HOST:PORT/moq?token=T, moqt://HOST:PORT/?token=T) or as
the draft-14 AUTHORIZATION TOKEN of their CLIENT_SETUP or requests (moq pub
--auth-token-file, MOQ_FFI_AUTH_TOKEN); others are closed with Unauthorized.

--jwt-key FILE --jwt-alg HS256|ES256 admits clients that present a JSON Web
Token signed with that key (HS256: FILE holds the shared secret, at least 32
bytes; ES256: FILE holds the P-256 public key in PEM), in CLIENT_SETUP, in a
request, or in the URL (?jwt=T or ?token=T; draft-07 clients must use the
URL). exp and nbf are checked; the optional claims "publish" and "subscribe"
list the namespace prefixes the token may announce and subscribe to
(e.g. {"publish": ["live/room1"], "subscribe": ["live"]}); requests outside
them are refused with the draft's unauthorized code. With both --token-file
and --jwt-key, either credential is accepted.

Without either, anyone who can reach the port may publish and subscribe: keep
the default loopback address unless the network is yours.

--etcd URL[,URL...] joins a cluster of relays that act as one: each relay
registers itself (its --advertise URL, default moqt://LISTEN/) and the
namespaces announced to it in etcd under a lease of --cluster-ttl; a
subscriber on any relay gets a track published on any other (the relay
subscribes to the origin relay, once per track), and namespace subscriptions
see announcements cluster-wide. --cluster-token-file FILE (required) holds the
shared secret that relays present to each other; peers are pinned by the
certificate fingerprint they registered. See docs/relay.md, "Cluster".

Ctrl-C (SIGINT) or SIGTERM sends GOAWAY to every session, waits up to --drain
for them to leave, then stops. A clustered relay first leaves the registry and
names another relay of the cluster in its GOAWAY.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runRelay(cmd, f); err != nil {
				return &cmdError{cmd: "relay", err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:4443", "UDP address to listen on")
	fl.StringVar(&f.cert, "cert", "", "TLS certificate chain (PEM); with --key")
	fl.StringVar(&f.key, "key", "", "TLS private key (PEM); with --cert")
	fl.StringVar(&f.path, "path", "", "accept WebTransport only at this URL path (default: any path)")
	fl.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics over HTTP at this address, e.g. 127.0.0.1:9464")
	fl.StringVar(&f.fingerprint, "fingerprint-http", "", "serve the certificate's SHA-256 fingerprint over plain HTTP at this address")
	fl.DurationVar(&f.drain, "drain", 5*time.Second, "how long to wait for sessions to leave after GOAWAY on shutdown")
	fl.IntVar(&f.cacheGroups, "cache-groups", 4, "groups kept per track for late joiners and FETCH")
	fl.IntVar(&f.cacheBytes, "cache-bytes", 16<<20, "bytes kept per track for late joiners and FETCH")
	fl.DurationVar(&f.cacheAge, "cache-age", 0, "drop cached groups older than this (0: no age limit)")
	fl.IntVar(&f.subBuffer, "subscriber-buffer", 8<<20, "bytes queued per subscriber that the network has not taken; past it the oldest whole groups are dropped (the subscriber counts and logs the loss). A single object up to the maximum object size always goes through")
	fl.StringVar(&f.layout07, "draft07-layout", "07cf", "data layout used with draft-07 clients: 07cf (Cloudflare, moq-rs) or 07 (specification)")
	fl.StringVar(&f.drafts, "drafts", "", "accept only these drafts, comma-separated: 20, 18, 16, 14, 07 (default: all)")
	fl.StringVar(&f.tokenFile, "token-file", "", "admit only sessions that present the token T (this file's first line) in the URL (?token=T) or as AUTHORIZATION TOKEN")
	fl.StringVar(&f.jwtKey, "jwt-key", "", "admit sessions that present a JWT verified with this key file (HS256 secret or ES256 PEM public key); with --jwt-alg")
	fl.StringVar(&f.jwtAlg, "jwt-alg", "", "algorithm of --jwt-key: HS256 or ES256 (tokens of any other algorithm are refused)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log sessions and requests")
	fl.StringVar(&f.etcd, "etcd", "", "join a relay cluster whose registry is this etcd (client URLs, comma-separated, e.g. http://127.0.0.1:2379)")
	fl.StringVar(&f.advertise, "advertise", "", "with --etcd: the URL other relays reach this one at, moqt://HOST:PORT/ or https://HOST:PORT/PATH (default moqt://LISTEN-ADDRESS/)")
	fl.StringVar(&f.relayID, "relay-id", "", "with --etcd: this relay's name in the cluster (letters, digits, . _ -; default random)")
	fl.StringVar(&f.clusterTokenFile, "cluster-token-file", "", "with --etcd: file whose first line is the cluster's shared secret (required)")
	fl.StringVar(&f.clusterPrefix, "cluster-prefix", "/moq-relay/", "with --etcd: etcd key prefix of the cluster")
	fl.DurationVar(&f.clusterTTL, "cluster-ttl", 3*time.Second, "with --etcd: lease of this relay's registry entries; a crashed relay's entries vanish after it (whole seconds)")
	root.AddCommand(cmd)
}

func runRelay(cmd *cobra.Command, f relayFlags) error {
	out := cmd.OutOrStdout()
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	var (
		cert tls.Certificate
		fp   [32]byte
		err  error
	)
	switch {
	case f.cert != "" || f.key != "":
		if f.cert == "" || f.key == "" {
			return errors.New("--cert and --key go together")
		}
		if cert, err = transport.LoadCertificate(f.cert, f.key); err != nil {
			return err
		}
		fp = transport.Fingerprint(cert.Leaf)
	default:
		host, _, err := net.SplitHostPort(f.listen)
		if err != nil {
			return fmt.Errorf("--listen %q: %w", f.listen, err)
		}
		var hosts []string
		if host != "" && host != "0.0.0.0" && host != "::" {
			hosts = []string{host, "localhost", "127.0.0.1", "::1"}
		}
		if cert, fp, err = transport.GenerateSelfSigned(hosts, 0); err != nil {
			return err
		}
	}
	layout := moq.Draft07Cloudflare
	switch f.layout07 {
	case "07cf":
	case "07":
		layout = moq.Draft07
	default:
		return fmt.Errorf("--draft07-layout %q: want 07cf or 07", f.layout07)
	}
	var drafts []moq.Draft
	for _, d := range strings.Split(f.drafts, ",") {
		switch strings.TrimSpace(d) {
		case "":
		case "20":
			drafts = append(drafts, moq.Draft20)
		case "18":
			drafts = append(drafts, moq.Draft18)
		case "16":
			drafts = append(drafts, moq.Draft16)
		case "14":
			drafts = append(drafts, moq.Draft14)
		case "07", "07cf":
			drafts = append(drafts, layout)
		default:
			return fmt.Errorf("--drafts %q: want 20, 18, 16, 14 and/or 07", f.drafts)
		}
	}
	if f.subBuffer < 1 {
		return fmt.Errorf("--subscriber-buffer %d: want a positive number of bytes", f.subBuffer)
	}
	cfg := relay.Config{
		Addr: f.listen,
		Session: moq.Options{TLS: moq.TLSConfig{Certificates: []tls.Certificate{cert}}, WebTransportPath: f.path,
			Draft07Layout: layout, Drafts: drafts, SubscriptionBuffer: f.subBuffer},
		CacheGroups: f.cacheGroups,
		CacheBytes:  f.cacheBytes,
		CacheAge:    f.cacheAge,
		Drain:       f.drain,
		Logger:      log,
	}
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		token, _, _ := strings.Cut(string(b), "\n")
		token = strings.TrimSpace(token)
		if token == "" {
			return fmt.Errorf("--token-file %s: the first line is empty", f.tokenFile)
		}
		cfg.Authorize = relay.RequireToken(token)
	}
	switch {
	case f.jwtKey != "" && f.jwtAlg == "":
		return errors.New("--jwt-key needs --jwt-alg HS256 or ES256")
	case f.jwtKey == "" && f.jwtAlg != "":
		return errors.New("--jwt-alg needs --jwt-key")
	case f.jwtKey != "":
		v, err := relay.LoadJWTVerifier(strings.ToUpper(f.jwtAlg), f.jwtKey)
		if err != nil {
			return fmt.Errorf("--jwt-key: %w", err)
		}
		if cfg.Authorize != nil {
			cfg.Authorize = relay.AnyOf(cfg.Authorize, v.Authorize)
		} else {
			cfg.Authorize = v.Authorize
		}
	}
	if f.etcd == "" && (f.advertise != "" || f.relayID != "" || f.clusterTokenFile != "") {
		return errors.New("--advertise, --relay-id and --cluster-token-file need --etcd")
	}
	if f.etcd != "" {
		if f.clusterTokenFile == "" {
			return errors.New("--etcd needs --cluster-token-file (the secret relays present to each other)")
		}
		secret, err := readSecret(f.clusterTokenFile)
		if err != nil {
			return fmt.Errorf("--cluster-token-file: %w", err)
		}
		if f.clusterTTL < time.Second {
			return fmt.Errorf("--cluster-ttl %v: at least 1s", f.clusterTTL)
		}
		var eps []string
		for _, e := range strings.Split(f.etcd, ",") {
			if e = strings.TrimSpace(e); e != "" {
				eps = append(eps, e)
			}
		}
		cfg.Cluster = &relay.ClusterConfig{Endpoints: eps, Advertise: f.advertise, ID: f.relayID, Token: secret,
			Prefix: f.clusterPrefix, TTL: f.clusterTTL, PeerOptions: moq.Options{Logger: log}}
	}
	var servers []*http.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	if f.metrics != "" {
		reg := prometheus.NewRegistry()
		cfg.Metrics = relay.NewMetrics(reg)
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		s, addr, err := serveHTTP(f.metrics, mux)
		if err != nil {
			return fmt.Errorf("--metrics: %w", err)
		}
		servers = append(servers, s)
		fmt.Fprintf(out, "metrics on http://%s/metrics\n", addr)
	}
	fpHex := transport.FormatFingerprint(fp)
	fpURL := ""
	if f.fingerprint != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintln(w, fpHex)
		})
		s, addr, err := serveHTTP(f.fingerprint, mux)
		if err != nil {
			return fmt.Errorf("--fingerprint-http: %w", err)
		}
		servers = append(servers, s)
		fpURL = "http://" + addr + "/"
	}
	r, err := relay.New(cfg)
	if err != nil {
		return err
	}
	addr := r.Addr().String()
	fmt.Fprintf(out, "moq relay listening on %s (UDP)\n", addr)
	fmt.Fprintf(out, "  raw QUIC:     moqt://%s/\n", addr)
	fmt.Fprintf(out, "  WebTransport: https://%s%s\n", addr, orSlash(f.path))
	fmt.Fprintf(out, "  certificate SHA-256 fingerprint: %s\n", fpHex)
	if fpURL != "" {
		fmt.Fprintf(out, "  fingerprint over HTTP: %s\n", fpURL)
	}
	if cfg.Cluster != nil {
		fmt.Fprintf(out, "  cluster: relay %s in %s (etcd %s)\n", r.ClusterID(), f.clusterPrefix, f.etcd)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(out, "shutting down: GOAWAY sent, draining")
	sctx, cancel := context.WithTimeout(context.Background(), f.drain+time.Second)
	defer cancel()
	err = r.Shutdown(sctx)
	fmt.Fprintln(out, "stopped")
	return err
}

// readSecret returns the first line of a file, trimmed; an empty one is an
// error.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return "", fmt.Errorf("%s: the first line is empty", path)
	}
	return line, nil
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// serveHTTP serves h on addr in the background and returns the address it
// is bound to.
func serveHTTP(addr string, h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go s.Serve(ln)
	return s, ln.Addr().String(), nil
}
