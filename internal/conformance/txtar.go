package conformance

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// A txtar archive: a comment, then files introduced by "-- NAME --" lines.
// Two extensions keep odd bytes intact: a file named "NAME (quoted)" holds
// Go-quoted strings, one per line, whose concatenation is the content (for
// CR, control bytes, or a missing final newline); a name ending in "/" is an
// empty directory.

type archiveFile struct {
	Name string
	Data []byte
}

type archive struct {
	Comment []byte
	Files   []archiveFile
}

const quotedSuffix = " (quoted)"

func parseArchive(data []byte) (*archive, error) {
	a := &archive{}
	var cur *archiveFile
	var quoted bool
	lines := bytes.SplitAfter(data, []byte("\n"))
	for _, line := range lines {
		if len(line) == 0 {
			continue
		}
		if name, ok := markerName(line); ok {
			quoted = strings.HasSuffix(name, quotedSuffix)
			name = strings.TrimSuffix(name, quotedSuffix)
			a.Files = append(a.Files, archiveFile{Name: name})
			cur = &a.Files[len(a.Files)-1]
			continue
		}
		if cur == nil {
			a.Comment = append(a.Comment, line...)
			continue
		}
		if quoted {
			s, err := strconv.Unquote(strings.TrimRight(string(line), "\n"))
			if err != nil {
				return nil, fmt.Errorf("txtar: file %s: %v", cur.Name, err)
			}
			cur.Data = append(cur.Data, s...)
			continue
		}
		cur.Data = append(cur.Data, line...)
	}
	return a, nil
}

func markerName(line []byte) (string, bool) {
	s := strings.TrimRight(string(line), "\n")
	if !strings.HasPrefix(s, "-- ") || !strings.HasSuffix(s, " --") || len(s) < 7 {
		return "", false
	}
	return s[3 : len(s)-3], true
}

func formatArchive(a *archive) []byte {
	var b bytes.Buffer
	b.Write(a.Comment)
	if len(a.Comment) > 0 && !bytes.HasSuffix(a.Comment, []byte("\n")) {
		b.WriteByte('\n')
	}
	for _, f := range a.Files {
		if needsQuoting(f.Data) {
			fmt.Fprintf(&b, "-- %s%s --\n", f.Name, quotedSuffix)
			for _, l := range bytes.SplitAfter(f.Data, []byte("\n")) {
				if len(l) > 0 {
					b.WriteString(strconv.Quote(string(l)))
					b.WriteByte('\n')
				}
			}
			continue
		}
		fmt.Fprintf(&b, "-- %s --\n", f.Name)
		b.Write(f.Data)
	}
	return b.Bytes()
}

func needsQuoting(d []byte) bool {
	if len(d) > 0 && d[len(d)-1] != '\n' {
		return true
	}
	for _, l := range bytes.Split(d, []byte("\n")) {
		if _, ok := markerName(l); ok {
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
