package hba

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unsafe"
)

// TestRuleColumns checks what the compact rule gives back: tokens that are
// substrings of the line and tokens that are not (quoted, from an @file,
// after a continuation), addresses and masks of every shape.
func TestRuleColumns(t *testing.T) {
	fsys := fstest.MapFS{
		"pg_hba.conf": {Data: []byte(`host a,"b c",@names u1,"+g",+h 10.1.2.3/8 md5
hostssl "all",x"y"z all fe80::1%lo/64 scram-sha-256
host all all 10.0.0.0 255.0.255.0 trust
host all \
   all .example.com reject
local sameuser,"sameuser" all peer map=m
`)},
		"names": {Data: []byte("n1, \"n 2\"\n")},
	}
	p := &Parser{FS: fsys, Version: 16, SSL: true}
	f, err := p.ParseFile("pg_hba.conf")
	if err != nil || len(f.Errors) != 0 {
		t.Fatalf("ParseFile: %v %v", err, f.Errors)
	}
	rs := f.Rules
	tok := func(v string, q bool) Token { return Token{Value: v, Quoted: q} }
	for _, c := range []struct {
		r           *Rule
		dbs, users  []Token
		kind        AddrKind
		text, ip    string
		mask, host  string
		contains    string
		notContains string
	}{
		{r: rs[0], dbs: []Token{tok("a", false), tok("b c", true), tok("n1", false), tok("n 2", true)},
			users: []Token{tok("u1", false), tok("+g", true), tok("+h", false)},
			kind:  AddrIP, text: "10.1.2.3/8", ip: "10.1.2.3", mask: "255.0.0.0", contains: "10.200.0.1", notContains: "11.0.0.1"},
		{r: rs[1], dbs: []Token{tok("all", true), tok("xyz", false)}, users: []Token{tok("all", false)},
			kind: AddrIP, text: "fe80::1%lo/64", ip: "fe80::1", mask: "ffff:ffff:ffff:ffff::", contains: "fe80::2", notContains: "fe81::1"},
		{r: rs[2], dbs: []Token{tok("all", false)}, users: []Token{tok("all", false)},
			kind: AddrIP, text: "10.0.0.0", ip: "10.0.0.0", mask: "255.0.255.0", contains: "10.9.0.9", notContains: "10.0.1.0"},
		{r: rs[3], dbs: []Token{tok("all", false)}, users: []Token{tok("all", false)},
			kind: AddrHostName, text: ".example.com", host: ".example.com"},
		{r: rs[4], dbs: []Token{tok("sameuser", false), tok("sameuser", true)}, users: []Token{tok("all", false)},
			kind: AddrNone},
	} {
		if got := c.r.Databases(); !slices.Equal(got, c.dbs) {
			t.Errorf("line %d: Databases = %v, want %v", c.r.Pos().Line, got, c.dbs)
		}
		if got := c.r.Users(); !slices.Equal(got, c.users) {
			t.Errorf("line %d: Users = %v, want %v", c.r.Pos().Line, got, c.users)
		}
		a := c.r.Address()
		if a.Kind != c.kind || a.Text != c.text || a.Host != c.host {
			t.Errorf("line %d: Address = %+v", c.r.Pos().Line, a)
		}
		if c.kind == AddrIP {
			if a.IP.String() != c.ip || a.Mask.String() != c.mask {
				t.Errorf("line %d: IP %v mask %v, want %s %s", c.r.Pos().Line, a.IP, a.Mask, c.ip, c.mask)
			}
			in, out := netip.MustParseAddr(c.contains), netip.MustParseAddr(c.notContains)
			if !c.r.contains(in) || !a.Contains(in) || c.r.contains(out) || a.Contains(out) {
				t.Errorf("line %d: contains(%v) = %v/%v, contains(%v) = %v/%v", c.r.Pos().Line,
					in, c.r.contains(in), a.Contains(in), out, c.r.contains(out), a.Contains(out))
			}
		}
	}
	if rs[3].Pos().Line != 4 || rs[3].Raw() != "host all    all .example.com reject" {
		t.Errorf("continued rule: line %d raw %q", rs[3].Pos().Line, rs[3].Raw())
	}
	if rs[4].Method() != Peer || rs[4].Options().Map != "m" || !slices.Equal(rs[4].ViewOptions(), []string{"map=m"}) {
		t.Errorf("options: %v %+v", rs[4].Method(), rs[4].Options())
	}
	// Only strings that are not in the line take room of their own, in
	// the load's table; only a mask that is not a prefix needs a side
	// record.
	if rs[3].ext != nil || rs[2].ext == nil || rs[0].ext != nil {
		t.Errorf("side records: %+v, %+v, %+v", rs[3].ext, rs[2].ext, rs[0].ext)
	}
	for i, want := range []int{4, 2, 0, 0, 1} {
		n := 0
		for _, m := range append(rs[i].dbNames(), rs[i].userNames()...) {
			if m.sp.n == extSpan {
				n++
			}
		}
		if n != want {
			t.Errorf("rule %d: %d names outside the line, want %d", i, n, want)
		}
	}
	if rs[0].file.strs != rs[4].file.strs || len(rs[0].file.strs.s) != 7 {
		t.Errorf("the load's string table: %p %p %q", rs[0].file.strs, rs[4].file.strs, rs[0].file.strs.s)
	}
	if rs[0].Options() == rs[2].Options() {
		t.Error("rules with different methods share options")
	}
}

// TestOptionsSharing shows what Rule.Options documents: rules of one load
// with the same method and no option tokens share one *AuthOptions, a rule
// with options has its own, and two loads share nothing.
func TestOptionsSharing(t *testing.T) {
	const conf = "host all all 10.0.0.0/8 md5\n" +
		"host db all 10.0.0.0/8 md5\n" +
		"local all all peer map=m\n" +
		"local db all peer map=m\n" +
		"host all all all trust\n" +
		"local db all peer map=n\n"
	p := Parser{Version: 16}
	a, err := p.LoadBytes("/x/pg_hba.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.LoadBytes("/x/pg_hba.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := a.Rules(), b.Rules()
	if ra[0].Options() != ra[1].Options() {
		t.Error("two md5 rules without options do not share their options")
	}
	if ra[0].Options() == ra[4].Options() {
		t.Error("rules with different methods share options")
	}
	if ra[2].Options() != ra[3].Options() || ra[2].Options().Map != "m" {
		t.Error("rules with the same option tokens do not share options")
	}
	if ra[2].Options() == ra[5].Options() || ra[5].Options().Map != "n" {
		t.Error("rules with different option tokens share options")
	}
	for i := range ra {
		if ra[i].Options() == rb[i].Options() {
			t.Errorf("rule %d: two loads share options", i+1)
		}
	}
	// A copy is the caller's own; the rule keeps its value.
	o := *ra[0].Options()
	o.Map = "changed"
	if ra[0].Options().Map != "" || ra[1].Options().Map != "" {
		t.Error("changing a copy changed the rules")
	}
}

// TestRulesetNames checks the exported name normalisation against what
// Explain reports the rules were compared with, and its rewrites.
func TestRulesetNames(t *testing.T) {
	long := strings.Repeat("u", 70)
	cases := []struct {
		v        int
		ns       bool
		c        Conn
		user, db string
	}{
		{16, false, Conn{User: "alice"}, "alice", "alice"},
		{16, false, Conn{User: long, Database: long + "x"}, long[:63], long[:63]},
		{16, true, Conn{User: "alice", Database: "db"}, "alice@db", "db"},
		{16, true, Conn{User: "alice@", Database: "db"}, "alice", "db"},
		{17, true, Conn{User: "alice", Database: "db"}, "alice", "db"}, // db_user_namespace is gone in 17
		{16, false, Conn{User: "alice", Database: "db", Replication: PhysicalReplication}, "alice", ""},
	}
	for _, tc := range cases {
		p := Parser{Version: tc.v, DBUserNamespace: tc.ns}
		rs, err := p.LoadBytes("/x/pg_hba.conf", []byte("local all all password\n"))
		if err != nil {
			t.Fatal(err)
		}
		user, db := rs.Names(tc.c)
		if user != tc.user || db != tc.db {
			t.Errorf("v%d ns=%v %+v: Names = %q, %q; want %q, %q", tc.v, tc.ns, tc.c, user, db, tc.user, tc.db)
		}
		if tr := rs.Explain(context.Background(), tc.c); tr.User != user || tr.Database != db {
			t.Errorf("v%d %+v: Explain compared %q, %q; Names %q, %q", tc.v, tc.c, tr.User, tr.Database, user, db)
		}
	}
	var nilRS *Ruleset
	if u, d := nilRS.Names(Conn{User: "a@", Database: "b"}); u != "a@" || d != "b" {
		t.Errorf("nil Ruleset: %q %q", u, d)
	}
}

// TestAuthOptionsEqual checks that equal, which decides whether two rules
// share options, compares every field of AuthOptions.
func TestAuthOptionsEqual(t *testing.T) {
	base := AuthOptions{}
	typ := reflect.TypeOf(base)
	for i := 0; i < typ.NumField(); i++ {
		x := base
		f := reflect.ValueOf(&x).Elem().Field(i)
		f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int:
			f.SetInt(1)
		case reflect.Uint8:
			f.SetUint(1)
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		default:
			t.Fatalf("field %s: kind %v not covered by the test", typ.Field(i).Name, f.Kind())
		}
		if base.equal(&x) || x.equal(&base) {
			t.Errorf("equal ignores field %s", typ.Field(i).Name)
		}
	}
	if !base.equal(&AuthOptions{}) {
		t.Error("zero options differ")
	}
}

// TestRuleSize guards the size of Rule, which a Ruleset holds for every
// rule of its file (BenchmarkLoad's B/rule): 104 bytes on 64-bit systems.
func TestRuleSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit systems")
	}
	if n := unsafe.Sizeof(Rule{}); n > 104 {
		t.Errorf("Rule is %d bytes, more than 104", n)
	}
	if n := unsafe.Sizeof(name{}); n > 12 {
		t.Errorf("name is %d bytes, more than 12", n)
	}
}
