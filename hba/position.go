package hba

// Position: a place in a configuration file.

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
type Position struct {
	Filename  string
	Line      int
	Column    int
	EndColumn int
}

// IsValid reports whether the position names a line.
func (p Position) IsValid() bool { return p.Line > 0 }

// String returns "file:line", or "file:line:col" when Column is set.
func (p Position) String() string {
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
