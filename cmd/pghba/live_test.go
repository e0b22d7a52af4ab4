package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pghba/pghba/internal/pgtest"
)

// TestLive: --dsn against real PostgreSQL 15 and 18, with nested role
// memberships and a +role rule, a role without privileges, a server that
// refuses the connection and bad credentials.
func TestLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no real servers")
	}
	for _, major := range []int{15, 18} {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			c := pgtest.Start(t, pgtest.Require(t, major), pgtest.Options{})
			testLive(t, c, major)
		})
	}
}

func testLive(t *testing.T, c *pgtest.Cluster, major int) {
	if major >= 16 {
		if err := c.Exec("SET scram_iterations = 1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Exec(`CREATE ROLE admins NOLOGIN; CREATE ROLE staff NOLOGIN; CREATE ROLE alice LOGIN;
		CREATE ROLE bob LOGIN; CREATE ROLE plain LOGIN PASSWORD 'right';
		GRANT admins TO staff; GRANT staff TO alice`); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec("CREATE DATABASE staff"); err != nil {
		t.Fatal(err)
	}
	hbaText := "local all all trust\n" +
		"host all plain 127.0.0.1/32 scram-sha-256\n" +
		"host all +admins 127.0.0.1/32 trust\n" +
		"host samerole all 127.0.0.1/32 scram-sha-256\n" +
		"host all all 127.0.0.1/32 reject\n"
	if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(hbaText)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	admin := fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres", c.SocketDir(), c.Port())
	pghba := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(args, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	hbaFile := c.HBAFile()

	// +admins resolves through two levels of membership; hba_file comes
	// from the server (superuser).
	for _, tc := range []struct{ user, db, line string }{
		{"alice", "postgres", "pg_hba.conf:3:"},
		{"bob", "postgres", "pg_hba.conf:5:"},
		{"alice", "staff", "pg_hba.conf:3:"},
		{"bob", "staff", "pg_hba.conf:5:"}, // samerole: bob is not in staff
		{"staff", "staff", "pg_hba.conf:3:"},
		{"admins", "staff", "pg_hba.conf:3:"},
	} {
		code, out, errOut := pghba("check", "--dsn", admin, "--host", "127.0.0.1", "--user", tc.user, "--db", tc.db)
		if !strings.Contains(out, tc.line) || strings.Contains(out, "unresolved") {
			t.Errorf("check %s@%s: exit %d, want %s\n%s%s", tc.user, tc.db, code, tc.line, out, errOut)
		}
	}
	// The server's version and ssl (on in the harness): hostssl loads.
	code, out, errOut := pghba("lint", "--dsn", admin)
	if strings.Contains(out, "never-matches") || strings.Contains(errOut, "not read") {
		t.Errorf("lint --dsn: exit %d\n%s%s", code, out, errOut)
	}
	// rules --dsn prints what the server reads.
	code, out, errOut = pghba("rules", "--dsn", admin)
	if code != 0 || !strings.Contains(out, "+admins") || !strings.Contains(out, "(5 rows)") {
		t.Errorf("rules --dsn: exit %d\n%s%s", code, out, errOut)
	}

	// pghba's own reading of the file shows the same rows.
	_, local, _ := pghba("rules", "-f", hbaFile, "--pg-version", fmt.Sprint(major), "--server-ssl", "on")
	if local != out {
		t.Errorf("rules -f differs from rules --dsn:\n%s\nserver:\n%s", local, out)
	}
	code, out, errOut = pghba("rules", "--dsn", admin, "--json")
	if code != 0 || !strings.Contains(out, `"user_name":["+admins"]`) {
		t.Errorf("rules --dsn --json: exit %d\n%s%s", code, out, errOut)
	}
	if _, local, _ := pghba("rules", "-f", hbaFile, "--pg-version", fmt.Sprint(major), "--server-ssl", "on", "--json"); local != out {
		t.Errorf("rules -f --json differs from rules --dsn --json:\n%s\nserver:\n%s", local, out)
	}

	// A role without privileges: no hba_file, so -f is needed; with it,
	// roles still resolve and what was not read is said.
	plain := fmt.Sprintf("host=127.0.0.1 port=%d user=plain dbname=postgres password=right sslmode=disable", c.Port())
	code, _, errOut = pghba("check", "--dsn", plain, "--host", "127.0.0.1", "--user", "alice")
	if code != 2 || !strings.Contains(errOut, "hba_file cannot be read by this role") {
		t.Errorf("check --dsn as plain without -f: exit %d\n%s", code, errOut)
	}
	code, out, errOut = pghba("check", "--dsn", plain, "-f", hbaFile, "--host", "127.0.0.1", "--user", "alice")
	if !strings.Contains(out, "pg_hba.conf:3:") || !strings.Contains(errOut, "not read: hba_file") {
		t.Errorf("check --dsn as plain -f: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = pghba("rules", "--dsn", plain)
	if code != 2 || !strings.Contains(errOut, "pg_hba_file_rules cannot be read by this role") {
		t.Errorf("rules --dsn as plain: exit %d\n%s", code, errOut)
	}
	// TLS per sslmode: the harness serves SSL.
	code, out, errOut = pghba("check", "--dsn", strings.Replace(plain, "sslmode=disable", "sslmode=require", 1), "-f", hbaFile, "--local", "--user", "x")
	if code != 0 || !strings.Contains(out, "pg_hba.conf:1:") {
		t.Errorf("sslmode=require: exit %d\n%s%s", code, out, errOut)
	}
	// The password from PGPASSWORD.
	t.Setenv("PGPASSWORD", "right")
	code, out, errOut = pghba("check", "--dsn", strings.Replace(plain, " password=right", "", 1), "-f", hbaFile, "--local", "--user", "x")
	if code != 0 {
		t.Errorf("PGPASSWORD: exit %d\n%s%s", code, out, errOut)
	}

	// The password from a password file (~/.pgpass, here PGPASSFILE).
	t.Setenv("PGPASSWORD", "")
	pass := filepath.Join(t.TempDir(), "pgpass")
	if err := os.WriteFile(pass, []byte(fmt.Sprintf("127.0.0.1:%d:*:plain:right\n", c.Port())), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSFILE", pass)
	code, out, errOut = pghba("check", "--dsn", strings.Replace(plain, " password=right", "", 1), "-f", hbaFile, "--local", "--user", "x")
	if code != 0 {
		t.Errorf("PGPASSFILE: exit %d\n%s%s", code, out, errOut)
	}

	// Bad credentials, and a server that refuses: exit 2, naming the host.
	code, _, errOut = pghba("check", "--dsn", strings.Replace(plain, "password=right", "password=wrong", 1), "-f", hbaFile, "--local", "--user", "x")
	if code != 2 || !strings.Contains(errOut, "cannot connect to 127.0.0.1:") || !strings.Contains(errOut, "password authentication failed") {
		t.Errorf("bad password: exit %d\n%s", code, errOut)
	}
	code, _, errOut = pghba("check", "--dsn", fmt.Sprintf("host=127.0.0.1 port=%d user=bob dbname=postgres sslmode=disable", c.Port()), "-f", hbaFile, "--local", "--user", "x")
	if code != 2 || !strings.Contains(errOut, "cannot connect to 127.0.0.1:") || !strings.Contains(errOut, "rejects connection") {
		t.Errorf("reject: exit %d\n%s", code, errOut)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	code, _, errOut = pghba("lint", "--dsn", fmt.Sprintf("postgres://x@127.0.0.1:%d/db?sslmode=disable", port), "-f", hbaFile)
	if code != 2 || !strings.Contains(errOut, fmt.Sprintf("cannot connect to 127.0.0.1:%d", port)) {
		t.Errorf("closed port: exit %d\n%s", code, errOut)
	}
}
