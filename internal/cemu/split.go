package cemu

import "strings"

// This file holds PostgreSQL's list splitters (varlena.c), which read
// list-valued settings and options such as radiusservers.

// SplitGUCList is PostgreSQL's SplitGUCList: it splits s at sep into
// elements, ignoring blanks ([IsScannerSpace]) around them. An element may
// be double-quoted, with "" standing for one quote, and is then taken as
// written (it may be empty); an unquoted element ends at sep or a blank and
// may not be empty. An empty or all-blank s is an empty list (nil, true).
// ok is false on a syntax error: an unclosed quote, an empty unquoted
// element, or anything but sep after an element.
func SplitGUCList(s string, sep byte) (list []string, ok bool) {
	return splitList(s, sep, listGUC)
}

// SplitIdentifierString is PostgreSQL's SplitIdentifierString: as
// [SplitGUCList], but unquoted elements are folded to lower case (ASCII
// A-Z only, as in the C locale and a single-byte server encoding), and
// every element, quoted or not, is cut to 63 bytes (NAMEDATALEN-1). In a
// multibyte server encoding PostgreSQL cuts at a character boundary and
// this function does not.
func SplitIdentifierString(s string, sep byte) (list []string, ok bool) {
	return splitList(s, sep, listIdent)
}

// SplitDirectoriesString is PostgreSQL's SplitDirectoriesString: as
// [SplitGUCList], but an unquoted element runs to sep and may contain
// blanks (trailing ones are dropped), and every element is cut to 1023
// bytes (MAXPGPATH-1) and then put through [CanonicalizePath].
func SplitDirectoriesString(s string, sep byte) (list []string, ok bool) {
	list, ok = splitList(s, sep, listDirs)
	if !ok {
		return nil, false
	}
	for i, e := range list {
		if len(e) >= maxPGPath {
			e = e[:maxPGPath-1]
		}
		list[i] = CanonicalizePath(e)
	}
	return list, true
}

// maxPGPath is PostgreSQL's MAXPGPATH.
const maxPGPath = 1024

// namedatalen is PostgreSQL's NAMEDATALEN.
const namedatalen = 64

type listKind uint8

const (
	listGUC listKind = iota
	listIdent
	listDirs
)

func splitList(s string, sep byte, kind listKind) ([]string, bool) {
	i := 0
	skip := func() {
		for i < len(s) && IsScannerSpace(s[i]) {
			i++
		}
	}
	skip()
	if i == len(s) {
		return nil, true
	}
	var list []string
	for {
		var elem string
		if s[i] == '"' {
			var b strings.Builder
			i++
			for {
				q := strings.IndexByte(s[i:], '"')
				if q < 0 {
					return nil, false
				}
				b.WriteString(s[i : i+q])
				i += q + 1
				if i < len(s) && s[i] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			elem = b.String()
		} else {
			start, end := i, i
			for i < len(s) && s[i] != sep {
				if !IsScannerSpace(s[i]) {
					end = i + 1
				} else if kind != listDirs {
					break
				}
				i++
			}
			if end == start {
				return nil, false
			}
			elem = s[start:end]
			if kind == listIdent {
				elem = asciiLower(elem)
			}
		}
		if kind == listIdent && len(elem) >= namedatalen {
			elem = elem[:namedatalen-1]
		}
		skip()
		list = append(list, elem)
		if i == len(s) {
			return list, true
		}
		if s[i] != sep {
			return nil, false
		}
		i++
		skip()
		if i == len(s) {
			// A separator needs an element after it.
			return nil, false
		}
	}
}

// asciiLower folds A-Z to a-z byte by byte.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
