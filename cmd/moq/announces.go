package main

import (
	"errors"
	"fmt"

	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/spf13/cobra"
)

type announcesFlags struct {
	conn  connFlags
	count int
}

func addAnnouncesCmd(root *cobra.Command) {
	var f announcesFlags
	cmd := &cobra.Command{
		Use:   "announces URL [PREFIX]",
		Short: "List the namespaces announced under a prefix, as they come and go",
		Long: `announces connects to the relay at URL and lists the namespaces publishers
announce there under PREFIX (a namespace written a/b/c; a namespace is under
a prefix when its first fields are the prefix's fields): first those already
announced, then each change as it happens, one per line:

  + a/b     the namespace a/b was announced (its tracks can be subscribed to)
  - a/b     the namespace a/b was withdrawn

` + conceptsHelp + `

Drafts 07 (SUBSCRIBE_ANNOUNCES) and 16 (SUBSCRIBE_NAMESPACE) accept an empty
prefix, meaning every namespace. Draft 14 does not allow an empty prefix:
there PREFIX is required.

announces runs until interrupted (Ctrl-C, exit status 0), until --count
events were printed, or until the connection fails (exit status 1).

` + connectionHelp,
		Example: `  moq announces moqt://127.0.0.1:4443/ demo --pin FINGERPRINT
  moq announces moqt://127.0.0.1:4443/ --draft 07cf --pin FINGERPRINT`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runAnnounces(cmd, args, &f); err != nil {
				return &cmdError{cmd: "announces", err: err}
			}
			return nil
		},
	}
	addConnFlags(cmd, &f.conn)
	cmd.Flags().IntVar(&f.count, "count", 0, "exit after this many events (0: no limit)")
	root.AddCommand(cmd)
}

var errPrefixRequired = errors.New("draft 14 does not allow an empty namespace prefix: give PREFIX")

func runAnnounces(cmd *cobra.Command, args []string, f *announcesFlags) (err error) {
	if f.count < 0 {
		return fmt.Errorf("--count %d: must not be negative", f.count)
	}
	var prefix moq.Namespace
	if len(args) == 2 {
		p, err := parseNamespace(args[1])
		if err != nil {
			return fmt.Errorf("prefix: %w", err)
		}
		prefix = p
	}
	opts, err := f.conn.options(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if len(prefix) == 0 && len(opts.Drafts) == 1 && opts.Drafts[0] == moq.Draft14 {
		return errPrefixRequired
	}
	ctx, stop := signalContext(cmd)
	defer stop()
	defer func() {
		if ctx.Err() != nil {
			err = nil // interrupted: whatever was under way stopped because of it
		}
	}()
	sess, err := moq.Dial(ctx, args[0], opts)
	if err != nil {
		return err
	}
	defer sess.Close()
	if len(prefix) == 0 && sess.Draft() == moq.Draft14 {
		return errPrefixRequired
	}
	ns, err := sess.SubscribeNamespace(ctx, prefix)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("subscribe to namespaces under %q: %w", prefix.String(), err)
	}
	defer ns.Close()
	out := cmd.OutOrStdout()
	for n := 0; f.count == 0 || n < f.count; n++ {
		ev, err := ns.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		sign := "+"
		if !ev.Active {
			sign = "-"
		}
		if _, err := fmt.Fprintf(out, "%s %s\n", sign, ev.Namespace); err != nil {
			return fmt.Errorf("standard output: %w", err)
		}
	}
	return nil
}
