package edit

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pghba/pghba/hba"
)

// Where the DATABASE, USER, ADDRESS and METHOD columns start in the sample
// pg_hba.conf PostgreSQL installs: 0-based byte offsets in the line.
var sampleStops = [4]int{8, 24, 40, 64}

// Format aligns the columns of the file's rules as the sample pg_hba.conf
// does: DATABASE, USER, ADDRESS and METHOD start at bytes 8, 24, 40 and 64
// of the line (columns 9, 25, 41 and 65), padded with spaces; a column that
// reaches the next one's start is followed by one space instead, which
// moves that next column right (the columns after it go back to their
// starts when they can). An address and its netmask are one
// column, one space apart. The options follow the method, and any comment
// the last column, one space apart. Every token is kept as written (a list
// keeps its own spacing), as is every line end; trailing blanks are dropped.
//
// Only rules written on one physical line are formatted: comment lines,
// blank lines, include directives, lines with errors and records continued
// with backslashes keep their bytes, so every line keeps its number.
// Format is idempotent: a file in the sample's layout does not change. It
// checks its work: when the formatted file's view rows (pg_hba_file_rules)
// or errors are not those of the file, which would be a bug, it returns an
// error and leaves the file unchanged.
func (f *File) Format() error {
	var out []byte
	next := 0
	for _, l := range f.Lines {
		c, rest, ok := split(l)
		if !ok {
			continue
		}
		out = append(out, f.data[next:l.off]...)
		var b []byte
		for k, s := range c {
			b = append(b, s...)
			pad := 1
			if len(b) < sampleStops[k] {
				pad = sampleStops[k] - len(b)
			}
			b = append(b, strings.Repeat(" ", pad)...)
		}
		b = append(b, rest...)
		out = append(out, bytes.TrimRight(b, " ")...)
		out = append(out, lineEnd(l.Text)...)
		next = l.off + len(l.Text)
	}
	out = append(out, f.data[next:]...)
	if bytes.Equal(out, f.data) {
		return nil
	}
	before := rowKeys(f.loaded)
	after := f.p.ParseBytes(f.Name, out)
	if !reflect.DeepEqual(before, rowKeys(after)) || len(after.Errors) != len(f.loaded.Errors) {
		return errors.New("formatting would change the file's rules; file left as it is")
	}
	f.reparse(out)
	return nil
}

// split returns the TYPE, DATABASE, USER and ADDRESS cells of a rule on one
// physical line and the rest of it (method, options and comment, joined by
// single spaces), or false when the line is not formatted.
func split(l *Line) (c [4]string, rest string, ok bool) {
	r := l.Rule()
	if l.Kind != KindRule || l.Lines != 1 || r == nil {
		return c, "", false
	}
	raw := l.Record.Raw
	if !bytes.HasPrefix(l.Text, []byte(raw)) || len(bytes.TrimRight(l.Text[len(raw):], "\r\n")) != 0 {
		return c, "", false // a NUL byte or a stray line end: keep the bytes
	}
	fields := hba.FieldColumns(raw)
	text := func(span [2]int) string { return raw[span[0]-1 : span[1]-1] }
	if len(fields) < 4 {
		return c, "", false
	}
	c[0], c[1], c[2] = text(fields[0]), text(fields[1]), text(fields[2])
	i := 3
	if a := r.ColumnPos(hba.ColumnAddress); a.Column > 0 {
		var parts []string
		for i < len(fields) && fields[i][0] < a.EndColumn {
			parts = append(parts, text(fields[i]))
			i++
		}
		c[3] = strings.Join(parts, " ")
	}
	if i >= len(fields) {
		return c, "", false
	}
	var tail []string
	for ; i < len(fields); i++ {
		tail = append(tail, text(fields[i]))
	}
	if l.Comment != "" {
		tail = append(tail, l.Comment)
	}
	return c, strings.Join(tail, " "), true
}

// rowKeys returns the view rows of f without their Line, for comparison.
func rowKeys(f *hba.File) []string {
	rows := f.ViewRows()
	keys := make([]string, len(rows))
	for i, r := range rows {
		r.Line = nil
		keys[i] = fmt.Sprintf("%#v", r)
	}
	return keys
}
