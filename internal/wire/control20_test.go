package wire

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// samples20 holds draft-20 messages as a decoder returns them (typed fields
// with the text's defaults, Params holding every parameter in wire order).
func samples20() []Message {
	auth := BytesParam(Param18AuthorizationToken, []byte{0x03, 0x01, 't', 'o', 'k'})
	// {10,3} through {15,7}: StartGroup 10, StartObject 3, EndGroupDelta 5, EndObject 7.
	full := LocationFilter{Fields: 4, StartGroup: 10, StartObject: 3, EndGroup: 15, EndObject: 7}
	fullParam := BytesParam(Param20LocationFilter, []byte{10, 3, 5, 7})
	// OBJECTID_FILTER in sets 0 and 1 (repeatable), SUBGROUP_FILTER open-ended from 4.
	objSet0 := BytesParam(Param20ObjectIDFilter, []byte{0, 3, 2, 5, 5})
	objSet1 := BytesParam(Param20ObjectIDFilter, []byte{1, 0, 0})
	subgroups := BytesParam(Param20SubgroupFilter, []byte{0, 4})
	trackProp := BytesParam(Param20TrackPropertyFilter, []byte{0, 0x30, 1, 0})
	return []Message{
		&Setup{Params: Params{BytesParam(SetupPath, []byte("/moq")), IntParam(SetupOption20MaxFilterRanges, 16),
			IntParam(SetupOption20MaxRequestUpdates, 4)}},
		&GoAway{NewSessionURI: "moqt://relay.example.com/next", Timeout: 30000},
		&GoAway{},
		&RequestOK{Params: Params{IntParam(Param18Expires, 30000), BytesParam(Param18LargestObject, Location18(Location{10, 3}))},
			TrackExtensions: Params{IntParam(Prop18DefaultPublisherGroupOrder, 2)}},
		&RequestOK{},
		&RequestError{ErrorCode: ErrorInvalidFilter20, RetryInterval: 0, Reason: "bad filter"},
		&RequestError{ErrorCode: ErrorRedirect18, Redirect: &Redirect{ConnectURI: "moqt://other/", Namespace: Tuple{}}},
		&Subscribe{RequestID: 2, Namespace: sampleNS, Name: "video", SubscriberPriority: 64, GroupOrder: GroupOrderDescending,
			Forward: false, Location: full,
			Params: Params{IntParam(Param18ObjectDeliveryTimeout, 5000), auth, IntParam(Param18RendezvousTimeout, 100),
				IntParam(Param18SubgroupDeliveryTimeout, 7000), IntParam(Param18Forward, 0),
				IntParam(Param18SubscriberPriority, 64), fullParam, IntParam(Param18GroupOrder, 2), subgroups,
				objSet0, objSet1, IntParam(Param18NewGroupRequest, 0), IntParam(Param20IncludeProperties, 0)}},
		&Subscribe{RequestID: 4, Namespace: Tuple{"live"}, Name: "audio", SubscriberPriority: 128, Forward: true,
			Location: LocationFilter{Fields: 1, StartGroup: 3}, Params: Params{BytesParam(Param20LocationFilter, []byte{3})}},
		&Subscribe{RequestID: 6, Namespace: Tuple{}, Name: "t", SubscriberPriority: 128, Forward: true},
		// FILL_PARAMETERS: a fill from {2,0} within 500 ms, objects 0-9,
		// then NEW_GROUP_REQUEST (the outer chain goes on from 0x23).
		&Subscribe{RequestID: 8, Namespace: Tuple{"live"}, Name: "v", SubscriberPriority: 128, Forward: true,
			Fill: &FillParameters{Location: LocationFilter{Fields: 2, StartGroup: 2},
				Params: Params{IntParam(Param18FillTimeout, 500), BytesParam(Param20LocationFilter, []byte{2, 0}),
					BytesParam(Param20ObjectIDFilter, []byte{0, 0, 9})}},
			Params: Params{BytesParam(Param20FillParameters, []byte{3, 0x0a, 0x81, 0xf4, 0x17, 2, 2, 0, 5, 3, 0, 0, 9}),
				IntParam(Param18NewGroupRequest, 3)}},
		&SubscribeUpdate{RequestID: 12, Fill: &FillParameters{}, Params: Params{BytesParam(Param20FillParameters, []byte{0})}},
		&SubscribeOK{TrackAlias: 1<<64 - 1, Expires: 10000, GroupOrder: GroupOrderAscending, ContentExists: true, Largest: Location{10, 3},
			Params: Params{IntParam(Param18Expires, 10000), BytesParam(Param18LargestObject, Location18(Location{10, 3}))}},
		&SubscribeUpdate{RequestID: 8, Changed: UpdateFilter, Params: Params{BytesParam(Param20LocationFilter, []byte{})}},
		&SubscribeUpdate{RequestID: 10, Changed: UpdateFilter | UpdateForward, Forward: true,
			Location: LocationFilter{Fields: 3, StartGroup: 5, EndGroup: 9},
			Params:   Params{IntParam(Param18Forward, 1), BytesParam(Param20LocationFilter, []byte{5, 0, 4}), trackProp}},
		&Publish{RequestID: 1, Namespace: sampleNS, Name: "video", TrackAlias: 4, GroupOrder: GroupOrderAscending,
			ContentExists: true, Largest: Location{3, 1}, Forward: false,
			Params: Params{BytesParam(Param18LargestObject, Location18(Location{3, 1})), IntParam(Param18Forward, 0),
				IntParam(Param18SubscriberPriority, 10), BytesParam(Param20LocationFilter, []byte{0, 0}), IntParam(Param18GroupOrder, 1)}},
		&PublishDone{StatusCode: 2, StreamCount: 1<<64 - 1, Reason: "track ended"},
		&Fetch{RequestID: 4, SubscriberPriority: 128, GroupOrder: GroupOrderAscending, FetchType: FetchStandalone,
			Namespace: sampleNS, Name: "video", Location: full,
			Params: Params{IntParam(Param18FillTimeout, 0), fullParam, objSet0, IntParam(Param20IncludeProperties, 1)}},
		&Fetch{RequestID: 6, SubscriberPriority: 3, GroupOrder: GroupOrderDescending, FetchType: FetchStandalone,
			Namespace: Tuple{}, Name: "t", Location: LocationFilter{Fields: 1, StartGroup: 2},
			Params: Params{IntParam(Param18SubscriberPriority, 3), BytesParam(Param20LocationFilter, []byte{2}), IntParam(Param18GroupOrder, 2)}},
		&Fetch{RequestID: 8, SubscriberPriority: 128, GroupOrder: GroupOrderAscending, FetchType: FetchStandalone, Namespace: sampleNS, Name: "a"},
		&FetchOK{EndOfTrack: true, End: Location{10, 4}, TrackExtensions: Params{IntParam(Prop18MaxCacheDuration, 10000)}},
		&TrackStatusRequest{RequestID: 8, Namespace: sampleNS, Name: "video", Location: LocationFilter{Fields: 2, StartGroup: 1},
			Params: Params{auth, BytesParam(Param20LocationFilter, []byte{1, 0}), IntParam(Param20IncludeProperties, 0)}},
		&PublishNamespace{RequestID: 10, Namespace: sampleNS, Params: Params{auth}},
		&NamespaceMsg{Suffix: Tuple{"room42"}},
		&NamespaceDone{Suffix: Tuple{}},
		&SubscribeNamespace{RequestID: 12, Prefix: Tuple{}, Params: Params{auth}},
		&SubscribeTracks{RequestID: 14, Prefix: Tuple{"live"}, Forward: false,
			Params: Params{IntParam(Param18Forward, 0), IntParam(Param18GroupOrder, 2), trackProp, trackProp, IntParam(Param20IncludeProperties, 1)}},
		&SubscribeTracks{RequestID: 16, Prefix: Tuple{}, Forward: true},
		&PublishSkipped{Suffix: Tuple{"room42"}, Name: "video"},
		&PublishStateNotify{ContentExists: true, Largest: Location{7, 0},
			Params: Params{BytesParam(Param18LargestObject, Location18(Location{7, 0})), IntParam(Param18Forward, 0)}},
		&PublishStateNotify{Params: Params{BytesParam(Param20LocationFilter, []byte{9, 0})}},
	}
}

func TestDraft20Names(t *testing.T) {
	if Draft20.ALPN() != "moqt-20" || Draft20.String() != "20" || Draft20.VersionInSetup() {
		t.Errorf("Draft20: ALPN %q, String %q, VersionInSetup %v", Draft20.ALPN(), Draft20.String(), Draft20.VersionInSetup())
	}
	if d, err := ParseDraft("draft-20"); err != nil || d != Draft20 {
		t.Errorf("ParseDraft(draft-20) = %v, %v", d, err)
	}
}

func TestControl20RoundTrip(t *testing.T) {
	seen := roundTripSamples(t, Draft20)
	want := map[string]uint64{"SETUP": 0x2F00, "GOAWAY": 0x10, "REQUEST_OK": 0x07, "REQUEST_ERROR": 0x05,
		"SUBSCRIBE": 0x03, "SUBSCRIBE_OK": 0x04, "REQUEST_UPDATE": 0x02, "PUBLISH": 0x1D, "PUBLISH_DONE": 0x0B,
		"FETCH": 0x16, "FETCH_OK": 0x18, "TRACK_STATUS": 0x0D, "PUBLISH_NAMESPACE": 0x06, "NAMESPACE": 0x08,
		"NAMESPACE_DONE": 0x0E, "SUBSCRIBE_NAMESPACE": 0x50, "SUBSCRIBE_TRACKS": 0x51, "PUBLISH_SKIPPED": 0x0F,
		"PUBLISH_STATE_NOTIFY": 0x22}
	if len(table20.byType) != len(want) {
		t.Errorf("table20 has %d messages, want %d", len(table20.byType), len(want))
	}
	for _, l := range table20.byType {
		if want[l.name] != l.typ {
			t.Errorf("table20: %s is 0x%x, want 0x%x", l.name, l.typ, want[l.name])
		}
		if !seen[l.goType] {
			t.Errorf("no draft-20 sample for %s", l.name)
		}
	}
	// Reserved and removed codes are unknown types.
	for _, typ := range []uint64{0x01, 0x20, 0x21, 0x40, 0x41, 0x1E, 0x0A, 0x11, 0x17, 0x1A, 0x23} {
		_, _, err := ParseMessage(frameFor(Draft20, typ, nil), Draft20, nil)
		wantKind(t, err, KindUnknownMessage)
	}
	if _, err := AppendMessage(nil, Draft20, &PublishOK{}); err == nil {
		t.Error("PUBLISH_OK encoded in draft-20 (it is a REQUEST_OK)")
	}
	// PUBLISH_STATE_NOTIFY does not exist in 18.
	if _, err := AppendMessage(nil, Draft18, &PublishStateNotify{}); err == nil {
		t.Error("PUBLISH_STATE_NOTIFY encoded in draft-18")
	}
}

// TestControl20TextVectors: messages hand-encoded from the layouts of the
// editor's copy (GOAWAY, PUBLISH_STATE_NOTIFY, the LOCATION_FILTER
// structure and the Range Filter example) and of the published -20 as
// moqtap's vectors show it (FETCH, FILL_PARAMETERS), not produced by the
// encoder.
func TestControl20TextVectors(t *testing.T) {
	runTextVectors(t, Draft20, []textVector{
		// GOAWAY: empty URI, Timeout 1000 (vi64 83e8), no Request ID.
		{"GOAWAY", "10" + "0003" + "00" + "83e8", &GoAway{Timeout: 1000}},
		// FETCH (published -20): Request ID 2, no Fetch Type, namespace
		// ("live"), name "v"; one parameter, LOCATION_FILTER (0x21,
		// length 4): StartGroup 10, StartObject 3, EndGroupDelta 5,
		// EndObject 7.
		{"FETCH", "16" + "0010" + "02" + "01046c697665" + "0176" + "01" + "2104" + "0a030507",
			&Fetch{RequestID: 2, FetchType: FetchStandalone, Namespace: Tuple{"live"}, Name: "v", SubscriberPriority: 128,
				GroupOrder: GroupOrderAscending, Location: LocationFilter{Fields: 4, StartGroup: 10, StartObject: 3, EndGroup: 15, EndObject: 7},
				Params: Params{BytesParam(Param20LocationFilter, []byte{10, 3, 5, 7})}}},
		// SUBSCRIBE with FILL_PARAMETERS (0x23, length 6): 2 nested
		// parameters, FILL_TIMEOUT (0x0a) 0, LOCATION_FILTER (delta 0x17)
		// StartGroup 1 (relative: the current group), then FORWARD 0
		// (0x10 is below 0x23: it comes first, delta 0x10, and
		// FILL_PARAMETERS follows at delta 0x13).
		{"SUBSCRIBE with FILL_PARAMETERS", "03" + "0011" + "00" + "010161" + "0176" + "02" + "1000" + "1306" + "020a00170101",
			&Subscribe{RequestID: 0, Namespace: Tuple{"a"}, Name: "v", SubscriberPriority: 128, Forward: false,
				Fill: &FillParameters{Location: LocationFilter{Fields: 1, StartGroup: 1},
					Params: Params{IntParam(Param18FillTimeout, 0), BytesParam(Param20LocationFilter, []byte{1})}},
				Params: Params{IntParam(Param18Forward, 0), BytesParam(Param20FillParameters, []byte{2, 0x0a, 0, 0x17, 1, 1})}}},
		// PUBLISH_STATE_NOTIFY: 2 parameters, LARGEST_OBJECT (0x09) {5,1},
		// FORWARD (delta 7 = 0x10) 0.
		{"PUBLISH_STATE_NOTIFY", "22" + "0006" + "02" + "090501" + "0700",
			&PublishStateNotify{ContentExists: true, Largest: Location{5, 1},
				Params: Params{BytesParam(Param18LargestObject, []byte{5, 1}), IntParam(Param18Forward, 0)}}},
		// SUBSCRIBE: Request ID 0, namespace ("a"), name "v"; LOCATION_FILTER
		// {0,0} (Next Object), then OBJECTID_FILTER (delta 5) SetID 0 with
		// the text's example, ranges 3-5 and 10-15 as 3 2 5 5, then the same
		// in SetID 1 (delta 0: repeatable).
		{"SUBSCRIBE", "03" + "0019" + "00" + "010161" + "0176" + "03" + "21020000" + "0505" + "0003020505" + "0005" + "0103020505",
			&Subscribe{RequestID: 0, Namespace: Tuple{"a"}, Name: "v", SubscriberPriority: 128, Forward: true,
				Location: LocationFilter{Fields: 2}, Params: Params{BytesParam(Param20LocationFilter, []byte{0, 0}),
					BytesParam(Param20ObjectIDFilter, []byte{0, 3, 2, 5, 5}), BytesParam(Param20ObjectIDFilter, []byte{1, 3, 2, 5, 5})}}},
	})
	rf, err := ParseRangeFilter20(Param20ObjectIDFilter, []byte{0, 3, 2, 5, 5})
	if err != nil || !reflect.DeepEqual(rf.Ranges, []Range{{3, 5}, {10, 15}}) || rf.OpenEnd {
		t.Errorf("the text's range example: %+v %v", rf, err)
	}
}

// TestControl20TypedFields: typed fields encode as draft-20 parameters.
func TestControl20TypedFields(t *testing.T) {
	// The Next Group: one field, 0. Priority 200 and descending order too.
	enc := mustAppend(t, Draft20, &Subscribe{RequestID: 1, Namespace: Tuple{"a"}, Name: "v", SubscriberPriority: 200,
		GroupOrder: GroupOrderDescending, Forward: true, Location: LocationFilter{Fields: 1}})
	if want := "03" + "000e" + "01" + "010161" + "0176" + "03" + "20c8" + "010100" + "0102"; hex.EncodeToString(enc) != want {
		t.Errorf("SUBSCRIBE = %x, want %s", enc, want)
	}
	// REQUEST_UPDATE removing the filter: a zero-length LOCATION_FILTER.
	u := mustAppend(t, Draft20, &SubscribeUpdate{RequestID: 3, Changed: UpdateFilter})
	if want := "02" + "0004" + "03" + "01" + "2100"; hex.EncodeToString(u) != want {
		t.Errorf("REQUEST_UPDATE = %x, want %s", u, want)
	}
	// A SUBSCRIBE without a filter has no LOCATION_FILTER.
	if enc := mustAppend(t, Draft20, &Subscribe{Namespace: Tuple{"a"}, SubscriberPriority: 128, Forward: true}); hex.EncodeToString(enc) != "030006000101610000" {
		t.Errorf("unfiltered SUBSCRIBE = %x", enc)
	}
	// ApplyParams fills the typed fields from the lists.
	f := &Fetch{FetchType: FetchStandalone, Namespace: Tuple{"a"}, Params: Params{BytesParam(Param20LocationFilter, []byte{1, 2, 0})}}
	if err := ApplyParams(Draft20, f); err != nil || f.Location != (LocationFilter{Fields: 3, StartGroup: 1, StartObject: 2, EndGroup: 1}) ||
		f.SubscriberPriority != 128 || f.GroupOrder != GroupOrderAscending {
		t.Errorf("ApplyParams FETCH: %+v %v", f, err)
	}
	su := &SubscribeUpdate{Location: LocationFilter{Fields: 2, StartGroup: 9}, Params: Params{IntParam(Param18Forward, 0)}}
	if err := ApplyParams(Draft20, su); err != nil || su.Changed != UpdateForward || su.Location != (LocationFilter{}) {
		t.Errorf("ApplyParams REQUEST_UPDATE: %+v %v", su, err)
	}
	psn := &PublishStateNotify{Params: Params{BytesParam(Param18LargestObject, Location18(Location{4, 2}))}}
	if err := ApplyParams(Draft20, psn); err != nil || !psn.ContentExists || psn.Largest != (Location{4, 2}) {
		t.Errorf("ApplyParams PUBLISH_STATE_NOTIFY: %+v %v", psn, err)
	}
	for _, lf := range []LocationFilter{{Fields: 1, StartGroup: 1 << 63}, {Fields: 2, StartGroup: 4, StartObject: 1},
		{Fields: 3, StartGroup: 1<<64 - 2, EndGroup: 1<<64 - 1}, {Fields: 4, EndGroup: 0, EndObject: 1 << 40}} {
		b, err := AppendLocationFilter(nil, lf)
		if err != nil {
			t.Fatalf("%+v: %v", lf, err)
		}
		if back, err := ParseLocationFilter(b); err != nil || back != lf {
			t.Errorf("%+v: %x reads back as %+v %v", lf, b, back, err)
		}
	}
	// A decoded non-canonical LOCATION_FILTER (StartGroup 10 as 800a) and
	// LARGEST_OBJECT re-encode as they came.
	for _, h := range []string{"0300130101046c69766505766964656f012103800a03", "22000501098005" + "03"} {
		b, _ := hex.DecodeString(h)
		m, _, err := ParseMessage(b, Draft20, nil)
		if err != nil {
			t.Fatal(err)
		}
		if enc := mustAppend(t, Draft20, m); !bytes.Equal(enc, b) {
			t.Errorf("%s re-encoded as %x", h, enc)
		}
	}
	// FETCH has no Fetch Type: 0 and FetchStandalone encode alike (the
	// zero SubscriberPriority is written: the default is 128).
	if a, b := mustAppend(t, Draft20, &Fetch{RequestID: 2, Namespace: Tuple{"a"}, Name: "v"}),
		mustAppend(t, Draft20, &Fetch{RequestID: 2, FetchType: FetchStandalone, Namespace: Tuple{"a"}, Name: "v"}); !bytes.Equal(a, b) ||
		hex.EncodeToString(a) != "160009020101610176"+"012000" {
		t.Errorf("FETCH with Fetch Type 0 = %x, standalone %x", a, b)
	}
	// FILL_PARAMETERS: a decoded one holding a non-canonical LOCATION_FILTER
	// (StartGroup 100 as 8064) re-encodes as it came; changed, it is
	// written anew; ApplyParams fills Fill from Params.
	b, _ := hex.DecodeString("0300160101046c69766505766964656f0123060121038064" + "00")
	m, _, err := ParseMessage(b, Draft20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if enc := mustAppend(t, Draft20, m); !bytes.Equal(enc, b) {
		t.Errorf("non-canonical FILL_PARAMETERS re-encoded as %x", enc)
	}
	s := m.(*Subscribe)
	if s.Fill == nil || s.Fill.Location != (LocationFilter{Fields: 2, StartGroup: 100}) {
		t.Fatalf("Fill %+v", s.Fill)
	}
	s.Fill.Location.StartGroup = 7
	if enc, want := mustAppend(t, Draft20, s), "0300150101046c69766505766964656f012305012102"+"0700"; hex.EncodeToString(enc) != want {
		t.Errorf("changed FILL_PARAMETERS = %x, want %s", enc, want)
	}
	s.Fill = nil
	if enc, want := mustAppend(t, Draft20, s), "03000e0101046c69766505766964656f00"; hex.EncodeToString(enc) != want {
		t.Errorf("FILL_PARAMETERS removed = %x, want %s", enc, want)
	}
	fu := &SubscribeUpdate{Params: Params{BytesParam(Param20FillParameters, []byte{1, 0x20, 9})}}
	if err := ApplyParams(Draft20, fu); err != nil || fu.Fill == nil || fu.Changed != 0 || !reflect.DeepEqual(fu.Fill.Params, Params{IntParam(Param18SubscriberPriority, 9)}) {
		t.Errorf("ApplyParams REQUEST_UPDATE with FILL_PARAMETERS: %+v %v", fu, err)
	}
	if !(LocationFilter{Fields: 1}).Relative() || !(LocationFilter{Fields: 2}).NextObject() || (LocationFilter{Fields: 2, StartObject: 1}).NextObject() {
		t.Error("Relative / NextObject")
	}
}

// TestControl20Errors: bad draft-20 inputs are protocol errors of the right
// kind, and the encoder refuses what 20 cannot carry.
func TestControl20Errors(t *testing.T) {
	sub := "02" + "010161" + "0176"
	for _, c := range []struct {
		name    string
		typ     uint64
		payload string
		kind    Kind
	}{
		{"location filter of five fields", 0x03, sub + "01" + "21050102030405", KindInvalidValue},
		{"location filter field past its length", 0x03, sub + "01" + "2102c040", KindLengthMismatch},
		{"location filter end group wraps", 0x16, "00" + "010161" + "0176" + "01" + "210bffffffffffffffffff0001", KindInvalidValue},
		{"location filter repeated", 0x03, sub + "02" + "210100" + "000100", KindInvalidValue},
		{"include properties 2", 0x03, sub + "01" + "3502", KindInvalidValue},
		{"GOAWAY with a request id", 0x10, "00" + "00" + "01", KindLengthMismatch},
		// An editor's-copy FETCH (Fetch Type 1 first) reads as a namespace
		// of one field, then runs out.
		{"FETCH with a Fetch Type", 0x16, "00" + "01" + "010161" + "0176" + "00", KindTruncated},
		{"FETCH with a draft-18 range", 0x16, "00" + "010161" + "0176" + "0000" + "0100" + "00", KindLengthMismatch},
		{"FILL_PARAMETERS in FETCH", 0x16, "00" + "010161" + "0176" + "01" + "230100", KindInvalidValue},
		{"FILL_PARAMETERS in SUBSCRIBE_TRACKS", 0x51, "00" + "010161" + "01" + "230100", KindInvalidValue},
		{"FILL_PARAMETERS of zero length", 0x03, sub + "01" + "2300", KindTruncated},
		{"FILL_PARAMETERS with a byte left over", 0x03, sub + "01" + "23020000", KindLengthMismatch},
		{"FILL_PARAMETERS counting past its length", 0x03, sub + "01" + "2302" + "020a" + "00", KindTruncated},
		{"FILL_PARAMETERS holding INCLUDE_PROPERTIES", 0x03, sub + "01" + "2303" + "013500", KindInvalidValue},
		{"FILL_PARAMETERS holding AUTHORIZATION_TOKEN", 0x03, sub + "01" + "2304" + "01030100", KindInvalidValue},
		{"FILL_PARAMETERS holding FILL_PARAMETERS", 0x03, sub + "01" + "2304" + "01230100", KindInvalidValue},
		{"FILL_PARAMETERS holding a bad LOCATION_FILTER", 0x03, sub + "01" + "2308" + "012105" + "0102030405", KindInvalidValue},
		{"FILL_PARAMETERS holding GROUP_ORDER 3", 0x03, sub + "01" + "2303" + "012203", KindInvalidValue},
		{"FILL_PARAMETERS repeated", 0x03, sub + "02" + "230100" + "000100", KindInvalidValue},
		{"unknown parameter", 0x03, sub + "01" + "2a00", KindInvalidValue},
		// Scopes of the editor's copy.
		{"TRACK_PROPERTY_FILTER in SUBSCRIBE", 0x03, sub + "01" + "290100", KindInvalidValue},
		{"FORWARD in REQUEST_OK (PUBLISH_OK lost it)", 0x07, "01" + "1001", KindInvalidValue},
		{"SUBSCRIBER_PRIORITY in PUBLISH_STATE_NOTIFY", 0x22, "01" + "2001", KindInvalidValue},
		{"NEW_GROUP_REQUEST in PUBLISH", 0x1D, "00" + "010161" + "0176" + "00" + "01" + "3200", KindInvalidValue},
		{"range filter in FETCH_OK", 0x18, "00" + "0000" + "01" + "250100", KindInvalidValue},
		{"truncated PUBLISH_STATE_NOTIFY", 0x22, "02" + "0905", KindTruncated},
	} {
		b, err := hex.DecodeString(c.payload)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, _, err = ParseMessage(frameFor(Draft20, c.typ, b), Draft20, nil)
		pe, ok := AsProtocolError(err)
		if !ok || pe.Kind != c.kind {
			t.Errorf("%s: %v, want kind %v", c.name, err, c.kind)
		}
	}
	for _, m := range []Message{
		&Subscribe{Namespace: Tuple{"a"}, FilterType: FilterLargestObject}, // 18's typed filter: 20 has none
		&SubscribeUpdate{Changed: UpdateFilter, FilterType: FilterAbsoluteStart},
		&Subscribe{Namespace: Tuple{"a"}, Location: LocationFilter{Fields: 5}},
		&Subscribe{Namespace: Tuple{"a"}, Location: LocationFilter{Fields: 3, StartGroup: 5, EndGroup: 4}},
		&Fetch{FetchType: FetchStandalone, Namespace: Tuple{"a"}, End: Location{5, 0}},
		&Fetch{FetchType: FetchAbsoluteJoining, JoiningStart: 3},
		&Fetch{FetchType: FetchRelativeJoining, JoiningRequestID: 2}, // -20 has no joining fetch
		&Fetch{JoiningRequestID: 2},
		&Subscribe{Namespace: Tuple{"a"}, Fill: &FillParameters{Params: Params{IntParam(Param20IncludeProperties, 1)}}},
		&Subscribe{Namespace: Tuple{"a"}, Fill: &FillParameters{Location: LocationFilter{Fields: 6}}},
		&SubscribeTracks{Params: Params{BytesParam(Param20FillParameters, []byte{0})}},
		&Fetch{Namespace: Tuple{"a"}, Params: Params{BytesParam(Param20FillParameters, []byte{0})}},
		&GoAway{RequestID: 4, HasRequestID: true},
		&RequestOK{Params: Params{IntParam(Param18Forward, 1)}},
		&Subscribe{Namespace: Tuple{"a"}, Params: Params{IntParam(Param20IncludeProperties, 2)}},
		&Subscribe{Namespace: Tuple{"a"}, Params: Params{IntParam(Param20ObjectIDFilter, 2)}}, // a range filter is bytes
		&PublishStateNotify{Params: Params{BytesParam(Param20LocationFilter, []byte{1, 2, 3, 4, 5})}},
	} {
		if _, err := AppendMessage(nil, Draft20, m); err == nil {
			t.Errorf("%T %+v encoded", m, m)
		}
	}
	// A FILL_PARAMETERS in Params only is Fill's to write (nil: dropped);
	// ApplyParams refuses a malformed one.
	if err := ApplyParams(Draft20, &Subscribe{Params: Params{BytesParam(Param20FillParameters, []byte{})}}); err == nil {
		t.Error("ApplyParams took an empty FILL_PARAMETERS value (it holds at least its count)")
	}
	// Range filters are not a draft-18 parameter.
	if _, err := AppendMessage(nil, Draft18, &Subscribe{Namespace: Tuple{"a"}, Params: Params{BytesParam(Param20SubgroupFilter, []byte{0})}}); err == nil {
		t.Error("SUBGROUP_FILTER encoded in draft-18")
	}
}

// TestRangeFilters20: the Range Filter helpers decode the delta coding and
// report what the text answers with INVALID_FILTER.
func TestRangeFilters20(t *testing.T) {
	for _, rf := range []RangeFilter{
		{Key: Param20SubgroupFilter, SetID: 3, Ranges: []Range{{0, 0}, {2, 9}, {9, 1 << 40}}},
		{Key: Param20PriorityFilter, Ranges: []Range{{0, 63}, {128, 0}}, OpenEnd: true},
		{Key: Param20ObjectPropertyFilter, SetID: 255, PropertyType: 0x3C, Ranges: []Range{{1<<64 - 1, 1<<64 - 1}}},
		{Key: Param20TrackPropertyFilter, PropertyType: 0x30},
	} {
		b, err := AppendRangeFilter20(nil, rf)
		if err != nil {
			t.Fatalf("%+v: %v", rf, err)
		}
		back, err := ParseRangeFilter20(rf.Key, b)
		if err != nil || !reflect.DeepEqual(back, rf) {
			t.Errorf("%+v: %x reads back as %+v %v", rf, b, back, err)
		}
	}
	for _, c := range []struct {
		name string
		key  uint64
		hex  string
	}{
		{"odd property type", Param20ObjectPropertyFilter, "00" + "0d" + "01"},
		{"priority above 255", Param20PriorityFilter, "00" + "00" + "818000"},
		{"open priority above 255", Param20PriorityFilter, "00" + "818000"},
		{"start delta wraps", Param20ObjectIDFilter, "00" + "ff" + "fffffffffffffffe" + "01" + "02"},
		{"end delta wraps", Param20ObjectIDFilter, "00" + "02" + "fffffffffffffffffe"},
		{"truncated range", Param20SubgroupFilter, "00" + "80"},
	} {
		b, _ := hex.DecodeString(c.hex)
		if _, err := ParseRangeFilter20(c.key, b); err == nil {
			t.Errorf("%s: accepted %s", c.name, c.hex)
		}
	}
	if _, err := ParseRangeFilter20(Param20LocationFilter, nil); err == nil {
		t.Error("LOCATION_FILTER parsed as a range filter")
	}
	if _, err := AppendRangeFilter20(nil, RangeFilter{Key: Param20SubgroupFilter, Ranges: []Range{{5, 4}}}); err == nil {
		t.Error("a range ending before its start was encoded")
	}
	if _, err := AppendRangeFilter20(nil, RangeFilter{Key: Param20SubgroupFilter, Ranges: []Range{{5, 6}, {2, 3}}}); err == nil {
		t.Error("descending ranges were encoded")
	}
	set0 := BytesParam(Param20ObjectIDFilter, []byte{0, 3, 2, 5, 5})
	ps := Params{IntParam(Param18Forward, 1), set0, BytesParam(Param20ObjectIDFilter, []byte{1, 0, 0}),
		BytesParam(Param20ObjectPropertyFilter, []byte{0, 2, 0, 0}), BytesParam(Param20ObjectPropertyFilter, []byte{0, 4, 0, 0})}
	if err := CheckRangeFilters20(ps, 5); err != nil {
		t.Errorf("5 ranges, limit 5: %v", err)
	}
	if err := CheckRangeFilters20(ps, 4); err == nil || !strings.Contains(err.Error(), "MAX_FILTER_RANGES") {
		t.Errorf("5 ranges, limit 4: %v", err)
	}
	if err := CheckRangeFilters20(Params{set0, set0}, 10); err == nil {
		t.Error("a repeated (type, SetID) was accepted")
	}
	if err := CheckRangeFilters20(Params{BytesParam(Param20ObjectPropertyFilter, []byte{0, 1})}, 10); err == nil {
		t.Error("an odd property type was accepted")
	}
}

func TestControl20TruncatedEverywhere(t *testing.T) { truncatedEverywhereVi64(t, Draft20) }

func TestControl20Reader(t *testing.T) { readerVi64(t, Draft20) }

func FuzzParseMessage20(f *testing.F) {
	for _, m := range samples20() {
		f.Add(mustAppend(f, Draft20, m))
	}
	for _, v := range loadMoqtapTSV(f, "draft20") {
		f.Add(v.b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseMessage(t, Draft20, data) })
}

// FuzzRangeFilter20: any value either fails or re-encodes (shortest
// varints) to one that decodes to the same filter.
func FuzzRangeFilter20(f *testing.F) {
	f.Add(uint8(0x26), []byte{0, 3, 2, 5, 5})
	f.Add(uint8(0x28), []byte{1, 2, 0})
	f.Add(uint8(0x21), []byte{10, 3, 5, 7})
	f.Fuzz(func(t *testing.T, key uint8, b []byte) {
		if uint64(key) == Param20LocationFilter {
			lf, err := ParseLocationFilter(b)
			if err != nil {
				return
			}
			enc, err := AppendLocationFilter(nil, lf)
			if err != nil {
				t.Fatalf("%+v does not re-encode: %v", lf, err)
			}
			if back, err := ParseLocationFilter(enc); err != nil || back != lf {
				t.Fatalf("%+v: %x reads back as %+v %v", lf, enc, back, err)
			}
			return
		}
		rf, err := ParseRangeFilter20(uint64(key), b)
		if err != nil {
			return
		}
		enc, err := AppendRangeFilter20(nil, rf)
		if err != nil {
			t.Fatalf("%+v does not re-encode: %v", rf, err)
		}
		back, err := ParseRangeFilter20(uint64(key), enc)
		if err != nil || !reflect.DeepEqual(back, rf) {
			t.Fatalf("%+v: %x reads back as %+v %v", rf, enc, back, err)
		}
	})
}

// TestMoqtapVectors20: the moqtap draft-20 vectors (which follow the
// published -20) all pass; TestMoqtapVectors20Decoded checks the decoded
// forms of those where the published -20 differs from the editor's copy.
func TestMoqtapVectors20(t *testing.T) {
	runMoqtapVectors(t, Draft20, "draft20", nil)
}

// FuzzFillParameters20: any FILL_PARAMETERS value either fails or
// re-encodes to one that decodes to the same value (and re-encodes to
// itself).
func FuzzFillParameters20(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{2, 0x0a, 0, 0x17, 3, 3, 0, 2})
	f.Add([]byte{2, 0x20, 64, 2, 1})
	f.Add([]byte{3, 0x0a, 0x81, 0xf4, 0x17, 2, 2, 0, 5, 3, 0, 0, 9})
	f.Add([]byte{1, 0x21, 3, 0x80, 0x64, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		fp, err := ParseFillParameters(b)
		if err != nil {
			if _, ok := AsProtocolError(err); !ok {
				t.Fatalf("%x: not a protocol error: %v", b, err)
			}
			return
		}
		enc, err := AppendFillParameters(nil, fp)
		if err != nil {
			t.Fatalf("%x (%+v) does not re-encode: %v", b, fp, err)
		}
		back, err := ParseFillParameters(enc)
		if err != nil || back.Location != fp.Location || len(back.Params) != len(fp.Params) {
			t.Fatalf("%x: %x reads back as %+v %v, first %+v", b, enc, back, err, fp)
		}
		if again, err := AppendFillParameters(nil, back); err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("%x: re-encoded %x, then %x %v", b, enc, again, err)
		}
	})
}
