package hba

import "regexp"

// compileRegex is a placeholder until internal/pgre lands (PostgreSQL ARE).
func compileRegex(pattern string) (regex, error) {
	return regexp.Compile(pattern)
}
