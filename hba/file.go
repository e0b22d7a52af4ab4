package hba

// File: what reading a main file gives (its lines, rules, errors, comments
// and the dialect it was read for), and the builder that turns each scanned
// line into a Line and a Rule as soon as it is read.

import (
	"bytes"
	"context"
	"errors"
	"hash/maphash"
	"slices"
)

// File is the result of reading a pg_hba.conf and everything it includes:
// every non-empty logical line with its rule or its error, in the order
// PostgreSQL reads them. It is what the pg_hba_file_rules view shows.
type File struct {
	// Path is the absolute, cleaned path of the main file.
	Path string
	// Lines are the logical lines that were not empty after tokenising,
	// includes expanded in place. A successful include directive has no line.
	Lines []*Line
	// Rules are the rules that loaded, in order (warning rules included).
	Rules []*Rule
	// Errors are every error, in line order. Loading fails when it is
	// non-empty.
	Errors ErrorList
	// Comments are the comments of the lines read, in the order read (the
	// main file's, and those of included files and @files in place):
	// comment-only lines and comments after a record alike. A comment in
	// a line that failed before its end was reached (a token too long, a
	// line too long in 13) is not kept.
	Comments []Comment

	dialect Dialect
}

// Comment is one comment: from a '#' outside double quotes to the end of
// its logical line.
type Comment struct {
	// Pos is the line and the column of the '#'; EndColumn is the end of
	// the logical line (see [Position] for lines continued with
	// backslashes, where a comment ends the record).
	Pos Position
	// Text is the comment, the '#' included.
	Text string
}

// Dialect is what a File was read for: the server facts its parsing
// depended on, taken from the Parser (zero fields resolved as the Parser
// documents them, except Features, kept as given).
type Dialect struct {
	Version                 int // the major version, 13 to 18
	Minor                   int // 0 for the newest minor release
	SSL                     bool
	Features                Features // zero means DefaultFeatures
	DBUserNamespace         bool
	OAuthValidatorLibraries string
}

// Dialect returns the dialect the file was read for, so that an analysis
// of the file needs no server facts of its own.
func (f *File) Dialect() Dialect { return f.dialect }

// dialect returns the facts of p that parsing depends on.
func (p *Parser) dialect() Dialect {
	return Dialect{Version: p.version(), Minor: p.Minor, SSL: p.SSL, Features: p.Features,
		DBUserNamespace: p.DBUserNamespace, OAuthValidatorLibraries: p.OAuthValidatorLibraries}
}

// Line is one logical line of a file.
type Line struct {
	Pos          Position
	IncludedFrom []Position
	// Raw is the logical line (continuations joined).
	Raw string
	// Rule is the loaded rule, nil when the line failed.
	Rule *Rule
	// Err is the line's error, nil when it loaded.
	Err *Error
}

// ParseFile reads the pg_hba.conf at path and everything it includes. The
// error is non-nil only when the main file cannot be read at all (PostgreSQL
// then refuses to start, and the view query fails); line errors are in
// File.Errors. It is ParseFileContext with context.Background().
func (p *Parser) ParseFile(name string) (*File, error) {
	return p.ParseFileContext(context.Background(), name)
}

// ParseFileContext is ParseFile, stopping when ctx ends. The context is
// checked before every file is opened (the main file, each @file, include
// and file of an include_dir) and every 256 lines read; a read itself is
// bounded (see [Limits]) and cannot block, since only regular files are
// read. When ctx ends first, the *File is nil and the error an *Error,
// placed where loading stopped, that matches ctx.Err() with errors.Is.
func (p *Parser) ParseFileContext(ctx context.Context, name string) (*File, error) {
	abs := p.absPath(name)
	l := p.newLoader(ctx)
	data, err := l.readMain(abs, "configuration file")
	if err != nil {
		return nil, err
	}
	f := p.parseMain(l, abs, data, true)
	if l.stopped != nil {
		return nil, l.stopped
	}
	return f, nil
}

// ParseBytes parses data as the main file named name; includes and @files
// are read relative to name's directory. The bytes of data count against
// Limits.MaxBytes.
func (p *Parser) ParseBytes(name string, data []byte) *File {
	return p.parseMain(p.newLoader(nil), p.absPath(name), data, true)
}

// ParseIdentFileContext is ParseIdentFile, bounded by p.Limits as pg_hba.conf
// loading is and stopping when ctx ends (see [Parser.ParseFileContext]).
func (p *Parser) ParseIdentFileContext(ctx context.Context, name string) (*IdentFile, error) {
	abs := p.absPath(name)
	l := p.newLoader(ctx)
	data, err := l.readMain(abs, "usermap file")
	if err != nil {
		return nil, err
	}
	f := p.parseIdentMain(l, abs, data)
	if l.stopped != nil {
		return nil, l.stopped
	}
	return f, nil
}

// readMain reads a main file (pg_hba.conf or pg_ident.conf). A file that
// opens but cannot be read (a directory) ends there, as in PostgreSQL 14+,
// which logs the error and goes on. An open failure is the *Error the
// server logs: `could not open <what13> "…": …` in 13–15, `could not open
// file "…": …` from 16. A special file or a file over the byte budget is
// refused the same way, with pghba's reason; an ended context returns the
// context's *Error.
func (l *loader) readMain(abs, what13 string) ([]byte, error) {
	data, err := l.readFile(abs)
	if err == nil {
		return data, nil
	}
	if l.stopped != nil {
		return nil, l.stopped
	}
	var re *readError
	if errors.As(err, &re) {
		return nil, nil
	}
	what := "file"
	if l.ver <= 15 {
		what = what13
	}
	return nil, fileErr(Position{Filename: abs}, `could not open `+what+` "`+abs+`": `+err.Error(), err)
}

// tokenizeMain returns the logical lines of a main file, includes expanded.
// The bytes of data count against the load's budget.
func (l *loader) tokenizeMain(abs string, data []byte) []*tokLine {
	var lines []*tokLine
	if l.files == 0 {
		// Data the caller gave (ParseBytes); readMain counted its own.
		l.readBytes += int64(len(data))
	}
	l.tokenize(abs, data, 0, nil, &lines)
	return lines
}

// parseMain parses a main file. Without withLines the File has no Lines
// (Load and LoadBytes, which keep only the rules, do not need them).
func (p *Parser) parseMain(l *loader, abs string, data []byte, withLines bool) *File {
	// Each line becomes a Line (and a Rule) as soon as it is read, so that
	// the tokenizer's buffers are reused. Lines and rules come from slabs
	// sized by the main file's line count (more slabs for included files).
	est := bytes.Count(data, []byte{'\n'}) + 1
	f := &File{Path: abs, Rules: make([]*Rule, 0, est), dialect: p.dialect()}
	if withLines {
		f.Lines = make([]*Line, 0, est)
		l.comments = &f.Comments
	}
	var lineSlab []Line
	var ruleSlab []Rule
	scratch := new(AuthOptions) // parseAuth's storage until shareOptions
	var names nameArena
	var file *ruleFile
	var lines []*tokLine
	l.mainOut = &lines
	l.sink = func(tl *tokLine) {
		err := tl.err
		var r *Rule
		if err == nil {
			if len(ruleSlab) == 0 {
				ruleSlab = make([]Rule, max(est, 64))
			}
			if file == nil || file.name != tl.pos.Filename || !slices.Equal(file.inc, tl.inc) {
				file = &ruleFile{name: tl.pos.Filename, inc: tl.inc, strs: l.strTable()}
			}
			ruleSlab[0].file = file
			ruleSlab[0].opts = scratch
			if r, err = p.parseRule(l.ctx, tl, &ruleSlab[0], &names); err != nil {
				ruleSlab[0] = Rule{} // the slot is used by the next rule
				if l.ctx.Err() != nil {
					// A RADIUS lookup failed because the load's context
					// ended: the load stops, it does not fail the line.
					l.checkContext(tl.pos)
				}
			} else {
				ruleSlab = ruleSlab[1:]
				r.opts = l.shareOptions(r.method, r.opts)
				r.number = int32(len(f.Rules) + 1)
				f.Rules = append(f.Rules, r)
			}
		}
		if err != nil {
			err = l.lineError(tl.pos, err)
			f.Errors = append(f.Errors, err)
		}
		if withLines {
			if len(lineSlab) == 0 {
				lineSlab = make([]Line, max(est, 64))
			}
			ln := &lineSlab[0]
			lineSlab = lineSlab[1:]
			*ln = Line{Pos: tl.pos, IncludedFrom: tl.inc, Raw: tl.raw, Rule: r, Err: err}
			f.Lines = append(f.Lines, ln)
		}
		est = 256 // later slabs are for included files
	}
	if l.files == 0 {
		// Data the caller gave (ParseBytes); readMain counted its own.
		l.readBytes += int64(len(data))
	}
	l.tokenize(abs, data, 0, nil, &lines)
	l.finish(&f.Errors)
	return f
}

// shareOptions returns a heap copy of *o. Rules written without options
// have options that depend only on their method (and the parser), so
// those share one value per method and load; rules with options share
// one value per load when their options are equal.
func (l *loader) shareOptions(m Method, o *AuthOptions) *AuthOptions {
	if len(o.Raw) == 0 && int(m) < len(l.options) {
		if s := l.options[m]; s != nil {
			return s
		}
	}
	var h uint64
	if len(o.Raw) > 0 {
		if l.optsByRaw == nil {
			l.optsByRaw = map[uint64][]*AuthOptions{}
			l.optsSeed = maphash.MakeSeed()
		}
		h = o.hash(l.optsSeed)
		for _, s := range l.optsByRaw[h] {
			if s.equal(o) {
				return s
			}
		}
	}
	c := new(AuthOptions)
	*c = *o
	if len(o.Raw) == 0 && int(m) < len(l.options) {
		l.options[m] = c
	} else if len(o.Raw) > 0 {
		l.optsByRaw[h] = append(l.optsByRaw[h], c)
	}
	return c
}
