package main

// This file is pghba add: insert a rule into a pg_hba.conf, keeping every
// other byte.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pghba/pghba/hba/edit"
)

const addUsage = `usage: pghba add FILE [--before N | --after N] [--dry-run] [--force] [server flags] -- TYPE DB USER [ADDR] METHOD [OPTION...]

Add inserts a rule into FILE: before line N, after line N (after its
continuation lines, if it is a continued record), or at the end. The
arguments after -- are the rule's tokens, exactly as they are written in
the file, joined by single spaces: '"all"' is the role named all, all the
keyword. The rule is checked by the parser before anything is written: it
must be one rule that loads, for the server the flags describe. Every other
byte of FILE is kept (a last line without a line end gets one).

The change is printed as file:line: - old and file:line: + new lines.

The write is atomic: a temporary file in FILE's directory, synced, given
FILE's mode and owner, renamed over FILE (a symbolic link stays a link and
its target is replaced). Nothing is written when FILE is read-only, when it
changed since it was read, or when it does not load (unless --force).

Flags:
  --before N, --after N  where to insert (default: at the end); N is the
                         first line of a record, a comment or a blank line
  --dry-run              print the change, write nothing
  --force                edit a file that does not load
  --pg-version N, --minor N, --server-ssl on|off, --missing LIST,
  --oauth-validators LIST, --db-user-namespace
                         as for pghba check: the server the file is read for
  -f, --lines, --pgdata, --config-file, --dsn
                         refused: the file to edit is the FILE argument

Exit status: 0 when the rule was added (or would be, with --dry-run); 1 when
FILE does not load, or would not after the edit; 2 for bad usage, a rule
the parser refuses, a line that is not in FILE, or an I/O error (nothing is
then written).
`

func runAdd(inv *invocation, args []string) int {
	var before, after int
	var ef editFlags
	inv.flags.IntVar(&before, "before", 0, "")
	inv.flags.IntVar(&after, "after", 0, "")
	ef.register(inv, true)
	p, err := inv.start(args, 1<<20, func() error {
		if len(inv.args) == 0 {
			return badUsage("want FILE")
		}
		if inv.given["before"] && inv.given["after"] {
			return badUsage("--before and --after: choose one")
		}
		if len(inv.args) < 4 {
			return badUsage("want the rule's tokens after --: TYPE DB USER [ADDR] METHOD [OPTION...]")
		}
		return checkEditFlags(inv)
	})
	if err != nil {
		return inv.exit(err)
	}
	t, err := openEdit(p, inv.args[0])
	if err != nil {
		return editFail(inv, exitUsage, err)
	}
	if err := t.refuseUnloadable(ef.force); err != nil {
		return editFail(inv, exitNotLoaded, err)
	}
	text := strings.Join(inv.args[1:], " ")
	switch {
	case inv.given["before"]:
		_, err = t.file.InsertBefore(before, text)
	case inv.given["after"]:
		_, err = t.file.InsertAfter(after, text)
	default:
		_, err = t.file.Append(text)
	}
	if err != nil {
		return editFail(inv, exitUsage, lineError(t, err))
	}
	return finishEdit(inv, t, ef)
}

// lineError names the file in an edit's error.
func lineError(t *editTarget, err error) error {
	if errors.Is(err, edit.ErrBadRule) {
		return err
	}
	return fmt.Errorf("%s: %w", t.name, err)
}

// finishEdit prints the change of an edit and, unless --dry-run, writes it.
func finishEdit(inv *invocation, t *editTarget, ef editFlags) int {
	old, new := t.file.Change()
	if errs := t.file.Loaded().Errors; len(errs) > 0 && !ef.force {
		return editFail(inv, exitNotLoaded, fmt.Errorf("%s would not load after the edit (%v); not written", t.name, errs[0]))
	}
	printEdit(inv.stdout, t.name, old, new)
	if ef.dryRun {
		return exitOK
	}
	if err := t.write(new); err != nil {
		return editFail(inv, exitUsage, err)
	}
	return exitOK
}
