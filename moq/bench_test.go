package moq

// Throughput benchmarks of the session engine, and of plain quic-go on the
// same loopback as a ceiling. Run them in one go so that the ratios compare
// figures taken under the same machine load:
//
//	go test -run '^$' -bench 'PubSub|RawQUIC' -benchtime 3s ./moq/
//
// Every benchmark paces its sender with a window of objects in flight (sent
// but not yet read by the receiving application): the sender takes a credit
// before each object and the receiver returns it after reading the object.
// objects/s and MB/s therefore count delivered objects, not objects a
// falling-behind subscriber would drop. The flag -moq.benchwindow overrides
// the window (a negative value disables pacing), e.g.
//
//	go test -run '^$' -bench PubSub200B ./moq/ -args -moq.benchwindow=-1

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/quic-go/quic-go"
)

var benchWindowFlag = flag.Int("moq.benchwindow", 0,
	"benchmarks: objects in flight between sender and receiver (0: per-benchmark default, negative: unpaced)")

// Default windows. 256 objects of 200 bytes keep enough streams in flight to
// amortise per-stream costs; 64 objects of 64 KiB (4 MiB) stay well under the
// default 8 MiB SubscriptionBuffer on both the publisher's and the
// subscriber's side, so pacing alone guarantees that nothing is dropped.
const (
	benchWindowSmall = 256
	benchWindowLarge = 64
	// benchTimeout bounds one benchmark run; a stall fails the benchmark
	// instead of hanging it.
	benchTimeout = 2 * time.Minute
)

func benchWindow(def int) int {
	switch w := *benchWindowFlag; {
	case w < 0:
		return 0 // unpaced
	case w > 0:
		return w
	}
	return def
}

// benchVariants are the transport x draft combinations benchmarked.
var benchVariants = []struct {
	name   string
	scheme string
	draft  Draft
}{
	{"quic/18", "moqt", Draft18},
	{"wt/18", "https", Draft18},
	{"quic/16", "moqt", Draft16},
	{"wt/16", "https", Draft16},
	{"quic/14", "moqt", Draft14},
	{"wt/14", "https", Draft14},
	{"quic/07cf", "moqt", Draft07Cloudflare},
	{"wt/07cf", "https", Draft07Cloudflare},
}

// credits is the pacing window: take before sending an object, give back
// after reading it. A nil credits (unpaced) never blocks.
type credits chan struct{}

func newCredits(window int) credits {
	if window <= 0 {
		return nil
	}
	return make(credits, window)
}

func (c credits) take(ctx context.Context) error {
	if c == nil {
		return nil
	}
	select {
	case c <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the receiver: %w", ctx.Err())
	}
}

func (c credits) give(k int) {
	if c == nil {
		return
	}
	for ; k > 0; k-- {
		<-c
	}
}

// benchPair is newPair for benchmarks: a loopback listener with a
// self-signed certificate and a client pinned to it. close tears it down and
// waits for every session goroutine.
func benchPair(b *testing.B, scheme string, d Draft) (p *pair, closeFn func()) {
	b.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := Listen("127.0.0.1:0", &Options{TLS: TLSConfig{Certificates: []tls.Certificate{cert}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type res struct {
		s   *Session
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := ln.Accept(ctx)
		ch <- res{s, err}
	}()
	url := fmt.Sprintf("%s://%s/bench", scheme, ln.Addr())
	c, err := Dial(ctx, url, &Options{TLS: TLSConfig{PinSHA256: [][32]byte{fp}}, Drafts: []Draft{d}})
	if err != nil {
		ln.Close()
		<-ch
		b.Fatalf("dial %s: %v", url, err)
	}
	r := <-ch
	if r.err != nil {
		c.Close()
		c.Wait()
		ln.Close()
		b.Fatalf("accept: %v", r.err)
	}
	p = &pair{ln: ln, client: c, server: r.s}
	return p, func() {
		p.client.Close()
		p.server.Close()
		p.client.Wait()
		p.server.Wait()
		p.ln.Close()
	}
}

// publisherDropped sums the objects the publishing session dropped for its
// subscribers (queue over SubscriptionBuffer).
func publisherDropped(s *Session) uint64 {
	s.mu.Lock()
	subs := make([]*subscriber, 0, len(s.inSubs))
	for _, sb := range s.inSubs {
		subs = append(subs, sb)
	}
	s.mu.Unlock()
	var n uint64
	for _, sb := range subs {
		n += sb.droppedCount()
	}
	return n
}

// benchPubSub publishes b.N objects of size bytes, perGroup per group, from
// the client to a subscribing server, and reads them all on the server.
func benchPubSub(b *testing.B, scheme string, d Draft, size, perGroup, window int) {
	p, closePair := benchPair(b, scheme, d)
	defer closePair()
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	ns := Namespace{"bench"}
	tr, err := p.client.Publish(ns, "data", TrackOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	if err := p.client.Announce(ctx, ns); err != nil {
		b.Fatalf("announce: %v", err)
	}
	sub, err := p.server.Subscribe(ctx, ns, "data", SubscribeOptions{})
	if err != nil {
		b.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()

	n := b.N
	cr := newCredits(window)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	// The receiver reads until it has seen the last object. An object's
	// sequence number is group*perGroup+id (groups start at 0 on a fresh
	// track); a jump in sequence means objects were dropped: their credits
	// are returned so that the sender does not stall on them.
	var received, lost int
	recvErr := make(chan error, 1)
	go func() {
		next := 0
		for next < n {
			o, err := sub.ReadObject(ctx)
			if err != nil {
				recvErr <- fmt.Errorf("reading object %d of %d (%d received): %w", next, n, received, err)
				cancel()
				return
			}
			seq := int(o.Group)*perGroup + int(o.ID)
			if seq < next || len(o.Payload) != size {
				recvErr <- fmt.Errorf("object (%d,%d) of %d bytes after sequence %d", o.Group, o.ID, len(o.Payload), next)
				cancel()
				return
			}
			lost += seq - next
			received++
			cr.give(seq - next + 1)
			next = seq + 1
		}
		recvErr <- nil
	}()

	b.SetBytes(int64(size))
	b.ResetTimer()
	var pubErr error
	for written := 0; written < n && pubErr == nil; {
		if perGroup == 1 {
			if pubErr = cr.take(ctx); pubErr == nil {
				_, pubErr = tr.Write(payload)
			}
			written++
			continue
		}
		gw, err := tr.OpenGroup(nil)
		if err != nil {
			pubErr = err
			break
		}
		for j := 0; j < perGroup && written < n; j++ {
			if pubErr = cr.take(ctx); pubErr != nil {
				break
			}
			if _, pubErr = gw.WriteObject(payload, nil); pubErr != nil {
				break
			}
			written++
		}
		if err := gw.Close(); err != nil && pubErr == nil {
			pubErr = err
		}
	}
	if pubErr != nil {
		cancel()
	}
	rerr := <-recvErr
	b.StopTimer()
	if pubErr != nil || rerr != nil {
		b.Fatalf("publish: %v; receive: %v; subscription stats %+v, publisher dropped %d",
			pubErr, rerr, sub.Stats(), publisherDropped(p.client))
	}
	b.ReportMetric(float64(received)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(lost), "dropped")
	if st := sub.Stats(); lost > 0 {
		b.Logf("b.N=%d: %d objects lost (subscriber dropped %d, publisher dropped %d)",
			n, lost, st.Dropped, publisherDropped(p.client))
	}
}

// BenchmarkPubSub200B: 200-byte objects, one per group (Track.Write, the
// moq_publish_data model), publisher to subscriber over loopback.
func BenchmarkPubSub200B(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			benchPubSub(b, v.scheme, v.draft, 200, 1, benchWindow(benchWindowSmall))
		})
	}
}

// BenchmarkPubSub64KiB: 64 KiB objects, 30 per group (OpenGroup,
// WriteObject, Close).
func BenchmarkPubSub64KiB(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			benchPubSub(b, v.scheme, v.draft, 64<<10, 30, benchWindow(benchWindowLarge))
		})
	}
}

const rawALPN = "moq-bench-raw"

// rawPair is a plain quic-go connection on loopback: the client sends, the
// server receives.
type rawPair struct {
	ln     *quic.Listener
	client *quic.Conn
	server *quic.Conn
}

func newRawPair(b *testing.B) (*rawPair, func()) {
	b.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	conf := &quic.Config{
		MaxIncomingUniStreams: transport.DefaultMaxIncomingUniStreams,
		MaxIdleTimeout:        30 * time.Second,
	}
	ln, err := quic.ListenAddr("127.0.0.1:0",
		&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{rawALPN}}, conf)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type res struct {
		c   *quic.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept(ctx)
		ch <- res{c, err}
	}()
	clientTLS := &tls.Config{
		NextProtos:         []string{rawALPN},
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || transport.Fingerprint(cs.PeerCertificates[0]) != fp {
				return errors.New("server certificate does not match the pin")
			}
			return nil
		},
	}
	c, err := quic.DialAddr(ctx, ln.Addr().String(), clientTLS, conf)
	if err != nil {
		ln.Close()
		<-ch
		b.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		c.CloseWithError(0, "")
		ln.Close()
		b.Fatal(r.err)
	}
	rp := &rawPair{ln: ln, client: c, server: r.c}
	return rp, func() {
		rp.client.CloseWithError(0, "")
		rp.server.CloseWithError(0, "")
		<-rp.client.Context().Done()
		<-rp.server.Context().Done()
		rp.ln.Close()
	}
}

// BenchmarkRawQUIC200B: the ceiling for BenchmarkPubSub200B. Each 200-byte
// message goes on its own unidirectional stream; the receiver reads the
// streams concurrently.
func BenchmarkRawQUIC200B(b *testing.B) {
	const size = 200
	rp, closeRaw := newRawPair(b)
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	n := b.N
	cr := newCredits(benchWindow(benchWindowSmall))
	var got atomic.Int64
	allIn := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // accept loop: ends when the connection closes
		defer wg.Done()
		for {
			st, err := rp.server.AcceptUniStream(context.Background())
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf [size + 1]byte
				k, err := io.ReadFull(st, buf[:])
				if k != size || !errors.Is(err, io.ErrUnexpectedEOF) {
					b.Errorf("stream %d: read %d bytes, err %v; want %d bytes then EOF", st.StreamID(), k, err, size)
					cancel()
					return
				}
				cr.give(1)
				if got.Add(1) == int64(n) {
					close(allIn)
				}
			}()
		}
	}()
	defer func() {
		closeRaw()
		wg.Wait()
	}()
	payload := make([]byte, size)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < n; i++ {
		if err := cr.take(ctx); err != nil {
			b.Fatalf("message %d: %v", i, err)
		}
		st, err := rp.client.OpenUniStreamSync(ctx)
		if err != nil {
			b.Fatalf("message %d: open stream: %v", i, err)
		}
		if _, err := st.Write(payload); err != nil {
			b.Fatalf("message %d: write: %v", i, err)
		}
		st.Close()
	}
	select {
	case <-allIn:
	case <-ctx.Done():
		b.Fatalf("received %d of %d messages: %v", got.Load(), n, ctx.Err())
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(0, "dropped")
}

// BenchmarkRawQUIC64KiB: the ceiling for BenchmarkPubSub64KiB: one
// unidirectional stream carrying 64 KiB writes.
func BenchmarkRawQUIC64KiB(b *testing.B) {
	const size = 64 << 10
	rp, closeRaw := newRawPair(b)
	defer closeRaw()
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	n := b.N
	cr := newCredits(benchWindow(benchWindowLarge))
	recvErr := make(chan error, 1)
	go func() {
		st, err := rp.server.AcceptUniStream(ctx)
		if err != nil {
			recvErr <- err
			return
		}
		buf := make([]byte, size)
		for i := 0; i < n; i++ {
			if _, err := io.ReadFull(st, buf); err != nil {
				recvErr <- fmt.Errorf("message %d of %d: %w", i, n, err)
				cancel()
				return
			}
			cr.give(1)
		}
		recvErr <- nil
	}()
	payload := make([]byte, size)
	b.SetBytes(size)
	b.ResetTimer()
	st, err := rp.client.OpenUniStreamSync(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var sendErr error
	for i := 0; i < n && sendErr == nil; i++ {
		if sendErr = cr.take(ctx); sendErr == nil {
			_, sendErr = st.Write(payload)
		}
	}
	st.Close()
	rerr := <-recvErr
	b.StopTimer()
	if sendErr != nil || rerr != nil {
		b.Fatalf("send: %v; receive: %v", sendErr, rerr)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(0, "dropped")
}

// BenchmarkTrackWrite: Track.Write of a 200-byte object with no subscriber
// (the Go side of moq_publish_data): the payload copy, the object and its
// retention for late joiners (two groups by default).
func BenchmarkTrackWrite(b *testing.B) {
	tr := NewTrack(Namespace{"bench"}, "write", TrackOptions{})
	payload := make([]byte, 200)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := tr.Write(payload); err != nil {
			b.Fatal(err)
		}
	}
}
