package moq_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// Issue 15, item 5: user information, fragments and ports outside
// 1..65535 are refused before anything is attempted.
func TestCheckURL(t *testing.T) {
	good := []string{"moqt://127.0.0.1:4443/", "https://relay.example/moq?jwt=x", "moqt://[::1]:1/", "https://h:65535/"}
	for _, u := range good {
		if _, err := moq.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q): %v", u, err)
		}
	}
	bad := map[string]string{
		"moqt://user:pw@127.0.0.1:4443/": "user information",
		"https://u@h/":                   "user information",
		"moqt://h/#x":                    "fragment",
		"moqt://h/#":                     "fragment",
		"moqt://h:99999/":                "outside 1..65535",
		"moqt://h:0/":                    "outside 1..65535",
		"moqt://h:/":                     "empty port",
		"ftp://h/":                       "scheme",
		"moqt:h":                         "no host",
		"https:///p":                     "no host",
		"moqt://h:x/":                    "port",
	}
	for u, why := range bad {
		_, err := moq.CheckURL(u)
		if !errors.Is(err, moq.ErrInvalid) || !strings.Contains(err.Error(), why) {
			t.Errorf("CheckURL(%q) = %v; want ErrInvalid mentioning %q", u, err, why)
		}
	}
	// Dial and Client.Connect refuse them the same way, Connect before any event.
	if _, err := moq.Dial(context.Background(), "moqt://127.0.0.1:99999/", nil); !errors.Is(err, moq.ErrInvalid) {
		t.Errorf("Dial: %v", err)
	}
	var events int
	c := moq.NewClient(&moq.ClientOptions{OnEvent: func(moq.ClientEvent) { events++ }})
	defer c.Close()
	if err := c.Connect(context.Background(), "moqt://a@127.0.0.1:1/"); !errors.Is(err, moq.ErrInvalid) {
		t.Errorf("Connect: %v", err)
	}
	if events != 0 {
		t.Errorf("%d events for a refused URL", events)
	}
}
