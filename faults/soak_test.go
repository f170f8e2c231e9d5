//go:build linux

package faults

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// TestSoak: C publishers and subscribers (tests/soak, built by `make soak`
// into MOQ_SOAK_BIN) and a Go subscriber (moq.Client in this process)
// through a relay that is restarted every SOAK_RESTART (default 1m; by
// SIGTERM, with GOAWAY and drain, and by SIGKILL, in turn) for SOAK_TIME
// (default 10m; short form 40s with a restart every 10s).
//
// Checked: no object is duplicated, out of order or corrupted; no object
// is skipped except right after a reconnect (what the relay restart lost:
// published to a relay that died, or while the subscriber was not yet
// subscribed again; counted and reported); every subscriber reaches the
// last published object. Measured: RSS of the C programs (the C API does
// not expose the Go heap), the Go subscriber's heap and goroutines, sampled
// before each restart; the growth ratio is the last sample over the first.
// After the run, the process's goroutines are back to their baseline.
func TestSoak(t *testing.T) {
	soakTime, restartEvery := 40*time.Second, 10*time.Second
	if full(t) {
		soakTime, restartEvery = 10*time.Minute, time.Minute
	}
	soakTime = envDuration(t, "SOAK_TIME", soakTime)
	restartEvery = envDuration(t, "SOAK_RESTART", restartEvery)
	bin := os.Getenv("MOQ_SOAK_BIN")
	if bin == "" {
		t.Skip("MOQ_SOAK_BIN is not set: `make soak` (or `make test-faults`) builds the C soak programs and sets it")
	}
	rate := envInt(t, "SOAK_RATE", 100)
	baseGoroutines := runtime.NumGoroutine()

	r := startRelay(t, "", "127.0.0.1:0", "--drain", "1s")
	addr := r.addr
	ns, track := "soak", "seq"

	// The Go subscriber.
	gsub := newGoSoakSub(t, "moqt://"+addr+"/", ns, track)

	pub := startSoakProc(t, filepath.Join(bin, "soak_pub"), "moqt://"+addr+"/", ns, track, strconv.Itoa(rate))
	csub := startSoakProc(t, filepath.Join(bin, "soak_sub"), "https://"+addr+"/", ns, track)

	var samples []soakSample
	start := time.Now()
	restarts := 0
	for time.Since(start)+restartEvery <= soakTime {
		<-time.After(restartEvery) // the soak's own schedule
		samples = append(samples, sample(t, pub, csub, gsub))
		sig := syscall.SIGTERM
		if restarts%2 == 1 {
			sig = syscall.SIGKILL
		}
		r.stop(t, sig, 15*time.Second)
		r = startRelay(t, "", addr, "--drain", "1s")
		restarts++
		t.Logf("%v: relay restarted (%v); pub: %s; C sub: %s; Go sub: %s", time.Since(start).Round(time.Second), sig,
			pub.lastLine(), csub.lastLine(), gsub.String())
	}
	if rest := soakTime - time.Since(start); rest > 0 {
		<-time.After(rest)
	}
	samples = append(samples, sample(t, pub, csub, gsub))

	// Stop the publisher; every subscriber must reach its last object.
	pubDone := pub.stop(t)
	published, ok := field(pubDone, "published")
	if !ok {
		t.Fatalf("publisher's final line: %q", pubDone)
	}
	if published == 0 {
		t.Fatal("nothing was published")
	}
	lastSeq := int64(published) - 1
	deadline := time.Now().Add(30 * time.Second)
	for {
		cl, _ := field(csub.lastLine(), "last")
		if int64(cl) >= lastSeq && gsub.last() >= lastSeq {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("30s after the publisher stopped at object %d: C subscriber at %q, Go subscriber at %s",
				lastSeq, csub.lastLine(), gsub.String())
			break
		}
		csub.waitLine(time.Second)
	}
	subDone := csub.stop(t)
	gsub.close(t)
	r.stop(t, syscall.SIGTERM, 15*time.Second)

	// The C subscriber's verdict.
	get := func(k string) uint64 {
		v, ok := field(subDone, k)
		if !ok {
			t.Fatalf("C subscriber's final line has no %s: %q", k, subDone)
		}
		return v
	}
	first, last := int64(get("first")), int64(get("last"))
	for _, k := range []string{"lost", "dups", "reorders", "bad"} {
		if v := get(k); v != 0 {
			t.Errorf("C subscriber: %s=%d (%s)", k, v, subDone)
		}
	}
	if span := uint64(last - first + 1); get("received")+get("restart_missing")+get("lost") != span {
		t.Errorf("C subscriber: received %d + restart_missing %d + lost %d != %d objects from %d to %d",
			get("received"), get("restart_missing"), get("lost"), span, first, last)
	}
	if e := csub.errors(); e != "" {
		t.Errorf("C subscriber reported:\n%s", e)
	}
	// The Go subscriber's.
	g := gsub.tally()
	if g.lost != 0 || g.dups != 0 || g.reorders != 0 || g.bad != 0 {
		t.Errorf("Go subscriber: %s", gsub.String())
	}

	// Goroutines back to the baseline once everything is closed.
	var now int
	for end := time.Now().Add(15 * time.Second); ; {
		if now = runtime.NumGoroutine(); now <= baseGoroutines {
			break
		}
		if time.Now().After(end) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Errorf("goroutines: %d after the soak, %d before:\n%s", now, baseGoroutines, buf[:n])
			break
		}
		<-time.After(50 * time.Millisecond)
	}

	// Growth.
	first0, lastS := samples[0], samples[len(samples)-1]
	ratio := func(a, b float64) float64 {
		if a <= 0 {
			return 0
		}
		return b / a
	}
	rPubRSS := ratio(float64(first0.pubRSS), float64(lastS.pubRSS))
	rSubRSS := ratio(float64(first0.subRSS), float64(lastS.subRSS))
	rGoHeap := ratio(float64(first0.goHeap), float64(lastS.goHeap))
	figure(t, "%v with %d relay restarts (SIGTERM and SIGKILL in turn), %d objects/s: %d published; C subscriber received %d, lost %d, lost to restarts %d in %d gaps, duplicates %d; Go subscriber received %d, lost %d, lost to restarts %d in %d gaps, duplicates %d; reconnects %d (C sub), %d (Go sub)",
		soakTime, restarts, rate, published, get("received"), get("lost"), get("restart_missing"), get("restart_gaps"), get("dups"),
		g.received, g.lost, g.restartMissing, g.restartGaps, g.dups, get("connects")-1, gsub.c.Reconnects())
	var heaps []string
	for _, s := range samples {
		heaps = append(heaps, strconv.FormatUint(s.goHeap>>10, 10))
	}
	figure(t, "growth (last sample / first, %d samples): C publisher RSS %d -> %d KiB (x%.2f); C subscriber RSS %d -> %d KiB (x%.2f); Go subscriber heap %d -> %d KiB (x%.2f; samples %s KiB), goroutines %d -> %d; goroutines after the soak %d (baseline %d)",
		len(samples), first0.pubRSS, lastS.pubRSS, rPubRSS, first0.subRSS, lastS.subRSS, rSubRSS,
		first0.goHeap>>10, lastS.goHeap>>10, rGoHeap, strings.Join(heaps, " "), first0.goroutines, lastS.goroutines, now, baseGoroutines)
	// Flat: checked on runs long enough for the warm-up not to dominate.
	if soakTime >= 5*time.Minute {
		for _, c := range []struct {
			what  string
			ratio float64
		}{{"C publisher RSS", rPubRSS}, {"C subscriber RSS", rSubRSS}, {"Go subscriber heap", rGoHeap}} {
			if c.ratio > 1.5 {
				t.Errorf("%s grew x%.2f over the soak", c.what, c.ratio)
			}
		}
		if lastS.goroutines > first0.goroutines+10 {
			t.Errorf("Go subscriber goroutines grew from %d to %d", first0.goroutines, lastS.goroutines)
		}
	}
}

type soakSample struct {
	pubRSS, subRSS int64 // KiB
	goHeap         uint64
	goroutines     int
}

func sample(t *testing.T, pub, csub *soakProc, g *goSoakSub) soakSample {
	t.Helper()
	var s soakSample
	if u, err := readProc(pub.cmd.Process.Pid); err == nil {
		s.pubRSS = u.rssKB
	} else {
		t.Errorf("publisher: %v (%s)", err, pub.errors())
	}
	if u, err := readProc(csub.cmd.Process.Pid); err == nil {
		s.subRSS = u.rssKB
	} else {
		t.Errorf("C subscriber: %v (%s)", err, csub.errors())
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.goHeap = m.HeapAlloc
	s.goroutines = runtime.NumGoroutine()
	return s
}

// field reads KEY=NUMBER from a status line.
func field(line, key string) (uint64, bool) {
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, false
			}
			return uint64(n), true
		}
	}
	return 0, false
}

// soakProc is a C soak program: its last stdout line and its stderr lines.
type soakProc struct {
	cmd   *exec.Cmd
	done  chan struct{}
	lines chan struct{}

	mu      sync.Mutex
	last    string
	errLogs []string
}

func startSoakProc(t *testing.T, path string, args ...string) *soakProc {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errp, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &soakProc{cmd: cmd, done: make(chan struct{}), lines: make(chan struct{}, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.last = sc.Text()
			p.mu.Unlock()
			select {
			case p.lines <- struct{}{}:
			default:
			}
		}
	}()
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(errp)
		for sc.Scan() {
			l := sc.Text()
			p.mu.Lock()
			if len(p.errLogs) < 100 && !strings.Contains(l, "level=INFO") && !strings.Contains(l, "level=WARN") {
				p.errLogs = append(p.errLogs, l)
			}
			p.mu.Unlock()
		}
	}()
	go func() {
		pipes.Wait()
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	})
	return p
}

func (p *soakProc) lastLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

func (p *soakProc) errors() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.errLogs, "\n")
}

// waitLine waits for the next stdout line, at most d.
func (p *soakProc) waitLine(d time.Duration) {
	select {
	case <-p.lines:
	case <-time.After(d):
	}
}

// stop sends SIGTERM and returns the final stdout line.
func (p *soakProc) stop(t *testing.T) string {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		t.Errorf("%s did not exit within 30s of SIGTERM", p.cmd.Path)
	}
	if st := p.cmd.ProcessState; st == nil || !st.Success() {
		t.Errorf("%s: %v; stderr:\n%s", p.cmd.Path, st, p.errors())
	}
	return p.lastLine()
}

// goSoakSub is the in-process subscriber.
type goSoakSub struct {
	c    *moq.Client
	cs   *moq.ClientSubscription
	done chan struct{}

	mu sync.Mutex
	goTally
}

type goTally struct {
	received, lost, lostGaps, restartMissing, restartGaps, dups, reorders, bad uint64
	first, lastSeq                                                             int64
	epoch                                                                      uint64
	err                                                                        error
}

func newGoSoakSub(t *testing.T, url, ns, track string) *goSoakSub {
	t.Helper()
	o := &moq.ClientOptions{Reconnect: true, ReconnectMin: 100 * time.Millisecond, ReconnectMax: time.Second}
	o.TLS.Insecure = true // every relay run has a new certificate
	o.IdleTimeout = 3 * time.Second
	o.ConnectTimeout = 3 * time.Second
	g := &goSoakSub{c: moq.NewClient(o), done: make(chan struct{})}
	g.first, g.lastSeq = -1, -1
	ctx := ctxFor(t, 30*time.Second)
	if err := g.c.Connect(ctx, url); err != nil {
		t.Fatal(err)
	}
	cs, err := g.c.Subscribe(ctx, moq.Namespace{ns}, track, moq.ClientSubscribeOptions{Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	g.cs = cs
	go g.read()
	t.Cleanup(func() { g.c.Close(); <-g.done })
	return g
}

func (g *goSoakSub) read() {
	defer close(g.done)
	for {
		o, err := g.cs.ReadObject(context.Background())
		if err != nil {
			g.mu.Lock()
			g.err = err
			g.mu.Unlock()
			return
		}
		epoch := g.c.Reconnects()
		seq := int64(-1)
		if len(o.Payload) == 100 {
			if s, err := checkPayload(o.Payload, 100); err == nil {
				seq = int64(s)
			}
		}
		g.mu.Lock()
		switch {
		case seq < 0:
			g.bad++
		case g.lastSeq < 0:
			g.first, g.lastSeq = seq, seq
			g.received++
		case seq == g.lastSeq:
			g.dups++
		case seq < g.lastSeq:
			g.reorders++
		default:
			if gap := uint64(seq - g.lastSeq - 1); gap > 0 {
				if epoch != g.epoch {
					g.restartMissing += gap
					g.restartGaps++
				} else {
					g.lost += gap
					g.lostGaps++
				}
			}
			g.lastSeq = seq
			g.received++
		}
		g.epoch = epoch
		g.mu.Unlock()
	}
}

func (g *goSoakSub) last() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastSeq
}

func (g *goSoakSub) tally() goTally {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.goTally
}

func (g *goSoakSub) String() string {
	x := g.tally()
	return fmt.Sprintf("received=%d first=%d last=%d lost=%d lost_gaps=%d restart_missing=%d restart_gaps=%d dups=%d reorders=%d bad=%d reconnects=%d err=%v",
		x.received, x.first, x.lastSeq, x.lost, x.lostGaps, x.restartMissing, x.restartGaps, x.dups, x.reorders, x.bad, g.c.Reconnects(), x.err)
}

func (g *goSoakSub) close(t *testing.T) {
	t.Helper()
	g.cs.Close()
	g.c.Close()
	select {
	case <-g.done:
	case <-time.After(15 * time.Second):
		t.Error("the Go subscriber's reader did not stop within 15s of Close")
	}
}
