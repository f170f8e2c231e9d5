//go:build linux

package faults

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The impaired network: two network namespaces made by the test, joined by
// a point-to-point link through the test process, which impairs it:
//
//	namespace R (relay) 10.200.0.1 [tunR] <--> test process <--> [tunC] 10.200.0.2 namespace C (clients)
//
// The test process holds both TUN devices and forwards each IP packet from
// one to the other, dropping it with the loss probability and delivering
// it after the delay (each direction alike): tc netem's model, in user
// space, because kernels without sch_netem (such as this project's CI
// machine) are common and TUN is not. Nothing is routed anywhere else: the
// namespaces have no other links. The test's clients run in C: the test
// binary re-executes itself there with `ip netns exec` (innerEnv set), and
// the inner run makes the TUN devices, forwards and does the work; the
// outer run makes and removes the namespaces, also when the inner one fails
// or is killed.
type netLab struct {
	relayNS, clientNS     string
	relayLink, clientLink string
	im                    *impairer // inner run only
}

// impair sets the impairment of the link: delay and loss (in percent; 100
// is a blackout) in each direction.
func (l *netLab) impair(t *testing.T, delay time.Duration, lossPercent float64) {
	t.Helper()
	l.im.set(delay, lossPercent)
}

const (
	relayIP  = "10.200.0.1"
	clientIP = "10.200.0.2"
	innerEnv = "MOQ_FAULTS_INNER"
	nsPrefix = "moqf"
)

// Environment variables handed to the inner run.
const (
	envRelayNS    = "MOQ_FAULTS_RELAY_NS"
	envClientNS   = "MOQ_FAULTS_CLIENT_NS"
	envRelayLink  = "MOQ_FAULTS_RELAY_LINK"
	envClientLink = "MOQ_FAULTS_CLIENT_LINK"
)

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

var staleNS = regexp.MustCompile(`^` + nsPrefix + `(\d+)[rc]\d+\b`)

// sweepStale removes namespaces left by runs that were killed (their pid is
// gone).
func sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(out), "\n") {
		m := staleNS.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			run("ip", "netns", "del", strings.Fields(l)[0])
		}
	}
}

var labSeq int

// newLab makes the namespaces and the link (no impairment yet) and removes
// them when the test ends. It skips the test, with the reason, where the
// machine does not allow network namespaces.
func newLab(t *testing.T) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the impaired-network suite needs root (network namespaces and tc); run it as root")
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing: install iproute2 (`make netem` does)", tool)
		}
	}
	sweepStale()
	labSeq++
	id := fmt.Sprintf("%s%d", nsPrefix, os.Getpid())
	l := &netLab{
		relayNS:    fmt.Sprintf("%sr%d", id, labSeq),
		clientNS:   fmt.Sprintf("%sc%d", id, labSeq),
		relayLink:  "tunR",
		clientLink: "tunC",
	}
	if err := run("ip", "netns", "add", l.relayNS); err != nil {
		t.Skipf("the kernel refuses network namespaces here, skipping the impaired-network suite: %v", err)
	}
	t.Cleanup(func() { run("ip", "netns", "del", l.relayNS) })
	if err := run("ip", "netns", "add", l.clientNS); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run("ip", "netns", "del", l.clientNS) })
	for _, ns := range []string{l.relayNS, l.clientNS} {
		if err := run("ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("no TUN device (/dev/net/tun) for the impaired link: %v", err)
	}
	return l
}

// labFromEnv is the lab of an inner run.
func labFromEnv() *netLab {
	return &netLab{
		relayNS:    os.Getenv(envRelayNS),
		clientNS:   os.Getenv(envClientNS),
		relayLink:  os.Getenv(envRelayLink),
		clientLink: os.Getenv(envClientLink),
	}
}

// inner reports whether this is the run inside the client namespace.
func inner() bool { return os.Getenv(innerEnv) == "1" }

// runInside re-executes the test binary for the current (top-level) test
// inside the client namespace, with the lab in its environment, and fails
// the test when the inner run fails. Its output is logged.
func (l *netLab) runInside(t *testing.T, limit time.Duration) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pattern := "^" + t.Name() + "$"
	if sub := os.Getenv("MOQ_FAULTS_RUN"); sub != "" {
		pattern += "/" + sub // e.g. MOQ_FAULTS_RUN=loss30/ride-out
	}
	args := []string{"netns", "exec", l.clientNS, exe,
		"-test.run", pattern, "-test.v", "-test.count=1",
		"-test.timeout", limit.String()}
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), innerEnv+"=1",
		envRelayNS+"="+l.relayNS, envClientNS+"="+l.clientNS,
		envRelayLink+"="+l.relayLink, envClientLink+"="+l.clientLink)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the run inside namespace %s failed: %v", l.clientNS, err)
	}
}
