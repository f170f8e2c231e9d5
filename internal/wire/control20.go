package wire

// Draft-20 control messages. The basis is the published -20 where
// moqtap's draft-20 vectors and codec show it (FETCH, FILL_PARAMETERS;
// docs/protocol.md lists each point and its evidence), else the working
// group's editor's copy of 2026-08-21 (commit e1ae858 of
// moq-wg/moq-transport, 67 commits after -19; see Draft20). The table is
// draft-18's (control18.go) with these changes, -19's and 20's; every
// other layout is draft-18's walk, run with the draft-20 binds (binds20)
// and parameter rules (params20.go):
//   - GOAWAY lost its Request ID (-19).
//   - PUBLISH_BLOCKED is renamed PUBLISH_SKIPPED (0x0F, same fields; -19).
//   - PUBLISH_STATE_NOTIFY (0x22) is new: parameters only.
//   - FETCH (published -20) has no Fetch Type and no joining fetch: Request
//     ID, Track Namespace, Track Name, parameters; the range is the
//     LOCATION_FILTER parameter (absent: {0,0} through the Largest
//     Object). A subscription asks for the objects before its start with
//     FILL_PARAMETERS instead (params20.go). The editor's copy kept the
//     Fetch Type and a joining fetch.
//   - FETCH_OK keeps its layout, but End Location is now the last object
//     covered (inclusive), no longer the last plus one.
//   - LOCATION_FILTER replaces the draft-18 SUBSCRIPTION_FILTER
//     (LocationFilter); Range Filters, INCLUDE_PROPERTIES,
//     FILL_PARAMETERS, new scopes.

var table20 = deriveTable(table18,
	renamed(table18, 0x0F, "PUBLISH_SKIPPED"),
	msg(0x10, "GOAWAY", func(w walker, m *GoAway) {
		w.str("new_session_uri", &m.NewSessionURI, MaxGoAwayURI)
		w.varint("timeout", &m.Timeout)
		if !w.reading() && m.HasRequestID {
			w.invalid("request_id", "draft-20 GOAWAY has no Request ID")
		}
	}),
	msg(0x16, "FETCH", func(w walker, m *Fetch) {
		w.varint("request_id", &m.RequestID)
		if w.reading() {
			m.FetchType = FetchStandalone
		} else if (m.FetchType != 0 && m.FetchType != FetchStandalone) || m.JoiningRequestID != 0 {
			w.invalid("fetch_type", "draft-20 FETCH has no Fetch Type and no joining fetch (Fetch Type %d, Joining Request ID %d)", m.FetchType, m.JoiningRequestID)
		}
		w.tuple("track_namespace", &m.Namespace, true)
		w.trackName(m.Namespace, &m.Name)
		if !w.reading() && (m.Start != Location{} || m.End != Location{} || m.JoiningStart != 0) {
			w.invalid("location_filter", "draft-20 FETCH carries its range in Location (LOCATION_FILTER), not Start / End / JoiningStart")
		}
		w.params(ctxMessage, &m.Params, m, nil)
	}),
	msg(0x22, "PUBLISH_STATE_NOTIFY", func(w walker, m *PublishStateNotify) {
		w.params(ctxMessage, &m.Params, m, nil)
	}),
)

// deriveTable is base with ls added, each replacing base's layout of the
// same type code.
func deriveTable(base *table, ls ...layout) *table {
	all := make([]layout, 0, len(base.byType)+len(ls))
	for typ, l := range base.byType {
		if !hasLayout(ls, typ) {
			all = append(all, *l)
		}
	}
	return newTable(append(all, ls...)...)
}

func hasLayout(ls []layout, typ uint64) bool {
	for _, l := range ls {
		if l.typ == typ {
			return true
		}
	}
	return false
}

// renamed is t's layout of type typ under another name.
func renamed(t *table, typ uint64, name string) layout {
	l := *t.byType[typ]
	l.name = name
	return l
}

// The draft-20 parameter and track-property binds, per message: draft-18's
// where nothing changed, LOCATION_FILTER as Location where 18 had
// SUBSCRIPTION_FILTER.
var (
	subscribeBinds20 = []pbind{
		bindForward(func(m *Subscribe) *bool { return &m.Forward }),
		bindPriority(func(m *Subscribe) *uint8 { return &m.SubscriberPriority }),
		bindLocation20(func(m *Subscribe) (*LocationFilter, *FilterType) { return &m.Location, &m.FilterType }),
		bindGroupOrder(GroupOrderPublisher, func(m *Subscribe) *uint8 { return &m.GroupOrder }),
		bindFill20(func(m *Subscribe) **FillParameters { return &m.Fill }),
	}
	trackStatusReqBinds20 = []pbind{
		bindLocation20(func(m *TrackStatusRequest) (*LocationFilter, *FilterType) { return &m.Location, &m.FilterType }),
	}
	updateBinds20 = []pbind{
		bindMask(UpdateForward, updateMask, bindForward(func(m *SubscribeUpdate) *bool { return &m.Forward })),
		bindMask(UpdatePriority, updateMask, bindPriority(func(m *SubscribeUpdate) *uint8 { return &m.SubscriberPriority })),
		bindMask(UpdateFilter, updateMask, bindLocation20(func(m *SubscribeUpdate) (*LocationFilter, *FilterType) {
			return &m.Location, &m.FilterType
		})),
		bindFill20(func(m *SubscribeUpdate) **FillParameters { return &m.Fill }),
	}
	fetchBinds20 = []pbind{
		bindPriority(func(m *Fetch) *uint8 { return &m.SubscriberPriority }),
		bindLocation20(func(m *Fetch) (*LocationFilter, *FilterType) { return &m.Location, nil }),
		bindGroupOrder(GroupOrderAscending, func(m *Fetch) *uint8 { return &m.GroupOrder }),
	}
	publishStateNotifyBinds20 = []pbind{
		bindLargest18(func(m *PublishStateNotify) (*bool, *Location) { return &m.ContentExists, &m.Largest }),
	}
)

// binds20 returns the draft-20 parameter and track-property binds of m's
// type (nil for messages without typed parameters).
func binds20(m Message) (params, ext []pbind) {
	switch m.(type) {
	case *Subscribe:
		return subscribeBinds20, nil
	case *TrackStatusRequest:
		return trackStatusReqBinds20, nil
	case *SubscribeUpdate:
		return updateBinds20, nil
	case *Fetch:
		return fetchBinds20, nil
	case *PublishStateNotify:
		return publishStateNotifyBinds20, nil
	}
	return binds18(m) // SUBSCRIBE_OK, PUBLISH, SUBSCRIBE_TRACKS: as in 18
}
