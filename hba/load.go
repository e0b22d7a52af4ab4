package hba

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/pghba/pghba/internal/cemu"
)

// Limits on hostile input. PostgreSQL has no such limits in 13–15 (it
// recurses until it runs out of file descriptors); these keep pghba's memory
// and time bounded whatever the input.
const (
	// maxDepth is PostgreSQL 16+'s CONF_FILE_MAX_DEPTH: the top-level file
	// is depth 0, each @file or include adds one.
	maxDepth = 10
	// maxDepthOld bounds @file nesting for 13–15, which have no limit.
	maxDepthOld = 64
	// maxExpandedTokens bounds the tokens produced by @file and include
	// expansion across one load.
	maxExpandedTokens = 2 << 20
	// maxReadBytes bounds the bytes read across one load (every file, every
	// time it is read).
	maxReadBytes = 512 << 20
)

// token is one scanned token: its de-quoted text and whether it started
// with a double quote.
type token struct {
	s      string
	quoted bool
	// at is 1 + the offset of s in the logical line it was read from, 0
	// when s is not a substring of the line (quotes removed, or read from
	// an @file).
	at int32
}

// tokLine is one logical line after tokenising, PostgreSQL's
// TokenizedAuthLine.
type tokLine struct {
	pos    Position
	inc    []Position
	raw    string
	fields [][]token
	err    *Error
}

// loader holds the state of one load.
type loader struct {
	p         *Parser
	ver       int
	maxTok    int // 13–15: a token may hold maxTok-1 bytes; 0 = unlimited
	maxLine   int // 13: fgets buffer size
	readBytes int
	tokens    int
	overLimit bool
	tooLong13 bool // the last 13-style line read filled the buffer

	// options are the shared options of rules without option tokens, by
	// method (see shareOptions).
	options [len(methodNames)]*AuthOptions
	// Chunks the tokenizer carves its short-lived values from, so that a
	// large file costs a few large allocations instead of several small
	// ones per line.
	tlChunk []tokLine
	tlFree  []*tokLine

	// sink, when set, receives each line bound for mainOut as soon as it
	// is read, instead of the line being appended. The line and the
	// chunks its fields sit in are reused afterwards.
	sink       func(*tokLine)
	mainOut    *[]*tokLine
	tokChunk   []token
	fieldChunk [][]token
}

const chunkLen = 512

// shareOptions returns a heap copy of *o. Rules written without options
// have options that depend only on their method (and the parser), so
// those share one value per method and load.
func (l *loader) shareOptions(m Method, o *AuthOptions) *AuthOptions {
	if len(o.Raw) == 0 && int(m) < len(l.options) {
		if s := l.options[m]; s != nil {
			return s
		}
	}
	c := new(AuthOptions)
	*c = *o
	if len(o.Raw) == 0 && int(m) < len(l.options) {
		l.options[m] = c
	}
	return c
}

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

func (p *Parser) newLoader() *loader {
	l := &loader{p: p, ver: p.version()}
	switch l.ver {
	case 13:
		l.maxTok = 256
		l.maxLine = 8192
		if p.atLeast(13, 12) {
			l.maxTok = 10240
			l.maxLine = 20480
		}
	case 14:
		l.maxTok = 256
		if p.atLeast(14, 9) {
			l.maxTok = 10240
		}
	case 15:
		l.maxTok = 256
		if p.atLeast(15, 4) {
			l.maxTok = 10240
		}
	}
	return l
}

// absPath makes name absolute and clean, as PostgreSQL's make_absolute_path
// and canonicalize_path do.
func (p *Parser) absPath(name string) string {
	if p.FS != nil {
		return path.Join("/", filepath.ToSlash(name))
	}
	if a, err := filepath.Abs(name); err == nil {
		return a
	}
	return filepath.Clean(name)
}

// relPath resolves loc relative to the directory of the file from.
func (p *Parser) relPath(loc, from string) string {
	if p.FS != nil {
		if strings.HasPrefix(loc, "/") {
			return path.Clean(loc)
		}
		return path.Join(path.Dir(from), loc)
	}
	if filepath.IsAbs(loc) {
		return filepath.Clean(loc)
	}
	return filepath.Join(filepath.Dir(from), loc)
}

// relPathOld resolves an @file name as PostgreSQL 13 and 14 do: an
// absolute name as written, a relative one joined to the directory of the
// file from with the old canonicalize_path, which collapses duplicate
// slashes and resolves only trailing "." and ".." components. Opening the
// result leaves inner ".." to the operating system, so "nosuch/../x" fails
// when nosuch does not exist.
func (p *Parser) relPathOld(loc, from string) string {
	if strings.HasPrefix(loc, "/") {
		return loc
	}
	dir := trimDirectory(from)
	for strings.HasPrefix(loc, "./") {
		loc = loc[2:]
	}
	if loc != "" {
		if dir != "" {
			dir += "/"
		}
		dir += loc
	}
	return canonicalizeOld(dir)
}

// trimDirectory is PostgreSQL's trim_directory: it removes the last path
// component and the slashes before it, keeping a leading slash.
func trimDirectory(p string) string {
	return cemu.TrimDirectory(p)
}

// canonicalizeOld is canonicalize_path before PostgreSQL 15.
func canonicalizeOld(p string) string {
	return cemu.CanonicalizePathOld(p)
}

// fsPath turns an absolute path into a name for an fs.FS. Paths that are
// not clean (13–14 @files) are walked as the kernel would: a ".." needs the
// directory before it to exist.
func fsPath(fsys fs.FS, abs string) (string, error) {
	name := strings.TrimPrefix(abs, "/")
	if name == "" {
		return ".", nil
	}
	if fs.ValidPath(name) {
		return name, nil
	}
	var stack []string
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			cur := strings.Join(stack, "/")
			if cur == "" {
				cur = "."
			}
			fi, err := fs.Stat(fsys, cur)
			if err != nil {
				return "", err
			}
			if !fi.IsDir() {
				return "", syscall.ENOTDIR
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		default:
			if len(stack) > 0 {
				cur := strings.Join(stack, "/")
				fi, err := fs.Stat(fsys, cur)
				if err != nil {
					return "", err
				}
				if !fi.IsDir() {
					return "", syscall.ENOTDIR
				}
			}
			stack = append(stack, c)
		}
	}
	if len(stack) == 0 {
		return ".", nil
	}
	return strings.Join(stack, "/"), nil
}

// errRead marks a file that opened but could not be read (a directory).
type readError struct{ errno string }

func (e *readError) Error() string { return e.errno }

// readFile returns the contents of an absolute path. An open failure returns
// an error whose text is the C library's strerror text; a read failure a
// *readError.
func (p *Parser) readFile(abs string) ([]byte, error) {
	var (
		data []byte
		err  error
		fi   fs.FileInfo
	)
	if p.FS != nil {
		var name string
		name, err = fsPath(p.FS, abs)
		if err == nil {
			fi, err = fs.Stat(p.FS, name)
		}
		if err == nil && fi.IsDir() {
			return nil, &readError{"Is a directory"}
		}
		if err == nil {
			data, err = fs.ReadFile(p.FS, name)
		}
	} else {
		fi, err = os.Stat(abs)
		if err == nil && fi.IsDir() {
			return nil, &readError{"Is a directory"}
		}
		if err == nil {
			data, err = os.ReadFile(abs)
		}
	}
	if err != nil {
		return nil, errors.New(strerror(err))
	}
	return data, nil
}

// strerror maps a Go file error to glibc's strerror text.
func strerror(err error) string {
	return cemu.Strerror(err)
}

func isNotExist(err error) bool {
	return err != nil && err.Error() == "No such file or directory"
}

// listDir returns the .conf files of an include_dir in PostgreSQL's order.
// A non-empty errPath names a file whose type could not be read.
func (p *Parser) listDir(dir string) (files []string, errPath string, err error) {
	type ent struct {
		name string
		typ  fs.FileMode
	}
	var ents []ent
	if p.FS != nil {
		name := strings.TrimPrefix(dir, "/")
		if name == "" {
			name = "."
		}
		des, e := fs.ReadDir(p.FS, name)
		if e != nil {
			return nil, "", e
		}
		for _, d := range des {
			ents = append(ents, ent{d.Name(), d.Type()})
		}
	} else {
		des, e := os.ReadDir(dir)
		if e != nil {
			return nil, "", e
		}
		for _, d := range des {
			ents = append(ents, ent{d.Name(), d.Type()})
		}
	}
	for _, e := range ents {
		n := e.name
		if len(n) < 6 || n[0] == '.' || !strings.HasSuffix(n, ".conf") {
			continue
		}
		full := p.relPath(n, dir+"/x")
		isDir := e.typ.IsDir()
		if e.typ&fs.ModeSymlink != 0 || e.typ&fs.ModeType != 0 && !isDir {
			var fi fs.FileInfo
			var serr error
			if p.FS != nil {
				fi, serr = fs.Stat(p.FS, strings.TrimPrefix(full, "/"))
			} else {
				fi, serr = os.Stat(full)
			}
			if serr != nil {
				return nil, full, nil
			}
			isDir = fi.IsDir()
		}
		if !isDir {
			files = append(files, full)
		}
	}
	sort.Strings(files)
	return files, "", nil
}

// ParseFile reads the pg_hba.conf at path and everything it includes. The
// error is non-nil only when the main file cannot be read at all (PostgreSQL
// then refuses to start, and the view query fails); line errors are in
// File.Errors.
func (p *Parser) ParseFile(name string) (*File, error) {
	abs := p.absPath(name)
	data, err := p.readMain(abs, "configuration file")
	if err != nil {
		return nil, err
	}
	return p.parseMain(abs, data, true), nil
}

// readMain reads a main file (pg_hba.conf or pg_ident.conf). A file that
// opens but cannot be read (a directory) ends there, as in PostgreSQL 14+,
// which logs the error and goes on. An open failure is the *Error the
// server logs: `could not open <what13> "…": …` in 13–15, `could not open
// file "…": …` from 16.
func (p *Parser) readMain(abs, what13 string) ([]byte, error) {
	data, err := p.readFile(abs)
	if err == nil {
		return data, nil
	}
	var re *readError
	if errors.As(err, &re) {
		return nil, nil
	}
	what := "file"
	if p.version() <= 15 {
		what = what13
	}
	return nil, &Error{Pos: Position{Filename: abs}, Msg: `could not open ` + what + ` "` + abs + `": ` + err.Error(), Err: ErrFile}
}

// tokenizeMain returns the logical lines of a main file, includes expanded.
func (p *Parser) tokenizeMain(abs string, data []byte) []*tokLine {
	l := p.newLoader()
	var lines []*tokLine
	l.readBytes += len(data)
	l.tokenize(abs, data, 0, nil, &lines)
	return lines
}

// ParseBytes parses data as the main file named name; includes and @files
// are read relative to name's directory.
func (p *Parser) ParseBytes(name string, data []byte) *File {
	return p.parseMain(p.absPath(name), data, true)
}

// parseMain parses a main file. Without withLines the File has no Lines
// (Load and LoadBytes, which keep only the rules, do not need them).
func (p *Parser) parseMain(abs string, data []byte, withLines bool) *File {
	// Each line becomes a Line (and a Rule) as soon as it is read, so that
	// the tokenizer's buffers are reused. Lines and rules come from slabs
	// sized by the main file's line count (more slabs for included files).
	est := bytes.Count(data, []byte{'\n'}) + 1
	f := &File{Path: abs, Rules: make([]*Rule, 0, est)}
	if withLines {
		f.Lines = make([]*Line, 0, est)
	}
	var lineSlab []Line
	var ruleSlab []Rule
	l := p.newLoader()
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
				file = &ruleFile{name: tl.pos.Filename, inc: tl.inc}
			}
			ruleSlab[0].file = file
			ruleSlab[0].opts = scratch
			if r, err = p.parseRule(tl, &ruleSlab[0], &names); err != nil {
				ruleSlab[0] = Rule{} // the slot is used by the next rule
			} else {
				ruleSlab = ruleSlab[1:]
				r.opts = l.shareOptions(r.method, r.opts)
				r.number = int32(len(f.Rules) + 1)
				f.Rules = append(f.Rules, r)
			}
		}
		if err != nil {
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
	l.readBytes += len(data)
	l.tokenize(abs, data, 0, nil, &lines)
	return f
}

func (l *loader) lineErr(tl *tokLine, msg string, cat error) *Error {
	return &Error{Pos: tl.pos, Msg: msg, Err: cat}
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
		whole = string(data)
	}
	for pos < len(data) {
		start := lineNum
		lineStart := pos
		var cont int
		if l.ver == 13 {
			buf = l.readLine13(data, &pos, buf[:0])
			lineNum++
		} else {
			buf = buf[:0]
			var ok bool
			last := 0
			for {
				buf, ok = getLineAppend(data, &pos, buf)
				if !ok {
					break
				}
				buf = stripCRLF(buf)
				if len(buf) > last && buf[len(buf)-1] == '\\' {
					buf = buf[:len(buf)-1]
					last = len(buf)
					cont++
					continue
				}
				break
			}
			lineNum += cont + 1
		}
		var raw string
		if whole != "" && lineStart+len(buf) <= len(data) && bytes.Equal(data[lineStart:lineStart+len(buf)], buf) {
			raw = whole[lineStart : lineStart+len(buf)]
		} else {
			raw = string(buf)
		}
		tl := l.newTokLine()
		*tl = tokLine{pos: Position{Filename: file, Line: start}, inc: inc, raw: raw}
		if l.ver == 13 && l.maxLine > 0 && l.tooLong13 {
			l.tooLong13 = false
			tl.err = l.lineErr(tl, "authentication file line too long", ErrSyntax)
		}
		if tl.err == nil {
			l.scanFields(tl, file, depth)
		}
		streaming := l.sink != nil && out == l.mainOut
		if len(tl.fields) == 0 && tl.err == nil {
			if streaming {
				l.tlFree = append(l.tlFree, tl)
			}
			continue
		}
		if tl.err == nil && l.ver >= 16 && len(tl.fields) == 2 {
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
			l.sink(tl)
			l.tlFree = append(l.tlFree, tl)
			l.tokChunk = l.tokChunk[:0]
			l.fieldChunk = l.fieldChunk[:0]
			continue
		}
		*out = append(*out, tl)
	}
}

// readLine13 emulates PostgreSQL 13's fgets into a MAX_LINE buffer: a line
// that fills the buffer is an error, and its rest is read as the next line.
func (l *loader) readLine13(data []byte, pos *int, buf []byte) []byte {
	n := l.maxLine - 1
	rest := data[*pos:]
	end := bytes.IndexByte(rest, '\n')
	if end < 0 {
		end = len(rest)
	} else {
		end++
	}
	if end > n {
		end = n
	}
	chunk := rest[:end]
	*pos += end
	if z := bytes.IndexByte(chunk, 0); z >= 0 {
		chunk = chunk[:z]
	}
	l.tooLong13 = len(chunk) == n
	buf = append(buf, chunk...)
	for len(buf) > 0 && (buf[len(buf)-1] == '\n' || buf[len(buf)-1] == '\r') {
		buf = buf[:len(buf)-1]
	}
	return buf
}

// getLineAppend emulates pg_get_line_append: it appends the next physical
// line, newline included, to buf. A NUL byte drops the rest of its physical
// line and joins the next one, as fgets plus strlen do.
func getLineAppend(data []byte, pos *int, buf []byte) ([]byte, bool) {
	orig := len(buf)
	for *pos < len(data) {
		rest := data[*pos:]
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			end = len(rest)
		} else {
			end++
		}
		chunk := rest[:end]
		*pos += end
		if z := bytes.IndexByte(chunk, 0); z >= 0 {
			chunk = chunk[:z]
		}
		buf = append(buf, chunk...)
		if len(buf) > orig && buf[len(buf)-1] == '\n' {
			return buf, true
		}
	}
	return buf, len(buf) > orig
}

func stripCRLF(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// scanFields splits the logical line into fields, expanding @files.
func (l *loader) scanFields(tl *tokLine, file string, depth int) {
	s := tl.raw
	i := 0
	var buf [8][]token
	fields := buf[:0]
	for i < len(s) && tl.err == nil {
		fld := l.nextField(tl, s, &i, file, depth)
		if len(fld) > 0 {
			fields = append(fields, fld)
		}
	}
	tl.fields = l.keepFields(fields)
}

// nextField is next_field_expand: tokens joined by unquoted commas.
func (l *loader) nextField(tl *tokLine, s string, i *int, file string, depth int) []token {
	var buf [4]token
	toks := buf[:0]
	for {
		t, ok, comma, tooLong := l.nextToken(s, i)
		if tooLong {
			tl.err = &Error{Pos: tl.pos, Msg: "authentication file token too long",
				Log: `authentication file token too long, skipping: "` + t.s + `"`, Err: ErrSyntax}
			return l.keepTokens(toks)
		}
		if !ok {
			break
		}
		if !t.quoted && len(t.s) > 1 && t.s[0] == '@' {
			// A copy, so that buf does not escape through the recursion.
			toks = l.expandFile(tl, append([]token(nil), toks...), file, t.s[1:], depth+1)
		} else {
			l.tokens++
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
			return token{s: s[j:k], at: int32(j + 1)}, true, comma, false
		}
	}
	var out []byte
	inQuote, wasQuote, sawQuote, initialQuote := false, false, false, false
	for j < len(s) && (!isBlank(s[j]) || inQuote) {
		c := s[j]
		if c == '#' && !inQuote {
			j = len(s)
			break
		}
		if l.maxTok > 0 && len(out) >= l.maxTok-1 {
			*i = len(s)
			return token{s: string(out)}, false, false, true
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
	*i = j
	if comma {
		// The comma stays unread; the next call skips it.
	}
	return token{s: string(out), quoted: initialQuote}, sawQuote || len(out) > 0, comma, false
}

// expandFile replaces an @file token by the tokens of every line of the
// file, in order.
func (l *loader) expandFile(tl *tokLine, toks []token, outer, name string, depth int) []token {
	full := l.p.relPath(name, outer)
	if l.ver <= 14 {
		full = l.p.relPathOld(name, outer)
	}
	if l.ver <= 15 {
		if depth > maxDepthOld {
			tl.err = &Error{Pos: tl.pos, Msg: `could not open secondary authentication file "@` + name + `" as "` + full + `": maximum nesting depth exceeded`, Err: ErrIncludeDepth}
			return toks
		}
	} else if depth > maxDepth {
		tl.err = &Error{Pos: tl.pos, Msg: `could not open file "` + full + `": maximum nesting depth exceeded`, Err: ErrIncludeDepth}
		return toks
	}
	data, err := l.read(full)
	if err != nil {
		var re *readError
		if errors.As(err, &re) {
			if l.ver == 13 {
				tl.err = &Error{Pos: tl.pos, Msg: `could not read file "` + full + `": ` + re.errno, Err: ErrFile}
				return toks
			}
			data = nil
		} else {
			msg := `could not open file "` + full + `": ` + err.Error()
			if l.ver <= 15 {
				msg = `could not open secondary authentication file "@` + name + `" as "` + full + `": ` + err.Error()
			}
			tl.err = &Error{Pos: tl.pos, Msg: msg, Err: errCat(err)}
			return toks
		}
	}
	var lines []*tokLine
	l.tokenize(full, data, depth, nil, &lines)
	for _, il := range lines {
		if il.err != nil {
			e := *il.err
			e.Pos = tl.pos
			tl.err = &e
			break
		}
		for _, f := range il.fields {
			l.tokens += len(f)
			if l.tokens > maxExpandedTokens {
				tl.err = &Error{Pos: tl.pos, Msg: `could not open file "` + full + `": pghba limit of ` + itoa(maxExpandedTokens) + ` expanded tokens exceeded`, Err: ErrIncludeDepth}
				return toks
			}
			n := len(toks)
			toks = append(toks, f...)
			for i := n; i < len(toks); i++ {
				toks[i].at = 0 // not in the referencing line
			}
		}
	}
	return toks
}

func errCat(err error) error {
	if err != nil && strings.Contains(err.Error(), "maximum nesting depth") {
		return ErrIncludeDepth
	}
	return ErrFile
}

// read reads a file for an @file or include, within the byte budget.
func (l *loader) read(full string) ([]byte, error) {
	data, err := l.p.readFile(full)
	if err != nil {
		return nil, err
	}
	l.readBytes += len(data)
	if l.readBytes > maxReadBytes {
		return nil, errors.New("pghba limit of " + itoa(maxReadBytes) + " bytes read exceeded")
	}
	return data, nil
}

// directive runs a 16+ include directive. It reports whether the line was
// a successful directive (and so produces no line of its own).
func (l *loader) directive(tl *tokLine, file string, depth int, inc []Position, out *[]*tokLine) bool {
	kw := tl.fields[0][0].s
	arg := tl.fields[1][0].s
	here := append([]Position{tl.pos}, inc...)
	switch kw {
	case "include", "include_if_exists":
		msg, cat := l.includeFile(file, arg, depth+1, kw == "include_if_exists", here, out)
		if msg == "" {
			return true
		}
		tl.err = &Error{Pos: tl.pos, Msg: msg, Err: cat}
		return false
	case "include_dir":
		if strings.Trim(arg, " \t\r\n") == "" {
			tl.err = &Error{Pos: tl.pos, Msg: "empty configuration directory name",
				Log: `empty configuration directory name: "` + arg + `"`, Err: ErrFile}
			return false
		}
		dir := l.p.relPath(arg, file)
		files, badPath, err := l.p.listDir(dir)
		if err != nil {
			tl.err = &Error{Pos: tl.pos, Msg: `could not open directory "` + dir + `"`,
				Log: `could not open configuration directory "` + dir + `": ` + strerror(err), Err: ErrFile}
			return false
		}
		if badPath != "" {
			tl.err = &Error{Pos: tl.pos, Msg: `could not stat file "` + badPath + `"`, Err: ErrFile}
			return false
		}
		// PostgreSQL keeps the last error message across the loop, so a
		// failure is repeated for every later file, failing or not.
		var msgs []string
		last := ""
		var cat error = ErrFile
		for _, f := range files {
			msg, c := l.includeFile(file, f, depth+1, false, here, out)
			if msg != "" {
				last, cat = msg, c
			}
			if last != "" {
				msgs = append(msgs, last)
			}
		}
		if len(msgs) == 0 {
			return true
		}
		tl.err = &Error{Pos: tl.pos, Msg: strings.Join(msgs, "\n"), Err: cat}
		return false
	}
	return false
}

// includeFile tokenizes an included file into out. It returns the error
// message for the directive line, "" on success.
func (l *loader) includeFile(outer, name string, depth int, missingOK bool, inc []Position, out *[]*tokLine) (string, error) {
	full := l.p.relPath(name, outer)
	if depth > maxDepth {
		return `could not open file "` + full + `": maximum nesting depth exceeded`, ErrIncludeDepth
	}
	data, err := l.read(full)
	if err != nil {
		var re *readError
		if !errors.As(err, &re) {
			if missingOK && isNotExist(err) {
				return "", nil
			}
			return `could not open file "` + full + `": ` + err.Error(), ErrFile
		}
		data = nil
	}
	l.tokenize(full, data, depth, inc, out)
	return "", nil
}
