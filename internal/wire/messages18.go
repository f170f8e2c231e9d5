package wire

// Draft-18 control messages the draft-neutral model did not have.

// Setup is draft-18 SETUP (0x2F00): the first message on each peer's
// control stream, Setup Options only (key-value pairs).
type Setup struct {
	Params Params
}

// SubscribeTracks is draft-18 SUBSCRIBE_TRACKS (0x51): ask for PUBLISH
// messages for every track under Prefix. Forward is the FORWARD parameter
// (default 1).
type SubscribeTracks struct {
	RequestID uint64
	Prefix    Tuple
	Forward   bool
	Params    Params
}

// PublishBlocked is draft-18 PUBLISH_BLOCKED (0x0F), on a SUBSCRIBE_TRACKS
// response stream: the publisher cannot send a PUBLISH for the track
// Suffix (after the subscribed prefix) / Name.
type PublishBlocked struct {
	Suffix Tuple
	Name   string
}

// Redirect is draft-18's Redirect structure in REQUEST_ERROR: retry at
// ConnectURI (empty: the current session) for Namespace/Name (both empty:
// the original request's).
type Redirect struct {
	ConnectURI string
	Namespace  Tuple
	Name       string
}

// ErrorRedirect18 is the draft-18 REQUEST_ERROR code REDIRECT; a
// REQUEST_ERROR with it carries a Redirect.
const ErrorRedirect18 uint64 = 0x34

func (*Setup) isMessage()           {}
func (*SubscribeTracks) isMessage() {}
func (*PublishBlocked) isMessage()  {}
