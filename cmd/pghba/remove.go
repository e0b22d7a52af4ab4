package main

// This file is pghba remove: remove a record from a pg_hba.conf, keeping
// every other byte.

import (
	"fmt"

	"github.com/pghba/pghba/hba/edit"
)

const removeUsage = `usage: pghba remove FILE --line N [--dry-run] [--force] [server flags]

Remove removes the record that starts at line N of FILE (a rule, an include
directive or a line with an error), with its continuation lines. Every other
byte is kept. The change is printed and written as by pghba add (see pghba
help add): atomically, never to a read-only file, a file that changed since
it was read, or one that does not load (unless --force).

Flags:
  --line N     the record's first line, as pg_hba_file_rules shows it
  --dry-run    print the change, write nothing
  --force      edit a file that does not load
  --pg-version N, --minor N, --server-ssl on|off, --missing LIST,
  --oauth-validators LIST, --db-user-namespace
               as for pghba check: the server the file is read for
  -f, --lines, --pgdata, --config-file, --dsn
               refused: the file to edit is the FILE argument

Exit status: 0 when the line was removed (or would be, with --dry-run); 1
when FILE does not load, or would not after the edit; 2 for bad usage, a
line past the end of FILE, a line that is a comment, blank or a continuation
line, or an I/O error (nothing is then written).
`

func runRemove(inv *invocation, args []string) int {
	var line int
	var ef editFlags
	inv.flags.IntVar(&line, "line", 0, "")
	ef.register(inv, true)
	p, err := inv.start(args, 1, func() error {
		if len(inv.args) != 1 {
			return badUsage("want one FILE")
		}
		if !inv.given["line"] {
			return badUsage("want --line N")
		}
		if line < 1 {
			return badUsage("--line %d: lines are numbered from 1", line)
		}
		return checkEditFlags(inv)
	})
	if err != nil {
		return inv.exit(err)
	}
	t, status := openRecordEdit(inv, p, ef)
	if t == nil {
		return status
	}
	l, _, err := t.file.Find(line)
	if err != nil {
		return editFail(inv, exitUsage, lineError(t, err))
	}
	if !l.Kind.IsRecord() {
		return editFail(inv, exitUsage, fmt.Errorf("%s: line %d: %w: it is a %s line", t.name, line, edit.ErrNotRecord, l.Kind))
	}
	if err := t.file.Remove(line); err != nil {
		return editFail(inv, exitUsage, lineError(t, err))
	}
	return finishEdit(inv, t, ef)
}
