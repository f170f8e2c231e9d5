package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/spf13/cobra"
)

// conceptsHelp explains the MoQT vocabulary the pub, sub and announces
// commands use.
const conceptsHelp = `In MoQT (Media over QUIC Transport) a publisher offers tracks through a relay:

  namespace  a tuple of names grouping tracks, written here as a/b/c
             (1 to 32 fields separated by '/'; fields must not be empty).
             A publisher "announces" a namespace to tell the relay it serves
             the tracks under it.
  track      a named stream of data within a namespace, e.g. "video" or
             "chat". Subscribers subscribe to (namespace, track).
  group      a run of consecutive objects of a track that a subscriber can
             start from (for video: a group of pictures). Groups are numbered
             from 0 and rise.
  object     one unit of data (a frame, a message, a line) with its ID inside
             its group. Objects of one group travel in order on one QUIC
             stream (or each in its own QUIC datagram).`

// connectionHelp describes the connection flags shared by the commands.
const connectionHelp = `URL is moqt://HOST:PORT/ (raw QUIC) or https://HOST:PORT/PATH (WebTransport).
The server's certificate is checked against the system roots, --ca, or pinned
by its SHA-256 fingerprint with --pin (what "moq relay" prints for its
self-signed certificate).`

// connFlags are the connection flags of pub, sub and announces.
type connFlags struct {
	draft    string
	pin      string
	ca       string
	insecure bool
	timeout  time.Duration
	idle     time.Duration
	verbose  bool
	authFile string
}

// addConnFlags registers the connection flags on cmd.
func addConnFlags(cmd *cobra.Command, f *connFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.draft, "draft", "auto", "protocol drafts to offer, in order, comma-separated: 20, 18, 16, 14, 07cf (draft-07, Cloudflare/moq-rs layout), 07 (draft-07, specification layout: the relay must use it too, e.g. moq relay --draft07-layout 07), or auto (20, 18, 16, 14, then 07cf)")
	fl.StringVar(&f.draft, "drafts", "auto", "same as --draft")
	fl.StringVar(&f.pin, "pin", "", "trust the server certificate with this SHA-256 fingerprint (hex; several separated by commas)")
	fl.StringVar(&f.ca, "ca", "", "trust the CA certificates in this PEM file")
	fl.BoolVar(&f.insecure, "insecure", false, "do not verify the server certificate (testing only)")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "bound on connecting and on each request's answer")
	fl.DurationVar(&f.idle, "idle-timeout", moq.DefaultClientIdleTimeout, "declare the relay dead after this long without packets from it (keep-alives every third of it keep a quiet session open)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log the library's activity on stderr")
	fl.StringVar(&f.authFile, "auth-token-file", "", "send this file's first line as the AUTHORIZATION TOKEN (e.g. a JWT for moq relay --jwt-key) in SETUP and each request; draft-07 sends it in requests only, so put it in the URL (?jwt=) for the session")
}

// drafts returns the drafts selected by --draft (nil: automatic).
func (f *connFlags) drafts() ([]moq.Draft, error) {
	if f.draft == "auto" || f.draft == "" {
		return nil, nil
	}
	var ds []moq.Draft
	for _, s := range strings.Split(f.draft, ",") {
		d, err := parseDraftFlag(s)
		if err != nil {
			return nil, fmt.Errorf("--draft must be a comma-separated list of 20, 18, 16, 14, 07cf and 07, or auto (got %q)", f.draft)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// options checks the connection flags and builds session options. Library
// logs go to logTo.
func (f *connFlags) options(logTo io.Writer) (*moq.Options, error) {
	ds, err := f.drafts()
	if err != nil {
		return nil, err
	}
	if f.timeout <= 0 {
		return nil, fmt.Errorf("--timeout %v: must be positive", f.timeout)
	}
	if f.idle <= 0 {
		return nil, fmt.Errorf("--idle-timeout %v: must be positive", f.idle)
	}
	opts := &moq.Options{Drafts: ds, ConnectTimeout: f.timeout, RequestTimeout: f.timeout, IdleTimeout: f.idle}
	for _, p := range strings.Split(f.pin, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		fp, err := transport.ParseFingerprint(p)
		if err != nil {
			return nil, fmt.Errorf("--pin: %w", err)
		}
		opts.TLS.PinSHA256 = append(opts.TLS.PinSHA256, fp)
	}
	if f.ca != "" {
		if _, err := os.Stat(f.ca); err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		opts.TLS.CAFile = f.ca
	}
	opts.TLS.Insecure = f.insecure
	if f.authFile != "" {
		b, err := os.ReadFile(f.authFile)
		if err != nil {
			return nil, fmt.Errorf("--auth-token-file: %w", err)
		}
		tok, _, _ := strings.Cut(string(b), "\n")
		if opts.AuthToken = strings.TrimSpace(tok); opts.AuthToken == "" {
			return nil, fmt.Errorf("--auth-token-file %s: the first line is empty", f.authFile)
		}
	}
	level := slog.LevelError + 4 // silent: failures are reported by the command
	if f.verbose {
		level = slog.LevelInfo
	}
	opts.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: logTo}, &slog.HandlerOptions{Level: level}))
	return opts, nil
}

// syncWriter serialises writes from the library's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// parseNamespace splits "a/b/c" into namespace fields.
func parseNamespace(s string) (moq.Namespace, error) {
	if s == "" {
		return nil, errors.New("namespace is empty: give it as a/b/c")
	}
	fields := strings.Split(s, "/")
	for i, f := range fields {
		if f == "" {
			return nil, fmt.Errorf("namespace %q: field %d is empty (fields are separated by single '/', with none at either end)", s, i+1)
		}
	}
	if len(fields) > 32 {
		return nil, fmt.Errorf("namespace %q has %d fields; at most 32 are allowed", s, len(fields))
	}
	return moq.Namespace(fields), nil
}

// checkTrackName rejects an empty track name.
func checkTrackName(name string) error {
	if name == "" {
		return errors.New("track name is empty")
	}
	return nil
}

// signalContext returns a context that ends on SIGINT or SIGTERM or when
// the command's context ends.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress prints a status line on a terminal every second: objects,
// bytes and the rate over the last second. It does nothing when its
// writer is not a terminal.
type progress struct {
	w     io.Writer
	label string

	mu      sync.Mutex
	objects uint64
	bytes   uint64
	start   time.Time
	stop    chan struct{}
	done    chan struct{}
}

// startProgress starts a progress line on w when w is a terminal; it
// returns nil (on which every method is a no-op) otherwise.
func startProgress(w io.Writer, label string) *progress {
	if !isTerminal(w) {
		return nil
	}
	p := &progress{w: w, label: label, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// add counts one object of n bytes.
func (p *progress) add(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.objects++
	p.bytes += uint64(n)
	p.mu.Unlock()
}

// status prints a one-off message on its own line.
func (p *progress) status(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	fmt.Fprintf(p.w, "\r\033[K%s: %s\n", p.label, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastObjects uint64
	last := time.Now()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			rate := float64(p.objects-lastObjects) / now.Sub(last).Seconds()
			lastObjects, last = p.objects, now
			fmt.Fprintf(p.w, "\r\033[K%s: %d objects, %s, %.1f objects/s", p.label, p.objects, formatBytes(p.bytes), rate)
			p.mu.Unlock()
		}
	}
}

// finish stops the status line and prints the totals.
func (p *progress) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\033[K%s: %d objects, %s in %.1fs\n", p.label, p.objects, formatBytes(p.bytes), el)
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
