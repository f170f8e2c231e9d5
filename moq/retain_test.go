package moq

import (
	"testing"
	"time"
)

// Groups older than RetainAge are not replayed or fetched; younger ones are.
func TestRetainAge(t *testing.T) {
	tr := NewTrack(Namespace{"a"}, "t", TrackOptions{RetainGroups: 10, RetainAge: time.Minute})
	for i := 0; i < 3; i++ {
		if _, err := tr.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	tr.mu.Lock()
	tr.groups[0].born = time.Now().Add(-time.Hour) // group 0 began an hour ago
	tr.groups[1].born = time.Now().Add(-time.Hour)
	tr.mu.Unlock()
	got := tr.retainedRange(Location{}, Location{Group: 10})
	if len(got) != 1 || got[0].Group != 2 {
		t.Fatalf("retained %d objects, want only group 2", len(got))
	}
}

// A single object larger than RetainBytes is retained while its group is
// the newest; the next group pushes it out.
func TestRetainObjectLargerThanTheLimit(t *testing.T) {
	tr := NewTrack(Namespace{"a"}, "t", TrackOptions{RetainBytes: 1 << 20})
	big := make([]byte, 2<<20)
	if _, err := tr.Write(big); err != nil {
		t.Fatal(err)
	}
	if got := tr.retainedRange(Location{}, Location{Group: 10}); len(got) != 1 || len(got[0].Payload) != len(big) {
		t.Fatalf("retained %d objects, want the 2 MiB one", len(got))
	}
	if _, err := tr.Write([]byte("next")); err != nil {
		t.Fatal(err)
	}
	if got := tr.retainedRange(Location{}, Location{Group: 10}); len(got) != 1 || got[0].Group != 1 {
		t.Fatalf("retained %d objects, want only group 1", len(got))
	}
}
