package wire

import (
	"errors"
	"fmt"
	"io"
)

const (
	// ctlReadChunk is the smallest buffer a ControlReader reads into.
	ctlReadChunk = 512
	// ctlMaxPeek bounds ControlReader.Peek.
	ctlMaxPeek = 64
	// ctlMaxEmptyReads is how many reads in a row may return nothing and no
	// error before the reader gives up with io.ErrNoProgress.
	ctlMaxEmptyReads = 100
)

// ControlReader reads framed control messages from a stream (the control
// stream of a session). It buffers what it reads; the buffer grows only as
// bytes arrive, up to one message header plus the control message size
// limit, so a peer announcing a huge length makes it allocate nothing more.
//
// A ControlReader is not safe for concurrent use.
type ControlReader struct {
	r   io.Reader
	d   Draft
	lim *Limits

	buf        []byte // buffered bytes are buf[start:end]
	start, end int
	rerr       error // the stream's error (io.EOF included), once seen
	perr       error // a framing error that leaves the stream unreadable
}

// NewControlReader returns a reader of draft-d control messages from r,
// checked against lim (nil means the defaults). d may be DraftUnknown until
// the draft is known (see Peek, SetupFamily and SetDraft); Read then fails.
func NewControlReader(r io.Reader, d Draft, lim *Limits) *ControlReader {
	return &ControlReader{r: r, d: d, lim: lim}
}

// SetDraft sets the draft of the messages that follow, after version
// negotiation or family detection.
func (c *ControlReader) SetDraft(d Draft) { c.d = d }

// Draft returns the draft the reader decodes.
func (c *ControlReader) Draft() Draft { return c.d }

// buffered returns the number of buffered bytes.
func (c *ControlReader) buffered() int { return c.end - c.start }

// fill reads until at least n bytes are buffered. It returns the stream's
// error if the stream ends or fails first. Callers bound n: by the header
// size, or by the header plus a payload length already checked against the
// limit.
func (c *ControlReader) fill(n int) error {
	empty := 0
	for c.buffered() < n {
		if c.rerr != nil {
			return c.rerr
		}
		if len(c.buf)-c.start < n {
			// Not enough room after start: move the buffered bytes to the
			// front and, if still short, grow by doubling (bounded by n),
			// so that the buffer grows only as fast as bytes arrive.
			if c.start > 0 {
				copy(c.buf, c.buf[c.start:c.end])
				c.end -= c.start
				c.start = 0
			}
			if c.end == len(c.buf) {
				size := max(2*len(c.buf), ctlReadChunk)
				size = min(size, max(n, ctlReadChunk))
				nb := make([]byte, size)
				copy(nb, c.buf[:c.end])
				c.buf = nb
			}
		}
		k, err := c.r.Read(c.buf[c.end:])
		if k < 0 || k > len(c.buf)-c.end {
			c.rerr = fmt.Errorf("wire: control stream reader returned an invalid count %d", k)
			return c.rerr
		}
		c.end += k
		if err != nil {
			c.rerr = err
		} else if k == 0 {
			// io.Reader allows a read of nothing without an error; retry,
			// but not forever.
			if empty++; empty >= ctlMaxEmptyReads {
				c.rerr = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	return nil
}

// Peek returns the first n buffered bytes of the stream without consuming
// them, reading as needed (a server peeks at a control stream's first bytes
// and gives them to SetupFamily). If the stream ends or fails first, it
// returns the bytes it has and the stream's error (io.EOF at a clean end). n
// may be at most 64. The slice is valid until the next Peek or Read.
func (c *ControlReader) Peek(n int) ([]byte, error) {
	if n < 0 || n > ctlMaxPeek {
		return nil, fmt.Errorf("wire: ControlReader.Peek(%d): n must be 0..%d", n, ctlMaxPeek)
	}
	err := c.fill(n)
	if err != nil {
		return c.buf[c.start:c.end:c.end], err
	}
	return c.buf[c.start : c.start+n : c.start+n], nil
}

// Read returns the next control message. It returns io.EOF if the stream
// ends cleanly between messages; a *ProtocolError (KindTruncated) if it ends
// inside one; a *ProtocolError for a malformed message; the stream's error
// otherwise. The payload length is checked against the control message
// limit (lim.MaxControlMessage, default 65535) before any of the payload is
// read or buffered; a length over it is a KindLimit error after which the
// stream cannot be read further (every later Read returns it again). After
// other malformed messages (an unknown type, a bad field) the frame has been
// consumed and reading may go on.
func (c *ControlReader) Read() (Message, error) {
	if c.perr != nil {
		return nil, c.perr
	}
	if tableFor(c.d) == nil {
		return nil, fmt.Errorf("wire: ControlReader has no draft set (%v)", c.d)
	}
	// The header: a varint type, then a varint (07) or 16-bit (14) length.
	if err := c.fill(1); err != nil {
		return nil, c.streamEnd(err)
	}
	hdrLen := 1 << (c.buf[c.start] >> 6)
	if c.d.vi64() {
		hdrLen = varint18Len(c.buf[c.start])
	}
	if !c.d.Is07() {
		hdrLen += 2
	} else {
		if err := c.fill(hdrLen + 1); err != nil {
			return nil, c.streamEnd(err)
		}
		hdrLen += 1 << (c.buf[c.start+hdrLen] >> 6)
	}
	if err := c.fill(hdrLen); err != nil {
		return nil, c.streamEnd(err)
	}
	hdr, length, err := frameHeader(c.buf[c.start:c.end], c.d, c.lim)
	if err != nil {
		// ErrNeedMore cannot happen: the whole header is buffered.
		c.perr = err
		return nil, err
	}
	if err := c.fill(hdr + length); err != nil {
		return nil, c.streamEnd(err)
	}
	m, n, err := ParseMessage(c.buf[c.start:c.start+hdr+length], c.d, c.lim)
	if n == 0 {
		// Not possible with a complete frame, but never loop on it.
		n = hdr + length
	}
	c.start += n
	if c.start == c.end {
		c.start, c.end = 0, 0
	}
	return m, err
}

// streamEnd turns the error that ended a fill into Read's result: io.EOF if
// nothing of a next message was buffered, KindTruncated if part of one was,
// the stream's own error otherwise.
func (c *ControlReader) streamEnd(err error) error {
	if !errors.Is(err, io.EOF) {
		return err
	}
	if c.buffered() == 0 {
		return io.EOF
	}
	return &ProtocolError{Kind: KindTruncated, Message: "control stream",
		Detail: fmt.Sprintf("stream ended inside a control message (%d bytes of it received)", c.buffered())}
}
