package wirejson

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keysOf returns the member names of a JSON object in document order.
func keysOf(t *testing.T, j []byte, path ...string) []string {
	t.Helper()
	tree, err := parseJSON(j)
	if err != nil {
		t.Fatal(err)
	}
	o := tree.(*object)
	for _, p := range path {
		x, ok := o.get(p)
		if !ok {
			t.Fatalf("no member %q in %s", p, j)
		}
		o = x.(*object)
	}
	return o.keys
}

// roundTrip checks m -> bytes -> JSON -> message -> bytes and JSON -> bytes.
func roundTrip(t *testing.T, d wire.Draft, m wire.Message) []byte {
	t.Helper()
	b, err := wire.AppendMessage(nil, d, m)
	if err != nil {
		t.Fatalf("AppendMessage: %v", err)
	}
	j, err := DecodeMessage(d, b)
	if err != nil {
		t.Fatalf("DecodeMessage: %v", err)
	}
	back, err := EncodeMessage(d, j)
	if err != nil {
		t.Fatalf("EncodeMessage(%s): %v", j, err)
	}
	if !bytes.Equal(back, b) {
		t.Errorf("round trip\n got %x\nwant %x\njson %s", back, b, j)
	}
	j2, err := MessageToJSON(d, m)
	if err != nil || !bytes.Equal(j2, j) {
		t.Errorf("MessageToJSON = %s, %v; DecodeMessage gave %s", j2, err, j)
	}
	return j
}

func TestNonUTF8Fields(t *testing.T) {
	m := &wire.Subscribe{
		RequestID:  4,
		Namespace:  wire.Tuple{"ok", "\xff\x00", ""},
		Name:       "\xc3",
		GroupOrder: 1,
		FilterType: wire.FilterLargestObject,
		Params:     wire.Params{wire.BytesParam(0x25, []byte{0xff})},
	}
	j := roundTrip(t, wire.Draft14, m)
	want := `"track_namespace":["ok",{"hex":"ff00"},""],"track_name":{"hex":"c3"}`
	if !strings.Contains(string(j), want) {
		t.Errorf("JSON %s does not contain %s", j, want)
	}
	// Reason phrases and string parameters too.
	roundTrip(t, wire.Draft07, &wire.SubscribeError{RequestID: 1, Reason: "bad \xfe", TrackAlias: 2})
	j = roundTrip(t, wire.Draft07, &wire.PublishNamespace{Namespace: wire.Tuple{"a"},
		Params: wire.Params{wire.BytesParam(wire.Param07AuthorizationInfo, []byte("\x80tok"))}})
	if !strings.Contains(string(j), `"authorization_info":{"hex":"80746f6b"}`) {
		t.Errorf("JSON %s", j)
	}
}

func TestParameterOrderAndRepeats(t *testing.T) {
	token := func(b ...byte) wire.Param { return wire.BytesParam(wire.Param14AuthorizationToken, b) }
	m := &wire.Subscribe{
		RequestID:  2,
		Namespace:  wire.Tuple{"live"},
		Name:       "video",
		FilterType: wire.FilterNextGroupStart,
		Params: wire.Params{
			wire.BytesParam(0x21, []byte{0xde, 0xad}),
			wire.IntParam(wire.Param14DeliveryTimeout, 5000),
			wire.IntParam(0x20, 7),
			wire.BytesParam(0x23, nil),
			token(3, 1, 'x', 'y'), // USE_VALUE, type 1, "xy"
			token(1, 9, 2, 0xaa),  // REGISTER alias 9, type 2
			token(2, 9),           // USE_ALIAS 9
			token(0, 0x40, 9),     // DELETE, alias as a non-minimal varint: raw
			token(7, 1),           // unknown alias type: raw
			token(),               // empty: raw
			wire.IntParam(wire.Param14DeliveryTimeout, 1),
		},
	}
	j := roundTrip(t, wire.Draft14, m)
	got := keysOf(t, j, "parameters")
	want := []string{"unknown", "delivery_timeout", "unknown", "authorization_token", "authorization_token",
		"authorization_token", "authorization_token", "authorization_token", "authorization_token", "delivery_timeout"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("parameter members %v, want %v\n%s", got, want, j)
	}
	for _, frag := range []string{
		`"unknown":[{"id":"0x21","length":"2","raw_hex":"dead"}]`,
		`"unknown":[{"id":"0x20","value":"7"},{"id":"0x23","length":"0","raw_hex":""}]`,
		`"authorization_token":{"alias_type":"3","token_type":"1","token_value":"7879"}`,
		`"authorization_token":{"alias_type":"1","token_alias":"9","token_type":"2","token_value":"aa"}`,
		`"authorization_token":{"alias_type":"2","token_alias":"9"}`,
		`"authorization_token":{"raw_hex":"004009"}`,
		`"authorization_token":{"raw_hex":"0701"}`,
		`"authorization_token":{"raw_hex":""}`,
	} {
		if !strings.Contains(string(j), frag) {
			t.Errorf("JSON lacks %s\n%s", frag, j)
		}
	}
}

func TestDraft07Parameters(t *testing.T) {
	m := &wire.ClientSetup{
		Versions: []uint64{wire.Version07},
		Params: wire.Params{
			wire.BytesParam(0x30, []byte("x")),
			wire.IntParam(wire.SetupRole, wire.RolePubSub),
			wire.BytesParam(wire.SetupPath, []byte("/moq")),
			wire.IntParam(wire.SetupMaxRequestID, 100),
		},
	}
	j := roundTrip(t, wire.Draft07, m)
	want := `"parameters":{"unknown":[{"id":"0x30","length":"1","raw_hex":"78"}],"role":"3","path":"/moq","max_subscribe_id":"100"}`
	if !strings.Contains(string(j), want) {
		t.Errorf("JSON %s lacks %s", j, want)
	}
	// Message parameters use their own names: 0x02 is AUTHORIZATION_INFO
	// here, not MAX_SUBSCRIBE_ID.
	j = roundTrip(t, wire.Draft07, &wire.Subscribe{RequestID: 1, TrackAlias: 1, Namespace: wire.Tuple{"a"}, Name: "b",
		FilterType: wire.FilterLatestGroup, Params: wire.Params{
			wire.BytesParam(wire.Param07AuthorizationInfo, []byte("t")),
			wire.IntParam(wire.Param07DeliveryTimeout, 10),
			wire.IntParam(wire.Param07MaxCacheDuration, 20),
		}})
	if !strings.Contains(string(j), `"parameters":{"authorization_info":"t","delivery_timeout":"10","max_cache_duration":"20"}`) {
		t.Errorf("JSON %s", j)
	}
	// An unknown draft-07 parameter given with "value" is a varint in a TLV.
	b, err := EncodeMessage(wire.Draft07, []byte(`{"message_type":"announce","track_namespace":["a"],"parameters":{"unknown":[{"id":"0x30","value":"300"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, "06 08 01 01 61 01 30 02 412c"); !bytes.Equal(b, want) {
		t.Errorf("got %x, want %x", b, want)
	}
}

func TestAllMessagesRoundTrip(t *testing.T) {
	ns := wire.Tuple{"ns"}
	loc := wire.Location{Group: 7, Object: 8}
	msgs := []wire.Message{
		&wire.ClientSetup{Versions: []uint64{wire.Version07, wire.Version14}},
		&wire.ServerSetup{Version: wire.Version14, Params: wire.Params{wire.IntParam(wire.SetupMaxRequestID, 3)}},
		&wire.GoAway{NewSessionURI: "moqt://x/y"},
		&wire.MaxRequestID{RequestID: 9},
		&wire.RequestsBlocked{MaximumRequestID: 9},
		&wire.Subscribe{RequestID: 2, TrackAlias: 3, Namespace: ns, Name: "n", SubscriberPriority: 1, GroupOrder: 2, Forward: true,
			FilterType: wire.FilterAbsoluteRange, Start: loc, EndGroup: 9, EndObject: 4},
		&wire.SubscribeOK{RequestID: 2, TrackAlias: 3, Expires: 4, GroupOrder: 1, ContentExists: true, Largest: loc},
		&wire.SubscribeError{RequestID: 2, ErrorCode: 3, Reason: "r", TrackAlias: 5},
		&wire.SubscribeUpdate{RequestID: 2, SubscriptionRequestID: 0, Start: loc, EndGroup: 10, EndObject: 2, SubscriberPriority: 3, Forward: true},
		&wire.Unsubscribe{RequestID: 2},
		&wire.PublishDone{RequestID: 2, StatusCode: 1, StreamCount: 3, Reason: "done", ContentExists: true, Final: loc},
		&wire.Publish{RequestID: 1, Namespace: ns, Name: "n", TrackAlias: 4, GroupOrder: 1, ContentExists: true, Largest: loc, Forward: true},
		&wire.PublishOK{RequestID: 1, Forward: true, SubscriberPriority: 5, GroupOrder: 2, FilterType: wire.FilterAbsoluteStart, Start: loc},
		&wire.PublishError{RequestID: 1, ErrorCode: 4, Reason: "no"},
		&wire.Fetch{RequestID: 4, SubscriberPriority: 1, GroupOrder: 1, FetchType: wire.FetchStandalone, Namespace: ns, Name: "n", Start: loc, End: wire.Location{Group: 9, Object: 1}},
		&wire.FetchCancel{RequestID: 4},
		&wire.FetchOK{RequestID: 4, GroupOrder: 1, EndOfTrack: true, End: loc},
		&wire.FetchError{RequestID: 4, ErrorCode: 1, Reason: "x"},
		&wire.PublishNamespace{RequestID: 6, Namespace: ns},
		&wire.PublishNamespaceOK{RequestID: 6, Namespace: ns},
		&wire.PublishNamespaceError{RequestID: 6, Namespace: ns, ErrorCode: 1, Reason: "e"},
		&wire.PublishNamespaceDone{Namespace: ns},
		&wire.PublishNamespaceCancel{Namespace: ns, ErrorCode: 2, Reason: "c"},
		&wire.TrackStatusRequest{RequestID: 8, Namespace: ns, Name: "n", FilterType: wire.FilterLargestObject},
		&wire.TrackStatus{RequestID: 8, Namespace: ns, Name: "n", StatusCode: 0, GroupOrder: 1, ContentExists: true, Largest: loc},
		&wire.TrackStatusError{RequestID: 8, ErrorCode: 4, Reason: "none"},
		&wire.SubscribeNamespace{RequestID: 10, Prefix: ns},
		&wire.SubscribeNamespaceOK{RequestID: 10, Prefix: ns},
		&wire.SubscribeNamespaceError{RequestID: 10, Prefix: ns, ErrorCode: 5, Reason: "overlap"},
		&wire.UnsubscribeNamespace{Prefix: ns},
		&wire.Fetch{RequestID: 12, SubscriberPriority: 1, GroupOrder: 1, FetchType: wire.FetchRelativeJoining, JoiningRequestID: 2, JoiningStart: 1},
	}
	for _, d := range []wire.Draft{wire.Draft07, wire.Draft07CF, wire.Draft14} {
		names := map[string]bool{}
		for _, m := range msgs {
			if _, ok := wire.MessageType(d, m); !ok {
				if _, err := MessageToJSON(d, m); err == nil {
					t.Errorf("draft %v: MessageToJSON(%T) works for a message the draft lacks", d, m)
				}
				continue
			}
			if d.Is07() {
				if f, ok := m.(*wire.Fetch); ok && f.FetchType != wire.FetchStandalone {
					continue
				}
			}
			// Zero the fields the draft does not carry, so that the round
			// trip compares like with like.
			b, err := wire.AppendMessage(nil, d, m)
			if err != nil {
				t.Errorf("draft %v: AppendMessage(%T): %v", d, m, err)
				continue
			}
			m2, _, err := wire.ParseMessage(b, d, nil)
			if err != nil {
				t.Errorf("draft %v: ParseMessage(%T): %v", d, m, err)
				continue
			}
			j := roundTrip(t, d, m2)
			var probe struct {
				MessageType string `json:"message_type"`
			}
			_ = json.Unmarshal(j, &probe)
			names[probe.MessageType] = true
		}
		for _, n := range MessageNames(d) {
			if !names[n] {
				t.Errorf("draft %v: message %s not covered", d, n)
			}
		}
	}
}

func TestEncodeMessageErrors(t *testing.T) {
	tests := []struct {
		d    wire.Draft
		json string
		want string
	}{
		{wire.Draft14, `{"message_type":"subscribe","request_id":"1","track_namespace":["a"],"track_name":"b","subscriber_priority":"1","group_order":"0","forward":"0","filter_type":"1","end_group":"4","parameters":{}}`,
			"encode SUBSCRIBE: field end_group: unexpected field"},
		{wire.Draft14, `{"message_type":"subscribe","request_id":"1","request_id":"2"}`, "field request_id: appears more than once"},
		{wire.Draft14, `{"message_type":"unsubscribe","request_id":"-1"}`, "field request_id: want an unsigned integer"},
		{wire.Draft14, `{"message_type":"unsubscribe","request_id":"4611686018427387904"}`, "exceeds the largest varint"},
		{wire.Draft14, `{"message_type":"unsubscribe","request_id":1.5}`, "want an unsigned integer"},
		{wire.Draft14, `{"message_type":"subscribe_ok","request_id":"1","track_alias":"1","expires":"0","group_order":"256","content_exists":"0","parameters":{}}`,
			"field group_order: 256 does not fit in 8 bits"},
		{wire.Draft14, `{"message_type":"subscribe_ok","request_id":"1","track_alias":"1","expires":"0","group_order":"1","content_exists":"2","parameters":{}}`,
			`field content_exists: want "0" or "1"`},
		{wire.Draft14, `{"message_type":"publish_namespace","request_id":"1","track_namespace":["a"],"parameters":{"role":"1"}}`,
			"field parameters.role: unknown parameter name"},
		{wire.Draft14, `{"message_type":"publish_namespace","request_id":"1","track_namespace":["a"],"parameters":{"unknown":[{"id":"0x20","raw_hex":"00"}]}}`,
			"field parameters.unknown[0].value: missing"},
		{wire.Draft14, `{"message_type":"publish_namespace","request_id":"1","track_namespace":["a"],"parameters":{"unknown":[{"id":"0x21","length":"2","raw_hex":"00"}]}}`,
			"field parameters.unknown[0].length: is 2 but raw_hex holds 1 bytes"},
		{wire.Draft14, `{"message_type":"publish_namespace","request_id":"1","track_namespace":["a"],"parameters":{"authorization_token":{"alias_type":"2"}}}`,
			"field parameters.authorization_token.token_alias: missing"},
		{wire.Draft14, `{"message_type":"publish_namespace","request_id":"1","track_namespace":[{"hex":"zz"}],"parameters":{}}`,
			"field track_namespace[0]: bad hex"},
		{wire.Draft14, `{"message_type":"fetch_ok","request_id":"1","group_order":"1","end_of_track":"0","end_location":{"group":"1"},"parameters":{}}`,
			"field end_location.object: missing"},
		{wire.Draft14, `["subscribe"]`, "want a JSON object"},
		{wire.Draft14, `{"message_type":"subscribe"} {}`, "more than one value"},
		{wire.Draft14, `{}`, "field message_type: missing"},
		{wire.Draft14, strings.Repeat("[", 100), "nested deeper"},
		{wire.Draft14, `{"message_type":"unsubscribe","request_id":"1","extra":true}`, "field extra: unexpected field"},
		// The codec's own checks come through as well.
		{wire.Draft14, `{"message_type":"client_setup","supported_versions":[],"parameters":{}}`, "encode CLIENT_SETUP"},
	}
	for _, tc := range tests {
		_, err := EncodeMessage(tc.d, []byte(tc.json))
		if err == nil {
			t.Errorf("EncodeMessage(%s) succeeded, want error %q", tc.json, tc.want)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Op != "encode" {
			t.Errorf("EncodeMessage(%s): error %v is not an encode *Error", tc.json, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("EncodeMessage(%s): error %q, want it to contain %q", tc.json, err, tc.want)
		}
	}
	// The message type given by the caller must match the JSON's.
	if _, err := MessageFromJSON(wire.Draft14, "unsubscribe", []byte(`{"message_type":"fetch_cancel","request_id":"1"}`)); err == nil {
		t.Error("MessageFromJSON accepted a conflicting message_type")
	}
	if _, err := MessageFromJSON(wire.Draft14, "UNSUBSCRIBE", []byte(`{"request_id":"1"}`)); err != nil {
		t.Errorf("MessageFromJSON with the type given by the caller: %v", err)
	}
}

func TestDecodeMessageErrors(t *testing.T) {
	tests := []struct {
		d     wire.Draft
		hex   string
		kind  wire.Kind
		field string
	}{
		{wire.Draft14, "", wire.KindTruncated, "message_type"},
		{wire.Draft14, "40", wire.KindTruncated, "message_type"},
		{wire.Draft14, "0300", wire.KindTruncated, "message_length"},
		{wire.Draft07, "0340", wire.KindTruncated, "message_length"},
		{wire.Draft14, "0300120101046c697665", wire.KindTruncated, "track_name length"},
		{wire.Draft07, "0308020101046c69", wire.KindTruncated, "track_namespace"},
		{wire.Draft14, "3f0004deadbeef", wire.KindUnknownMessage, "type"},
		{wire.Draft14, "0a00010100", wire.KindLengthMismatch, ""},
	}
	for _, tc := range tests {
		_, err := DecodeMessage(tc.d, mustHex(t, tc.hex))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("DecodeMessage(%s): %v, want an *Error", tc.hex, err)
			continue
		}
		if e.Kind != tc.kind.String() || e.Field != tc.field {
			t.Errorf("DecodeMessage(%s): kind %q field %q (%v), want %q %q", tc.hex, e.Kind, e.Field, err, tc.kind, tc.field)
		}
		if tc.kind == wire.KindTruncated && !errors.Is(err, wire.ErrNeedMore) {
			t.Errorf("DecodeMessage(%s): truncation does not wrap ErrNeedMore", tc.hex)
		}
	}
}

func TestSubgroupExtensions(t *testing.T) {
	// Type 0x15: explicit subgroup 3, extensions. Object 0 carries
	// Prior Group ID Gap = 5 and an odd (bytes) extension 0x0b = "ab";
	// object 2 none; object 7 an empty payload with status End of Group.
	s := "15 01 09 03 80" +
		" 00 06 3c05 0b026162 02 6869" +
		" 01 00 01 7a" +
		" 04 00 00 03"
	b := mustHex(t, s)
	j, err := DecodeData(wire.Draft14, KindSubgroup, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`"extension_headers":[{"type":"60","value":"5"},{"type":"11","value_hex":"6162"}]`,
		`{"object_id_delta":"1","object_id":"2","extension_headers_length":"0","payload_length":"1","payload_hex":"7a"}`,
		`{"object_id_delta":"4","object_id":"7","extension_headers_length":"0","payload_length":"0","object_status":"3"}`,
	} {
		if !strings.Contains(string(j), frag) {
			t.Errorf("JSON lacks %s\n%s", frag, j)
		}
	}
	back, err := EncodeData(wire.Draft14, KindSubgroup, j)
	if err != nil || !bytes.Equal(back, b) {
		t.Errorf("EncodeData = %x, %v; want %x", back, err, b)
	}
	// A block with a non-minimal varint is kept as hex, so it still
	// round-trips byte for byte.
	b = mustHex(t, "11 01 00 80 00 03 403c05 00 00")
	j, err = DecodeData(wire.Draft14, KindSubgroup, b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"extension_headers_hex":"403c05"`) {
		t.Errorf("JSON %s", j)
	}
	if back, err := EncodeData(wire.Draft14, KindSubgroup, j); err != nil || !bytes.Equal(back, b) {
		t.Errorf("EncodeData = %x, %v; want %x", back, err, b)
	}
}

func TestSubgroupTypeDerived(t *testing.T) {
	tests := []struct {
		json string
		hex  string
	}{
		// No stream_type_id: subgroup 0, no extensions -> 0x10.
		{`{"track_alias":"1","group_id":"2","publisher_priority":"3","objects":[{"object_id":"0","payload_hex":"aa"}]}`,
			"10 01 02 03 00 01 aa"},
		// Subgroup = first object ID -> 0x12, delta coding from object_id.
		{`{"track_alias":"1","group_id":"2","subgroup_id":"5","publisher_priority":"3","objects":[{"object_id":"5","payload_hex":"aa"},{"object_id":"9","object_status":"3"}]}`,
			"12 01 02 03 05 01 aa 03 00 03"},
		// Another subgroup -> explicit 0x14; IDs from deltas.
		{`{"track_alias":"1","group_id":"2","subgroup_id":"5","publisher_priority":"3","objects":[{"object_id_delta":"0","payload_hex":"aa"},{"object_id_delta":"0","payload_hex":"bb"}]}`,
			"14 01 02 05 03 00 01 aa 00 01 bb"},
		// Extensions -> 0x11.
		{`{"track_alias":"1","group_id":"2","publisher_priority":"3","objects":[{"object_id":"0","extension_headers":[{"type":"2","value":"1"}],"payload_hex":"aa"}]}`,
			"11 01 02 03 00 02 0201 01 aa"},
		// An empty stream.
		{`{"stream_type":"subgroup_header","stream_type_id":"24","track_alias":"1","group_id":"2","subgroup_id":"0","publisher_priority":"3","objects":[]}`,
			"18 01 02 03"},
	}
	for _, tc := range tests {
		b, err := EncodeData(wire.Draft14, KindSubgroup, []byte(tc.json))
		if err != nil {
			t.Errorf("EncodeData(%s): %v", tc.json, err)
			continue
		}
		if want := mustHex(t, tc.hex); !bytes.Equal(b, want) {
			t.Errorf("EncodeData(%s) = %x, want %x", tc.json, b, want)
		}
	}
}

func TestDatagramTypeDerived(t *testing.T) {
	tests := []struct {
		json string
		hex  string
	}{
		{`{"track_alias":"1","group_id":"2","object_id":"3","publisher_priority":"4","payload_hex":"aa"}`, "00 01 02 03 04 aa"},
		{`{"track_alias":"1","group_id":"2","publisher_priority":"4","payload_hex":"aa"}`, "04 01 02 04 aa"},
		{`{"track_alias":"1","group_id":"2","object_id":"3","publisher_priority":"4","object_status":"3"}`, "20 01 02 03 04 03"},
		{`{"track_alias":"1","group_id":"2","object_id":"3","publisher_priority":"4","extension_headers_hex":"0201","payload_hex":""}`, "01 01 02 03 04 02 0201"},
		{`{"stream_type":"object_datagram","stream_type_id":"6","track_alias":"1","group_id":"2","publisher_priority":"4","payload_hex":"aa"}`, "06 01 02 04 aa"},
	}
	for _, tc := range tests {
		if _, err := EncodeData(wire.Draft14, "", []byte(tc.json)); err == nil && !strings.Contains(tc.json, "stream_type") {
			t.Errorf("EncodeData with no kind and no stream_type succeeded for %s", tc.json)
		}
		b, err := EncodeData(wire.Draft14, KindDatagram, []byte(tc.json))
		if err != nil {
			t.Errorf("EncodeData(%s): %v", tc.json, err)
			continue
		}
		if want := mustHex(t, tc.hex); !bytes.Equal(b, want) {
			t.Errorf("EncodeData(%s) = %x, want %x", tc.json, b, want)
		}
	}
}

func TestEncodeDataErrors(t *testing.T) {
	tests := []struct {
		d    wire.Draft
		k    Kind
		json string
		want string
	}{
		{wire.Draft14, KindSubgroup, `{"stream_type":"fetch_header","track_alias":"1"}`, `field stream_type: is "fetch_header"`},
		{wire.Draft14, KindSubgroup, `{"stream_type_id":"16","track_alias":"1","group_id":"0","subgroup_id":"0","publisher_priority":"1","objects":[{"object_id":"0","payload_length":"3","payload_hex":"aa"}]}`,
			"field objects[0].payload_length: is 3 but payload_hex holds 1 bytes"},
		{wire.Draft14, KindSubgroup, `{"stream_type_id":"16","track_alias":"1","group_id":"0","subgroup_id":"0","publisher_priority":"1","objects":[{"object_id":"0","extension_headers_length":"0","payload_hex":"aa"}]}`,
			"field objects[0].extension_headers_length: unexpected field"},
		{wire.Draft14, KindSubgroup, `{"stream_type_id":"16","track_alias":"1","group_id":"0","subgroup_id":"0","publisher_priority":"1","objects":[{"object_id":"4","object_id_delta":"3","payload_hex":"aa"}]}`,
			"field objects[0].object_id_delta: is 3, but object_id 4 gives 4"},
		{wire.Draft14, KindSubgroup, `{"stream_type_id":"16","track_alias":"1","group_id":"0","subgroup_id":"0","publisher_priority":"1","objects":[{"object_id":"4"},{"object_id":"4"}]}`,
			"field objects[1]: object ID 4 does not rise above"},
		{wire.Draft14, KindSubgroup, `{"stream_type_id":"18","track_alias":"1","group_id":"0","subgroup_id":"2","publisher_priority":"1","objects":[{"object_id":"4"}]}`,
			"field subgroup_id: is 2, but stream type 0x12 makes it the first object's ID, 4"},
		{wire.Draft14, KindSubgroup, `{"stream_type_id":"16","track_alias":"1","group_id":"0","subgroup_id":"0","publisher_priority":"1","objects":[{"object_id":"0","payload_hex":"aa","object_status":"3"}]}`,
			"field objects[0].object_status: must be 0 for an object with a payload"},
		{wire.Draft14, KindSubgroup, `{"stream_type_id":"16","track_alias":"1","group_id":"0","subgroup_id":"0","publisher_priority":"1","objects":[{"object_id":"0","object_status":"5"}]}`,
			"encode subgroup stream: field objects[0]"},
		{wire.Draft14, KindFetch, `{"request_id":"1","objects":[{"group_id":"0","subgroup_id":"0","object_id":"0","publisher_priority":"1","extension_headers_hex":"02","payload_hex":"aa"}]}`,
			"encode fetch stream: field objects[0]"},
		{wire.Draft07, KindFetch, `{"request_id":"1","objects":[]}`, "field subscribe_id: missing"},
		{wire.Draft07, KindDatagram, `{"track_alias":"1","group_id":"0","object_id":"0","publisher_priority":"1","payload_hex":"aa","extension_headers_hex":""}`,
			"field extension_headers_hex: unexpected field"},
		{wire.Draft14, KindDatagram, `{"stream_type_id":"32","track_alias":"1","group_id":"0","object_id":"0","publisher_priority":"1","payload_hex":"aa"}`,
			"field object_status: missing"},
		{wire.Draft14, "", `{"stream_type":"nonsense"}`, "field stream_type: cannot tell the kind"},
		{wire.Draft14, KindControl, `{}`, "not a data kind"},
	}
	for _, tc := range tests {
		_, err := EncodeData(tc.d, tc.k, []byte(tc.json))
		if err == nil {
			t.Errorf("EncodeData(%s) succeeded, want %q", tc.json, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("EncodeData(%s): %q, want it to contain %q", tc.json, err, tc.want)
		}
	}
}

func TestDecodeDataErrors(t *testing.T) {
	tests := []struct {
		d     wire.Draft
		k     Kind
		hex   string
		kind  string
		field string
	}{
		{wire.Draft14, KindSubgroup, "", "truncated", "stream_type"},
		{wire.Draft07CF, KindSubgroup, "0407", "truncated", "track_alias"},
		{wire.Draft14, KindSubgroup, "140100", "truncated", "subgroup_id"},
		{wire.Draft14, KindSubgroup, "1101008000", "truncated", "objects[0].extension_headers_length"},
		{wire.Draft14, KindSubgroup, "110100800003aa", "truncated", "objects[0].extension_headers"},
		{wire.Draft14, KindSubgroup, "10010080000468", "truncated", "objects[0].payload_hex"},
		{wire.Draft14, KindSubgroup, "100100800000", "truncated", "objects[0].object_status"},
		{wire.Draft14, KindSubgroup, "10010080 0001aa 02", "truncated", "objects[1].payload_length"},
		{wire.Draft14, KindSubgroup, "1601008000", "unknown message", "type"},
		{wire.Draft14, KindSubgroup, "100100800000 09", "invalid value", "objects[0].object_status"},
		{wire.Draft07, KindFetch, "0502 000000", "truncated", "objects[0].publisher_priority"},
		{wire.Draft14, KindFetch, "06", "unknown message", "type"},
		{wire.Draft14, KindDatagram, "00010280", "truncated", "object_id"},
		{wire.Draft14, KindDatagram, "08010203", "unknown message", "type"},
	}
	for _, tc := range tests {
		_, err := DecodeData(tc.d, tc.k, mustHex(t, strings.ReplaceAll(tc.hex, " ", "")))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("DecodeData(%v, %s, %s) = %v, want an *Error", tc.d, tc.k, tc.hex, err)
			continue
		}
		if e.Kind != tc.kind || e.Field != tc.field {
			t.Errorf("DecodeData(%v, %s, %s): kind %q field %q (%v), want %q %q", tc.d, tc.k, tc.hex, e.Kind, e.Field, err, tc.kind, tc.field)
		}
	}
}

// seeds returns every vector's bytes, for each draft and kind.
func seeds(t testing.TB) []struct {
	d wire.Draft
	k Kind
	b []byte
} {
	var out []struct {
		d wire.Draft
		k Kind
		b []byte
	}
	for _, dr := range []struct {
		dir string
		ds  []wire.Draft
	}{{"draft07", []wire.Draft{wire.Draft07, wire.Draft07CF}}, {"draft14", []wire.Draft{wire.Draft14}}, {"draft16", []wire.Draft{wire.Draft16}}} {
		files, _ := filepath.Glob(filepath.Join(vectorRoot, dr.dir, "codec", "*", "*.json"))
		for _, f := range files {
			k := Kind(vectorKind(f))
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var vf vectorFile
			if err := json.Unmarshal(raw, &vf); err != nil {
				t.Fatal(err)
			}
			for _, v := range vf.Vectors {
				b, _ := hex.DecodeString(v.Hex)
				for _, d := range dr.ds {
					out = append(out, struct {
						d wire.Draft
						k Kind
						b []byte
					}{d, k, b})
				}
			}
		}
	}
	return out
}

// checkStable is the property every input must satisfy: decoding never
// panics, and whatever decodes encodes again, to bytes that decode to the
// same JSON.
func checkStable(t *testing.T, d wire.Draft, k Kind, b []byte) {
	j, err := Decode(d, k, b)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Decode(%v, %s, %x): error %v is not an *Error", d, k, b, err)
		}
		return
	}
	b2, err := Encode(d, k, j)
	if err != nil {
		t.Errorf("Decode(%v, %s, %x) gave %s, which does not encode: %v", d, k, b, j, err)
		return
	}
	j2, err := Decode(d, k, b2)
	if err != nil || !bytes.Equal(j, j2) {
		t.Errorf("Decode(%v, %s, %x) = %s; re-encoded %x decodes to %s, %v", d, k, b, j, b2, j2, err)
	}
}

// TestMutatedVectors runs checkStable over every prefix of every vector and
// over single-byte changes of each.
func TestMutatedVectors(t *testing.T) {
	n := 0
	for _, s := range seeds(t) {
		for i := 0; i <= len(s.b); i++ {
			checkStable(t, s.d, s.k, s.b[:i])
			n++
		}
		for i := range s.b {
			vals := []byte{0x00, 0x01, 0x3f, 0x40, 0x80, 0xc0, 0xff, s.b[i] ^ 0x01}
			if testing.Short() {
				vals = vals[:3]
			}
			for _, x := range vals {
				m := append([]byte(nil), s.b...)
				m[i] = x
				checkStable(t, s.d, s.k, m)
				n++
			}
		}
	}
	t.Logf("%d inputs checked", n)
}

func FuzzDecode(f *testing.F) {
	drafts := []wire.Draft{wire.Draft07, wire.Draft07CF, wire.Draft14, wire.Draft16}
	for _, s := range seeds(f) {
		for di, d := range drafts {
			for ki, k := range Kinds {
				if d == s.d && k == s.k {
					f.Add(uint8(di), uint8(ki), s.b)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, d, k uint8, b []byte) {
		checkStable(t, drafts[int(d)%len(drafts)], Kinds[int(k)%len(Kinds)], b)
	})
}

// TestDraft16Messages: every draft-16 message goes bytes -> JSON -> bytes,
// typed fields show up as their parameters, and bad draft-16 JSON is
// refused with the field named.
func TestDraft16Messages(t *testing.T) {
	d := wire.Draft16
	ns := wire.Tuple{"live"}
	msgs := []wire.Message{
		&wire.ClientSetup{Params: wire.Params{wire.BytesParam(wire.SetupPath, []byte("/moq")), wire.IntParam(wire.SetupMaxRequestID, 10)}},
		&wire.ServerSetup{Params: wire.Params{wire.IntParam(wire.SetupMaxRequestID, 10)}},
		&wire.GoAway{NewSessionURI: "moqt://x"},
		&wire.MaxRequestID{RequestID: 9},
		&wire.RequestsBlocked{MaximumRequestID: 9},
		&wire.RequestOK{RequestID: 3, Params: wire.Params{wire.IntParam(wire.Param16Expires, 5), wire.BytesParam(wire.Param16LargestObject, []byte{1, 2})}},
		&wire.RequestError{RequestID: 3, ErrorCode: 0x10, RetryInterval: 1, Reason: "no"},
		&wire.Subscribe{RequestID: 2, Namespace: ns, Name: "v", SubscriberPriority: 7, GroupOrder: 2, Forward: false,
			FilterType: wire.FilterAbsoluteRange, Start: wire.Location{Group: 1, Object: 2}, EndGroup: 5},
		&wire.SubscribeOK{RequestID: 2, TrackAlias: 1, Expires: 100, GroupOrder: 2, ContentExists: true, Largest: wire.Location{Group: 3, Object: 4},
			TrackExtensions: wire.Params{wire.IntParam(wire.Ext16MaxCacheDuration, 10)}},
		&wire.SubscribeUpdate{RequestID: 4, SubscriptionRequestID: 2, SubscriberPriority: 1, Forward: true, Changed: wire.UpdatePriority | wire.UpdateForward},
		&wire.Unsubscribe{RequestID: 2},
		&wire.Publish{RequestID: 1, Namespace: ns, Name: "v", TrackAlias: 4, GroupOrder: 1, Forward: true},
		&wire.PublishOK{RequestID: 1, Forward: true, SubscriberPriority: 3, FilterType: wire.FilterNextGroupStart},
		&wire.PublishDone{RequestID: 1, StatusCode: 2, StreamCount: 3, Reason: "end"},
		&wire.Fetch{RequestID: 6, SubscriberPriority: 128, GroupOrder: 1, FetchType: wire.FetchAbsoluteJoining, JoiningRequestID: 2, JoiningStart: 1},
		&wire.FetchOK{RequestID: 6, EndOfTrack: true, End: wire.Location{Group: 9}},
		&wire.FetchCancel{RequestID: 6},
		&wire.TrackStatusRequest{RequestID: 8, Namespace: ns, Name: "v", FilterType: wire.FilterLargestObject},
		&wire.PublishNamespace{RequestID: 10, Namespace: ns},
		&wire.NamespaceMsg{Suffix: wire.Tuple{"a", "b"}},
		&wire.PublishNamespaceDone{RequestID: 10},
		&wire.NamespaceDone{Suffix: wire.Tuple{}},
		&wire.PublishNamespaceCancel{RequestID: 10, ErrorCode: 1, Reason: "x"},
		&wire.SubscribeNamespace{RequestID: 12, Prefix: ns, SubscribeOptions: wire.SubscribeOptionsNamespace},
	}
	names := map[string]bool{}
	for _, m := range msgs {
		j := roundTrip(t, d, m)
		var probe struct {
			MessageType string `json:"message_type"`
		}
		_ = json.Unmarshal(j, &probe)
		names[probe.MessageType] = true
	}
	for _, n := range MessageNames(d) {
		if !names[n] {
			t.Errorf("message %s not covered", n)
		}
	}
	// Typed fields are shown as the parameters they travel in.
	j, err := MessageToJSON(d, msgs[7])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"message_type":"subscribe","request_id":"2","track_namespace":["live"],"track_name":"v","parameters":{"forward":"0","subscriber_priority":"7","subscription_filter":{"filter_type":"4","start_group":"1","start_object":"2","end_group":"5"},"group_order":"2"}}`
	if string(j) != want {
		t.Errorf("SUBSCRIBE:\n got %s\nwant %s", j, want)
	}
	for _, c := range []struct{ json, want string }{
		{`{"message_type":"subscribe","request_id":"1","track_namespace":["a"],"track_name":"b","parameters":{"subscription_filter":{"filter_type":"3"}}}`,
			"field parameters.subscription_filter.start_group: missing"},
		{`{"message_type":"subscribe","request_id":"1","track_namespace":["a"],"track_name":"b","parameters":{"role":"1"}}`,
			"field parameters.role: unknown parameter name"},
		{`{"message_type":"subscribe","request_id":"1","track_namespace":["a"],"track_name":"b","parameters":{"group_order":"3"}}`,
			"group order 3 is not 1 or 2"},
		{`{"message_type":"subscribe_error","request_id":"1","error_code":"1","reason_phrase":""}`,
			`"subscribe_error" is not a draft-16 control message`},
		{`{"message_type":"subscribe_ok","request_id":"1","track_alias":"1","parameters":{},"track_extensions":[]}`,
			"field track_extensions: want an object"},
	} {
		_, err := EncodeMessage(d, []byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("EncodeMessage(%s): %v, want %q", c.json, err, c.want)
		}
	}
}
