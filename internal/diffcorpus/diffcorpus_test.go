package diffcorpus

import (
	"slices"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

// TestPairs: the corpus is deterministic, a prefix of a longer run, and
// every file loads; the password variant keeps every line's bytes before
// the method and ends each in password.
func TestPairs(t *testing.T) {
	src := Sources(true)
	for _, v := range []*Vocab{&Plain, &src} {
		a, b := v.Pairs(14, 50), v.Pairs(14, 80)
		if !slices.Equal(a, b[:50]) {
			t.Fatal("the first pairs of a longer run differ")
		}
		p := hba.Parser{Version: 18, SSL: true}
		for _, pr := range b {
			for _, f := range []string{pr.Old, pr.New} {
				if lf := p.ParseBytes("/pg_hba.conf", []byte(f)); len(lf.Errors) > 0 || len(lf.Rules) == 0 {
					t.Fatalf("%s: %v", f, lf.Errors)
				}
				pw := strings.Split(PasswordVariant(f), "\n")
				for i, l := range strings.Split(strings.TrimSuffix(f, "\n"), "\n") {
					head := pw[i][:len(pw[i])-len("password")]
					if !strings.HasSuffix(pw[i], " password") || !strings.HasPrefix(l, head) {
						t.Fatalf("line %q, password variant %q", l, pw[i])
					}
				}
			}
		}
	}
	if n := len(Plain.Conns()); n < 1000 {
		t.Fatalf("%d connections", n)
	}
}
