package wire

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// samples16 holds draft-16 messages as a decoder returns them: typed fields
// set (with the draft's defaults where a parameter is absent) and Params
// holding every parameter in wire order.
func samples16() []Message {
	auth := BytesParam(Param16AuthorizationToken, []byte{0x03, 0x01, 't', 'o', 'k'})
	filter := BytesParam(Param16SubscriptionFilter, []byte{0x04, 0x0a, 0x03, 0x14})
	return []Message{
		&ClientSetup{Params: Params{BytesParam(SetupPath, []byte("/moq")), IntParam(SetupMaxRequestID, 100),
			BytesParam(SetupImplementation, []byte("moq-ffi")), IntParam(0x40, 1), IntParam(0x40, 2)}},
		&ServerSetup{Params: Params{IntParam(SetupMaxRequestID, 100)}},
		&GoAway{NewSessionURI: "moqt://relay.example.com/next"},
		&MaxRequestID{RequestID: 1000},
		&RequestsBlocked{MaximumRequestID: 64},
		&RequestOK{RequestID: 3, Params: Params{IntParam(Param16Expires, 30000), BytesParam(Param16LargestObject, []byte{0x0a, 0x03})}},
		&RequestError{RequestID: 3, ErrorCode: 0x10, RetryInterval: 1001, Reason: "does not exist"},
		&Subscribe{RequestID: 2, Namespace: sampleNS, Name: "video", SubscriberPriority: 64, GroupOrder: GroupOrderDescending,
			Forward: false, FilterType: FilterAbsoluteRange, Start: Location{10, 3}, EndGroup: 20,
			Params: Params{IntParam(Param16DeliveryTimeout, 5000), auth, IntParam(Param16Forward, 0),
				IntParam(Param16SubscriberPriority, 64), filter, IntParam(Param16GroupOrder, 2)}},
		&Subscribe{RequestID: 4, Namespace: sampleNS, Name: "audio", SubscriberPriority: 128, Forward: true,
			FilterType: FilterAbsoluteStart},
		&SubscribeOK{RequestID: 2, TrackAlias: 9, Expires: 10000, GroupOrder: GroupOrderDescending, ContentExists: true, Largest: Location{10, 3},
			Params:          Params{IntParam(Param16Expires, 10000), BytesParam(Param16LargestObject, []byte{0x0a, 0x03})},
			TrackExtensions: Params{IntParam(Ext16MaxCacheDuration, 10000), IntParam(Ext16DefaultPublisherGroupOrder, 2)}},
		&SubscribeUpdate{RequestID: 6, SubscriptionRequestID: 2, FilterType: FilterAbsoluteRange, Start: Location{5, 0}, EndGroup: 11,
			SubscriberPriority: 7, Changed: UpdateFilter | UpdatePriority,
			Params: Params{IntParam(Param16SubscriberPriority, 7), BytesParam(Param16SubscriptionFilter, []byte{0x04, 0x05, 0x00, 0x0a})}},
		&SubscribeUpdate{RequestID: 8, SubscriptionRequestID: 2},
		&Unsubscribe{RequestID: 2},
		&Publish{RequestID: 1, Namespace: sampleNS, Name: "video", TrackAlias: 4, GroupOrder: GroupOrderAscending,
			ContentExists: true, Largest: Location{3, 1}, Forward: true,
			Params:          Params{BytesParam(Param16LargestObject, []byte{0x03, 0x01})},
			TrackExtensions: Params{IntParam(Ext16DeliveryTimeout, 5000)}},
		&PublishOK{RequestID: 1, Forward: true, SubscriberPriority: 128, FilterType: FilterLargestObject,
			Params: Params{BytesParam(Param16SubscriptionFilter, []byte{0x02}), IntParam(Param16NewGroupRequest, 5)}},
		&PublishDone{RequestID: 1, StatusCode: 2, StreamCount: 5, Reason: "track ended"},
		&Fetch{RequestID: 4, SubscriberPriority: 128, GroupOrder: GroupOrderAscending, FetchType: FetchStandalone, Namespace: sampleNS, Name: "video",
			Start: Location{0, 0}, End: Location{10, 0}},
		&Fetch{RequestID: 6, SubscriberPriority: 3, GroupOrder: GroupOrderDescending, FetchType: FetchRelativeJoining, JoiningRequestID: 2, JoiningStart: 3,
			Params: Params{IntParam(Param16SubscriberPriority, 3), IntParam(Param16GroupOrder, 2)}},
		&FetchOK{RequestID: 4, EndOfTrack: true, End: Location{10, 4}, TrackExtensions: Params{IntParam(Ext16MaxCacheDuration, 10000)}},
		&FetchCancel{RequestID: 4},
		&TrackStatusRequest{RequestID: 8, Namespace: sampleNS, Name: "video", FilterType: FilterAbsoluteStart, Params: Params{auth}},
		&PublishNamespace{RequestID: 10, Namespace: sampleNS, Params: Params{auth}},
		&NamespaceMsg{Suffix: Tuple{"room42"}},
		&PublishNamespaceDone{RequestID: 10},
		&NamespaceDone{Suffix: Tuple{}},
		&PublishNamespaceCancel{RequestID: 10, ErrorCode: 1, Reason: "unauthorized"},
		&SubscribeNamespace{RequestID: 12, Prefix: Tuple{}, SubscribeOptions: SubscribeOptionsBoth, Params: Params{IntParam(Param16Forward, 1)}},
	}
}

func TestControl16RoundTrip(t *testing.T) {
	seen := map[reflect.Type]bool{}
	for i, m := range samples16() {
		seen[reflect.TypeOf(m)] = true
		enc := mustAppend(t, Draft16, m)
		got, n, err := ParseMessage(enc, Draft16, nil)
		if err != nil {
			t.Fatalf("#%d %s: ParseMessage(%x): %v", i, MessageName(Draft16, m), enc, err)
		}
		if n != len(enc) {
			t.Fatalf("#%d: used %d of %d bytes", i, n, len(enc))
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("#%d %s: round trip\n got %+v\nwant %+v", i, MessageName(Draft16, m), got, m)
		}
		if again := mustAppend(t, Draft16, got); !bytes.Equal(again, enc) {
			t.Fatalf("#%d: re-encoded %x, first %x", i, again, enc)
		}
	}
	for _, typ := range []Message{&ClientSetup{}, &ServerSetup{}, &GoAway{}, &MaxRequestID{}, &RequestsBlocked{},
		&RequestOK{}, &RequestError{}, &Subscribe{}, &SubscribeOK{}, &SubscribeUpdate{}, &Unsubscribe{}, &Publish{},
		&PublishOK{}, &PublishDone{}, &Fetch{}, &FetchOK{}, &FetchCancel{}, &TrackStatusRequest{}, &PublishNamespace{},
		&NamespaceMsg{}, &PublishNamespaceDone{}, &NamespaceDone{}, &PublishNamespaceCancel{}, &SubscribeNamespace{}} {
		if _, ok := MessageType(Draft16, typ); !ok {
			t.Errorf("%T has no draft-16 type", typ)
		}
		if !seen[reflect.TypeOf(typ)] {
			t.Errorf("no draft-16 sample for %T", typ)
		}
	}
	// Messages that draft-16 dropped.
	for _, m := range []Message{&SubscribeError{}, &PublishError{}, &FetchError{}, &PublishNamespaceOK{},
		&PublishNamespaceError{}, &TrackStatus{}, &TrackStatusError{}, &SubscribeNamespaceOK{},
		&SubscribeNamespaceError{}, &UnsubscribeNamespace{}} {
		if _, err := AppendMessage(nil, Draft16, m); err == nil || !strings.Contains(err.Error(), "does not exist in draft-16") {
			t.Errorf("%T in draft-16: %v", m, err)
		}
	}
}

// TestControl16TypedFields: the parameters that replace draft-14's fixed
// fields decode into those typed fields, and typed fields encode as
// parameters (in key order, defaults left out).
func TestControl16TypedFields(t *testing.T) {
	parse := func(h string) Message {
		t.Helper()
		b, _ := hex.DecodeString(h)
		m, _, err := ParseMessage(b, Draft16, nil)
		if err != nil {
			t.Fatalf("ParseMessage(%s): %v", h, err)
		}
		return m
	}
	// moqtap subscribe/with-filter-absolute-range.
	s := parse("0300140101046c69766505766964656f012104040a0314").(*Subscribe)
	if s.FilterType != FilterAbsoluteRange || s.Start != (Location{10, 3}) || s.EndGroup != 20 ||
		s.SubscriberPriority != 128 || !s.Forward || s.GroupOrder != GroupOrderPublisher {
		t.Errorf("SUBSCRIBE typed fields: %+v", s)
	}
	// No filter: unfiltered, i.e. AbsoluteStart {0,0}.
	s = parse("03000e0101046c69766505766964656f00").(*Subscribe)
	if s.FilterType != FilterAbsoluteStart || s.Start != (Location{}) || !s.Forward || s.SubscriberPriority != 128 {
		t.Errorf("SUBSCRIBE without parameters: %+v", s)
	}
	ok := parse("04000701050109020a03").(*SubscribeOK)
	if !ok.ContentExists || ok.Largest != (Location{10, 3}) || ok.TrackAlias != 5 || ok.GroupOrder != GroupOrderAscending {
		t.Errorf("SUBSCRIBE_OK typed fields: %+v", ok)
	}
	u := parse("02000901030121040405000a").(*SubscribeUpdate)
	if u.Changed != UpdateFilter || u.FilterType != FilterAbsoluteRange || u.Start != (Location{5, 0}) || u.EndGroup != 11 {
		t.Errorf("REQUEST_UPDATE typed fields: %+v", u)
	}

	// Built the draft-14 way, by an engine that knows nothing of 16.
	enc := mustAppend(t, Draft16, &Subscribe{RequestID: 1, Namespace: Tuple{"live"}, Name: "video",
		SubscriberPriority: 64, GroupOrder: GroupOrderDescending, Forward: true, FilterType: FilterLargestObject})
	// Params in key order 0x20 (64), 0x21 {2}, 0x22 (2), as deltas 0x20, 1, 1.
	if want := "0300160101046c69766505766964656f032040400101020102"; hex.EncodeToString(enc) != want {
		t.Errorf("SUBSCRIBE from typed fields:\n got %x\nwant %s", enc, want)
	}
	enc = mustAppend(t, Draft16, &SubscribeOK{RequestID: 1, TrackAlias: 5, GroupOrder: GroupOrderAscending, ContentExists: true, Largest: Location{10, 3}})
	if want := "04000701050109020a03"; hex.EncodeToString(enc) != want {
		t.Errorf("SUBSCRIBE_OK from typed fields:\n got %x\nwant %s", enc, want)
	}
	enc = mustAppend(t, Draft16, &SubscribeUpdate{RequestID: 1, SubscriptionRequestID: 3, Start: Location{5, 0}, EndGroup: 11,
		SubscriberPriority: 9, Forward: true, Changed: UpdateFilter})
	if want := "02000901030121040405000a"; hex.EncodeToString(enc) != want {
		t.Errorf("REQUEST_UPDATE from typed fields:\n got %x\nwant %s", enc, want)
	}
	// A typed value replaces the one in Params.
	s.SubscriberPriority = 1
	s.Params = Params{IntParam(Param16SubscriberPriority, 128)}
	enc = mustAppend(t, Draft16, s)
	if want := "0300100101046c69766505766964656f012001"; hex.EncodeToString(enc) != want {
		t.Errorf("SUBSCRIBE with a changed priority: %x", enc)
	}
	// Bad typed values are refused.
	for _, m := range []Message{
		&Subscribe{RequestID: 1, Namespace: Tuple{"a"}, Name: "b", FilterType: 9},
		&Subscribe{RequestID: 1, Namespace: Tuple{"a"}, Name: "b", FilterType: FilterAbsoluteStart, GroupOrder: 3},
		&SubscribeOK{ContentExists: true, Largest: Location{Group: MaxVarint + 1}},
		&SubscribeNamespace{Prefix: Tuple{"a"}, SubscribeOptions: 3},
		&Subscribe{RequestID: 1, Namespace: Tuple{"a"}, Name: "b", Params: Params{IntParam(3, 1)}},
	} {
		if b, err := AppendMessage(nil, Draft16, m); err == nil {
			t.Errorf("%+v encoded as %x", m, b)
		}
	}
}

// TestControl16TrackStatusOK: REQUEST_OK answering TRACK_STATUS carries
// SUBSCRIBE_OK's parameters; TrackStatusFromRequestOK reads them.
func TestControl16TrackStatusOK(t *testing.T) {
	ts := &TrackStatus{RequestID: 8, Expires: 3000, GroupOrder: GroupOrderDescending, ContentExists: true, Largest: Location{7, 2}}
	rok := RequestOKFromTrackStatus(ts)
	enc := mustAppend(t, Draft16, rok)
	m, _, err := ParseMessage(enc, Draft16, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := TrackStatusFromRequestOK(m.(*RequestOK))
	if err != nil {
		t.Fatal(err)
	}
	ts.Params = got.Params
	if !reflect.DeepEqual(got, ts) {
		t.Errorf("got %+v\nwant %+v", got, ts)
	}
	// No parameters: no content, never expires, ascending.
	got, err = TrackStatusFromRequestOK(&RequestOK{RequestID: 1})
	if err != nil || got.ContentExists || got.Expires != 0 || got.GroupOrder != GroupOrderAscending || got.RequestID != 1 {
		t.Errorf("empty REQUEST_OK: %+v, %v", got, err)
	}
	if _, err := TrackStatusFromRequestOK(&RequestOK{Params: Params{BytesParam(Param16LargestObject, []byte{1})}}); err == nil {
		t.Error("a one-byte LARGEST_OBJECT was accepted")
	}
}

// TestControl16ParamErrors: what the draft-16 text makes a protocol
// violation in parameters.
func TestControl16ParamErrors(t *testing.T) {
	sub := "0101046c69766505766964656f" // request 1, namespace "live", name "video"
	frame := func(typ byte, body string) []byte {
		b, _ := hex.DecodeString(body)
		return frameFor(Draft16, uint64(typ), b)
	}
	for _, c := range []struct {
		name string
		in   []byte
		kind Kind
	}{
		{"unknown message parameter", frame(0x03, sub+"01404104deadbeef"), KindInvalidValue},
		{"delivery timeout 0", frame(0x03, sub+"010200"), KindInvalidValue},
		{"priority above 255", frame(0x03, sub+"01204100"), KindInvalidValue},
		{"group order 0", frame(0x03, sub+"012200"), KindInvalidValue},
		{"forward 2", frame(0x03, sub+"011002"), KindInvalidValue},
		{"filter type 5", frame(0x03, sub+"01210105"), KindInvalidValue},
		{"filter longer than its type", frame(0x03, sub+"0121020101"), KindLengthMismatch},
		{"filter cut short", frame(0x03, sub+"0121020403"), KindLengthMismatch},
		{"largest object of one varint", frame(0x04, "0100"+"010901"+"05"), KindLengthMismatch},
		{"subscribe options 3", frame(0x11, "01010161"+"03"+"00"), KindInvalidValue},
		{"too many parameters", frame(0x07, "01"+"41"+"00"), KindLimit},
		{"namespace of 33 fields", frame(0x08, "21"+strings.Repeat("0161", 33)), KindInvalidValue},
		{"bytes after the last field", frame(0x0A, "0100"), KindLengthMismatch},
		{"value over 2^16-1 bytes", frame(0x07, "0101"+"01"+"bfff0000"), KindLimit},
	} {
		_, _, err := ParseMessage(c.in, Draft16, nil)
		if err == nil {
			t.Errorf("%s: %x accepted", c.name, c.in)
			continue
		}
		pe, ok := AsProtocolError(err)
		if !ok || pe.Kind != c.kind {
			t.Errorf("%s: %v, want kind %v", c.name, err, c.kind)
		}
	}
	// Unknown setup parameters are kept, also repeated (the text says to
	// allow duplicates of unknown setup parameters).
	in := frame(0x20, "02"+"4040"+"01"+"00"+"01")
	m, _, err := ParseMessage(in, Draft16, nil)
	if err != nil || len(m.(*ClientSetup).Params) != 2 {
		t.Errorf("unknown setup parameters: %+v, %v", m, err)
	}
	// Delta types add up: keys 0x40 and 0x40+0x40.
	if p := m.(*ClientSetup).Params; p[0].Key != 0x40 || p[1].Key != 0x40 {
		t.Errorf("delta-coded keys: %+v", p)
	}
}

// TestControl16TruncatedEverywhere cuts every draft-16 sample at every
// position: a protocol error, never a panic; only messages that end in
// track extensions may decode (with fewer extensions), and a REQUEST_OK cut
// right after its Request ID (read as having no parameters, for peers that
// omit the count).
func TestControl16TruncatedEverywhere(t *testing.T) {
	for _, m := range samples16() {
		enc := mustAppend(t, Draft16, m)
		typ, tn, _ := ParseVarint(enc)
		payload := enc[tn+2:]
		for cut := 0; cut < len(payload); cut++ {
			got, _, err := ParseMessage(frameFor(Draft16, typ, payload[:cut]), Draft16, nil)
			if err == nil {
				if ok, isOK := got.(*RequestOK); isOK && len(ok.Params) == 0 && cut == VarintLen(ok.RequestID) {
					continue
				}
				if trackExtOf(m) == nil {
					t.Fatalf("%s cut at %d/%d decoded as %+v", MessageName(Draft16, m), cut, len(payload), got)
				}
				continue
			}
			if _, ok := AsProtocolError(err); !ok {
				t.Fatalf("%s cut at %d: %v is not a *ProtocolError", MessageName(Draft16, m), cut, err)
			}
		}
	}
}

func TestControl16Reader(t *testing.T) {
	ms := samples16()
	r := NewControlReader(bytes.NewReader(concatMessages(t, Draft16, ms)), Draft16, nil)
	for i, want := range ms {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("message %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if m, err := r.Read(); err == nil {
		t.Fatalf("read past the end: %+v", m)
	}
	if n := MessageName(Draft16, &SubscribeUpdate{}); n != "REQUEST_UPDATE" {
		t.Errorf("name %q", n)
	}
	if n := fmt.Sprint(MessageType(Draft16, &RequestOK{})); n != "7 true" {
		t.Errorf("REQUEST_OK type %s", n)
	}
}

// TestControl16ToDraft16: every message draft-16 dropped has a stand-in
// that draft-16 encodes; the others pass through.
func TestControl16ToDraft16(t *testing.T) {
	for _, m := range []Message{&SubscribeError{RequestID: 1, ErrorCode: 2, Reason: "r"}, &PublishError{}, &FetchError{},
		&TrackStatusError{}, &PublishNamespaceError{}, &SubscribeNamespaceError{}, &PublishNamespaceOK{RequestID: 3},
		&SubscribeNamespaceOK{}, &TrackStatus{RequestID: 4, ContentExists: true, Largest: Location{1, 2}}} {
		if _, ok := MessageType(Draft16, m); ok {
			t.Errorf("%T exists in draft-16", m)
		}
		got := ToDraft16(m)
		if _, err := AppendMessage(nil, Draft16, got); err != nil {
			t.Errorf("%T -> %T: %v", m, got, err)
		}
	}
	if e, ok := ToDraft16(&SubscribeError{RequestID: 1, ErrorCode: 2, Reason: "r"}).(*RequestError); !ok ||
		*e != (RequestError{RequestID: 1, ErrorCode: 2, Reason: "r"}) {
		t.Errorf("SUBSCRIBE_ERROR -> %+v", e)
	}
	if ts, err := TrackStatusFromRequestOK(ToDraft16(&TrackStatus{RequestID: 4, ContentExists: true, Largest: Location{1, 2}}).(*RequestOK)); err != nil ||
		!ts.ContentExists || ts.Largest != (Location{1, 2}) {
		t.Errorf("TRACK_STATUS_OK -> %+v, %v", ts, err)
	}
	s := &Subscribe{}
	if ToDraft16(s) != Message(s) {
		t.Error("SUBSCRIBE was replaced")
	}
}
