package pgre

import (
	"errors"
	"strings"
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
	for _, p := range []string{"(?b)a", "(?e)a"} {
		_, err := Compile(p)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("Compile(%q) = %v, want ErrUnsupported", p, err)
		}
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
	re := MustCompile(`^(?:(a+)\1)+(?:(a+)\2)+$`)
	s := strings.Repeat("a", 201)
	m, err := re.Exec(s)
	if m != nil || (err != nil && !errors.Is(err, ErrMatchTooComplex)) {
		t.Fatalf("Exec = %v, %v", m, err)
	}
	t.Logf("err = %v", err)
}
