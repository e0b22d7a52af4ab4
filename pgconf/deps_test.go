package pgconf

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStdlibOnly: the library packages import only the standard library,
// so the command's driver (cmd/pghba, its own module) never reaches a
// library user.
func TestStdlibOnly(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./hba", "./pgconf")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/pghba/pghba/hba" && p != "github.com/pghba/pghba/pgconf" {
			t.Errorf("library dependency outside the standard library: %s", p)
		}
	}
}
