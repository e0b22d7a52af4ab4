package pgconf

// This file is the scanner: the tokens of PostgreSQL's configuration-file
// lexer (src/backend/utils/misc/guc-file.l), matched as flex matches them,
// longest match first and the earlier rule on a tie.

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokID
	tokString
	tokInteger
	tokReal
	tokEquals
	tokUnquoted
	tokQualified
	tokEOL
	tokError
)

// scanner walks one file's bytes.
type scanner struct {
	data []byte
	off  int
	line int // the lexer's line counter: 1 at the start, +1 at each newline token
}

func isLetter(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetterOrDigit(c byte) bool { return isLetter(c) || isDigit(c) }

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isUnitLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// matchID returns the length of {LETTER}{LETTER_OR_DIGIT}* at s, or 0.
func matchID(s []byte) int {
	if len(s) == 0 || !isLetter(s[0]) {
		return 0
	}
	n := 1
	for n < len(s) && isLetterOrDigit(s[n]) {
		n++
	}
	return n
}

// matchQualified: {ID}"."{ID}.
func matchQualified(s []byte) int {
	n := matchID(s)
	if n == 0 || n >= len(s) || s[n] != '.' {
		return 0
	}
	m := matchID(s[n+1:])
	if m == 0 {
		return 0
	}
	return n + 1 + m
}

// matchUnquoted: {LETTER}({LETTER_OR_DIGIT}|[-._:/])*.
func matchUnquoted(s []byte) int {
	if len(s) == 0 || !isLetter(s[0]) {
		return 0
	}
	n := 1
	for n < len(s) {
		c := s[n]
		if isLetterOrDigit(c) || c == '-' || c == '.' || c == '_' || c == ':' || c == '/' {
			n++
			continue
		}
		break
	}
	return n
}

// matchString: \'([^'\\\n]|\\.|\'\')*\' (flex's "." is any byte but a
// newline). Flex backtracks to the longest complete match.
func matchString(s []byte) int {
	if len(s) == 0 || s[0] != '\'' {
		return 0
	}
	best := 0
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) && s[i+1] != '\n' {
				i += 2
				continue
			}
			return best
		case c == '\'':
			// A closing quote ends a match here; a doubled quote may also
			// continue the string, so keep going and remember this end.
			best = i + 1
			if i+1 < len(s) && s[i+1] == '\'' {
				i += 2
				continue
			}
			return best
		case c == '\n':
			return best
		default:
			i++
		}
	}
	return best
}

// matchSign returns 1 if s starts with + or -.
func matchSign(s []byte) int {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		return 1
	}
	return 0
}

// matchInteger: {SIGN}?({DIGIT}+|0x{HEXDIGIT}+){UNIT_LETTER}*.
func matchInteger(s []byte) int {
	p := matchSign(s)
	best := 0
	// {DIGIT}+
	n := p
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n > p {
		m := n
		for m < len(s) && isUnitLetter(s[m]) {
			m++
		}
		best = m
	}
	// 0x{HEXDIGIT}+
	if len(s) >= p+3 && s[p] == '0' && s[p+1] == 'x' && isHex(s[p+2]) {
		m := p + 2
		for m < len(s) && isHex(s[m]) {
			m++
		}
		for m < len(s) && isUnitLetter(s[m]) {
			m++
		}
		if m > best {
			best = m
		}
	}
	return best
}

// matchReal: {SIGN}?{DIGIT}*"."{DIGIT}*{EXPONENT}? with EXPONENT
// [Ee]{SIGN}?{DIGIT}+. It matches a lone "." too.
func matchReal(s []byte) int {
	n := matchSign(s)
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n >= len(s) || s[n] != '.' {
		return 0
	}
	n++
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		m += matchSign(s[m:])
		d := m
		for d < len(s) && isDigit(s[d]) {
			d++
		}
		if d > m {
			n = d
		}
	}
	return n
}

// next returns the next token and its text, skipping blanks and comments.
func (sc *scanner) next() (tokKind, []byte) {
	for {
		if sc.off >= len(sc.data) {
			return tokEOF, nil
		}
		s := sc.data[sc.off:]
		switch s[0] {
		case '\n':
			sc.off++
			sc.line++
			return tokEOL, s[:1]
		case ' ', '\t', '\r':
			sc.off++
			continue
		case '#':
			n := 0
			for n < len(s) && s[n] != '\n' {
				n++
			}
			sc.off += n
			continue
		}
		// The rules in the lexer's order; the longest wins, the first on a tie.
		kind, n := tokError, 1
		for _, r := range [...]struct {
			k tokKind
			m func([]byte) int
		}{
			{tokID, matchID},
			{tokQualified, matchQualified},
			{tokString, matchString},
			{tokUnquoted, matchUnquoted},
			{tokInteger, matchInteger},
			{tokReal, matchReal},
		} {
			if l := r.m(s); l > n || l == n && kind == tokError && l > 0 {
				kind, n = r.k, l
			}
		}
		if kind == tokError && s[0] == '=' {
			kind = tokEquals
		}
		sc.off += n
		return kind, s[:n]
	}
}

// cString is s as C sees it: up to the first NUL byte.
func cString(s []byte) string {
	for i, c := range s {
		if c == 0 {
			return string(s[:i])
		}
	}
	return string(s)
}

// deescape strips the quotes of a quoted value and collapses doubled quotes and the
// backslash escapes \b \f \n \r \t and octal \ooo (one to three digits);
// any other escaped byte stands for itself. A NUL produced by an octal
// escape ends the value, as it ends PostgreSQL's C string.
func deescape(tok []byte) string {
	s := tok[1:] // keeps the closing quote, dropped at the end
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v, k := 0, 0
				for ; k < 3 && i+k < len(s) && s[i+k] >= '0' && s[i+k] <= '7'; k++ {
					v = v<<3 + int(s[i+k]-'0')
				}
				i += k - 1
				c = byte(v)
			default:
				c = e
			}
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		}
		out = append(out, c)
	}
	if len(out) > 0 {
		out = out[:len(out)-1]
	}
	return cString(out)
}
