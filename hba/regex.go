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
