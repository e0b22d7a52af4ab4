// Package ldapurl parses LDAP URLs as OpenLDAP's ldap_url_parse does with
// the flags PostgreSQL's ldapurl option uses (LDAP_PVT_URL_PARSE_NOEMPTY_HOST
// and LDAP_PVT_URL_PARSE_DEF_PORT, base scope by default): the schemes
// ldap, pldap, ldaps, pldaps and ldapi, an optional <...> enclosure and URL:
// prefix, host and port (IPv6 in brackets), then dn?attrs?scope?filter?
// extensions, with %XX escapes decoded as ldap_pvt_hex_unescape does.
//
// It reproduces the parse only: the fields PostgreSQL copies, and the error
// codes with the texts PostgreSQL prints for them. It does not check the
// syntax of a DN, a filter or the extensions beyond what OpenLDAP's parser
// checks, and it keeps no critical-extension flags.
package ldapurl

import (
	"strings"

	"github.com/pghba/pghba/internal/cemu"
)

// URL is the part of OpenLDAP's LDAPURLDesc that PostgreSQL uses. The Has
// fields say whether the C pointer is non-NULL, which PostgreSQL tests
// apart from the text.
type URL struct {
	Scheme    string // lower case, as matched: "ldap", "ldaps", ...
	Host      string
	HasHost   bool
	Port      int // when none is given or it is 0: 636 for ldaps, else 389; 0 for ldapi
	DN        string
	HasDN     bool
	Attrs     []string // lud_attrs without empty elements
	HasAttrs  bool     // lud_attrs non-NULL, possibly with no element
	Scope     int      // one of the Scope constants
	Filter    string
	HasFilter bool
}

// LDAP search scopes as OpenLDAP numbers them (LDAP_SCOPE_*).
const (
	ScopeBase        = 0
	ScopeOneLevel    = 1
	ScopeSubtree     = 2
	ScopeSubordinate = 3
)

// Code is an ldap_url_parse result code (LDAP_URL_*); OK is success.
type Code int

// The result codes Parse returns.
const (
	OK              Code = 0
	ErrBadScheme    Code = 3  // LDAP_URL_ERR_BADSCHEME
	ErrBadEnclosure Code = 4  // LDAP_URL_ERR_BADENCLOSURE
	ErrBadURL       Code = 5  // LDAP_URL_ERR_BADURL
	ErrBadScope     Code = 8  // LDAP_URL_ERR_BADSCOPE
	ErrBadFilter    Code = 9  // LDAP_URL_ERR_BADFILTER
	ErrBadExts      Code = 10 // LDAP_URL_ERR_BADEXTS
)

// ErrString is what OpenLDAP's ldap_err2string returns for code. PostgreSQL
// passes the URL parse code to this function, which is meant for LDAP
// result codes, so the texts are those of the result codes with the same
// numbers: ErrBadURL prints as "Compare False".
func ErrString(code Code) string {
	switch code {
	case 1:
		return "Operations error"
	case 2:
		return "Protocol error"
	case ErrBadScheme:
		return "Time limit exceeded"
	case ErrBadEnclosure:
		return "Size limit exceeded"
	case ErrBadURL:
		return "Compare False"
	case 6:
		return "Compare True"
	case 7:
		return "Authentication method not supported"
	case ErrBadScope:
		return "Strong(er) authentication required"
	case ErrBadFilter:
		return "Partial results and referral received"
	case ErrBadExts:
		return "Referral"
	}
	return "Unknown error"
}

// Parse parses s as OpenLDAP's ldap_url_parse does with PostgreSQL's
// flags. It returns OK, or the code of the first problem, with the fields
// read until then. It follows the steps of OpenLDAP's ldap_url_parse_ext
// (libldap/url.c) in their order: prefix and scheme, enclosure, host and
// port (parseHostPort), then dn, attributes, scope, filter and extensions.
func Parse(s string) (URL, Code) {
	var u URL
	rest := s
	enclosed := false
	if strings.HasPrefix(rest, "<") {
		enclosed = true
		rest = rest[1:]
	}
	if len(rest) >= 4 && strings.EqualFold(rest[:4], "URL:") {
		rest = rest[4:]
	}
	ipc := false
	found := false
	for _, sc := range [...]string{"ldap", "pldap", "ldaps", "pldaps", "ldapi"} {
		pre := sc + "://"
		if len(rest) >= len(pre) && strings.EqualFold(rest[:len(pre)], pre) {
			u.Scheme, rest, found = sc, rest[len(pre):], true
			ipc = sc == "ldapi"
			break
		}
	}
	if !found {
		return u, ErrBadScheme
	}
	if enclosed {
		if rest == "" || rest[len(rest)-1] != '>' {
			return u, ErrBadEnclosure
		}
		rest = rest[:len(rest)-1]
	}
	u.Scope = ScopeBase

	// The host-port part ends at the first '/', or when there is none at
	// the first '?'.
	hostport, after, hasPath := strings.Cut(rest, "/")
	if !hasPath {
		hostport, _, _ = strings.Cut(rest, "?")
	}
	if !ipc {
		var code Code
		if hostport, code = parseHostPort(&u, hostport); code != OK {
			return u, code
		}
	}
	u.Host = hexUnescape(hostport)
	u.HasHost = u.Host != ""
	if !hasPath {
		return u, OK
	}

	// dn ? attrs ? scope ? filter ? extensions
	part, after, more := strings.Cut(after, "?")
	if part != "" {
		u.DN = hexUnescape(part)
	}
	u.HasDN = true
	if !more {
		return u, OK
	}
	part, after, more = strings.Cut(after, "?")
	if part != "" {
		u.HasAttrs = true
		for _, a := range strings.Split(hexUnescape(part), ",") {
			if a != "" {
				u.Attrs = append(u.Attrs, a)
			}
		}
	}
	if !more {
		return u, OK
	}
	part, after, more = strings.Cut(after, "?")
	if part != "" {
		sc, ok := scopeOf(hexUnescape(part))
		if !ok {
			return u, ErrBadScope
		}
		u.Scope = sc
	}
	if !more {
		return u, OK
	}
	part, after, more = strings.Cut(after, "?")
	if part != "" {
		f := hexUnescape(part)
		if f == "" {
			return u, ErrBadFilter
		}
		u.Filter, u.HasFilter = f, true
	}
	if !more {
		return u, OK
	}
	if strings.Contains(after, "?") {
		return u, ErrBadURL
	}
	n := 0
	for _, e := range strings.Split(after, ",") {
		if e != "" {
			n++
		}
	}
	if n == 0 {
		return u, ErrBadExts
	}
	return u, OK
}

// parseHostPort splits the host-port part of a non-ldapi URL as
// ldap_url_parse_ext does: an IPv6 address in brackets, or a host before the
// first ':'; the port (hex-unescaped) must be a whole decimal number, and 0 or
// no port means the scheme's default. It sets u.Port and returns the host,
// still escaped.
func parseHostPort(u *URL, hostport string) (string, Code) {
	var portText string
	hasPort := false
	if strings.HasPrefix(hostport, "[") {
		r := strings.IndexByte(hostport, ']')
		if r < 0 {
			return hostport, ErrBadURL
		}
		tail := hostport[r+1:]
		if c := strings.IndexByte(tail, ':'); c >= 0 {
			if c != 0 {
				return hostport, ErrBadURL
			}
			portText, hasPort = tail[1:], true
		}
		hostport = hostport[1:r]
	} else if c := strings.IndexByte(hostport, ':'); c >= 0 {
		portText, hasPort = hostport[c+1:], true
		hostport = hostport[:c]
	}
	if hasPort {
		portText = hexUnescape(portText)
		if portText == "" {
			return hostport, ErrBadURL
		}
		n, digits, full := cemu.StrtolFull(portText)
		if !digits || !full {
			return hostport, ErrBadURL
		}
		u.Port = int(int32(n))
	}
	if u.Port == 0 {
		if u.Scheme == "ldaps" {
			u.Port = 636
		} else {
			u.Port = 389
		}
	}
	return hostport, OK
}

// scopeOf maps a scope word of an LDAP URL (case-insensitive) to its number.
func scopeOf(s string) (int, bool) {
	switch strings.ToLower(s) {
	case "one", "onelevel":
		return ScopeOneLevel, true
	case "base":
		return ScopeBase, true
	case "sub", "subtree":
		return ScopeSubtree, true
	case "subord", "subordinate", "children":
		return ScopeSubordinate, true
	}
	return 0, false
}

// hexUnescape decodes %XX escapes as OpenLDAP's ldap_pvt_hex_unescape
// does, including its quirk: a '%' not followed by two hex digits empties the
// whole string. Decoding stops at a decoded NUL byte, as in C.
func hexUnescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || cemu.HexDigit(s[i+1]) > 15 || cemu.HexDigit(s[i+2]) > 15 {
			return ""
		}
		b = append(b, byte(cemu.HexDigit(s[i+1])<<4|cemu.HexDigit(s[i+2])))
		i += 2
	}
	if k := strings.IndexByte(string(b), 0); k >= 0 {
		b = b[:k]
	}
	return string(b)
}
