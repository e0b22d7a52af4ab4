package hba

// Compiling: a File to a Ruleset. Load reads and compiles in one call.

import (
	"context"
)

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
