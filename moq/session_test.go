package moq

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// variants are the draft x transport combinations every session test runs.
var variants = []struct {
	name   string
	scheme string
	draft  Draft
}{
	{"quic/20", "moqt", Draft20},
	{"wt/20", "https", Draft20},
	{"quic/18", "moqt", Draft18},
	{"wt/18", "https", Draft18},
	{"quic/16", "moqt", Draft16},
	{"wt/16", "https", Draft16},
	{"quic/14", "moqt", Draft14},
	{"wt/14", "https", Draft14},
	{"quic/07cf", "moqt", Draft07Cloudflare},
	{"wt/07cf", "https", Draft07Cloudflare},
	{"quic/07", "moqt", Draft07},
	{"wt/07", "https", Draft07},
}

type pair struct {
	ln     *Listener
	client *Session
	server *Session
}

// newPair starts a server on loopback and connects a client to it.
func newPair(t *testing.T, scheme string, d Draft, copts, sopts *Options) *pair {
	t.Helper()
	cert, fp, err := transport.GenerateSelfSigned(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sopts == nil {
		sopts = &Options{}
	}
	sopts.TLS.Certificates = []tls.Certificate{cert}
	if d == Draft07 {
		sopts.Draft07Layout = Draft07
	}
	ln, err := Listen("127.0.0.1:0", sopts)
	if err != nil {
		t.Fatal(err)
	}
	if copts == nil {
		copts = &Options{}
	}
	copts.TLS.PinSHA256 = [][32]byte{fp}
	copts.Drafts = []Draft{d}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := fmt.Sprintf("%s://%s/test", scheme, ln.Addr())
	type res struct {
		s   *Session
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := ln.Accept(ctx)
		ch <- res{s, err}
	}()
	c, err := Dial(ctx, url, copts)
	if err != nil {
		ln.Close()
		t.Fatalf("dial %s: %v", url, err)
	}
	r := <-ch
	if r.err != nil {
		c.Close()
		ln.Close()
		t.Fatalf("accept: %v", r.err)
	}
	p := &pair{ln: ln, client: c, server: r.s}
	t.Cleanup(func() {
		p.client.Close()
		p.server.Close()
		p.client.Wait()
		p.server.Wait()
		p.ln.Close()
	})
	return p
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSetupAllVariants(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			p := newPair(t, v.scheme, v.draft, nil, nil)
			if p.client.Draft() != v.draft || p.server.Draft() != v.draft {
				t.Fatalf("drafts: client %v server %v, want %v", p.client.Draft(), p.server.Draft(), v.draft)
			}
			if p.server.Path() != "/test" {
				t.Fatalf("server path %q, want /test", p.server.Path())
			}
		})
	}
}

// TestPublishSubscribe: the server publishes and announces; the client
// subscribes and receives every object in order, including empty ones;
// then unsubscribes.
func TestPublishSubscribe(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			p := newPair(t, v.scheme, v.draft, nil, nil)
			ctx := ctxT(t)
			ns := Namespace{"live", "room1"}
			// The client publishes; the server subscribes to it.
			tr, err := p.client.Publish(ns, "video", TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.client.Announce(ctx, ns); err != nil {
				t.Fatalf("announce: %v", err)
			}
			sub, err := p.server.Subscribe(ctx, ns, "video", SubscribeOptions{})
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			const n = 50
			var want [][]byte
			for i := 0; i < n; i++ {
				payload := []byte(fmt.Sprintf("object-%d", i))
				if i%10 == 3 {
					payload = []byte{} // empty objects are delivered too
				}
				want = append(want, payload)
				if _, err := tr.Write(payload); err != nil {
					t.Fatal(err)
				}
			}
			var lastGroup uint64
			for i := 0; i < n; i++ {
				o, err := sub.ReadObject(ctx)
				if err != nil {
					t.Fatalf("object %d: %v", i, err)
				}
				if !bytes.Equal(o.Payload, want[i]) {
					t.Fatalf("object %d: payload %q, want %q", i, o.Payload, want[i])
				}
				if i > 0 && o.Group != lastGroup+1 {
					t.Fatalf("object %d: group %d after %d", i, o.Group, lastGroup)
				}
				lastGroup = o.Group
			}
			if err := sub.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := sub.ReadObject(ctx); !errors.Is(err, ErrEnded) {
				t.Fatalf("after Close: %v, want ErrEnded", err)
			}
		})
	}
}
