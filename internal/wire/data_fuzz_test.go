package wire

import (
	"bytes"
	"encoding/hex"
	"testing"
	"testing/iotest"
)

// Fuzz targets for the data plane. Each is seeded with the moqtap vectors of
// its draft and with round-trip encodings. Properties: decoding never panics;
// errors are ErrNeedMore or *ProtocolError; the StreamReader agrees with the
// slice API; whatever decodes re-encodes, and the re-encoding decodes to the
// same values and re-encodes to the same bytes.

func FuzzSubgroupStream07(f *testing.F)   { dtFuzzSubgroup(f, Draft07) }
func FuzzSubgroupStream07CF(f *testing.F) { dtFuzzSubgroup(f, Draft07CF) }
func FuzzSubgroupStream14(f *testing.F)   { dtFuzzSubgroup(f, Draft14) }
func FuzzDatagram07(f *testing.F)         { dtFuzzDatagram(f, Draft07) }
func FuzzDatagram07CF(f *testing.F)       { dtFuzzDatagram(f, Draft07CF) }
func FuzzDatagram14(f *testing.F)         { dtFuzzDatagram(f, Draft14) }
func FuzzFetchStream07(f *testing.F)      { dtFuzzFetch(f, Draft07) }
func FuzzFetchStream14(f *testing.F)      { dtFuzzFetch(f, Draft14) }
func FuzzSubgroupStream16(f *testing.F)   { dtFuzzSubgroup(f, Draft16) }
func FuzzDatagram16(f *testing.F)         { dtFuzzDatagram(f, Draft16) }
func FuzzFetchStream16(f *testing.F)      { dtFuzzFetch(f, Draft16) }

// dtFuzzLimits are small limits, so that the fuzzer reaches them.
var dtFuzzLimits = &Limits{MaxObjectPayload: 300, MaxExtensionBytes: 40, MaxParamBytes: 8}

// dtVectorSeeds adds the hex of every vector in the given file of d's
// vectors (draft-07 vectors also seed Draft07CF).
func dtVectorSeeds(f *testing.F, d Draft, file string) {
	dir := "draft" + d.String()
	if d.Is07() {
		dir = "draft07"
	}
	for _, v := range dtLoadDataVectors(f, dir)[file].Vectors {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// dtSmallObjects is a short object list for seeds: gaps, every status, an
// empty Normal object and, when ext, extension blocks.
func dtSmallObjects(t testing.TB, d Draft, first uint64, ext bool) []Object {
	objs := []Object{{ID: first, Payload: []byte("ab")}, {ID: first + 3, Payload: []byte{1, 2, 3}}}
	id := first + 4
	for _, st := range dtStatuses(d) {
		objs = append(objs, Object{ID: id, Status: st})
		id++
	}
	if ext {
		objs[0].Extensions = dtMustExt(t, IntParam(0x3C, 2))
		objs[2].Extensions = dtMustExt(t, BytesParam(0x0B, []byte{1, 2}))
	}
	return objs
}

func dtFuzzSubgroup(f *testing.F, d Draft) {
	dtVectorSeeds(f, d, "subgroup.json")
	if typedData(d) {
		types := dtSubgroupTypes14()
		if d == Draft16 {
			for _, typ := range dtSubgroupTypes14() {
				types = append(types, typ|SubgroupBitDefaultPriority)
			}
		}
		for _, typ := range types {
			h := SubgroupHeader{Type: typ, TrackAlias: 2, Group: 3, Priority: 4}
			first := uint64(1)
			switch {
			case typ&SubgroupBitExplicit != 0:
				h.Subgroup = 5
			case typ&SubgroupBitFirstObject != 0:
				h.Subgroup = first
			}
			f.Add(dtEncodeSubgroup(f, d, h, dtSmallObjects(f, d, first, typ&SubgroupBitExtensions != 0)))
		}
	} else {
		h := SubgroupHeader{SubscribeID: 7, TrackAlias: 2, Group: 3, Subgroup: 1, Priority: 4}
		f.Add(dtEncodeSubgroup(f, d, h, dtSmallObjects(f, d, 0, false)))
		f.Add(dtEncodeSubgroup(f, d, h, dtSmallObjects(f, d, 100, false)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lim := range []*Limits{nil, dtFuzzLimits} {
			h, objs, term := dtParseSubgroupAll(b, d, lim)
			dtCheckTerm(t, term)
			if typ, _, err := ParseVarint(b); err != nil || typ != StreamTypeFetch {
				_, objs2, rerr := dtReadAll(iotest.OneByteReader(bytes.NewReader(b)), d, lim)
				dtCheckReaderAgrees(t, "reader", objs, term, objs2, rerr)
			}
			if _, _, err := ParseSubgroupHeader(b, d); err != nil {
				continue
			}
			out := dtEncodeSubgroup(t, d, h, objs)
			h2, objs2, term2 := dtParseSubgroupAll(out, d, nil)
			if term2 != nil || h2 != h || !dtObjsEqual(objs, objs2) {
				t.Fatalf("re-encoding %x decodes to %+v %d objects, %v; want %+v %d objects", out, h2, len(objs2), term2, h, len(objs))
			}
			if out2 := dtEncodeSubgroup(t, d, h2, objs2); !bytes.Equal(out, out2) {
				t.Fatalf("re-encoding is not stable: %x then %x", out, out2)
			}
		}
	})
}

func dtFuzzFetch(f *testing.F, d Draft) {
	dtVectorSeeds(f, d, "fetch-header.json")
	objs := dtSmallObjects(f, d, 0, typedData(d))
	for i := range objs {
		objs[i].Group, objs[i].Subgroup, objs[i].Priority = uint64(i), uint64(i%2), uint8(i)
		if d == Draft16 {
			objs[i].Status = StatusNormal // draft-16 fetch objects have no status
		}
	}
	f.Add(dtEncodeFetch(f, d, FetchHeader{RequestID: 3}, objs))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lim := range []*Limits{nil, dtFuzzLimits} {
			h, objs, term := dtParseFetchAll(b, d, lim)
			dtCheckTerm(t, term)
			if len(b) > 0 && b[0] == byte(StreamTypeFetch) {
				_, objs2, rerr := dtReadAll(iotest.OneByteReader(bytes.NewReader(b)), d, lim)
				dtCheckReaderAgrees(t, "reader", objs, term, objs2, rerr)
			}
			if _, _, err := ParseFetchHeader(b, d); err != nil {
				continue
			}
			out := dtEncodeFetch(t, d, h, objs)
			h2, objs2, term2 := dtParseFetchAll(out, d, nil)
			if term2 != nil || h2 != h || !dtObjsEqual(objs, objs2) {
				t.Fatalf("re-encoding %x decodes to %+v %d objects, %v", out, h2, len(objs2), term2)
			}
			if out2 := dtEncodeFetch(t, d, h2, objs2); !bytes.Equal(out, out2) {
				t.Fatalf("re-encoding is not stable: %x then %x", out, out2)
			}
		}
	})
}

func dtFuzzDatagram(f *testing.F, d Draft) {
	dtVectorSeeds(f, d, "datagram.json")
	ext := dtMustExt(f, IntParam(0x3C, 1))
	seeds := []Datagram{
		{SubscribeID: 1, TrackAlias: 2, Object: Object{Group: 3, ID: 4, Priority: 5, Payload: []byte("xyz")}},
		{SubscribeID: 1, TrackAlias: 2, Object: Object{Group: 3, ID: 4, Priority: 5, Status: StatusEndOfGroup}},
		{TrackAlias: 300, Object: Object{Group: 1 << 20}},
	}
	if typedData(d) {
		seeds = append(seeds,
			Datagram{Type: 0x07, EndOfGroup: true, Object: Object{Extensions: ext, Payload: []byte{1}}},
			Datagram{Type: 0x21, Object: Object{ID: 9, Extensions: ext, Status: StatusEndOfGroup}},
		)
	}
	if d == Draft16 {
		seeds = append(seeds,
			Datagram{Type: 0x0F, EndOfGroup: true, Object: Object{Extensions: ext, Payload: []byte{1}}},
			Datagram{Type: 0x2D, Object: Object{Extensions: ext, Status: StatusEndOfTrack}},
		)
	}
	for i := range seeds {
		b, err := AppendDatagram(nil, d, &seeds[i])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lim := range []*Limits{nil, dtFuzzLimits} {
			dg, err := ParseDatagram(b, d, lim)
			if err != nil {
				if _, ok := AsProtocolError(err); !ok {
					t.Fatalf("error is not a *ProtocolError: %v", err)
				}
				continue
			}
			out, err := AppendDatagram(nil, d, &dg)
			if err != nil {
				t.Fatalf("decoded %+v does not re-encode: %v", dg, err)
			}
			dg2, err := ParseDatagram(out, d, nil)
			if err != nil || !dtDatagramEqual(&dg, &dg2) {
				t.Fatalf("re-encoding %x decodes to %+v, %v; want %+v", out, dg2, err, dg)
			}
			if out2, err := AppendDatagram(nil, d, &dg2); err != nil || !bytes.Equal(out, out2) {
				t.Fatalf("re-encoding is not stable: %x then %x, %v", out, out2, err)
			}
		}
	})
}

// dtCheckTerm checks that a slice-API decode ended cleanly, with ErrNeedMore
// or with a *ProtocolError.
func dtCheckTerm(t *testing.T, term error) {
	t.Helper()
	if term == nil || term == ErrNeedMore {
		return
	}
	if _, ok := AsProtocolError(term); !ok {
		t.Fatalf("error is neither ErrNeedMore nor a *ProtocolError: %v", term)
	}
}
