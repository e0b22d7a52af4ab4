package pgconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// MaxDepth is PostgreSQL's include nesting limit: the main file is at depth
// 0, and a file at depth 11 is refused.
const MaxDepth = 10

// DefaultMaxBytes is the default byte budget of one Parse: the sum of the
// sizes of every file read.
const DefaultMaxBytes = 16 << 20

// maxSyntaxErrors is where PostgreSQL abandons a file.
const maxSyntaxErrors = 100

// Entry is one name = value line, as pg_file_settings lists it.
type Entry struct {
	Name  string // as written; names compare case-insensitively (ASCII)
	Value string // the value, quotes and escapes removed
	File  string // absolute path of the file holding the line
	Line  int    // 1-based line number
}

// Error is one error of a configuration file. File and Line are where the
// server records it in pg_file_settings: for a failed include they are the
// including line, and for a file that could not be opened at top level they
// are empty.
type Error struct {
	File string
	Line int
	// Msg is the server's log message, such as `syntax error in file
	// "/d/postgresql.conf" line 3, near token "'"`.
	Msg string
	// Short is what pg_file_settings shows in its error column, such as
	// "syntax error".
	Short string
}

// Error returns "file:line: Msg", or Msg alone when the error is in no file.
func (e *Error) Error() string {
	if e.File == "" {
		return e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// ErrorList is the errors of one parse; it is an error itself when not
// empty.
type ErrorList []*Error

// Error returns the first error and how many more there are.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}

// Unwrap returns the members, for errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Err returns l as an error, or nil when empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Row is one row of pg_file_settings as pghba predicts it: an entry, or an
// error with no name and value.
type Row struct {
	File    string // "" for NULL
	Line    int
	Name    string // "" for an error row
	Value   string
	Applied bool
	Error   string // "" for NULL
	IsError bool   // an error row (name and setting NULL)
}

// Config is the outcome of parsing a configuration file and its includes:
// the entries and errors in the order the server lists them.
type Config struct {
	Rows []Row
	// Skipped lists include_if_exists files that did not exist (the server
	// logs "skipping missing configuration file").
	Skipped []string
}

// Entries returns the name = value lines in order.
func (c *Config) Entries() []Entry {
	var out []Entry
	for _, r := range c.Rows {
		if !r.IsError {
			out = append(out, Entry{Name: r.Name, Value: r.Value, File: r.File, Line: r.Line})
		}
	}
	return out
}

// Errors returns the rows with an error (error rows, and entries whose
// name or value was refused) as an ErrorList, nil when none. Their Msg is
// the view's short text; the parse's own error holds the server's log
// messages.
func (c *Config) Errors() ErrorList {
	var out ErrorList
	for _, r := range c.Rows {
		if r.IsError || r.Error != "" {
			out = append(out, &Error{File: r.File, Line: r.Line, Msg: r.Error, Short: r.Error})
		}
	}
	return out
}

// Lookup returns the last entry for name, compared case-insensitively, as
// the last value is the one that counts.
func (c *Config) Lookup(name string) (Entry, bool) {
	for i := len(c.Rows) - 1; i >= 0; i-- {
		r := c.Rows[i]
		if !r.IsError && strings.EqualFold(r.Name, name) {
			return Entry{Name: r.Name, Value: r.Value, File: r.File, Line: r.Line}, true
		}
	}
	return Entry{}, false
}

// Parser reads configuration files. The zero value reads the operating
// system's files with DefaultMaxBytes.
type Parser struct {
	// MaxBytes is the byte budget of one parse over all files; 0 means
	// DefaultMaxBytes. A parse that exceeds it fails with an error naming
	// the file (pghba's own limit: the server has none).
	MaxBytes int64

	// Known, if non-nil, tells which setting names the server defines
	// (names compare case-insensitively). A name it rejects that is not a
	// custom name (two or more identifiers joined by dots) gets the
	// server's "unrecognized configuration parameter" error. Nil accepts
	// every name: pghba does not carry the server's full list of settings.
	Known func(name string) bool

	// Version, if non-zero, is the server's major version, and the values
	// of the settings pghba reads (Settings) are checked as that server
	// checks them: a bad one is "setting could not be applied" on its row
	// and an error of the parse. Zero checks no values.
	Version int

	// View, if true, reads as the pg_file_settings view does: the view's
	// parse abandons a file at its first syntax error (the including file
	// goes on), where the server at start or reload reports up to 100
	// syntax errors per file before it abandons the file.
	View bool
}

// parse is the state of one parse.
type parse struct {
	p     *Parser
	rows  []Row
	errs  ErrorList // log messages, in order
	read  int64
	skip  []string
	limit error
}

// ParseFile parses the file at path (made absolute against the working
// directory) and its includes, as the server reads postgresql.conf.
//
// The returned Config lists every entry and error; err is non-nil when the
// server would refuse the file (any error), and is then an ErrorList of the
// server's log messages.
func (p *Parser) ParseFile(path string) (*Config, error) {
	abs, err := absPath(path)
	if err != nil {
		return nil, err
	}
	st := &parse{p: p}
	st.file(abs, true, "", 0, 0)
	return st.finish()
}

// ParseFiles parses main and then, if it exists, extra (as the server reads
// postgresql.conf and then postgresql.auto.conf): one Config, one verdict.
func (p *Parser) ParseFiles(main, extra string) (*Config, error) {
	st := &parse{p: p}
	absMain, err := absPath(main)
	if err != nil {
		return nil, err
	}
	if st.file(absMain, true, "", 0, 0) && extra != "" {
		absExtra, err := absPath(extra)
		if err != nil {
			return nil, err
		}
		st.file(absExtra, false, "", 0, 0)
	}
	return st.finish()
}

func (st *parse) finish() (*Config, error) {
	if st.limit != nil {
		return nil, st.limit
	}
	c := &Config{Rows: st.rows, Skipped: st.skip}
	st.names()
	bad := len(st.errs) > 0
	// Duplicates: the server marks earlier entries of a known name spelled
	// the same (strcmp) as not applied; with no list of known names, every
	// name counts as known.
	known := func(name string) bool { return st.p.Known == nil || st.p.Known(name) }
	last := map[string]int{}
	for i, r := range c.Rows {
		if !r.IsError && known(r.Name) {
			last[r.Name] = i
		}
	}
	for i := range c.Rows {
		r := &c.Rows[i]
		if r.IsError {
			continue
		}
		j, dup := last[r.Name]
		r.Applied = !bad && (!dup || j == i)
		if r.Applied && st.p.Version != 0 {
			if msg := CheckSetting(st.p.Version, r.Name, r.Value); msg != "" {
				r.Applied = false
				r.Error = "setting could not be applied"
				st.errs = append(st.errs, &Error{File: r.File, Line: r.Line, Short: r.Error, Msg: msg})
			}
		}
	}
	if len(st.errs) > 0 {
		return c, st.errs
	}
	return c, nil
}

// names checks the names against Known.
// With no Known, the settings pghba reads that the Version does not have
// are the unknown names.
func (st *parse) names() {
	// The server checks names only when the files parsed cleanly.
	if len(st.errs) > 0 {
		return
	}
	for i := range st.rows {
		r := &st.rows[i]
		if r.IsError || validCustomName(r.Name) {
			continue
		}
		if st.p.Known != nil && st.p.Known(r.Name) ||
			st.p.Known == nil && !absentIn(st.p.Version, strings.ToLower(r.Name)) {
			continue
		}
		r.Error = "unrecognized configuration parameter"
		st.errs = append(st.errs, &Error{File: r.File, Line: r.Line, Short: r.Error,
			Msg: fmt.Sprintf("unrecognized configuration parameter %q in file %q line %d", r.Name, r.File, r.Line)})
	}
}

// validCustomName: two or more identifiers (letters, digits, _, $; not
// starting with a digit or $) joined by dots.
func validCustomName(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c >= 0x80 ||
				i > 0 && (c >= '0' && c <= '9' || c == '$')
			if !ok {
				return false
			}
		}
	}
	return true
}

// errorRow records an error row and its log message.
func (st *parse) errorRow(file string, line int, short, msg string) {
	st.rows = append(st.rows, Row{File: file, Line: line, Error: short, IsError: true})
	st.errs = append(st.errs, &Error{File: file, Line: line, Msg: msg, Short: short})
}

// file reads one file, as ParseConfigFile does: name is the path as given
// (absolute for the top level), strict is include (not include_if_exists),
// caller and callerLine the including line. It reports success.
func (st *parse) file(name string, strict bool, caller string, callerLine, depth int) bool {
	if strings.Trim(name, " \t\r\n") == "" {
		st.errorRow(caller, callerLine, "empty configuration file name",
			fmt.Sprintf("empty configuration file name: %q", name))
		return false
	}
	if depth > MaxDepth {
		st.errorRow(caller, callerLine, "nesting depth exceeded",
			fmt.Sprintf("could not open configuration file %q: maximum nesting depth exceeded", name))
		return false
	}
	abs := location(name, caller)
	if caller != "" && abs == caller {
		st.errorRow(caller, callerLine, "configuration file recursion",
			fmt.Sprintf("configuration file recursion in %q", caller))
		return false
	}
	data, err := st.readFile(abs)
	if err != nil {
		if st.limit != nil {
			return false
		}
		if errors.Is(err, fs.ErrNotExist) && !strict {
			st.skip = append(st.skip, abs)
			return true
		}
		st.errorRow(caller, callerLine, fmt.Sprintf("could not open file %q", abs),
			fmt.Sprintf("could not open configuration file %q: %s", abs, strerror(err)))
		return false
	}
	return st.parseData(abs, data, depth)
}

// readFile reads a regular file within the byte budget.
func (st *parse) readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	max := st.p.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(f, max-st.read+1))
	if err != nil {
		return nil, err
	}
	st.read += int64(len(data))
	if st.read > max {
		st.limit = fmt.Errorf("%s: pghba limit of %d bytes read over all configuration files exceeded", path, max)
		return nil, st.limit
	}
	return data, nil
}

var errNotRegular = errors.New("not a regular file")

// parseData is ParseConfigFp.
func (st *parse) parseData(file string, data []byte, depth int) bool {
	sc := &scanner{data: data, line: 1}
	ok := true
	nerr := 0
	for {
		tok, text := sc.next()
		if tok == tokEOF {
			break
		}
		if tok == tokEOL {
			continue
		}
		var name, value string
		if tok != tokID && tok != tokQualified {
			goto syntaxError
		}
		name = cString(text)
		tok, text = sc.next()
		if tok == tokEquals {
			tok, text = sc.next()
		}
		switch tok {
		case tokID, tokString, tokInteger, tokReal, tokUnquoted:
		default:
			goto syntaxError
		}
		if tok == tokString {
			value = deescape(text)
		} else {
			value = cString(text)
		}
		tok, text = sc.next()
		if tok != tokEOL {
			if tok != tokEOF {
				goto syntaxError
			}
			sc.line++ // EOF counts as a newline for numbering
		}
		switch line := sc.line - 1; {
		case strings.EqualFold(name, "include_dir"):
			if !st.dir(value, file, line, depth+1) {
				ok = false
			}
		case strings.EqualFold(name, "include_if_exists"):
			if !st.file(value, false, file, line, depth+1) {
				ok = false
			}
		case strings.EqualFold(name, "include"):
			if !st.file(value, true, file, line, depth+1) {
				ok = false
			}
		default:
			st.rows = append(st.rows, Row{File: file, Line: line, Name: name, Value: value})
		}
		if st.limit != nil {
			return false
		}
		if tok == tokEOF {
			break
		}
		continue

	syntaxError:
		if tok == tokEOL || tok == tokEOF {
			st.errorRow(file, sc.line-1, "syntax error",
				fmt.Sprintf("syntax error in file %q line %d, near end of line", file, sc.line-1))
		} else {
			st.errorRow(file, sc.line, "syntax error",
				fmt.Sprintf("syntax error in file %q line %d, near token %q", file, sc.line, cString(text)))
		}
		ok = false
		nerr++
		if st.p.View {
			break
		}
		if nerr >= maxSyntaxErrors {
			st.errs = append(st.errs, &Error{File: file, Line: sc.line,
				Msg: fmt.Sprintf("too many syntax errors found, abandoning file %q", file)})
			break
		}
		for tok != tokEOL && tok != tokEOF {
			tok, _ = sc.next()
		}
		if tok == tokEOF {
			break
		}
	}
	return ok
}

// dir is ParseConfigDirectory: the .conf files of a directory, in byte
// order, hidden files and directories skipped.
func (st *parse) dir(name, caller string, callerLine, depth int) bool {
	if strings.Trim(name, " \t\r\n") == "" {
		st.errorRow(caller, callerLine, "empty configuration directory name",
			fmt.Sprintf("empty configuration directory name: %q", name))
		return false
	}
	dir := location(name, caller)
	ents, err := os.ReadDir(dir)
	if err != nil {
		st.errorRow(caller, callerLine, fmt.Sprintf("could not open directory %q", dir),
			fmt.Sprintf("could not open configuration directory %q: %s", dir, strerror(err)))
		return false
	}
	var files []string
	for _, e := range ents {
		n := e.Name()
		if len(n) < 6 || n[0] == '.' || !strings.HasSuffix(n, ".conf") {
			continue
		}
		full := filepath.Join(dir, n)
		fi, err := os.Stat(full)
		if err != nil {
			st.errorRow(caller, callerLine, fmt.Sprintf("could not stat file %q", full),
				fmt.Sprintf("could not stat file %q: %s", full, strerror(err)))
			return false
		}
		if !fi.IsDir() {
			files = append(files, full)
		}
	}
	sort.Strings(files) // byte order, as strcmp
	for _, f := range files {
		if !st.file(f, true, caller, callerLine, depth) {
			return false
		}
	}
	return true
}

// location is AbsoluteConfigLocation: a relative path is taken from the
// directory of the including file.
// An absolute path is used as written, not cleaned.
func location(name, caller string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(caller), name)
}

// absPath is make_absolute_path: relative to the working directory, cleaned.
func absPath(p string) (string, error) {
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return a, nil
}

// strerror is the C library's text for err's errno: Go's texts are
// glibc's with a lowercase first letter.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" && s[0] >= 'a' && s[0] <= 'z' {
			s = string(s[0]-'a'+'A') + s[1:]
		}
		return s
	}
	if errors.Is(err, errNotRegular) {
		return "not a regular file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// absentIn reports whether a setting pghba reads does not exist in the
// major version (0: any version has it).
func absentIn(version int, lname string) bool {
	switch lname {
	case "db_user_namespace":
		return version >= 17
	case "oauth_validator_libraries":
		return version != 0 && version < 18
	}
	return false
}
