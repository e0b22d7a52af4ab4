package hba_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/conformance"
	"github.com/pghba/pghba/internal/pgtest"
)

// TestBuiltRulesServer writes built rules, composed from segments, to real
// 15 and 18 servers: the file reloads, and pg_hba_file_rules shows the rows
// pghba computes, each at the line of its element.
func TestBuiltRulesServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	all := []hba.Name{hba.Kw("all")}
	specs := []hba.RuleSpec{
		{Type: hba.Host, Databases: []hba.Name{hba.Lit("all"), hba.Lit("my db"), hba.Lit(`q"x`), hba.Lit("@f"), hba.Lit("c,d#e")},
			Users:  []hba.Name{{Value: "adm ins", Kind: hba.NameRole}, hba.Lit("+p"), hba.Lit("replication")},
			Prefix: netip.MustParsePrefix("2001:db8::/32"), Method: hba.ScramSHA256},
		{Type: hba.Host, Databases: all, Users: all, Prefix: netip.PrefixFrom(netip.MustParseAddr("2001:db8::1"), 128), Method: hba.MD5},
		{Type: hba.HostSSL, Databases: []hba.Name{hba.Kw("sameuser"), hba.Kw("replication")}, Users: all,
			Prefix: netip.PrefixFrom(netip.MustParseAddr("10.1.2.3"), 32), Method: hba.RADIUS,
			Options: []hba.Option{{Name: "radiusservers", Value: "127.0.0.1,::1"}, {Name: "radiussecrets", Value: "s1,s2"}, {Name: "radiusports", Value: "1812"}}},
		{Type: hba.Host, Databases: all, Users: all, Host: ".example.com", Method: hba.Reject},
		{Type: hba.Local, Databases: all, Users: []hba.Name{hba.Lit(`back\`)}, Method: hba.Peer, Options: []hba.Option{{Name: "map", Value: `m\`}}},
	}
	for _, major := range []int{15, 18} {
		t.Run(fmt.Sprint(major), func(t *testing.T) {
			inst := pgtest.Require(t, major)
			cl := pgtest.Start(t, inst, pgtest.Options{})
			p := &hba.Parser{Version: inst.Major, Minor: inst.Minor, SSL: true, Features: conformance.BuildFeatures(inst.Features)}
			var user []string
			for _, s := range specs {
				line, err := p.BuildRule(s)
				if err != nil {
					t.Fatal(err)
				}
				user = append(user, line)
			}
			if major >= 16 {
				line, err := p.BuildRule(hba.RuleSpec{Type: hba.Host, Databases: []hba.Name{{Value: `^db\d+ x$`, Kind: hba.NameRegex}}, Users: all, Host: "samenet", Method: hba.Trust})
				if err != nil {
					t.Fatal(err)
				}
				user = append(user, line)
			}
			c := &hba.Composed{Path: cl.HBAFile(), Segments: []hba.Segment{
				{Name: "operator", Lines: []string{"# fixed rules", "local all all trust"}},
				{Name: "spec.postgresql.pg_hba", Lines: user},
				{Name: "default", Lines: []string{"", "host all all all scram-sha-256"}},
			}}
			data, err := p.RenderComposed(c)
			if err != nil {
				t.Fatal(err)
			}
			f := p.ParseComposed(c)
			if len(f.Errors) > 0 {
				t.Fatal(f.Errors)
			}
			if err := cl.WriteFiles(map[string][]byte{"pg_hba.conf": data}); err != nil {
				t.Fatal(err)
			}
			if res, err := cl.Reload(); err != nil || !res.Loaded {
				t.Fatalf("reload: %v %+v", err, res)
			}
			srv, err := cl.HBARules()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(serverRowTexts(major, srv), libRowTexts(major, f.ViewRows()), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: rows differ (-server +hba):\n%s", inst, diff)
			}
			// Each user element is the server's row at its line.
			if len(srv) != len(user)+2 {
				t.Fatalf("%d rows for %d rules", len(srv), len(user)+2)
			}
			for i, row := range srv[1 : len(user)+1] {
				at := c.Locate(hba.Position{Filename: cl.HBAFile(), Line: *row.LineNumber})
				if at.Segment != "spec.postgresql.pg_hba" || at.Index != i || row.Error != nil && *row.Error != "" {
					t.Errorf("row %d at line %d is %v, error %v", i, *row.LineNumber, at, row.Error)
				}
			}
			t.Logf("%s: %d rows, built rules at their elements", inst, len(srv))
		})
	}
}
