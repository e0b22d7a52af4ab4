package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pghba/pghba/internal/pgtest"
	"github.com/pghba/pghba/internal/testkit"
)

// TestRulesMatchesPsql installs the files of testdata/rules.txtar in a
// throwaway cluster and compares pghba rules, byte for byte, with what psql
// prints for SELECT * FROM pg_hba_file_rules (and pg_ident_file_mappings).
// PostgreSQL 15 by default; every installed major with PGHBA_VIEW_ALL set.
func TestRulesMatchesPsql(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	psql := filepath.Join(pgtest.SystemBinDir, "psql")
	if _, err := os.Stat(psql); err != nil {
		t.Skipf("no psql: %v", err)
	}
	data, err := os.ReadFile("testdata/rules.txtar")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range testkit.ParseString(string(data)).Files {
		switch f.Name {
		case "pg_hba.conf", "dbs", "extra.conf", "pg_ident.conf":
			files[f.Name] = f.Data
		}
	}
	majors := []int{15}
	if os.Getenv("PGHBA_VIEW_ALL") != "" {
		majors = pgtest.Majors
	}
	for _, major := range majors {
		t.Run(strconv.Itoa(major), func(t *testing.T) {
			inst := pgtest.Require(t, major)
			cl := pgtest.Start(t, inst, pgtest.Options{NoSSL: true})
			if err := cl.WriteFiles(files); err != nil {
				t.Fatal(err)
			}
			query := func(sql string) string {
				t.Helper()
				cmd := exec.Command(psql, "-X", "-h", cl.SocketDir(), "-p", strconv.Itoa(cl.Port()), "-U", "postgres", "-d", "postgres", "-c", sql)
				cmd.Env = append(os.Environ(), "PGCLIENTENCODING=UTF8", "LC_ALL=C.UTF-8", "PSQLRC=/dev/null", "PAGER=")
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("psql: %v", err)
				}
				return string(out)
			}
			pghba := func(args ...string) string {
				t.Helper()
				var stdout, stderr bytes.Buffer
				run(args, nil, &stdout, &stderr)
				if stderr.Len() > 0 {
					t.Fatalf("pghba %q: %s", args, stderr.String())
				}
				return stdout.String()
			}
			missing := "bsd,sspi"
			if !inst.Features.GSSAPI {
				missing += ",gssapi"
			}
			if !inst.Features.LDAP {
				missing += ",ldap"
			}
			if !inst.Features.PAM {
				missing += ",pam"
			}
			v := strconv.Itoa(major)
			want := query("SELECT * FROM pg_hba_file_rules")
			got := pghba("rules", "--pg-version", v, "--minor", strconv.Itoa(inst.Minor), "--missing", missing, "-f", cl.HBAFile())
			if got != want {
				t.Errorf("%s: pg_hba_file_rules differs\npsql:\n%s\npghba:\n%s", inst, want, got)
			}
			if major < 15 {
				return
			}
			want = query("SELECT * FROM pg_ident_file_mappings")
			got = pghba("rules", "--pg-version", v, "--ident", cl.IdentFile())
			if got != want {
				t.Errorf("%s: pg_ident_file_mappings differs\npsql:\n%s\npghba:\n%s", inst, want, got)
			}
			t.Logf("%s: both views identical to psql's output", inst)
		})
	}
}
