package main

// Tests of pghba lint in CI: the SARIF log against Microsoft's validator,
// stable fingerprints, columns, the XML formats read back, --new-from-rev
// in a real git repository and the pre-commit hook.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

// lintOut runs pghba with args in dir and returns its standard output and
// exit status.
func lintOut(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("pghba %s: stderr: %s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), code
}

// sarifLogJSON is the part of a SARIF log the tests read.
type sarifLogJSON struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID      string `json:"id"`
					HelpURI string `json:"helpUri"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			Level     string `json:"level"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine   int `json:"startLine"`
						StartColumn int `json:"startColumn"`
						EndColumn   int `json:"endColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			RelatedLocations    []json.RawMessage `json:"relatedLocations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          map[string]any    `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func decodeSARIF(t *testing.T, s string) sarifLogJSON {
	t.Helper()
	var log sarifLogJSON
	if err := json.Unmarshal([]byte(s), &log); err != nil {
		t.Fatalf("SARIF output is not JSON: %v\n%s", err, s)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	return log
}

// sarifMultitool is Microsoft's SARIF validator: $PGHBA_SARIF_MULTITOOL, else
// where scripts/install-sarif.sh puts it. "" when it is not there.
func sarifMultitool() string {
	if m := os.Getenv("PGHBA_SARIF_MULTITOOL"); m != "" {
		return m
	}
	cache := os.Getenv("PGHBA_CACHE")
	if cache == "" {
		if os.Getuid() == 0 {
			cache = "/var/cache/pghba"
		} else if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
			cache = filepath.Join(x, "pghba")
		} else if h, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(h, ".cache", "pghba")
		}
	}
	m := filepath.Join(cache, "sarif", "node_modules", ".bin", "sarif-multitool-linux")
	if _, err := os.Stat(m); err != nil {
		return ""
	}
	return m
}

// TestLintSARIFValidator validates the SARIF logs of several runs with
// Microsoft's validator: no error and no warning. (Its notes are advice
// that does not fit: rule ids in the form CS2001, message ids instead of
// text, version control provenance, reachable URIs.)
func TestLintSARIFValidator(t *testing.T) {
	m := sarifMultitool()
	if m == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("sarif-multitool-linux not installed (bash scripts/install-sarif.sh, or set PGHBA_SARIF_MULTITOOL)")
		}
		t.Skip("sarif-multitool-linux not installed: run bash scripts/install-sarif.sh, or set PGHBA_SARIF_MULTITOOL")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(work, name)
		os.MkdirAll(filepath.Dir(p), 0o777)
		if err := os.WriteFile(p, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	write("a/pg_hba.conf", "local all all peer\nhost all all 0.0.0.0/0 trust\nhost all all 10.0.0.0/8 md5\ninclude_if_exists more.conf\n")
	write("a/more.conf", "host all all 10.0.0.0/33 trust\nhost replication all ::/0 scram-sha-256\n")
	write("b/pg_hba_main.conf", "local all all peer\nlocal all all peer\nhost app bob db.example.com ident\n")
	write("b/pg_hba_empty.conf", "# nothing\n")
	write("c/pg_hba.conf", "hostssl all all 10.0.0.0/8 password\n")
	write("sp ace/pg_hba.conf", "host all all 0.0.0.0/0 md5\n")
	write("d/pg_hba.conf", "# pghba: ignore-file=host-name\nlocal all all peer\n"+
		"host all all 10.0.0.0/8 md5 # pghba: ignore=md5 -- legacy clients\n# pghba: ignore=ident-tcp\nhost app bob 192.168.0.0/16 ident\n"+
		"# pghba: ignroe=md5\nhost app bob 10.0.0.0/8 password\n")
	cases := map[string][]string{
		"dangerous":   {"lint", "--format", "sarif", "--listen", "*", "--ident", filepath.Join(root, "examples/pg_ident.conf"), filepath.Join(root, "examples/dangerous_pg_hba.conf")},
		"many":        {"lint", "--format", "sarif", "--no-config", work, filepath.Join(work, "nosuch.conf")},
		"path-prefix": {"lint", "--format", "sarif", "--path-prefix", "deploy/hba", "--severity", "md5=error", "a/pg_hba.conf", "c/pg_hba.conf"},
		"empty":       {"lint", "--format", "sarif", "--enable", "md5", "c/pg_hba.conf"},
		"suppressed":  {"lint", "--format", "sarif", "--no-config", "d/pg_hba.conf"},
	}
	// One validator run for every log: it takes a few seconds to start.
	logs := t.TempDir()
	var files []string
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, _ := lintOut(t, work, args...)
			decodeSARIF(t, out)
			file := filepath.Join(logs, name+".sarif")
			if err := os.WriteFile(file, []byte(out), 0o666); err != nil {
				t.Fatal(err)
			}
			files = append(files, file)
		})
	}
	report := filepath.Join(t.TempDir(), "validate.sarif")
	cmd := exec.Command(m, append(append([]string{"validate"}, files...), "-o", report)...)
	stdout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s validate: %v\n%s", m, err, stdout)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("validator wrote no report: %v\n%s", err, stdout)
	}
	// The validator exits 0 whatever it finds: its findings are the
	// results of its own log (errors and warnings; notes are not asked for).
	var rep struct {
		Runs []struct {
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					Arguments []string `json:"arguments"`
				} `json:"message"`
			} `json:"results"`
			Artifacts []json.RawMessage `json:"artifacts"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &rep); err != nil || len(rep.Runs) == 0 {
		t.Fatalf("validator report: %v\n%s", err, data)
	}
	if !strings.Contains(string(stdout), itoaFiles(len(files))) {
		t.Errorf("validator did not scan %d files:\n%s", len(files), stdout)
	}
	for _, r := range rep.Runs[0].Results {
		level := r.Level
		if level == "" {
			level = "warning"
		}
		t.Errorf("validator: %s %s %v", level, r.RuleID, r.Message.Arguments)
	}
	if t.Failed() {
		t.Logf("validator output:\n%s", stdout)
	}
}

// itoaFiles is how the validator counts the files it scanned.
func itoaFiles(n int) string { return "Done. " + strconv.Itoa(n) + " files scanned." }

// TestLintSARIFContent checks what the SARIF log says about the dangerous
// example: every planted problem (the LINT markers) as a result on its
// line, rules with help URIs into docs/lint.md, related locations for
// shadowed rules and the witness in the properties.
func TestLintSARIFContent(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	file := filepath.Join(root, "examples", "dangerous_pg_hba.conf")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{} // "line check"
	for i, line := range strings.Split(string(data), "\n") {
		if _, marks, ok := strings.Cut(line, "# LINT "); ok {
			for _, id := range strings.FieldsFunc(marks, func(r rune) bool { return r == ' ' || r == ',' }) {
				want[strings.Join([]string{strconv.Itoa(i + 1), id}, " ")] = true
			}
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d planted problems found in %s", len(want), file)
	}
	out, code := lintOut(t, root, "lint", "--format", "sarif", "--listen", "*", "--ident", "examples/pg_ident.conf", "examples/dangerous_pg_hba.conf")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	log := decodeSARIF(t, out)
	for _, r := range log.Runs[0].Tool.Driver.Rules {
		if !strings.HasSuffix(r.HelpURI, "docs/lint.md#"+r.ID) {
			t.Errorf("rule %s: helpUri %s", r.ID, r.HelpURI)
		}
	}
	got := map[string]bool{}
	for _, r := range log.Runs[0].Results {
		loc := r.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != "examples/dangerous_pg_hba.conf" {
			t.Errorf("%s: uri %q, want the path from the repository root", r.RuleID, loc.ArtifactLocation.URI)
		}
		got[strconv.Itoa(loc.Region.StartLine)+" "+r.RuleID] = true
		if (r.RuleID == "unreachable" || r.RuleID == "duplicate") && len(r.RelatedLocations) == 0 {
			t.Errorf("line %d %s: no relatedLocations", loc.Region.StartLine, r.RuleID)
		}
		if r.RuleID == "duplicate" && r.Properties["witness"] == nil {
			t.Errorf("line %d %s: no witness", loc.Region.StartLine, r.RuleID)
		}
		if len(r.PartialFingerprints) != 1 {
			t.Errorf("line %d %s: partialFingerprints %v", loc.Region.StartLine, r.RuleID, r.PartialFingerprints)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("planted problem %q not in the SARIF log", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("SARIF result %q is not a planted problem", k)
		}
	}
}

// TestLintColumns: examples/dangerous_pg_hba.conf linted to SARIF shows
// every planted problem (the ids after its "# LINT" markers, and nothing
// else) with the column span of the token at fault: startColumn and
// endColumn cover exactly the token each check points at.
func TestLintColumns(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	out, _ := lintOut(t, root, "lint", "--format", "sarif", "--no-config", "--listen", "*", "--ident", "examples/pg_ident.conf", "examples/dangerous_pg_hba.conf")
	log := decodeSARIF(t, out)
	data, err := os.ReadFile(filepath.Join(root, "examples", "dangerous_pg_hba.conf"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	want := map[string]bool{} // "line id"
	for k, line := range lines {
		if _, ids, ok := strings.Cut(line, "# LINT "); ok {
			for _, id := range strings.Split(strings.TrimSpace(ids), ",") {
				want[strconv.Itoa(k+1)+" "+id] = true
			}
		}
	}
	got := map[string]bool{}
	for _, r := range log.Runs[0].Results {
		reg := r.Locations[0].PhysicalLocation.Region
		key := strconv.Itoa(reg.StartLine) + " " + r.RuleID
		got[key] = true
		if !want[key] {
			t.Errorf("line %d: %s is not planted", reg.StartLine, r.RuleID)
		}
		line := lines[reg.StartLine-1]
		if reg.StartColumn < 1 || reg.EndColumn <= reg.StartColumn || reg.EndColumn-1 > len(line) {
			t.Errorf("line %d %s: span [%d, %d) is not on %q", reg.StartLine, r.RuleID, reg.StartColumn, reg.EndColumn, line)
			continue
		}
		span := line[reg.StartColumn-1 : reg.EndColumn-1] // the file is ASCII: code points are bytes
		rule, _, _ := strings.Cut(line, "#")
		fields := strings.Fields(rule)
		var token string
		switch r.RuleID {
		case "duplicate", "unreachable":
			token = strings.TrimSpace(rule)
		case "never-matches":
			token = fields[0]
		case "trust-remote", "wide-open", "replication-wide", "host-name", "unreachable-listen":
			token = fields[3]
		case "password-cleartext", "md5", "ident-tcp":
			token = fields[4]
		case "missing-map":
			token = "map=dbas"
		default:
			t.Errorf("line %d: %s: no column expected for this check", reg.StartLine, r.RuleID)
			continue
		}
		if span != token || strings.Index(line, token) != reg.StartColumn-1 {
			t.Errorf("line %d %s: span [%d, %d) is %q, want %q", reg.StartLine, r.RuleID, reg.StartColumn, reg.EndColumn, span, token)
		}
	}
	for key := range want {
		if !got[key] {
			t.Errorf("planted %s: not reported", key)
		}
	}
}

// TestLintFingerprintsStable: lines added above a finding, and edits to
// other rules, leave its partial fingerprint alone; the same problem on
// two identical lines gets two fingerprints; another check on the same
// line another.
func TestLintFingerprintsStable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pg_hba.conf")
	fingerprints := func(text string) map[string]string { // "check line" -> fingerprint
		if err := os.WriteFile(file, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
		out, _ := lintOut(t, dir, "lint", "--format", "sarif", "--no-config", "pg_hba.conf")
		log := decodeSARIF(t, out)
		fp := map[string]string{}
		for _, r := range log.Runs[0].Results {
			for _, v := range r.PartialFingerprints {
				fp[r.RuleID+" "+strconv.Itoa(r.Locations[0].PhysicalLocation.Region.StartLine)] = v
			}
		}
		return fp
	}
	before := fingerprints("local all all peer\nhost all all 10.0.0.0/8 md5\nhost app bob 192.168.0.0/16 ident\nhost app bob 192.168.0.0/16 ident\n")
	after := fingerprints("# a comment\n\nlocal all postgres peer\nlocal   all  all   peer\nhost  all all 10.0.0.0/8   md5\nhost app bob 192.168.0.0/16 ident\nhost app bob 192.168.0.0/16 ident\n")
	if len(before) == 0 {
		t.Fatal("no findings")
	}
	for _, pair := range [][2]string{{"md5 2", "md5 5"}, {"ident-tcp 3", "ident-tcp 6"}, {"duplicate 4", "duplicate 7"}} {
		b, a := before[pair[0]], after[pair[1]]
		if b == "" || a == "" {
			t.Errorf("%s / %s: no finding (before %v, after %v)", pair[0], pair[1], before, after)
			continue
		}
		if a != b {
			t.Errorf("%s moved to %s: fingerprint %s became %s", pair[0], pair[1], b, a)
		}
	}
	seen := map[string]string{}
	for k, v := range before {
		if o, dup := seen[v]; dup {
			t.Errorf("%s and %s share fingerprint %s", o, k, v)
		}
		seen[v] = k
	}
}

// TestLintXMLFormats reads the checkstyle and junit output back as XML and
// counts what it holds.
func TestLintXMLFormats(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pg_hba.conf"), []byte("local all all peer\nhost all all 10.0.0.0/8 md5\nhost all all db.example.com scram-sha-256\n"), 0o666)
	os.WriteFile(filepath.Join(dir, "pg_hba_ok.conf"), []byte("local all all peer\n"), 0o666)
	out, code := lintOut(t, dir, "lint", "--format", "checkstyle", "--no-config", ".")
	if code != 1 {
		t.Errorf("checkstyle: exit %d, want 1", code)
	}
	var cs struct {
		Files []struct {
			Name   string `xml:"name,attr"`
			Errors []struct {
				Line     int    `xml:"line,attr"`
				Severity string `xml:"severity,attr"`
				Source   string `xml:"source,attr"`
			} `xml:"error"`
		} `xml:"file"`
	}
	if err := xml.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatalf("checkstyle: %v\n%s", err, out)
	}
	if len(cs.Files) != 2 || cs.Files[0].Name != "pg_hba.conf" || len(cs.Files[0].Errors) != 2 || len(cs.Files[1].Errors) != 0 {
		t.Errorf("checkstyle: %+v", cs)
	} else if e := cs.Files[0].Errors; e[0].Source != "pghba.md5" || e[0].Line != 2 || e[0].Severity != "warning" || e[1].Severity != "info" {
		t.Errorf("checkstyle errors: %+v", e)
	}
	out, _ = lintOut(t, dir, "lint", "--format", "junit", "--no-config", ".")
	var ju struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &ju); err != nil {
		t.Fatalf("junit: %v\n%s", err, out)
	}
	// pg_hba.conf: md5 fails, host-name (info) passes; pg_hba_ok.conf: one
	// passing case.
	if ju.Tests != 3 || ju.Failures != 1 || len(ju.Suites) != 2 || ju.Suites[0].Failures != 1 || ju.Suites[1].Tests != 1 {
		t.Errorf("junit: %+v\n%s", ju, out)
	}
}

// TestLintNewFromRev lints in a real git repository: only the findings on
// lines changed since the revision, and every finding of a file git does
// not track.
func TestLintNewFromRev(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("pg_hba.conf", "local all all peer\nhost all all 10.0.0.0/8 md5\nhost all all 172.16.0.0/12 ident\n")
	git("add", ".")
	git("commit", "-q", "-m", "old")
	// One old finding stays (md5, line 3 now), one line changes (ident to
	// trust: trust-remote on line 4), one line is added above (md5, line 1).
	write("pg_hba.conf", "host app app 192.168.0.0/16 md5\nlocal all all peer\nhost all all 10.0.0.0/8 md5\nhost all all 172.16.0.0/12 trust\n")
	write("pg_hba_new.conf", "host all all 10.2.0.0/16 md5\n")
	out, code := lintOut(t, dir, "lint", "--no-config", "--new-from-rev", "HEAD", "pg_hba.conf", "pg_hba_new.conf")
	want := "pg_hba.conf:1: warning: md5: "
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 3 || !strings.HasPrefix(lines[0], want) ||
		!strings.HasPrefix(lines[1], "pg_hba.conf:4: warning: trust-remote: ") || !strings.HasPrefix(lines[2], "pg_hba_new.conf:1: warning: md5: ") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	all, _ := lintOut(t, dir, "lint", "--no-config", "pg_hba.conf")
	if !strings.Contains(all, "pg_hba.conf:3: warning: md5") {
		t.Errorf("without --new-from-rev the old finding is missing:\n%s", all)
	}
	var errOut bytes.Buffer
	if code := run([]string{"lint", "--new-from-rev", "nosuchrev", "pg_hba.conf"}, strings.NewReader(""), &bytes.Buffer{}, &errOut); code != exitUsage || !strings.Contains(errOut.String(), "nosuchrev") {
		t.Errorf("bad revision: exit %d, stderr %q", code, errOut.String())
	}
}

// TestPreCommitHook runs pre-commit try-repo on this checkout against a
// temporary repository with one failing and one passing file, where
// pre-commit is installed.
func TestPreCommitHook(t *testing.T) {
	pc, err := exec.LookPath("pre-commit")
	if err != nil {
		t.Skip("pre-commit is not installed: bash scripts/install-sarif.sh installs it from Debian's packages as root, else pip install pre-commit")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if err := exec.Command("git", "-C", root, "rev-parse", "--git-dir").Run(); err != nil {
		t.Skipf("%s is not a git checkout: pre-commit try-repo needs one", root)
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	os.WriteFile(filepath.Join(dir, "pg_hba.conf"), []byte("local all all peer\n"), 0o666)
	os.MkdirAll(filepath.Join(dir, "bad"), 0o777)
	os.WriteFile(filepath.Join(dir, "bad", "pg_hba.conf"), []byte("host all all 0.0.0.0/0 trust\n"), 0o666)
	git("add", ".")
	home := t.TempDir()
	tryRepo := func(files ...string) (string, error) {
		cmd := exec.Command(pc, append([]string{"try-repo", root, "pghba-lint", "--files"}, files...)...)
		cmd.Dir = dir
		// Its hook environments, not the user's; pre-commit gives go install
		// a GOPATH of its own, so the module cache is named to be shared
		// (nothing is downloaded twice).
		cmd.Env = append(os.Environ(), "PRE_COMMIT_HOME="+home, "GOMODCACHE="+goEnv(t, "GOMODCACHE"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := tryRepo("pg_hba.conf"); err != nil {
		t.Errorf("passing file: %v\n%s", err, out)
	}
	out, err := tryRepo("bad/pg_hba.conf")
	if err == nil || !strings.Contains(out, "bad/pg_hba.conf:1: warning: wide-open: ") {
		t.Errorf("failing file: err %v\n%s", err, out)
	}
	t.Logf("pre-commit try-repo on the failing file:\n%s", out)
}

// TestLintSuppressionsCarried: a result with suppressions (as in-source
// suppressions will make them) is in the JSON and SARIF output with its
// suppressions, and left out of the other formats.
func TestLintSuppressionsCarried(t *testing.T) {
	rep := &lintReport{cwd: "/r", root: "/r"}
	nm := rep.namerFor(namer{dir: "/r"}, false)
	rep.files = []lintPlace{nm.place(hba.Position{Filename: "/r/pg_hba.conf"})}
	for i, sup := range [][]lintSuppression{nil, {{Kind: "inSource", Justification: "operator-owned"}}} {
		r := lintResult{lintPlace: nm.place(hba.Position{Filename: "/r/pg_hba.conf", Line: i + 1}), severity: audit.SeverityWarning,
			check: audit.CheckWideOpen, message: "open " + strconv.Itoa(i), fingerprint: "f", suppressions: sup}
		rep.results = append(rep.results, r)
	}
	formats := map[string]string{}
	for _, f := range lintFormats {
		var b bytes.Buffer
		rep.format = f
		rep.write(&b)
		formats[f] = b.String()
	}
	for _, f := range []string{"text", "github", "checkstyle", "junit"} {
		if !strings.Contains(formats[f], "open 0") || strings.Contains(formats[f], "open 1") {
			t.Errorf("%s: want the unsuppressed finding only:\n%s", f, formats[f])
		}
	}
	if !strings.Contains(formats["json"], `"message":"open 1","suppressions":[{"kind":"inSource","justification":"operator-owned"}]`) {
		t.Errorf("json: suppressed finding not carried:\n%s", formats["json"])
	}
	log := decodeSARIF(t, formats["sarif"])
	if n := len(log.Runs[0].Results); n != 2 || !strings.Contains(formats["sarif"], `"suppressions":[{"kind":"inSource","justification":"operator-owned"}]`) {
		t.Errorf("sarif: %d results, suppression carried: %v", n, strings.Contains(formats["sarif"], "operator-owned"))
	}
}

// TestLintColumnsWritten: a finding whose position has a column span (as
// the library gives, in bytes) gets it, counted in code points, as
// startColumn and endColumn in SARIF, col= in github, column in JSON and checkstyle; one
// without gets none.
func TestLintColumnsWritten(t *testing.T) {
	rep := &lintReport{cwd: "/r", root: "/r"}
	nm := rep.namerFor(namer{dir: "/r"}, false)
	lr := &lintRun{raw: map[hba.Position]string{{Filename: "/r/pg_hba.conf", Line: 1}: "host é all 0.0.0.0/0 md5"}, findings: []audit.Finding{
		{Pos: hba.Position{Filename: "/r/pg_hba.conf", Line: 1, Column: 23, EndColumn: 26}, Severity: audit.SeverityWarning, Check: audit.CheckMD5, Message: "m"},
		{Pos: hba.Position{Filename: "/r/pg_hba.conf", Line: 1}, Severity: audit.SeverityWarning, Check: audit.CheckWideOpen, Message: "w"},
	}}
	s := &lintSettings{enabled: map[string]bool{audit.CheckMD5: true, audit.CheckWideOpen: true}, failOn: audit.SeverityWarning}
	rep.results = lintPolicy(lr, s, nil, nm)
	out := map[string]string{}
	for _, f := range []string{"sarif", "github", "json", "checkstyle"} {
		var b bytes.Buffer
		rep.format = f
		rep.write(&b)
		out[f] = b.String()
	}
	if strings.Count(out["sarif"], `"startColumn"`) != 1 || !strings.Contains(out["sarif"], `"startLine":1,"startColumn":22,"endColumn":25,`) {
		t.Errorf("sarif: want startColumn 22 (byte 23 after a two-byte é) on the md5 result only:\n%s", out["sarif"])
	}
	if !strings.Contains(out["github"], "line=1,col=22,title=pghba md5") || !strings.Contains(out["github"], "line=1,title=pghba wide-open") {
		t.Errorf("github:\n%s", out["github"])
	}
	if strings.Count(out["json"], `"column":22`) != 1 || strings.Count(out["checkstyle"], `column="22"`) != 1 {
		t.Errorf("json / checkstyle:\n%s\n%s", out["json"], out["checkstyle"])
	}
}

// goEnv is `go env NAME`.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
