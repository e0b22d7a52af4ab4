package hba

// Position: a place in a configuration file.

// Position is a place in a configuration file. Line is 1-based; Column, when
// non-zero, is a 1-based byte column.
type Position struct {
	Filename string
	Line     int
	Column   int
}

// IsValid reports whether the position names a line.
func (p Position) IsValid() bool { return p.Line > 0 }

// String returns "file:line" or "file:line:col".
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
