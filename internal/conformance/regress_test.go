package conformance

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pghba/pghba/internal/testkit"
)

// TestRegressions replays the cases in testdata/regress against package hba
// alone: each file holds a case and the answers a real server gave.
func TestRegressions(t *testing.T) {
	testkit.Fixtures(t, filepath.Join("testdata", "regress", "*.txtar"), func(t *testing.T, _ string, data []byte) {
		r, err := ParseRegression(data)
		if err != nil {
			t.Fatal(err)
		}
		dir := writeCase(t, r.Files)
		got, err := HBAOutcome(r.Parser("postgres"), dir, r.Conns)
		if err != nil {
			t.Fatal(err)
		}
		if d := got.Diff(&r.Want); d != "" {
			t.Errorf("hba differs from the recorded server answers (pg%d.%d):\n%s\nnote: %s", r.Version, r.Minor, d, r.Note)
		}
	})
}

// writeCase writes files into a new temporary directory and returns it.
func writeCase(t *testing.T, files []File) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if f.Dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.Data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRegressionRoundTrip(t *testing.T) {
	for _, o := range testBuilds {
		for i := range 40 {
			c := Generate(9, i, o)
			r := &Regression{Version: o.Version, Minor: 3, Features: o.Features, Hosts: true, Seed: 9, Index: i,
				Files: c.Files, Conns: c.Conns, Note: "a note\nsecond line",
				Want: Outcome{Loaded: i%2 == 0, Rows: []string{"pg_hba.conf:1 x", "a/b.conf:2"}, Errors: []string{"pg_hba.conf:1: bad \"x\""}}}
			if r.Want.Loaded {
				for range c.Conns {
					r.Want.Decisions = append(r.Want.Decisions, "match pg_hba.conf:1")
				}
			}
			back, err := ParseRegression(r.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			for k := range r.Files {
				r.Files[k].PW = r.Files[k].Data
				if r.Files[k].Dir {
					r.Files[k].PW = ""
				}
			}
			r.Note += "\n"
			if d := cmp.Diff(r, back, cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{})); d != "" {
				t.Fatalf("v%d case %d: round trip (-want +got):\n%s\n%s", o.Version, i, d, r.Marshal())
			}
		}
	}
}

// TestRegressionsDetect shows that the comparison can fail: recorded
// answers replayed with another version's dialect must differ.
func TestRegressionsDetect(t *testing.T) {
	for name, wrong := range map[string]int{"pg13-backslash-is-ordinary": 14, "pg14-continuation": 13, "pg16-includes": 15, "pg18-regex-and-roles": 15} {
		data, err := os.ReadFile(filepath.Join("testdata", "regress", name+".txtar"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRegression(data)
		if err != nil {
			t.Fatal(err)
		}
		dir := writeCase(t, r.Files)
		p := NewParser(wrong, 0, r.Features, r.Hosts, "postgres")
		got, err := HBAOutcome(p, dir, r.Conns)
		if err != nil {
			t.Fatal(err)
		}
		if got.Diff(&r.Want) == "" {
			t.Errorf("%s: the answers recorded from PostgreSQL %d also fit the %d dialect", name, r.Version, wrong)
		}
	}
}
