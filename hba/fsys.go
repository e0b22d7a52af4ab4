package hba

// Reading files: paths made absolute and resolved as PostgreSQL does, regular
// files read within the load's budgets, include_dir listings. A failure is
// kept as a typed value (the system error, a directory, a special file, a
// spent budget); its text is the C library's strerror text.

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/pghba/pghba/internal/cemu"
)

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

// sysError is a file system call that failed, kept as the error the file
// system returned. Its text is the C library's strerror text for it, which
// is what PostgreSQL reports.
type sysError struct{ err error }

func (e *sysError) Error() string { return strerror(e.err) }
func (e *sysError) Unwrap() error { return e.err }

// readError is a file that opened but cannot be read as a file: a
// directory (EISDIR).
type readError struct{ errno syscall.Errno }

func (e *readError) Error() string { return strerror(e.errno) }
func (e *readError) Unwrap() error { return e.errno }

// readFile returns the contents of an absolute path, within the load's
// budgets. An open failure returns an error whose text is the C library's
// strerror text (a *sysError); a directory a *readError; a FIFO, device or socket a
// *notRegularError (neither opened nor read); a spent budget a *limitError
// (a file larger than what remains is refused before it is read).
func (l *loader) readFile(abs string) ([]byte, error) {
	if err := l.checkContext(Position{Filename: abs}); err != nil {
		return nil, err
	}
	if err := l.countFile(); err != nil {
		return nil, err
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

// countFile counts one file against MaxFiles: a file about to be opened,
// or an include or @file refused for its nesting depth (which opens
// nothing but costs an error line, so that a small file of many
// self-includes cannot produce millions of them). Past the budget it halts
// the load and returns a *limitError.
func (l *loader) countFile() error {
	l.files++
	if l.files > l.lim.MaxFiles {
		l.halted = true
		return &limitError{"pghba limit of " + itoa(l.lim.MaxFiles) + " files opened per load exceeded"}
	}
	return nil
}

// readOS reads a regular file of the operating system: stat, so that a
// special file is not even opened; open without blocking (a FIFO swapped
// in meanwhile cannot block the open); fstat the opened file; read at most
// remain+1 bytes.
func readOS(abs string, remain, max int64) ([]byte, error) {
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, &sysError{err}
	}
	if fi.IsDir() {
		return nil, &readError{syscall.EISDIR}
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi.Mode())
	}
	f, err := os.OpenFile(abs, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, &sysError{err}
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, &sysError{err}
	}
	if fi.IsDir() {
		return nil, &readError{syscall.EISDIR}
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
		return nil, &sysError{err}
	}
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, &sysError{err}
	}
	if fi.IsDir() {
		return nil, &readError{syscall.EISDIR}
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi.Mode())
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, &sysError{err}
	}
	defer f.Close()
	if ofi, err := f.Stat(); err == nil {
		if ofi.IsDir() {
			return nil, &readError{syscall.EISDIR}
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
			return nil, &sysError{err}
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

// strerror maps a Go file error to glibc's strerror text.
func strerror(err error) string {
	return cemu.Strerror(err)
}

// isNotExist reports whether err is a file that does not exist: the error
// whose strerror text is "No such file or directory" (ENOENT, or with no
// errno, fs.ErrNotExist), decided on the value, not the text.
func isNotExist(err error) bool {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno == syscall.ENOENT
	}
	return errors.Is(err, fs.ErrNotExist)
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

// errCat is the category of the *Error for a file that could not be read:
// ErrLimit for a spent budget, ErrIncludeDepth for nesting too deep, the
// context's error when loading stopped, ErrFile otherwise.
func errCat(err error) error {
	var ce *Error
	switch {
	case err == nil:
	case errors.Is(err, ErrLimit):
		return ErrLimit
	case errors.Is(err, ErrIncludeDepth):
		return ErrIncludeDepth
	case errors.As(err, &ce):
		return ce.Err // the load's context ended
	}
	return ErrFile
}

// fileErr is the *Error at pos for a file that could not be read, err
// being what reading it gave: categorised by errCat, with err kept as the
// cause when it is the file system's.
func fileErr(pos Position, msg string, err error) *Error {
	e := &Error{Pos: pos, Msg: msg, Err: errCat(err)}
	var ce *Error
	if !errors.As(err, &ce) && err != e.Err {
		e.cause = err
	}
	return e
}
