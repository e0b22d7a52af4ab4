package pgre

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestHugePatternRefusedAtAtomBound: a pattern with more atoms than any
// accepted automaton can hold (a 5 MB ***= literal, the F15 case) is refused
// as unsupported at the first atom past maxAtoms, before the rest of it is
// parsed into nodes; the largest literal that fits maxStates still compiles.
func TestHugePatternRefusedAtAtomBound(t *testing.T) {
	for _, prefix := range []string{"***=", "", "(?i)", "***:"} {
		pat := prefix + strings.Repeat("a", 5<<20)
		_, err := Compile(pat)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrUnsupported) {
			t.Fatalf("%q + 5 MB: %v", prefix, err)
		}
		if e.Offset != len(prefix)+maxAtoms || !strings.Contains(e.Msg, fmt.Sprintf("more than %d atoms", maxAtoms)) {
			t.Errorf("%q + 5 MB: %q at %d, want the atom bound at %d", prefix, e.Msg, e.Offset, len(prefix)+maxAtoms)
		}
	}
	// maxStates-1 byte states and the match state fit.
	lit := strings.Repeat("ab", (maxStates-1)/2)
	re, err := Compile("***=" + lit)
	if err != nil || !re.MatchString("x"+lit) {
		t.Fatalf("%d-byte literal: %v", len(lit), err)
	}
	// Between maxStates and maxAtoms atoms: refused by the state bound.
	if _, err := Compile(strings.Repeat("a", maxStates+1)); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("%d atoms: %v", maxStates+1, err)
	}
	// Brackets and comments are one atom or none, whatever their length.
	if _, err := Compile("[" + strings.Repeat("a", 1<<20) + "]" + "(?#" + strings.Repeat("c", 1<<20) + ")"); err != nil {
		t.Fatalf("long bracket and comment: %v", err)
	}
}

// BenchmarkCompileHugeLiteral: the cost of refusing a huge ***= pattern
// stays flat once the pattern is past the atom bound (F15: a 5 MB one took
// 1.5-4 s and 190 bytes per pattern byte before).
func BenchmarkCompileHugeLiteral(b *testing.B) {
	for _, n := range []int{50 << 10, 500 << 10, 5 << 20} {
		pat := "***=" + strings.Repeat("a", n)
		b.Run(fmt.Sprintf("%dK", n>>10), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compile(pat); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
