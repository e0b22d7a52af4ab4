package pgre

// The lexer mirrors the token stream of PostgreSQL's regc_lex.c for AREs:
// the same lexical contexts, the same look-behind at the previous token and
// the same input position after each token, so that error texts and the
// points at which they arise agree with PostgreSQL.

// Token types. Punctuation tokens use their ASCII value.
const (
	tEMPTY = 256 + iota
	tEOS
	tPLAIN
	tDIGIT
	tBACKREF
	tCOLLEL
	tECLASS
	tCCLASS
	tEND
	tRANGE
	tLACON
	tWBDRY
	tNWBDRY
	tSBEGIN
	tSEND
	tCCLASSS
	tCCLASSC
)

// Lexical contexts.
const (
	lERE = iota + 1
	lQ
	lEBND
	lBRACK
	lCEL
	lECL
	lCCL
	lBRE
	lBBND
)

// Compile flags (the subset of PostgreSQL's cflags that AREs can reach).
const (
	fICASE = 1 << iota
	fNLSTOP
	fNLANCH
	fEXPANDED
	fQUOTE
	fEXTENDED // POSIX ERE syntax (with fADVF: ARE)
	fADVF     // ARE extensions on top of ERE
	fNEWLINE  = fNLSTOP | fNLANCH
	fADVANCED = fEXTENDED | fADVF
)

// Lookaround types, as PostgreSQL's LATYPE values.
const (
	laAheadPos = iota
	laAheadNeg
	laBehindPos
	laBehindNeg
)

// Character classes, in PostgreSQL's order.
const (
	ccAlnum = iota
	ccAlpha
	ccASCII
	ccBlank
	ccCntrl
	ccDigit
	ccGraph
	ccLower
	ccPrint
	ccPunct
	ccSpace
	ccUpper
	ccXdigit
	ccWord
	numClasses
)

var classNames = [numClasses]string{
	"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
	"lower", "print", "punct", "space", "upper", "xdigit", "word",
}

const (
	dupMax = 255
	dupInf = dupMax + 1
)

// PostgreSQL's error texts.
const (
	msgBadPat  = "invalid regexp (reg version 0.8)"
	msgCollate = "invalid collating element"
	msgCType   = "invalid character class"
	msgEscape  = "invalid escape \\ sequence"
	msgSubReg  = "invalid backreference number"
	msgBrack   = "brackets [] not balanced"
	msgParen   = "parentheses () not balanced"
	msgBrace   = "braces {} not balanced"
	msgBadBR   = "invalid repetition count(s)"
	msgRange   = "invalid character range"
	msgBadRpt  = "quantifier operand invalid"
	msgBadOpt  = "invalid embedded option"
	msgTooBig  = "regular expression is too complex"
	msgAssert  = "\"cannot happen\" -- you found a bug"
)

// pgError is panicked by the parser on the first error, which is the one
// PostgreSQL reports (its ERR() keeps only the first).
type pgError struct{ e *Error }

func (p *parser) fail(msg string) {
	p.failAt(p.now, msg)
}

func (p *parser) failAt(off int, msg string) {
	panic(pgError{&Error{Msg: msg, Offset: off}})
}

func (p *parser) unsupported(off int, what string) {
	panic(pgError{&Error{Msg: what, Offset: off, unsupported: true}})
}

// noteUnsupported records the first unsupported construct but lets parsing
// continue, so that a PostgreSQL error later in the pattern still wins.
func (p *parser) noteUnsupported(off int, what string) {
	if p.unsup == nil {
		p.unsup = &Error{Msg: what, Offset: off, unsupported: true}
	}
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func (p *parser) ateos() bool     { return p.now >= len(p.pat) }
func (p *parser) have(n int) bool { return len(p.pat)-p.now >= n }
func (p *parser) next1(c byte) bool {
	return !p.ateos() && p.pat[p.now] == c
}
func (p *parser) next2(a, b byte) bool {
	return p.have(2) && p.pat[p.now] == a && p.pat[p.now+1] == b
}
func (p *parser) set(t int)             { p.nexttype = t }
func (p *parser) setv(t int, v int)     { p.nexttype, p.nextvalue = t, v }
func (p *parser) see(t int) bool        { return p.nexttype == t }
func (p *parser) lasttypeIs(t int) bool { return p.lasttype == t }

func (p *parser) eat(t int) bool {
	if p.see(t) {
		p.next()
		return true
	}
	return false
}

// lexstart handles the prefixes and reads the first token.
func (p *parser) lexstart() {
	p.prefixes()
	switch {
	case p.cflags&fQUOTE != 0:
		p.lexcon = lQ
	case p.cflags&fEXTENDED != 0:
		p.lexcon = lERE
	default:
		p.lexcon = lBRE
	}
	p.nexttype = tEMPTY
	p.next()
}

func (p *parser) prefixes() {
	if p.have(4) && p.pat[0] == '*' && p.pat[1] == '*' && p.pat[2] == '*' {
		switch p.pat[3] {
		case '?':
			p.fail(msgBadPat)
		case '=':
			p.cflags |= fQUOTE
			p.cflags &^= fADVANCED | fEXPANDED | fNEWLINE
			p.now += 4
			return
		case ':':
			p.now += 4
		default:
			p.fail(msgBadRpt)
		}
	}
	if p.have(3) && p.next2('(', '?') && isAlpha(p.pat[p.now+2]) {
		p.now += 2
		for ; !p.ateos() && isAlpha(p.pat[p.now]); p.now++ {
			switch p.pat[p.now] {
			case 'b':
				p.cflags &^= fADVANCED | fQUOTE
			case 'e':
				p.cflags |= fEXTENDED
				p.cflags &^= fADVF | fQUOTE
			case 'c':
				p.cflags &^= fICASE
			case 'i':
				p.cflags |= fICASE
			case 'm', 'n':
				p.cflags |= fNEWLINE
			case 'p':
				p.cflags |= fNLSTOP
				p.cflags &^= fNLANCH
			case 'q':
				p.cflags |= fQUOTE
				p.cflags &^= fADVANCED
			case 's':
				p.cflags &^= fNEWLINE
			case 't':
				p.cflags &^= fEXPANDED
			case 'w':
				p.cflags &^= fNLSTOP
				p.cflags |= fNLANCH
			case 'x':
				p.cflags |= fEXPANDED
			default:
				p.fail(msgBadOpt)
			}
		}
		if !p.next1(')') {
			p.fail(msgBadOpt)
		}
		p.now++
		if p.cflags&fQUOTE != 0 {
			p.cflags &^= fEXPANDED | fNEWLINE
		}
	}
}

// next reads the next token into nexttype/nextvalue. It mirrors next() in
// PostgreSQL's src/backend/regex/regc_lex.c, case for case, and is kept as
// one function, like the C it follows.
func (p *parser) next() {
	p.lasttype = p.nexttype
	if p.cflags&fEXPANDED != 0 && (p.lexcon == lERE || p.lexcon == lEBND || p.lexcon == lBRE || p.lexcon == lBBND) {
		p.skip()
	}
	p.tokStart = p.now
	if p.ateos() {
		switch p.lexcon {
		case lERE, lQ, lBRE:
			p.set(tEOS)
			return
		case lEBND, lBBND:
			p.fail(msgBrace)
		default:
			p.fail(msgBrack)
		}
	}
	c := p.pat[p.now]
	p.now++
	switch p.lexcon {
	case lQ:
		p.setv(tPLAIN, int(c))
		return
	case lBRE:
		p.brenext(c)
		return
	case lEBND, lBBND:
		switch {
		case isDigit(c):
			p.setv(tDIGIT, int(c-'0'))
		case c == ',':
			p.set(',')
		case c == '}' && p.lexcon == lEBND:
			p.lexcon = lERE
			if p.cflags&fADVF != 0 && p.next1('?') {
				p.now++
				p.setv('}', 0)
			} else {
				p.setv('}', 1)
			}
		case c == '\\' && p.lexcon == lBBND && p.next1('}'):
			p.now++
			p.lexcon = lBRE
			p.setv('}', 1)
		default:
			p.fail(msgBadBR)
		}
		return
	case lBRACK:
		switch c {
		case ']':
			if p.lasttypeIs('[') {
				p.setv(tPLAIN, int(c))
			} else {
				p.lexcon = lERE
				if p.cflags&fEXTENDED == 0 {
					p.lexcon = lBRE
				}
				p.set(']')
			}
		case '\\':
			if p.cflags&fADVF == 0 {
				p.setv(tPLAIN, int(c))
				return
			}
			if p.ateos() {
				p.fail(msgEscape)
			}
			p.lexescape()
			switch p.nexttype {
			case tPLAIN, tCCLASSS:
			case tCCLASSC:
				// \D, \S, \W inside brackets: PostgreSQL 14+
				if p.major == 13 {
					p.fail(msgEscape)
				}
			default:
				p.fail(msgEscape)
			}
		case '-':
			if p.lasttypeIs('[') || p.next1(']') {
				p.setv(tPLAIN, int(c))
			} else {
				p.setv(tRANGE, int(c))
			}
		case '[':
			if p.ateos() {
				p.fail(msgBrack)
			}
			d := p.pat[p.now]
			p.now++
			switch d {
			case '.':
				p.lexcon = lCEL
				p.set(tCOLLEL)
			case '=':
				p.lexcon = lECL
				p.set(tECLASS)
			case ':':
				p.lexcon = lCCL
				p.set(tCCLASS)
			default:
				p.now--
				p.setv(tPLAIN, int(c))
			}
		default:
			p.setv(tPLAIN, int(c))
		}
		return
	case lCEL, lECL, lCCL:
		term := byte(':')
		switch p.lexcon {
		case lCEL:
			term = '.'
		case lECL:
			term = '='
		}
		if c == term && p.next1(']') {
			p.now++
			p.lexcon = lBRACK
			p.setv(tEND, int(c))
		} else {
			p.setv(tPLAIN, int(c))
		}
		return
	}
	// lERE
	switch c {
	case '|':
		p.set('|')
	case '*', '+', '?':
		if p.cflags&fADVF != 0 && p.next1('?') {
			p.now++
			p.setv(int(c), 0)
		} else {
			p.setv(int(c), 1)
		}
	case '{':
		if p.cflags&fEXPANDED != 0 {
			p.skip()
		}
		if p.ateos() || !isDigit(p.pat[p.now]) {
			p.setv(tPLAIN, int(c))
		} else {
			p.lexcon = lEBND
			p.set('{')
		}
	case '(':
		if p.cflags&fADVF != 0 && p.next1('?') {
			p.now++
			if p.ateos() {
				p.fail(msgBadRpt)
			}
			d := p.pat[p.now]
			p.now++
			switch d {
			case ':':
				p.setv('(', 0)
			case '#':
				for !p.ateos() && p.pat[p.now] != ')' {
					p.now++
				}
				if !p.ateos() {
					p.now++
				}
				// PostgreSQL restarts the scan without updating lasttype.
				p.nexttype = p.lasttype
				p.next()
			case '=':
				p.setv(tLACON, laAheadPos)
			case '!':
				p.setv(tLACON, laAheadNeg)
			case '<':
				if p.ateos() {
					p.fail(msgBadRpt)
				}
				e := p.pat[p.now]
				p.now++
				switch e {
				case '=':
					p.setv(tLACON, laBehindPos)
				case '!':
					p.setv(tLACON, laBehindNeg)
				default:
					p.fail(msgBadRpt)
				}
			default:
				p.fail(msgBadRpt)
			}
			return
		}
		p.setv('(', 1)
	case ')':
		p.setv(')', int(c))
	case '[':
		p.lexbracket()
	case '.', '^', '$':
		p.set(int(c))
	case '\\':
		if p.ateos() {
			p.fail(msgEscape)
		}
		if p.cflags&fADVF == 0 {
			// ERE: a backslash quotes any character
			p.setv(tPLAIN, int(p.pat[p.now]))
			p.now++
			return
		}
		p.lexescape()
	default:
		p.setv(tPLAIN, int(c))
	}
}

// lexbracket lexes what follows a '[' outside brackets: the word-boundary
// forms [[:<:]] and [[:>:]], or the start of a bracket expression ([^
// negated).
func (p *parser) lexbracket() {
	if p.have(6) && p.pat[p.now] == '[' && p.pat[p.now+1] == ':' &&
		(p.pat[p.now+2] == '<' || p.pat[p.now+2] == '>') &&
		p.pat[p.now+3] == ':' && p.pat[p.now+4] == ']' && p.pat[p.now+5] == ']' {
		d := p.pat[p.now+2]
		p.now += 6
		p.set(int(d))
		return
	}
	p.lexcon = lBRACK
	if p.next1('^') {
		p.now++
		p.setv('[', 0)
	} else {
		p.setv('[', 1)
	}
}

// brenext lexes one token of a POSIX basic RE ((?b)), where most operators
// are backslashed and *, ^ and $ depend on their position.
func (p *parser) brenext(c byte) {
	switch c {
	case '*':
		if p.lasttypeIs(tEMPTY) || p.lasttypeIs('(') || p.lasttypeIs('^') {
			p.setv(tPLAIN, int(c))
		} else {
			p.setv('*', 1)
		}
		return
	case '[':
		p.lexbracket()
		return
	case '.':
		p.set('.')
		return
	case '^':
		if p.lasttypeIs(tEMPTY) || p.lasttypeIs('(') {
			p.set('^')
		} else {
			p.setv(tPLAIN, int(c))
		}
		return
	case '$':
		if p.cflags&fEXPANDED != 0 {
			p.skip()
		}
		if p.ateos() || p.next2('\\', ')') {
			p.set('$')
		} else {
			p.setv(tPLAIN, int(c))
		}
		return
	case '\\':
	default:
		p.setv(tPLAIN, int(c))
		return
	}
	if p.ateos() {
		p.fail(msgEscape)
	}
	c = p.pat[p.now]
	p.now++
	switch {
	case c == '{':
		p.lexcon = lBBND
		p.set('{')
	case c == '(':
		p.setv('(', 1)
	case c == ')':
		p.setv(')', int(c))
	case c == '<' || c == '>':
		p.set(int(c))
	case '1' <= c && c <= '9':
		p.setv(tBACKREF, int(c-'0'))
	default:
		p.setv(tPLAIN, int(c))
	}
}

// lexescape lexes an ARE escape; the backslash has been consumed.
func (p *parser) lexescape() {
	c := p.pat[p.now]
	p.now++
	if !isAlpha(c) && !isDigit(c) {
		p.setv(tPLAIN, int(c))
		return
	}
	switch c {
	case 'a':
		p.setv(tPLAIN, 7)
	case 'A':
		p.set(tSBEGIN)
	case 'b':
		p.setv(tPLAIN, '\b')
	case 'B':
		p.setv(tPLAIN, '\\')
	case 'c':
		if p.ateos() {
			p.fail(msgEscape)
		}
		p.setv(tPLAIN, int(p.pat[p.now]&037))
		p.now++
	case 'd':
		p.setv(tCCLASSS, ccDigit)
	case 'D':
		p.setv(tCCLASSC, ccDigit)
	case 'e':
		p.setv(tPLAIN, 033)
	case 'f':
		p.setv(tPLAIN, '\f')
	case 'm':
		p.set('<')
	case 'M':
		p.set('>')
	case 'n':
		p.setv(tPLAIN, '\n')
	case 'r':
		p.setv(tPLAIN, '\r')
	case 's':
		p.setv(tCCLASSS, ccSpace)
	case 'S':
		p.setv(tCCLASSC, ccSpace)
	case 't':
		p.setv(tPLAIN, '\t')
	case 'u':
		p.setv(tPLAIN, p.hexEscape(4, 4))
	case 'U':
		p.setv(tPLAIN, p.hexEscape(8, 8))
	case 'v':
		p.setv(tPLAIN, '\v')
	case 'w':
		p.setv(tCCLASSS, ccWord)
	case 'W':
		p.setv(tCCLASSC, ccWord)
	case 'x':
		p.setv(tPLAIN, p.hexEscape(1, 255))
	case 'y':
		p.set(tWBDRY)
	case 'Y':
		p.set(tNWBDRY)
	case 'Z':
		p.set(tSEND)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9', '0':
		if c != '0' {
			save := p.now
			p.now--
			n, ok := p.lexdigits(10, 1, 255)
			if !ok {
				p.fail(msgEscape)
			}
			if p.now == save || (int32(n) > 0 && int(int32(n)) <= p.nsubexp) {
				p.setv(tBACKREF, int(n))
				return
			}
			p.now = save
		}
		p.now--
		n, ok := p.lexdigits(8, 1, 3)
		if !ok {
			p.fail(msgEscape)
		}
		if n > 0xff {
			p.now--
			n >>= 3
		}
		p.setv(tPLAIN, int(n))
	default:
		p.fail(msgEscape)
	}
}

// hexEscape reads hex digits for \x, \u, \U; values beyond PostgreSQL's
// CHR_MAX are escape errors.
func (p *parser) hexEscape(minlen, maxlen int) int {
	n, ok := p.lexdigits(16, minlen, maxlen)
	if !ok || n > 0x7ffffffe {
		p.fail(msgEscape)
	}
	return int(n)
}

// lexdigits accumulates digits in an unsigned 32-bit value, wrapping on
// overflow as PostgreSQL's does.
func (p *parser) lexdigits(base uint32, minlen, maxlen int) (uint32, bool) {
	var n uint32
	l := 0
	for ; l < maxlen && !p.ateos(); l++ {
		c := p.pat[p.now]
		p.now++
		d := -1
		switch {
		case isDigit(c):
			d = int(c - '0')
		case 'a' <= c && c <= 'f':
			d = int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = int(c-'A') + 10
		}
		if d < 0 || uint32(d) >= base {
			p.now--
			break
		}
		n = n*base + uint32(d)
	}
	return n, l >= minlen
}

// skip skips white space and #-comments in expanded mode.
func (p *parser) skip() {
	for {
		for !p.ateos() && isSpace(p.pat[p.now]) {
			p.now++
		}
		if p.ateos() || p.pat[p.now] != '#' {
			break
		}
		for !p.ateos() && p.pat[p.now] != '\n' {
			p.now++
		}
	}
}
