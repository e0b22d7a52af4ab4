package conformance

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

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

// Diff returns a description of the differences, "" when equal.
func (o *Outcome) Diff(server *Outcome) string {
	var b strings.Builder
	if o.Loaded != server.Loaded {
		fmt.Fprintf(&b, "loaded: server %v, hba %v\n", server.Loaded, o.Loaded)
	}
	diffList(&b, "error", server.Errors, o.Errors)
	diffList(&b, "row", server.Rows, o.Rows)
	if len(o.Decisions) == len(server.Decisions) {
		for i := range o.Decisions {
			if o.Decisions[i] != server.Decisions[i] {
				fmt.Fprintf(&b, "conn %d: server %s, hba %s\n", i, server.Decisions[i], o.Decisions[i])
			}
		}
	} else if server.Loaded && o.Loaded {
		fmt.Fprintf(&b, "decisions: server %d, hba %d\n", len(server.Decisions), len(o.Decisions))
	}
	return b.String()
}

func diffList(b *strings.Builder, what string, server, lib []string) {
	if slices.Equal(server, lib) {
		return
	}
	for _, s := range server {
		if !slices.Contains(lib, s) {
			fmt.Fprintf(b, "%s only on the server: %s\n", what, s)
		}
	}
	for _, s := range lib {
		if !slices.Contains(server, s) {
			fmt.Fprintf(b, "%s only in hba: %s\n", what, s)
		}
	}
	if b.Len() == 0 || !strings.Contains(b.String(), what+" only") {
		fmt.Fprintf(b, "%s order differs:\n  server %q\n  hba    %q\n", what, server, lib)
	}
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
