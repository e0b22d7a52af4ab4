package pgconf

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStdlibOnly: the library packages import only the standard library
// and the library module's own packages, so the command's driver
// (cmd/pghba, its own module) never reaches a library user.
func TestStdlibOnly(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}} {{.Module.Path}}{{end}}", "./hba", "./pgconf")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || f[1] != "github.com/pghba/pghba" {
			t.Errorf("library dependency outside the standard library and the module: %q", line)
		}
		n++
	}
	if n < 2 {
		t.Errorf("go list listed %d packages, want hba and pgconf at least", n)
	}
}
