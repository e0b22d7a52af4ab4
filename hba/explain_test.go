package hba_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/refmatch"
)

// Pieces for generated rule sets: every keyword, quoting, lists, @files,
// regexes, host names, samehost/samenet and masks.
var (
	exTypes = []string{"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
	exDBs   = []string{"all", "sameuser", "samerole", "samegroup", "replication", `"all"`, `"replication"`, "db1", "db2", "grp",
		"/^db", "db1,db2", "alice", "@dbs", "replication,db1"}
	exUsers = []string{"all", "+grp", "+sub", `"+grp"`, "alice", "bob", "Alice", "/^a", "bob,+sub", `"all"`, "@users", "ghost"}
	exAddrs = []string{"all", "127.0.0.1/32", "127.0.0.0/8", "127.0.0.2/31", "::1/128", "::/0", "0.0.0.0/0", "samehost", "samenet",
		"localhost", ".example.com", "db.example.com", "10.0.0.0 255.0.0.0", "127.0.0.1 0.0.0.24", "::ffff:127.0.0.1/128", "nowhere.test"}
	exMethods = []string{"trust", "reject", "scram-sha-256", "md5", "reject"}
	exIPs     = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "::1", "10.1.2.3", "::ffff:127.0.0.1", "192.0.2.7", "192.0.2.8"}
	exNames   = []string{"alice", "bob", "dave", "carol", "grp", "db1", "db2", "ghost", "Alice", ""}
)

var exRoles = hba.RoleGraph{"alice": nil, "bob": {"grp"}, "dave": {"sub"}, "sub": {"grp"}, "carol": nil, "grp": nil, "db1": nil}

var exHosts = hba.HostTable{
	Reverse: map[string][]string{"127.0.0.1": {"localhost"}, "127.0.0.2": {"db.example.com."}, "10.1.2.3": {"evil.example.com"},
		"192.0.2.7": {"nowhere.test"}, "192.0.2.8": {"db.example.com"}},
	Forward: map[string][]string{"localhost": {"127.0.0.1", "::1"}, "db.example.com": {"127.0.0.2"}},
}

type failingRoles struct{}

func (failingRoles) IsMember(context.Context, string, string) (bool, error) {
	return false, errors.New("catalog unavailable")
}

type failingResolver struct{}

func (failingResolver) LookupAddr(context.Context, string) ([]string, error) {
	return nil, errors.New("server misbehaving")
}

func (failingResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, errors.New("server misbehaving")
}

// TestExplainAgrees checks on generated rule sets and connections that
// Explain reaches the decision Decide and the reference matcher reach, and
// that its misses cover exactly the rules before the deciding one.
func TestExplainAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 17))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	ctx := context.Background()
	outcomes := map[hba.Outcome]int{}
	columns := map[hba.Column]int{}
	calls := 0
	n := 3000
	if testing.Short() {
		n = 300
	}
	for iter := 0; iter < n; iter++ {
		version := hba.MinVersion + rng.IntN(hba.MaxVersion-hba.MinVersion+1)
		dbUserNS := version <= 16 && rng.IntN(8) == 0
		var conf strings.Builder
		nrules := 1 + rng.IntN(10)
		for i := 0; i < nrules; i++ {
			typ := pick(exTypes)
			conf.WriteString(typ + " " + pick(exDBs) + " " + pick(exUsers))
			if typ != "local" {
				conf.WriteString(" " + pick(exAddrs))
			}
			m := pick(exMethods)
			if m == "md5" && dbUserNS {
				m = "password"
			}
			conf.WriteString(" " + m + "\n")
		}
		// Often end with a wide rule, so that matches are common too.
		switch rng.IntN(3) {
		case 0:
			conf.WriteString("host all all all " + pick(exMethods[:3]) + "\n")
		case 1:
			conf.WriteString("local all all " + pick(exMethods[:3]) + "\n")
		}
		env := hba.Env{Roles: exRoles, Resolver: exHosts,
			Interfaces: hba.StaticInterfaces{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}}
		switch rng.IntN(8) {
		case 0:
			env.Roles = nil
		case 1:
			env.Resolver = nil
		case 2:
			env.Roles = failingRoles{}
		case 3:
			env.Interfaces = hba.InterfacesFunc(func(context.Context) ([]netip.Prefix, error) {
				return nil, errors.New("no interfaces")
			})
		case 4:
			env.Resolver = failingResolver{}
		}
		p := &hba.Parser{Version: version, SSL: rng.IntN(3) != 0, DBUserNamespace: dbUserNS, Env: env,
			FS: fstest.MapFS{"pg_hba.conf": {Data: []byte(conf.String())}, "dbs": {Data: []byte("db2 \"all\"\n")}, "users": {Data: []byte("+grp\n")}}}
		rs, err := p.Load("pg_hba.conf")
		if err != nil {
			t.Fatalf("generated file does not load: %v\n%s", err, conf.String())
		}
		for k := 0; k < 6; k++ {
			c := hba.Conn{User: pick(exNames[:len(exNames)-1]), Database: pick(exNames)}
			if rng.IntN(4) == 0 {
				c.Local = true
			} else {
				c.Addr = netip.MustParseAddr(pick(exIPs))
				switch rng.IntN(4) {
				case 1:
					c.SSL = true
				case 2:
					c.GSS = true
				}
			}
			switch rng.IntN(5) {
			case 1:
				c.Replication = hba.PhysicalReplication
			case 2:
				c.Replication = hba.LogicalReplication
			}
			cctx := ctx
			if rng.IntN(10) == 0 {
				// A canceled context stops host-name lookups as unresolved.
				c, cancel := context.WithCancel(ctx)
				cancel()
				cctx = c
			}
			d := rs.Decide(cctx, c)
			tr := rs.Explain(cctx, c)
			if tr.Decision.Outcome != d.Outcome || tr.Decision.Rule != d.Rule || tr.Decision.Reason != d.Reason ||
				(tr.Decision.Err == nil) != (d.Err == nil) {
				t.Fatalf("conn %+v on v%d\n%s\nDecide:  %v %v\nExplain: %v %v", c, version, conf.String(),
					d.Outcome, ruleLine(d.Rule), tr.Decision.Outcome, ruleLine(tr.Decision.Rule))
			}
			if tr.Message != rs.Message(d, c) {
				t.Fatalf("message %q, want %q", tr.Message, rs.Message(d, c))
			}
			if !p.DBUserNamespace {
				ref := refmatch.Decide(cctx, version, rs.Rules(), env, c)
				if ref.Outcome != tr.Decision.Outcome || ref.Rule != tr.Decision.Rule {
					t.Fatalf("conn %+v on v%d\n%s\nreference: %v %v\nExplain:   %v %v", c, version, conf.String(),
						ref.Outcome, ruleLine(ref.Rule), tr.Decision.Outcome, ruleLine(tr.Decision.Rule))
				}
			}
			// Explain runs Decide's tests: the sources see the same calls.
			dl, el := &callLog{inner: env}, &callLog{inner: env}
			rs.WithEnv(dl.env()).Decide(cctx, c)
			rs.WithEnv(el.env()).Explain(cctx, c)
			if !slices.Equal(dl.calls, el.calls) {
				t.Fatalf("conn %+v on v%d\n%s\nDecide calls  %q\nExplain calls %q", c, version, conf.String(), dl.calls, el.calls)
			}
			calls += len(el.calls)
			outcomes[tr.Decision.Outcome]++
			for _, m := range tr.Misses {
				columns[m.Column]++
			}
			want := len(rs.Rules())
			if tr.Decision.Rule != nil {
				want = tr.Decision.Rule.Number() - 1
			}
			if len(tr.Misses) != want {
				t.Fatalf("%d misses, want %d", len(tr.Misses), want)
			}
			for i, m := range tr.Misses {
				if m.Rule != rs.Rules()[i] || !m.Column.IsValid() || m.Reason == "" {
					t.Fatalf("miss %d: %+v", i, m)
				}
			}
		}
	}
	// The generator must reach every outcome and every column, or the
	// agreement above proves little.
	for o := hba.NoMatch; o <= hba.Unresolved; o++ {
		if outcomes[o] == 0 {
			t.Errorf("no %v decision generated", o)
		}
	}
	for c := hba.ColumnType; c <= hba.ColumnUser; c++ {
		if columns[c] == 0 {
			t.Errorf("no miss on column %v generated", c)
		}
	}
	if calls == 0 {
		t.Error("no source call generated")
	}
	t.Logf("outcomes %v, misses per column %v, source calls %d", outcomes, columns, calls)
}

// callLog wraps the sources of an Env and logs every call, in order.
type callLog struct {
	inner hba.Env
	calls []string
}

func (l *callLog) env() hba.Env {
	e := hba.Env{FailuresDoNotMatch: l.inner.FailuresDoNotMatch}
	if l.inner.Roles != nil {
		e.Roles = hba.RolesFunc(func(ctx context.Context, role, group string) (bool, error) {
			l.calls = append(l.calls, "member "+role+" "+group)
			return l.inner.Roles.IsMember(ctx, role, group)
		})
	}
	if l.inner.Resolver != nil {
		e.Resolver = logResolver{l}
	}
	if l.inner.Interfaces != nil {
		e.Interfaces = hba.InterfacesFunc(func(ctx context.Context) ([]netip.Prefix, error) {
			l.calls = append(l.calls, "interfaces")
			return l.inner.Interfaces.InterfaceAddrs(ctx)
		})
	}
	return e
}

type logResolver struct{ l *callLog }

func (r logResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	r.l.calls = append(r.l.calls, "reverse "+addr)
	return r.l.inner.Resolver.LookupAddr(ctx, addr)
}

func (r logResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.l.calls = append(r.l.calls, "forward "+host)
	return r.l.inner.Resolver.LookupNetIP(ctx, network, host)
}

func ruleLine(r *hba.Rule) int {
	if r == nil {
		return 0
	}
	return r.Pos().Line
}

// TestExplainReasons checks the words for each kind of miss.
func TestExplainReasons(t *testing.T) {
	const conf = `local   all       all                       peer
host    all       all       10.0.0.0/8      reject
hostssl all       all       0.0.0.0/0       scram-sha-256
hostnossl all     all       0.0.0.0/0       scram-sha-256
hostgssenc all    all       0.0.0.0/0       gss
hostnogssenc all  all       0.0.0.0/0       scram-sha-256
host    db1,db2   all       192.168.0.0/16  md5
host    sameuser  all       192.168.0.0/16  md5
host    all       +grp      192.168.0.0/16  md5
host    all       alice,+grp 192.168.0.0/16 md5
host    all       all       ::/0            md5
host    all       all       10.0.0.0 255.0.255.0 md5
host    all       all       db.example.com  md5
host    all       all       .example.org    md5
host    all       all       samehost        md5
host    all       all       samenet         md5
host    replication all     all             md5
host    "all"     all       all             trust
`
	p := hba.Parser{SSL: true, Env: hba.Env{
		Roles:      exRoles,
		Resolver:   hba.HostTable{Reverse: map[string][]string{"192.168.1.5": {"x.example.net"}}},
		Interfaces: hba.StaticInterfaces{netip.MustParsePrefix("127.0.0.1/8")},
	}}
	rs, err := p.LoadBytes("/etc/pg_hba.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	tr := rs.Explain(context.Background(), hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "bob"})
	got := map[int]hba.Miss{}
	for _, m := range tr.Misses {
		got[m.Rule.Pos().Line] = m
	}
	if tr.Decision.Outcome != hba.Matched || tr.Decision.Rule.Pos().Line != 4 {
		// hostnossl all all 0.0.0.0/0 matches a plain connection first.
		t.Fatalf("decision %v line %d", tr.Decision.Outcome, ruleLine(tr.Decision.Rule))
	}
	check := func(line int, col hba.Column, reason string) {
		t.Helper()
		m, ok := got[line]
		if !ok {
			t.Errorf("line %d: no miss", line)
			return
		}
		if m.Column != col || m.Reason != reason {
			t.Errorf("line %d: %v %q\nwant      %v %q", line, m.Column, m.Reason, col, reason)
		}
	}
	check(1, hba.ColumnType, "connection type local is for Unix-domain socket connections; this connection is TCP from 192.168.1.5")
	check(2, hba.ColumnAddress, "address 10.0.0.0/8 does not contain 192.168.1.5")
	check(3, hba.ColumnSSL, "connection type hostssl needs SSL; this connection is not encrypted")

	// Skip the catch-alls to reach the later lines.
	var tail strings.Builder
	for i, l := range strings.Split(conf, "\n") {
		if i == 0 || i == 2 || i == 3 || i == 5 {
			l = "# " + l
		}
		tail.WriteString(l + "\n")
	}
	rs, err = p.LoadBytes("/etc/pg_hba.conf", []byte(tail.String()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		conn hba.Conn
		line int
		col  hba.Column
		want string
	}{
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 7, hba.ColumnDatabase, `database "app" is not in {db1, db2}`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 8, hba.ColumnDatabase, `sameuser needs the database to be named like the user "carol"`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 9, hba.ColumnUser, `user carol is not a member of role grp`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 10, hba.ColumnUser, `user "carol" is not in {alice, +grp}; user carol is not a member of role grp`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 11, hba.ColumnAddress, `address ::/0 is IPv6 and 192.168.1.5 is IPv4; PostgreSQL does not match across address families`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 12, hba.ColumnAddress, `address 10.0.0.0 mask 255.0.255.0 does not contain 192.168.1.5`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 13, hba.ColumnAddress, `host name rule: 192.168.1.5 reverse-resolves to x.example.net, not db.example.com`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 14, hba.ColumnAddress, `host name rule: 192.168.1.5 reverse-resolves to x.example.net, which does not end in .example.org`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 15, hba.ColumnAddress, `samehost: 192.168.1.5 is not an address of the server {127.0.0.1}`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 16, hba.ColumnAddress, `samenet: 192.168.1.5 is not in a network of the server {127.0.0.0/8}`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 17, hba.ColumnDatabase, `replication matches only physical replication connections`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), Database: "app", User: "carol"}, 18, hba.ColumnDatabase, `database "app" is not in {"all"}`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), SSL: true, User: "carol", Replication: hba.PhysicalReplication}, 7, hba.ColumnDatabase,
			`a physical replication connection matches only the keyword replication, and the database column is {db1, db2}`},
		{hba.Conn{Addr: netip.MustParseAddr("192.168.1.5"), SSL: true, User: "carol"}, 5, hba.ColumnGSS,
			`connection type hostgssenc needs GSSAPI encryption; this connection is SSL-encrypted`},
		{hba.Conn{Local: true, User: "carol"}, 2, hba.ColumnType,
			`connection type host is for TCP connections; this connection is over the Unix-domain socket`},
	} {
		tr := rs.Explain(context.Background(), tc.conn)
		var m *hba.Miss
		for i := range tr.Misses {
			if tr.Misses[i].Rule.Pos().Line == tc.line {
				m = &tr.Misses[i]
			}
		}
		if m == nil {
			t.Errorf("%+v: no miss on line %d (decision %v line %d)", tc.conn, tc.line, tr.Decision.Outcome, ruleLine(tr.Decision.Rule))
			continue
		}
		if m.Column != tc.col || m.Reason != tc.want {
			t.Errorf("%+v line %d: %v %q\nwant %v %q", tc.conn, tc.line, m.Column, m.Reason, tc.col, tc.want)
		}
	}
}

// TestExplainHostNameCache checks that a failed forward confirmation is
// remembered for the later host-name rules, and said so.
func TestExplainHostNameCache(t *testing.T) {
	p := hba.Parser{Env: hba.Env{Resolver: hba.HostTable{
		Reverse: map[string][]string{"203.0.113.9": {"db.example.com"}},
		Forward: map[string][]string{"db.example.com": {"203.0.113.10"}},
	}}}
	rs, err := p.LoadBytes("/etc/pg_hba.conf", []byte("host all all db.example.com md5\nhost all all .example.com md5\nhost all all 203.0.113.0/24 trust\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr := rs.Explain(context.Background(), hba.Conn{Addr: netip.MustParseAddr("203.0.113.9"), User: "u"})
	if tr.Decision.Outcome != hba.Matched || tr.Decision.Rule.Pos().Line != 3 || len(tr.Misses) != 2 {
		t.Fatalf("decision %v line %d, %d misses", tr.Decision.Outcome, ruleLine(tr.Decision.Rule), len(tr.Misses))
	}
	want0 := "host name rule db.example.com: 203.0.113.9 reverse-resolves to db.example.com, but db.example.com resolves to 203.0.113.10, not 203.0.113.9"
	want1 := "host name rule .example.com: not checked, as the host-name check of line 1 failed for this connection (203.0.113.9 reverse-resolves to db.example.com, but db.example.com resolves to 203.0.113.10, not 203.0.113.9)"
	if tr.Misses[0].Reason != want0 {
		t.Errorf("miss 0: %q\nwant %q", tr.Misses[0].Reason, want0)
	}
	if tr.Misses[1].Reason != want1 {
		t.Errorf("miss 1: %q\nwant %q", tr.Misses[1].Reason, want1)
	}
}

// TestExplainHostNameCacheAcrossFiles names the failed check by its file
// when it is in another file, relative to the main file's directory.
func TestExplainHostNameCacheAcrossFiles(t *testing.T) {
	p := hba.Parser{
		FS: fstest.MapFS{
			"etc/pg_hba.conf":   {Data: []byte("include conf.d/a.conf\nhost all all .example.com md5\n")},
			"etc/conf.d/a.conf": {Data: []byte("host all all db.example.com md5\n")},
		},
		Env: hba.Env{Resolver: hba.HostTable{Reverse: map[string][]string{"203.0.113.9": {"db.example.com"}}}},
	}
	rs, err := p.Load("/etc/pg_hba.conf")
	if err != nil {
		t.Fatal(err)
	}
	tr := rs.Explain(context.Background(), hba.Conn{Addr: netip.MustParseAddr("203.0.113.9"), User: "u"})
	if tr.Decision.Outcome != hba.NoMatch || len(tr.Misses) != 2 {
		t.Fatalf("decision %v, %d misses", tr.Decision.Outcome, len(tr.Misses))
	}
	if want := "host name rule db.example.com: 203.0.113.9 reverse-resolves to db.example.com, but db.example.com does not resolve: lookup db.example.com: no such host"; tr.Misses[0].Reason != want {
		t.Errorf("miss 0: %q\nwant %q", tr.Misses[0].Reason, want)
	}
	if want := "host name rule .example.com: not checked, as the host-name check of conf.d/a.conf:1 failed for this connection"; !strings.HasPrefix(tr.Misses[1].Reason, want) {
		t.Errorf("miss 1: %q\nwant prefix %q", tr.Misses[1].Reason, want)
	}
}

func ExampleRuleset_Explain() {
	var p hba.Parser
	rs, _ := p.LoadBytes("/etc/postgresql/pg_hba.conf", []byte(`local all  all                peer
host  all  admin  10.0.0.0/8    reject
host  db1,db2 all 10.0.0.0/8    scram-sha-256
host  all  all    192.168.0.0/16 md5
`))
	t := rs.Explain(context.Background(), hba.Conn{Addr: netip.MustParseAddr("10.1.2.3"), Database: "app", User: "alice"})
	for _, m := range t.Misses {
		fmt.Printf("line %d: %s: %s\n", m.Rule.Pos().Line, m.Column, m.Reason)
	}
	fmt.Println(t.Decision.Outcome, "-", t.Message)
	// Output:
	// line 1: type: connection type local is for Unix-domain socket connections; this connection is TCP from 10.1.2.3
	// line 2: user: user "alice" is not in {admin}
	// line 3: database: database "app" is not in {db1, db2}
	// line 4: address: address 192.168.0.0/16 does not contain 10.1.2.3
	// no-match - no pg_hba.conf entry for host "10.1.2.3", user "alice", database "app", no encryption
}
