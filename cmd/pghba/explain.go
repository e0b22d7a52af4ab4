package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

// This file is pghba check --explain. check.go calls explained (JSON) and
// writeTrace (text); both do nothing unless --explain was given and the
// files loaded.

// traceStep is one rule that did not match, as check --explain --json
// reports it.
type traceStep struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// explainTrace explains the decision of c; the file names are relative to
// the main file's directory.
func explainTrace(ld *loaded, c hba.Conn) (hba.Trace, []traceStep) {
	t := ld.rs.Explain(context.Background(), c)
	steps := make([]traceStep, 0, len(t.Misses))
	for _, m := range t.Misses {
		steps = append(steps, traceStep{File: ld.rel(m.Rule.Pos().Filename), Line: m.Rule.Pos().Line, Column: m.Column.String(), Reason: m.Reason})
	}
	return t, steps
}

// explained returns what check --json prints for res: res itself, or with
// --explain res and a "trace" array.
func explained(ld *loaded, c hba.Conn, res *result, explain bool) any {
	if !explain || ld.rs == nil {
		return res
	}
	_, steps := explainTrace(ld, c)
	return struct {
		*result
		Trace []traceStep `json:"trace"`
	}{res, steps}
}

// writeTrace prints, for check --explain, one line per rule before the
// deciding one:
//
//	pg_hba.conf:3: address 10.0.0.0/8 does not contain 192.168.1.5
//
// preceded by the names the rules were compared with when they differ from
// the ones given (database defaulted, truncated, db_user_namespace).
func writeTrace(w io.Writer, ld *loaded, c hba.Conn, explain bool) {
	if !explain || ld.rs == nil {
		return
	}
	t, steps := explainTrace(ld, c)
	var b strings.Builder
	db := c.Database
	if db == "" && c.Replication != hba.PhysicalReplication {
		db = c.User
	}
	if c.Replication == hba.PhysicalReplication {
		db = ""
	}
	if t.User != c.User || t.Database != db {
		fmt.Fprintf(&b, "compared as: database %s, user %s\n", strconv.Quote(t.Database), strconv.Quote(t.User))
	}
	for _, s := range steps {
		fmt.Fprintf(&b, "%s:%d: %s\n", s.File, s.Line, s.Reason)
	}
	if len(steps) == 0 && t.Decision.Rule != nil {
		b.WriteString("(the first rule decides)\n")
	}
	io.WriteString(w, b.String())
}
