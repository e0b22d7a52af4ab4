package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba/audit"
)

func runDiffCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"diff"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestDiffCommand: exit statuses, the text blocks, the JSON contract and
// the usage errors of pghba diff.
func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base.conf", "local all all peer\nhost all all all scram-sha-256\n")
	after := write("after.conf", "local all all peer\nhost all all all scram-sha-256\nhost app all 10.0.0.0/8 reject\n")
	before := write("before.conf", "local all all peer\nhost app all 10.0.0.0/8 reject\nhost all all all scram-sha-256\n")
	bad := write("bad.conf", "host all all 10.0.0.0/33 md5\n")
	regex := write("regex.conf", "host all /^a 10.0.0.0/8 reject\nhost all all all md5\n")

	if code, out, _ := runDiffCmd(t, base, base); code != 0 || out != "no decision changes\n" {
		t.Fatalf("identical: %d %q", code, out)
	}
	// A rule after a catch-all changes nothing: exit 0.
	if code, out, _ := runDiffCmd(t, base, after); code != 0 || !strings.Contains(out, "no decision changes") {
		t.Fatalf("no-effect block: %d %q", code, out)
	}
	code, out, _ := runDiffCmd(t, base, before)
	if code != 1 || !strings.Contains(out, "changed: tcp from 10.0.0.0/8, database app, every user\n") ||
		!strings.Contains(out, "base.conf:2 scram-sha-256 -> ") || !strings.Contains(out, "before.conf:2 reject") ||
		!strings.Contains(out, "witness: pghba check -f ") {
		t.Fatalf("changed: %d\n%s", code, out)
	}
	// The witness line is a command that runs and decides as the block says.
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "witness:"))
		if !strings.HasPrefix(line, "pghba check ") {
			continue
		}
		var o, e bytes.Buffer
		if c := run(splitArgs(strings.TrimPrefix(line, "pghba ")), strings.NewReader(""), &o, &e); c != 0 {
			t.Fatalf("%s: exit %d %s", line, c, e.String())
		}
		want := "scram-sha-256"
		if strings.Contains(line, "before.conf") {
			want = "reject"
		}
		if !strings.Contains(o.String(), want) {
			t.Fatalf("%s: %s, want %s", line, o.String(), want)
		}
	}
	code, out, _ = runDiffCmd(t, "--json", base, before)
	var res audit.DiffResult
	if err := json.Unmarshal([]byte(out), &res); code != 1 || err != nil || len(res.Changes) != 1 {
		t.Fatalf("json: %d %v %s", code, err, out)
	}
	for _, key := range []string{`"kind":"changed"`, `"ssl":null`, `"dbs":{"only":["app"]}`, `"users":{"except":[]}`, `"replication":["none","logical"]`, `"outcome":"rejected"`, `"incomplete":false`} {
		if !strings.Contains(out, key) {
			t.Errorf("json lacks %s: %s", key, out)
		}
	}
	if code, out, _ = runDiffCmd(t, base, bad); code != 1 || !strings.Contains(out, "not-loaded") || !strings.Contains(out, "invalid CIDR mask") {
		t.Fatalf("not loaded: %d %s", code, out)
	}
	if code, out, _ = runDiffCmd(t, "--pg-version", "15", base, regex); code != 1 || !strings.Contains(out, "changed:") {
		t.Fatalf("15 regex file: %d %s", code, out)
	}
	// One file read by 15 and by 16: from 16 /^a is a regular expression.
	if code, out, _ = runDiffCmd(t, "--from-version", "15", "--to-version", "16", regex); code != 1 || !strings.Contains(out, "may-change:") {
		t.Fatalf("15 -> 16: %d %s", code, out)
	}
	code, _, errOut := runDiffCmd(t, "--from-version", "15", "--to-version", "16", base, before)
	if code != 2 || !strings.Contains(errOut, "with two files") {
		t.Fatalf("--from-version with two files: %d %s", code, errOut)
	}
	if code, _, _ = runDiffCmd(t, base); code != 2 {
		t.Fatalf("one file without versions: %d", code)
	}
}

// TestDiffSources: --roles, --hosts and --server-addrs make the regions
// of +role, samerole, host-name, samehost and samenet rules exact.
func TestDiffSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	roles := write("roles.json", `{"bob": ["admins"], "carol": [], "admins": []}`)
	hosts := write("hosts.json", `{"reverse": {"192.0.2.7": ["db.example.com"]}, "forward": {"db.example.com": ["192.0.2.7"]}}`)
	tail := "host all all all scram-sha-256\n"
	for _, c := range []struct {
		name, rule, flag, val, region string
	}{
		{"role", "host all +admins all reject\n", "--roles", roles, "changed: tcp from anywhere, every database, users admins, bob\n"},
		{"samerole", "host samerole all all reject\n", "--roles", roles, "changed: tcp from anywhere, database admins, users admins, bob\n"},
		{"host", "host all all db.example.com reject\n", "--hosts", hosts, "changed: tcp from 192.0.2.7/32, every database, every user\n"},
		{"samenet", "host all all samenet reject\n", "--server-addrs", "10.1.2.3/16", "changed: tcp from 10.1.0.0/16, every database, every user\n"},
	} {
		old := write(c.name+"-old.conf", tail)
		new := write(c.name+"-new.conf", c.rule+tail)
		code, out, errOut := runDiffCmd(t, old, new)
		if code != 1 || !strings.Contains(out, "may-change:") || strings.Contains(out, "\nchanged:") {
			t.Errorf("%s without %s: %d\n%s%s", c.name, c.flag, code, out, errOut)
		}
		code, out, errOut = runDiffCmd(t, c.flag, c.val, old, new)
		if code != 1 || strings.Contains(out, "may-change:") || !strings.Contains(out, c.region) {
			t.Errorf("%s with %s: %d\n%s%s\nwant %q", c.name, c.flag, code, out, errOut, c.region)
		}
	}
}

// TestDiffSameUser: a sameuser rule is exact: changed, with db_is_user in
// JSON and "database equal to the user name" in words, and a witness
// whose database is named like its user that pghba check decides as the
// block says.
func TestDiffSameUser(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := write("old.conf", "host all all all scram-sha-256\n")
	new := write("new.conf", "host sameuser all 10.0.0.0/8 trust\nhost all all all scram-sha-256\n")
	code, out, errOut := runDiffCmd(t, old, new)
	want := "changed: tcp from 10.0.0.0/8, database equal to the user name, every user\n" +
		"  old.conf:1 scram-sha-256 -> new.conf:1 trust\n"
	if code != 1 || !strings.HasPrefix(out, want) || strings.Contains(out, "may-change") || !strings.HasSuffix(out, "1 changed, 0 may change, 0 moved\n") {
		t.Fatalf("%d\n%s%s\nwant it to start %q", code, out, errOut, want)
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "witness:"))
		if !strings.HasPrefix(line, "pghba check ") {
			continue
		}
		args := splitArgs(strings.TrimPrefix(line, "pghba "))
		var db, user string
		for i := range args[:len(args)-1] {
			switch args[i] {
			case "--db":
				db = args[i+1]
			case "--user":
				user = args[i+1]
			}
		}
		if db == "" || db != user {
			t.Fatalf("%s: the witness's database is not its user name", line)
		}
		var o, e bytes.Buffer
		if c := run(args, strings.NewReader(""), &o, &e); c != 0 {
			t.Fatalf("%s: exit %d %s", line, c, e.String())
		}
		want := "scram-sha-256"
		if strings.Contains(line, "new.conf") {
			want = "trust"
		}
		if !strings.Contains(o.String(), want) {
			t.Fatalf("%s: %s, want %s", line, o.String(), want)
		}
	}
	code, out, _ = runDiffCmd(t, "--json", old, new)
	var res audit.DiffResult
	if err := json.Unmarshal([]byte(out), &res); code != 1 || err != nil || len(res.Changes) != 1 {
		t.Fatalf("json: %d %v %s", code, err, out)
	}
	if r := res.Changes[0].Region; r.DBIsUser == nil || !*r.DBIsUser || !strings.Contains(out, `"db_is_user":true`) {
		t.Fatalf("json: no db_is_user: %s", out)
	}
	// sameuser with app: the database app, and the databases named like
	// their user (less app, listed apart); the rest of 10.0.0.0/8 is the
	// databases other than app and than the user name.
	other := write("other.conf", "host sameuser,app all 10.0.0.0/8 reject\nhost all all all trust\n")
	code, out, _ = runDiffCmd(t, new, other)
	for _, w := range []string{
		"changed: tcp from 10.0.0.0/8, database app, user app\n  new.conf:1 trust -> other.conf:1 reject\n",
		"changed: tcp from 10.0.0.0/8, database equal to the user name, every user except app\n  new.conf:1 trust -> other.conf:1 reject\n",
		"changed: tcp from 10.0.0.0/8, database app, every user except app\n  new.conf:2 scram-sha-256 -> other.conf:1 reject\n",
		"changed: tcp from 10.0.0.0/8, every database except app, every user, database other than the user name\n  new.conf:2 scram-sha-256 -> other.conf:2 trust\n",
		"changed: tcp from 0.0.0.0/0 except 10.0.0.0/8, ::/0, every database, every user\n  new.conf:2 scram-sha-256 -> other.conf:2 trust\n",
		"5 changed, 0 may change, 0 moved\n",
	} {
		if code != 1 || !strings.Contains(out, w) {
			t.Errorf("%d\n%s\nwant %q", code, out, w)
		}
	}
}
