//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestEditKeepsOwner runs as root only: a file owned by another user keeps
// its owner and group across an edit.
func TestEditKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file another owner")
	}
	name := filepath.Join(t.TempDir(), "pg_hba.conf")
	if err := os.WriteFile(name, []byte(editConf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(name, 4321, 4322); err != nil {
		t.Fatal(err)
	}
	if code, _, e := runEdit(t, "add", name, "--", "local", "all", "all", "trust"); code != 0 {
		t.Fatalf("add: %d %s", code, e)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 4321 || st.Gid != 4322 || fi.Mode().Perm() != 0o600 {
		t.Errorf("owner %d:%d mode %v, want 4321:4322 0600", st.Uid, st.Gid, fi.Mode().Perm())
	}
}
