package identconf

import (
	"sort"
	"strings"

	"github.com/pghba/pghba/internal/testkit"
)

// archive is a regression or recorded case: a txtar archive (internal/testkit) whose
// comment holds header lines "key: value", then the case's files by name.
type archive struct {
	Header []string // lines before the first file, without newlines
	Files  map[string][]byte
}

func parseArchive(data []byte) (*archive, error) {
	t, err := testkit.Parse(data)
	if err != nil {
		return nil, err
	}
	a := &archive{Files: map[string][]byte{}}
	for _, h := range strings.SplitAfter(string(t.Comment), "\n") {
		if h != "" {
			a.Header = append(a.Header, strings.TrimSuffix(h, "\n"))
		}
	}
	for _, f := range t.Files {
		a.Files[f.Name] = f.Data
	}
	return a, nil
}

// values returns the header values for key, in order.
func (a *archive) values(key string) []string {
	var out []string
	for _, h := range a.Header {
		if k, v, ok := strings.Cut(h, ": "); ok && k == key {
			out = append(out, v)
		} else if h == key+":" {
			out = append(out, "")
		}
	}
	return out
}

func (a *archive) value(key string) string {
	if v := a.values(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// format writes the archive, pg_ident.conf first, then the other files by name.
func (a *archive) format() []byte {
	t := &testkit.Archive{}
	for _, h := range a.Header {
		t.Comment = append(t.Comment, h+"\n"...)
	}
	names := make([]string, 0, len(a.Files))
	for n := range a.Files {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "pg_ident.conf") != (names[j] == "pg_ident.conf") {
			return names[i] == "pg_ident.conf"
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		t.Files = append(t.Files, testkit.File{Name: n, Data: a.Files[n]})
	}
	return t.Format()
}
