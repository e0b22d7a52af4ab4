package conformance

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
	"github.com/pghba/pghba/internal/diffcorpus"
	"github.com/pghba/pghba/internal/pgtest"
)

// Environment (besides the PGHBA_CONFORMANCE_ variables above):
//
//	PGHBA_CONFORMANCE_DIFF_PAIRS          pairs of TestDiffProved's corpus per major (default 150)
//	PGHBA_CONFORMANCE_DIFF_SOURCE_PAIRS   pairs of TestDiffProvedSources' corpus per major (default 75)

// TestDiffWitnesses runs the witnesses of the diff proof corpus through
// real 15 and 18 servers: the first pairs of TestDiffProved's corpus (and
// of TestDiffProvedSources', whose +role, samerole, host names, samehost
// and samenet are resolved from the role fixture, the harness's hosts
// file and this machine's interfaces), each read by the server's dialect
// and diffed by audit.Diff with the sources the harness gives hba. For
// every changed region's witness the server, running the old file, must
// decide it as the change's before says (outcome and line), and running
// the new file as its after says. Each file goes through the harness's
// case runner (target.run), so its view and the library's decisions are
// also compared as TestConformance compares them.
//
// A witness from a TCP source outside 127.0.0.0/8 and ::1 (the server is
// reached on loopback) is moved to a loopback address of its region when
// the region has one (every connection of a changed region is decided as
// the change says; the library confirms the moved one first), else it is
// not probed. GSS-encrypted witnesses are not probed (the probes speak no
// GSSAPI). Both are counted in the log. May-change regions make no claim a
// probe could check. The witnesses of sameuser regions (db_is_user: the
// database named like the user, or not) are counted apart, and must be
// some.
func TestDiffWitnesses(t *testing.T) {
	env.Majors(t, []int{15, 18}, 15, func(t *testing.T, inst *pgtest.Install) {
		tg := startTarget(t, inst.Major, profile{})
		ifaces, err := hba.SystemInterfaces.InterfaceAddrs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		srcEnv := tg.parser.Env
		// The server asks getifaddrs on this machine, as SystemInterfaces
		// does: a snapshot lets Diff resolve samehost and samenet.
		srcEnv.Interfaces = hba.StaticInterfaces(ifaces)
		plain := diffcorpus.Plain
		sources := diffcorpus.Sources(tg.hosts)
		var st witnessStats
		st.excluded = map[string]int{}
		for _, corpus := range []struct {
			name  string
			v     *diffcorpus.Vocab
			pairs int
		}{
			{"TestDiffProved", &plain, env.Int("DIFF_PAIRS", 150)},
			{"TestDiffProvedSources", &sources, env.Int("DIFF_SOURCE_PAIRS", 75)},
		} {
			before, beforeSU := st.checked, st.sameUser
			for i, pr := range corpus.v.Pairs(14, corpus.pairs) {
				tg.diffWitnesses(t, &st, fmt.Sprintf("%s pair %d", corpus.name, i), pr, srcEnv)
			}
			t.Logf("pg%d: %s corpus, %d pairs: %d witnesses checked (%d of sameuser regions)", inst.Major, corpus.name, corpus.pairs, st.checked-before, st.sameUser-beforeSU)
		}
		var ex []string
		for k, n := range st.excluded {
			ex = append(ex, fmt.Sprintf("%d %s", n, k))
		}
		sort.Strings(ex)
		t.Logf("pg%d (%s): %d pairs, %d changed regions, %d witnesses checked on the server (%d of them moved to a loopback address of their region; %d probes: old and new file; %d of sameuser regions, %d with the database named like the user), %d may-change regions not probed; witnesses not probed: %s",
			inst.Major, inst.Version(), st.pairs, st.changed, st.checked, st.relocated, st.probes, st.sameUser, st.sameUserEq, st.may, strings.Join(ex, ", "))
		if st.checked < 200 {
			t.Errorf("pg%d: only %d witnesses checked: corpus too weak", inst.Major, st.checked)
		}
		if st.sameUserEq == 0 || st.sameUser == st.sameUserEq {
			t.Errorf("pg%d: %d sameuser witnesses checked, %d named like their user: corpus too weak", inst.Major, st.sameUser, st.sameUserEq)
		}
	})
}

type witnessStats struct {
	pairs, changed, may, checked, probes int
	relocated                            int
	sameUser, sameUserEq                 int // witnesses checked of regions with db_is_user (true)
	excluded                             map[string]int
	cases                                int
}

// probeable reports whether the harness can present the connection, and
// if not why.
func probeable(c hba.Conn) (bool, string) {
	switch {
	case c.GSS:
		return false, "GSS-encrypted (the probes speak no GSSAPI)"
	case !c.Local && !(c.Addr.Is4() && netip.MustParsePrefix("127.0.0.0/8").Contains(c.Addr) || c.Addr == netip.IPv6Loopback()):
		return false, "from an address outside 127.0.0.0/8 and ::1"
	}
	return true, ""
}

// loopbackIn returns the connection w with its TCP source moved to an
// address of r the harness can present (127.0.0.1, ::1, or the first
// address of a range inside 127.0.0.0/8), if r has one.
func loopbackIn(r *audit.Region, w hba.Conn) (hba.Conn, bool) {
	if w.GSS || w.Local {
		return w, false
	}
	lo4 := netip.MustParsePrefix("127.0.0.0/8")
	for _, s := range r.Addrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			continue
		}
		var a netip.Addr
		switch {
		case p.Contains(netip.MustParseAddr("127.0.0.1")):
			a = netip.MustParseAddr("127.0.0.1")
		case p.Contains(netip.IPv6Loopback()):
			a = netip.IPv6Loopback()
		case p.Addr().Is4() && p.Bits() >= 8 && lo4.Contains(p.Addr()):
			a = p.Masked().Addr()
		default:
			continue
		}
		w.Addr = a
		return w, true
	}
	return w, false
}

// libText is the harness's decision text of a library decision.
func libText(d hba.Decision) string {
	switch {
	case d.Outcome == hba.NoMatch:
		return "no-match"
	case d.Rule == nil || d.Outcome == hba.Unresolved:
		return d.Outcome.String()
	case d.Rule.Method() == hba.Reject:
		return fmt.Sprintf("reject %s:%d", MainFile, d.Rule.Pos().Line)
	}
	return fmt.Sprintf("match %s:%d", MainFile, d.Rule.Pos().Line)
}

// expect is the harness's decision text for one side of a change.
func expect(s audit.Side) string {
	switch s.Outcome {
	case "matched":
		return fmt.Sprintf("match %s:%d", MainFile, s.Line)
	case "rejected":
		return fmt.Sprintf("reject %s:%d", MainFile, s.Line)
	case "no-entry":
		return "no-match"
	}
	return s.Outcome
}

func (tg *target) diffWitnesses(t *testing.T, st *witnessStats, what string, pr diffcorpus.Pair, srcEnv hba.Env) {
	t.Helper()
	name := tg.cl.HBAFile()
	of := tg.parser.ParseBytes(name, []byte(pr.Old))
	nf := tg.parser.ParseBytes(name, []byte(pr.New))
	res := audit.Diff(of, nf, audit.DiffOptions{OldEnv: &srcEnv, NewEnv: &srcEnv})
	q := *tg.parser
	q.Env = srcEnv
	ors, err1 := q.Compile(of)
	nrs, err2 := q.Compile(nf)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: %v %v", what, err1, err2)
	}
	ctx := context.Background()
	st.pairs++
	if res.Incomplete {
		t.Fatalf("%s: incomplete", what)
	}
	var conns []Conn
	var before, after []string
	for _, ch := range res.Changes {
		switch ch.Kind {
		case audit.MayChange:
			st.may++
			continue
		case audit.Moved:
			continue
		}
		st.changed++
		if ch.Before.Outcome == "not-loaded" || ch.After.Outcome == "not-loaded" {
			t.Fatalf("%s: a corpus file does not load: %s", what, ch.Reason)
		}
		c := ch.Witness.Conn()
		if ok, why := probeable(c); !ok {
			// Every connection of a changed region is decided as the
			// change says: probe one of the region that the harness can
			// present, when there is one, after the library confirms it.
			lc, found := loopbackIn(&ch.Region, c)
			if !found {
				st.excluded[why]++
				continue
			}
			if od, nd := ors.Decide(ctx, lc), nrs.Decide(ctx, lc); libText(od) != expect(ch.Before) || libText(nd) != expect(ch.After) {
				t.Fatalf("%s: %+v is in the changed region %+v but the library decides %q, %q; the change says %q, %q",
					what, lc, ch.Region, libText(od), libText(nd), expect(ch.Before), expect(ch.After))
			}
			st.relocated++
			c = lc
		}
		if r := ch.Region.DBIsUser; r != nil {
			if *r != (c.Database == c.User) {
				t.Fatalf("%s: witness %+v of a region with db_is_user %v", what, c, *r)
			}
			st.sameUser++
			if *r {
				st.sameUserEq++
			}
		}
		conns = append(conns, Conn{Local: c.Local, Addr: c.Addr, SSL: c.SSL, Repl: c.Replication, User: c.User, Database: c.Database})
		before, after = append(before, expect(ch.Before)), append(after, expect(ch.After))
	}
	if len(conns) == 0 {
		return
	}
	for _, side := range []struct {
		name, data string
		want       []string
	}{{"old", pr.Old, before}, {"new", pr.New, after}} {
		c := &Case{Index: st.cases, Version: tg.opts.Version,
			Files: []File{{Path: MainFile, Data: side.data, PW: diffcorpus.PasswordVariant(side.data)}}, Conns: conns}
		st.cases++
		r, err := tg.run(c)
		if err != nil {
			t.Fatalf("%s, %s file: harness: %v", what, side.name, err)
		}
		if r.generator != "" || r.diff != "" || r.server == nil || !r.server.Loaded {
			t.Fatalf("%s, %s file:\n%s\nthe harness says: %s%s (server %+v)", what, side.name, side.data, r.generator, r.diff, r.server)
		}
		st.probes += r.probes
		for k, got := range r.server.Decisions {
			if got != side.want[k] {
				t.Errorf("%s: witness %s: the server decides %q on the %s file, the diff says %q\nold:\n%s\nnew:\n%s",
					what, conns[k], got, side.name, side.want[k], pr.Old, pr.New)
			}
		}
	}
	st.checked += len(conns)
}
