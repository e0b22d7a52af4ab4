package main

// This file is the command table and what every command shares while it
// runs: the invocation (its flags and streams), start, the one way a
// command reads and checks its command line, and exit, the one way it stops
// with an error.

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pghba/pghba/hba"
)

// A command is one pghba subcommand, a row of the commands table.
type command struct {
	name    string // the word after "pghba"
	summary string // one line for "pghba help"
	usage   string // full help text, printed by "pghba help NAME" and "pghba NAME -h"
	// loading names the optional loading flags the command takes besides
	// the server flags every command takes (loadflags.go).
	loading loadOpts
	// interleaved: flags may follow arguments ("pghba test FILE --json").
	// Otherwise the first argument ends the flags, as in the flag package.
	interleaved bool
	// run runs the command on the arguments after its name and returns the
	// exit status. The loading flags are already defined on inv.flags. It
	// must not touch os.Stdin, os.Stdout, os.Stderr or os.Exit, so that
	// tests can run it in-process.
	run func(inv *invocation, args []string) int
}

// commands is the subcommand table, in the order "pghba help" lists it (by
// name). dispatch and help read it and nothing else; a new command is a row
// here and a file of its own.
var commands = []*command{
	{
		name:        "add",
		summary:     "insert a rule into a pg_hba.conf, keeping every other byte",
		usage:       addUsage,
		interleaved: true,
		run:         runAdd,
	},
	{
		name:    "check",
		summary: "decide a connection as the server would",
		usage:   checkUsage + identUsage,
		loading: withHosts | withWorld,
		run:     runCheck,
	},
	{
		name:    "diff",
		summary: "report the connections whose decision changes between two files or two servers",
		usage:   diffUsage,
		loading: withHosts | withWorld,
		run:     runDiff,
	},
	{
		name:    "exposure",
		summary: "summarise who can reach which databases, from where, by which method",
		usage:   exposureUsage,
		run:     runExposure,
	},
	{
		name:        "fmt",
		summary:     "align the columns of a pg_hba.conf, keeping comments and line numbers",
		usage:       fmtUsage,
		interleaved: true,
		run:         runFmt,
	},
	{
		name:        "lint",
		summary:     "report load errors, rules that can never match and risky settings",
		usage:       lintUsage,
		interleaved: true,
		run:         runLint,
	},
	{
		name:        "remove",
		summary:     "remove a record from a pg_hba.conf, keeping every other byte",
		usage:       removeUsage,
		interleaved: true,
		run:         runRemove,
	},
	{
		name:        "rules",
		summary:     "show the rows of pg_hba_file_rules or pg_ident_file_mappings",
		usage:       rulesUsage,
		loading:     withHosts,
		interleaved: true,
		run:         runRules,
	},
	{
		name:        "test",
		summary:     "check a pg_hba.conf against allow/deny expectations",
		usage:       testUsage,
		loading:     withHosts | withWorld,
		interleaved: true,
		run:         runTest,
	},
}

// lookup returns the command called name, or nil.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// An invocation is one run of a command: its row of the table, its flags
// and the standard streams.
type invocation struct {
	cmd    *command
	flags  *flag.FlagSet
	load   loadFlags       // filled in and checked by start
	given  map[string]bool // the flags given on the command line, after start
	args   []string        // the arguments left after start
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// newInvocation prepares a run of c: a flag set with the loading flags c
// takes already defined on it.
func newInvocation(c *command, stdin io.Reader, stdout, stderr io.Writer) *invocation {
	inv := &invocation{cmd: c, flags: flag.NewFlagSet(c.name, flag.ContinueOnError), stdin: stdin, stdout: stdout, stderr: stderr}
	inv.flags.SetOutput(stderr)
	inv.flags.Usage = func() {}
	inv.load.register(inv.flags, c.loading)
	return inv
}

// start begins the run of the command on the command line args, in the
// order every command follows: it parses the flags and at most maxArgs
// arguments (left in inv.args), checks the loading flags, then runs check,
// the command's own checks of its flags (nil: none), and last returns the
// Parser the loading flags describe, reading the side inputs they name
// (--roles, --hosts). So bad usage is always reported before an input is
// read. The error is for exit: flag.ErrHelp for -h, a usageError, or the
// failure to read a side input.
func (inv *invocation) start(args []string, maxArgs int, check func() error) (*hba.Parser, error) {
	if err := inv.parse(args, maxArgs); err != nil {
		return nil, err
	}
	if err := inv.load.validate(inv.given); err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	p, err := inv.load.parser()
	for _, n := range inv.load.notes {
		fmt.Fprintf(inv.stderr, "pghba %s: %s\n", inv.cmd.name, n)
	}
	return p, err
}

// parse parses the flags and arguments of args, for start.
func (inv *invocation) parse(args []string, maxArgs int) error {
	var rest []string
	for {
		if err := inv.flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError("") // the flag package has said what is wrong
		}
		left := inv.flags.Args()
		if !inv.cmd.interleaved {
			rest = left
			break
		}
		// Flags may follow the arguments: parse again after each argument.
		if len(left) == 0 {
			break
		}
		if n := len(args) - len(left); n > 0 && args[n-1] == "--" {
			rest = append(rest, left...)
			break
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
	if len(rest) > maxArgs {
		return badUsage("unexpected argument %q", rest[maxArgs])
	}
	inv.args = rest
	inv.given = map[string]bool{}
	inv.flags.Visit(func(fl *flag.Flag) { inv.given[fl.Name] = true })
	return nil
}

// A usageError is bad usage of a command. exit prints it with a pointer to
// the command's help; an empty one prints only the pointer (the flag
// package has already said what is wrong).
type usageError string

func (e usageError) Error() string { return string(e) }

// badUsage is a usageError with a formatted message.
func badUsage(format string, args ...any) error {
	return usageError(fmt.Sprintf(format, args...))
}

// exit reports err, which stops the command, and returns the exit status:
//
//   - flag.ErrHelp (-h): the command's usage on standard output, exitOK;
//   - a usageError: "pghba CMD: message" and "Run 'pghba help CMD' for
//     usage." on standard error, exitUsage;
//   - any other error, a side input that cannot be read: "pghba CMD:
//     message" on standard error, exitUsage.
func (inv *invocation) exit(err error) int {
	var u usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		io.WriteString(inv.stdout, inv.cmd.usage)
		return exitOK
	case errors.As(err, &u):
		if u != "" {
			fmt.Fprintf(inv.stderr, "pghba %s: %s\n", inv.cmd.name, u)
		}
		fmt.Fprintf(inv.stderr, "Run 'pghba help %s' for usage.\n", inv.cmd.name)
	default:
		fmt.Fprintf(inv.stderr, "pghba %s: %s\n", inv.cmd.name, err)
	}
	return exitUsage
}
