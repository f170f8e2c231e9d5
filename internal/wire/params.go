package wire

// Param is one parameter: a draft-07 setup or message parameter, a draft-14
// key-value pair, or a draft-14 object extension header.
//
// A parameter holds either an integer (IsInt) or bytes. In draft-14 the key's
// parity decides: even keys carry a varint, odd keys carry bytes. In draft-07
// every parameter is Type Length Value on the wire; the parameters the draft
// defines as integers (ROLE, MAX_SUBSCRIBE_ID, DELIVERY_TIMEOUT,
// MAX_CACHE_DURATION) are decoded as IsInt, the rest as bytes.
type Param struct {
	Key   uint64
	IsInt bool
	Int   uint64
	Bytes []byte
}

// Params is an ordered parameter list. Order is kept so that a decoded
// message re-encodes to the same bytes.
type Params []Param

// Get returns the first parameter with key k.
func (ps Params) Get(k uint64) (Param, bool) {
	for _, p := range ps {
		if p.Key == k {
			return p, true
		}
	}
	return Param{}, false
}

// Int returns the integer value of the first parameter with key k.
func (ps Params) Int(k uint64) (uint64, bool) {
	p, ok := ps.Get(k)
	if !ok || !p.IsInt {
		return 0, false
	}
	return p.Int, true
}

// IntParam and BytesParam build parameters.
func IntParam(k, v uint64) Param          { return Param{Key: k, IsInt: true, Int: v} }
func BytesParam(k uint64, v []byte) Param { return Param{Key: k, Bytes: v} }

// Setup parameter keys. The two drafts share the code space except where
// noted.
const (
	SetupRole                  uint64 = 0x00 // 07 only
	SetupPath                  uint64 = 0x01
	SetupMaxRequestID          uint64 = 0x02 // 07: MAX_SUBSCRIBE_ID
	SetupAuthorizationToken    uint64 = 0x03 // 14
	SetupMaxAuthTokenCacheSize uint64 = 0x04 // 14
	SetupAuthority             uint64 = 0x05 // 14 (also MOQT_IMPLEMENTATION in the -14 text)
	SetupImplementation        uint64 = 0x07 // 14
)

// ROLE values (draft-07).
const (
	RolePublisher  uint64 = 1
	RoleSubscriber uint64 = 2
	RolePubSub     uint64 = 3
)

// Version-specific (message) parameter keys, per draft.
const (
	Param07AuthorizationInfo uint64 = 0x02
	Param07DeliveryTimeout   uint64 = 0x03
	Param07MaxCacheDuration  uint64 = 0x04

	Param14DeliveryTimeout    uint64 = 0x02
	Param14AuthorizationToken uint64 = 0x03
	Param14MaxCacheDuration   uint64 = 0x04
)

// Object extension header types (draft-14).
const (
	ExtPriorGroupIDGap     uint64 = 0x3C
	ExtPriorObjectIDGap    uint64 = 0x3E
	ExtImmutableExtensions uint64 = 0x0B
)
