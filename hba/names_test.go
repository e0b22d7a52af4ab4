package hba_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/pgre"
)

// TestRuleNames: Names gives each database and user token with the kind the
// matcher gives it, after @file expansion, and nothing for other columns.
func TestRuleNames(t *testing.T) {
	p := hba.Parser{Version: 16}
	f := p.ParseBytes("/pg_hba.conf", []byte(
		`host all,sameuser,samegroup,replication,"all",app,/^d\d+$ +admins,"+x",bob,/^u 10.0.0.0/8 trust`+"\n"))
	if len(f.Errors) > 0 || len(f.Rules) != 1 {
		t.Fatal(f.Errors)
	}
	r := f.Rules[0]
	type kv struct {
		Kind  hba.NameKind
		Value string
	}
	list := func(ns []hba.Name) []kv {
		var out []kv
		for _, n := range ns {
			out = append(out, kv{n.Kind, n.Value})
		}
		return out
	}
	wantDB := []kv{{hba.NameAll, "all"}, {hba.NameSameUser, "sameuser"}, {hba.NameSameRole, "samegroup"},
		{hba.NameReplication, "replication"}, {hba.NameLiteral, "all"}, {hba.NameLiteral, "app"}, {hba.NameRegex, `/^d\d+$`}}
	if got := list(r.Names(hba.ColumnDatabase)); !slices.Equal(got, wantDB) {
		t.Errorf("database names %v, want %v", got, wantDB)
	}
	wantUser := []kv{{hba.NameRole, "admins"}, {hba.NameLiteral, "+x"}, {hba.NameLiteral, "bob"}, {hba.NameRegex, "/^u"}}
	if got := list(r.Names(hba.ColumnUser)); !slices.Equal(got, wantUser) {
		t.Errorf("user names %v, want %v", got, wantUser)
	}
	for _, c := range []hba.Column{0, hba.ColumnType, hba.ColumnSSL, hba.ColumnGSS, hba.ColumnAddress} {
		if ns := r.Names(c); ns != nil {
			t.Errorf("Names(%v) = %v, want nil", c, ns)
		}
	}
	// A fresh slice per call: changing one does not change the rule.
	r.Names(hba.ColumnUser)[0].Value = "changed"
	if v := r.Names(hba.ColumnUser)[0].Value; v != "admins" {
		t.Errorf("after changing a returned Name, Names gives %q", v)
	}
}

// TestNameMatchRegex: MatchRegex runs the rule's compiled expression, says
// false without an error for other kinds, and reports the work bound as an
// error wrapping pgre.ErrMatchTooComplex rather than as a non-match.
func TestNameMatchRegex(t *testing.T) {
	p := hba.Parser{Version: 16}
	f := p.ParseBytes("/pg_hba.conf", []byte(
		`host /^d\d+$,d1 "/^(a*)(a*)(a*)(a*)(a*)(a*)\6\5\4\3\2\1$" 0.0.0.0/0 trust`+"\n"))
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	dbs := f.Rules[0].Names(hba.ColumnDatabase)
	for _, c := range []struct {
		n    hba.Name
		s    string
		want bool
	}{{dbs[0], "d42", true}, {dbs[0], "dx", false}, {dbs[0], "xd42", false}, {dbs[1], "d1", false}} {
		if got, err := c.n.MatchRegex(c.s); got != c.want || err != nil {
			t.Errorf("%v %q MatchRegex(%q) = %v, %v; want %v, nil", c.n.Kind, c.n.Value, c.s, got, err, c.want)
		}
	}
	bomb := f.Rules[0].Names(hba.ColumnUser)[0]
	if ok, err := bomb.MatchRegex("aa"); !ok || err != nil {
		t.Errorf("MatchRegex(aa) = %v, %v; want true, nil", ok, err)
	}
	ok, err := bomb.MatchRegex(strings.Repeat("a", 62))
	if ok || !errors.Is(err, pgre.ErrMatchTooComplex) {
		t.Errorf("MatchRegex(62 a) = %v, %v; want false and ErrMatchTooComplex", ok, err)
	}
}

func TestNameKindString(t *testing.T) {
	want := map[hba.NameKind]string{hba.NameLiteral: "literal", hba.NameAll: "all", hba.NameSameUser: "sameuser",
		hba.NameSameRole: "samerole", hba.NameReplication: "replication", hba.NameRole: "+role", hba.NameRegex: "regex", 200: ""}
	for k, w := range want {
		if got := k.String(); got != w {
			t.Errorf("NameKind(%d).String() = %q, want %q", k, got, w)
		}
	}
}
