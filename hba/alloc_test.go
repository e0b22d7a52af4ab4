package hba

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// TestNoAllocs checks that deciding a connection allocates nothing when no
// outside source is called, for small (linearly scanned) and large (indexed)
// files.
func TestNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	big, f := benchRuleset(t, 1000)
	small, fs := benchRuleset(t, 5)

	var lists strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&lists, "host a%d,b%d,c%d,d%d,e%d x%d,y%d,z%d,\"w%d\" 10.%d.0.0/16 md5\n", i, i, i, i, i, i, i, i, i, i)
		fmt.Fprintf(&lists, "hostssl all x%d,y%d,/^q%d$ 0.0.0.0/0 md5\n", i, i, i)
		fmt.Fprintf(&lists, "local a%d,sameuser,b%d all md5\n", i, i)
	}
	lists.WriteString("host all all ::/0 reject\n")
	listRS, err := (&Parser{SSL: true, Version: 16}).LoadBytes("/x/pg_hba.conf", []byte(lists.String()))
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	cases := []struct {
		name string
		rs   *Ruleset
		c    Conn
		want Outcome
	}{
		{"ip indexed", big, probeConn(f.Hit), Matched},
		{"ip small", small, probeConn(fs.Hit), Matched},
		{"no match indexed", big, probeConn(f.Miss), NoMatch},
		{"no match small", small, probeConn(fs.Miss), NoMatch},
		{"local indexed", listRS, Conn{Local: true, Database: "q", User: "q"}, Matched},
		{"local small", small, Conn{Local: true, Database: "x", User: "postgres"}, Matched},
		{"lists", listRS, Conn{Addr: netip.MustParseAddr("10.39.1.1"), Database: "e39", User: "w39"}, Matched},
		{"regex", listRS, Conn{Addr: netip.MustParseAddr("10.200.1.1"), SSL: true, Database: "e39", User: "q39"}, Matched},
		{"ipv6 reject", listRS, Conn{Addr: netip.MustParseAddr("fd00::1"), Database: "db", User: "u"}, Rejected},
		{"long names", big, Conn{Addr: f.Hit.Addr, Database: strings.Repeat("d", 100), User: strings.Repeat("u", 100)}, NoMatch},
		{"physical replication", big, Conn{Addr: f.Hit.Addr, User: f.Hit.User, Replication: PhysicalReplication}, NoMatch},
	}
	for _, tc := range cases {
		if d := tc.rs.Decide(ctx, tc.c); d.Outcome != tc.want {
			t.Errorf("%s: outcome %v, want %v", tc.name, d.Outcome, tc.want)
		}
		if n := testing.AllocsPerRun(100, func() { sinkDecision = tc.rs.Decide(ctx, tc.c) }); n != 0 {
			t.Errorf("%s: Decide allocates %v times per call, want 0", tc.name, n)
		}
		if tc.want == Matched {
			if n := testing.AllocsPerRun(100, func() { sinkRule, _ = tc.rs.MatchContext(ctx, tc.c) }); n != 0 {
				t.Errorf("%s: MatchContext allocates %v times per call, want 0", tc.name, n)
			}
		}
	}
}
