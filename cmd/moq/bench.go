package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/spf13/cobra"
)

type benchFlags struct {
	url     string
	pin     string
	size    int
	seconds float64
	window  int
	rate    int
	draft   string
}

func addBenchCmd(root *cobra.Command) {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure publishing and end-to-end throughput through a relay",
		Long: `bench measures, through the relay at --url, with the Go API:

  publish   moq_publish_data's model (one object per group) with no subscriber:
            calls per second, the cost of the publishing path alone;
  pubsub    end to end: a publisher and a subscriber in this process, objects of
            --size bytes, at most --window objects in flight (so that what is
            measured is delivered objects, not drops): objects per second;
  latency   one-way latency publisher -> relay -> subscriber at a steady
            --rate objects per second: p50, p99 and the maximum.

It prints a table.
Run scripts/bench-c.sh to get the same figures from the C library in the same
run, against the same relay.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runBench(cmd, f); err != nil {
				return &cmdError{cmd: "bench", err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "relay URL (moqt://HOST:PORT/ or https://HOST:PORT/PATH)")
	fl.StringVar(&f.pin, "pin", "", "SHA-256 fingerprint of the relay's certificate (hex)")
	fl.IntVar(&f.size, "size", 200, "object payload size in bytes")
	fl.Float64Var(&f.seconds, "seconds", 2, "duration of each measurement")
	fl.IntVar(&f.window, "window", 256, "objects in flight at most (pubsub)")
	fl.IntVar(&f.rate, "rate", 1000, "objects per second (latency)")
	fl.StringVar(&f.draft, "draft", "14", "draft: 20, 18, 16, 14, 07cf or 07")
	cmd.MarkFlagRequired("url")
	root.AddCommand(cmd)
}

func runBench(cmd *cobra.Command, f benchFlags) error {
	out := cmd.OutOrStdout()
	d, err := parseDraftFlag(f.draft)
	if err != nil {
		return err
	}
	opts := &moq.Options{Drafts: []moq.Draft{d}}
	for _, p := range strings.Split(f.pin, ",") {
		if p == "" {
			continue
		}
		fp, err := transport.ParseFingerprint(p)
		if err != nil {
			return fmt.Errorf("--pin: %w", err)
		}
		opts.TLS.PinSHA256 = append(opts.TLS.PinSHA256, fp)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Duration(f.seconds*2+30)*time.Second)
	defer cancel()
	dur := time.Duration(f.seconds * float64(time.Second))
	payload := make([]byte, f.size)
	tag := fmt.Sprint(time.Now().UnixNano())

	pub, err := moq.Dial(ctx, f.url, opts)
	if err != nil {
		return err
	}
	defer pub.Close()
	// publish: no subscriber.
	ns := moq.Namespace{"bench-go", tag}
	if err := pub.Announce(ctx, ns); err != nil {
		return err
	}
	lonely, err := pub.Publish(ns, "lonely", moq.TrackOptions{})
	if err != nil {
		return err
	}
	n, start := 0, time.Now()
	for time.Since(start) < dur {
		for i := 0; i < 1000; i++ {
			if _, err := lonely.Write(payload); err != nil {
				return err
			}
		}
		n += 1000
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "workload (Go API, %s)\tresult\n", f.url)
	fmt.Fprintf(tw, "publish, no subscriber, %d B\t%.0f calls/s\n", f.size, float64(n)/time.Since(start).Seconds())

	// pubsub: end to end through the relay.
	track, err := pub.Publish(ns, "e2e", moq.TrackOptions{})
	if err != nil {
		return err
	}
	subSess, err := moq.Dial(ctx, f.url, opts)
	if err != nil {
		return err
	}
	defer subSess.Close()
	sub, err := subSess.Subscribe(ctx, ns, "e2e", moq.SubscribeOptions{})
	if err != nil {
		return err
	}
	var received atomic.Int64
	credit := make(chan struct{}, f.window)
	for i := 0; i < f.window; i++ {
		credit <- struct{}{}
	}
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, err := sub.ReadObject(ctx); err != nil {
				readErr <- err
				return
			}
			received.Add(1)
			credit <- struct{}{}
		}
	}()
	sent, start := 0, time.Now()
	for time.Since(start) < dur {
		select {
		case <-credit:
		case err := <-readErr:
			return fmt.Errorf("subscriber: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
		if _, err := track.Write(payload); err != nil {
			return err
		}
		sent++
	}
	for received.Load() < int64(sent) {
		select {
		case <-credit:
		case err := <-readErr:
			return fmt.Errorf("subscriber: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("%d of %d objects arrived: %w", received.Load(), sent, ctx.Err())
		}
	}
	el := time.Since(start).Seconds()
	fmt.Fprintf(tw, "end to end via relay, %d B, window %d\t%.0f objects/s, %.1f MB/s, %d dropped\n",
		f.size, f.window, float64(sent)/el, float64(sent*f.size)/el/1e6, sub.Stats().Dropped)
	sub.Close()

	// latency: a steady rate; each payload carries its send time.
	lat, err := pub.Publish(ns, "latency", moq.TrackOptions{})
	if err != nil {
		return err
	}
	lsub, err := subSess.Subscribe(ctx, ns, "latency", moq.SubscribeOptions{})
	if err != nil {
		return err
	}
	defer lsub.Close()
	base := time.Now()
	total := max(int(f.seconds*float64(f.rate)), 1)
	size := max(f.size, 8)
	samples := make([]time.Duration, 0, total)
	done := make(chan error, 1)
	go func() {
		for len(samples) < total {
			o, err := lsub.ReadObject(ctx)
			if err != nil {
				done <- err
				return
			}
			if len(o.Payload) >= 8 {
				sentAt := time.Duration(binary.BigEndian.Uint64(o.Payload))
				samples = append(samples, time.Since(base)-sentAt)
			}
		}
		done <- nil
	}()
	period := time.Second / time.Duration(max(f.rate, 1))
	buf := make([]byte, size)
	for i := 0; i < total; i++ {
		time.Sleep(time.Until(base.Add(time.Duration(i) * period)))
		binary.BigEndian.PutUint64(buf, uint64(time.Since(base)))
		if _, err := lat.Write(buf); err != nil {
			return err
		}
	}
	if err := <-done; err != nil {
		return fmt.Errorf("latency subscriber: %w (%d of %d objects)", err, len(samples), total)
	}
	slices.Sort(samples)
	pct := func(p float64) time.Duration { return samples[min(int(p*float64(len(samples))), len(samples)-1)] }
	fmt.Fprintf(tw, "latency via relay at %d/s, %d B\tp50 %v, p99 %v, max %v (%d samples)\n",
		f.rate, size, pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
		samples[len(samples)-1].Round(time.Microsecond), len(samples))
	return nil
}

func parseDraftFlag(s string) (moq.Draft, error) {
	switch strings.TrimSpace(s) {
	case "20":
		return moq.Draft20, nil
	case "18":
		return moq.Draft18, nil
	case "16":
		return moq.Draft16, nil
	case "14":
		return moq.Draft14, nil
	case "07cf":
		return moq.Draft07Cloudflare, nil
	case "07":
		return moq.Draft07, nil
	}
	return 0, errors.New("--draft must be 20, 18, 16, 14, 07cf or 07")
}
