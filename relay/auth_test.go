package relay

import (
	"errors"
	"fmt"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

func (r *testRelay) dialURL(t *testing.T, c client, url string) *moq.Session {
	t.Helper()
	s, err := r.tryDialURL(c, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() {
		s.Close()
		s.Wait()
	})
	return s
}

// TestRequireToken: sessions without the token are closed with
// Unauthorized before any request is served; with it (in the URL, or in
// CLIENT_SETUP where the draft has a token), everything works.
func TestRequireToken(t *testing.T) {
	r := startRelay(t, Config{Authorize: RequireToken("s3cret")})
	ctx := ctxT(t)
	for _, c := range []client{quic18, wt18, quic14, wt14, quic07cf, wt07cf} {
		t.Run(c.name, func(t *testing.T) {
			ns := moq.Namespace{"token", c.name}
			for _, bad := range []string{"/relay", "/relay?token=wrong"} {
				// The refusal may end the session during setup (Dial fails)
				// or just after (the session ends): Unauthorized either way.
				s, err := r.tryDialURL(c, fmt.Sprintf("%s://%s%s", c.scheme, r.Addr(), bad), nil)
				if err == nil {
					err = s.Announce(ctx, ns)
					<-s.Done()
					if err == nil {
						t.Fatalf("%s: announce accepted", bad)
					}
					err = s.Err()
					s.Wait()
				}
				var se *moq.SessionError
				if !errors.As(err, &se) || se.Code != 0x2 || errors.Is(err, moq.ErrVersion) {
					t.Fatalf("%s: %v; want the session closed with Unauthorized (0x2)", bad, err)
				}
			}
			// The token as the CLIENT_SETUP AUTHORIZATION TOKEN (drafts that
			// have one; draft-07 sends it in requests only: refused).
			s, err := r.tryDial(c, &moq.Options{AuthToken: "s3cret"})
			if hasSetupToken(c) {
				if err != nil {
					t.Fatalf("setup token: %v", err)
				}
				if err := s.Announce(ctx, moq.Namespace{"token", "setup", c.name}); err != nil {
					t.Fatalf("announce with the setup token: %v", err)
				}
				s.Close()
				s.Wait()
			} else if code := refusedCode(t, s, err); code != codeUnauthorized {
				t.Fatalf("draft-07 without a URL token: closed with %#x", code)
			}
			s, err = r.tryDial(c, &moq.Options{AuthToken: "wrong"})
			if code := refusedCode(t, s, err); code != codeUnauthorized {
				t.Fatalf("a wrong setup token: closed with %#x", code)
			}
			url := fmt.Sprintf("%s://%s/relay?token=s3cret", c.scheme, r.Addr())
			pub := r.dialURL(t, c, url)
			tr, err := pub.Publish(ns, "t", moq.TrackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Announce(ctx, ns); err != nil {
				t.Fatal(err)
			}
			sub, err := r.dialURL(t, c, url).Subscribe(ctx, ns, "t", moq.SubscribeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			writeGroups(t, tr, 1, 1)
			if err := expectGroups(ctx, sub, 0, 1, 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAuthorizeRequests: a refused request gets its draft's
// "unauthorized" code; the session goes on.
func TestAuthorizeRequests(t *testing.T) {
	deny := func(s *moq.Session, req AuthRequest) error {
		if len(req.Namespace) > 0 && req.Namespace[0] == "secret" {
			return errors.New("not for you")
		}
		return nil
	}
	r := startRelay(t, Config{Authorize: deny})
	ctx := ctxT(t)
	r.publish(t, quic14, moq.Namespace{"open"}, "t")
	for _, c := range []client{quic14, wt07cf} {
		t.Run(c.name, func(t *testing.T) {
			s := r.dial(t, c, nil)
			want := uint64(0x1) // draft-14 UNAUTHORIZED
			if c.draft.Is07() {
				want = 0x4 // draft-07 SUBSCRIBE_ERROR Unauthorized
			}
			_, err := s.Subscribe(ctx, moq.Namespace{"secret"}, "t", moq.SubscribeOptions{})
			var re *moq.RequestError
			if !errors.As(err, &re) || re.Code != want {
				t.Fatalf("subscribe to a denied namespace: %v, want code %#x", err, want)
			}
			if err := s.Announce(ctx, moq.Namespace{"secret", c.name}); !errors.As(err, &re) {
				t.Fatalf("announce of a denied namespace: %v, want a refusal", err)
			}
			if _, err := s.Subscribe(ctx, moq.Namespace{"open"}, "t", moq.SubscribeOptions{}); err != nil {
				t.Fatalf("an allowed subscribe after the refusals: %v", err)
			}
		})
	}
}
