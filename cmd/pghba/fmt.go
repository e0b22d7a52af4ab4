package main

// This file is pghba fmt: align the columns of a pg_hba.conf, keeping every
// comment and every line number.

import (
	"bytes"
	"fmt"
)

const fmtUsage = `usage: pghba fmt [-w] [--check] [--force] [server flags] FILE

Fmt aligns the columns of FILE's rules the way the sample pg_hba.conf does:
DATABASE, USER, ADDRESS (with its netmask) and METHOD start at columns 9,
25, 41 and 65, or one space after a longer column before them; the options
and any comment follow, one space apart. Tokens are kept as written; comment lines, blank lines,
include directives, lines with errors and records continued with a
backslash keep their bytes, so every line keeps its number. Formatting is
idempotent, and checked: the formatted file has the view rows
(pg_hba_file_rules) of the file.

Without -w or --check the formatted file is written to standard output.

Flags:
  -w        write the result to FILE (atomically: see pghba help add)
  --check   write nothing; exit 1 when formatting would change FILE, and
            name it on standard output
  --force   with -w, write a file that does not load
  --pg-version N, --minor N, --server-ssl on|off, --missing LIST,
  --oauth-validators LIST, --db-user-namespace
            as for pghba check: the server the file is read for
  -f, --lines, --pgdata, --config-file, --dsn
            refused: the file to edit is the FILE argument

Exit status: 0 when FILE is formatted (or is already); 1 with --check when
it is not, or with -w when FILE does not load; 2 for bad usage or an I/O
error (nothing is then written).
`

func runFmt(inv *invocation, args []string) int {
	var write, check bool
	var ef editFlags
	inv.flags.BoolVar(&write, "w", false, "")
	inv.flags.BoolVar(&check, "check", false, "")
	ef.register(inv, false)
	p, err := inv.start(args, 1, func() error {
		if len(inv.args) != 1 {
			return badUsage("want one FILE")
		}
		if write && check {
			return badUsage("-w and --check: choose one")
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
	if err := t.file.Format(); err != nil {
		return editFail(inv, exitUsage, fmt.Errorf("%s: %w", t.name, err))
	}
	out := t.file.Bytes()
	switch {
	case check:
		if !bytes.Equal(out, t.data) {
			fmt.Fprintln(inv.stdout, t.name)
			return exitNotLoaded
		}
		return exitOK
	case write:
		if !t.file.Changed() {
			return exitOK
		}
		if err := t.refuseUnloadable(ef.force); err != nil {
			return editFail(inv, exitNotLoaded, err)
		}
		if err := t.write(out); err != nil {
			return editFail(inv, exitUsage, err)
		}
		return exitOK
	}
	inv.stdout.Write(out)
	return exitOK
}
