package hba_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/edit"
	"github.com/pghba/pghba/internal/conformance"
	"github.com/pghba/pghba/internal/pgtest"
)

// editBase is a file with what edits must keep: comments, blank lines,
// tabs, a trailing comment, a CRLF line end, a record continued with a
// backslash, and a last line without a line end.
const editBase = "# TYPE  DATABASE  USER  ADDRESS  METHOD\n" +
	"\n" +
	"local   all   all   trust   # operator\n" +
	"host\tall all 127.0.0.1/32\tscram-sha-256\r\n" +
	"# the replication rule\n" +
	"host replication all \\\n" +
	"  ::1/128 md5\n" +
	"hostssl all +admins 10.0.0.0 255.0.0.0 cert clientcert=verify-full\n" +
	"host all all all reject"

// TestEditServer writes edited and formatted files to real 15 and 18
// servers (one server each; pg_hba_file_rules reads the file on disk):
// every edited file's server rows are those hba/edit computes, the new rule
// is the server's row at the line the edit gave it, formatting keeps the
// server's rows, and the last file reloads.
func TestEditServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	for _, major := range []int{15, 18} {
		t.Run(fmt.Sprint(major), func(t *testing.T) {
			inst := pgtest.Require(t, major)
			cl := pgtest.Start(t, inst, pgtest.Options{})
			p := &hba.Parser{Version: inst.Major, Minor: inst.Minor, SSL: true, Features: conformance.BuildFeatures(inst.Features)}
			name := cl.HBAFile()
			serverRows := func(data []byte) []string {
				t.Helper()
				if err := cl.WriteFiles(map[string][]byte{"pg_hba.conf": data}); err != nil {
					t.Fatal(err)
				}
				srv, err := cl.HBARules()
				if err != nil {
					t.Fatal(err)
				}
				return serverRowTexts(major, srv)
			}
			check := func(what string, f *edit.File) []string {
				t.Helper()
				if err := f.Loaded().Errors.Err(); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				srv := serverRows(f.Bytes())
				if diff := cmp.Diff(srv, libRowTexts(major, f.Loaded().ViewRows()), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: rows differ (-server +edit):\n%s", what, diff)
				}
				return srv
			}
			base := edit.Parse(p, name, []byte(editBase))
			baseRows := check("base", base)

			built, err := p.BuildRule(hba.RuleSpec{Type: hba.Host, Databases: []hba.Name{hba.Lit("all"), hba.Lit("my db")},
				Users: []hba.Name{hba.Lit("replication")}, Prefix: netip.MustParsePrefix("2001:db8::/32"), Method: hba.ScramSHA256})
			if err != nil {
				t.Fatal(err)
			}
			type step struct {
				name   string
				do     func(f *edit.File) (*edit.Line, error)
				method string // of the new line's row; "" for a removal
			}
			steps := []step{
				{"insert-before-comment", func(f *edit.File) (*edit.Line, error) { return f.InsertBefore(5, built) }, "scram-sha-256"},
				{"insert-after-continued", func(f *edit.File) (*edit.Line, error) {
					return f.InsertAfter(6, `host "all" "all" 192.0.2.1/32 password`)
				}, "password"},
				{"append-no-newline", func(f *edit.File) (*edit.Line, error) { return f.Append("local all all peer") }, "peer"},
				{"replace-crlf", func(f *edit.File) (*edit.Line, error) { return f.Replace(4, "host all all 127.0.0.1/32 md5") }, "md5"},
				{"remove-continued", func(f *edit.File) (*edit.Line, error) { return nil, f.Remove(6) }, ""},
			}
			for _, s := range steps {
				f := edit.Parse(p, name, []byte(editBase))
				l, err := s.do(f)
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				srv, err := func() ([]pgtest.HBARow, error) { check(s.name, f); return cl.HBARules() }()
				if err != nil {
					t.Fatal(err)
				}
				if s.method == "" {
					if len(srv) != len(baseRows)-1 {
						t.Errorf("%s: %d rows, want %d", s.name, len(srv), len(baseRows)-1)
					}
					continue
				}
				found := false
				for _, r := range srv {
					if *r.LineNumber == l.Line {
						found = r.AuthMethod != nil && *r.AuthMethod == s.method
					}
				}
				if !found {
					t.Errorf("%s: no %s row at line %d", s.name, s.method, l.Line)
				}
			}

			// Formatting keeps the server's rows, line numbers included.
			g := edit.Parse(p, name, []byte(editBase))
			if err := g.Format(); err != nil {
				t.Fatal(err)
			}
			if !g.Changed() {
				t.Fatal("the base file needs formatting")
			}
			if diff := cmp.Diff(baseRows, check("fmt", g)); diff != "" {
				t.Errorf("fmt changed the server's rows:\n%s", diff)
			}
			if res, err := cl.Reload(); err != nil || !res.Loaded {
				t.Fatalf("reload of the formatted file: %v %+v", err, res)
			}
			t.Logf("%s: %d edits and fmt, rows as computed", inst, len(steps))
		})
	}
}
