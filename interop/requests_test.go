package interop

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/Eyevinn/moqtransport"
	"github.com/moq-ffi/moq-ffi-go/moq"
)

// TestSubscribeUnknownTrack: each side refuses a SUBSCRIBE for a track it
// does not have with SUBSCRIBE_ERROR TRACK_DOES_NOT_EXIST (0x4), and the
// session carries on.
func TestSubscribeUnknownTrack(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ns := []string{"interop", "known"}
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 100, tracks: []string{trackKey(ns, "a")}})
			ctx := ctxT(t)
			// Eyevinn -> our server.
			_, err := e.ey.sess.Subscribe(ctx, []string{"interop", "nothing"}, "here")
			if err == nil {
				t.Fatal("Eyevinn subscribed to a track our server does not publish")
			}
			if c := eyCode(t, err); c != notExistCode(tr.draft) {
				t.Errorf("our SUBSCRIBE_ERROR code %#x, want %#x", c, notExistCode(tr.draft))
			}
			// Our server -> Eyevinn.
			_, err = e.srv.Subscribe(ctx, ns, "b", moq.SubscribeOptions{})
			var re *moq.RequestError
			if !errors.As(err, &re) || re.Code != uint64(moqtransport.ErrorCodeSubscribeTrackDoesNotExist) {
				t.Fatalf("our Subscribe to an unknown Eyevinn track: %v, want RequestError code 0x4", err)
			}
			// Both sessions still work.
			if _, err := e.srv.Subscribe(ctx, ns, "a", moq.SubscribeOptions{}); err != nil {
				t.Fatalf("our Subscribe after the refusal: %v", err)
			}
			if _, err := e.ey.sess.Subscribe(ctx, []string{"interop", "nothing"}, "here"); eyCode(t, err) != notExistCode(tr.draft) {
				t.Fatalf("Eyevinn's second subscribe: %v", err)
			}
		})
	}
}

// TestMaxRequestID exercises request-ID flow control in both directions
// with small windows: each side must raise the other's maximum with
// MAX_REQUEST_ID as requests arrive, so a run of sequential requests never
// blocks.
func TestMaxRequestID(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ns := []string{"interop", "credit"}
			// Our server grants 2 requests (IDs 0 and 2); Eyevinn grants ours
			// up to ID 2 (only ID 1), doubling its maximum as IDs reach half of it.
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 2, opts: &moq.Options{MaxRequestID: 2}})
			ctx := ctxT(t)
			// Eyevinn does not wait for credit: Subscribe fails at once with
			// "request IDs blocked" if our MAX_REQUEST_ID has not arrived.
			for i := 0; i < 8; i++ {
				_, err := e.ey.sess.Subscribe(ctx, ns, fmt.Sprint("eyevinn-", i))
				var pe moqtransport.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("Eyevinn request %d: %v, want a SUBSCRIBE_ERROR", i, err)
				}
			}
			for i := 0; i < 8; i++ {
				_, err := e.srv.Subscribe(ctx, ns, fmt.Sprint("ours-", i), moq.SubscribeOptions{})
				var re *moq.RequestError
				if !errors.As(err, &re) {
					t.Fatalf("our request %d: %v, want a SUBSCRIBE_ERROR", i, err)
				}
			}
		})
	}
}

// TestEyevinnFetchesFromUs: Eyevinn sends a standalone FETCH for retained
// groups of our track and reads the fetch stream; a FETCH for an unknown
// track gets FETCH_ERROR.
func TestEyevinnFetchesFromUs(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			skipOn16(t, tr.draft, eyevinnFetch16)
			ns := []string{"interop", "vod"}
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 100})
			ctx := ctxT(t)
			track, err := e.srv.Publish(ns, "movie", moq.TrackOptions{RetainGroups: 8})
			if err != nil {
				t.Fatal(err)
			}
			want := map[eyObjKey][]byte{}
			for g := 0; g < 3; g++ {
				gw, err := track.OpenGroup(nil)
				if err != nil {
					t.Fatal(err)
				}
				for o := 0; o < 2; o++ {
					p := payload(gw.Group(), uint64(o))
					id, err := gw.WriteObject(p, nil)
					if err != nil {
						t.Fatal(err)
					}
					want[eyObjKey{gw.Group(), id}] = p
				}
				gw.Close()
			}
			// Groups 0 to 2, whole end group (end object 0).
			rt, err := e.ey.sess.Fetch(ctx, ns, "movie",
				moqtransport.WithFetchStartLocation(moqtransport.Location{Group: 0, Object: 0}),
				moqtransport.WithFetchEndLocation(moqtransport.Location{Group: 2, Object: 0}))
			if err != nil {
				t.Fatalf("Eyevinn Fetch: %v", err)
			}
			var order []eyObjKey
			for range want {
				o, err := rt.ReadObject(ctx)
				if err != nil {
					t.Fatalf("Eyevinn fetch ReadObject after %d objects: %v", len(order), err)
				}
				k := eyObjKey{o.GroupID, o.ObjectID}
				if !bytes.Equal(o.Payload, want[k]) {
					t.Fatalf("fetched %d/%d %q, want %q", k.g, k.o, o.Payload, want[k])
				}
				order = append(order, k)
			}
			for i := 1; i < len(order); i++ {
				if a, b := order[i-1], order[i]; b.g < a.g || (b.g == a.g && b.o <= a.o) {
					t.Fatalf("fetch order %v is not ascending", order)
				}
			}
			_, err = e.ey.sess.Fetch(ctx, ns, "no-such-movie",
				moqtransport.WithFetchStartLocation(moqtransport.Location{}),
				moqtransport.WithFetchEndLocation(moqtransport.Location{Group: 1}))
			if c := eyCode(t, err); c != uint64(moqtransport.ErrorCodeFetchTrackDoesNotExist) {
				t.Errorf("our FETCH_ERROR code %#x, want 0x4", c)
			}
		})
	}
}

// TestWeFetchFromEyevinn: our session sends a standalone FETCH to Eyevinn,
// which answers FETCH_OK and writes the objects on a fetch stream.
func TestWeFetchFromEyevinn(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			skipOn16(t, tr.draft, eyevinnFetch16)
			ns := []string{"interop", "archive"}
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 100, tracks: []string{trackKey(ns, "day1")}})
			ctx := ctxT(t)
			fs, err := e.srv.Fetch(ctx, ns, "day1", moq.Location{Group: 0, Object: 0}, moq.Location{Group: 1, Object: ^uint64(0)}, moq.FetchOptions{})
			if err != nil {
				t.Fatalf("our Fetch: %v", err)
			}
			ef := recv(t, ctx, e.ey.fetches, "Eyevinn's FETCH")
			if ef.msg.StartLocation != (moqtransport.Location{}) || ef.msg.EndLocation != (moqtransport.Location{Group: 1, Object: 0}) {
				t.Errorf("Eyevinn decoded range %v to %v, want {0 0} to {1 0}", ef.msg.StartLocation, ef.msg.EndLocation)
			}
			st, err := ef.w.FetchStream()
			if err != nil {
				t.Fatal(err)
			}
			type obj struct{ g, o uint64 }
			objs := []obj{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}}
			for _, o := range objs {
				if _, err := st.WriteObject(o.g, 0, o.o, 7, payload(o.g, o.o)); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			for _, w := range objs {
				o, err := fs.ReadObject(ctx)
				if err != nil {
					t.Fatalf("our fetch ReadObject (want %d/%d): %v", w.g, w.o, err)
				}
				if o.Group != w.g || o.ID != w.o || !bytes.Equal(o.Payload, payload(w.g, w.o)) || o.Priority != 7 {
					t.Fatalf("fetched %d/%d prio %d %q, want %d/%d prio 7 %q", o.Group, o.ID, o.Priority, o.Payload, w.g, w.o, payload(w.g, w.o))
				}
			}
			if o, err := fs.ReadObject(ctx); !errors.Is(err, moq.ErrEnded) {
				t.Fatalf("after the fetch stream ended: %v, %v; want ErrEnded", o, err)
			}
			// Unknown track: Eyevinn refuses with FETCH_ERROR 0x4.
			_, err = e.srv.Fetch(ctx, ns, "day2", moq.Location{}, moq.Location{Group: 1}, moq.FetchOptions{})
			var re *moq.RequestError
			if !errors.As(err, &re) || re.Code != uint64(moqtransport.ErrorCodeFetchTrackDoesNotExist) {
				t.Fatalf("our Fetch of an unknown track: %v, want RequestError code 0x4", err)
			}
		})
	}
}

// TestWeSubscribeNamespace: our SUBSCRIBE_NAMESPACE to Eyevinn is accepted
// (Eyevinn's SUBSCRIBE_NAMESPACE_OK has no parameter count); Eyevinn's later
// PUBLISH_NAMESPACE and PUBLISH_NAMESPACE_DONE under the prefix reach our
// NamespaceSubscription; closing it sends UNSUBSCRIBE_NAMESPACE.
func TestWeSubscribeNamespace(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			skipOn16(t, tr.draft, eyevinnNS16)
			prefix := []string{"interop"}
			ns := []string{"interop", "cam1"}
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 100})
			ctx := ctxT(t)
			nsSub, err := e.srv.SubscribeNamespace(ctx, prefix)
			if err != nil {
				t.Fatalf("our SubscribeNamespace: %v", err)
			}
			if got := recv(t, ctx, e.ey.nsSubs, "Eyevinn's SUBSCRIBE_NAMESPACE"); !sameTuple(got, prefix) {
				t.Fatalf("Eyevinn saw prefix %v", got)
			}
			if err := e.ey.sess.Announce(ctx, ns); err != nil {
				t.Fatalf("Eyevinn Announce: %v", err)
			}
			ev, err := nsSub.Next(ctx)
			if err != nil || !ev.Active || !sameTuple(ev.Namespace, ns) {
				t.Fatalf("namespace event %+v, %v; want %v active", ev, err, ns)
			}
			if err := e.ey.sess.Unannounce(ctx, ns); err != nil {
				t.Fatal(err)
			}
			ev, err = nsSub.Next(ctx)
			if err != nil || ev.Active || !sameTuple(ev.Namespace, ns) {
				t.Fatalf("namespace event %+v, %v; want %v withdrawn", ev, err, ns)
			}
			if err := nsSub.Close(); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, ctx, e.ey.nsUnsubs, "Eyevinn's UNSUBSCRIBE_NAMESPACE"); !sameTuple(got, prefix) {
				t.Fatalf("Eyevinn saw unsubscribe of %v", got)
			}
		})
	}
}

// nsHandler is a moq.Handler that accepts announces and namespace
// subscriptions (reporting the latter on a channel) and serves no tracks.
type nsHandler struct{ nsSubs chan moq.Namespace }

func (h *nsHandler) Subscribe(*moq.Session, *moq.SubscribeRequest) (*moq.Track, error) {
	return nil, &moq.RequestError{Op: "SUBSCRIBE", Code: 0x4, Reason: "no tracks here"}
}
func (h *nsHandler) Fetch(*moq.Session, *moq.FetchRequest) (*moq.Track, error) {
	return nil, &moq.RequestError{Op: "FETCH", Code: 0x4, Reason: "no tracks here"}
}
func (h *nsHandler) TrackStatus(*moq.Session, moq.Namespace, string) (*moq.Track, error) {
	return nil, &moq.RequestError{Op: "TRACK_STATUS", Code: 0x4, Reason: "no tracks here"}
}
func (h *nsHandler) Announce(*moq.Session, moq.Namespace) error { return nil }
func (h *nsHandler) Unannounce(*moq.Session, moq.Namespace)     {}
func (h *nsHandler) SubscribeNamespace(_ *moq.Session, p moq.Namespace) error {
	h.nsSubs <- p
	return nil
}
func (h *nsHandler) UnsubscribeNamespace(*moq.Session, moq.Namespace) {}
func (h *nsHandler) SessionClosed(*moq.Session, error)                {}

// TestEyevinnSubscribesNamespace: Eyevinn's SUBSCRIBE_NAMESPACE to our
// server is refused with NOT_SUPPORTED (0x3) by default; with a handler
// that accepts it, our SUBSCRIBE_NAMESPACE_OK (which carries a parameter
// count after the request ID) is accepted by Eyevinn, and our
// PUBLISH_NAMESPACE then reaches it.
func TestEyevinnSubscribesNamespace(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name+"/refused", func(t *testing.T) {
			skipOn16(t, tr.draft, eyevinnNS16)
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 100})
			ctx := ctxT(t)
			err := e.ey.sess.SubscribeAnnouncements(ctx, []string{"interop"})
			if c := eyCode(t, err); c != uint64(moqtransport.ErrorCodeSubscribeAnnouncesNotSupported) {
				t.Fatalf("our SUBSCRIBE_NAMESPACE_ERROR code %#x, want 0x3", c)
			}
		})
		t.Run(tr.name+"/accepted", func(t *testing.T) {
			skipOn16(t, tr.draft, eyevinnNS16)
			h := &nsHandler{nsSubs: make(chan moq.Namespace, 4)}
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 100, opts: &moq.Options{Handler: h}})
			ctx := ctxT(t)
			if err := e.ey.sess.SubscribeAnnouncements(ctx, []string{"interop"}); err != nil {
				t.Fatalf("Eyevinn SubscribeAnnouncements: %v", err)
			}
			if got := recv(t, ctx, h.nsSubs, "our handler's SubscribeNamespace"); !sameTuple(got, []string{"interop"}) {
				t.Fatalf("our handler saw prefix %v", got)
			}
			ns := []string{"interop", "cam2"}
			if err := e.srv.Announce(ctx, ns); err != nil {
				t.Fatalf("our Announce: %v", err)
			}
			if got := recv(t, ctx, e.ey.announces, "Eyevinn's PUBLISH_NAMESPACE"); !sameTuple(got, ns) {
				t.Fatalf("Eyevinn saw %v", got)
			}
		})
	}
}
