package moq

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// Draft-20 differences, seen from a raw client (rawPeer with Draft20):
// messages are written as the draft-20 codec encodes them, without the
// engine's conversions.

// req20 opens a request stream and writes m (a draft-20 message as is).
func (r *rawPeer) req20(m wire.Message) (transport.Stream, *wire.ControlReader) {
	r.t.Helper()
	st, err := r.conn.OpenStreamSync(ctxT(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	writeMsg20(r.t, st, m)
	return st, wire.NewControlReader(st, Draft20, nil)
}

func writeMsg20(t *testing.T, w transport.SendStream, m wire.Message) {
	t.Helper()
	b, err := wire.AppendMessage(nil, Draft20, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}

// readFetchStream20 accepts the next fetch stream and returns its Request
// ID and object locations.
func (r *rawPeer) readFetchStream20() (uint64, []Location) {
	r.t.Helper()
	ctx := ctxT(r.t)
	st, err := r.conn.AcceptUniStream(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	st.SetReadDeadline(time.Now().Add(10 * time.Second))
	sr := wire.NewStreamReader(st, Draft20, nil)
	var got []Location
	for {
		var o wire.Object
		err := sr.Next(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.t.Fatalf("fetch stream: %v", err)
		}
		got = append(got, Location{Group: o.Group, Object: o.ID})
	}
	if sr.Kind() != wire.StreamFetch {
		r.t.Fatalf("stream kind %v, want a fetch stream", sr.Kind())
	}
	return sr.FetchHeader().RequestID, got
}

func sameLocations(a, b []Location) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// groups0to2 publishes three groups of two objects on ns/"t".
func groups0to2(r *rawPeer, ns Namespace) *Track {
	r.t.Helper()
	tr, err := r.server.Publish(ns, "t", TrackOptions{RetainGroups: 4})
	if err != nil {
		r.t.Fatal(err)
	}
	for g := 0; g < 3; g++ {
		writeGroup(r.t, tr, 2, false)
	}
	return tr
}

// TestDraft20Fetch: a FETCH's range is its LOCATION_FILTER: none is {0,0}
// through the Largest Object, one field counts groups back from the next
// group, four fields end at an object (inclusive); FETCH_OK's End Location
// is the last object sent.
func TestDraft20Fetch(t *testing.T) {
	all := []Location{loc(0, 0), loc(0, 1), loc(1, 0), loc(1, 1), loc(2, 0), loc(2, 1)}
	cases := []fetchCase20{
		{"no filter", wire.LocationFilter{}, all},
		{"relative 2", wire.LocationFilter{Fields: 1, StartGroup: 2}, all[2:]},
		{"relative 0", wire.LocationFilter{Fields: 1}, nil},
		{"start only", wire.LocationFilter{Fields: 2, StartGroup: 1, StartObject: 1}, all[3:]},
		{"whole end group", wire.LocationFilter{Fields: 3, StartGroup: 0, StartObject: 1, EndGroup: 1}, all[1:4]},
		{"end object", wire.LocationFilter{Fields: 4, StartGroup: 1, EndGroup: 2, EndObject: 0}, all[2:5]},
	}
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			draft20Fetch(t, scheme, cases)
		})
	}
}

// fetchCase20 is a FETCH's LOCATION_FILTER and the objects it must get
// (nil: refused INVALID_RANGE).
type fetchCase20 struct {
	name string
	lf   wire.LocationFilter
	want []Location
}

func draft20Fetch(t *testing.T, scheme string, cases []fetchCase20) {
	r := newRawPeer(t, scheme, Draft20, nil)
	ns := Namespace{"f20"}
	groups0to2(r, ns)
	for i, tc := range cases {
		id := uint64(2 * i)
		st, cr := r.req20(&wire.Fetch{RequestID: id, Namespace: ns, Name: "t", Location: tc.lf})
		m, err := readOn(t, st, cr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.want == nil {
			if re, ok := m.(*wire.RequestError); !ok || re.ErrorCode != codes16.invalidRange {
				t.Fatalf("%s: %#v, want REQUEST_ERROR INVALID_RANGE", tc.name, m)
			}
			continue
		}
		ok, isOK := m.(*wire.FetchOK)
		if !isOK {
			t.Fatalf("%s: %#v, want FETCH_OK", tc.name, m)
		}
		if last := tc.want[len(tc.want)-1]; ok.End != last {
			t.Fatalf("%s: FETCH_OK End %v, want %v (inclusive)", tc.name, ok.End, last)
		}
		gotID, got := r.readFetchStream20()
		if gotID != id || !sameLocations(got, tc.want) {
			t.Fatalf("%s: fetch stream %d with %v, want %d with %v", tc.name, gotID, got, id, tc.want)
		}
		st.Close()
	}
}

// TestDraft20Fill: a SUBSCRIBE with FILL_PARAMETERS is answered with
// SUBSCRIBE_OK and a fill fetch stream keyed by the SUBSCRIBE's Request ID,
// carrying the retained objects before the subscription (up to its
// Largest Location); a REQUEST_UPDATE with FILL_PARAMETERS gets one keyed
// by the update's Request ID. A Range Filter is refused NOT_SUPPORTED and
// the session goes on.
func TestDraft20Fill(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			draft20Fill(t, scheme)
		})
	}
}

func draft20Fill(t *testing.T, scheme string) {
	r := newRawPeer(t, scheme, Draft20, nil)
	ns := Namespace{"fill20"}
	tr := groups0to2(r, ns)
	st, cr := r.req20(&wire.Subscribe{RequestID: 0, Namespace: ns, Name: "t", SubscriberPriority: 128, Forward: true,
		Location: wire.LocationFilter{Fields: 2}, Fill: &wire.FillParameters{Location: wire.LocationFilter{Fields: 1, StartGroup: 2}}})
	m, err := readOn(t, st, cr)
	if err != nil {
		t.Fatal(err)
	}
	if ok, isOK := m.(*wire.SubscribeOK); !isOK || !ok.ContentExists || ok.Largest != loc(2, 1) {
		t.Fatalf("%#v, want SUBSCRIBE_OK with Largest {2 1}", m)
	}
	id, got := r.readFetchStream20()
	if want := []Location{loc(1, 0), loc(1, 1), loc(2, 0), loc(2, 1)}; id != 0 || !sameLocations(got, want) {
		t.Fatalf("fill stream %d with %v, want 0 with %v", id, got, want)
	}
	// A REQUEST_UPDATE asking for a fill from group 2.
	writeMsg20(t, st, &wire.SubscribeUpdate{RequestID: 2, Fill: &wire.FillParameters{
		Location: wire.LocationFilter{Fields: 2, StartGroup: 2}}})
	if m, err := readOn(t, st, cr); err != nil || !isRequestOK(m) {
		t.Fatalf("%#v, %v; want REQUEST_OK", m, err)
	}
	id, got = r.readFetchStream20()
	if want := []Location{loc(2, 0), loc(2, 1)}; id != 2 || !sameLocations(got, want) {
		t.Fatalf("update's fill stream %d with %v, want 2 with %v", id, got, want)
	}
	// The subscription itself starts after the Largest Object.
	writeGroup(t, tr, 1, false)
	in, err := r.conn.AcceptUniStream(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	in.SetReadDeadline(time.Now().Add(10 * time.Second))
	sr := wire.NewStreamReader(in, Draft20, nil)
	var o wire.Object
	if err := sr.Next(&o); err != nil || sr.Kind() != wire.StreamSubgroup || o.Group != 3 {
		t.Fatalf("subscription's stream: %v, kind %v, group %d; want group 3", err, sr.Kind(), o.Group)
	}
	// Range Filters are not applied, so they are refused.
	rf, err := wire.AppendRangeFilter20(nil, wire.RangeFilter{Key: wire.Param20ObjectIDFilter, Ranges: []wire.Range{{Start: 0, End: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	st2, cr2 := r.req20(&wire.Subscribe{RequestID: 4, Namespace: ns, Name: "t", SubscriberPriority: 128, Forward: true,
		Params: wire.Params{wire.BytesParam(wire.Param20ObjectIDFilter, rf)}})
	if m, err := readOn(t, st2, cr2); err != nil {
		t.Fatal(err)
	} else if re, ok := m.(*wire.RequestError); !ok || re.ErrorCode != codes16.notSupported {
		t.Fatalf("%#v, want REQUEST_ERROR NOT_SUPPORTED", m)
	}
	if r.server.Err() != nil {
		t.Fatalf("session ended: %v", r.server.Err())
	}
}

// TestDraft20Hostile: what a draft-20 server closes the session for.
func TestDraft20Hostile(t *testing.T) {
	cases := []struct {
		name string
		code uint64
		act  func(r *rawPeer)
	}{
		{"GOAWAY with a Request ID", CodeProtocolViolation, func(r *rawPeer) {
			// 18's layout: URI, Timeout, Request ID; 20 has no Request ID.
			r.sendRaw(r.frame(0x10, []byte{0x00, 0x00, 0x00}))
		}},
		{"FILL_PARAMETERS in FETCH", CodeProtocolViolation, func(r *rawPeer) {
			st, err := r.conn.OpenStreamSync(ctxT(r.t))
			if err != nil {
				r.t.Fatal(err)
			}
			// FETCH: Request ID 0, namespace ("a"), name "t", one parameter:
			// FILL_PARAMETERS 0x23 (vi64 0x23), length 1, an empty block.
			st.Write(r.frame(0x16, []byte{0x00, 0x01, 0x01, 'a', 0x01, 't', 0x01, 0x23, 0x01, 0x00}))
		}},
		{"PUBLISH_STATE_NOTIFY opening a stream", CodeProtocolViolation, func(r *rawPeer) {
			st, err := r.conn.OpenStreamSync(ctxT(r.t))
			if err != nil {
				r.t.Fatal(err)
			}
			writeMsg20(r.t, st, &wire.PublishStateNotify{})
		}},
		{"PUBLISH_STATE_NOTIFY on the control stream", CodeProtocolViolation, func(r *rawPeer) {
			b, err := wire.AppendMessage(nil, Draft20, &wire.PublishStateNotify{})
			if err != nil {
				r.t.Fatal(err)
			}
			r.sendRaw(b)
		}},
		{"FETCH with a joining Fetch Type", CodeProtocolViolation, func(r *rawPeer) {
			st, err := r.conn.OpenStreamSync(ctxT(r.t))
			if err != nil {
				r.t.Fatal(err)
			}
			// An editor's-copy joining FETCH (Fetch Type 2, Joining Request
			// ID 0, start 0, no parameters) reads as a namespace of 2
			// fields whose bytes run out.
			st.Write(r.frame(0x16, []byte{0x00, 0x02, 0x00, 0x00, 0x00}))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRawPeer(t, "moqt", Draft20, nil)
			tc.act(r)
			r.expectClosed(tc.code)
		})
	}
}

// TestDraft20GoAway: a draft-20 GOAWAY (no Request ID) reaches the client
// with its URI, and the server then refuses new requests GOING_AWAY.
func TestDraft20GoAway(t *testing.T) {
	got := make(chan string, 1)
	p := newPair(t, "moqt", Draft20, &Options{OnGoAway: func(uri string) { got <- uri }}, nil)
	if err := p.server.GoAway("moqt://127.0.0.1:1/next", time.Minute); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case uri := <-got:
		if uri != "moqt://127.0.0.1:1/next" {
			t.Fatalf("GOAWAY URI %q", uri)
		}
	case <-ctx.Done():
		t.Fatal("no GOAWAY")
	}
	// After GOAWAY the server refuses new requests GOING_AWAY.
	_, err := p.client.Subscribe(ctx, Namespace{"x"}, "t", SubscribeOptions{})
	var re *RequestError
	if !errors.As(err, &re) || re.Code != reqGoingAway {
		t.Fatalf("subscribe after GOAWAY: %v, want REQUEST_ERROR GOING_AWAY", err)
	}
}

// TestDraft20ClientPublishStateNotify: a draft-20 client takes
// PUBLISH_STATE_NOTIFY on a subscription's stream after SUBSCRIBE_OK as
// information (the subscription goes on); before SUBSCRIBE_OK it is a
// protocol violation. Its SUBSCRIBE carries the filter as LOCATION_FILTER.
func TestDraft20ClientPublishStateNotify(t *testing.T) {
	for _, early := range []bool{false, true} {
		name := "after SUBSCRIBE_OK"
		if early {
			name = "before SUBSCRIBE_OK"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRawServer(t, "moqt", Draft20)
			ctx := ctxT(t)
			ch := subscribeAsync(ctx, r.client, Namespace{"x"}, "t", SubscribeOptions{Filter: Filter{Type: FilterLargestObject}})
			st, m := r.acceptRequest()
			sm, ok := m.(*wire.Subscribe)
			if !ok {
				t.Fatalf("got %T, want SUBSCRIBE", m)
			}
			if sm.Location != (wire.LocationFilter{Fields: 2}) {
				t.Fatalf("SUBSCRIBE LOCATION_FILTER %+v, want the Next Object form {0,0}", sm.Location)
			}
			if early {
				writeMsg20(t, st, &wire.PublishStateNotify{})
				expectViolation(t, r.client)
				return
			}
			writeMsg20(t, st, &wire.SubscribeOK{TrackAlias: 1})
			res := <-ch
			if res.err != nil {
				t.Fatal(res.err)
			}
			writeMsg20(t, st, &wire.PublishStateNotify{ContentExists: true, Largest: loc(4, 0)})
			// Then PUBLISH_DONE ends the subscription normally: the
			// notification was read and passed over.
			writeMsg20(t, st, &wire.PublishDone{StatusCode: 0x2})
			if _, err := res.sub.ReadObject(ctx); !errors.Is(err, ErrEnded) {
				t.Fatalf("after PUBLISH_DONE: %v, want ErrEnded", err)
			}
			if err := r.client.Err(); err != nil {
				t.Fatalf("session ended: %v", err)
			}
		})
	}
}

// TestDraft20Conversions: the engine's filters and fetch ranges survive
// the trip through their draft-20 wire forms, and the forms that would
// change meaning are not sent.
func TestDraft20Conversions(t *testing.T) {
	for _, f := range []Filter{
		{Type: FilterNextGroupStart},
		{Type: FilterLargestObject},
		{Type: FilterAbsoluteStart, Start: loc(3, 2)},
		{Type: FilterAbsoluteStart},
		{Type: FilterAbsoluteRange, Start: loc(3, 2), EndGroup: 7},
	} {
		out := to20(&wire.Subscribe{FilterType: f.Type, Start: f.Start, EndGroup: f.EndGroup,
			Params: wire.Params{wire.BytesParam(wire.Param16SubscriptionFilter, nil)}}).(*wire.Subscribe)
		if out.FilterType != 0 || len(out.Params) != 0 {
			t.Fatalf("%+v: to20 left %d / %v", f, out.FilterType, out.Params)
		}
		b, err := wire.AppendMessage(nil, Draft20, out)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		m, _, err := wire.ParseMessage(b, Draft20, nil)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		in := m.(*wire.Subscribe)
		from20(in)
		if got := (Filter{Type: in.FilterType, Start: in.Start, EndGroup: in.EndGroup}); got != f {
			t.Fatalf("filter %+v came back as %+v (LOCATION_FILTER %+v)", f, got, out.Location)
		}
	}
	// Fetch: inclusive ends, the whole end group.
	for _, tc := range []struct{ start, end Location }{
		{loc(0, 1), loc(2, 0)},
		{loc(1, 0), Location{Group: 4, Object: ^uint64(0)}},
	} {
		wend := tc.end
		if wend.Object == ^uint64(0) {
			wend.Object = 0
		} else {
			wend.Object++
		}
		out := to20(&wire.Fetch{FetchType: wire.FetchStandalone, Start: tc.start, End: wend}).(*wire.Fetch)
		in := &wire.Fetch{Location: out.Location}
		from20(in)
		if in.Start != tc.start || in.End != wend {
			t.Fatalf("fetch %v..%v came back as %v..%v (LOCATION_FILTER %+v)", tc.start, tc.end, in.Start, in.End, out.Location)
		}
	}
	// An update that keeps the start where it is carries no filter.
	u := to20(&wire.SubscribeUpdate{FilterType: wire.FilterAbsoluteStart, Changed: wire.UpdateAll}).(*wire.SubscribeUpdate)
	if u.Changed&wire.UpdateFilter != 0 {
		t.Fatalf("update with start {0,0} sends LOCATION_FILTER %+v", u.Location)
	}
	// GOAWAY loses its Request ID.
	if g := to20(&wire.GoAway{RequestID: 4, HasRequestID: true}).(*wire.GoAway); g.HasRequestID {
		t.Fatal("draft-20 GOAWAY with a Request ID")
	}
}

// TestDraft20FillLimit: with maxFills fills in flight, a REQUEST_UPDATE
// asking for one more is refused and the subscription goes on.
func TestDraft20FillLimit(t *testing.T) {
	r := newRawPeer(t, "moqt", Draft20, nil)
	ns := Namespace{"fill20"}
	tr := groups0to2(r, ns)
	st, cr := r.req20(&wire.Subscribe{RequestID: 0, Namespace: ns, Name: "t", SubscriberPriority: 128, Forward: true,
		Location: wire.LocationFilter{Fields: 2}})
	if m, err := readOn(t, st, cr); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(*wire.SubscribeOK); !ok {
		t.Fatalf("%#v, want SUBSCRIBE_OK", m)
	}
	r.server.fills.Store(maxFills) // as if that many were being sent
	writeMsg20(t, st, &wire.SubscribeUpdate{RequestID: 2, Fill: &wire.FillParameters{}})
	if m, err := readOn(t, st, cr); err != nil {
		t.Fatal(err)
	} else if re, ok := m.(*wire.RequestError); !ok || re.ErrorCode != codes16.internal {
		t.Fatalf("%#v, want REQUEST_ERROR", m)
	}
	r.server.fills.Store(0)
	writeGroup(t, tr, 1, false)
	in, err := r.conn.AcceptUniStream(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	in.SetReadDeadline(time.Now().Add(10 * time.Second))
	var o wire.Object
	sr := wire.NewStreamReader(in, Draft20, nil)
	if err := sr.Next(&o); err != nil || sr.Kind() != wire.StreamSubgroup || o.Group != 3 {
		t.Fatalf("subscription's stream: %v, kind %v, group %d; want group 3", err, sr.Kind(), o.Group)
	}
}
