package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/spf13/cobra"
)

type subFlags struct {
	conn   connFlags
	output string
	count  int
	filter string
}

func addSubCmd(root *cobra.Command) {
	var f subFlags
	cmd := &cobra.Command{
		Use:   "sub URL NAMESPACE TRACK",
		Short: "Subscribe to a MoQT track and print its objects",
		Long: `sub connects to the relay at URL, subscribes to the track TRACK in NAMESPACE
(given as a/b/c) and prints each object it receives on standard output.

` + conceptsHelp + `

Output formats (--output):

  lines   the payload followed by a newline (the default)
  raw     the payload bytes alone, nothing between objects
  hex     the payload in hex, one object per line
  json    one JSON object per line: group, subgroup, object (the object ID),
          priority (the publisher's, 0 first), status (0 normal; 1 does not
          exist, 3 end of group, 4 end of track), size (payload bytes),
          extensions_hex (draft-14 extension headers, "" if none), payload
          and payload_encoding ("utf8" when the payload is valid UTF-8 text,
          else "base64"), and received (the receive time, RFC 3339, UTC)

Objects that only mark a status (no payload, status not 0) are shown by json
alone. Where the subscription starts (--filter):

  latest-group     from the start of the most recent group (the default)
  next-group       from the start of the next group to come
  latest-object    draft 14: from the next object to come; draft 07: from
                   the most recent object
  absolute:G[:O]   from group G (object O, default 0) onwards
  range:G[:O]-E    from group G (object O) to the end of group E

What was already published is delivered only as far as the publisher or
relay still keeps it (a few recent groups).

sub exits with status 0 when the track ends (the publisher finished) or after
--count objects, and 1 on errors. Ctrl-C (SIGINT) unsubscribes and exits.

` + connectionHelp,
		Example: `  moq sub moqt://127.0.0.1:4443/ demo/chat messages --pin FINGERPRINT
  moq sub moqt://127.0.0.1:4443/ demo test --output json --count 10 --pin FINGERPRINT`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runSub(cmd, args, &f); err != nil {
				return &cmdError{cmd: "sub", err: err}
			}
			return nil
		},
	}
	addConnFlags(cmd, &f.conn)
	fl := cmd.Flags()
	fl.StringVar(&f.output, "output", "lines", "output format: lines, raw, hex or json")
	fl.IntVar(&f.count, "count", 0, "exit after printing this many objects (0: until the track ends)")
	fl.StringVar(&f.filter, "filter", "latest-group", "where to start: latest-group, next-group, latest-object, absolute:G[:O] or range:G[:O]-E")
	root.AddCommand(cmd)
}

// filterSpec is a parsed --filter.
type filterSpec struct {
	kind     string // latest-group, next-group, latest-object, absolute, range
	start    moq.Location
	endGroup uint64
}

// parseFilter parses a --filter value.
func parseFilter(s string) (filterSpec, error) {
	bad := func(why string) (filterSpec, error) {
		return filterSpec{}, fmt.Errorf("--filter %q: %s", s, why)
	}
	switch s {
	case "latest-group", "next-group", "latest-object":
		return filterSpec{kind: s}, nil
	}
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || (kind != "absolute" && kind != "range") {
		return bad("want latest-group, next-group, latest-object, absolute:G[:O] or range:G[:O]-E")
	}
	loc := func(v string) (moq.Location, error) {
		g, o, hasO := strings.Cut(v, ":")
		var l moq.Location
		var err error
		if l.Group, err = strconv.ParseUint(g, 10, 62); err != nil {
			return l, fmt.Errorf("group %q is not a number", g)
		}
		if hasO {
			if l.Object, err = strconv.ParseUint(o, 10, 62); err != nil {
				return l, fmt.Errorf("object %q is not a number", o)
			}
		}
		return l, nil
	}
	if kind == "absolute" {
		l, err := loc(rest)
		if err != nil {
			return bad(err.Error())
		}
		return filterSpec{kind: kind, start: l}, nil
	}
	from, to, ok := strings.Cut(rest, "-")
	if !ok {
		return bad("a range is range:G[:O]-E")
	}
	l, err := loc(from)
	if err != nil {
		return bad(err.Error())
	}
	e, err := strconv.ParseUint(to, 10, 62)
	if err != nil {
		return bad(fmt.Sprintf("end group %q is not a number", to))
	}
	if e < l.Group {
		return bad(fmt.Sprintf("the range ends (group %d) before it starts (group %d)", e, l.Group))
	}
	return filterSpec{kind: kind, start: l, endGroup: e}, nil
}

// resolve turns the filter into the wire filter of the session's draft.
// "latest-group" (both drafts) and "next-group" (draft 07) have no wire
// filter of their own in every draft, so they ask TRACK_STATUS for the
// largest location and subscribe from an absolute start. Without content
// known, they start at the beginning: whatever arrives is new.
func (fs filterSpec) resolve(ctx context.Context, sess *moq.Session, ns moq.Namespace, name string) moq.Filter {
	switch fs.kind {
	case "absolute":
		return moq.Filter{Type: moq.FilterAbsoluteStart, Start: fs.start}
	case "range":
		return moq.Filter{Type: moq.FilterAbsoluteRange, Start: fs.start, EndGroup: fs.endGroup}
	case "latest-object":
		return moq.Filter{Type: moq.FilterLatestObject}
	case "next-group":
		if !sess.Draft().Is07() {
			return moq.Filter{Type: moq.FilterNextGroupStart}
		}
	}
	start := moq.Location{}
	if st, err := sess.TrackStatus(ctx, ns, name); err == nil && st.HasContent {
		start.Group = st.Largest.Group
		if fs.kind == "next-group" {
			start.Group++
		}
	}
	return moq.Filter{Type: moq.FilterAbsoluteStart, Start: start}
}

func runSub(cmd *cobra.Command, args []string, f *subFlags) (err error) {
	switch f.output {
	case "lines", "raw", "hex", "json":
	default:
		return fmt.Errorf("--output %q: want lines, raw, hex or json", f.output)
	}
	if f.count < 0 {
		return fmt.Errorf("--count %d: must not be negative", f.count)
	}
	fs, err := parseFilter(f.filter)
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
	ctx, stop := signalContext(cmd)
	defer stop()
	defer func() {
		if ctx.Err() != nil {
			err = nil // interrupted: whatever was under way stopped because of it
		}
	}()

	prog := startProgress(cmd.ErrOrStderr(), "sub")
	defer prog.finish()
	sess, err := moq.Dial(ctx, url, opts)
	if err != nil {
		return err
	}
	defer sess.Close()
	sub, err := sess.Subscribe(ctx, ns, name, moq.SubscribeOptions{Filter: fs.resolve(ctx, sess, ns, name)})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("subscribe to %s track %q: %w", ns, name, err)
	}
	defer sub.Close()
	prog.status("subscribed to %s track %q (draft %s)", ns, name, sess.Draft())

	out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	defer out.Flush()
	printed := 0
	for f.count == 0 || printed < f.count {
		o, err, ok := sub.TryReadObject()
		if !ok && err == nil {
			// Nothing queued: show what was printed, then wait.
			if ferr := out.Flush(); ferr != nil {
				return fmt.Errorf("standard output: %w", ferr)
			}
			o, err = sub.ReadObject(ctx)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted
			}
			return subEnd(sess, err)
		}
		shown, werr := printObject(out, f.output, o)
		if werr != nil {
			return fmt.Errorf("standard output: %w", werr)
		}
		if shown {
			printed++
			prog.add(len(o.Payload))
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("standard output: %w", err)
	}
	return nil
}

// subEnd maps the end of a subscription to the command's result: nil when
// the publisher ended the track (or the subscription's range is complete),
// else an error.
func subEnd(sess *moq.Session, err error) error {
	var coded interface{ Code() uint64 }
	if errors.As(err, &coded) {
		// PUBLISH_DONE / SUBSCRIBE_DONE codes differ per draft.
		ok := map[uint64]bool{0x2: true, 0x3: true} // 14: track ended, subscription ended
		if sess.Draft().Is07() {
			ok = map[uint64]bool{0x0: true, 0x3: true, 0x4: true} // 07: unsubscribed, track ended, subscription ended
		}
		if ok[coded.Code()] {
			return nil
		}
		return fmt.Errorf("the publisher ended the subscription with status %#x: %w", coded.Code(), err)
	}
	if errors.Is(err, moq.ErrEnded) {
		return nil
	}
	return err
}

// jsonObject is the --output json form of an object.
type jsonObject struct {
	Group           uint64 `json:"group"`
	Subgroup        uint64 `json:"subgroup"`
	Object          uint64 `json:"object"`
	Priority        uint8  `json:"priority"`
	Status          uint64 `json:"status"`
	Size            int    `json:"size"`
	ExtensionsHex   string `json:"extensions_hex"`
	Payload         string `json:"payload"`
	PayloadEncoding string `json:"payload_encoding"`
	Received        string `json:"received"`
}

// printObject writes o in the output format; shown is false for status
// objects skipped by the payload-only formats.
func printObject(w io.Writer, format string, o *moq.Object) (shown bool, err error) {
	if format != "json" && o.Status != moq.StatusNormal {
		return false, nil
	}
	switch format {
	case "raw":
		_, err = w.Write(o.Payload)
	case "lines":
		if _, err = w.Write(o.Payload); err == nil {
			_, err = io.WriteString(w, "\n")
		}
	case "hex":
		_, err = io.WriteString(w, hex.EncodeToString(o.Payload)+"\n")
	case "json":
		j := jsonObject{
			Group: o.Group, Subgroup: o.Subgroup, Object: o.ID, Priority: o.Priority, Status: uint64(o.Status),
			Size: len(o.Payload), ExtensionsHex: hex.EncodeToString(o.Extensions),
			Received: time.Now().UTC().Format(time.RFC3339Nano),
		}
		if utf8.Valid(o.Payload) {
			j.Payload, j.PayloadEncoding = string(o.Payload), "utf8"
		} else {
			j.Payload, j.PayloadEncoding = base64.StdEncoding.EncodeToString(o.Payload), "base64"
		}
		var b []byte
		if b, err = json.Marshal(&j); err == nil {
			b = append(b, '\n')
			_, err = w.Write(b)
		}
	}
	return err == nil, err
}
