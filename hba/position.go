package hba

// Position: a place in a configuration file, down to the token, and where
// each column of a Rule is written.

import "strings"

// Position is a place in a configuration file: a line, and on it, when
// Column is non-zero, the bytes [Column, EndColumn) of a token.
//
// Line is 1-based: the first physical line of the record, the line
// PostgreSQL reports. Column is the 1-based byte column of the first byte
// of the token at fault (its opening quote, if quoted), EndColumn the
// column just past its last byte; both are 0 when no token is at fault
// (a missing column, a line too long, a file that cannot be read). Columns
// count bytes of the logical line (Line.Raw, Rule.Raw): in a record
// continued with backslashes, whose logical line joins its physical lines
// without the backslashes and line ends, a column past the first physical
// line counts the bytes of the lines joined before it. A token that an
// @file expanded to is placed at the @file token.
//
// Segment is set only for a line of a file given as lists of lines (see
// [Composed]): it names the list, Index is the element's 0-based index in
// it, and Filename and Line stay those of the rendered file.
type Position struct {
	Filename  string
	Line      int
	Column    int
	EndColumn int
	Segment   string
	Index     int
}

// IsValid reports whether the position names a line.
func (p Position) IsValid() bool { return p.Line > 0 }

// String returns "file:line", or "file:line:col" when Column is set;
// "segment[index]" when Segment is set.
func (p Position) String() string {
	if p.Segment != "" {
		return p.Segment + "[" + itoa(p.Index) + "]"
	}
	s := p.Filename
	if s == "" {
		s = "-"
	}
	if p.Line > 0 {
		s += ":" + itoa(p.Line)
		if p.Column > 0 {
			s += ":" + itoa(p.Column)
		}
	}
	return s
}

// lineString returns "file:line", without the column.
func (p Position) lineString() string {
	p.Column = 0
	return p.String()
}

// ColumnPos returns where column c of the rule is written in its logical
// line (Raw): Column is its first token, EndColumn the end of its last, as
// written (an @file token counts as one). ColumnType, ColumnSSL and
// ColumnGSS are the TYPE column; ColumnAddress runs through a separate
// netmask. The zero Position is returned for a column the rule does not
// have (the address of a local rule) and for an invalid c.
//
// ColumnPos scans Raw again, so it allocates; Load keeps no positions.
func (r *Rule) ColumnPos(c Column) Position {
	field, n := 0, 1
	switch c {
	case ColumnType, ColumnSSL, ColumnGSS:
	case ColumnDatabase:
		field = 1
	case ColumnUser:
		field = 2
	case ColumnAddress:
		if r.akind == AddrNone {
			return Position{}
		}
		field = 3
		if r.akind == AddrIP && !strings.Contains(r.addrText(), "/") {
			n = 2 // the netmask is a field of its own
		}
	default:
		return Position{}
	}
	spans := fieldSpans(r.Raw(), field+n)
	if len(spans) < field+n {
		return Position{}
	}
	p := r.Pos()
	p.Column, p.EndColumn = spans[field][0], spans[field+n-1][1]
	return p
}

// fieldSpans returns the [Column, EndColumn) of the first n fields of the
// logical line s, as the scanner reads them (no @file expansion).
func fieldSpans(s string, n int) [][2]int {
	var l loader // no token length limit: the line loaded
	var spans [][2]int
	i := 0
	for i < len(s) && len(spans) < n {
		start := -1
		var end int
		for {
			t, ok, comma, _ := l.nextToken(s, &i)
			if !ok {
				break
			}
			if start < 0 {
				start = int(t.col)
			}
			end = int(t.end)
			if !comma {
				break
			}
		}
		if start >= 0 {
			spans = append(spans, [2]int{start, end})
		}
	}
	return spans
}
