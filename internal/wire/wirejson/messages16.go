package wirejson

import (
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// The draft-16 control messages: their own table, since most fields that
// draft-14 had in fixed positions are parameters in 16. The JSON shows the
// wire: fixed fields, then "parameters" (by name, see params16 in
// params.go) and, where the message has them, "track_extensions" (left out
// when empty). Reading JSON fills the parameter lists; wire.ApplyParams then
// sets the typed fields from them, so that encoding writes the lists as
// given.

var msgDefs16 = []*msgDef{
	def16("client_setup", func() wire.Message { return &wire.ClientSetup{} }, func(v *visitor, m wire.Message) {
		v.params("parameters", true, &m.(*wire.ClientSetup).Params)
	}),
	def16("server_setup", func() wire.Message { return &wire.ServerSetup{} }, func(v *visitor, m wire.Message) {
		v.params("parameters", true, &m.(*wire.ServerSetup).Params)
	}),
	def16("goaway", func() wire.Message { return &wire.GoAway{} }, func(v *visitor, m wire.Message) {
		v.str("new_session_uri", &m.(*wire.GoAway).NewSessionURI)
	}),
	def16("max_request_id", func() wire.Message { return &wire.MaxRequestID{} }, func(v *visitor, m wire.Message) {
		v.u64("max_request_id", &m.(*wire.MaxRequestID).RequestID)
	}),
	def16("requests_blocked", func() wire.Message { return &wire.RequestsBlocked{} }, func(v *visitor, m wire.Message) {
		v.u64("maximum_request_id", &m.(*wire.RequestsBlocked).MaximumRequestID)
	}),
	def16("request_ok", func() wire.Message { return &wire.RequestOK{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.RequestOK)
		v.u64("request_id", &x.RequestID)
		v.params("parameters", false, &x.Params)
	}),
	def16("request_error", func() wire.Message { return &wire.RequestError{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.RequestError)
		v.u64("request_id", &x.RequestID)
		v.u64("error_code", &x.ErrorCode)
		v.u64("retry_interval", &x.RetryInterval)
		v.str("reason_phrase", &x.Reason)
	}),
	def16("subscribe", func() wire.Message { return &wire.Subscribe{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.Subscribe)
		v.u64("request_id", &x.RequestID)
		v.tuple("track_namespace", &x.Namespace)
		v.str("track_name", &x.Name)
		v.params("parameters", false, &x.Params)
	}),
	def16("subscribe_ok", func() wire.Message { return &wire.SubscribeOK{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.SubscribeOK)
		v.u64("request_id", &x.RequestID)
		v.u64("track_alias", &x.TrackAlias)
		v.params("parameters", false, &x.Params)
		v.trackExtensions(&x.TrackExtensions)
	}),
	def16("request_update", func() wire.Message { return &wire.SubscribeUpdate{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.SubscribeUpdate)
		v.u64("request_id", &x.RequestID)
		v.u64("existing_request_id", &x.SubscriptionRequestID)
		v.params("parameters", false, &x.Params)
	}),
	def16("unsubscribe", func() wire.Message { return &wire.Unsubscribe{} }, func(v *visitor, m wire.Message) {
		v.u64("request_id", &m.(*wire.Unsubscribe).RequestID)
	}),
	def16("publish", func() wire.Message { return &wire.Publish{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.Publish)
		v.u64("request_id", &x.RequestID)
		v.tuple("track_namespace", &x.Namespace)
		v.str("track_name", &x.Name)
		v.u64("track_alias", &x.TrackAlias)
		v.params("parameters", false, &x.Params)
		v.trackExtensions(&x.TrackExtensions)
	}),
	def16("publish_ok", func() wire.Message { return &wire.PublishOK{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.PublishOK)
		v.u64("request_id", &x.RequestID)
		v.params("parameters", false, &x.Params)
	}),
	def16("publish_done", func() wire.Message { return &wire.PublishDone{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.PublishDone)
		v.u64("request_id", &x.RequestID)
		v.u64("status_code", &x.StatusCode)
		v.u64("stream_count", &x.StreamCount)
		v.str("reason_phrase", &x.Reason)
	}),
	def16("fetch", func() wire.Message { return &wire.Fetch{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.Fetch)
		v.u64("request_id", &x.RequestID)
		v.u64("fetch_type", &x.FetchType)
		switch x.FetchType {
		case wire.FetchStandalone:
			visitStandalone(v, x)
			v.u64("start_group", &x.Start.Group)
			v.u64("start_object", &x.Start.Object)
			v.u64("end_group", &x.End.Group)
			v.u64("end_object", &x.End.Object)
		case wire.FetchRelativeJoining, wire.FetchAbsoluteJoining:
			v.u64("joining_request_id", &x.JoiningRequestID)
			v.u64("joining_start", &x.JoiningStart)
		}
		v.params("parameters", false, &x.Params)
	}),
	def16("fetch_ok", func() wire.Message { return &wire.FetchOK{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.FetchOK)
		v.u64("request_id", &x.RequestID)
		v.flag("end_of_track", &x.EndOfTrack)
		v.u64("end_group", &x.End.Group)
		v.u64("end_object", &x.End.Object)
		v.params("parameters", false, &x.Params)
		v.trackExtensions(&x.TrackExtensions)
	}),
	def16("fetch_cancel", func() wire.Message { return &wire.FetchCancel{} }, func(v *visitor, m wire.Message) {
		v.u64("request_id", &m.(*wire.FetchCancel).RequestID)
	}),
	def16("track_status", func() wire.Message { return &wire.TrackStatusRequest{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.TrackStatusRequest)
		v.u64("request_id", &x.RequestID)
		v.tuple("track_namespace", &x.Namespace)
		v.str("track_name", &x.Name)
		v.params("parameters", false, &x.Params)
	}),
	def16("publish_namespace", func() wire.Message { return &wire.PublishNamespace{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.PublishNamespace)
		v.u64("request_id", &x.RequestID)
		v.tuple("track_namespace", &x.Namespace)
		v.params("parameters", false, &x.Params)
	}),
	def16("namespace", func() wire.Message { return &wire.NamespaceMsg{} }, func(v *visitor, m wire.Message) {
		v.tuple("namespace_suffix", &m.(*wire.NamespaceMsg).Suffix)
	}),
	def16("publish_namespace_done", func() wire.Message { return &wire.PublishNamespaceDone{} }, func(v *visitor, m wire.Message) {
		v.u64("request_id", &m.(*wire.PublishNamespaceDone).RequestID)
	}),
	def16("namespace_done", func() wire.Message { return &wire.NamespaceDone{} }, func(v *visitor, m wire.Message) {
		v.tuple("namespace_suffix", &m.(*wire.NamespaceDone).Suffix)
	}),
	def16("publish_namespace_cancel", func() wire.Message { return &wire.PublishNamespaceCancel{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.PublishNamespaceCancel)
		v.u64("request_id", &x.RequestID)
		v.u64("error_code", &x.ErrorCode)
		v.str("reason_phrase", &x.Reason)
	}),
	def16("subscribe_namespace", func() wire.Message { return &wire.SubscribeNamespace{} }, func(v *visitor, m wire.Message) {
		x := m.(*wire.SubscribeNamespace)
		v.u64("request_id", &x.RequestID)
		v.tuple("namespace_prefix", &x.Prefix)
		v.u64("subscribe_options", &x.SubscribeOptions)
		v.params("parameters", false, &x.Params)
	}),
}

// def16 builds a draft-16 message definition. Its name is in name14 (the
// "not draft-07" name); msgDefs16 is only looked up for Draft16.
func def16(name string, newMsg func() wire.Message, visit func(v *visitor, m wire.Message)) *msgDef {
	return &msgDef{name14: name, new: newMsg,
		visit: func(v *visitor, _ wire.Draft, m wire.Message) { visit(v, m) }}
}

// trackExtensions visits draft-16 Track Extensions: an object by extension
// name (as "parameters"), left out when there are none.
func (v *visitor) trackExtensions(p *wire.Params) {
	if v.toJSON {
		if len(*p) > 0 {
			o := &object{}
			for _, pm := range *p {
				paramToJSONDefs(o, v.d, ext16, pm)
			}
			v.out.add("track_extensions", o)
		}
		return
	}
	if !v.has("track_extensions") {
		return
	}
	x, _ := v.take("track_extensions")
	o, isObj := x.(*object)
	if !isObj {
		v.fail("track_extensions", "want an object, got %s", describe(x))
		return
	}
	ps, err := paramsFromJSONDefs(v.d, ext16, o, v.path+"track_extensions")
	if err != nil {
		v.err = err
		return
	}
	*p = ps
}
