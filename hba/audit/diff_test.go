package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/conformance"
	"github.com/pghba/pghba/internal/diffcorpus"
)

// inRegion reports whether c is in r, reading r's JSON form.
// In a changed region every token is a name (the fixture has roles named
// "+grp" and "all"); a may-change region's tokens that are not names
// (+role, /regex, same*; host names, samehost, samenet) may hold any.
func inRegion(t *testing.T, ch *Change, c hba.Conn) bool {
	r := &ch.Region
	atoms := ch.Kind != Changed
	if r.Local != c.Local {
		return false
	}
	if !c.Local {
		if r.SSL != nil && *r.SSL != c.SSL || r.GSS != nil && *r.GSS != c.GSS {
			return false
		}
		in := false
		for _, s := range r.Addrs {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				// A may-change region's address atom (a host name,
				// samehost, samenet) may hold any address.
				if !atoms || strings.Contains(s, "/") {
					t.Fatalf("region address %q: %v", s, err)
				}
				in = true
				continue
			}
			if p.Contains(c.Addr) {
				in = true
			}
		}
		if !in {
			return false
		}
	}
	kind := map[hba.Replication]string{hba.NoReplication: "none", hba.PhysicalReplication: "physical", hba.LogicalReplication: "logical"}[c.Replication]
	if !slices.Contains(r.Replication, kind) {
		return false
	}
	if r.DBIsUser != nil {
		if c.Replication == hba.PhysicalReplication {
			t.Fatalf("db_is_user in a physical replication region: %+v", r)
		}
		if (c.Database == c.User) != *r.DBIsUser {
			return false
		}
	}
	has := func(n NameList, s string) bool {
		if n.All {
			return !slices.Contains(n.Except, s)
		}
		// Tokens that are not names (a may-change region's atoms) may hold
		// any name.
		return slices.Contains(n.Only, s) || atoms && slices.ContainsFunc(n.Only, func(x string) bool {
			return strings.HasPrefix(x, "/") || strings.HasPrefix(x, "+") || strings.HasPrefix(x, "same")
		})
	}
	if c.Replication != hba.PhysicalReplication && !has(r.DBs, c.Database) {
		return false
	}
	return has(r.Users, c.User)
}

func decisionText(d hba.Decision) string {
	if d.Rule == nil {
		return d.Outcome.String()
	}
	return d.Outcome.String() + " " + decisionKey(d.Rule)
}

// TestDiffProved checks Diff against the matcher on generated file pairs
// under random edits: every connection whose decision differs lies in
// exactly one changed region (or, for files with atoms, a may-change
// region), every connection in no region decides the same, and every
// witness is decided as its change says, differently in the two files.
// The rules list sameuser too, which is exact: its regions relate the
// database to the user name (db_is_user), none is may-change.
func TestDiffProved(t *testing.T) {
	pairs := 600
	if testing.Short() {
		pairs = 150
	}
	env := hba.Env{Roles: noRoles{}, Resolver: hba.HostTable{}, Interfaces: hba.StaticInterfaces{}}
	st := proveDiff(t, &diffcorpus.Plain, pairs, env, DiffOptions{}, false)
	if st.changed < pairs/2 || st.witnesses == 0 || st.differ == 0 {
		t.Fatalf("corpus too weak: %+v", st)
	}
	if st.sameUserPairs < pairs/10 || st.dbIsUser == 0 || st.dbIsNotUser == 0 || st.sameUserDiffer == 0 || st.sameUserWitnesses == 0 {
		t.Fatalf("sameuser too rare in the corpus: %+v", st)
	}
}

// TestDiffSameUser: sameuser regions are exact, related to the user name,
// with witnesses that satisfy the relation.
func TestDiffSameUser(t *testing.T) {
	p := hba.Parser{Version: 18, SSL: true}
	parse := func(s string) *hba.File { return p.ParseBytes("/pg_hba.conf", []byte(s)) }
	tail := "host all all all md5\n"
	old := parse(tail)
	for _, c := range []struct {
		rule string
		want []string // kind, db_is_user, dbs, users, before -> after, witness db=user?
	}{
		{"host sameuser all all reject\n", []string{"changed true {true [] []} {true [] []} 1->1 eq"}},
		{"host sameuser bob,admin 127.0.0.0/8 reject\n", []string{"changed true {false [admin bob] []} {false [admin bob] []} 1->1 eq"}},
		{"host sameuser bob 127.0.0.0/8 reject\n", []string{"changed nil {false [bob] []} {false [bob] []} 1->1 eq"}},
		{"host sameuser,app all all reject\n", []string{"changed nil {false [app] []} {true [] []} 1->1 ne", "changed true {true [] [app]} {true [] [app]} 1->1 eq"}},
	} {
		res := Diff(old, parse(c.rule+tail), DiffOptions{})
		var got []string
		for _, ch := range res.Changes {
			rel := "nil"
			if ch.Region.DBIsUser != nil {
				rel = fmt.Sprint(*ch.Region.DBIsUser)
			}
			w := "ne"
			if ch.Witness != nil && ch.Witness.DB == ch.Witness.User {
				w = "eq"
			}
			got = append(got, fmt.Sprintf("%s %s %v %v %d->%d %s", ch.Kind, rel, ch.Region.DBs, ch.Region.Users, ch.Before.Line, ch.After.Line, w))
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.rule, got, c.want)
		}
	}
	// The relation round-trips in JSON, and is absent without sameuser.
	b, _ := json.Marshal(Diff(old, parse("host sameuser all all reject\n"+tail), DiffOptions{}))
	if !strings.Contains(string(b), `"db_is_user":true`) {
		t.Errorf("no db_is_user: %s", b)
	}
	b, _ = json.Marshal(Diff(old, parse("host app all all reject\n"+tail), DiffOptions{}))
	if strings.Contains(string(b), `db_is_user`) {
		t.Errorf("db_is_user without sameuser: %s", b)
	}
}

// diffSources are the outside sources of the proofs with sources: the
// conformance role fixture and host table, and two interfaces.
func diffSources() hba.Env {
	return hba.Env{Roles: conformance.FixtureGraph("postgres"), Resolver: conformance.HostTable(conformance.HostsFile),
		Interfaces: hba.StaticInterfaces{netip.MustParsePrefix("127.1.2.3/24"), netip.MustParsePrefix("::1/128")}}
}

// TestDiffProvedSources is TestDiffProved on files whose rules use +role,
// samerole, host names, samehost and samenet, with the role graph, host
// table and interface list given to Diff: the analysis resolves them, so
// every region is exact. Every connection that differs is in exactly one
// changed region, none is in a may-change region, and the connections in
// no region decide the same.
func TestDiffProvedSources(t *testing.T) {
	pairs := 500
	if testing.Short() {
		pairs = 120
	}
	env := diffSources()
	v := diffcorpus.Sources(true)
	st := proveDiff(t, &v, pairs, env, DiffOptions{OldEnv: &env, NewEnv: &env}, true)
	if st.may != 0 {
		t.Fatalf("%d may-change regions with every source given", st.may)
	}
	if st.changed < pairs/2 || st.witnesses == 0 || st.differ == 0 || st.atomRules == 0 {
		t.Fatalf("corpus too weak: %+v", st)
	}
	// Without the sources, the same corpus is not exact: what depends on
	// them is may-change, never dropped (proveDiff checks that every
	// differing connection is in some region).
	st = proveDiff(t, &v, pairs/4, env, DiffOptions{}, false)
	if st.may == 0 {
		t.Fatalf("no may-change region without the sources: %+v", st)
	}
}

// TestDiffProvedSourcesChange is TestDiffProvedSources with the sources
// changed between the two sides (a grant added and one removed, another
// interface, a host entry moved): rules that read alike but match other
// connections in the new environment are compared as changed rules, and
// the exactness assertions still hold.
func TestDiffProvedSourcesChange(t *testing.T) {
	pairs := 300
	if testing.Short() {
		pairs = 80
	}
	oldEnv := diffSources()
	g := conformance.FixtureGraph("postgres")
	g["alice"] = append(g["alice"], "grp")
	g["bob"] = nil
	ht := conformance.HostTable(conformance.HostsFile)
	ht.Reverse["127.0.0.5"] = []string{"db.example.com"}
	ht.Forward["db.example.com"] = append(ht.Forward["db.example.com"], "127.0.0.5")
	newEnv := hba.Env{Roles: g, Resolver: ht,
		Interfaces: hba.StaticInterfaces{netip.MustParsePrefix("127.168.1.1/16"), netip.MustParsePrefix("::1/128")}}
	v := diffcorpus.Sources(true)
	opts := DiffOptions{OldEnv: &oldEnv, NewEnv: &newEnv}
	prs := v.Pairs(14, pairs)
	st := proveDiff2(t, &v, prs, oldEnv, &newEnv, opts, true)
	if st.may != 0 || st.changed < pairs/2 || st.differ == 0 {
		t.Fatalf("corpus too weak or not exact: %+v", st)
	}
	// The same file on both sides: only the sources change.
	for i := range prs {
		prs[i].New = prs[i].Old
	}
	st = proveDiff2(t, &v, prs, oldEnv, &newEnv, opts, true)
	if st.may != 0 || st.changed == 0 || st.differ == 0 {
		t.Fatalf("same files, other sources: %+v", st)
	}
}

// TestDiffSourcesDiffer: one file read with two role graphs (a grant
// added) changes the decisions of the new member, exactly.
func TestDiffSourcesDiffer(t *testing.T) {
	p := hba.Parser{Version: 18, SSL: true}
	f := p.ParseBytes("/pg_hba.conf", []byte("host all +grp 127.0.0.0/8 scram-sha-256\nhost all all 127.0.0.0/8 reject\n"))
	g1 := hba.RoleGraph{"bob": {"grp"}, "alice": nil, "grp": nil}
	g2 := hba.RoleGraph{"bob": {"grp"}, "alice": {"grp"}, "grp": nil}
	e1, e2 := hba.Env{Roles: g1}, hba.Env{Roles: g2}
	res := Diff(f, f, DiffOptions{OldEnv: &e1, NewEnv: &e2})
	var got []string
	for _, c := range res.Changes {
		if c.Kind != Moved {
			got = append(got, fmt.Sprintf("%s %v %s->%s", c.Kind, c.Region.Users, c.Before.Outcome, c.After.Outcome))
		}
	}
	want := "changed {false [alice] []} rejected->matched"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %q, want [%q]", got, want)
	}
}

// diffStats counts what proveDiff checked.
type diffStats struct {
	pairs, changed, may, witnesses, differ, same, atomRules int
	// sameuser: pairs whose rules list it, changes with db_is_user true
	// and false, differing connections with the database named like the
	// user in those pairs, witnesses of regions with db_is_user.
	sameUserPairs, dbIsUser, dbIsNotUser, sameUserDiffer, sameUserWitnesses int
}

// proveDiff runs Diff with opts on the pairs of v and checks each result
// against the matcher with env, over v's connections. With exact, a
// differing connection must be in exactly one changed region, atoms or
// not.
func proveDiff(t *testing.T, v *diffcorpus.Vocab, pairs int, env hba.Env, opts DiffOptions, exact bool) diffStats {
	return proveDiff2(t, v, v.Pairs(14, pairs), env, nil, opts, exact)
}

// proveDiff2 is proveDiff on the pairs prs, with the new file decided in
// newEnv (nil: env).
func proveDiff2(t *testing.T, v *diffcorpus.Vocab, prs []diffcorpus.Pair, env hba.Env, newEnv *hba.Env, opts DiffOptions, exact bool) diffStats {
	t.Helper()
	conns := v.Conns()
	p := hba.Parser{Version: 18, SSL: true}
	p.Env = env
	ctx := context.Background()
	var st diffStats
	for _, pr := range prs {
		oldText, newText := pr.Old, pr.New
		of := p.ParseBytes("/pg_hba.conf", []byte(oldText))
		nf := p.ParseBytes("/pg_hba.conf", []byte(newText))
		if len(of.Errors) > 0 || len(nf.Errors) > 0 {
			t.Fatalf("generated file does not load:\n%s%v\n%s%v", oldText, of.Errors, newText, nf.Errors)
		}
		for _, r := range append(slices.Clone(of.Rules), nf.Rules...) {
			if strings.ContainsAny(r.Raw(), "+") || strings.Contains(strings.ReplaceAll(r.Raw(), "sameuser", ""), "same") || strings.Contains(r.Raw(), "example") || strings.Contains(r.Raw(), "localhost") || strings.Contains(r.Raw(), "dbalias") {
				st.atomRules++
			}
		}
		sameUser := strings.Contains(oldText+newText, "sameuser")
		if sameUser {
			st.sameUserPairs++
		}
		ors, _ := p.Compile(of)
		nrs, _ := p.Compile(nf)
		if newEnv != nil {
			nrs = nrs.WithEnv(*newEnv)
		}
		res := Diff(of, nf, opts)
		// The JSON contract round-trips.
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		var back DiffResult
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		res = back
		st.pairs++
		fail := func(format string, a ...any) {
			t.Helper()
			t.Fatalf("old:\n%s\nnew:\n%s\n%s\n%s", oldText, newText, fmt.Sprintf(format, a...), b)
		}
		if res.Incomplete {
			fail("incomplete on a small file")
		}
		for k := range res.Changes {
			ch := &res.Changes[k]
			switch ch.Kind {
			case Changed:
				st.changed++
			case MayChange:
				st.may++
				if ch.Reason == "" {
					fail("may-change without a reason")
				}
				// sameuser depends on no outside source: never the reason.
				if strings.Contains(ch.Reason, "sameuser") || slices.Contains(ch.Region.DBs.Only, "sameuser") {
					fail("may-change for sameuser: %+v", ch)
				}
			}
			if ch.Region.DBIsUser != nil && ch.Kind != Moved {
				if !sameUser {
					fail("db_is_user without sameuser: %+v", ch)
				}
				if *ch.Region.DBIsUser {
					st.dbIsUser++
				} else {
					st.dbIsNotUser++
				}
			}
			if ch.Kind == Moved || ch.Witness == nil {
				if ch.Kind == Changed {
					fail("changed without a witness")
				}
				continue
			}
			c := ch.Witness.Conn()
			od, nd := ors.Decide(ctx, c), nrs.Decide(ctx, c)
			if ch.Kind == Changed {
				if decisionText(od) == decisionText(nd) {
					fail("witness %+v decides the same: %s", c, decisionText(od))
				}
				if !inRegion(t, ch, c) {
					fail("witness %+v outside its region", c)
				}
				if od.Rule == nil && ch.Before.Outcome != "no-entry" || od.Rule != nil && od.Rule.Pos().Line != ch.Before.Line {
					fail("witness %+v: old decides %v, change says %+v", c, od.Rule, ch.Before)
				}
				if nd.Rule == nil && ch.After.Outcome != "no-entry" || nd.Rule != nil && nd.Rule.Pos().Line != ch.After.Line {
					fail("witness %+v: new decides %v, change says %+v", c, nd.Rule, ch.After)
				}
				st.witnesses++
				if ch.Region.DBIsUser != nil {
					st.sameUserWitnesses++
				}
			}
		}
		for _, c := range conns {
			od, nd := ors.Decide(ctx, c), nrs.Decide(ctx, c)
			differ := decisionText(od) != decisionText(nd)
			inChanged, inMay := 0, 0
			for k := range res.Changes {
				ch := &res.Changes[k]
				if ch.Kind == Moved || !inRegion(t, ch, c) {
					continue
				}
				if ch.Kind == Changed {
					inChanged++
					if !differ {
						fail("%+v in a changed region but decides the same (%s)", c, decisionText(od))
					}
					if od.Rule != nil && od.Rule.Pos().Line != ch.Before.Line || nd.Rule != nil && nd.Rule.Pos().Line != ch.After.Line {
						fail("%+v: decided by lines %v, %v; region says %d -> %d", c, od.Rule, nd.Rule, ch.Before.Line, ch.After.Line)
					}
				} else {
					inMay++
				}
			}
			switch {
			case differ && inChanged == 0 && inMay == 0:
				fail("%+v decides %s then %s, in no region", c, decisionText(od), decisionText(nd))
			case differ && inChanged > 1:
				fail("%+v in %d changed regions", c, inChanged)
			case differ && inChanged == 0 && (exact || !pr.Atoms):
				fail("%+v differs but is only in may-change regions of a file whose sources are known", c)
			case differ:
				st.differ++
				if sameUser && c.Database == c.User {
					st.sameUserDiffer++
				}
			default:
				st.same++
			}
		}
	}
	t.Logf("%d pairs (%d rules with atoms): %d changed, %d may-change regions; %d witnesses confirmed; %d differing and %d same connections checked",
		st.pairs, st.atomRules, st.changed, st.may, st.witnesses, st.differ, st.same)
	t.Logf("sameuser: %d pairs, %d regions with db_is_user true and %d false (%d witnesses), %d differing connections named like their user",
		st.sameUserPairs, st.dbIsUser, st.dbIsNotUser, st.sameUserWitnesses, st.sameUserDiffer)
	return st
}

func TestDiffIdenticalAndNotLoaded(t *testing.T) {
	p := hba.Parser{}
	a := p.ParseBytes("/a", []byte("local all all peer\nhost all all 10.0.0.0/8 md5\n"))
	if res := Diff(a, a, DiffOptions{}); len(res.Changes) != 0 || res.Incomplete {
		t.Fatalf("identical files: %+v", res)
	}
	bad := p.ParseBytes("/b", []byte("host all all 10.0.0.0/33 md5\n"))
	res := Diff(a, bad, DiffOptions{})
	if len(res.Changes) != 1 || res.Changes[0].After.Outcome != "not-loaded" || res.Changes[0].Reason == "" {
		t.Fatalf("not loaded: %+v", res)
	}
	// A move that keeps the decision is moved, not changed.
	m1 := p.ParseBytes("/a", []byte("host app bob 10.0.0.0/8 md5\nhost db1 bob 10.0.0.0/8 trust\n"))
	m2 := p.ParseBytes("/a", []byte("host db1 bob 10.0.0.0/8 trust\nhost app bob 10.0.0.0/8 md5\n"))
	res = Diff(m1, m2, DiffOptions{})
	for _, c := range res.Changes {
		if c.Kind != Moved {
			t.Fatalf("disjoint move reported as %s: %+v", c.Kind, c)
		}
	}
	if len(res.Changes) == 0 {
		t.Fatal("move not reported")
	}
}

// TestLintNoEffectProved: on generated files, removing a rule that
// no-effect reports changes no decision of any enumerated connection, and
// Diff of the file and the file without the rule reports no change.
func TestLintNoEffectProved(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	v := &diffcorpus.Plain
	conns := v.Conns()
	p := hba.Parser{Version: 18, SSL: true}
	p.Env = hba.Env{Roles: noRoles{}, Resolver: hba.HostTable{}, Interfaces: hba.StaticInterfaces{}}
	ctx := context.Background()
	found := 0
	for n := 0; n < 2000; n++ {
		var lines []string
		for k := 0; k < 3+rng.IntN(7); k++ {
			lines = append(lines, v.Rule(rng, n%5 == 4))
		}
		text := strings.Join(lines, "\n") + "\n"
		f := p.ParseBytes("/pg_hba.conf", []byte(text))
		for _, fd := range Lint(f, LintOptions{}) {
			if fd.Check != CheckNoEffect {
				continue
			}
			found++
			if len(fd.Related) == 0 || !strings.Contains(fd.Message, "without it line") {
				t.Fatalf("%s: finding names no rule: %s", text, fd.Message)
			}
			without := slices.Delete(slices.Clone(lines), fd.Pos.Line-1, fd.Pos.Line)
			g := p.ParseBytes("/pg_hba.conf", []byte(strings.Join(without, "\n")+"\n"))
			if len(g.Rules) == 0 {
				t.Fatalf("no-effect on the only rule:\n%s", text)
			}
			a, _ := p.Compile(f)
			b, _ := p.Compile(g)
			for _, c := range conns {
				if da, db := a.Decide(ctx, c), b.Decide(ctx, c); decisionText(da) != decisionText(db) {
					t.Fatalf("%s\nline %d: %s\nbut without it %+v decides %s, not %s", text, fd.Pos.Line, fd.Message, c, decisionText(db), decisionText(da))
				}
			}
			// Lines after the removed one moved up: compare by decision.
			for _, ch := range Diff(f, g, DiffOptions{}).Changes {
				if ch.Kind != Moved {
					t.Fatalf("%s\nno-effect line %d, but diff reports %+v", text, fd.Pos.Line, ch)
				}
			}
		}
	}
	t.Logf("%d no-effect findings proved", found)
	if found < 20 {
		t.Fatalf("only %d no-effect findings: corpus too weak", found)
	}
}
