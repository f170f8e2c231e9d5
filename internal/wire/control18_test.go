package wire

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// samples18 holds draft-18 messages as a decoder returns them: typed fields
// set (with the text's defaults where a parameter is absent) and Params
// holding every parameter in wire order.
func samples18() []Message {
	auth := BytesParam(Param18AuthorizationToken, []byte{0x03, 0x01, 't', 'o', 'k'})
	// AbsoluteRange {10,3}, End Group Delta 10: last group 20.
	filter := BytesParam(Param18SubscriptionFilter, []byte{0x04, 0x0a, 0x03, 0x0a})
	return []Message{
		&Setup{Params: Params{BytesParam(SetupPath, []byte("/moq")), BytesParam(SetupImplementation, []byte("moq-ffi")),
			IntParam(0x40, 1), IntParam(0x40, 2), IntParam(0x9D+0x7f, 300)}},
		&Setup{},
		&GoAway{NewSessionURI: "moqt://relay.example.com/next", Timeout: 30000, RequestID: 1 << 40, HasRequestID: true},
		&GoAway{Timeout: 0},
		&RequestOK{Params: Params{IntParam(Param18Expires, 30000), BytesParam(Param18LargestObject, Location18(Location{10, 3}))},
			TrackExtensions: Params{IntParam(Prop18DefaultPublisherGroupOrder, 2), BytesParam(0x4001, []byte("must"))}},
		&RequestOK{},
		&RequestError{ErrorCode: 0x10, RetryInterval: 1001, Reason: "does not exist"},
		&RequestError{ErrorCode: ErrorRedirect18, RetryInterval: 5000, Reason: "moved",
			Redirect: &Redirect{ConnectURI: "moqt://other.example.com/", Namespace: Tuple{"b"}, Name: "t"}},
		&RequestError{ErrorCode: ErrorRedirect18, Redirect: &Redirect{Namespace: Tuple{}}},
		&Subscribe{RequestID: 2, Namespace: sampleNS, Name: "video", SubscriberPriority: 64, GroupOrder: GroupOrderDescending,
			Forward: false, FilterType: FilterAbsoluteRange, Start: Location{10, 3}, EndGroup: 20,
			Params: Params{IntParam(Param18ObjectDeliveryTimeout, 5000), auth, auth, IntParam(Param18RendezvousTimeout, 100),
				IntParam(Param18SubgroupDeliveryTimeout, 7000), IntParam(Param18Forward, 0),
				IntParam(Param18SubscriberPriority, 64), filter, IntParam(Param18GroupOrder, 2), IntParam(Param18NewGroupRequest, 0)}},
		&Subscribe{RequestID: 4, Namespace: Tuple{}, Name: "audio", SubscriberPriority: 128, Forward: true,
			FilterType: FilterAbsoluteStart},
		&SubscribeOK{TrackAlias: 1<<64 - 1, Expires: 10000, GroupOrder: GroupOrderDescending, ContentExists: true, Largest: Location{10, 3},
			Params:          Params{IntParam(Param18Expires, 10000), BytesParam(Param18LargestObject, Location18(Location{10, 3}))},
			TrackExtensions: Params{IntParam(Prop18MaxCacheDuration, 10000), IntParam(Prop18DefaultPublisherGroupOrder, 2)}},
		&SubscribeOK{TrackAlias: 9, GroupOrder: GroupOrderAscending},
		&SubscribeUpdate{RequestID: 6, FilterType: FilterAbsoluteRange, Start: Location{5, 0}, EndGroup: 11,
			SubscriberPriority: 7, Changed: UpdateFilter | UpdatePriority,
			Params: Params{IntParam(Param18SubscriberPriority, 7), BytesParam(Param18SubscriptionFilter, []byte{0x04, 0x05, 0x00, 0x05})}},
		&SubscribeUpdate{RequestID: 8, Params: Params{BytesParam(Param18TrackNamespacePrefix, Namespace18(Tuple{"a", "b"}))}},
		&Publish{RequestID: 1, Namespace: sampleNS, Name: "video", TrackAlias: 4, GroupOrder: GroupOrderAscending,
			ContentExists: true, Largest: Location{3, 1}, Forward: true,
			Params:          Params{BytesParam(Param18LargestObject, Location18(Location{3, 1}))},
			TrackExtensions: Params{IntParam(Prop18ObjectDeliveryTimeout, 5000), IntParam(Prop18DynamicGroups, 1)}},
		&PublishDone{StatusCode: 2, StreamCount: 1<<62 - 1, Reason: "track ended"},
		&Fetch{RequestID: 4, SubscriberPriority: 128, GroupOrder: GroupOrderAscending, FetchType: FetchStandalone, Namespace: sampleNS, Name: "video",
			Start: Location{0, 0}, End: Location{10, 0}, Params: Params{IntParam(Param18FillTimeout, 0)}},
		&Fetch{RequestID: 6, SubscriberPriority: 3, GroupOrder: GroupOrderDescending, FetchType: FetchRelativeJoining, JoiningRequestID: 2, JoiningStart: 3,
			Params: Params{IntParam(Param18SubscriberPriority, 3), IntParam(Param18GroupOrder, 2)}},
		&Fetch{RequestID: 8, SubscriberPriority: 128, GroupOrder: GroupOrderAscending, FetchType: FetchAbsoluteJoining, JoiningRequestID: 2, JoiningStart: 100},
		&FetchOK{EndOfTrack: true, End: Location{10, 4}, TrackExtensions: Params{IntParam(Prop18MaxCacheDuration, 10000)}},
		&TrackStatusRequest{RequestID: 8, Namespace: sampleNS, Name: "video", FilterType: FilterAbsoluteStart, Params: Params{auth}},
		&PublishNamespace{RequestID: 10, Namespace: sampleNS, Params: Params{auth}},
		&NamespaceMsg{Suffix: Tuple{"room42"}},
		&NamespaceDone{Suffix: Tuple{}},
		&SubscribeNamespace{RequestID: 12, Prefix: Tuple{}, Params: Params{auth}},
		&SubscribeTracks{RequestID: 14, Prefix: Tuple{"live"}, Forward: false, Params: Params{IntParam(Param18Forward, 0)}},
		&SubscribeTracks{RequestID: 16, Prefix: Tuple{}, Forward: true},
		&PublishBlocked{Suffix: Tuple{"room42"}, Name: "video"},
	}
}

// roundTripSamples encodes each of d's samples, decodes it back to an
// equal message and re-encodes it to the same bytes; it returns the types
// seen.
func roundTripSamples(t *testing.T, d Draft) map[reflect.Type]bool {
	seen := map[reflect.Type]bool{}
	for i, m := range samplesFor(d) {
		seen[reflect.TypeOf(m)] = true
		enc := mustAppend(t, d, m)
		got, n, err := ParseMessage(enc, d, nil)
		if err != nil {
			t.Fatalf("#%d %s: ParseMessage(%x): %v", i, MessageName(d, m), enc, err)
		}
		if n != len(enc) {
			t.Fatalf("#%d: used %d of %d bytes", i, n, len(enc))
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("#%d %s: round trip\n got %+v\nwant %+v", i, MessageName(d, m), got, m)
		}
		if again := mustAppend(t, d, got); !bytes.Equal(again, enc) {
			t.Fatalf("#%d: re-encoded %x, first %x", i, again, enc)
		}
	}
	return seen
}

func TestControl18RoundTrip(t *testing.T) {
	seen := roundTripSamples(t, Draft18)
	all := []Message{&Setup{}, &GoAway{}, &RequestOK{}, &RequestError{}, &Subscribe{}, &SubscribeOK{},
		&SubscribeUpdate{}, &Publish{}, &PublishDone{}, &Fetch{}, &FetchOK{}, &TrackStatusRequest{},
		&PublishNamespace{}, &NamespaceMsg{}, &NamespaceDone{}, &SubscribeNamespace{}, &SubscribeTracks{}, &PublishBlocked{}}
	wantTypes := map[string]uint64{"SETUP": 0x2F00, "GOAWAY": 0x10, "REQUEST_OK": 0x07, "REQUEST_ERROR": 0x05,
		"SUBSCRIBE": 0x03, "SUBSCRIBE_OK": 0x04, "REQUEST_UPDATE": 0x02, "PUBLISH": 0x1D, "PUBLISH_DONE": 0x0B,
		"FETCH": 0x16, "FETCH_OK": 0x18, "TRACK_STATUS": 0x0D, "PUBLISH_NAMESPACE": 0x06, "NAMESPACE": 0x08,
		"NAMESPACE_DONE": 0x0E, "SUBSCRIBE_NAMESPACE": 0x50, "SUBSCRIBE_TRACKS": 0x51, "PUBLISH_BLOCKED": 0x0F}
	for _, typ := range all {
		code, ok := MessageType(Draft18, typ)
		name := MessageName(Draft18, typ)
		if !ok || wantTypes[name] != code {
			t.Errorf("%T: draft-18 %s 0x%x (%v), want 0x%x", typ, name, code, ok, wantTypes[name])
		}
		if !seen[reflect.TypeOf(typ)] {
			t.Errorf("no draft-18 sample for %T", typ)
		}
	}
	if len(all) != len(table18.byType) {
		t.Errorf("table18 has %d messages, the test knows %d", len(table18.byType), len(all))
	}
	// Messages that draft-18 dropped.
	for _, m := range []Message{&ClientSetup{}, &ServerSetup{}, &MaxRequestID{}, &RequestsBlocked{}, &Unsubscribe{},
		&PublishOK{}, &FetchCancel{}, &PublishNamespaceDone{}, &PublishNamespaceCancel{}, &SubscribeError{},
		&TrackStatus{}, &UnsubscribeNamespace{}} {
		if _, err := AppendMessage(nil, Draft18, m); err == nil || !strings.Contains(err.Error(), "does not exist in draft-18") {
			t.Errorf("%T in draft-18: %v", m, err)
		}
	}
	// And the reserved codes are unknown types.
	for _, typ := range []uint64{0x01, 0x20, 0x21, 0x40, 0x41, 0x1E, 0x0A, 0x11, 0x15, 0x17, 0x1A} {
		_, _, err := ParseMessage(frameFor(Draft18, typ, nil), Draft18, nil)
		wantKind(t, err, KindUnknownMessage)
	}
}

// TestControl18TextVectors: messages hand-encoded byte by byte from the
// layouts of draft-ietf-moq-transport-18 (SETUP, GOAWAY, REQUEST_ERROR with
// Redirect, SUBSCRIBE, SUBSCRIBE_OK, SUBSCRIBE_NAMESPACE sections; Key-Value-
// Pair and Message Parameter structures; the vi64 table), not produced by
// the encoder. Each decodes to the message shown and the encoder gives the
// same bytes.
func TestControl18TextVectors(t *testing.T) {
	runTextVectors(t, Draft18, []textVector{
		// SETUP: type 0x2F00 is a 2-byte vi64 (10 101111 00000000 = af 00);
		// Length 7; PATH (0x01, odd: length 2, "/a"), then
		// MOQT_IMPLEMENTATION (0x07 = delta 6, length 1, "x").
		{"SETUP", "af00" + "0007" + "01022f61" + "060178",
			&Setup{Params: Params{BytesParam(SetupPath, []byte("/a")), BytesParam(SetupImplementation, []byte("x"))}}},
		// GOAWAY: empty URI; Timeout 1000 = 2-byte vi64 0x83e8 (0x80|0x03,
		// 0xe8); Request ID 4.
		{"GOAWAY", "10" + "0004" + "00" + "83e8" + "04",
			&GoAway{Timeout: 1000, RequestID: 4, HasRequestID: true}},
		// GOAWAY on a request stream: no Request ID.
		{"GOAWAY request stream", "10" + "0002" + "00" + "00", &GoAway{}},
		// REQUEST_ERROR REDIRECT (0x34), Retry Interval 0, empty reason;
		// Redirect: empty Connect URI, namespace ("b"), name "t".
		{"REQUEST_ERROR", "05" + "0009" + "34" + "00" + "00" + "00" + "010162" + "0174",
			&RequestError{ErrorCode: ErrorRedirect18, Redirect: &Redirect{Namespace: Tuple{"b"}, Name: "t"}}},
		// SUBSCRIBE: Request ID 2, namespace ("live"), name "v", 3
		// parameters: SUBSCRIBER_PRIORITY (0x20, uint8 0x40), then
		// SUBSCRIPTION_FILTER (delta 1, length 4: AbsoluteRange, start
		// {10,3}, End Group Delta 5), then GROUP_ORDER (delta 1, uint8 2).
		{"SUBSCRIBE", "03" + "0014" + "02" + "01046c697665" + "0176" + "03" + "2040" + "0104040a0305" + "0102",
			&Subscribe{RequestID: 2, Namespace: Tuple{"live"}, Name: "v", SubscriberPriority: 64, GroupOrder: GroupOrderDescending,
				Forward: true, FilterType: FilterAbsoluteRange, Start: Location{10, 3}, EndGroup: 15,
				Params: Params{IntParam(Param18SubscriberPriority, 64), BytesParam(Param18SubscriptionFilter, []byte{4, 10, 3, 5}),
					IntParam(Param18GroupOrder, 2)}}},
		// SUBSCRIBE_OK: Track Alias 200 = 2-byte vi64 80c8; 1 parameter
		// LARGEST_OBJECT (0x09: Location {5,1}, no length); Track
		// Properties: DEFAULT_PUBLISHER_GROUP_ORDER (0x22, even: varint 2).
		{"SUBSCRIBE_OK", "04" + "0008" + "80c8" + "01" + "090501" + "2202",
			&SubscribeOK{TrackAlias: 200, GroupOrder: GroupOrderDescending, ContentExists: true, Largest: Location{5, 1},
				Params:          Params{BytesParam(Param18LargestObject, []byte{5, 1})},
				TrackExtensions: Params{IntParam(Prop18DefaultPublisherGroupOrder, 2)}}},
		// SUBSCRIBE_NAMESPACE: type 0x50 fits one vi64 byte (QUIC would
		// need two); Request ID 0, empty prefix, no parameters.
		{"SUBSCRIBE_NAMESPACE", "50" + "0003" + "000000", &SubscribeNamespace{Prefix: Tuple{}}},
	})
}

// textVector is a message hand-encoded from a draft's text.
type textVector struct {
	name string
	hex  string
	want Message
}

// runTextVectors checks that each vector decodes in d to the message shown
// and that the encoder gives the same bytes.
func runTextVectors(t *testing.T, d Draft, vs []textVector) {
	for _, c := range vs {
		b, err := hex.DecodeString(c.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParseMessage(b, d, nil)
		if err != nil || n != len(b) {
			t.Fatalf("%s: ParseMessage(%s) = %v, %d", c.name, c.hex, err, n)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
		if enc := mustAppend(t, d, c.want); !bytes.Equal(enc, b) {
			t.Fatalf("%s: encoded %x, want %s", c.name, enc, c.hex)
		}
	}
}

// TestControl18TypedFields: typed fields built the draft-14 way encode as
// draft-18 parameters (uint8 values are one byte, defaults left out).
func TestControl18TypedFields(t *testing.T) {
	enc := mustAppend(t, Draft18, &Subscribe{RequestID: 1, Namespace: Tuple{"live"}, Name: "video",
		SubscriberPriority: 200, GroupOrder: GroupOrderDescending, Forward: true, FilterType: FilterLargestObject})
	// Parameters 0x20 (uint8 200 = c8), 0x21 (length 1: {2}), 0x22 (uint8 2).
	if want := "03" + "0015" + "01" + "01046c697665" + "05766964656f" + "03" + "20c8" + "010102" + "0102"; hex.EncodeToString(enc) != want {
		t.Errorf("SUBSCRIBE = %x, want %s", enc, want)
	}
	u := mustAppend(t, Draft18, &SubscribeUpdate{RequestID: 3, Forward: false, Changed: UpdateForward})
	if want := "02" + "0004" + "03" + "01" + "1000"; hex.EncodeToString(u) != want {
		t.Errorf("REQUEST_UPDATE = %x, want %s", u, want)
	}
	// PUBLISH_OK / TRACK_STATUS_OK are REQUEST_OKs.
	ok, err := RequestOKFromPublishOK18(&PublishOK{Forward: false, SubscriberPriority: 128, FilterType: FilterNextGroupStart})
	if err != nil {
		t.Fatal(err)
	}
	back, err := PublishOKFromRequestOK18(ok)
	if err != nil || back.Forward || back.SubscriberPriority != 128 || back.FilterType != FilterNextGroupStart || back.GroupOrder != GroupOrderPublisher {
		t.Errorf("PUBLISH_OK via REQUEST_OK: %+v, %v", back, err)
	}
	ts, err := TrackStatusFromRequestOK18(&RequestOK{Params: Params{BytesParam(Param18LargestObject, Location18(Location{7, 2}))},
		TrackExtensions: Params{IntParam(Prop18DefaultPublisherGroupOrder, 2)}})
	if err != nil || !ts.ContentExists || ts.Largest != (Location{7, 2}) || ts.GroupOrder != GroupOrderDescending {
		t.Errorf("TRACK_STATUS_OK: %+v, %v", ts, err)
	}
	// And back: the engine builds TRACK_STATUS_OK's REQUEST_OK from the
	// typed fields (group order as a track property), through the bytes.
	tsOK := RequestOKFromTrackStatus18(&TrackStatus{ContentExists: true, Largest: Location{9, 4}, GroupOrder: GroupOrderDescending, Expires: 30})
	m, _, err := ParseMessage(mustAppend(t, Draft18, tsOK), Draft18, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, err = TrackStatusFromRequestOK18(m.(*RequestOK))
	if err != nil || !ts.ContentExists || ts.Largest != (Location{9, 4}) || ts.GroupOrder != GroupOrderDescending || ts.Expires != 30 {
		t.Errorf("TRACK_STATUS_OK round trip: %+v, %v", ts, err)
	}
	// ApplyParams sets the typed fields from the lists (a message built
	// from its parameters, e.g. from JSON), so encoding keeps the lists.
	sub := &Subscribe{RequestID: 2, Namespace: Tuple{"live"}, Name: "v", Params: Params{IntParam(Param18SubscriberPriority, 64),
		BytesParam(Param18SubscriptionFilter, []byte{4, 10, 3, 5}), IntParam(Param18GroupOrder, 2)}}
	if err := ApplyParams(Draft18, sub); err != nil || sub.SubscriberPriority != 64 || sub.EndGroup != 15 || !sub.Forward {
		t.Fatalf("ApplyParams SUBSCRIBE: %+v %v", sub, err)
	}
	if got := hex.EncodeToString(mustAppend(t, Draft18, sub)); got != "0300140201046c697665017603204001040"+"40a03050102" {
		t.Errorf("SUBSCRIBE after ApplyParams = %s", got)
	}
	sok := &SubscribeOK{TrackAlias: 1, TrackExtensions: Params{IntParam(Prop18DefaultPublisherGroupOrder, 2)},
		Params: Params{BytesParam(Param18LargestObject, []byte{5, 1})}}
	if err := ApplyParams(Draft18, sok); err != nil || sok.GroupOrder != GroupOrderDescending || !sok.ContentExists || sok.Largest != (Location{5, 1}) {
		t.Fatalf("ApplyParams SUBSCRIBE_OK: %+v %v", sok, err)
	}
	if err := ApplyParams(Draft18, &Subscribe{Params: Params{BytesParam(Param18SubscriptionFilter, []byte{9})}}); err == nil {
		t.Error("ApplyParams accepted filter type 9")
	}
	// A filter whose end group is below its start cannot be written.
	if _, err := AppendMessage(nil, Draft18, &Subscribe{Namespace: Tuple{"a"}, FilterType: FilterAbsoluteRange,
		Start: Location{5, 0}, EndGroup: 4}); err == nil {
		t.Error("AbsoluteRange ending before its start was encoded")
	}
}

// TestControl18Errors: bad draft-18 inputs are protocol errors of the right
// kind.
func TestControl18Errors(t *testing.T) {
	for _, c := range []struct {
		name    string
		typ     uint64
		payload string
		kind    Kind
	}{
		{"unknown parameter", 0x03, "02" + "010161" + "0176" + "01" + "0500", KindInvalidValue},
		{"unknown odd parameter", 0x03, "02" + "010161" + "0176" + "01" + "050100", KindInvalidValue},
		{"repeated parameter", 0x03, "02" + "010161" + "0176" + "02" + "2001" + "0002", KindInvalidValue},
		{"forward 2", 0x03, "02" + "010161" + "0176" + "01" + "1002", KindInvalidValue},
		{"group order 0", 0x03, "02" + "010161" + "0176" + "01" + "2200", KindInvalidValue},
		{"filter type 5", 0x03, "02" + "010161" + "0176" + "01" + "210105", KindInvalidValue},
		{"filter end delta wraps", 0x03, "02" + "010161" + "0176" + "01" + "210c04" + "fffffffffffffffff0" + "00" + "20", KindInvalidValue},
		{"filter too long", 0x03, "02" + "010161" + "0176" + "01" + "21020200", KindLengthMismatch},
		{"parameter type wraps", 0x03, "02" + "010161" + "0176" + "02" + "2001" + "ffffffffffffffffff" + "00", KindInvalidValue},
		{"empty namespace field", 0x03, "02" + "0100" + "0176" + "00", KindInvalidValue},
		{"33 namespace fields", 0x50, "00" + "21" + strings.Repeat("0161", 33) + "00", KindInvalidValue},
		{"truncated location", 0x04, "01" + "01" + "0905", KindTruncated},
		{"bad fetch type", 0x16, "00" + "04" + "00", KindInvalidValue},
		{"end of track 2", 0x18, "02" + "0000" + "00", KindInvalidValue},
		{"trailing bytes after GOAWAY request id", 0x10, "00" + "00" + "01" + "02", KindLengthMismatch},
		{"redirect missing", 0x05, "34" + "00" + "00", KindTruncated},
		{"reason too long", 0x05, "00" + "00" + "8401", KindLimit},
		{"track properties odd value truncated", 0x04, "01" + "00" + "0105", KindTruncated},
		{"namespace prefix parameter with empty field", 0x02, "02" + "01" + "34" + "0100", KindInvalidValue},
		// Parameters outside the messages their definitions list.
		{"EXPIRES in FETCH_OK", 0x18, "00" + "0000" + "01" + "0801", KindInvalidValue},
		{"FORWARD in SUBSCRIBE_NAMESPACE", 0x50, "00" + "00" + "01" + "1001", KindInvalidValue},
		{"FILL_TIMEOUT in SUBSCRIBE", 0x03, "02" + "010161" + "0176" + "01" + "0a00", KindInvalidValue},
		{"TRACK_NAMESPACE_PREFIX in SUBSCRIBE", 0x03, "02" + "010161" + "0176" + "01" + "3400", KindInvalidValue},
	} {
		b, err := hex.DecodeString(c.payload)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, _, err = ParseMessage(frameFor(Draft18, c.typ, b), Draft18, nil)
		pe, ok := AsProtocolError(err)
		if !ok || pe.Kind != c.kind {
			t.Errorf("%s: %v, want kind %v", c.name, err, c.kind)
		}
	}
	// An unknown parameter is refused even with AllowUnknownParams: it
	// cannot be skipped.
	b, _ := hex.DecodeString("02" + "010161" + "0176" + "01" + "0500")
	_, _, err := ParseMessage(frameFor(Draft18, 0x03, b), Draft18, &Limits{AllowUnknownParams: true})
	wantKind(t, err, KindInvalidValue)
	// A parameter out of its scope is kept with AllowUnknownParams.
	b, _ = hex.DecodeString("00" + "0000" + "01" + "0801")
	if m, _, err := ParseMessage(frameFor(Draft18, 0x18, b), Draft18, &Limits{AllowUnknownParams: true}); err != nil ||
		len(m.(*FetchOK).Params) != 1 {
		t.Errorf("FETCH_OK with EXPIRES, lenient: %+v %v", m, err)
	}
	// Encoder-side refusals.
	for _, m := range []Message{
		&Subscribe{Namespace: Tuple{"a", ""}},
		&Subscribe{Namespace: Tuple{"a"}, Params: Params{IntParam(0x05, 1)}},
		&RequestOK{Params: Params{IntParam(Param18SubscriberPriority, 300)}}, // no typed field overrides it
		&Subscribe{Namespace: Tuple{"a"}, Params: Params{BytesParam(Param18Expires, []byte{1})}},
		&Subscribe{Namespace: Tuple{"a"}, Params: Params{IntParam(Param18Expires, 1), IntParam(Param18Expires, 2)}},
		&RequestOK{Params: Params{BytesParam(Param18LargestObject, []byte{1})}},
		&RequestError{ErrorCode: 1, Redirect: &Redirect{}},
		&Setup{Params: Params{IntParam(1, 5)}}, // odd option with an integer
		&FetchOK{Params: Params{IntParam(Param18Expires, 5)}},
		&SubscribeNamespace{Params: Params{IntParam(Param18Forward, 1)}},
	} {
		if _, err := AppendMessage(nil, Draft18, m); err == nil {
			t.Errorf("%T %+v encoded", m, m)
		}
	}
}

// TestControl18TruncatedEverywhere: every sample cut at every byte of its
// payload is a *ProtocolError, never a panic. Messages ending in Track
// Properties or Setup Options (up to the end of the payload) or GOAWAY's
// optional Request ID may decode when cut at a field boundary; then they
// must be shorter versions of the sample.
func TestControl18TruncatedEverywhere(t *testing.T) { truncatedEverywhereVi64(t, Draft18) }

func truncatedEverywhereVi64(t *testing.T, d Draft) {
	for _, m := range samplesFor(d) {
		enc := mustAppend(t, d, m)
		typ, tn, _ := ParseVarint18(enc)
		payload := enc[tn+2:]
		for cut := 0; cut < len(payload); cut++ {
			got, _, err := ParseMessage(frameFor(d, typ, payload[:cut]), d, nil)
			if err == nil {
				switch g := got.(type) {
				case *Setup, *SubscribeOK, *Publish, *FetchOK:
				case *RequestOK:
					if len(g.Params) != 0 || cut == 0 {
						// cut inside Track Properties only
						if r := m.(*RequestOK); len(r.TrackExtensions) == 0 {
							t.Fatalf("REQUEST_OK cut at %d/%d decoded as %+v", cut, len(payload), got)
						}
					}
				case *GoAway:
					if g.HasRequestID {
						t.Fatalf("GOAWAY cut at %d/%d decoded with a Request ID: %+v", cut, len(payload), got)
					}
				default:
					t.Fatalf("%s cut at %d/%d decoded as %+v", MessageName(d, m), cut, len(payload), got)
				}
				continue
			}
			if _, ok := AsProtocolError(err); !ok {
				t.Fatalf("%s cut at %d: %v is not a *ProtocolError", MessageName(d, m), cut, err)
			}
		}
		// And the whole frame cut anywhere is ErrNeedMore.
		for cut := 0; cut < len(enc); cut++ {
			if _, _, err := ParseMessage(enc[:cut], d, nil); err != ErrNeedMore {
				t.Fatalf("%s frame cut at %d: %v", MessageName(d, m), cut, err)
			}
		}
	}
}

// TestControl18Reader: a control stream of draft-18 messages reads back in
// order through ControlReader.
func TestControl18Reader(t *testing.T) { readerVi64(t, Draft18) }

func readerVi64(t *testing.T, d Draft) {
	ms := samplesFor(d)
	var stream []byte
	for _, m := range ms {
		stream = append(stream, mustAppend(t, d, m)...)
	}
	cr := NewControlReader(bytes.NewReader(stream), d, nil)
	for i, want := range ms {
		got, err := cr.Read()
		if err != nil {
			t.Fatalf("#%d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("#%d: %+v, want %+v", i, got, want)
		}
	}
}

func TestControl18MandatoryRange(t *testing.T) {
	for k, want := range map[uint64]bool{0x3FFF: false, 0x4000: true, 0x4001: true, 0x7FFF: true, 0x8000: false, 0x22: false} {
		if IsMandatoryTrackProperty18(k) != want {
			t.Errorf("0x%x: %v", k, !want)
		}
	}
}

func FuzzParseMessage18(f *testing.F) {
	for _, m := range samples18() {
		f.Add(mustAppend(f, Draft18, m))
	}
	f.Add([]byte{0xaf, 0x00, 0x00, 0x00})
	for _, v := range loadMoqtapTSV(f, "draft18") {
		f.Add(v.b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseMessage(t, Draft18, data) })
}

// TestMoqtapVectors18: the moqtap draft-18 vectors of the extract (see
// testdata/moqtap/SOURCE.txt). Three, from an older moqtap version than
// the rest, give LARGEST_OBJECT and TRACK_NAMESPACE_PREFIX a length prefix;
// the draft-18 text makes the one a Location ("two consecutive varints")
// and the other a bare Track Namespace, and moqtap's newer draft-18
// (SUBSCRIBE_OK, PUBLISH) and draft-20 vectors write both without one.
func TestMoqtapVectors18(t *testing.T) {
	const prefixed = "moqtap length-prefixes a parameter the text gives its own encoding"
	runMoqtapVectors(t, Draft18, "draft18", map[string]string{
		"request-update.json/with-track-namespace-prefix": prefixed,
		"request-ok.json/with-largest-object":             prefixed,
		"request-ok.json/track-status-ok-with-properties": prefixed,
	})
	runMoqtapTSV(t, Draft18, "draft18", "data-streams.tsv", nil)
}
