package main

// This file is which files one pghba lint run lints (the arguments, with
// directories walked) and, for --new-from-rev, which of their lines git
// says have changed.

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// defaultLintGlobs are the names a directory walk lints without --include.
var defaultLintGlobs = []string{"pg_hba*.conf"}

// globRegexp compiles a glob: * and ? match within one path element, **
// any number of elements, [...] a class as in path.Match. A glob without /
// matches a base name.
func globRegexp(glob string) (*regexp.Regexp, error) {
	if glob == "" {
		return nil, fmt.Errorf("empty glob")
	}
	var b strings.Builder
	b.WriteString("^")
	if !strings.Contains(glob, "/") {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				i++
				if i+1 < len(glob) && glob[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(glob[i:], ']')
			if j < 2 {
				return nil, fmt.Errorf("glob %q: unterminated [", glob)
			}
			class := glob[i+1 : i+j]
			if class[0] == '!' {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j
		case '\\':
			if i+1 < len(glob) {
				i++
				b.WriteString(regexp.QuoteMeta(glob[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("glob %q: bad character class", glob)
	}
	return re, nil
}

// matchGlobs reports whether the slash-separated path name matches one of
// the globs (already checked by globRegexp).
func matchGlobs(globs []string, name string) bool {
	for _, g := range globs {
		if re, err := globRegexp(g); err == nil && re.MatchString(name) {
			return true
		}
	}
	return false
}

// lintTarget is one file a run lints.
type lintTarget struct {
	path string // as given or found: the path read
	abs  string
}

// lintTargets expands the arguments: files as they are, directories walked
// for files matching the include globs (relative to the directory walked).
// Errors (an argument that does not exist, a directory that cannot be
// read) are returned one by one, the walk going on.
func lintTargets(args, include []string) ([]lintTarget, []error) {
	var out []lintTarget
	var errs []error
	seen := map[string]bool{}
	add := func(p string) {
		abs := absPath(p)
		if !seen[abs] {
			seen[abs] = true
			out = append(out, lintTarget{path: p, abs: abs})
		}
	}
	for _, arg := range args {
		fi, err := os.Stat(arg)
		if err != nil || !fi.IsDir() {
			add(arg) // reading it reports what is wrong
			continue
		}
		root := arg
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			if d.IsDir() {
				if p != root && (d.Name() == ".git" || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			rel, rerr := filepath.Rel(root, p)
			if rerr != nil {
				rel = p
			}
			if !matchGlobs(include, filepath.ToSlash(rel)) {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 { // a link to a file is linted; to a directory, not walked
				if fi, err := os.Stat(p); err != nil || fi.Mode().IsRegular() {
					add(p) // a broken link is reported when read
				}
				return nil
			}
			if d.Type().IsRegular() {
				add(p)
			}
			return nil
		})
	}
	return out, errs
}

// changedLines are the lines git diff reports added or changed since a
// revision, by absolute file name; a file that git does not track is new
// in every line.
type changedLines struct {
	lines     map[string]map[int]bool
	untracked map[string]bool
}

// has reports whether line of the absolute file name changed. Line 0 (the
// whole file) always counts.
func (c *changedLines) has(name string, line int) bool {
	if c == nil || line == 0 {
		return true
	}
	if real, err := filepath.EvalSymlinks(name); err == nil {
		name = real // git names files by their real path
	}
	return c.untracked[name] || c.lines[name][line]
}

// gitChanges runs git diff REV in the repository holding dir and reads
// which lines it adds.
func gitChanges(dir, rev string) (*changedLines, error) {
	git := func(args ...string) ([]byte, error) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return nil, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
		}
		return out, nil
	}
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	root := strings.TrimSpace(string(top))
	if _, err := git("rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}"); err != nil {
		return nil, fmt.Errorf("--new-from-rev %s: not a revision of the repository %s", rev, root)
	}
	diff, err := git("diff", "--no-color", "--no-ext-diff", "--no-renames", "--unified=0", "--end-of-options", rev, "--")
	if err != nil {
		return nil, err
	}
	others, err := git("ls-files", "--others", "--exclude-standard", "--full-name", "-z")
	if err != nil {
		return nil, err
	}
	c := &changedLines{lines: map[string]map[int]bool{}, untracked: map[string]bool{}}
	for _, name := range strings.Split(string(others), "\x00") {
		if name != "" {
			c.untracked[filepath.Join(root, filepath.FromSlash(name))] = true
		}
	}
	var cur map[int]bool
	for _, line := range strings.Split(string(diff), "\n") {
		switch {
		case strings.HasPrefix(line, "+++ "):
			cur = nil
			name := strings.TrimPrefix(line, "+++ ")
			if unq, err := strconv.Unquote(name); err == nil {
				name = unq
			}
			if rest, ok := strings.CutPrefix(name, "b/"); ok {
				abs := filepath.Join(root, filepath.FromSlash(rest))
				cur = map[int]bool{}
				c.lines[abs] = cur
			}
		case strings.HasPrefix(line, "@@ ") && cur != nil:
			// @@ -a[,b] +c[,d] @@
			f := strings.Fields(line)
			if len(f) < 3 || !strings.HasPrefix(f[2], "+") {
				continue
			}
			start, count := f[2][1:], "1"
			if s, n, ok := strings.Cut(start, ","); ok {
				start, count = s, n
			}
			a, err1 := strconv.Atoi(start)
			n, err2 := strconv.Atoi(count)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("git diff: unexpected hunk header %q", line)
			}
			for l := a; l < a+n; l++ {
				cur[l] = true
			}
		}
	}
	return c, nil
}
