package moq

import (
	"github.com/moq-ffi/moq-ffi-go/internal/wire"
)

// draftRules is what the session engine does differently per draft. The
// engine asks these fields rather than comparing drafts; a new draft is a
// new entry in rulesFor (plus its codec in internal/wire).
type draftRules struct {
	// requestIDs: every request carries a Request ID, the client's even
	// and the server's odd, each new one the next in sequence (step 2);
	// REQUESTS_BLOCKED exists; the publisher chooses the track alias (in
	// SUBSCRIBE_OK). Otherwise (07): Subscribe IDs that only rise, other
	// requests without IDs, the subscriber chooses the alias.
	requestIDs bool
	// genericAnswers: REQUEST_OK and REQUEST_ERROR answer requests; which
	// request they answer is known only from the Request ID (16).
	genericAnswers bool
	// namespaceStreams: SUBSCRIBE_NAMESPACE opens its own bidirectional
	// stream, answered there and followed by NAMESPACE / NAMESPACE_DONE;
	// the subscriber ends it by closing the stream (no
	// UNSUBSCRIBE_NAMESPACE). Any other bidirectional stream from the peer
	// is a protocol violation (16).
	namespaceStreams bool
	// namespaceDoneByID: PUBLISH_NAMESPACE_DONE and PUBLISH_NAMESPACE_CANCEL
	// name the PUBLISH_NAMESPACE by its Request ID, not by namespace (16).
	namespaceDoneByID bool
	// updateAnswered: a subscription update is a request (REQUEST_UPDATE)
	// answered by REQUEST_OK or REQUEST_ERROR (16).
	updateAnswered bool
	// emptyPrefix: SUBSCRIBE_NAMESPACE may name the empty prefix (every
	// namespace) (07, 16).
	emptyPrefix bool
	// sendAuthority: a client over raw QUIC sends the URL's authority in
	// the AUTHORITY setup parameter (16; draft-14 asks it too, but peers of
	// that draft are not known to expect it, so it is left out there).
	sendAuthority bool
	// requestStreams: every request opens its own bidirectional stream,
	// where its answer and follow-ups travel without a Request ID; a
	// request ends by closing or resetting its stream (no UNSUBSCRIBE,
	// FETCH_CANCEL, PUBLISH_NAMESPACE_DONE / _CANCEL); no MAX_REQUEST_ID or
	// REQUESTS_BLOCKED; the control channel is a pair of unidirectional
	// streams opened with SETUP (18; reqstream.go).
	requestStreams bool
	// draft20: the engine's draft-14 style filters, fetch ranges and
	// joining fetches are converted to and from LOCATION_FILTER and
	// FILL_PARAMETERS (to20 / from20, draft20.go) (20).
	draft20 bool
	// codes are the request error codes the engine sends.
	codes requestCodes
}

// requestCodes are request error codes (SUBSCRIBE_ERROR, FETCH_ERROR, ...,
// or REQUEST_ERROR) of one draft.
type requestCodes struct {
	internal, unauthorized, notSupported, doesNotExist, invalidRange uint64
	uninterested, prefixOverlap, noObjects, joiningRequestID         uint64
}

var (
	codes07 = requestCodes{
		internal: errInternal07, unauthorized: errUnauthorized07, notSupported: errInternal07,
		doesNotExist: errTrackNotExist07, invalidRange: errInvalidRange07,
		uninterested: errInternal07, prefixOverlap: errInternal07, noObjects: errInvalidRange07,
		joiningRequestID: errInvalidRange07,
	}
	codes14 = requestCodes{
		internal: errInternal14, unauthorized: errUnauthorized14, notSupported: errNotSupported14,
		doesNotExist: errTrackNotExist14, invalidRange: errInvalidRange14,
		uninterested: errUninterested14, prefixOverlap: errPrefixOverlap14, noObjects: errNoObjects14,
		joiningRequestID: errJoiningRequestID14,
	}
	// Draft-16 REQUEST_ERROR codes (one registry for every request). It
	// has no "no objects": an empty fetch range is an invalid range.
	codes16 = requestCodes{
		internal: 0x0, unauthorized: 0x1, notSupported: 0x3, doesNotExist: 0x10, invalidRange: 0x11,
		uninterested: 0x20, prefixOverlap: 0x30, noObjects: 0x11, joiningRequestID: 0x32,
	}
)

// rulesFor returns the engine rules of draft d.
func rulesFor(d wire.Draft) draftRules {
	switch d {
	case wire.Draft14:
		return draftRules{requestIDs: true, codes: codes14}
	case wire.Draft16:
		return draftRules{requestIDs: true, genericAnswers: true, namespaceStreams: true,
			namespaceDoneByID: true, updateAnswered: true, emptyPrefix: true, sendAuthority: true,
			codes: codes16}
	case wire.Draft18:
		// REQUEST_ERROR codes as in 16.
		return draftRules{requestIDs: true, genericAnswers: true, namespaceStreams: true,
			namespaceDoneByID: true, updateAnswered: true, emptyPrefix: true, sendAuthority: true,
			requestStreams: true, codes: codes16}
	case wire.Draft20:
		// 18's rules plus draft20: FETCH's range in LOCATION_FILTER, the
		// joining fetch as FILL_PARAMETERS, GOAWAY without a Request ID
		// (draft20.go).
		return draftRules{requestIDs: true, genericAnswers: true, namespaceStreams: true,
			namespaceDoneByID: true, updateAnswered: true, emptyPrefix: true, sendAuthority: true,
			requestStreams: true, draft20: true, codes: codes16}
	}
	return draftRules{emptyPrefix: true, codes: codes07}
}

// Pending request kinds (pendingReq.op). Draft-07 names the same requests
// differently in errors (see opName).
const (
	opSubscribe          = "SUBSCRIBE"
	opFetch              = "FETCH"
	opTrackStatus        = "TRACK_STATUS"
	opPublishNamespace   = "PUBLISH_NAMESPACE"
	opSubscribeNamespace = "SUBSCRIBE_NAMESPACE"
	opRequestUpdate      = "REQUEST_UPDATE"
)

// generalize turns a draft-16 REQUEST_OK / REQUEST_ERROR for a request of
// kind op into the answer message the engine handles for that kind in every
// draft (SUBSCRIBE_ERROR, PUBLISH_NAMESPACE_OK, TRACK_STATUS_OK, ...).
// Other messages are returned as they are. ok is false when m cannot answer
// op (REQUEST_OK to a SUBSCRIBE or FETCH).
func generalize(op string, m wire.Message) (out wire.Message, ok bool) {
	switch m := m.(type) {
	case *wire.RequestError:
		switch op {
		case opSubscribe:
			return &wire.SubscribeError{RequestID: m.RequestID, ErrorCode: m.ErrorCode, Reason: m.Reason}, true
		case opFetch:
			return &wire.FetchError{RequestID: m.RequestID, ErrorCode: m.ErrorCode, Reason: m.Reason}, true
		case opTrackStatus:
			return &wire.TrackStatusError{RequestID: m.RequestID, ErrorCode: m.ErrorCode, Reason: m.Reason}, true
		case opPublishNamespace:
			return &wire.PublishNamespaceError{RequestID: m.RequestID, ErrorCode: m.ErrorCode, Reason: m.Reason}, true
		case opSubscribeNamespace:
			return &wire.SubscribeNamespaceError{RequestID: m.RequestID, ErrorCode: m.ErrorCode, Reason: m.Reason}, true
		case opRequestUpdate:
			return m, true
		}
		return m, false
	case *wire.RequestOK:
		switch op {
		case opTrackStatus:
			ts, err := wire.TrackStatusFromRequestOK(m)
			if err != nil {
				return m, false
			}
			return ts, true
		case opPublishNamespace:
			return &wire.PublishNamespaceOK{RequestID: m.RequestID, Params: m.Params}, true
		case opSubscribeNamespace:
			return &wire.SubscribeNamespaceOK{RequestID: m.RequestID, Params: m.Params}, true
		case opRequestUpdate:
			return m, true
		}
		return m, false
	}
	return m, true
}

// specialize turns an answer the engine built in the draft-14 form into the
// draft's message: for draft-16 the request errors become REQUEST_ERROR and
// the OKs of PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE and TRACK_STATUS become
// REQUEST_OK. Other messages pass through.
func (r *draftRules) specialize(m wire.Message) wire.Message {
	if !r.genericAnswers {
		return m
	}
	if r.requestStreams {
		switch v := m.(type) {
		case *wire.TrackStatus:
			return wire.RequestOKFromTrackStatus18(v)
		case *wire.PublishOK:
			if ok, err := wire.RequestOKFromPublishOK18(v); err == nil {
				return ok
			}
		}
	}
	return wire.ToDraft16(m)
}

// knownDraft reports whether d is a draft this package speaks.
func knownDraft(d Draft) bool {
	switch d {
	case Draft07, Draft07Cloudflare, Draft14, Draft16, Draft18, Draft20:
		return true
	}
	return false
}

// markUpdateAll says that an update carries every field (draft-16
// REQUEST_UPDATE leaves absent fields unchanged).
func markUpdateAll(m *wire.SubscribeUpdate) { m.Changed = wire.UpdateAll }
