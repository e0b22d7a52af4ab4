package hba

// pg_ident.conf: reading it into an IdentFile, compiling it into IdentMaps,
// and the IdentHolder that swaps them on reload. The checks are in
// ident_check.go.

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/pghba/pghba/internal/pgre"
)

// IdentFile is a pg_ident.conf as read: every non-empty logical line, with
// the mapping it defines or its error, in the order PostgreSQL reads them
// (includes expanded in place). It is what the pg_ident_file_mappings view
// shows; see [IdentFile.ViewRows].
type IdentFile struct {
	// Path is the absolute, cleaned path of the main file.
	Path string
	// Version is the PostgreSQL major version the file was read for.
	Version int
	// Lines are the logical lines that were not empty after tokenising. A
	// successful include directive has no line.
	Lines []*IdentLine
	// Mappings are the lines that loaded, in order.
	Mappings []*IdentMapping
	// Errors are every error, in line order. Loading fails when it is
	// non-empty.
	Errors ErrorList
}

// IdentLine is one logical line of a pg_ident.conf.
type IdentLine struct {
	Pos          Position
	IncludedFrom []Position
	// Raw is the logical line (continuations joined).
	Raw string
	// Mapping is the loaded line, nil when the line failed.
	Mapping *IdentMapping
	// Err is the line's error, nil when it loaded.
	Err *Error
}

// IdentMapping is one loaded pg_ident.conf line: MAPNAME SYSTEM-USER
// PG-USER. Fields after the third are ignored, as by PostgreSQL. An
// IdentMapping is immutable once loaded.
type IdentMapping struct {
	// Pos is the file (absolute, cleaned path) and the first physical line.
	Pos Position
	// IncludedFrom lists the include directives that led to this file,
	// innermost first (16+).
	IncludedFrom []Position
	// Raw is the logical line.
	Raw string
	// Number is the 1-based position among the loaded lines
	// (pg_ident_file_mappings.map_number, 16+).
	Number int

	// Map is the map name, compared byte for byte with a rule's map=.
	Map string
	// SystemUser is the system user token. A value starting with "/"
	// (quoted or not) is a regular expression searched in the system user.
	SystemUser Token
	// PGUser is the database user token. In 13–15 it is always a literal
	// name (in which the first \1 is replaced after a regular-expression
	// match); from 16, unquoted all and +role are keywords and a value
	// starting with "/" is a regular expression.
	PGUser Token

	version int
	sysRe   *pgre.Regexp
	pgRe    *pgre.Regexp
}

// systemUserRegex reports whether the system user is a regular expression.
func (m *IdentMapping) systemUserRegex() bool { return m.sysRe != nil }

// pgUserRegex reports whether the database user is a regular expression
// (16+ only).
func (m *IdentMapping) pgUserRegex() bool { return m.pgRe != nil }

// IdentViewRow is one row of PostgreSQL's pg_ident_file_mappings view
// (15+). PostgreSQL 15 has no MapNumber and FileName columns.
//
// When Error is non-empty, the line failed: MapNumber, MapName, SysName and
// PGUsername are SQL NULL (zero and empty here). Otherwise Error is NULL.
type IdentViewRow struct {
	MapNumber  int
	FileName   string
	LineNumber int
	MapName    string
	SysName    string
	PGUsername string
	Error      string
	// Line is the line the row is made from.
	Line *IdentLine
}

// ViewRows returns the rows pg_ident_file_mappings shows for the file: one
// per line, sys_name and pg_username being the token values (quotes
// removed; regular expressions keep their slash).
func (f *IdentFile) ViewRows() []IdentViewRow {
	rows := make([]IdentViewRow, 0, len(f.Lines))
	for _, l := range f.Lines {
		row := IdentViewRow{FileName: l.Pos.Filename, LineNumber: l.Pos.Line, Line: l}
		if l.Err != nil {
			row.Error = l.Err.viewText()
		} else if m := l.Mapping; m != nil {
			row.MapNumber = m.Number
			row.MapName = m.Map
			row.SysName = m.SystemUser.Value
			row.PGUsername = m.PGUser.Value
		}
		rows = append(rows, row)
	}
	return rows
}

// ParseIdentFile reads the pg_ident.conf at name and everything it includes.
// The error is non-nil only when the main file cannot be opened (PostgreSQL
// then logs "could not open usermap file …" (13–15) or "could not open file
// …" (16+) and runs without maps); line errors are in IdentFile.Errors.
func (p *Parser) ParseIdentFile(name string) (*IdentFile, error) {
	return p.ParseIdentFileContext(context.Background(), name)
}

// ParseIdentBytes parses data as the pg_ident.conf named name; includes and
// @files are read relative to name's directory.
func (p *Parser) ParseIdentBytes(name string, data []byte) *IdentFile {
	return p.parseIdentMain(p.newLoader(nil), p.absPath(name), data)
}

func (p *Parser) parseIdentMain(l *loader, abs string, data []byte) *IdentFile {
	lines := l.tokenizeMain(abs, data)
	f := &IdentFile{Path: abs, Version: p.version()}
	for _, tl := range lines {
		ln := &IdentLine{Pos: tl.pos, IncludedFrom: tl.inc, Raw: tl.raw, Err: tl.err}
		if tl.err == nil {
			m, err := p.parseIdentLine(tl)
			if err != nil {
				ln.Err = err
			} else {
				m.Number = len(f.Mappings) + 1
				ln.Mapping = m
				f.Mappings = append(f.Mappings, m)
			}
		}
		if ln.Err != nil {
			f.Errors = append(f.Errors, ln.Err)
		}
		f.Lines = append(f.Lines, ln)
	}
	l.finish(&f.Errors)
	return f
}

// parseIdentLine is PostgreSQL's parse_ident_line: the map, system user and
// database user fields must each hold exactly one token, checked in that
// order; later fields are ignored; then the regular expressions compile.
func (p *Parser) parseIdentLine(tl *tokLine) (*IdentMapping, *Error) {
	ver := p.version()
	fields := tl.fields
	var toks [3]token
	for i := range toks {
		if i >= len(fields) {
			e := &Error{Pos: tl.pos, Msg: "missing entry at end of line", Err: ErrIdent}
			if ver <= 15 {
				e.Log = `missing entry in file "` + tl.pos.Filename + `" at end of line ` + itoa(tl.pos.Line)
			}
			return nil, e
		}
		if len(fields[i]) > 1 {
			return nil, &Error{Pos: tl.pos, Msg: "multiple values in ident field", Err: ErrIdent}
		}
		toks[i] = fields[i][0]
	}
	m := &IdentMapping{
		Pos:          tl.pos,
		IncludedFrom: tl.inc,
		Raw:          tl.raw,
		Map:          toks[0].s,
		SystemUser:   Token{Value: toks[1].s, Quoted: toks[1].quoted},
		PGUser:       Token{Value: toks[2].s, Quoted: toks[2].quoted},
		version:      ver,
	}
	var err *Error
	if m.sysRe, err = p.identRegex(tl, toks[1].s); err != nil {
		return nil, err
	}
	if ver >= 16 {
		if m.pgRe, err = p.identRegex(tl, toks[2].s); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// identRegex compiles s when it starts with a slash, and returns nil
// otherwise.
func (p *Parser) identRegex(tl *tokLine, s string) (*pgre.Regexp, *Error) {
	if !strings.HasPrefix(s, "/") {
		return nil, nil
	}
	re, err := p.compileRegex(s[1:])
	if err != nil {
		return nil, &Error{Pos: tl.pos, Msg: `invalid regular expression "` + s[1:] + `": ` + err.Error(), Err: ErrRegex}
	}
	return re, nil
}

// LoadIdent reads the pg_ident.conf at path with a zero Parser (PostgreSQL
// 18 rules, no role source). See [Parser.LoadIdent].
func LoadIdent(path string) (*IdentMaps, error) {
	var p Parser
	return p.LoadIdent(path)
}

// LoadIdent reads the pg_ident.conf at path with everything it includes and
// compiles it. Any error in any line fails the load: the error is then an
// ErrorList of every error and the *IdentMaps is nil, which behaves as
// PostgreSQL's empty map set (see the package's notes on startup and
// reload). An empty file loads and defines no maps. The maps test +role
// database users with p.Env.Roles.
func (p *Parser) LoadIdent(path string) (*IdentMaps, error) {
	return p.LoadIdentContext(context.Background(), path)
}

// LoadIdentContext is LoadIdent, stopping when ctx ends (see
// [Parser.ParseFileContext]).
func (p *Parser) LoadIdentContext(ctx context.Context, path string) (*IdentMaps, error) {
	f, err := p.ParseIdentFileContext(ctx, path)
	if err != nil {
		return nil, err
	}
	return p.CompileIdent(f)
}

// LoadIdentBytes is LoadIdent with the main file's contents given; name
// places it (includes and @files are resolved relative to its directory).
func (p *Parser) LoadIdentBytes(name string, data []byte) (*IdentMaps, error) {
	return p.CompileIdent(p.ParseIdentBytes(name, data))
}

// CompileIdent turns a parsed pg_ident.conf into IdentMaps. It refuses a
// file with any error, as PostgreSQL does.
func (p *Parser) CompileIdent(f *IdentFile) (*IdentMaps, error) {
	if err := f.Errors.Err(); err != nil {
		return nil, err
	}
	m := &IdentMaps{
		path:     f.Path,
		version:  f.Version,
		mappings: f.Mappings,
		byName:   make(map[string][]*IdentMapping),
		roles:    p.Env.Roles,
	}
	for _, im := range f.Mappings {
		if _, ok := m.byName[im.Map]; !ok {
			m.names = append(m.names, im.Map)
		}
		m.byName[im.Map] = append(m.byName[im.Map], im)
	}
	return m, nil
}

// IdentMaps is a loaded pg_ident.conf: the user name maps that rules with
// map= consult, checked as PostgreSQL's check_usermap does. It is immutable
// and safe for concurrent use.
//
// PostgreSQL has two failure behaviours for pg_ident.conf, and the API
// exposes both:
//
//   - At startup, a file that cannot be read or has any bad line does not
//     stop the server: it runs with an empty map set, so every check that
//     names a map fails ("no match in usermap …"). A failed
//     [Parser.LoadIdent] returns a nil *IdentMaps, and a nil *IdentMaps is
//     exactly that empty map set: its methods work and allow nothing but
//     the direct comparison of an empty map name.
//   - On reload, a bad file is ignored and the previous maps stay in force
//     ("pg_ident.conf was not reloaded"). [IdentHolder.Store] ignores nil,
//     so storing the result of every load keeps the old maps.
type IdentMaps struct {
	path     string
	version  int
	mappings []*IdentMapping
	byName   map[string][]*IdentMapping // lines of each map, in file order
	names    []string
	roles    Roles
}

// Path returns the absolute path of the main file ("" for nil maps).
func (m *IdentMaps) Path() string {
	if m == nil {
		return ""
	}
	return m.path
}

// Version returns the PostgreSQL major version the file was read for (0 for
// nil maps).
func (m *IdentMaps) Version() int {
	if m == nil {
		return 0
	}
	return m.version
}

// mappingList returns the loaded lines in file order (IdentFile.Mappings
// of the file it was compiled from). The slice and its
// elements must not be modified.
func (m *IdentMaps) mappingList() []*IdentMapping {
	if m == nil {
		return nil
	}
	return m.mappings
}

// Has reports whether some line defines the map name. A rule naming a map
// that does not exist loads fine in PostgreSQL; its checks then fail with
// no match.
func (m *IdentMaps) Has(name string) bool {
	if m == nil {
		return false
	}
	_, ok := m.byName[name]
	return ok
}

// Names returns the map names in order of first appearance. The slice must
// not be modified.
func (m *IdentMaps) Names() []string {
	if m == nil {
		return nil
	}
	return m.names
}

// WithRoles returns maps sharing m's lines that test +role database users
// with roles.
func (m *IdentMaps) WithRoles(roles Roles) *IdentMaps {
	if m == nil {
		return nil
	}
	c := *m
	c.roles = roles
	return &c
}

// IdentHolder holds the current IdentMaps for concurrent readers while a
// reloader swaps in new ones. The zero value holds nil, the empty map set a
// server has after failing to load pg_ident.conf at startup.
type IdentHolder struct {
	p atomic.Pointer[IdentMaps]
}

// Load returns the current maps (nil: the empty map set).
func (h *IdentHolder) Load() *IdentMaps { return h.p.Load() }

// Store makes m the current maps. A nil m is ignored: a failed reload keeps
// the previous maps, as PostgreSQL does.
func (h *IdentHolder) Store(m *IdentMaps) {
	if m != nil {
		h.p.Store(m)
	}
}

// Check checks with the current maps. See [IdentMaps.Check].
func (h *IdentHolder) Check(ctx context.Context, mapName, systemUser, pgUser string, opts IdentOptions) IdentResult {
	return h.p.Load().Check(ctx, mapName, systemUser, pgUser, opts)
}
