package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/moqtransport"
	"github.com/Eyevinn/moqtransport/quicmoq"
	"github.com/Eyevinn/moqtransport/webtransportmoq"
	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/moq-ffi/moq-ffi-go/relay"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"
)

// startOurRelay starts our relay on 127.0.0.1 with the self-signed
// certificate it generates itself (clients pin Relay.Fingerprint) and closes
// it when the test ends, after the clients registered later have closed.
func startOurRelay(t *testing.T) *relay.Relay {
	t.Helper()
	r, err := relay.New(relay.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// pinnedTLS is a client TLS configuration that trusts exactly the leaf
// certificate whose SHA-256 is fp (chain verification replaced by the pin).
func pinnedTLS(fp [32]byte, alpn ...string) *tls.Config {
	return &tls.Config{
		ServerName:         "127.0.0.1",
		NextProtos:         alpn,
		InsecureSkipVerify: true, // replaced by VerifyPeerCertificate
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("pinned TLS: no certificate")
			}
			if sha256.Sum256(raw[0]) != fp {
				return fmt.Errorf("pinned TLS: certificate fingerprint %x is not the pinned %x", sha256.Sum256(raw[0]), fp)
			}
			return nil
		},
	}
}

// dialEyevinnToRelay connects the Eyevinn peer p to the relay over raw QUIC
// (ALPN moq-00) or WebTransport, runs its SETUP, and closes it when the test
// ends (before the relay closes).
func dialEyevinnToRelay(t *testing.T, r *relay.Relay, et eyTransport, p *eyPeer) *eyPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := r.Addr().String()
	var (
		conn      moqtransport.Connection
		closeConn func()
	)
	p.sess.Protocols = et.protocols()
	if et.wt {
		tr := &webtransport.Transport{TLSClientConfig: pinnedTLS(r.Fingerprint()), ApplicationProtocols: et.protocols()}
		_, ws, err := tr.Dial(ctx, "https://"+addr+"/relay", nil)
		if err != nil {
			tr.Close()
			t.Fatalf("Eyevinn WebTransport dial to the relay: %v", err)
		}
		conn = webtransportmoq.NewClient(ws)
		closeConn = func() { ws.CloseWithError(0, ""); tr.Close() }
	} else {
		qc, err := quic.DialAddr(ctx, addr, pinnedTLS(r.Fingerprint(), et.protocols()...), &quic.Config{EnableDatagrams: true})
		if err != nil {
			t.Fatalf("Eyevinn QUIC dial to the relay: %v", err)
		}
		conn = quicmoq.NewClient(qc)
		closeConn = func() { qc.CloseWithError(0, "") }
	}
	if err := p.sess.RunContext(ctx, conn); err != nil {
		closeConn()
		t.Fatalf("Eyevinn SETUP with the relay: %v", err)
	}
	t.Cleanup(func() {
		p.sess.Close()
		closeConn()
	})
	return p
}

// ourClient is one way our moq.Session reaches the relay.
type ourClient struct {
	name   string
	scheme string
	draft  moq.Draft
}

var ourClients = []ourClient{
	{"quic14", "moqt", moq.Draft14},
	{"wt14", "https", moq.Draft14},
	{"quic07cf", "moqt", moq.Draft07Cloudflare},
	{"wt07cf", "https", moq.Draft07Cloudflare},
	{"quic16", "moqt", moq.Draft16},
	{"wt16", "https", moq.Draft16},
}

// dialOurs connects our session to the relay, pinning its certificate.
func dialOurs(t *testing.T, r *relay.Relay, c ourClient) *moq.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := moq.Dial(ctx, fmt.Sprintf("%s://%s/relay", c.scheme, r.Addr()), &moq.Options{
		Drafts: []moq.Draft{c.draft},
		TLS:    moq.TLSConfig{PinSHA256: [][32]byte{r.Fingerprint()}},
	})
	if err != nil {
		t.Fatalf("our dial %s to the relay: %v", c.name, err)
	}
	t.Cleanup(func() {
		s.Close()
		s.Wait()
	})
	if s.Draft() != c.draft {
		t.Fatalf("our session negotiated %v, want %v", s.Draft(), c.draft)
	}
	return s
}

// relayGroups and relayPerGroup size the objects sent through the relay:
// well under Eyevinn's 100-object receive buffer.
const relayGroups, relayPerGroup = 3, 4

// eyevinnPublish writes relayGroups groups of relayPerGroup objects on the
// Eyevinn subscription es, one subgroup stream (subgroup 0) per group;
// object 1 of each group carries one extension header (type 2, value 7).
func eyevinnPublish(t *testing.T, es eySub) {
	t.Helper()
	for g := uint64(0); g < relayGroups; g++ {
		sg, err := es.w.OpenSubgroup(g, 0, 50)
		if err != nil {
			t.Fatalf("Eyevinn OpenSubgroup %d: %v", g, err)
		}
		for o := uint64(0); o < relayPerGroup; o++ {
			if o == 1 {
				_, err = sg.WriteObjectWithHeaders(o, moqtransport.KVPList{{Type: 2, ValueVarInt: 7}}, payload(g, o))
			} else {
				_, err = sg.WriteObject(o, payload(g, o))
			}
			if err != nil {
				t.Fatalf("Eyevinn WriteObject %d/%d: %v", g, o, err)
			}
		}
		if err := sg.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// checkEyevinnReceived reads every object from an Eyevinn RemoteTrack (in
// order within each subgroup stream, each once) and checks IDs, payloads
// and, with ext, the extension header on object 1 of each group.
func checkEyevinnReceived(t *testing.T, ctx context.Context, rt *moqtransport.RemoteTrack, ext bool) {
	t.Helper()
	got := readEyevinn(t, ctx, rt, relayGroups*relayPerGroup)
	for g := uint64(0); g < relayGroups; g++ {
		for o := uint64(0); o < relayPerGroup; o++ {
			obj := got[eyObjKey{g, o}]
			if obj == nil {
				t.Fatalf("Eyevinn subscriber lacks object %d/%d; got %d objects", g, o, len(got))
			}
			if !bytes.Equal(obj.Payload, payload(g, o)) {
				t.Fatalf("Eyevinn object %d/%d payload %q, want %q", g, o, obj.Payload, payload(g, o))
			}
			if !ext {
				continue
			}
			hasExt := len(obj.ExtensionHeaders) == 1 && obj.ExtensionHeaders[0].Type == 2 && obj.ExtensionHeaders[0].ValueVarInt == 7
			if o == 1 && !hasExt {
				t.Errorf("Eyevinn object %d/%d extension headers %+v, want [{Type 2 Value 7}]", g, o, obj.ExtensionHeaders)
			}
			if o != 1 && len(obj.ExtensionHeaders) != 0 {
				t.Errorf("Eyevinn object %d/%d extension headers %+v, want none", g, o, obj.ExtensionHeaders)
			}
		}
	}
}

// expectEyevinnDone waits for the end of an Eyevinn subscription (the
// relay's PUBLISH_DONE) and checks its status is TRACK_ENDED.
func expectEyevinnDone(t *testing.T, ctx context.Context, rt *moqtransport.RemoteTrack) {
	t.Helper()
	o, err := rt.ReadObject(ctx)
	var done *moqtransport.ErrSubscribeDone
	if !errors.As(err, &done) {
		t.Fatalf("after the publisher ended the track: Eyevinn ReadObject = %+v, %v (%T); want ErrSubscribeDone", o, err, err)
	}
	if done.Status != uint64(moqtransport.ErrorCodeSubscribeDoneTrackEnded) {
		t.Errorf("relay's PUBLISH_DONE status %#x (%q), want TRACK_ENDED (0x2)", done.Status, done.Reason)
	}
}

// TestRelayEyevinnToEyevinn: an Eyevinn publisher announces a namespace to
// our relay; an Eyevinn subscriber's SUBSCRIBE makes the relay subscribe
// upstream, and after the subscriber's SUBSCRIBE_OK the publisher writes
// its objects, which reach the subscriber with IDs, payloads and extension
// headers intact; the publisher's PUBLISH_DONE then ends the subscriber's
// subscription. Every combination of QUIC and WebTransport.
func TestRelayEyevinnToEyevinn(t *testing.T) {
	for _, pt := range transports {
		for _, st := range transports {
			t.Run("pub-"+pt.name+"/sub-"+st.name, func(t *testing.T) {
				r := startOurRelay(t)
				ctx := ctxT(t)
				ns := []string{"relay", "live"}
				pub := dialEyevinnToRelay(t, r, pt, newEyPeer(100, trackKey(ns, "video")))
				if err := pub.sess.Announce(ctx, ns); err != nil {
					t.Fatalf("Eyevinn publisher's Announce to the relay: %v", err)
				}
				sub := dialEyevinnToRelay(t, r, st, newEyPeer(100))
				rt, err := sub.sess.Subscribe(ctx, ns, "video")
				if err != nil {
					t.Fatalf("Eyevinn subscriber's Subscribe through the relay: %v", err)
				}
				es := recv(t, ctx, pub.subs, "the relay's upstream SUBSCRIBE at the Eyevinn publisher")
				if !sameTuple(es.msg.Namespace, ns) || es.msg.Track != "video" {
					t.Fatalf("upstream SUBSCRIBE for %v/%q", es.msg.Namespace, es.msg.Track)
				}
				eyevinnPublish(t, es)
				checkEyevinnReceived(t, ctx, rt, true)
				if err := es.w.CloseWithError(uint64(moqtransport.ErrorCodeSubscribeDoneTrackEnded), "track over"); err != nil {
					t.Fatal(err)
				}
				expectEyevinnDone(t, ctx, rt)
			})
		}
	}
}

// TestRelayEyevinnToOurs: an Eyevinn (draft-14) publisher through the relay
// to our subscriber, on draft-14 and on draft-07 (Cloudflare layout): the
// relay converts the objects across drafts. Objects arrive in (group,
// object) order with IDs and payloads intact (and, on draft-14, the
// extension block); the publisher's PUBLISH_DONE ends our subscription.
func TestRelayEyevinnToOurs(t *testing.T) {
	for _, pt := range transports {
		for _, oc := range ourClients {
			t.Run("pub-eyevinn-"+pt.name+"/sub-ours-"+oc.name, func(t *testing.T) {
				r := startOurRelay(t)
				ctx := ctxT(t)
				ns := []string{"relay", "cross"}
				pub := dialEyevinnToRelay(t, r, pt, newEyPeer(100, trackKey(ns, "video")))
				if err := pub.sess.Announce(ctx, ns); err != nil {
					t.Fatalf("Eyevinn publisher's Announce to the relay: %v", err)
				}
				s := dialOurs(t, r, oc)
				filter := moq.Filter{Type: moq.FilterLargestObject}
				if oc.draft.Is07() {
					filter = moq.Filter{Type: moq.FilterLatestGroup}
				}
				sub, err := s.Subscribe(ctx, ns, "video", moq.SubscribeOptions{Filter: filter})
				if err != nil {
					t.Fatalf("our Subscribe through the relay: %v", err)
				}
				es := recv(t, ctx, pub.subs, "the relay's upstream SUBSCRIBE at the Eyevinn publisher")
				eyevinnPublish(t, es)
				for g := uint64(0); g < relayGroups; g++ {
					for o := uint64(0); o < relayPerGroup; o++ {
						obj, err := sub.ReadObject(ctx)
						if err != nil {
							t.Fatalf("our ReadObject (want %d/%d): %v", g, o, err)
						}
						if obj.Group != g || obj.ID != o || !bytes.Equal(obj.Payload, payload(g, o)) {
							t.Fatalf("got object %d/%d %q, want %d/%d %q", obj.Group, obj.ID, obj.Payload, g, o, payload(g, o))
						}
						if obj.Priority != 50 {
							t.Errorf("object %d/%d publisher priority %d, want 50", g, o, obj.Priority)
						}
						wantExt := []byte(nil)
						if o == 1 && !oc.draft.Is07() {
							wantExt = extBlock
						}
						if !bytes.Equal(obj.Extensions, wantExt) {
							t.Errorf("object %d/%d extensions %x, want %x", g, o, obj.Extensions, wantExt)
						}
					}
				}
				if err := es.w.CloseWithError(uint64(moqtransport.ErrorCodeSubscribeDoneTrackEnded), "track over"); err != nil {
					t.Fatal(err)
				}
				if obj, err := sub.ReadObject(ctx); !errors.Is(err, moq.ErrEnded) {
					t.Fatalf("after the Eyevinn publisher's PUBLISH_DONE: ReadObject = %+v, %v; want ErrEnded", obj, err)
				}
				if st := sub.Stats(); st.Objects != relayGroups*relayPerGroup || st.Dropped != 0 {
					t.Errorf("subscription stats %+v", st)
				}
			})
		}
	}
}

// TestRelayOursToEyevinn: our publisher (draft-14 or draft-07 Cloudflare
// layout) announces through the relay; an Eyevinn subscriber receives what
// it writes after SUBSCRIBE_OK; closing our track ends the Eyevinn
// subscription with TRACK_ENDED.
func TestRelayOursToEyevinn(t *testing.T) {
	for _, oc := range ourClients {
		for _, st := range transports {
			t.Run("pub-ours-"+oc.name+"/sub-eyevinn-"+st.name, func(t *testing.T) {
				r := startOurRelay(t)
				ctx := ctxT(t)
				ns := moq.Namespace{"relay", "ours"}
				s := dialOurs(t, r, oc)
				track, err := s.Publish(ns, "clock", moq.TrackOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Announce(ctx, ns); err != nil {
					t.Fatalf("our Announce to the relay: %v", err)
				}
				sub := dialEyevinnToRelay(t, r, st, newEyPeer(100))
				rt, err := sub.sess.Subscribe(ctx, ns, "clock")
				if err != nil {
					t.Fatalf("Eyevinn Subscribe through the relay: %v", err)
				}
				if track.Subscribers() != 1 {
					t.Fatalf("our track has %d subscribers after SUBSCRIBE_OK, want 1 (the relay)", track.Subscribers())
				}
				ext := !oc.draft.Is07() // draft-07 has no extension headers
				for g := uint64(0); g < relayGroups; g++ {
					gw, err := track.OpenGroup(nil)
					if err != nil {
						t.Fatal(err)
					}
					if gw.Group() != g {
						t.Fatalf("our group ID %d, want %d", gw.Group(), g)
					}
					for o := uint64(0); o < relayPerGroup; o++ {
						var e []byte
						if o == 1 && ext {
							e = extBlock
						}
						if _, err := gw.WriteObject(payload(g, o), e); err != nil {
							t.Fatal(err)
						}
					}
					if err := gw.Close(); err != nil {
						t.Fatal(err)
					}
				}
				checkEyevinnReceived(t, ctx, rt, ext)
				track.Close()
				expectEyevinnDone(t, ctx, rt)
			})
		}
	}
}

// expectNotExist checks an Eyevinn Subscribe error is SUBSCRIBE_ERROR
// TRACK_DOES_NOT_EXIST (0x4) with a reason saying so.
func expectNotExist(t *testing.T, d moq.Draft, err error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: Eyevinn Subscribe succeeded, want SUBSCRIBE_ERROR", what)
	}
	t.Logf("%s: %v", what, err)
	if c := eyCode(t, err); c != notExistCode(d) {
		t.Errorf("%s: SUBSCRIBE_ERROR code %#x (%v), want %#x (does not exist)", what, c, err, notExistCode(d))
	}
	if !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("%s: SUBSCRIBE_ERROR reason %q does not say \"does not exist\"", what, err)
	}
}

// TestRelayEyevinnUnknownTrack: an Eyevinn subscriber asking the relay for
// a track gets SUBSCRIBE_ERROR TRACK_DOES_NOT_EXIST (0x4) when no publisher
// announced its namespace, when the Eyevinn publisher refuses it with 0x4,
// and when our draft-07 publisher refuses it with draft-07's code (0x3,
// which the relay converts); the session then still subscribes to a known
// track.
func TestRelayEyevinnUnknownTrack(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			r := startOurRelay(t)
			ctx := ctxT(t)
			eyNS := []string{"relay", "eyevinn"}
			pub := dialEyevinnToRelay(t, r, tr, newEyPeer(100, trackKey(eyNS, "known")))
			if err := pub.sess.Announce(ctx, eyNS); err != nil {
				t.Fatalf("Eyevinn publisher's Announce: %v", err)
			}
			ourNS := moq.Namespace{"relay", "ours07"}
			ours := dialOurs(t, r, ourClients[2])
			if _, err := ours.Publish(ourNS, "known", moq.TrackOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := ours.Announce(ctx, ourNS); err != nil {
				t.Fatalf("our draft-07 Announce: %v", err)
			}
			sub := dialEyevinnToRelay(t, r, tr, newEyPeer(100))

			_, err := sub.sess.Subscribe(ctx, []string{"relay", "nobody"}, "here")
			expectNotExist(t, tr.draft, err, "namespace nobody announced")
			_, err = sub.sess.Subscribe(ctx, eyNS, "unknown")
			expectNotExist(t, tr.draft, err, "track the Eyevinn publisher refuses")
			_, err = sub.sess.Subscribe(ctx, ourNS, "unknown")
			expectNotExist(t, tr.draft, err, "track our draft-07 publisher refuses")

			rt, err := sub.sess.Subscribe(ctx, eyNS, "known")
			if err != nil {
				t.Fatalf("Eyevinn Subscribe to a known track after the refusals: %v", err)
			}
			recv(t, ctx, pub.subs, "the relay's upstream SUBSCRIBE for the known track")
			rt2, err := sub.sess.Subscribe(ctx, ourNS, "known")
			if err != nil {
				t.Fatalf("Eyevinn Subscribe to our known draft-07 track: %v", err)
			}
			rt.Close()
			rt2.Close()
		})
	}
}

// TestRelayEyevinnSubscribeNamespace: an Eyevinn client's
// SUBSCRIBE_NAMESPACE to the relay is accepted; a namespace announced
// earlier by another Eyevinn client and one announced later both reach it
// as PUBLISH_NAMESPACE, and the later one's withdrawal as
// PUBLISH_NAMESPACE_DONE; the subscriber then subscribes to the discovered
// track through the relay and receives its objects.
func TestRelayEyevinnSubscribeNamespace(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			skipOn16(t, tr.draft, eyevinnNS16)
			r := startOurRelay(t)
			ctx := ctxT(t)
			prefix := []string{"relay", "cams"}
			early := []string{"relay", "cams", "early"}
			late := []string{"relay", "cams", "late"}
			other := []string{"relay", "other"}

			pubEarly := dialEyevinnToRelay(t, r, tr, newEyPeer(100))
			if err := pubEarly.sess.Announce(ctx, early); err != nil {
				t.Fatalf("early Announce: %v", err)
			}
			watcher := dialEyevinnToRelay(t, r, tr, newEyPeer(100))
			if err := watcher.sess.SubscribeAnnouncements(ctx, prefix); err != nil {
				t.Fatalf("Eyevinn SubscribeAnnouncements to the relay: %v", err)
			}
			if got := recv(t, ctx, watcher.announces, "the forwarded earlier announce"); !sameTuple(got, early) {
				t.Fatalf("watcher saw %v, want %v", got, early)
			}

			// The later publisher uses the other transport and the other
			// draft: discovery crosses both.
			lateTr := eyTransport{wt: !tr.wt, draft: moq.Draft16}
			if tr.draft == moq.Draft16 {
				lateTr.draft = moq.Draft14
			}
			pubLate := dialEyevinnToRelay(t, r, lateTr, newEyPeer(100, trackKey(late, "feed")))
			// A namespace outside the prefix is not forwarded: announce it
			// first, so that the next announce seen must be the later one.
			if err := pubLate.sess.Announce(ctx, other); err != nil {
				t.Fatalf("Announce outside the prefix: %v", err)
			}
			if err := pubLate.sess.Announce(ctx, late); err != nil {
				t.Fatalf("later Announce: %v", err)
			}
			if got := recv(t, ctx, watcher.announces, "the forwarded later announce"); !sameTuple(got, late) {
				t.Fatalf("watcher saw %v, want %v (a namespace outside the prefix leaked?)", got, late)
			}

			// Discovery, then subscription through the relay.
			rt, err := watcher.sess.Subscribe(ctx, late, "feed")
			if err != nil {
				t.Fatalf("watcher's Subscribe to the discovered track: %v", err)
			}
			es := recv(t, ctx, pubLate.subs, "the relay's upstream SUBSCRIBE")
			eyevinnPublish(t, es)
			checkEyevinnReceived(t, ctx, rt, true)
			rt.Close()

			if err := pubLate.sess.Unannounce(ctx, late); err != nil {
				t.Fatalf("Unannounce: %v", err)
			}
			if got := recv(t, ctx, watcher.unannounces, "the forwarded PUBLISH_NAMESPACE_DONE"); !sameTuple(got, late) {
				t.Fatalf("watcher saw withdrawal of %v, want %v", got, late)
			}
			select {
			case got := <-watcher.announces:
				t.Fatalf("watcher saw an unexpected announce of %v", got)
			default:
			}
			if err := watcher.sess.UnsubscribeAnnouncements(ctx, prefix); err != nil {
				t.Fatalf("UnsubscribeAnnouncements: %v", err)
			}
		})
	}
}
