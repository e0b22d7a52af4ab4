package main

// Tests that the published integrations agree with the command: the JSON
// Schema of .pghba.json, the pre-commit hook's file pattern and the flags
// the GitHub Action passes.

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func repoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestLintSchemaMatchesConfig: docs/pghba.schema.json has exactly the keys
// readLintConfig takes and exactly the check ids lint knows; every key is
// documented in docs/lint.md, and every check has its section there (the
// SARIF helpUri).
func TestLintSchemaMatchesConfig(t *testing.T) {
	var schema struct {
		AdditionalProperties bool                       `json:"additionalProperties"`
		Properties           map[string]json.RawMessage `json:"properties"`
		Defs                 struct {
			Check struct {
				Enum []string `json:"enum"`
			} `json:"check"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(repoFile(t, "docs/pghba.schema.json")), &schema); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range schema.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Sorted(slices.Values(configKeys))
	if !slices.Equal(keys, want) || schema.AdditionalProperties {
		t.Errorf("schema keys %v (additionalProperties %v), want %v and false", keys, schema.AdditionalProperties, want)
	}
	var ids []string
	for _, c := range lintChecks {
		ids = append(ids, string(c.id))
	}
	if !slices.Equal(schema.Defs.Check.Enum, ids) {
		t.Errorf("schema check ids %v, want %v", schema.Defs.Check.Enum, ids)
	}
	doc := repoFile(t, "docs/lint.md")
	for _, k := range configKeys {
		if !strings.Contains(doc, "| `"+k+"` |") {
			t.Errorf("docs/lint.md: no table row for the key %q", k)
		}
	}
	for _, id := range ids {
		if !strings.Contains(doc, "\n### "+id+"\n") {
			t.Errorf("docs/lint.md: no section ### %s (the SARIF helpUri)", id)
		}
	}
}

// TestPreCommitHookFiles: the hook runs pghba lint on pg_hba.conf names in
// any directory, and on nothing else.
func TestPreCommitHookFiles(t *testing.T) {
	hooks := repoFile(t, ".pre-commit-hooks.yaml")
	m := regexp.MustCompile(`(?m)^\s+files:\s*(\S+)\s*$`).FindStringSubmatch(hooks)
	if m == nil {
		t.Fatal("no files: pattern in .pre-commit-hooks.yaml")
	}
	re := regexp.MustCompile(m[1])
	for name, want := range map[string]bool{
		"pg_hba.conf": true, "deploy/pg_hba.conf": true, "a/b/pg_hba_prod.conf": true, "pg_hba-standby.conf": true,
		"pg_ident.conf": false, "pg_hba.conf.orig": false, "docs/pg_hba.md": false, "my_pg_hba.conf": false, "pg_hba.d/x.conf": false,
	} {
		if re.MatchString(name) != want {
			t.Errorf("files %s on %q: %v, want %v", m[1], name, !want, want)
		}
	}
	for _, want := range []string{"entry: pghba lint", "language: golang", "id: pghba-lint"} {
		if !strings.Contains(hooks, want) {
			t.Errorf(".pre-commit-hooks.yaml lacks %q", want)
		}
	}
}

// TestActionFlags: every flag the action passes to pghba lint exists, and
// it runs lint with --format sarif and uploads with upload-sarif.
func TestActionFlags(t *testing.T) {
	action := repoFile(t, "action.yml")
	inv := newInvocation(lookup("lint"), strings.NewReader(""), io.Discard, io.Discard)
	runLint(inv, []string{"-h"}) // defines lint's flags on inv.flags
	n := 0
	for _, line := range strings.Split(action, "\n") {
		if !strings.Contains(line, "pghba lint") && !strings.Contains(line, "args+=(") {
			continue
		}
		for _, m := range regexp.MustCompile(`(?:^|[\s(])--([a-z][a-z-]*)`).FindAllStringSubmatch(line, -1) {
			n++
			if inv.flags.Lookup(m[1]) == nil {
				t.Errorf("action.yml passes --%s, which pghba lint does not take: %s", m[1], strings.TrimSpace(line))
			}
		}
	}
	if n < 3 {
		t.Errorf("only %d flags found in action.yml", n)
	}
	for _, want := range []string{"--format sarif", "github/codeql-action/upload-sarif", "go install", "using: composite", "\n  files:", "\n  config:", "\n  fail-on:"} {
		if !strings.Contains(action, want) {
			t.Errorf("action.yml lacks %q", want)
		}
	}
}

// actionStep returns the run: script of the action's step with the id.
func actionStep(t *testing.T, action, id string) string {
	t.Helper()
	lines := strings.Split(action, "\n")
	start := slices.Index(lines, "      id: "+id)
	if start < 0 {
		t.Fatalf("action.yml: no step with id %s", id)
	}
	for i := start; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "    - ") {
			break
		}
		if lines[i] != "      run: |" {
			continue
		}
		var b strings.Builder
		for _, l := range lines[i+1:] {
			if l != "" && !strings.HasPrefix(l, "        ") {
				break
			}
			b.WriteString(strings.TrimPrefix(l, "        ") + "\n")
		}
		return b.String()
	}
	t.Fatalf("action.yml: step %s has no run: | script", id)
	return ""
}

// TestActionLintStep runs the action's lint step, as GitHub would run it
// (bash -e, the inputs in the environment), with a pghba built from this
// checkout: the SARIF log, the annotations and the exit status it records.
func TestActionLintStep(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := actionStep(t, repoFile(t, "action.yml"), "lint")
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "pghba"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	os.MkdirAll(filepath.Join(work, "db"), 0o777)
	os.WriteFile(filepath.Join(work, "db", "pg_hba.conf"), []byte("local all all peer\nhost all all 10.0.0.0/8 md5\n"), 0o666)
	os.WriteFile(filepath.Join(work, "strict.json"), []byte(`{"severity": {"md5": "error"}}`), 0o666)
	for _, c := range []struct {
		files, config, failOn string
		status                string
		annotation            string
	}{
		{"db", "", "", "1", "::warning file=db/pg_hba.conf,line=2,col=25,title=pghba md5::"},
		{"db/pg_hba.conf .", "", "none", "0", "::warning file=db/pg_hba.conf,line=2,col=25,title=pghba md5::"},
		{"db", "strict.json", "error", "1", "::error file=db/pg_hba.conf,line=2,col=25,title=pghba md5::"},
		{"db nosuch.conf", "", "", "2", "::error file=nosuch.conf,title=pghba load-error::"},
	} {
		output := filepath.Join(t.TempDir(), "output")
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "GITHUB_OUTPUT="+output,
			"FILES="+c.files, "CONFIG="+c.config, "FAIL_ON="+c.failOn, "SARIF=out.sarif", "ANNOTATIONS=true")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("files %q: the step failed: %v\n%s", c.files, err, out)
			continue
		}
		got, _ := os.ReadFile(output)
		if string(got) != "status="+c.status+"\n" {
			t.Errorf("files %q config %q fail-on %q: GITHUB_OUTPUT %q, want status=%s", c.files, c.config, c.failOn, got, c.status)
		}
		if !strings.Contains(string(out), c.annotation) {
			t.Errorf("files %q: no annotation %q in\n%s", c.files, c.annotation, out)
		}
		sarif, _ := os.ReadFile(filepath.Join(work, "out.sarif"))
		log := decodeSARIF(t, string(sarif))
		if len(log.Runs[0].Results) == 0 {
			t.Errorf("files %q: no results in the SARIF log", c.files)
		}
	}
}
