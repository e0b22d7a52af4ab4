package identconf

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/pghba/pghba/hba"
)

// certCase is one pg_ident.conf, one hostssl rule and the (certificate CN, database user)
// pairs to connect with.
type certCase struct {
	Ident  string
	HBA    string // the rule after the bootstrap line
	DN     bool   // clientname=DN: the system user is the subject DN
	Checks []certCheck
}

type certCheck struct {
	CN, User string
}

// The roles the certificate test creates, with their direct memberships. grp and admins
// cannot log in; a map allowing them still authenticates.
var certRoles = hba.RoleGraph{
	"alice": nil, "bob": {"grp"}, "carol": nil, "dave": {"admins"}, "admins": {"grp"}, "grp": nil,
	"root": nil, "Alice": nil, "all": nil, "+grp": nil, "a": nil, "ab": nil, "x y": nil,
}

var certNoLogin = map[string]bool{"grp": true, "admins": true}

// longName is longer than NAMEDATALEN-1: the server cuts the requested user name to 63 bytes
// but not the certificate's CN.
const longName = "u123456789a123456789b123456789c123456789d123456789e123456789f123456789"

var (
	certCNs = []string{"alice", "bob", "carol", "dave", "root", "Alice", "ALICE", "alice@example.com",
		"bob@example.com", "carol@corp.example", "dave.admin", "r", "rootroot", "boot", "abcd", "bob42",
		"x y", "grp", "all", "xalice", "a.b.c", "ab@", "(a)", `r\1`, "café", "naïve", "Émile", longName}
	certUsers = []string{"alice", "bob", "carol", "dave", "root", "Alice", "grp", "admins", "all", "+grp",
		"ghost", "alice@example.com", "ab", "a", "bob4", "bob42", "ootroot", `\2`, "x y", "balice", `r\1x`, "cafe", "café", "ï", "naïve", longName, longName[:63]}
	// Map lines; %c is replaced by a CN-like literal (quoted when needed), %u by a user.
	certTemplates = []string{
		"M %c %u", "M %c %u", "M %c %u", "M %c all", `M %c "all"`, "M %c +grp", `M %c "+grp"`, "M %c +admins",
		`M /^(.*)@example\.com$ \1`, `M /^(.*)@(.*)$ \1`, `M /^([a-z]+)\.admin$ \1`, `M /^r(.*)$ b\1`,
		`M /^root$ \1x`, `M /oo alice`, `M / carol`, `M /^(.*)$ "\1"`, `M /^(.*)$ +\1`, `M /^(a|b)(.*)$ \1lice`,
		`M /^(.*)$ /^(a)\1`, `M %c /^a`, `M %c /^(alice|bob)$`, `M /^(x)?(.*)$ a\1`, `M /^(?:x|(a))lice$ \1lice`,
		`M /^(.*)$ \1`, `M /^(.*)$ \1@example.com`, `M /^(a|ab)(c|bcd)(d*)$ \1`, `M /^(.*?)(\d*)$ \1`,
		`M /^([^@]+)(@.*)?$ \1`, `M /^(\w+)\.(\w+)$ \2`, `M ALICE alice`, `N %c %u`, `"M" %c %u`,
		`M /^CN=([^@]*)(@.*)?$ \1`, `M "/^CN=(.*)$" "\1"`, `M /^(.)(.)/ \1\1`, `M /^(r)(o)ot$ \1\1x`,
		`M /(o+)t$ r\1t`, `M /^(b|bo)(ob|b)$ \1`, `M /^([[:alpha:]]+)[[:digit:]]*$ \1`, `M /\y(\w+)$ \1`,
		`M /^(a)?b?c? \1`, `M /^(.*)$ +\1`, `M /^(.*)$ \1\1`,
		`M /^caf.$ cafe`, `M /^(caf.)$ \1`, `M /^(.{5})$ \1`, `M /^[à-ï]/ alice`, `M "/(?i)^émile$" alice`, `M /^na(.)ve$ \1`,
	}
	certRules = []string{
		"hostssl all all 127.0.0.1/32 cert map=M", "hostssl all all 127.0.0.1/32 cert map=M",
		"hostssl all all 127.0.0.1/32 cert map=M", "hostssl all all 127.0.0.1/32 cert map=M",
		"hostssl all all 127.0.0.1/32 cert map=M", "hostssl all all 127.0.0.1/32 cert map=M",
		"hostssl all all 127.0.0.1/32 cert map=M", "hostssl all all 127.0.0.1/32 cert map=M",
		"hostssl all all 127.0.0.1/32 cert map=N", "hostssl all all 127.0.0.1/32 cert map=nosuch",
		"hostssl all all 127.0.0.1/32 cert", "hostssl all all 127.0.0.1/32 trust clientcert=verify-full",
		"hostssl all all 127.0.0.1/32 cert clientcert=verify-full map=M",
	}
	certRules14 = []string{ // clientname exists from 14
		"hostssl all all 127.0.0.1/32 cert map=M clientname=CN", "hostssl all all 127.0.0.1/32 cert map=M clientname=DN",
		"hostssl all all 127.0.0.1/32 cert clientname=DN", "hostssl all all 127.0.0.1/32 trust clientcert=verify-full clientname=DN",
	}
)

func quoteName(s string) string {
	if s == "" || strings.ContainsAny(s, " \t,#\"") || s == "all" || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "@") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func genCertCase(r *rand.Rand, major, checks int) certCase {
	var c certCase
	rules := certRules
	if major >= 14 {
		rules = append(append([]string{}, certRules...), certRules14...)
	}
	c.HBA = pick(r, rules)
	c.DN = strings.Contains(c.HBA, "clientname=DN")
	n := 1 + r.IntN(5)
	var lines []string
	var hints []certCheck // pairs a literal line allows
	for i := 0; i < n; i++ {
		l := pick(r, certTemplates)
		cn, u := pick(r, certCNs[:20]), pick(r, certUsers)
		if strings.Contains(l, "%c") {
			if r.IntN(3) == 0 {
				cn = pick(r, certCNs)
				l = strings.Replace(l, "%c", quoteName(cn), 1)
			} else {
				l = strings.Replace(l, "%c", cn, 1)
			}
			if strings.Contains(l, "%u") {
				hints = append(hints, certCheck{CN: cn, User: u})
			}
		}
		if r.IntN(3) == 0 {
			l = strings.Replace(l, "%u", quoteName(u), 1)
		} else {
			l = strings.Replace(l, "%u", u, 1)
		}
		lines = append(lines, l)
	}
	c.Ident = strings.Join(lines, "\n") + "\n"
	for i := 0; i < checks; i++ {
		cn := pick(r, certCNs)
		if r.IntN(40) == 0 {
			cn = "" // no CN
		}
		var u string
		if len(hints) > 0 && r.IntN(2) == 0 {
			h := hints[r.IntN(len(hints))]
			c.Checks = append(c.Checks, h)
			continue
		}
		switch r.IntN(4) {
		case 0:
			u = cn
		case 1:
			u = cn
			if j := strings.IndexAny(cn, "@."); j > 0 {
				u = cn[:j]
			}
		default:
			u = pick(r, certUsers)
		}
		if u == "" {
			u = "alice"
		}
		c.Checks = append(c.Checks, certCheck{CN: cn, User: u})
	}
	return c
}

// subjectDN is the RFC 2253 text OpenSSL prints (XN_FLAG_RFC2253) for the certificates'
// subject CN=cn: special characters get a backslash, bytes outside printable ASCII are
// written \XX (so "naïve" is CN=na\C3\AFve).
func subjectDN(cn string) string {
	if cn == "" {
		return "O=no common name"
	}
	var b strings.Builder
	b.WriteString("CN=")
	for i := 0; i < len(cn); i++ {
		ch := cn[i]
		if ch < 0x20 || ch >= 0x7f {
			fmt.Fprintf(&b, "\\%02X", ch)
			continue
		}
		if strings.IndexByte(`,+"\<>;`, ch) >= 0 || (i == 0 && (ch == '#' || ch == ' ')) || (i == len(cn)-1 && ch == ' ') {
			b.WriteByte('\\')
		}
		b.WriteByte(ch)
	}
	return b.String()
}
