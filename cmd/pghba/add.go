package main

// This file is pghba add: insert a rule into a pg_hba.conf, keeping every
// other byte.

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"

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

The change is printed as file:line: - old and file:line: + new lines, then
the decisions it changes, as pghba diff prints them (each region, before ->
after, a witness connection), and a "decisions:" summary line.

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
	t, status := openRecordEdit(inv, p, ef)
	if t == nil {
		return status
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
	io.WriteString(inv.stdout, editDecisions(t, old, new))
	if ef.dryRun {
		return exitOK
	}
	if err := t.write(new); err != nil {
		return editFail(inv, exitUsage, err)
	}
	return exitOK
}

// editDecisions is the safety check of an edit: the decisions it changes,
// as pghba diff reports them (audit.Diff of the file before and after), or
// "" when either side does not load (the edit then says so itself).
func editDecisions(t *editTarget, old, new []byte) string {
	of, nf := t.p.ParseBytes(t.abs, old), t.p.ParseBytes(t.abs, new)
	ors, oerr := t.p.Compile(of)
	nrs, nerr := t.p.Compile(nf)
	if oerr != nil || nerr != nil {
		return ""
	}
	n := namer{dir: filepath.Dir(t.abs)}
	ol, nl := &loaded{namer: n, file: of, rs: ors}, &loaded{namer: n, file: nf, rs: nrs}
	res := audit.Diff(of, nf, audit.DiffOptions{})
	checkFlags := func(side string) string {
		s := "pghba check -f " + shellWord(t.name)
		if t.p.Version != 0 && t.p.Version != hba.DefaultVersion {
			s += " --pg-version " + strconv.Itoa(t.p.Version)
		}
		if t.p.SSL {
			s += " --server-ssl on"
		}
		return s
	}
	var sb strings.Builder
	var changed, may, moved int
	for _, c := range res.Changes {
		switch c.Kind {
		case audit.Changed:
			changed++
		case audit.MayChange:
			may++
		case audit.Moved:
			moved++
		}
		// One file before and after: the two witness command lines of
		// pghba diff are the same line here; it is run before the edit
		// (--dry-run) and after it.
		lines := strings.SplitAfter(diffBlock(&c, ol, nl, checkFlags), "\n")
		for i, l := range lines {
			if i > 0 && strings.HasPrefix(lines[i-1], "  witness: ") && strings.TrimSpace(l) == strings.TrimSpace(strings.TrimPrefix(lines[i-1], "  witness: ")) {
				continue
			}
			sb.WriteString(l)
		}
	}
	switch {
	case res.Incomplete:
		fmt.Fprintf(&sb, "decisions: %d changed, %d may change, %d moved; incomplete: the work bound was reached\n", changed, may, moved)
	case changed+may+moved == 0:
		sb.WriteString("decisions: no decision changes\n")
	default:
		fmt.Fprintf(&sb, "decisions: %d changed, %d may change, %d moved\n", changed, may, moved)
	}
	return sb.String()
}
