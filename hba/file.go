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
// placed where loading stopped, that matches ctx.Err() with errors.Is. (A
// large file is read in chunks at once, each checking the context at the
// same 256-line marks: the place is then the first chunk in file order
// that saw the context end.)
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
		// readFile's buffer is new and goes only to the parse: the loader
		// owns it (see loader.own and ownedString).
		l.own = data
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
// (Load and LoadBytes, which keep only the rules, do not need them). A
// large main file is read in parallel chunks when it can be (parallel.go),
// with the same result as reading it in one pass.
func (p *Parser) parseMain(l *loader, abs string, data []byte, withLines bool) *File {
	if l.files == 0 {
		// Data the caller gave (ParseBytes); readMain counted its own.
		l.readBytes += int64(len(data))
	}
	if f := p.parseParallel(l, abs, data, withLines); f != nil {
		return f
	}
	return p.parseSeq(l, abs, data, withLines)
}

// parseSeq parses a main file in one pass, its bytes already counted.
func (p *Parser) parseSeq(l *loader, abs string, data []byte, withLines bool) *File {
	// Each line becomes a Line (and a Rule) as soon as it is read, so that
	// the tokenizer's buffers are reused. Lines and rules come from slabs
	// sized by the main file's line count (more slabs for included files).
	est := bytes.Count(data, []byte{'\n'}) + 1
	f := &File{Path: abs, dialect: p.dialect()}
	b := newBuilder(p, l, est, withLines)
	if withLines {
		l.comments = &f.Comments
	}
	l.readInto(b, abs, data)
	f.Rules, f.Lines, f.Errors = b.rules, b.lines, b.errs
	l.finish(&f.Errors)
	return f
}

// builder turns each scanned line into a Line and a Rule as soon as it is
// read (the loader's sink). In a parallel load, each chunk has its own,
// and the first error stops it (the load is then read again in one pass).
type builder struct {
	p         *Parser
	l         *loader
	withLines bool
	est       int // the size of the next slab
	lineSlab  []Line
	ruleSlab  []Rule
	scratch   *AuthOptions // parseAuth's storage until shareOptions
	names     nameArena
	auth      authMemo
	file      *ruleFile

	rules []*Rule
	lines []*Line
	errs  ErrorList

	// Set in parallel loads only (parallel.go).
	par      bool    // stop at the first error, setting failed
	failed   bool    // a line failed
	lineBase int     // added to the line number of every line
	keys     bool    // record ruleKey and lineKey
	ruleKey  []int32 // the main-file line each rule was read for
	lineKey  []int32 // the same for lines
	// sentinels are the lines that only mark a place in the comments
	// (the main file's lines, ascending); cuts receives the number of
	// comments read when each was reached.
	progress      func(line int) // called after each line of the main file
	sentinels     []int
	sentinelLines []int // all of them, for the merge
	cuts          []int
}

func newBuilder(p *Parser, l *loader, est int, withLines bool) *builder {
	b := &builder{p: p, l: l, withLines: withLines, est: est, scratch: new(AuthOptions)}
	b.auth.l = l
	b.rules = make([]*Rule, 0, est)
	if withLines {
		b.lines = make([]*Line, 0, est)
	}
	return b
}

// add is the loader's sink: it builds tl's Line and Rule.
func (b *builder) add(tl *tokLine) {
	l := b.l
	if len(b.sentinels) > 0 && tl.inc == nil && tl.pos.Line == b.sentinels[0] {
		n := 0
		if l.comments != nil {
			n = len(*l.comments)
		}
		b.cuts = append(b.cuts, n)
		b.sentinels = b.sentinels[1:]
		b.progress(tl.pos.Line)
		return
	}
	tl.pos.Line += b.lineBase
	err := tl.err
	var r *Rule
	if err == nil {
		if len(b.ruleSlab) == 0 {
			b.ruleSlab = make([]Rule, max(b.est, 64))
		}
		slot := &b.ruleSlab[0]
		if b.file == nil || b.file.name != tl.pos.Filename || !sameText(b.file.text, l.text) || !slices.Equal(b.file.inc, tl.inc) {
			b.file = b.newFile(tl)
		}
		slot.file = b.file
		slot.opts = b.scratch
		r, err = b.p.parseRule(l.ctx, tl, slot, &b.names, &b.auth)
		if err != nil && err.Pos.Column == 0 && tl.lazy != [2][2]int32{} {
			// The error may be on a token of a lazy field, which has no
			// place yet: place the fields and read the line again.
			*slot = Rule{}
			l.placeLazy(tl)
			slot.file, slot.opts = b.file, b.scratch
			r, err = b.p.parseRule(l.ctx, tl, slot, &b.names, &b.auth)
		}
		if err != nil {
			*slot = Rule{} // the slot is used by the next rule
			if l.ctx.Err() != nil {
				// A RADIUS lookup failed because the load's context
				// ended: the load stops, it does not fail the line.
				l.checkContext(tl.pos)
			}
		} else {
			b.ruleSlab = b.ruleSlab[1:]
			if r.opts == b.scratch { // not shared by parseMethodColumn's memo
				r.opts = l.shareOptions(r.method, r.opts)
			}
			r.number = int32(len(b.rules) + 1)
			b.rules = append(b.rules, r)
			if b.keys {
				b.ruleKey = append(b.ruleKey, mainLine(tl))
			}
		}
	}
	if err != nil {
		if b.par {
			b.failed, l.halted = true, true
			return
		}
		err = l.lineError(tl.pos, err)
		b.errs = append(b.errs, err)
	}
	if b.withLines {
		if len(b.lineSlab) == 0 {
			b.lineSlab = make([]Line, max(b.est, 64))
		}
		ln := &b.lineSlab[0]
		b.lineSlab = b.lineSlab[1:]
		*ln = Line{Pos: tl.pos, IncludedFrom: tl.inc, Raw: tl.raw, Rule: r, Err: err}
		b.lines = append(b.lines, ln)
		if b.keys {
			b.lineKey = append(b.lineKey, mainLine(tl))
		}
	}
	b.est = 256 // later slabs are for included files
	if b.progress != nil && tl.inc == nil {
		b.progress(tl.pos.Line)
	}
}

// newFile returns the ruleFile of the rules of tl's file, whose text is
// the loader's current one (loader.text).
func (b *builder) newFile(tl *tokLine) *ruleFile {
	f := &ruleFile{name: tl.pos.Filename, inc: tl.inc, strs: b.l.strTable()}
	if len(b.l.text) < maxText {
		f.text = b.l.text
	}
	if t := f.strs; cap(t.names) == 0 {
		// Three names a rule, as in most files (trim gives back what
		// is left unused).
		t.names = make([]name, 0, 3*b.est)
	}
	return f
}

// mainLine is the line of the main file that tl was read for: its own, or
// that of the include directive it came through.
func mainLine(tl *tokLine) int32 {
	if n := len(tl.inc); n > 0 {
		return int32(tl.inc[n-1].Line)
	}
	return int32(tl.pos.Line)
}

// shareOptions returns a heap copy of *o. Rules written without options
// have options that depend only on their method (and the parser), so
// those share one value per method and load; rules with options share
// one value per load when their options are equal.
func (l *loader) shareOptions(m Method, o *AuthOptions) *AuthOptions {
	return l.share(m, o, false)
}

// share is shareOptions; with adopt, o itself (a value no one changes)
// becomes the shared value when there is none yet, instead of a copy.
func (l *loader) share(m Method, o *AuthOptions, adopt bool) *AuthOptions {
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
	c := o
	if !adopt {
		c = new(AuthOptions)
		*c = *o
		// o may be the builder's scratch, whose arrays parseAuth reuses;
		// an empty list is nil, as parseAuth makes it for a rule of its
		// own.
		c.Raw, c.view = cloneNil(o.Raw), cloneNil(o.view)
	}
	if len(o.Raw) == 0 && int(m) < len(l.options) {
		l.options[m] = c
	} else if len(o.Raw) > 0 {
		l.optsByRaw[h] = append(l.optsByRaw[h], c)
	}
	return c
}

// shareMerged is shareOptions for the merge of a parallel load, whose
// rules hold their chunk's shared options: values that no one changes,
// many rules holding each. What one of them is shared as is remembered
// by its address (a chunk shares the options without tokens by method,
// so one address has one method).
func (l *loader) shareMerged(m Method, o *AuthOptions) *AuthOptions {
	if s, ok := l.merged[o]; ok {
		return s
	}
	s := l.share(m, o, true)
	if l.merged == nil {
		l.merged = map[*AuthOptions]*AuthOptions{}
	}
	l.merged[o] = s
	return s
}

// cloneNil is a copy of s, nil when s is empty.
func cloneNil[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// readInto tokenizes data as the main file abs, each line going to b as
// soon as it is read (the sink), @file fields placed lazily.
func (l *loader) readInto(b *builder, abs string, data []byte) {
	var lines []*tokLine
	l.mainOut = &lines
	l.sink = b.add
	l.lazyAt = true
	l.tokenize(abs, data, 0, nil, &lines)
	l.text = ""
	if l.strs != nil {
		l.strs.trim()
	}
}
