package audit

// Suppressions: lint findings waived in the file itself, by comments of
// the form "# pghba: ignore=ID[,ID...] [-- reason]".

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

// Checks about suppressions themselves.
const (
	// CheckUnusedSuppression: a suppression comment waives no finding of
	// a check that ran (the problem was fixed, or the comment is not
	// directly above or on the rule's line). Info.
	CheckUnusedSuppression CheckID = "unused-suppression"
	// CheckBadSuppression: a comment that starts with "pghba:" is not a
	// suppression that can be read ("# pghba: ignroe=md5"), or names a
	// check that cannot be waived in the file. Warning.
	CheckBadSuppression CheckID = "bad-suppression"
)

// Suppression is one suppression comment.
//
// Syntax, in a comment of the pg_hba.conf (or of a file it includes):
//
//	# pghba: ignore=ID[,ID...] [-- reason]
//	# pghba: ignore-file=ID[,ID...] [-- reason]
//
// White space around the words and the ids is free; "pghba:" and the
// directive are lowercase. ignore= written at the end of a rule's line
// waives those checks for that rule; written on a comment line of its
// own, for the rule on the next line (several such comment lines may be
// stacked directly above one rule; a blank or other comment line between
// breaks the link). ignore-file= waives them for every finding in the
// file it is written in (not in the files it includes). load-error,
// unused-suppression and bad-suppression cannot be waived.
type Suppression struct {
	// Pos is the comment: Column the '#', EndColumn the end of the
	// comment.
	Pos hba.Position
	// File reports ignore-file=.
	File bool
	// Target is the line of the rule that ignore= waives (Filename and
	// Line only); the zero Position when no rule follows the comment, or
	// for ignore-file=.
	Target hba.Position
	// Checks are the ids written, in order, as written.
	Checks []CheckID
	// Reason is the text after "--", trimmed; "" when none.
	Reason string
	// Malformed, when not empty, says why the comment is not a valid
	// suppression; it waives nothing, and Suppress reports it as
	// bad-suppression.
	Malformed string
}

// UnknownCheckError is a check id in a suppression that the caller of
// Suppressions does not know.
type UnknownCheckError struct {
	Pos   hba.Position // the comment
	Check CheckID
}

// Error returns "file:line:col: unknown check "ID" in suppression".
func (e *UnknownCheckError) Error() string {
	return e.Pos.String() + ": unknown check " + strconv.Quote(string(e.Check)) + " in suppression"
}

// unwaivable are the checks a suppression may not name.
var unwaivable = []CheckID{CheckLoadError, CheckUnusedSuppression, CheckBadSuppression}

// Suppressions reads the suppression comments of f (f.Comments), in the
// order read. A comment whose text after '#' starts with "pghba:" and is
// not a valid suppression is returned with Malformed set.
//
// valid, if non-nil, tells the check ids the caller knows: every id it
// rejects is in the error, an [*UnknownCheckError] each (joined as
// errors.Join does, one line each), and those suppressions are left out. With valid nil, any id of
// lowercase letters, digits and hyphens is taken.
func Suppressions(f *hba.File, valid func(CheckID) bool) ([]Suppression, error) {
	type key struct {
		file string
		line int
	}
	records := map[key]bool{}
	for _, ln := range f.Lines {
		records[key{ln.Pos.Filename, ln.Pos.Line}] = true
	}
	directive := map[key]bool{} // comment lines of their own holding a pghba: comment
	for _, c := range f.Comments {
		k := key{c.Pos.Filename, c.Pos.Line}
		if _, ok := pghbaComment(c.Text); ok && !records[k] {
			directive[k] = true
		}
	}
	var sups []Suppression
	var errs []error
	for _, c := range f.Comments {
		body, ok := pghbaComment(c.Text)
		if !ok {
			continue
		}
		s, msg := parseSuppression(body)
		s.Pos = c.Pos
		if msg == "" {
			for _, id := range s.Checks {
				if slices.Contains(unwaivable, id) {
					msg = string(id) + " cannot be waived"
					break
				}
			}
		}
		if msg != "" {
			sups = append(sups, Suppression{Pos: c.Pos, Malformed: "malformed suppression " + strconv.Quote(strings.TrimSpace(c.Text)) + ": " + msg +
				"; want # pghba: ignore=ID[,ID...] [-- reason] or # pghba: ignore-file=ID[,ID...] [-- reason]"})
			continue
		}
		unknown := false
		for _, id := range s.Checks {
			if valid != nil && !valid(id) {
				errs = append(errs, &UnknownCheckError{Pos: c.Pos, Check: id})
				unknown = true
			}
		}
		if unknown {
			continue
		}
		if !s.File {
			k := key{c.Pos.Filename, c.Pos.Line}
			if !records[k] { // a comment line: the rule below the stack
				for k.line++; directive[k]; k.line++ {
				}
			}
			if records[k] {
				s.Target = hba.Position{Filename: k.file, Line: k.line}
			}
		}
		sups = append(sups, s)
	}
	return sups, errors.Join(errs...)
}

// pghbaComment returns the text of a comment after "# pghba:", and
// whether it has that prefix.
func pghbaComment(text string) (string, bool) {
	t := strings.TrimLeft(strings.TrimPrefix(text, "#"), " \t")
	return strings.CutPrefix(t, "pghba:")
}

// parseSuppression reads the body of a pghba: comment; msg says what is
// wrong with it, "" when nothing.
func parseSuppression(body string) (s Suppression, msg string) {
	body, reason, hasReason := strings.Cut(body, "--")
	s.Reason = strings.TrimSpace(reason)
	word, ids, ok := strings.Cut(strings.TrimSpace(body), "=")
	if !ok {
		return s, "no ignore= or ignore-file="
	}
	switch strings.TrimSpace(word) {
	case "ignore":
	case "ignore-file":
		s.File = true
	default:
		return s, "unknown directive " + strconv.Quote(strings.TrimSpace(word))
	}
	if hasReason && s.Reason == "" {
		return s, "empty reason after --"
	}
	for _, id := range strings.Split(ids, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			return s, "empty check id"
		}
		for _, b := range []byte(id) {
			if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-') {
				return s, "check id " + strconv.Quote(id) + " is not lowercase words joined by hyphens (a reason follows --)"
			}
		}
		s.Checks = append(s.Checks, CheckID(id))
	}
	return s, ""
}

// Suppress applies the suppressions of f to its findings: a finding that
// a suppression waives gets it in Suppressed (the first that does). It
// returns the findings with, in file order, a bad-suppression finding
// (warning) at each malformed suppression and an unused-suppression
// finding (info) at each suppression naming a check that waived nothing. ran, if
// non-nil, tells which checks ran (or are reported): a suppression of a
// check that did not run is not called unused. The findings' order is
// kept; f gives the order of lines for the new ones.
func Suppress(f *hba.File, findings []Finding, sups []Suppression, ran func(CheckID) bool) []Finding {
	out := slices.Clone(findings)
	used := make([][]bool, len(sups))
	for i := range sups {
		used[i] = make([]bool, len(sups[i].Checks))
	}
	type key struct {
		file string
		line int
	}
	byTarget := map[key][]int{}  // ignore= suppressions by the line they waive
	byFile := map[string][]int{} // ignore-file= suppressions by file
	for i := range sups {
		switch s := &sups[i]; {
		case s.File:
			byFile[s.Pos.Filename] = append(byFile[s.Pos.Filename], i)
		case s.Target.Line > 0:
			k := key{s.Target.Filename, s.Target.Line}
			byTarget[k] = append(byTarget[k], i)
		}
	}
	for k := range out {
		fd := &out[k]
		if slices.Contains(unwaivable, fd.Check) {
			continue
		}
		for _, list := range [][]int{byTarget[key{fd.Pos.Filename, fd.Pos.Line}], byFile[fd.Pos.Filename]} {
			for _, i := range list {
				if j := slices.Index(sups[i].Checks, fd.Check); j >= 0 {
					used[i][j] = true
					if fd.Suppressed == nil {
						fd.Suppressed = &sups[i]
					}
				}
			}
		}
	}
	var unused []Finding
	for i, s := range sups {
		if s.Malformed != "" {
			unused = append(unused, Finding{Pos: s.Pos, Severity: SeverityWarning, Check: CheckBadSuppression, Message: s.Malformed})
			continue
		}
		var ids []string
		for j, id := range s.Checks {
			if !used[i][j] && (ran == nil || ran(id)) {
				ids = append(ids, string(id))
			}
		}
		if len(ids) == 0 {
			continue
		}
		var msg string
		switch {
		case s.File:
			msg = "suppression of " + strings.Join(ids, ", ") + " waives nothing: the file has no such finding"
		case s.Target.Line == 0:
			msg = "suppression of " + strings.Join(ids, ", ") + " waives nothing: no rule on its line or directly below"
		default:
			msg = "suppression of " + strings.Join(ids, ", ") + " waives nothing: " + lineWord(s.Target) + " has no such finding"
		}
		unused = append(unused, Finding{Pos: s.Pos, Severity: SeverityInfo, Check: CheckUnusedSuppression, Message: msg})
	}
	return mergeByLine(f, out, unused)
}

// mergeByLine merges extra findings (at comments, say) into findings, in
// the order of f's lines: each goes before the first finding on a later
// line read after it.
func mergeByLine(f *hba.File, findings, extra []Finding) []Finding {
	if len(extra) == 0 {
		return findings
	}
	byFile := map[string][]int{} // the indexes in f.Lines of each file's lines, in line order
	for k, ln := range f.Lines {
		byFile[ln.Pos.Filename] = append(byFile[ln.Pos.Filename], k)
	}
	type ranked struct {
		r, line int
	}
	// rankOf is the index in f.Lines of the first line of fd's file at
	// or after fd's line (len(f.Lines) when none), then fd's line.
	rankOf := func(fd Finding) ranked {
		idx := byFile[fd.Pos.Filename]
		n, _ := slices.BinarySearchFunc(idx, fd.Pos.Line, func(k, line int) int { return f.Lines[k].Pos.Line - line })
		r := len(f.Lines)
		if n < len(idx) {
			r = idx[n]
		}
		return ranked{r, fd.Pos.Line}
	}
	less := func(a, b ranked) bool { return a.r < b.r || a.r == b.r && a.line < b.line }
	extra = slices.Clone(extra)
	slices.SortStableFunc(extra, func(a, b Finding) int {
		ra, rb := rankOf(a), rankOf(b)
		if less(ra, rb) {
			return -1
		}
		if less(rb, ra) {
			return 1
		}
		return 0
	})
	extraRank := make([]ranked, len(extra))
	for k, fd := range extra {
		extraRank[k] = rankOf(fd)
	}
	// The findings keep their order; each extra one goes before the first
	// finding that comes after it.
	out := make([]Finding, 0, len(findings)+len(extra))
	k := 0
	for _, fd := range findings {
		r := rankOf(fd)
		for k < len(extra) && less(extraRank[k], r) {
			out = append(out, extra[k])
			k++
		}
		out = append(out, fd)
	}
	return append(out, extra[k:]...)
}
