package transport

import (
	"context"
	"errors"
	"testing"
	"time"
)

type fakeRecv struct{ id uint64 }

func (f *fakeRecv) Read([]byte) (int, error)        { return 0, errors.New("fake") }
func (f *fakeRecv) CancelRead(uint64)               {}
func (f *fakeRecv) SetReadDeadline(time.Time) error { return nil }

// feed returns an accept function that hands out the given stream IDs in
// the given order, then blocks until ctx is done.
func feed(ids ...uint64) func(context.Context) (ReceiveStream, uint64, error) {
	ch := make(chan uint64, len(ids))
	for _, id := range ids {
		ch <- id
	}
	return func(ctx context.Context) (ReceiveStream, uint64, error) {
		select {
		case id := <-ch:
			return &fakeRecv{id}, id, nil
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

func acceptIDs(t *testing.T, o *uniOrderer, n int) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []uint64
	for i := 0; i < n; i++ {
		s, err := o.Accept(ctx)
		if err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		got = append(got, s.(*fakeRecv).id)
	}
	return got
}

func TestUniOrdererRestoresOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Client-initiated uni streams: 2 is the HTTP/3 control stream, so the
	// first WebTransport stream is 6.
	o := newUniOrderer(ctx, feed(18, 6, 14, 10, 22))
	got := acceptIDs(t, o, 5)
	want := []uint64{6, 10, 14, 18, 22}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestUniOrdererServerStreams(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := newUniOrderer(ctx, feed(11, 7, 15))
	got := acceptIDs(t, o, 3)
	if got[0] != 7 || got[1] != 11 || got[2] != 15 {
		t.Fatalf("order %v, want [7 11 15]", got)
	}
}

// A stream that never arrives (reset before its header was read) holds the
// later ones back only for a bounded time; the order of what arrives is kept.
func TestUniOrdererGapNeverFills(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := newUniOrderer(ctx, feed(6, 14, 18)) // 10 never comes
	got := acceptIDs(t, o, 3)
	if got[0] != 6 || got[1] != 14 || got[2] != 18 {
		t.Fatalf("order %v, want [6 14 18]", got)
	}
}

// A browser's first WebTransport stream is above 6 (its QPACK streams took
// 6 and 10): it is released after the first-gap bound.
func TestUniOrdererFirstStreamAboveBase(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := newUniOrderer(ctx, feed(14, 18))
	got := acceptIDs(t, o, 2)
	if got[0] != 14 || got[1] != 18 {
		t.Fatalf("order %v, want [14 18]", got)
	}
}

func TestUniOrdererEndsWithAcceptError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	o := newUniOrderer(ctx, feed())
	cancel()
	if _, err := o.Accept(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Accept after the connection ended: %v, want context.Canceled", err)
	}
}
