// Command driver is the browser half of scripts/browser-test.sh. It serves
// the bundled @moq/lite page on 127.0.0.1, starts headless Chromium on it
// with the relay URL and certificate fingerprint in the query string, prints
// what the page reports, and judges the result: the page must receive at
// least -count objects, in order, whose text is "object N" with N the group
// ID and each N one more than the previous. Chromium and all its helper
// processes are stopped and reaped before the driver exits, and the run is
// bounded by -timeout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// frame is one object as the page reports it.
type frame struct {
	Group int    `json:"group"`
	Frame int    `json:"frame"`
	Text  string `json:"text"`
}

// result is the page's final report.
type result struct {
	OK      bool    `json:"ok"`
	Error   string  `json:"error"`
	Version string  `json:"version"`
	Frames  []frame `json:"frames"`
}

func main() {
	var (
		dir      = flag.String("dir", "dist", "directory holding index.html and bundle.js")
		relay    = flag.String("relay", "", "relay WebTransport URL, https://127.0.0.1:PORT/")
		fp       = flag.String("fingerprint", "", "relay certificate SHA-256 fingerprint (hex)")
		ns       = flag.String("namespace", "browser-test", "track namespace")
		track    = flag.String("track", "data", "track name")
		count    = flag.Int("count", 20, "objects the page must receive")
		timeout  = flag.Duration("timeout", 60*time.Second, "bound on the whole browser run")
		chromium = flag.String("chromium", "/usr/bin/chromium", "Chromium executable")
		chromLog = flag.String("chromium-log", "", "file for Chromium's stderr (default: discarded)")
	)
	flag.Parse()
	start := time.Now()
	err := run(*dir, *relay, *fp, *ns, *track, *count, *timeout, *chromium, *chromLog)
	if err != nil {
		fmt.Fprintf(os.Stderr, "browser-test: FAIL after %.1fs: %v\n", time.Since(start).Seconds(), err)
		os.Exit(1)
	}
	fmt.Printf("browser-test: PASS in %.1fs\n", time.Since(start).Seconds())
}

func run(dir, relay, fp, ns, track string, count int, timeout time.Duration, chromium, chromLog string) error {
	if relay == "" || fp == "" {
		return errors.New("-relay and -fingerprint are required")
	}
	if _, err := os.Stat(filepath.Join(dir, "bundle.js")); err != nil {
		return fmt.Errorf("page bundle: %w (run esbuild first)", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	results := make(chan result, 1)
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("POST /log", func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Msg string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&m); err == nil {
			fmt.Printf("page: %s\n", m.Msg)
		}
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var res result
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&res); err != nil {
			res = result{Error: "driver: undecodable result: " + err.Error()}
		}
		select {
		case results <- res:
		default:
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	q := url.Values{"relay": {relay}, "fp": {fp}, "ns": {ns}, "track": {track}, "count": {strconv.Itoa(count)}}
	pageURL := fmt.Sprintf("http://%s/index.html?%s", ln.Addr(), q.Encode())
	fmt.Printf("driver: page %s\n", pageURL)

	profile, err := os.MkdirTemp("", "browser-test-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)

	// Chromium's helper processes can outlive the browser process for a
	// moment; as a child subreaper the driver inherits and reaps them, so
	// none is left behind as a zombie.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		fmt.Printf("driver: prctl(PR_SET_CHILD_SUBREAPER): %v (continuing)\n", errno)
	}
	cmd := exec.Command(chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--enable-logging=stderr", "--v=0",
		"--user-data-dir="+profile, pageURL)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if chromLog != "" {
		f, err := os.Create(chromLog)
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", chromium, err)
	}
	fmt.Printf("driver: chromium pid %d\n", cmd.Process.Pid)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer stopChromium(cmd.Process.Pid, exited)

	var res result
	select {
	case res = <-results:
	case err := <-exited:
		exited <- err // for stopChromium
		return fmt.Errorf("chromium exited before the page reported (%v); see the Chromium log", err)
	case <-ctx.Done():
		return fmt.Errorf("no result from the page within %v (%v)", timeout, context.Cause(ctx))
	}
	return judge(res, count)
}

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER (linux/prctl.h).
const prSetChildSubreaper = 36

// stopChromium stops the browser started as pid (the leader of its own
// process group) and every helper process it left, and reaps them all.
// Chromium does not exit by itself in this mode.
func stopChromium(pid int, exited chan error) {
	// A SIGTERM lets the browser shut its helpers down; the whole group gets
	// SIGKILL if that takes too long, and in any case afterwards.
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	// Reap orphaned helpers (the driver is their subreaper), for at most 5 s.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.ECHILD) {
			return
		}
		if got <= 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	fmt.Println("driver: chromium helpers still running 5s after the browser stopped")
}

// judge checks the page's report.
func judge(res result, count int) error {
	if !res.OK {
		return fmt.Errorf("page reported an error: %s", res.Error)
	}
	if len(res.Frames) < count {
		return fmt.Errorf("page received %d objects, want at least %d", len(res.Frames), count)
	}
	first := res.Frames[0].Group
	for i, f := range res.Frames {
		n := first + i
		if want := fmt.Sprintf("object %d", n); f.Text != want || f.Group != n {
			return fmt.Errorf("object %d of %d: got group %d text %q, want group %d text %q (objects must be contiguous and in order)",
				i+1, len(res.Frames), f.Group, f.Text, n, want)
		}
	}
	fmt.Printf("driver: page (%s) received objects %d..%d in order\n", res.Version, first, first+len(res.Frames)-1)
	return nil
}
