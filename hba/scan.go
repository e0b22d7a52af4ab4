package hba

// Scanning: a file's bytes to logical lines, and each logical line to fields
// of tokens, as PostgreSQL's tokenize_auth_file, next_field_expand and
// next_token do. @file tokens and include directives are expanded in
// include.go.

import (
	"bytes"
	"math/bits"
	"slices"
	"strings"
	"unsafe"
)

// token is one scanned token: its de-quoted text and whether it started
// with a double quote.
type token struct {
	s      string
	quoted bool
	// at is 1 + the offset of s in the logical line it was read from, 0
	// when s is not a substring of the line (quotes removed from inside
	// it, or read from an @file). A quoted token whose quotes only enclose
	// it is the substring between them.
	at int32
	// col and end place the token in its logical line: the 1-based byte
	// column of its first byte (an opening quote included) and the column
	// just past its last. A token read from an @file has the place of the
	// @file token that named it.
	col, end int32
}

// tokPos is the position of token t of line tl.
func (tl *tokLine) tokPos(t token) Position {
	p := tl.pos
	p.Column, p.EndColumn = int(t.col), int(t.end)
	return p
}

// fieldPos is the position of field f of line tl, its first token to its
// last.
func (tl *tokLine) fieldPos(f []token) Position {
	p := tl.pos
	p.Column, p.EndColumn = int(f[0].col), int(f[len(f)-1].end)
	return p
}

// tokLine is one logical line after tokenising, PostgreSQL's
// TokenizedAuthLine.
type tokLine struct {
	pos    Position
	inc    []Position
	raw    string
	fields [][]token
	err    *Error
	ntok   int // tokens in fields, @file expansion included
	// lazy holds the place (col, end) of the @file token that fields 1 and
	// 2 (database, user) are exactly, when the field is the cached
	// expansion itself rather than a copy placed on the line (its tokens
	// then have col and end 0; see atExpansion.lazy). Zero otherwise.
	lazy [2][2]int32
}

// tokenize reads one file's logical lines into out. Include directives
// (16+) insert the included file's lines in place.
func (l *loader) tokenize(file string, data []byte, depth int, inc []Position, out *[]*tokLine) {
	pos := 0
	lineNum := 1
	var buf []byte
	// In a large file, a logical line that is the same bytes as its place
	// in the file is a substring of one copy of the file, not a copy of its
	// own. Small files copy each line, so that their comments are not kept.
	var whole string
	if len(data) >= 64<<10 {
		whole = l.ownedString(data)
	}
	// Without a NUL byte in the file, no line needs the test for one.
	noNUL := bytes.IndexByte(data, 0) < 0
	for pos < len(data) && !l.halted {
		l.ticks++
		if l.ticks&255 == 0 && l.checkContext(Position{Filename: file, Line: lineNum}) != nil {
			return
		}
		start := lineNum
		lineStart := pos
		var raw string
		if line, ok := l.readPlain(data, &pos, noNUL); ok {
			lineNum++
			if whole != "" {
				raw = whole[lineStart : lineStart+len(line)]
			} else {
				raw = string(line)
			}
		} else {
			var n int
			buf, n = l.readLogical(data, &pos, buf[:0])
			lineNum += n
			if whole != "" && lineStart+len(buf) <= len(data) && bytes.Equal(data[lineStart:lineStart+len(buf)], buf) {
				raw = whole[lineStart : lineStart+len(buf)]
			} else {
				raw = string(buf)
			}
		}
		tl := l.newTokLine()
		tl.reset(file, start, inc, raw)
		if l.ver == 13 && l.maxLine > 0 && l.tooLong13 {
			l.tooLong13 = false
			tl.err = l.lineErr(tl, "authentication file line too long", ErrSyntax)
		}
		if tl.err == nil {
			l.scanFields(tl, file, depth)
		}
		if len(tl.fields) > 0 || tl.err != nil {
			l.lines++
			if l.lines > l.lim.MaxLines && !l.halted {
				tl.err = l.limitErr(tl.pos, "lines per load", l.lim.MaxLines)
			}
		}
		streaming := l.sink != nil && out == l.mainOut
		if len(tl.fields) == 0 && tl.err == nil {
			if streaming {
				l.tlFree = append(l.tlFree, tl)
			}
			continue
		}
		if tl.err == nil && l.ver >= 16 && len(tl.fields) == 2 && !l.halted {
			if l.directive(tl, file, depth, inc, out) {
				if streaming {
					l.tlFree = append(l.tlFree, tl)
				}
				continue
			}
		}
		if streaming {
			// Nothing refers to the line or its fields once the sink has
			// them: an enclosing include directive has read its own fields
			// before the included lines come.
			l.text = whole
			l.sink(tl)
			l.tlFree = append(l.tlFree, tl)
			l.tokChunk = l.tokChunk[:0]
			l.fieldChunk = l.fieldChunk[:0]
			continue
		}
		*out = append(*out, tl)
	}
}

// ownedString returns data as a string: without a copy when data lies in
// the buffer the loader read itself (l.own), a copy otherwise. The view is
// safe because that buffer is the loader's alone: readFile allocated it,
// readMain hands it only to the parse, no code writes to it after the
// read, and it is never returned to a caller. So the string's bytes never
// change, as Go requires. Caller bytes (ParseBytes, LoadBytes), which the
// caller may change afterwards, and buffers built from them are always
// copied, as are the buffers of other loaders.
func (l *loader) ownedString(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	if len(l.own) > 0 {
		base := uintptr(unsafe.Pointer(unsafe.SliceData(l.own)))
		p := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
		if p >= base && p-base <= uintptr(len(l.own)) && uintptr(len(data)) <= uintptr(len(l.own))-(p-base) {
			return unsafe.String(unsafe.SliceData(data), len(data))
		}
	}
	return string(data)
}

// reset makes tl the line tokLine{pos: Position{Filename: file, Line:
// line}, inc: inc, raw: raw}, field by field: a reused tokLine is on the
// heap, where storing a whole struct costs a bulk write barrier while the
// collector runs. TestTokLineReset keeps it in step with the struct.
func (tl *tokLine) reset(file string, line int, inc []Position, raw string) {
	tl.pos.Filename = file
	tl.pos.Line = line
	tl.pos.Column, tl.pos.EndColumn, tl.pos.Index = 0, 0, 0
	tl.pos.Segment = ""
	tl.inc = inc
	tl.raw = raw
	tl.fields = nil
	tl.err = nil
	tl.ntok = 0
	tl.lazy = [2][2]int32{}
}

const chunkLen = 512

func (l *loader) newTokLine() *tokLine {
	if n := len(l.tlFree); n > 0 {
		tl := l.tlFree[n-1]
		l.tlFree = l.tlFree[:n-1]
		return tl
	}
	if len(l.tlChunk) == 0 {
		l.tlChunk = make([]tokLine, chunkLen)
	}
	tl := &l.tlChunk[0]
	l.tlChunk = l.tlChunk[1:]
	return tl
}

// keepTokens copies a field's tokens into the current chunk.
func (l *loader) keepTokens(t []token) []token {
	if len(t) == 0 {
		return nil
	}
	if cap(l.tokChunk)-len(l.tokChunk) < len(t) {
		l.tokChunk = make([]token, 0, max(chunkLen*4, len(t)))
	}
	n := len(l.tokChunk)
	l.tokChunk = append(l.tokChunk, t...)
	return l.tokChunk[n:len(l.tokChunk):len(l.tokChunk)]
}

// keepFields copies a line's fields into the current chunk.
func (l *loader) keepFields(f [][]token) [][]token {
	if len(f) == 0 {
		return nil
	}
	if cap(l.fieldChunk)-len(l.fieldChunk) < len(f) {
		l.fieldChunk = make([][]token, 0, max(chunkLen*4, len(f)))
	}
	n := len(l.fieldChunk)
	l.fieldChunk = append(l.fieldChunk, f...)
	return l.fieldChunk[n:len(l.fieldChunk):len(l.fieldChunk)]
}

func (l *loader) lineErr(tl *tokLine, msg string, cat error) *Error {
	return &Error{Pos: tl.pos, Msg: msg, Err: cat}
}

// readPlain is readLogical's fast path for the common physical line: one
// with no NUL byte that does not end in a backslash (14+), or that fits
// the fgets buffer (13). It returns the line, line ends removed, as a
// subslice of data and moves *pos past it; ok is false, with *pos
// unchanged, when the line needs readLogical. noNUL says that data has no
// NUL byte.
func (l *loader) readPlain(data []byte, pos *int, noNUL bool) (line []byte, ok bool) {
	rest := data[*pos:]
	next := bytes.IndexByte(rest, '\n') + 1
	if next == 0 {
		next = len(rest)
	}
	if l.ver == 13 && next >= l.maxLine-1 {
		// fgets may fill the buffer: the exact reader decides.
		return nil, false
	}
	line = rest[:next]
	if !noNUL && bytes.IndexByte(line, 0) >= 0 {
		return nil, false
	}
	line = stripCRLF(line)
	if l.ver != 13 && len(line) > 0 && line[len(line)-1] == '\\' {
		return nil, false
	}
	if l.ver == 13 {
		l.tooLong13 = false
	}
	*pos += next
	return line, true
}

// readLogical appends the next logical line of data to buf, line ends
// removed, and returns it with the number of physical lines it took. In 13
// a logical line is what one fgets into PostgreSQL's MAX_LINE buffer
// reads: a line that fills the buffer is an error (l.tooLong13), and its
// rest is read as the next line. From 14 it is what pg_get_line_append
// reads, joined with the lines after it while it ends in a backslash.
func (l *loader) readLogical(data []byte, pos *int, buf []byte) ([]byte, int) {
	if l.ver == 13 {
		n := l.maxLine - 1
		chunk := fgets(data, pos, n)
		l.tooLong13 = len(chunk) == n
		return stripCRLF(append(buf, chunk...)), 1
	}
	lines, last := 0, 0
	for {
		orig := len(buf)
		// pg_get_line_append: fgets until the line read ends in a newline
		// (a NUL byte drops the rest of its physical line, newline
		// included, and so joins the next one).
		for *pos < len(data) {
			buf = append(buf, fgets(data, pos, 0)...)
			if len(buf) > orig && buf[len(buf)-1] == '\n' {
				break
			}
		}
		if len(buf) == orig {
			// The end of data: a final backslash joined nothing, but
			// counts a line.
			return buf, lines + 1
		}
		lines++
		buf = stripCRLF(buf)
		if len(buf) > last && buf[len(buf)-1] == '\\' {
			buf = buf[:len(buf)-1]
			last = len(buf)
			continue
		}
		return buf, lines
	}
}

// fgets reads one physical line as C's fgets into a buffer of max+1 bytes
// followed by strlen does: the bytes up to and including the next newline,
// at most max of them (0: no limit), cut at the first NUL byte. *pos moves
// past every byte fgets read, the ones after a NUL included. It is the one
// reader of physical lines.
func fgets(data []byte, pos *int, max int) []byte {
	rest := data[*pos:]
	end := bytes.IndexByte(rest, '\n')
	if end < 0 {
		end = len(rest)
	} else {
		end++
	}
	if max > 0 && end > max {
		end = max
	}
	chunk := rest[:end]
	*pos += end
	if z := bytes.IndexByte(chunk, 0); z >= 0 {
		chunk = chunk[:z]
	}
	return chunk
}

func stripCRLF(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// scanFields splits the logical line into fields, expanding @files.
// A comment ending the line is kept when the load keeps comments.
//
// Runs of fields without an @file or a token at the 13–15 length limit
// are split in one pass (scanRun); a field with one is read by nextField,
// and a run goes on after it (scanRest).
func (l *loader) scanFields(tl *tokLine, file string, depth int) {
	l.comment = 0
	nt, nf, next, comment, st := l.scanRun(tl, tl.raw, 0, true)
	if st == runKept {
		if comment > 0 {
			l.comment = comment
			l.endComment(tl, file)
		}
		return
	}
	if st == runDone || !l.fits(tl, nt) {
		// The exact scanner fails the line at the token that is over.
		l.scanExact(tl, file, depth)
		return
	}
	l.scanRest(tl, file, depth, nt, nf, next)
}

// What scanRun did.
const (
	runKept = iota // split the line to its end, and kept its fields
	runDone        // split the line to its end; kept nothing
	runStop        // stopped at a field for nextField; kept nothing
)

// fits reports whether n more tokens of line tl fit the token budgets.
func (l *loader) fits(tl *tokLine, n int) bool {
	return l.tokens+n <= l.lim.MaxTokens && tl.ntok+n <= l.lim.MaxLineTokens
}

// keepRun keeps the nt tokens scanRun left in the token chunk and spends
// them.
func (l *loader) keepRun(tl *tokLine, nt int) {
	l.tokens += nt
	tl.ntok += nt
	l.tokChunk = l.tokChunk[:len(l.tokChunk)+nt]
}

// scanRest is scanFields from offset i of the line on, after a run of nf
// fields of nt tokens that scanRun stopped at i, not kept yet but within
// the budgets: the field at i goes to nextField, the fields after it to
// scanRun while it takes them.
func (l *loader) scanRest(tl *tokLine, file string, depth int, nt, nf, i int) {
	s := tl.raw
	var buf [8][]token
	fields := buf[:0]
	for {
		l.keepRun(tl, nt)
		n := len(l.fieldChunk)
		fields = append(fields, l.fieldChunk[n:n+nf]...)
		if i == len(s) {
			break
		}
		for {
			fld := l.nextField(tl, s, &i, file, depth, len(fields))
			if len(fld) > 0 {
				fields = append(fields, fld)
			}
			if i == len(s) || tl.err != nil {
				goto end
			}
			var next, st int
			var comment int32
			if nt, nf, next, comment, st = l.scanRun(tl, s, i, false); l.fits(tl, nt) {
				if i = next; st == runDone {
					l.comment = comment
				}
				break
			}
			// nextField reads on, to the token that is over.
		}
	}
end:
	tl.fields = l.keepFields(fields)
	l.endComment(tl, file)
}

// scanExact is scanFields for any line: next_field_expand token by token.
func (l *loader) scanExact(tl *tokLine, file string, depth int) {
	s := tl.raw
	i := 0
	var buf [8][]token
	fields := buf[:0]
	for i < len(s) && tl.err == nil {
		fld := l.nextField(tl, s, &i, file, depth, len(fields))
		if len(fld) > 0 {
			fields = append(fields, fld)
		}
	}
	tl.fields = l.keepFields(fields)
	l.endComment(tl, file)
}

// endComment keeps the comment that ended line tl, if any and when the
// load keeps comments and the line did not fail.
func (l *loader) endComment(tl *tokLine, file string) {
	if l.comment > 0 {
		if l.comments != nil && tl.err == nil {
			s := tl.raw
			c := int(l.comment)
			*l.comments = append(*l.comments, Comment{
				Pos:  Position{Filename: file, Line: tl.pos.Line, Column: c, EndColumn: len(s) + 1},
				Text: s[c-1:],
			})
		}
		l.comment = 0
	}
}

// Byte classes of the run scanner.
const (
	clPlain   = iota // a byte of a token
	clBlank          // ' ', '\t', '\r': isBlank
	clComma          // ','
	clSpecial        // '"', '#', NUL: decided apart
)

var scanClass = [256]uint8{' ': clBlank, '\t': clBlank, '\r': clBlank, ',': clComma, '"': clSpecial, '#': clSpecial, 0: clSpecial}

// scanRun splits the line s from offset i on into the fields nextField
// would give, in one pass, as long as no field has an @file or a token at
// the 13–15 length limit. A plain token, or a quoted one whose quotes
// only enclose it, is a substring of the line (a quoted one without its
// quotes); any other token (a quote inside it or after it, a doubled
// quote) is read by next_token's loop (readToken). Tokens are written
// straight into the free part of the loader's token chunk, fields into
// the free part of the field chunk. With keep, a line split to its end
// within the budgets is kept: its fields are tl's, its tokens spent
// (runKept). Otherwise nothing is kept or spent: scanRun returns the
// number of tokens and fields it read and either runDone, having split
// the line to its end (next is len(s)), or runStop with the offset next
// of the first field it left to nextField (whose tokens are not counted).
// comment is the 1-based offset of a '#' that ended the line, 0 for none.
func (l *loader) scanRun(tl *tokLine, s string, i int, keep bool) (nt, nf, next int, comment int32, st int) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	n := len(s)
	// n-i bytes hold at most (n-i+1)/2 tokens (each but the last is
	// followed by a separator), and as many fields.
	most := (n - i + 1) / 2
	if cap(l.tokChunk)-len(l.tokChunk) < most {
		l.tokChunk = make([]token, 0, max(chunkLen*4, most))
	}
	if cap(l.fieldChunk)-len(l.fieldChunk) < most {
		l.fieldChunk = make([][]token, 0, max(chunkLen*4, most))
	}
	toks := l.tokChunk[len(l.tokChunk):cap(l.tokChunk)]
	fields := l.fieldChunk[len(l.fieldChunk):cap(l.fieldChunk)]
	limit := n + 1 // a token this long is at the length limit
	if l.maxTok > 0 {
		limit = l.maxTok - 1
	}
	for {
		// Blanks and commas before a field's first token.
		if i = skipSeparators(s, i); i == n {
			goto done
		}
		first := nt
		for {
			// A token, or a comment, at s[i] (not a separator).
			j := i
			// The end of the run of clPlain bytes at s[j:]. Every byte of
			// another class is below ',' + 1: eight bytes at a time, a
			// test for one below that (the first byte it flags is exact:
			// a borrow runs only from a byte that is below), then byte by
			// byte. (A function for it costs the loop its registers.)
			for i+8 <= n {
				w := s[i : i+8]
				x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
					uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
				if m := (x - ones*(','+1)) &^ x & highs; m != 0 {
					i += bits.TrailingZeros64(m) / 8
					break
				}
				i += 8
			}
			for i < n && scanClass[s[i]] == clPlain {
				i++
			}
			if i > j {
				if i-j >= limit || s[j] == '@' && i-j > 1 {
					return first, nf, fieldStart(toks, first, nt, j), 0, runStop
				}
				// Field by field: a struct store into the heap chunk
				// costs a bulk write barrier while the collector runs.
				tk := &toks[nt]
				tk.s, tk.quoted, tk.at = s[j:i], false, int32(j+1)
				tk.col, tk.end = int32(j+1), int32(i+1)
			} else if c := s[j]; c == '"' {
				q := indexQuote(s, j+1)
				if q < 0 || q+1 < n && scanClass[s[q+1]] != clBlank && s[q+1] != ',' && s[q+1] != '#' {
					goto exact // unterminated, or the token goes on
				}
				if q-j-1 >= limit {
					return first, nf, fieldStart(toks, first, nt, j), 0, runStop
				}
				i = q + 1
				tk := &toks[nt]
				tk.s, tk.quoted, tk.at = s[j+1:q], true, int32(j+2)
				tk.col, tk.end = int32(j+1), int32(i+1)
			} else if c == '#' {
				if nt > first {
					fields[nf] = toks[first:nt:nt]
					nf++
				}
				comment = int32(j + 1)
				goto done
			} else {
				goto exact // a NUL
			}
			nt++
			if i == n {
				break
			}
			if c := s[i]; scanClass[c] != clBlank {
				if c == ',' {
					goto comma
				}
				if c == '#' {
					// The comment ends the field and the line.
					fields[nf] = toks[first:nt:nt]
					nf++
					comment = int32(i + 1)
					goto done
				}
				// A quote or a NUL after a plain token: it goes on.
				nt--
				goto exact
			}
			break
		exact:
			// Any other token: next_token's loop reads it.
			{
				t, e, com, ok, more, tooLong := readToken(s, j, l.maxTok)
				if tooLong || !ok || !t.quoted && len(t.s) > 1 && t.s[0] == '@' {
					return first, nf, fieldStart(toks, first, nt, j), 0, runStop
				}
				toks[nt] = t
				nt++
				if com > 0 {
					fields[nf] = toks[first:nt:nt]
					nf++
					comment = com
					goto done
				}
				if i = e; !more {
					break
				}
			}
		comma:
			// Blanks and commas after a comma: the field goes on.
			if i = skipSeparators(s, i+1); i == n {
				break
			}
		}
		fields[nf] = toks[first:nt:nt]
		nf++
	}
done:
	if keep && l.tokens+nt <= l.lim.MaxTokens && tl.ntok+nt <= l.lim.MaxLineTokens {
		l.tokens += nt
		tl.ntok += nt
		if nf > 0 {
			l.tokChunk = l.tokChunk[:len(l.tokChunk)+nt]
			l.fieldChunk = l.fieldChunk[:len(l.fieldChunk)+nf]
			tl.fields = fields[:nf:nf]
		}
		return nt, nf, n, comment, runKept
	}
	return nt, nf, n, comment, runDone
}

// fieldStart is the offset where the field that scanRun leaves begins:
// its first token, toks[first], when it has read one (first < nt), else j.
func fieldStart(toks []token, first, nt, j int) int {
	if first < nt {
		return int(toks[first].col) - 1
	}
	return j
}

// indexQuote returns the offset of the first double quote in s at or
// after i, -1 when there is none.
func indexQuote(s string, i int) int {
	if k := strings.IndexByte(s[i:], '"'); k >= 0 {
		return i + k
	}
	return -1
}

// nextField is next_field_expand: tokens joined by unquoted commas.
// fi is the index of the field in the line.
func (l *loader) nextField(tl *tokLine, s string, i *int, file string, depth int, fi int) []token {
	var buf [4]token
	toks := buf[:0]
	for {
		t, ok, comma, tooLong := l.nextToken(s, i)
		if tooLong {
			tl.err = &Error{Pos: tl.tokPos(t), Msg: "authentication file token too long",
				Log: `authentication file token too long, skipping: "` + t.s + `"`, Err: ErrSyntax}
			return l.keepTokens(toks)
		}
		if !ok {
			break
		}
		if !t.quoted && len(t.s) > 1 && t.s[0] == '@' {
			if lazy := l.lazyAt && (fi == 1 || fi == 2) && len(toks) == 0 && !comma; lazy {
				// The field is this @file alone: it may be the cached
				// expansion itself.
				out, ok := l.expandFile(tl, nil, file, t, depth+1, true)
				if ok {
					tl.lazy[fi-1] = [2]int32{t.col, t.end}
					return out
				}
				return l.keepTokens(out)
			}
			// A copy, so that buf does not escape through the recursion.
			toks, _ = l.expandFile(tl, append([]token(nil), toks...), file, t, depth+1, false)
		} else {
			l.tokens++
			tl.ntok++
			// The line fails: its tokens are not needed.
			if l.tokens > l.lim.MaxTokens {
				tl.err = l.limitErr(tl.tokPos(t), "tokens per load", l.lim.MaxTokens)
				return nil
			}
			if tl.ntok > l.lim.MaxLineTokens {
				tl.err = l.limitErr(tl.tokPos(t), "tokens in one line", l.lim.MaxLineTokens)
				return nil
			}
			toks = growTokens(toks, 1)
			toks = append(toks, t)
		}
		if !comma || tl.err != nil {
			break
		}
	}
	return l.keepTokens(toks)
}

// nextToken is PostgreSQL's next_token. It reports whether a token was
// found, whether an unquoted comma ended it, and the 13–15 length error.
func (l *loader) nextToken(s string, i *int) (t token, ok, comma, tooLong bool) {
	j := *i
	for j < len(s) && (isBlank(s[j]) || s[j] == ',') {
		j++
	}
	// Fast path: a token of plain bytes, ended by a blank, a comma or the
	// end of the line, is a substring of the line.
	k := j
	for k < len(s) && !isBlank(s[k]) && s[k] != ',' && s[k] != '"' && s[k] != '#' {
		k++
	}
	if k == len(s) || isBlank(s[k]) || s[k] == ',' {
		n := k - j
		if l.maxTok > 0 && (n >= l.maxTok || n == l.maxTok-1 && k < len(s) && s[k] == ',') {
			// Leave it to the exact loop, which reports the overflow.
		} else if k > j {
			*i = k
			comma = k < len(s) && s[k] == ','
			return token{s: s[j:k], at: int32(j + 1), col: int32(j + 1), end: int32(k + 1)}, true, comma, false
		}
	}
	t, next, comment, ok, comma, tooLong := readToken(s, j, l.maxTok)
	if tooLong {
		*i = len(s)
		return t, false, false, true
	}
	if comment > 0 {
		l.comment = comment
	}
	*i = next // a comma ending the token stays unread; the next call skips it
	return t, ok, comma, false
}

// readToken is next_token's loop from s[j], the first byte after the
// blanks and commas before a token: the token read, the offset just past
// it (a comma ending it is not read), and the 1-based offset of a '#'
// that ended it and the line (0 when none did). ok is false when no token
// was read; comma says that an unquoted comma ended it; tooLong is the
// 13–15 length error (maxTok > 0), the token then being what was read.
func readToken(s string, j, maxTok int) (t token, next int, comment int32, ok, comma, tooLong bool) {
	var buf [64]byte
	out := buf[:0]
	start, end := j, -1
	inQuote, wasQuote, sawQuote, initialQuote := false, false, false, false
	for j < len(s) && (!isBlank(s[j]) || inQuote) {
		c := s[j]
		if c == '#' && !inQuote {
			comment = int32(j + 1)
			end = j
			j = len(s)
			break
		}
		if maxTok > 0 && len(out) >= maxTok-1 {
			t = token{s: string(out), col: int32(start + 1), end: int32(tokenEnd(s, j, inQuote) + 1)}
			return t, len(s), 0, false, false, true
		}
		if c == ',' && !inQuote {
			comma = true
			break
		}
		if c != '"' || wasQuote {
			out = append(out, c)
		}
		if inQuote && c == '"' {
			wasQuote = !wasQuote
		} else {
			wasQuote = false
		}
		if c == '"' {
			inQuote = !inQuote
			sawQuote = true
			if len(out) == 0 {
				initialQuote = true
			}
		}
		j++
	}
	if end < 0 {
		end = j
	}
	t = token{quoted: initialQuote, col: int32(start + 1), end: int32(end + 1)}
	// out is s[start:end] less some quotes: a substring of the line when
	// none or only the enclosing pair went.
	switch w := end - start; {
	case len(out) == w:
		t.s, t.at = s[start:end], int32(start+1)
	case len(out) == w-2 && s[start] == '"' && s[end-1] == '"' && string(out) == s[start+1:end-1]:
		t.s, t.at = s[start+1:end-1], int32(start+2)
	default:
		t.s = string(out)
	}
	return t, j, comment, sawQuote || len(out) > 0, comma, false
}

// tokenEnd returns the offset just past the token that runs through s[j],
// inQuote telling whether s[j] is inside double quotes: where next_token
// would have stopped reading it.
func tokenEnd(s string, j int, inQuote bool) int {
	for ; j < len(s) && (!isBlank(s[j]) || inQuote); j++ {
		c := s[j]
		if !inQuote && (c == '#' || c == ',') {
			break
		}
		if c == '"' {
			inQuote = !inQuote
		}
	}
	return j
}

// growTokens makes room for n more tokens in a long list by doubling its
// capacity, so that a list of a million tokens allocates about twice its
// size, not the five times append's growth of large slices costs.
func growTokens(t []token, n int) []token {
	if len(t)+n > cap(t) && len(t) >= 1024 {
		return slices.Grow(t, max(n, len(t)))
	}
	return t
}

// skipSeparators returns the offset of the first byte of s at or after i
// that is not a blank or a comma, len(s) when none.
func skipSeparators(s string, i int) int {
	for i < len(s) && scanClass[s[i]]-clBlank <= clComma-clBlank {
		i++
	}
	return i
}
