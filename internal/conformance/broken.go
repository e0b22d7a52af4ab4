// Broken lines: lines meant to fail to parse, one writer per kind of error
// (structural, option, unsupported method), as each version rejects them.

package conformance

import (
	"path"
	"strings"

	"github.com/pghba/pghba/hba"
)

// brokenLine writes one line meant to fail to parse. Structural errors
// (before the method) are written byte-identical in both variants; option
// errors go through the ordinary rule writer (the password variant then
// rewrites them, which does not matter: a file with an error is never
// probed).
func (g *gen) brokenLine(f *fileBuilder, dir string, depth int) {
	if g.pct(45) {
		g.badOptionLine(f, dir)
		return
	}
	kinds := g.brokenKinds(dir)
	if g.v16() {
		kinds = append(kinds, g.brokenKinds16(dir)...)
		if depth == 0 && g.pct(20) {
			kinds = append(kinds, func() string {
				g.note("err-include-cycle")
				return "include " + path.Base(f.path)
			})
		}
	} else {
		kinds = append(kinds, func() string {
			g.note("err-token-too-long")
			return "host " + strings.Repeat("d", pick(g.r, 10240, 10241)) + " all 127.0.0.1/32 trust"
		})
	}
	t := kinds[g.r.IntN(len(kinds))]() + g.eol()
	f.emit(t, t)
}

// brokenKinds returns the writers of broken lines every version rejects:
// structural errors in each column, bad quoting and continuation, and bad
// @file references. Each notes the kind it writes.
func (g *gen) brokenKinds(dir string) []func() string {
	return []func() string{
		func() string { g.note("err-multiple-type"); return "host,local all all 127.0.0.1/32 trust" },
		func() string {
			g.note("err-conn-type")
			return pick(g.r, "Host", "hostx", `""`, "locall", `"host "`) + " all all 127.0.0.1/32 trust"
		},
		func() string {
			g.note("err-include-type")
			if g.v16() {
				return pick(g.r, "include a.conf b.conf", `"include" x.conf y.conf`, "include", "include_dir")
			}
			return pick(g.r, "include other.conf", "include_if_exists x.conf", "include_dir d")
		},
		func() string { g.note("err-eol-db"); return pick(g.r, "host", "local   # comment", `"local"`) },
		func() string { g.note("err-eol-role"); return pick(g.r, "host db1", "local all,", "hostssl \"a b\"") },
		func() string { g.note("err-eol-addr"); return pick(g.r, "host all all", "hostnossl db1 +grp # c") },
		func() string {
			g.note("err-multiple-addr")
			return "host all all " + pick(g.r, "1.1.1.1/32,2.2.2.2/32", "127.0.0.1/32,", "all,samehost") + " trust"
		},
		func() string {
			g.note("err-hostname-cidr")
			return "host all all " + pick(g.r, "foo/24", "/24", "300.1.1.1/8", `"all/8"`, "127.0.0.1./32") + " trust"
		},
		func() string {
			g.note("err-cidr")
			return "host all all " + pick(g.r, "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "::1/129", "10.0.0.0/-1", "127.0.0.1/8x", "10.0.0.0/0x8", `"127.0.0.1/ "`) + " trust"
		},
		func() string {
			g.note("err-eol-mask")
			return "host all all " + pick(g.r, "10.0.0.0", "::1", "127.1 # c")
		},
		func() string {
			g.note("err-multiple-mask")
			return "host all all 10.0.0.0 255.0.0.0,255.255.0.0 trust"
		},
		func() string {
			g.note("err-mask")
			return "host all all " + pick(g.r, "10.0.0.0 trust", "127.0.0.1 255.0.0.256 trust", "127.0.0.1 foo trust", "::1 ::g trust")
		},
		func() string {
			g.note("err-mask-family")
			return "host all all " + pick(g.r, "::1 255.255.255.255", "127.0.0.1 ffff::", "127.0.0.1 ::") + " trust"
		},
		func() string {
			g.note("err-eol-method")
			return pick(g.r, "host all all 127.0.0.1/32", "local all all", "host all all 127.0.0.1 255.255.255.255", "host db1, all 127.0.0.1/32 trust")
		},
		func() string { g.note("err-multiple-method"); return "host all all 127.0.0.1/32 trust,reject" },
		func() string {
			g.note("err-method")
			return "host all all 127.0.0.1/32 " + pick(g.r, "TRUST", "foo", "trust\x0b", `"trust "`, "scram", "Md5", "db1 ,db2")
		},
		func() string { g.note("err-method-build"); return g.unsupportedMethod() },
		func() string {
			g.note("err-unterminated-quote")
			return `host "abc def all 127.0.0.1/32 trust`
		},
		func() string {
			g.note("err-continuation")
			return "host all\\" + g.eol() + "all 127.0.0.1/32 trust"
		},
		func() string {
			g.note("err-db-shift")
			return "host db1 ,db2 all 127.0.0.1/32 trust"
		},
		func() string {
			g.note("err-at-missing")
			return pick(g.r, "host @nofile.txt all 127.0.0.1/32 trust", `host all @"no such.txt" 127.0.0.1/32 trust`)
		},
		func() string {
			g.note("err-at-dir")
			d := g.name("adir", "")
			g.dirs = append(g.dirs, path.Join(dir, d))
			return "host @" + d + " all 127.0.0.1/32 trust"
		},
		func() string {
			g.note("err-at-empty")
			p := g.name("empty", ".txt")
			g.plainFile(path.Join(dir, p), pick(g.r, "", "# nothing\n", "  ,\n\n"))
			return "host @" + p + " all 127.0.0.1/32 trust"
		},
	}
}

// brokenKinds16 returns the writers of broken lines that only 16 and later
// reject: bad regular expressions, an @file naming itself, and a missing
// include target.
func (g *gen) brokenKinds16(dir string) []func() string {
	return []func() string{
		func() string {
			g.note("err-regex")
			return pick(g.r, "host /( all 127.0.0.1/32 trust", "host all /a{2,1} 127.0.0.1/32 trust",
				`host "/[z-a]" all 127.0.0.1/32 trust`, "host all /* 127.0.0.1/32 trust", `host all "/a{2,1}" 127.0.0.1/32 trust`)
		},
		func() string {
			g.note("err-at-self")
			p := g.name("self", ".txt")
			g.plainFile(path.Join(dir, p), "a @"+p+"\n")
			return "host @" + p + " all 127.0.0.1/32 trust"
		},
		func() string {
			g.note("err-include-missing")
			if g.pct(30) {
				// include_dir of a file
				p := g.name("plain", ".conf")
				g.plainFile(path.Join(dir, p), "host all all all reject\n")
				return "include_dir " + p
			}
			return pick(g.r, "include nope.conf", `include_dir ""`, "include_dir nodir", "include_dir \" \"")
		},
	}
}

// unsupportedMethod returns a line whose method this build lacks (or that
// cannot be used as written).
func (g *gen) unsupportedMethod() string {
	var ls []string
	ls = append(ls, "host all all 127.0.0.1/32 sspi", "host all all 127.0.0.1/32 bsd")
	if !g.has(hba.FeatureGSSAPI) {
		ls = append(ls, "host all all 127.0.0.1/32 gss")
	} else {
		ls = append(ls, "local all all gss")
	}
	if !g.has(hba.FeatureLDAP) {
		ls = append(ls, "host all all 127.0.0.1/32 ldap ldapserver=x ldapbasedn=dc=x")
	}
	if !g.has(hba.FeaturePAM) {
		ls = append(ls, "local all all pam")
	}
	ls = append(ls, "host all all 127.0.0.1/32 peer", "host all all 127.0.0.1/32 cert", "hostnossl all all ::1/128 cert")
	return pick(g.r, ls...)
}

// badOptionLine writes a rule whose method or options fail (or may fail:
// the server decides, the differential test compares).
func (g *gen) badOptionLine(f *fileBuilder, dir string) {
	type bad struct {
		typ  string
		m    string
		opts []string
		note string
	}
	var bs []bad
	add := func(typ, m, note string, opts ...string) { bs = append(bs, bad{typ, m, opts, note}) }
	add("host", "ident", "err-opt-format", "foo")
	add("host", "trust", "err-opt-method", "map=x")
	add("host", "md5", "err-opt-method", "pamservice=x")
	add("host", "password", "err-opt-method", "ldapserver=x")
	add("host", "trust", "err-opt-method", "krb_realm=x")
	add("host", "reject", "err-opt-method", "radiusservers=127.0.0.1")
	add("local", "peer", "err-opt-method", "include_realm=1")
	add("host", "trust", "err-opt-method", "compat_realm=1")
	add("host", "ident", "err-opt-name", "Map=x")
	add("host", "ident", "err-opt-name", "=x")
	add("host", "trust", "err-opt-name", "foo=bar")
	add("host", "md5", "err-clientcert-nonssl", "clientcert=verify-full")
	add("hostssl", "md5", "err-clientcert-value", "clientcert=yes")
	add("hostssl", "trust", "err-clientcert-value", "clientcert=verify-Full")
	add("hostssl", "radius", "err-radius-missing", "radiusservers=127.0.0.1")
	add("host", "radius", "err-radius-missing", "radiussecrets=x")
	add("host", "radius", "err-radius-count", `radiusservers="127.0.0.1,127.0.0.2"`, `radiussecrets="a,b,c"`)
	add("host", "radius", "err-radius-count", "radiusservers=127.0.0.1", "radiussecrets=a", `radiusports="1,2"`)
	add("host", "radius", "err-radius-format", "radiusservers=127.0.0.1,127.0.0.2", "radiussecrets=a")
	add("host", "radius", "err-radius-ports", "radiusservers=127.0.0.1", "radiussecrets=a", "radiusports=abc")
	add("host", "radius", "err-radius-ports", "radiusservers=127.0.0.1", "radiussecrets=a", `radiusports="1,,2"`)
	add("host", "radius", "err-radius-list", `radiusservers="127.0.0.1,"`, "radiussecrets=a")
	add("host", "radius", "err-radius-list", `radiusservers="""x"`, "radiussecrets=a")
	if g.o.Version == 13 {
		add("hostssl", "cert", "err-cert-no-verify", "clientcert=no-verify")
		add("hostssl", "md5", "err-clientname-13", "clientname=CN")
	} else {
		add("hostssl", "cert", "err-cert-verify-ca", "clientcert=verify-ca")
		add("hostssl", "md5", "err-clientcert-value", "clientcert=1")
		add("host", "md5", "err-clientname-nonssl", "clientname=CN")
		add("hostssl", "md5", "err-clientname-value", "clientname=cn")
	}
	if g.has(hba.FeatureLDAP) {
		add("host", "ldap", "err-ldap-basedn", "ldapserver=x")
		add("host", "ldap", "err-ldap-mix", "ldapserver=x", "ldapprefix=a", "ldapbasedn=b")
		add("host", "ldap", "err-ldap-search", "ldapbasedn=b", "ldapsearchattribute=a", "ldapsearchfilter=f")
		add("host", "ldap", "err-ldap-port", "ldapbasedn=b", "ldapport="+pick(g.r, "abc", "0"))
		add("host", "ldap", "err-ldap-url", "ldapurl="+pick(g.r, "foo", "http://x/dc=y", "ldapi://x/dc=y", "ldap://x/dc=y?a?bogus"))
	}
	if g.o.Version >= 18 {
		add("host", "oauth", "err-oauth", "issuer=https://x", `scope=""`)
		add("host", "oauth", "err-oauth", "issuer=https://x")
		add("host", "trust", "err-opt-method", "issuer=x")
	}
	b := bs[g.r.IntN(len(bs))]
	g.note(b.note)
	g.rule(f, dir, false, b.typ, &methodChoice{method: b.m, opts: b.opts})
}
