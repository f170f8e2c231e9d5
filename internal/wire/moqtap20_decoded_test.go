package wire

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestMoqtapVectors20Decoded checks the meaning, not only the bytes, of
// moqtap's draft-20 vectors where the published -20 differs from the
// editor's copy (FETCH without a Fetch Type, FILL_PARAMETERS): each
// expected message below is the vector's "decoded" JSON form (moqtap/
// test-vectors transport/draft20/codec/messages/fetch.json @77e8331c,
// subscribe.json @23ceff14, request-update.json @77e8331c) written as the
// typed message, with the draft's defaults for what the vector leaves out
// (FETCH: priority 128, Ascending; SUBSCRIBE: priority 128, Forward).
func TestMoqtapVectors20Decoded(t *testing.T) {
	live, video := Tuple{"live"}, "video"
	fetch := func(loc LocationFilter, ps ...Param) *Fetch {
		f := &Fetch{RequestID: 2, FetchType: FetchStandalone, Namespace: live, Name: video, SubscriberPriority: 128,
			GroupOrder: GroupOrderAscending, Location: loc}
		if len(ps) > 0 {
			f.Params = ps
		}
		return f
	}
	lfParam := func(b ...byte) Param { return BytesParam(Param20LocationFilter, b) }
	fillParam := func(b ...byte) Param { return BytesParam(Param20FillParameters, b) }
	sub := func(fill *FillParameters, ps ...Param) *Subscribe {
		return &Subscribe{RequestID: 1, Namespace: live, Name: video, SubscriberPriority: 128, Forward: true, Fill: fill, Params: ps}
	}
	want := map[string]Message{
		"fetch.json/minimal": fetch(LocationFilter{}),
		"fetch.json/multi-namespace": &Fetch{RequestID: 4, FetchType: FetchStandalone, Namespace: Tuple{"conference", "room42"},
			Name: "audio", SubscriberPriority: 128, GroupOrder: GroupOrderAscending},
		"fetch.json/with-filter-relative-next-group":        fetch(LocationFilter{Fields: 1}, lfParam(0)),
		"fetch.json/with-filter-relative-three-groups-back": fetch(LocationFilter{Fields: 1, StartGroup: 3}, lfParam(3)),
		"fetch.json/with-filter-next-object":                fetch(LocationFilter{Fields: 2}, lfParam(0, 0)),
		"fetch.json/with-filter-absolute-start":             fetch(LocationFilter{Fields: 2, StartGroup: 10, StartObject: 3}, lfParam(10, 3)),
		"fetch.json/with-filter-end-group": fetch(LocationFilter{Fields: 3, StartGroup: 10, StartObject: 3, EndGroup: 15},
			lfParam(10, 3, 5)),
		"fetch.json/with-filter-full-range": fetch(LocationFilter{Fields: 4, StartGroup: 10, StartObject: 3, EndGroup: 15, EndObject: 7},
			lfParam(10, 3, 5, 7)),
		"fetch.json/with-filter-noncanonical-field-count": fetch(LocationFilter{Fields: 2, StartGroup: 10, StartObject: 3},
			lfParam(0x80, 0x0a, 3)),
		"fetch.json/with-fill-timeout":            fetch(LocationFilter{}, IntParam(Param18FillTimeout, 5000)),
		"fetch.json/with-fill-timeout-zero":       fetch(LocationFilter{}, IntParam(Param18FillTimeout, 0)),
		"fetch.json/with-include-properties-zero": fetch(LocationFilter{}, IntParam(Param20IncludeProperties, 0)),
		"fetch.json/with-auth-token": fetch(LocationFilter{},
			BytesParam(Param18AuthorizationToken, append([]byte{3, 0}, "fetch-token"...))),
		"fetch.json/with-objectid-filter": fetch(LocationFilter{}, BytesParam(Param20ObjectIDFilter, []byte{0, 2, 3})),
		"fetch.json/with-priority-filter": fetch(LocationFilter{}, BytesParam(Param20PriorityFilter, []byte{0, 0, 63})),

		"subscribe.json/with-fill-parameters-empty": sub(&FillParameters{}, fillParam(0)),
		"subscribe.json/with-fill-parameters-location-filter": sub(&FillParameters{Location: LocationFilter{Fields: 2, StartGroup: 100},
			Params: Params{lfParam(100, 0)}}, fillParam(1, 0x21, 2, 100, 0)),
		"subscribe.json/with-fill-parameters-then-outer-param": sub(&FillParameters{
			Params: Params{IntParam(Param18SubscriberPriority, 64), IntParam(Param18GroupOrder, 1)}},
			fillParam(2, 0x20, 64, 2, 1), IntParam(Param18NewGroupRequest, 25)),

		"request-update.json/with-fill-parameters-empty": &SubscribeUpdate{RequestID: 1, Fill: &FillParameters{},
			Params: Params{fillParam(0)}},
		"request-update.json/with-fill-parameters-location-filter": &SubscribeUpdate{RequestID: 1, Fill: &FillParameters{
			Location: LocationFilter{Fields: 3, StartGroup: 3, EndGroup: 5},
			Params:   Params{IntParam(Param18FillTimeout, 0), lfParam(3, 0, 2)}},
			Params: Params{fillParam(2, 0x0a, 0, 0x17, 3, 3, 0, 2)}},
	}
	// Priority, order and several parameters at once.
	m := fetch(LocationFilter{Fields: 4, StartGroup: 4, EndGroup: 6, EndObject: 9},
		IntParam(Param18SubscriberPriority, 16), lfParam(4, 0, 2, 9), IntParam(Param18GroupOrder, 1))
	m.SubscriberPriority = 16
	want["fetch.json/with-multiple-params"] = m
	m = fetch(LocationFilter{}, IntParam(Param18SubscriberPriority, 16))
	m.SubscriberPriority = 16
	want["fetch.json/with-subscriber-priority"] = m
	m = fetch(LocationFilter{}, IntParam(Param18GroupOrder, 2))
	m.GroupOrder = GroupOrderDescending
	want["fetch.json/with-group-order"] = m

	// The range filters' decoded values.
	ranges := map[string]RangeFilter{
		"fetch.json/with-objectid-filter": {Key: Param20ObjectIDFilter, Ranges: []Range{{2, 5}}},
		"fetch.json/with-priority-filter": {Key: Param20PriorityFilter, Ranges: []Range{{0, 63}}},
	}
	// The error vectors: refused, and for the vector's reason.
	refused := map[string]string{
		"subscribe.json/fill-parameters-invalid-nested-param": "parameter 0x29 may not appear in FILL_PARAMETERS",
		"fetch.json/fill-parameters-out-of-scope":             "parameter 0x23 may not appear",
		"fetch.json/location-filter-five-fields":              "more than four fields",
		"fetch.json/location-filter-varint-overruns-length":   "runs past the parameter",
		"fetch.json/location-filter-end-group-overflow":       "passes 2^64-1",
		"fetch.json/include-properties-invalid-value":         "is not 0 or 1",
		"fetch.json/truncated":                                "",
	}

	checked := 0
	for _, v := range loadMoqtapTSV(t, "draft20") {
		key := v.file + "/" + v.id
		if sub, ok := refused[key]; ok {
			checked++
			_, _, err := ParseMessage(v.b, Draft20, nil)
			switch {
			case sub == "" && !errors.Is(err, ErrNeedMore):
				t.Errorf("%s: %v, want ErrNeedMore", key, err)
			case sub != "" && (err == nil || !strings.Contains(err.Error(), sub)):
				t.Errorf("%s: %v, want an error saying %q", key, err, sub)
			}
			continue
		}
		w, ok := want[key]
		if !ok {
			if v.file == "fetch.json" || strings.Contains(v.id, "fill-parameters") {
				t.Errorf("%s: no decoded form to check", key)
			}
			continue
		}
		checked++
		got, _, err := ParseMessage(v.b, Draft20, nil)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", key, got, w)
		}
		if rf, ok := ranges[key]; ok {
			ps := *paramsOf(got)
			back, err := ParseRangeFilter20(rf.Key, ps[0].Bytes)
			if err != nil || !reflect.DeepEqual(back, rf) {
				t.Errorf("%s: range filter %+v %v, want %+v", key, back, err, rf)
			}
		}
	}
	if n := len(want) + len(refused); checked != n {
		t.Errorf("checked %d vectors, want %d (a vector is missing from the extract)", checked, n)
	}
}
