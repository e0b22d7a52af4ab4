package hba

// Includes: @file expansion inside a field, and the include,
// include_if_exists and include_dir directives of PostgreSQL 16+.

import (
	"errors"
	"slices"
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
// file, in order. With lazy (toks empty, the field being ref alone), it
// returns the cached expansion's tokens themselves when they need no
// copy, and reports so (see atExpansion.lazy).
func (l *loader) expandFile(tl *tokLine, toks []token, outer string, ref token, depth int, lazy bool) ([]token, bool) {
	name := ref.s[1:]
	at := tl.tokPos(ref)
	full := l.atPath(name, outer)
	if (l.ver <= 15 && depth > maxDepthOld) || (l.ver > 15 && depth > maxDepth) {
		if err := l.countFile(); err != nil {
			msg := `could not open file "` + full + `": ` + err.Error()
			if l.ver <= 15 {
				msg = `could not open secondary authentication file "@` + name + `" as "` + full + `": ` + err.Error()
			}
			tl.err = &Error{Pos: at, Msg: msg, Err: ErrLimit}
			l.halt(tl.err)
			return toks, false
		}
		if l.ver <= 15 {
			tl.err = &Error{Pos: at, Msg: `could not open secondary authentication file "@` + name + `" as "` + full + `": maximum nesting depth exceeded`, Err: ErrIncludeDepth}
			return toks, false
		}
		tl.err = &Error{Pos: at, Msg: `could not open file "` + full + `": maximum nesting depth exceeded`, Err: ErrIncludeDepth}
		return toks, false
	}
	data, err := l.readCached(full)
	if err != nil {
		var re *readError
		if errors.As(err, &re) {
			if l.ver == 13 {
				tl.err = fileErr(at, `could not read file "`+full+`": `+re.Error(), re)
				return toks, false
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
			return toks, false
		}
	}
	e := l.expansion(full, data, depth)
	if lazy {
		if ts, ok := e.lazy(l, tl); ok {
			return ts, true
		}
	}
	return e.apply(l, tl, toks, at, ref, full), false
}

// atPath resolves the @file name read in the file outer as the version
// does (relPath, relPathOld for 13–14), once per load for each name and
// file.
func (l *loader) atPath(name, outer string) string {
	c := l.cache()
	k := atRef{name, outer}
	if full, ok := c.paths[k]; ok {
		return full
	}
	full := l.p.relPath(name, outer)
	if l.ver <= 14 {
		full = l.p.relPathOld(name, outer)
	}
	// name is a substring of its line: the key keeps a copy.
	c.paths[atRef{strings.Clone(name), outer}] = full
	return full
}

// atRef is an @file name and the file that names it.
type atRef struct{ name, outer string }

// atExpansion is what the lines of one @file give the line that names it:
// the tokens of its lines up to the first line that failed, that line's
// error, and what tokenizing the file spent of the load's budgets.
type atExpansion struct {
	toks  []token // every field's tokens, in order
	flens []int32 // the length of each field in toks
	err   *Error  // the first failed line's error, as placed in the file
	// What tokenizing the file added to loader.lines, .tokens and
	// .expanded (nested @files included).
	lines, tokens, expanded int
	comments                []Comment // the comments read, when kept
	scanned                 bool      // a line was scanned (loader.comment reset)
	// clean: the expansion is cached, has no error and at least one
	// token, and every token is in the load's string table with col and
	// end 0, so that a field of it alone can be toks itself (lazy).
	clean bool
}

// atKey names one tokenization of an @file: its resolved path as
// PostgreSQL opens it, and the nesting depth it is read at (which decides
// whether an @file it names is refused for depth).
type atKey struct {
	path  string
	depth int
}

// atCache is what one load has read of @files and included files, so that
// a file named many times is read and tokenized once. Within a load a file
// is assumed to keep its bytes: PostgreSQL reads it again for every
// reference, and the cache gives what such a read would give.
type atCache struct {
	files map[string]cachedFile
	exps  map[atKey]*atExpansion
	paths map[atRef]string // resolved @file names (atPath)
	// strs holds the strings of @file tokens (see token.at), shared by
	// every rule that names the file.
	strs *strTable
}

// cachedFile is the result of reading one path: its bytes, or the error
// the read gave (never a limit or context error, which end the load).
type cachedFile struct {
	data []byte
	err  error
	id   int // its place in the order of reads (loader.atUsed)
}

// noFileCache turns the cache off (tests compare loads with and without it).
var noFileCache = false

// readCached is readFile for @files and included files: the first read of
// a path counts against MaxFiles and MaxBytes; a later one gives the same
// bytes, or the same error, and counts nothing. The context is checked
// every time, as before a read.
func (l *loader) readCached(full string) ([]byte, error) {
	if noFileCache {
		return l.readFile(full)
	}
	f, ok := cachedFile{}, false
	if b := l.atBase; b != nil {
		if f, ok = b.files[full]; ok {
			l.useBase(f.id)
		} else if l.atFrozen {
			return nil, l.frozenMiss()
		}
	}
	c := l.cache()
	if !ok {
		f, ok = c.files[full]
	}
	if ok {
		if err := l.checkContext(Position{Filename: full}); err != nil {
			return nil, err
		}
		return f.data, f.err
	}
	data, err := l.readFile(full)
	if err != nil && (l.halted || errors.Is(err, ErrLimit)) {
		return data, err
	}
	c.files[full] = cachedFile{data, err, len(c.files)}
	return data, err
}

func (l *loader) cache() *atCache {
	if l.at == nil {
		l.at = &atCache{files: map[string]cachedFile{}, exps: map[atKey]*atExpansion{}, paths: map[atRef]string{}, strs: l.strTable()}
	}
	return l.at
}

// expansion returns the expansion of the @file full read at depth, from
// the cache when its budgets still fit: replaying it then spends what
// tokenizing the file again would. Otherwise the file is tokenized again,
// from the bytes read, so that a limit is reached exactly where a re-read
// would reach it.
func (l *loader) expansion(full string, data []byte, depth int) *atExpansion {
	if noFileCache {
		return l.tokenizeAt(full, data, depth)
	}
	k := atKey{full, depth}
	if b := l.atBase; b != nil {
		if e := b.exps[k]; e != nil {
			return l.replay(e, full, data, depth)
		}
		if l.atFrozen {
			l.frozenMiss()
			return &atExpansion{}
		}
	}
	c := l.cache()
	if e := c.exps[k]; e != nil {
		return l.replay(e, full, data, depth)
	}
	e := l.tokenizeAt(full, data, depth)
	if !l.halted {
		c.exps[k] = e
		// The tokens' strings go to the load's table once, and the
		// rules that name the file share them.
		e.clean = e.err == nil && len(e.toks) > 0
		for i := range e.toks {
			if n := len(c.strs.s); e.toks[i].at >= 0 && n < maxStrIndex {
				c.strs.s = append(c.strs.s, e.toks[i].s)
				e.toks[i].at = -int32(n + 1)
			}
			if e.toks[i].at >= 0 {
				e.clean = false
			}
			// apply places every token on the referencing line; a lazy
			// field's tokens have no place (builder.add places them).
			e.toks[i].col, e.toks[i].end = 0, 0
		}
	}
	return e
}

// replay is expansion for a cached expansion e of the @file full read at
// depth: it spends what tokenizing the file again would and returns e,
// when the budgets still fit; otherwise it tokenizes the file again.
func (l *loader) replay(e *atExpansion, full string, data []byte, depth int) *atExpansion {
	if l.halted || l.lines+e.lines > l.lim.MaxLines || l.tokens+e.tokens > l.lim.MaxTokens ||
		l.expanded+e.expanded > l.lim.MaxExpandedTokens {
		return l.tokenizeAt(full, data, depth)
	}
	l.lines += e.lines
	l.tokens += e.tokens
	l.expanded += e.expanded
	if l.comments != nil {
		*l.comments = append(*l.comments, e.comments...)
	}
	if e.scanned {
		l.comment = 0
	}
	return e
}

// useBase records that the load used file id of the shared cache
// (loader.atBase).
func (l *loader) useBase(id int) {
	if l.atUsed == nil {
		l.atUsed = make([]bool, len(l.atBase.files))
	}
	l.atUsed[id] = true
}

// frozenMiss fails a part of a parallel load that needs an @file the
// shared cache does not hold (parallel.go): the part stops, and the load
// is read again in one pass.
func (l *loader) frozenMiss() error {
	l.halted = true
	return &limitError{"@file not read ahead"}
}

// lazy is apply for a field that is exactly the @file: when the
// expansion is clean and its tokens fit every budget, it spends what apply
// would spend and returns the cached tokens themselves (capacity limited:
// nothing may write to them), placed nowhere. Otherwise it spends nothing
// and ok is false: apply then copies the tokens, failing exactly where it
// fails. The budgets only grow, so the totals fitting means that apply's
// field-by-field checks would all pass.
func (e *atExpansion) lazy(l *loader, tl *tokLine) ([]token, bool) {
	n := len(e.toks)
	if !e.clean || l.expanded+n > l.lim.MaxExpandedTokens || l.tokens+n > l.lim.MaxTokens ||
		tl.ntok+n > l.lim.MaxLineTokens {
		return nil, false
	}
	l.tokens += n
	l.expanded += n
	tl.ntok += n
	return e.toks[:n:n], true
}

// placeLazy copies the lazy fields of tl onto its line, each token at the
// place of the @file token that named it, as apply places them.
func (l *loader) placeLazy(tl *tokLine) {
	for k, at := range tl.lazy {
		if at == [2]int32{} {
			continue
		}
		f := l.keepTokens(tl.fields[k+1])
		for i := range f {
			f[i].col, f[i].end = at[0], at[1]
		}
		tl.fields[k+1] = f
	}
	tl.lazy = [2][2]int32{}
}

// tokenizeAt tokenizes the @file full at depth and records its expansion.
func (l *loader) tokenizeAt(full string, data []byte, depth int) *atExpansion {
	e := &atExpansion{}
	lines0, tokens0, expanded0 := l.lines, l.tokens, l.expanded
	ncom := 0
	if l.comments != nil {
		ncom = len(*l.comments)
	}
	var lines []*tokLine
	// scanFields resets loader.comment: -1 tells whether a line was
	// scanned.
	saved := l.comment
	l.comment = -1
	l.tokenize(full, data, depth, nil, &lines)
	e.scanned = l.comment != -1
	if !e.scanned {
		l.comment = saved
	}
	e.lines, e.tokens, e.expanded = l.lines-lines0, l.tokens-tokens0, l.expanded-expanded0
	if l.comments != nil && len(*l.comments) > ncom {
		e.comments = slices.Clone((*l.comments)[ncom:])
	}
	for _, il := range lines {
		if il.err != nil {
			e.err = il.err
			break
		}
		for _, f := range il.fields {
			e.toks = append(e.toks, f...)
			e.flens = append(e.flens, int32(len(f)))
		}
	}
	return e
}

// apply appends the expansion to the tokens of the field being read, from
// the place of the @file token ref, spending the budgets of the copied
// tokens field by field.
func (e *atExpansion) apply(l *loader, tl *tokLine, toks []token, at Position, ref token, full string) []token {
	off := 0
	for _, n := range e.flens {
		f := e.toks[off : off+int(n)]
		off += int(n)
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
		k := len(toks)
		toks = growTokens(toks, len(f))
		toks = append(toks, f...)
		for i := k; i < len(toks); i++ {
			if toks[i].at > 0 {
				toks[i].at = 0 // not in the referencing line
			}
			toks[i].col, toks[i].end = ref.col, ref.end
		}
	}
	if e.err != nil {
		x := *e.err
		x.Pos = at
		tl.err = &x
	}
	return toks
}

// directive runs a 16+ include directive. It reports whether the line was
// a successful directive (and so produces no line of its own).
func (l *loader) directive(tl *tokLine, file string, depth int, inc []Position, out *[]*tokLine) bool {
	if tl.lazy != [2][2]int32{} {
		l.placeLazy(tl) // the argument's place is read below
	}
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
	data, err := l.readCached(full)
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
