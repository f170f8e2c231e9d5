// Command moq is the command-line tool of moq-ffi-go: a Media over QUIC
// Transport (MoQT) toolbox. Run "moq help" for its commands.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the process exit status. A
// failure prints exactly one line on stderr; never a usage dump.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, errorLine(err))
		return 1
	}
	return 0
}

// newRootCmd builds the "moq" command with all its subcommands. Each
// subcommand lives in its own file and registers itself through an add*Cmd
// function called here.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "moq",
		Short: "Media over QUIC Transport (MoQT) tools",
		Long: `moq is the command-line tool of moq-ffi-go, a Media over QUIC Transport
(MoQT) library.

MoQT is a publish/subscribe protocol for live media over QUIC or WebTransport:
publishers announce tracks, subscribers subscribe to them, and relays fan the
objects (frames, samples, state updates) out. moq-ffi-go speaks drafts 07
(in the specification's layout and in Cloudflare's), 14, 16, 18 and
20 of the protocol.`,
		SilenceUsage:  true, // errors are one line, printed by main
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	addWireCmd(root)
	addRelayCmd(root)
	addBenchCmd(root)
	addPubCmd(root)
	addSubCmd(root)
	addAnnouncesCmd(root)
	return root
}

// cmdError is an error from a subcommand, printed as "moq <command>: <err>".
type cmdError struct {
	cmd string
	err error
}

func (e *cmdError) Error() string { return "moq " + e.cmd + ": " + e.err.Error() }
func (e *cmdError) Unwrap() error { return e.err }

// errorLine renders err as a single line.
func errorLine(err error) string {
	s := err.Error()
	var ce *cmdError
	if !errors.As(err, &ce) {
		s = "moq: " + s
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
