package conformance

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pghba/pghba/hba"
)

// Outcome is everything compared for one case, in a form both sides (the
// server and package hba) produce. File names are relative to the case
// directory; the directory itself appears in texts as "$DIR".
type Outcome struct {
	// Loaded: the file set was accepted (server: no "was not reloaded";
	// hba: Compile succeeded).
	Loaded bool
	// Rows are the pg_hba_file_rules rows, in order: "file:line" followed,
	// for rows with data columns, by the columns compared.
	Rows []string
	// Errors are the view's error texts: "file:line: text", in row order.
	Errors []string
	// Decisions has one entry per connection when Loaded: "match file:line",
	// "reject file:line" or "no-match".
	Decisions []string
}

// Diff returns the differences (cmp.Diff, -server +hba), "" when equal.
// Decisions are compared when both sides have as many, or both loaded: a
// side that did not load has none, and Loaded already differs.
func (o *Outcome) Diff(server *Outcome) string {
	srv, lib := *server, *o
	if len(srv.Decisions) != len(lib.Decisions) && !(srv.Loaded && lib.Loaded) {
		srv.Decisions, lib.Decisions = nil, nil
	}
	if d := cmp.Diff(srv, lib, cmpopts.EquateEmpty()); d != "" {
		return "(-server +hba)\n" + d
	}
	return ""
}

// RowColumns renders the compared data columns of a view row.
func RowColumns(typ string, db, user []string, addr, mask, method string, opts []string) string {
	return fmt.Sprintf("%s db=%q user=%q addr=%s mask=%s method=%s opts=%q", typ, db, user, addr, mask, method, opts)
}

// Rel makes an absolute path relative to dir (slash-separated).
func Rel(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

// HBAOutcome computes the library's outcome for the files under dir (the
// main file is dir/pg_hba.conf), deciding conns with the rules when they
// load.
func HBAOutcome(p *hba.Parser, dir string, conns []Conn) (out *Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hba panicked: %v", r)
		}
	}()
	out = &Outcome{}
	f, err := p.ParseFile(filepath.Join(dir, MainFile))
	if err != nil {
		return nil, err
	}
	sub := func(s string) string { return strings.ReplaceAll(s, dir, "$DIR") }
	for _, r := range f.ViewRows() {
		pos := fmt.Sprintf("%s:%d", Rel(dir, r.FileName), r.LineNumber)
		if r.Error != "" {
			out.Errors = append(out.Errors, pos+": "+sub(r.Error))
		}
		row := pos
		if p.Version >= 16 {
			row += " #" + ruleNumber(r.RuleNumber)
		}
		if r.Type != "" {
			addr := "NULL"
			if r.HasAddress {
				addr = r.Address
			}
			row += " " + RowColumns(r.Type, r.Database, r.UserName, addr, orNULL(r.Netmask), r.AuthMethod, r.Options)
		}
		out.Rows = append(out.Rows, sub(row))
	}
	rs, cerr := p.Compile(f)
	out.Loaded = cerr == nil
	if !out.Loaded {
		return out, nil
	}
	ctx := context.Background()
	for _, c := range conns {
		d := rs.Decide(ctx, c.HBA())
		out.Decisions = append(out.Decisions, decisionString(dir, d))
	}
	return out, nil
}

func decisionString(dir string, d hba.Decision) string {
	switch d.Outcome {
	case hba.Matched:
		return fmt.Sprintf("match %s:%d", Rel(dir, d.Rule.Pos().Filename), d.Rule.Pos().Line)
	case hba.Rejected:
		return fmt.Sprintf("reject %s:%d", Rel(dir, d.Rule.Pos().Filename), d.Rule.Pos().Line)
	case hba.NoMatch:
		return "no-match"
	}
	where := ""
	if d.Rule != nil {
		where = fmt.Sprintf(" %s:%d", Rel(dir, d.Rule.Pos().Filename), d.Rule.Pos().Line)
	}
	return fmt.Sprintf("unresolved%s (%s)", where, d.Reason)
}

func orNULL(s string) string {
	if s == "" {
		return "NULL"
	}
	return s
}

// ruleNumber renders pg_hba_file_rules.rule_number; 0 is NULL.
func ruleNumber(n int) string {
	if n == 0 {
		return "NULL"
	}
	return fmt.Sprint(n)
}
