package hba

// Parallel loading: a large main file is cut at line boundaries into
// chunks that are tokenized and parsed on every core, then merged, with
// the File a one-pass read gives.
//
// A chunk is read by a loader of its own, which has nothing to share: its
// lines touch no file, no resolver and no budget but the line, token and
// expanded-token counts. Lines that could touch more (an include
// directive, a RADIUS server name with a resolver) are found first and
// read by the load's own loader, one after the other in file order, from a
// copy of the file in which every other line is left empty (so that line
// numbers stay right), while the chunks are read around them. Lines that
// name @files are read by their chunks when the load keeps no lines and
// no line is read that way: the @files are then read and tokenized ahead,
// once each and in the order they are first named, into a cache the chunks
// share read-only (readAhead); otherwise they are read like an include
// directive. A chunk line that fails,
// a budget the parts spend together beyond its limit, or a context that
// ends makes the load start again in one pass: a file with errors is read
// as PostgreSQL reads it, and this file is rare.
//
// Line numbers: a chunk starts after a newline that ends a logical line,
// and its first line is 1 + the newlines before it. That holds when no
// NUL byte joins physical lines (a file with one is read in one pass) and,
// in 13, when no line fills the fgets buffer (such a line fails, so the
// load is read again).

import (
	"bytes"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Tuning, and the knobs tests turn to cut small inputs into small chunks.
var (
	// parMinBytes is the smallest main file read in parallel.
	parMinBytes = 256 << 10
	// parChunkBytes is the target size of a chunk; 0 picks one from the
	// file's size and the number of cores: two chunks a core (each chunk
	// has slabs, an options memo and a merge of its own; on 2 cores, 4
	// chunks loaded the benchmark files faster than 8).
	parChunkBytes = 0
	// parProcs, when > 0, replaces GOMAXPROCS as the number of workers
	// (tests set it to read in parallel on one core).
	parProcs = 0
	// parSeen, when set, is told how many lines the load's loader read
	// and whether the @files were read ahead (tests).
	parSeen func(deferred int, ahead bool)
)

// parChunk is one chunk of the main file and what reading it gave.
type parChunk struct {
	start, end int // bytes [start, end) of the main file

	// From the first pass.
	newlines int        // '\n' bytes in the chunk
	first    int        // the line number of its first line
	deferred []parRange // lines the load's own loader reads
	// atLines counts the lines that name @files and need nothing else of
	// the load's loader; atNames are the names they name, in order, once
	// each. When the @files are read ahead (readAhead), the chunk reads
	// these lines itself; otherwise they are found again and join
	// deferred.
	atLines int
	atNames []string

	// From the second pass.
	sub      *loader
	b        *builder
	comments []Comment
}

// parRange is one logical line read in order by the load's own loader:
// bytes [start, end) of the main file, its first physical line (relative
// to its chunk's first, 0-based, until the first pass is over; then the
// line number) and the newlines in it.
type parRange struct {
	start, end int
	line       int
	newlines   int
	chunk      int // the index of its chunk
}

// parseParallel reads a main file in chunks on every core. It returns nil
// when the file is not read that way (small, one core, a NUL byte, an
// error, a limit reached, the context ended); l is then as it was.
func (p *Parser) parseParallel(l *loader, abs string, data []byte, withLines bool) *File {
	procs := parProcs
	if procs <= 0 {
		procs = runtime.GOMAXPROCS(0)
	}
	if procs < 2 || len(data) < parMinBytes || bytes.IndexByte(data, 0) >= 0 {
		return nil
	}
	chunks := cutChunks(data, l.ver, procs)
	if len(chunks) < 2 {
		return nil
	}
	saved := *l
	f := p.readChunks(l, abs, data, withLines, chunks, procs)
	if f == nil {
		*l = saved
	}
	return f
}

// cutChunks cuts data into chunks of about the target size, each ending
// just after a newline that ends a logical line (or at the end of data).
func cutChunks(data []byte, ver, procs int) []parChunk {
	size := parChunkBytes
	if size <= 0 {
		size = max(len(data)/(procs*2), 64<<10)
	}
	var chunks []parChunk
	start := 0
	for start < len(data) {
		cut := len(data)
		for q := start + size; q < len(data); {
			nl := bytes.IndexByte(data[q:], '\n')
			if nl < 0 {
				break
			}
			q += nl + 1
			if ver == 13 || !continues(data[lineStart(data, q-1):q]) {
				cut = q
				break
			}
		}
		chunks = append(chunks, parChunk{start: start, end: cut})
		start = cut
	}
	return chunks
}

// lineStart returns the offset of the physical line holding data[i].
func lineStart(data []byte, i int) int {
	return bytes.LastIndexByte(data[:i], '\n') + 1
}

// continues reports whether the physical line b (newline included, 14+)
// is joined with the next: what is left when its line end is removed is
// not empty and ends in a backslash (see readLogical).
func continues(b []byte) bool {
	b = stripCRLF(b)
	return len(b) > 0 && b[len(b)-1] == '\\'
}

// parallelFor runs fn(0) … fn(n-1) on up to procs goroutines, the caller's
// included; first, when set, runs on the caller's goroutine before it
// takes chunks.
func parallelFor(n, procs int, first func(), fn func(int)) {
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			fn(i)
		}
	}
	var wg sync.WaitGroup
	for range min(procs, n) - 1 {
		wg.Add(1)
		go func() { defer wg.Done(); work() }()
	}
	if first != nil {
		first()
	}
	work()
	wg.Wait()
}

// readChunks is the parallel load of data cut into chunks.
func (p *Parser) readChunks(l *loader, abs string, data []byte, withLines bool, chunks []parChunk, procs int) *File {
	radius := p.RADIUSResolver != nil
	ver, ctx := l.ver, l.ctx // the workers read no field of l
	// First pass: count the newlines of each chunk and find the lines the
	// load's loader must read.
	parallelFor(len(chunks), procs, nil, func(i int) {
		c := &chunks[i]
		c.newlines, c.deferred, c.atLines, c.atNames = scanChunk(data, c.start, c.end, ver, radius, false)
	})
	// The @files the chunks name are read ahead, so that the chunks can
	// expand them; else their lines are read by the load's loader.
	var base *atCache
	var baseStrs []string
	if !withLines {
		base = p.readAhead(l, abs, chunks)
		if l.stopped != nil {
			return &File{Path: abs, dialect: p.dialect()}
		}
	}
	if base != nil {
		baseStrs = l.strs.s
	}
	if base == nil {
		parallelFor(len(chunks), procs, nil, func(i int) {
			if c := &chunks[i]; c.atLines > 0 {
				_, c.deferred, _, _ = scanChunk(data, c.start, c.end, ver, radius, true)
			}
		})
	}
	for i := range chunks {
		chunks[i].atNames = nil
	}
	var deferred []parRange
	defer func() {
		if parSeen != nil {
			parSeen(len(deferred), base != nil)
		}
	}()
	// A chunk is read once the deferred lines up to its end have been:
	// ready[i] is closed then, and readyAt[i] is the first line of the
	// last deferred line up to chunk i's end (0: none).
	ready := make([]chan struct{}, len(chunks))
	readyAt := make([]int, len(chunks))
	line := 1
	for i := range chunks {
		c := &chunks[i]
		for j := range c.deferred {
			c.deferred[j].line += line
			c.deferred[j].chunk = i
		}
		deferred = append(deferred, c.deferred...)
		c.first, line = line, line+c.newlines
		ready[i] = make(chan struct{})
		if len(deferred) > 0 {
			readyAt[i] = deferred[len(deferred)-1].line
		} else {
			close(ready[i])
		}
	}
	released := 0
	for released < len(chunks) && readyAt[released] == 0 {
		released++
	}
	release := func(at int) {
		for released < len(chunks) && readyAt[released] <= at {
			close(ready[released])
			released++
		}
	}

	// The lines the load's loader reads, in a copy where the other lines
	// are empty. A sentinel line "-" takes the place of the first empty
	// line after a deferred one: after the last of each chunk, so that
	// the chunk is released without waiting for the next deferred line,
	// and, when comments are kept, after every one, so that the comments
	// read in order can be placed among those of the chunks.
	var seq *builder
	var seqComments []Comment
	var seqData []byte
	if len(deferred) > 0 {
		seq = newBuilder(p, l, len(deferred), withLines)
		seq.par, seq.keys = true, true
		seq.progress = release
		next := 1 // the line seqData has reached
		for i, d := range deferred {
			mark := i > 0 && (withLines || d.chunk != deferred[i-1].chunk)
			seqData = sentinelGap(seqData, seq, mark, next, d.line)
			seqData = append(seqData, data[d.start:d.end]...)
			next = d.line + d.newlines
		}
		if deferred[len(deferred)-1].end < len(data) {
			// Lines follow the last deferred one.
			seqData = sentinelGap(seqData, seq, true, next, next+1)
		}
		seq.sentinelLines = slices.Clone(seq.sentinels)
	}
	var abort atomic.Bool
	runSeq := func() {
		if seq == nil {
			return
		}
		if withLines {
			l.comments = &seqComments
		}
		l.readInto(seq, abs, seqData)
		if l.halted {
			abort.Store(true)
		}
		release(int(^uint(0) >> 1))
	}

	// Second pass: every chunk on a loader of its own, the deferred lines
	// on l, on the caller's goroutine, before it reads chunks too.
	own := l.own // set before the load, never written during it
	parallelFor(len(chunks), procs, runSeq, func(i int) {
		c := &chunks[i]
		sub := p.newLoader(ctx)
		sub.own = own // a chunk of bytes the load read itself is not copied
		if base != nil {
			// The @file tokens are strings of the load's table, which
			// each chunk's table starts with.
			sub.atBase, sub.atFrozen = base, true
			sub.strs = &strTable{s: baseStrs[:len(baseStrs):len(baseStrs)]}
		}
		c.sub = sub
		est := c.newlines + 1 // the chunk's lines, less the deferred ones
		for _, d := range c.deferred {
			est -= d.newlines
		}
		b := newBuilder(p, sub, max(est, 1), withLines)
		b.par, b.lineBase = true, c.first-1
		c.b = b
		// The context is checked every 256 lines of the file, as in one
		// pass, not of each chunk.
		sub.ticks = (c.first - 1) & 255
		<-ready[i]
		if abort.Load() {
			sub.halted = true
			return
		}
		if withLines {
			sub.comments = &c.comments
		}
		chunk := data[c.start:c.end]
		if len(c.deferred) > 0 {
			chunk = blankLines(chunk, c.start, c.deferred)
		}
		sub.readInto(b, abs, chunk)
		for j := range c.comments {
			c.comments[j].Pos.Line += b.lineBase
		}
	})

	// A context that ended stops the load where the first part in file
	// order to see it stopped: a chunk (they run behind the deferred
	// lines), or else the deferred lines.
	for i := range chunks {
		if e := chunks[i].sub.stopped; e != nil {
			e.Pos.Line += chunks[i].b.lineBase
			l.stopped, l.halted = e, true
			return &File{Path: abs, dialect: p.dialect()}
		}
	}
	if l.stopped != nil {
		return &File{Path: abs, dialect: p.dialect()}
	}

	// Read again in one pass unless every part read without an error and
	// the budgets together hold.
	if l.halted || (seq != nil && (seq.failed || len(seq.cuts) != len(seq.sentinelLines))) {
		return nil
	}
	nlines, ntok, nexp := l.lines, l.tokens, l.expanded
	for i := range chunks {
		c := &chunks[i]
		if c.sub.halted || c.b.failed {
			return nil
		}
		nlines += c.sub.lines
		ntok += c.sub.tokens
		nexp += c.sub.expanded
	}
	if base != nil {
		// The files read ahead count once each, when a part used them.
		used := make([]bool, len(base.files))
		mark := func(u []bool) {
			for id, ok := range u {
				used[id] = used[id] || ok
			}
		}
		mark(l.atUsed)
		for i := range chunks {
			mark(chunks[i].sub.atUsed)
		}
		for _, f := range base.files {
			if used[f.id] {
				l.files++
				l.readBytes += int64(len(f.data))
			}
		}
		if l.files > l.lim.MaxFiles || l.readBytes > l.lim.MaxBytes {
			return nil
		}
		l.atBase, l.atUsed = nil, nil
	}
	if nexp > l.lim.MaxExpandedTokens {
		return nil
	}
	l.expanded = nexp
	if seq != nil {
		// A sentinel is a line of one token.
		nlines -= len(seq.sentinelLines)
		ntok -= len(seq.sentinelLines)
	}
	if nlines > l.lim.MaxLines || ntok > l.lim.MaxTokens {
		return nil
	}
	l.lines, l.tokens = nlines, ntok
	return mergeChunks(p, l, abs, chunks, seq, seqComments, withLines, procs)
}

// sentinelGap appends the empty lines from line next up to line upto, the
// first of them a sentinel when mark is set and there is one.
func sentinelGap(out []byte, seq *builder, mark bool, next, upto int) []byte {
	if upto <= next {
		return out
	}
	if mark {
		out = append(out, '-')
		seq.sentinels = append(seq.sentinels, next)
	}
	for range upto - next {
		out = append(out, '\n')
	}
	return out
}

// blankLines returns a copy of chunk (at offset base of the file) with the
// deferred lines empty, their newlines kept.
func blankLines(chunk []byte, base int, deferred []parRange) []byte {
	out := make([]byte, 0, len(chunk))
	at := 0
	for _, d := range deferred {
		out = append(out, chunk[at:d.start-base]...)
		for range d.newlines {
			out = append(out, '\n')
		}
		at = d.end - base
	}
	return append(out, chunk[at:]...)
}

// readAhead reads and tokenizes, on a loader of its own, the @files the
// chunks' atLines name, as the main file's lines would (depth 1), and
// returns the cache, which the parts of the load then share; the cache's
// string table becomes the load's. It returns nil, having changed
// nothing, when there is nothing to read or the read-ahead reached a
// limit, the context's end, or an @file naming another: the lines are
// then read by the load's loader, in order. A name that fails to read is
// kept as failed: a line naming it fails its part, and the load is read
// again in one pass. The read-ahead spends its own budgets; the files a
// part used are counted once the parts are done.
func (p *Parser) readAhead(l *loader, abs string, chunks []parChunk) *atCache {
	if noFileCache || l.at != nil || l.strs != nil {
		return nil
	}
	// Files are opened in the order of a one-pass read: the @files' in
	// the order they are first named, which holds when no line before
	// them opens a file of its own (an include directive).
	for i := range chunks {
		if len(chunks[i].deferred) > 0 {
			return nil
		}
	}
	s := p.newLoader(l.ctx)
	s.files, s.readBytes = l.files, l.readBytes
	c := s.cache()
	seen := map[string]bool{}
	for i := range chunks {
		for _, name := range chunks[i].atNames {
			if seen[name] {
				continue
			}
			seen[name] = true
			full := s.atPath(name, abs)
			data, err := s.readCached(full)
			if s.halted {
				return nil
			}
			if err != nil {
				continue
			}
			n := len(c.files)
			s.expansion(full, data, 1)
			if s.halted || len(c.files) != n {
				return nil
			}
		}
	}
	if len(c.files) == 0 {
		return nil
	}
	// A context that ended while the files were read stops the load
	// before its first line.
	if l.checkContext(Position{Filename: abs}) != nil {
		return nil
	}
	l.strs = s.strs
	l.atBase = c
	return c
}

// scanChunk counts the newlines of data[start:end] and finds its logical
// lines that the load's own loader must read, in order, with their first
// lines counted from 0 at start. The lines that only name @files are
// among them with atDefer; without, they are counted, and the names they
// name returned.
func scanChunk(data []byte, start, end, ver int, radius, atDefer bool) (n int, deferred []parRange, atLines int, names []string) {
	if ver < 16 && !radius && bytes.IndexByte(data[start:end], '@') < 0 {
		// No line can need the load's loader.
		return bytes.Count(data[start:end], []byte{'\n'}), nil, 0, nil
	}
	if ver < 16 && !radius && !atDefer {
		if n, k, names, ok := scanAtLines(data, start, end, ver); ok {
			return n, nil, k, names
		}
	}
	return scanLines(data, start, end, ver, radius, atDefer)
}

// scanLines is scanChunk line by line.
func scanLines(data []byte, start, end, ver int, radius, atDefer bool) (n int, deferred []parRange, atLines int, names []string) {
	var seen map[string]bool
	line := 0       // physical lines before pos
	ls, ll := -1, 0 // the logical line's start and first line
	for pos := start; pos < end; {
		if ls < 0 {
			ls, ll = pos, line
		}
		next := end
		if nl := bytes.IndexByte(data[pos:end], '\n'); nl >= 0 {
			next = pos + nl + 1
			line++
		}
		if ver >= 14 && next < end && continues(data[pos:next]) {
			pos = next
			continue
		}
		b := data[ls:next]
		r := parRange{start: ls, end: next, line: ll, newlines: line - ll}
		switch {
		case mustSeq(b, ver, radius):
			deferred = append(deferred, r)
		case namesAt(b):
			// A line of one physical line whose @file names are plain
			// is read by its chunk when the @files are read ahead.
			ok := false
			if !atDefer && r.newlines <= 1 {
				names, ok = atNamesOf(b, names, &seen)
			}
			if ok {
				atLines++
			} else {
				deferred = append(deferred, r)
			}
		}
		pos, ls = next, -1
	}
	return line, deferred, atLines, names
}

// scanAtLines is scanChunk for 13–15 without a resolver, whose lines can
// only need the load's loader for an @file: it reads only the lines that
// hold a '@'. It reports false when one of them is continued or its names
// are not plain (scanChunk then reads every line).
func scanAtLines(data []byte, start, end, ver int) (n, atLines int, names []string, ok bool) {
	var seen map[string]bool
	for pos := start; pos < end; {
		j := bytes.IndexByte(data[pos:end], '@')
		if j < 0 {
			break
		}
		at := pos + j
		ls := start + bytes.LastIndexByte(data[start:at], '\n') + 1
		next := end
		if nl := bytes.IndexByte(data[at:end], '\n'); nl >= 0 {
			next = at + nl + 1
		}
		b := data[ls:next]
		if ver >= 14 && (continues(b) || ls > start && continues(data[lineStart(data, ls-1):ls])) {
			return 0, 0, nil, false
		}
		if namesAt(b) {
			if names, ok = atNamesOf(b, names, &seen); !ok {
				return 0, 0, nil, false
			}
			atLines++
		}
		pos = next
	}
	return bytes.Count(data[start:end], []byte{'\n'}), atLines, names, true
}

// atNamesOf appends to names the @file names of line b not in *seen: the
// unquoted tokens that start with '@' and have more, outside quotes and
// before a comment, as next_token reads them. It reports false, for a line
// its chunk should not read, when a token starting with '@' holds a quote
// (next_token would remove it) or the line ends in a backslash.
func atNamesOf(b []byte, names []string, seen *map[string]bool) ([]string, bool) {
	b = stripCRLF(b)
	if len(b) > 0 && b[len(b)-1] == '\\' {
		return names, false
	}
	inQuote := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '#' {
			break
		}
		if c != '@' || i > 0 && !isBlank(b[i-1]) && b[i-1] != ',' {
			continue
		}
		j := i + 1
		for j < len(b) && !isBlank(b[j]) && b[j] != ',' && b[j] != '#' && b[j] != '"' {
			j++
		}
		if j < len(b) && b[j] == '"' {
			return names, false
		}
		if j > i+1 {
			if *seen == nil {
				*seen = map[string]bool{}
			}
			if name := b[i+1 : j]; !(*seen)[string(name)] {
				(*seen)[string(name)] = true
				names = append(names, string(name))
			}
		}
		i = j - 1
	}
	return names, true
}

// mustSeq reports whether the logical line b (its physical lines as in the
// file) may do more than build a line and name @files: be an include
// directive (16+: a first token that reads "include…"), or name a RADIUS
// server a resolver looks up. It may say yes where the line does not.
func mustSeq(b []byte, ver int, radius bool) bool {
	if ver >= 16 && loosePrefix(b, "include") {
		return true
	}
	return radius && looseContains(b, "radiusservers")
}

// namesAt reports whether the logical line b may name an @file: hold an
// unquoted token starting with '@'. It may say yes where the line does
// not.
func namesAt(b []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '@')
		if j < 0 {
			break
		}
		i += j
		if i == 0 {
			return true
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n', ',':
			return true
		}
		i++
	}
	return false
}

// looseSkip reports the bytes that may stand between the letters of a
// word in the bytes of a line and not in the token it reads as: quotes,
// the backslashes and line ends of continuations.
func looseSkip(c byte) bool { return c == '"' || c == '\\' || c == '\r' || c == '\n' }

// loosePrefix reports whether the first token of line b may read as a word
// starting with w: leading blanks and commas, and looseSkip bytes, ignored.
func loosePrefix(b []byte, w string) bool {
	k := 0
	for _, c := range b {
		if looseSkip(c) || (k == 0 && (c == ' ' || c == '\t' || c == ',')) {
			continue
		}
		if c != w[k] {
			return false
		}
		if k++; k == len(w) {
			return true
		}
	}
	return false
}

// looseContains reports whether b may hold a token containing w, looseSkip
// bytes ignored.
func looseContains(b []byte, w string) bool {
	for i := range b {
		if b[i] != w[0] {
			continue
		}
		k := 0
		for _, c := range b[i:] {
			if looseSkip(c) && k > 0 {
				continue
			}
			if c != w[k] {
				break
			}
			if k++; k == len(w) {
				return true
			}
		}
	}
	return false
}

// mergeRules numbers, files and shares the options of the rules of chunks
// with no deferred line among them, as mergeChunks does, chunk by chunk on
// every core: the options each chunk shares are shared for the load first,
// in chunk order, and each rule then looks its own up.
func mergeRules(l *loader, chunks []parChunk, procs int) {
	for i := range chunks {
		sub := chunks[i].sub
		for m, o := range sub.options {
			if o != nil {
				l.shareMerged(Method(m), o)
			}
		}
		for _, os := range sub.optsByRaw {
			for _, o := range os {
				l.shareMerged(0, o) // options with tokens are shared by them, whatever the method
			}
		}
	}
	miss := make([]bool, len(chunks))
	first := make([]int, len(chunks))
	for i := 1; i < len(chunks); i++ {
		first[i] = first[i-1] + len(chunks[i-1].b.rules)
	}
	parallelFor(len(chunks), procs, nil, func(i int) {
		var file *ruleFile
		for j, r := range chunks[i].b.rules {
			r.number = int32(first[i] + j + 1)
			// A chunk's rules keep its string table (their spans index
			// it): each chunk has rule files of its own.
			if file == nil || file.name != r.file.name || file.strs != r.file.strs || !sameText(file.text, r.file.text) || !slices.Equal(file.inc, r.file.inc) {
				c := *r.file
				file = &c
			}
			r.file = file
			if o, ok := l.merged[r.opts]; ok {
				r.opts = o
			} else {
				miss[i] = true
			}
		}
	})
	for i := range chunks {
		if miss[i] {
			for _, r := range chunks[i].b.rules {
				r.opts = l.shareMerged(r.method, r.opts)
			}
		}
	}
}

// mergeChunks puts the chunks' rules, lines and comments and those of the
// deferred lines in file order, as a one-pass read numbers and shares
// them.
func mergeChunks(p *Parser, l *loader, abs string, chunks []parChunk, seq *builder, seqComments []Comment, withLines bool, procs int) *File {
	f := &File{Path: abs, dialect: p.dialect()}
	nr, nl, nc := 0, 0, len(seqComments)
	for i := range chunks {
		nr += len(chunks[i].b.rules)
		nl += len(chunks[i].b.lines)
		nc += len(chunks[i].comments)
	}
	var dr []*Rule
	var drk, dlk []int32
	var dl []*Line
	if seq != nil {
		dr, drk, dl, dlk = seq.rules, seq.ruleKey, seq.lines, seq.lineKey
		nr += len(dr)
		nl += len(dl)
	}

	f.Rules = make([]*Rule, 0, nr)
	for i := range chunks {
		for _, r := range chunks[i].b.rules {
			for len(dr) > 0 && drk[0] < r.line {
				f.Rules = append(f.Rules, dr[0])
				dr, drk = dr[1:], drk[1:]
			}
			f.Rules = append(f.Rules, r)
		}
	}
	f.Rules = append(f.Rules, dr...)
	l.options = [len(methodNames)]*AuthOptions{}
	if seq == nil {
		mergeRules(l, chunks, procs)
	} else {
		var file *ruleFile
		for i, r := range f.Rules {
			r.number = int32(i + 1)
			// A chunk's rules keep their chunk's string table (their
			// spans index it); the rules of one file and one table share
			// a ruleFile.
			if file == nil || file.name != r.file.name || file.strs != r.file.strs || !sameText(file.text, r.file.text) || !slices.Equal(file.inc, r.file.inc) {
				c := *r.file
				file = &c
			}
			r.file = file
			r.opts = l.shareMerged(r.method, r.opts)
		}
	}

	if withLines {
		f.Lines = make([]*Line, 0, nl)
		for i := range chunks {
			for _, ln := range chunks[i].b.lines {
				for len(dl) > 0 && dlk[0] < int32(ln.Pos.Line) {
					f.Lines = append(f.Lines, dl[0])
					dl, dlk = dl[1:], dlk[1:]
				}
				f.Lines = append(f.Lines, ln)
			}
		}
		f.Lines = append(f.Lines, dl...)

		if nc > 0 {
			f.Comments = make([]Comment, 0, nc)
			var cuts, marks []int
			if seq != nil {
				cuts, marks = seq.cuts, seq.sentinelLines
			}
			at := 0
			for i := range chunks {
				for _, c := range chunks[i].comments {
					for len(marks) > 0 && marks[0] <= c.Pos.Line {
						f.Comments = append(f.Comments, seqComments[at:cuts[0]]...)
						at, cuts, marks = cuts[0], cuts[1:], marks[1:]
					}
					f.Comments = append(f.Comments, c)
				}
			}
			f.Comments = append(f.Comments, seqComments[at:]...)
		}
	}
	return f
}
