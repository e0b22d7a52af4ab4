package identconf

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pghba/pghba/internal/pgtest"
	"github.com/pghba/pghba/internal/testkit"
)

// namedCerts and namedViews are corner cases recorded from real servers into testdata/ by
// go test -run 'TestRecord$' -update (or PGHBA_IDENT_RECORD=DIR to write elsewhere); the
// expectations are the servers' answers.
var namedCerts = []struct {
	name string
	c    certCase
}{
	{"capture-preference", certCase{HBA: "hostssl all all 127.0.0.1/32 cert map=M",
		Ident:  "M /^(a|ab)(c|bcd)(d*)$ \\1\nM /^(.*?)(\\d*)$ \\1\n",
		Checks: []certCheck{{"abcd", "a"}, {"abcd", "ab"}, {"bob42", "bob"}, {"bob42", "bob4"}, {"bob42", "bob42"}}}},
	{"first-backref-only", certCase{HBA: "hostssl all all 127.0.0.1/32 cert map=M",
		Ident:  "M /^(r)(o)ot$ \\1\\1x\nM /^(.*)$ \"\\1\"\n",
		Checks: []certCheck{{"root", `r\1x`}, {"root", "rrx"}, {"alice", "alice"}, {"root", "root"}}}},
	{"no-subexpression-stops-scan", certCase{HBA: "hostssl all all 127.0.0.1/32 cert map=M",
		Ident:  "M /^root$ \\1x\nM root alice\nM bob bob\n",
		Checks: []certCheck{{"root", "alice"}, {"bob", "bob"}, {"root", "root"}}}},
	{"keywords-and-groups", certCase{HBA: "hostssl all all 127.0.0.1/32 cert map=M",
		Ident:  "M alice all\nM bob +grp\nM carol \"+grp\"\nM dave \"all\"\nM /^(.*)$ +\\1\nM root /^(a|ab)$\n",
		Checks: []certCheck{{"alice", "ghost"}, {"bob", "dave"}, {"bob", "carol"}, {"carol", "+grp"}, {"carol", "bob"}, {"dave", "all"}, {"dave", "alice"}, {"grp", "bob"}, {"root", "ab"}, {"root", "abc"}}}},
	{"verify-full-without-map", certCase{HBA: "hostssl all all 127.0.0.1/32 trust clientcert=verify-full",
		Ident:  "M alice bob\n",
		Checks: []certCheck{{"alice", "alice"}, {"alice", "bob"}, {"", "alice"}}}},
	{"clientname-dn", certCase{HBA: "hostssl all all 127.0.0.1/32 cert map=M clientname=DN", DN: true,
		Ident:  "M /^CN=(.*)$ \\1\nM alice alice\n",
		Checks: []certCheck{{"alice", "alice"}, {"x y", "x y"}, {"bob@example.com", "bob@example.com"}}}},
	{"non-ascii-bytes", certCase{HBA: "hostssl all all 127.0.0.1/32 cert map=M",
		Ident:  "M /^caf.$ cafe\nM /^(caf.)$ \\1\nM /^(.{5})$ \\1\nM /^na(.)ve$ \\1\nM \"/(?i)^émile$\" alice\n",
		Checks: []certCheck{{"café", "cafe"}, {"café", "café"}, {"naïve", "ï"}, {"naïve", "naïve"}, {"Émile", "alice"}, {"émile", "alice"}}}},
}

var namedViews = []struct {
	name       string
	files      fileSet
	divergence string // a known difference between the view and hba (see TestRegressions)
}{
	{"includes-and-errors", fileSet{
		"pg_ident.conf": []byte("m root alice bob\ninclude inc.conf\ninclude inc.conf x\nm /( b\nm a b,c\nm\n" +
			"include_dir conf.d\ninclude_if_exists nosuch.conf\ninclude_dir \"\"\nm @u.txt carol\nm \"/^(a\" b\nm x /a{2,1}\n"),
		"inc.conf":      []byte("n \"a b\" \"+grp\"\n"),
		"conf.d/1.conf": []byte("o /^(.*)$ \\1\n"),
		"u.txt":         []byte("alice\n"),
	}, ""},
	{"view-decodes-utf8", fileSet{
		"pg_ident.conf": []byte("m /[é-à] x\nm /[\xc3] z\nm /^caf.$ y\nm root alice\n"),
	}, "view-utf8"},
}

func TestRecord(t *testing.T) {
	out := recordDir(t, "testdata")
	majors, _ := env.Versions(t, []int{15, 18}, 15)
	ca, caFile := newCAFile(t)
	for _, major := range majors {
		inst := testkit.Install(t, major, true)
		cl := pgtest.Start(t, inst, pgtest.Options{Conf: []string{"ssl_ca_file = '" + caFile + "'"}})
		createRoles(t, cl)
		for _, nc := range namedCerts {
			c := nc.c
			if err := cl.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(certHBA(c.HBA)), "pg_ident.conf": []byte(c.Ident)}); err != nil {
				t.Fatal(err)
			}
			if rr, err := cl.Reload(); err != nil || !rr.Loaded || !rr.IdentLoaded {
				t.Fatalf("%s: reload %+v %v", nc.name, rr, err)
			}
			var outs []certOutcome
			for _, chk := range c.Checks {
				outs = append(outs, probeCert(t, cl, ca, chk))
			}
			a := certArchive(c, major, inst.Minor, 0, 0, outs)
			a.Header[0] = fmt.Sprintf("# %s: recorded from PostgreSQL %s by TestRecord; outcomes are the server's.", nc.name, inst.Version())
			write(t, filepath.Join(out, fmt.Sprintf("pg%d-%s.txtar", major, nc.name)), a)
		}
		for _, nv := range namedViews {
			if err := cl.WriteFiles(nv.files); err != nil {
				t.Fatal(err)
			}
			rr, err := cl.Reload()
			if err != nil {
				t.Fatal(err)
			}
			rows, err := cl.IdentMappings()
			if err != nil {
				t.Fatal(err)
			}
			a := viewArchive(fmt.Sprintf("# %s: recorded from PostgreSQL %s by TestRecord; rows are the server's.", nv.name, inst.Version()),
				major, inst.Minor, rr.IdentLoaded, nv.files, nv.divergence, serverRows(major, rows, cl.Dir()))
			write(t, filepath.Join(out, fmt.Sprintf("pg%d-%s.txtar", major, nv.name)), a)
		}
	}
}

func write(t *testing.T, p string, a *archive) {
	if err := os.WriteFile(p, a.format(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", p)
}
