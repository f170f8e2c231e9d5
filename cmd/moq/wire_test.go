package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// runCLI runs the moq command in-process and returns its exit status,
// stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// wantOneLineError checks a failed run: status 1, nothing on stdout, one line
// on stderr that contains each of want.
func wantOneLineError(t *testing.T, code int, stdout, stderr string, want ...string) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	if !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr is not exactly one line: %q", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "Usage:") {
		t.Errorf("stderr has a stack trace or usage: %q", stderr)
	}
}

const subscribeHex = "0300120101046c69766505766964656f8000000100"

func TestWireDecodeSubscribe(t *testing.T) {
	code, out, errOut := runCLI(t, "", "wire", "decode", "--draft", "14", "--kind", "control", subscribeHex)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	want := map[string]any{
		"message_type":        "subscribe",
		"request_id":          "1",
		"track_namespace":     []any{"live"},
		"track_name":          "video",
		"subscriber_priority": "128",
		"group_order":         "0",
		"forward":             "0",
		"filter_type":         "1",
		"parameters":          map[string]any{},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("decode output\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if !strings.Contains(out, "\n  \"request_id\": \"1\",\n") {
		t.Errorf("output is not indented:\n%s", out)
	}

	// The printed JSON encodes back to the same bytes, given as an argument
	// or on stdin.
	code, hexOut, errOut := runCLI(t, "", "wire", "encode", "--draft", "14", "--kind", "control", out)
	if code != 0 || hexOut != subscribeHex+"\n" {
		t.Errorf("encode (argument): exit %d, stdout %q, stderr %q; want %s", code, hexOut, errOut, subscribeHex)
	}
	code, hexOut, errOut = runCLI(t, out, "wire", "encode", "--draft", "14", "--kind", "control", "-")
	if code != 0 || hexOut != subscribeHex+"\n" {
		t.Errorf("encode (stdin): exit %d, stdout %q, stderr %q; want %s", code, hexOut, errOut, subscribeHex)
	}
}

func TestWireDecodeStdin(t *testing.T) {
	code, out, errOut := runCLI(t, " 0x0a00 0101\n", "wire", "decode", "--draft", "14")
	if code != 0 || !strings.Contains(out, `"message_type": "unsubscribe"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestWireErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"truncated length", "", []string{"wire", "decode", "--draft", "14", "--kind", "control", "0300"},
			[]string{"moq wire: decode SUBSCRIBE: truncated field message_length"}},
		{"truncated field", "", []string{"wire", "decode", "--draft", "14", "--kind", "control", "0300120101046c697665"},
			[]string{"moq wire: decode SUBSCRIBE: truncated field track_name", "unexpected end of input"}},
		{"invalid value", "", []string{"wire", "decode", "--draft", "14", "0300120101046c69766505766964656f8000000000"},
			[]string{"moq wire: decode SUBSCRIBE: invalid value field filter_type"}},
		{"trailing bytes", "", []string{"wire", "decode", "--draft", "14", "0a00010100"},
			[]string{"moq wire: decode UNSUBSCRIBE", "1 bytes follow"}},
		{"bad hex digit", "", []string{"wire", "decode", "--draft", "14", "03zz"},
			[]string{"moq wire: bad hex input", "'z'"}},
		{"odd hex", "", []string{"wire", "decode", "--draft", "14", "030"},
			[]string{"moq wire: bad hex input", "odd"}},
		{"empty input", "", []string{"wire", "decode", "--draft", "14"},
			[]string{"moq wire: no input"}},
		{"unknown draft", "", []string{"wire", "decode", "--draft", "99", "0a000101"},
			[]string{"moq wire:", `unknown draft "99"`}},
		{"missing draft", "", []string{"wire", "decode", "0a000101"},
			[]string{"moq wire: --draft is required"}},
		{"unknown kind", "", []string{"wire", "decode", "--draft", "14", "--kind", "stream", "0a000101"},
			[]string{"moq wire:", `unknown kind "stream"`}},
		{"unknown flag", "", []string{"wire", "decode", "--bogus"},
			[]string{"moq: unknown flag: --bogus"}},
		{"bad JSON", "", []string{"wire", "encode", "--draft", "14", `{"message_type": "subscribe",`},
			[]string{"moq wire: encode", "invalid JSON"}},
		{"missing field", "{\n\"message_type\": \"subscribe\"\n}", []string{"wire", "encode", "--draft", "14"},
			[]string{"moq wire: encode SUBSCRIBE: field request_id: missing"}},
		{"field of the other draft", "", []string{"wire", "encode", "--draft", "07", `{"message_type":"unsubscribe","request_id":"1"}`},
			[]string{"moq wire: encode UNSUBSCRIBE: field subscribe_id: missing"}},
		{"message of the other draft", "", []string{"wire", "encode", "--draft", "07", `{"message_type":"publish_namespace"}`},
			[]string{"moq wire: encode", `"publish_namespace" is not a draft-07 control message`}},
		{"bad payload hex", "", []string{"wire", "encode", "--draft", "14", "--kind", "datagram",
			`{"stream_type":"object_datagram","stream_type_id":"0","track_alias":"1","group_id":"2","object_id":"0","publisher_priority":"128","payload_hex":"xyz"}`},
			[]string{"moq wire: encode datagram: field payload_hex: bad hex"}},
		{"truncated stream", "", []string{"wire", "decode", "--draft", "07cf", "--kind", "subgroup", "040701000080000568"},
			[]string{"moq wire: decode subgroup stream: truncated field objects[0].payload_hex"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			wantOneLineError(t, code, out, errOut, tc.want...)
		})
	}
}

// A subgroup stream in the Cloudflare (moq-rs) draft-07 layout: the header
// carries the subscribe ID before the track alias.
func TestWireCloudflareSubgroup(t *testing.T) {
	// type 0x04, subscribe ID 7, track alias 1, group 5, subgroup 0,
	// priority 0x80; object 0 "hi"; object 1 End of Group (status 3).
	const stream = "04070105008000026869010003"
	code, out, errOut := runCLI(t, "", "wire", "decode", "--draft", "07cf", "--kind", "subgroup", stream)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got struct {
		StreamType  string `json:"stream_type"`
		SubscribeID string `json:"subscribe_id"`
		TrackAlias  string `json:"track_alias"`
		GroupID     string `json:"group_id"`
		SubgroupID  string `json:"subgroup_id"`
		Priority    string `json:"publisher_priority"`
		Objects     []struct {
			ObjectID   string `json:"object_id"`
			Status     string `json:"object_status"`
			PayloadHex string `json:"payload_hex"`
		} `json:"objects"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.StreamType != "stream_header_subgroup" || got.SubscribeID != "7" || got.TrackAlias != "1" ||
		got.GroupID != "5" || got.SubgroupID != "0" || got.Priority != "128" || len(got.Objects) != 2 ||
		got.Objects[0].ObjectID != "0" || got.Objects[0].PayloadHex != "6869" ||
		got.Objects[1].ObjectID != "1" || got.Objects[1].Status != "3" || got.Objects[1].PayloadHex != "" {
		t.Errorf("unexpected decode:\n%s", out)
	}
	code, hexOut, errOut := runCLI(t, out, "wire", "encode", "--draft", "07cf", "--kind", "subgroup")
	if code != 0 || hexOut != stream+"\n" {
		t.Errorf("encode: exit %d, stdout %q, stderr %q; want %s", code, hexOut, errOut, stream)
	}
	// Without --kind, the kind comes from "stream_type".
	code, hexOut, _ = runCLI(t, out, "wire", "encode", "--draft", "07cf", "-")
	if code != 0 || hexOut != stream+"\n" {
		t.Errorf("encode via stdin: exit %d, stdout %q", code, hexOut)
	}

	// The same bytes in the specification's draft-07 layout are read
	// differently: the subscribe ID becomes the track alias.
	code, out07, _ := runCLI(t, "", "wire", "decode", "--draft", "07", "--kind", "subgroup", stream)
	if code == 0 && strings.Contains(out07, `"subscribe_id"`) {
		t.Errorf("draft 07 decode shows a subscribe_id:\n%s", out07)
	}
}

func TestWireCloudflareDatagram(t *testing.T) {
	// No type byte: subscribe ID 2, alias 1, group 3, object 4, priority
	// 0x40, status 0, length 2, "ok".
	const dg = "02010304400002" + "6f6b"
	code, out, errOut := runCLI(t, "", "wire", "decode", "--draft", "07cf", "--kind", "datagram", dg)
	if code != 0 || !strings.Contains(out, `"subscribe_id": "2"`) || !strings.Contains(out, `"payload_hex": "6f6b"`) {
		t.Fatalf("exit %d, stdout %s, stderr %q", code, out, errOut)
	}
	code, hexOut, errOut := runCLI(t, out, "wire", "encode", "--draft", "07cf", "--kind", "datagram")
	if code != 0 || hexOut != dg+"\n" {
		t.Errorf("encode: exit %d, stdout %q, stderr %q; want %s", code, hexOut, errOut, dg)
	}
}

func TestWireHelp(t *testing.T) {
	code, out, errOut := runCLI(t, "", "wire", "--help")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"Media over QUIC", "07cf", "control", "subgroup", "datagram", "fetch", "decode", "encode"} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not mention %q:\n%s", want, out)
		}
	}
	// "moq wire" alone shows the same help.
	code, out2, _ := runCLI(t, "", "wire")
	if code != 0 || out2 != out {
		t.Errorf("moq wire: exit %d, output differs from --help", code)
	}
}

// TestWireDraft16: "moq wire --draft 16" decodes a SUBSCRIBE whose priority
// is a parameter, a subgroup stream with the default-priority type, and
// encodes the JSON back to the same bytes.
func TestWireDraft16(t *testing.T) {
	for _, c := range []struct {
		kind, hex string
		want      []string
	}{
		{"control", "0300110101046c69766505766964656f01204080",
			[]string{`"message_type": "subscribe"`, `"subscriber_priority": "128"`}},
		{"subgroup", "3001000004deadbeef", []string{`"header_type": "0x30"`, `"payload_hex": "deadbeef"`}},
		{"fetch", "05041c00008004deadbeef", []string{`"serialization_flags": "0x1c"`}},
		{"datagram", "08010000deadbeef", []string{`"datagram_type": "0x08"`}},
	} {
		code, out, errOut := runCLI(t, "", "wire", "decode", "--draft", "16", "--kind", c.kind, c.hex)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d, stderr %q", c.kind, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output does not contain %s:\n%s", c.kind, w, out)
			}
		}
		code, hexOut, errOut := runCLI(t, out, "wire", "encode", "--draft", "16", "-")
		if code != 0 || hexOut != c.hex+"\n" {
			t.Errorf("%s: encode: exit %d, stdout %q, stderr %q; want %s", c.kind, code, hexOut, errOut, c.hex)
		}
	}
	// A draft-14 message type that draft-16 dropped.
	code, _, errOut := runCLI(t, "", "wire", "encode", "--draft", "16", `{"message_type":"subscribe_error","request_id":"1"}`)
	if code == 0 || !strings.Contains(errOut, "not a draft-16 control message") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
