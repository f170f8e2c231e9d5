package wire

// Control messages, draft-neutral. Each struct serves both drafts; fields
// that exist in only one draft say so and are ignored (left zero) by the
// other draft's codec. Names follow draft-14; the draft-07 name is given
// where it differs. Request IDs are draft-14 Request IDs or draft-07
// Subscribe IDs.

// Message is any control message.
type Message interface{ isMessage() }

// ClientSetup is CLIENT_SETUP (0x40 in 07, 0x20 in 14).
type ClientSetup struct {
	Versions []uint64
	Params   Params
}

// ServerSetup is SERVER_SETUP (0x41 in 07, 0x21 in 14).
type ServerSetup struct {
	Version uint64
	Params  Params
}

// GoAway is GOAWAY (0x10).
type GoAway struct {
	NewSessionURI string
	// Timeout is the milliseconds the sender waits for graceful closure
	// (18 only; 0 = no specific timeout).
	Timeout uint64
	// RequestID is the smallest peer Request ID not (or maybe not)
	// processed, present (HasRequestID) only on the control stream (18 only).
	RequestID    uint64
	HasRequestID bool
}

// MaxRequestID is MAX_REQUEST_ID (14) / MAX_SUBSCRIBE_ID (07), 0x15.
type MaxRequestID struct {
	RequestID uint64
}

// RequestsBlocked is REQUESTS_BLOCKED (0x1A, draft-14 only).
type RequestsBlocked struct {
	MaximumRequestID uint64
}

// Subscribe is SUBSCRIBE (0x03).
type Subscribe struct {
	RequestID          uint64
	TrackAlias         uint64 // 07 only: chosen by the subscriber
	Namespace          Tuple
	Name               string
	SubscriberPriority uint8
	GroupOrder         uint8
	Forward            bool // 14 only
	FilterType         FilterType
	Start              Location // AbsoluteStart, AbsoluteRange
	EndGroup           uint64   // AbsoluteRange
	EndObject          uint64   // AbsoluteRange, 07 only (as on the wire: +1, 0 = whole group)
	// Location is the draft-20 LOCATION_FILTER (20 only, where FilterType,
	// Start and EndGroup are not used; the zero value is no filter).
	Location LocationFilter
	// Fill is the draft-20 FILL_PARAMETERS (20 only; nil: no fill fetch
	// stream asked for).
	Fill   *FillParameters
	Params Params
}

// SubscribeOK is SUBSCRIBE_OK (0x04).
type SubscribeOK struct {
	RequestID     uint64
	TrackAlias    uint64 // 14 only: chosen by the publisher
	Expires       uint64 // milliseconds, 0 = never
	GroupOrder    uint8
	ContentExists bool
	Largest       Location // when ContentExists
	Params        Params
	// TrackExtensions are draft-16 Track Extensions (16 only). In 16,
	// GroupOrder is their DEFAULT_PUBLISHER_GROUP_ORDER.
	TrackExtensions Params
}

// SubscribeError is SUBSCRIBE_ERROR (0x05).
type SubscribeError struct {
	RequestID  uint64
	ErrorCode  uint64
	Reason     string
	TrackAlias uint64 // 07 only: the alias to retry with
}

// SubscribeUpdate is SUBSCRIBE_UPDATE (0x02).
type SubscribeUpdate struct {
	RequestID             uint64 // 14: a new request ID; 07: the subscription's Subscribe ID
	SubscriptionRequestID uint64 // 14 only: the subscription being updated
	Start                 Location
	EndGroup              uint64 // +1 on the wire, 0 = open
	EndObject             uint64 // 07 only (+1, 0 = whole group)
	SubscriberPriority    uint8
	Forward               bool // 14, 16
	Params                Params
	// FilterType is the draft-16 SUBSCRIPTION_FILTER's type (16 only; 0
	// when the message has none). Start and EndGroup (+1, 0 = open) hold
	// its locations as in 14.
	FilterType FilterType
	// Location is the draft-20 LOCATION_FILTER (20 only; carried when
	// Changed has UpdateFilter, and then Fields 0 removes the filter).
	Location LocationFilter
	// Fill is the draft-20 FILL_PARAMETERS (20 only; nil: none): it asks
	// for one more fill fetch stream, keyed by this update's Request ID.
	// Carried whenever set; not part of Changed (it is not sticky).
	Fill *FillParameters
	// Changed says which fields a draft-16 REQUEST_UPDATE carries; the
	// others are unchanged. Decoding 07 or 14 sets UpdateAll. Encoding 16
	// writes exactly these fields (set it when building an update).
	Changed UpdateFields
}

// Unsubscribe is UNSUBSCRIBE (0x0A).
type Unsubscribe struct {
	RequestID uint64
}

// PublishDone is PUBLISH_DONE (14) / SUBSCRIBE_DONE (07), 0x0B.
type PublishDone struct {
	RequestID     uint64
	StatusCode    uint64
	StreamCount   uint64 // 14 only
	Reason        string
	ContentExists bool     // 07 only
	Final         Location // 07 only, when ContentExists
}

// Publish is PUBLISH (0x1D, draft-14 only).
type Publish struct {
	RequestID     uint64
	Namespace     Tuple
	Name          string
	TrackAlias    uint64
	GroupOrder    uint8
	ContentExists bool
	Largest       Location // when ContentExists
	Forward       bool
	Params        Params
	// TrackExtensions are draft-16 Track Extensions (16 only). In 16,
	// GroupOrder is their DEFAULT_PUBLISHER_GROUP_ORDER.
	TrackExtensions Params
}

// PublishOK is PUBLISH_OK (0x1E, draft-14 only).
type PublishOK struct {
	RequestID          uint64
	Forward            bool
	SubscriberPriority uint8
	GroupOrder         uint8
	FilterType         FilterType
	Start              Location // AbsoluteStart, AbsoluteRange
	EndGroup           uint64   // AbsoluteRange
	Params             Params
}

// PublishError is PUBLISH_ERROR (0x1F, draft-14 only).
type PublishError struct {
	RequestID uint64
	ErrorCode uint64
	Reason    string
}

// Fetch is FETCH (0x16).
type Fetch struct {
	RequestID          uint64
	SubscriberPriority uint8
	GroupOrder         uint8
	FetchType          uint64 // 14-18; draft-07 and draft-20 FETCH are always standalone
	// Standalone:
	Namespace Tuple
	Name      string
	Start     Location
	End       Location // End.Object as on the wire: +1, 0 = the whole end group
	// Joining (14 only):
	JoiningRequestID uint64
	JoiningStart     uint64
	// Location is the draft-20 LOCATION_FILTER (20 only, where Start, End
	// and the joining fields are not on the wire; the zero value is no
	// filter: {0,0} through the Largest Object).
	Location LocationFilter
	Params   Params
}

// FetchCancel is FETCH_CANCEL (0x17).
type FetchCancel struct {
	RequestID uint64
}

// FetchOK is FETCH_OK (0x18).
type FetchOK struct {
	RequestID  uint64
	GroupOrder uint8 // 07, 14 only
	EndOfTrack bool
	End        Location // 07: Largest Group/Object
	Params     Params
	// TrackExtensions are draft-16 Track Extensions (16 only).
	TrackExtensions Params
}

// FetchError is FETCH_ERROR (0x19).
type FetchError struct {
	RequestID uint64
	ErrorCode uint64
	Reason    string
}

// PublishNamespace is PUBLISH_NAMESPACE (14) / ANNOUNCE (07), 0x06.
type PublishNamespace struct {
	RequestID uint64 // 14 only
	Namespace Tuple
	Params    Params
}

// PublishNamespaceOK is PUBLISH_NAMESPACE_OK (14) / ANNOUNCE_OK (07), 0x07.
type PublishNamespaceOK struct {
	RequestID uint64 // 14 only
	Namespace Tuple  // 07 only
	Params    Params // 14 only
}

// PublishNamespaceError is PUBLISH_NAMESPACE_ERROR (14) / ANNOUNCE_ERROR
// (07), 0x08.
type PublishNamespaceError struct {
	RequestID uint64 // 14 only
	Namespace Tuple  // 07 only
	ErrorCode uint64
	Reason    string
}

// PublishNamespaceDone is PUBLISH_NAMESPACE_DONE (14) / UNANNOUNCE (07),
// 0x09.
type PublishNamespaceDone struct {
	Namespace Tuple  // 07, 14
	RequestID uint64 // 16 only: the PUBLISH_NAMESPACE's Request ID
}

// PublishNamespaceCancel is PUBLISH_NAMESPACE_CANCEL (14) / ANNOUNCE_CANCEL
// (07), 0x0C.
type PublishNamespaceCancel struct {
	Namespace Tuple  // 07, 14
	RequestID uint64 // 16 only: the PUBLISH_NAMESPACE's Request ID
	ErrorCode uint64
	Reason    string
}

// RequestOK is REQUEST_OK (0x07, draft-16): the answer to REQUEST_UPDATE,
// TRACK_STATUS, SUBSCRIBE_NAMESPACE and PUBLISH_NAMESPACE. Which request it
// answers is known only from the Request ID.
type RequestOK struct {
	RequestID uint64 // 16 only: in 18 the request stream names the request
	Params    Params
	// TrackExtensions are draft-18 Track Properties (18 only; populated in
	// a REQUEST_OK answering TRACK_STATUS, empty otherwise).
	TrackExtensions Params
}

// RequestError is REQUEST_ERROR (0x05, draft-16): the refusal of any
// request.
type RequestError struct {
	RequestID uint64
	ErrorCode uint64
	// RetryInterval is as on the wire: the minimum milliseconds before a
	// retry plus one; 0 means do not retry.
	RetryInterval uint64
	Reason        string
	// Redirect is draft-18's Redirect structure, present exactly when
	// ErrorCode is ErrorRedirect18 (18 only).
	Redirect *Redirect
}

// NamespaceMsg is NAMESPACE (0x08, draft-16), sent on a SUBSCRIBE_NAMESPACE
// request's stream: a namespace matching the prefix is published. Suffix is
// the namespace after the subscribed prefix.
type NamespaceMsg struct {
	Suffix Tuple
}

// NamespaceDone is NAMESPACE_DONE (0x0E, draft-16), on a
// SUBSCRIBE_NAMESPACE request's stream: a namespace is withdrawn.
type NamespaceDone struct {
	Suffix Tuple
}

// TrackStatusRequest is TRACK_STATUS (14) / TRACK_STATUS_REQUEST (07),
// 0x0D. In 14 it has the fields of SUBSCRIBE; in 07 only Namespace and Name.
type TrackStatusRequest Subscribe

// TrackStatus is TRACK_STATUS_OK (14) / TRACK_STATUS (07), 0x0E.
type TrackStatus struct {
	RequestID     uint64 // 14 only
	Namespace     Tuple  // 07 only
	Name          string // 07 only
	StatusCode    uint64 // 07 only
	TrackAlias    uint64 // 14 only (always 0)
	Expires       uint64 // 14 only
	GroupOrder    uint8  // 14 only
	ContentExists bool   // 14 only
	Largest       Location
	Params        Params // 14 only
}

// TrackStatusError is TRACK_STATUS_ERROR (0x0F, draft-14 only).
type TrackStatusError struct {
	RequestID uint64
	ErrorCode uint64
	Reason    string
}

// SubscribeNamespace is SUBSCRIBE_NAMESPACE (14) / SUBSCRIBE_ANNOUNCES (07),
// 0x11.
type SubscribeNamespace struct {
	RequestID uint64 // 14, 16
	Prefix    Tuple
	// SubscribeOptions (16 only): SubscribeOptionsPublish (0),
	// SubscribeOptionsNamespace (1) or SubscribeOptionsBoth (2).
	SubscribeOptions uint64
	Params           Params
}

// Draft-16 SUBSCRIBE_NAMESPACE Subscribe Options: what the subscriber asks
// to be sent.
const (
	SubscribeOptionsPublish   uint64 = 0x00
	SubscribeOptionsNamespace uint64 = 0x01
	SubscribeOptionsBoth      uint64 = 0x02
)

// SubscribeNamespaceOK is SUBSCRIBE_NAMESPACE_OK (14) /
// SUBSCRIBE_ANNOUNCES_OK (07), 0x12.
type SubscribeNamespaceOK struct {
	RequestID uint64 // 14 only
	Prefix    Tuple  // 07 only
	Params    Params // 14 only
}

// SubscribeNamespaceError is SUBSCRIBE_NAMESPACE_ERROR (14) /
// SUBSCRIBE_ANNOUNCES_ERROR (07), 0x13.
type SubscribeNamespaceError struct {
	RequestID uint64 // 14 only
	Prefix    Tuple  // 07 only
	ErrorCode uint64
	Reason    string
}

// UnsubscribeNamespace is UNSUBSCRIBE_NAMESPACE (14) /
// UNSUBSCRIBE_ANNOUNCES (07), 0x14.
type UnsubscribeNamespace struct {
	Prefix Tuple
}

func (*ClientSetup) isMessage()             {}
func (*ServerSetup) isMessage()             {}
func (*GoAway) isMessage()                  {}
func (*MaxRequestID) isMessage()            {}
func (*RequestsBlocked) isMessage()         {}
func (*Subscribe) isMessage()               {}
func (*SubscribeOK) isMessage()             {}
func (*SubscribeError) isMessage()          {}
func (*SubscribeUpdate) isMessage()         {}
func (*Unsubscribe) isMessage()             {}
func (*PublishDone) isMessage()             {}
func (*Publish) isMessage()                 {}
func (*PublishOK) isMessage()               {}
func (*PublishError) isMessage()            {}
func (*Fetch) isMessage()                   {}
func (*FetchCancel) isMessage()             {}
func (*FetchOK) isMessage()                 {}
func (*FetchError) isMessage()              {}
func (*PublishNamespace) isMessage()        {}
func (*PublishNamespaceOK) isMessage()      {}
func (*PublishNamespaceError) isMessage()   {}
func (*PublishNamespaceDone) isMessage()    {}
func (*PublishNamespaceCancel) isMessage()  {}
func (*TrackStatusRequest) isMessage()      {}
func (*TrackStatus) isMessage()             {}
func (*TrackStatusError) isMessage()        {}
func (*SubscribeNamespace) isMessage()      {}
func (*SubscribeNamespaceOK) isMessage()    {}
func (*SubscribeNamespaceError) isMessage() {}
func (*UnsubscribeNamespace) isMessage()    {}
func (*RequestOK) isMessage()               {}
func (*RequestError) isMessage()            {}
func (*NamespaceMsg) isMessage()            {}
func (*NamespaceDone) isMessage()           {}
