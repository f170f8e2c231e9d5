package relay

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// AuthOp is what a client asks the relay for.
type AuthOp string

// The operations Config.Authorize is asked about.
const (
	OpSession            AuthOp = "session" // a new session, before any of its requests is served
	OpAnnounce           AuthOp = "announce"
	OpSubscribe          AuthOp = "subscribe"
	OpFetch              AuthOp = "fetch"
	OpTrackStatus        AuthOp = "track-status"
	OpSubscribeNamespace AuthOp = "subscribe-namespace"
)

// AuthRequest is one question to Config.Authorize. The session tells who
// asks: Session.Path() is the WebTransport URL path and query, or the
// SETUP PATH of raw QUIC (path and query too); Session.RemoteAddr() the
// peer's address; Session.SetupTokens() the tokens of its CLIENT_SETUP.
type AuthRequest struct {
	Op        AuthOp
	Namespace moq.Namespace // the namespace or prefix; empty for OpSession
	Name      string        // the track name (subscribe, fetch, track status)
	// Tokens are the AUTHORIZATION TOKEN parameters of the request
	// (draft-14 and later; AUTHORIZATION INFO in draft-07), or for
	// OpSession those of CLIENT_SETUP (draft-07 setup carries none).
	Tokens []moq.AuthToken
}

// opOf maps the session's request kinds to AuthOps.
var opOf = map[moq.RequestKind]AuthOp{
	moq.RequestSubscribe:          OpSubscribe,
	moq.RequestFetch:              OpFetch,
	moq.RequestTrackStatus:        OpTrackStatus,
	moq.RequestAnnounce:           OpAnnounce,
	moq.RequestSubscribeNamespace: OpSubscribeNamespace,
}

// AuthorizeRequest implements moq.Authorizer: every request of a session is
// put to Config.Authorize (after the session's own admission) before the
// relay serves it.
func (r *Relay) AuthorizeRequest(s *moq.Session, req *moq.AuthRequest) error {
	op, ok := opOf[req.Kind]
	if !ok {
		return fmt.Errorf("relay: unknown request kind %q: %w", req.Kind, moq.ErrUnauthorized)
	}
	if r.cl != nil {
		// A peer relay's request: the cluster token admits it (and its
		// hop list is checked for loops).
		if peer, err := r.cl.checkRequest(s, req); err != nil || peer {
			return err
		}
	}
	return r.authorize(s, AuthRequest{Op: op, Namespace: req.Namespace, Name: req.Name, Tokens: req.Tokens})
}

var _ moq.Authorizer = (*Relay)(nil)

// admission is a session's OpSession answer, asked once.
type admission struct {
	done chan struct{}
	err  error
}

// admitted asks Config.Authorize about the session once (the first caller
// asks, the others wait for its answer) and returns the refusal, if any.
func (r *Relay) admitted(s *moq.Session) error {
	if r.cfg.Authorize == nil {
		return nil
	}
	r.mu.Lock()
	a := r.admit[s]
	if a != nil {
		r.mu.Unlock()
		<-a.done
		return a.err
	}
	if sessionDone(s) {
		// SessionClosed may have run: an entry now would never be removed.
		r.mu.Unlock()
		return fmt.Errorf("relay: session closed: %w", moq.ErrClosed)
	}
	a = &admission{done: make(chan struct{})}
	r.admit[s] = a
	r.mu.Unlock()
	a.err = r.ask(s, AuthRequest{Op: OpSession, Tokens: s.SetupTokens()})
	close(a.done)
	if a.err != nil {
		r.log.Info("session refused", "remote", s.RemoteAddr(), "path", redactQuery(s.Path()), "err", a.err)
		if errors.Is(a.err, ErrTokenExpired) && !s.Draft().Is07() {
			s.CloseWithError(codeExpiredAuthToken, "expired authorization token")
		} else {
			s.CloseWithError(codeUnauthorized, "unauthorized")
		}
	}
	return a.err
}

// Session close codes: UNAUTHORIZED in draft-07 and later,
// EXPIRED_AUTH_TOKEN in draft-14 and later.
const (
	codeUnauthorized     = 0x2
	codeExpiredAuthToken = 0x18
)

// Request error code EXPIRED_AUTH_TOKEN: 0x12 in draft-14 (SUBSCRIBE_ERROR
// and the others), 0x5 in draft-16 and 18 (REQUEST_ERROR, where 0x12 is
// MALFORMED_TRACK).
const (
	reqExpiredAuthToken   = 0x12
	reqExpiredAuthToken16 = 0x5
)

func expiredTokenCode(d moq.Draft) uint64 {
	if d == moq.Draft16 || d == moq.Draft18 || d == moq.Draft20 {
		return reqExpiredAuthToken16
	}
	return reqExpiredAuthToken
}

// ErrTokenExpired, returned (wrapped) by an Authorize function, refuses
// with the draft's "expired token" code where it has one (draft-14 and
// later): EXPIRED_AUTH_TOKEN for a session or a request.
var ErrTokenExpired = errors.New("authorization token expired")

// redactQuery drops a path's query (it may carry a token) for the logs.
func redactQuery(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '?' {
			return p[:i] + "?..."
		}
	}
	return p
}

// authorize admits the session, then asks about one request. A refusal is
// answered with the draft's "unauthorized" code unless Authorize returned a
// *moq.RequestError.
func (r *Relay) authorize(s *moq.Session, req AuthRequest) error {
	if r.cfg.Authorize == nil {
		return nil
	}
	if err := r.admitted(s); err != nil {
		return err
	}
	return r.ask(s, req)
}

func (r *Relay) ask(s *moq.Session, req AuthRequest) error {
	err := r.cfg.Authorize(s, req)
	if err == nil {
		return nil
	}
	var re *moq.RequestError
	if errors.As(err, &re) {
		return re
	}
	if req.Op != OpSession && errors.Is(err, ErrTokenExpired) && !s.Draft().Is07() {
		return &moq.RequestError{Op: string(req.Op), Code: expiredTokenCode(s.Draft()), Reason: "expired authorization token"}
	}
	return fmt.Errorf("relay: %s refused: %w (%w)", req.Op, moq.ErrUnauthorized, err)
}

// queryValues returns the named query parameters of the session's URL
// (WebTransport) or SETUP PATH (raw QUIC), in order.
func queryValues(s *moq.Session, names ...string) []string {
	u, err := url.Parse(s.Path())
	if err != nil {
		return nil
	}
	q := u.Query()
	var out []string
	for _, n := range names {
		out = append(out, q[n]...)
	}
	return out
}

// RequireToken returns an Authorize function that admits the sessions
// presenting token (compared in constant time) and allows them everything.
// The token is looked for in the URL's query parameter token=, the
// CLIENT_SETUP AUTHORIZATION TOKEN, or, for a request, the request's own
// AUTHORIZATION TOKEN (draft-07: AUTHORIZATION INFO). Each request is
// checked again, so that RequireToken can be combined with other
// Authorize functions by AnyOf.
func RequireToken(token string) func(*moq.Session, AuthRequest) error {
	want := []byte(token)
	match := func(v string) bool { return subtle.ConstantTimeCompare([]byte(v), want) == 1 }
	return func(s *moq.Session, req AuthRequest) error {
		for _, t := range req.Tokens {
			if match(t.Value) {
				return nil
			}
		}
		if req.Op != OpSession {
			for _, t := range s.SetupTokens() {
				if match(t.Value) {
					return nil
				}
			}
		}
		for _, v := range queryValues(s, "token") {
			if match(v) {
				return nil
			}
		}
		return fmt.Errorf("missing or wrong token")
	}
}

// AnyOf returns an Authorize function that allows what any of fs allows
// (asked in order). A refusal carries every function's error, so that a
// *moq.RequestError or ErrTokenExpired among them chooses the code.
func AnyOf(fs ...func(*moq.Session, AuthRequest) error) func(*moq.Session, AuthRequest) error {
	return func(s *moq.Session, req AuthRequest) error {
		var errs []error
		for _, f := range fs {
			err := f(s, req)
			if err == nil {
				return nil
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return errors.New("no authorization method")
		}
		return errors.Join(errs...)
	}
}
