package hba

// Regular expressions: /regex tokens compiled in the dialect's ARE flavour.

import "github.com/pghba/pghba/internal/pgre"

// compileRegex compiles a /regex token's pattern (without the slash) as
// PostgreSQL's ARE on bytes, in the given major version's dialect. Error
// texts are PostgreSQL's reasons; a construct pgre does not reproduce
// exactly is refused with an error naming it.
func (p *Parser) compileRegex(pattern string) (*pgre.Regexp, error) {
	return pgre.CompileFor(pattern, p.version())
}

// matchRegex is the match of a /regex name during a decision: MatchErr,
// stopped by the decision's context for a pattern matched under the work
// bound (one with back-references), so that a canceled or expired context
// ends it within a few milliseconds of CPU, with an error (Unresolved),
// never a match. st is nil only for rules whose regexes cannot fail.
func matchRegex(re *pgre.Regexp, s string, st *matchState) (bool, error) {
	if st == nil || st.ctx == nil || !re.CanFail() {
		return re.MatchErr(s)
	}
	return re.MatchErrContext(st.ctx, s)
}
