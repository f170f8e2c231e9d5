package moq

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// CheckURL parses a session URL and checks it the way Dial does: the scheme
// is https (WebTransport) or moqt (raw QUIC), there is a host, an explicit
// port is 1..65535, and there is no user information ("user:pass@") and no
// fragment ("#..."), which MoQT has no use for and which would otherwise be
// dropped silently. The error wraps ErrInvalid and names what is wrong.
func CheckURL(rawURL string) (*url.URL, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("moq: bad URL %q: %s: %w", rawURL, fmt.Sprintf(format, args...), ErrInvalid)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, bad("%v", err)
	}
	if u.Scheme != "https" && u.Scheme != "moqt" {
		return nil, bad("scheme must be https (WebTransport) or moqt (raw QUIC), not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, bad("no host (want %s://host[:port]/path)", u.Scheme)
	}
	if u.User != nil {
		return nil, bad("user information (\"user@\") is not allowed; pass credentials as an authorization token")
	}
	if strings.Contains(rawURL, "#") {
		return nil, bad("a fragment (\"#...\") is not allowed")
	}
	if strings.HasSuffix(u.Host, ":") {
		return nil, bad("empty port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("port %s is outside 1..65535", p)
		}
	}
	return u, nil
}
