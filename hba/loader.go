package hba

// The loader: the state of one load (its dialect, what its budgets have
// spent, the tokenizer's buffers).

import (
	"context"
	"hash/maphash"
)

// loader holds the state of one load.
type loader struct {
	p         *Parser
	ver       int
	maxTok    int  // 13–15: a token may hold maxTok-1 bytes; 0 = unlimited
	maxLine   int  // 13: fgets buffer size
	tooLong13 bool // the last 13-style line read filled the buffer
	// comment is 1 + the offset of the '#' that began a comment in the
	// line being scanned, 0 when none did.
	comment int32
	// comments, when set, receives the comments read (ParseFile and
	// ParseBytes keep them; Load does not).
	comments *[]Comment

	// The budgets of the load (Parser.Limits resolved) and what is spent.
	ctx       context.Context
	lim       Limits
	readBytes int64
	files     int
	lines     int
	tokens    int
	expanded  int
	ticks     int
	nerrs     int // line errors recorded
	// halted is set when a limit is reached or ctx ends: nothing more is
	// read. haltErr is the first limit error, stopped the context's.
	halted bool
	// lazyAt lets a database or user field that is exactly one @file be
	// the cached expansion itself (tokLine.lazy); set for loads whose
	// lines all go to builder.add, which places such a field on an error.
	lazyAt  bool
	haltErr *Error
	stopped *Error

	// options are the shared options of rules without option tokens, by
	// method (see shareOptions).
	options [len(methodNames)]*AuthOptions
	// optsByRaw are the options of rules with option tokens, by the hash
	// of their tokens, so that equal options are shared too.
	optsByRaw map[uint64][]*AuthOptions
	optsSeed  maphash.Seed
	// merged are the shared options of a parallel load's chunks, by
	// what the merge shares them as (shareMerged).
	merged map[*AuthOptions]*AuthOptions
	// at caches the @files and included files read (include.go); strs
	// holds the rules' strings that are not in their lines (rule.go).
	at   *atCache
	strs *strTable
	// In a parallel load (parallel.go), atBase is the cache of the @files
	// read ahead, shared by every part and read only: it is looked up
	// before at, and atUsed records which of its files this loader used.
	// atFrozen, set for the chunks, makes an @file that is not in atBase
	// fail the part (the load is then read again in one pass).
	atBase   *atCache
	atUsed   []bool
	atFrozen bool
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

	// own is the main file's buffer when this loader read it itself
	// (readMain): nobody else holds it and nothing writes to it after the
	// read, so tokenize may view it as a string without a copy. It is
	// never set for bytes a caller gave (ParseBytes, LoadBytes).
	own []byte
	// text is the string the raw lines given to the sink are substrings
	// of, when they are (set by tokenize for its large files), so that a
	// rule's line is a span of it.
	text string
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
