package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// ---- samples ----

// allMessages lists one zero value of every control message struct.
func allMessages() []Message {
	return []Message{
		&ClientSetup{}, &ServerSetup{}, &GoAway{}, &MaxRequestID{}, &RequestsBlocked{},
		&Subscribe{}, &SubscribeOK{}, &SubscribeError{}, &SubscribeUpdate{}, &Unsubscribe{},
		&PublishDone{}, &Publish{}, &PublishOK{}, &PublishError{}, &Fetch{}, &FetchCancel{},
		&FetchOK{}, &FetchError{}, &PublishNamespace{}, &PublishNamespaceOK{},
		&PublishNamespaceError{}, &PublishNamespaceDone{}, &PublishNamespaceCancel{},
		&TrackStatusRequest{}, &TrackStatus{}, &TrackStatusError{}, &SubscribeNamespace{},
		&SubscribeNamespaceOK{}, &SubscribeNamespaceError{}, &UnsubscribeNamespace{},
	}
}

// only14 reports whether m exists only in draft-14.
func only14(m Message) bool {
	switch m.(type) {
	case *RequestsBlocked, *Publish, *PublishOK, *PublishError, *TrackStatusError:
		return true
	}
	return false
}

var (
	sampleNS   = Tuple{"example.com", "meeting=123", "alice"}
	sampleAuth = []byte("token-123")
)

// samples07 holds draft-07 messages with every field that draft-07 carries
// set (fields it does not carry are zero, as a decoder leaves them).
func samples07() []Message {
	big := strings.Repeat("x", MaxGoAwayURI)
	return []Message{
		&ClientSetup{Versions: []uint64{Version07, 0xff000006}, Params: Params{
			IntParam(SetupRole, RolePubSub), BytesParam(SetupPath, []byte("/moq?x=1")), IntParam(SetupMaxRequestID, 100)}},
		&ClientSetup{Versions: []uint64{Version07}},
		&ServerSetup{Version: Version07, Params: Params{IntParam(SetupRole, RolePublisher), BytesParam(0x7f, []byte{})}},
		&GoAway{NewSessionURI: "https://relay.example.com/next"},
		&GoAway{},
		&GoAway{NewSessionURI: big[:MaxGoAwayURI]},
		&MaxRequestID{RequestID: MaxVarint},
		&Subscribe{RequestID: 7, TrackAlias: 3, Namespace: sampleNS, Name: "video", SubscriberPriority: 0x80,
			GroupOrder: GroupOrderPublisher, FilterType: FilterLatestGroup},
		&Subscribe{RequestID: 8, TrackAlias: 4, Namespace: Tuple{"a"}, Name: "", SubscriberPriority: 1,
			GroupOrder: GroupOrderDescending, FilterType: FilterLatestObject,
			Params: Params{BytesParam(Param07AuthorizationInfo, sampleAuth), IntParam(Param07DeliveryTimeout, 5000)}},
		&Subscribe{RequestID: 9, TrackAlias: 5, Namespace: sampleNS, Name: "audio", GroupOrder: GroupOrderAscending,
			FilterType: FilterAbsoluteStart, Start: Location{10, 3}, Params: Params{IntParam(Param07MaxCacheDuration, 1<<40)}},
		&Subscribe{RequestID: 10, TrackAlias: 6, Namespace: sampleNS, Name: "audio", FilterType: FilterAbsoluteRange,
			Start: Location{10, 3}, EndGroup: 20, EndObject: 7},
		&SubscribeOK{RequestID: 7, Expires: 30000, GroupOrder: GroupOrderAscending},
		&SubscribeOK{RequestID: 7, GroupOrder: GroupOrderDescending, ContentExists: true, Largest: Location{5, 10},
			Params: Params{IntParam(Param07DeliveryTimeout, 100)}},
		&SubscribeError{RequestID: 7, ErrorCode: 2, Reason: "retry with a different alias", TrackAlias: 99},
		&SubscribeError{RequestID: 7, ErrorCode: 404, Reason: strings.Repeat("r", MaxReasonPhrase)},
		&SubscribeUpdate{RequestID: 7, Start: Location{10, 3}, EndGroup: 21, EndObject: 0, SubscriberPriority: 0xff, Changed: UpdateAll,
			Params: Params{IntParam(Param07DeliveryTimeout, 5000)}},
		&Unsubscribe{RequestID: 1000},
		&PublishDone{RequestID: 7, StatusCode: 3, Reason: "track ended", ContentExists: true, Final: Location{10, 5}},
		&PublishDone{RequestID: 7, StatusCode: 0},
		&Fetch{RequestID: 11, Namespace: sampleNS, Name: "video", SubscriberPriority: 0x80, GroupOrder: GroupOrderAscending,
			Start: Location{0, 0}, End: Location{10, 0}, Params: Params{BytesParam(Param07AuthorizationInfo, sampleAuth)}},
		&FetchCancel{RequestID: 11},
		&FetchOK{RequestID: 11, GroupOrder: GroupOrderDescending, EndOfTrack: true, End: Location{10, 20}},
		&FetchError{RequestID: 11, ErrorCode: 3, Reason: "track not found"},
		&PublishNamespace{Namespace: sampleNS, Params: Params{BytesParam(Param07AuthorizationInfo, sampleAuth)}},
		&PublishNamespaceOK{Namespace: sampleNS},
		&PublishNamespaceError{Namespace: sampleNS, ErrorCode: 1, Reason: "not authorized"},
		&PublishNamespaceDone{Namespace: sampleNS},
		&PublishNamespaceCancel{Namespace: sampleNS, ErrorCode: 0, Reason: "cancelled"},
		&TrackStatusRequest{Namespace: sampleNS, Name: "video"},
		&TrackStatus{Namespace: sampleNS, Name: "video", StatusCode: 0, Largest: Location{5, 10}},
		&SubscribeNamespace{Prefix: Tuple{"example.com"}, Params: Params{BytesParam(Param07AuthorizationInfo, sampleAuth)}},
		&SubscribeNamespace{Prefix: Tuple{}},
		&SubscribeNamespaceOK{Prefix: Tuple{"example.com"}},
		&SubscribeNamespaceError{Prefix: Tuple{"example.com"}, ErrorCode: 4, Reason: "unknown prefix"},
		&UnsubscribeNamespace{Prefix: Tuple{"example.com", "meeting=123"}},
		&UnsubscribeNamespace{Prefix: Tuple{}},
	}
}

// samples14 holds draft-14 messages with every field that draft-14 carries
// set.
func samples14() []Message {
	return []Message{
		&ClientSetup{Versions: []uint64{Version14}, Params: Params{
			BytesParam(SetupPath, []byte("/moq")), IntParam(SetupMaxRequestID, 100), BytesParam(SetupAuthority, []byte("relay.example.com")),
			BytesParam(SetupImplementation, []byte("moq-ffi-go")), IntParam(SetupMaxAuthTokenCacheSize, 4096)}},
		&ServerSetup{Version: Version14, Params: Params{IntParam(SetupMaxRequestID, 200)}},
		&GoAway{NewSessionURI: "https://relay.example.com/next"},
		&GoAway{},
		&MaxRequestID{RequestID: 64},
		&RequestsBlocked{MaximumRequestID: 64},
		&Subscribe{RequestID: 2, Namespace: sampleNS, Name: "video", SubscriberPriority: 0x80, GroupOrder: GroupOrderPublisher,
			Forward: true, FilterType: FilterNextGroupStart},
		&Subscribe{RequestID: 4, Namespace: sampleNS, Name: "video", SubscriberPriority: 0x20, GroupOrder: GroupOrderAscending,
			FilterType: FilterLargestObject, Params: Params{IntParam(Param14DeliveryTimeout, 5000), BytesParam(Param14AuthorizationToken, []byte{3, 1, 't'})}},
		&Subscribe{RequestID: 6, Namespace: sampleNS, Name: "video", Forward: true, FilterType: FilterAbsoluteStart, Start: Location{10, 3}},
		&Subscribe{RequestID: 8, Namespace: sampleNS, Name: "video", FilterType: FilterAbsoluteRange, Start: Location{10, 3}, EndGroup: 20,
			Params: Params{BytesParam(0x21, []byte{0xde, 0xad})}},
		&SubscribeOK{RequestID: 2, TrackAlias: 17, Expires: 0, GroupOrder: GroupOrderAscending},
		&SubscribeOK{RequestID: 2, TrackAlias: 17, Expires: 30, GroupOrder: GroupOrderDescending, ContentExists: true,
			Largest: Location{10, 3}, Params: Params{IntParam(Param14MaxCacheDuration, 30000)}},
		&SubscribeError{RequestID: 2, ErrorCode: 4, Reason: "track does not exist"},
		&SubscribeUpdate{RequestID: 10, SubscriptionRequestID: 2, Start: Location{5, 0}, EndGroup: 0, SubscriberPriority: 0x80, Changed: UpdateAll,
			Forward: true, Params: Params{IntParam(Param14DeliveryTimeout, 3000)}},
		&Unsubscribe{RequestID: 2},
		&PublishDone{RequestID: 2, StatusCode: 2, StreamCount: 5, Reason: "track ended"},
		&Publish{RequestID: 1, Namespace: sampleNS, Name: "video", TrackAlias: 1, GroupOrder: GroupOrderAscending, Forward: true},
		&Publish{RequestID: 3, Namespace: sampleNS, Name: "audio", TrackAlias: 2, GroupOrder: GroupOrderDescending, ContentExists: true,
			Largest: Location{10, 5}, Params: Params{BytesParam(Param14AuthorizationToken, sampleAuth)}},
		&PublishOK{RequestID: 1, Forward: true, SubscriberPriority: 0x80, GroupOrder: GroupOrderAscending, FilterType: FilterLargestObject},
		&PublishOK{RequestID: 1, SubscriberPriority: 0x40, GroupOrder: GroupOrderDescending, FilterType: FilterAbsoluteRange,
			Start: Location{5, 0}, EndGroup: 20, Params: Params{IntParam(Param14DeliveryTimeout, 1)}},
		&PublishOK{RequestID: 1, FilterType: FilterAbsoluteStart, Start: Location{10, 3}},
		&PublishError{RequestID: 1, ErrorCode: 4, Reason: "uninterested"},
		&Fetch{RequestID: 2, SubscriberPriority: 0x80, GroupOrder: GroupOrderAscending, FetchType: FetchStandalone,
			Namespace: sampleNS, Name: "video", Start: Location{0, 0}, End: Location{10, 0},
			Params: Params{BytesParam(Param14AuthorizationToken, sampleAuth)}},
		&Fetch{RequestID: 6, SubscriberPriority: 0x80, FetchType: FetchRelativeJoining, JoiningRequestID: 4, JoiningStart: 5},
		&Fetch{RequestID: 8, SubscriberPriority: 0x80, GroupOrder: GroupOrderDescending, FetchType: FetchAbsoluteJoining,
			JoiningRequestID: 4, JoiningStart: 50},
		&FetchCancel{RequestID: 2},
		&FetchOK{RequestID: 2, GroupOrder: GroupOrderAscending, End: Location{5, 10},
			Params: Params{IntParam(Param14MaxCacheDuration, 30000)}},
		&FetchError{RequestID: 2, ErrorCode: 5, Reason: "invalid range"},
		&PublishNamespace{RequestID: 1, Namespace: sampleNS, Params: Params{BytesParam(Param14AuthorizationToken, sampleAuth)}},
		&PublishNamespaceOK{RequestID: 1},
		&PublishNamespaceOK{RequestID: 1, Params: Params{IntParam(0x40, 1)}},
		&PublishNamespaceError{RequestID: 1, ErrorCode: 4, Reason: "uninterested"},
		&PublishNamespaceDone{Namespace: sampleNS},
		&PublishNamespaceCancel{Namespace: sampleNS, ErrorCode: 4, Reason: "uninterested"},
		&TrackStatusRequest{RequestID: 12, Namespace: sampleNS, Name: "video", SubscriberPriority: 0x80,
			FilterType: FilterAbsoluteRange, Start: Location{1, 2}, EndGroup: 3},
		&TrackStatus{RequestID: 12, GroupOrder: GroupOrderAscending, ContentExists: true, Largest: Location{10, 5}},
		&TrackStatus{RequestID: 12, Expires: 10, GroupOrder: GroupOrderDescending},
		&TrackStatusError{RequestID: 12, ErrorCode: 4, Reason: "track does not exist"},
		&SubscribeNamespace{RequestID: 14, Prefix: Tuple{"example.com"}, Params: Params{BytesParam(Param14AuthorizationToken, sampleAuth)}},
		&SubscribeNamespaceOK{RequestID: 14},
		&SubscribeNamespaceError{RequestID: 14, ErrorCode: 5, Reason: "namespace prefix overlap"},
		&UnsubscribeNamespace{Prefix: Tuple{"example.com"}},
	}
}

func samplesFor(d Draft) []Message {
	if d.Is07() {
		return samples07()
	}
	switch d {
	case Draft16:
		return samples16()
	case Draft18:
		return samples18()
	case Draft20:
		return samples20()
	}
	return samples14()
}

var controlDrafts = []Draft{Draft07, Draft07CF, Draft14}

func mustAppend(t testing.TB, d Draft, m Message) []byte {
	t.Helper()
	b, err := AppendMessage(nil, d, m)
	if err != nil {
		t.Fatalf("AppendMessage(%v, %T): %v", d, m, err)
	}
	return b
}

func wantKind(t *testing.T, err error, kinds ...Kind) {
	t.Helper()
	pe, ok := AsProtocolError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *ProtocolError of kind %v", err, err, kinds)
	}
	if !slices.Contains(kinds, pe.Kind) {
		t.Fatalf("error %q has kind %v, want %v", err, pe.Kind, kinds)
	}
}

// ---- round trips ----

func TestMessageRoundTrip(t *testing.T) {
	for _, d := range controlDrafts {
		t.Run(d.String(), func(t *testing.T) {
			seen := map[string]bool{}
			for i, m := range samplesFor(d) {
				seen[fmt.Sprintf("%T", m)] = true
				enc := mustAppend(t, d, m)
				got, n, err := ParseMessage(enc, d, nil)
				if err != nil {
					t.Fatalf("#%d %s: ParseMessage(%x): %v", i, MessageName(d, m), enc, err)
				}
				if n != len(enc) {
					t.Fatalf("#%d %s: used %d of %d bytes", i, MessageName(d, m), n, len(enc))
				}
				if !reflect.DeepEqual(got, m) {
					t.Fatalf("#%d %s: round trip\n got %+v\nwant %+v", i, MessageName(d, m), got, m)
				}
				typ, ok := MessageType(d, m)
				if v, _, _ := ParseVarint(enc); !ok || v != typ {
					t.Fatalf("#%d: MessageType = %#x, %v; wire type %#x", i, typ, ok, v)
				}
				// Appending after existing bytes gives the same frame.
				pre := []byte{0xaa, 0xbb, 0xcc}
				enc2, err := AppendMessage(slices.Clip(pre), d, m)
				if err != nil || !bytes.Equal(enc2[:3], pre) || !bytes.Equal(enc2[3:], enc) {
					t.Fatalf("#%d: append after a prefix: %x, %v (want aabbcc%x)", i, enc2, err, enc)
				}
			}
			for _, m := range allMessages() {
				if d.Is07() && only14(m) {
					continue
				}
				if !seen[fmt.Sprintf("%T", m)] {
					t.Errorf("no round-trip sample for %T in draft %v", m, d)
				}
			}
		})
	}
}

// TestMessageRoundTripLarge covers draft-07 length fields of 2 and 4 bytes
// (the payload is shifted when the length varint widens).
func TestMessageRoundTripLarge(t *testing.T) {
	var ps Params
	for i := range 12 {
		ps = append(ps, BytesParam(uint64(0x10+i), bytes.Repeat([]byte{byte(i)}, 4000)))
	}
	lim := &Limits{MaxControlMessage: 1 << 20}
	for _, m := range []Message{
		&GoAway{NewSessionURI: strings.Repeat("u", 100)},
		&GoAway{NewSessionURI: strings.Repeat("u", 8000)},
		&ClientSetup{Versions: []uint64{Version07}, Params: ps},
	} {
		enc := mustAppend(t, Draft07, m)
		got, n, err := ParseMessage(enc, Draft07, lim)
		if err != nil || n != len(enc) || !reflect.DeepEqual(got, m) {
			t.Fatalf("%T (%d bytes): n=%d err=%v equal=%v", m, len(enc), n, err, reflect.DeepEqual(got, m))
		}
		if _, _, err := ParseMessage(enc[:len(enc)-1], Draft07, lim); err != ErrNeedMore {
			t.Fatalf("short frame: %v, want ErrNeedMore", err)
		}
	}
	// Draft-14's 16-bit length cannot carry it.
	var ps14 Params
	for i := range 20 {
		ps14 = append(ps14, BytesParam(uint64(2*i+1), make([]byte, 4000)))
	}
	if b, err := AppendMessage([]byte{1}, Draft14, &ClientSetup{Versions: []uint64{Version14}, Params: ps14}); err == nil || !bytes.Equal(b, []byte{1}) {
		t.Fatalf("draft-14 payload over 65535 bytes: %d bytes, %v", len(b), err)
	}
}

// TestMessageDecodeNoAlias checks that a decoded message does not share
// memory with the input.
func TestMessageDecodeNoAlias(t *testing.T) {
	for _, d := range controlDrafts {
		m := &Subscribe{RequestID: 1, Namespace: Tuple{"ns"}, Name: "n", FilterType: FilterLatestObject}
		if d.Is07() {
			m.Params = Params{BytesParam(Param07AuthorizationInfo, []byte("abc")), BytesParam(0x21, []byte("de"))}
		} else {
			m.Params = Params{BytesParam(Param14AuthorizationToken, []byte("abc")), BytesParam(0x21, []byte("de"))}
		}
		enc := mustAppend(t, d, m)
		got, _, err := ParseMessage(enc, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range enc {
			enc[i] = 0xff
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("%v: decoded message changed with its input: %+v", d, got)
		}
	}
}

// ---- names, types, setup family ----

func TestMessageNamesAndTypes(t *testing.T) {
	cases := []struct {
		m        Message
		n07, n14 string
		t07, t14 uint64
	}{
		{&ClientSetup{}, "CLIENT_SETUP", "CLIENT_SETUP", 0x40, 0x20},
		{&ServerSetup{}, "SERVER_SETUP", "SERVER_SETUP", 0x41, 0x21},
		{&PublishNamespace{}, "ANNOUNCE", "PUBLISH_NAMESPACE", 0x06, 0x06},
		{&PublishNamespaceDone{}, "UNANNOUNCE", "PUBLISH_NAMESPACE_DONE", 0x09, 0x09},
		{&PublishDone{}, "SUBSCRIBE_DONE", "PUBLISH_DONE", 0x0B, 0x0B},
		{&MaxRequestID{}, "MAX_SUBSCRIBE_ID", "MAX_REQUEST_ID", 0x15, 0x15},
		{&TrackStatusRequest{}, "TRACK_STATUS_REQUEST", "TRACK_STATUS", 0x0D, 0x0D},
		{&TrackStatus{}, "TRACK_STATUS", "TRACK_STATUS_OK", 0x0E, 0x0E},
		{&SubscribeNamespaceOK{}, "SUBSCRIBE_ANNOUNCES_OK", "SUBSCRIBE_NAMESPACE_OK", 0x12, 0x12},
	}
	for _, c := range cases {
		if got := MessageName(Draft07, c.m); got != c.n07 {
			t.Errorf("MessageName(07, %T) = %q, want %q", c.m, got, c.n07)
		}
		if got := MessageName(Draft07CF, c.m); got != c.n07 {
			t.Errorf("MessageName(07cf, %T) = %q, want %q", c.m, got, c.n07)
		}
		if got := MessageName(Draft14, c.m); got != c.n14 {
			t.Errorf("MessageName(14, %T) = %q, want %q", c.m, got, c.n14)
		}
		if got, ok := MessageType(Draft07, c.m); !ok || got != c.t07 {
			t.Errorf("MessageType(07, %T) = %#x, %v", c.m, got, ok)
		}
		if got, ok := MessageType(Draft14, c.m); !ok || got != c.t14 {
			t.Errorf("MessageType(14, %T) = %#x, %v", c.m, got, ok)
		}
	}
	for _, m := range allMessages() {
		_, ok07 := MessageType(Draft07, m)
		t14, ok14 := MessageType(Draft14, m)
		if ok07 == only14(m) || !ok14 {
			t.Errorf("%T: exists in 07 %v, in 14 %v", m, ok07, ok14)
		}
		if MessageName(Draft14, m) == "" || typeName(Draft14, t14) != MessageName(Draft14, m) {
			t.Errorf("%T: name14(%#x) = %q, MessageName = %q", m, t14, typeName(Draft14, t14), MessageName(Draft14, m))
		}
		if t07, ok := MessageType(Draft07, m); ok && typeName(Draft07, t07) != MessageName(Draft07, m) {
			t.Errorf("%T: name07(%#x) = %q, MessageName = %q", m, t07, typeName(Draft07, t07), MessageName(Draft07, m))
		}
		if only14(m) && MessageName(Draft07, m) != MessageName(Draft14, m) {
			t.Errorf("%T: a 14-only message has draft-07 name %q", m, MessageName(Draft07, m))
		}
	}
	if _, ok := MessageType(DraftUnknown, &GoAway{}); ok {
		t.Error("MessageType(DraftUnknown) reported a type")
	}
	if _, ok := MessageType(Draft14, nil); ok || MessageName(Draft14, nil) != "" || MessageName(Draft14, (*GoAway)(nil)) != "" {
		t.Error("nil message has a type or name")
	}
}

func TestControlSetupFamily(t *testing.T) {
	cases := []struct {
		in   []byte
		want Draft
		err  error
	}{
		{nil, DraftUnknown, ErrNeedMore},
		{[]byte{0x40}, DraftUnknown, ErrNeedMore},
		{[]byte{0x40, 0x40}, Draft07, nil},
		{[]byte{0x40, 0x40, 0x0d}, Draft07, nil},
		{[]byte{0x20}, Draft14, nil},
		{[]byte{0x20, 0x00, 0x0a}, Draft14, nil},
	}
	for _, c := range cases {
		got, err := SetupFamily(c.in)
		if got != c.want || err != c.err {
			t.Errorf("SetupFamily(%x) = %v, %v; want %v, %v", c.in, got, err, c.want, c.err)
		}
	}
	for _, in := range [][]byte{{0x21}, {0x40, 0x41}, {0x03}, {0x40, 0x20}, {0xff}} {
		_, err := SetupFamily(in)
		wantKind(t, err, KindUnknownMessage)
	}
	// The real setups.
	for _, d := range controlDrafts {
		enc := mustAppend(t, d, &ClientSetup{Versions: []uint64{d.Version()}})
		got, err := SetupFamily(enc)
		if err != nil || got.Is07() != d.Is07() {
			t.Errorf("SetupFamily(CLIENT_SETUP %v) = %v, %v", d, got, err)
		}
	}
}

// ---- encoder validation ----

func TestMessageEncodeErrors(t *testing.T) {
	long := strings.Repeat("x", 5000)
	fields33 := make(Tuple, 33)
	for i := range fields33 {
		fields33[i] = "f"
	}
	cases := []struct {
		name string
		d    Draft
		m    Message
		want string
	}{
		{"nil", Draft14, nil, "nil"},
		{"typed nil", Draft14, (*Subscribe)(nil), "nil"},
		{"unknown draft", DraftUnknown, &GoAway{}, "unknown draft"},
		{"PUBLISH in 07", Draft07, &Publish{Namespace: Tuple{"a"}, Name: "b"}, "does not exist in draft-07"},
		{"PUBLISH_OK in 07", Draft07CF, &PublishOK{FilterType: 1}, "does not exist in draft-07cf"},
		{"PUBLISH_ERROR in 07", Draft07, &PublishError{}, "does not exist"},
		{"REQUESTS_BLOCKED in 07", Draft07, &RequestsBlocked{}, "does not exist"},
		{"TRACK_STATUS_ERROR in 07", Draft07, &TrackStatusError{}, "does not exist"},
		{"reason 1025", Draft14, &SubscribeError{Reason: strings.Repeat("r", MaxReasonPhrase+1)}, "reason_phrase"},
		{"reason 1025 07", Draft07, &PublishNamespaceCancel{Namespace: Tuple{"a"}, Reason: strings.Repeat("r", MaxReasonPhrase+1)}, "reason_phrase"},
		{"uri 8193", Draft07, &GoAway{NewSessionURI: strings.Repeat("u", MaxGoAwayURI+1)}, "new_session_uri"},
		{"33 fields", Draft14, &PublishNamespaceDone{Namespace: fields33}, "33 fields"},
		{"empty namespace", Draft07, &PublishNamespace{Namespace: Tuple{}}, "0 fields"},
		{"empty prefix 14", Draft14, &SubscribeNamespace{Prefix: nil}, "0 fields"},
		{"namespace over 4096", Draft14, &PublishNamespaceDone{Namespace: Tuple{long}}, "track_namespace"},
		{"namespace+name 4097", Draft07, &TrackStatusRequest{Namespace: Tuple{long[:4000]}, Name: long[:97]}, "track_name"},
		{"namespace+name 4097 14", Draft14, &Subscribe{Namespace: Tuple{long[:4000], "a"}, Name: long[:96], FilterType: 1}, "track_name"},
		{"no versions", Draft14, &ClientSetup{}, "must not be empty"},
		{"65 versions", Draft07, &ClientSetup{Versions: make([]uint64, 65)}, "65 versions"},
		{"filter 0", Draft14, &Subscribe{Namespace: Tuple{"a"}}, "filter_type 0"},
		{"filter 5", Draft07, &Subscribe{Namespace: Tuple{"a"}, FilterType: 5}, "filter_type 5"},
		{"publish_ok filter 0", Draft14, &PublishOK{}, "filter_type 0"},
		{"group order 3", Draft07, &FetchOK{GroupOrder: 3}, "group_order 3"},
		{"fetch type 0", Draft14, &Fetch{}, "fetch_type 0"},
		{"fetch type 4", Draft14, &Fetch{FetchType: 4}, "fetch_type 4"},
		{"joining fetch in 07", Draft07, &Fetch{FetchType: FetchRelativeJoining, Namespace: Tuple{"a"}}, "standalone"},
		{"varint overflow", Draft14, &MaxRequestID{RequestID: 1 << 62}, "varint range"},
		{"varint overflow location", Draft07, &TrackStatus{Namespace: Tuple{"a"}, Largest: Location{Object: 1 << 63}}, "varint range"},
		{"odd key with int", Draft14, &ServerSetup{Params: Params{IntParam(1, 1)}}, "parameters"},
		{"even key with bytes", Draft14, &ServerSetup{Params: Params{BytesParam(2, nil)}}, "parameters"},
		{"param over 65535 in 14", Draft14, &ServerSetup{Params: Params{BytesParam(1, make([]byte, 70000))}}, "parameters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pre := []byte{9, 8, 7}
			b, err := AppendMessage(pre, c.d, c.m)
			if err == nil {
				t.Fatalf("AppendMessage succeeded: %x", b)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
			if !bytes.Equal(b, pre) {
				t.Fatalf("buffer changed on error: %x", b)
			}
		})
	}
}

// ---- moqtap vectors ----

type vectorFile struct {
	MessageType string `json:"message_type"`
	Vectors     []struct {
		ID        string          `json:"id"`
		Hex       string          `json:"hex"`
		Canonical *bool           `json:"canonical"`
		Error     string          `json:"error"`
		Decoded   json.RawMessage `json:"decoded"`
	} `json:"vectors"`
}

// vectorDir is the project-local copy of the moqtap vectors.
func vectorDir(draft string) string {
	return filepath.Join("..", "..", "testdata", "moqtap", "transport", draft, "codec", "messages")
}

func loadVectorFiles(t testing.TB, draft string) map[string]vectorFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(vectorDir(draft), "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no vector files for %s (%v)", draft, err)
	}
	out := map[string]vectorFile{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f vectorFile
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = f
	}
	return out
}

func TestControlVectors(t *testing.T) {
	for _, c := range []struct {
		dir    string
		drafts []Draft
	}{
		{"draft07", []Draft{Draft07, Draft07CF}},
		{"draft14", []Draft{Draft14}},
		{"draft16", []Draft{Draft16}},
	} {
		files := loadVectorFiles(t, c.dir)
		for _, d := range c.drafts {
			var valid, canonical, errs int
			for name, f := range files {
				for _, v := range f.Vectors {
					id := name + "/" + v.ID
					in, err := hex.DecodeString(v.Hex)
					if err != nil {
						t.Fatalf("%s: bad hex: %v", id, err)
					}
					// The vectors keep unknown message parameters, which a
					// draft-16 session rejects (TestControl16UnknownParams).
					m, n, err := ParseMessage(in, d, &Limits{AllowUnknownParams: true})
					if v.Error != "" {
						errs++
						if err == nil {
							t.Errorf("%s (%v): decoded %+v, want error %q", id, d, m, v.Error)
							continue
						}
						checkVectorError(t, id, v.Error, err)
						continue
					}
					valid++
					if err != nil {
						t.Errorf("%s (%v): ParseMessage(%s): %v", id, d, v.Hex, err)
						continue
					}
					if n != len(in) {
						t.Errorf("%s (%v): used %d of %d bytes", id, d, n, len(in))
					}
					if v.Canonical != nil && !*v.Canonical {
						continue
					}
					canonical++
					out, err := AppendMessage(nil, d, m)
					if err != nil {
						t.Errorf("%s (%v): re-encode: %v", id, d, err)
					} else if !bytes.Equal(out, in) {
						t.Errorf("%s (%v): re-encoded\n got %x\nwant %x", id, d, out, in)
					}
				}
			}
			t.Logf("%s as %v: %d valid vectors decoded (%d canonical re-encoded identically), %d error vectors rejected",
				c.dir, d, valid, canonical, errs)
		}
	}
}

func checkVectorError(t *testing.T, id, want string, err error) {
	t.Helper()
	switch want {
	case "incomplete":
		if err == ErrNeedMore {
			return
		}
		if pe, ok := AsProtocolError(err); ok && pe.Kind == KindTruncated {
			return
		}
		t.Errorf("%s: error %v, want ErrNeedMore or KindTruncated", id, err)
	case "invalid_value":
		if pe, ok := AsProtocolError(err); !ok || pe.Kind != KindInvalidValue {
			t.Errorf("%s: error %v, want KindInvalidValue", id, err)
		}
	case "unknown_message":
		if pe, ok := AsProtocolError(err); !ok || pe.Kind != KindUnknownMessage {
			t.Errorf("%s: error %v, want KindUnknownMessage", id, err)
		}
	default:
		if _, ok := AsProtocolError(err); !ok {
			t.Errorf("%s: error %v is not a *ProtocolError", id, err)
		}
	}
}

// TestControlNamespaceOKWithoutParams: draft-14 PUBLISH_NAMESPACE_OK and
// SUBSCRIBE_NAMESPACE_OK are accepted with or without the parameter count.
func TestControlNamespaceOKWithoutParams(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Message
	}{
		{"07000101", &PublishNamespaceOK{RequestID: 1}},
		{"07000201" + "00", &PublishNamespaceOK{RequestID: 1}},
		{"1200014005", nil}, // truncated request ID inside the payload
		{"12000105", &SubscribeNamespaceOK{RequestID: 5}},
		{"1200050501404005", &SubscribeNamespaceOK{RequestID: 5, Params: Params{IntParam(0x40, 5)}}},
	} {
		in, _ := hex.DecodeString(c.in)
		m, n, err := ParseMessage(in, Draft14, nil)
		if c.want == nil {
			wantKind(t, err, KindTruncated)
			continue
		}
		if err != nil || n != len(in) || !reflect.DeepEqual(m, c.want) {
			t.Errorf("%s: %+v, %d, %v; want %+v", c.in, m, n, err, c.want)
		}
	}
}

// ---- decoder errors and limits ----

func frame07(typ uint64, payload []byte) []byte {
	b := AppendVarint(nil, typ)
	b = AppendVarint(b, uint64(len(payload)))
	return append(b, payload...)
}

func frame14(typ uint64, payload []byte) []byte {
	b := AppendVarint(nil, typ)
	b = append(b, byte(len(payload)>>8), byte(len(payload)))
	return append(b, payload...)
}

func frameFor(d Draft, typ uint64, payload []byte) []byte {
	if d.vi64() {
		b := AppendVarint18(nil, typ)
		b = append(b, byte(len(payload)>>8), byte(len(payload)))
		return append(b, payload...)
	}
	if d.Is07() {
		return frame07(typ, payload)
	}
	return frame14(typ, payload)
}

// cat concatenates byte slices, varints (uint64) and strings.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		case uint64:
			b = AppendVarint(b, v)
		case int:
			b = AppendVarint(b, uint64(v))
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return b
}

// heapBytesPerRun returns the average number of heap bytes f allocates.
func heapBytesPerRun(runs int, f func()) uint64 {
	f() // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// checkCheap fails if parsing in allocates more than a few kilobytes.
func checkCheap(t *testing.T, in []byte, d Draft, lim *Limits) {
	t.Helper()
	if got := heapBytesPerRun(20, func() { _, _, _ = ParseMessage(in, d, lim) }); got > 8<<10 {
		t.Errorf("rejecting the message allocated %d bytes per run", got)
	}
}

func TestControlLimits(t *testing.T) {
	const hostile = uint64(MaxVarint)
	fields := func(n int) []any {
		parts := []any{n}
		for range n {
			parts = append(parts, 1, "f")
		}
		return parts
	}
	big := strings.Repeat("n", 5000)
	type tc struct {
		name  string
		typ07 uint64 // draft-07 type (0: same as typ14)
		typ14 uint64
		p07   []byte // payload, nil: not tested in 07
		p14   []byte
		lim   *Limits
		kind  Kind
	}
	cases := []tc{
		{name: "tuple 33 fields", typ14: 0x09,
			p07: cat(fields(33)...), p14: cat(fields(33)...), kind: KindInvalidValue},
		{name: "tuple 32 fields ok", typ14: 0x09, p07: cat(fields(32)...), p14: cat(fields(32)...)},
		{name: "tuple hostile count", typ14: 0x09, p07: cat(hostile), p14: cat(hostile), kind: KindInvalidValue},
		{name: "tuple 0 fields", typ14: 0x09, p07: cat(0), p14: cat(0), kind: KindInvalidValue},
		{name: "prefix 0 fields", typ14: 0x14, p14: cat(0), kind: KindInvalidValue},
		{name: "prefix 0 fields ok in 07", typ14: 0x14, p07: cat(0)},
		{name: "prefix 33 fields", typ14: 0x14, p07: cat(fields(33)...), p14: cat(fields(33)...), kind: KindInvalidValue},
		{name: "namespace 4097", typ14: 0x09, p07: cat(2, 4000, big[:4000], 97, big[:97]),
			p14: cat(2, 4000, big[:4000], 97, big[:97]), kind: KindLimit},
		{name: "namespace+name 4097", typ14: 0x0D,
			p07: cat(1, 4000, big[:4000], 97, big[:97]),
			p14: cat(1, 1, 4000, big[:4000], 97, big[:97], []byte{0x80, 0, 0}, 1, 0), kind: KindLimit},
		{name: "namespace+name 4096 ok", typ14: 0x0D,
			p07: cat(1, 4000, big[:4000], 96, big[:96]),
			p14: cat(1, 1, 4000, big[:4000], 96, big[:96], []byte{0x80, 0, 0}, 1, 0)},
		{name: "namespace hostile field length", typ14: 0x09, p07: cat(1, hostile), p14: cat(1, hostile), kind: KindLimit},
		{name: "reason 1025", typ14: 0x05, p07: cat(1, 2, 1025, big[:1025], 0), p14: cat(1, 2, 1025, big[:1025]), kind: KindLimit},
		{name: "reason 1024 ok", typ14: 0x05, p07: cat(1, 2, 1024, big[:1024], 0), p14: cat(1, 2, 1024, big[:1024])},
		{name: "reason hostile length", typ14: 0x05, p07: cat(1, 2, hostile), p14: cat(1, 2, hostile), kind: KindLimit},
		{name: "goaway uri 8193", typ14: 0x10, p07: cat(8193, strings.Repeat("u", 8193)), p14: cat(8193, strings.Repeat("u", 8193)), kind: KindLimit},
		{name: "goaway uri 8192 ok", typ14: 0x10, p07: cat(8192, strings.Repeat("u", 8192)), p14: cat(8192, strings.Repeat("u", 8192))},
		{name: "goaway hostile uri length", typ14: 0x10, p07: cat(hostile), p14: cat(hostile), kind: KindLimit},
		{name: "65 versions", typ07: 0x40, typ14: 0x20, p07: cat(65, make([]byte, 65), 0), p14: cat(65, make([]byte, 65), 0), kind: KindLimit},
		{name: "64 versions ok", typ07: 0x40, typ14: 0x20, p07: cat(64, make([]byte, 64), 0), p14: cat(64, make([]byte, 64), 0)},
		{name: "hostile version count", typ07: 0x40, typ14: 0x20, p07: cat(hostile), p14: cat(hostile), kind: KindLimit},
		{name: "no versions", typ07: 0x40, typ14: 0x20, p07: cat(0, 0), p14: cat(0, 0), kind: KindInvalidValue},
		{name: "65 params", typ07: 0x41, typ14: 0x21,
			p07: cat(1, 65, bytes.Repeat([]byte{0x3f, 0}, 65)), p14: cat(1, 65, bytes.Repeat([]byte{0x3e, 0}, 65)), kind: KindLimit},
		{name: "64 params ok", typ07: 0x41, typ14: 0x21,
			p07: cat(1, 64, bytes.Repeat([]byte{0x3f, 0}, 64)), p14: cat(1, 64, bytes.Repeat([]byte{0x3e, 0}, 64))},
		{name: "hostile param count", typ07: 0x41, typ14: 0x21, p07: cat(1, hostile), p14: cat(1, hostile), kind: KindLimit},
		{name: "params over custom limit", typ07: 0x41, typ14: 0x21, lim: &Limits{MaxParams: 2},
			p07: cat(1, 3, bytes.Repeat([]byte{0x3f, 0}, 3)), p14: cat(1, 3, bytes.Repeat([]byte{0x3e, 0}, 3)), kind: KindLimit},
		{name: "param 4097", typ07: 0x41, typ14: 0x21,
			p07: cat(1, 1, 0x3f, 4097, make([]byte, 4097)), p14: cat(1, 1, 0x3f, 4097, make([]byte, 4097)), kind: KindLimit},
		{name: "param 4096 ok", typ07: 0x41, typ14: 0x21,
			p07: cat(1, 1, 0x3f, 4096, make([]byte, 4096)), p14: cat(1, 1, 0x3f, 4096, make([]byte, 4096))},
		{name: "param hostile length", typ07: 0x41, typ14: 0x21,
			p07: cat(1, 1, 0x3f, hostile), p14: cat(1, 1, 0x3f, hostile), kind: KindLimit},
		{name: "param over custom limit", typ07: 0x06, typ14: 0x06, lim: &Limits{MaxParamBytes: 10},
			p07: cat(1, 1, "a", 1, 2, 11, make([]byte, 11)), p14: cat(1, 1, 1, "a", 1, 3, 11, make([]byte, 11)), kind: KindLimit},
		{name: "int param with a bad length (07)", typ07: 0x41,
			p07: cat(1, 1, 0x00, 2, []byte{0x01, 0x02}), kind: KindLengthMismatch},
		{name: "trailing bytes", typ14: 0x0A, p07: cat(1, 2), p14: cat(1, 2), kind: KindLengthMismatch},
		{name: "group order 3", typ14: 0x18, p07: cat(1, []byte{3, 0}, 0, 0, 0), p14: cat(1, []byte{3, 0}, 0, 0, 0), kind: KindInvalidValue},
		{name: "content exists 2", typ14: 0x04, p07: cat(1, 0, []byte{1, 2}, 0), p14: cat(1, 0, 0, []byte{1, 2}, 0), kind: KindInvalidValue},
		{name: "forward 2", typ14: 0x02, p14: cat(1, 2, 0, 0, 0, []byte{0x80, 2}, 0), kind: KindInvalidValue},
		{name: "filter 5", typ14: 0x03, p07: cat(1, 1, 1, 1, "a", 0, []byte{0, 0}, 5, 0), p14: cat(1, 1, 1, "a", 0, []byte{0, 0, 0}, 5, 0), kind: KindInvalidValue},
		{name: "fetch type 4", typ14: 0x16, p14: cat(1, []byte{0x80, 0}, 4, 0), kind: KindInvalidValue},
		{name: "fetch type 0", typ14: 0x16, p14: cat(1, []byte{0x80, 0}, 0, 0), kind: KindInvalidValue},
	}
	for _, c := range cases {
		for _, d := range []Draft{Draft07, Draft14} {
			payload, typ := c.p14, c.typ14
			if d.Is07() {
				payload = c.p07
				if c.typ07 != 0 {
					typ = c.typ07
				}
			}
			if payload == nil {
				continue
			}
			t.Run(c.name+"/"+d.String(), func(t *testing.T) {
				lim := c.lim
				if lim == nil {
					lim = &Limits{MaxControlMessage: 1 << 20}
				}
				if d == Draft14 && len(payload) > MaxControlMessage14 {
					t.Fatalf("test payload too long: %d", len(payload))
				}
				in := frameFor(d, typ, payload)
				m, n, err := ParseMessage(in, d, lim)
				if c.kind == 0 {
					if err != nil || n != len(in) {
						t.Fatalf("ParseMessage: %v (used %d of %d)", err, n, len(in))
					}
					if _, err := AppendMessage(nil, d, m); err != nil {
						t.Fatalf("re-encode of an accepted message: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatalf("ParseMessage accepted %+v", m)
				}
				wantKind(t, err, c.kind)
				if n != len(in) {
					t.Errorf("error after a complete frame used %d of %d bytes", n, len(in))
				}
				checkCheap(t, in, d, lim)
			})
		}
	}
}

// TestControlMessageSizeLimit checks the payload length limit, which applies
// before the payload has arrived.
func TestControlMessageSizeLimit(t *testing.T) {
	// Draft-07: the default limit is 65535; a 65536-byte payload is refused
	// from its header alone, and so is a hostile 2^62-1.
	for _, length := range []uint64{DefaultMaxControlMessage + 1, MaxVarint} {
		in := cat(0x03, length, []byte{1, 2, 3})
		_, n, err := ParseMessage(in, Draft07, nil)
		wantKind(t, err, KindLimit)
		if n != 0 {
			t.Errorf("length %d: used %d bytes", length, n)
		}
		checkCheap(t, in, Draft07, nil)
	}
	// Exactly at the default limit: waits for the payload.
	if _, _, err := ParseMessage(cat(0x10, DefaultMaxControlMessage), Draft07, nil); err != ErrNeedMore {
		t.Errorf("length at the limit: %v, want ErrNeedMore", err)
	}
	// A custom limit, both drafts.
	lim := &Limits{MaxControlMessage: 100}
	for _, d := range []Draft{Draft07, Draft14} {
		uri := strings.Repeat("u", 99)
		ok := mustAppend(t, d, &GoAway{NewSessionURI: uri[:98]}) // payload 99
		if _, _, err := ParseMessage(ok, d, lim); err != nil {
			t.Errorf("%v: 99-byte payload under limit 100: %v", d, err)
		}
		over := mustAppend(t, d, &GoAway{NewSessionURI: uri + "u"}) // payload 101
		_, _, err := ParseMessage(over, d, lim)
		wantKind(t, err, KindLimit)
		// Only the header (3 bytes in both drafts here) is needed to refuse
		// it.
		_, _, err = ParseMessage(over[:3], d, lim)
		wantKind(t, err, KindLimit)
	}
	// Draft-14 at the largest 16-bit length with the default limit: waits.
	if _, _, err := ParseMessage([]byte{0x10, 0xff, 0xff}, Draft14, nil); err != ErrNeedMore {
		t.Errorf("draft-14 length 65535: %v, want ErrNeedMore", err)
	}
}

func TestMessageUnknownInOtherDraft(t *testing.T) {
	for _, m := range allMessages() {
		if !only14(m) {
			continue
		}
		typ, _ := MessageType(Draft14, m)
		in := frame07(typ, nil)
		_, n, err := ParseMessage(in, Draft07, nil)
		wantKind(t, err, KindUnknownMessage)
		if n != len(in) {
			t.Errorf("%T: used %d of %d", m, n, len(in))
		}
	}
	// The draft-07 setup types are unknown in 14 and the reverse.
	for _, c := range []struct {
		d   Draft
		typ uint64
	}{{Draft14, 0x40}, {Draft14, 0x41}, {Draft07, 0x20}, {Draft07, 0x21}, {Draft07, 0x0F}, {Draft14, 0x01}} {
		_, _, err := ParseMessage(frameFor(c.d, c.typ, []byte{0}), c.d, nil)
		wantKind(t, err, KindUnknownMessage)
	}
	if _, _, err := ParseMessage([]byte{0x10, 0x01, 0x00}, DraftUnknown, nil); err == nil {
		t.Error("ParseMessage with DraftUnknown succeeded")
	}
}

// TestMessageTruncatedEverywhere cuts every sample's payload at every
// position (keeping the length consistent): the decoder must report
// KindTruncated (or another protocol error), never panic or succeed with a
// different message.
func TestMessageTruncatedEverywhere(t *testing.T) {
	for _, d := range controlDrafts {
		for _, m := range samplesFor(d) {
			enc := mustAppend(t, d, m)
			typ, tn, _ := ParseVarint(enc)
			hdr := tn + 2
			if d.Is07() {
				_, ln, _ := ParseVarint(enc[tn:])
				hdr = tn + ln
			}
			payload := enc[hdr:]
			for cut := 0; cut < len(payload); cut++ {
				in := frameFor(d, typ, payload[:cut])
				got, _, err := ParseMessage(in, d, &Limits{MaxControlMessage: 1 << 20})
				if err == nil {
					// Only PUBLISH_NAMESPACE_OK / SUBSCRIBE_NAMESPACE_OK may end
					// early (without their parameter count).
					_, isPNO := m.(*PublishNamespaceOK)
					_, isSNO := m.(*SubscribeNamespaceOK)
					if !(d == Draft14 && (isPNO || isSNO)) {
						t.Fatalf("%v %s cut at %d/%d decoded as %+v", d, MessageName(d, m), cut, len(payload), got)
					}
					continue
				}
				if _, ok := AsProtocolError(err); !ok {
					t.Fatalf("%v %s cut at %d: %v is not a *ProtocolError", d, MessageName(d, m), cut, err)
				}
				// And the frame itself cut short: ErrNeedMore.
				if _, _, err := ParseMessage(enc[:hdr+cut], d, nil); err != ErrNeedMore {
					t.Fatalf("%v %s frame cut at %d: %v, want ErrNeedMore", d, MessageName(d, m), hdr+cut, err)
				}
			}
		}
	}
}

// ---- ControlReader ----

func concatMessages(t testing.TB, d Draft, ms []Message) []byte {
	var b []byte
	for _, m := range ms {
		var err error
		if b, err = AppendMessage(b, d, m); err != nil {
			t.Fatalf("AppendMessage(%T): %v", m, err)
		}
	}
	return b
}

func TestControlReaderSmallReads(t *testing.T) {
	for _, d := range controlDrafts {
		ms := samplesFor(d)
		stream := concatMessages(t, d, ms)
		for name, r := range map[string]io.Reader{
			"one byte":   iotest.OneByteReader(bytes.NewReader(stream)),
			"half":       iotest.HalfReader(bytes.NewReader(stream)),
			"data+EOF":   iotest.DataErrReader(bytes.NewReader(stream)),
			"whole":      bytes.NewReader(stream),
			"empty+data": &emptyReadsReader{r: bytes.NewReader(stream)},
		} {
			t.Run(d.String()+"/"+name, func(t *testing.T) {
				cr := NewControlReader(r, d, nil)
				if cr.Draft() != d {
					t.Fatalf("Draft() = %v", cr.Draft())
				}
				for i, want := range ms {
					got, err := cr.Read()
					if err != nil {
						t.Fatalf("message %d (%s): %v", i, MessageName(d, want), err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("message %d:\n got %+v\nwant %+v", i, got, want)
					}
				}
				for range 2 {
					if m, err := cr.Read(); err != io.EOF {
						t.Fatalf("after the last message: %v, %v; want io.EOF", m, err)
					}
				}
			})
		}
	}
}

// emptyReadsReader returns (0, nil) before every read of real data.
type emptyReadsReader struct {
	r    io.Reader
	flip bool
}

func (e *emptyReadsReader) Read(p []byte) (int, error) {
	e.flip = !e.flip
	if e.flip {
		return 0, nil
	}
	return e.r.Read(p)
}

// stuckReader always returns (0, nil).
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestControlReaderLarge(t *testing.T) {
	// A 40 KB draft-07 message read one byte at a time and in halves.
	var ps Params
	for i := range 10 {
		ps = append(ps, BytesParam(uint64(0x10+i), bytes.Repeat([]byte{byte(i)}, 4000)))
	}
	m := &ClientSetup{Versions: []uint64{Version07}, Params: ps}
	stream := concatMessages(t, Draft07, []Message{m, &GoAway{}, m})
	for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(stream)), iotest.HalfReader(bytes.NewReader(stream))} {
		cr := NewControlReader(r, Draft07, nil)
		for _, want := range []Message{m, &GoAway{}, m} {
			got, err := cr.Read()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("got %T, %v", got, err)
			}
		}
		if _, err := cr.Read(); err != io.EOF {
			t.Fatalf("end: %v", err)
		}
	}
}

func TestControlReaderTruncated(t *testing.T) {
	for _, d := range controlDrafts {
		m := &Subscribe{RequestID: 1, TrackAlias: 1, Namespace: sampleNS, Name: "video", FilterType: FilterAbsoluteStart, Start: Location{3, 4}}
		first := mustAppend(t, d, &MaxRequestID{RequestID: 9})
		enc := mustAppend(t, d, m)
		for cut := 1; cut < len(enc); cut++ {
			stream := append(slices.Clone(first), enc[:cut]...)
			cr := NewControlReader(iotest.OneByteReader(bytes.NewReader(stream)), d, nil)
			if got, err := cr.Read(); err != nil || !reflect.DeepEqual(got, &MaxRequestID{RequestID: 9}) {
				t.Fatalf("%v: first message: %+v, %v", d, got, err)
			}
			_, err := cr.Read()
			wantKind(t, err, KindTruncated)
		}
	}
}

func TestControlReaderStreamError(t *testing.T) {
	boom := errors.New("stream reset")
	enc := mustAppend(t, Draft14, &GoAway{NewSessionURI: "x"})
	// Error between messages.
	cr := NewControlReader(io.MultiReader(bytes.NewReader(enc), iotest.ErrReader(boom)), Draft14, nil)
	if _, err := cr.Read(); err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Read(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the stream's error", err)
	}
	// Error inside a message.
	cr = NewControlReader(io.MultiReader(bytes.NewReader(enc[:3]), iotest.ErrReader(boom)), Draft14, nil)
	if _, err := cr.Read(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the stream's error", err)
	}
	// A reader that never makes progress.
	cr = NewControlReader(stuckReader{}, Draft14, nil)
	if _, err := cr.Read(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("stuck reader: %v", err)
	}
	// No draft yet.
	cr = NewControlReader(bytes.NewReader(enc), DraftUnknown, nil)
	if _, err := cr.Read(); err == nil {
		t.Fatal("Read with no draft succeeded")
	}
}

// endlessReader returns an endless stream of the byte v.
type endlessReader struct{ v byte }

func (e endlessReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.v
	}
	return len(p), nil
}

func TestControlReaderHostileLength(t *testing.T) {
	cases := []struct {
		name string
		d    Draft
		hdr  []byte
		lim  *Limits
	}{
		{"07 2^62-1", Draft07, cat(0x03, uint64(MaxVarint)), nil},
		{"07 65536", Draft07, cat(0x03, DefaultMaxControlMessage+1), nil},
		{"07 custom limit", Draft07, cat(0x10, 1000), &Limits{MaxControlMessage: 999}},
		{"14 custom limit", Draft14, []byte{0x10, 0xff, 0xff}, &Limits{MaxControlMessage: 1000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			read := func() error {
				cr := NewControlReader(io.MultiReader(bytes.NewReader(c.hdr), endlessReader{0x01}), c.d, c.lim)
				_, err := cr.Read()
				return err
			}
			wantKind(t, read(), KindLimit)
			if got := heapBytesPerRun(20, func() { _ = read() }); got > 4<<10 {
				t.Errorf("refusing the length allocated %d bytes per run", got)
			}
			cr := NewControlReader(io.MultiReader(bytes.NewReader(c.hdr), endlessReader{0x01}), c.d, c.lim)
			_, err1 := cr.Read()
			_, err2 := cr.Read()
			if err1 != err2 {
				t.Errorf("second Read after a limit error: %v, want %v again", err2, err1)
			}
		})
	}
	// A length within the limit whose payload never fully arrives: the
	// buffer grows with the bytes received, not with the announced length.
	hdr := cat(0x10, DefaultMaxControlMessage)
	got := heapBytesPerRun(20, func() {
		cr := NewControlReader(bytes.NewReader(append(slices.Clone(hdr), 1, 2, 3)), Draft07, nil)
		_, err := cr.Read()
		if pe, ok := AsProtocolError(err); !ok || pe.Kind != KindTruncated {
			t.Errorf("got %v, want KindTruncated", err)
		}
	})
	if got > 4<<10 {
		t.Errorf("a 65535-byte length with 3 bytes of payload allocated %d bytes per run", got)
	}
}

func TestControlReaderRecoversAfterBadMessage(t *testing.T) {
	stream := cat(frame07(0x3f, []byte{0xde, 0xad}), frame07(0x0A, []byte{1, 2}), mustAppend(t, Draft07, &Unsubscribe{RequestID: 4}))
	cr := NewControlReader(iotest.OneByteReader(bytes.NewReader(stream)), Draft07, nil)
	_, err := cr.Read()
	wantKind(t, err, KindUnknownMessage)
	_, err = cr.Read()
	wantKind(t, err, KindLengthMismatch)
	if m, err := cr.Read(); err != nil || !reflect.DeepEqual(m, &Unsubscribe{RequestID: 4}) {
		t.Fatalf("third message: %+v, %v", m, err)
	}
	if _, err := cr.Read(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestControlReaderPeek(t *testing.T) {
	for _, d := range controlDrafts {
		setup := &ClientSetup{Versions: []uint64{d.Version()}, Params: Params{IntParam(SetupMaxRequestID, 10)}}
		stream := concatMessages(t, d, []Message{setup, &GoAway{}})
		cr := NewControlReader(iotest.OneByteReader(bytes.NewReader(stream)), DraftUnknown, nil)
		b, err := cr.Peek(2)
		if err != nil || !bytes.Equal(b, stream[:2]) {
			t.Fatalf("Peek(2) = %x, %v", b, err)
		}
		fam, err := SetupFamily(b)
		if err != nil || fam.Is07() != d.Is07() {
			t.Fatalf("SetupFamily = %v, %v", fam, err)
		}
		cr.SetDraft(d)
		if cr.Draft() != d {
			t.Fatalf("Draft() = %v after SetDraft(%v)", cr.Draft(), d)
		}
		if m, err := cr.Read(); err != nil || !reflect.DeepEqual(m, setup) {
			t.Fatalf("%v: Read after Peek: %+v, %v", d, m, err)
		}
		if b, err := cr.Peek(1); err != nil || b[0] != 0x10 {
			t.Fatalf("Peek(1) before GOAWAY = %x, %v", b, err)
		}
		if m, err := cr.Read(); err != nil || !reflect.DeepEqual(m, &GoAway{}) {
			t.Fatalf("%v: second Read: %+v, %v", d, m, err)
		}
	}
	// Short and empty streams.
	cr := NewControlReader(bytes.NewReader([]byte{0x40}), DraftUnknown, nil)
	if b, err := cr.Peek(2); err != io.EOF || !bytes.Equal(b, []byte{0x40}) {
		t.Fatalf("Peek(2) on one byte = %x, %v", b, err)
	}
	cr = NewControlReader(bytes.NewReader(nil), DraftUnknown, nil)
	if b, err := cr.Peek(1); err != io.EOF || len(b) != 0 {
		t.Fatalf("Peek(1) on nothing = %x, %v", b, err)
	}
	if _, err := cr.Peek(ctlMaxPeek + 1); err == nil {
		t.Fatal("Peek over the maximum succeeded")
	}
}
