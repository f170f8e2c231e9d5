package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"testing"
)

// addControlSeeds seeds f with every moqtap vector of the draft directory
// and with the encodings of the round-trip samples.
func addControlSeeds(f *testing.F, dir string, d Draft) {
	for _, file := range loadVectorFiles(f, dir) {
		for _, v := range file.Vectors {
			b, err := hex.DecodeString(v.Hex)
			if err != nil {
				f.Fatalf("%s: %v", v.ID, err)
			}
			f.Add(b)
		}
	}
	for _, m := range samplesFor(d) {
		f.Add(mustAppend(f, d, m))
	}
}

// fuzzParseMessage checks that ParseMessage never panics, fails only with
// ErrNeedMore or a *ProtocolError, and that anything it accepts re-encodes
// and decodes again to an equal message. It also runs the input through a
// ControlReader.
func fuzzParseMessage(t *testing.T, d Draft, data []byte) {
	m, n, err := ParseMessage(data, d, nil)
	if err != nil {
		if err != ErrNeedMore {
			if _, ok := AsProtocolError(err); !ok {
				t.Fatalf("error %v (%T) is neither ErrNeedMore nor a *ProtocolError", err, err)
			}
		}
		if n < 0 || n > len(data) {
			t.Fatalf("error with count %d of %d", n, len(data))
		}
	} else {
		if n <= 0 || n > len(data) {
			t.Fatalf("count %d of %d", n, len(data))
		}
		enc, err := AppendMessage(nil, d, m)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", m, err)
		}
		m2, n2, err := ParseMessage(enc, d, nil)
		if err != nil || n2 != len(enc) {
			t.Fatalf("re-decoding %x: %v (used %d of %d)", enc, err, n2, len(enc))
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n first %+v\nsecond %+v", m, m2)
		}
	}
	cr := NewControlReader(bytes.NewReader(data), d, nil)
	for range len(data) + 1 {
		_, err := cr.Read()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		pe, ok := AsProtocolError(err)
		if !ok {
			t.Fatalf("ControlReader error %v (%T) is not a *ProtocolError", err, err)
		}
		if pe.Kind == KindLimit || pe.Kind == KindTruncated {
			break
		}
	}
}

func FuzzParseMessage07(f *testing.F) {
	addControlSeeds(f, "draft07", Draft07)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseMessage(t, Draft07, data) })
}

func FuzzParseMessage14(f *testing.F) {
	addControlSeeds(f, "draft14", Draft14)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseMessage(t, Draft14, data) })
}

func FuzzParseMessage16(f *testing.F) {
	addControlSeeds(f, "draft16", Draft16)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseMessage(t, Draft16, data) })
}
