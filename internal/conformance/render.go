package conformance

import (
	"math/rand/v2"
	"strings"
)

// tok is one token of the model: its value after de-quoting and whether the
// lexer must see it as quoted (a quote before any other byte).
type tok struct {
	v string
	q bool
}

// isBlank reports whether b separates tokens (SEMANTICS §3.2).
func isBlank(b byte) bool { return b == ' ' || b == '\t' || b == '\r' }

// safeUnquoted reports whether b may appear outside quotes inside a token.
func safeUnquoted(b byte) bool {
	return !isBlank(b) && b != ',' && b != '#' && b != '"' && b != '\n' && b != '\\' && b != 0
}

func allSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if !safeUnquoted(s[i]) {
			return false
		}
	}
	return true
}

// quoteRun renders s as one quoted run: "…" with inner quotes doubled.
func quoteRun(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// renderTok writes t so that the lexer reads back exactly t.v with quoted
// flag t.q, choosing at random among the spellings that do so: plain, fully
// quoted, quoted prefix (`"a"ll`), empty leading quotes (`""all`), quoted
// middle (`a"ll"`), empty quotes inside (`a""ll`). A token the lexer cannot
// read unquoted (empty, or starting with a byte that needs quotes) is
// rendered quoted whatever t.q says; callers that care check canUnquote.
func renderTok(r *rand.Rand, t tok) string {
	v := t.v
	if !t.q && !canUnquote(v) {
		t.q = true
	}
	if t.q {
		if v == "" {
			return `""`
		}
		switch r.IntN(6) {
		case 0:
			// quoted prefix, unquoted rest
			if i := 1 + r.IntN(len(v)); allSafe(v[i:]) {
				return quoteRun(v[:i]) + v[i:]
			}
		case 1:
			// empty quotes, then the rest unquoted
			if allSafe(v) {
				return `""` + v
			}
		case 2:
			// quoted prefix, unquoted middle, quoted tail
			if len(v) >= 3 {
				i := 1 + r.IntN(len(v)-2)
				j := i + 1 + r.IntN(len(v)-i-1)
				if allSafe(v[i:j]) {
					return quoteRun(v[:i]) + v[i:j] + quoteRun(v[j:])
				}
			}
		}
		return quoteRun(v)
	}
	// Unquoted: the first byte is outside quotes.
	if allSafe(v) && r.IntN(4) != 0 {
		return v
	}
	// Find a split v[:i] unquoted, v[i:j] quoted, v[j:] unquoted.
	for range 8 {
		i := 1 + r.IntN(len(v))
		j := i + r.IntN(len(v)-i+1)
		if allSafe(v[:i]) && allSafe(v[j:]) {
			return v[:i] + quoteRun(v[i:j]) + v[j:]
		}
	}
	// Fall back: quote everything after the first byte.
	return v[:1] + quoteRun(v[1:])
}

// canUnquote reports whether v can be written so that the lexer sees it as
// an unquoted token: non-empty and starting with a byte allowed outside
// quotes.
func canUnquote(v string) bool { return v != "" && safeUnquoted(v[0]) }

// fieldSep returns a separator between two fields: at least one blank, then
// any mix of blanks and commas (`db1 ,db2` is two fields).
func fieldSep(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		return "\t"
	case 1:
		return "  "
	case 2:
		return " ,"
	case 3:
		return " \t, "
	case 4:
		return "\t\t"
	case 5:
		if r.IntN(4) == 0 {
			return " \r " // CR is a blank
		}
		return " "
	default:
		return " "
	}
}

// listSep returns a separator between two tokens of one field: a comma, then
// any mix of blanks and commas (empty list elements vanish).
func listSep(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return ", "
	case 1:
		return ",,"
	case 2:
		return ", ,\t"
	default:
		return ","
	}
}

// renderField renders a field's tokens.
func renderField(r *rand.Rand, ts []tok) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(listSep(r))
		}
		b.WriteString(renderTok(r, t))
	}
	return b.String()
}

// lineEnd returns what follows the last token of a line before the
// terminator: nothing, blanks, a trailing comma, a comment.
func lineEnd(r *rand.Rand) string {
	switch r.IntN(12) {
	case 0:
		return "  "
	case 1:
		return ","
	case 2:
		return " # comment, with \"quotes\" and commas"
	case 3:
		return "#tight comment"
	case 4:
		return ", # after a trailing comma"
	case 5:
		return "\t"
	}
	return ""
}

// insertContinuations inserts n backslash-newline continuations into the
// logical line s at random places, never at its end (a continuation followed
// by an empty physical line does not continue). It returns the new text and
// the offset shift that applies to a byte at original offset off.
func insertContinuations(r *rand.Rand, s string, n int) (string, []int) {
	if len(s) == 0 || n == 0 {
		return s, nil
	}
	pos := make([]int, 0, n)
	for range n {
		// never right before a newline: the continuation would then be
		// followed by an empty physical line
		if p := r.IntN(len(s)); s[p] != '\n' {
			pos = append(pos, p)
		}
	}
	// sort and dedupe
	for i := 1; i < len(pos); i++ {
		for j := i; j > 0 && pos[j] < pos[j-1]; j-- {
			pos[j], pos[j-1] = pos[j-1], pos[j]
		}
	}
	out := pos[:0]
	for i, p := range pos {
		if i == 0 || p != pos[i-1] {
			out = append(out, p)
		}
	}
	pos = out
	var b strings.Builder
	last := 0
	for _, p := range pos {
		b.WriteString(s[last:p])
		b.WriteString("\\\n")
		last = p
	}
	b.WriteString(s[last:])
	return b.String(), pos
}
