package identconf

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pghba/pghba/internal/pgtest"
)

func TestIdentCert(t *testing.T) {
	seed := env.Seed(t)
	n := env.Count("CHECKS", 240, 2000)
	ca, caFile := newCAFile(t)
	env.Majors(t, []int{15, 18}, 13, func(t *testing.T, inst *pgtest.Install) {
		runCert(t, inst, ca, caFile, seed, n)
	})
}

func createRoles(t *testing.T, cl *pgtest.Cluster) {
	var names []string
	for r := range certRoles {
		names = append(names, r)
	}
	sort.Strings(names)
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	var sql []string
	for _, r := range names {
		login := "LOGIN"
		if certNoLogin[r] {
			login = "NOLOGIN"
		}
		sql = append(sql, "CREATE ROLE "+q(r)+" "+login)
	}
	for _, r := range names {
		for _, g := range certRoles[r] {
			sql = append(sql, "GRANT "+q(g)+" TO "+q(r))
		}
	}
	if err := cl.Exec(strings.Join(sql, "; ")); err != nil {
		t.Fatalf("creating roles: %v", err)
	}
}

const checksPerCase = 8

// newCAFile makes a test CA and writes its certificate where the server
// (another OS user when the test runs as root) can read it.
func newCAFile(t *testing.T) (*certAuthority, string) {
	t.Helper()
	ca, err := newCA()
	if err != nil {
		t.Fatal(err)
	}
	caDir, err := os.MkdirTemp("", "identconf-ca-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(caDir) })
	caFile := filepath.Join(caDir, "ca.crt")
	if err := os.Chmod(caDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, ca.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return ca, caFile
}

func runCert(t *testing.T, inst *pgtest.Install, ca *certAuthority, caFile string, seed uint64, n int) {
	major := inst.Major
	cl := pgtest.Start(t, inst, pgtest.Options{Conf: []string{"ssl_ca_file = '" + caFile + "'"}})
	createRoles(t, cl)
	dir := cl.Dir()
	var checks, agree, allowed, diverged, identRefused int
	kinds := map[string]int{}
	for i := 0; checks < n; i++ {
		c := genCertCase(caseRand(seed, major, i), major, checksPerCase)
		if err := cl.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(certHBA(c.HBA)), "pg_ident.conf": []byte(c.Ident)}); err != nil {
			t.Fatal(err)
		}
		rr, err := cl.Reload()
		if err != nil {
			t.Fatal(err)
		}
		if !rr.Loaded {
			t.Fatalf("pg%d case %d: the server refuses pg_hba.conf %q: %v", major, i, c.HBA, rr.Errors)
		}
		_, libLoaded, err := libCert(major, inst.Minor, dir, c, c.Checks[0])
		if err != nil {
			t.Fatalf("pg%d case %d: %v", major, i, err)
		}
		if libLoaded != rr.IdentLoaded {
			diverged++
			t.Errorf("pg%d seed %d case %d: pg_ident.conf loaded: server %v, hba %v\n%s", major, seed, i, rr.IdentLoaded, libLoaded, c.Ident)
			continue
		}
		if !rr.IdentLoaded {
			identRefused++ // the server kept the previous maps: nothing to compare
			continue
		}
		var bad []string
		var outs []certOutcome
		for _, chk := range c.Checks {
			out := probeCert(t, cl, ca, chk)
			outs = append(outs, out)
			lib, _, err := libCert(major, inst.Minor, dir, c, chk)
			if err != nil {
				t.Fatal(err)
			}
			checks++
			if out.Allowed {
				allowed++
			}
			if d := compareCert(lib, out); d != "" {
				bad = append(bad, fmt.Sprintf("CN %q user %q: %s", chk.CN, chk.User, d))
				kinds[d[:min(len(d), 60)]]++
				continue
			}
			agree++
		}
		if len(bad) == 0 {
			continue
		}
		diverged++
		if diverged <= 8 {
			t.Errorf("pg%d seed %d case %d (%s) diverges:\n  %s\n--- pg_ident.conf ---\n%s", major, seed, i, c.HBA, strings.Join(bad, "\n  "), c.Ident)
			save(t, fmt.Sprintf("pg%d-cert", major), certArchive(c, major, inst.Minor, seed, i, outs))
		}
	}
	t.Logf("pg%d (%s): %d/%d certificate checks agree (%d allowed by the server), %d cases skipped because both refused pg_ident.conf, %d divergent cases",
		major, inst.Version(), agree, checks, allowed, identRefused, diverged)
	for k, v := range kinds {
		t.Logf("%4d× %s", v, k)
	}
	if checks >= 50 && (allowed == 0 || allowed == checks) {
		t.Errorf("pg%d: the server allowed %d of %d checks: the generator or the set-up is broken", major, allowed, checks)
	}
}

// probeCert connects over TLS as chk.User with a client certificate whose CN is chk.CN, and
// returns the server's outcome.
func probeCert(t *testing.T, cl *pgtest.Cluster, ca *certAuthority, chk certCheck) certOutcome {
	t.Helper()
	cert, err := ca.clientCert(chk.CN)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := cl.Probe(pgtest.ProbeConn{SSL: true, User: chk.User, Database: "postgres", ClientCert: cert})
	if err != nil {
		t.Fatalf("probe %+v: %v", chk, err)
	}
	return outcomeOf(pr)
}

func certArchive(c certCase, major, minor int, seed uint64, i int, outs []certOutcome) *archive {
	a := &archive{Header: []string{
		fmt.Sprintf("# DIVERGENCE found by TestIdentCert (seed %d, case %d); outcomes are the server's.", seed, i),
		"kind: cert",
		fmt.Sprintf("version: %d", major),
		fmt.Sprintf("minor: %d", minor),
		"hba: " + c.HBA,
	}, Files: map[string][]byte{"pg_ident.conf": []byte(c.Ident)}}
	for j, chk := range c.Checks {
		b, _ := json.Marshal(struct {
			CN   string `json:"cn"`
			User string `json:"user"`
			certOutcome
		}{chk.CN, chk.User, outs[j]})
		a.Header = append(a.Header, "check: "+string(b))
	}
	return a
}
