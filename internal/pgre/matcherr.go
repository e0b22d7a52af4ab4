package pgre

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

// CanFail reports whether MatchErr (and Exec) can return an error for re:
// only patterns with back-references are matched under a work bound. When
// it is false, MatchErr's error is always nil.
func (re *Regexp) CanFail() bool { return re.backref }
