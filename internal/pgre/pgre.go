// Package pgre implements PostgreSQL's "advanced regular expressions"
// (Henry Spencer's ARE, the flavour of the ~ operator) on bytes, as the
// postmaster applies them to pg_hba.conf and pg_ident.conf tokens: one byte
// is one character (server encoding SQL_ASCII), C collation, case-sensitive
// unless the pattern embeds (?i). Bytes >= 0x80 belong to no class except
// [[:cntrl:]] (0x80-0x9f) and [^...] complements, and have no case.
//
// Compile follows PostgreSQL's parser (regcomp.c, regc_lex.c) token by
// token, so the first error is the one PostgreSQL reports, with its reason
// text (*Error.Msg). Matching is an unanchored search. Capture positions
// follow ARE's rules rather than RE2's leftmost-first: the overall match is
// the leftmost one, longest or shortest according to the pattern's
// preference, and sub-matches are dissected on PostgreSQL's subexpression
// tree (regexec.c's cdissect), which this package rebuilds with the same
// greediness flags. Automata are simulated breadth-first on bytes, with a
// bit-parallel path for small ones. Without back-references, finding
// whether and where the leftmost match lies takes time linear in the
// subject (one backward pass of the reversed automaton for the start, one
// forward pass for the end), and so do the split points of concatenations
// when dissecting captures; only the dissection of iterated capturing
// groups follows PostgreSQL's backtracking search, under the match budget
// (see Exec).
//
// Implemented exactly (checked against PostgreSQL 13 to 18 by the
// differential test): literals and all escapes (\a \b \B \cX \e \f \n \r
// \t \v \xhh \uhhhh \Uhhhhhhhh, octal, \d \s \w and complements, also
// inside brackets), bracket expressions with ranges, [:class:], [.name.]
// collating elements and [=x=] equivalence classes, . ^ $ \A \Z, word
// constraints \m \M \y \Y [[:<:]] [[:>:]], lookahead and lookbehind
// (?= ?! ?<= ?<!), greedy and non-greedy quantifiers and bounds {m,n} up to
// 255, (?:...) and (?#...), back-references (verified like PostgreSQL's
// cfindloop, including its quirks), the ***= and ***: directors and all
// embedded options (?b c e i m n p q s t w x), b and e switching to POSIX
// basic and extended syntax.
//
// Refused with an error wrapping ErrUnsupported (naming the construct and
// its offset) rather than answered differently: patterns whose automaton would
// exceed 10,000 states or that hold constraints of total weight over 8 after
// expanding bounds (^ $ \A \Z \m \M and lookarounds weigh 1, \y and \Y 2):
// PostgreSQL's "regular expression is too complex" limit depends on its NFA
// optimiser and stack depth and cannot be predicted exactly; patterns of
// more than 20,000 atoms (characters, brackets, escapes, groups,
// constraints), refused at the first atom past the bound without parsing
// the rest, so that refusing a huge pattern costs little (such a pattern
// exceeds 10,000 states unless {0} bounds discard its atoms, and a syntax
// error after the bound is then reported as this refusal rather than as
// PostgreSQL's error); parentheses nested more than 100 deep; and, for
// PostgreSQL 13 (CompileFor), back-references.
//
// A compiled *Regexp is immutable and safe for concurrent use.
package pgre

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// ErrUnsupported is wrapped by errors for constructs that PostgreSQL accepts
// but this package does not reproduce exactly.
var ErrUnsupported = errors.New("unsupported regular expression construct")

// Error is a compile error.
type Error struct {
	// Msg is PostgreSQL's reason text (e.g. "brackets [] not balanced"),
	// or for unsupported constructs a description naming the construct.
	Msg string
	// Offset is the byte offset in the pattern at which the error was
	// detected (for unsupported constructs: where the construct starts).
	Offset int

	unsupported bool
}

func (e *Error) Error() string {
	if e.unsupported {
		return "unsupported regular expression construct at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
	}
	return e.Msg
}

// Is reports whether target is ErrUnsupported and e is an unsupported
// construct.
func (e *Error) Is(target error) bool {
	return e.unsupported && target == ErrUnsupported
}

// Regexp is a compiled regular expression.
type Regexp struct {
	expr    string
	nsub    int
	search  *prog  // whole pattern; used for MatchString and match bounds
	rev     *prog  // reversed pattern: finds the leftmost match start (no back-references)
	tree    *subre // dissection tree (PostgreSQL's subre tree)
	shorter bool   // the whole RE prefers the shortest match
	backref bool   // has back-references: matches must be verified
	icase   bool   // (?i): back-references compare case-insensitively
}

// Compile parses a PostgreSQL ARE as PostgreSQL 14 and later do. Errors are
// of type *Error.
func Compile(pattern string) (*Regexp, error) {
	return CompileFor(pattern, 0)
}

// CompileFor parses a pattern as PostgreSQL major version major does
// (13 to 18; 0 means the latest). The only differences are those of 13:
// \D, \S and \W inside brackets and the [[:word:]] class are errors there
// ("invalid escape \ sequence", "invalid character class"), \D and \W do not
// match a newline under (?n) or (?p), and back-references are refused as
// unsupported.
func CompileFor(pattern string, major int) (*Regexp, error) {
	if major != 0 && (major < 13 || major > 18) {
		return nil, fmt.Errorf("pgre: unsupported PostgreSQL major version %d", major)
	}
	p := &parser{pat: []byte(pattern), major: major, cflags: fADVANCED}
	return p.compile()
}

// MustCompile is like Compile but panics on error. For tests and examples.
func MustCompile(pattern string) *Regexp {
	re, err := Compile(pattern)
	if err != nil {
		panic(fmt.Sprintf("pgre: Compile(%q): %v", pattern, err))
	}
	return re
}

// String returns the source pattern.
func (re *Regexp) String() string { return re.expr }

// NumSubexp returns the number of capturing parenthesised subexpressions.
func (re *Regexp) NumSubexp() int { return re.nsub }

// MatchString reports whether the pattern matches anywhere in s (s is
// treated as bytes).
//
// Without back-references it takes time linear in len(s) and always
// answers. For patterns with back-references the work is bounded (see
// Exec); when the bound is exceeded MatchString reports false, so callers
// that must not confuse "too complex" with "no match" use Exec.
func (re *Regexp) MatchString(s string) bool {
	if re.backref {
		m, _ := re.findBackref(s)
		return m != nil
	}
	return re.search.matchAnywhere(s)
}

// FindSubmatchIndex returns the byte offsets of the leftmost match and of
// each capturing subexpression: result[2*i], result[2*i+1] for group i (group
// 0 being the whole match), -1 for groups that did not participate. It
// returns nil if there is no match, or if the work bound for back-references
// is exceeded (see Exec).
func (re *Regexp) FindSubmatchIndex(s string) []int {
	m, _ := re.Exec(s)
	return m
}

// ErrMatchTooComplex is returned by Exec when matching would take more
// than a fixed amount of work: verifying back-references, or dissecting
// captures (bytes read by the automata, about 20 million: PostgreSQL's
// citerdissect search for an iterated group is quadratic on subjects such
// as a long run of a's for ^(a|a*c)*$, and each level of concatenation
// reads its span twice, so only subjects of megabytes reach the bound
// otherwise). PostgreSQL has no
// such bound (its matcher can run for minutes on such inputs, until
// authentication_timeout ends the connection). Callers must not read it as
// "no match": pghba refuses at the rule or map line (a deliberate
// divergence, since the server would eventually answer).
var ErrMatchTooComplex = errors.New("regular expression is too complex")

// matchBudget bounds the work of matching with back-references (about a
// second of CPU at most) and of dissecting captures without them (there a
// unit is one byte read by an automaton: some tens of milliseconds). A
// variable so that tests can lower it.
var matchBudget = 20_000_000

// Exec is FindSubmatchIndex with an error for matches abandoned because of
// the work bound; the error is ErrMatchTooComplex. Without back-references
// the match bounds take linear time and Exec can fail only while dissecting
// captures (in practice: of an iterated capturing group); a pattern without
// capturing groups and back-references never fails.
func (re *Regexp) Exec(s string) ([]int, error) {
	if re.backref {
		return re.findBackref(s)
	}
	begin, end := re.bounds(s)
	if begin < 0 {
		return nil, nil
	}
	m := make([]int, 2*(re.nsub+1))
	for i := range m {
		m[i] = -1
	}
	m[0], m[1] = begin, end
	if re.nsub > 0 {
		d := dissector{s: s, m: m, icase: re.icase, budget: matchBudget, exact: true}
		if !d.dissectBounded(re.tree, begin, end) {
			return nil, ErrMatchTooComplex
		}
	}
	return m, nil
}

// dissectBounded is dissect, reporting false when the budget ran out.
func (d *dissector) dissectBounded(t *subre, begin, end int) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isBudget := r.(budgetExceeded); !isBudget {
				panic(r)
			}
			ok = false
		}
	}()
	d.dissect(t, begin, end)
	return true
}

// bounds finds the leftmost match start and its end (longest or shortest),
// in time linear in len(s): one backward pass of the reversed automaton
// finds the start (see leftmostStart), one forward pass from it the end.
func (re *Regexp) bounds(s string) (int, int) {
	b := re.rev.leftmostStart(s)
	if b < 0 {
		return -1, -1
	}
	var e int
	if re.shorter {
		e = re.search.shortest(s, b, b, len(s))
	} else {
		e = re.search.longest(s, b, len(s))
	}
	if e < 0 {
		// cannot happen: a match starts at b
		return -1, -1
	}
	return b, e
}

// findBackref follows PostgreSQL's cfindloop: with back-references the
// automata only approximate the language, so each candidate match (leftmost
// start first, then longest or shortest end first) is verified by dissecting
// it, and the first that verifies wins. Captures left over from failed
// attempts are not reset between candidates, as in PostgreSQL.
func (re *Regexp) findBackref(s string) (m []int, err error) {
	return re.findBackrefContext(nil, s)
}

// findBackrefContext is findBackref, stopped when ctx ends (a nil ctx is
// not polled):
// the error is then a *CanceledError.
func (re *Regexp) findBackrefContext(ctx context.Context, s string) (m []int, err error) {
	if !re.search.matchAnywhere(s) {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(budgetExceeded)
			if !ok {
				panic(r)
			}
			m, err = nil, ErrMatchTooComplex
			if b.err != nil {
				err = &CanceledError{Err: b.err}
			}
		}
	}()
	m = make([]int, 2*(re.nsub+1))
	for i := range m {
		m[i] = -1
	}
	d := dissector{s: s, m: m, icase: re.icase, budget: matchBudget, ctx: ctx, poll: matchBudget - pollEvery}
	// Rounds as in cfindloop: find the earliest end "close" of any
	// (approximate) match starting at or after "from", try every begin in
	// [from, close], then continue after close. Like PostgreSQL, stop once
	// close+1 reaches the end of the string, so an empty match at the very
	// end is found only if an earlier round reaches it.
	for from := 0; ; {
		close := re.search.searchShortest(s, from)
		if close < 0 {
			return nil, nil
		}
		for begin := from; begin <= close; begin++ {
			estart, estop := begin, len(s)
			for {
				var end int
				if re.shorter {
					end = re.search.shortest(s, begin, estart, estop)
				} else {
					end = re.search.longest(s, begin, estop)
				}
				if end < 0 {
					break
				}
				if d.dissect(re.tree, begin, end) {
					m[0], m[1] = begin, end
					return m, nil
				}
				if re.shorter {
					if end == estop {
						break
					}
					estart = end + 1
				} else {
					if end == begin {
						break
					}
					estop = end - 1
				}
			}
		}
		from = close + 1
		if from >= len(s) {
			return nil, nil
		}
	}
}
