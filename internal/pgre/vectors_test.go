package pgre

import (
	"errors"
	"testing"
)

// TestVectors checks one case per construct class and per error text
// against answers recorded from PostgreSQL 15 (vectors_data_test.go, in the
// format of the differential test: "E:<error>", "N" for no match, or "M"
// with the (start,end) of every group and regexp_match's text in hex).
func TestVectors(t *testing.T) {
	for _, v := range vectors {
		got, _, refused := ours(pair{v.pattern, v.subject})
		if refused {
			t.Errorf("%q: refused as unsupported; PostgreSQL: %s", v.pattern, v.want)
			continue
		}
		if got != v.want {
			t.Errorf("pattern %q subject %q:\n postgres: %s\n pgre:     %s", v.pattern, v.subject, v.want, got)
		}
	}
}

// TestErrorTexts checks that every PostgreSQL reason text reachable from a
// pattern is produced, with the offset at which PostgreSQL's lexer stands.
func TestErrorTexts(t *testing.T) {
	tests := []struct {
		pattern, msg string
		offset       int
	}{
		{"***?", msgBadPat, 0},
		{"[[.foo.]]", msgCollate, 1},
		{"[[:foo:]]", msgCType, 1},
		{`a\q`, msgEscape, 3},
		{`\2(a)`, msgSubReg, 2},
		{"[a", msgBrack, 2},
		{"(a", msgParen, 2},
		{"a)", msgParen, 2},
		{"a{1", msgBrace, 3},
		{"a{2,1}", msgBadBR, 6},
		{"a{256}", msgBadBR, 6},
		{"[z-a]", msgRange, 1},
		{"a**", msgBadRpt, 3},
		{"(?z)a", msgBadOpt, 2},
	}
	for _, tt := range tests {
		_, err := Compile(tt.pattern)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Compile(%q) = %v, want *Error", tt.pattern, err)
			continue
		}
		if e.Msg != tt.msg || e.Offset != tt.offset || errors.Is(err, ErrUnsupported) || e.Error() != tt.msg {
			t.Errorf("Compile(%q) = %q at %d, want %q at %d", tt.pattern, e.Msg, e.Offset, tt.msg, tt.offset)
		}
	}
}
