package wirejson

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// MessageTypeKey is the member that names a control message's type in its
// JSON form, e.g. "message_type": "subscribe". The names are those of the
// moqtap vector files and differ between drafts where the message was
// renamed ("announce" in draft-07 is "publish_namespace" in draft-14).
const MessageTypeKey = "message_type"

// msgDef describes one control message: its JSON names per draft ("" where
// the draft lacks it) and the walk over its fields.
type msgDef struct {
	name07, name14 string
	new            func() wire.Message
	visit          func(v *visitor, d wire.Draft, m wire.Message)
}

func (def *msgDef) name(d wire.Draft) string {
	if d.Is07() {
		return def.name07
	}
	return def.name14
}

// idName is the name of the request-correlation field: draft-07's Subscribe
// ID or draft-14's Request ID.
func idName(d wire.Draft) string {
	if d.Is07() {
		return "subscribe_id"
	}
	return "request_id"
}

var msgDefs = []*msgDef{
	{"client_setup", "client_setup", func() wire.Message { return &wire.ClientSetup{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.ClientSetup)
			v.versions("supported_versions", &x.Versions)
			v.params("parameters", true, &x.Params)
		}},
	{"server_setup", "server_setup", func() wire.Message { return &wire.ServerSetup{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.ServerSetup)
			v.u64("selected_version", &x.Version)
			v.params("parameters", true, &x.Params)
		}},
	{"goaway", "goaway", func() wire.Message { return &wire.GoAway{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			v.str("new_session_uri", &m.(*wire.GoAway).NewSessionURI)
		}},
	{"max_subscribe_id", "max_request_id", func() wire.Message { return &wire.MaxRequestID{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			v.u64(idName(d), &m.(*wire.MaxRequestID).RequestID)
		}},
	{"", "requests_blocked", func() wire.Message { return &wire.RequestsBlocked{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			// The vectors call the Maximum Request ID field "request_id".
			v.u64("request_id", &m.(*wire.RequestsBlocked).MaximumRequestID)
		}},
	{"subscribe", "subscribe", func() wire.Message { return &wire.Subscribe{} },
		func(v *visitor, d wire.Draft, m wire.Message) { visitSubscribe(v, d, m.(*wire.Subscribe)) }},
	{"subscribe_ok", "subscribe_ok", func() wire.Message { return &wire.SubscribeOK{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.SubscribeOK)
			v.u64(idName(d), &x.RequestID)
			if !d.Is07() {
				v.u64("track_alias", &x.TrackAlias)
			}
			v.u64("expires", &x.Expires)
			v.u8("group_order", &x.GroupOrder)
			v.flag("content_exists", &x.ContentExists)
			if x.ContentExists {
				largest(v, d, &x.Largest)
			}
			v.params("parameters", false, &x.Params)
		}},
	{"subscribe_error", "subscribe_error", func() wire.Message { return &wire.SubscribeError{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.SubscribeError)
			v.u64(idName(d), &x.RequestID)
			v.u64("error_code", &x.ErrorCode)
			v.str("reason_phrase", &x.Reason)
			if d.Is07() {
				v.u64("track_alias", &x.TrackAlias)
			}
		}},
	{"subscribe_update", "subscribe_update", func() wire.Message { return &wire.SubscribeUpdate{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.SubscribeUpdate)
			v.u64(idName(d), &x.RequestID)
			if !d.Is07() {
				v.u64("subscription_request_id", &x.SubscriptionRequestID)
			}
			v.u64("start_group", &x.Start.Group)
			v.u64("start_object", &x.Start.Object)
			v.u64("end_group", &x.EndGroup)
			if d.Is07() {
				v.u64("end_object", &x.EndObject)
			}
			v.u8("subscriber_priority", &x.SubscriberPriority)
			if !d.Is07() {
				v.flag("forward", &x.Forward)
			}
			v.params("parameters", false, &x.Params)
		}},
	{"unsubscribe", "unsubscribe", func() wire.Message { return &wire.Unsubscribe{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			v.u64(idName(d), &m.(*wire.Unsubscribe).RequestID)
		}},
	{"subscribe_done", "publish_done", func() wire.Message { return &wire.PublishDone{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.PublishDone)
			v.u64(idName(d), &x.RequestID)
			v.u64("status_code", &x.StatusCode)
			if !d.Is07() {
				v.u64("stream_count", &x.StreamCount)
			}
			v.str("reason_phrase", &x.Reason)
			if d.Is07() {
				v.flag("content_exists", &x.ContentExists)
				if x.ContentExists {
					v.u64("final_group", &x.Final.Group)
					v.u64("final_object", &x.Final.Object)
				}
			}
		}},
	{"", "publish", func() wire.Message { return &wire.Publish{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.Publish)
			v.u64("request_id", &x.RequestID)
			v.tuple("track_namespace", &x.Namespace)
			v.str("track_name", &x.Name)
			v.u64("track_alias", &x.TrackAlias)
			v.u8("group_order", &x.GroupOrder)
			v.flag("content_exists", &x.ContentExists)
			if x.ContentExists {
				v.loc("largest_location", &x.Largest)
			}
			v.flag("forward", &x.Forward)
			v.params("parameters", false, &x.Params)
		}},
	{"", "publish_ok", func() wire.Message { return &wire.PublishOK{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.PublishOK)
			v.u64("request_id", &x.RequestID)
			v.flag("forward", &x.Forward)
			v.u8("subscriber_priority", &x.SubscriberPriority)
			v.u8("group_order", &x.GroupOrder)
			filter(v, d, &x.FilterType, &x.Start, &x.EndGroup, nil)
			v.params("parameters", false, &x.Params)
		}},
	{"", "publish_error", func() wire.Message { return &wire.PublishError{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.PublishError)
			requestError(v, d, &x.RequestID, &x.ErrorCode, &x.Reason)
		}},
	{"fetch", "fetch", func() wire.Message { return &wire.Fetch{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.Fetch)
			v.u64(idName(d), &x.RequestID)
			if d.Is07() { // draft-07 FETCH is always standalone; the track comes first
				visitStandalone(v, x)
			}
			v.u8("subscriber_priority", &x.SubscriberPriority)
			v.u8("group_order", &x.GroupOrder)
			if !d.Is07() {
				v.u64("fetch_type", &x.FetchType)
			}
			switch {
			case d.Is07() || x.FetchType == wire.FetchStandalone:
				if !d.Is07() {
					visitStandalone(v, x)
				}
				v.u64("start_group", &x.Start.Group)
				v.u64("start_object", &x.Start.Object)
				v.u64("end_group", &x.End.Group)
				v.u64("end_object", &x.End.Object)
			case x.FetchType == wire.FetchRelativeJoining || x.FetchType == wire.FetchAbsoluteJoining:
				v.u64("joining_request_id", &x.JoiningRequestID)
				v.u64("joining_start", &x.JoiningStart)
			}
			v.params("parameters", false, &x.Params)
		}},
	{"fetch_cancel", "fetch_cancel", func() wire.Message { return &wire.FetchCancel{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			v.u64(idName(d), &m.(*wire.FetchCancel).RequestID)
		}},
	{"fetch_ok", "fetch_ok", func() wire.Message { return &wire.FetchOK{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.FetchOK)
			v.u64(idName(d), &x.RequestID)
			v.u8("group_order", &x.GroupOrder)
			v.flag("end_of_track", &x.EndOfTrack)
			if d.Is07() {
				v.u64("largest_group_id", &x.End.Group)
				v.u64("largest_object_id", &x.End.Object)
			} else {
				v.loc("end_location", &x.End)
			}
			v.params("parameters", false, &x.Params)
		}},
	{"fetch_error", "fetch_error", func() wire.Message { return &wire.FetchError{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.FetchError)
			requestError(v, d, &x.RequestID, &x.ErrorCode, &x.Reason)
		}},
	{"announce", "publish_namespace", func() wire.Message { return &wire.PublishNamespace{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.PublishNamespace)
			if !d.Is07() {
				v.u64("request_id", &x.RequestID)
			}
			v.tuple("track_namespace", &x.Namespace)
			v.params("parameters", false, &x.Params)
		}},
	{"announce_ok", "publish_namespace_ok", func() wire.Message { return &wire.PublishNamespaceOK{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.PublishNamespaceOK)
			if d.Is07() {
				v.tuple("track_namespace", &x.Namespace)
				return
			}
			v.u64("request_id", &x.RequestID)
			v.params("parameters", false, &x.Params)
		}},
	{"announce_error", "publish_namespace_error", func() wire.Message { return &wire.PublishNamespaceError{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.PublishNamespaceError)
			if d.Is07() {
				v.tuple("track_namespace", &x.Namespace)
				v.u64("error_code", &x.ErrorCode)
				v.str("reason_phrase", &x.Reason)
				return
			}
			requestError(v, d, &x.RequestID, &x.ErrorCode, &x.Reason)
		}},
	{"unannounce", "publish_namespace_done", func() wire.Message { return &wire.PublishNamespaceDone{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			v.tuple("track_namespace", &m.(*wire.PublishNamespaceDone).Namespace)
		}},
	{"announce_cancel", "publish_namespace_cancel", func() wire.Message { return &wire.PublishNamespaceCancel{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.PublishNamespaceCancel)
			v.tuple("track_namespace", &x.Namespace)
			v.u64("error_code", &x.ErrorCode)
			v.str("reason_phrase", &x.Reason)
		}},
	{"track_status_request", "track_status", func() wire.Message { return &wire.TrackStatusRequest{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := (*wire.Subscribe)(m.(*wire.TrackStatusRequest))
			if d.Is07() {
				v.tuple("track_namespace", &x.Namespace)
				v.str("track_name", &x.Name)
				return
			}
			visitSubscribe(v, d, x)
		}},
	{"track_status", "track_status_ok", func() wire.Message { return &wire.TrackStatus{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.TrackStatus)
			if d.Is07() {
				v.tuple("track_namespace", &x.Namespace)
				v.str("track_name", &x.Name)
				v.u64("status_code", &x.StatusCode)
				v.u64("last_group_id", &x.Largest.Group)
				v.u64("last_object_id", &x.Largest.Object)
				return
			}
			v.u64("request_id", &x.RequestID)
			v.u64("track_alias", &x.TrackAlias)
			v.u64("expires", &x.Expires)
			v.u8("group_order", &x.GroupOrder)
			v.flag("content_exists", &x.ContentExists)
			if x.ContentExists {
				v.loc("largest_location", &x.Largest)
			}
			v.params("parameters", false, &x.Params)
		}},
	{"", "track_status_error", func() wire.Message { return &wire.TrackStatusError{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.TrackStatusError)
			requestError(v, d, &x.RequestID, &x.ErrorCode, &x.Reason)
		}},
	{"subscribe_announces", "subscribe_namespace", func() wire.Message { return &wire.SubscribeNamespace{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.SubscribeNamespace)
			if d.Is07() {
				v.tuple("track_namespace_prefix", &x.Prefix)
			} else {
				v.u64("request_id", &x.RequestID)
				// The draft-14 vectors call this field "namespace_prefix"
				// (but "track_namespace_prefix" in UNSUBSCRIBE_NAMESPACE).
				v.tuple("namespace_prefix", &x.Prefix)
			}
			v.params("parameters", false, &x.Params)
		}},
	{"subscribe_announces_ok", "subscribe_namespace_ok", func() wire.Message { return &wire.SubscribeNamespaceOK{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.SubscribeNamespaceOK)
			if d.Is07() {
				v.tuple("track_namespace_prefix", &x.Prefix)
				return
			}
			v.u64("request_id", &x.RequestID)
			v.params("parameters", false, &x.Params)
		}},
	{"subscribe_announces_error", "subscribe_namespace_error", func() wire.Message { return &wire.SubscribeNamespaceError{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			x := m.(*wire.SubscribeNamespaceError)
			if d.Is07() {
				v.tuple("track_namespace_prefix", &x.Prefix)
				v.u64("error_code", &x.ErrorCode)
				v.str("reason_phrase", &x.Reason)
				return
			}
			requestError(v, d, &x.RequestID, &x.ErrorCode, &x.Reason)
		}},
	{"unsubscribe_announces", "unsubscribe_namespace", func() wire.Message { return &wire.UnsubscribeNamespace{} },
		func(v *visitor, d wire.Draft, m wire.Message) {
			v.tuple("track_namespace_prefix", &m.(*wire.UnsubscribeNamespace).Prefix)
		}},
}

// defsFor returns the message definitions of d: draft-16 has its own
// table, 07 and 14 share one.
func defsFor(d wire.Draft) []*msgDef {
	if d == wire.Draft16 {
		return msgDefs16
	}
	return msgDefs
}

func byType(defs []*msgDef) map[reflect.Type]*msgDef {
	m := make(map[reflect.Type]*msgDef, len(defs))
	for _, def := range defs {
		m[reflect.TypeOf(def.new())] = def
	}
	return m
}

var defByType14, defByType16 = byType(msgDefs), byType(msgDefs16)

// defByType returns the definition of m's type in d, or nil.
func defByType(d wire.Draft, m wire.Message) *msgDef {
	if d == wire.Draft16 {
		return defByType16[reflect.TypeOf(m)]
	}
	return defByType14[reflect.TypeOf(m)]
}

func defByName(d wire.Draft, name string) *msgDef {
	for _, def := range defsFor(d) {
		if n := def.name(d); n != "" && n == name {
			return def
		}
	}
	return nil
}

// MessageNames returns the JSON message type names of draft d, in no
// particular order.
func MessageNames(d wire.Draft) []string {
	var names []string
	for _, def := range defsFor(d) {
		if n := def.name(d); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func visitSubscribe(v *visitor, d wire.Draft, x *wire.Subscribe) {
	v.u64(idName(d), &x.RequestID)
	if d.Is07() {
		v.u64("track_alias", &x.TrackAlias)
	}
	v.tuple("track_namespace", &x.Namespace)
	v.str("track_name", &x.Name)
	v.u8("subscriber_priority", &x.SubscriberPriority)
	v.u8("group_order", &x.GroupOrder)
	if !d.Is07() {
		v.flag("forward", &x.Forward)
	}
	endObject := &x.EndObject
	if !d.Is07() {
		endObject = nil
	}
	filter(v, d, &x.FilterType, &x.Start, &x.EndGroup, endObject)
	v.params("parameters", false, &x.Params)
}

// filter visits a filter type and the start and end fields it implies.
// endObject is nil where the draft has no end object.
func filter(v *visitor, d wire.Draft, ft *wire.FilterType, start *wire.Location, endGroup, endObject *uint64) {
	n := uint64(*ft)
	v.u64("filter_type", &n)
	*ft = wire.FilterType(n)
	if *ft == wire.FilterAbsoluteStart || *ft == wire.FilterAbsoluteRange {
		v.u64("start_group", &start.Group)
		v.u64("start_object", &start.Object)
	}
	if *ft == wire.FilterAbsoluteRange {
		v.u64("end_group", endGroup)
		if endObject != nil {
			v.u64("end_object", endObject)
		}
	}
}

// largest visits the Largest Location of SUBSCRIBE_OK.
func largest(v *visitor, d wire.Draft, l *wire.Location) {
	if d.Is07() {
		v.u64("largest_group_id", &l.Group)
		v.u64("largest_object_id", &l.Object)
		return
	}
	v.loc("largest_location", l)
}

func visitStandalone(v *visitor, x *wire.Fetch) {
	v.tuple("track_namespace", &x.Namespace)
	v.str("track_name", &x.Name)
}

func requestError(v *visitor, d wire.Draft, id, code *uint64, reason *string) {
	v.u64(idName(d), id)
	v.u64("error_code", code)
	v.str("reason_phrase", reason)
}

func checkDraft(d wire.Draft) error {
	if d != wire.Draft07 && d != wire.Draft07CF && d != wire.Draft14 && d != wire.Draft16 {
		return fmt.Errorf("unsupported draft %v", d)
	}
	return nil
}

// messageObject converts m to its ordered JSON object, with message_type
// first.
func messageObject(d wire.Draft, m wire.Message) (*object, error) {
	if err := checkDraft(d); err != nil {
		return nil, &Error{Op: "decode", Unit: "control message", Detail: err.Error()}
	}
	if m == nil || reflect.ValueOf(m).IsNil() {
		return nil, &Error{Op: "decode", Unit: "control message", Detail: fmt.Sprintf("%T is not a control message", m)}
	}
	def := defByType(d, m)
	if def == nil && defByType(wire.Draft14, m) == nil && defByType(wire.Draft16, m) == nil {
		return nil, &Error{Op: "decode", Unit: "control message", Detail: fmt.Sprintf("%T is not a control message", m)}
	}
	if def == nil || def.name(d) == "" {
		return nil, &Error{Op: "decode", Unit: fmt.Sprintf("%T", m), Detail: fmt.Sprintf("the message does not exist in draft %s", d)}
	}
	name := def.name(d)
	if d == wire.Draft16 {
		// Show the wire: the typed fields that draft-16 carries as
		// parameters are merged into the parameter lists by encoding.
		b, err := wire.AppendMessage(nil, d, m)
		if err != nil {
			return nil, wrapErr("decode", strings.ToUpper(name), err)
		}
		if m, _, err = wire.ParseMessage(b, d, showLimits); err != nil {
			return nil, wrapErr("decode", strings.ToUpper(name), err)
		}
	}
	v := newWriter(d)
	v.out.add(MessageTypeKey, name)
	def.visit(v, d, m)
	return v.out, nil
}

// MessageToJSON returns the JSON form of control message m in draft d: a
// compact object whose first member is "message_type" and whose other
// members are the message's fields in wire order. It fails only if m does
// not exist in d.
func MessageToJSON(d wire.Draft, m wire.Message) ([]byte, error) {
	o, err := messageObject(d, m)
	if err != nil {
		return nil, err
	}
	return marshal(o), nil
}

// MessageFromJSON builds a control message of draft d from its JSON form.
// msgType names the message ("subscribe", ...); if it is empty the JSON's
// "message_type" member names it, and if both are given they must agree.
// Members the message does not have (in d, given its other fields: a start
// location with a filter type that has none, say) are errors.
func MessageFromJSON(d wire.Draft, msgType string, data []byte) (wire.Message, error) {
	fail := func(unit, field, format string, args ...any) error {
		return &Error{Op: "encode", Unit: unit, Field: field, Detail: fmt.Sprintf(format, args...)}
	}
	if err := checkDraft(d); err != nil {
		return nil, fail("control message", "", "%v", err)
	}
	tree, err := parseJSON(data)
	if err != nil {
		return nil, fail("control message", "", "%v", err)
	}
	o, ok := tree.(*object)
	if !ok {
		return nil, fail("control message", "", "want a JSON object, got %s", describe(tree))
	}
	name := strings.ToLower(msgType)
	if x, ok := o.get(MessageTypeKey); ok {
		s, isStr := x.(string)
		if !isStr {
			return nil, fail("control message", MessageTypeKey, "want a string, got %s", describe(x))
		}
		s = strings.ToLower(s)
		if name != "" && name != s {
			return nil, fail("control message", MessageTypeKey, "is %q but %q was asked for", s, name)
		}
		name = s
	}
	if name == "" {
		return nil, fail("control message", MessageTypeKey, "missing")
	}
	def := defByName(d, name)
	if def == nil {
		return nil, fail("control message", MessageTypeKey, "%q is not a draft-%s control message", name, d)
	}
	unit := strings.ToUpper(name)
	m := def.new()
	v := newReader(d, o, "")
	v.skip(MessageTypeKey)
	if v.err == nil {
		def.visit(v, d, m)
	}
	if err := v.finish(); err != nil {
		e := wrapErr("encode", unit, err)
		e.Op, e.Unit = "encode", unit
		return nil, e
	}
	if err := wire.ApplyParams(d, m); err != nil {
		return nil, wrapErr("encode", unit, err)
	}
	return m, nil
}

// showLimits are the codec limits for showing what a peer sent: the
// defaults, but draft-16 message parameters the codec does not know are
// kept (and shown under "unknown") rather than rejected as a session would.
var showLimits = &wire.Limits{AllowUnknownParams: true}

// EncodeMessage converts the JSON form of a control message (which must name
// its type in "message_type") to its wire bytes in draft d.
func EncodeMessage(d wire.Draft, data []byte) ([]byte, error) {
	m, err := MessageFromJSON(d, "", data)
	if err != nil {
		return nil, err
	}
	b, err := wire.AppendMessage(nil, d, m)
	if err != nil {
		return nil, wrapErr("encode", unitName(d, m), err)
	}
	return b, nil
}

// DecodeMessage converts exactly one whole control message (type, length
// and payload) to its JSON form, as MessageToJSON. Because the input is
// taken to be complete, a message cut short is an *Error of kind
// "truncated" naming the field where the input ends (its Err is
// wire.ErrNeedMore); bytes after the message are an error too.
func DecodeMessage(d wire.Draft, b []byte) ([]byte, error) {
	if err := checkDraft(d); err != nil {
		return nil, &Error{Op: "decode", Unit: "control message", Detail: err.Error()}
	}
	m, n, err := wire.ParseMessage(b, d, showLimits)
	if errors.Is(err, wire.ErrNeedMore) {
		return nil, diagnoseControl(d, b)
	}
	if err != nil {
		return nil, wrapErr("decode", "control message", err)
	}
	if n != len(b) {
		return nil, &Error{Op: "decode", Unit: unitName(d, m), Kind: wire.KindLengthMismatch.String(),
			Detail: fmt.Sprintf("%d bytes follow the end of the message (give one message)", len(b)-n)}
	}
	return MessageToJSON(d, m)
}

// unitName is the upper-case name of m in draft d, e.g. "SUBSCRIBE".
func unitName(d wire.Draft, m wire.Message) string {
	if def := defByType(d, m); def != nil && def.name(d) != "" {
		return strings.ToUpper(def.name(d))
	}
	return "control message"
}

// typeName returns the upper-case name of control message type t in d.
func typeName(d wire.Draft, t uint64) string {
	for _, def := range defsFor(d) {
		if def.name(d) == "" {
			continue
		}
		if mt, ok := wire.MessageType(d, def.new()); ok && mt == t {
			return strings.ToUpper(def.name(d))
		}
	}
	return fmt.Sprintf("control message 0x%x", t)
}

// diagnoseControl explains why b, taken as a whole control message, is
// incomplete: it names the field in which the input ends.
func diagnoseControl(d wire.Draft, b []byte) error {
	trunc := func(unit, field, format string, args ...any) error {
		return &Error{Op: "decode", Unit: unit, Kind: wire.KindTruncated.String(), Field: field,
			Detail: fmt.Sprintf(format, args...), Err: wire.ErrNeedMore}
	}
	t, n, err := wire.ParseVarint(b)
	if err != nil {
		return trunc("control message", "message_type", "unexpected end of input while reading message_type (%d bytes)", len(b))
	}
	unit := typeName(d, t)
	var length, hdr int
	if d.Is07() {
		l, k, err := wire.ParseVarint(b[n:])
		if err != nil {
			return trunc(unit, "message_length", "unexpected end of input while reading message_length")
		}
		if l > uint64(len(b)) { // cannot fit anyway; avoid int overflow
			l = uint64(len(b)) + 1
		}
		length, hdr = int(l), n+k
	} else {
		if len(b) < n+2 {
			return trunc(unit, "message_length", "unexpected end of input while reading message_length")
		}
		length, hdr = int(binary.BigEndian.Uint16(b[n:])), n+2
	}
	have := len(b) - hdr
	if have >= length {
		return trunc(unit, "", "the codec needs more bytes than the message length gives")
	}
	// Re-frame what is there as a complete message: the codec then names the
	// field that runs past the end.
	frame := append([]byte(nil), b[:n]...)
	if d.Is07() {
		frame = wire.AppendVarint(frame, uint64(have))
	} else {
		frame = binary.BigEndian.AppendUint16(frame, uint16(have))
	}
	frame = append(frame, b[hdr:]...)
	note := fmt.Sprintf(" (the message length is %d bytes; the input holds %d)", length, have)
	if _, _, err := wire.ParseMessage(frame, d, showLimits); err != nil && !errors.Is(err, wire.ErrNeedMore) {
		e := wrapErr("decode", unit, err)
		e.Detail += note
		if e.Kind == wire.KindTruncated.String() {
			e.Err = errors.Join(wire.ErrNeedMore, e.Err)
		}
		return e
	}
	return trunc(unit, "", "unexpected end of input%s", note)
}
