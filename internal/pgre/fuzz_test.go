package pgre

import (
	"errors"
	"testing"
)

// FuzzCompile: any pattern either compiles or fails with *Error, never
// panics; compiled patterns answer MatchString and FindSubmatchIndex
// consistently, with well-formed offsets.
func FuzzCompile(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.pattern, v.subject)
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		if len(pattern) > 200 || len(subject) > 64 {
			return
		}
		re, err := Compile(pattern)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(pattern) {
				t.Fatalf("Compile(%q): %#v", pattern, err)
			}
			return
		}
		m, err := re.Exec(subject)
		if err != nil {
			return
		}
		if (m != nil) != re.MatchString(subject) {
			t.Fatalf("%q on %q: MatchString %v, FindSubmatchIndex %v", pattern, subject, !(m != nil), m)
		}
		if m == nil {
			return
		}
		if len(m) != 2*(re.NumSubexp()+1) {
			t.Fatalf("%q: %d offsets for %d groups", pattern, len(m), re.NumSubexp())
		}
		for i := 0; i < len(m); i += 2 {
			if (m[i] < 0) != (m[i+1] < 0) || m[i] > m[i+1] || m[i+1] > len(subject) {
				t.Fatalf("%q on %q: bad group %d: %v", pattern, subject, i/2, m)
			}
		}
	})
}
