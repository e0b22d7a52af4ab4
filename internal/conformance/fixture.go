package conformance

import (
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/pgtest"
)

// Role is one role of the fixed role fixture (SEMANTICS §10.1, extended).
type Role struct {
	Name      string
	Login     bool
	Superuser bool
	NoInherit bool
	MemberOf  []string // direct grants
}

// Fixture is the role fixture every cluster gets. Role names are chosen to
// exercise quoting (+grp, all, "a b", "x,y"), case (Alice), non-ASCII bytes
// and indirect membership (dave → sub → grp).
var Fixture = []Role{
	{Name: "alice", Login: true},
	{Name: "bob", Login: true, MemberOf: []string{"grp"}},
	{Name: "dave", Login: true, MemberOf: []string{"sub"}},
	{Name: "noinh", Login: true, NoInherit: true, MemberOf: []string{"grp"}},
	{Name: "carol", Login: true, Superuser: true},
	{Name: "grp"},
	{Name: "sub", MemberOf: []string{"grp"}},
	{Name: "+grp", Login: true},
	{Name: "all", Login: true},
	{Name: "Alice", Login: true},
	{Name: "a b", Login: true, MemberOf: []string{"sub"}},
	{Name: "x,y", Login: true, MemberOf: []string{"grp", "other"}},
	{Name: "other"},
	{Name: "dé", Login: true, MemberOf: []string{"other"}},
	{Name: "db1", MemberOf: []string{"dave"}},
}

// FixtureSQL returns the statements that create the fixture in a cluster.
// Roles get no password: the probes only need a password failure, and
// unhashed roles keep every probe cheap.
func FixtureSQL() []string {
	var out []string
	for _, r := range Fixture {
		s := "CREATE ROLE " + sqlIdent(r.Name)
		if r.Login {
			s += " LOGIN"
		}
		if r.Superuser {
			s += " SUPERUSER"
		}
		if r.NoInherit {
			s += " NOINHERIT"
		}
		out = append(out, s)
	}
	for _, r := range Fixture {
		for _, g := range r.MemberOf {
			out = append(out, "GRANT "+sqlIdent(g)+" TO "+sqlIdent(r.Name))
		}
	}
	return out
}

// FixtureGraph returns the fixture as an hba.RoleGraph, with the cluster's
// bootstrap superuser added.
func FixtureGraph(superuser string) hba.RoleGraph {
	g := hba.RoleGraph{}
	for _, r := range Fixture {
		g[r.Name] = append([]string(nil), r.MemberOf...)
	}
	if superuser != "" {
		if _, ok := g[superuser]; !ok {
			g[superuser] = nil
		}
	}
	return g
}

func sqlIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// BuildFeatures returns the hba features of a server build: the parts it was
// compiled with, or hba.NoFeatures for none.
func BuildFeatures(f pgtest.Features) hba.Features {
	var h hba.Features
	if f.SSL {
		h |= hba.FeatureSSL
	}
	if f.GSSAPI {
		h |= hba.FeatureGSSAPI
	}
	if f.LDAP {
		h |= hba.FeatureLDAP
	}
	if f.PAM {
		h |= hba.FeaturePAM
	}
	if h == 0 {
		h = hba.NoFeatures
	}
	return h
}
