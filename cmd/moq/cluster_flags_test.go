package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRelayClusterFlags: wrong combinations of the cluster flags are
// refused with a clear error before anything listens or dials (the cluster
// itself is tested in the relay package, with an embedded etcd).
func TestRelayClusterFlags(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--advertise", "moqt://127.0.0.1:4443/"}, "need --etcd"},
		{[]string{"--cluster-token-file", token}, "need --etcd"},
		{[]string{"--etcd", "http://127.0.0.1:1"}, "--etcd needs --cluster-token-file"},
		{[]string{"--etcd", "http://127.0.0.1:1", "--cluster-token-file", empty}, "the first line is empty"},
		{[]string{"--etcd", "http://127.0.0.1:1", "--cluster-token-file", filepath.Join(dir, "missing")}, "--cluster-token-file"},
		{[]string{"--etcd", "http://127.0.0.1:1", "--cluster-token-file", token, "--cluster-ttl", "500ms"}, "at least 1s"},
		{[]string{"--etcd", "http://127.0.0.1:1", "--cluster-token-file", token, "--advertise", "ftp://host/"}, "advertised URL"},
		{[]string{"--etcd", "http://127.0.0.1:1", "--cluster-token-file", token, "--relay-id", "a b"}, "relay ID"},
	} {
		root := newRootCmd()
		root.SetArgs(append([]string{"relay", "--listen", "127.0.0.1:0"}, tc.args...))
		var out, errOut bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errOut)
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("moq relay %s: %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
