package hba_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

// TestCanceledDecisionStopsRegexMatch: a decision whose context has ended
// stops a back-reference match at its first poll, refusing at the rule
// (Unresolved, ReasonRegexTooComplex) with an error matching the
// context's, instead of spending the whole work bound and reporting the
// bound. It holds for the database and user columns, in a small file
// (plain loop) and a large one (index).
func TestCanceledDecisionStopsRegexMatch(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	var pad strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&pad, "host pad%d all 192.168.%d.0/24 md5\n", i%250, i%250)
	}
	for _, col := range []string{"db", "user"} {
		for _, padding := range []string{"", pad.String()} {
			rule := "host all " + backrefBomb + " 0.0.0.0/0 reject\n"
			if col == "db" {
				rule = "host " + backrefBomb + " all 0.0.0.0/0 reject\n"
			}
			rs := loadV16(t, padding+rule+"host all all 0.0.0.0/0 trust\n", hba.Env{})
			c := hba.Conn{Addr: netip.MustParseAddr("10.1.2.3"), User: bombUser, Database: bombUser}
			n := strings.Count(padding, "\n") + 1
			d := rs.Decide(canceled, c)
			if d.Outcome != hba.Unresolved || d.Rule == nil || d.Rule.Pos().Line != n ||
				d.Reason != hba.ReasonRegexTooComplex || !errors.Is(d.Err, context.Canceled) || errors.Is(d.Err, hba.ErrRegexTooComplex) {
				t.Fatalf("%s, %d rules: %v at %v, %v, %v; want Unresolved at line %d with context.Canceled",
					col, n+1, d.Outcome, d.Rule, d.Reason, d.Err, n)
			}
			// A live context runs to the bound, as before.
			d = rs.Decide(context.Background(), c)
			if d.Outcome != hba.Unresolved || !errors.Is(d.Err, hba.ErrRegexTooComplex) {
				t.Fatalf("%s, live: %v %v; want ErrRegexTooComplex", col, d.Outcome, d.Err)
			}
		}
	}
}
