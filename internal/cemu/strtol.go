package cemu

// This file holds C's number parsing and character classes in the C locale.

// Strtol is C's strtol(s, NULL, 10) on a 64-bit long, as glibc implements
// it: leading white space ([IsSpace]), an optional sign, then decimal
// digits; anything after them is ignored. A value out of range saturates to
// the largest or smallest int64 (where C also sets errno to ERANGE, which
// this function does not report). No digit gives 0.
func Strtol(s string) int64 {
	n, _, _ := StrtolFull(s)
	return n
}

// StrtolFull is [Strtol] that also reports what C learns from strtol's end
// pointer: digits is whether any digit was read (else the end pointer is s
// itself), and full whether the end pointer is at the end of s (C's *end ==
// '\0'), which with no digit holds only for an empty s. A NUL byte in s is
// an ordinary non-digit byte, so full is false.
func StrtolFull(s string) (n int64, digits, full bool) {
	i := 0
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var u uint64
	over := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		switch {
		case over:
		case u > (1<<63)/10:
			over = true // u*10 alone is out of range, and could wrap
		default:
			u = u*10 + uint64(s[i]-'0')
			over = u > 1<<63
		}
	}
	if i == start {
		// C's end pointer is s itself.
		return 0, false, len(s) == 0
	}
	switch {
	case neg && (over || u > 1<<63):
		n = -1 << 63
	case neg:
		n = -int64(u)
	case over || u > 1<<63-1:
		n = 1<<63 - 1
	default:
		n = int64(u)
	}
	return n, true, i == len(s)
}

// Atoi is C's atoi as glibc implements it: [Strtol] truncated to a 32-bit
// int, so "2147483648" is -2147483648 and "4294967296" is 0.
func Atoi(s string) int {
	return int(int32(Strtol(s)))
}

// IsSpace is C's isspace in the C locale: space, \t, \n, \v, \f and \r.
func IsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// IsScannerSpace is PostgreSQL's scanner_isspace, the blanks of its SQL
// lexer and of its list splitters: [IsSpace] without \v.
func IsScannerSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// HexDigit is the value of c as a hex digit (C's isxdigit: 0-9, a-f, A-F),
// and 16 or more for any other byte, so that d < base tests a digit of a
// base up to 16.
func HexDigit(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 99
}
