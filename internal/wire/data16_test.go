package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The draft-16 moqtap data stream and datagram vectors, by their bytes:
// every valid one decodes and re-encodes to the same bytes (the JSON form is
// checked in wirejson); the error ones fail.
func TestData16Vectors(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "moqtap", "transport", "draft16", "codec", "data-streams")
	count := 0
	for _, name := range []string{"subgroup.json", "datagram.json", "fetch-header.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var f vectorFile
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		for _, v := range f.Vectors {
			count++
			in, _ := hex.DecodeString(v.Hex)
			out, err := recode16(name, in)
			if v.Error != "" {
				if err == nil {
					t.Errorf("%s/%s: decoded, want error %s", name, v.ID, v.Error)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s/%s: %v", name, v.ID, err)
			} else if !bytes.Equal(out, in) {
				t.Errorf("%s/%s: re-encoded\n got %x\nwant %x", name, v.ID, out, in)
			}
		}
	}
	if count != 30 {
		t.Errorf("%d data vectors, want 30", count)
	}
}

// recode16 decodes a whole draft-16 data unit and encodes it again.
func recode16(kind string, in []byte) ([]byte, error) { return recodeData(Draft16, kind, in) }

// recodeData decodes a whole data unit of d (a datagram, or a subgroup or
// fetch stream by its file name) and encodes it again.
func recodeData(d Draft, kind string, in []byte) ([]byte, error) {
	switch kind {
	case "datagram.json":
		dg, err := ParseDatagram(in, d, nil)
		if err != nil {
			return nil, err
		}
		return AppendDatagram(nil, d, &dg)
	case "subgroup.json":
		sr := NewStreamReader(bytes.NewReader(in), d, nil)
		var objs []Object
		for {
			var o Object
			err := sr.Next(&o)
			if err != nil {
				if err.Error() == "EOF" {
					break
				}
				return nil, err
			}
			objs = append(objs, o)
		}
		h := sr.SubgroupHeader()
		out, err := AppendSubgroupHeader(nil, d, &h)
		if err != nil {
			return nil, err
		}
		enc := SubgroupEncoder{Draft: d, Header: h}
		for i := range objs {
			if out, err = enc.AppendObject(out, &objs[i]); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		h, n, err := ParseFetchHeader(in, d)
		if err != nil {
			return nil, err
		}
		dec := FetchDecoder{Draft: d}
		out := AppendFetchHeader(nil, d, h)
		enc := FetchEncoder{Draft: d}
		for rest := in[n:]; len(rest) > 0; {
			var o Object
			k, err := dec.ParseObject(rest, &o)
			if err != nil {
				return nil, err
			}
			rest = rest[k:]
			if out, err = enc.AppendObjectFlags(out, &o, dec.Flags()); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// TestFetch16Flags: the encoder chooses the shortest flags, and the decoder
// gives back the objects, End of Range markers included.
func TestFetch16Flags(t *testing.T) {
	objs := []Object{
		{Group: 0, ID: 0, Priority: 128, Payload: []byte{1}},
		{Group: 0, ID: 1, Priority: 128, Payload: []byte{2}},
		{Group: 0, Subgroup: 1, ID: 2, Priority: 128, Payload: []byte{3}},
		{Group: 0, Subgroup: 1, ID: 3, Priority: 7, Extensions: []byte{0x3c, 0x01}, Payload: []byte{4}},
		{Group: 4, ID: 9, Status: StatusEndOfNonExistentRange},
		{Group: 5, Subgroup: 9, ID: 0, Priority: 7},
	}
	enc := FetchEncoder{Draft: Draft16}
	b := AppendFetchHeader(nil, Draft16, FetchHeader{RequestID: 2})
	for i := range objs {
		var err error
		if b, err = enc.AppendObject(b, &objs[i]); err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
	}
	wantFlags := []uint64{0x1c, 0x00, 0x02, 0x31, FetchEndOfNonExistent, 0x0f}
	h, n, err := ParseFetchHeader(b, Draft16)
	if err != nil || h.RequestID != 2 {
		t.Fatalf("header %+v, %v", h, err)
	}
	dec := FetchDecoder{Draft: Draft16}
	rest := b[n:]
	for i, want := range objs {
		var o Object
		k, err := dec.ParseObject(rest, &o)
		if err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		rest = rest[k:]
		if dec.Flags() != wantFlags[i] {
			t.Errorf("object %d: flags 0x%x, want 0x%x", i, dec.Flags(), wantFlags[i])
		}
		if o.Group != want.Group || o.ID != want.ID || o.Status != want.Status || !bytes.Equal(o.Payload, want.Payload) ||
			(want.Status == StatusNormal && (o.Subgroup != want.Subgroup || o.Priority != want.Priority)) {
			t.Errorf("object %d: %+v, want %+v", i, o, want)
		}
	}
	if len(rest) != 0 {
		t.Errorf("%d bytes left", len(rest))
	}
	// The StreamReader reads the same objects.
	sr := NewStreamReader(bytes.NewReader(b), Draft16, nil)
	for i := range objs {
		var o Object
		if err := sr.Next(&o); err != nil || o.Group != objs[i].Group || o.ID != objs[i].ID {
			t.Fatalf("StreamReader object %d: %+v, %v", i, o, err)
		}
	}
	// A first object that takes its group from a prior object.
	dec = FetchDecoder{Draft: Draft16}
	var o Object
	if _, err := dec.ParseObject([]byte{0x14, 0x00, 0x80, 0x00}, &o); err == nil {
		t.Error("a first object without a group ID was accepted")
	}
	if _, err := dec.ParseObject([]byte{0x40, 0x90, 0x00}, &o); err == nil {
		t.Error("undefined flags 0x1090 were accepted")
	}
	// Flags that do not fit the object are refused.
	e := FetchEncoder{Draft: Draft16}
	if _, err := e.AppendObjectFlags(nil, &Object{Group: 3}, 0x14); err == nil {
		t.Error("flags without a group ID accepted for a first object")
	}
}

// TestData16Types: the draft-16 subgroup and datagram type ranges.
func TestData16Types(t *testing.T) {
	for typ := uint64(0); typ < 0x80; typ++ {
		wantSub := typ >= 0x10 && typ < 0x40 && typ&0x10 != 0 && typ&0x06 != 0x06
		if got := isSubgroupType(Draft16, typ); got != wantSub {
			t.Errorf("subgroup type 0x%x: %v", typ, got)
		}
		wantDg := (typ <= 0x0f) || (typ >= 0x20 && typ <= 0x2f && typ&0x02 == 0)
		if got := isDatagramType(Draft16, typ); got != wantDg {
			t.Errorf("datagram type 0x%x: %v", typ, got)
		}
	}
	if ValidStatus(Draft16, StatusDoesNotExist) || !ValidStatus(Draft14, StatusDoesNotExist) {
		t.Error("status 0x1 (Does Not Exist) is in 14, not in 16")
	}
}
