package hba_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing/fstest"

	"github.com/pghba/pghba/hba"
)

const exampleConf = `# TYPE  DATABASE  USER   ADDRESS        METHOD
local   all       all                   peer
host    all       admin  10.0.0.0/8     reject
host    app       all    10.0.0.0/8     scram-sha-256
`

func ExampleParser_LoadBytes() {
	var p hba.Parser // PostgreSQL 18 defaults
	rs, err := p.LoadBytes("/etc/postgresql/pg_hba.conf", []byte(exampleConf))
	if err != nil {
		fmt.Println(err)
		return
	}
	rule, err := rs.Match(hba.Conn{Addr: netip.MustParseAddr("10.1.2.3"), Database: "app", User: "alice"})
	fmt.Println(rule.Pos(), rule.Method(), err)
	// Output: /etc/postgresql/pg_hba.conf:4 scram-sha-256 <nil>
}

func ExampleRuleset_Match() {
	var p hba.Parser
	rs, _ := p.LoadBytes("/etc/postgresql/pg_hba.conf", []byte(exampleConf))
	for _, c := range []hba.Conn{
		{Local: true, Database: "app", User: "alice"},
		{Addr: netip.MustParseAddr("10.9.9.9"), Database: "app", User: "admin"},
		{Addr: netip.MustParseAddr("192.0.2.1"), SSL: true, Database: "app", User: "alice"},
	} {
		rule, err := rs.Match(c)
		switch {
		case err == nil:
			fmt.Printf("line %d: %s\n", rule.Pos().Line, rule.Method())
		case errors.Is(err, hba.ErrRejected):
			fmt.Printf("line %d: %v\n", rule.Pos().Line, err)
		default:
			fmt.Println(err)
		}
	}
	// Output:
	// line 2: peer
	// line 3: pg_hba.conf rejects connection for host "10.9.9.9", user "admin", database "app", no encryption
	// no pg_hba.conf entry for host "192.0.2.1", user "alice", database "app", SSL encryption
}

func ExampleParser_ParseFile_errors() {
	p := hba.Parser{FS: fstest.MapFS{
		"pg_hba.conf": {Data: []byte("host all all 10.0.0.0/33 trust\nhost db1, all 127.0.0.1/32 trust\nlocal all all trust\n")},
	}}
	f, _ := p.ParseFile("pg_hba.conf")
	for _, e := range f.Errors {
		fmt.Println(e)
	}
	_, err := p.Compile(f)
	fmt.Println(err != nil)
	// Output:
	// /pg_hba.conf:1: invalid CIDR mask in address "10.0.0.0/33"
	// /pg_hba.conf:2: end-of-line before authentication method
	// true
}

func ExampleHolder() {
	var p hba.Parser
	rs, _ := p.LoadBytes("/data/pg_hba.conf", []byte("host all all 0.0.0.0/0 reject\n"))
	h := hba.NewHolder(rs) // readers call h.Load() or h.MatchContext concurrently

	// A reload: a bad file keeps the old rules, a good one replaces them.
	bad, err := p.LoadBytes("/data/pg_hba.conf", []byte("host all all 0.0.0.0/0 trust extra\n"))
	fmt.Println(err)
	h.Store(bad) // nil: ignored
	good, _ := p.LoadBytes("/data/pg_hba.conf", []byte("host all all 0.0.0.0/0 scram-sha-256\n"))
	h.Store(good)
	fmt.Println(h.Load().Rules()[0].Method())
	// Output:
	// /data/pg_hba.conf:1: authentication option not in name=value format: extra
	// scram-sha-256
}

func ExampleRuleset_Decide() {
	var p hba.Parser
	rs, _ := p.LoadBytes("/etc/postgresql/pg_hba.conf", []byte(exampleConf+
		"host    all       +ops   192.0.2.0/24   scram-sha-256\n"))
	ctx := context.Background()
	for _, c := range []hba.Conn{
		{Addr: netip.MustParseAddr("10.1.2.3"), Database: "app", User: "alice"},
		{Addr: netip.MustParseAddr("10.1.2.3"), Database: "app", User: "admin"},
		{Addr: netip.MustParseAddr("192.0.2.9"), Database: "app", User: "bob"},
	} {
		// Decide builds no error values: the hot path of a proxy. A +role
		// user needs Env.Roles; without one the rule is Unresolved and
		// the connection must be refused.
		d := rs.Decide(ctx, c)
		switch d.Outcome {
		case hba.Matched:
			fmt.Printf("%s: line %d, %s\n", c.User, d.Rule.Pos().Line, d.Rule.Method())
		case hba.Unresolved:
			fmt.Printf("%s: refused at line %d: %s\n", c.User, d.Rule.Pos().Line, d.Reason)
		default:
			fmt.Printf("%s: %s\n", c.User, rs.Message(d, c))
		}
	}
	// Output:
	// alice: line 4, scram-sha-256
	// admin: pg_hba.conf rejects connection for host "10.1.2.3", user "admin", database "app", no encryption
	// bob: refused at line 5: the rule tests role membership and no role source was given
}

func ExampleIdentMaps_CheckRule() {
	var p hba.Parser
	rs, _ := p.LoadBytes("/etc/postgresql/pg_hba.conf", []byte("local all all peer map=staff\n"))
	maps, _ := p.LoadIdentBytes("/etc/postgresql/pg_ident.conf", []byte(
		"staff  alice      alice\n"+
			"staff  /^(.*)-adm$ \\1\n"))
	ctx := context.Background()
	rule, _ := rs.Match(hba.Conn{Local: true, Database: "app", User: "bob"})
	for _, sys := range []string{"bob-adm", "alice", "mallory"} {
		// sys is the operating-system user the peer method found.
		res := maps.CheckRule(ctx, rule, sys, "bob", hba.IdentOptions{})
		fmt.Printf("%s as bob: %v %s\n", sys, res.Outcome, res.Pos())
	}
	// Output:
	// bob-adm as bob: allowed /etc/postgresql/pg_ident.conf:2
	// alice as bob: no-match -
	// mallory as bob: no-match -
}
