package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/spf13/cobra"
)

type pubFlags struct {
	conn       connFlags
	format     string
	chunkSize  int
	pattern    bool
	size       int
	rate       float64
	count      int
	duration   time.Duration
	delivery   string
	groupSize  int
	waitSub    bool
	drain      time.Duration
	maxObjSize int
}

func addPubCmd(root *cobra.Command) {
	var f pubFlags
	cmd := &cobra.Command{
		Use:   "pub URL NAMESPACE TRACK",
		Short: "Publish standard input (or generated test objects) as a MoQT track",
		Long: `pub connects to the relay at URL, announces NAMESPACE, and publishes the track
TRACK in it: each piece of standard input becomes one object.

` + conceptsHelp + `

How standard input is cut into objects (--format):

  lines    one object per line, without its newline (the default)
  frames   each object is a 4-byte big-endian length, then that many bytes
  chunks   fixed-size objects of --chunk-size bytes (the last may be shorter)

With --pattern, pub ignores standard input and generates test objects
"seq N time T" (N from 0, T the send time in Unix nanoseconds), padded with
'.' to --size bytes, at --rate objects per second, for --count objects or
--duration (or until interrupted).

By default each object starts a new group (--group-size 1). With
--group-size N, N consecutive objects share a group, with object IDs 0..N-1.
--delivery datagram sends each object in a QUIC datagram (unreliable; at most
1024 bytes per object) instead of on a stream.

A relay forwards a track only while someone is subscribed to it, so by
default pub reads no input until the first subscriber arrives
(--wait-subscriber=false publishes at once; objects nobody is subscribed to
are lost, apart from the last groups a publisher keeps for late joiners).
At the end of the input pub ends the track and waits, up to --drain, for the
relay to have received everything, then disconnects. Ctrl-C (SIGINT) ends
the track and disconnects at once.

` + connectionHelp,
		Example: `  printf 'hello\nworld\n' | moq pub moqt://127.0.0.1:4443/ demo/chat messages --pin FINGERPRINT
  moq pub moqt://127.0.0.1:4443/ demo test --pattern --rate 100 --size 1000 --count 1000 --pin FINGERPRINT`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runPub(cmd, args, &f); err != nil {
				return &cmdError{cmd: "pub", err: err}
			}
			return nil
		},
	}
	addConnFlags(cmd, &f.conn)
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "lines", "how standard input is cut into objects: lines, frames or chunks")
	fl.IntVar(&f.chunkSize, "chunk-size", 1024, "object size with --format chunks")
	fl.BoolVar(&f.pattern, "pattern", false, "publish generated test objects instead of standard input")
	fl.IntVar(&f.size, "size", 0, "with --pattern: pad each object to this many bytes")
	fl.Float64Var(&f.rate, "rate", 10, "with --pattern: objects per second (0: as fast as possible)")
	fl.IntVar(&f.count, "count", 0, "with --pattern: stop after this many objects (0: no limit)")
	fl.DurationVar(&f.duration, "duration", 0, "with --pattern: stop after this long (0: no limit)")
	fl.StringVar(&f.delivery, "delivery", "stream", "stream (one QUIC stream per group; the oldest groups are dropped when the connection cannot keep up), reliable (stream, but waits instead of dropping) or datagram (one QUIC datagram per object)")
	fl.IntVar(&f.groupSize, "group-size", 1, "objects per group")
	fl.BoolVar(&f.waitSub, "wait-subscriber", true, "read no input until the track has a subscriber")
	fl.DurationVar(&f.drain, "drain", 5*time.Second, "at the end of the input, how long to wait for the relay to receive what was sent")
	fl.IntVar(&f.maxObjSize, "max-object-size", 16<<20, "largest object accepted from standard input, in bytes")
	root.AddCommand(cmd)
}

// checkPubFlags validates the flags before anything is sent.
func checkPubFlags(cmd *cobra.Command, f *pubFlags) (moq.Delivery, error) {
	changed := cmd.Flags().Changed
	if f.pattern {
		for _, n := range []string{"format", "chunk-size"} {
			if changed(n) {
				return 0, fmt.Errorf("--%s reads standard input; it does not go with --pattern", n)
			}
		}
		if f.rate < 0 || f.size < 0 || f.count < 0 || f.duration < 0 {
			return 0, errors.New("--rate, --size, --count and --duration must not be negative")
		}
	} else {
		for _, n := range []string{"size", "rate", "count", "duration"} {
			if changed(n) {
				return 0, fmt.Errorf("--%s goes with --pattern", n)
			}
		}
		switch f.format {
		case "lines", "frames":
		case "chunks":
			if f.chunkSize <= 0 {
				return 0, fmt.Errorf("--chunk-size %d: must be positive", f.chunkSize)
			}
		default:
			return 0, fmt.Errorf("--format %q: want lines, frames or chunks", f.format)
		}
	}
	if f.groupSize < 1 {
		return 0, fmt.Errorf("--group-size %d: must be at least 1", f.groupSize)
	}
	if f.maxObjSize < 1 {
		return 0, fmt.Errorf("--max-object-size %d: must be positive", f.maxObjSize)
	}
	if f.drain < 0 {
		return 0, fmt.Errorf("--drain %v: must not be negative", f.drain)
	}
	switch f.delivery {
	case "stream":
		return moq.DeliveryStream, nil
	case "datagram":
		return moq.DeliveryDatagram, nil
	case "reliable":
		return moq.DeliveryStreamReliable, nil
	}
	return 0, fmt.Errorf("--delivery %q: want stream, reliable or datagram", f.delivery)
}

func runPub(cmd *cobra.Command, args []string, f *pubFlags) (err error) {
	delivery, err := checkPubFlags(cmd, f)
	if err != nil {
		return err
	}
	url, name := args[0], args[2]
	ns, err := parseNamespace(args[1])
	if err != nil {
		return err
	}
	if err := checkTrackName(name); err != nil {
		return err
	}
	opts, err := f.conn.options(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	opts.MaxObjectSize = f.maxObjSize
	ctx, stop := signalContext(cmd)
	defer stop()
	defer func() {
		if ctx.Err() != nil {
			err = nil // interrupted: whatever was under way stopped because of it
		}
	}()

	prog := startProgress(cmd.ErrOrStderr(), "pub")
	defer prog.finish()
	sess, err := moq.Dial(ctx, url, opts)
	if err != nil {
		return err
	}
	defer sess.Close()
	track, err := sess.Publish(ns, name, moq.TrackOptions{Delivery: delivery})
	if err != nil {
		return err
	}
	defer track.Close()
	if err := sess.Announce(ctx, ns); err != nil {
		return fmt.Errorf("announce %s: %w", ns, err)
	}
	prog.status("announced %s (draft %s); track %q", ns, sess.Draft(), name)

	if f.waitSub {
		prog.status("waiting for a subscriber")
		if !waitSubscriber(ctx, sess, track) {
			return sessionEnded(ctx, sess)
		}
		// The subscriber is a relay: it attaches its own subscribers only
		// after our SUBSCRIBE_OK reached it. A request round trip gives it
		// that time before the first objects; objects sent earlier reach
		// them only from the relay's cache of recent groups.
		sess.TrackStatus(ctx, ns, name)
		prog.status("subscribed")
	}

	w := &groupWriter{ctx: ctx, track: track, size: f.groupSize}
	var src func(context.Context, func([]byte) error) error
	if f.pattern {
		src = func(ctx context.Context, emit func([]byte) error) error { return generatePattern(ctx, f, emit) }
	} else {
		src = func(ctx context.Context, emit func([]byte) error) error {
			return readObjects(ctx, cmd.InOrStdin(), f, emit)
		}
	}
	err = src(ctx, func(p []byte) error {
		if err := w.write(p); err != nil {
			return err
		}
		prog.add(len(p))
		return nil
	})
	w.close()
	if err != nil {
		if ctx.Err() != nil { // interrupted: end the track and leave at once
			return nil
		}
		if sess.Err() != nil {
			return sessionEnded(ctx, sess)
		}
		return err
	}
	drainTrack(ctx, sess, track, f.drain)
	return nil
}

// sessionEnded explains why publishing stopped: nil after an interrupt,
// else the session's error.
func sessionEnded(ctx context.Context, sess *moq.Session) error {
	if ctx.Err() != nil {
		return nil
	}
	if err := sess.Err(); err != nil {
		return err
	}
	return errors.New("session ended")
}

// waitSubscriber waits until the track has a subscriber; false if ctx or
// the session ended first. The library has no subscription callback for a
// session's own tracks, so this polls (cheaply: a mutex and a map length).
func waitSubscriber(ctx context.Context, sess *moq.Session, track *moq.Track) bool {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for track.Subscribers() == 0 {
		select {
		case <-ctx.Done():
			return false
		case <-sess.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// drainTrack ends the track and, if it has subscribers, waits up to d for
// the peer to have received everything. Closing the connection earlier
// would discard data still in flight. Two signals from a relay, both
// through TRACK_STATUS about the track:
//
//  1. before the end of the track is sent: the relay reports as largest
//     location the last object written (datagrams, unlike streams, may
//     otherwise be overtaken by PUBLISH_DONE);
//  2. after it: the relay's upstream subscription ends once it has read
//     every data stream reported in PUBLISH_DONE; the relay then forgets
//     the track and refuses TRACK_STATUS about it.
//
// A peer that is not a relay refuses TRACK_STATUS about our own track at
// once, ending the wait.
func drainTrack(ctx context.Context, sess *moq.Session, track *moq.Track, d time.Duration) {
	if track.Subscribers() == 0 || d == 0 {
		track.Close()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	poll := func(done func(moq.TrackStatus, error) bool) {
		for {
			if done(sess.TrackStatus(ctx, track.Namespace(), track.Name())) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
	if last, ok := track.Largest(); ok {
		poll(func(st moq.TrackStatus, err error) bool {
			return err != nil || track.Subscribers() == 0 || (st.HasContent && !st.Largest.Less(last))
		})
	}
	had := track.Subscribers() > 0
	track.Close()
	if !had {
		return
	}
	poll(func(_ moq.TrackStatus, err error) bool { return err != nil })
}

// groupWriter puts size consecutive objects in each group.
type groupWriter struct {
	ctx   context.Context
	track *moq.Track
	size  int
	gw    *moq.GroupWriter
	n     int
}

// write writes p, waiting while a DeliveryStreamReliable track's
// subscriber queue is full.
func (w *groupWriter) write(p []byte) error {
	for {
		err := w.writeOnce(p)
		if !errors.Is(err, moq.ErrWouldBlock) {
			return err
		}
		if err := w.track.WaitWritable(w.ctx, len(p)); err != nil {
			return err
		}
	}
}

func (w *groupWriter) writeOnce(p []byte) error {
	if w.size == 1 {
		_, err := w.track.Write(p)
		return err
	}
	if w.gw == nil {
		gw, err := w.track.OpenGroup(nil)
		if err != nil {
			return err
		}
		w.gw, w.n = gw, 0
	}
	if _, err := w.gw.WriteObject(p, nil); err != nil {
		return err
	}
	w.n++
	if w.n == w.size {
		w.close()
	}
	return nil
}

// close ends the open group, if any.
func (w *groupWriter) close() {
	if w.gw != nil {
		w.gw.Close()
		w.gw = nil
	}
}

// generatePattern emits "seq N time T" objects at f.rate.
func generatePattern(ctx context.Context, f *pubFlags, emit func([]byte) error) error {
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; f.count == 0 || i < f.count; i++ {
		if f.rate > 0 {
			due := start.Add(time.Duration(float64(i) / f.rate * float64(time.Second)))
			if f.duration > 0 && due.Sub(start) >= f.duration {
				return nil
			}
			if wait := time.Until(due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
			}
		} else if f.duration > 0 && time.Since(start) >= f.duration {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p := strconv.AppendInt([]byte("seq "), int64(i), 10)
		p = append(p, " time "...)
		p = strconv.AppendInt(p, time.Now().UnixNano(), 10)
		for len(p) < f.size {
			p = append(p, '.')
		}
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}

// readObjects cuts r into objects per f.format. Reading runs on its own
// goroutine so that an interrupt is not held up by a blocked read.
func readObjects(ctx context.Context, r io.Reader, f *pubFlags, emit func([]byte) error) error {
	type item struct {
		p   []byte
		err error
	}
	items := make(chan item)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		send := func(it item) bool {
			select {
			case items <- it:
				return true
			case <-quit:
				return false
			}
		}
		err := cutInput(bufio.NewReaderSize(r, 64<<10), f, func(p []byte) bool { return send(item{p: p}) })
		if err == nil {
			err = io.EOF
		}
		send(item{err: err})
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it := <-items:
			if it.err == io.EOF {
				return nil
			}
			if it.err != nil {
				return it.err
			}
			if err := emit(it.p); err != nil {
				return err
			}
		}
	}
}

// cutInput reads objects from br until the end of the input (nil) or an
// error; each is passed to emit, which returns false to stop.
func cutInput(br *bufio.Reader, f *pubFlags, emit func([]byte) bool) error {
	limit := f.maxObjSize
	switch f.format {
	case "frames":
		var hdr [4]byte
		for n := 0; ; n++ {
			k, err := io.ReadFull(br, hdr[:])
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("standard input: frame %d: length prefix cut short after %d of 4 bytes", n, k)
			}
			size := binary.BigEndian.Uint32(hdr[:])
			if uint64(size) > uint64(limit) {
				return fmt.Errorf("standard input: frame %d: length %d exceeds --max-object-size %d", n, size, limit)
			}
			p := make([]byte, size)
			if k, err := io.ReadFull(br, p); err != nil {
				return fmt.Errorf("standard input: frame %d: ends after %d of %d bytes", n, k, size)
			}
			if !emit(p) {
				return nil
			}
		}
	case "chunks":
		if f.chunkSize > limit {
			return fmt.Errorf("--chunk-size %d exceeds --max-object-size %d", f.chunkSize, limit)
		}
		for {
			p := make([]byte, f.chunkSize)
			k, err := io.ReadFull(br, p)
			if k > 0 && !emit(p[:k]) {
				return nil
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("standard input: %w", err)
			}
		}
	default: // lines
		for n := 1; ; n++ {
			var line []byte
			for {
				frag, err := br.ReadSlice('\n')
				line = append(line, frag...)
				if len(line) > limit+1 {
					return fmt.Errorf("standard input: line %d is longer than --max-object-size %d", n, limit)
				}
				if err == bufio.ErrBufferFull {
					continue
				}
				if err == io.EOF {
					if len(line) > limit {
						return fmt.Errorf("standard input: line %d is longer than --max-object-size %d", n, limit)
					}
					if len(line) > 0 { // a last line without a newline
						emit(line)
					}
					return nil
				}
				if err != nil {
					return fmt.Errorf("standard input: %w", err)
				}
				break
			}
			if !emit(line[:len(line)-1]) {
				return nil
			}
		}
	}
}
