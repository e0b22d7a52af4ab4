package pgre

import "context"

// MatchErr reports whether the pattern matches anywhere in s (s is treated
// as bytes), like MatchString, and reports a match it could not decide as an
// error instead of false: for patterns with back-references, the work bound
// of Exec (the error is then ErrMatchTooComplex). Without back-references
// matching takes polynomial time, MatchErr never fails and it allocates
// nothing.
//
// Callers that decide access must use MatchErr (or Exec), not MatchString:
// a match abandoned at the bound is not a non-match.
func (re *Regexp) MatchErr(s string) (bool, error) {
	if !re.backref {
		return re.search.matchAnywhere(s), nil
	}
	m, err := re.findBackref(s)
	if err != nil {
		return false, err
	}
	return m != nil, nil
}

// MatchErrContext is MatchErr, stopped when ctx ends: a pattern matched
// under the work bound (one with back-references) polls ctx every 65,536
// units of work (at most a few milliseconds of CPU) and, once it has
// ended, returns false with a *CanceledError wrapping ctx.Err(), never a
// match or a non-match. Without back-references it is MatchErr: matching
// is polynomial and ctx is not looked at. A nil ctx is never polled.
func (re *Regexp) MatchErrContext(ctx context.Context, s string) (bool, error) {
	if !re.backref {
		return re.search.matchAnywhere(s), nil
	}
	m, err := re.findBackrefContext(ctx, s)
	if err != nil {
		return false, err
	}
	return m != nil, nil
}

// CanceledError is the error of a match stopped because its context
// ended. It matches the context's error with errors.Is.
type CanceledError struct{ Err error }

func (e *CanceledError) Error() string {
	return "regular expression matching stopped: " + e.Err.Error()
}

func (e *CanceledError) Unwrap() error { return e.Err }

// CanFail reports whether MatchErr (and Exec) can return an error for re:
// only patterns with back-references are matched under a work bound. When
// it is false, MatchErr's error is always nil.
func (re *Regexp) CanFail() bool { return re.backref }
