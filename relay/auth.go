package relay

import (
	"crypto/subtle"
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
// peer's address.
type AuthRequest struct {
	Op        AuthOp
	Namespace moq.Namespace // the namespace or prefix; empty for OpSession
	Name      string        // the track name (subscribe, fetch, track status)
}

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
	a.err = r.ask(s, AuthRequest{Op: OpSession})
	close(a.done)
	if a.err != nil {
		r.log.Info("session refused", "remote", s.RemoteAddr(), "path", s.Path(), "err", a.err)
		s.CloseWithError(codeUnauthorized, "unauthorized")
	}
	return a.err
}

// codeUnauthorized closes a session: Unauthorized in draft-07 and -14.
const codeUnauthorized = 0x2

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
	if _, ok := err.(*moq.RequestError); ok {
		return err
	}
	return fmt.Errorf("relay: %s refused: %w (%v)", req.Op, moq.ErrUnauthorized, err)
}

// RequireToken returns an Authorize function that admits the sessions
// whose URL carries the query parameter token=<token> (compared in
// constant time), and allows them everything.
func RequireToken(token string) func(*moq.Session, AuthRequest) error {
	return func(s *moq.Session, req AuthRequest) error {
		if req.Op != OpSession {
			return nil
		}
		u, err := url.Parse(s.Path())
		if err != nil {
			return fmt.Errorf("unreadable path: %w", err)
		}
		got := u.Query().Get("token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return fmt.Errorf("missing or wrong token")
		}
		return nil
	}
}
