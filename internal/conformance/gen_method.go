// Methods and options: a valid authentication method for a connection type
// and the options that go with it, rendered with the quoting PostgreSQL reads.

package conformance

import (
	"strings"

	"github.com/pghba/pghba/hba"
)

type methodChoice struct {
	method string
	opts   []string // name=value
}

// validMethod picks a method and valid options for a rule of type typ.
func (g *gen) validMethod(typ string) methodChoice {
	ssl := typ == "hostssl"
	m := methodChoice{method: pick(g.r, g.methodsFor(typ)...)}
	add := func(o string) { m.opts = append(m.opts, o) }
	switch m.method {
	case "ident", "peer":
		if g.pct(50) {
			add("map=" + pick(g.r, "m", "", "omap"))
		}
	case "gss":
		if g.pct(40) {
			add("include_realm=" + pick(g.r, "0", "1", "true"))
		}
		if g.pct(40) {
			add("krb_realm=EXAMPLE.COM")
		}
		if g.pct(30) {
			add("map=gm")
		}
	case "pam":
		if g.pct(50) {
			add("pamservice=" + pick(g.r, "postgresql", "a b", "x"))
		}
		if g.pct(30) {
			add("pam_use_hostname=1")
		}
	case "ldap":
		g.ldapOptions(add)
	case "radius":
		g.radiusOptions(add)
	case "oauth":
		g.oauthOptions(add)
	case "cert":
		if g.pct(40) {
			add("clientcert=verify-full")
		}
		if g.pct(40) {
			add("map=cm")
		}
	}
	if ssl && m.method != "cert" {
		if g.pct(20) {
			if g.o.Version == 13 {
				add("clientcert=" + pick(g.r, "verify-ca", "verify-full", "1", "0", "no-verify"))
			} else {
				add("clientcert=" + pick(g.r, "verify-ca", "verify-full"))
			}
		}
	}
	if ssl && g.v14() && g.pct(15) {
		add("clientname=" + pick(g.r, "CN", "DN"))
	}
	if g.pct(5) && len(m.opts) > 0 {
		// repeat the first option: the last one wins
		m.opts = append(m.opts, m.opts[0])
	}
	return m
}

// methodsFor lists the methods a rule of type typ may get, with the weights
// of their repetitions, as far as the server's features allow.
func (g *gen) methodsFor(typ string) []string {
	local := typ == "local"
	var ms []string
	ms = append(ms, "trust", "reject", "reject", "md5", "password", "scram-sha-256", "radius")
	if local {
		ms = append(ms, "peer", "ident")
	} else {
		ms = append(ms, "ident")
		if g.has(hba.FeatureGSSAPI) {
			ms = append(ms, "gss")
		}
	}
	if g.has(hba.FeaturePAM) {
		ms = append(ms, "pam")
	}
	if g.has(hba.FeatureLDAP) {
		ms = append(ms, "ldap")
	}
	if typ == "hostssl" && g.has(hba.FeatureSSL) {
		ms = append(ms, "cert", "cert")
	}
	if g.o.OAuthValidators != "" && g.o.Version >= 18 {
		ms = append(ms, "oauth", "oauth")
	}
	return ms
}

// ldapOptions adds the options of an ldap rule: simple bind, search+bind
// or an ldapurl, and sometimes a port, TLS or scheme (some of them invalid).
func (g *gen) ldapOptions(add func(string)) {
	switch g.r.IntN(3) {
	case 0:
		add("ldapserver=ldap.example.com")
		add(pick(g.r, "ldapprefix=cn=", "ldapsuffix=,dc=example,dc=com"))
	case 1:
		add("ldapserver=ldap.example.com")
		add("ldapbasedn=dc=example,dc=com")
		if g.pct(50) {
			add(pick(g.r, "ldapsearchattribute=uid", "ldapsearchfilter=(uid=$username)"))
		}
		if g.pct(30) {
			add("ldapbinddn=cn=admin,dc=example,dc=com")
			add("ldapbindpasswd=secret")
		}
	case 2:
		add("ldapurl=" + pick(g.r, "ldap://h:389/dc=x?uid?sub", "ldaps://ldap.example.com/dc=example,dc=com??one", "ldap://h/dc=x"))
	}
	if g.pct(20) {
		add("ldapport=" + pick(g.r, "389", "636", "389x", "-1"))
	}
	if g.pct(20) {
		add("ldaptls=" + pick(g.r, "1", "0"))
	}
	if g.pct(15) {
		add("ldapscheme=" + pick(g.r, "ldap", "ldaps", "foo"))
	}
}

// radiusOptions adds the servers (a name when HostNames allows) and the
// secrets of a radius rule, and sometimes ports and identifiers.
func (g *gen) radiusOptions(add func(string)) {
	n := 1 + g.r.IntN(2)
	servers := []string{"127.0.0.1", "::1", "127.0.0.2"}[:n]
	if g.o.HostNames && g.pct(30) {
		servers[0] = pick(g.r, "localhost", "radius.example.com", "RADIUS.example.com", "no.such.host.invalid")
		g.note("radius-name")
	}
	add("radiusservers=" + strings.Join(servers, ","))
	if n == 1 || g.pct(50) {
		// a list element with a blank must be double-quoted inside the value
		add(pick(g.r, "radiussecrets=s3cret", `radiussecrets="""a b"""`, `"radiussecrets=""x y"""`))
	} else {
		add("radiussecrets=a,b")
	}
	if g.pct(30) {
		add("radiusports=1812")
	}
	if g.pct(20) {
		add("radiusidentifiers=pg")
	}
}

// oauthOptions adds the issuer and scope of an oauth rule, and sometimes a
// validator and a map or delegated ident mapping.
func (g *gen) oauthOptions(add func(string)) {
	add("issuer=" + pick(g.r, "https://issuer.example.com", "https://x/.well-known/openid-configuration"))
	add("scope=" + pick(g.r, "openid", `"openid email"`, `""`))
	if g.pct(40) {
		add("validator=" + pick(g.r, g.o.OAuthValidators, g.o.OAuthValidators, "nope"))
	}
	switch g.r.IntN(4) {
	case 0:
		add("map=om")
	case 1:
		add("delegate_ident_mapping=" + pick(g.r, "1", "true", "0"))
	}
}

// renderOptions renders options as fields, sometimes several per field.
func (g *gen) renderOptions(opts []string) string {
	var b strings.Builder
	for i := 0; i < len(opts); i++ {
		b.WriteString(fieldSep(g.r))
		b.WriteString(g.renderOption(opts[i]))
		for i+1 < len(opts) && g.pct(25) {
			i++
			b.WriteString(listSep(g.r))
			b.WriteString(g.renderOption(opts[i]))
		}
	}
	return b.String()
}

// renderOption renders name=value so the lexer reads it back as one token.
// A value that needs quotes (blank, comma) gets them around the value or
// around the whole token.
func (g *gen) renderOption(o string) string {
	if strings.Contains(o, `"`) {
		return o // pre-quoted by the caller
	}
	if allSafe(o) {
		return renderTok(g.r, tok{v: o, q: g.pct(15)})
	}
	name, val, _ := strings.Cut(o, "=")
	if g.pct(50) {
		return name + "=" + quoteRun(val)
	}
	return quoteRun(o)
}
