package fuzz

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pghba/pghba/internal/pgre"
)

// genRegex builds a pattern over a subset of the ARE syntax whose match
// (does the pattern occur in the subject?) provably means the same in Go's
// RE2 once every subject byte is read as one character: literals, ., bracket
// expressions with ranges and [:alpha:]/[:digit:]-style classes, \d \w and
// their negations, * + ? {m,n} (greedy and lazy), |, (…), (?:…), ^ and $.
// It returns the ARE and the Go spelling.
func genRegex(r *byteReader, depth int) (are, goRE string) {
	if depth > 4 || !r.more() {
		c := string(rune('a' + r.pick(4)))
		return c, c
	}
	switch r.pick(12) {
	case 0, 1:
		c := string(rune('a' + r.pick(5)))
		return c, c
	case 2:
		return ".", "(?s:.)"
	case 3:
		sets := []string{"[a-c]", "[^ab]", "[[:alpha:]]", "[[:digit:]x]", "[^[:alnum:]]", "[0-9_]", "[]a]", "[^]a]"}
		gos := []string{"[a-c]", "[^ab]", "[[:alpha:]]", "[[:digit:]x]", "[^[:alnum:]]", "[0-9_]", `[\]a]`, `[^\]a]`}
		i := r.pick(len(sets))
		return sets[i], gos[i]
	case 4:
		esc := []string{`\d`, `\w`, `\D`, `\W`}
		e := esc[r.pick(len(esc))]
		return e, e
	case 5:
		a, g := genRegex(r, depth+1)
		q := []string{"*", "+", "?", "{1,2}", "{2}", "{0,3}", "*?", "+?", "??", "{1,3}?"}[r.pick(10)]
		return "(" + a + ")" + q, "(" + g + ")" + q
	case 6:
		a1, g1 := genRegex(r, depth+1)
		a2, g2 := genRegex(r, depth+1)
		return a1 + "|" + a2, g1 + "|" + g2
	case 7:
		a, g := genRegex(r, depth+1)
		return "(?:" + a + ")", "(?:" + g + ")"
	case 8:
		a, g := genRegex(r, depth+1)
		return "^" + a, "^" + g
	case 9:
		a, g := genRegex(r, depth+1)
		return a + "$", g + "$"
	default:
		a1, g1 := genRegex(r, depth+1)
		a2, g2 := genRegex(r, depth+1)
		return "(?:" + a1 + ")(?:" + a2 + ")", "(?:" + g1 + ")(?:" + g2 + ")"
	}
}

// latin1 reads each byte as one character, as the postmaster's SQL_ASCII
// regular expressions do, for Go's UTF-8 based regexp.
func latin1(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// FuzzRegex: compiling any pattern never panics and gives either a
// Regexp or an *pgre.Error; matching an accepted pattern never panics; and a
// generated pattern from the common subset is either refused as
// unsupported (too complex to reproduce exactly) or matches exactly when
// Go's regexp does, with its leftmost match starting where Go's does.
func FuzzRegex(f *testing.F) {
	f.Add("^db\\d+$", []byte{1, 2, 3}, "db12")
	f.Add("(a|ab)(c|bcd)(d*)", []byte{5, 6, 5, 6, 9, 11, 0}, "abcd")
	f.Add("[[:alpha:]]+@", []byte{3, 2, 6, 1}, "x\x80y@")
	f.Add("a{2,1}", []byte{}, "aa")
	f.Add("(a)\\1", []byte{7, 7, 7}, "aa")
	f.Fuzz(func(t *testing.T, pattern string, gen []byte, subject string) {
		if len(pattern) > 256 || len(subject) > 256 || len(gen) > 64 {
			return
		}
		if re, err := pgre.Compile(pattern); err == nil {
			re.MatchString(subject)
			re.FindSubmatchIndex(subject)
		} else if _, ok := err.(*pgre.Error); !ok {
			t.Fatalf("Compile(%q): error of type %T", pattern, err)
		}
		are, goRE := genRegex(&byteReader{b: gen}, 0)
		re, err := pgre.Compile(are)
		if errors.Is(err, pgre.ErrUnsupported) {
			return // refused, not answered differently: allowed
		}
		if err != nil {
			t.Fatalf("generated pattern %q refused: %v", are, err)
		}
		gre := regexp.MustCompile(goRE)
		want := gre.MatchString(latin1(subject))
		if got := re.MatchString(subject); got != want {
			t.Fatalf("pattern %q on %q: pgre %v, Go (%q) %v", are, subject, got, goRE, want)
		}
		// The leftmost match starts at the same byte under both engines'
		// rules (they differ in where it ends); the one-pass search finds
		// it on a subject repeated to make late starts likely.
		long := strings.Repeat(subject, 1+len(gen)%8)
		m, err := re.Exec(long)
		loc := gre.FindStringIndex(latin1(long))
		if err != nil || (m == nil) != (loc == nil) || m != nil && m[0] != utf8.RuneCountInString(latin1(long)[:loc[0]]) {
			t.Fatalf("pattern %q on %q: pgre %v %v, Go (%q) %v", are, long, m, err, goRE, loc)
		}
	})
}
