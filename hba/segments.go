package hba

import (
	"bytes"
	"io/fs"
	"path"
	"strings"
)

// Segment is one named list of lines of a composed pg_hba.conf, such as an
// operator's fixed rules ("operator"), a custom resource's list
// ("spec.postgresql.pg_hba") and a catch-all ("default"). Each element is
// one physical line of the rendered file; an empty Name is "lines".
type Segment struct {
	Name  string
	Lines []string
}

// Composed is a pg_hba.conf given as segments, rendered one element per
// physical line, segments in order, each line ended by "\n". Lines of the
// parsed file are positioned at (segment, 0-based index): their Position has
// Segment and Index set, and its String is "name[index]", as in a Kubernetes
// field path.
//
// Include directives and @file references follow a policy: with FS nil (the
// default) every one is refused, an error on its element that says so
// ("could not open file "/admins": refused: a list of lines reads no other
// files"; include_if_exists is refused too, even where the file is missing);
// with FS set they are read from it, as Parser.FS reads files, relative to
// the directory of Path. An error inside a file read that way keeps that
// file's position; the line's IncludedFrom ends at the element.
//
// A Composed is not modified by parsing. The edit operations on files that
// keep comments sit beside this type; a Composed holds no syntax but its
// elements.
type Composed struct {
	Segments []Segment
	// Path is the name of the rendered file inside FS (it is made
	// absolute: "pg_hba.conf" is "/pg_hba.conf"); includes and @files are
	// relative to its directory. Empty means "pg_hba.conf".
	Path string
	// FS, if non-nil, is where includes and @files are read; nil refuses
	// them.
	FS fs.FS
}

// refusedText is the reason given for a refused include or @file.
const refusedText = "refused: a list of lines reads no other files"

type refusedError struct{}

func (refusedError) Error() string { return refusedText }

// refuseFS is the FS of a Composed without FS: it opens nothing. Its error
// is neither fs.ErrNotExist nor an errno, so include_if_exists does not
// skip it and the loader shows its text.
type refuseFS struct{}

func (refuseFS) Open(string) (fs.File, error) { return nil, refusedError{} }

func (c *Composed) abs() string {
	name := c.Path
	if name == "" {
		name = "pg_hba.conf"
	}
	return path.Join("/", name)
}

func (c *Composed) parser(p *Parser) *Parser {
	q := *p
	q.FS = c.FS
	if q.FS == nil {
		q.FS = refuseFS{}
	}
	return &q
}

func segName(s Segment) string {
	if s.Name == "" {
		return "lines"
	}
	return s.Name
}

// Locate returns pos with Segment and Index set when pos is a line of the
// rendered file (its Filename is the absolute Path and its Line one of the
// elements), and pos unchanged otherwise. It maps the positions that Rule.Pos,
// Rule.IncludedFrom and Lint's findings give, which carry no segment.
func (c *Composed) Locate(pos Position) Position {
	if pos.Filename != c.abs() || pos.Line < 1 {
		return pos
	}
	n := pos.Line - 1
	for _, s := range c.Segments {
		if n < len(s.Lines) {
			pos.Segment, pos.Index = segName(s), n
			return pos
		}
		n -= len(s.Lines)
	}
	return pos
}

// elementError returns why element s cannot be one line of a file read by
// the loader l, or "".
func elementError(l *loader, s string) string {
	switch {
	case strings.IndexByte(s, '\n') >= 0:
		return "element contains a newline: each element is one line of the file"
	case strings.IndexByte(s, 0) >= 0:
		if l.ver >= 14 {
			return "element contains a NUL byte: the server ignores the rest of the line and joins the next line to it"
		}
		return "element contains a NUL byte: the server ignores the rest of the line"
	case l.ver >= 14 && strings.HasSuffix(strings.TrimRight(s, "\r"), `\`):
		return `element ends in a backslash: PostgreSQL 14 and later join the next line to it`
	case l.ver == 13 && l.maxLine > 0 && len(s) >= l.maxLine-2:
		// fgets fills its buffer: the server reports the line and reads
		// its rest as the next line.
		return "authentication file line too long"
	}
	return ""
}

// elementErrors checks every element and returns the rendering, with
// failing elements as empty lines, and their errors in order.
func (c *Composed) elementErrors(p *Parser, blank bool) ([]byte, []*Error) {
	l := p.newLoader(nil)
	abs := c.abs()
	var b bytes.Buffer
	var errs []*Error
	line := 0
	for _, s := range c.Segments {
		for i, e := range s.Lines {
			line++
			if msg := elementError(l, e); msg != "" {
				errs = append(errs, &Error{Pos: Position{Filename: abs, Line: line, Segment: segName(s), Index: i}, Msg: msg, Err: ErrSyntax})
				if blank {
					b.WriteByte('\n')
					continue
				}
			}
			b.WriteString(e)
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), errs
}

// RenderComposed returns the file c stands for, exactly as it is to be
// written: every element followed by "\n". It fails, with an ErrorList
// positioned at the elements, when an element cannot stand as one line for
// p's version: it contains a newline or a NUL byte, ends in a backslash
// (14 and later, trailing carriage returns aside; also for the last
// element, since a composed file may be composed further), or, in 13, fills
// the server's line buffer. It does not parse the lines: ParseComposed does.
func (p *Parser) RenderComposed(c *Composed) ([]byte, error) {
	data, errs := c.elementErrors(p, false)
	if len(errs) > 0 {
		return nil, ErrorList(errs)
	}
	return data, nil
}

// ParseComposed parses c as p would parse its rendering, and positions every
// line of the result at its element. Elements that RenderComposed refuses
// are errors on their lines (Line.Rule nil, Line.Raw the element); the
// other elements are parsed as if those were empty lines, so that each
// keeps its own error and line number. File.Path is the absolute Path.
//
// Loading the rendered bytes with ParseBytes and Parser.FS set to c.FS gives
// the same lines, rules and errors, but for the positions' Segment and
// Index and, with FS nil, the refusals.
func (p *Parser) ParseComposed(c *Composed) *File {
	data, bad := c.elementErrors(p, true)
	f := c.parser(p).ParseBytes(c.abs(), data)
	abs := f.Path
	mainLine := func(ln *Line) int {
		if ln.Pos.Filename == abs && len(ln.IncludedFrom) == 0 {
			return ln.Pos.Line
		}
		if n := len(ln.IncludedFrom); n > 0 {
			return ln.IncludedFrom[n-1].Line
		}
		return ln.Pos.Line
	}
	if len(bad) > 0 {
		lines := make([]*Line, 0, len(f.Lines)+len(bad))
		j := 0
		for _, ln := range f.Lines {
			for j < len(bad) && bad[j].Pos.Line <= mainLine(ln) {
				lines = append(lines, badLine(c, bad[j]))
				j++
			}
			lines = append(lines, ln)
		}
		for ; j < len(bad); j++ {
			lines = append(lines, badLine(c, bad[j]))
		}
		seen := make(map[*Error]bool, len(f.Errors))
		var errs ErrorList
		for _, ln := range lines {
			if ln.Err != nil && !seen[ln.Err] {
				seen[ln.Err] = true
				errs = append(errs, ln.Err)
			}
		}
		for _, e := range f.Errors {
			if !seen[e] {
				errs = append(errs, e)
			}
		}
		f.Lines, f.Errors = lines, errs
	}
	for _, ln := range f.Lines {
		ln.Pos = c.Locate(ln.Pos)
		if n := len(ln.IncludedFrom); n > 0 {
			ln.IncludedFrom[n-1] = c.Locate(ln.IncludedFrom[n-1])
		}
		if e := ln.Err; e != nil && c.FS == nil && strings.Contains(e.Log, refusedText) && !strings.Contains(e.Msg, refusedText) {
			e.Msg += ": " + refusedText // include_dir: the view text has no reason
		}
	}
	for _, e := range f.Errors {
		e.Pos = c.Locate(e.Pos)
	}
	return f
}

func badLine(c *Composed, e *Error) *Line {
	n := e.Pos.Line - 1
	for _, s := range c.Segments {
		if n < len(s.Lines) {
			return &Line{Pos: e.Pos, Raw: s.Lines[n], Err: e}
		}
		n -= len(s.Lines)
	}
	return &Line{Pos: e.Pos, Err: e}
}

// LoadComposed is ParseComposed followed by Compile: the Ruleset, or the
// ErrorList of every error (positioned at the elements) and no Ruleset.
func (p *Parser) LoadComposed(c *Composed) (*Ruleset, error) {
	f := p.ParseComposed(c)
	if len(f.Errors) > 0 {
		return nil, f.Errors
	}
	return p.Compile(f)
}
