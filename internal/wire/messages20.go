package wire

// Draft-20 control messages the draft-18 model did not have.

// PublishStateNotify is draft-20 PUBLISH_STATE_NOTIFY (0x22): the
// publisher's unilateral notice, on a subscription's request stream, that
// the subscription's state changed other than by the subscriber's
// REQUEST_UPDATE. It carries only the parameters that changed (FORWARD,
// LOCATION_FILTER in Params); Largest is its LARGEST_OBJECT (ContentExists
// false: absent). No response.
type PublishStateNotify struct {
	ContentExists bool
	Largest       Location
	Params        Params
}

// PublishSkipped is draft-20 PUBLISH_SKIPPED (0x0F), -19's name for
// draft-18 PUBLISH_BLOCKED (same fields): on a SUBSCRIBE_TRACKS response
// stream, the publisher will not send a PUBLISH for this track.
type PublishSkipped = PublishBlocked

func (*PublishStateNotify) isMessage() {}
