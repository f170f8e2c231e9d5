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
	"runtime"
	"strconv"
	"testing"
	"testing/iotest"
)

// ---------------------------------------------------------------------------
// Helpers shared by the data-plane tests, fuzz targets and benchmarks.

func dtMustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func dtObjEqual(a, b *Object) bool {
	return a.Group == b.Group && a.Subgroup == b.Subgroup && a.ID == b.ID &&
		a.Priority == b.Priority && a.Status == b.Status &&
		bytes.Equal(a.Extensions, b.Extensions) && bytes.Equal(a.Payload, b.Payload)
}

func dtObjString(o *Object) string {
	return fmt.Sprintf("{g=%d sg=%d id=%d prio=%d status=%d ext=%x payload=%x}",
		o.Group, o.Subgroup, o.ID, o.Priority, o.Status, o.Extensions, o.Payload)
}

func dtObjsEqual(a, b []Object) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !dtObjEqual(&a[i], &b[i]) {
			return false
		}
	}
	return true
}

func dtDatagramEqual(a, b *Datagram) bool {
	return a.Type == b.Type && a.SubscribeID == b.SubscribeID && a.TrackAlias == b.TrackAlias &&
		a.EndOfGroup == b.EndOfGroup && dtObjEqual(&a.Object, &b.Object)
}

func dtWantKind(t testing.TB, err error, k Kind) {
	t.Helper()
	pe, ok := AsProtocolError(err)
	if !ok {
		t.Fatalf("want a %v protocol error, got %v", k, err)
	}
	if pe.Kind != k {
		t.Fatalf("want a %v protocol error, got %v", k, pe)
	}
}

// dtParseSubgroupAll parses a whole subgroup stream held in b with the slice
// API. term is nil when b ends at an object boundary, else the error that
// stopped decoding (ErrNeedMore for a partial object).
func dtParseSubgroupAll(b []byte, d Draft, lim *Limits) (h SubgroupHeader, objs []Object, term error) {
	h, n, err := ParseSubgroupHeader(b, d)
	if err != nil {
		return h, nil, err
	}
	dec := SubgroupDecoder{Draft: d, Header: h, Limits: lim}
	rest := b[n:]
	for len(rest) > 0 {
		var o Object
		m, err := dec.ParseObject(rest, &o)
		if err != nil {
			return dec.Header, objs, err
		}
		objs = append(objs, o)
		rest = rest[m:]
	}
	return dec.Header, objs, nil
}

// dtParseFetchAll is dtParseSubgroupAll for fetch streams.
func dtParseFetchAll(b []byte, d Draft, lim *Limits) (h FetchHeader, objs []Object, term error) {
	h, n, err := ParseFetchHeader(b, d)
	if err != nil {
		return h, nil, err
	}
	rest := b[n:]
	dec := FetchDecoder{Draft: d, Limits: lim}
	for len(rest) > 0 {
		var o Object
		m, err := dec.ParseObject(rest, &o)
		if err != nil {
			return h, objs, err
		}
		objs = append(objs, o)
		rest = rest[m:]
	}
	return h, objs, nil
}

// dtReadAll reads a whole stream with a StreamReader. term is io.EOF for a
// clean end.
func dtReadAll(r io.Reader, d Draft, lim *Limits) (*StreamReader, []Object, error) {
	s := NewStreamReader(r, d, lim)
	var objs []Object
	for {
		var o Object
		if err := s.Next(&o); err != nil {
			return s, objs, err
		}
		objs = append(objs, o)
	}
}

func dtEncodeSubgroup(t testing.TB, d Draft, h SubgroupHeader, objs []Object) []byte {
	t.Helper()
	b, err := AppendSubgroupHeader(nil, d, &h)
	if err != nil {
		t.Fatalf("AppendSubgroupHeader: %v", err)
	}
	enc := SubgroupEncoder{Draft: d, Header: h}
	for i := range objs {
		if b, err = enc.AppendObject(b, &objs[i]); err != nil {
			t.Fatalf("AppendObject %s: %v", dtObjString(&objs[i]), err)
		}
	}
	return b
}

func dtEncodeFetch(t testing.TB, d Draft, h FetchHeader, objs []Object) []byte {
	t.Helper()
	b := AppendFetchHeader(nil, d, h)
	enc := FetchEncoder{Draft: d}
	for i := range objs {
		var err error
		if b, err = enc.AppendObject(b, &objs[i]); err != nil {
			t.Fatalf("AppendFetchObject %s: %v", dtObjString(&objs[i]), err)
		}
	}
	return b
}

func dtMustExt(t testing.TB, ps ...Param) []byte {
	t.Helper()
	b, err := AppendExtensions(nil, ps)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var dtAllDrafts = []Draft{Draft07, Draft07CF, Draft14}

func dtStatuses(d Draft) []ObjectStatus {
	s := []ObjectStatus{StatusNormal, StatusDoesNotExist, StatusEndOfGroup, StatusEndOfTrack}
	if d == Draft16 {
		return []ObjectStatus{StatusNormal, StatusEndOfGroup, StatusEndOfTrack}
	}
	if d.Is07() {
		s = append(s, StatusEndOfSubgroup)
	}
	return s
}

func dtSubgroupTypes14() []uint64 {
	return []uint64{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D}
}

// dtTestObjects returns objects with rising, gapped IDs starting at first:
// payloads of several sizes, empty objects with each status, and (when ext)
// extension blocks on some of them.
func dtTestObjects(t testing.TB, d Draft, first uint64, ext bool) []Object {
	t.Helper()
	var objs []Object
	id := first
	add := func(o Object, gap uint64) {
		o.ID = id
		objs = append(objs, o)
		id += 1 + gap
	}
	add(Object{Payload: []byte("hello")}, 0)
	add(Object{Payload: bytes.Repeat([]byte{0xab}, 300)}, 4) // gap of 4
	for _, st := range dtStatuses(d) {
		add(Object{Status: st}, 0)
	}
	add(Object{Payload: []byte{1}}, 70) // 2-byte delta next
	add(Object{Payload: bytes.Repeat([]byte{7}, 20000)}, 20000)
	if ext {
		objs[0].Extensions = dtMustExt(t, IntParam(0x3C, 2))
		objs[2].Extensions = dtMustExt(t, IntParam(0x3E, 1), BytesParam(0x0B, []byte{0x3c, 0x05}))
		objs[len(objs)-1].Extensions = dtMustExt(t, BytesParam(0x21, bytes.Repeat([]byte{9}, 200)))
	}
	add(Object{}, 0) // empty, Normal
	return objs
}

// ---------------------------------------------------------------------------
// SubgroupType

func TestSubgroupType(t *testing.T) {
	cases := []struct {
		ext, explicit, eog bool
		subgroup           uint64
		want               uint64
	}{
		{false, false, false, 0, 0x10},
		{true, false, false, 0, 0x11},
		{false, false, false, 5, 0x12},
		{true, false, false, 5, 0x13},
		{false, true, false, 0, 0x14},
		{true, true, false, 5, 0x15},
		{false, false, true, 0, 0x18},
		{true, false, true, 0, 0x19},
		{false, false, true, 5, 0x1A},
		{true, false, true, 5, 0x1B},
		{false, true, true, 5, 0x1C},
		{true, true, true, 0, 0x1D},
	}
	for _, c := range cases {
		if got := SubgroupType(c.ext, c.explicit, c.eog, c.subgroup); got != c.want {
			t.Errorf("SubgroupType(%v, %v, %v, %d) = 0x%x, want 0x%x", c.ext, c.explicit, c.eog, c.subgroup, got, c.want)
		}
		if !isSubgroupType14(c.want) {
			t.Errorf("0x%x should be a defined type", c.want)
		}
	}
	for _, bad := range []uint64{0x0F, 0x16, 0x17, 0x1E, 0x1F, 0x20, 0x04, 0x05} {
		if isSubgroupType14(bad) {
			t.Errorf("0x%x should not be a defined type", bad)
		}
	}
}

// ---------------------------------------------------------------------------
// Subgroup streams: round trips

func TestSubgroupRoundTrip(t *testing.T) {
	type tc struct {
		name  string
		d     Draft
		h     SubgroupHeader
		first uint64
	}
	var cases []tc
	cases = append(cases,
		tc{"07", Draft07, SubgroupHeader{Type: StreamTypeSubgroup07, TrackAlias: 3, Group: 100, Subgroup: 2, Priority: 64}, 0},
		tc{"07/first5", Draft07, SubgroupHeader{Type: StreamTypeSubgroup07, TrackAlias: 300, Group: 1 << 40, Subgroup: 0, Priority: 255}, 5},
		tc{"07cf", Draft07CF, SubgroupHeader{Type: StreamTypeSubgroup07, SubscribeID: 9, TrackAlias: 3, Group: 100, Subgroup: 2, Priority: 64}, 0},
		tc{"07cf/first5", Draft07CF, SubgroupHeader{Type: StreamTypeSubgroup07, SubscribeID: 1 << 20, TrackAlias: 0, Group: 7, Priority: 0}, 5},
	)
	for _, typ := range dtSubgroupTypes14() {
		h := SubgroupHeader{Type: typ, TrackAlias: 17, Group: 42, Priority: 128}
		first := uint64(0)
		switch {
		case typ&SubgroupBitExplicit != 0:
			h.Subgroup = 9
			first = 3
		case typ&SubgroupBitFirstObject != 0:
			h.Subgroup = 7
			first = 7
		}
		cases = append(cases, tc{fmt.Sprintf("14/0x%x", typ), Draft14, h, first})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ext := c.d == Draft14 && c.h.Type&SubgroupBitExtensions != 0
			objs := dtTestObjects(t, c.d, c.first, ext)
			b := dtEncodeSubgroup(t, c.d, c.h, objs)
			want := make([]Object, len(objs))
			for i, o := range objs {
				o.Group, o.Subgroup, o.Priority = c.h.Group, c.h.Subgroup, c.h.Priority
				if len(o.Payload) == 0 {
					o.Payload = nil
				}
				want[i] = o
			}
			wantHdr := c.h
			if c.d != Draft07CF {
				wantHdr.SubscribeID = 0
			}

			h, got, term := dtParseSubgroupAll(b, c.d, nil)
			if term != nil {
				t.Fatalf("decode: %v", term)
			}
			if h != wantHdr {
				t.Errorf("header = %+v, want %+v", h, wantHdr)
			}
			if !dtObjsEqual(got, want) {
				t.Fatalf("objects differ:\n got %v\nwant %v", got, want)
			}
			// Every prefix of the header is ErrNeedMore.
			_, n, err := ParseSubgroupHeader(b, c.d)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if _, _, err := ParseSubgroupHeader(b[:i], c.d); err != ErrNeedMore {
					t.Fatalf("header prefix %d: %v, want ErrNeedMore", i, err)
				}
			}

			// The StreamReader, one byte per Read.
			s, got2, err := dtReadAll(iotest.OneByteReader(bytes.NewReader(b)), c.d, nil)
			if err != io.EOF {
				t.Fatalf("StreamReader: %v", err)
			}
			if s.Kind() != StreamSubgroup || s.SubgroupHeader() != wantHdr {
				t.Errorf("StreamReader kind %v header %+v, want %+v", s.Kind(), s.SubgroupHeader(), wantHdr)
			}
			if !dtObjsEqual(got2, want) {
				t.Fatalf("StreamReader objects differ")
			}
		})
	}
}

// TestSubgroupPrefixes checks that every proper prefix of an object is
// ErrNeedMore and leaves the decoder's state untouched.
func TestSubgroupPrefixes(t *testing.T) {
	for _, d := range dtAllDrafts {
		h := SubgroupHeader{Type: StreamTypeSubgroup07, TrackAlias: 1, Group: 2, Subgroup: 3, Priority: 4}
		if d == Draft14 {
			h = SubgroupHeader{Type: 0x13, TrackAlias: 1, Group: 2, Subgroup: 5, Priority: 4}
		}
		objs := dtTestObjects(t, d, 5, d == Draft14)
		b := dtEncodeSubgroup(t, d, h, objs)
		hdr, n, err := ParseSubgroupHeader(b, d)
		if err != nil {
			t.Fatal(err)
		}
		dec := SubgroupDecoder{Draft: d, Header: hdr}
		rest := b[n:]
		for i := 0; len(rest) > 0; i++ {
			var o Object
			m, err := dec.ParseObject(rest, &o)
			if err != nil {
				t.Fatalf("%v object %d: %v", d, i, err)
			}
			for cut := 0; cut < m; cut++ {
				probe := dec
				probe.started, probe.prev, probe.Header = false, 0, hdr
				if i > 0 {
					probe.started, probe.prev = true, objs[i-1].ID
				}
				var p Object
				if _, err := probe.ParseObject(rest[:cut], &p); err != ErrNeedMore {
					t.Fatalf("%v object %d prefix %d: %v, want ErrNeedMore", d, i, cut, err)
				}
				if probe.started != (i > 0) {
					t.Fatalf("%v: state changed on ErrNeedMore", d)
				}
			}
			rest = rest[m:]
		}
	}
}

// TestSubgroupCloudflareLayout checks Draft07CF subgroup streams against bytes
// derived by hand from the layout `04 SubscribeID TrackAlias Group Subgroup
// Priority`, objects as in draft-07.
func TestSubgroupCloudflareLayout(t *testing.T) {
	cases := []struct {
		name string
		h    SubgroupHeader
		objs []Object
		hex  string
	}{
		{
			name: "small",
			h:    SubgroupHeader{SubscribeID: 3, TrackAlias: 1, Group: 100, Subgroup: 0, Priority: 0x80},
			objs: []Object{{ID: 0, Payload: dtMustHex(t, "deadbeef")}, {ID: 1, Status: StatusEndOfGroup}},
			//   type sub alias group subgrp prio | id len payload | id len status
			hex: "04" + "03" + "01" + "4064" + "00" + "80" + "0004deadbeef" + "010003",
		},
		{
			name: "wide varints",
			h:    SubgroupHeader{SubscribeID: 16384, TrackAlias: 63, Group: 64, Subgroup: 1 << 30, Priority: 7},
			objs: []Object{{ID: 70, Payload: []byte{0xca, 0xfe}}, {ID: 71, Status: StatusEndOfSubgroup}},
			hex: "04" + "80004000" + "3f" + "4040" + "c000000040000000" + "07" +
				"4046" + "02cafe" + "4047" + "00" + "05",
		},
		{
			name: "empty normal object",
			h:    SubgroupHeader{SubscribeID: 0, TrackAlias: 0, Group: 0, Subgroup: 0, Priority: 0},
			objs: []Object{{ID: 0}},
			hex:  "040000000000" + "000000",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := dtMustHex(t, c.hex)
			got := dtEncodeSubgroup(t, Draft07CF, c.h, c.objs)
			if !bytes.Equal(got, want) {
				t.Fatalf("encoded %x\n    want %x", got, want)
			}
			h, objs, term := dtParseSubgroupAll(want, Draft07CF, nil)
			if term != nil {
				t.Fatal(term)
			}
			c.h.Type = StreamTypeSubgroup07
			if h != c.h {
				t.Errorf("header %+v, want %+v", h, c.h)
			}
			for i := range objs {
				if objs[i].ID != c.objs[i].ID || objs[i].Status != c.objs[i].Status || !bytes.Equal(objs[i].Payload, c.objs[i].Payload) {
					t.Errorf("object %d = %s, want %s", i, dtObjString(&objs[i]), dtObjString(&c.objs[i]))
				}
			}
			// The same bytes are not a valid spec-layout header with the
			// same meaning: Draft07 reads one field fewer.
			if h07, _, err := ParseSubgroupHeader(want, Draft07); err == nil && h07.TrackAlias == c.h.TrackAlias && h07.Group == c.h.Group && c.h.SubscribeID != c.h.TrackAlias {
				t.Errorf("Draft07 read the Cloudflare header the same way: %+v", h07)
			}
		})
	}
}

// TestSubgroupExactBytes14 checks draft-14 encodings derived by hand.
func TestSubgroupExactBytes14(t *testing.T) {
	ext := dtMustExt(t, IntParam(0x3C, 2))
	cases := []struct {
		name string
		h    SubgroupHeader
		objs []Object
		hex  string
	}{
		{"0x10 gaps", SubgroupHeader{Type: 0x10, TrackAlias: 1, Group: 0, Priority: 0x80},
			[]Object{{ID: 5, Payload: dtMustHex(t, "deadbeef")}, {ID: 8, Payload: dtMustHex(t, "cafe")}, {ID: 9, Status: StatusEndOfTrack}},
			"10010080" + "0504deadbeef" + "0202cafe" + "000004"},
		{"0x1b first object 7 with extensions", SubgroupHeader{Type: 0x1B, TrackAlias: 2, Group: 3, Subgroup: 7, Priority: 1},
			[]Object{{ID: 7, Extensions: ext, Payload: []byte{0xaa}}, {ID: 100, Status: StatusEndOfGroup}},
			"1b020301" + "07023c0201aa" + "405c000003"},
		{"0x1c explicit subgroup", SubgroupHeader{Type: 0x1C, TrackAlias: 2, Group: 3, Subgroup: 300, Priority: 1},
			[]Object{{ID: 0, Status: StatusDoesNotExist}},
			"1c0203412c01" + "000001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := dtMustHex(t, c.hex)
			got := dtEncodeSubgroup(t, Draft14, c.h, c.objs)
			if !bytes.Equal(got, want) {
				t.Fatalf("encoded %x\n    want %x", got, want)
			}
			h, objs, term := dtParseSubgroupAll(want, Draft14, nil)
			if term != nil || h != c.h || len(objs) != len(c.objs) {
				t.Fatalf("decode: %+v %d objects, %v", h, len(objs), term)
			}
			for i := range objs {
				if objs[i].ID != c.objs[i].ID || objs[i].Subgroup != c.h.Subgroup || !bytes.Equal(objs[i].Extensions, c.objs[i].Extensions) {
					t.Errorf("object %d = %s", i, dtObjString(&objs[i]))
				}
			}
		})
	}
}

func TestSubgroupEncodeErrors(t *testing.T) {
	ext := dtMustExt(t, IntParam(0x3C, 1))
	hdrErr := []struct {
		name string
		d    Draft
		h    SubgroupHeader
	}{
		{"14 type 0x16", Draft14, SubgroupHeader{Type: 0x16}},
		{"14 type 0x1e", Draft14, SubgroupHeader{Type: 0x1E}},
		{"14 type 0x04", Draft14, SubgroupHeader{Type: 0x04}},
		{"14 zero-subgroup type with subgroup 3", Draft14, SubgroupHeader{Type: 0x10, Subgroup: 3}},
		{"07 alias too big", Draft07, SubgroupHeader{TrackAlias: MaxVarint + 1}},
		{"unknown draft", DraftUnknown, SubgroupHeader{}},
	}
	for _, c := range hdrErr {
		if b, err := AppendSubgroupHeader([]byte{1}, c.d, &c.h); err == nil || b != nil {
			t.Errorf("%s: AppendSubgroupHeader = %x, %v; want an error", c.name, b, err)
		}
	}
	objErr := []struct {
		name string
		d    Draft
		h    SubgroupHeader
		prev *Object // written first, must succeed
		o    Object
		pl   int
	}{
		{"07 extensions", Draft07, SubgroupHeader{}, nil, Object{Extensions: ext}, 0},
		{"14 extensions without bit", Draft14, SubgroupHeader{Type: 0x10}, nil, Object{Extensions: ext}, 0},
		{"14 malformed extensions", Draft14, SubgroupHeader{Type: 0x11}, nil, Object{Extensions: []byte{0x0b, 0x05, 1}}, 0},
		{"status with payload", Draft07, SubgroupHeader{}, nil, Object{Status: StatusEndOfGroup}, 3},
		{"status 2", Draft07, SubgroupHeader{}, nil, Object{Status: 2}, 0},
		{"14 status 5", Draft14, SubgroupHeader{Type: 0x10}, nil, Object{Status: StatusEndOfSubgroup}, 0},
		{"IDs must rise (07)", Draft07, SubgroupHeader{}, &Object{ID: 4}, Object{ID: 4}, 1},
		{"IDs must rise (14)", Draft14, SubgroupHeader{Type: 0x10}, &Object{ID: 4}, Object{ID: 3}, 1},
		{"first object must be the subgroup", Draft14, SubgroupHeader{Type: 0x12, Subgroup: 5}, nil, Object{ID: 6}, 1},
		{"negative length", Draft14, SubgroupHeader{Type: 0x10}, nil, Object{}, -1},
		{"ID too big", Draft07, SubgroupHeader{}, nil, Object{ID: MaxVarint + 1}, 1},
		{"bad header type", Draft14, SubgroupHeader{Type: 0x17}, nil, Object{}, 1},
		{"unknown draft", DraftUnknown, SubgroupHeader{}, nil, Object{}, 1},
	}
	for _, c := range objErr {
		enc := SubgroupEncoder{Draft: c.d, Header: c.h}
		if c.prev != nil {
			if _, err := enc.AppendObjectHeader(nil, c.prev, 1); err != nil {
				t.Fatalf("%s: first object: %v", c.name, err)
			}
		}
		before := enc
		if b, err := enc.AppendObjectHeader([]byte{1}, &c.o, c.pl); err == nil || b != nil {
			t.Errorf("%s: AppendObjectHeader = %x, %v; want an error", c.name, b, err)
		}
		if enc != before {
			t.Errorf("%s: encoder state changed on error", c.name)
		}
	}
	// AppendObject reports the header's error.
	enc := SubgroupEncoder{Draft: Draft07}
	if _, err := enc.AppendObject(nil, &Object{Status: StatusEndOfGroup, Payload: []byte{1}}); err == nil {
		t.Error("AppendObject with status and payload: no error")
	}
}

func TestSubgroupDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		d    Draft
		hex  string
		kind Kind
	}{
		{"07 stream type 0x02", Draft07, "02010000", KindUnknownMessage},
		{"07cf stream type 0x10", Draft07CF, "10010080", KindUnknownMessage},
		{"14 stream type 0x04", Draft14, "04010000800004deadbeef", KindUnknownMessage},
		{"14 stream type 0x16", Draft14, "1601008000", KindUnknownMessage},
		{"14 stream type 0x17", Draft14, "17", KindUnknownMessage},
		{"14 stream type 0x1e", Draft14, "1e", KindUnknownMessage},
		{"14 stream type 0x1f", Draft14, "1f0100", KindUnknownMessage},
		{"14 stream type 0x0f", Draft14, "0f", KindUnknownMessage},
		{"07 status 2", Draft07, "04010000800000" + "02", KindInvalidValue},
		{"07 status 6", Draft07, "04010000800000" + "06", KindInvalidValue},
		{"14 status 5", Draft14, "10010080" + "000005", KindInvalidValue},
		{"14 status 2", Draft14, "10010080" + "000002", KindInvalidValue},
		{"07 ID repeats", Draft07, "04010000800501aa" + "0501bb", KindInvalidValue},
		{"07 ID falls", Draft07, "04010000800501aa" + "0401bb", KindInvalidValue},
		{"07cf ID falls", Draft07CF, "0402010000800501aa" + "0401bb", KindInvalidValue},
		{"14 delta overflows", Draft14, "10010080" + "ffffffffffffffff01aa" + "0001bb", KindInvalidValue},
		{"14 malformed extension block", Draft14, "11010080" + "00" + "02" + "0b05" + "01aa", KindTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := dtMustHex(t, c.hex)
			_, _, err := dtParseSubgroupAll(b, c.d, nil)
			dtWantKind(t, err, c.kind)
			_, _, err = dtReadAll(bytes.NewReader(b), c.d, nil)
			dtWantKind(t, err, c.kind)
		})
	}
	if _, _, err := ParseSubgroupHeader([]byte{5, 1}, Draft07); err == nil {
		t.Error("fetch header parsed as a subgroup header")
	} else {
		dtWantKind(t, err, KindUnknownMessage)
	}
	if _, _, err := ParseSubgroupHeader([]byte{4, 0, 0, 0, 0}, DraftUnknown); err == nil || !errors.Is(err, errUnknownDraft) {
		t.Errorf("unknown draft: %v", err)
	}
	dec := SubgroupDecoder{Draft: Draft14, Header: SubgroupHeader{Type: 0x16}}
	if _, err := dec.ParseObject([]byte{0, 0, 0}, &Object{}); err == nil {
		t.Error("ParseObject with a bad header type: no error")
	}
	dec = SubgroupDecoder{Draft: DraftUnknown}
	if _, err := dec.ParseObject([]byte{0, 0, 0}, &Object{}); !errors.Is(err, errUnknownDraft) {
		t.Errorf("ParseObject with an unknown draft: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Fetch streams

func TestFetchRoundTrip(t *testing.T) {
	for _, d := range dtAllDrafts {
		t.Run(d.String(), func(t *testing.T) {
			objs := dtTestObjects(t, d, 0, d == Draft14)
			// Fetch objects carry their own group and subgroup; vary them.
			for i := range objs {
				objs[i].Group = uint64(i / 3)
				objs[i].Subgroup = uint64(i%3) * 100
				objs[i].Priority = uint8(i * 31)
				if len(objs[i].Payload) == 0 {
					objs[i].Payload = nil
				}
			}
			h := FetchHeader{RequestID: 1 << 33}
			b := dtEncodeFetch(t, d, h, objs)
			gh, got, term := dtParseFetchAll(b, d, nil)
			if term != nil {
				t.Fatal(term)
			}
			if gh != h || !dtObjsEqual(got, objs) {
				t.Fatalf("decoded %+v %v", gh, got)
			}
			s, got2, err := dtReadAll(iotest.OneByteReader(bytes.NewReader(b)), d, nil)
			if err != io.EOF || s.Kind() != StreamFetch || s.FetchHeader() != h || !dtObjsEqual(got2, objs) {
				t.Fatalf("StreamReader: kind %v header %+v, %d objects, %v", s.Kind(), s.FetchHeader(), len(got2), err)
			}
			// Every prefix of the stream after the header is ErrNeedMore
			// for the object it cuts.
			_, n, _ := ParseFetchHeader(b, d)
			for cut := n; cut < len(b); cut++ {
				if _, _, term := dtParseFetchAll(b[:cut], d, nil); term != nil && term != ErrNeedMore {
					t.Fatalf("prefix %d: %v", cut, term)
				}
			}
		})
	}
}

func TestFetchExactBytes(t *testing.T) {
	o := Object{Group: 1, Subgroup: 2, ID: 3, Priority: 4, Payload: []byte{0xaa}}
	b07, err := AppendFetchObject(AppendFetchHeader(nil, Draft07, FetchHeader{RequestID: 9}), Draft07, &o)
	if err != nil || hex.EncodeToString(b07) != "0509"+"0102030401aa" {
		t.Errorf("07: %x %v", b07, err)
	}
	o.Extensions = dtMustExt(t, IntParam(0x3E, 1))
	b14, err := AppendFetchObject(AppendFetchHeader(nil, Draft14, FetchHeader{RequestID: 9}), Draft14, &o)
	if err != nil || hex.EncodeToString(b14) != "0509"+"01020304023e0101aa" {
		t.Errorf("14: %x %v", b14, err)
	}
	st := Object{Group: 1, Status: StatusEndOfTrack}
	b14, err = AppendFetchObjectHeader(nil, Draft14, &st, 0)
	if err != nil || hex.EncodeToString(b14) != "01000000"+"00"+"0004" {
		t.Errorf("14 status: %x %v", b14, err)
	}
}

func TestFetchErrors(t *testing.T) {
	ext := dtMustExt(t, IntParam(0x3C, 1))
	enc := []struct {
		name string
		d    Draft
		o    Object
		pl   int
	}{
		{"07 extensions", Draft07, Object{Extensions: ext}, 0},
		{"status with payload", Draft14, Object{Status: StatusDoesNotExist}, 1},
		{"14 status 5", Draft14, Object{Status: StatusEndOfSubgroup}, 0},
		{"group too big", Draft14, Object{Group: MaxVarint + 1}, 0},
		{"malformed extensions", Draft14, Object{Extensions: []byte{0x3c}}, 0},
		{"negative length", Draft14, Object{}, -1},
		{"unknown draft", DraftUnknown, Object{}, 1},
	}
	for _, c := range enc {
		if b, err := AppendFetchObjectHeader([]byte{1}, c.d, &c.o, c.pl); err == nil || b != nil {
			t.Errorf("%s: %x, %v; want an error", c.name, b, err)
		}
	}
	if _, err := AppendFetchObject(nil, Draft07, &Object{Status: StatusEndOfGroup, Payload: []byte{1}}); err == nil {
		t.Error("AppendFetchObject with status and payload: no error")
	}
	dec := []struct {
		name string
		d    Draft
		hex  string
		kind Kind
	}{
		{"07 status 2", Draft07, "0501" + "0000008000" + "02", KindInvalidValue},
		{"14 status 5", Draft14, "0501" + "000000800000" + "05", KindInvalidValue},
		{"14 ExtLen runs past the block", Draft14, "0501" + "00000080" + "03" + "3c01" + "3c01aa", KindTruncated},
	}
	for _, c := range dec {
		b := dtMustHex(t, c.hex)
		_, _, err := dtParseFetchAll(b, c.d, nil)
		dtWantKind(t, err, c.kind)
		_, _, err = dtReadAll(bytes.NewReader(b), c.d, nil)
		dtWantKind(t, err, c.kind)
	}
	if _, _, err := ParseFetchHeader([]byte{0x04, 1}, Draft14); err == nil {
		t.Error("ParseFetchHeader of a subgroup stream: no error")
	} else {
		dtWantKind(t, err, KindUnknownMessage)
	}
	if _, _, err := ParseFetchHeader([]byte{0x05}, Draft07); err != ErrNeedMore {
		t.Errorf("short fetch header: %v", err)
	}
	if _, _, err := ParseFetchHeader([]byte{0x05, 1}, DraftUnknown); !errors.Is(err, errUnknownDraft) {
		t.Errorf("unknown draft: %v", err)
	}
	if _, err := ParseFetchObject([]byte{0, 0, 0, 0, 0, 0}, DraftUnknown, nil, &Object{}); !errors.Is(err, errUnknownDraft) {
		t.Errorf("unknown draft: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Datagrams

func TestDatagramRoundTrip(t *testing.T) {
	ext := dtMustExt(t, IntParam(0x3C, 1), BytesParam(0x0B, []byte("abc")))
	var cases []struct {
		name string
		d    Draft
		dg   Datagram
	}
	add := func(name string, d Draft, dg Datagram) {
		cases = append(cases, struct {
			name string
			d    Draft
			dg   Datagram
		}{name, d, dg})
	}
	for _, d := range []Draft{Draft07, Draft07CF} {
		for _, st := range dtStatuses(d) {
			add(fmt.Sprintf("%v status %d", d, st), d, Datagram{SubscribeID: 4, TrackAlias: 1, Object: Object{Group: 2, ID: 3, Priority: 5, Status: st}})
		}
		add(d.String()+" payload", d, Datagram{SubscribeID: 1 << 30, TrackAlias: 1 << 14, Object: Object{Group: 1 << 40, ID: 77, Priority: 200, Payload: bytes.Repeat([]byte{1}, 1000)}})
	}
	for _, typ := range []uint64{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x20, 0x21} {
		dg := Datagram{Type: typ, TrackAlias: 9, Object: Object{Group: 8, Priority: 7}}
		if typ&DatagramBitNoObjectID == 0 {
			dg.Object.ID = 300
		}
		if typ&DatagramBitExtensions != 0 {
			dg.Object.Extensions = ext
		}
		dg.EndOfGroup = typ&DatagramBitEndOfGroup != 0
		if typ&DatagramBitStatus != 0 {
			for _, st := range dtStatuses(Draft14) {
				dg.Object.Status = st
				add(fmt.Sprintf("14 type 0x%x status %d", typ, st), Draft14, dg)
			}
			continue
		}
		dg.Object.Payload = []byte("payload")
		add(fmt.Sprintf("14 type 0x%x", typ), Draft14, dg)
		dg.Object.Payload = nil
		add(fmt.Sprintf("14 type 0x%x empty", typ), Draft14, dg)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := AppendDatagram(nil, c.d, &c.dg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseDatagram(b, c.d, nil)
			if err != nil {
				t.Fatalf("%x: %v", b, err)
			}
			want := c.dg
			switch c.d {
			case Draft07:
				want.Type, want.SubscribeID = DatagramType07, 0
			case Draft07CF:
				want.Type = 0
			case Draft14:
				want.SubscribeID = 0
			}
			if !dtDatagramEqual(&got, &want) {
				t.Fatalf("decoded %+v\n   want %+v", got, want)
			}
			// Every proper prefix is truncated.
			for cut := 0; cut < len(b); cut++ {
				if c.d == Draft14 && cut >= len(b)-len(c.dg.Object.Payload) && c.dg.Type&DatagramBitStatus == 0 {
					break // payload runs to the end: a shorter payload is valid
				}
				if _, err := ParseDatagram(b[:cut], c.d, nil); err == nil {
					t.Fatalf("prefix %d decoded", cut)
				} else if pe, ok := AsProtocolError(err); !ok || (pe.Kind != KindTruncated && pe.Kind != KindInvalidValue) {
					t.Fatalf("prefix %d: %v", cut, err)
				}
			}
		})
	}
}

// TestDatagramCloudflareLayout checks Draft07CF datagrams against bytes
// derived by hand from `SubscribeID TrackAlias Group Object Priority Status
// Length Payload` (no type byte).
func TestDatagramCloudflareLayout(t *testing.T) {
	cases := []struct {
		name string
		dg   Datagram
		hex  string
	}{
		{"payload", Datagram{SubscribeID: 2, TrackAlias: 1, Object: Object{Group: 5, ID: 3, Priority: 0x80, Payload: dtMustHex(t, "deadbeef")}},
			"02" + "01" + "05" + "03" + "80" + "00" + "04" + "deadbeef"},
		{"end of group", Datagram{SubscribeID: 2, TrackAlias: 1, Object: Object{Group: 5, ID: 4, Priority: 0x80, Status: StatusEndOfGroup}},
			"02" + "01" + "05" + "04" + "80" + "03" + "00"},
		{"empty normal", Datagram{SubscribeID: 0, TrackAlias: 0, Object: Object{}},
			"00" + "00" + "00" + "00" + "00" + "00" + "00"},
		{"wide", Datagram{SubscribeID: 64, TrackAlias: 16384, Object: Object{Group: 1 << 30, ID: 1, Priority: 255, Status: StatusEndOfSubgroup}},
			"4040" + "80004000" + "c000000040000000" + "01" + "ff" + "05" + "00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := dtMustHex(t, c.hex)
			b, err := AppendDatagram(nil, Draft07CF, &c.dg)
			if err != nil || !bytes.Equal(b, want) {
				t.Fatalf("encoded %x, %v\n    want %x", b, err, want)
			}
			got, err := ParseDatagram(want, Draft07CF, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.dg.Object.Payload) == 0 {
				c.dg.Object.Payload = nil
			}
			if !dtDatagramEqual(&got, &c.dg) {
				t.Fatalf("decoded %+v, want %+v", got, c.dg)
			}
		})
	}
	// The spec layout's vector is not a Cloudflare datagram with the same
	// meaning, and vice versa.
	spec := dtMustHex(t, "010102008004deadbeef")
	if dg, err := ParseDatagram(spec, Draft07CF, nil); err == nil && bytes.Equal(dg.Object.Payload, dtMustHex(t, "deadbeef")) && dg.TrackAlias == 1 {
		t.Errorf("spec-layout datagram parsed as Cloudflare: %+v", dg)
	}
}

// TestDatagramType14 checks the type AppendDatagram derives when Type is 0,
// and its validation of a given type.
func TestDatagramType14(t *testing.T) {
	ext := dtMustExt(t, IntParam(0x3C, 1))
	derive := []struct {
		name string
		dg   Datagram
		want uint64
	}{
		{"plain", Datagram{Object: Object{ID: 5, Payload: []byte{1}}}, 0x00},
		{"object 0 keeps its ID", Datagram{Object: Object{ID: 0, Payload: []byte{1}}}, 0x00},
		{"empty normal", Datagram{Object: Object{ID: 5}}, 0x00},
		{"extensions", Datagram{Object: Object{ID: 5, Extensions: ext}}, 0x01},
		{"end of group", Datagram{EndOfGroup: true, Object: Object{ID: 5}}, 0x02},
		{"end of group + extensions", Datagram{EndOfGroup: true, Object: Object{ID: 5, Extensions: ext}}, 0x03},
		{"status", Datagram{Object: Object{ID: 5, Status: StatusDoesNotExist}}, 0x20},
		{"status + extensions", Datagram{Object: Object{ID: 5, Status: StatusEndOfTrack, Extensions: ext}}, 0x21},
	}
	for _, c := range derive {
		b, err := AppendDatagram(nil, Draft14, &c.dg)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if b[0] != byte(c.want) {
			t.Errorf("%s: derived type 0x%x, want 0x%x", c.name, b[0], c.want)
		}
		got, err := ParseDatagram(b, Draft14, nil)
		if err != nil || got.Type != c.want || got.EndOfGroup != c.dg.EndOfGroup || got.Object.ID != c.dg.Object.ID {
			t.Errorf("%s: decoded %+v, %v", c.name, got, err)
		}
	}
	bad := []struct {
		name string
		dg   Datagram
	}{
		{"status and end of group", Datagram{EndOfGroup: true, Object: Object{Status: StatusEndOfGroup}}},
		{"status with payload", Datagram{Object: Object{Status: StatusEndOfGroup, Payload: []byte{1}}}},
		{"status 5", Datagram{Object: Object{Status: StatusEndOfSubgroup}}},
		{"type 0x08", Datagram{Type: 0x08}},
		{"type 0x22", Datagram{Type: 0x22}},
		{"type 0x01 without extensions", Datagram{Type: 0x01}},
		{"type 0x00 with extensions", Datagram{Type: 0x04, Object: Object{Extensions: ext}}},
		{"type 0x02 without EndOfGroup", Datagram{Type: 0x02}},
		{"type 0x04 with EndOfGroup", Datagram{Type: 0x04, EndOfGroup: true}},
		{"type 0x04 with object 3", Datagram{Type: 0x04, Object: Object{ID: 3}}},
		{"type 0x20 with payload", Datagram{Type: 0x20, Object: Object{Payload: []byte{1}}}},
		{"type 0x06 with status", Datagram{Type: 0x06, EndOfGroup: true, Object: Object{Status: StatusDoesNotExist}}},
		{"malformed extensions", Datagram{Object: Object{Extensions: []byte{0x3d, 0x09}}}},
		{"alias too big", Datagram{TrackAlias: MaxVarint + 1}},
	}
	for _, c := range bad {
		if b, err := AppendDatagram([]byte{1}, Draft14, &c.dg); err == nil || b != nil {
			t.Errorf("%s: %x, %v; want an error", c.name, b, err)
		}
	}
	for _, d := range []Draft{Draft07, Draft07CF} {
		for _, dg := range []Datagram{
			{Object: Object{Extensions: ext}},
			{EndOfGroup: true},
			{Object: Object{Status: StatusEndOfGroup, Payload: []byte{1}}},
			{Object: Object{Status: 2}},
		} {
			if _, err := AppendDatagram(nil, d, &dg); err == nil {
				t.Errorf("%v: %+v: no error", d, dg)
			}
		}
	}
	if _, err := AppendDatagram(nil, Draft07, &Datagram{Type: 0x02}); err == nil {
		t.Error("07 datagram type 0x02: no error")
	}
	if _, err := AppendDatagram(nil, DraftUnknown, &Datagram{}); !errors.Is(err, errUnknownDraft) {
		t.Errorf("unknown draft: %v", err)
	}
	if _, err := ParseDatagram([]byte{1, 2, 3, 4, 5, 6}, DraftUnknown, nil); !errors.Is(err, errUnknownDraft) {
		t.Errorf("unknown draft: %v", err)
	}
}

func TestDatagramDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		d    Draft
		hex  string
		kind Kind
	}{
		{"07 type 0x02", Draft07, "020102008004deadbeef", KindUnknownMessage},
		{"07 type 0x00", Draft07, "000102008004deadbeef", KindUnknownMessage},
		{"07 short payload", Draft07, "010102008004dead", KindTruncated},
		{"07 trailing bytes", Draft07, "010102008002deadbeef", KindLengthMismatch},
		{"07 trailing after status", Draft07, "01010200800003ff", KindLengthMismatch},
		{"07 status 2", Draft07, "01010200800002", KindInvalidValue},
		{"07 missing status", Draft07, "010102008000", KindTruncated},
		{"07cf status with payload", Draft07CF, "02010503800302cafe", KindInvalidValue},
		{"07cf status 6", Draft07CF, "0201050380060000", KindInvalidValue},
		{"07cf short payload", Draft07CF, "02010503800004dead", KindTruncated},
		{"07cf trailing bytes", Draft07CF, "02010503800001deadbeef", KindLengthMismatch},
		{"07cf missing length", Draft07CF, "020105038000", KindTruncated},
		{"14 type 0x08", Draft14, "0801020080deadbeef", KindUnknownMessage},
		{"14 type 0x22", Draft14, "220102008001", KindUnknownMessage},
		{"14 type 0x10", Draft14, "1001020080", KindUnknownMessage},
		{"14 ExtLen 0 with extensions bit", Draft14, "0101020080" + "00" + "deadbeef", KindInvalidValue},
		{"14 ExtLen past end", Draft14, "0101020080" + "05" + "3c01", KindTruncated},
		{"14 malformed extensions", Draft14, "0101020080" + "02" + "3d05" + "deadbeef", KindTruncated},
		{"14 status trailing bytes", Draft14, "200102008001ff", KindLengthMismatch},
		{"14 status 2", Draft14, "200102008002", KindInvalidValue},
		{"14 status 5", Draft14, "200102008005", KindInvalidValue},
		{"14 missing status", Draft14, "2001020080", KindTruncated},
		{"14 missing priority", Draft14, "00010200", KindTruncated},
		{"empty", Draft14, "", KindTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dg, err := ParseDatagram(dtMustHex(t, c.hex), c.d, nil)
			dtWantKind(t, err, c.kind)
			if !dtDatagramEqual(&dg, &Datagram{}) {
				t.Errorf("datagram not zero on error: %+v", dg)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Limits: each limit, at the limit and one over.

func TestDataLimits(t *testing.T) {
	const payloadMax, extMax, paramMax = 10, 8, 4
	lim := &Limits{MaxObjectPayload: payloadMax, MaxExtensionBytes: extMax, MaxParamBytes: paramMax}
	pay := func(n int) []byte { return bytes.Repeat([]byte{0x55}, n) }
	// An extension block of exactly n bytes (n >= 2) made of values no
	// longer than paramMax: 3c 01 pairs, led by 0b 01 55 when n is odd.
	extOf := func(n int) []byte {
		var b []byte
		if n%2 == 1 {
			b = append(b, 0x0b, 0x01, 0x55)
		}
		for len(b) < n {
			b = append(b, 0x3c, 0x01)
		}
		return b
	}
	// An extension block with one value of n bytes.
	valueOf := func(n int) []byte { return append([]byte{0x0b, byte(n)}, pay(n)...) }

	type probe struct {
		name string
		d    Draft
		ok   []byte // exactly at the limit: decodes
		over []byte // one over: KindLimit
	}
	var probes []probe
	sub := func(d Draft, h SubgroupHeader, ok, over Object) {
		hb, err := AppendSubgroupHeader(nil, d, &h)
		if err != nil {
			t.Fatal(err)
		}
		e1 := SubgroupEncoder{Draft: d, Header: h}
		b1, err := e1.AppendObject(append([]byte(nil), hb...), &ok)
		if err != nil {
			t.Fatal(err)
		}
		e2 := SubgroupEncoder{Draft: d, Header: h}
		// Only the object header: the limit must trip before the bytes.
		b2, err := e2.AppendObjectHeader(append([]byte(nil), hb...), &over, len(over.Payload))
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, probe{fmt.Sprintf("subgroup %v", d), d, b1, b2})
	}
	for _, d := range dtAllDrafts {
		h := SubgroupHeader{TrackAlias: 1, Type: 0x10}
		sub(d, h, Object{Payload: pay(payloadMax)}, Object{Payload: pay(payloadMax + 1)})
	}
	h14x := SubgroupHeader{TrackAlias: 1, Type: 0x11}
	sub(Draft14, h14x, Object{Extensions: extOf(extMax)}, Object{Extensions: extOf(extMax + 1)})
	sub(Draft14, h14x, Object{Extensions: valueOf(paramMax)}, Object{Extensions: valueOf(paramMax + 1)})
	fetch := func(name string, d Draft, ok, over Object) {
		b1, err := AppendFetchObject(AppendFetchHeader(nil, d, FetchHeader{}), d, &ok)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := AppendFetchObjectHeader(AppendFetchHeader(nil, d, FetchHeader{}), d, &over, len(over.Payload))
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, probe{name, d, b1, b2})
	}
	for _, d := range dtAllDrafts {
		fetch(fmt.Sprintf("fetch %v payload", d), d, Object{Payload: pay(payloadMax)}, Object{Payload: pay(payloadMax + 1)})
	}
	fetch("fetch 14 extensions", Draft14, Object{Extensions: extOf(extMax)}, Object{Extensions: extOf(extMax + 1)})
	fetch("fetch 14 extension value", Draft14, Object{Extensions: valueOf(paramMax)}, Object{Extensions: valueOf(paramMax + 1)})

	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			var err error
			var objs []Object
			if p.ok[0] == byte(StreamTypeFetch) {
				_, objs, err = dtParseFetchAll(p.ok, p.d, lim)
			} else {
				_, objs, err = dtParseSubgroupAll(p.ok, p.d, lim)
			}
			if err != nil || len(objs) != 1 {
				t.Fatalf("at the limit: %d objects, %v", len(objs), err)
			}
			if p.over[0] == byte(StreamTypeFetch) {
				_, _, err = dtParseFetchAll(p.over, p.d, lim)
			} else {
				_, _, err = dtParseSubgroupAll(p.over, p.d, lim)
			}
			dtWantKind(t, err, KindLimit)
			_, objs, err = dtReadAll(iotest.OneByteReader(bytes.NewReader(p.ok)), p.d, lim)
			if err != io.EOF || len(objs) != 1 {
				t.Fatalf("StreamReader at the limit: %d objects, %v", len(objs), err)
			}
			_, _, err = dtReadAll(iotest.OneByteReader(bytes.NewReader(p.over)), p.d, lim)
			dtWantKind(t, err, KindLimit)
		})
	}

	// Datagrams.
	dgs := []struct {
		name     string
		d        Draft
		ok, over Datagram
	}{
		{"datagram 07 payload", Draft07, Datagram{Object: Object{Payload: pay(payloadMax)}}, Datagram{Object: Object{Payload: pay(payloadMax + 1)}}},
		{"datagram 07cf payload", Draft07CF, Datagram{Object: Object{Payload: pay(payloadMax)}}, Datagram{Object: Object{Payload: pay(payloadMax + 1)}}},
		{"datagram 14 payload", Draft14, Datagram{Object: Object{Payload: pay(payloadMax)}}, Datagram{Object: Object{Payload: pay(payloadMax + 1)}}},
		{"datagram 14 extensions", Draft14, Datagram{Object: Object{Extensions: extOf(extMax)}}, Datagram{Object: Object{Extensions: extOf(extMax + 1)}}},
		{"datagram 14 extension value", Draft14, Datagram{Object: Object{Extensions: valueOf(paramMax)}}, Datagram{Object: Object{Extensions: valueOf(paramMax + 1)}}},
		{"datagram 14 status extensions", Draft14, Datagram{Object: Object{Status: StatusDoesNotExist, Extensions: extOf(extMax)}}, Datagram{Object: Object{Status: StatusDoesNotExist, Extensions: extOf(extMax + 1)}}},
	}
	for _, c := range dgs {
		b1, err := AppendDatagram(nil, c.d, &c.ok)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := AppendDatagram(nil, c.d, &c.over)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseDatagram(b1, c.d, lim); err != nil {
			t.Errorf("%s at the limit: %v", c.name, err)
		}
		if _, err := ParseDatagram(b2, c.d, lim); err == nil {
			t.Errorf("%s over the limit: no error", c.name)
		} else if pe, _ := AsProtocolError(err); pe == nil || pe.Kind != KindLimit {
			t.Errorf("%s over the limit: %v, want KindLimit", c.name, err)
		}
	}
}

// TestDataDefaultLimits checks the default limits (nil *Limits): a 16 MiB + 1
// payload length and a 16 KiB + 1 extension length are rejected from the
// length field alone.
func TestDataDefaultLimits(t *testing.T) {
	for _, d := range dtAllDrafts {
		h := SubgroupHeader{Type: 0x11}
		enc := SubgroupEncoder{Draft: d, Header: h}
		hb, _ := AppendSubgroupHeader(nil, d, &h)
		ok, err := enc.AppendObjectHeader(append([]byte(nil), hb...), &Object{}, DefaultMaxObjectPayload)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := dtParseSubgroupAll(ok, d, nil); err != ErrNeedMore {
			t.Errorf("%v: 16 MiB declared: %v, want ErrNeedMore", d, err)
		}
		enc = SubgroupEncoder{Draft: d, Header: h}
		over, _ := enc.AppendObjectHeader(append([]byte(nil), hb...), &Object{}, DefaultMaxObjectPayload+1)
		_, _, err = dtParseSubgroupAll(over, d, nil)
		dtWantKind(t, err, KindLimit)
	}
	// ExtLen 16385 on a draft-14 stream, written by hand.
	b := AppendVarint(dtMustHex(t, "11010080"+"00"), DefaultMaxExtensionBytes+1)
	_, _, err := dtParseSubgroupAll(b, Draft14, nil)
	dtWantKind(t, err, KindLimit)
	b = AppendVarint(dtMustHex(t, "11010080"+"00"), DefaultMaxExtensionBytes)
	if _, _, err := dtParseSubgroupAll(b, Draft14, nil); err != ErrNeedMore {
		t.Errorf("ExtLen at the default limit: %v, want ErrNeedMore", err)
	}
}

// ---------------------------------------------------------------------------
// StreamReader

// dtScriptReader returns its chunks one per Read, then err (io.EOF if nil).
type dtScriptReader struct {
	chunks [][]byte
	err    error
}

func (r *dtScriptReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 {
		c := r.chunks[0]
		n := copy(p, c)
		if n == len(c) {
			r.chunks = r.chunks[1:]
		} else {
			r.chunks[0] = c[n:]
		}
		if n > 0 || len(p) == 0 {
			return n, nil
		}
	}
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}

func TestStreamReaderEOF(t *testing.T) {
	for _, d := range dtAllDrafts {
		h := SubgroupHeader{Type: 0x11, TrackAlias: 1, Group: 2, Priority: 3}
		objs := []Object{{ID: 0, Payload: []byte("0123456789")}, {ID: 1, Status: StatusEndOfGroup}}
		if d == Draft14 {
			objs[0].Extensions = dtMustExt(t, IntParam(0x3c, 1))
		}
		b := dtEncodeSubgroup(t, d, h, objs)
		hdrLen := func() int { _, n, _ := ParseSubgroupHeader(b, d); return n }()
		// Ends: after each byte. Only the header end and the object ends
		// are clean.
		boundaries := map[int]int{}
		dec := SubgroupDecoder{Draft: d}
		dec.Header, _, _ = ParseSubgroupHeader(b, d)
		off := hdrLen
		boundaries[off] = 0
		for i := 0; off < len(b); i++ {
			var o Object
			n, err := dec.ParseObject(b[off:], &o)
			if err != nil {
				t.Fatal(err)
			}
			off += n
			boundaries[off] = i + 1
		}
		for cut := 0; cut <= len(b); cut++ {
			s, got, err := dtReadAll(iotest.OneByteReader(bytes.NewReader(b[:cut])), d, nil)
			if n, ok := boundaries[cut]; ok {
				if err != io.EOF || len(got) != n {
					t.Fatalf("%v cut %d: %d objects, %v; want %d objects and io.EOF", d, cut, len(got), err, n)
				}
				continue
			}
			dtWantKind(t, err, KindTruncated)
			// The error is sticky.
			if err2 := s.Next(&Object{}); err2 != err {
				t.Fatalf("%v cut %d: second Next = %v, want %v", d, cut, err2, err)
			}
			if cut < hdrLen {
				if s.Kind() != StreamUnknown {
					t.Fatalf("%v cut %d: kind %v", d, cut, s.Kind())
				}
				if err := s.ReadHeader(); err == nil {
					t.Fatalf("%v cut %d: ReadHeader succeeded after failure", d, cut)
				}
			}
		}
	}
}

func TestStreamReaderHeader(t *testing.T) {
	for k, want := range map[StreamKind]string{StreamUnknown: "unknown", StreamSubgroup: "subgroup", StreamFetch: "fetch", 9: "unknown"} {
		if k.String() != want {
			t.Errorf("StreamKind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
	// Unknown stream types.
	for _, c := range []struct {
		d   Draft
		hex string
	}{{Draft07, "02"}, {Draft07, "10"}, {Draft07CF, "06"}, {Draft14, "04"}, {Draft14, "16"}, {Draft14, "4016"}, {Draft14, "01"}} {
		s := NewStreamReader(bytes.NewReader(dtMustHex(t, c.hex)), c.d, nil)
		err := s.ReadHeader()
		dtWantKind(t, err, KindUnknownMessage)
	}
	// ReadHeader, then Kind and headers, then Next; ReadHeader twice is fine.
	b := dtEncodeSubgroup(t, Draft14, SubgroupHeader{Type: 0x12, TrackAlias: 5, Group: 6, Subgroup: 9, Priority: 1}, []Object{{ID: 9, Payload: []byte{1}}, {ID: 10}})
	s := NewStreamReader(bytes.NewReader(b), Draft14, nil)
	if err := s.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if err := s.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if s.Kind() != StreamSubgroup || s.SubgroupHeader().Subgroup != 0 {
		t.Fatalf("before the first object: %v %+v", s.Kind(), s.SubgroupHeader())
	}
	var o Object
	if err := s.Next(&o); err != nil || o.ID != 9 || o.Subgroup != 9 {
		t.Fatalf("Next: %s %v", dtObjString(&o), err)
	}
	if s.SubgroupHeader().Subgroup != 9 {
		t.Fatalf("subgroup not set from the first object: %+v", s.SubgroupHeader())
	}
	if err := s.Next(&o); err != nil || o.ID != 10 || o.Subgroup != 9 {
		t.Fatalf("Next: %s %v", dtObjString(&o), err)
	}
	if err := s.Next(&o); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	// Unknown draft.
	if err := NewStreamReader(bytes.NewReader(b), DraftUnknown, nil).ReadHeader(); !errors.Is(err, errUnknownDraft) {
		t.Errorf("unknown draft: %v", err)
	}
	// Empty stream: no header at all.
	dtWantKind(t, NewStreamReader(bytes.NewReader(nil), Draft14, nil).ReadHeader(), KindTruncated)
}

func TestStreamReaderErrors(t *testing.T) {
	b := dtEncodeFetch(t, Draft14, FetchHeader{RequestID: 1}, []Object{{Payload: bytes.Repeat([]byte{1}, 100)}})
	boom := errors.New("boom")
	// A reader error mid-payload is returned as is, and stays.
	s := NewStreamReader(&dtScriptReader{chunks: [][]byte{b[:20]}, err: boom}, Draft14, nil)
	if err := s.Next(&Object{}); err != boom {
		t.Fatalf("mid-payload: %v", err)
	}
	if err := s.Next(&Object{}); err != boom {
		t.Fatalf("sticky: %v", err)
	}
	// A reader error in the header.
	s = NewStreamReader(&dtScriptReader{chunks: [][]byte{b[:1]}, err: boom}, Draft14, nil)
	if err := s.ReadHeader(); err != boom {
		t.Fatalf("header: %v", err)
	}
	// A reader error between objects.
	_, objs, err := dtReadAll(&dtScriptReader{chunks: [][]byte{b}, err: boom}, Draft14, nil)
	if err != boom || len(objs) != 1 {
		t.Fatalf("between objects: %d, %v", len(objs), err)
	}
	// A reader that returns data together with io.EOF.
	_, objs, err = dtReadAll(iotest.DataErrReader(bytes.NewReader(b)), Draft14, nil)
	if err != io.EOF || len(objs) != 1 {
		t.Fatalf("DataErrReader: %d, %v", len(objs), err)
	}
	// A reader that makes no progress.
	_, _, err = dtReadAll(dtZeroReader{}, Draft14, nil)
	if err != io.ErrNoProgress {
		t.Fatalf("zero reader: %v", err)
	}
	_, _, err = dtReadAll(io.MultiReader(bytes.NewReader(b[:20]), dtZeroReader{}), Draft14, nil)
	if err != io.ErrNoProgress {
		t.Fatalf("zero reader mid-payload: %v", err)
	}
	// iotest.TimeoutReader: the second read fails.
	_, _, err = dtReadAll(iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(b))), Draft14, nil)
	if err != iotest.ErrTimeout {
		t.Fatalf("timeout reader: %v", err)
	}
}

type dtZeroReader struct{}

func (dtZeroReader) Read([]byte) (int, error) { return 0, nil }

// TestStreamReaderHostile checks that lengths from the peer are checked before
// anything is allocated, and that a large declared payload is not allocated up
// front.
func TestStreamReaderHostile(t *testing.T) {
	for _, d := range dtAllDrafts {
		h := SubgroupHeader{Type: 0x11, TrackAlias: 1}
		enc := SubgroupEncoder{Draft: d, Header: h}
		b, _ := AppendSubgroupHeader(nil, d, &h)
		over, _ := enc.AppendObjectHeader(append([]byte(nil), b...), &Object{}, DefaultMaxObjectPayload+1)
		_, _, err := dtReadAll(iotest.OneByteReader(bytes.NewReader(over)), d, nil)
		dtWantKind(t, err, KindLimit)

		// 16 MiB declared, 10 bytes sent: truncated, and cheap.
		enc = SubgroupEncoder{Draft: d, Header: h}
		big, _ := enc.AppendObjectHeader(append([]byte(nil), b...), &Object{}, DefaultMaxObjectPayload)
		big = append(big, "0123456789"...)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err = dtReadAll(bytes.NewReader(big), d, nil)
		runtime.ReadMemStats(&after)
		dtWantKind(t, err, KindTruncated)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%v: a 16 MiB declaration with 10 bytes sent allocated %d bytes", d, alloc)
		}
	}
	// ExtLen over the limit (draft-14 subgroup and fetch).
	for _, prefix := range []string{"11010080" + "00", "0501" + "00000080"} {
		b := AppendVarint(dtMustHex(t, prefix), DefaultMaxExtensionBytes+1)
		_, _, err := dtReadAll(iotest.OneByteReader(bytes.NewReader(b)), Draft14, nil)
		dtWantKind(t, err, KindLimit)
	}
	// A payload larger than the first chunk grows as it arrives.
	payload := make([]byte, 3*payloadChunk+17)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	b := dtEncodeSubgroup(t, Draft14, SubgroupHeader{Type: 0x10}, []Object{{ID: 0, Payload: payload}, {ID: 1, Payload: []byte{1}}})
	_, objs, err := dtReadAll(iotest.HalfReader(bytes.NewReader(b)), Draft14, nil)
	if err != io.EOF || len(objs) != 2 || !bytes.Equal(objs[0].Payload, payload) || !bytes.Equal(objs[1].Payload, []byte{1}) {
		t.Fatalf("large payload: %d objects, %v", len(objs), err)
	}
	// Extension blocks bigger than the initial buffer.
	lim := &Limits{MaxExtensionBytes: 3 * readerBufSize, MaxParamBytes: 3 * readerBufSize}
	ext := dtMustExt(t, BytesParam(0x0b, bytes.Repeat([]byte{3}, 2*readerBufSize+5)))
	b = dtEncodeSubgroup(t, Draft14, SubgroupHeader{Type: 0x11}, []Object{{ID: 0, Extensions: ext, Payload: []byte{1}}})
	_, objs, err = dtReadAll(bytes.NewReader(b), Draft14, lim)
	if err != io.EOF || len(objs) != 1 || !bytes.Equal(objs[0].Extensions, ext) {
		t.Fatalf("large extensions: %d objects, %v", len(objs), err)
	}
}

// TestStreamReaderOwnership checks that objects from Next do not alias the
// reader's buffer.
func TestStreamReaderOwnership(t *testing.T) {
	ext := dtMustExt(t, IntParam(0x3c, 1))
	var objs []Object
	for i := 0; i < 50; i++ {
		objs = append(objs, Object{ID: uint64(i), Extensions: ext, Payload: bytes.Repeat([]byte{byte(i)}, 150)})
	}
	b := dtEncodeSubgroup(t, Draft14, SubgroupHeader{Type: 0x11}, objs)
	_, got, err := dtReadAll(bytes.NewReader(b), Draft14, nil)
	if err != io.EOF || len(got) != len(objs) {
		t.Fatal(err)
	}
	for i := range got {
		if got[i].Payload[0] != byte(i) || got[i].Payload[149] != byte(i) || !bytes.Equal(got[i].Extensions, ext) {
			t.Fatalf("object %d was overwritten", i)
		}
	}
}

// ---------------------------------------------------------------------------
// moqtap vectors

type dtVectorFile struct {
	MessageType   string `json:"message_type"`
	MessageTypeID string `json:"message_type_id"`
	Vectors       []struct {
		ID        string         `json:"id"`
		Hex       string         `json:"hex"`
		Decoded   map[string]any `json:"decoded"`
		Canonical *bool          `json:"canonical"`
		Error     string         `json:"error"`
	} `json:"vectors"`
}

func dtLoadDataVectors(t testing.TB, draft string) map[string]dtVectorFile {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "moqtap", "transport", draft, "codec", "data-streams")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s: %v", dir, err)
	}
	out := map[string]dtVectorFile{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vf dtVectorFile
		if err := json.Unmarshal(raw, &vf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = vf
	}
	return out
}

// dtFieldChecker compares decoded values with a vector's JSON.
type dtFieldChecker struct {
	t     *testing.T
	where string
}

func (c dtFieldChecker) u(m map[string]any, key string, got uint64) {
	c.t.Helper()
	v, ok := m[key]
	if !ok {
		return
	}
	s, _ := v.(string)
	want, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		c.t.Errorf("%s: %s = %v is not a number", c.where, key, v)
		return
	}
	if got != want {
		c.t.Errorf("%s: %s = %d, want %d", c.where, key, got, want)
	}
}

// object checks one decoded object against its JSON.
func (c dtFieldChecker) object(m map[string]any, o *Object) {
	c.t.Helper()
	c.u(m, "group_id", o.Group)
	c.u(m, "subgroup_id", o.Subgroup)
	c.u(m, "object_id", o.ID)
	c.u(m, "publisher_priority", uint64(o.Priority))
	c.u(m, "object_status", uint64(o.Status))
	c.u(m, "payload_length", uint64(len(o.Payload)))
	c.u(m, "extension_headers_length", uint64(len(o.Extensions)))
	if _, ok := m["object_status"]; !ok && o.Status != StatusNormal {
		c.t.Errorf("%s: status %d, want Normal", c.where, o.Status)
	}
	if v, ok := m["payload_hex"]; ok && v.(string) != hex.EncodeToString(o.Payload) {
		c.t.Errorf("%s: payload %x, want %s", c.where, o.Payload, v)
	} else if !ok && len(o.Payload) != 0 {
		c.t.Errorf("%s: payload %x, want none", c.where, o.Payload)
	}
	if v, ok := m["extension_headers_hex"]; ok && v.(string) != hex.EncodeToString(o.Extensions) {
		c.t.Errorf("%s: extensions %x, want %s", c.where, o.Extensions, v)
	}
	if v, ok := m["extension_headers"]; ok {
		list, _ := v.([]any)
		ps, err := ParseExtensions(o.Extensions, nil)
		if err != nil || len(ps) != len(list) {
			c.t.Errorf("%s: extensions %x parse to %v, %v; want %v", c.where, o.Extensions, ps, err, list)
			return
		}
		for i, e := range list {
			em, _ := e.(map[string]any)
			c.u(em, "type", ps[i].Key)
			if ps[i].IsInt {
				c.u(em, "value", ps[i].Int)
			} else if em["value"] != hex.EncodeToString(ps[i].Bytes) {
				c.t.Errorf("%s: extension %d value %x, want %v", c.where, i, ps[i].Bytes, em["value"])
			}
		}
	}
}

func (c dtFieldChecker) objects(m map[string]any, got []Object) {
	c.t.Helper()
	list, _ := m["objects"].([]any)
	if len(list) != len(got) {
		c.t.Errorf("%s: %d objects, want %d", c.where, len(got), len(list))
		return
	}
	for i, e := range list {
		om, _ := e.(map[string]any)
		cc := c
		cc.where = fmt.Sprintf("%s object %d", c.where, i)
		cc.object(om, &got[i])
	}
}

func TestDataVectors(t *testing.T) {
	for _, dc := range []struct {
		dir string
		d   Draft
	}{{"draft07", Draft07}, {"draft14", Draft14}} {
		t.Run(dc.dir, func(t *testing.T) {
			d := dc.d
			files := dtLoadDataVectors(t, dc.dir)
			var valid, errorsOK, reencoded int
			for fname, vf := range files {
				for _, v := range vf.Vectors {
					b := dtMustHex(t, v.Hex)
					c := dtFieldChecker{t: t, where: dc.dir + "/" + fname + "/" + v.ID}
					canonical := v.Canonical == nil || *v.Canonical
					var reenc []byte
					var term error
					switch fname {
					case "subgroup.json":
						var h SubgroupHeader
						var objs []Object
						h, objs, term = dtParseSubgroupAll(b, d, nil)
						if term == nil {
							c.u(v.Decoded, "stream_type_id", h.Type)
							c.u(v.Decoded, "track_alias", h.TrackAlias)
							c.u(v.Decoded, "group_id", h.Group)
							c.u(v.Decoded, "subgroup_id", h.Subgroup)
							c.u(v.Decoded, "publisher_priority", uint64(h.Priority))
							c.objects(v.Decoded, objs)
							reenc = dtEncodeSubgroup(t, d, h, objs)
						}
						_, objs2, rerr := dtReadAll(iotest.OneByteReader(bytes.NewReader(b)), d, nil)
						dtCheckReaderAgrees(t, c.where, objs, term, objs2, rerr)
					case "fetch-header.json":
						var h FetchHeader
						var objs []Object
						h, objs, term = dtParseFetchAll(b, d, nil)
						if term == nil {
							c.u(v.Decoded, "subscribe_id", h.RequestID)
							c.u(v.Decoded, "request_id", h.RequestID)
							c.objects(v.Decoded, objs)
							reenc = dtEncodeFetch(t, d, h, objs)
						}
						_, objs2, rerr := dtReadAll(iotest.OneByteReader(bytes.NewReader(b)), d, nil)
						dtCheckReaderAgrees(t, c.where, objs, term, objs2, rerr)
					case "datagram.json":
						var dg Datagram
						dg, term = ParseDatagram(b, d, nil)
						if term == nil {
							c.u(v.Decoded, "stream_type_id", dg.Type)
							c.u(v.Decoded, "track_alias", dg.TrackAlias)
							c.object(v.Decoded, &dg.Object)
							var err error
							if reenc, err = AppendDatagram(nil, d, &dg); err != nil {
								t.Errorf("%s: re-encode: %v", c.where, err)
							}
						}
					default:
						t.Errorf("unexpected vector file %s", fname)
						continue
					}
					if v.Error != "" {
						if v.Error != "incomplete" {
							t.Errorf("%s: unexpected error category %q", c.where, v.Error)
							continue
						}
						if term == ErrNeedMore {
							errorsOK++
							continue
						}
						if pe, ok := AsProtocolError(term); ok && pe.Kind == KindTruncated {
							errorsOK++
							continue
						}
						t.Errorf("%s: want incomplete, got %v", c.where, term)
						continue
					}
					if term != nil {
						t.Errorf("%s: %v", c.where, term)
						continue
					}
					valid++
					if canonical {
						if !bytes.Equal(reenc, b) {
							t.Errorf("%s: re-encoded %x, want %s", c.where, reenc, v.Hex)
							continue
						}
						reencoded++
					}
				}
			}
			t.Logf("%s: %d valid vectors decoded (%d re-encoded identically), %d error vectors rejected", dc.dir, valid, reencoded, errorsOK)
		})
	}
}

// dtCheckReaderAgrees checks that the StreamReader decodes what the slice API
// decodes: the same objects, io.EOF where the slice API ended cleanly,
// KindTruncated where it wanted more bytes, the same error kind otherwise.
func dtCheckReaderAgrees(t testing.TB, where string, objs []Object, term error, objs2 []Object, rerr error) {
	t.Helper()
	if !dtObjsEqual(objs, objs2) {
		t.Errorf("%s: StreamReader decoded %d objects, slice API %d (or they differ)", where, len(objs2), len(objs))
		return
	}
	switch {
	case term == nil:
		if rerr != io.EOF {
			t.Errorf("%s: StreamReader ended with %v, want io.EOF", where, rerr)
		}
	case term == ErrNeedMore:
		if pe, ok := AsProtocolError(rerr); !ok || pe.Kind != KindTruncated {
			t.Errorf("%s: StreamReader ended with %v, want KindTruncated", where, rerr)
		}
	default:
		pe1, _ := AsProtocolError(term)
		pe2, _ := AsProtocolError(rerr)
		if pe1 == nil || pe2 == nil || pe1.Kind != pe2.Kind {
			t.Errorf("%s: StreamReader ended with %v, slice API with %v", where, rerr, term)
		}
	}
}
