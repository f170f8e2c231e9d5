package wire

import (
	"fmt"
	"io"
	"math"
)

// StreamKind is the kind of an incoming unidirectional data stream.
type StreamKind uint8

const (
	// StreamUnknown: the header has not been read yet.
	StreamUnknown StreamKind = iota
	// StreamSubgroup: a subgroup stream (draft-07 STREAM_HEADER_SUBGROUP,
	// draft-14 SUBGROUP_HEADER).
	StreamSubgroup
	// StreamFetch: a fetch stream (FETCH_HEADER).
	StreamFetch
)

// String returns "subgroup", "fetch" or "unknown".
func (k StreamKind) String() string {
	switch k {
	case StreamSubgroup:
		return "subgroup"
	case StreamFetch:
		return "fetch"
	}
	return "unknown"
}

const (
	// readerBufSize is the StreamReader's initial buffer for headers and
	// small objects; it grows for longer headers. Small, since every data
	// stream (often one per object) has one.
	readerBufSize = 512
	// readerHeadSlack bounds everything of a stream header or an object
	// header that is not its extension block (a few varints and a byte).
	readerHeadSlack = 128
	// payloadChunk is the most a StreamReader allocates for a payload before
	// its bytes arrive; the payload buffer then doubles as it fills.
	payloadChunk = 64 << 10
	// maxZeroReads is how many consecutive empty reads with no error are
	// tolerated before io.ErrNoProgress.
	maxZeroReads = 100
)

// StreamReader decodes one incoming unidirectional data stream (a subgroup or
// fetch stream) incrementally from an io.Reader. It buffers at most a header's
// worth of bytes (bounded by the extension limit) plus whatever one Read
// returns. It is not safe for concurrent use.
type StreamReader struct {
	r   io.Reader
	d   Draft
	lim *Limits

	buf        []byte // buffered input is buf[start:end]
	slab       Slab   // small payloads and extension blocks; kept by Reset
	start, end int
	eof        bool  // the reader returned io.EOF
	err        error // sticky: returned by every later call

	kind  StreamKind
	sub   SubgroupDecoder
	fetch FetchHeader
	fdec  FetchDecoder
}

// NewStreamReader returns a StreamReader for one incoming stream of draft d,
// read from r, with limits lim (nil means DefaultLimits).
func NewStreamReader(r io.Reader, d Draft, lim *Limits) *StreamReader {
	return &StreamReader{r: r, d: d, lim: lim}
}

// Reset makes s a StreamReader for a new stream, as NewStreamReader does,
// keeping its buffer for reuse when it has not grown past the initial size
// (nothing that Next returns refers to it), and what is left of its payload
// slab (the objects Next returned keep the part carved for them).
func (s *StreamReader) Reset(r io.Reader, d Draft, lim *Limits) {
	buf := s.buf
	if cap(buf) != readerBufSize {
		buf = nil
	}
	*s = StreamReader{r: r, d: d, lim: lim, buf: buf[:cap(buf)], slab: s.slab}
}

// Kind returns the stream's kind, StreamUnknown before ReadHeader succeeds.
func (s *StreamReader) Kind() StreamKind { return s.kind }

// SubgroupHeader returns the header of a subgroup stream, after ReadHeader.
// For draft-14 types whose subgroup ID is the first object's ID, Subgroup is
// set once the first object has been read by Next.
func (s *StreamReader) SubgroupHeader() SubgroupHeader { return s.sub.Header }

// FetchHeader returns the header of a fetch stream, after ReadHeader.
func (s *StreamReader) FetchHeader() FetchHeader { return s.fetch }

// SetFetchGroupOrder gives a draft-18 fetch stream the group order of its
// FETCH (Group IDs are delta-coded along it; ascending until set). Call it
// after ReadHeader, before Next. Other drafts ignore it.
func (s *StreamReader) SetFetchGroupOrder(order uint8) { s.fdec.GroupOrder = order }

// fail records a terminal error and returns it.
func (s *StreamReader) fail(err error) error {
	s.err = err
	return err
}

func (s *StreamReader) unitName() string {
	switch s.kind {
	case StreamSubgroup:
		return "subgroup stream"
	case StreamFetch:
		return "fetch stream"
	}
	return "data stream"
}

func (s *StreamReader) truncated(format string, args ...any) error {
	return &ProtocolError{Kind: KindTruncated, Message: s.unitName(), Detail: fmt.Sprintf(format, args...)}
}

// maxBuf is the largest the buffer may grow to hold one header.
func (s *StreamReader) maxBuf() int {
	return max(readerBufSize, min(s.lim.extensionBytes(), math.MaxInt-readerHeadSlack)+readerHeadSlack)
}

// fill reads more bytes into the buffer. It returns io.EOF when the stream
// has ended (and nothing was read), the reader's error otherwise.
func (s *StreamReader) fill() error {
	if s.eof {
		return io.EOF
	}
	if s.start == s.end {
		s.start, s.end = 0, 0
	}
	if s.buf == nil {
		s.buf = make([]byte, readerBufSize)
	}
	if s.end == len(s.buf) {
		if s.start > 0 {
			s.end = copy(s.buf, s.buf[s.start:s.end])
			s.start = 0
		} else {
			// A header longer than the buffer: grow it, up to what the
			// limits allow a header to be.
			limit := s.maxBuf()
			if len(s.buf) >= limit {
				return withMessage(errf(KindLimit, "", "header exceeds %d bytes", limit), s.unitName())
			}
			nb := make([]byte, min(2*len(s.buf), limit))
			s.end = copy(nb, s.buf[:s.end])
			s.buf = nb
		}
	}
	for zero := 0; ; zero++ {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			if n > 0 {
				return nil
			}
			return io.EOF
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if zero >= maxZeroReads {
			return io.ErrNoProgress
		}
	}
}

// ReadHeader reads the stream type and header. An unknown stream type is a
// *ProtocolError of KindUnknownMessage; a stream that ends inside (or before)
// its header is KindTruncated. Calling it again after success does nothing.
func (s *StreamReader) ReadHeader() error {
	if s.kind != StreamUnknown {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	if !knownDataDraft(s.d) && !s.d.vi64() {
		return s.fail(unknownDraft(s.d))
	}
	for {
		if s.start < s.end {
			n, err := s.parseHeader(s.buf[s.start:s.end])
			if err == nil {
				s.start += n
				return nil
			}
			if err != ErrNeedMore {
				return s.fail(err)
			}
		}
		if err := s.fill(); err != nil {
			if err == io.EOF {
				if s.start == s.end {
					return s.fail(s.truncated("stream ended before its header"))
				}
				return s.fail(s.truncated("stream ended inside its header"))
			}
			return s.fail(err)
		}
	}
}

// parseHeader parses a stream type and header from b and, on success, sets
// the kind and header.
func (s *StreamReader) parseHeader(b []byte) (int, error) {
	r := decoder{b: b, v18: s.d.vi64()}
	t := r.varint("type")
	if r.err != nil {
		return 0, r.err
	}
	switch {
	case s.d.vi64() && t == StreamTypePadding18:
		return 0, ErrPadding18
	case s.d.vi64() && t != StreamTypeFetch:
		h, n, err := parseSubgroupHeader18(b)
		if err != nil {
			return 0, err
		}
		s.kind = StreamSubgroup
		s.sub = SubgroupDecoder{Draft: s.d, Header: h, Limits: s.lim}
		return n, nil
	case t == StreamTypeFetch:
		h := r.fetchHeaderBody(s.d)
		if r.err != nil {
			return 0, withMessage(r.err, "FETCH_HEADER")
		}
		s.kind, s.fetch = StreamFetch, h
		s.fdec = FetchDecoder{Draft: s.d, Limits: s.lim}
	case (typedData(s.d) && isSubgroupType(s.d, t)) || (!typedData(s.d) && t == StreamTypeSubgroup07):
		h := r.subgroupHeaderBody(s.d, t)
		if r.err != nil {
			return 0, withMessage(r.err, subgroupHeaderName(s.d))
		}
		s.kind = StreamSubgroup
		s.sub = SubgroupDecoder{Draft: s.d, Header: h, Limits: s.lim}
	default:
		return 0, withMessage(errf(KindUnknownMessage, "type", "stream type 0x%x is not a data stream type of draft %v", t, s.d), "data stream")
	}
	return r.off, nil
}

// Next reads the next object into o, reading the header first if ReadHeader
// has not been called. It returns io.EOF when the stream ends cleanly at an
// object boundary, a *ProtocolError of KindTruncated when it ends inside an
// object, any other *ProtocolError for invalid input, and the reader's error
// otherwise. After an error every later call returns the same error.
//
// o.Payload and o.Extensions are new slices owned by the caller (nil when
// empty). The payload buffer grows as its bytes arrive: at most 64 KiB is
// allocated before payload bytes are received, so a peer that declares a large
// payload and sends little costs little.
func (s *StreamReader) Next(o *Object) error {
	if s.err != nil {
		return s.err
	}
	if err := s.ReadHeader(); err != nil {
		return err
	}
	var ob Object
	var n, pl int
	for {
		if s.start < s.end {
			var err error
			if s.kind == StreamSubgroup {
				n, pl, err = s.sub.parseHead(s.buf[s.start:s.end], &ob)
			} else {
				n, pl, err = s.fdec.parseHead(s.buf[s.start:s.end], &ob)
			}
			if err == nil {
				break
			}
			if err != ErrNeedMore {
				return s.fail(err)
			}
			ob = Object{}
		}
		if err := s.fill(); err != nil {
			if err == io.EOF {
				if s.start == s.end {
					return s.fail(io.EOF)
				}
				return s.fail(s.truncated("stream ended inside an object header"))
			}
			return s.fail(err)
		}
	}
	if len(ob.Extensions) > 0 {
		ob.Extensions = append(s.slab.Carve(len(ob.Extensions)), ob.Extensions...)
	}
	s.start += n
	if pl > 0 {
		p, err := s.readPayload(pl)
		if err != nil {
			return s.fail(err)
		}
		ob.Payload = p
	}
	if s.kind == StreamSubgroup {
		s.sub.commit(&ob)
	} else {
		s.fdec.commit(&ob)
	}
	*o = ob
	return nil
}

// readPayload reads a payload of n bytes (n > 0, already checked against the
// limit): first from the buffer, then straight from the reader into the
// payload slice, which grows as bytes arrive.
func (s *StreamReader) readPayload(n int) ([]byte, error) {
	have := min(n, s.end-s.start)
	size := n
	if n > payloadChunk {
		size = max(have, payloadChunk)
	}
	p := s.slab.Carve(size)[:have]
	copy(p, s.buf[s.start:s.start+have])
	s.start += have
	zero := 0
	for len(p) < n {
		if s.eof {
			return nil, s.truncated("stream ended inside an object payload (%d of %d bytes)", len(p), n)
		}
		if len(p) == cap(p) {
			np := make([]byte, len(p), min(n, 2*cap(p)))
			copy(np, p)
			p = np
		}
		m, err := s.r.Read(p[len(p):cap(p)])
		p = p[:len(p)+m]
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			return nil, err
		case m == 0:
			if zero++; zero > maxZeroReads {
				return nil, io.ErrNoProgress
			}
		default:
			zero = 0
		}
	}
	return p, nil
}
