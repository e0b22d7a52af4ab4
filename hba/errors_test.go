package hba

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestErrorFiles loads every testdata/errors/*.conf, whose bad lines end in
// a comment `# ERROR "regexp"`, and checks that exactly those lines fail,
// each with a message matching its regexp. The first line names the
// versions: `# versions: 16+`.
func TestErrorFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.conf")
	if len(files) == 0 {
		t.Fatal("no testdata/errors/*.conf files")
	}
	annot := regexp.MustCompile(`# ERROR "((?:[^"\\]|\\.)*)"\s*$`)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		spec := strings.TrimSpace(strings.TrimPrefix(lines[0], "# versions:"))
		want := map[int]*regexp.Regexp{}
		for i, l := range lines {
			if m := annot.FindStringSubmatch(l); m != nil {
				rx := strings.ReplaceAll(m[1], `\"`, `"`)
				want[i+1] = regexp.MustCompile(rx)
			}
		}
		for _, v := range versions(spec) {
			t.Run(filepath.Base(file)+"/v"+itoa(v), func(t *testing.T) {
				p := &Parser{Version: v}
				f, err := p.ParseFile(file)
				if err != nil {
					t.Fatal(err)
				}
				got := map[int]*Error{}
				for _, e := range f.Errors {
					got[e.Pos.Line] = e
				}
				for line, rx := range want {
					e := got[line]
					if e == nil {
						t.Errorf("line %d: no error, want %q", line, rx)
						continue
					}
					if !rx.MatchString(e.Msg) {
						t.Errorf("line %d: error %q does not match %q", line, e.Msg, rx)
					}
				}
				for line, e := range got {
					if want[line] == nil {
						t.Errorf("line %d: unexpected error %q", line, e.Msg)
					}
				}
			})
		}
	}
}
