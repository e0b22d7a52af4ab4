package hba

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"
)

// The SEMANTICS.md §10 test vectors: TestVectors runs the tables
// hbaVectors (here), methodVectors (options_test.go) and identVectors
// (ident_test.go), each entry a subtest named by its id or id range, so
// that one runs with go test -run 'TestVectors/L01' (or 'TestVectors/A05toA07').
//
// A vector gives the files (the main one is pg_hba.conf, placed at "/" so
// that "<datadir>" in messages is ""), the versions it holds for, the
// expected load errors as "L<line>: <text>" (or "<file>:L<line>: <text>" for
// other files), and connections with their expected outcome: "L<n>" (rule on
// line n of pg_hba.conf, or "file:L<n>"), "NO ENTRY", "REJECT L<n>", with an
// optional "| message" to check the client message.

type vector struct {
	id    string
	vers  string // "all", "14+", "13-15", "16+", "13", …
	files map[string]string
	setup func(*Parser)
	errs  []string
	conns []vconn
}

// A vectorTest is one table entry: its vectors, run in order by the table's
// runner, then check, for what a vector cannot say.
type vectorTest[V any] struct {
	id      string
	vectors []V
	check   func(t *testing.T)
}

func TestVectors(t *testing.T) {
	runVectorTable(t, hbaVectors, runVector)
	runVectorTable(t, methodVectors, runMVec)
	runVectorTable(t, identVectors, runIdentVector)
}

func runVectorTable[V any](t *testing.T, table []vectorTest[V], run func(*testing.T, V)) {
	for _, vt := range table {
		t.Run(vt.id, func(t *testing.T) {
			for _, v := range vt.vectors {
				run(t, v)
			}
			if vt.check != nil {
				vt.check(t)
			}
		})
	}
}

type vconn struct {
	conn string // "user=alice db=db1 addr=127.0.0.1 local ssl gss repl=physical|logical"
	want string
}

// fixture is §10.1's role graph.
var fixture = RoleGraph{
	"alice": nil, "bob": {"grp"}, "dave": {"sub"}, "sub": {"grp"}, "noinh": {"grp"},
	"carol": nil, "grp": nil, "+grp": nil, "all": nil, "Alice": nil,
}

var fixtureHosts = HostTable{
	Reverse: map[string][]string{"127.0.0.1": {"localhost"}},
	Forward: map[string][]string{"localhost": {"127.0.0.1"}},
}

func versions(spec string) []int {
	var out []int
	for v := MinVersion; v <= MaxVersion; v++ {
		ok := false
		switch {
		case spec == "all" || spec == "":
			ok = true
		case strings.HasSuffix(spec, "+"):
			ok = v >= atoiT(strings.TrimSuffix(spec, "+"))
		case strings.Contains(spec, "-"):
			a, b, _ := strings.Cut(spec, "-")
			ok = v >= atoiT(a) && v <= atoiT(b)
		default:
			ok = v == atoiT(spec)
		}
		if ok {
			out = append(out, v)
		}
	}
	return out
}

func atoiT(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func parseConn(t *testing.T, s string) Conn {
	c := Conn{Addr: netip.MustParseAddr("127.0.0.1")}
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		v = strings.ReplaceAll(v, "␠", " ")
		switch k {
		case "user":
			c.User = v
		case "db":
			c.Database = v
		case "addr":
			c.Addr = netip.MustParseAddr(v)
		case "local":
			c.Local = true
		case "ssl":
			c.SSL = true
		case "gss":
			c.GSS = true
		case "repl":
			if v == "physical" {
				c.Replication = PhysicalReplication
			} else {
				c.Replication = LogicalReplication
			}
		default:
			t.Fatalf("bad conn field %q", f)
		}
	}
	return c
}

func runVector(t *testing.T, v vector) {
	t.Helper()
	for _, ver := range versions(v.vers) {
		t.Run("v"+itoa(ver), func(t *testing.T) {
			p := &Parser{FS: vectorFS(v.files), Version: ver, Env: Env{Roles: fixture, Resolver: fixtureHosts,
				Interfaces: StaticInterfaces{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}}}
			if v.setup != nil {
				v.setup(p)
			}
			f, err := p.ParseFile("pg_hba.conf")
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			var got []string
			for _, e := range f.Errors {
				got = append(got, errString(e))
			}
			if strings.Join(got, "\n") != strings.Join(v.errs, "\n") {
				t.Fatalf("errors:\n got %q\nwant %q", got, v.errs)
			}
			if len(v.conns) == 0 {
				return
			}
			rs, err := p.Compile(f)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			for _, vc := range v.conns {
				c := parseConn(t, vc.conn)
				want, wantMsg, hasMsg := strings.Cut(vc.want, " | ")
				d := rs.Decide(context.Background(), c)
				got := outcomeString(d)
				if got != want {
					t.Errorf("%s: got %s, want %s", vc.conn, got, want)
				}
				if hasMsg {
					if m := rs.Message(d, c); m != wantMsg {
						t.Errorf("%s: message\n got %q\nwant %q", vc.conn, m, wantMsg)
					}
				}
			}
		})
	}
}

// vectorFS places a vector's files at "/"; a name ending in "/" is a directory.
func vectorFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		if strings.HasSuffix(name, "/") {
			fsys[strings.TrimSuffix(name, "/")] = &fstest.MapFile{Mode: 0o755 | 1<<31}
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func errString(e *Error) string {
	s := "L" + itoa(e.Pos.Line) + ": " + e.Msg
	if e.Pos.Filename != "/pg_hba.conf" {
		s = strings.TrimPrefix(e.Pos.Filename, "/") + ":" + s
	}
	return s
}

func outcomeString(d Decision) string {
	loc := ""
	if d.Rule != nil {
		loc = "L" + itoa(d.Rule.Pos().Line)
		if d.Rule.Pos().Filename != "/pg_hba.conf" {
			loc = strings.TrimPrefix(d.Rule.Pos().Filename, "/") + ":" + loc
		}
	}
	switch d.Outcome {
	case Matched:
		return loc
	case Rejected:
		return "REJECT " + loc
	case NoMatch:
		return "NO ENTRY"
	}
	return "UNRESOLVED " + loc + " " + d.Reason.String()
}

func one(s string) map[string]string { return map[string]string{"pg_hba.conf": s} }

const alice = "user=alice db=db1"

// hbaVectors are the pg_hba.conf vectors run by TestVectors, each a subtest
// named by its id.
var hbaVectors = []vectorTest[vector]{
	{id: "L01", vectors: []vector{
		{id: "L01", files: one("host \"all\" all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 trust\n"),
			conns: []vconn{{"user=alice db=all", "L1"}, {alice, "L2"}}},
	}},
	{id: "L02", vectors: []vector{
		{files: one("host a\"ll\" al\"l\" 127.0.0.1/32 trust\n"), conns: []vconn{{alice, "L1"}}},
	}},
	{id: "L03", vectors: []vector{
		{files: one("host db1, db2 all 127.0.0.1/32 trust\n"), conns: []vconn{{"user=alice db=db2", "L1"}}},
	}},
	{id: "L04", vectors: []vector{
		{files: one("host db1 ,db2 all 127.0.0.1/32 trust\n"),
			errs: []string{`L1: invalid authentication method "127.0.0.1/32"`}},
	}},
	{id: "L05", vectors: []vector{
		{files: one("host db1, all 127.0.0.1/32 trust\n"),
			errs: []string{`L1: end-of-line before authentication method`}},
	}},
	{id: "L06", vectors: []vector{
		{files: one("host \"a\"\"b\" all 127.0.0.1/32 trust\n"), conns: []vconn{{"user=alice db=a\"b", "L1"}}},
	}},
	{id: "L07", vectors: []vector{
		{files: one("host \"abc def all 127.0.0.1/32 trust\n"),
			errs: []string{`L1: end-of-line before role specification`}},
	}},
	{id: "L08", vectors: []vector{
		{files: one("host all all 127.0.0.1/32 trust#comment\n"), conns: []vconn{{alice, "L1"}}},
	}},
	{id: "L09", vectors: []vector{
		{files: one("host \"a#b\" all 127.0.0.1/32 trust\n"), conns: []vconn{{"user=alice db=a#b", "L1"}}},
	}},
	{id: "L10", vectors: []vector{
		{vers: "14+", files: one("host all\\\nall 127.0.0.1/32 trust\n"),
			errs: []string{`L1: end-of-line before authentication method`}},
	}},
	{id: "L11", vectors: []vector{
		{vers: "13", files: one("host all\\\nall 127.0.0.1/32 trust\n"),
			errs: []string{`L1: end-of-line before role specification`, `L2: invalid connection type "all"`}},
	}},
	{id: "L12", vectors: []vector{
		{vers: "14+", files: one("# comment \\\nhost all all 127.0.0.1/32 trust\nlocal all all trust\n"),
			conns: []vconn{{alice, "NO ENTRY"}, {alice + " local", "L3"}}},
	}},
	{id: "L13", vectors: []vector{
		{vers: "13", files: one("# comment \\\nhost all all 127.0.0.1/32 trust\nlocal all all trust\n"),
			conns: []vconn{{alice, "L2"}}},
	}},
	{id: "L14", vectors: []vector{
		{vers: "14+", files: one("host all all 127.0.0.1/32 trust # c \\\nmap=x\nlocal all all trust\n"),
			conns: []vconn{{alice, "L1"}, {alice + " local", "L3"}}},
	}},
	{id: "L15", vectors: []vector{
		{vers: "14+", files: one("host \"a\\\nb\" all 127.0.0.1/32 trust\n"), conns: []vconn{{"user=alice db=ab", "L1"}}},
	}},
	{id: "L16", vectors: []vector{
		{vers: "14+", files: one("local all all trust \\\\\nhost all all 127.0.0.1/32 trust\n"),
			errs: []string{`L1: authentication option not in name=value format: \host`}},
	}},
	{id: "L17", check: func(t *testing.T) {
		runVector(t, vector{vers: "14+", files: one("host \"a\\\\\n\nlocal all all trust\n"),
			errs: []string{`L1: end-of-line before role specification`}})
		// The local rule is line 3.
		p := &Parser{FS: fstest.MapFS{"pg_hba.conf": {Data: []byte("host \"a\\\\\n\nlocal all all trust\n")}}}
		f, _ := p.ParseFile("pg_hba.conf")
		if len(f.Rules) != 1 || f.Rules[0].Pos().Line != 3 {
			t.Fatalf("rules %+v", f.Rules)
		}
	}},
	{id: "L18", vectors: []vector{
		{files: one("host all all 127.0.0.1/32 trust\r\n"), conns: []vconn{{alice, "L1"}}},
	}},
	{id: "L19", vectors: []vector{
		{files: one("host all all 127.0.0.1/32 trust\x0b\n"),
			errs: []string{"L1: invalid authentication method \"trust\x0b\""}},
	}},
	{id: "L20", vectors: []vector{
		{files: one("   \t \n,,,\n\"\"\n"), errs: []string{`L3: invalid connection type ""`}},
	}},
	{id: "L21", vectors: []vector{
		{files: one("Host all all 127.0.0.1/32 trust\nhost ALL all 127.0.0.1/32 TRUST\n"),
			errs: []string{`L1: invalid connection type "Host"`, `L2: invalid authentication method "TRUST"`}},
	}},
	{id: "L22", vectors: []vector{
		{files: one("\"local\" all all trust\n"), conns: []vconn{{alice + " local", "L1"}}},
	}},
	{id: "L23to26", check: func(t *testing.T) {
		d := func(n int) string { return strings.Repeat("d", n) }
		setup := func(p *Parser) { p.Minor = 0 }
		runVector(t, vector{vers: "13-15", setup: setup, files: one("host " + d(10239) + " all 127.0.0.1/32 trust\n"),
			conns: []vconn{{"user=alice db=" + d(63), "NO ENTRY"}}})
		for _, bad := range []string{d(10240), d(10239) + ",x", `"` + d(10239) + `"`} {
			runVector(t, vector{vers: "13-15", setup: setup, files: one("host " + bad + " all 127.0.0.1/32 trust\n"),
				errs: []string{"L1: authentication file token too long"}})
		}
		runVector(t, vector{vers: "13-15", setup: setup, files: one("host \"" + d(10238) + "\" all 127.0.0.1/32 trust\n"),
			conns: []vconn{{alice, "NO ENTRY"}}})
	}},
	{id: "L27", check: func(t *testing.T) {
		d := func(n int) string { return strings.Repeat("d", n) }
		for _, c := range []struct{ v, minor int }{{13, 11}, {14, 8}, {15, 3}} {
			p := &Parser{Version: c.v, Minor: c.minor}
			f := p.ParseBytes("/x/pg_hba.conf", []byte("host "+d(256)+" all 127.0.0.1/32 trust\nhost "+d(255)+" all 127.0.0.1/32 trust\n"))
			if len(f.Errors) != 1 || f.Errors[0].Pos.Line != 1 || f.Errors[0].Msg != "authentication file token too long" {
				t.Errorf("%d.%d: %v", c.v, c.minor, f.Errors)
			}
		}
	}},
	{id: "L28", vectors: []vector{
		{vers: "16+", files: one("host " + strings.Repeat("d", 20000) + " all 127.0.0.1/32 trust\n"),
			conns: []vconn{{alice, "NO ENTRY"}}},
	}},
	{id: "L29", check: func(t *testing.T) {
		p := &Parser{Version: 13, Minor: 11}
		f := p.ParseBytes("/x/pg_hba.conf", []byte("local all all trust #"+strings.Repeat("x", 8190-len("local all all trust #"))+"\n"))
		if len(f.Errors) != 1 || f.Errors[0].Msg != "authentication file line too long" {
			t.Errorf("8190 bytes: %v", f.Errors)
		}
		f = p.ParseBytes("/x/pg_hba.conf", []byte("local all all trust #"+strings.Repeat("x", 8189-len("local all all trust #"))+"\n"))
		if len(f.Errors) != 0 {
			t.Errorf("8189 bytes: %v", f.Errors)
		}
	}},
	{id: "L30", check: func(t *testing.T) {
		var names []string
		for i := 0; i < 3000; i++ {
			names = append(names, "database_"+itoa(i))
		}
		runVector(t, vector{vers: "14+", files: one("host " + strings.Join(names, ",") + " all 127.0.0.1/32 trust\n"),
			conns: []vconn{{"user=alice db=database_2999", "L1"}}})
	}},
	{id: "L31", check: func(t *testing.T) {
		runVector(t, vector{vers: "14+", files: one("host all\x00junk\nall 127.0.0.1/32 trust\nlocal all all trust\n"),
			errs: []string{"L1: end-of-line before authentication method"}})
		p := &Parser{}
		f := p.ParseBytes("/x/pg_hba.conf", []byte("host all\x00junk\nall 127.0.0.1/32 trust\nlocal all all trust\n"))
		if len(f.Rules) != 1 || f.Rules[0].Pos().Line != 2 {
			t.Fatalf("local rule should be line 2: %+v", f.Lines)
		}
	}},
	{id: "A01toA02", vectors: []vector{
		{files: one("host all all 10.0.0.0 24 trust\n"),
			conns: []vconn{{alice, "L1"}, {alice + " addr=10.0.0.8", "NO ENTRY"}}},
	}},
	{id: "A03", vectors: []vector{
		{files: one("host all all 127.1/32 trust\n"), conns: []vconn{{alice, "L1"}}},
	}},
	{id: "A04", vectors: []vector{
		{files: one("host all all 010.0.0.1/8 trust\n"),
			conns: []vconn{{alice + " addr=10.1.2.3", "NO ENTRY"}, {alice + " addr=8.8.8.8", "L1"}}},
	}},
	{id: "A05toA07", check: func(t *testing.T) {
		runVector(t, vector{files: one("host all all 192.168.1.77/24 trust\n"), conns: []vconn{{alice + " addr=192.168.1.5", "L1"}}})
		runVector(t, vector{files: one("host all all 127.0.0.99/24 password\n"), conns: []vconn{{alice, "L1"}}})
		for _, a := range []string{`"10.0.0.0/ 8"`, "10.0.0.0/+8", "10.0.0.0/08"} {
			runVector(t, vector{files: one("host all all " + a + " trust\n"),
				conns: []vconn{{alice + " addr=10.200.0.1", "L1"}, {alice + " addr=11.0.0.1", "NO ENTRY"}}})
		}
	}},
	{id: "A08toA17", check: func(t *testing.T) {
		cases := []struct{ line, err string }{
			{"host all all 10.0.0.0/33 trust", `invalid CIDR mask in address "10.0.0.0/33"`},
			{"host all all 10.0.0.0/ trust", `invalid CIDR mask in address "10.0.0.0/"`},
			{"host all all /24 trust", `specifying both host name and CIDR mask is invalid: "/24"`},
			{"host all all ::1/129 password", `invalid CIDR mask in address "::1/129"`},
			{"host all all ::1 255.255.255.255 trust", `IP address and mask do not match`},
			{"host all all 10.0.0.0 trust", `invalid IP mask "trust": Name or service not known`},
			{"host all all trust", `end-of-line before authentication method`},
			{"local all all 127.0.0.1/32 trust", `invalid authentication method "127.0.0.1/32"`},
			{"host all all 1.1.1.1/32,2.2.2.2/32 trust", `multiple values specified for host address`},
			{"host all all 10.0.0.0 255.0.0.0,255.255.0.0 trust", `multiple values specified for netmask`},
		}
		for _, c := range cases {
			runVector(t, vector{files: one(c.line + "\n"), errs: []string{"L1: " + c.err}})
		}
	}},
	{id: "A18toA21", vectors: []vector{
		{files: one("host all all 127.0.0.1/32 trust\nhost all all ::ffff:127.0.0.1/128 trust\nhost all all ::1/128 trust\n"),
			conns: []vconn{{alice + " addr=::1", "L3"}, {alice, "L1"}}},
		{files: one("host all all ::ffff:127.0.0.1/128 trust\nhost all all ::/0 trust\n"),
			conns: []vconn{{alice, "NO ENTRY"}}},
		{vers: "14+", files: one("host all all 0.0.0.0/0 password\n"),
			conns: []vconn{{alice + " addr=::1", `NO ENTRY | no pg_hba.conf entry for host "::1", user "alice", database "db1", no encryption`}}},
		{files: one("host all all 10.9.8.7 0.0.0.0 password\n"), conns: []vconn{{alice, "L1"}}},
	}},
	{id: "A22toA29", check: func(t *testing.T) {
		runVector(t, vector{files: one("host all all localhost password\n"),
			conns: []vconn{{alice, "L1"}, {alice + " addr=::1", "NO ENTRY"}}})
		runVector(t, vector{files: one("host all all LOCALHOST password\n"), conns: []vconn{{alice, "L1"}}})
		runVector(t, vector{files: one("host all all .calhost password\nhost all all .localhost password\n"),
			conns: []vconn{{alice, "NO ENTRY"}}})
		hosts := HostTable{
			Reverse: map[string][]string{"10.0.0.1": {"db.EXAMPLE.com."}, "10.0.0.2": {"example.com"}, "10.0.0.3": {"db.example.com"}},
			Forward: map[string][]string{"db.example.com": {"10.0.0.1"}, "example.com": {"10.0.0.2"}},
		}
		withHosts := func(p *Parser) { p.Env.Resolver = hosts }
		runVector(t, vector{setup: withHosts, files: one("host all all .example.com trust\n"),
			conns: []vconn{{alice + " addr=10.0.0.1", "L1"}, {alice + " addr=10.0.0.2", "NO ENTRY"}}})
		runVector(t, vector{setup: withHosts, files: one("host all all db.example.com trust\nhost all all .example.com trust\n"),
			conns: []vconn{{alice + " addr=10.0.0.3", "NO ENTRY"}}})
		runVector(t, vector{files: one("host all all foo.invalid password\nhost all all localhost password\n"),
			conns: []vconn{{alice, "L2"}}})
		runVector(t, vector{files: one("host all all \"all\" trust\n"), conns: []vconn{{alice, "NO ENTRY"}}})
		runVector(t, vector{files: one("host all all \"samehost\" trust\n"), conns: []vconn{{alice, "NO ENTRY"}}})
	}},
	{id: "A30toA34", check: func(t *testing.T) {
		runVector(t, vector{files: one("host all all samehost password\n"),
			conns: []vconn{{alice, "L1"}, {alice + " addr=::1", "L1"}, {alice + " addr=127.0.0.2", "NO ENTRY"}}})
		runVector(t, vector{files: one("host all all samenet password\n"),
			conns: []vconn{{alice, "L1"}, {alice + " addr=::1", "L1"}, {alice + " addr=127.0.0.2", "L1"}}})
		for _, a := range []string{"300.1.1.1", "fe80::1%bogus", "1.2.3.4.5"} {
			p := &Parser{}
			f := p.ParseBytes("/x/pg_hba.conf", []byte("host all all "+a+" trust\n"))
			if len(f.Errors) != 0 || f.Rules[0].Address().Kind != AddrHostName || f.Rules[0].Address().Host != a {
				t.Errorf("%s: %v %+v", a, f.Errors, f.Rules)
			}
		}
		p := &Parser{}
		f := p.ParseBytes("/x/pg_hba.conf", []byte("host all all fe80::1%lo/64 trust\n"))
		if len(f.Errors) != 0 || f.Rules[0].Address().IP.String() != "fe80::1" || f.Rules[0].Address().Mask.String() != "ffff:ffff:ffff:ffff::" {
			t.Errorf("A33: %v %+v", f.Errors, f.Rules)
		}
		runVector(t, vector{vers: "14+", files: one("host all all 127.0.0.1/32 password\n"),
			conns: []vconn{{alice + " local", `NO ENTRY | no pg_hba.conf entry for host "[local]", user "alice", database "db1", no encryption`}}})
	}},
	{id: "D01toD05", vectors: []vector{
		{files: one("host samerole all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=bob db=grp", "L1"}, {"user=carol db=grp", "NO ENTRY"}, {"user=alice db=grp", "NO ENTRY"},
				{"user=grp db=grp", "L1"}, {"user=alice db=alice", "L1"}}},
		{files: one("host sameuser all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=alice db=alice", "L1"}, {"user=alice", "L1"}, {"user=Alice db=alice", "NO ENTRY"}}},
		{files: one("host \"sameuser\" all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=alice db=alice", "NO ENTRY"}}},
		{files: one("host alice all 127.0.0.1/32 password\n"), conns: []vconn{{"user=alice", "L1"}}},
		{files: one("host \"x,y\",\"a b\" all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=alice db=x,y", "L1"}, {"user=alice db=a␠b", "L1"}, {"user=alice db=x", "NO ENTRY"}}},
	}},
	{id: "D06toD13", vectors: []vector{
		{vers: "16+", files: one("host \"/^db\\d+$\" all 127.0.0.1/32 password\nhost /db all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=alice db=db1", "L1"}, {"user=alice db=alice", "NO ENTRY"}, {"user=alice db=grp", "NO ENTRY"}}},
		{vers: "16+", files: one("host /db all 127.0.0.1/32 trust\n"), conns: []vconn{{"user=alice db=mydb1", "L1"}}},
		{vers: "13-15", files: one("host /db all 127.0.0.1/32 trust\n"),
			conns: []vconn{{"user=alice db=/db", "L1"}, {"user=alice db=db1", "NO ENTRY"}}},
		{vers: "16+", files: one("host \"/^x,y$\" all 127.0.0.1/32 password\n"), conns: []vconn{{"user=alice db=x,y", "L1"}}},
		{vers: "16+", files: one("host /( all 127.0.0.1/32 password\n"),
			errs: []string{`L1: invalid regular expression "(": parentheses () not balanced`}},
		{vers: "16+", files: one("host all /a{2,1} 127.0.0.1/32 password\n"),
			errs: []string{`L1: invalid regular expression "a{2": braces {} not balanced`}},
		{vers: "16+", files: one("host / all 127.0.0.1/32 password\n"), conns: []vconn{{alice, "L1"}}},
		{vers: "16+", files: one("host all /^ali 127.0.0.1/32 password\nhost all \"/^B\" 127.0.0.1/32 password\n"),
			conns: []vconn{{alice, "L1"}, {"user=Alice db=db1", "NO ENTRY"}, {"user=bob db=db1", "NO ENTRY"}}},
	}},
	{id: "D14toD21", check: func(t *testing.T) {
		runVector(t, vector{files: one("host all +grp 127.0.0.1/32 password\nhost all all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=bob", "L1"}, {"user=dave", "L1"}, {"user=noinh", "L1"}, {"user=carol", "L2"},
				{"user=alice", "L2"}, {"user=+grp", "L2"}, {"user=ghost", "L2"}}})
		runVector(t, vector{files: one("host all \"+grp\" 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=+grp", "L1"}, {"user=bob", "NO ENTRY"}}})
		runVector(t, vector{files: one("host all +alice 127.0.0.1/32 password\n"), conns: []vconn{{"user=alice", "L1"}}})
		runVector(t, vector{files: one("host all +nosuchrole 127.0.0.1/32 password\n"), conns: []vconn{{"user=alice", "NO ENTRY"}}})
		runVector(t, vector{vers: "16+", files: one("host all +/^g 127.0.0.1/32 password\n"), conns: []vconn{{"user=bob", "NO ENTRY"}}})
		runVector(t, vector{vers: "16+", files: one("host all \"bob\",+sub,/^ca 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=bob", "L1"}, {"user=dave", "L1"}, {"user=carol", "L1"}, {"user=alice", "NO ENTRY"}}})
		runVector(t, vector{files: one("host all ghost 127.0.0.1/32 password\n"), conns: []vconn{{"user=ghost", "L1"}}})
		a63 := strings.Repeat("a", 63)
		runVector(t, vector{files: one("host all " + a63 + " 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=" + a63, "L1"}, {"user=" + strings.Repeat("a", 70), "L1"}}})
	}},
	{id: "R01toR07", vectors: []vector{
		{vers: "14+", files: one("host all all 127.0.0.1/32 password\nhost replication all 127.0.0.1/32 reject\n"),
			conns: []vconn{
				{"user=alice repl=physical", `REJECT L2 | pg_hba.conf rejects replication connection for host "127.0.0.1", user "alice", no encryption`},
				{"user=alice db=db1 repl=logical", "L1"}, {"user=alice db=replication", "L1"}}},
		{vers: "14+", files: one("host \"replication\" all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=alice repl=physical", `NO ENTRY | no pg_hba.conf entry for replication connection from host "127.0.0.1", user "alice", no encryption`},
				{"user=alice db=replication", "L1"}}},
		{vers: "14+", files: one("host replication all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=alice db=db1 repl=logical", `NO ENTRY | no pg_hba.conf entry for host "127.0.0.1", user "alice", database "db1", no encryption`}}},
		{vers: "13", files: one("host replication all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=alice db=db1 repl=logical", `NO ENTRY | no pg_hba.conf entry for replication connection from host "127.0.0.1", user "alice", SSL off`}}},
		{vers: "16+", files: one("host /.* all 127.0.0.1/32 password\nhost all all 127.0.0.1/32 password\n"),
			conns: []vconn{{"user=alice repl=physical", "NO ENTRY"}}},
		{vers: "14+", files: one("host db1 alice 127.0.0.1/32 reject\n"),
			conns: []vconn{{alice, `REJECT L1 | pg_hba.conf rejects connection for host "127.0.0.1", user "alice", database "db1", no encryption`},
				{"user=alice repl=physical", "NO ENTRY"}}},
		{files: one("host all alice 127.0.0.1/32 reject\nhost all all 127.0.0.1/32 password\n"),
			conns: []vconn{{alice, "REJECT L1"}, {"user=bob", "L2"}, {alice + " local", "NO ENTRY"}}},
		{files: one("local all all password\n"), conns: []vconn{{alice + " local", "L1"}, {alice, "NO ENTRY"}}},
	}},
	{id: "R08toR15", check: func(t *testing.T) {
		ssl := func(p *Parser) { p.SSL = true }
		runVector(t, vector{setup: ssl, files: one("hostssl all all 127.0.0.1/32 password\nhostnossl all all 127.0.0.1/32 password\n"),
			conns: []vconn{{alice, "L2"}, {alice + " ssl", "L1"}}})
		runVector(t, vector{files: one("hostnossl all all 0.0.0.0/0 trust\nhostgssenc all all 0.0.0.0/0 trust\n"),
			conns: []vconn{{alice + " gss", "L1"}}})
		runVector(t, vector{setup: ssl, files: one("hostnogssenc all all 0.0.0.0/0 trust\n"), conns: []vconn{{alice + " ssl", "L1"}}})
		runVector(t, vector{files: one("hostgssenc all all 127.0.0.1/32 password\nhostnogssenc all all 127.0.0.1/32 password\n"),
			conns: []vconn{{alice, "L2"}, {alice + " gss", "L1"}}})
		noGSS := func(p *Parser) { p.Features = FeatureSSL }
		runVector(t, vector{setup: noGSS, files: one("hostgssenc all all 0.0.0.0/0 trust\n"),
			conns: []vconn{{alice, "NO ENTRY"}, {alice + " gss", "NO ENTRY"}}})
		runVector(t, vector{files: one("hostssl all all 127.0.0.1/32 password\nhost all alice 127.0.0.1/32 password\n"),
			conns: []vconn{{alice, "L2"}}})
		runVector(t, vector{vers: "13", files: one("host db1 alice 127.0.0.1/32 reject\n"),
			conns: []vconn{{"user=alice db=db2", `NO ENTRY | no pg_hba.conf entry for host "127.0.0.1", user "alice", database "db2", SSL off`}}})
	}},
	{id: "R14Warning", check: func(t *testing.T) {
		p := &Parser{}
		f := p.ParseBytes("/x/pg_hba.conf", []byte("hostssl all all 127.0.0.1/32 password\nhost all alice 127.0.0.1/32 password\n"))
		if len(f.Errors) != 0 || f.Rules[0].Warning() != "hostssl record cannot match because SSL is disabled" {
			t.Fatalf("%v %+v", f.Errors, f.Rules[0])
		}
	}},
	{id: "F01toF08", vectors: []vector{
		{files: map[string]string{"pg_hba.conf": "host @names.txt all 127.0.0.1/32 password\n", "names.txt": "db1, # c\n\"a b\"\n"},
			conns: []vconn{{alice, "L1"}, {"user=alice db=a␠b", "L1"}}},
		{files: map[string]string{"pg_hba.conf": "host @empty.txt all 127.0.0.1/32 password\n", "empty.txt": "# nothing\n"},
			errs: []string{"L1: end-of-line before authentication method"}},
		{vers: "13-15", files: one("host @nofile.txt all 127.0.0.1/32 password\n"),
			errs: []string{`L1: could not open secondary authentication file "@nofile.txt" as "/nofile.txt": No such file or directory`}},
		{vers: "16+", files: one("host @nofile.txt all 127.0.0.1/32 password\n"),
			errs: []string{`L1: could not open file "/nofile.txt": No such file or directory`}},
		{files: one("host \"@names.txt\" all 127.0.0.1/32 trust\nhost @ all 127.0.0.1/32 trust\n"),
			conns: []vconn{{"user=alice db=@names.txt", "L1"}, {"user=alice db=@", "L2"}}},
		{files: map[string]string{"pg_hba.conf": "host @\"sub dir/n.txt\" all 127.0.0.1/32 trust\n",
			"sub dir/n.txt": "db9 @n2.txt\n", "sub dir/n2.txt": "nested\n"},
			conns: []vconn{{"user=alice db=db9", "L1"}, {"user=alice db=nested", "L1"}}},
		{files: map[string]string{"pg_hba.conf": "host all all @addr.txt password\n", "addr.txt": "127.0.0.1/32\n"},
			conns: []vconn{{alice, "L1"}}},
		{files: map[string]string{"pg_hba.conf": "@ct.txt all all 127.0.0.1/32 password\n", "ct.txt": "host\n"},
			conns: []vconn{{alice, "L1"}}},
	}},
	{id: "F09toF25", check: func(t *testing.T) {
		runVector(t, vector{vers: "16+", files: map[string]string{"pg_hba.conf": "host @self.txt all 127.0.0.1/32 trust\n", "self.txt": "a @self.txt\n"},
			errs: []string{`L1: could not open file "/self.txt": maximum nesting depth exceeded`}})
		runVector(t, vector{vers: "16+", files: map[string]string{"pg_hba.conf": "host @list.txt all 127.0.0.1/32 trust\n",
			"list.txt": "x1\ninclude list2.txt\nx3\n", "list2.txt": "x2a x2b\n"},
			conns: []vconn{{"user=alice db=x1", "L1"}, {"user=alice db=x2a", "L1"}, {"user=alice db=x2b", "L1"}, {"user=alice db=x3", "L1"}, {"user=alice db=include", "NO ENTRY"}}})
		runVector(t, vector{vers: "16+", files: map[string]string{"pg_hba.conf": "include inc/a.conf\nhost all all 127.0.0.1/32 reject\n",
			"inc/a.conf": "# first\nhost all alice 127.0.0.1/32 password\ninclude b.conf\n", "inc/b.conf": "host all bob 127.0.0.1/32 password\n"},
			conns: []vconn{{"user=alice", "inc/a.conf:L2"}, {"user=bob", "inc/b.conf:L1"}, {"user=carol", "REJECT L2"}}})
		runVector(t, vector{vers: "16+", files: one("include nope.conf\ninclude_if_exists nope2.conf\nhost all all 127.0.0.1/32 password\n"),
			errs: []string{`L1: could not open file "/nope.conf": No such file or directory`}})
		runVector(t, vector{vers: "16+", files: map[string]string{"pg_hba.conf": "include_dir d\n",
			"d/b.conf": "host all b 127.0.0.1/32 trust\n", "d/A.conf": "host all A 127.0.0.1/32 trust\n",
			"d/10.conf": "host all ten 127.0.0.1/32 trust\n", "d/9.conf": "host all nine 127.0.0.1/32 trust\n",
			"d/.h.conf": "host all hidden 127.0.0.1/32 trust\n", "d/x.conf.bak": "host all bak 127.0.0.1/32 trust\n",
			"d/.conf": "host all dot 127.0.0.1/32 trust\n", "d/Z.CONF": "host all upper 127.0.0.1/32 trust\n",
			"d/sub.conf/": "", "d/sub.conf/x.conf": "host all subdir 127.0.0.1/32 trust\n"},
			conns: []vconn{{"user=ten", "d/10.conf:L1"}, {"user=nine", "d/9.conf:L1"}, {"user=A", "d/A.conf:L1"}, {"user=b", "d/b.conf:L1"},
				{"user=hidden", "NO ENTRY"}, {"user=bak", "NO ENTRY"}, {"user=dot", "NO ENTRY"}, {"user=upper", "NO ENTRY"}, {"user=subdir", "NO ENTRY"}}})
		p := &Parser{FS: fstest.MapFS{"pg_hba.conf": {Data: []byte("include_dir d\n")},
			"d/b.conf": {Data: []byte("host all b 127.0.0.1/32 trust\n")}, "d/A.conf": {Data: []byte("host all A 127.0.0.1/32 trust\n")},
			"d/10.conf": {Data: []byte("host all ten 127.0.0.1/32 trust\n")}, "d/9.conf": {Data: []byte("host all nine 127.0.0.1/32 trust\n")}}}
		f, _ := p.ParseFile("pg_hba.conf")
		var order []string
		for _, r := range f.Rules {
			order = append(order, r.Pos().Filename)
		}
		if strings.Join(order, " ") != "/d/10.conf /d/9.conf /d/A.conf /d/b.conf" {
			t.Errorf("F13 order: %v", order)
		}
		f14 := "host all all 127.0.0.1/32 trust\ninclude pg_hba.conf\n"
		p = &Parser{FS: fstest.MapFS{"pg_hba.conf": {Data: []byte(f14)}}}
		f, _ = p.ParseFile("pg_hba.conf")
		if len(f.Lines) != 12 || len(f.Errors) != 1 || f.Errors[0].Msg != `could not open file "/pg_hba.conf": maximum nesting depth exceeded` || f.Errors[0].Pos.Line != 2 {
			t.Errorf("F14: %d lines, errors %v", len(f.Lines), f.Errors)
		}
		runVector(t, vector{vers: "16+", files: map[string]string{"pg_hba.conf": "include a.conf,b.conf\n",
			"a.conf": "host all a 127.0.0.1/32 trust\n", "b.conf": "host all b 127.0.0.1/32 trust\n"},
			conns: []vconn{{"user=a", "a.conf:L1"}, {"user=b", "NO ENTRY"}}})
		runVector(t, vector{vers: "16+", files: map[string]string{"pg_hba.conf": "\"include\" c.conf\n", "c.conf": "host all c 127.0.0.1/32 trust\n"},
			conns: []vconn{{"user=c", "c.conf:L1"}}})
		runVector(t, vector{vers: "16+", files: one("include a.conf b.conf\n"), errs: []string{`L1: invalid connection type "include"`}})
		runVector(t, vector{vers: "16+", files: one("include_dir \"\"\n"), errs: []string{`L1: empty configuration directory name`}})
		runVector(t, vector{vers: "16+", files: one("include_dir nodir\n"), errs: []string{`L1: could not open directory "/nodir"`}})
		runVector(t, vector{vers: "16+", files: map[string]string{"pg_hba.conf": "include_if_exists \"sp ace.conf\"\n", "sp ace.conf": "host all s 127.0.0.1/32 trust\n"},
			conns: []vconn{{"user=s", "sp ace.conf:L1"}}})
		runVector(t, vector{vers: "16+", files: map[string]string{"pg_hba.conf": "include sub/inc.conf\n",
			"sub/inc.conf": "host @names all 127.0.0.1/32 trust\n", "sub/names": "subname\n", "names": "rootname\n"},
			conns: []vconn{{"user=alice db=subname", "sub/inc.conf:L1"}, {"user=alice db=rootname", "NO ENTRY"}}})
		runVector(t, vector{vers: "13-15", files: one("include other.conf\n"), errs: []string{`L1: invalid connection type "include"`}})
		runVector(t, vector{files: map[string]string{"pg_hba.conf": "host @dbs.txt @users.txt 127.0.0.1/32 password\n",
			"dbs.txt": "\"all\"\n", "users.txt": "+grp\n\"alice\"\n"},
			conns: []vconn{{"user=alice db=all", "L1"}, {alice, "NO ENTRY"}}})
		runVector(t, vector{files: map[string]string{"pg_hba.conf": "host @dbs2.txt all 127.0.0.1/32 password\n", "dbs2.txt": "all\n"},
			conns: []vconn{{alice, "L1"}}})
	}},
	{id: "F23", check: func(t *testing.T) {
		p := &Parser{FS: fstest.MapFS{"pg_hba.conf": {Data: []byte("# only a comment\ninclude_if_exists none.conf\ninclude_dir emptydir\n")},
			"emptydir": {Mode: 0o755 | 1<<31}}}
		f, err := p.ParseFile("pg_hba.conf")
		if err != nil || len(f.Errors) != 0 {
			t.Fatalf("%v %v", err, f.Errors)
		}
		if _, err := p.Compile(f); err == nil || !strings.Contains(err.Error(), `configuration file "/pg_hba.conf" contains no entries`) {
			t.Fatalf("Compile: %v", err)
		}
	}},
	{id: "X04", vectors: []vector{
		{files: one("hostssl all all 0.0.0.0/0 trust\n"), conns: []vconn{{alice, "NO ENTRY"}, {alice + " ssl", "NO ENTRY"}}},
	}},
}

// TestDefaultResolverLocalhost: Go's resolver answers /etc/hosts IPv4
// entries as IPv4-mapped IPv6 addresses; the forward confirmation must still
// see 127.0.0.1 (found by the proxy's tests).
func TestDefaultResolverLocalhost(t *testing.T) {
	mapped := HostTable{
		Reverse: map[string][]string{"127.0.0.1": {"localhost"}},
		Forward: map[string][]string{"localhost": {"::ffff:127.0.0.1"}},
	}
	p := &Parser{Env: Env{Resolver: mapped}}
	rs, err := p.LoadBytes("/x/pg_hba.conf", []byte("host all all localhost trust\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := rs.Decide(context.Background(), Conn{Addr: netip.MustParseAddr("127.0.0.1"), User: "alice"}); d.Outcome != Matched {
		t.Fatalf("got %v", d.Outcome)
	}
}
