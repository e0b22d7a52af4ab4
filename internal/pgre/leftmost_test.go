package pgre

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// boundsNaive is the search bounds used to be computed with: try every
// begin in turn (quadratic). It is the reference for the one-pass search.
func (re *Regexp) boundsNaive(s string) (int, int) {
	if !re.search.matchAnywhere(s) {
		return -1, -1
	}
	for b := 0; b <= len(s); b++ {
		var e int
		if re.shorter {
			e = re.search.shortest(s, b, b, len(s))
		} else {
			e = re.search.longest(s, b, len(s))
		}
		if e >= 0 {
			return b, e
		}
	}
	return -1, -1
}

// slowCopy is p without its bit-parallel simulation.
func slowCopy(p *prog) *prog {
	c := &prog{insts: p.insts, sets: p.sets, looks: p.looks, start: p.start, anchored: p.anchored}
	c.pool.New = func() any { return newScratch(len(c.insts)) }
	return c
}

// TestLeftmostStartAgreesWithTryingEveryBegin compares the one-pass search
// with trying every begin, on the differential test's generated patterns and
// on longer subjects, through both simulations (bit-parallel and sparse).
func TestLeftmostStartAgreesWithTryingEveryBegin(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	n := 20000
	if testing.Short() {
		n = 3000
	}
	checked, matched := 0, 0
	for i := 0; i < n; i++ {
		var pat, subj string
		if i%2 == 0 {
			pat, subj = genPattern(r), genSubject(r)
		} else {
			pat, subj = genCapturePattern(r), genABSubject(r)
		}
		if i%5 == 0 {
			subj = strings.Repeat(subj, 1+r.Intn(6)) + genSubject(r)
		}
		re, err := Compile(pat)
		if err != nil || re.backref {
			continue
		}
		for _, slow := range []bool{false, true} {
			rr := *re
			if slow {
				rr.search, rr.rev = slowCopy(re.search), slowCopy(re.rev)
			}
			b1, e1 := rr.bounds(subj)
			b0, e0 := rr.boundsNaive(subj)
			if b1 != b0 || e1 != e0 {
				t.Fatalf("%q on %q (slow=%v): one pass [%d,%d], every begin [%d,%d]", pat, subj, slow, b1, e1, b0, e0)
			}
		}
		checked++
		if b, _ := re.bounds(subj); b >= 0 {
			matched++
		}
	}
	if checked < n/2 || matched < checked/5 {
		t.Fatalf("weak corpus: %d of %d patterns checked, %d matched", checked, n, matched)
	}
	t.Logf("%d patterns checked, %d matched", checked, matched)
}

// TestLeftmostSearchFindsLateMatch checks match bounds where the leftmost
// start is late or early, and with constraints the reversed automaton must
// evaluate at the original positions.
func TestLeftmostSearchFindsLateMatch(t *testing.T) {
	re := MustCompile(`a*b`)
	for _, n := range []int{0, 1, 100, 5000} {
		s := strings.Repeat("a", n) + "cb"
		m, err := re.Exec(s)
		if err != nil || m == nil || m[0] != n+1 || m[1] != n+2 {
			t.Fatalf("n=%d: got %v, %v; want [%d %d]", n, m, err, n+1, n+2)
		}
		s = strings.Repeat("a", n) + "b" + strings.Repeat("c", n)
		if m, _ := re.Exec(s); m == nil || m[0] != 0 || m[1] != n+1 {
			t.Fatalf("n=%d: got %v, want [0 %d]", n, m, n+1)
		}
	}
	// lookbehind and lookahead reached from the reversed automaton
	for _, c := range []struct {
		pat, s string
		b, e   int
	}{
		{`(?<=x)a+`, "aaxaab", 3, 5},
		{`a+(?=b)`, "aacaab", 3, 5},
		{`\ma+\M`, "baa aa", 4, 6},
		{`(?i)A+?`, "xxaa", 2, 3},
		{`^b|c$`, "abc", 2, 3},
		{`x*`, "abc", 0, 0},
		{`$`, "abc", 3, 3},
	} {
		re := MustCompile(c.pat)
		m, _ := re.Exec(c.s)
		if m == nil || m[0] != c.b || m[1] != c.e {
			t.Errorf("%q on %q: got %v, want [%d %d]", c.pat, c.s, m, c.b, c.e)
		}
	}
}

var benchSizes = []int{4 << 10, 16 << 10, 64 << 10, 256 << 10}

// BenchmarkLeftmostSearch: the F10 case, a pg_ident system-user regex a*b
// against a long name whose only match is at the end, the same behind a
// lookbehind (the sparse simulation), and two capture patterns whose
// dissection splits a long name. Time per op grows linearly with the size.
func BenchmarkLeftmostSearch(b *testing.B) {
	for _, pat := range []string{`a*b`, `(?<!x)a*b`, `(?<=a)a*b`, `^(.*)@example\.com$`, `^(.*)(x[^x]*)$`} {
		re := MustCompile(pat)
		for _, n := range benchSizes {
			s := strings.Repeat("a", n) + "cb"
			switch pat {
			case `(?<=a)a*b`:
				// the lookbehind is reached at every position
				s = strings.Repeat("a", n) + "b"
			case `^(.*)@example\.com$`:
				s = strings.Repeat("a", n) + "@example.com"
			case `^(.*)(x[^x]*)$`:
				// every split point is a candidate: dissection
				s = "x" + strings.Repeat("a", n)
			}
			b.Run(fmt.Sprintf("%s/%dK", pat, n>>10), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					if m, err := re.Exec(s); m == nil || err != nil {
						b.Fatal("no match")
					}
				}
			})
		}
	}
}

func clearRev(t *subre) {
	t.rev = nil
	for _, k := range t.kids {
		clearRev(k)
	}
}

// TestSplitAgreesWithTryingEveryCandidate compares capture positions found
// with one-pass split points against the candidate-by-candidate search of
// ccondissect and crevcondissect, on the differential test's generated
// capture patterns over longer subjects.
func TestSplitAgreesWithTryingEveryCandidate(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	n := 20000
	if testing.Short() {
		n = 3000
	}
	checked := 0
	for i := 0; i < n; i++ {
		pat, subj := genCapturePattern(r), genABSubject(r)
		if i%2 == 0 {
			pat, subj = genPattern(r), genSubject(r)
		}
		if i%3 == 0 {
			subj = strings.Repeat(subj, 1+r.Intn(5))
		}
		fast, err := Compile(pat)
		if err != nil || fast.backref || fast.nsub == 0 {
			continue
		}
		slow, _ := Compile(pat)
		clearRev(slow.tree)
		m1, _ := fast.Exec(subj)
		m0, _ := slow.Exec(subj)
		if fmt.Sprint(m1) != fmt.Sprint(m0) {
			t.Fatalf("%q on %q: split %v, every candidate %v", pat, subj, m1, m0)
		}
		checked++
	}
	if checked < n/5 {
		t.Fatalf("weak corpus: %d of %d", checked, n)
	}
	t.Logf("%d patterns with captures checked", checked)
}

// TestIterationDissectionUnderBudget: dissecting an iterated capturing
// group follows citerdissect's search, quadratic for ^(a|a*c)*$ on a long
// run of a's; it is abandoned at the match budget with ErrMatchTooComplex
// (never a wrong answer), while iterations and splits that take linear work
// answer even on a 1 MiB subject.
func TestIterationDissectionUnderBudget(t *testing.T) {
	re := MustCompile(`^(a|a*c)*$`)
	if m, err := re.Exec(strings.Repeat("a", 100)); err != nil || m == nil || m[2] != 99 || m[3] != 100 {
		t.Fatalf("100 a's: %v %v", m, err)
	}
	if m, err := re.Exec(strings.Repeat("a", 64<<10)); !errors.Is(err, ErrMatchTooComplex) || m != nil {
		t.Fatalf("64 KiB: %v %v, want ErrMatchTooComplex", m, err)
	}
	if !re.MatchString(strings.Repeat("a", 64<<10)) {
		t.Fatal("MatchString needs no dissection and answers")
	}
	mib := strings.Repeat("ab", 1<<19)
	for _, c := range []struct {
		pat    string
		g1, g2 int
	}{
		{`^((a|b))*$`, len(mib) - 1, len(mib)},
		{`^(.*)(b)$`, 0, len(mib) - 1},
		{`^(.*?)(a*b)$`, 0, len(mib) - 2},
	} {
		m, err := MustCompile(c.pat).Exec(mib)
		if err != nil || m == nil || m[2] != c.g1 || m[3] != c.g2 {
			t.Errorf("%s on 1 MiB: %v %v", c.pat, m[:min(len(m), 4)], err)
		}
	}
}

// TestLookbehindOnLongSubjects checks lookbehind constraints, now read
// backwards from their position, against a direct search on long random
// subjects.
func TestLookbehindOnLongSubjects(t *testing.T) {
	r := rand.New(rand.NewSource(18))
	pos := MustCompile(`(?<=ab)c+`)
	neg := MustCompile(`(?<![ab])c`)
	for i := 0; i < 200; i++ {
		b := make([]byte, 1+r.Intn(3000))
		for j := range b {
			b[j] = "abc"[r.Intn(3)]
		}
		s := string(b)
		want := -1
		if k := strings.Index(s, "abc"); k >= 0 {
			want = k + 2
		}
		if m, _ := pos.Exec(s); (m == nil) != (want < 0) || m != nil && m[0] != want {
			t.Fatalf("(?<=ab)c+ on %q: %v, want start %d", s, m, want)
		}
		want = -1
		for k := 0; k < len(s); k++ {
			if s[k] == 'c' && (k == 0 || s[k-1] == 'c') {
				want = k
				break
			}
		}
		if m, _ := neg.Exec(s); (m == nil) != (want < 0) || m != nil && m[0] != want {
			t.Fatalf("(?<![ab])c on %q: %v, want start %d", s, m, want)
		}
	}
}
