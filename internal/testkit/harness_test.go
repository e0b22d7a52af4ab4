package testkit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnv(t *testing.T) {
	e := &Env{Prefix: "PGHBA_TESTKIT"}
	t.Setenv("PGHBA_TESTKIT_SEED", "42")
	t.Setenv("PGHBA_TESTKIT_N", "7")
	t.Setenv("PGHBA_TESTKIT_BAD", "x")
	t.Setenv("PGHBA_TESTKIT_VERSIONS", "16, 13")
	t.Setenv("PGHBA_CONFORMANCE_LONG", "")
	if s := e.Seed(t); s != 42 {
		t.Errorf("Seed = %d, want 42", s)
	}
	if n, d := e.Int("N", 1), e.Int("BAD", 3); n != 7 || d != 3 {
		t.Errorf("Int = %d, %d, want 7, 3", n, d)
	}
	if n, d := e.Count("N", 1, 2), e.Count("UNSET", 1, 2); n != 7 || d != 1 {
		t.Errorf("Count = %d, %d, want 7, 1", n, d)
	}
	majors, req := e.Versions(t, []int{15}, 13)
	if d := cmp.Diff([]int{16, 13}, majors); d != "" {
		t.Errorf("Versions (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[int]bool{15: true, 16: true, 13: true}, req); d != "" {
		t.Errorf("required (-want +got):\n%s", d)
	}
	t.Setenv("PGHBA_TESTKIT_VERSIONS", "")
	t.Setenv("PGHBA_CONFORMANCE_LONG", "1")
	if d := e.Count("UNSET", 1, 2); d != 2 {
		t.Errorf("long Count = %d, want 2", d)
	}
	if majors, _ := e.Versions(t, []int{15}, 17); !cmp.Equal(majors, []int{17, 18}) {
		t.Errorf("long Versions = %v, want [17 18]", majors)
	}
}

func TestSave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	t.Setenv("PGHBA_TESTKIT_SAVE", dir)
	e := &Env{Prefix: "PGHBA_TESTKIT"}
	p := e.Save(t, "case-1", []byte("x\n"))
	if p != filepath.Join(dir, "case-1.txtar") {
		t.Fatalf("Save path %q", p)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "x\n" {
		t.Fatalf("saved %q, %v", b, err)
	}
	if a, b := e.Seq(), e.Seq(); a != 1 || b != 2 {
		t.Errorf("Seq = %d, %d", a, b)
	}
}
