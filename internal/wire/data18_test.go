package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestData18TextSubgroupExamples: the two subgroup streams of the text's
// "Examples" section (draft-ietf-moq-transport-18, Data Streams), encoded
// by hand from the SUBGROUP_HEADER and object layouts. The second example's
// Properties Length (33) and the second property's Length (21) in the text
// do not match "traceID:123456" (14 bytes); the vector uses the real
// lengths (22 and 14) and writes type 77 as delta 73 after type 4.
func TestData18TextSubgroupExamples(t *testing.T) {
	props := "04" + "f08257dcd3" + "49" + "0e" + hex.EncodeToString([]byte("traceID:123456"))
	for _, c := range []struct {
		name    string
		hex     string
		header  SubgroupHeader
		objects []Object
	}{
		{"type 0x14", "14" + "02" + "00" + "00" + "00" + "00" + "04" + "61626364" + "00" + "04" + "65666768",
			SubgroupHeader{Type: 0x14, TrackAlias: 2},
			[]Object{{ID: 0, Payload: []byte("abcd")}, {ID: 1, Payload: []byte("efgh")}}},
		{"type 0x35", "35" + "02" + "00" + "00" + "00" + "16" + props + "04" + "61626364" + "00" + "00" + "04" + "65666768",
			SubgroupHeader{Type: 0x35, TrackAlias: 2},
			[]Object{{ID: 0, Extensions: unhex(t, props), Payload: []byte("abcd")}, {ID: 1, Payload: []byte("efgh")}}},
	} {
		b := unhex(t, c.hex)
		h, n, err := ParseSubgroupHeader(b, Draft18)
		if err != nil || !reflect.DeepEqual(h, c.header) {
			t.Fatalf("%s: header %+v, %v", c.name, h, err)
		}
		enc, err := AppendSubgroupHeader(nil, Draft18, &c.header)
		if err != nil {
			t.Fatal(err)
		}
		dec := SubgroupDecoder{Draft: Draft18, Header: h}
		e := SubgroupEncoder{Draft: Draft18, Header: c.header}
		for i, want := range c.objects {
			var o Object
			m, err := dec.ParseObject(b[n:], &o)
			if err != nil || o.ID != want.ID || !bytes.Equal(o.Payload, want.Payload) || !bytes.Equal(o.Extensions, want.Extensions) {
				t.Fatalf("%s object %d: %+v, %v", c.name, i, o, err)
			}
			n += m
			if enc, err = e.AppendObject(enc, &want); err != nil {
				t.Fatal(err)
			}
		}
		if n != len(b) || !bytes.Equal(enc, b) {
			t.Fatalf("%s: used %d of %d; encoded %x", c.name, n, len(b), enc)
		}
		ps, err := ParseExtensionsDraft(Draft18, c.objects[0].Extensions, nil)
		if c.name == "type 0x35" && (err != nil || len(ps) != 2 || ps[0].Key != 4 || ps[0].Int != 2186796243 || ps[1].Key != 77 || string(ps[1].Bytes) != "traceID:123456") {
			t.Fatalf("properties %+v, %v", ps, err)
		}
	}
}

// TestData18FetchVector: a fetch stream encoded by hand from the
// FETCH_HEADER and fetch object layouts and the Serialization Flags rules
// (ascending group order): Group ID Delta is prior + delta + 1, an Object ID
// Delta after a Group ID Delta is absolute, End of Range carries absolute
// Group and Object IDs and a zero payload length.
func TestData18FetchVector(t *testing.T) {
	h := "05" + "8080"                                // FETCH_HEADER, Request ID 128 (2-byte vi64)
	objs := "1c" + "03" + "00" + "05" + "01" + "61" + // group 3 object 0 priority 5 "a"
		"00" + "01" + "62" + // group 3 object 1, all from the prior
		"0c" + "01" + "00" + "01" + "63" + // group 3+1+1 = 5, object 0
		"808c" + "07" + "02" + "00" + // End of Non-Existent Range up to {7, 2}
		"08" + "00" + "01" + "64" // group 7+0+1 = 8, object 2+1 = 3
	want := []Object{
		{Group: 3, ID: 0, Priority: 5, Payload: []byte("a")},
		{Group: 3, ID: 1, Priority: 5, Payload: []byte("b")},
		{Group: 5, ID: 0, Priority: 5, Payload: []byte("c")},
		{Group: 7, ID: 2, Priority: 5, Status: StatusEndOfNonExistentRange},
		{Group: 8, ID: 3, Priority: 5, Payload: []byte("d")},
	}
	b := unhex(t, h+objs)
	fh, n, err := ParseFetchHeader(b, Draft18)
	if err != nil || fh.RequestID != 128 || n != 3 {
		t.Fatalf("header %+v %d %v", fh, n, err)
	}
	enc := AppendFetchHeader(nil, Draft18, fh)
	dec := FetchDecoder{Draft: Draft18}
	e := FetchEncoder{Draft: Draft18}
	for i := range want {
		var o Object
		m, err := dec.ParseObject(b[n:], &o)
		if err != nil || !reflect.DeepEqual(o, want[i]) {
			t.Fatalf("object %d: %+v, %v; want %+v", i, o, err, want[i])
		}
		n += m
		if enc, err = e.AppendObject(enc, &want[i]); err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
	}
	if n != len(b) || !bytes.Equal(enc, b) {
		t.Fatalf("used %d of %d; encoded %x, want %x", n, len(b), enc, b)
	}
	// Descending: group 9 then 7 is delta 1 (9 - (1+1)).
	e = FetchEncoder{Draft: Draft18, GroupOrder: GroupOrderDescending}
	out, err := e.AppendObject(nil, &Object{Group: 9, Payload: []byte("x")})
	if err == nil {
		out, err = e.AppendObject(out, &Object{Group: 7, Payload: []byte("y")})
	}
	if want := "1c0900000178" + "0c01000179"; err != nil || hex.EncodeToString(out) != want {
		t.Fatalf("descending: %x, %v; want %s", out, err, want)
	}
	// The same bytes read ascending are groups 9 and 11.
	dec = FetchDecoder{Draft: Draft18}
	var o Object
	m, _ := dec.ParseObject(out, &o)
	if _, err := dec.ParseObject(out[m:], &o); err != nil || o.Group != 11 {
		t.Fatalf("ascending reading: %+v %v", o, err)
	}
}

// TestData18DatagramVectors: datagrams encoded by hand from the
// OBJECT_DATAGRAM layout.
func TestData18DatagramVectors(t *testing.T) {
	for _, c := range []struct {
		hex string
		dg  Datagram
	}{
		// Type 0, alias 2, group 5, object 1, priority 0x80 (a byte, not a
		// varint), payload "hi".
		{"00" + "02" + "05" + "01" + "80" + "6869", Datagram{TrackAlias: 2, Object: Object{Group: 5, ID: 1, Priority: 0x80, Payload: []byte("hi")}}},
		// 0x24: STATUS | ZERO_OBJECT_ID; alias 300 (2-byte vi64 812c),
		// group 5, priority 7, status End of Group.
		{"24" + "812c" + "05" + "07" + "03", Datagram{Type: 0x24, TrackAlias: 300, Object: Object{Group: 5, Priority: 7, Status: StatusEndOfGroup}}},
		// 0x0B: PROPERTIES | END_OF_GROUP | DEFAULT_PRIORITY; properties
		// {0x3E: 2}, payload "z".
		{"0b" + "01" + "02" + "03" + "02" + "3e02" + "7a", Datagram{Type: 0x0B, TrackAlias: 1, EndOfGroup: true,
			Object: Object{Group: 2, ID: 3, Extensions: []byte{0x3e, 0x02}, Payload: []byte("z")}}},
	} {
		b := unhex(t, c.hex)
		got, err := ParseDatagram(b, Draft18, nil)
		if err != nil || !reflect.DeepEqual(got, c.dg) {
			t.Fatalf("%s: %+v, %v; want %+v", c.hex, got, err, c.dg)
		}
		enc, err := AppendDatagram(nil, Draft18, &c.dg)
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("%s: encoded %x, %v", c.hex, enc, err)
		}
	}
	// Padding: the type (4-byte vi64) then zeros.
	pad := append(AppendVarint18(nil, DatagramTypePadding18), 0, 0, 0)
	if dg, err := ParseDatagram(pad, Draft18, nil); err != nil || dg.Type != DatagramTypePadding18 {
		t.Fatalf("padding: %+v %v", dg, err)
	}
	_, err := ParseDatagram(append(pad, 1), Draft18, nil)
	wantKind(t, err, KindInvalidValue)
}

// TestData18SubgroupTypes: every byte value is a valid subgroup header type
// exactly when the text's rule says so, and every valid type round-trips a
// stream of objects.
func TestData18SubgroupTypes(t *testing.T) {
	valid := 0
	for typ := uint64(0); typ < 0x100; typ++ {
		want := typ&0x90 == 0x10 && typ&0x06 != 0x06
		h := SubgroupHeader{Type: typ, TrackAlias: 7, Group: 1 << 50, Priority: 9}
		if typ&0x04 != 0 {
			h.Subgroup = 1<<64 - 1
		} else if typ&0x02 != 0 {
			h.Subgroup = 4
		}
		b, err := AppendSubgroupHeader(nil, Draft18, &h)
		if (err == nil) != want {
			t.Fatalf("type 0x%x: encode %v, valid %v", typ, err, want)
		}
		if !want {
			_, _, err := ParseSubgroupHeader(unhex(t, hex.EncodeToString(AppendVarint18(nil, typ))+"0000"), Draft18)
			wantKind(t, err, KindUnknownMessage)
			continue
		}
		valid++
		got, n, err := ParseSubgroupHeader(b, Draft18)
		if typ&0x20 != 0 {
			h.Priority = 0
		}
		if typ&0x06 == 0x02 {
			h.Subgroup = 0 // set from the first object
		}
		if err != nil || n != len(b) || !reflect.DeepEqual(got, h) {
			t.Fatalf("type 0x%x: %+v %d %v; want %+v", typ, got, n, err, h)
		}
		if typ&0x06 == 0x02 {
			h.Subgroup = 4
		}
		objs := []Object{{ID: 4, Payload: []byte("a")}, {ID: 5, Status: StatusNormal}, {ID: 9, Status: StatusEndOfGroup}}
		if typ&0x01 != 0 {
			objs[0].Extensions = []byte{0x02, 0x05}
		}
		e := SubgroupEncoder{Draft: Draft18, Header: h}
		for i := range objs {
			if b, err = e.AppendObject(b, &objs[i]); err != nil {
				t.Fatalf("type 0x%x object %d: %v", typ, i, err)
			}
		}
		dec := SubgroupDecoder{Draft: Draft18, Header: got}
		for i := range objs {
			var o Object
			m, err := dec.ParseObject(b[n:], &o)
			if err != nil || o.ID != objs[i].ID || o.Status != objs[i].Status || !bytes.Equal(o.Payload, objs[i].Payload) ||
				!bytes.Equal(o.Extensions, objs[i].Extensions) || o.Group != h.Group || o.Subgroup != h.Subgroup {
				t.Fatalf("type 0x%x object %d: %+v %v", typ, i, o, err)
			}
			n += m
		}
		if n != len(b) {
			t.Fatalf("type 0x%x: %d bytes left", typ, len(b)-n)
		}
	}
	if valid != 48 { // 64 types with bit 4 set below 0x80, less 16 with mode 0b11
		t.Errorf("%d valid subgroup types, want 48", valid)
	}
}

// TestData18DatagramTypes: the valid datagram types are the text's.
func TestData18DatagramTypes(t *testing.T) {
	valid := 0
	for typ := uint64(0); typ < 0x100; typ++ {
		want := (typ <= 0x0F) || (typ >= 0x20 && typ <= 0x2F && typ&0x10 == 0 && typ&0x02 == 0)
		if isDatagramType18(typ) != want {
			t.Fatalf("type 0x%x: valid %v", typ, !want)
		}
		if !want {
			_, err := ParseDatagram(unhex(t, hex.EncodeToString(AppendVarint18(nil, typ))+"000000"), Draft18, nil)
			wantKind(t, err, KindUnknownMessage)
			continue
		}
		valid++
		dg := Datagram{Type: typ, TrackAlias: 1, Object: Object{Group: 2, Priority: 3}}
		if typ&0x04 == 0 {
			dg.Object.ID = 1 << 63
		}
		if typ&0x01 != 0 {
			dg.Object.Extensions = []byte{0x3c, 0x01}
		}
		if typ&0x02 != 0 {
			dg.EndOfGroup = true
		}
		if typ&0x20 != 0 {
			dg.Object.Status = StatusEndOfTrack
			if typ&0x01 != 0 {
				dg.Object.Status = StatusNormal
			}
		} else {
			dg.Object.Payload = []byte("p")
		}
		if typ&0x08 != 0 {
			dg.Object.Priority = 0
		}
		b, err := AppendDatagram(nil, Draft18, &dg)
		if err != nil {
			t.Fatalf("type 0x%x: %v", typ, err)
		}
		got, err := ParseDatagram(b, Draft18, nil)
		if err != nil || !reflect.DeepEqual(got, dg) {
			t.Fatalf("type 0x%x: %+v %v; want %+v", typ, got, err, dg)
		}
		for cut := 0; cut < len(b); cut++ {
			if _, err := ParseDatagram(b[:cut], Draft18, nil); err == nil {
				if typ&0x20 == 0 && cut >= len(b)-len(dg.Object.Payload) {
					continue // a shorter payload
				}
				t.Fatalf("type 0x%x cut at %d decoded", typ, cut)
			} else if _, ok := AsProtocolError(err); !ok {
				t.Fatalf("type 0x%x cut at %d: %v", typ, cut, err)
			}
		}
	}
	if valid != 24 {
		t.Errorf("%d valid datagram types, want 24", valid)
	}
}

// TestData18Errors: malformed draft-18 data is refused.
func TestData18Errors(t *testing.T) {
	// Properties on a non-Normal object: subgroup stream and datagram.
	dec := SubgroupDecoder{Draft: Draft18, Header: SubgroupHeader{Type: 0x11}}
	var o Object
	_, err := dec.ParseObject(unhex(t, "00"+"02"+"3e01"+"00"+"03"), &o)
	wantKind(t, err, KindInvalidValue)
	_, err = ParseDatagram(unhex(t, "21"+"01"+"02"+"03"+"04"+"02"+"3e01"+"03"), Draft18, nil)
	wantKind(t, err, KindInvalidValue)
	// A datagram with the PROPERTIES bit and Properties Length 0.
	_, err = ParseDatagram(unhex(t, "01"+"01"+"02"+"03"+"04"+"00"+"61"), Draft18, nil)
	wantKind(t, err, KindInvalidValue)
	// Status 0x1 (gone since 16) and 0x2.
	for _, st := range []string{"01", "02", "05"} {
		_, err = ParseDatagram(unhex(t, "20"+"01"+"02"+"03"+"04"+st), Draft18, nil)
		wantKind(t, err, KindInvalidValue)
	}
	// Object ID delta past 2^64-1.
	dec = SubgroupDecoder{Draft: Draft18, Header: SubgroupHeader{Type: 0x10}}
	n, err := dec.ParseObject(unhex(t, "ffffffffffffffffff"+"0161"), &o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dec.ParseObject(unhex(t, "00"+"0161"), &o)
	wantKind(t, err, KindInvalidValue)
	_ = n
	// Fetch: a first object taking fields from a prior one; group deltas
	// leaving 0..2^64-1; bad flags; an End of Range with a payload; a
	// priority or subgroup taken from before any real object.
	for _, c := range []struct {
		name  string
		order uint8
		hex   string
	}{
		{"first without group", 0, "14" + "00" + "05" + "00"},
		{"first without object", 0, "18" + "00" + "05" + "00"},
		{"first without priority", 0, "0c" + "00" + "00" + "00"},
		{"first with prior subgroup", 0, "1d" + "00" + "00" + "05" + "00"},
		{"undefined flags", 0, "8080" + "00"},
		{"end of range payload", 0, "808c" + "00" + "00" + "01" + "61"},
		{"priority after end of range only", 0, "808c" + "00" + "00" + "00" + "0c" + "00" + "00" + "00"},
		{"descending below 0", GroupOrderDescending, "1c" + "01" + "00" + "00" + "00" + "0c" + "01" + "00" + "00"},
		{"ascending past 2^64-1", 0, "1c" + "ffffffffffffffff00" + "00" + "00" + "00" + "0c" + "ff00000000000000ff" + "00" + "00"},
	} {
		dec := FetchDecoder{Draft: Draft18, GroupOrder: c.order}
		b := unhex(t, c.hex)
		var err error
		for len(b) > 0 {
			var n int
			if n, err = dec.ParseObject(b, &o); err != nil {
				break
			}
			b = b[n:]
		}
		if pe, ok := AsProtocolError(err); !ok || pe.Kind != KindInvalidValue {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// Encoder refusals.
	e := FetchEncoder{Draft: Draft18}
	b, _ := e.AppendObject(nil, &Object{Group: 5, Payload: []byte("a")})
	if _, err := e.AppendObject(b, &Object{Group: 4, Payload: []byte("b")}); err == nil {
		t.Error("a group going down in an ascending fetch was encoded")
	}
	if _, err := e.AppendObjectFlags(b, &Object{Group: 5, ID: 1, Priority: 1}, FetchFlagObjectID); err == nil {
		t.Error("flags leaving out a changed priority were accepted")
	}
	se := SubgroupEncoder{Draft: Draft18, Header: SubgroupHeader{Type: 0x11}}
	if _, err := se.AppendObject(nil, &Object{Status: StatusEndOfGroup, Extensions: []byte{0x02, 0x01}}); err == nil {
		t.Error("properties on an End of Group object were encoded")
	}
	// Stream types.
	for _, c := range []struct {
		typ uint64
		ok  bool
	}{{0x05, true}, {0x2F00, true}, {0x132B3E28, true}, {0x10, true}, {0x7D, true}, {0x04, false}, {0x16, false}, {0x80, false}, {0x20, false}} {
		_, _, err := ParseStreamType18(AppendVarint18(nil, c.typ))
		if (err == nil) != c.ok {
			t.Errorf("stream type 0x%x: %v", c.typ, err)
		}
	}
	if err := CheckPadding18([]byte{0, 0, 1}); err == nil {
		t.Error("non-zero padding accepted")
	}
}

// TestData18Truncated: every prefix of a subgroup header or object, fetch
// header or object is ErrNeedMore; nothing panics.
func TestData18Truncated(t *testing.T) {
	h := SubgroupHeader{Type: 0x15, TrackAlias: 1 << 40, Group: 1 << 60, Subgroup: 3, Priority: 1}
	hb, _ := AppendSubgroupHeader(nil, Draft18, &h)
	se := SubgroupEncoder{Draft: Draft18, Header: h}
	ob, err := se.AppendObject(nil, &Object{ID: 1 << 30, Extensions: []byte{0x3c, 0x05, 0x01, 0x01, 0x61}, Payload: []byte("abc")})
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut < len(hb); cut++ {
		if _, _, err := ParseSubgroupHeader(hb[:cut], Draft18); err != ErrNeedMore {
			t.Fatalf("subgroup header cut at %d: %v", cut, err)
		}
	}
	for cut := 0; cut < len(ob); cut++ {
		dec := SubgroupDecoder{Draft: Draft18, Header: h}
		var o Object
		if _, err := dec.ParseObject(ob[:cut], &o); err != ErrNeedMore {
			t.Fatalf("subgroup object cut at %d: %v", cut, err)
		}
	}
	fe := FetchEncoder{Draft: Draft18}
	fb := AppendFetchHeader(nil, Draft18, FetchHeader{RequestID: 1 << 33})
	for cut := 0; cut < len(fb); cut++ {
		if _, _, err := ParseFetchHeader(fb[:cut], Draft18); err != ErrNeedMore {
			t.Fatalf("fetch header cut at %d: %v", cut, err)
		}
	}
	fo, err := fe.AppendObject(nil, &Object{Group: 1 << 62, Subgroup: 9, ID: 1 << 20, Priority: 4, Extensions: []byte{0x02, 0x01}, Payload: []byte("xyz")})
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut < len(fo); cut++ {
		dec := FetchDecoder{Draft: Draft18}
		var o Object
		if _, err := dec.ParseObject(fo[:cut], &o); err != ErrNeedMore {
			t.Fatalf("fetch object cut at %d: %v", cut, err)
		}
	}
}

// TestData18FetchRoundTrip: sequences of fetch objects (both group orders,
// datagram-preference objects, subgroup modes, End of Range) round-trip
// with the encoder's shortest flags and re-encode with the flags read.
func TestData18FetchRoundTrip(t *testing.T) {
	for _, order := range []uint8{GroupOrderAscending, GroupOrderDescending} {
		g := func(i uint64) uint64 {
			if order == GroupOrderDescending {
				return 1<<64 - 1 - i
			}
			return i
		}
		objs := []Object{
			{Group: g(0), Subgroup: 0, ID: 0, Priority: 1, Payload: []byte("a")},
			{Group: g(0), Subgroup: 0, ID: 1, Priority: 1, Payload: []byte("b")},
			{Group: g(0), Subgroup: 1, ID: 5, Priority: 2, Extensions: []byte{0x3e, 0x03}},
			{Group: g(0), Subgroup: 1, ID: 6, Priority: 2},
			{Group: g(0), Subgroup: 2, ID: 7, Priority: 2},
			{Group: g(3), Subgroup: 7, ID: 0, Priority: 2, Status: StatusEndOfUnknownRange},
			{Group: g(3), Subgroup: 9, ID: 1, Priority: 2},
			{Group: g(10), Subgroup: 9, ID: 1 << 62, Priority: 200, Payload: bytes.Repeat([]byte("z"), 300)},
		}
		// The End of Range object reads back with the prior real object's
		// subgroup and priority.
		want := append([]Object(nil), objs...)
		want[5].Subgroup = 2
		e := FetchEncoder{Draft: Draft18, GroupOrder: order}
		var b []byte
		for i := range objs {
			var err error
			if b, err = e.AppendObject(b, &objs[i]); err != nil {
				t.Fatalf("order %d object %d: %v", order, i, err)
			}
		}
		dec := FetchDecoder{Draft: Draft18, GroupOrder: order}
		e2 := FetchEncoder{Draft: Draft18, GroupOrder: order}
		var again []byte
		n := 0
		for i := range want {
			var o Object
			m, err := dec.ParseObject(b[n:], &o)
			if err != nil {
				t.Fatalf("order %d object %d: %v", order, i, err)
			}
			if len(o.Payload) == 0 {
				o.Payload = nil
			}
			if !reflect.DeepEqual(o, want[i]) {
				t.Fatalf("order %d object %d: %+v, want %+v", order, i, o, want[i])
			}
			n += m
			if again, err = e2.AppendObjectFlags(again, &o, dec.Flags()); err != nil {
				t.Fatalf("order %d object %d re-encoding with flags 0x%x: %v", order, i, dec.Flags(), err)
			}
		}
		if n != len(b) || !bytes.Equal(again, b) {
			t.Fatalf("order %d: used %d of %d, re-encoded %x, first %x", order, n, len(b), again, b)
		}
	}
	// A datagram-preference object (flag 0x40) has no subgroup.
	e := FetchEncoder{Draft: Draft18}
	b, err := e.AppendObjectFlags(nil, &Object{Group: 1, ID: 2, Priority: 3}, FetchFlagDatagram|FetchFlagGroupID|FetchFlagObjectID|FetchFlagPriority|0x03)
	if err != nil {
		t.Fatal(err)
	}
	if want := "5f" + "01" + "02" + "03" + "00"; hex.EncodeToString(b) != want {
		t.Errorf("datagram fetch object %x, want %s", b, want)
	}
}

// isProto18 fails t unless err is nil, ErrNeedMore or a *ProtocolError.
func isProto18(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrNeedMore) {
		if _, ok := AsProtocolError(err); !ok {
			t.Fatalf("error %v (%T) is not a *ProtocolError", err, err)
		}
	}
}

// fuzzSubgroup18: a subgroup stream's header and objects decode without a
// panic, and every decoded object re-encodes.
func fuzzSubgroup18(t *testing.T, data []byte) {
	isProto := func(err error) { isProto18(t, err) }
	if h, n, err := ParseSubgroupHeader(data, Draft18); err != nil {
		isProto(err)
	} else {
		dec := SubgroupDecoder{Draft: Draft18, Header: h}
		enc := SubgroupEncoder{Draft: Draft18, Header: h}
		rest := data[n:]
		for len(rest) > 0 {
			var o Object
			m, err := dec.ParseObject(rest, &o)
			if err != nil {
				isProto(err)
				break
			}
			enc.Header = dec.Header // the subgroup, once the first object set it
			if _, err := enc.AppendObject(nil, &o); err != nil {
				t.Fatalf("decoded subgroup object %+v does not re-encode: %v", o, err)
			}
			rest = rest[m:]
		}
	}
}

// fuzzFetch18: fetch objects (the whole input, both group orders) decode
// without a panic, re-encode with the flags read, and decode again to the
// same objects.
func fuzzFetch18(t *testing.T, data []byte) { fuzzFetchVi64(t, Draft18, data) }

func fuzzFetchVi64(t *testing.T, d Draft, data []byte) {
	isProto := func(err error) { isProto18(t, err) }
	for _, order := range []uint8{GroupOrderAscending, GroupOrderDescending} {
		dec := FetchDecoder{Draft: d, GroupOrder: order}
		enc := FetchEncoder{Draft: d, GroupOrder: order}
		var first, again []byte
		rest := data
		for len(rest) > 0 {
			var o Object
			m, err := dec.ParseObject(rest, &o)
			if err != nil {
				isProto(err)
				break
			}
			first = append(first, rest[:m]...)
			if again, err = enc.AppendObjectFlags(again, &o, dec.Flags()); err != nil {
				t.Fatalf("decoded fetch object %+v (flags 0x%x) does not re-encode: %v", o, dec.Flags(), err)
			}
			rest = rest[m:]
		}
		// Re-encoding writes the shortest varints, so compare by decoding.
		dec2 := FetchDecoder{Draft: d, GroupOrder: order}
		dec3 := FetchDecoder{Draft: d, GroupOrder: order}
		for len(first) > 0 {
			var a, b Object
			m, err1 := dec2.ParseObject(first, &a)
			k, err2 := dec3.ParseObject(again, &b)
			if err1 != nil || err2 != nil {
				t.Fatalf("re-decoding: %v / %v", err1, err2)
			}
			if len(a.Payload) == 0 {
				a.Payload = nil
			}
			if len(b.Payload) == 0 {
				b.Payload = nil
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("fetch object changed: %+v / %+v", a, b)
			}
			first, again = first[m:], again[k:]
		}
	}
}

// fuzzDatagram18: a datagram decodes without a panic (a short one is a
// protocol error, never ErrNeedMore) and round-trips.
func fuzzDatagram18(t *testing.T, data []byte) {
	dg, err := ParseDatagram(data, Draft18, nil)
	if err != nil {
		if _, ok := AsProtocolError(err); !ok {
			t.Fatalf("datagram error %v (%T) is not a *ProtocolError", err, err)
		}
		return
	}
	if dg.Type == DatagramTypePadding18 {
		return
	}
	b, err := AppendDatagram(nil, Draft18, &dg)
	if err != nil {
		t.Fatalf("decoded datagram %+v does not re-encode: %v", dg, err)
	}
	dg2, err := ParseDatagram(b, Draft18, nil)
	if err != nil || !reflect.DeepEqual(dg, dg2) {
		t.Fatalf("datagram round trip: %+v / %+v %v", dg, dg2, err)
	}
}

func addData18Seeds(f *testing.F) {
	for _, s := range []string{
		"1402000000000461626364" + "0004" + "65666768",
		"1c0300050161" + "000162" + "0c01000163" + "808c070200" + "08000164",
		"0002050180" + "6869", "24812c050703", "0b01020302" + "3e02" + "7a",
		"5f01020300", "35020000" + "00" + "0202" + "3e01" + "0161",
	} {
		b, err := hex.DecodeString(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzSubgroup18(f *testing.F) {
	addData18Seeds(f)
	f.Fuzz(fuzzSubgroup18)
}

func FuzzFetch18(f *testing.F) {
	addData18Seeds(f)
	f.Fuzz(fuzzFetch18)
}

func FuzzDatagram18(f *testing.F) {
	addData18Seeds(f)
	f.Fuzz(fuzzDatagram18)
}

// TestData18StreamReader: draft-18 subgroup and fetch streams read through
// StreamReader, including a descending fetch and a padding stream.
func TestData18StreamReader(t *testing.T) {
	h := SubgroupHeader{Type: 0x5D, TrackAlias: 3, Group: 200, Subgroup: 1}
	b, err := AppendSubgroupHeader(nil, Draft18, &h)
	if err != nil {
		t.Fatal(err)
	}
	e := SubgroupEncoder{Draft: Draft18, Header: h}
	want := []Object{{Group: 200, Subgroup: 1, ID: 0, Payload: []byte("one"), Extensions: []byte{0x3c, 0x01}},
		{Group: 200, Subgroup: 1, ID: 7, Status: StatusEndOfGroup}}
	for i := range want {
		if b, err = e.AppendObject(b, &want[i]); err != nil {
			t.Fatal(err)
		}
	}
	sr := NewStreamReader(bytes.NewReader(b), Draft18, nil)
	for i := range want {
		var o Object
		if err := sr.Next(&o); err != nil || !reflect.DeepEqual(o, want[i]) {
			t.Fatalf("subgroup object %d: %+v %v", i, o, err)
		}
	}
	var o Object
	if err := sr.Next(&o); err != io.EOF {
		t.Fatalf("end of subgroup stream: %v", err)
	}
	if got := sr.SubgroupHeader(); got != h {
		t.Fatalf("header %+v", got)
	}
	// Cut inside the last object: truncated.
	sr = NewStreamReader(bytes.NewReader(b[:len(b)-1]), Draft18, nil)
	sr.Next(&o)
	err = sr.Next(&o)
	wantKind(t, err, KindTruncated)

	fe := FetchEncoder{Draft: Draft18, GroupOrder: GroupOrderDescending}
	fb := AppendFetchHeader(nil, Draft18, FetchHeader{RequestID: 6})
	fobjs := []Object{{Group: 9, ID: 1, Priority: 2, Payload: []byte("a")}, {Group: 4, ID: 0, Priority: 2, Payload: []byte("b")}}
	for i := range fobjs {
		if fb, err = fe.AppendObject(fb, &fobjs[i]); err != nil {
			t.Fatal(err)
		}
	}
	sr = NewStreamReader(bytes.NewReader(fb), Draft18, nil)
	if err := sr.ReadHeader(); err != nil || sr.Kind() != StreamFetch || sr.FetchHeader().RequestID != 6 {
		t.Fatalf("fetch header: %v %v %+v", err, sr.Kind(), sr.FetchHeader())
	}
	sr.SetFetchGroupOrder(GroupOrderDescending)
	for i := range fobjs {
		if err := sr.Next(&o); err != nil || !reflect.DeepEqual(o, fobjs[i]) {
			t.Fatalf("fetch object %d: %+v %v", i, o, err)
		}
	}
	pad := append(AppendVarint18(nil, StreamTypePadding18), 0, 0)
	if err := NewStreamReader(bytes.NewReader(pad), Draft18, nil).ReadHeader(); err != ErrPadding18 {
		t.Fatalf("padding stream: %v", err)
	}
	bad := AppendVarint18(nil, 0x16) // SUBGROUP_ID_MODE 0b11
	err = NewStreamReader(bytes.NewReader(append(bad, 1, 2, 3)), Draft18, nil).ReadHeader()
	wantKind(t, err, KindUnknownMessage)
}
