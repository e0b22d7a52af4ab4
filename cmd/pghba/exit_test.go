package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// exitFixture writes a small configuration every command accepts and
// returns its directory: pg_hba.conf, pg_ident.conf, policy.txt and a
// one-line batch.
func exitFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"pg_hba.conf":   "local all all peer map=m\nhost all all 0.0.0.0/0 trust\n",
		"pg_ident.conf": "m root alice\n",
		"policy.txt":    "allow local user=alice\n",
		"batch.jsonl":   `{"type":"local","user":"alice"}` + "\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writingCommands are invocations that each write to standard output when
// it works, one or more per command and output form.
func writingCommands(dir string) [][]string {
	hba := filepath.Join(dir, "pg_hba.conf")
	return [][]string{
		{"check", "-f", hba, "--local", "--user", "alice"},
		{"check", "-f", hba, "--local", "--user", "alice", "--json"},
		{"check", "-f", hba, "--host", "10.1.2.3", "--user", "alice", "--explain"},
		{"check", "-f", hba, "--local", "--user", "alice", "--ident", filepath.Join(dir, "pg_ident.conf"), "--system-user", "root"},
		{"check", "-f", hba, "--batch", filepath.Join(dir, "batch.jsonl")},
		{"rules", "-f", hba},
		{"rules", "-f", hba, "--json"},
		{"rules", "--ident", filepath.Join(dir, "pg_ident.conf")},
		{"lint", "-f", hba},
		{"lint", "-f", hba, "--json"},
		{"exposure", "-f", hba},
		{"exposure", "-f", hba, "--json"},
		{"test", "-f", hba, filepath.Join(dir, "policy.txt")},
		{"test", "-f", hba, "--json", filepath.Join(dir, "policy.txt")},
		{"help"},
		{"help", "check"},
		{"check", "-h"},
	}
}

// failWriter fails every write, as a full disk does.
type failWriter struct{ writes int }

var errDiskFull = errors.New("no space left on device (test)")

func (w *failWriter) Write(p []byte) (int, error) {
	w.writes++
	return 0, errDiskFull
}

// TestWriteFailureExits2 proves that output lost to a failed write is never
// reported as success: every command exits 2 and says why on stderr.
func TestWriteFailureExits2(t *testing.T) {
	dir := exitFixture(t)
	for _, args := range writingCommands(dir) {
		name := strings.Join(args, " ")
		// The command works and writes when stdout works.
		var out, errOut bytes.Buffer
		if code := run(args, strings.NewReader(""), &out, &errOut); code == exitUsage || out.Len() == 0 {
			t.Fatalf("pghba %s: exit %d with %d bytes of output; the fixture must make it write", name, code, out.Len())
		}

		var fw failWriter
		errOut.Reset()
		code := run(args, strings.NewReader(""), &fw, &errOut)
		if code != exitUsage {
			t.Errorf("pghba %s > failing writer: exit %d, want %d", name, code, exitUsage)
		}
		if !strings.Contains(errOut.String(), "writing standard output: "+errDiskFull.Error()) {
			t.Errorf("pghba %s > failing writer: stderr %q does not report the write error", name, errOut.String())
		}
		if strings.Count(errOut.String(), "writing standard output") != 1 {
			t.Errorf("pghba %s > failing writer: the write error is not reported exactly once: %q", name, errOut.String())
		}
		if fw.writes != 1 {
			t.Errorf("pghba %s > failing writer: %d writes after the first failure, want none", name, fw.writes-1)
		}
	}
}

// TestWriteFailureDevFull is TestWriteFailureExits2 with the real thing:
// standard output is /dev/full, as in "pghba check ... > /dev/full".
func TestWriteFailureDevFull(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	dir := exitFixture(t)
	for _, args := range writingCommands(dir) {
		var errOut bytes.Buffer
		code := run(args, strings.NewReader(""), full, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), "writing standard output: ") || !strings.Contains(errOut.String(), "no space left on device") {
			t.Errorf("pghba %s > /dev/full: exit %d, stderr %q; want exit 2 and the write error", strings.Join(args, " "), code, errOut.String())
		}
	}
}

// TestStderrWriteFailureExits2: errors and warnings that cannot be written
// make the status 2 too, even when stdout worked.
func TestStderrWriteFailureExits2(t *testing.T) {
	dir := exitFixture(t)
	cases := [][]string{
		{"check", "-f", filepath.Join(dir, "nosuch.conf"), "--local", "--user", "alice"}, // load error on stderr
		{"check", "--bogus"}, // usage error
		{"exposure", "-f", filepath.Join(dir, "nosuch.conf")},
	}
	for _, args := range cases {
		var out bytes.Buffer
		var fw failWriter
		if code := run(args, strings.NewReader(""), &out, &fw); code != exitUsage || fw.writes == 0 {
			t.Errorf("pghba %s 2> failing writer: exit %d after %d writes, want exit 2", strings.Join(args, " "), code, fw.writes)
		}
	}
}

// TestInternalErrorIsOneLine: a panic in a command gives one line on stderr
// and exit 2, not a stack dump. The command is added to the table for the
// test only.
func TestInternalErrorIsOneLine(t *testing.T) {
	table := commands
	commands = append(commands[:len(commands):len(commands)], &command{name: "panic-test", summary: "-", usage: "usage: pghba panic-test\n",
		run: func(inv *invocation, args []string) int {
			io.WriteString(inv.stdout, "partial output\n")
			var m map[string]int
			m["x"] = 1 // a real runtime panic: assignment to a nil map
			return exitOK
		}})
	defer func() { commands = table }()
	var out, errOut bytes.Buffer
	code := run([]string{"panic-test"}, strings.NewReader(""), &out, &errOut)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	got := errOut.String()
	if !strings.HasPrefix(got, "pghba panic-test: internal error: ") || strings.Count(got, "\n") != 1 || strings.Contains(got, "goroutine") {
		t.Errorf("stderr %q, want one line \"pghba panic-test: internal error: ...\"", got)
	}
	if !strings.Contains(got, "nil map") {
		t.Errorf("stderr %q does not say what failed", got)
	}
}

// TestNotLoadedSameStatusEverywhere: a main file or --ident file that did
// not load gives exit 1 in every command, whatever the reason, with the
// error named as file:line: message; a side input that cannot be read
// gives 2.
func TestNotLoadedSameStatusEverywhere(t *testing.T) {
	dir := exitFixture(t)
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mains := map[string]string{
		"missing":    filepath.Join(dir, "nosuch.conf"),
		"unreadable": filepath.Join(dir, "pg_hba.conf", "x"), // ENOTDIR, even for root
		"line error": write("bad.conf", "hots all all 127.0.0.1/32 trust\n"),
		"no rules":   write("empty.conf", "# nothing\n"),
		"limit":      write("nest.conf", "local @self.list all trust\n"), // @file nesting depth
	}
	write("self.list", "@self.list\n")
	policy := filepath.Join(dir, "policy.txt")
	for why, main := range mains {
		for _, args := range [][]string{
			{"check", "-f", main, "--local", "--user", "alice"},
			{"check", "-f", main, "--local", "--user", "alice", "--json", "--explain"},
			{"check", "-f", main, "--batch", filepath.Join(dir, "batch.jsonl")},
			{"rules", "-f", main},
			{"lint", "-f", main},
			{"exposure", "-f", main},
			{"test", "-f", main, policy},
		} {
			var out, errOut bytes.Buffer
			code := run(args, strings.NewReader(""), &out, &errOut)
			if code != exitNotLoaded {
				t.Errorf("%s main file: pghba %s: exit %d, want %d\nstderr: %s", why, strings.Join(args, " "), code, exitNotLoaded, errOut.String())
			}
			report := errOut.String()
			switch {
			case args[0] == "lint":
				report = out.String()
			case args[0] == "rules" && errOut.Len() == 0:
				// A file that was read shows its rows, errors in the
				// error column, or none for a file without rules.
				if !strings.Contains(out.String(), "error") {
					t.Errorf("%s main file: pghba %s: no table: %q", why, strings.Join(args, " "), out.String())
				}
				continue
			}
			if !strings.Contains(report, ":0: ") && !strings.Contains(report, ":1: ") {
				t.Errorf("%s main file: pghba %s: no file:line: message in %q", why, strings.Join(args, " "), report)
			}
		}
	}
	for why, ident := range map[string]string{"missing": mains["missing"], "unreadable": mains["unreadable"]} {
		for _, args := range [][]string{
			{"check", "-f", filepath.Join(dir, "pg_hba.conf"), "--local", "--user", "alice", "--ident", ident, "--system-user", "root"},
			{"rules", "--ident", ident},
			{"lint", "-f", filepath.Join(dir, "pg_hba.conf"), "--ident", ident},
		} {
			var out, errOut bytes.Buffer
			if code := run(args, strings.NewReader(""), &out, &errOut); code != exitNotLoaded {
				t.Errorf("%s --ident file: pghba %s: exit %d, want %d\nstderr: %s", why, strings.Join(args, " "), code, exitNotLoaded, errOut.String())
			}
		}
	}
	for _, args := range [][]string{
		{"check", "-f", filepath.Join(dir, "pg_hba.conf"), "--roles", mains["unreadable"], "--local", "--user", "alice"},
		{"check", "-f", filepath.Join(dir, "pg_hba.conf"), "--hosts", mains["missing"], "--local", "--user", "alice"},
		{"check", "-f", filepath.Join(dir, "pg_hba.conf"), "--batch", mains["missing"]},
		{"test", "-f", filepath.Join(dir, "pg_hba.conf"), mains["unreadable"]},
		{"rules", "-f", filepath.Join(dir, "pg_hba.conf"), "--hosts", mains["missing"]},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, strings.NewReader(""), &out, &errOut); code != exitUsage {
			t.Errorf("pghba %s: exit %d, want %d (a side input is an I/O error)", strings.Join(args, " "), code, exitUsage)
		}
	}
}

// lineSource is an endless-looking input made on the fly: n bytes of c,
// then a newline, then rest. It holds nothing in memory.
type lineSource struct {
	n    int64
	c    byte
	rest *strings.Reader
}

func (s *lineSource) Read(p []byte) (int, error) {
	if s.n > 0 {
		k := int64(len(p))
		if k > s.n {
			k = s.n
		}
		for i := range p[:k] {
			p[i] = s.c
		}
		s.n -= k
		return int(k), nil
	}
	if s.n == 0 {
		s.n = -1
		p[0] = '\n'
		return 1, nil
	}
	return s.rest.Read(p)
}

// TestBatchLineOverCapIsSkipped: a --batch line over 1 MiB gives a per-line
// error object and the batch goes on with the next line; a line of exactly
// the cap is still decided.
func TestBatchLineOverCapIsSkipped(t *testing.T) {
	dir := exitFixture(t)
	valid := `{"type":"host","addr":"10.1.2.3","user":"bob"}`
	atCap := valid + strings.Repeat(" ", maxBatchLine-len(valid)) // JSON allows trailing spaces
	overCap := valid + strings.Repeat(" ", maxBatchLine-len(valid)+1)
	input := strings.Join([]string{
		`{"type":"local","user":"alice"}`,
		strings.Repeat("x", 3*maxBatchLine), // over the cap, not JSON
		valid,
		atCap,
		overCap,
		"",
		overCap + "\r",                      // \r counts
		strings.Repeat("y", maxBatchLine+5), // the last line, without a newline
	}, "\n")
	var out, errOut bytes.Buffer
	code := run([]string{"check", "-f", filepath.Join(dir, "pg_hba.conf"), "--batch", "-"}, strings.NewReader(input), &out, &errOut)
	if code != exitOK || errOut.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		`{"result":"match","file":"pg_hba.conf","line":1,"method":"peer","options":{"map":"m"}}`,
		fmt.Sprintf(`{"error":"line 2: longer than %d bytes"}`, maxBatchLine),
		`{"result":"match","file":"pg_hba.conf","line":2,"method":"trust","options":{}}`,
		`{"result":"match","file":"pg_hba.conf","line":2,"method":"trust","options":{}}`,
		fmt.Sprintf(`{"error":"line 5: longer than %d bytes"}`, maxBatchLine),
		fmt.Sprintf(`{"error":"line 7: longer than %d bytes"}`, maxBatchLine),
		fmt.Sprintf(`{"error":"line 8: longer than %d bytes"}`, maxBatchLine),
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("output line %q is not JSON", l)
		}
	}
}

// TestBatchLongLineIsNotHeld: skipping a 64 MiB line allocates a small,
// fixed amount, not the line, and the next line is still decided.
func TestBatchLongLineIsNotHeld(t *testing.T) {
	dir := exitFixture(t)
	const long = 64 << 20
	in := &lineSource{n: long, c: 'a', rest: strings.NewReader(`{"type":"local","user":"alice"}` + "\n")}
	var out, errOut bytes.Buffer
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code := run([]string{"check", "-f", filepath.Join(dir, "pg_hba.conf"), "--batch", "-"}, in, &out, &errOut)
	runtime.ReadMemStats(&after)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	want := fmt.Sprintf(`{"error":"line 1: longer than %d bytes"}`, maxBatchLine) + "\n" +
		`{"result":"match","file":"pg_hba.conf","line":1,"method":"peer","options":{"map":"m"}}` + "\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	// Nothing of the line is kept (it is over the cap from its first
	// chunk); loading the fixture allocates a little. 16 MiB leaves room
	// and is far below the 64 MiB a whole-line read takes.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("skipping a %d-byte line allocated %d bytes", long, alloc)
	}
}

func TestReadBoundedLine(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("abc\ndefgh\nij\r\n\nklmnop"), 16)
	type got struct {
		line string
		long bool
		err  error
	}
	var all []got
	for {
		line, long, err := readBoundedLine(r, nil, 4)
		all = append(all, got{string(line), long, err})
		if err != nil {
			break
		}
	}
	want := []got{{"abc\n", false, nil}, {"", true, nil}, {"ij\r\n", false, nil}, {"\n", false, nil}, {"", true, io.EOF}}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", all, want)
	}
}

func TestReadLimited(t *testing.T) {
	if data, err := readLimited("in", strings.NewReader("12345"), 5); err != nil || string(data) != "12345" {
		t.Errorf("5 bytes, limit 5: %q, %v", data, err)
	}
	in := &lineSource{n: 1 << 30, c: 'a'} // 1 GiB, never made
	if data, err := readLimited("in", in, 10); err == nil || err.Error() != "in: larger than 10 bytes" || data != nil {
		t.Errorf("1 GiB, limit 10: %d bytes, %v", len(data), err)
	}
	if in.n != 1<<30-11 {
		t.Errorf("read %d bytes, want 11", 1<<30-in.n)
	}
}

// TestSideInputLimit: a --roles file larger than the limit is refused
// (exit 2) without being read. The file is sparse.
func TestSideInputLimit(t *testing.T) {
	dir := exitFixture(t)
	big := filepath.Join(dir, "roles.json")
	fh, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := fh.Truncate(maxSideInput + 1); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	var out, errOut bytes.Buffer
	code := run([]string{"check", "-f", filepath.Join(dir, "pg_hba.conf"), "--roles", big, "--local", "--user", "alice"}, strings.NewReader(""), &out, &errOut)
	if code != exitUsage || !strings.Contains(errOut.String(), fmt.Sprintf("larger than %d bytes", maxSideInput)) {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

// FuzzCommands runs check, rules, lint and exposure on a fuzzed pg_hba.conf
// (with an included file and an @file beside it) for every version: a file
// either loads or does not, never an internal error or a usage status.
// (Until the library bounds include fan-out, issue 12 F3, a mutation that
// includes the main file several times can make an input slow.)
func FuzzCommands(f *testing.F) {
	for _, s := range []string{
		"local all all trust\n",
		"host all all 10.0.0.0/8 md5\nhostssl db1,@users.txt +staff 192.0.2.0/24 cert clientcert=verify-full map=m\n",
		"include inc.conf\nhost all \"/^a.*$\" db.example.com ldap ldapserver=x ldapprefix=a ldapsuffix=b\n",
		"local @users.txt @users.txt reject\ninclude_dir conf.d\ninclude_if_exists nosuch\n",
		"host all all samenet radius radiusservers=r.example.com radiussecrets=s\n",
		"hots\n\"unterminated\n",
	} {
		f.Add([]byte(s), byte(0))
	}
	dir := f.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o777); err != nil {
		f.Fatal(err)
	}
	for name, data := range map[string]string{
		"inc.conf":      "host all all ::1/128 scram-sha-256\n",
		"users.txt":     "alice, bob\n",
		"hosts.json":    "{}\n",
		"conf.d/a.conf": "local all all peer\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o666); err != nil {
			f.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "pg_hba.conf")
	hosts := filepath.Join(dir, "hosts.json")
	f.Fuzz(func(t *testing.T, data []byte, v byte) {
		if err := os.WriteFile(conf, data, 0o666); err != nil {
			t.Fatal(err)
		}
		version := fmt.Sprint(13 + int(v)%6)
		for _, args := range [][]string{
			{"check", "-f", conf, "--pg-version", version, "--hosts", hosts, "--server-addrs", "10.0.0.1/8", "--host", "10.1.2.3", "--user", "alice", "--explain", "--json"},
			{"rules", "-f", conf, "--pg-version", version, "--hosts", hosts},
			{"lint", "-f", conf, "--pg-version", version},
			{"exposure", "-f", conf, "--pg-version", version},
		} {
			var out, errOut bytes.Buffer
			code := run(args, strings.NewReader(""), &out, &errOut)
			if (code != exitOK && code != exitNotLoaded) || strings.Contains(errOut.String(), "internal error") {
				t.Fatalf("pghba %s on %q: exit %d\nstderr: %s", args[0], data, code, errOut.String())
			}
		}
	})
}
