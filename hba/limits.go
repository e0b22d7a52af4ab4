package hba

// Limits: the budgets of one load, and the accounting that stops a load when
// one is spent or its context ends.

import (
	"errors"
)

// ErrLimit is the category of the error a load gets when it reaches one of
// its Limits (see [Limits]).
var ErrLimit = errors.New("pghba load limit exceeded")

// limitError is a read refused by a load limit.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func (e *limitError) Is(target error) bool { return target == ErrLimit }

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

// limitErr returns the limit error placed at pos (the line, or the token
// past the limit) and halts the load.
func (l *loader) limitErr(pos Position, what string, n int) *Error {
	e := &Error{Pos: pos, Msg: "pghba limit of " + itoa(n) + " " + what + " exceeded", Err: ErrLimit}
	l.halt(e)
	return e
}

// lineError counts the error err of the line at pos and returns what the
// line records: err, or the limit error when err is one past MaxErrors
// (the load then halts). An error recorded after the load halted (the
// limit error itself, or the line that halted it) is not counted.
func (l *loader) lineError(pos Position, err *Error) *Error {
	if l.halted {
		return err
	}
	l.nerrs++
	if l.nerrs > l.lim.MaxErrors {
		return l.limitErr(pos, "errors per load", l.lim.MaxErrors)
	}
	return err
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

// Limits bound one load (one call of ParseFile, Load, LoadBytes,
// ParseIdentFile and the like, includes and @files together), so that no
// input, however hostile, makes loading unbounded in time or memory.
// PostgreSQL has none of these limits. A zero field takes the default in
// DefaultLimits; a negative one removes that limit. A load that reaches a
// limit stops reading at once: the line past the limit gets an *Error that
// names the limit and matches [ErrLimit] with errors.Is, and nothing after
// it is read (the file does not load).
//
// The defaults load a file of a million ordinary rules (the generated
// multi-tenant file of 69 MB, 6 tokens a rule) with room to spare.
type Limits struct {
	// MaxBytes bounds the bytes read from files per load, the main file
	// included. An @file or included file is read once per load however
	// often it is named (a path, as PostgreSQL resolves it, gives the same
	// bytes for the whole load), so its bytes count once. A file larger than what remains is refused from its
	// size, before it is read; a file whose size is not known is read at
	// most one byte past the remainder. Data given to ParseBytes or
	// LoadBytes counts too. Default 512 MiB.
	MaxBytes int64
	// MaxFiles bounds the files and directories opened per load: the main
	// file, every distinct @file and included file (a path named again is
	// not opened again, and its failure to open is given again without
	// counting), every include_dir directory; an include or @file refused
	// for its nesting depth counts too, though nothing is opened.
	// Default 16,384.
	MaxFiles int
	// MaxLines bounds the non-empty logical lines read per load, in every
	// file (lines of @files and included files count, an @file's every
	// time it is named: its lines are tokenized once per load, but this
	// budget, and the three token budgets below, count each expansion as
	// if the file were read again, since they bound the work and memory
	// of the expansions). Default 4,194,304.
	MaxLines int
	// MaxTokens bounds the tokens read per load, in every file, plus the
	// tokens @file expansion copies into the lines that name the files.
	// Tokens are what a load's memory grows with (a name in a rule's
	// database or user list retains 12 bytes once the rule is built).
	// Default 16,777,216.
	MaxTokens int
	// MaxLineTokens bounds the tokens of one logical line, the tokens its
	// @files expand to included: a line's tokens are all held at once while
	// it is read. Default 1,048,576.
	MaxLineTokens int
	// MaxExpandedTokens bounds the tokens @file expansion produces per load.
	// Default 2,097,152.
	MaxExpandedTokens int
	// MaxErrors bounds the line errors of one load (in File.Errors,
	// IdentFile.Errors or the ErrorList of a failed Load). The line whose
	// error would be one past it gets the limit error in its place, and
	// nothing after it is read: an error line retains some 300 bytes while
	// a line of text may be 2, so without it a file of error lines costs
	// more than a hundred times its size. Default 100,000.
	MaxErrors int
}

// DefaultLimits are the limits a zero Limits field stands for.
var DefaultLimits = Limits{
	MaxBytes:          512 << 20,
	MaxFiles:          1 << 14,
	MaxLines:          4 << 20,
	MaxTokens:         16 << 20,
	MaxLineTokens:     1 << 20,
	MaxExpandedTokens: 2 << 20,
	MaxErrors:         100_000,
}

// resolved returns l with zero fields set to their defaults and negative
// ones to no limit.
func (l Limits) resolved() Limits {
	pick := func(v, d int) int {
		switch {
		case v == 0:
			return d
		case v < 0:
			return int(^uint(0) >> 1)
		}
		return v
	}
	r := Limits{
		MaxFiles:          pick(l.MaxFiles, DefaultLimits.MaxFiles),
		MaxLines:          pick(l.MaxLines, DefaultLimits.MaxLines),
		MaxTokens:         pick(l.MaxTokens, DefaultLimits.MaxTokens),
		MaxLineTokens:     pick(l.MaxLineTokens, DefaultLimits.MaxLineTokens),
		MaxExpandedTokens: pick(l.MaxExpandedTokens, DefaultLimits.MaxExpandedTokens),
		MaxErrors:         pick(l.MaxErrors, DefaultLimits.MaxErrors),
	}
	switch {
	case l.MaxBytes == 0:
		r.MaxBytes = DefaultLimits.MaxBytes
	case l.MaxBytes < 0:
		r.MaxBytes = int64(^uint64(0) >> 1)
	default:
		r.MaxBytes = l.MaxBytes
	}
	return r
}
