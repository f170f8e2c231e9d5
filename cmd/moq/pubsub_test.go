package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/moq-ffi/moq-ffi-go/relay"
)

// testRelay starts a relay on loopback with its generated certificate and
// returns its raw QUIC URL and certificate fingerprint (for --pin). Its
// cache holds more groups than any test sends: the relay attaches a
// subscriber only once the publisher has accepted its upstream
// subscription, and objects published in between reach the subscriber
// from that cache.
func testRelay(t *testing.T) (url, pin string) {
	t.Helper()
	r, err := relay.New(relay.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return "moqt://" + r.Addr().String() + "/", transport.FormatFingerprint(r.Fingerprint())
}

// cliResult is the outcome of an in-process command run.
type cliResult struct {
	code           int
	stdout, stderr string
}

// startCLI runs the moq command in-process on its own goroutine, with ctx
// as the command's context (cancelling it acts as SIGINT would), and
// delivers its result.
func startCLI(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) <-chan cliResult {
	res := make(chan cliResult, 1)
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errb lockedBuffer
	if stdout == nil {
		stdout = &out
	}
	go func() {
		root := newRootCmd()
		root.SetArgs(args)
		root.SetIn(stdin)
		root.SetOut(stdout)
		root.SetErr(&errb)
		code := 0
		if err := root.ExecuteContext(ctx); err != nil {
			fmt.Fprintln(&errb, errorLine(err))
			code = 1
		}
		if c, ok := stdout.(io.Closer); ok {
			c.Close()
		}
		res <- cliResult{code: code, stdout: out.String(), stderr: errb.String()}
	}()
	return res
}

// wait returns the result of a command started with startCLI.
func wait(t *testing.T, ctx context.Context, what string, ch <-chan cliResult) cliResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		t.Fatalf("%s did not finish", what)
		return cliResult{}
	}
}

// waitAnnounced waits, through a session of its own, until the relay has
// the namespace ns announced: then a subscriber can find its publisher.
func waitAnnounced(t *testing.T, ctx context.Context, url, pin string, ns moq.Namespace) {
	t.Helper()
	fp, err := transport.ParseFingerprint(pin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := moq.Dial(ctx, url, &moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{fp}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.SubscribeNamespace(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := n.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for the announce of %s: %v", ns, err)
		}
		if ev.Active && ev.Namespace.Equal(ns) {
			return
		}
	}
}

// pubSub runs "moq pub" with stdin and pubArgs, waits for its announce,
// runs "moq sub" with subArgs, and returns both results.
func pubSub(t *testing.T, ns, stdin string, pubArgs, subArgs []string) (pub, sub cliResult) {
	t.Helper()
	url, pin := testRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pubCh := startCLI(ctx, strings.NewReader(stdin), nil,
		append([]string{"pub", url, ns, "track", "--pin", pin}, pubArgs...)...)
	waitAnnounced(t, ctx, url, pin, strings.Split(ns, "/"))
	sub = wait(t, ctx, "sub", startCLI(ctx, nil, nil,
		append([]string{"sub", url, ns, "track", "--pin", pin}, subArgs...)...))
	pub = wait(t, ctx, "pub", pubCh)
	if pub.code != 0 || pub.stderr != "" || pub.stdout != "" {
		t.Errorf("pub: exit %d, stdout %q, stderr %q", pub.code, pub.stdout, pub.stderr)
	}
	if sub.code != 0 || sub.stderr != "" {
		t.Errorf("sub: exit %d, stderr %q", sub.code, sub.stderr)
	}
	return pub, sub
}

// TestPubSubLines: lines from pub's stdin reach sub in order, across
// drafts (the relay translates), with an empty line kept as an empty
// object and a last line without its newline.
func TestPubSubLines(t *testing.T) {
	for _, d := range []struct{ pub, sub string }{{"14", "14"}, {"07cf", "14"}, {"14", "07cf"}, {"18", "16"}, {"16,14", "18"}, {"20", "14"}, {"18", "20"}, {"auto", "auto"}} {
		t.Run(d.pub+"-"+d.sub, func(t *testing.T) {
			_, sub := pubSub(t, "test/lines", "one\ntwo\n\nfour\nfive",
				[]string{"--draft", d.pub}, []string{"--draft", d.sub, "--count", "5", "--output", "lines"})
			if want := "one\ntwo\n\nfour\nfive\n"; sub.stdout != want {
				t.Errorf("sub printed %q, want %q", sub.stdout, want)
			}
		})
	}
}

// TestPubSubFramesUntilTrackEnd: length-prefixed frames, and sub (without
// --count) exits 0 when pub reaches the end of its input and ends the
// track, having printed every object: pub waited for the relay to receive
// them before leaving.
func TestPubSubFramesUntilTrackEnd(t *testing.T) {
	frame := func(p string) string {
		n := len(p)
		return string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + p
	}
	big := strings.Repeat("x", 100000)
	in := frame("abc") + frame("") + frame("\x00\xffxyz") + frame(big)
	_, sub := pubSub(t, "test/frames", in, []string{"--format", "frames"}, []string{"--output", "hex"})
	want := "616263\n\n00ff78797a\n" + strings.Repeat("78", len(big)) + "\n"
	if sub.stdout != want {
		t.Errorf("sub printed %d bytes, want %d (%.40q...)", len(sub.stdout), len(want), sub.stdout)
	}
}

// TestPubSubChunks: fixed-size chunks, the last one shorter.
func TestPubSubChunks(t *testing.T) {
	_, sub := pubSub(t, "test/chunks", "abcdefghij", []string{"--format", "chunks", "--chunk-size", "4"},
		[]string{"--output", "raw"})
	if sub.stdout != "abcdefghij" {
		t.Errorf("sub printed %q", sub.stdout)
	}
}

// TestPubSubDatagrams: objects sent as datagrams. The publisher keeps
// sending until after the subscriber has left, since datagrams still in
// flight when a track ends may be lost.
func TestPubSubDatagrams(t *testing.T) {
	_, sub := pubSub(t, "test/dgram", "", []string{"--delivery", "datagram", "--pattern", "--rate", "1000", "--count", "300"},
		[]string{"--count", "3"})
	lines := strings.Split(sub.stdout, "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "seq ") || lines[3] != "" {
		t.Errorf("sub printed %q", sub.stdout)
	}
}

// TestPubSubReliable: --delivery reliable publishes as fast as the
// connection takes the objects, none dropped.
func TestPubSubReliable(t *testing.T) {
	const n = 300
	_, sub := pubSub(t, "test/reliable", "", []string{"--delivery", "reliable", "--pattern", "--rate", "0", "--count", fmt.Sprint(n)},
		[]string{"--count", fmt.Sprint(n)})
	lines := strings.Split(strings.TrimSuffix(sub.stdout, "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("sub printed %d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, fmt.Sprintf("seq %d time ", i)) {
			t.Fatalf("line %d: %q", i, l)
		}
	}
}

// TestPubSubPatternJSON: generated objects, three to a group, printed as
// JSON with every field.
func TestPubSubPatternJSON(t *testing.T) {
	_, sub := pubSub(t, "test/json", "",
		[]string{"--pattern", "--count", "6", "--size", "40", "--rate", "0", "--group-size", "3"},
		[]string{"--output", "json", "--count", "6"})
	lines := strings.Split(strings.TrimSuffix(sub.stdout, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("sub printed %d lines, want 6:\n%s", len(lines), sub.stdout)
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, l)
		}
		keys := []string{"group", "subgroup", "object", "priority", "status", "size", "extensions_hex",
			"payload", "payload_encoding", "received"}
		if len(m) != len(keys) {
			t.Errorf("line %d has fields %v, want %v", i, m, keys)
		}
		want := map[string]any{"group": float64(i / 3), "subgroup": 0.0, "object": float64(i % 3), "priority": 128.0,
			"status": 0.0, "size": 40.0, "extensions_hex": "", "payload_encoding": "utf8"}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, m[k], v)
			}
		}
		p, _ := m["payload"].(string)
		if !strings.HasPrefix(p, fmt.Sprintf("seq %d time ", i)) || len(p) != 40 || !strings.HasSuffix(p, ".") {
			t.Errorf("line %d: payload %q", i, p)
		}
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m["received"])); err != nil {
			t.Errorf("line %d: received: %v", i, err)
		}
	}
}

// TestAnnounces: "moq announces" sees a pub's namespace come and, when the
// pub is interrupted, go; the interrupted pub exits 0.
func TestAnnounces(t *testing.T) {
	url, pin := testRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	pubCh := startCLI(pubCtx, nil, nil, "pub", url, "test/ann/room", "t", "--pin", pin, "--pattern")

	pr, pw := io.Pipe()
	annCh := startCLI(ctx, nil, pw, "announces", url, "test", "--pin", pin, "--count", "2")
	lines := bufio.NewScanner(pr)
	if !lines.Scan() || lines.Text() != "+ test/ann/room" {
		t.Fatalf("first event %q, want + test/ann/room", lines.Text())
	}
	stopPub() // as SIGINT would
	if p := wait(t, ctx, "pub", pubCh); p.code != 0 || p.stderr != "" {
		t.Errorf("interrupted pub: exit %d, stderr %q", p.code, p.stderr)
	}
	if !lines.Scan() || lines.Text() != "- test/ann/room" {
		t.Fatalf("second event %q, want - test/ann/room", lines.Text())
	}
	if lines.Scan() {
		t.Errorf("output after --count 2 events: %q", lines.Text())
	}
	if a := wait(t, ctx, "announces", annCh); a.code != 0 || a.stderr != "" {
		t.Errorf("announces: exit %d, stderr %q", a.code, a.stderr)
	}
}

// TestPubSubAnnouncesErrors: bad URLs, namespaces, flags and input fail
// with status 1 and one line on stderr, before or after connecting.
func TestPubSubAnnouncesErrors(t *testing.T) {
	const u = "moqt://127.0.0.1:1/" // never reached: the arguments are rejected first
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"pub", "ftp://127.0.0.1/", "a", "t"}, []string{"moq pub:", "scheme"}},
		{[]string{"sub", "https:///x", "a", "t"}, []string{"moq sub:", "no host"}},
		{[]string{"pub", u, "a//b", "t"}, []string{"moq pub:", "field 2 is empty"}},
		{[]string{"pub", u, "/a", "t"}, []string{"field 1 is empty"}},
		{[]string{"sub", u, "", "t"}, []string{"moq sub:", "namespace is empty"}},
		{[]string{"pub", u, "a", ""}, []string{"track name is empty"}},
		{[]string{"pub", u, "a"}, []string{"accepts 3 arg(s)"}},
		{[]string{"pub", u, "a", "t", "--format", "xml"}, []string{"--format", "xml"}},
		{[]string{"pub", u, "a", "t", "--rate", "5"}, []string{"--rate goes with --pattern"}},
		{[]string{"pub", u, "a", "t", "--pattern", "--format", "lines"}, []string{"--format", "--pattern"}},
		{[]string{"pub", u, "a", "t", "--delivery", "pigeon"}, []string{"--delivery"}},
		{[]string{"pub", u, "a", "t", "--group-size", "0"}, []string{"--group-size"}},
		{[]string{"pub", u, "a", "t", "--format", "chunks", "--chunk-size", "0"}, []string{"--chunk-size"}},
		{[]string{"pub", u, "a", "t", "--bogus"}, []string{"unknown flag: --bogus"}},
		{[]string{"sub", u, "a", "t", "--output", "xml"}, []string{"--output"}},
		{[]string{"sub", u, "a", "t", "--filter", "range:5-2"}, []string{"--filter", "ends (group 2) before it starts (group 5)"}},
		{[]string{"sub", u, "a", "t", "--filter", "absolute:x"}, []string{"--filter", "not a number"}},
		{[]string{"sub", u, "a", "t", "--filter", "oldest"}, []string{"--filter", "want latest-group"}},
		{[]string{"sub", u, "a", "t", "--pin", "zz"}, []string{"--pin"}},
		{[]string{"sub", u, "a", "t", "--draft", "99"}, []string{"--draft must be"}},
		{[]string{"sub", u, "a", "t", "--ca", "/nonexistent/ca.pem"}, []string{"--ca"}},
		{[]string{"announces", u, "--draft", "14"}, []string{"moq announces:", "empty namespace prefix", "PREFIX"}},
		{[]string{"announces", u, "a/"}, []string{"prefix", "field 2 is empty"}},
		{[]string{"announces"}, []string{"accepts between 1 and 2 arg(s)"}},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--subscriber-buffer", "0"}, []string{"--subscriber-buffer", "positive"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			wantOneLineError(t, code, out, errOut, tc.want...)
		})
	}
}

// TestPubSubConnectedErrors: failures after connecting are one line too:
// a truncated frame on pub's stdin, a subscription to a track nobody
// publishes, and a namespace listing without a prefix on a draft-14 session
// chosen by --draft 14,07cf (draft-07 and draft-16 allow an empty prefix).
func TestPubSubConnectedErrors(t *testing.T) {
	url, pin := testRelay(t)
	for _, tc := range []struct {
		stdin string
		args  []string
		want  []string
	}{
		{"\x00\x00\x00\x05ab", []string{"pub", url, "test/trunc", "t", "--format", "frames", "--wait-subscriber=false"},
			[]string{"moq pub:", "frame 0: ends after 2 of 5 bytes"}},
		{"", []string{"sub", url, "nobody/here", "t"}, []string{"moq sub:", "subscribe to nobody/here"}},
		{"", []string{"announces", url, "--draft", "14,07cf"}, []string{"moq announces:", "PREFIX"}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, append(tc.args, "--pin", pin)...)
			wantOneLineError(t, code, out, errOut, tc.want...)
		})
	}
}

// TestParseFilter covers the --filter syntax.
func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want filterSpec
	}{
		{"latest-group", filterSpec{kind: "latest-group"}},
		{"next-group", filterSpec{kind: "next-group"}},
		{"latest-object", filterSpec{kind: "latest-object"}},
		{"absolute:7", filterSpec{kind: "absolute", start: moq.Location{Group: 7}}},
		{"absolute:7:3", filterSpec{kind: "absolute", start: moq.Location{Group: 7, Object: 3}}},
		{"range:2-9", filterSpec{kind: "range", start: moq.Location{Group: 2}, endGroup: 9}},
		{"range:2:4-2", filterSpec{kind: "range", start: moq.Location{Group: 2, Object: 4}, endGroup: 2}},
	} {
		got, err := parseFilter(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseFilter(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "absolute", "absolute:", "absolute:1:", "range:1", "range:1-", "range:3-1", "range:a-4", "latest"} {
		if _, err := parseFilter(in); err == nil {
			t.Errorf("parseFilter(%q) succeeded", in)
		}
	}
}
