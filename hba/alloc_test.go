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

// TestLargeFileLines checks that a large file, whose lines the loader cuts
// from one copy of the file, reads exactly as a small one: the same lines
// (continuations, CR LF, NUL bytes, comments, quotes) padded with comments
// past the size where the loader switches.
func TestLargeFileLines(t *testing.T) {
	small := "local all all trust\r\n" +
		"host db1,\"q,x\" u1 10.0.0.0/8 md5 # comment\n" +
		"host all \\\n all 127.0.0.1/32 trust\n" +
		"host all all\x00junk\n127.0.0.2/32 trust\n" +
		"  \t\n" +
		"hostssl all all all reject\n" +
		"host \"all\" \"u 2\" ::1/128 scram-sha-256"
	big := small + "\n" + strings.Repeat("# padding padding padding padding padding\n", 2000)
	for _, v := range []int{13, 15, 16, 18} {
		p := Parser{Version: v}
		fs, fb := p.ParseBytes("/x/pg_hba.conf", []byte(small)), p.ParseBytes("/x/pg_hba.conf", []byte(big))
		if len(fs.Lines) != len(fb.Lines) || len(fs.Lines) < 6 {
			t.Fatalf("version %d: %d lines small, %d large", v, len(fs.Lines), len(fb.Lines))
		}
		for i := range fs.Lines {
			a, b := fs.Lines[i], fb.Lines[i]
			if a.Raw != b.Raw || a.Pos != b.Pos || (a.Err == nil) != (b.Err == nil) || (a.Rule == nil) != (b.Rule == nil) {
				t.Errorf("version %d line %d: small %q %v %v, large %q %v %v", v, i, a.Raw, a.Pos, a.Err, b.Raw, b.Pos, b.Err)
				continue
			}
			if a.Rule != nil && (fmt.Sprint(a.Rule.Databases(), a.Rule.Users(), a.Rule.Address().Text) != fmt.Sprint(b.Rule.Databases(), b.Rule.Users(), b.Rule.Address().Text)) {
				t.Errorf("version %d line %d: rules differ", v, i)
			}
		}
	}
}
