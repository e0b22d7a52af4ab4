package main

import (
	"fmt"
	"io"
	"strings"
)

// Exit statuses shared by the subcommands. Every command gives the same
// status for the same kind of failure:
//
//   - exitNotLoaded: the main pg_hba.conf, or the pg_ident.conf named by
//     --ident, did not load, whatever the reason: missing, unreadable, a line
//     error, a load limit the library enforces. The errors go to standard
//     error as file:line: message (lint reports them as load-error findings
//     instead). Commands also use 1 for their own negative answer (a lint
//     warning, a failed expectation).
//   - exitUsage: bad usage; an unreadable side input (--roles, --hosts,
//     --batch, the expectations of pghba test); a failed write to standard
//     output or standard error; an internal error.
const (
	exitOK        = 0 // the command did its job (for check: a decision was made)
	exitNotLoaded = 1 // the configuration files did not load
	exitUsage     = 2 // bad usage, an I/O error, or an internal error
)

// run is the whole program: it dispatches args[0] to a subcommand and
// returns the exit status. Whatever the command returns, a failed write to
// stdout or stderr makes the status exitUsage (output was lost: a caller
// must not take it as complete), and so does a panic, which is reported as
// one line instead of a stack dump. (A Go runtime fatal error, such as
// running out of memory, cannot be recovered; the library's load limits
// exist so that bad input gives a load error instead.)
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	out, errOut := &checkedWriter{w: stdout}, &checkedWriter{w: stderr}
	prefix := "pghba"
	if len(args) > 0 && lookup(args[0]) != nil {
		prefix += " " + args[0]
	}
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(errOut, "%s: internal error: %v\n", prefix, v)
			status = exitUsage
		}
		if out.err != nil {
			fmt.Fprintf(errOut, "%s: writing standard output: %v\n", prefix, out.err)
			status = exitUsage
		}
		if errOut.err != nil {
			status = exitUsage // nowhere left to say so
		}
	}()
	return dispatch(args, stdin, out, errOut)
}

// checkedWriter remembers the first write error; every later write fails
// with it at once, so a command that ignores write errors stops writing
// and run still sees the failure.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

// dispatch runs the subcommand args[0].
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		return runHelp(args[1:], stdout, stderr)
	default:
		c := lookup(name)
		if c == nil {
			fmt.Fprintf(stderr, "pghba: unknown command %q\nRun 'pghba help' for usage.\n", name)
			return exitUsage
		}
		return c.run(newInvocation(c, stdin, stdout, stderr), args[1:])
	}
}

// runHelp prints the general usage, or a command's usage.
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		printUsage(stdout)
		return exitOK
	case 1:
		c := lookup(args[0])
		if c == nil {
			fmt.Fprintf(stderr, "pghba help: unknown command %q\nRun 'pghba help' for usage.\n", args[0])
			return exitUsage
		}
		io.WriteString(stdout, c.usage)
		return exitOK
	}
	fmt.Fprintln(stderr, "usage: pghba help [command]")
	return exitUsage
}

// printUsage lists the commands, in the order of the table.
func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("pghba reads pg_hba.conf files as PostgreSQL 13–18 does.\n\nUsage:\n\n\tpghba <command> [arguments]\n\nThe commands are:\n\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "\t%-*s  %s\n", width, c.name, c.summary)
	}
	b.WriteString("\nRun 'pghba help <command>' for more about a command.\n")
	io.WriteString(w, b.String())
}
