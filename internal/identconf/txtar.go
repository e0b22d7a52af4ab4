package identconf

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// archive is a txtar-style file: header lines "key: value", then files introduced by
// "-- NAME --" lines. A file whose marker reads "-- NAME (quoted) --" holds one Go-quoted
// string per line (for CR, control bytes or a missing final newline).
type archive struct {
	Header []string // lines before the first file, without newlines
	Files  map[string][]byte
}

const quotedMark = " (quoted)"

func parseArchive(data []byte) (*archive, error) {
	a := &archive{Files: map[string][]byte{}}
	cur, quoted := "", false
	inFiles := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		if name, ok := marker(line); ok {
			quoted = strings.HasSuffix(name, quotedMark)
			cur = strings.TrimSuffix(name, quotedMark)
			a.Files[cur] = []byte{}
			inFiles = true
			continue
		}
		if !inFiles {
			a.Header = append(a.Header, strings.TrimRight(line, "\n"))
			continue
		}
		if quoted {
			s, err := strconv.Unquote(strings.TrimRight(line, "\n"))
			if err != nil {
				return nil, fmt.Errorf("file %s: %v", cur, err)
			}
			a.Files[cur] = append(a.Files[cur], s...)
			continue
		}
		a.Files[cur] = append(a.Files[cur], line...)
	}
	return a, nil
}

func marker(line string) (string, bool) {
	s := strings.TrimRight(line, "\n")
	if len(s) < 7 || !strings.HasPrefix(s, "-- ") || !strings.HasSuffix(s, " --") {
		return "", false
	}
	return s[3 : len(s)-3], true
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

func (a *archive) format() []byte {
	var b bytes.Buffer
	for _, h := range a.Header {
		b.WriteString(h)
		b.WriteByte('\n')
	}
	names := make([]string, 0, len(a.Files))
	for n := range a.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	// the main file first
	for i, n := range names {
		if n == "pg_ident.conf" {
			copy(names[1:i+1], names[:i])
			names[0] = n
		}
	}
	for _, n := range names {
		d := a.Files[n]
		if !needsQuote(d) {
			fmt.Fprintf(&b, "-- %s --\n", n)
			b.Write(d)
			continue
		}
		fmt.Fprintf(&b, "-- %s%s --\n", n, quotedMark)
		for _, l := range strings.SplitAfter(string(d), "\n") {
			if l != "" {
				b.WriteString(strconv.Quote(l))
				b.WriteByte('\n')
			}
		}
	}
	return b.Bytes()
}

func needsQuote(d []byte) bool {
	if len(d) > 0 && d[len(d)-1] != '\n' {
		return true
	}
	for _, l := range strings.Split(string(d), "\n") {
		if _, ok := marker(l); ok {
			return true
		}
	}
	for _, c := range d {
		if c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			return true
		}
	}
	return false
}
