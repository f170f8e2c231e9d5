package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"go.uber.org/goleak"
)

// lockedBuffer is a bytes.Buffer safe for the relay's concurrent logging.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRelayCommand runs "moq relay" in-process on loopback: it prints its
// address and certificate fingerprint, a client pinning that fingerprint
// connects over raw QUIC and WebTransport, the metrics endpoint answers,
// and cancelling the command's context sends GOAWAY and stops it cleanly.
func TestRelayCommand(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("os/signal.signal_recv")) // signal.NotifyContext's process-wide loop

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut lockedBuffer
	root := newRootCmd()
	root.SetArgs([]string{"relay", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--drain", "30s"})
	root.SetOut(pw)
	root.SetErr(&errOut)
	done := make(chan error, 1)
	go func() {
		err := root.ExecuteContext(ctx)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(20 * time.Second)
	var addr, fp, metricsURL string
	for addr == "" || fp == "" || metricsURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("relay output ended early; stderr %q; err %v", errOut.String(), <-done)
			}
			switch {
			case strings.HasPrefix(l, "moq relay listening on "):
				addr = strings.TrimSuffix(strings.TrimPrefix(l, "moq relay listening on "), " (UDP)")
			case strings.Contains(l, "certificate SHA-256 fingerprint: "):
				fp = l[strings.LastIndex(l, " ")+1:]
			case strings.HasPrefix(l, "metrics on "):
				metricsURL = strings.TrimPrefix(l, "metrics on ")
			}
		case <-timeout:
			t.Fatal("the relay printed no address and fingerprint")
		}
	}
	pin, err := transport.ParseFingerprint(fp)
	if err != nil {
		t.Fatalf("printed fingerprint %q: %v", fp, err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	goaway := make(chan string, 2)
	var sessions []*moq.Session
	for _, u := range []string{"moqt://" + addr + "/", "https://" + addr + "/"} {
		s, err := moq.Dial(dctx, u, &moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{pin}},
			OnGoAway: func(string) { goaway <- u }})
		if err != nil {
			t.Fatalf("dial %s with the printed fingerprint: %v", u, err)
		}
		defer s.Wait()
		defer s.Close()
		sessions = append(sessions, s)
	}
	if err := sessions[0].Announce(dctx, moq.Namespace{"cli"}); err != nil {
		t.Fatalf("announce: %v", err)
	}

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "moq_relay_announced_namespaces 1") {
		t.Errorf("metrics do not show the announce:\n%s", body)
	}

	cancel() // as SIGINT would
	for range sessions {
		select {
		case <-goaway:
		case <-timeout:
			t.Fatal("no GOAWAY after the command's context was cancelled")
		}
	}
	for _, s := range sessions {
		s.Close() // leave: the relay stops without waiting for the drain
	}
	if err := <-done; err != nil {
		t.Fatalf("relay command: %v", err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if got := strings.Join(rest, "\n"); !strings.Contains(got, "shutting down") || !strings.HasSuffix(got, "stopped") {
		t.Errorf("output after cancel: %q", got)
	}
}

// TestRelayTokenFile: with --token-file, a client without the token is
// closed with Unauthorized, one with it is served; an empty token file is
// refused at start.
func TestRelayTokenFile(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("os/signal.signal_recv"))
	dir := t.TempDir()
	empty := dir + "/empty"
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if r := wait(t, ctx, "relay", startCLI(ctx, nil, nil, "relay", "--listen", "127.0.0.1:0", "--token-file", empty)); r.code == 0 ||
		!strings.Contains(r.stderr, "empty") {
		t.Fatalf("an empty token file: exit %d, stderr %q", r.code, r.stderr)
	}

	file := dir + "/token"
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, pin, stop, relayDone := startRelayCLI(t, ctx, "--token-file", file)
	opts := &moq.Options{TLS: moq.TLSConfig{PinSHA256: [][32]byte{pin}}, Drafts: []moq.Draft{moq.Draft14}}
	if s, err := moq.Dial(ctx, "moqt://"+addr+"/", opts); err == nil {
		err = s.Announce(ctx, moq.Namespace{"x"})
		s.Close()
		s.Wait()
		if err == nil {
			t.Fatal("a client without the token was served")
		}
	}
	s, err := moq.Dial(ctx, "https://"+addr+"/moq?token=s3cret", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Announce(ctx, moq.Namespace{"x"}); err != nil {
		t.Fatalf("a client with the token: %v", err)
	}
	s.Close()
	s.Wait()
	stop()
	if r := wait(t, ctx, "relay", relayDone); r.code != 0 {
		t.Fatalf("relay: exit %d, stderr %q", r.code, r.stderr)
	}
}

// startRelayCLI runs "moq relay --listen 127.0.0.1:0 args..." in-process
// and returns its address and certificate fingerprint (from its first
// lines), a function that stops it (as SIGINT would) and its result.
func startRelayCLI(t *testing.T, ctx context.Context, args ...string) (addr string, pin [32]byte, stop func(), done <-chan cliResult) {
	t.Helper()
	rctx, stop := context.WithCancel(ctx)
	out := &lockedBuffer{}
	relayDone := startCLI(rctx, nil, out, append([]string{"relay", "--listen", "127.0.0.1:0"}, args...)...)
	for addr == "" { // the first lines name the address and the fingerprint
		select {
		case r := <-relayDone:
			stop()
			t.Fatalf("relay exited: %+v", r)
		case <-ctx.Done():
			stop()
			t.Fatal("the relay printed no address")
		default:
		}
		text := out.String()
		i := strings.Index(text, "moq relay listening on ")
		j := strings.Index(text, "fingerprint: ")
		if i < 0 || j < 0 || !strings.Contains(text[j:], "\n") {
			runtime.Gosched()
			continue
		}
		a := text[i+len("moq relay listening on "):]
		a = a[:strings.IndexAny(a, " \n")]
		f := text[j+len("fingerprint: "):]
		p, err := transport.ParseFingerprint(f[:strings.Index(f, "\n")])
		if err != nil {
			stop()
			t.Fatal(err)
		}
		addr, pin = a, p
	}
	return addr, pin, stop, relayDone
}
