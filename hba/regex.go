package hba

// Regular expressions: /regex tokens compiled in the dialect's ARE flavour.

import (
	"context"

	"github.com/pghba/pghba/internal/pgre"
)

// compileRegex compiles a /regex token's pattern (without the slash) as
// PostgreSQL's ARE on bytes, in the given major version's dialect. Error
// texts are PostgreSQL's reasons; a construct pgre does not reproduce
// exactly is refused with an error naming it.
func (p *Parser) compileRegex(pattern string) (*pgre.Regexp, error) {
	return pgre.CompileFor(pattern, p.version())
}

// regexCtx is the context a /regex name of a decision is matched under
// (see pgre's MatchErrContext): the decision's, so that a canceled or
// expired context stops a back-reference match within a few milliseconds
// of CPU, with an error (Unresolved), never a match. st is nil only for
// rules whose regexes cannot fail; the context is then not needed.
func (st *matchState) regexCtx() context.Context {
	if st == nil {
		return nil
	}
	return st.ctx
}
