package hba

// syntax.go: hooks for editors that keep the bytes of a file (hba/edit):
// where each logical line lies in the bytes, and where each field lies in a
// logical line, as the loader reads them.

// LineSpan is one logical line of a file's bytes: data[Start:End] holds its
// physical lines, line ends and continuation backslashes included, from
// line Line (1-based) on, Lines of them.
type LineSpan struct {
	Line       int
	Start, End int
	Lines      int
}

// LineSpans returns the logical lines of data as p reads a main file's
// bytes, in order. The spans cover data exactly: each starts where the one
// before ends, and the last ends at len(data). From 14 a line ending in a
// backslash is joined with the next. Line is the number the loader (and
// the server) gives the line: in 13 a physical line longer than the
// server's line buffer is read as several logical lines, numbered as if
// each were a line of its own. No limit of p.Limits applies, and nothing else is read.
func (p *Parser) LineSpans(data []byte) []LineSpan {
	l := p.newLoader(nil)
	var spans []LineSpan
	var buf []byte
	pos, line := 0, 1
	for pos < len(data) {
		start := pos
		var n int
		buf, n = l.readLogical(data, &pos, buf[:0])
		spans = append(spans, LineSpan{Line: line, Start: start, End: pos, Lines: n})
		line += n
	}
	return spans
}

// FieldColumns returns where each field of the logical line s is written:
// [Column, EndColumn) in the 1-based byte columns of [Position], a field's
// comma-separated tokens together, as the scanner splits them (no @file
// expansion, no token length limit). A comment ends the fields.
func FieldColumns(s string) [][2]int { return fieldSpans(s, len(s)+1) }
