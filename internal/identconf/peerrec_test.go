package identconf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pghba/pghba/internal/conformance"
	"github.com/pghba/pghba/internal/pgtest"
	"github.com/pghba/pghba/internal/testkit"
)

// TestRecordPeer records the pg_ident.conf cases of hba/testdata/ident (replayed by hba's
// TestIdentRecorded) from real servers (13, 15 and 18), through peer authentication as the
// OS user running it (root) with "local all all peer map=m", and the role fixture of
// internal/conformance (a superset of SEMANTICS.md §10.1). Run it with
//
//	go test ./internal/identconf -run TestRecordPeer -update
//
// (or PGHBA_IDENT_RECORD=DIR to write elsewhere). For each case and server it empties
// pg_ident.conf and reloads, writes the case's files and reloads, and records: whether
// pg_ident.conf loaded and, when not, the messages logged; the pg_ident_file_mappings rows
// as psql -At prints them (15+); and per database user whether the map allowed it (the
// login succeeded, or failed only because the role does not exist or cannot log in), with
// the last map message logged. Paths are shown with the configuration directory as "/".
func TestRecordPeer(t *testing.T) {
	out := recordDir(t, filepath.Join("..", "..", "hba", "testdata", "ident"))
	majors, _ := env.Versions(t, []int{13, 15, 18}, 13)
	type server struct {
		major int
		cl    *pgtest.Cluster
	}
	var servers []server
	for _, major := range majors {
		cl := pgtest.Start(t, testkit.Install(t, major, true), pgtest.Options{NoSSL: true})
		if err := cl.Exec(strings.Join(conformance.FixtureSQL(), ";\n")); err != nil {
			t.Fatalf("pg%d: roles: %v", major, err)
		}
		servers = append(servers, server{major, cl})
	}
	for _, c := range peerCases {
		a := &testkit.Archive{}
		for _, l := range strings.Split(c.note, "\n") {
			a.Comment = append(a.Comment, "# "+l+"\n"...)
		}
		a.Comment = append(a.Comment, "# Recorded by TestRecordPeer (internal/identconf): peer authentication as OS user root, map m.\n"...)
		for _, f := range c.files {
			a.Files = append(a.Files, testkit.File{Name: f.name, Data: []byte(f.data)})
		}
		for _, s := range servers {
			lines := recordPeer(t, s.cl, s.major, c)
			a.Files = append(a.Files, testkit.File{Name: fmt.Sprintf("want %d", s.major), Data: []byte(strings.Join(lines, "\n") + "\n")})
		}
		p := filepath.Join(out, c.name+".txtar")
		if err := os.WriteFile(p, a.Format(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", p)
	}
}

// recordDir returns where a recorder writes: PGHBA_IDENT_RECORD, or def under -update; it
// skips the test otherwise.
func recordDir(t *testing.T, def string) string {
	if testing.Short() {
		t.Skip("-short: no real servers")
	}
	if d := env.Get("RECORD"); d != "" {
		return d
	}
	if !testkit.Update() {
		t.Skip("run with -update (or PGHBA_IDENT_RECORD=DIR) to record from real servers")
	}
	return def
}

type peerFile struct{ name, data string }

// A peerCase is one recorded file set: the files (relative to the configuration directory)
// and the database users to try with the system user root.
type peerCase struct {
	name, note string
	files      []peerFile
	users      []string
}

func recordPeer(t *testing.T, cl *pgtest.Cluster, major int, c peerCase) []string {
	files := map[string][]byte{"pg_hba.conf": []byte("local all postgres trust\nlocal all all peer map=m\n"), "pg_ident.conf": nil}
	if err := cl.WriteFiles(files); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, f := range c.files {
		files[f.name] = []byte(f.data)
	}
	if err := cl.WriteFiles(files); err != nil {
		t.Fatal(err)
	}
	rr, err := cl.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Loaded {
		t.Fatalf("pg%d %s: pg_hba.conf refused: %v", major, c.name, rr.Errors)
	}
	var out []string
	if rr.IdentLoaded {
		out = append(out, "load: ok")
	} else {
		out = append(out, "load: failed")
		for _, e := range append(rr.Errors, rr.IdentErrors...) {
			if e.Level == "LOG" {
				out = append(out, "error: "+e.Message)
			}
		}
	}
	if major >= 15 {
		rows, err := cl.Query("select * from pg_ident_file_mappings")
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			cols := make([]string, len(row))
			for i, v := range row {
				if v != nil {
					cols[i] = *v
				}
			}
			out = append(out, "row: "+strings.Join(cols, "|"))
		}
	}
	for _, u := range c.users {
		pr, err := cl.Probe(pgtest.ProbeConn{Local: true, User: u, Database: "postgres"})
		if err != nil {
			t.Fatal(err)
		}
		allowed := pr.Authenticated || strings.Contains(pr.Message, "does not exist") || strings.Contains(pr.Message, "not permitted to log in")
		msg := ""
		for _, e := range pr.Log {
			if m := e.Message; e.Level == "LOG" && (strings.HasPrefix(m, "no match") || strings.HasPrefix(m, "regular expression") || strings.HasPrefix(m, "provided user name")) {
				msg = m
			}
		}
		line := "check: " + peerQuote(u) + " allowed"
		if !allowed {
			line = "check: " + peerQuote(u) + " refused"
		}
		if msg != "" {
			line += ": " + msg
		}
		out = append(out, line)
	}
	for i := range out {
		out[i] = strings.ReplaceAll(out[i], cl.Dir(), "")
	}
	return out
}

// peerQuote writes a database user as the check lines do: double-quoted, with \ and "
// escaped, when it is empty or holds a space, a quote or a backslash.
func peerQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, ` "\`) {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

var peerCases = []peerCase{
	{name: "i01-literal", note: "I01: a literal line.",
		files: []peerFile{{"pg_ident.conf", "m root alice\n"}},
		users: []string{"alice", "bob"}},
	{name: "i02-all", note: "I02/I03: all is a literal name in 13-15, the keyword from 16.",
		files: []peerFile{{"pg_ident.conf", "m root all\n"}},
		users: []string{"alice", "ghost", "all"}},
	{name: "i04-quoted-all", note: "I04: a quoted \"all\" is the name all.",
		files: []peerFile{{"pg_ident.conf", "m root \"all\"\n"}},
		users: []string{"alice", "all"}},
	{name: "i05-role", note: "I05/I06: +grp is a literal name in 13-15, membership from 16.",
		files: []peerFile{{"pg_ident.conf", "m root +grp\n"}},
		users: []string{"alice", "bob", "dave", "noinh", "carol", "grp", "+grp", "all", "Alice", "ghost"}},
	{name: "i07-quoted-role", note: "I07: a quoted \"+grp\" is the name +grp.",
		files: []peerFile{{"pg_ident.conf", "m root \"+grp\"\n"}},
		users: []string{"bob", "+grp"}},
	{name: "i08-pg-regex", note: "I08: a database-user regex from 16, a literal before.",
		files: []peerFile{{"pg_ident.conf", "m root /^a\n"}},
		users: []string{"alice", "Alice", "bob", "/^a"}},
	{name: "i09-capture", note: "I09: \\1 is the first capture group.",
		files: []peerFile{{"pg_ident.conf", "m /^r(.*)$ b\\1\n"}},
		users: []string{"boot", "bob"}},
	{name: "i10-first-only", note: "I10: only the first \\1 is replaced.",
		files: []peerFile{{"pg_ident.conf", "m /^(r)(o)ot$ \\1\\1x\n"}},
		users: []string{"rrx", "r\\1x"}},
	{name: "i11-no-group", note: "I11: \\1 without a group stops the scan with an error.",
		files: []peerFile{{"pg_ident.conf", "m /^root$ \\1x\nm root alice\n"}},
		users: []string{"alice"}},
	{name: "i12-unanchored", note: "I12, I13, I14: unanchored search, case-sensitive names, the empty regex.",
		files: []peerFile{{"pg_ident.conf", "m /oo alice\nm ROOT bob\nm / carol\n"}},
		users: []string{"alice", "bob", "carol"}},
	{name: "i15-quoted-subst", note: "I15: \\1 is replaced inside a quoted database user too.",
		files: []peerFile{{"pg_ident.conf", "m /^(r)oot$ \"\\1oo\\1\"\n"}},
		users: []string{"roo\\1", "roor"}},
	{name: "i16-role-no-subst", note: "I16: no substitution into +role (16+); 13-15 substitute.",
		files: []peerFile{{"pg_ident.conf", "m /^(.*)$ +\\1\n"}},
		users: []string{"alice", "+root"}},
	{name: "i17-extra-fields", note: "I17: fields after the third are ignored.",
		files: []peerFile{{"pg_ident.conf", "m root alice bob carol\n"}},
		users: []string{"alice", "bob", "carol"}},
	{name: "i18-include", note: "I18/I20: include (16+); a two-field line in 13-15.",
		files: []peerFile{{"pg_ident.conf", "include inc18.conf\n"}, {"inc18.conf", "m root alice\n"}},
		users: []string{"alice"}},
	{name: "i19-include-map", note: "I19: a three-field line starting with include is a map named include.",
		files: []peerFile{{"pg_ident.conf", "include inc19.conf x\nm root alice\n"}},
		users: []string{"alice"}},
	{name: "i21-errors", note: "I21/I22: line errors; every line is reported.",
		files: []peerFile{{"pg_ident.conf", "m\nm a\nm a b,c\nm /( b\nm a /(\nm,n a b\nm a,b\n"}},
		users: []string{"alice"}},
	{name: "i23-empty", note: "I23: an empty file loads; every map check fails.",
		files: []peerFile{{"pg_ident.conf", ""}},
		users: []string{"root"}},
	{name: "captures", note: "ARE capture rules for \\1: the longest alternative, empty and non-participating groups.",
		files: []peerFile{{"pg_ident.conf", "m /^(ro|r)(o|ot)t?$ \\1x\nm /(o*) <\\1>\nm /o(o*)|(r) \\1\n"}},
		users: []string{"rox", "rx", "<>", "<oo>", "o"}},
	{name: "substituted-keyword", note: "A substituted all or +name is a literal name.",
		files: []peerFile{{"pg_ident.conf", "m /^(r)oot$ \\1ll\nm /^(r)oot$ \"+g\\1p\"\nm /^(a)?root$ all\n"}},
		users: []string{"rll", "all", "+grp", "+grp2", "bob"}},
	{name: "files", note: "@files in every field, and quoting.",
		files: []peerFile{{"pg_ident.conf", "@mapname.txt \"/^r(o)ot$\" \"x\\1\"\nm @sys.txt @two.txt\n\"m\" \"root\" a\"lic\"e\n"}, {"mapname.txt", "m\n"}, {"sys.txt", "# users\nroot\n"}, {"two.txt", "bob, carol\n"}},
		users: []string{"xo", "alice", "bob"}},
	{name: "truncation", note: "The database user is cut to 63 bytes before the check.",
		files: []peerFile{{"pg_ident.conf", "m root " + strings.Repeat("a", 63) + "\n"}},
		users: []string{strings.Repeat("a", 70), strings.Repeat("a", 62)}},
}
