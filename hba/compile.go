package hba

import (
	"context"
	"sync/atomic"
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

// Load reads and compiles the pg_hba.conf at path with a zero Parser.
func Load(path string) (*Ruleset, error) {
	var p Parser
	return p.Load(path)
}

// Load reads the pg_hba.conf at path with everything it includes and
// compiles it. Any error in any line fails the load: the error is then an
// ErrorList of every error, as PostgreSQL logs them, and the Ruleset is nil.
//
// Loading is bounded by p.Limits; it is LoadContext with
// context.Background().
func (p *Parser) Load(path string) (*Ruleset, error) {
	return p.LoadContext(context.Background(), path)
}

// LoadContext is Load, stopping when ctx ends (see
// [Parser.ParseFileContext] for when the context is checked). When ctx ends
// first, the error is an *Error that matches ctx.Err() with errors.Is.
func (p *Parser) LoadContext(ctx context.Context, path string) (*Ruleset, error) {
	abs := p.absPath(path)
	l := p.newLoader(ctx)
	data, err := l.readMain(abs, "configuration file")
	if err != nil {
		return nil, err
	}
	f := p.parseMain(l, abs, data, false)
	if l.stopped != nil {
		return nil, l.stopped
	}
	return p.Compile(f)
}

// LoadBytes is Load with the main file's contents given; name places it
// (includes and @files are resolved relative to its directory).
func (p *Parser) LoadBytes(name string, data []byte) (*Ruleset, error) {
	return p.Compile(p.parseMain(p.newLoader(nil), p.absPath(name), data, false))
}

// Compile turns a parsed file into a Ruleset. It refuses a file with any
// error, and a file without rules, as PostgreSQL does.
func (p *Parser) Compile(f *File) (*Ruleset, error) {
	if err := f.Errors.Err(); err != nil {
		return nil, err
	}
	if len(f.Rules) == 0 {
		var l ErrorList
		l = append(l, &Error{Pos: Position{Filename: f.Path}, Msg: `configuration file "` + f.Path + `" contains no entries`, LogOnly: true, Err: ErrNoEntries})
		return nil, l
	}
	rs := &Ruleset{
		rules:    f.Rules,
		env:      p.Env,
		version:  p.version(),
		minor:    p.Minor,
		features: p.Features,
		ssl:      p.SSL,
		dbUserNS: p.DBUserNamespace,
		path:     f.Path,
	}
	rs.idx = buildIndex(rs.rules)
	return rs, nil
}

// Holder holds the current Ruleset for concurrent readers while a reloader
// swaps in new ones. Matching never takes a lock. The zero value holds nil.
type Holder struct {
	p atomic.Pointer[Ruleset]
}

// NewHolder returns a Holder holding rs.
func NewHolder(rs *Ruleset) *Holder {
	h := new(Holder)
	h.p.Store(rs)
	return h
}

// Load returns the current Ruleset.
func (h *Holder) Load() *Ruleset { return h.p.Load() }

// Store makes rs the current Ruleset. A nil rs is ignored: a failed reload
// keeps the previous rules, as PostgreSQL does.
func (h *Holder) Store(rs *Ruleset) {
	if rs != nil {
		h.p.Store(rs)
	}
}

// MatchContext matches with the current Ruleset. With no Ruleset it refuses
// every connection (ErrNoEntry).
func (h *Holder) MatchContext(ctx context.Context, c Conn) (*Rule, error) {
	rs := h.p.Load()
	if rs == nil {
		return nil, &DenyError{Conn: c, Message: "no pg_hba.conf loaded"}
	}
	return rs.MatchContext(ctx, c)
}
