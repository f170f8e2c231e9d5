package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
	"github.com/moq-ffi/moq-ffi-go/internal/wire/wirejson"
)

// maxInput bounds what "moq wire" reads from stdin.
const maxInput = 64 << 20

const wireLong = `Convert MoQT wire bytes to readable JSON and back.

MoQT (Media over QUIC Transport) peers exchange three kinds of binary units:

  control   messages on the session's control stream (SETUP, SUBSCRIBE,
            SUBSCRIBE_OK, ANNOUNCE / PUBLISH_NAMESPACE, ...). Each starts with
            a message type and a length.
  subgroup  a unidirectional data stream that carries objects of one group
            of a track: a header (track alias, group, subgroup, priority),
            then the objects (ID, status, payload) until the stream ends.
  fetch     a data stream answering a FETCH: a header (the request ID), then
            objects that each carry their group, subgroup and object ID.
  datagram  one object sent in a QUIC datagram.

The byte layout depends on the draft of the protocol the peers speak:

  07        draft-ietf-moq-transport-07, as the specification writes it
  07cf      draft-07 as Cloudflare's relay and moq-rs speak it (the subgroup
            header carries a subscribe ID before the track alias; datagrams
            have no type byte); control messages are as in 07
  14        draft-ietf-moq-transport-14
  16        draft-ietf-moq-transport-16 (most of 14's fixed fields are
            parameters, shown by name under "parameters"; subgroup and
            fetch objects as the draft-16 vectors show them)

The JSON is the "decoded" form of the moqtap conformance vectors: field names
in snake_case as the draft names them, every integer as a decimal string,
namespaces as arrays of strings, payloads as "payload_hex", and parameters as
an object keyed by parameter name in wire order (others under "unknown"). A
byte string that is not valid UTF-8 is shown as {"hex": "..."}. Control
messages name their type in "message_type"; data units in "stream_type".
"moq wire encode" accepts exactly what "moq wire decode" prints.`

// addWireCmd adds "moq wire" and its subcommands to root.
func addWireCmd(root *cobra.Command) {
	var draftFlag, kindFlag string
	wireCmd := &cobra.Command{
		Use:   "wire",
		Short: "Decode MoQT wire bytes to JSON, or encode JSON to wire bytes",
		Long:  wireLong,
		Example: `  moq wire decode --draft 14 --kind control 0300120101046c69766505766964656f8000000100
  moq wire decode --draft 07cf --kind subgroup 04 07 01 00 00 80 00 02 6869
  echo '{"message_type":"unsubscribe","request_id":"5"}' | moq wire encode --draft 14 -
  moq wire decode --draft 16 0300110101046c69766505766964656f01204080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	wireCmd.PersistentFlags().StringVar(&draftFlag, "draft", "", "protocol draft: 07, 07cf (Cloudflare/moq-rs layout), 14, 16, 18 or 20 (required)")
	wireCmd.PersistentFlags().StringVar(&kindFlag, "kind", "",
		"unit: control, subgroup, datagram or fetch (decode: default control; encode: default from the JSON's message_type or stream_type)")

	// options returns the draft and kind flags; an unset kind is
	// defaultKind.
	options := func(defaultKind wirejson.Kind) (wire.Draft, wirejson.Kind, error) {
		if draftFlag == "" {
			return 0, "", errors.New("--draft is required (07, 07cf, 14, 16, 18 or 20)")
		}
		d, err := wire.ParseDraft(draftFlag)
		if err != nil {
			return 0, "", err
		}
		if kindFlag == "" {
			return d, defaultKind, nil
		}
		k, err := wirejson.ParseKind(kindFlag)
		if err != nil {
			return 0, "", err
		}
		return d, k, nil
	}

	decodeCmd := &cobra.Command{
		Use:   "decode [HEX...|-]",
		Short: "Print the JSON form of wire bytes given in hex",
		Long: `Decode one unit of wire bytes, given in hex, and print its JSON form.

The hex may be split over several arguments and may contain spaces; a leading
"0x" is ignored. With no argument or "-", it is read from standard input. The
input must be exactly one unit: one control message, one datagram, or a whole
stream (whose end is the end of the input).

On malformed input the command prints one line naming the field at fault and
exits with status 1.`,
		Example: `  moq wire decode --draft 14 --kind control 0300120101046c69766505766964656f8000000100
  moq wire decode --draft 07 --kind datagram 010102008004deadbeef`,
		RunE: func(cmd *cobra.Command, args []string) error {
			fail := func(err error) error { return &cmdError{cmd: "wire", err: err} }
			d, k, err := options(wirejson.KindControl)
			if err != nil {
				return fail(err)
			}
			text, err := inputText(cmd, args)
			if err != nil {
				return fail(err)
			}
			b, err := parseHex(text)
			if err != nil {
				return fail(err)
			}
			out, err := wirejson.Decode(d, k, b)
			if err != nil {
				return fail(err)
			}
			var ind bytes.Buffer
			if err := json.Indent(&ind, out, "", "  "); err != nil {
				return fail(err)
			}
			ind.WriteByte('\n')
			_, err = cmd.OutOrStdout().Write(ind.Bytes())
			return err
		},
	}

	encodeCmd := &cobra.Command{
		Use:   "encode [JSON|-]",
		Short: "Print the wire bytes, in hex, of a unit given as JSON",
		Long: `Encode one unit given in the JSON form that "moq wire decode" prints, and
print its wire bytes as lowercase hex.

The JSON is the single argument or, with no argument or "-", standard input.
Control messages must name their type in "message_type" (for example
"subscribe", or "announce" in draft 07 and "publish_namespace" in draft 14).
Without --kind, the kind of unit is taken from "message_type" (a control
message) or "stream_type" (a data stream or datagram).

On malformed input the command prints one line naming the field at fault and
exits with status 1.`,
		Example: `  moq wire encode --draft 14 '{"message_type":"max_request_id","request_id":"100"}'
  moq wire decode --draft 07 --kind subgroup 04010000800004deadbeef | moq wire encode --draft 07`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fail := func(err error) error { return &cmdError{cmd: "wire", err: err} }
			d, k, err := options("")
			if err != nil {
				return fail(err)
			}
			text, err := inputText(cmd, args)
			if err != nil {
				return fail(err)
			}
			b, err := wirejson.Encode(d, k, []byte(text))
			if err != nil {
				return fail(err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), hex.EncodeToString(b))
			return err
		},
	}

	wireCmd.AddCommand(decodeCmd, encodeCmd)
	root.AddCommand(wireCmd)
}

// inputText joins the arguments, or reads stdin when there are none or the
// only one is "-".
func inputText(cmd *cobra.Command, args []string) (string, error) {
	if len(args) > 0 && !(len(args) == 1 && args[0] == "-") {
		return strings.Join(args, " "), nil
	}
	b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxInput+1))
	if err != nil {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	if len(b) > maxInput {
		return "", fmt.Errorf("standard input is larger than %d bytes", maxInput)
	}
	return string(b), nil
}

// parseHex decodes hex that may contain white space and a leading "0x".
func parseHex(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" {
		return nil, errors.New("no input: give the bytes as hex")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		var ie hex.InvalidByteError
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("bad hex input: %q is not a hex digit", rune(ie))
		}
		if errors.Is(err, hex.ErrLength) {
			return nil, fmt.Errorf("bad hex input: odd number of hex digits (%d)", len(s))
		}
		return nil, fmt.Errorf("bad hex input: %v", err)
	}
	return b, nil
}
