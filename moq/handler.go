package moq

// Handler serves the requests a peer makes of a session: subscriptions,
// fetches, track status, announced namespaces and namespace subscriptions.
// Each method runs on its own goroutine and may block (a relay waits for its
// upstream there); the session answers the peer when it returns.
//
// Sessions without a Handler serve the tracks published with
// Session.Publish and accept announces (see Session.PeerNamespaces and
// Session.SubscribeNamespace).
type Handler interface {
	// Subscribe returns the track that serves a SUBSCRIBE, or an error
	// (a *RequestError to choose the code) to refuse it.
	Subscribe(s *Session, req *SubscribeRequest) (*Track, error)
	// Fetch returns the track whose retained objects serve a FETCH.
	Fetch(s *Session, req *FetchRequest) (*Track, error)
	// TrackStatus returns the track a TRACK_STATUS request asks about.
	TrackStatus(s *Session, ns Namespace, name string) (*Track, error)
	// Announce accepts (nil) or refuses the peer's PUBLISH_NAMESPACE /
	// ANNOUNCE.
	Announce(s *Session, ns Namespace) error
	// Unannounce tells that the peer withdrew a namespace.
	Unannounce(s *Session, ns Namespace)
	// SubscribeNamespace accepts (nil) or refuses the peer's
	// SUBSCRIBE_NAMESPACE / SUBSCRIBE_ANNOUNCES. After accepting, the
	// handler announces matching namespaces to s with Session.Announce.
	SubscribeNamespace(s *Session, prefix Namespace) error
	// UnsubscribeNamespace tells that the peer withdrew a namespace
	// subscription.
	UnsubscribeNamespace(s *Session, prefix Namespace)
	// SessionClosed tells that the session ended.
	SessionClosed(s *Session, err error)
}

// SubscribeRequest describes a peer's SUBSCRIBE.
type SubscribeRequest struct {
	Namespace          Namespace
	Name               string
	SubscriberPriority uint8
	GroupOrder         uint8
	Filter             Filter
	Forward            bool
	// ReplayFrom, set by a Handler, replays the track's retained objects
	// from this location whatever the filter, and serves the subscriber
	// even if the track has ended by then (it gets what was retained, then
	// PUBLISH_DONE). A relay sets it for subscribers that asked before its
	// upstream subscription was in place, so that nothing forwarded
	// meanwhile is lost.
	ReplayFrom *Location
	// Attached, if set by a Handler, is called once the session is done
	// with the track the Handler returned: the subscriber is attached to
	// it, or will not be (refused, unsubscribed meanwhile, asked again). A
	// relay releases its Track.Hold there.
	Attached func()
}

// FetchRequest describes a peer's standalone FETCH (joining fetches are
// resolved to a standalone range before the handler sees them).
type FetchRequest struct {
	Namespace          Namespace
	Name               string
	SubscriberPriority uint8
	GroupOrder         uint8
	Start              Location
	End                Location // inclusive
}
