package pgconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any bytes parse without a panic; every row is in the file
// with a line within it (0 only for an error at EOF after a line without
// its newline, as the server numbers it); values are C strings.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"a = 1\n", "a 'it''s'\n", "a = 'x", "include 'p.conf'\n", "= =\n", "a = b.c d\n",
		"a='\\101\\0'\n", "#c\n\n  a.b = -1.5e3kB", "a =", ".\n'\n"} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "p.conf")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, _ := (&Parser{View: len(data)%2 == 0}).ParseFile(path)
		if c == nil {
			t.Fatal("nil Config")
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, r := range c.Rows {
			if r.File == path && (r.Line < 0 || r.Line > lines) {
				t.Fatalf("row %+v outside the file's %d lines", r, lines)
			}
			if strings.IndexByte(r.Value, 0) >= 0 || strings.IndexByte(r.Name, 0) >= 0 {
				t.Fatalf("NUL in %+v", r)
			}
		}
	})
}
