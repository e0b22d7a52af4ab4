package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testHBA is installed by the tests; line numbers matter.
const testHBA = `# pgtest self-test
local   all        postgres                  trust
local   sameuser   alice                     password
host    all        bob     127.0.0.2/32      reject
host    all        all     127.0.0.2/32      password
hostssl all        carol   127.0.0.1/32      password
host    replication repl   127.0.0.3/32      password
host    all        repl    127.0.0.3/32      md5
host    all        all     ::1/128           scram-sha-256
`

func majorsToTest(t *testing.T) []*Install {
	var out []*Install
	majors := []int{15, 18}
	if os.Getenv("PGHBA_ALL_MAJORS") != "" {
		majors = Majors
	}
	for _, m := range majors {
		inst, err := Find(m)
		if err != nil {
			if InCI() {
				t.Fatalf("CI=true: %v", err)
			}
			t.Logf("skipping PostgreSQL %d: %v", m, err)
			continue
		}
		out = append(out, inst)
	}
	if len(out) == 0 {
		t.Skip("no PostgreSQL installed; run `bash scripts/test.sh`")
	}
	return out
}

func TestFind(t *testing.T) {
	inst := Require(t, 15)
	if inst.Major != 15 || inst.Minor == 0 || !strings.Contains(inst.VersionString, "15.") {
		t.Errorf("Find(15) = %+v", inst)
	}
	if inst.BinDir == SystemBinDir && !(inst.Debian && inst.Features.SSL && inst.Features.GSSAPI && inst.Features.LDAP && inst.Features.PAM) {
		t.Errorf("Debian build features = %+v, debian=%v", inst.Features, inst.Debian)
	}
	if _, err := Find(18); err == nil {
		inst18, _ := Find(18)
		if inst18.Features != (Features{SSL: true}) {
			t.Errorf("npm build features = %+v", inst18.Features)
		}
	}
	if _, err := Find(99); err == nil {
		t.Error("Find(99) succeeded")
	}
}

func TestCluster(t *testing.T) {
	for _, inst := range majorsToTest(t) {
		t.Run(fmt.Sprint(inst.Major), func(t *testing.T) {
			t.Parallel()
			testCluster(t, inst)
		})
	}
}

func testCluster(t *testing.T, inst *Install) {
	t0 := time.Now()
	c := Start(t, inst, Options{})
	t.Logf("%s: cluster started in %v", inst, time.Since(t0))

	rows, err := c.Query("SELECT current_user, NULL::text, 1+1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || *rows[0][0] != "postgres" || rows[0][1] != nil || *rows[0][2] != "2" {
		t.Fatalf("Query rows = %v", rows)
	}
	if err := c.Exec("SELECT * FROM no_such_table"); err == nil || !strings.Contains(err.Error(), "42P01") {
		t.Fatalf("Exec of bad SQL: %v", err)
	}
	if inst.Major >= 16 {
		if err := c.Exec("SET scram_iterations = 1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Exec("SET password_encryption = 'scram-sha-256'"); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(`CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE carol LOGIN;
		CREATE ROLE repl LOGIN REPLICATION; CREATE ROLE dave LOGIN PASSWORD 'secret'`); err != nil {
		t.Fatal(err)
	}

	if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(testHBA), "sub/old.conf": []byte("x\n")}); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	rr, err := c.Reload()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: reload took %v", inst, time.Since(t1))
	if !rr.Loaded || !rr.IdentLoaded || len(rr.Errors) != 0 {
		t.Fatalf("good file: %+v", rr)
	}

	rules, err := c.HBARules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 8 {
		t.Fatalf("%d view rows, want 8", len(rules))
	}
	r := rules[2]
	if *r.LineNumber != 4 || *r.Type != "host" || fmt.Sprint(r.Database) != "[all]" || fmt.Sprint(r.UserName) != "[bob]" ||
		*r.Address != "127.0.0.2" || *r.Netmask != "255.255.255.255" || *r.AuthMethod != "reject" || r.Options != nil || r.Error != nil {
		t.Errorf("row 3 = %s", dumpRow(r))
	}
	if inst.Major >= 16 {
		if r.RuleNumber == nil || *r.RuleNumber != 3 || r.FileName == nil || *r.FileName != c.HBAFile() {
			t.Errorf("16+ columns of row 3 = %s", dumpRow(r))
		}
	} else if r.RuleNumber != nil || r.FileName != nil {
		t.Errorf("13–15 must have no rule_number/file_name: %s", dumpRow(r))
	}
	if rules[0].Address != nil || rules[0].Netmask != nil {
		t.Errorf("local row has an address: %s", dumpRow(rules[0]))
	}

	type probeCase struct {
		name string
		p    ProbeConn
		kind ProbeKind
		line int
		// logged: the server names the line only when authentication fails, or (14+ with an
		// authenticated identity, 17+ always) when log_connections reports the success.
		logged bool
	}
	cases := []probeCase{
		{"local trust", ProbeConn{Local: true, User: "postgres"}, Matched, 2, inst.Major >= 17},
		{"tcp 127.0.0.2 password", ProbeConn{Source: "127.0.0.2", User: "alice", Database: "postgres"}, Matched, 5, true},
		{"tcp 127.0.0.2 reject", ProbeConn{Source: "127.0.0.2", User: "bob"}, Reject, 0, true},
		{"tcp 127.0.0.1 no entry", ProbeConn{User: "alice"}, NoEntry, 0, true},
		{"tcp ssl hostssl", ProbeConn{SSL: true, User: "carol", Database: "postgres"}, Matched, 6, true},
		{"tcp non-ssl misses hostssl", ProbeConn{User: "carol", Database: "postgres"}, NoEntry, 0, true},
		{"physical replication", ProbeConn{Source: "127.0.0.3", User: "repl", Replication: "physical"}, Matched, 7, true},
		{"logical replication", ProbeConn{Source: "127.0.0.3", User: "repl", Database: "postgres", Replication: "logical"}, Matched, 8, true},
		{"ipv6 scram", ProbeConn{Source: "::1", User: "dave", Database: "postgres"}, Matched, 9, true},
		{"ipv6 scram right password", ProbeConn{Source: "::1", User: "dave", Database: "postgres", Password: "secret"}, Matched, 9, inst.Major >= 14},
		{"local password sameuser", ProbeConn{Local: true, User: "alice", Database: "alice"}, Matched, 3, true},
		{"local no entry", ProbeConn{Local: true, User: "bob", Database: "bob"}, NoEntry, 0, true},
	}
	var total time.Duration
	for _, tc := range cases {
		res, err := c.Probe(tc.p)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		total += res.Duration
		want := tc.line
		if !tc.logged {
			want = 0
		}
		if res.Kind != tc.kind || res.Line != want {
			t.Errorf("%s: got %v (log %v), want %v line %d", tc.name, res, res.Log, tc.kind, tc.line)
			continue
		}
		if want > 0 && res.File != c.HBAFile() {
			t.Errorf("%s: file %q, want %q", tc.name, res.File, c.HBAFile())
		}
		if tc.kind == NoEntry || tc.kind == Reject {
			if res.SQLState != "28000" {
				t.Errorf("%s: SQLSTATE %s", tc.name, res.SQLState)
			}
		}
		if tc.name == "ipv6 scram right password" && !res.Authenticated {
			t.Errorf("%s: not authenticated: %v", tc.name, res)
		}
		enc := "no encryption"
		if inst.Major == 13 {
			enc = "SSL off"
		}
		if tc.name == "tcp 127.0.0.2 reject" && !strings.Contains(res.Message, `host "127.0.0.2", user "bob", database "bob", `+enc) {
			t.Errorf("%s: message %q", tc.name, res.Message)
		}
	}
	t.Logf("%s: %d probes, mean %v", inst, len(cases), total/time.Duration(len(cases)))

	res, err := c.Probe(ProbeConn{Source: "127.0.0.9", User: "repl", Replication: "true"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != NoEntry || !strings.HasPrefix(res.Message, "no pg_hba.conf entry for replication connection from host \"127.0.0.9\"") {
		t.Errorf("physical no-entry: %v", res)
	}

	// A refused file: errors with line numbers, the old rules stay.
	bad := "local all all trust\nhost all all 127.0.0.1/33 trust\nhost all all 127.0.0.1/32 nosuchmethod\n"
	if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(bad)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), "sub", "old.conf")); !os.IsNotExist(err) {
		t.Errorf("WriteFiles left sub/old.conf behind: %v", err)
	}
	rr, err = c.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if rr.Loaded || !rr.IdentLoaded {
		t.Fatalf("bad file loaded: %+v", rr)
	}
	if len(rr.Errors) != 2 || rr.Errors[0].Line != 2 || rr.Errors[1].Line != 3 ||
		rr.Errors[0].File != c.HBAFile() ||
		!strings.HasPrefix(rr.Errors[0].Message, "invalid CIDR mask in address") ||
		!strings.HasPrefix(rr.Errors[1].Message, `invalid authentication method "nosuchmethod"`) {
		t.Errorf("errors of the refused file: %v", rr.Errors)
	}
	res, err = c.Probe(ProbeConn{Source: "127.0.0.2", User: "bob"})
	if err != nil || res.Kind != Reject {
		t.Errorf("old rules must stay after a refused reload: %v %v", res, err)
	}
	rules, err = c.HBARules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 || rules[1].Error == nil || *rules[1].LineNumber != 2 || rules[1].Type != nil {
		t.Errorf("view of the refused file: %v", rules)
	}

	// A bad ident file next to a good hba file.
	if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(testHBA), "pg_ident.conf": []byte("m1 root postgres\nm2 onlytwo\n")}); err != nil {
		t.Fatal(err)
	}
	rr, err = c.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Loaded || rr.IdentLoaded || len(rr.Errors) != 0 || len(rr.IdentErrors) != 1 || rr.IdentErrors[0].Line != 2 {
		t.Errorf("bad ident file: %+v errors %v ident errors %v", rr, rr.Errors, rr.IdentErrors)
	}
	if inst.Major < 15 {
		return
	}
	idents, err := c.IdentMappings()
	if err != nil {
		t.Fatal(err)
	}
	if len(idents) != 2 || *idents[0].MapName != "m1" || *idents[0].SysName != "root" || idents[1].Error == nil {
		t.Errorf("ident rows: %v", idents)
	}
}

func dumpRow(r HBARow) string {
	s := func(p *string) string {
		if p == nil {
			return "NULL"
		}
		return *p
	}
	i := func(p *int) string {
		if p == nil {
			return "NULL"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("{rule %s file %s line %s %s %v %v %s %s %s %v err %s}", i(r.RuleNumber), s(r.FileName), i(r.LineNumber),
		s(r.Type), r.Database, r.UserName, s(r.Address), s(r.Netmask), s(r.AuthMethod), r.Options, s(r.Error))
}

func TestHosts(t *testing.T) {
	inst := Require(t, 15)
	c := Start(t, inst, Options{Hosts: "127.0.0.1 localhost\n127.0.0.4 client4.test\n::1 ip6-localhost\n", NoSSL: true})
	hba := "local all all trust\nhost all all client4.test password\nhost all all localhost password\n"
	if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(hba)}); err != nil {
		t.Fatal(err)
	}
	rr, err := c.Reload()
	if err != nil || !rr.Loaded {
		t.Fatalf("reload: %+v %v", rr, err)
	}
	for _, tc := range []struct {
		src  string
		line int
	}{{"127.0.0.4", 2}, {"127.0.0.1", 3}} {
		res, err := c.Probe(ProbeConn{Source: tc.src, User: "postgres"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != Matched || res.Line != tc.line {
			t.Errorf("from %s: %v, want line %d", tc.src, res, tc.line)
		}
	}
	res, err := c.Probe(ProbeConn{Source: "127.0.0.5", User: "postgres"})
	if err != nil || res.Kind != NoEntry {
		t.Errorf("from unnamed 127.0.0.5: %v %v", res, err)
	}
	// SSL is off: an SSL probe is refused by the server.
	if _, err := c.Probe(ProbeConn{SSL: true, User: "postgres"}); err == nil {
		t.Error("SSL probe against ssl=off succeeded")
	}
}

// TestReloadSequence alternates files and checks that every probe sees the file just loaded:
// Reload must not return before the postmaster has taken the new file.
func TestReloadSequence(t *testing.T) {
	for _, inst := range majorsToTest(t) {
		t.Run(fmt.Sprint(inst.Major), func(t *testing.T) {
			t.Parallel()
			c := Start(t, inst, Options{NoSSL: true})
			for i := range 30 {
				line := 2 + i%3
				hba := "local all postgres trust\n" + strings.Repeat("# filler\n", line-2) + "host all all 127.0.0.1/32 password\n"
				if i%5 == 4 {
					hba += "host all all 127.0.0.1/32 bogus\n" // refused: the previous rules stay
				}
				if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(hba)}); err != nil {
					t.Fatal(err)
				}
				rr, err := c.Reload()
				if err != nil {
					t.Fatal(err)
				}
				refused := i%5 == 4
				if rr.Loaded == refused {
					t.Fatalf("step %d: Loaded = %v, errors %v", i, rr.Loaded, rr.Errors)
				}
				if refused {
					if len(rr.Errors) != 1 || rr.Errors[0].Line != line+1 {
						t.Fatalf("step %d: errors %v, want one on line %d", i, rr.Errors, line+1)
					}
					line = 2 + (i-1)%3
				}
				res, err := c.Probe(ProbeConn{User: "postgres"})
				if err != nil {
					t.Fatal(err)
				}
				if res.Kind != Matched || res.Line != line {
					t.Fatalf("step %d: probe %v, want line %d", i, res, line)
				}
			}
		})
	}
}
