package identconf

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pghba/pghba/internal/pgtest"
)

// caseRand is the generator of case i of a run: a case replays from the seed and its index.
func caseRand(seed uint64, major, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(major)<<32|uint64(i)))
}

func TestIdentView(t *testing.T) {
	seed := env.Seed(t)
	n := env.Count("FILES", 300, 3000)
	genNonASCII = os.Getenv("PGHBA_IDENT_NONASCII") == "1"
	// pg_ident_file_mappings exists from 15
	env.Majors(t, []int{15, 18}, 15, func(t *testing.T, inst *pgtest.Install) {
		runView(t, inst, seed, n)
	})
}

func runView(t *testing.T, inst *pgtest.Install, seed uint64, n int) {
	major := inst.Major
	cl := pgtest.Start(t, inst, pgtest.Options{NoSSL: true})
	dir := cl.Dir()
	var filesOK, rows, rowsOK, loadedN, diverged int
	kinds := map[string]int{}
	for i := 0; i < n; i++ {
		fs := genFileSet(caseRand(seed, major, i), major)
		if err := cl.WriteFiles(fs); err != nil {
			t.Fatal(err)
		}
		rr, err := cl.Reload()
		if err != nil {
			t.Fatal(err)
		}
		srows, err := cl.IdentMappings()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		server := serverRows(major, srows, dir)
		lib, loaded, err := libView(major, inst.Minor, cl.IdentFile(), dir)
		if err != nil {
			t.Fatalf("case %d: hba: %v", i, err)
		}
		if rr.IdentLoaded {
			loadedN++
		}
		rows += len(server)
		for j := range server {
			if j < len(lib) && lib[j] == server[j] {
				rowsOK++
			}
		}
		d := cmp.Diff(server, lib, cmpopts.EquateEmpty())
		if loaded != rr.IdentLoaded {
			d += fmt.Sprintf("loaded: server %v, hba %v\n", rr.IdentLoaded, loaded)
		}
		if d == "" {
			filesOK++
			continue
		}
		diverged++
		kinds[firstLine(d)]++
		if diverged <= 8 {
			t.Errorf("pg%d seed %d case %d diverges (-server +hba):\n%s--- pg_ident.conf ---\n%s", major, seed, i, d, fs["pg_ident.conf"])
			a := viewArchive(fmt.Sprintf("# DIVERGENCE found by TestIdentView (seed %d, case %d); rows are the server's.", seed, i),
				major, inst.Minor, rr.IdentLoaded, fs, "", server)
			save(t, fmt.Sprintf("pg%d-view", major), a)
		}
	}
	t.Logf("pg%d (%s): %d/%d files agree (%d loaded on the server), %d/%d rows agree",
		major, inst.Version(), filesOK, n, loadedN, rowsOK, rows)
	if len(kinds) > 0 {
		var ks []string
		for k, v := range kinds {
			ks = append(ks, fmt.Sprintf("%4d× %s", v, k))
		}
		sort.Strings(ks)
		t.Logf("divergences by first difference:\n%s", strings.Join(ks, "\n"))
	}
}

func firstLine(s string) string {
	lines := strings.SplitN(s, "\n", 4)
	if len(lines) >= 3 && strings.HasPrefix(lines[0], "row") {
		return strings.TrimSpace(lines[1]) + " | " + strings.TrimSpace(lines[2])
	}
	return lines[0]
}

// viewArchive is a view case: the files, whether the server loaded them, and its rows.
func viewArchive(comment string, major, minor int, loaded bool, files fileSet, divergence string, rows []string) *archive {
	a := &archive{Header: []string{comment, "kind: view", fmt.Sprintf("version: %d", major),
		fmt.Sprintf("minor: %d", minor), fmt.Sprintf("loaded: %v", loaded)}, Files: files}
	if divergence != "" {
		a.Header = append(a.Header, "divergence: "+divergence)
	}
	for _, r := range rows {
		a.Header = append(a.Header, "row: "+r)
	}
	return a
}
