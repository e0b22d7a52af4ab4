package audit_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

func TestParsePolicy(t *testing.T) {
	src := `# comment
allow host 10.1.2.3 db=app user=alice method=scram-sha-256   # trailing comment

deny  host 203.0.113.9 db=all user=postgres
allow local db=app user=bob line=4
allow hostssl 10.0.0.1 user=alice line=conf.d/app.conf:2
deny hostgssenc ::1 user=repl replication=physical method=reject
allow hostnossl 10.0.0.1 db="my ""db""" user="a b"
`
	exps, err := audit.ParsePolicy("policy.txt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 6 {
		t.Fatalf("%d expectations", len(exps))
	}
	e := exps[0]
	if !e.Allow || e.Conn.Local || e.Conn.Addr != netip.MustParseAddr("10.1.2.3") || e.Conn.Database != "app" || e.Conn.User != "alice" ||
		e.Method != hba.ScramSHA256 || e.RuleLine != 0 || e.Pos.Line != 2 || e.Text != "allow host 10.1.2.3 db=app user=alice method=scram-sha-256" {
		t.Errorf("0: %+v", e)
	}
	if e := exps[1]; e.Allow || e.Conn.Database != "all" || e.Conn.User != "postgres" || e.Pos.Line != 4 {
		t.Errorf("1: %+v", e)
	}
	if e := exps[2]; !e.Conn.Local || e.RuleLine != 4 || e.RuleFile != "" {
		t.Errorf("2: %+v", e)
	}
	if e := exps[3]; !e.Conn.SSL || e.Conn.GSS || e.RuleFile != "conf.d/app.conf" || e.RuleLine != 2 || e.Conn.Database != "" {
		t.Errorf("3: %+v", e)
	}
	if e := exps[4]; !e.Conn.GSS || e.Conn.Replication != hba.PhysicalReplication || e.Method != hba.Reject {
		t.Errorf("4: %+v", e)
	}
	if e := exps[5]; e.Conn.SSL || e.Conn.Database != `my "db"` || e.Conn.User != "a b" {
		t.Errorf("5: %+v", e)
	}

	for _, tc := range []struct{ line, msg string }{
		{"permit host 1.2.3.4 user=a", `want allow or deny first, not "permit"`},
		{"allow", "missing connection type (local, host, hostssl, hostnossl, hostgssenc)"},
		{"allow tcp 1.2.3.4 user=a", `unknown connection type "tcp" (want local, host, hostssl, hostnossl, hostgssenc)`},
		{"allow host user=a", "missing client address after host"},
		{"allow host db.example.com user=a", `client address "db.example.com" is not an IP address`},
		{"allow local db=x", "missing user="},
		{"allow local user=", "user= is empty"},
		{"allow local user=a user=b", "user= given twice"},
		{"allow local user=a bogus", `want name=value, not "bogus"`},
		{"allow local user=a role=x", `unknown name "role" (want user, db, replication, method, line)`},
		{"allow local user=a method=kerberos", `unknown method "kerberos"`},
		{"allow local user=a method=reject", "allow with method=reject can never pass: a reject rule denies"},
		{"deny local user=a method=md5", "deny with method=md5 can never pass: only method=reject denies through a rule"},
		{"allow local user=a line=x", `line="x": want a line number, or FILE:N`},
		{"allow local user=a line=:3", `line=":3": empty file name`},
		{"allow local user=a line=0", `line="0": want a line number, or FILE:N`},
		{"allow local user=a replication=yes", `replication="yes": want physical or logical`},
		{`allow local user="a`, "unterminated quoted value"},
	} {
		_, err := audit.ParsePolicy("p", []byte("allow local user=ok\n"+tc.line+"\n"))
		var list hba.ErrorList
		if !errors.As(err, &list) || len(list) != 1 {
			t.Errorf("%q: error %v", tc.line, err)
			continue
		}
		if list[0].Msg != tc.msg || list[0].Pos.Line != 2 || !errors.Is(err, audit.ErrPolicy) {
			t.Errorf("%q: %v\nwant p:2: %s", tc.line, list[0], tc.msg)
		}
	}
}

func TestCheckPolicy(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/pg_hba.conf": {Data: []byte(`local   all   postgres              peer
host    all   all    10.0.0.0/8     reject
host    app   all    192.168.0.0/16 scram-sha-256
hostssl all   all    0.0.0.0/0      cert
include conf.d/app.conf
`)},
		"etc/conf.d/app.conf": {Data: []byte("host all +grp 172.16.0.0/12 md5\n")},
	}
	p := hba.Parser{FS: fsys, SSL: true}
	rs, err := p.Load("/etc/pg_hba.conf")
	if err != nil {
		t.Fatal(err)
	}
	exps, err := audit.ParsePolicy("policy", []byte(`allow local user=postgres method=peer line=1
deny host 10.1.2.3 db=app user=alice line=2 method=reject
allow host 192.168.1.1 db=app user=alice method=scram-sha-256 line=3
allow host 10.1.2.3 db=app user=alice
deny host 192.168.1.1 db=app user=alice
allow host 192.168.1.1 db=app user=alice method=md5 line=4
allow hostssl 8.8.8.8 user=alice method=cert
allow local user=bob
deny host 8.8.8.8 user=alice line=2
allow host 172.16.0.1 user=bob line=conf.d/app.conf:1
allow host 172.16.0.1 user=bob line=1
`))
	if err != nil {
		t.Fatal(err)
	}
	res := audit.CheckPolicy(context.Background(), rs, exps)
	want := [][]string{
		nil,
		nil,
		nil,
		{"expected allow, got deny (reject rule)"},
		{"expected deny, got allow (method scram-sha-256)"},
		{"expected method md5, got scram-sha-256", "expected the rule at line 4, got pg_hba.conf:3"},
		nil,
		{"expected allow, got deny (no matching rule)"},
		{"expected the rule at line 2, but no rule decided"},
		{"could not be evaluated: the rule tests role membership and no role source was given (at conf.d/app.conf:1)"},
		{"could not be evaluated: the rule tests role membership and no role source was given (at conf.d/app.conf:1)",
			"expected the rule at line 1, got conf.d/app.conf:1"},
	}
	if len(res) != len(want) {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		if strings.Join(r.Problems, "|") != strings.Join(want[i], "|") || r.Passed() != (len(want[i]) == 0) {
			t.Errorf("%d (%s): %q\nwant %q", i, r.Expectation.Text, r.Problems, want[i])
		}
	}
	if res[7].Message != `no pg_hba.conf entry for host "[local]", user "bob", database "bob", no encryption` {
		t.Errorf("message %q", res[7].Message)
	}
	// With roles, the membership rule decides.
	rs = rs.WithEnv(hba.Env{Roles: hba.RoleGraph{"bob": {"grp"}}})
	res = audit.CheckPolicy(context.Background(), rs, exps[9:10])
	if !res[0].Passed() {
		t.Errorf("with roles: %q", res[0].Problems)
	}
}

// TestCheckPolicyUnresolvedFailsDenyAndAllow: a decision that could not be
// evaluated (a role rule without roles, a host-name rule without a
// resolver, a regular expression over the work bound) fails a deny
// expectation as well as an allow one, with the reason and the rule: the
// server might have granted the connection, so a passing deny would be a
// false assurance. With the source given, the same deny holds.
func TestCheckPolicyUnresolvedFailsDenyAndAllow(t *testing.T) {
	conf := `host all +admins 10.0.0.0/8 reject
host all "/^(a*)(a*)(a*)(a*)(a*)(a*)\6\5\4\3\2\1$" 192.168.0.0/16 reject
host all all db.example.com reject
host all all 0.0.0.0/0 trust
`
	rs, err := (&hba.Parser{Version: 16}).LoadBytes("/etc/pg_hba.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 62)
	exps, err := audit.ParsePolicy("policy", []byte(`deny host 10.1.2.3 user=alice
allow host 10.1.2.3 user=alice
deny host 192.168.1.1 user=`+long+`
deny host 172.16.0.1 user=bob
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"could not be evaluated: the rule tests role membership and no role source was given (at pg_hba.conf:1)",
		"could not be evaluated: the rule tests role membership and no role source was given (at pg_hba.conf:1)",
		"could not be evaluated: regular expression too complex to evaluate",
		"could not be evaluated: the rule names a host and no resolver was given (at pg_hba.conf:3)",
	}
	res := audit.CheckPolicy(context.Background(), rs, exps)
	if len(res) != len(want) {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		got := strings.Join(r.Problems, "|")
		if i == 2 {
			// The regex reason carries the matcher's error and the rule.
			if !strings.HasPrefix(got, want[i]) || !strings.HasSuffix(got, "(at pg_hba.conf:2)") || r.Decision.Outcome != hba.Unresolved {
				t.Errorf("%d (%s): %q\nwant %q…(at pg_hba.conf:2)", i, r.Expectation.Text, got, want[i])
			}
			continue
		}
		if got != want[i] {
			t.Errorf("%d (%s): %q\nwant %q", i, r.Expectation.Text, got, want[i])
		}
	}
	// Given the roles, the first deny is decided (alice is an admin) and holds.
	rs = rs.WithEnv(hba.Env{Roles: hba.RoleGraph{"alice": {"admins"}}})
	if res := audit.CheckPolicy(context.Background(), rs, exps[:1]); !res[0].Passed() || res[0].Decision.Outcome != hba.Rejected {
		t.Errorf("with roles: %v %q", res[0].Decision.Outcome, res[0].Problems)
	}
}

// FuzzParsePolicy checks that any input parses without panicking, that
// every error is positioned on a line of the input, and that the text of
// each expectation parses back to the same expectation.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("allow host 10.1.2.3 db=app user=alice method=scram-sha-256 line=conf.d/a.conf:3\n"))
	f.Add([]byte("deny local user=\"a \"\"b\"\"\" replication=physical # c\n\nallow hostgssenc ::1%eth0 user=x\n"))
	f.Add([]byte("allow tcp\x00 \"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		exps, err := audit.ParsePolicy("p", data)
		lines := strings.Count(string(data), "\n") + 1
		var list hba.ErrorList
		if err != nil {
			if !errors.As(err, &list) {
				t.Fatalf("error %T", err)
			}
			for _, e := range list {
				if e.Pos.Line < 1 || e.Pos.Line > lines || !errors.Is(e, audit.ErrPolicy) {
					t.Fatalf("error at %v", e.Pos)
				}
			}
		}
		for _, e := range exps {
			again, err := audit.ParsePolicy("p", []byte(e.Text))
			if err != nil || len(again) != 1 {
				t.Fatalf("%q does not parse back: %v", e.Text, err)
			}
			a := again[0]
			if a.Allow != e.Allow || a.Conn != e.Conn || a.Method != e.Method || a.RuleFile != e.RuleFile || a.RuleLine != e.RuleLine {
				t.Fatalf("%q parses back as %+v, was %+v", e.Text, a, e)
			}
		}
	})
}

func ExampleCheckPolicy() {
	var p hba.Parser
	rs, _ := p.LoadBytes("/etc/postgresql/pg_hba.conf", []byte("host all all 10.0.0.0/8 reject\nhost app all 0.0.0.0/0 md5\n"))
	exps, err := audit.ParsePolicy("policy.txt", []byte(`
allow host 192.0.2.1 db=app user=alice method=md5
allow host 10.1.2.3  db=app user=alice method=md5 line=2
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range audit.CheckPolicy(context.Background(), rs, exps) {
		fmt.Println(r.Expectation.Pos, r.Passed(), r.Problems)
	}
	// Output:
	// policy.txt:2 true []
	// policy.txt:3 false [expected allow, got deny (reject rule) expected method md5, got reject expected the rule at line 2, got pg_hba.conf:1]
}
