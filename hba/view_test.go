package hba_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/conformance"
	"github.com/pghba/pghba/internal/pgtest"
)

// viewFixture has a line of every kind the view shows: rules of each
// address form, lists and @files, options, a warning row, a log-only
// failure after a warning and without one, stored errors, and (16+) an
// include. Every address is numeric or made up, so that loading resolves
// nothing.
var viewFixture = map[string]string{
	"pg_hba.conf": `# every kind of row
local   all             postgres                                peer
local   all             all                                     ident map=m
host    all             all             127.0.0.1/32            trust
host    db1,"all",@dbs  +grp,alice,"+x" 10.1.2.3/8              md5
host    all             all             10.0.0.1 255.0.255.0    scram-sha-256
host    all             all             ::1/128                 trust
host    all             all             fe80::1%lo/64           trust
host    all             all             ::ffff:127.0.0.1/128    trust
host    all             all             ::1.2.3.4/96            trust
host    all             all             samehost                trust
host    all             all             samenet                 reject
host    all             all             .example.com            md5
host    all             all             db.example.com          md5
hostssl all             all             0.0.0.0/0               cert
hostssl all             all             0.0.0.0/0               scram-sha-256 clientcert=bogus
host    all             all             0.0.0.0/0               radius radiusservers=127.0.0.1 radiussecrets=s radiusports=0
host    all             all             0.0.0.0/0               radius radiusservers="127.0.0.1,127.0.0.2" radiussecrets=s radiusidentifiers=a,b radiusports=1812
host    all             all             0.0.0.0/0               ldap ldapserver=ldap.example.com ldapport=389 ldaptls=1 ldapprefix="cn=" ldapsuffix=", dc=example, dc=com"
host    all             all             0.0.0.0/0               gss include_realm=0 krb_realm=EXAMPLE.COM map=m
hostnossl all           all             0.0.0.0/0               pam pamservice=postgresql
host    all             all             10.0.0.0/33             md5
host    all             all
hostfoo all             all             all                     trust
host    all             all             all                     bogus
host    @missing        all             all                     trust
include extra.conf
hostgssenc all          all             0.0.0.0/0               gss
host    all             all             all                     md5 clientcert=verify-ca
host    all             all             all                     cert
host    all             all             ""                      md5
`,
	"dbs":        "db2 db3\n",
	"extra.conf": "host sales all 192.168.0.0/16 md5\nhost sales all 192.168.0.0 255.255.0 md5\n",
}

func rowText(cols []string, vals map[string]string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(c + "=" + vals[c])
	}
	return b.String()
}

func nullStr(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

func nullArr(a []string) string {
	if a == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", a)
}

func nullInt(n *int) string {
	if n == nil {
		return "NULL"
	}
	return fmt.Sprint(*n)
}

// libRowTexts renders ViewRows in the form serverRowTexts does.
func libRowTexts(version int, rows []hba.ViewRow) []string {
	var out []string
	str := func(s string, ok bool) string {
		if !ok {
			return "NULL"
		}
		return fmt.Sprintf("%q", s)
	}
	for _, r := range rows {
		v := map[string]string{
			"rule_number": "NULL", "file_name": fmt.Sprintf("%q", r.FileName), "line_number": fmt.Sprint(r.LineNumber),
			"type": str(r.Type, r.Type != ""), "database": nullArr(r.Database), "user_name": nullArr(r.UserName),
			"address": str(r.Address, r.HasAddress), "netmask": str(r.Netmask, r.Netmask != ""),
			"auth_method": str(r.AuthMethod, r.AuthMethod != ""), "options": nullArr(r.Options), "error": str(r.Error, r.Error != ""),
		}
		if r.RuleNumber != 0 {
			v["rule_number"] = fmt.Sprint(r.RuleNumber)
		}
		out = append(out, rowText(hba.ViewColumns(version), v))
	}
	return out
}

func serverRowTexts(version int, rows []pgtest.HBARow) []string {
	var out []string
	for _, r := range rows {
		v := map[string]string{
			"rule_number": nullInt(r.RuleNumber), "file_name": nullStr(r.FileName), "line_number": nullInt(r.LineNumber),
			"type": nullStr(r.Type), "database": nullArr(r.Database), "user_name": nullArr(r.UserName),
			"address": nullStr(r.Address), "netmask": nullStr(r.Netmask), "auth_method": nullStr(r.AuthMethod),
			"options": nullArr(r.Options), "error": nullStr(r.Error),
		}
		out = append(out, rowText(hba.ViewColumns(version), v))
	}
	return out
}

// TestViewRowsServer compares ViewRows with pg_hba_file_rules of real
// servers (every major whose binaries are installed; 15 is on the machine
// image). The view re-reads the file on disk, so no reload is needed.
func TestViewRowsServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	majors := []int{15}
	if os.Getenv("PGHBA_VIEW_ALL") != "" {
		majors = pgtest.Majors
	}
	for _, major := range majors {
		t.Run(fmt.Sprint(major), func(t *testing.T) {
			inst := pgtest.Require(t, major)
			cl := pgtest.Start(t, inst, pgtest.Options{NoSSL: true})
			files := map[string][]byte{}
			for name, data := range viewFixture {
				files[name] = []byte(data)
			}
			if err := cl.WriteFiles(files); err != nil {
				t.Fatal(err)
			}
			srv, err := cl.HBARules()
			if err != nil {
				t.Fatal(err)
			}
			p := hba.Parser{Version: inst.Major, Minor: inst.Minor, Features: conformance.BuildFeatures(inst.Features)}
			f, err := p.ParseFile(cl.HBAFile())
			if err != nil {
				t.Fatal(err)
			}
			got, want := libRowTexts(major, f.ViewRows()), serverRowTexts(major, srv)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: rows differ (-server +hba):\n%s", inst, diff)
			}
			t.Logf("%s: %d rows compared", inst, len(srv))

			// pg_ident_file_mappings, 15+.
			if major < 15 {
				return
			}
			ident := "# maps\nm root postgres\nm /^(.*)@example\\.com$ \\1\nm \"quoted name\" \"+grp\"\nm onlytwo\nm /( bad\nm a b c d\n"
			if err := cl.WriteFiles(map[string][]byte{"pg_ident.conf": []byte(ident)}); err != nil {
				t.Fatal(err)
			}
			srvIdent, err := cl.IdentMappings()
			if err != nil {
				t.Fatal(err)
			}
			inf, err := p.ParseIdentFile(cl.IdentFile())
			if err != nil {
				t.Fatal(err)
			}
			var gotI, wantI []string
			for _, r := range srvIdent {
				wantI = append(wantI, fmt.Sprintf("%s %s %s %s %s %s %s", nullInt(r.MapNumber), nullStr(r.FileName), nullInt(r.LineNumber),
					nullStr(r.MapName), nullStr(r.SysName), nullStr(r.PGUsername), nullStr(r.Error)))
			}
			for _, r := range inf.ViewRows() {
				q := func(s string, ok bool) string {
					if !ok {
						return "NULL"
					}
					return fmt.Sprintf("%q", s)
				}
				num, file := "NULL", "NULL"
				if major >= 16 {
					file = fmt.Sprintf("%q", r.FileName)
					if r.MapNumber != 0 {
						num = fmt.Sprint(r.MapNumber)
					}
				}
				gotI = append(gotI, fmt.Sprintf("%s %s %d %s %s %s %s", num, file, r.LineNumber,
					q(r.MapName, r.Error == ""), q(r.SysName, r.Error == ""), q(r.PGUsername, r.Error == ""), q(r.Error, r.Error != "")))
			}
			if diff := cmp.Diff(wantI, gotI, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: ident rows differ (-server +hba):\n%s", inst, diff)
			}
		})
	}
}

// TestViewRows checks the NULL conventions and numbering without a server.
func TestViewRows(t *testing.T) {
	fsys := fstest.MapFS{}
	for name, data := range viewFixture {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	p := hba.Parser{Version: 16, FS: fsys}
	f, err := p.ParseFile("pg_hba.conf")
	if err != nil {
		t.Fatal(err)
	}
	rows := f.ViewRows()
	if len(rows) != len(f.Lines) {
		t.Fatalf("%d rows for %d lines", len(rows), len(f.Lines))
	}
	byLine := map[string]hba.ViewRow{}
	for _, r := range rows {
		byLine[fmt.Sprintf("%s:%d", filepath.Base(r.FileName), r.LineNumber)] = r
	}
	// Numbering: every row without an error text gets the next number.
	n := 0
	for _, r := range rows {
		if r.Error == "" {
			n++
			if r.RuleNumber != n {
				t.Errorf("%s:%d: rule_number %d, want %d", r.FileName, r.LineNumber, r.RuleNumber, n)
			}
		} else if r.RuleNumber != 0 {
			t.Errorf("%s:%d: rule_number %d on a row with an error", r.FileName, r.LineNumber, r.RuleNumber)
		}
	}
	for _, tc := range []struct {
		pos  string
		want hba.ViewRow
	}{
		{"pg_hba.conf:3", hba.ViewRow{Type: "local", Database: []string{"all"}, UserName: []string{"all"}, AuthMethod: "peer", Options: []string{"map=m"}}},
		{"pg_hba.conf:5", hba.ViewRow{Type: "host", Database: []string{"db1", "all", "db2", "db3"}, UserName: []string{"+grp", "alice", "+x"},
			Address: "10.1.2.3", HasAddress: true, Netmask: "255.0.0.0", AuthMethod: "md5"}},
		{"pg_hba.conf:6", hba.ViewRow{Type: "host", Database: []string{"all"}, UserName: []string{"all"},
			Address: "10.0.0.1", HasAddress: true, Netmask: "255.0.255.0", AuthMethod: "scram-sha-256"}},
		{"pg_hba.conf:8", hba.ViewRow{Type: "host", Database: []string{"all"}, UserName: []string{"all"},
			Address: "fe80::1", HasAddress: true, Netmask: "ffff:ffff:ffff:ffff::", AuthMethod: "trust"}},
		{"pg_hba.conf:10", hba.ViewRow{Type: "host", Database: []string{"all"}, UserName: []string{"all"},
			Address: "::1.2.3.4", HasAddress: true, Netmask: "ffff:ffff:ffff:ffff:ffff:ffff::", AuthMethod: "trust"}},
		{"pg_hba.conf:13", hba.ViewRow{Type: "host", Database: []string{"all"}, UserName: []string{"all"},
			Address: ".example.com", HasAddress: true, AuthMethod: "md5"}},
		{"pg_hba.conf:15", hba.ViewRow{Type: "hostssl", Database: []string{"all"}, UserName: []string{"all"},
			Address: "0.0.0.0", HasAddress: true, Netmask: "0.0.0.0", AuthMethod: "cert", Options: []string{"clientcert=verify-full"},
			Error: "hostssl record cannot match because SSL is disabled"}},
		{"pg_hba.conf:16", hba.ViewRow{Error: "hostssl record cannot match because SSL is disabled"}},
		{"pg_hba.conf:17", hba.ViewRow{RuleNumber: -1}}, // log-only: all NULL, numbered
		{"pg_hba.conf:22", hba.ViewRow{Error: `invalid CIDR mask in address "10.0.0.0/33"`}},
		{"extra.conf:1", hba.ViewRow{Type: "host", Database: []string{"sales"}, UserName: []string{"all"},
			Address: "192.168.0.0", HasAddress: true, Netmask: "255.255.0.0", AuthMethod: "md5"}},
	} {
		got, ok := byLine[tc.pos]
		if !ok {
			t.Errorf("%s: no row", tc.pos)
			continue
		}
		if tc.want.RuleNumber == -1 {
			if got.RuleNumber == 0 || got.Type != "" || got.Error != "" || got.HasAddress {
				t.Errorf("%s: log-only row %+v", tc.pos, got)
			}
			continue
		}
		got.RuleNumber, got.FileName, got.LineNumber, got.Line = 0, "", 0, nil
		if w, g := fmt.Sprintf("%+v", tc.want), fmt.Sprintf("%+v", got); w != g {
			t.Errorf("%s:\n got %s\nwant %s", tc.pos, g, w)
		}
	}
	if cols := hba.ViewColumns(15); len(cols) != 9 || cols[0] != "line_number" {
		t.Errorf("ViewColumns(15) = %q", cols)
	}
	if cols := hba.ViewColumns(16); len(cols) != 11 || cols[0] != "rule_number" || cols[1] != "file_name" {
		t.Errorf("ViewColumns(16) = %q", cols)
	}
}

// TestViewAddress checks IPv6 printing against glibc's inet_ntop (the
// expectations were produced with it), through the address column.
func TestViewAddress(t *testing.T) {
	cases := [][2]string{
		{"::1", "::1"}, {"::", "::"}, {"::1.2.3.4", "::1.2.3.4"}, {"::ffff:1.2.3.4", "::ffff:1.2.3.4"}, {"1::", "1::"},
		{"1:0:0:1::", "1:0:0:1::"}, {"fe80::1%lo", "fe80::1"}, {"1:0:1:0:0:1:0:0", "1:0:1::1:0:0"}, {"::0.0.0.1", "::1"},
		{"0:0:0:0:0:1:1.2.3.4", "::1:102:304"}, {"::ffff:0:1.2.3.4", "::ffff:0:102:304"}, {"0:1:0:0:0:0:0:0", "0:1::"},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"}, {"10.1.2.3", "10.1.2.3"}, {"127.1", "127.0.0.1"},
	}
	var conf strings.Builder
	for _, c := range cases {
		bits := "/128"
		if !strings.Contains(c[0], ":") {
			bits = "/32"
		}
		conf.WriteString("host all all " + c[0] + bits + " trust\n")
	}
	conf.WriteString("host all all 10.0.0.0 255.255.0.0 trust\n")
	var p hba.Parser
	rows := p.ParseBytes("/pg_hba.conf", []byte(conf.String())).ViewRows()
	for i, c := range cases {
		r := rows[i]
		if r.Address != c[1] {
			t.Errorf("%s: address %q, want %q (error %q)", c[0], r.Address, c[1], r.Error)
		}
	}
	if r := rows[len(cases)]; r.Address != "10.0.0.0" || r.Netmask != "255.255.0.0" {
		t.Errorf("mask column: %q %q", r.Address, r.Netmask)
	}
}

func ExampleFile_ViewRows() {
	p := hba.Parser{Version: 16}
	f := p.ParseBytes("/etc/postgresql/pg_hba.conf", []byte("local all all peer\nhost all all 10.0.0.0/33 md5\nhost app all 10.0.0.0/8 scram-sha-256\n"))
	fmt.Println(hba.ViewColumns(16))
	for _, r := range f.ViewRows() {
		fmt.Printf("%d %d %q %q %q %q %q\n", r.RuleNumber, r.LineNumber, r.Type, r.Database, r.Address, r.Netmask, r.Error)
	}
	// Output:
	// [rule_number file_name line_number type database user_name address netmask auth_method options error]
	// 1 1 "local" ["all"] "" "" ""
	// 0 2 "" [] "" "" "invalid CIDR mask in address \"10.0.0.0/33\""
	// 2 3 "host" ["app"] "10.0.0.0" "255.0.0.0" ""
}
