package moq

import "testing"

// TestClientSubscriptionSkipsOnlyTheReplay: after a lost session, objects
// up to the last delivered one in its group are skipped until a newer one
// comes; from then on (and after a track ended) nothing is skipped.
func TestClientSubscriptionSkipsOnlyTheReplay(t *testing.T) {
	cs := &ClientSubscription{}
	for id := uint64(0); id <= 5; id++ {
		if !cs.accept(&Object{Group: 7, ID: id}) {
			t.Fatalf("first delivery of (7,%d) skipped", id)
		}
	}
	cs.dedup = true // as retire does after a lost session
	for id := uint64(0); id <= 5; id++ {
		if cs.accept(&Object{Group: 7, ID: id}) {
			t.Fatalf("replayed (7,%d) delivered twice", id)
		}
	}
	if !cs.accept(&Object{Group: 7, ID: 6}) {
		t.Fatal("(7,6) after the replay skipped")
	}
	// Past the replay: a publisher starting over is followed.
	if !cs.accept(&Object{Group: 0, ID: 0}) {
		t.Fatal("(0,0) from a restarted publisher skipped")
	}
	if st := cs.Stats(); st.Objects != 8 || st.Latest != (Location{Group: 7, Object: 6}) {
		t.Fatalf("stats %+v", st)
	}
}
