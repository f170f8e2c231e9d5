package wire

import (
	"io"
	"testing"
)

// dtBenchHeader returns a subgroup header for d, with the extensions bit in
// draft-14 when ext.
func dtBenchHeader(d Draft, ext bool) SubgroupHeader {
	h := SubgroupHeader{Type: StreamTypeSubgroup07, SubscribeID: 3, TrackAlias: 5, Group: 1000, Subgroup: 0, Priority: 128}
	if typedData(d) {
		h.Type = SubgroupType(ext, false, false, 0)
	}
	return h
}

var dtBenchCases = []struct {
	name string
	d    Draft
	ext  bool
}{
	{"07", Draft07, false},
	{"14", Draft14, false},
	{"14ext", Draft14, true},
	{"16", Draft16, false},
	{"16ext", Draft16, true},
}

// BenchmarkSubgroupObjectHeaderEncode encodes the header of a 200-byte object
// into a reused buffer. It must not allocate.
func BenchmarkSubgroupObjectHeaderEncode(b *testing.B) {
	for _, c := range dtBenchCases {
		b.Run(c.name, func(b *testing.B) {
			enc := SubgroupEncoder{Draft: c.d, Header: dtBenchHeader(c.d, c.ext)}
			o := Object{Group: 1000}
			if c.ext {
				o.Extensions = dtMustExt(b, IntParam(0x3C, 1))
			}
			buf := make([]byte, 0, 64)
			var err error
			b.ReportAllocs()
			for id := uint64(0); b.Loop(); id++ {
				o.ID = id
				if buf, err = enc.AppendObjectHeader(buf[:0], &o, 200); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSubgroupObjectHeaderDecode parses one 200-byte object (header,
// payload aliased) from a prepared buffer with ParseObject. It must not
// allocate.
func BenchmarkSubgroupObjectHeaderDecode(b *testing.B) {
	for _, c := range dtBenchCases {
		b.Run(c.name, func(b *testing.B) {
			h := dtBenchHeader(c.d, c.ext)
			enc := SubgroupEncoder{Draft: c.d, Header: h}
			o := Object{ID: 1234, Payload: make([]byte, 200)}
			if c.ext {
				o.Extensions = dtMustExt(b, IntParam(0x3C, 1))
			}
			buf, err := enc.AppendObject(nil, &o)
			if err != nil {
				b.Fatal(err)
			}
			var got Object
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				dec := SubgroupDecoder{Draft: c.d, Header: h}
				n, err := dec.ParseObject(buf, &got)
				if err != nil || n != len(buf) {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// dtObjectSource is an endless subgroup stream: the header, then 200-byte
// objects with rising IDs, encoded as they are read. Each Read fills p.
type dtObjectSource struct {
	enc     SubgroupEncoder
	obj     Object
	buf     []byte
	pending []byte
}

func newDTObjectSource(tb testing.TB, d Draft) *dtObjectSource {
	s := &dtObjectSource{enc: SubgroupEncoder{Draft: d, Header: dtBenchHeader(d, false)}}
	s.obj.Payload = make([]byte, 200)
	var err error
	if s.buf, err = AppendSubgroupHeader(nil, d, &s.enc.Header); err != nil {
		tb.Fatal(err)
	}
	s.pending = s.buf
	return s
}

func (s *dtObjectSource) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.pending) == 0 {
			var err error
			if s.buf, err = s.enc.AppendObject(s.buf[:0], &s.obj); err != nil {
				return n, err
			}
			s.obj.ID++
			s.pending = s.buf
		}
		m := copy(p[n:], s.pending)
		s.pending = s.pending[m:]
		n += m
	}
	return n, nil
}

var _ io.Reader = (*dtObjectSource)(nil)

// BenchmarkStreamReader reads 200-byte objects from a subgroup stream with a
// StreamReader (one op = one object; the source encodes objects as they are
// read, which is included). The one allocation per op is the payload, which
// Next hands to the caller.
func BenchmarkStreamReader(b *testing.B) {
	for _, d := range []Draft{Draft07, Draft14, Draft16} {
		b.Run(d.String(), func(b *testing.B) {
			s := NewStreamReader(newDTObjectSource(b, d), d, nil)
			if err := s.ReadHeader(); err != nil {
				b.Fatal(err)
			}
			var o Object
			b.ReportAllocs()
			b.SetBytes(200)
			for b.Loop() {
				if err := s.Next(&o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
