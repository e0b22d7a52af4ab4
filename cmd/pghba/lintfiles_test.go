package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGlobRegexp(t *testing.T) {
	for _, c := range []struct {
		glob string
		yes  []string
		no   []string
	}{
		{"pg_hba*.conf", []string{"pg_hba.conf", "a/pg_hba_x.conf", "a/b/pg_hba-1.conf"}, []string{"pg_ident.conf", "pg_hba.conf.bak", "xpg_hba.conf"}},
		{"*.conf", []string{"x.conf", "a/x.conf"}, []string{"x.conff", "a.conf/x"}},
		{"vendor/**", []string{"vendor/a", "vendor/a/b.conf"}, []string{"vendor", "a/vendor/x"}},
		{"**/test/*.conf", []string{"test/a.conf", "x/y/test/a.conf"}, []string{"test/a/b.conf"}},
		{"conf/pg_hba?.conf", []string{"conf/pg_hba1.conf"}, []string{"conf/pg_hba.conf", "x/conf/pg_hba1.conf", "conf/pg_hba/.conf"}},
		{"[ab].conf", []string{"a.conf", "b.conf"}, []string{"c.conf"}},
		{"[!ab].conf", []string{"c.conf"}, []string{"a.conf"}},
		{`a\*.conf`, []string{"a*.conf"}, []string{"ab.conf"}},
	} {
		re, err := globRegexp(c.glob)
		if err != nil {
			t.Errorf("%s: %v", c.glob, err)
			continue
		}
		for _, s := range c.yes {
			if !re.MatchString(s) {
				t.Errorf("%s does not match %s", c.glob, s)
			}
		}
		for _, s := range c.no {
			if re.MatchString(s) {
				t.Errorf("%s matches %s", c.glob, s)
			}
		}
	}
	for _, bad := range []string{"", "[", "a[]"} {
		if _, err := globRegexp(bad); err == nil {
			t.Errorf("glob %q: no error", bad)
		}
	}
}

func TestLintTargetsWalk(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"pg_hba.conf", "a/pg_hba_x.conf", "a/pg_ident.conf", ".git/pg_hba.conf", "b/c/pg_hba.conf"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o777)
		os.WriteFile(p, nil, 0o666)
	}
	os.Symlink(filepath.Join(dir, "pg_hba.conf"), filepath.Join(dir, "b", "pg_hba_link.conf"))
	got, errs := lintTargets([]string{dir, filepath.Join(dir, "pg_hba.conf"), filepath.Join(dir, "nosuch.conf")}, defaultLintGlobs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var rel []string
	for _, g := range got {
		r, _ := filepath.Rel(dir, g.abs)
		rel = append(rel, filepath.ToSlash(r))
	}
	want := []string{"a/pg_hba_x.conf", "b/c/pg_hba.conf", "b/pg_hba_link.conf", "pg_hba.conf", "nosuch.conf"}
	if !slices.Equal(rel, want) {
		t.Errorf("targets %v, want %v", rel, want)
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("{\n  \"a\": 1,\n\t\"b\"")
	for _, c := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 2}, {2, 2, 1}, {4, 2, 3}, {13, 3, 2}, {99, 3, 5}} {
		if l, col := lineCol(data, c.off); l != c.line || col != c.col {
			t.Errorf("offset %d: %d:%d, want %d:%d", c.off, l, col, c.line, c.col)
		}
	}
}

// FuzzLintConfig: any .pghba.json is read or refused with an error placed
// at FILE:LINE:COL inside the file, never a panic.
func FuzzLintConfig(f *testing.F) {
	for _, seed := range []string{
		`{}`, ``, `{`, `[]`, `{"fail-on": "error"} x`, `{"severity": {"md5": 1}}`, `{"enable": null}`,
		`{"pg-version": 1e9}`, `{"exclude": ["["]}`, "{\n\"listen\": \"*,\"\n}", `{"minor": -1, "minor": 2}`,
		`{"roles": ""}`, `{"a":1}`, "\xef\xbb\xbf{}", `{"severity": {"nosuch": "info"}}`,
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	name := filepath.Join(dir, ".pghba.json")
	f.Fuzz(func(t *testing.T, text string) {
		if err := os.WriteFile(name, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
		_, err := readLintConfig(name)
		if err == nil {
			return
		}
		msg := err.Error()
		rest, ok := strings.CutPrefix(msg, name+":")
		if !ok {
			t.Fatalf("error %q does not start with the file name", msg)
		}
		var line, col int
		if n, _ := fmt.Sscanf(rest, "%d:%d:", &line, &col); n != 2 || line < 1 || col < 1 || line > strings.Count(text, "\n")+1 {
			t.Fatalf("error %q: no LINE:COL inside the file", msg)
		}
	})
}
