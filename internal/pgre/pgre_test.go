package pgre

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		pattern, msg string
	}{
		{"(a", msgParen},
		{"a)", msgParen},
		{"[a", msgBrack},
		{"a{2", msgBrace},
		{"a{2,1}", msgBadBR},
		{"a{256}", msgBadBR},
		{"*a", msgBadRpt},
		{"a**", msgBadRpt},
		{`a\`, msgEscape},
		{`\q`, msgEscape},
		{"[[:foo:]]", msgCType},
		{"[z-a]", msgRange},
		{`\2(a)`, msgSubReg},
		{"(?z)a", msgBadOpt},
		{"***?", msgBadPat},
		{"[[.foo.]]", msgCollate},
	}
	for _, tt := range tests {
		_, err := Compile(tt.pattern)
		var e *Error
		if !errors.As(err, &e) || e.Msg != tt.msg || errors.Is(err, ErrUnsupported) {
			t.Errorf("Compile(%q) = %v, want %q", tt.pattern, err, tt.msg)
		}
	}
}

func TestUnsupported(t *testing.T) {
	tests := []struct {
		pattern string
		major   int
		offset  int
	}{
		{`x(?:a*\y){5}`, 0, 6},
		{`^a(?=b)\mc\M(?<!d)$x\A\Z\my`, 0, 0},
		{`(a{255}){255}`, 0, 8},
		{strings.Repeat("(", 101) + "a" + strings.Repeat(")", 101), 0, 100},
		{`(a)\1`, 13, 3},
	}
	for _, tt := range tests {
		_, err := CompileFor(tt.pattern, tt.major)
		var e *Error
		if !errors.Is(err, ErrUnsupported) || !errors.As(err, &e) || e.Offset != tt.offset {
			t.Errorf("CompileFor(%q, %d) = %v, want ErrUnsupported at %d", tt.pattern, tt.major, err, tt.offset)
		}
	}
	if _, err := CompileFor(`(a)\1`, 14); err != nil {
		t.Errorf("back-reference refused for 14: %v", err)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"db", "mydb1", true},
		{"^db$", "mydb1", false},
		{"^d.$", "d\xc3\xa9", false},
		{"", "anything", true},
		{`^\w+$`, "ab\xe9", false},
		{"(?i)^ABC$", "abc", true},
		{`\mfoo\M`, "a foo b", true},
		{`\mfoo\M`, "afoo", false},
		{"a(?=b)", "ab", true},
		{"a(?!b)", "ab", false},
		{"(?<=x)a", "xa", true},
		{"***=a.b", "a.b", true},
		{"***=a.b", "axb", false},
	}
	for _, tt := range tests {
		re, err := Compile(tt.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pattern, err)
			continue
		}
		if got := re.MatchString(tt.s); got != tt.want {
			t.Errorf("%q.MatchString(%q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestBackrefWorkBound(t *testing.T) {
	// Exponential in PostgreSQL's dissection algorithm: every split of the
	// a's is tried before failing on the final x.
	defer func(b int) { matchBudget = b }(matchBudget)
	matchBudget = 1_000_000
	re := MustCompile(`^(?:(a+)\1)+(?:(a+)\2)+$`)
	s := strings.Repeat("a", 201)
	m, err := re.Exec(s)
	if m != nil || !errors.Is(err, ErrMatchTooComplex) {
		t.Fatalf("Exec = %v, %v; want ErrMatchTooComplex", m, err)
	}
	if re.MatchString(s) {
		t.Fatal("MatchString true after the work bound")
	}
	// the same pattern on a short subject is answered
	if m, err := re.Exec("aaaa"); err != nil || m == nil {
		t.Fatalf("Exec(aaaa) = %v, %v", m, err)
	}
}

// TestFastPathAgrees checks the bit-parallel simulation against the
// general one on every automaton of generated patterns.
func TestFastPathAgrees(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	checked := 0
	for i := 0; i < 400; i++ {
		pat := genPattern(r)
		if i%2 == 1 {
			pat = genCapturePattern(r)
		}
		re, err := Compile(pat)
		if err != nil {
			continue
		}
		var progs []*prog
		var walk func(*subre)
		walk = func(t *subre) {
			if t.prog != nil {
				progs = append(progs, t.prog)
			}
			for _, k := range t.kids {
				walk(k)
			}
		}
		walk(re.tree)
		progs = append(progs, re.search)
		for _, p := range progs {
			if p.fast == nil {
				continue
			}
			for j := 0; j < 5; j++ {
				s := genSubject(r)
				checked++
				if a, b := p.fast.matchAnywhere(s, p.anchored), p.slowMatchAnywhere(s); a != b {
					t.Fatalf("%q on %q: matchAnywhere fast %v slow %v", pat, s, a, b)
				}
				for st := 0; st <= len(s); st++ {
					if a, b := p.fast.longest(s, st, len(s)), p.slowLongest(s, st, len(s)); a != b {
						t.Fatalf("%q on %q from %d: longest fast %d slow %d", pat, s, st, a, b)
					}
					for mn := st; mn <= len(s); mn++ {
						if a, b := p.fast.shortest(s, st, mn, len(s)), p.slowShortest(s, st, mn, len(s)); a != b {
							t.Fatalf("%q on %q from %d min %d: shortest fast %d slow %d", pat, s, st, mn, a, b)
						}
					}
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d checks", checked)
	}
}

// TestConcurrentUse shares compiled patterns between goroutines (run with
// -race); each goroutine must see the same answers as a sequential run.
func TestConcurrentUse(t *testing.T) {
	pats := []string{`^(db|dc)_(.+)$`, `(?<=a)b+(?!c)`, `(a+)\1`, `\m(\w+)\M`}
	subjects := []string{"db_x", "abbbc", "aaaa", " foo bar ", "dc_", "ab"}
	var res []*Regexp
	want := map[[2]int]string{}
	for i, p := range pats {
		re := MustCompile(p)
		res = append(res, re)
		for j, s := range subjects {
			want[[2]int{i, j}] = fmt.Sprint(re.FindSubmatchIndex(s), re.MatchString(s))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				for i, re := range res {
					for j, s := range subjects {
						if got := fmt.Sprint(re.FindSubmatchIndex(s), re.MatchString(s)); got != want[[2]int{i, j}] {
							errs <- fmt.Sprintf("%q on %q: %s, want %s", pats[i], s, got, want[[2]int{i, j}])
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
