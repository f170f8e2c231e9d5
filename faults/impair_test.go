//go:build linux

package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// impairer forwards IP packets between the two TUN devices of a netLab,
// applying loss and delay (see netLab).
type impairer struct {
	mu    sync.Mutex
	delay time.Duration
	loss  float64 // probability, 0..1

	forwarded, dropped atomic.Uint64
	devs               [2]*os.File
	wg                 sync.WaitGroup
}

// openTUN creates the TUN device name in the network namespace ns ("" for
// the current one) and returns it, non-blocking (so that Close ends reads).
func openTUN(ns, name string) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The device is made in the namespace of the calling thread: lock
		// the goroutine to a thread and move that thread; the thread is
		// never unlocked, so the runtime discards it when the goroutine
		// ends.
		runtime.LockOSThread()
		if ns != "" {
			nsf, err := os.Open("/var/run/netns/" + ns)
			if err != nil {
				ch <- result{err: err}
				return
			}
			err = unix.Setns(int(nsf.Fd()), unix.CLONE_NEWNET)
			nsf.Close()
			if err != nil {
				ch <- result{err: fmt.Errorf("setns %s: %w", ns, err)}
				return
			}
		}
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: fmt.Errorf("/dev/net/tun: %w", err)}
			return
		}
		req, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			ch <- result{err: err}
			return
		}
		req.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, req); err != nil {
			unix.Close(fd)
			ch <- result{err: fmt.Errorf("TUNSETIFF %s: %w", name, err)}
			return
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			ch <- result{err: err}
			return
		}
		ch <- result{f: os.NewFile(uintptr(fd), "/dev/net/tun:"+name)}
	}()
	r := <-ch
	return r.f, r.err
}

// startImpairer makes the TUN devices of l (from inside the client
// namespace), gives them their addresses and starts forwarding, with no
// impairment. It stops when the test ends.
func (l *netLab) startImpairer(t *testing.T) *impairer {
	t.Helper()
	im := &impairer{}
	var err error
	if im.devs[0], err = openTUN(l.relayNS, l.relayLink); err != nil {
		t.Fatal(err)
	}
	if im.devs[1], err = openTUN("", l.clientLink); err != nil {
		im.devs[0].Close()
		t.Fatal(err)
	}
	t.Cleanup(im.stop)
	steps := [][]string{
		{"ip", "-n", l.relayNS, "addr", "add", relayIP + "/32", "peer", clientIP, "dev", l.relayLink},
		{"ip", "-n", l.clientNS, "addr", "add", clientIP + "/32", "peer", relayIP, "dev", l.clientLink},
		{"ip", "-n", l.relayNS, "link", "set", l.relayLink, "up"},
		{"ip", "-n", l.clientNS, "link", "set", l.clientLink, "up"},
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	im.wg.Add(2)
	go im.forward(im.devs[0], im.devs[1])
	go im.forward(im.devs[1], im.devs[0])
	return im
}

type packet struct {
	due time.Time
	b   []byte
}

// forward moves packets from src to dst: each is dropped with the loss
// probability, or written after the delay (a FIFO: the delay is the same
// for all, so order is kept, as netem does without jitter).
func (im *impairer) forward(src, dst *os.File) {
	defer im.wg.Done()
	line := make(chan packet, 1<<16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		timer := time.NewTimer(0)
		<-timer.C
		for p := range line {
			if d := time.Until(p.due); d > 0 {
				timer.Reset(d)
				<-timer.C
			}
			if _, err := dst.Write(p.b); err != nil && errors.Is(err, os.ErrClosed) {
				for range line {
				}
				return
			}
		}
	}()
	defer func() { close(line); <-done }()
	for {
		b := make([]byte, 65536)
		n, err := src.Read(b)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			continue // a transient error on a TUN read
		}
		im.mu.Lock()
		delay, loss := im.delay, im.loss
		im.mu.Unlock()
		if loss > 0 && rand.Float64() < loss {
			im.dropped.Add(1)
			continue
		}
		im.forwarded.Add(1)
		select {
		case line <- packet{due: time.Now().Add(delay), b: b[:n]}:
		default:
			im.dropped.Add(1) // the delay line is full: a queue overflow
		}
	}
}

// set changes the impairment: delay and loss (in percent; 100 is a
// blackout) apply to each direction.
func (im *impairer) set(delay time.Duration, lossPercent float64) {
	im.mu.Lock()
	im.delay, im.loss = delay, lossPercent/100
	im.mu.Unlock()
}

func (im *impairer) stop() {
	for _, f := range im.devs {
		f.Close()
	}
	im.wg.Wait()
}
