package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPGData: --pgdata and --config-file read the server's files; what they say
// is the default of the server flags, and an explicit flag wins.
func TestPGData(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	data := filepath.Join(dir, "data")
	write("data/PG_VERSION", "16\n")
	write("data/postgresql.conf", "ssl = off\npassword_encryption = md5\nlisten_addresses = 'localhost'\n")
	write("data/pg_hba.conf", "hostssl all all 0.0.0.0/0 scram-sha-256\nhost all all 10.0.0.0/8 scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n")
	run1 := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(args, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, out, _ := run1("lint", "--pgdata", data)
	for _, want := range []string{
		"the server has ssl = off (set at " + filepath.Join(data, "postgresql.conf") + ":1)",
		"pg_hba.conf:3: warning: password-encryption: scram-sha-256, but the server has password_encryption = md5 (set at " + filepath.Join(data, "postgresql.conf") + ":2)",
		"unreachable-listen", // listen_addresses = localhost: 10.0.0.0/8 cannot connect
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lint --pgdata: no %q in\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("lint --pgdata: exit %d", code)
	}
	// An explicit flag wins: --server-ssl on, --listen '*'.
	_, out, _ = run1("lint", "--pgdata", data, "--server-ssl", "on", "--listen", "*")
	if strings.Contains(out, "ssl = off") || strings.Contains(out, "unreachable-listen") {
		t.Errorf("explicit flags did not win:\n%s", out)
	}
	// check decides with the file's ssl: hostssl never matches.
	code, out, _ = run1("check", "--pgdata", data, "--host", "10.1.1.1", "--ssl", "--user", "u")
	if code != 0 || !strings.Contains(out, "pg_hba.conf:2:") {
		t.Errorf("check --pgdata: exit %d\n%s", code, out)
	}

	// Debian: --config-file in /etc, data_directory pointing to the data.
	conf := write("etc/16/main/postgresql.conf", "data_directory = '"+data+"'\nhba_file = '"+filepath.Join(data, "pg_hba.conf")+"'\nssl = on\n")
	code, out, errOut := run1("rules", "--config-file", conf)
	if code != 0 || !strings.Contains(out, "hostssl") {
		t.Errorf("rules --config-file: exit %d\n%s%s", code, out, errOut)
	}

	// Bad input: exit 2 with file:line, never a fallback.
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"syntax":     {map[string]string{"PG_VERSION": "16\n", "postgresql.conf": "ssl = 'on\n"}, `postgresql.conf:1: syntax error in file`},
		"cycle":      {map[string]string{"PG_VERSION": "16\n", "postgresql.conf": "include 'a.conf'\n", "a.conf": "include 'postgresql.conf'\n"}, `maximum nesting depth exceeded`},
		"no version": {map[string]string{"postgresql.conf": ""}, `PG_VERSION" is missing`},
		"old":        {map[string]string{"PG_VERSION": "12\n", "postgresql.conf": ""}, `PostgreSQL 12: pghba reads PostgreSQL 13 and later`},
		"bad value":  {map[string]string{"PG_VERSION": "15\n", "postgresql.conf": "\nssl = maybe\n"}, `postgresql.conf:2: parameter "ssl" requires a Boolean value`},
	} {
		d := filepath.Join(dir, "bad-"+strings.ReplaceAll(name, " ", "-"))
		for f, data := range tc.files {
			write(filepath.Join(filepath.Base(d), f), data)
		}
		for _, cmd := range []string{"lint", "check", "rules", "exposure", "test"} {
			args := []string{cmd, "--pgdata", d}
			switch cmd {
			case "check":
				args = append(args, "--local", "--user", "u")
			case "test":
				args = append(args, write("expect.txt", "local user=u allow\n"))
			}
			code, _, errOut := run1(args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%s %s: exit %d, stderr %q, want %q", cmd, name, code, errOut, tc.want)
			}
		}
	}
}
