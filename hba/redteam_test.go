package hba

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small file of many self-includes opens few files but reaches the depth
// limit on every line of every file at the deepest level. Each refused
// include costs an error line, so it counts against MaxFiles: the errors of
// a load stay bounded by MaxFiles instead of MaxFiles times the lines of a
// file (a 1.7 KB file of 100 such lines gave 1.6 million errors and 1.5 GB).
func TestRedteamIncludeDepthErrorsCountAgainstMaxFiles(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		ver        int
	}{
		{"include", "include self.conf", 16},
		{"atfile16", "host all @self.conf 0.0.0.0/0 trust", 16},
		{"atfile13", "host all @self.conf 0.0.0.0/0 trust", 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "self.conf")
			data := strings.Repeat(tc.line+"\n", 50)
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			const maxFiles = 200
			p := Parser{Version: tc.ver, Limits: Limits{MaxFiles: maxFiles}}
			_, err := p.Load(path)
			var el ErrorList
			if !errors.As(err, &el) {
				t.Fatalf("Load error = %v, want an ErrorList", err)
			}
			if len(el) > maxFiles+1 {
				t.Errorf("%d errors, want at most %d (MaxFiles+1)", len(el), maxFiles+1)
			}
			if !errors.Is(err, ErrLimit) {
				t.Errorf("no ErrLimit among the errors (first: %v)", el[0])
			}
		})
	}
}
