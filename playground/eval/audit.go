package eval

// This file is the playground's only use of Lint and Exposure, kept apart so
// that moving them to another package changes one file.

import (
	"fmt"
	"time"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

// MaxAuditRules is the most rules Audit analyses. Lint's unreachable-rule
// proof grows faster than linearly with the file (about 0.2 s for 1,000
// rules and 5 s for 5,000 natively, slower in WebAssembly), so larger files
// are decided and shown but not linted; `pghba lint` has no such limit.
const MaxAuditRules = 2000

// AuditResult is the lint findings and the exposure table of a state.
type AuditResult struct {
	Error    string     `json:"error,omitempty"`
	Skipped  string     `json:"skipped,omitempty"`
	Lint     []Finding  `json:"lint"`
	Exposure []Exposure `json:"exposure"`
	Micros   int64      `json:"micros"`
}

// Finding is one lint finding; Related are file:line references.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Severity string   `json:"severity"`
	Check    string   `json:"check"`
	Message  string   `json:"message"`
	Related  []string `json:"related,omitempty"`
}

// Exposure is one row of the exposure table; Rules are file:line references.
type Exposure struct {
	Method    string   `json:"method"`
	Transport string   `json:"transport"`
	Addresses []string `json:"addresses"`
	Except    []string `json:"except,omitempty"`
	Databases []string `json:"databases"`
	Users     []string `json:"users"`
	Rules     []string `json:"rules"`
}

// Audit lints the state's pg_hba.conf (with its pg_ident.conf, when that
// loads, for missing-map) and summarises its exposure.
func Audit(st *State) *AuditResult {
	start := time.Now()
	s, err := load(st)
	if err != nil {
		return &AuditResult{Error: err.Error()}
	}
	r := &AuditResult{Lint: []Finding{}, Exposure: []Exposure{}}
	if n := len(s.f.Rules); n > MaxAuditRules {
		r.Skipped = fmt.Sprintf("lint and exposure skipped: %d rules is more than the playground analyses (%d); run pghba lint", n, MaxAuditRules)
		r.Micros = time.Since(start).Microseconds()
		return r
	}
	for _, f := range audit.Lint(s.f, audit.LintOptions{Ident: s.maps}) {
		x := Finding{File: fileName(f.Pos.Filename), Line: f.Pos.Line, Severity: f.Severity.String(), Check: string(f.Check), Message: f.Message}
		for _, p := range f.Related {
			x.Related = append(x.Related, ref(p))
		}
		r.Lint = append(r.Lint, x)
	}
	for _, e := range audit.Exposure(s.f, audit.ExposureOptions{}) {
		x := Exposure{Method: e.Method.String(), Transport: e.Transport.String(), Addresses: nonNil(e.Addresses), Except: e.Except, Databases: nonNil(exposureWords(e.Databases)), Users: nonNil(exposureWords(e.Users))}
		for _, rule := range e.Rules {
			x.Rules = append(x.Rules, ref(rule.Pos()))
		}
		r.Exposure = append(r.Exposure, x)
	}
	r.Micros = time.Since(start).Microseconds()
	return r
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func ref(p hba.Position) string { return fmt.Sprintf("%s:%d", fileName(p.Filename), p.Line) }

// exposureWords writes a name set as the words of the JSON answer: its
// tokens, or "all" followed by "!x" for each name x it leaves out.
func exposureWords(n audit.NameSet) []string {
	if !n.All {
		return n.Tokens
	}
	out := []string{"all"}
	for _, x := range n.Except {
		out = append(out, "!"+x)
	}
	return out
}
