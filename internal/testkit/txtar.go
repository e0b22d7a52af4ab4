package testkit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// An Archive is a txtar archive: a comment, then files, each introduced by a
// line "-- NAME --" (the name with surrounding spaces trimmed).
type Archive struct {
	Comment []byte
	Files   []File
}

// A File is one file of an Archive. Names are not interpreted; several files
// may have the same name.
type File struct {
	Name string
	Data []byte
}

// QuotedSuffix marks a file whose lines are Go-quoted strings.
const QuotedSuffix = " (quoted)"

// Parse reads an archive. Its only error is a bad line in a quoted file.
func Parse(data []byte) (*Archive, error) {
	a := &Archive{}
	cur := &a.Comment
	quoted := false
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if name, ok := marker(line); ok {
			name, quoted = strings.CutSuffix(name, QuotedSuffix)
			a.Files = append(a.Files, File{Name: name, Data: []byte{}})
			cur = &a.Files[len(a.Files)-1].Data
			continue
		}
		if !quoted {
			*cur = append(*cur, line...)
			continue
		}
		s, err := strconv.Unquote(strings.TrimSuffix(string(line), "\n"))
		if err != nil {
			return nil, fmt.Errorf("txtar: file %s: %v", a.Files[len(a.Files)-1].Name, err)
		}
		*cur = append(*cur, s...)
	}
	return a, nil
}

// ParseString is Parse for archives that are known to hold no quoted file
// (hand-written fixtures); it panics on a bad quoted line.
func ParseString(s string) *Archive {
	a, err := Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return a
}

// marker reports whether line is "-- NAME --", and the name.
func marker(line []byte) (string, bool) {
	s := strings.TrimSuffix(string(line), "\n")
	if len(s) < 7 || !strings.HasPrefix(s, "-- ") || !strings.HasSuffix(s, " --") {
		return "", false
	}
	return strings.TrimSpace(s[3 : len(s)-3]), true
}

// Format writes the archive. A comment that does not end in a newline gets
// one. A file is written quoted when its data would not read back the same
// as plain lines or is awkward to read as text: it lacks a final newline, a
// line looks like a marker, or it holds control bytes other than tab and
// newline, DEL, or invalid UTF-8. Parse(Format(a)) gives a back, except that
// a comment gains the final newline.
func (a *Archive) Format() []byte {
	var b bytes.Buffer
	b.Write(a.Comment)
	if len(a.Comment) > 0 && a.Comment[len(a.Comment)-1] != '\n' {
		b.WriteByte('\n')
	}
	for _, f := range a.Files {
		if !NeedsQuoting(f.Data) {
			fmt.Fprintf(&b, "-- %s --\n", f.Name)
			b.Write(f.Data)
			continue
		}
		fmt.Fprintf(&b, "-- %s%s --\n", f.Name, QuotedSuffix)
		for _, l := range bytes.SplitAfter(f.Data, []byte("\n")) {
			if len(l) > 0 {
				b.WriteString(strconv.Quote(string(l)))
				b.WriteByte('\n')
			}
		}
	}
	return b.Bytes()
}

// NeedsQuoting reports whether Format writes data as a quoted file.
func NeedsQuoting(d []byte) bool {
	if len(d) > 0 && d[len(d)-1] != '\n' || !utf8.Valid(d) {
		return true
	}
	for _, l := range bytes.SplitAfter(d, []byte("\n")) {
		if _, ok := marker(l); ok {
			return true
		}
	}
	for _, c := range d {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// Get returns the data of the first file named name.
func (a *Archive) Get(name string) ([]byte, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// Set replaces the data of the first file named name, or appends the file.
func (a *Archive) Set(name string, data []byte) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, File{Name: name, Data: data})
}

// Fixtures runs fn for each file matching pattern (filepath.Glob), as a
// subtest named by the file's base name without its extension, with the
// file's contents. No matching file fails the test.
func Fixtures(t *testing.T, pattern string, fn func(t *testing.T, path string, data []byte)) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures %s (%v)", pattern, err)
	}
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(strings.TrimSuffix(base, filepath.Ext(base)), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, path, data)
		})
	}
}
