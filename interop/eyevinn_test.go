package interop

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/Eyevinn/moqtransport"
	"github.com/moq-ffi/moq-ffi-go/moq"
)

// extBlock is the draft-14 extension headers block of one even-typed
// extension (type 2, varint value 7): what Eyevinn writes for
// KVPList{{Type: 2, ValueVarInt: 7}} and what our Object.Extensions holds.
var extBlock = []byte{0x02, 0x07}

// TestEyevinnPublisherOurSubscriber: an Eyevinn client announces a namespace
// to our server, whose session subscribes to a track and receives objects
// Eyevinn writes on subgroup streams (types 0x15/0x1D: explicit subgroup ID,
// extensions), in order, with IDs, payloads and extensions intact; then
// Eyevinn's PUBLISH_DONE ends the subscription.
func TestEyevinnPublisherOurSubscriber(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ns := []string{"interop", "live"}
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 100, tracks: []string{trackKey(ns, "video")}})
			ctx := ctxT(t)
			// Our PUBLISH_NAMESPACE_OK carries a parameter count after the
			// request ID; Eyevinn's Announce returns nil only if it parsed it.
			if err := e.ey.sess.Announce(ctx, ns); err != nil {
				t.Fatalf("Eyevinn Announce: %v", err)
			}
			found := false
			for _, n := range e.srv.PeerNamespaces() {
				found = found || sameTuple(n, ns)
			}
			if !found {
				t.Fatalf("our session's peer namespaces %v lack %v", e.srv.PeerNamespaces(), ns)
			}
			sub, err := e.srv.Subscribe(ctx, ns, "video", moq.SubscribeOptions{Filter: moq.Filter{Type: moq.FilterAbsoluteStart}})
			if err != nil {
				t.Fatalf("our Subscribe: %v", err)
			}
			es := recv(t, ctx, e.ey.subs, "Eyevinn's SUBSCRIBE")
			if es.msg.RequestID != 1 {
				t.Errorf("Eyevinn saw request ID %d, want 1 (the server's first)", es.msg.RequestID)
			}
			if es.msg.FilterType != moqtransport.FilterTypeAbsoluteStart || es.msg.Forward != 1 {
				t.Errorf("Eyevinn saw filter %d forward %d", es.msg.FilterType, es.msg.Forward)
			}
			const groups, perGroup = 3, 4
			for g := uint64(0); g < groups; g++ {
				var opts []moqtransport.SubgroupOption
				if g == groups-1 {
					opts = append(opts, moqtransport.WithEndOfGroup())
				}
				sg, err := es.w.OpenSubgroup(g, g%2, 100, opts...)
				if err != nil {
					t.Fatalf("Eyevinn OpenSubgroup: %v", err)
				}
				for o := uint64(0); o < perGroup; o++ {
					if o == 1 {
						_, err = sg.WriteObjectWithHeaders(o, moqtransport.KVPList{{Type: 2, ValueVarInt: 7}}, payload(g, o))
					} else {
						_, err = sg.WriteObject(o, payload(g, o))
					}
					if err != nil {
						t.Fatalf("Eyevinn WriteObject: %v", err)
					}
				}
				if err := sg.Close(); err != nil {
					t.Fatal(err)
				}
			}
			for g := uint64(0); g < groups; g++ {
				for o := uint64(0); o < perGroup; o++ {
					obj, err := sub.ReadObject(ctx)
					if err != nil {
						t.Fatalf("ReadObject (want %d/%d): %v", g, o, err)
					}
					if obj.Group != g || obj.ID != o || obj.Subgroup != g%2 || !bytes.Equal(obj.Payload, payload(g, o)) {
						t.Fatalf("got object %d/%d/%d %q, want %d/%d/%d %q", obj.Group, obj.Subgroup, obj.ID, obj.Payload, g, g%2, o, payload(g, o))
					}
					if obj.Priority != 100 {
						t.Errorf("object %d/%d priority %d, want 100", g, o, obj.Priority)
					}
					if o == 1 && !bytes.Equal(obj.Extensions, extBlock) {
						t.Errorf("object %d/%d extensions %x, want %x", g, o, obj.Extensions, extBlock)
					}
					if o != 1 && len(obj.Extensions) != 0 {
						t.Errorf("object %d/%d extensions %x, want none", g, o, obj.Extensions)
					}
				}
			}
			if err := es.w.CloseWithError(uint64(moqtransport.ErrorCodeSubscribeDoneTrackEnded), "track over"); err != nil {
				t.Fatal(err)
			}
			if obj, err := sub.ReadObject(ctx); !errors.Is(err, moq.ErrEnded) {
				t.Fatalf("after PUBLISH_DONE: ReadObject = %v, %v; want ErrEnded", obj, err)
			}
			if st := sub.Stats(); st.Objects != groups*perGroup || st.Dropped != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// eyObjKey identifies an object Eyevinn received.
type eyObjKey struct{ g, o uint64 }

// readEyevinn reads n objects from an Eyevinn RemoteTrack. Eyevinn reads
// each data stream on its own goroutine, so objects of different streams
// may interleave; within one (group, subgroup) the order must hold.
func readEyevinn(t *testing.T, ctx context.Context, rt *moqtransport.RemoteTrack, n int) map[eyObjKey]*moqtransport.Object {
	t.Helper()
	got := map[eyObjKey]*moqtransport.Object{}
	last := map[[2]uint64]uint64{}
	for len(got) < n {
		o, err := rt.ReadObject(ctx)
		if err != nil {
			t.Fatalf("Eyevinn ReadObject after %d of %d objects: %v", len(got), n, err)
		}
		k := eyObjKey{o.GroupID, o.ObjectID}
		if _, dup := got[k]; dup {
			t.Fatalf("Eyevinn got object %d/%d twice", o.GroupID, o.ObjectID)
		}
		sk := [2]uint64{o.GroupID, o.SubGroupID}
		if prev, ok := last[sk]; ok && o.ObjectID <= prev {
			t.Fatalf("Eyevinn got object %d/%d after %d on one stream", o.GroupID, o.ObjectID, prev)
		}
		last[sk] = o.ObjectID
		got[k] = o
	}
	return got
}

// TestOurPublisherEyevinnSubscriber: our server announces a namespace and
// publishes a track; the Eyevinn client subscribes (filter Largest Object)
// and receives every object written afterwards; closing the track sends
// PUBLISH_DONE, which Eyevinn reports as subscribe done, status TRACK_ENDED.
func TestOurPublisherEyevinnSubscriber(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ns := []string{"interop", "clock"}
			e := newEnv(t, envConfig{wt: tr.wt, draft: tr.draft, eyMaxRequestID: 100})
			ctx := ctxT(t)
			track, err := e.srv.Publish(ns, "seconds", moq.TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Eyevinn's PUBLISH_NAMESPACE_OK has no parameter count: our
			// Announce returns nil only if we parsed it.
			if err := e.srv.Announce(ctx, ns); err != nil {
				t.Fatalf("our Announce: %v", err)
			}
			if got := recv(t, ctx, e.ey.announces, "Eyevinn's PUBLISH_NAMESPACE"); !sameTuple(got, ns) {
				t.Fatalf("Eyevinn saw namespace %v, want %v", got, ns)
			}
			rt, err := e.ey.sess.Subscribe(ctx, ns, "seconds")
			if err != nil {
				t.Fatalf("Eyevinn Subscribe: %v", err)
			}
			if rt.RequestID() != 0 {
				t.Errorf("Eyevinn request ID %d, want 0", rt.RequestID())
			}
			if _, ok := rt.LargestLocation(); ok {
				t.Errorf("SUBSCRIBE_OK says content exists on an empty track")
			}
			if track.Subscribers() != 1 {
				t.Fatalf("track has %d subscribers, want 1", track.Subscribers())
			}
			// Two one-object groups, then a group of three objects whose
			// first carries an extension header.
			want := map[eyObjKey][]byte{}
			for i := 0; i < 2; i++ {
				p := []byte{byte('a' + i)}
				g, err := track.Write(p)
				if err != nil {
					t.Fatal(err)
				}
				want[eyObjKey{g, 0}] = p
			}
			gw, err := track.OpenGroup(nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				var ext []byte
				if i == 0 {
					ext = extBlock
				}
				p := payload(gw.Group(), uint64(i))
				id, err := gw.WriteObject(p, ext)
				if err != nil {
					t.Fatal(err)
				}
				want[eyObjKey{gw.Group(), id}] = p
			}
			if err := gw.Close(); err != nil {
				t.Fatal(err)
			}
			got := readEyevinn(t, ctx, rt, len(want))
			for k, p := range want {
				o := got[k]
				if o == nil || !bytes.Equal(o.Payload, p) || o.SubGroupID != 0 {
					t.Fatalf("Eyevinn object %d/%d = %+v, want payload %q subgroup 0", k.g, k.o, o, p)
				}
			}
			first := got[eyObjKey{gw.Group(), 0}]
			if len(first.ExtensionHeaders) != 1 || first.ExtensionHeaders[0].Type != 2 || first.ExtensionHeaders[0].ValueVarInt != 7 {
				t.Errorf("Eyevinn extension headers %+v, want [{Type 2 Value 7}]", first.ExtensionHeaders)
			}
			track.Close()
			_, err = rt.ReadObject(ctx)
			var done *moqtransport.ErrSubscribeDone
			if !errors.As(err, &done) {
				t.Fatalf("after our track closed: Eyevinn ReadObject error %v (%T), want ErrSubscribeDone", err, err)
			}
			if done.Status != uint64(moqtransport.ErrorCodeSubscribeDoneTrackEnded) {
				t.Errorf("PUBLISH_DONE status %#x, want TRACK_ENDED (0x2)", done.Status)
			}
		})
	}
}
