package pgre

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/pghba/pghba/internal/pgtest"
)

// The differential test compares this package with real PostgreSQL servers
// (every major from 13 to 18 that is installed; 15 is required under
// CI=true): `subject ~ pattern`, the capture positions (regexp_instr per
// group), regexp_match's captured text, and compile errors, over generated
// (pattern, subject) pairs.

var (
	diffSeed  = flag.Int64("pgre.seed", 0, "seed for the differential test (0: time based)")
	diffPairs = flag.Int("pgre.pairs", 0, "generated (pattern, subject) pairs per server (0: 1500 for PostgreSQL 15, 300 for the others)")
)

// diffMajors are the PostgreSQL majors the differential test runs against;
// 15 comes from the machine image, the others from scripts/test.sh.
var diffMajors = []int{15, 13, 14, 16, 17, 18}

const diffFunc = `
CREATE OR REPLACE FUNCTION pgre_t(p text, s text, n int) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  r text;
  b boolean;
BEGIN
  BEGIN
    b := s ~ p;
  EXCEPTION WHEN others THEN
    RETURN 'E:' || SQLERRM;
  END;
  IF NOT b THEN
    RETURN 'N';
  END IF;
  r := 'M';
  BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
      -- regexp_instr (15+) gives the positions of every group
      FOR i IN 0..n LOOP
        r := r || ' ' || (regexp_instr(s, p, 1, 1, 0, '', i) - 1) || ',' || (regexp_instr(s, p, 1, 1, 1, '', i) - 1);
      END LOOP;
    END IF;
    RETURN r || ' ' || coalesce(encode(convert_to(array_to_string(regexp_match(s, p), chr(1), chr(2)), 'LATIN1'), 'hex'), 'null');
  EXCEPTION WHEN others THEN
    -- ~ matched, but compiling with captures failed (e.g. "regular
    -- expression is too complex": the capturing NFA is larger)
    RETURN 'C:' || SQLERRM;
  END;
END
$f$;
`

type pair struct{ pattern, subject string }

// budgetHit is oursFor's answer for a pair abandoned at the match budget
// (ErrMatchTooComplex).
const budgetHit = "B:budget"

// ours computes the same answer string as pgre_t, or ("", true) when the
// pattern is refused as unsupported.
func ours(p pair) (ans string, nsub int, refused bool) {
	return oursFor(p, 0)
}

// oursFor is ours; without positions (servers before 15, which lack
// regexp_instr) only the captured text is compared.
func oursFor(p pair, major int) (ans string, nsub int, refused bool) {
	positions := major == 0 || major >= 15
	re, err := CompileFor(p.pattern, major)
	if err != nil {
		if errors.Is(err, ErrUnsupported) {
			return "", 0, true
		}
		return "E:invalid regular expression: " + err.(*Error).Msg, 0, false
	}
	m, err := re.Exec(p.subject)
	if errors.Is(err, ErrMatchTooComplex) {
		// pghba refuses at such a rule (a deliberate divergence: the
		// server has no budget); counted, never compared.
		return budgetHit, re.NumSubexp(), false
	}
	if re.MatchString(p.subject) != (m != nil) {
		return "MatchString/FindSubmatchIndex disagree", re.NumSubexp(), false
	}
	if m == nil {
		return "N", re.NumSubexp(), false
	}
	var b strings.Builder
	b.WriteString("M")
	for i := 0; positions && i < len(m); i += 2 {
		fmt.Fprintf(&b, " %d,%d", m[i], m[i+1])
	}
	var parts []string
	if re.NumSubexp() == 0 {
		parts = append(parts, p.subject[m[0]:m[1]])
	}
	for i := 2; i < len(m); i += 2 {
		if m[i] < 0 {
			parts = append(parts, "\x02")
		} else {
			parts = append(parts, p.subject[m[i]:m[i+1]])
		}
	}
	b.WriteString(" " + hex.EncodeToString([]byte(strings.Join(parts, "\x01"))))
	return b.String(), re.NumSubexp(), false
}

func TestAgainstPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	seed := *diffSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	for _, major := range diffMajors {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			inst := pgtest.Require(t, major)
			c := pgtest.Start(t, inst, pgtest.Options{NoSSL: true})
			n := *diffPairs
			if n == 0 {
				n = 300
				if major == 15 {
					n = 1500
				}
			}
			compareWithServer(t, c, seed+int64(major), n)
		})
	}
}

// compareWithServer generates n pairs from seed and compares them. The
// cluster's database is UTF8 with C collation; each byte is passed as the
// character with the same code (LATIN1 decoding), which PostgreSQL's regex
// engine treats exactly as the postmaster treats bytes under SQL_ASCII:
// one character per byte, and no class or case mapping above 127 in the C
// locale.
func compareWithServer(t *testing.T, c *pgtest.Cluster, seed int64, n int) {
	if err := c.Exec(diffFunc); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(seed))
	pairs := make([]pair, 0, n+len(fixedPairs))
	pairs = append(pairs, fixedPairs...)
	for len(pairs) < cap(pairs) {
		if r.Intn(2) == 0 {
			pat := genPattern(r)
			for i := 0; i < 3 && len(pairs) < cap(pairs); i++ {
				pairs = append(pairs, pair{pat, genSubject(r)})
			}
		} else {
			pat := genCapturePattern(r)
			for i := 0; i < 3 && len(pairs) < cap(pairs); i++ {
				pairs = append(pairs, pair{pat, genABSubject(r)})
			}
		}
	}
	want := make([]string, len(pairs))
	nsubs := make([]int, len(pairs))
	refusedIdx := make([]bool, len(pairs))
	for i, p := range pairs {
		want[i], nsubs[i], refusedIdx[i] = oursFor(p, c.Install.Major)
	}
	const batch = 500
	var got []string
	for lo := 0; lo < len(pairs); lo += batch {
		hi := min(lo+batch, len(pairs))
		var sql strings.Builder
		sql.WriteString("SELECT pgre_t(convert_from(decode(p, 'hex'), 'LATIN1'), convert_from(decode(s, 'hex'), 'LATIN1'), n) FROM (VALUES ")
		for i := lo; i < hi; i++ {
			if i > lo {
				sql.WriteString(",")
			}
			fmt.Fprintf(&sql, "(%d,'%x','%x',%d)", i, pairs[i].pattern, pairs[i].subject, nsubs[i])
		}
		sql.WriteString(") v(i, p, s, n) ORDER BY i")
		rows, err := c.Query(sql.String())
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(rows) != hi-lo {
			t.Fatalf("got %d result rows for %d pairs", len(rows), hi-lo)
		}
		for _, row := range rows {
			got = append(got, *row[0])
		}
	}
	compared, disagree, refused, refusedPGError, budget, budgetPGMatch := 0, 0, 0, 0, 0, 0
	kinds := map[string]int{}
	for i, p := range pairs {
		if want[i] == budgetHit {
			budget++
			if strings.HasPrefix(got[i], "M") {
				budgetPGMatch++
			}
			continue
		}
		if refusedIdx[i] {
			refused++
			if strings.HasPrefix(got[i], "E:") {
				refusedPGError++
			}
			continue
		}
		compared++
		kinds[got[i][:1]]++
		if strings.HasPrefix(got[i], "C:") {
			// the server matched but could not report captures: only
			// the match itself is compared
			if !strings.HasPrefix(want[i], "M") {
				disagree++
				t.Errorf("pattern %q subject %q:\n postgres: match (%s)\n pgre:     %s", p.pattern, p.subject, got[i], want[i])
			}
			continue
		}
		if got[i] != want[i] {
			disagree++
			if disagree <= 20 {
				t.Errorf("pattern %q subject %q:\n postgres: %s\n pgre:     %s", p.pattern, p.subject, got[i], want[i])
			}
		}
	}
	t.Logf("%s, seed %d: %d pairs, %d compared (%d errors, %d no match, %d match, %d match without captures), %d disagreements, %d refused as unsupported (%d of them PostgreSQL rejects too), %d hit the match budget (ErrMatchTooComplex; PostgreSQL matched %d of them)",
		c.Install.Version(), seed, len(pairs), compared, kinds["E"], kinds["N"], kinds["M"], kinds["C"], disagree, refused, refusedPGError, budget, budgetPGMatch)
	if disagree > 0 {
		t.Errorf("seed %d (rerun with -pgre.seed=%d): %d of %d pairs disagree", seed, seed-int64(c.Install.Major), disagree, compared)
	}
}

// fixedPairs are always compared, whatever the seed.
var fixedPairs = []pair{
	{"^(a*)(a|b)*?$", "aab"},
	{"(a+|b+)*", "abab"},
	{"(a|ab)(c|bcd)(d*)", "abcd"},
	{"(.*?)(\\d+)", "abc123"},
	{"a*?(b*)", "aabb"},
	{"(a*)+", "aaa"},
	{"(a*)*", "b"},
	{"(a|b)*?c", "abc"},
	{"((a)|b)+", "ab"},
	{"(?i)(A)(b)", "xaB"},
	{"(?x) a b # comment", "ab"},
	{"(?n)^b", "a\nb"},
	{"(?p)a.b", "a\nb"},
	{"(?w)a$", "a\nb"},
	{"[[:<:]]ab[[:>:]]", "x ab y"},
	{"\\yab\\Y", "abc"},
	{"***=(a)", "(a)"},
	{"***:(a)", "a"},
	{"[[.hyphen.]]", "-"},
	{"[[=a=]]", "a"},
	{"[[:cntrl:]]", "\x85"},
	{"\\w", "\xe9"},
	{"(?<=a)b", "ab"},
	{"(?<!a)b", "ab"},
	{"a(?=bc)", "abc"},
	{"\\x41\\u0042", "AB"},
	{"\\101", "A"},
	{"a{,2}", "a{,2}"},
	{"a{1,3}?", "aaa"},
	{"(a{1,3}?)(a*)", "aaa"},
	{"(?:a|b)*?(b)", "abab"},
}

var (
	genLits    = []string{"a", "b", "c", "a", "b", "A", "_", "0", "1", "-", "\\.", "\\n", "\\d", "\\w", "\\s", "\\W", "\\D", "\\S", "\\x61", "\\141", "\xe9", " ", "\\\\", "(?#c)", "\\u0061", "\\e", "\\cA"}
	genBracket = []string{"[ab]", "[^a]", "[a-c]", "[^a-b]", "[[:alpha:]]", "[[:digit:]]", "[[:space:]]", "[[:upper:]]", "[[:lower:]]", "[[:alnum:]_]", "[[:punct:]]", "[[:cntrl:]]", "[[:print:]]", "[[:graph:]]", "[[:xdigit:]]", "[\\d]", "[\\w-]", "[^\\s]", "[]a]", "[a-]", "[[.a.]]", "[[=b=]]", "[\xe9]", "[\x80-\xff]", "[[:foo:]]", "[b-a]", "[a", "[\\D]"}
	genQuant   = []string{"*", "+", "?", "*?", "+?", "??", "{2}", "{1,2}", "{0,1}", "{2,}", "{1,2}?", "{0}", "{2,1}", "{", "{1", "{3}?", "{,1}", "{256}", "{1,300}", "{255}"}
	genAssert  = []string{"^", "$", "\\m", "\\M", "\\y", "\\Y", "\\A", "\\Z", "[[:<:]]", "[[:>:]]"}
	genPrefix  = []string{"", "", "", "", "", "", "(?i)", "(?n)", "(?x)", "(?p)", "(?w)", "(?s)", "(?c)", "***:", "***=", "(?q)", "(?z)", "***?", "(?ix)", "(?e)", "(?e)", "(?b)", "(?b)", "(?be)", "(?eq)", "(?ei)", "(?bx)"}
)

func genPattern(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(genPrefix[r.Intn(len(genPrefix))])
	genAlt(r, &b, 0, new(int))
	s := b.String()
	// occasionally corrupt the pattern to provoke errors
	if r.Intn(20) == 0 && len(s) > 0 {
		i := r.Intn(len(s))
		junk := []string{"(", ")", "[", "]", "{", "}", "\\", "*", "|", "\\q", "\\1", "(?", "(?=", "(?<"}
		s = s[:i] + junk[r.Intn(len(junk))] + s[i:]
	}
	return s
}

func genAlt(r *rand.Rand, b *strings.Builder, depth int, groups *int) {
	n := 1
	if r.Intn(4) == 0 {
		n = 2 + r.Intn(2)
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString("|")
		}
		genBranch(r, b, depth, groups)
	}
}

func genBranch(r *rand.Rand, b *strings.Builder, depth int, groups *int) {
	n := r.Intn(4)
	if depth == 0 {
		n++
	}
	for i := 0; i < n; i++ {
		k := r.Intn(20)
		switch {
		case k < 7:
			b.WriteString(genLits[r.Intn(len(genLits))])
		case k < 9:
			b.WriteString(".")
		case k < 11:
			b.WriteString(genBracket[r.Intn(len(genBracket))])
		case k < 13:
			b.WriteString(genAssert[r.Intn(len(genAssert))])
			continue
		case k < 17 && depth < 3:
			switch r.Intn(10) {
			case 0:
				b.WriteString("(?:")
			case 1:
				b.WriteString([]string{"(?=", "(?!", "(?<=", "(?<!"}[r.Intn(4)])
			default:
				b.WriteString("(")
				*groups++
			}
			genAlt(r, b, depth+1, groups)
			b.WriteString(")")
		case k == 17 && *groups > 0:
			fmt.Fprintf(b, "\\%d", 1+r.Intn(*groups))
			continue
		default:
			b.WriteString("a")
		}
		if r.Intn(3) == 0 {
			b.WriteString(genQuant[r.Intn(len(genQuant))])
		}
	}
}

func genSubject(r *rand.Rand) string {
	alpha := []byte("aaaabbbbcA_0- \n.\xe9\x80\xff\x85\\")
	n := r.Intn(9)
	s := make([]byte, n)
	for i := range s {
		if r.Intn(4) == 0 {
			s[i] = alpha[r.Intn(len(alpha))]
		} else {
			s[i] = "ab"[r.Intn(2)]
		}
	}
	return string(s)
}

// genCapturePattern generates patterns over a and b that exercise the
// preference rules deciding capture positions.
func genCapturePattern(r *rand.Rand) string {
	var b strings.Builder
	groups := 0
	var gen func(depth int)
	gen = func(depth int) {
		nb := 1
		if r.Intn(3) == 0 {
			nb = 2
		}
		for j := 0; j < nb; j++ {
			if j > 0 {
				b.WriteString("|")
			}
			n := 1 + r.Intn(3)
			for i := 0; i < n; i++ {
				switch k := r.Intn(10); {
				case k < 4 && depth < 3:
					if r.Intn(6) == 0 {
						b.WriteString("(?:")
					} else {
						b.WriteString("(")
						groups++
					}
					gen(depth + 1)
					b.WriteString(")")
				case k < 6:
					b.WriteString([]string{"a", "b", "a", "b", ".", "[ab]"}[r.Intn(6)])
				case k == 7 && groups > 0 && r.Intn(2) == 0:
					fmt.Fprintf(&b, "\\%d", 1+r.Intn(groups))
				case k == 6:
					b.WriteString([]string{"^", "$", "\\m", "\\M", "\\y", "(?=a)", "(?!b)", "(?<=a)"}[r.Intn(8)])
					continue
				default:
					b.WriteString("a")
				}
				if r.Intn(2) == 0 {
					b.WriteString([]string{"*", "+", "?", "*?", "+?", "??", "{1,2}", "{0,2}?", "{2}", "{1,}", "{0,1}"}[r.Intn(11)])
				}
			}
		}
	}
	gen(0)
	return b.String()
}

func genABSubject(r *rand.Rand) string {
	n := r.Intn(9)
	s := make([]byte, n)
	for i := range s {
		s[i] = "aab"[r.Intn(3)]
		if r.Intn(10) == 0 {
			s[i] = ' '
		}
	}
	return string(s)
}

// TestDiffCountsBudgetHits checks that the differential test sets a pair
// abandoned at the match budget apart (counted in its log line) instead of
// comparing pgre's "no match" with the server's answer.
func TestDiffCountsBudgetHits(t *testing.T) {
	defer func(b int) { matchBudget = b }(matchBudget)
	matchBudget = 1_000_000
	p := pair{`^(?:(a+)\1)+(?:(a+)\2)+$`, strings.Repeat("a", 201)}
	if got, _, refused := oursFor(p, 15); got != budgetHit || refused {
		t.Fatalf("oursFor = %q, refused %v; want %q", got, refused, budgetHit)
	}
	if got, _, _ := oursFor(pair{p.pattern, "aaaa"}, 15); !strings.HasPrefix(got, "M") {
		t.Fatalf("oursFor(aaaa) = %q, want a match", got)
	}
}
