// Command publisher is the Go side of the browser interop test
// (scripts/browser-test.sh): it connects to a relay with draft-14, pinning
// the relay's certificate, announces a namespace and publishes one track
// whose objects are numbered text ("object 0", "object 1", ...), one object
// per group, at a steady pace until it is stopped or its time runs out.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

func main() {
	var (
		url      = flag.String("url", "", "relay URL: moqt://HOST:PORT/ (raw QUIC) or https://HOST:PORT/ (WebTransport)")
		fpHex    = flag.String("fingerprint", "", "relay certificate SHA-256 fingerprint, 64 hex digits")
		ns       = flag.String("namespace", "browser-test", "track namespace (one element)")
		name     = flag.String("track", "data", "track name")
		interval = flag.Duration("interval", 50*time.Millisecond, "time between objects")
		limit    = flag.Duration("timeout", 2*time.Minute, "stop publishing after this long")
		verbose  = flag.Bool("v", false, "log session events")
	)
	flag.Parse()
	if err := run(*url, *fpHex, *ns, *name, *interval, *limit, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "publisher:", err)
		os.Exit(1)
	}
}

func run(url, fpHex, ns, name string, interval, limit time.Duration, verbose bool) error {
	if url == "" {
		return errors.New("-url is required")
	}
	fpBytes, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(fpHex), ":", ""))
	if err != nil || len(fpBytes) != 32 {
		return fmt.Errorf("-fingerprint %q: want 64 hex digits", fpHex)
	}
	var pin [32]byte
	copy(pin[:], fpBytes)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	opts := &moq.Options{
		TLS:            moq.TLSConfig{PinSHA256: [][32]byte{pin}},
		Drafts:         []moq.Draft{moq.Draft14},
		Implementation: "moq-ffi-go browser-test publisher",
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	sess, err := moq.Dial(ctx, url, opts)
	if err != nil {
		return fmt.Errorf("dial %s: %w", url, err)
	}
	defer sess.Close()
	namespace := moq.Namespace{ns}
	track, err := sess.Publish(namespace, name, moq.TrackOptions{})
	if err != nil {
		return fmt.Errorf("publish %s/%s: %w", ns, name, err)
	}
	if err := sess.Announce(ctx, namespace); err != nil {
		return fmt.Errorf("announce %s: %w", ns, err)
	}
	fmt.Printf("publisher ready: %s draft=%v track %s/%s\n", url, sess.Draft(), ns, name)

	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := uint64(0); ; i++ {
		g, err := track.Write([]byte(fmt.Sprintf("object %d", i)))
		if err != nil {
			return fmt.Errorf("write object %d: %w", i, err)
		}
		if g != i {
			return fmt.Errorf("write object %d went to group %d; the test expects group = object number", i, g)
		}
		select {
		case <-ctx.Done():
			fmt.Printf("publisher stopping after %d objects (%v)\n", i+1, context.Cause(ctx))
			return nil
		case <-sess.Done():
			return fmt.Errorf("session ended after %d objects: %v", i+1, sess.Err())
		case <-tick.C:
		}
	}
}
