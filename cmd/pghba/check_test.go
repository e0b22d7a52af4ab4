package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

// TestCommandTable: the table is in the order help lists it, without a
// name twice, and every command has a summary and a usage that starts by
// naming it.
func TestCommandTable(t *testing.T) {
	for i, c := range commands {
		if i > 0 && commands[i-1].name >= c.name {
			t.Errorf("command %q after %q: the table is not sorted by name", c.name, commands[i-1].name)
		}
		if c.summary == "" || !strings.HasPrefix(c.usage, "usage: pghba "+c.name+" ") || c.run == nil {
			t.Errorf("command %q: summary %q, usage starting %q, run set %v", c.name, c.summary, c.usage[:min(len(c.usage), 30)], c.run != nil)
		}
		if lookup(c.name) != c {
			t.Errorf("lookup(%q) does not find the command", c.name)
		}
	}
	if lookup("help") != nil || lookup("") != nil {
		t.Error("lookup found a command that is not in the table")
	}
}

// TestHelpFlagPrintsUsage: "pghba NAME -h" prints what "pghba help NAME"
// prints, the usage of the table, on standard output, and exits 0.
func TestHelpFlagPrintsUsage(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {"help", c.name}} {
			var out, errOut bytes.Buffer
			code := run(args, strings.NewReader(""), &out, &errOut)
			if code != exitOK || out.String() != c.usage || errOut.Len() != 0 {
				t.Errorf("pghba %s: exit %d, stderr %q, stdout is the usage: %v", strings.Join(args, " "), code, errOut.String(), out.String() == c.usage)
			}
		}
	}
}

// TestUsageNamesEveryFlag: every flag a command defines, its loading flags
// included, is named in its usage, so that a new flag cannot go
// undocumented. The flags are those of a real run with -h.
func TestUsageNamesEveryFlag(t *testing.T) {
	for _, c := range commands {
		inv := newInvocation(c, strings.NewReader(""), io.Discard, io.Discard)
		if code := c.run(inv, []string{"-h"}); code != exitOK {
			t.Fatalf("pghba %s -h: exit %d", c.name, code)
		}
		n := 0
		inv.flags.VisitAll(func(fl *flag.Flag) {
			n++
			dash := "--"
			if len(fl.Name) == 1 {
				dash = "-"
			}
			if !strings.Contains(c.usage, dash+fl.Name+" ") && !strings.Contains(c.usage, dash+fl.Name+",") &&
				!strings.Contains(c.usage, dash+fl.Name+")") && !strings.Contains(c.usage, dash+fl.Name+"\n") {
				t.Errorf("pghba %s: the usage does not name %s%s", c.name, dash, fl.Name)
			}
		})
		if n < 8 {
			t.Errorf("pghba %s: %d flags defined, want the loading flags at least", c.name, n)
		}
	}
}

// TestLoadingFlagsCheckedAlike: every command checks the loading flags the
// same way, with the same words, before anything of its own.
func TestLoadingFlagsCheckedAlike(t *testing.T) {
	_, missingErr := hba.ParseMissing("ldap,krb5")
	if missingErr == nil {
		t.Fatal("hba.ParseMissing accepted krb5")
	}
	for _, c := range commands {
		for flags, msg := range map[string]string{
			"--pg-version 12":                     "--pg-version 12: want 13 to 18",
			"--minor -1":                          "--minor -1: want 0 or more",
			"--pg-version 17 --db-user-namespace": "--db-user-namespace: the setting does not exist in PostgreSQL 17",
			"--missing ldap,krb5":                 "--missing: " + missingErr.Error(),
		} {
			args := append([]string{c.name}, strings.Fields(flags)...)
			var out, errOut bytes.Buffer
			code := run(args, strings.NewReader(""), &out, &errOut)
			want := "pghba " + c.name + ": " + msg + "\nRun 'pghba help " + c.name + "' for usage.\n"
			if code != exitUsage || errOut.String() != want || out.Len() != 0 {
				t.Errorf("pghba %s: exit %d, stderr %q, stdout %q; want exit 2, stderr %q", strings.Join(args, " "), code, errOut.String(), out.String(), want)
			}
		}
	}
}

// TestUsageBeforeSideInputs: a command line with bad usage is reported as
// such even when a side input it names cannot be read: usage is checked
// before any input is read.
func TestUsageBeforeSideInputs(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nosuch.json")
	for _, args := range [][]string{
		{"check", "--hosts", missing, "--roles", missing, "--local", "--host", "10.1.2.3", "--user", "a"},
		{"check", "--roles", missing, "--batch", "-", "--user", "a"},
		{"rules", "--hosts", missing, "--ident", "pg_ident.conf", "--pg-version", "14"},
		{"rules", "--hosts", missing, "--ident", "pg_ident.conf", "-f", "pg_hba.conf"},
		{"test", "--hosts", missing, "--roles", missing},
	} {
		var out, errOut bytes.Buffer
		code := run(args, strings.NewReader(""), &out, &errOut)
		if code != exitUsage || !strings.HasSuffix(errOut.String(), "Run 'pghba help "+args[0]+"' for usage.\n") || strings.Contains(errOut.String(), missing) {
			t.Errorf("pghba %s: exit %d, stderr %q; want the usage error alone", strings.Join(args, " "), code, errOut.String())
		}
	}
}

// lineFeeder hands out one input line per Read and, before each, checks
// that every earlier line has already been answered on out: a caller
// driving pghba through a pipe gets each answer before it sends the next
// case.
type lineFeeder struct {
	t     *testing.T
	lines []string
	next  int
	out   *bytes.Buffer
}

func (f *lineFeeder) Read(p []byte) (int, error) {
	// A line without a newline (the last) is complete only at end of
	// input, so its answer comes after this Read.
	complete := f.next == 0 || strings.HasSuffix(f.lines[f.next-1], "\n")
	if got := strings.Count(f.out.String(), "\n"); complete && got != f.next {
		f.t.Errorf("before reading input line %d: %d result lines written, want %d", f.next+1, got, f.next)
	}
	if f.next == len(f.lines) {
		return 0, io.EOF
	}
	n := copy(p, f.lines[f.next])
	f.next++
	return n, nil
}

func TestBatchAnswersEachLineBeforeReadingTheNext(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "pg_hba.conf")
	if err := os.WriteFile(conf, []byte("local all all trust\nhost all all 0.0.0.0/0 reject\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	in := &lineFeeder{t: t, out: &out, lines: []string{
		`{"type":"local","user":"a"}` + "\n",
		"oops\n",
		`{"type":"host","addr":"192.0.2.1","user":"a"}` + "\n",
		`{"type":"host","addr":"::1","user":"b"}`, // no final newline
	}}
	code := run([]string{"check", "-f", conf, "--batch", "-"}, in, &out, &errOut)
	if code != 0 || errOut.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		if e, ok := m["error"]; ok {
			got = append(got, "error: "+e.(string)[:6])
		} else {
			got = append(got, m["result"].(string))
		}
	}
	want := []string{"match", "error: line 2", "reject", "no-match"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("results %q, want %q", got, want)
	}
}

func TestParsePGBool(t *testing.T) {
	for _, s := range []string{"on", "ON", "true", "yes", "1", " on "} {
		if v, ok := parsePGBool(s); !v || !ok {
			t.Errorf("parsePGBool(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"off", "false", "no", "0"} {
		if v, ok := parsePGBool(s); v || !ok {
			t.Errorf("parsePGBool(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "maybe", "o"} {
		if _, ok := parsePGBool(s); ok {
			t.Errorf("parsePGBool(%q) accepted", s)
		}
	}
}

// FuzzBatchLine: any input line gives exactly one JSON object, either a
// result with a known kind or an error naming the line; nothing panics.
func FuzzBatchLine(f *testing.F) {
	for _, s := range []string{
		`{"type":"local","user":"a"}`,
		`{"type":"host","addr":"10.1.2.3","user":"a","db":"d","ssl":true}`,
		`{"type":"host","addr":"::1","user":"a","replication":"physical"}`,
		`{"type":"host","addr":"fe80::1%eth0","user":"a","gss":true,"replication":"logical"}`,
		`{"type":"local","user":null,"db":7}`,
		`[]`, `null`, `"x"`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	conf := filepath.Join(dir, "pg_hba.conf")
	rules := "local all +staff trust\nhost samerole all 10.0.0.0/8 md5\nhost all all db.example.com trust\nhost all all samenet reject\nhost all all ::/0 scram-sha-256\n"
	if err := os.WriteFile(conf, []byte(rules), 0o666); err != nil {
		f.Fatal(err)
	}
	var p hba.Parser
	p.Env.Resolver = hba.HostTable{}
	p.Env.Interfaces = hba.StaticInterfaces{netip.MustParsePrefix("10.0.0.1/8")}
	ld := load(&p, conf)
	if ld.rs == nil {
		f.Fatalf("fuzz configuration did not load: %v", ld.errors)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var b bytes.Buffer
		writeJSONLine(&b, batchResult(ld, 1, line))
		out := b.String()
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
			t.Fatalf("output %q is not one line", out)
		}
		var m map[string]any
		if err := json.Unmarshal(b.Bytes(), &m); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if e, ok := m["error"].(string); ok {
			if !strings.HasPrefix(e, "line 1: ") {
				t.Fatalf("error %q does not name the line", e)
			}
			return
		}
		switch m["result"] {
		case "match", "reject", "no-match", "unresolved":
		default:
			t.Fatalf("output %q: unknown result", out)
		}
	})
}
