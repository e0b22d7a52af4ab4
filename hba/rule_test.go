package hba

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
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
	if rs[3].hasExt() || !rs[2].hasExt() || rs[0].hasExt() {
		t.Errorf("side records: %v, %v, %v", rs[3].hasExt(), rs[2].hasExt(), rs[0].hasExt())
	}
	// A quoted name whose quotes only enclose it ("b c", "+g", "all",
	// "sameuser") is in the line too; x"y"z and @file names are not.
	for i, want := range []int{2, 1, 0, 0, 0} {
		n := 0
		for _, m := range append(rs[i].dbNames(), rs[i].userNames()...) {
			if m.sp.ext() {
				n++
			}
		}
		if n != want {
			t.Errorf("rule %d: %d names outside the line, want %d", i, n, want)
		}
	}
	// A small file's lines are copies, in the table too (5 of the 8).
	if rs[0].file.strs != rs[4].file.strs || len(rs[0].file.strs.s) != 8 || rs[0].file.text != "" {
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
// rule of its file (BenchmarkLoad's B/rule): 56 bytes on 64-bit systems,
// two of them pointers; a name is 8 bytes.
func TestRuleSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit systems")
	}
	if n := unsafe.Sizeof(Rule{}); n > 56 {
		t.Errorf("Rule is %d bytes, more than 56", n)
	}
	if n := unsafe.Sizeof(name{}); n > 8 {
		t.Errorf("name is %d bytes, more than 8", n)
	}
	// The collector marks what a Ruleset keeps: a rule has two pointers.
	ptrs := 0
	rt := reflect.TypeOf(Rule{})
	for i := range rt.NumField() {
		switch rt.Field(i).Type.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface:
			ptrs++
		}
	}
	if ptrs != 2 {
		t.Errorf("Rule has %d pointer fields, want 2", ptrs)
	}
}

// TestRuleCompactEdges loads a file large enough for its lines to be spans
// of the file's text, with what falls back to the load's tables: a
// continued line (a copy), a line and a token longer than a span's
// length, an IPv6 address, side records (a /regex, a mask that is not a
// prefix) before and after the address; each rule gives back what was
// written.
func TestRuleCompactEdges(t *testing.T) {
	long := strings.Repeat("n", extLen+10)
	type want struct {
		raw        string
		dbs, users []Token
		ip, mask   string
		at         string // the address as written, when not the line's fourth field
	}
	tok := func(v string) Token { return Token{Value: v} }
	cases := []want{
		{raw: "host d1 u1 10.1.2.0/24 md5", dbs: []Token{tok("d1")}, users: []Token{tok("u1")}, ip: "10.1.2.0", mask: "255.255.255.0"},
		{raw: "host d2 /^u[0-9]$ 10.1.3.0/24 md5", dbs: []Token{tok("d2")}, users: []Token{tok("/^u[0-9]$")}, ip: "10.1.3.0", mask: "255.255.255.0"},
		{raw: "host d3 /^v$ 2001:db8::/48 md5", dbs: []Token{tok("d3")}, users: []Token{tok("/^v$")}, ip: "2001:db8::", mask: "ffff:ffff:ffff::"},
		{raw: "host d4 u4 fd00:1:: ffff:0:ffff:: md5", dbs: []Token{tok("d4")}, users: []Token{tok("u4")}, ip: "fd00:1::", mask: "ffff:0:ffff::"},
		{raw: "host d5 /^w$ 10.0.0.0 255.0.255.0 trust", dbs: []Token{tok("d5")}, users: []Token{tok("/^w$")}, ip: "10.0.0.0", mask: "255.0.255.0"},
		{raw: "host d6 u6 2001:db8:1::/64 md5", dbs: []Token{tok("d6")}, users: []Token{tok("u6")}, ip: "2001:db8:1::", mask: "ffff:ffff:ffff:ffff::"},
		{raw: "host " + long + " u7 10.0.0.7/32 md5", dbs: []Token{tok(long)}, users: []Token{tok("u7")}, ip: "10.0.0.7", mask: "255.255.255.255"},
		{raw: "host d8,\"q 8\" u8 all md5 ", dbs: []Token{tok("d8"), {Value: "q 8", Quoted: true}}, users: []Token{tok("u8")}, at: "all"},
		{raw: "host d10 u10 \"10.0.0.10/32\" md5", dbs: []Token{tok("d10")}, users: []Token{tok("u10")}, ip: "10.0.0.10", mask: "255.255.255.255", at: "10.0.0.10/32"},
	}
	var b strings.Builder
	for _, c := range cases {
		b.WriteString(c.raw + "\n")
	}
	b.WriteString("host d9 \\\n u9 all md5\n") // continued: "host d9  u9 all md5"
	for b.Len() < 80<<10 {
		b.WriteString("# filler to make the file large enough\n")
	}
	p := &Parser{Version: 16}
	f := p.ParseBytes("/x/pg_hba.conf", []byte(b.String()))
	if len(f.Errors) != 0 || len(f.Rules) != len(cases)+1 {
		t.Fatalf("%d rules, errors %v", len(f.Rules), f.Errors)
	}
	for i, c := range cases {
		r := f.Rules[i]
		if r.Raw() != c.raw || !slices.Equal(r.Databases(), c.dbs) || !slices.Equal(r.Users(), c.users) {
			t.Errorf("rule %d: raw %.40q dbs %.40v users %v", i, r.Raw(), r.Databases(), r.Users())
		}
		if a := r.Address(); c.ip != "" && (a.Kind != AddrIP || a.IP.String() != c.ip || a.Mask.String() != c.mask) {
			t.Errorf("rule %d: address %+v, want %s %s", i, a, c.ip, c.mask)
		}
		at := c.at
		if at == "" {
			at = strings.Fields(c.raw)[3]
		}
		if a := r.Address(); a.Text != at {
			t.Errorf("rule %d: address as written %.40q, want %.40q", i, a.Text, at)
		}
		// A line shorter than a span's length is a span of the text.
		if r.raw.ext() != (len(c.raw) >= extLen) {
			t.Errorf("rule %d: line in the table %v", i, r.raw.ext())
		}
		for _, n := range r.Names(ColumnUser) {
			if n.Kind == NameRegex {
				if ok, _ := n.MatchRegex(strings.Trim(n.Value[1:], "^$[0-9]") + "1"); !ok && i == 1 {
					t.Errorf("rule %d: regex %q does not match", i, n.Value)
				}
			}
		}
	}
	r := f.Rules[len(cases)]
	if r.Raw() != "host d9  u9 all md5" || !r.raw.ext() || r.Address().Text != "all" || r.Databases()[0].Value != "d9" || r.Users()[0].Value != "u9" {
		t.Errorf("continued rule: raw %q dbs %v users %v", r.Raw(), r.Databases(), r.Users())
	}
	if f.Rules[0].file.text == "" || f.Rules[0].hasExt() || !f.Rules[1].hasExt() || !f.Rules[2].hasExt() || !f.Rules[4].hasExt() || f.Rules[5].hasExt() {
		t.Errorf("text %d bytes; side records %v %v %v %v %v", len(f.Rules[0].file.text),
			f.Rules[0].hasExt(), f.Rules[1].hasExt(), f.Rules[2].hasExt(), f.Rules[4].hasExt(), f.Rules[5].hasExt())
	}
	// Matching reads the compact address forms the same way.
	for i, c := range []struct {
		addr string
		ok   bool
	}{{"10.1.2.9", true}, {"10.1.3.9", true}, {"2001:db8:0:ff::1", true}, {"fd00:ff:1::", false}, {"10.7.0.7", true}, {"2001:db8:1::9", true}, {"10.0.0.7", true}} {
		if got := f.Rules[i].contains(netip.MustParseAddr(c.addr)); got != c.ok {
			t.Errorf("rule %d contains %s = %v", i, c.addr, got)
		}
	}
}

// TestRuleBigColumns: a column of 0xffff names or more keeps its counts in
// the rule's side record (Rule.nn is bigCols); the names, matching and the
// index read them as they read a small column's.
func TestRuleBigColumns(t *testing.T) {
	col := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(prefix + strconv.Itoa(i))
		}
		return b.String()
	}
	for _, c := range []struct{ ndb, nuser int }{{3, 70000}, {70000, 2}, {0xffff, 0xfffe}, {0xfffe, 0xfffe}} {
		text := "host " + col("d", c.ndb) + " " + col("u", c.nuser) + " 10.0.0.0/8 md5\nhost all all 0.0.0.0/0 reject\n"
		rs, err := (&Parser{Version: 16}).LoadBytes("/x/pg_hba.conf", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		r := rs.Rules()[0]
		if big := c.ndb >= 0xffff || c.nuser >= 0xffff; (r.nn == bigCols) != big || r.hasExt() != big {
			t.Errorf("%v: nn %#x, side record %v", c, r.nn, r.hasExt())
		}
		if len(r.Databases()) != c.ndb || len(r.Users()) != c.nuser || r.Users()[c.nuser-1].Value != "u"+strconv.Itoa(c.nuser-1) {
			t.Errorf("%v: %d databases, %d users", c, len(r.Databases()), len(r.Users()))
		}
		if a := r.Address(); a.IP != netip.MustParseAddr("10.0.0.0") || a.Mask != netip.MustParseAddr("255.0.0.0") {
			t.Errorf("%v: address %+v", c, a)
		}
		ctx := context.Background()
		for _, p := range []struct {
			db, user string
			line     int
		}{{"d0", "u0", 1}, {"d" + strconv.Itoa(c.ndb-1), "u" + strconv.Itoa(c.nuser-1), 1}, {"d" + strconv.Itoa(c.ndb), "u0", 2}, {"d0", "u" + strconv.Itoa(c.nuser), 2}} {
			d := rs.Decide(ctx, Conn{Addr: netip.MustParseAddr("10.1.2.3"), Database: p.db, User: p.user})
			if d.Rule == nil || d.Rule.Pos().Line != p.line {
				t.Errorf("%v: %s/%s decided %v at %v, want line %d", c, p.db, p.user, d.Outcome, d.Rule.Pos(), p.line)
			}
		}
	}
}
