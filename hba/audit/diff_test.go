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
)

// The vocabulary of the generated diff corpus.
var (
	dgTypes  = []string{"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
	dgAddrs  = []string{"all", "0.0.0.0/0", "::/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.0.0/16", "127.0.0.1/32", "::1/128", "10.1.2.3/32"}
	dgDBs    = []string{"all", "app", "db1", "app,db1", "db2", "replication", "replication,app", "all"}
	dgUsers  = []string{"all", "admin", "bob", "bob,admin", "carol", "all"}
	dgMeth   = []string{"trust", "reject", "md5", "scram-sha-256", "password", "md5 clientcert=verify-ca"}
	dgAtoms  = []string{"+admins", "/^b"}
	dgTestIP = []string{"10.0.0.5", "10.1.0.5", "10.1.2.3", "10.1.2.9", "192.168.1.1", "172.16.0.1", "127.0.0.1", "::1", "2001:db8::1"}
)

// dgRule returns a random rule line; with atoms, a user column may be an
// atom (+role or a regular expression), which diff reports as may-change.
func dgRule(rng *rand.Rand, atoms bool) string {
	t := dgTypes[rng.IntN(len(dgTypes))]
	db := dgDBs[rng.IntN(len(dgDBs))]
	user := dgUsers[rng.IntN(len(dgUsers))]
	if atoms && rng.IntN(6) == 0 {
		user = dgAtoms[rng.IntN(len(dgAtoms))]
	}
	m := dgMeth[rng.IntN(len(dgMeth))]
	if t == "local" {
		if strings.Contains(m, "clientcert") {
			m = "md5"
		}
		return fmt.Sprintf("%s %s %s %s", t, db, user, m)
	}
	if t != "hostssl" && strings.Contains(m, "clientcert") {
		m = "scram-sha-256"
	}
	return fmt.Sprintf("%s %s %s %s %s", t, db, user, dgAddrs[rng.IntN(len(dgAddrs))], m)
}

// dgEdit applies one random edit of the kinds the issue lists.
func dgEdit(rng *rand.Rand, lines []string, atoms bool) []string {
	out := slices.Clone(lines)
	if len(out) == 0 {
		return append(out, dgRule(rng, atoms))
	}
	i := rng.IntN(len(out))
	f := strings.Fields(out[i])
	local := f[0] == "local"
	switch rng.IntN(7) {
	case 0: // insert
		out = slices.Insert(out, rng.IntN(len(out)+1), dgRule(rng, atoms))
	case 1: // delete
		if len(out) > 1 {
			out = slices.Delete(out, i, i+1)
		}
	case 2: // move
		l := out[i]
		out = slices.Delete(out, i, i+1)
		out = slices.Insert(out, rng.IntN(len(out)+1), l)
	case 3: // change method
		mi := 4
		if local {
			mi = 3
		}
		m := dgMeth[rng.IntN(len(dgMeth)-1)]
		out[i] = strings.Join(append(f[:mi:mi], m), " ")
	case 4: // widen or narrow the address
		if !local {
			f[3] = dgAddrs[rng.IntN(len(dgAddrs))]
			out[i] = strings.Join(f, " ")
		}
	case 5: // change a name list
		if rng.IntN(2) == 0 {
			f[1] = dgDBs[rng.IntN(len(dgDBs))]
		} else {
			f[2] = dgUsers[rng.IntN(len(dgUsers))]
		}
		out[i] = strings.Join(f, " ")
	case 6: // flip the type
		if !local {
			f[0] = dgTypes[1+rng.IntN(len(dgTypes)-1)]
			if f[0] != "hostssl" && strings.Contains(out[i], "clientcert") {
				f = f[:5]
			}
			out[i] = strings.Join(f, " ")
		}
	}
	return out
}

// dgConns enumerates connections over the corpus vocabulary.
func dgConns() []hba.Conn {
	var out []hba.Conn
	dbs := []string{"app", "db1", "db2", "other"}
	users := []string{"admin", "bob", "carol", "bert"}
	for _, repl := range []hba.Replication{hba.NoReplication, hba.PhysicalReplication, hba.LogicalReplication} {
		for _, db := range dbs {
			if repl == hba.PhysicalReplication && db != "app" {
				continue
			}
			for _, u := range users {
				out = append(out, hba.Conn{Local: true, Database: db, User: u, Replication: repl})
				for _, a := range dgTestIP {
					for _, enc := range []int{0, 1, 2} {
						c := hba.Conn{Addr: netip.MustParseAddr(a), SSL: enc == 1, GSS: enc == 2, Database: db, User: u, Replication: repl}
						if repl == hba.PhysicalReplication {
							c.Database = ""
						}
						out = append(out, c)
					}
				}
			}
		}
	}
	return out
}

// inRegion reports whether c is in r, reading r's JSON form.
func inRegion(t *testing.T, r *Region, c hba.Conn) bool {
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
				t.Fatalf("region address %q: %v", s, err)
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
	has := func(n NameList, s string) bool {
		if n.All {
			return !slices.Contains(n.Except, s)
		}
		// Tokens that are not names (a may-change region's atoms) may hold
		// any name.
		return slices.Contains(n.Only, s) || slices.ContainsFunc(n.Only, func(x string) bool {
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
func TestDiffProved(t *testing.T) {
	pairs := 600
	if testing.Short() {
		pairs = 150
	}
	rng := rand.New(rand.NewPCG(14, 14))
	conns := dgConns()
	p := hba.Parser{Version: 18, SSL: true}
	env := hba.Env{Roles: noRoles{}, Resolver: hba.HostTable{}, Interfaces: hba.StaticInterfaces{}}
	p.Env = env
	ctx := context.Background()
	var nPairs, nChanged, nMay, nDiffer, nWitness, nSame int
	for n := 0; n < pairs; n++ {
		atoms := n%5 == 4
		var lines []string
		for k := 0; k < 2+rng.IntN(8); k++ {
			lines = append(lines, dgRule(rng, atoms))
		}
		edited := lines
		for k := 0; k < 1+rng.IntN(3); k++ {
			edited = dgEdit(rng, edited, atoms)
		}
		oldText, newText := strings.Join(lines, "\n")+"\n", strings.Join(edited, "\n")+"\n"
		of := p.ParseBytes("/pg_hba.conf", []byte(oldText))
		nf := p.ParseBytes("/pg_hba.conf", []byte(newText))
		if len(of.Errors) > 0 || len(nf.Errors) > 0 {
			t.Fatalf("generated file does not load:\n%s%v\n%s%v", oldText, of.Errors, newText, nf.Errors)
		}
		ors, _ := p.Compile(of)
		nrs, _ := p.Compile(nf)
		res := Diff(of, nf, DiffOptions{})
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
		nPairs++
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
				nChanged++
			case MayChange:
				nMay++
				if ch.Reason == "" {
					fail("may-change without a reason")
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
				if !inRegion(t, &ch.Region, c) {
					fail("witness %+v outside its region", c)
				}
				if od.Rule == nil && ch.Before.Outcome != "no-entry" || od.Rule != nil && od.Rule.Pos().Line != ch.Before.Line {
					fail("witness %+v: old decides %v, change says %+v", c, od.Rule, ch.Before)
				}
				if nd.Rule == nil && ch.After.Outcome != "no-entry" || nd.Rule != nil && nd.Rule.Pos().Line != ch.After.Line {
					fail("witness %+v: new decides %v, change says %+v", c, nd.Rule, ch.After)
				}
				nWitness++
			}
		}
		for _, c := range conns {
			od, nd := ors.Decide(ctx, c), nrs.Decide(ctx, c)
			differ := decisionText(od) != decisionText(nd)
			inChanged, inMay := 0, 0
			for k := range res.Changes {
				ch := &res.Changes[k]
				if ch.Kind == Moved || !inRegion(t, &ch.Region, c) {
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
			case differ && inChanged == 0 && !atoms:
				fail("%+v differs but is only in may-change regions of a file without outside sources", c)
			case differ:
				nDiffer++
			default:
				nSame++
			}
		}
	}
	t.Logf("%d pairs: %d changed, %d may-change regions; %d witnesses confirmed; %d differing and %d same connections checked", nPairs, nChanged, nMay, nWitness, nDiffer, nSame)
	if nChanged < pairs/2 || nWitness == 0 || nDiffer == 0 {
		t.Fatalf("corpus too weak: %d changed, %d differing", nChanged, nDiffer)
	}
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
	conns := dgConns()
	p := hba.Parser{Version: 18, SSL: true}
	p.Env = hba.Env{Roles: noRoles{}, Resolver: hba.HostTable{}, Interfaces: hba.StaticInterfaces{}}
	ctx := context.Background()
	found := 0
	for n := 0; n < 2000; n++ {
		var lines []string
		for k := 0; k < 3+rng.IntN(7); k++ {
			lines = append(lines, dgRule(rng, n%5 == 4))
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
