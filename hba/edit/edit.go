// Package edit edits a pg_hba.conf as a file, in the spirit of
// golang.org/x/mod/modfile: the bytes are read into a list of physical
// lines (records with their continuation lines, comment lines, blank lines,
// include directives), rules are inserted, removed and replaced, and the
// file is formatted, while every byte that no edit touches is written back
// as it was read.
//
// The meaning of each record is the hba package's: a [File] is parsed by an
// [hba.Parser], whose File gives each record its rule or its error, and whose
// [hba.Parser.LineSpans] and [hba.FieldColumns] place the lines in the bytes
// and the fields in a line. There is no second tokenizer.
//
// Every edit splices the bytes and parses the whole file again, so that the
// lines, their numbers and their rules always describe the bytes
// [File.Bytes] returns (includes and @files are read again, through the
// Parser's FS). A rule to insert is given as its text, exactly as it is to
// be written (a rule built from values comes from [hba.Parser.BuildRule]),
// and it is checked alone by the parser before it is written: it must be one
// rule that loads, on one physical line.
//
// Edits report what they change through [File.Change], the bytes before
// the first edit and now, which a decision diff takes as its input (the
// safety check of an edit).
//
// Limits: only the main file is edited, never an included file; line
// numbers are those the server reports (the first physical line of a
// record); in 13, where a physical line longer than the server's buffer is
// read as several records, the pieces are one [Line] each and an edit of
// one of them edits only its bytes.
package edit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/pghba/pghba/hba"
)

// Kind is what a [Line] holds.
type Kind uint8

// Kinds of lines. The zero value is invalid.
const (
	KindBlank   Kind = iota + 1 // nothing but blanks
	KindComment                 // a comment and nothing else
	KindRule                    // a record that loaded as a rule
	KindInclude                 // an include directive that loaded (16+)
	KindInvalid                 // a record with an error (a failed directive too)
	KindUnread                  // a record the load did not reach (it stopped before)
)

var kindNames = [...]string{"", "blank", "comment", "rule", "include", "invalid", "unread"}

// String returns the kind's name, such as "rule".
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// IsRecord reports whether k is a record: a rule, a directive or a line
// with an error, something the server reads, unlike a blank or comment line.
func (k Kind) IsRecord() bool { return k >= KindRule }

// Line is one logical line of the file: one physical line, or a record
// continued with backslashes and its continuation lines.
type Line struct {
	Kind Kind
	// Line is the number of its first physical line, 1-based, in the file
	// as it is now; Lines the number of physical lines it takes.
	Line, Lines int
	// Text is its bytes, line ends and backslashes included. It must not
	// be modified.
	Text []byte
	// Record is the logical line as the parser loaded it (its rule or its
	// error); nil for blank and comment lines, include directives that
	// loaded, and unread lines.
	Record *hba.Line
	// Comment is the comment that ends the line, '#' included; for a
	// comment line, the comment itself.
	Comment string

	off int // where Text starts in the file's bytes
}

// Rule returns the line's rule, or nil when it is not a rule.
func (l *Line) Rule() *hba.Rule {
	if l.Record == nil {
		return nil
	}
	return l.Record.Rule
}

// File is a pg_hba.conf being edited. Its methods are not safe for
// concurrent use.
type File struct {
	// Name is the file's name, as given to Parse.
	Name string
	// Lines are the file's lines in order; their Text joined is Bytes.
	Lines []*Line

	p      *hba.Parser
	orig   []byte
	data   []byte
	loaded *hba.File
}

// Errors of edit operations, for errors.Is.
var (
	ErrNoLine       = errors.New("no such line")
	ErrNotRecord    = errors.New("not a record")
	ErrContinuation = errors.New("a continuation line")
	ErrBadRule      = errors.New("not a rule on one line")
)

// Parse reads data, the bytes of the main file name, with p (nil: the zero
// Parser). It always returns a File: a file that does not load is still
// edited, and [File.Loaded] holds its errors.
func Parse(p *hba.Parser, name string, data []byte) *File {
	if p == nil {
		p = &hba.Parser{}
	}
	f := &File{Name: name, p: p, orig: bytes.Clone(data)}
	f.reparse(bytes.Clone(data))
	return f
}

// Bytes returns the file as it is now. It must not be modified.
func (f *File) Bytes() []byte { return f.data }

// Loaded returns the parser's File of the bytes as they are now: its rules,
// its errors, its view rows.
func (f *File) Loaded() *hba.File { return f.loaded }

// Change returns the bytes the File was parsed from and the bytes it holds
// now: the input of a decision diff, which tells what the edits change.
// They are equal when nothing changed.
func (f *File) Change() (old, new []byte) { return f.orig, f.data }

// Changed reports whether the edits changed any byte.
func (f *File) Changed() bool { return !bytes.Equal(f.orig, f.data) }

func (f *File) reparse(data []byte) {
	f.data = data
	f.loaded = f.p.ParseBytes(f.Name, data)
	spans := f.p.LineSpans(data)

	recs := map[int][]*hba.Line{}
	for _, l := range f.loaded.Lines {
		if len(l.IncludedFrom) == 0 {
			recs[l.Pos.Line] = append(recs[l.Pos.Line], l)
		}
	}
	comments := map[int][]hba.Comment{}
	for _, c := range f.loaded.Comments {
		if c.Pos.Filename == f.loaded.Path {
			comments[c.Pos.Line] = append(comments[c.Pos.Line], c)
		}
	}
	f.Lines = make([]*Line, 0, len(spans))
	for _, s := range spans {
		l := &Line{Line: s.Line, Lines: s.Lines, Text: data[s.Start:s.End:s.End], off: s.Start}
		if cs := comments[s.Line]; len(cs) > 0 {
			l.Comment = cs[0].Text
			comments[s.Line] = cs[1:]
		}
		logical := joinLogical(l.Text)
		if rs := recs[s.Line]; len(rs) > 0 && len(hba.FieldColumns(logical)) > 0 {
			l.Record = rs[0]
			recs[s.Line] = rs[1:]
			l.Kind = KindInvalid
			if l.Record.Rule != nil && l.Record.Err == nil {
				l.Kind = KindRule
			}
		} else {
			l.Kind = classify(logical, l.Comment != "")
		}
		f.Lines = append(f.Lines, l)
	}
}

// joinLogical joins the physical lines of text as the loader does (line
// ends and continuation backslashes removed); it is used only to tell
// whether a line has fields.
func joinLogical(text []byte) string {
	var b strings.Builder
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		var ln []byte
		if i < 0 {
			ln, text = text, nil
		} else {
			ln, text = text[:i], text[i+1:]
		}
		ln = bytes.TrimRight(ln, "\r")
		if len(text) > 0 {
			ln = bytes.TrimSuffix(ln, []byte{'\\'})
		}
		if z := bytes.IndexByte(ln, 0); z >= 0 {
			ln = ln[:z]
		}
		b.Write(ln)
	}
	return b.String()
}

func classify(logical string, comment bool) Kind {
	fields := hba.FieldColumns(logical)
	switch {
	case len(fields) == 0 && comment:
		return KindComment
	case len(fields) == 0:
		return KindBlank
	}
	switch logical[fields[0][0]-1 : fields[0][1]-1] {
	case "include", "include_if_exists", "include_dir":
		return KindInclude
	}
	return KindUnread
}

// Find returns the line that starts at physical line n, or the error
// ErrNoLine (n is past the end) or ErrContinuation (n continues the record
// of an earlier line).
func (f *File) Find(n int) (*Line, int, error) {
	for i, l := range f.Lines {
		if l.Line == n {
			return l, i, nil
		}
		if n > l.Line && n < l.Line+l.Lines {
			return nil, -1, fmt.Errorf("line %d: %w of the record at line %d", n, ErrContinuation, l.Line)
		}
	}
	last := 0
	if k := len(f.Lines); k > 0 {
		last = f.Lines[k-1].Line + f.Lines[k-1].Lines - 1
	}
	return nil, -1, fmt.Errorf("line %d: %w: the file has %d lines", n, ErrNoLine, last)
}

// InsertBefore inserts the rule text before line n (any kind of line)
// and returns the new line.
func (f *File) InsertBefore(n int, text string) (*Line, error) {
	_, i, err := f.Find(n)
	if err != nil {
		return nil, err
	}
	return f.insertAt(i, text)
}

// InsertAfter inserts the rule text after line n, after its continuation
// lines, and returns the new line.
func (f *File) InsertAfter(n int, text string) (*Line, error) {
	_, i, err := f.Find(n)
	if err != nil {
		return nil, err
	}
	return f.insertAt(i+1, text)
}

// Append adds the rule text at the end of the file and returns the new
// line. A file whose last line has no line end gets one first (the one
// byte an insertion adds to a line it does not replace).
func (f *File) Append(text string) (*Line, error) {
	return f.insertAt(len(f.Lines), text)
}

// Remove removes line n, a record with its continuation lines, or a blank
// or comment line.
func (f *File) Remove(n int) error {
	_, i, err := f.Find(n)
	if err != nil {
		return err
	}
	f.splice(i, i+1, nil)
	return nil
}

// Replace replaces line n (with its continuation lines) by the rule text,
// keeping its line end, and returns the new line.
func (f *File) Replace(n int, text string) (*Line, error) {
	l, i, err := f.Find(n)
	if err != nil {
		return nil, err
	}
	if err := f.CheckRule(text); err != nil {
		return nil, err
	}
	f.splice(i, i+1, append([]byte(text), lineEnd(l.Text)...))
	return f.Lines[i], nil
}

// CheckRule returns nil when text is one rule that loads alone, written on
// one physical line; otherwise an error wrapping ErrBadRule and, when the
// parser refused it, the parser's *hba.Error (positioned in a file of that
// one line).
func (f *File) CheckRule(text string) error {
	switch {
	case strings.ContainsAny(text, "\n\r\x00"):
		return fmt.Errorf("%w: %q has a line end or a NUL byte", ErrBadRule, text)
	case strings.HasSuffix(text, `\`):
		return fmt.Errorf("%w: %q ends in a backslash, which joins the next line", ErrBadRule, text)
	}
	got := f.p.ParseBytes(f.Name, []byte(text+"\n"))
	if len(got.Errors) > 0 {
		return &ruleError{text: text, err: got.Errors[0]}
	}
	if len(got.Lines) != 1 || got.Lines[0].Rule == nil || len(got.Lines[0].IncludedFrom) != 0 {
		return fmt.Errorf("%w: %q is not a rule", ErrBadRule, text)
	}
	return nil
}

// ruleError is a rule the parser refused: its Error is "rule TEXT
// refused: MESSAGE" (MESSAGE the server's, its column that of TEXT), and it
// wraps ErrBadRule and the parser's *hba.Error.
type ruleError struct {
	text string
	err  *hba.Error
}

func (e *ruleError) Error() string {
	msg := e.err.Msg
	if c := e.err.Pos.Column; c > 0 {
		msg = fmt.Sprintf("column %d: %s", c, msg)
	}
	return fmt.Sprintf("rule %q refused: %s", e.text, msg)
}

func (e *ruleError) Unwrap() []error { return []error{ErrBadRule, e.err} }

func (f *File) insertAt(i int, text string) (*Line, error) {
	if err := f.CheckRule(text); err != nil {
		return nil, err
	}
	end := f.lineEnd(i)
	if i == len(f.Lines) && i > 0 {
		prev := f.Lines[i-1]
		if len(lineEnd(prev.Text)) == 0 {
			// The last line has no line end: give it one.
			f.splice(i-1, i, append(bytes.Clone(prev.Text), end...))
		}
	}
	f.splice(i, i, append([]byte(text), end...))
	return f.Lines[i], nil
}

// lineEnd returns the line end a line inserted at i gets: that of the line
// it goes before, or else of the line before it, or "\n".
func (f *File) lineEnd(i int) []byte {
	for _, j := range []int{i, i - 1} {
		if j >= 0 && j < len(f.Lines) {
			if e := lineEnd(f.Lines[j].Text); len(e) > 0 {
				return e
			}
		}
	}
	return []byte("\n")
}

func lineEnd(text []byte) []byte {
	switch {
	case bytes.HasSuffix(text, []byte("\r\n")):
		return []byte("\r\n")
	case bytes.HasSuffix(text, []byte("\n")):
		return []byte("\n")
	}
	return nil
}

// splice replaces lines [i, j) by the bytes b and parses the file again.
func (f *File) splice(i, j int, b []byte) {
	start, end := len(f.data), len(f.data)
	if i < len(f.Lines) {
		start = f.Lines[i].off
	}
	if j < len(f.Lines) {
		end = f.Lines[j].off
	}
	data := make([]byte, 0, len(f.data)-(end-start)+len(b))
	data = append(data, f.data[:start]...)
	data = append(data, b...)
	data = append(data, f.data[end:]...)
	f.reparse(data)
}
