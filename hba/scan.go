package hba

import (
	"bytes"
	"context"
	"errors"
	"io"
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

// Nesting limits. PostgreSQL has none in 13–15 (it recurses until it runs
// out of file descriptors). The budgets of one load are in Limits.
const (
	// maxDepth is PostgreSQL 16+'s CONF_FILE_MAX_DEPTH: the top-level file
	// is depth 0, each @file or include adds one.
	maxDepth = 10
	// maxDepthOld bounds @file nesting for 13–15, which have no limit.
	maxDepthOld = 64
)

// ErrLimit is the category of the error a load gets when it reaches one of
// its Limits (see [Limits]).
var ErrLimit = errors.New("pghba load limit exceeded")

// limitError is a read refused by a load limit.
type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == ErrLimit }

// notRegularError is a file that is neither a regular file nor a
// directory (a FIFO, a device, a socket): pghba does not read it.
type notRegularError struct{ kind string }

func (e *notRegularError) Error() string { return "not a regular file (" + e.kind + ")" }

func notRegular(m fs.FileMode) error {
	kind := "a special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m&fs.ModeSymlink != 0:
		kind = "a symbolic link"
	}
	return &notRegularError{kind}
}

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
	ntok   int // tokens in fields, @file expansion included
}

// loader holds the state of one load.
type loader struct {
	p         *Parser
	ver       int
	maxTok    int  // 13–15: a token may hold maxTok-1 bytes; 0 = unlimited
	maxLine   int  // 13: fgets buffer size
	tooLong13 bool // the last 13-style line read filled the buffer

	// The budgets of the load (Parser.Limits resolved) and what is spent.
	ctx       context.Context
	lim       Limits
	readBytes int64
	files     int
	lines     int
	tokens    int
	expanded  int
	ticks     int
	// halted is set when a limit is reached or ctx ends: nothing more is
	// read. haltErr is the first limit error, stopped the context's.
	halted  bool
	haltErr *Error
	stopped *Error

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

func (p *Parser) newLoader(ctx context.Context) *loader {
	if ctx == nil {
		ctx = context.Background()
	}
	l := &loader{p: p, ver: p.version(), ctx: ctx, lim: p.Limits.resolved()}
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

// readFile returns the contents of an absolute path, within the load's
// budgets. An open failure returns an error whose text is the C library's
// strerror text; a directory a *readError; a FIFO, device or socket a
// *notRegularError (neither opened nor read); a spent budget a *limitError
// (a file larger than what remains is refused before it is read).
func (l *loader) readFile(abs string) ([]byte, error) {
	if err := l.checkContext(Position{Filename: abs}); err != nil {
		return nil, err
	}
	l.files++
	if l.files > l.lim.MaxFiles {
		l.halted = true
		return nil, &limitError{"pghba limit of " + itoa(l.lim.MaxFiles) + " files opened per load exceeded"}
	}
	remain := l.lim.MaxBytes - l.readBytes
	var (
		data []byte
		err  error
	)
	if l.p.FS != nil {
		data, err = readFS(l.p.FS, abs, remain, l.lim.MaxBytes)
	} else {
		data, err = readOS(abs, remain, l.lim.MaxBytes)
	}
	if errors.Is(err, ErrLimit) {
		l.halted = true
	}
	if err != nil {
		return nil, err
	}
	l.readBytes += int64(len(data))
	return data, nil
}

// readOS reads a regular file of the operating system: stat, so that a
// special file is not even opened; open without blocking (a FIFO swapped
// in meanwhile cannot block the open); fstat the opened file; read at most
// remain+1 bytes.
func readOS(abs string, remain, max int64) ([]byte, error) {
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, errors.New(strerror(err))
	}
	if fi.IsDir() {
		return nil, &readError{"Is a directory"}
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi.Mode())
	}
	f, err := os.OpenFile(abs, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, errors.New(strerror(err))
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, errors.New(strerror(err))
	}
	if fi.IsDir() {
		return nil, &readError{"Is a directory"}
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi.Mode())
	}
	return readBounded(f, fi.Size(), remain, max)
}

// readFS is readOS for an fs.FS, from the mode bits of Stat and of the
// opened file.
func readFS(fsys fs.FS, abs string, remain, max int64) ([]byte, error) {
	name, err := fsPath(fsys, abs)
	if err != nil {
		return nil, errors.New(strerror(err))
	}
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, errors.New(strerror(err))
	}
	if fi.IsDir() {
		return nil, &readError{"Is a directory"}
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi.Mode())
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, errors.New(strerror(err))
	}
	defer f.Close()
	if ofi, err := f.Stat(); err == nil {
		if ofi.IsDir() {
			return nil, &readError{"Is a directory"}
		}
		if !ofi.Mode().IsRegular() {
			return nil, notRegular(ofi.Mode())
		}
		fi = ofi
	}
	return readBounded(f, fi.Size(), remain, max)
}

// readBounded reads r, whose size is announced as size, refusing more than
// remain bytes: from the size before reading, else after reading remain+1.
func readBounded(r io.Reader, size, remain, max int64) ([]byte, error) {
	over := &limitError{"pghba limit of " + strconv64(max) + " bytes read exceeded"}
	if remain < 0 || size > remain {
		return nil, over
	}
	if size < 0 {
		size = 0
	}
	n := remain
	if n < 1<<62 {
		n++
	}
	lr := io.LimitReader(r, n)
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		k, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errors.New(strerror(err))
		}
	}
	if int64(len(buf)) > remain {
		return nil, over
	}
	return buf, nil
}

func strconv64(n int64) string {
	if n <= int64(^uint(0)>>1) {
		return itoa(int(n))
	}
	return "many"
}

// checkContext reports whether the load's context has ended, and halts
// the load if so.
func (l *loader) checkContext(pos Position) error {
	if l.stopped != nil {
		return l.stopped
	}
	if err := l.ctx.Err(); err != nil {
		l.stopped = &Error{Pos: pos, Msg: "loading stopped: " + err.Error(), Err: err}
		l.halted = true
		return l.stopped
	}
	return nil
}

// halt records a limit error and stops the load.
func (l *loader) halt(e *Error) {
	l.halted = true
	if l.haltErr == nil {
		l.haltErr = e
	}
}

// limitErr returns the limit error for the line tl and halts the load.
func (l *loader) limitErr(tl *tokLine, what string, n int) *Error {
	e := &Error{Pos: tl.pos, Msg: "pghba limit of " + itoa(n) + " " + what + " exceeded", Err: ErrLimit}
	l.halt(e)
	return e
}

// finish makes sure a load that reached a limit reports it: when the
// line that reached it was hidden behind an earlier error of an @file, the
// limit error is added.
func (l *loader) finish(errs *ErrorList) {
	if l.haltErr == nil {
		return
	}
	for _, e := range *errs {
		if errors.Is(e, ErrLimit) {
			return
		}
	}
	*errs = append(*errs, l.haltErr)
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
	return nil, &Error{Pos: Position{Filename: abs}, Msg: `could not open ` + what + ` "` + abs + `": ` + err.Error(), Err: errCat(err)}
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

// ParseBytes parses data as the main file named name; includes and @files
// are read relative to name's directory. The bytes of data count against
// Limits.MaxBytes.
func (p *Parser) ParseBytes(name string, data []byte) *File {
	return p.parseMain(p.newLoader(nil), p.absPath(name), data, true)
}

// parseMain parses a main file. Without withLines the File has no Lines
// (Load and LoadBytes, which keep only the rules, do not need them).
func (p *Parser) parseMain(l *loader, abs string, data []byte, withLines bool) *File {
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
	if l.files == 0 {
		// Data the caller gave (ParseBytes); readMain counted its own.
		l.readBytes += int64(len(data))
	}
	l.tokenize(abs, data, 0, nil, &lines)
	l.finish(&f.Errors)
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
	for pos < len(data) && !l.halted {
		l.ticks++
		if l.ticks&255 == 0 && l.checkContext(Position{Filename: file, Line: lineNum}) != nil {
			return
		}
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
		if len(tl.fields) > 0 || tl.err != nil {
			l.lines++
			if l.lines > l.lim.MaxLines && !l.halted {
				tl.err = l.limitErr(tl, "lines per load", l.lim.MaxLines)
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
			tl.ntok++
			// The line fails: its tokens are not needed.
			if l.tokens > l.lim.MaxTokens {
				tl.err = l.limitErr(tl, "tokens per load", l.lim.MaxTokens)
				return nil
			}
			if tl.ntok > l.lim.MaxLineTokens {
				tl.err = l.limitErr(tl, "tokens in one line", l.lim.MaxLineTokens)
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

// growTokens makes room for n more tokens in a long list by doubling its
// capacity, so that a list of a million tokens allocates about twice its
// size, not the five times append's growth of large slices costs.
func growTokens(t []token, n int) []token {
	if len(t)+n > cap(t) && len(t) >= 1024 {
		return slices.Grow(t, max(n, len(t)))
	}
	return t
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
	data, err := l.readFile(full)
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
			if tl.err.Err == ErrLimit {
				l.halt(tl.err)
			}
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
			l.expanded += len(f)
			if l.expanded > l.lim.MaxExpandedTokens {
				tl.err = &Error{Pos: tl.pos, Msg: `could not open file "` + full + `": pghba limit of ` + itoa(l.lim.MaxExpandedTokens) + ` expanded tokens exceeded`, Err: ErrLimit}
				l.halt(tl.err)
				return toks
			}
			if l.tokens > l.lim.MaxTokens {
				tl.err = l.limitErr(tl, "tokens per load", l.lim.MaxTokens)
				return toks
			}
			tl.ntok += len(f)
			if tl.ntok > l.lim.MaxLineTokens {
				tl.err = l.limitErr(tl, "tokens in one line", l.lim.MaxLineTokens)
				return toks
			}
			n := len(toks)
			toks = growTokens(toks, len(f))
			toks = append(toks, f...)
			for i := n; i < len(toks); i++ {
				toks[i].at = 0 // not in the referencing line
			}
		}
	}
	return toks
}

func errCat(err error) error {
	var ce *Error
	switch {
	case err == nil:
	case errors.Is(err, ErrLimit):
		return ErrLimit
	case errors.As(err, &ce):
		return ce.Err // the load's context ended
	case strings.Contains(err.Error(), "maximum nesting depth"):
		return ErrIncludeDepth
	}
	return ErrFile
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
		if cat == ErrLimit {
			l.halt(tl.err)
		}
		return false
	case "include_dir":
		if strings.Trim(arg, " \t\r\n") == "" {
			tl.err = &Error{Pos: tl.pos, Msg: "empty configuration directory name",
				Log: `empty configuration directory name: "` + arg + `"`, Err: ErrFile}
			return false
		}
		dir := l.p.relPath(arg, file)
		if err := l.checkContext(tl.pos); err != nil {
			tl.err = l.stopped
			return false
		}
		l.files++
		if l.files > l.lim.MaxFiles {
			tl.err = &Error{Pos: tl.pos, Msg: `could not open directory "` + dir + `": pghba limit of ` + itoa(l.lim.MaxFiles) + ` files opened per load exceeded`, Err: ErrLimit}
			l.halt(tl.err)
			return false
		}
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
			if l.halted {
				break
			}
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
		if cat == ErrLimit {
			l.halt(tl.err)
		}
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
	data, err := l.readFile(full)
	if err != nil {
		var re *readError
		if !errors.As(err, &re) {
			if missingOK && isNotExist(err) {
				return "", nil
			}
			return `could not open file "` + full + `": ` + err.Error(), errCat(err)
		}
		data = nil
	}
	l.tokenize(full, data, depth, inc, out)
	return "", nil
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
