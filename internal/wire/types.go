package wire

import (
	"fmt"
	"strings"
)

// Draft selects a wire format: a MoQT draft and, for draft-07, the layout.
type Draft uint8

const (
	DraftUnknown Draft = iota
	// Draft07 is draft-ietf-moq-transport-07 as the specification writes it.
	Draft07
	// Draft07CF is draft-07 as Cloudflare's relay and moq-rs speak it: the
	// subgroup stream header carries the Subscribe ID before the Track Alias,
	// and datagrams have no type byte (SubscribeID TrackAlias Group Object
	// Priority Status Length Payload). Control messages are as in Draft07.
	Draft07CF
	// Draft14 is draft-ietf-moq-transport-14.
	Draft14
	// Draft16 is draft-ietf-moq-transport-16. Its version is negotiated by
	// ALPN ("moqt-16"), not in SETUP.
	Draft16
	// Draft18 is draft-ietf-moq-transport-18: a new wire generation (the
	// codec only; the engine does not speak it yet). Its version is
	// negotiated by ALPN ("moqt-18").
	Draft18
	// Draft20 is draft-ietf-moq-transport-20: the published -20 where
	// moqtap's draft-20 vectors and codec show it (FETCH without a Fetch
	// Type, FILL_PARAMETERS), else the working group's editor's copy of
	// 2026-08-21 (commit e1ae858 of moq-wg/moq-transport, 67 commits after
	// -19), the published text not being available here: the draft-18
	// wire generation with -19's and 20's changes (control20.go,
	// params20.go; docs/protocol.md). The codec only; negotiated by ALPN
	// ("moqt-20").
	Draft20
)

// Version numbers carried in CLIENT_SETUP / SERVER_SETUP.
const (
	Version07 uint64 = 0xff000007
	Version14 uint64 = 0xff00000e
	Version16 uint64 = 0xff000010
)

// ALPN returns the ALPN (and WebTransport protocol) value that selects d:
// "moqt-16" for draft-16, "moq-00" for the drafts that negotiate their
// version in SETUP (07 and 14).
func (d Draft) ALPN() string {
	switch d {
	case Draft16:
		return "moqt-16"
	case Draft18:
		return "moqt-18"
	case Draft20:
		return "moqt-20"
	}
	return "moq-00"
}

// VersionInSetup reports whether d carries its version in CLIENT_SETUP /
// SERVER_SETUP (drafts before 15) rather than negotiating it by ALPN.
func (d Draft) VersionInSetup() bool { return d != Draft16 && !d.vi64() }

// vi64 reports whether d is of the draft-18 wire generation (18 and 20):
// the vi64 varint (varint18.go), SETUP on a pair of control streams, one
// bidirectional stream per request, draft-18 data streams.
func (d Draft) vi64() bool { return d == Draft18 || d == Draft20 }

// Version returns the SETUP version number of d.
func (d Draft) Version() uint64 {
	switch d {
	case Draft07, Draft07CF:
		return Version07
	case Draft14:
		return Version14
	case Draft16:
		return Version16
	}
	return 0
}

// Is07 reports whether d is a draft-07 layout.
func (d Draft) Is07() bool { return d == Draft07 || d == Draft07CF }

func (d Draft) String() string {
	switch d {
	case Draft07:
		return "07"
	case Draft07CF:
		return "07cf"
	case Draft14:
		return "14"
	case Draft16:
		return "16"
	case Draft18:
		return "18"
	case Draft20:
		return "20"
	}
	return fmt.Sprintf("draft(%d)", uint8(d))
}

// ParseDraft parses "07", "07cf", "14", "16", "18" or "20" (also "draft-07", "draft-14", ...).
func ParseDraft(s string) (Draft, error) {
	switch strings.TrimPrefix(strings.ToLower(s), "draft-") {
	case "07", "7":
		return Draft07, nil
	case "07cf", "7cf", "07-cf", "cf":
		return Draft07CF, nil
	case "14":
		return Draft14, nil
	case "16":
		return Draft16, nil
	case "18":
		return Draft18, nil
	case "20":
		return Draft20, nil
	}
	return DraftUnknown, fmt.Errorf("unknown draft %q (want 07, 07cf, 14, 16, 18 or 20)", s)
}

// Tuple is a track namespace (or namespace prefix): an ordered list of byte
// strings, held as Go strings so that tuples and their fields can be compared
// and used in map keys.
type Tuple []string

func (t Tuple) byteLen() int {
	n := 0
	for _, f := range t {
		n += len(f)
	}
	return n
}

// Equal reports whether t and u have the same fields.
func (t Tuple) Equal(u Tuple) bool {
	if len(t) != len(u) {
		return false
	}
	for i := range t {
		if t[i] != u[i] {
			return false
		}
	}
	return true
}

// HasPrefix reports whether p is a field-by-field prefix of t.
func (t Tuple) HasPrefix(p Tuple) bool {
	return len(p) <= len(t) && t[:len(p)].Equal(p)
}

// Key returns a string usable as a map key that identifies t exactly.
func (t Tuple) Key() string {
	var b []byte
	for _, f := range t {
		b = AppendVarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return string(b)
}

// String joins the fields with "/" (for logs; not reversible if a field
// contains "/").
func (t Tuple) String() string { return strings.Join(t, "/") }

// Location is a (group, object) position in a track.
type Location struct {
	Group  uint64
	Object uint64
}

// Less reports whether l comes before m.
func (l Location) Less(m Location) bool {
	return l.Group < m.Group || (l.Group == m.Group && l.Object < m.Object)
}

// GroupOrder values in SUBSCRIBE, SUBSCRIBE_OK, FETCH, FETCH_OK, PUBLISH.
const (
	GroupOrderPublisher  uint8 = 0 // requests only: use the publisher's order
	GroupOrderAscending  uint8 = 1
	GroupOrderDescending uint8 = 2
)

// FilterType values. The codes are the same in both drafts; their meanings
// differ slightly (see the constants).
type FilterType uint64

const (
	// FilterLatestGroup (07) / FilterNextGroupStart (14): code 0x1.
	FilterLatestGroup    FilterType = 0x1
	FilterNextGroupStart FilterType = 0x1
	// FilterLatestObject (07) / FilterLargestObject (14): code 0x2.
	FilterLatestObject  FilterType = 0x2
	FilterLargestObject FilterType = 0x2
	FilterAbsoluteStart FilterType = 0x3
	FilterAbsoluteRange FilterType = 0x4
)

// FetchType values (draft-14; draft-07 FETCH is always standalone).
const (
	FetchStandalone      uint64 = 0x1
	FetchRelativeJoining uint64 = 0x2
	FetchAbsoluteJoining uint64 = 0x3
)

// ObjectStatus is an object's status code.
type ObjectStatus uint64

const (
	StatusNormal       ObjectStatus = 0x0
	StatusDoesNotExist ObjectStatus = 0x1
	StatusEndOfGroup   ObjectStatus = 0x3
	// StatusEndOfTrack is "End of Track" in 14, "End of Track and Group" in 07.
	StatusEndOfTrack ObjectStatus = 0x4
	// StatusEndOfSubgroup exists only in draft-07.
	StatusEndOfSubgroup ObjectStatus = 0x5
)

// ValidStatus reports whether s is an object status defined in draft d.
func ValidStatus(d Draft, s ObjectStatus) bool {
	switch s {
	case StatusNormal, StatusEndOfGroup, StatusEndOfTrack:
		return true
	case StatusDoesNotExist:
		return d != Draft16 && !d.vi64() // draft-16 dropped it
	case StatusEndOfSubgroup:
		return d.Is07()
	}
	return false
}
