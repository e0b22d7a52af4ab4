package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

const editConf = "# c\nlocal all all peer\n"

func runEdit(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// dirFiles lists the names in dir.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestEditWriteKeepsModeAndLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.conf")
	if err := os.WriteFile(real, []byte(editConf), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "pg_hba.conf")
	if err := os.Symlink("real.conf", link); err != nil {
		t.Fatal(err)
	}
	if code, _, e := runEdit(t, "add", link, "--", "host", "all", "all", "::1/128", "md5"); code != 0 {
		t.Fatalf("add: %d %s", code, e)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link")
	}
	fi, err := os.Stat(real)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(real)
	if string(data) != editConf+"host all all ::1/128 md5\n" {
		t.Errorf("file is %q", data)
	}
	if names := dirFiles(t, dir); len(names) != 2 {
		t.Errorf("files left: %v", names)
	}
}

func TestEditRenameFails(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "pg_hba.conf")
	if err := os.WriteFile(name, []byte(editConf), 0o600); err != nil {
		t.Fatal(err)
	}
	defer func(r func(string, string) error) { rename = r }(rename)
	rename = func(string, string) error { return errors.New("interrupted") }
	code, _, e := runEdit(t, "remove", name, "--line", "2")
	if code != exitUsage || !strings.Contains(e, "interrupted; not written") {
		t.Errorf("remove with a failing rename: %d %q", code, e)
	}
	if data, _ := os.ReadFile(name); string(data) != editConf {
		t.Errorf("file changed: %q", data)
	}
	if names := dirFiles(t, dir); len(names) != 1 {
		t.Errorf("temporary file left: %v", names)
	}
}

func TestEditRefusals(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "pg_hba.conf")
	t.Run("read-only", func(t *testing.T) {
		if err := os.WriteFile(name, []byte(editConf), 0o444); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(name, 0o600)
		code, _, e := runEdit(t, "add", name, "--", "local", "all", "all", "trust")
		if code != exitUsage || !strings.Contains(e, "read-only") {
			t.Errorf("read-only: %d %q", code, e)
		}
		if data, _ := os.ReadFile(name); string(data) != editConf {
			t.Errorf("file changed: %q", data)
		}
	})
	t.Run("changed-since-read", func(t *testing.T) {
		if err := os.WriteFile(name, []byte(editConf), 0o600); err != nil {
			t.Fatal(err)
		}
		tg, err := openEdit(&hba.Parser{}, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tg.file.Append("local all all trust"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(editConf+"# someone else\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := tg.write(tg.file.Bytes()); err == nil || !strings.Contains(err.Error(), "changed since it was read") {
			t.Errorf("write after a change: %v", err)
		}
		if data, _ := os.ReadFile(name); string(data) != editConf+"# someone else\n" {
			t.Errorf("file overwritten: %q", data)
		}
	})
	t.Run("vanished-directory", func(t *testing.T) {
		sub := filepath.Join(dir, "gone")
		os.Mkdir(sub, 0o700)
		f := filepath.Join(sub, "pg_hba.conf")
		if err := os.WriteFile(f, []byte(editConf), 0o600); err != nil {
			t.Fatal(err)
		}
		tg, err := openEdit(&hba.Parser{}, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(sub); err != nil {
			t.Fatal(err)
		}
		if err := tg.write([]byte("local all all trust\n")); err == nil || !strings.Contains(err.Error(), "not written") {
			t.Errorf("write into a vanished directory: %v", err)
		}
		if _, err := os.Stat(sub); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("directory came back: %v", err)
		}
	})
}
