package moq

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// FuzzServerSession: a fuzzed peer speaks to a server session over real
// loopback QUIC, after a correct SETUP: raw bytes and framed messages of
// any type on the control stream, unidirectional data streams and
// datagrams, in the order the input says. The server session must never
// panic; if it ends, it ends with a *SessionError; and once the peer goes
// away it must end within a bound (nothing hangs).
//
// The input is draftSel (which draft) and a script of operations, each
// [op][length][length bytes]:
//
//	op%4 == 0: the bytes on the control stream as they are
//	op%4 == 1: a control message: type bytes[0]%0x21, payload the rest
//	op%4 == 2: a new unidirectional stream carrying the bytes, then closed
//	op%4 == 3: a datagram
func FuzzServerSession(f *testing.F) {
	fuzzDrafts := []Draft{Draft07, Draft07Cloudflare, Draft14}
	ns := Namespace{"fz"}
	for sel, d := range fuzzDrafts {
		var script []byte
		add := func(op byte, b []byte) {
			if len(b) > 255 {
				b = b[:255]
			}
			script = append(script, op, byte(len(b)))
			script = append(script, b...)
		}
		msg := func(m wire.Message) []byte {
			b, err := wire.AppendMessage(nil, d, m)
			if err != nil {
				f.Fatal(err)
			}
			return b
		}
		// A SUBSCRIBE for the track the server publishes, an UNSUBSCRIBE,
		// a FETCH, and a data stream for an alias nobody subscribed.
		add(0, msg(&wire.Subscribe{RequestID: 0, TrackAlias: 0, Namespace: ns, Name: "t", SubscriberPriority: 128,
			Forward: true, FilterType: FilterLatestObject}))
		add(0, msg(&wire.Unsubscribe{RequestID: 0}))
		f.Add(byte(sel), append([]byte(nil), script...))
		h := wire.SubgroupHeader{SubscribeID: 5, TrackAlias: 5, Group: 0, Priority: 1}
		if d == Draft14 {
			h.Type = wire.SubgroupType(false, false, false, 0)
		} else {
			h.Type = wire.StreamTypeSubgroup07
		}
		if hb, err := wire.AppendSubgroupHeader(nil, d, &h); err == nil {
			add(2, append(hb, 0, 3, 'a', 'b', 'c'))
		}
		add(3, []byte{0x01, 0x05, 0x00, 0x00, 0x80, 'x'})
		add(1, []byte{0x03, 0xff, 0xff})
		f.Add(byte(sel), script)
	}
	f.Add(byte(2), []byte{0, 4, 0x40, 0x00, 0x00, 0x00})
	f.Add(byte(0), []byte{1, 1, 0x10})

	f.Fuzz(func(t *testing.T, draftSel byte, script []byte) {
		d := fuzzDrafts[int(draftSel)%len(fuzzDrafts)]
		r := newRawPeer(t, "moqt", d, &Options{RequestTimeout: 200 * time.Millisecond, IdleTimeout: 5 * time.Second,
			Logger: slog.New(slog.DiscardHandler)})
		tr, err := r.server.Publish(ns, "t", TrackOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tr.Write([]byte("hello"))
		// Bounds OpenUniStreamSync when the server grants no more streams.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for len(script) >= 2 {
			op, n := script[0], int(script[1])
			script = script[2:]
			if n > len(script) {
				n = len(script)
			}
			b := script[:n]
			script = script[n:]
			// Write errors are expected: the server may have closed the
			// session already.
			switch op % 4 {
			case 0:
				r.ctrl.Write(b)
			case 1:
				if len(b) > 0 {
					r.ctrl.Write(r.frame(uint64(b[0]%0x21), b[1:]))
				}
			case 2:
				if st, err := r.conn.OpenUniStreamSync(ctx); err == nil {
					st.Write(b)
					st.Close()
				}
			case 3:
				r.conn.SendDatagram(b)
			}
		}
		// Whatever state the server is in, a live session answers a
		// closing peer by ending.
		select {
		case <-r.server.Done():
			var se *SessionError
			if !errors.As(r.server.Err(), &se) {
				t.Fatalf("the server session ended with %v, want a *SessionError", r.server.Err())
			}
		default:
		}
		r.conn.CloseWithError(0, "")
		select {
		case <-r.server.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the server session did not end within 10s of its peer closing the connection")
		}
	})
}
