package wire

import (
	"bytes"
	"testing"
)

// Small payloads and extension blocks are carved from a shared slab: each
// has its own length as capacity, so appending to one copies it and never
// writes into the next object's bytes, and a Reset for the next stream
// keeps carving from the same slab without touching what was handed out.
func TestStreamReaderSlabCarving(t *testing.T) {
	stream := func(group uint64, payloads ...[]byte) []byte {
		h := SubgroupHeader{Type: SubgroupType(true, false, false, 0), TrackAlias: 1, Group: group, Priority: 128}
		b, err := AppendSubgroupHeader(nil, Draft14, &h)
		if err != nil {
			t.Fatal(err)
		}
		e := SubgroupEncoder{Draft: Draft14, Header: h}
		for i, p := range payloads {
			b, err = e.AppendObject(b, &Object{Group: group, ID: uint64(i), Extensions: []byte{0x02, byte(i)}, Payload: p})
			if err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	big := bytes.Repeat([]byte{0xBB}, SlabMax+1)
	var sr StreamReader
	var got []Object
	for g, payloads := range [][][]byte{
		{[]byte("first"), []byte("second"), big, []byte("third")},
		{[]byte("next stream"), bytes.Repeat([]byte{0xAA}, SlabMax)},
	} {
		sr.Reset(bytes.NewReader(stream(uint64(g), payloads...)), Draft14, nil)
		if err := sr.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		for i, want := range payloads {
			var o Object
			if err := sr.Next(&o); err != nil {
				t.Fatalf("stream %d object %d: %v", g, i, err)
			}
			if !bytes.Equal(o.Payload, want) || cap(o.Payload) != len(o.Payload) || cap(o.Extensions) != len(o.Extensions) {
				t.Fatalf("stream %d object %d: payload %d bytes (cap %d), extensions cap %d; want %d bytes, caps = lengths",
					g, i, len(o.Payload), cap(o.Payload), cap(o.Extensions), len(want))
			}
			got = append(got, o)
		}
	}
	// Appending to every object must leave all the others intact.
	want := make([]Object, len(got))
	for i, o := range got {
		want[i] = Object{Extensions: bytes.Clone(o.Extensions), Payload: bytes.Clone(o.Payload)}
	}
	for i := range got {
		_ = append(got[i].Payload, 0xFF, 0xFF)
		_ = append(got[i].Extensions, 0xFF)
	}
	for i, o := range got {
		if !bytes.Equal(o.Payload, want[i].Payload) || !bytes.Equal(o.Extensions, want[i].Extensions) {
			t.Fatalf("object %d changed by an append to another object", i)
		}
	}
}
