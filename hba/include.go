package hba

// Includes: @file expansion inside a field, and the include,
// include_if_exists and include_dir directives of PostgreSQL 16+.

import (
	"errors"
	"strings"
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

// expandFile replaces an @file token by the tokens of every line of the
// file, in order.
func (l *loader) expandFile(tl *tokLine, toks []token, outer string, ref token, depth int) []token {
	name := ref.s[1:]
	at := tl.tokPos(ref)
	full := l.p.relPath(name, outer)
	if l.ver <= 14 {
		full = l.p.relPathOld(name, outer)
	}
	if (l.ver <= 15 && depth > maxDepthOld) || (l.ver > 15 && depth > maxDepth) {
		if err := l.countFile(); err != nil {
			msg := `could not open file "` + full + `": ` + err.Error()
			if l.ver <= 15 {
				msg = `could not open secondary authentication file "@` + name + `" as "` + full + `": ` + err.Error()
			}
			tl.err = &Error{Pos: at, Msg: msg, Err: ErrLimit}
			l.halt(tl.err)
			return toks
		}
		if l.ver <= 15 {
			tl.err = &Error{Pos: at, Msg: `could not open secondary authentication file "@` + name + `" as "` + full + `": maximum nesting depth exceeded`, Err: ErrIncludeDepth}
			return toks
		}
		tl.err = &Error{Pos: at, Msg: `could not open file "` + full + `": maximum nesting depth exceeded`, Err: ErrIncludeDepth}
		return toks
	}
	data, err := l.readFile(full)
	if err != nil {
		var re *readError
		if errors.As(err, &re) {
			if l.ver == 13 {
				tl.err = fileErr(at, `could not read file "`+full+`": `+re.Error(), re)
				return toks
			}
			data = nil
		} else {
			msg := `could not open file "` + full + `": ` + err.Error()
			if l.ver <= 15 {
				msg = `could not open secondary authentication file "@` + name + `" as "` + full + `": ` + err.Error()
			}
			tl.err = fileErr(at, msg, err)
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
			e.Pos = at
			tl.err = &e
			break
		}
		for _, f := range il.fields {
			l.tokens += len(f)
			l.expanded += len(f)
			if l.expanded > l.lim.MaxExpandedTokens {
				tl.err = &Error{Pos: at, Msg: `could not open file "` + full + `": pghba limit of ` + itoa(l.lim.MaxExpandedTokens) + ` expanded tokens exceeded`, Err: ErrLimit}
				l.halt(tl.err)
				return toks
			}
			if l.tokens > l.lim.MaxTokens {
				tl.err = l.limitErr(at, "tokens per load", l.lim.MaxTokens)
				return toks
			}
			tl.ntok += len(f)
			if tl.ntok > l.lim.MaxLineTokens {
				tl.err = l.limitErr(at, "tokens in one line", l.lim.MaxLineTokens)
				return toks
			}
			n := len(toks)
			toks = growTokens(toks, len(f))
			toks = append(toks, f...)
			for i := n; i < len(toks); i++ {
				toks[i].at = 0 // not in the referencing line
				toks[i].col, toks[i].end = ref.col, ref.end
			}
		}
	}
	return toks
}

// directive runs a 16+ include directive. It reports whether the line was
// a successful directive (and so produces no line of its own).
func (l *loader) directive(tl *tokLine, file string, depth int, inc []Position, out *[]*tokLine) bool {
	kw := tl.fields[0][0].s
	arg := tl.fields[1][0].s
	here := append([]Position{tl.pos}, inc...)
	at := tl.tokPos(tl.fields[1][0])
	switch kw {
	case "include", "include_if_exists":
		msg, cause := l.includeFile(file, arg, depth+1, kw == "include_if_exists", here, out)
		if msg == "" {
			return true
		}
		tl.err = fileErr(at, msg, cause)
		if tl.err.Err == ErrLimit {
			l.halt(tl.err)
		}
		return false
	case "include_dir":
		if strings.Trim(arg, " \t\r\n") == "" {
			tl.err = &Error{Pos: at, Msg: "empty configuration directory name",
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
			tl.err = &Error{Pos: at, Msg: `could not open directory "` + dir + `": pghba limit of ` + itoa(l.lim.MaxFiles) + ` files opened per load exceeded`, Err: ErrLimit}
			l.halt(tl.err)
			return false
		}
		files, badPath, err := l.p.listDir(dir)
		if err != nil {
			tl.err = &Error{Pos: at, Msg: `could not open directory "` + dir + `"`,
				Log: `could not open configuration directory "` + dir + `": ` + strerror(err), Err: ErrFile}
			return false
		}
		if badPath != "" {
			tl.err = &Error{Pos: at, Msg: `could not stat file "` + badPath + `"`, Err: ErrFile}
			return false
		}
		// PostgreSQL keeps the last error message across the loop, so a
		// failure is repeated for every later file, failing or not.
		var msgs []string
		last := ""
		var cause error
		for _, f := range files {
			if l.halted {
				break
			}
			msg, c := l.includeFile(file, f, depth+1, false, here, out)
			if msg != "" {
				last, cause = msg, c
			}
			if last != "" {
				msgs = append(msgs, last)
			}
		}
		if len(msgs) == 0 {
			return true
		}
		tl.err = fileErr(at, strings.Join(msgs, "\n"), cause)
		if tl.err.Err == ErrLimit {
			l.halt(tl.err)
		}
		return false
	}
	return false
}

// includeFile tokenizes an included file into out. It returns the error
// message for the directive line, "" on success, and what caused it.
func (l *loader) includeFile(outer, name string, depth int, missingOK bool, inc []Position, out *[]*tokLine) (string, error) {
	full := l.p.relPath(name, outer)
	if depth > maxDepth {
		if err := l.countFile(); err != nil {
			return `could not open file "` + full + `": ` + err.Error(), ErrLimit
		}
		return `could not open file "` + full + `": maximum nesting depth exceeded`, ErrIncludeDepth
	}
	data, err := l.readFile(full)
	if err != nil {
		var re *readError
		if !errors.As(err, &re) {
			if missingOK && isNotExist(err) {
				return "", nil
			}
			return `could not open file "` + full + `": ` + err.Error(), err
		}
		data = nil
	}
	l.tokenize(full, data, depth, inc, out)
	return "", nil
}
