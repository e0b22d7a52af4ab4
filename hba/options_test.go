package hba

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// testLineFields splits a pg_hba.conf line written in tests into its type,
// method and option tokens. It knows just enough of the real tokeniser for
// the lines below: blanks separate fields, unquoted commas separate tokens,
// double quotes group and "" inside quotes is a quote.
func testLineFields(t *testing.T, line string) (ConnType, string, []string) {
	t.Helper()
	var fields [][]string
	var cur []string
	var tok strings.Builder
	inTok, inQuote := false, false
	endTok := func() {
		if inTok {
			cur = append(cur, tok.String())
			tok.Reset()
			inTok = false
		}
	}
	endField := func() {
		endTok()
		if cur != nil {
			fields = append(fields, cur)
			cur = nil
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuote && c == '"' && i+1 < len(line) && line[i+1] == '"':
			tok.WriteByte('"')
			i++
		case c == '"':
			inQuote = !inQuote
			inTok = true
		case inQuote:
			tok.WriteByte(c)
		case c == ' ' || c == '\t':
			endField()
		case c == ',':
			endTok()
		default:
			tok.WriteByte(c)
			inTok = true
		}
	}
	endField()
	typ := parseConnType(fields[0][0])
	if typ == 0 {
		t.Fatalf("bad type in test line %q", line)
	}
	i := 3
	if typ != Local {
		i = 4
	}
	var opts []string
	for _, f := range fields[i+1:] {
		opts = append(opts, f...)
	}
	return typ, fields[i][0], opts
}

// fakeResolver answers LookupNetIP from a map; other names are not found.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

func (f fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	if host == "timeout.example" {
		return nil, &net.DNSError{Err: "timeout", Name: host, IsTimeout: true}
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

type authWant struct {
	method  Method   // on success
	view    []string // on success; nil = NULL
	err     string   // Msg of the error; "" = success
	log     string   // Log of the error
	logOnly bool
	cat     error // category; default ErrOption for errors
}

type authCase struct {
	id    string // vector id or a short name
	vers  string // "all", "13", "14+", "13-17", "18", "13-16" …
	minor int
	setup func(*Parser)
	warn  string // r.Warning before parsing
	line  string
	want  authWant
}

func runAuthCases(t *testing.T, cases []authCase) {
	t.Helper()
	for _, tc := range cases {
		for _, v := range versions(tc.vers) {
			name := tc.id + "/v" + itoa(v)
			if tc.minor != 0 {
				name += "." + itoa(tc.minor)
			}
			t.Run(name, func(t *testing.T) {
				p := &Parser{Version: v, Minor: tc.minor}
				if tc.setup != nil {
					tc.setup(p)
				}
				typ, method, opts := testLineFields(t, tc.line)
				r := &Rule{typ: typ, warn: warningCode(t, tc.warn)}
				err := p.parseAuth(r, method, opts)
				checkAuth(t, r, err, tc.want)
			})
		}
	}
}

func checkAuth(t *testing.T, r *Rule, err *Error, want authWant) {
	t.Helper()
	if want.err == "" {
		if err != nil {
			t.Fatalf("parseAuth failed: %q (log-only %v)", err.Msg, err.LogOnly)
		}
		if want.method != 0 && r.Method() != want.method {
			t.Errorf("method = %v, want %v", r.Method(), want.method)
		}
		if !reflect.DeepEqual(r.ViewOptions(), want.view) {
			t.Errorf("view options = %q, want %q", r.ViewOptions(), want.view)
		}
		return
	}
	if err == nil {
		t.Fatalf("parseAuth succeeded (view %q), want error %q", r.ViewOptions(), want.err)
	}
	if err.Msg != want.err {
		t.Errorf("Msg = %q, want %q", err.Msg, want.err)
	}
	if err.Log != want.log {
		t.Errorf("Log = %q, want %q", err.Log, want.log)
	}
	if err.LogOnly != want.logOnly {
		t.Errorf("LogOnly = %v, want %v", err.LogOnly, want.logOnly)
	}
	cat := want.cat
	if cat == nil {
		cat = ErrOption
	}
	if !errors.Is(err, cat) {
		t.Errorf("category = %v, want %v", err.Err, cat)
	}
	if err.Pos.IsValid() {
		t.Errorf("Pos = %v, want unset", err.Pos)
	}
}

func ok(m Method, view ...string) authWant { return authWant{method: m, view: view} }
func fails(msg string) authWant            { return authWant{err: msg} }
func failsMethod(msg string) authWant      { return authWant{err: msg, cat: ErrMethod} }
func failsLogOnly(msg string) authWant     { return authWant{err: msg, logOnly: true} }

func noGSS(p *Parser)    { p.Features = FeatureSSL | FeatureLDAP | FeaturePAM }
func oauthV(p *Parser)   { p.OAuthValidatorLibraries = "v" }
func dbUserNS(p *Parser) { p.DBUserNamespace = true }

const h = "host all all 127.0.0.1/32 "

// TestParseAuthVectors covers the method and option rows of SEMANTICS §10.7.
func TestParseAuthVectors(t *testing.T) {
	runAuthCases(t, []authCase{
		{id: "M01", line: "local all all ident", want: ok(Peer)},
		{id: "M02", line: h + "peer", want: failsMethod("peer authentication is only supported on local sockets")},
		{id: "M03", line: "local all all gss", want: failsMethod("gssapi authentication is not supported on local sockets")},
		{id: "M04", setup: noGSS, line: h + "gss", want: failsMethod(`invalid authentication method "gss": not supported by this build`)},
		{id: "M05", line: h + "cert", want: failsMethod("cert authentication is only supported on hostssl connections")},
		{id: "M06", vers: "14+", line: "hostssl all all 127.0.0.1/32 cert clientcert=verify-ca", want: authWant{
			err: `clientcert can only be set to "verify-full" when using "cert" authentication`,
			log: `clientcert only accepts "verify-full" when using "cert" authentication`}},
		{id: "M07", vers: "13", line: "hostssl all all 127.0.0.1/32 cert clientcert=verify-ca", want: ok(Cert, "clientcert=verify-full")},
		{id: "M07-13.5", vers: "13", minor: 5, line: "hostssl all all 127.0.0.1/32 cert clientcert=verify-ca", want: ok(Cert, "clientcert=verify-ca")},
		{id: "M07-13.6", vers: "13", minor: 6, line: "hostssl all all 127.0.0.1/32 cert", want: ok(Cert, "clientcert=verify-full")},
		{id: "M08", vers: "14+", warn: "hostssl record cannot match because SSL is disabled", line: "hostssl all all 127.0.0.1/32 password clientcert=1",
			want: failsLogOnly(`invalid value for clientcert: "1"`)},
		{id: "M09", vers: "13", line: "hostssl all all 0.0.0.0/0 md5 clientcert=1", want: ok(MD5, "clientcert=verify-ca")},
		{id: "M10", line: h + "md5 clientcert=verify-full", want: fails(`clientcert can only be configured for "hostssl" rows`)},
		{id: "M11", vers: "14+", line: "hostssl all all 127.0.0.1/32 md5 clientname=cn", want: failsLogOnly(`invalid value for clientname: "cn"`)},
		{id: "M12", vers: "13", line: "hostssl all all 0.0.0.0/0 cert clientname=DN", want: fails(`unrecognized authentication option name: "clientname"`)},
		{id: "M13", vers: "13-17", line: h + "trust map=x", want: fails(`authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, and cert`)},
		{id: "M13", vers: "18", line: h + "trust map=x", want: fails(`authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, cert, and oauth`)},
		{id: "M14", line: h + "ident map=x,map=y", want: ok(Ident, "map=y")},
		{id: "M15", line: h + "gss include_realm=true krb_realm=A", want: ok(GSS, "krb_realm=A")},
		{id: "M16", line: h + "gss map=", want: ok(GSS, "include_realm=true", "map=")},
		{id: "M17", line: h + "ident foo", want: fails("authentication option not in name=value format: foo")},
		{id: "M18", line: h + "ident Map=x", want: fails(`unrecognized authentication option name: "Map"`)},
		{id: "M18b", line: h + "ident =x", want: fails(`unrecognized authentication option name: ""`)},
		{id: "M20", line: h + "ldap ldapserver=x", want: fails(`authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set`)},
		{id: "M21", vers: "13-17", line: h + "ldap ldapserver=x ldapprefix=a ldapbasedn=b",
			want: fails("cannot use ldapbasedn, ldapbinddn, ldapbindpasswd, ldapsearchattribute, ldapsearchfilter, or ldapurl together with ldapprefix")},
		{id: "M21", vers: "18", line: h + "ldap ldapserver=x ldapprefix=a ldapbasedn=b", want: fails("cannot mix options for simple bind and search+bind modes")},
		{id: "M22", line: h + "ldap ldapbasedn=b ldapsearchattribute=a ldapsearchfilter=f", want: fails("cannot use ldapsearchattribute together with ldapsearchfilter")},
		{id: "M23", line: h + "ldap ldapbasedn=b ldapport=abc", want: fails(`invalid LDAP port number: "abc"`)},
		{id: "M24", vers: "18", line: h + "ldap ldapbasedn=b ldapscheme=foo ldaptls=true", want: ok(LDAP, "ldapscheme=foo", "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-15.11", vers: "15", minor: 11, line: h + "ldap ldapbasedn=b ldapscheme=foo ldaptls=true", want: ok(LDAP, "ldapscheme=foo", "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-15.10", vers: "15", minor: 10, line: h + "ldap ldapbasedn=b ldapscheme=foo ldaptls=true", want: ok(LDAP, "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-13.18", vers: "13", minor: 18, line: h + "ldap ldapbasedn=b ldapscheme=foo", want: ok(LDAP, "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-13.19", vers: "13", minor: 19, line: h + "ldap ldapbasedn=b ldapscheme=foo", want: ok(LDAP, "ldapscheme=foo", "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-14.15", vers: "14", minor: 15, line: h + "ldap ldapbasedn=b ldapscheme=ldaps", want: ok(LDAP, "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-14.16", vers: "14", minor: 16, line: h + "ldap ldapbasedn=b ldapscheme=ldaps", want: ok(LDAP, "ldapscheme=ldaps", "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-16.6", vers: "16", minor: 6, line: h + "ldap ldapbasedn=b ldapscheme=ldaps", want: ok(LDAP, "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-16.7", vers: "16", minor: 7, line: h + "ldap ldapbasedn=b ldapscheme=ldaps", want: ok(LDAP, "ldapscheme=ldaps", "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-17.2", vers: "17", minor: 2, line: h + "ldap ldapbasedn=b ldapscheme=ldaps", want: ok(LDAP, "ldapbasedn=b", "ldapscope=2")},
		{id: "M24-17.3", vers: "17", minor: 3, line: h + "ldap ldapbasedn=b ldapscheme=ldaps", want: ok(LDAP, "ldapscheme=ldaps", "ldapbasedn=b", "ldapscope=2")},
		{id: "M25", line: h + `ldap ldapurl="ldap://h:389/dc=x?uid?one" ldapserver=h2`,
			want: ok(LDAP, "ldapserver=h2", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=dc=x", "ldapsearchattribute=uid", "ldapscope=2")},
		{id: "M26", line: h + "radius radiusservers=127.0.0.1", want: fails(`authentication method "radius" requires argument "radiussecrets" to be set`)},
		{id: "M27", line: h + "radius radiusservers=127.0.0.1,127.0.0.2 radiussecrets=a", want: fails("authentication option not in name=value format: 127.0.0.2")},
		{id: "M28", vers: "14+", line: h + `radius radiusservers="127.0.0.1,127.0.0.2" radiussecrets="a,b,c"`,
			want: fails("the number of RADIUS secrets (3) must be 1 or the same as the number of RADIUS servers (2)")},
		{id: "M28", vers: "13", line: h + `radius radiusservers="127.0.0.1,127.0.0.2" radiussecrets="a,b,c"`,
			want: failsLogOnly("the number of RADIUS secrets (3) must be 1 or the same as the number of RADIUS servers (2)")},
		{id: "M29", line: h + "radius radiusservers=127.0.0.1 radiussecrets=a radiusports=abc", want: failsLogOnly(`invalid RADIUS port number: "abc"`)},
		{id: "M30", setup: func(p *Parser) { p.RADIUSResolver = fakeResolver{} }, line: h + "radius radiusservers=no.such.host.invalid radiussecrets=a",
			want: failsLogOnly(`could not translate RADIUS server name "no.such.host.invalid" to address: Name or service not known`)},
		{id: "M30-nil-resolver", line: h + "radius radiusservers=no.such.host.invalid radiussecrets=a",
			want: ok(RADIUS, "radiusservers=no.such.host.invalid", "radiussecrets=a")},
		{id: "M31", line: h + `pam pamservice="a b" pam_use_hostname=1`, want: ok(PAM, "pamservice=a b")},
		{id: "M32", vers: "18", setup: oauthV, line: h + `oauth issuer=https://x scope=""`, want: ok(OAuth, "issuer=https://x", "scope=", "validator=v")},
		{id: "M33", vers: "18", setup: oauthV, line: h + "oauth issuer=https://x", want: fails(`authentication method "oauth" requires argument "scope" to be set`)},
		{id: "M33b", vers: "18", setup: oauthV, line: h + "oauth scope=a", want: fails(`authentication method "oauth" requires argument "issuer" to be set`)},
		{id: "M33c", vers: "18", setup: oauthV, line: h + "oauth", want: fails(`authentication method "oauth" requires argument "scope" to be set`)},
		{id: "M34", vers: "18", setup: oauthV, line: h + "oauth issuer=i scope=s validator=w", want: fails(`validator "w" is not permitted by oauth_validator_libraries`)},
		{id: "M35", vers: "18", setup: oauthV, line: h + "oauth issuer=i scope=s map=m delegate_ident_mapping=1", want: fails("map cannot be used in combination with delegate_ident_mapping")},
		{id: "M36", vers: "18", setup: oauthV, line: h + "oauth issuer=i scope=s delegate_ident_mapping=true", want: ok(OAuth, "issuer=i", "scope=s", "validator=v")},
		{id: "M37", vers: "18", line: h + "trust issuer=x", want: fails(`authentication option "issuer" is only valid for authentication methods oauth`)},
		{id: "M37-pre18", vers: "13-17", line: h + "trust issuer=x", want: fails(`unrecognized authentication option name: "issuer"`)},
		{id: "M38", vers: "18", setup: oauthV, line: `local all all oauth issuer=i scope="openid x" map=m`, want: ok(OAuth, "map=m", "issuer=i", "scope=openid x", "validator=v")},
		{id: "M39", vers: "13-16", setup: dbUserNS, line: "host all all 0.0.0.0/0 md5",
			want: failsMethod(`MD5 authentication is not supported when "db_user_namespace" is enabled`)},
		{id: "M39-17+", vers: "17+", setup: dbUserNS, line: "host all all 0.0.0.0/0 md5", want: ok(MD5)},
		{id: "M40", vers: "13", minor: 1, line: "hostgssenc all all 0.0.0.0/0 md5", want: failsMethod("GSSAPI encryption only supports gss, trust, or reject authentication")},
		{id: "M40-gss", vers: "13", minor: 1, line: "hostgssenc all all 0.0.0.0/0 gss", want: ok(GSS, "include_realm=true")},
		{id: "M40-trust", vers: "13", minor: 1, line: "hostgssenc all all 0.0.0.0/0 trust", want: ok(Trust)},
		{id: "M41", vers: "14+", line: "hostgssenc all all 0.0.0.0/0 md5", want: ok(MD5)},
		{id: "M41-13", vers: "13", line: "hostgssenc all all 0.0.0.0/0 md5", want: ok(MD5)},
	})
}

// TestParseAuthMethods covers the METHOD column errors of SEMANTICS §8.1.
func TestParseAuthMethods(t *testing.T) {
	none := func(p *Parser) { p.Features = NoFeatures }
	all := func(p *Parser) { p.Features = AllFeatures }
	cases := []authCase{
		{id: "unknown", line: h + "Trust", want: failsMethod(`invalid authentication method "Trust"`)},
		{id: "unknown-empty", line: h + `""`, want: failsMethod(`invalid authentication method ""`)},
		{id: "oauth-pre18", vers: "13-17", line: h + "oauth", want: failsMethod(`invalid authentication method "oauth"`)},
		{id: "sspi-linux", line: h + "sspi", want: failsMethod(`invalid authentication method "sspi": not supported by this build`)},
		{id: "bsd-linux", line: h + "bsd", want: failsMethod(`invalid authentication method "bsd": not supported by this build`)},
		{id: "sspi-windows", setup: all, line: h + "sspi", want: ok(SSPI, "include_realm=true")},
		{id: "bsd-openbsd", setup: all, line: h + "bsd", want: ok(BSD)},
		{id: "pam-none", setup: none, line: h + "pam", want: failsMethod(`invalid authentication method "pam": not supported by this build`)},
		{id: "ldap-none", setup: none, line: h + "ldap ldapbasedn=x", want: failsMethod(`invalid authentication method "ldap": not supported by this build`)},
		{id: "cert-none", setup: none, line: "hostssl all all 0.0.0.0/0 cert", want: failsMethod(`invalid authentication method "cert": not supported by this build`)},
		{id: "gss-none-local", setup: none, line: "local all all gss", want: failsMethod(`invalid authentication method "gss": not supported by this build`)},
		{id: "radius-none", setup: none, line: h + "radius radiusservers=a radiussecrets=b", want: ok(RADIUS, "radiusservers=a", "radiussecrets=b")},
		{id: "host-ident", line: h + "ident", want: ok(Ident)},
		{id: "local-peer", line: "local all all peer", want: ok(Peer)},
		{id: "local-md5", line: "local all all md5", want: ok(MD5)},
		{id: "local-radius", line: "local all all radius radiusservers=a radiussecrets=b", want: ok(RADIUS, "radiusservers=a", "radiussecrets=b")},
		{id: "hostnossl-cert", line: "hostnossl all all 0.0.0.0/0 cert", want: failsMethod("cert authentication is only supported on hostssl connections")},
		{id: "local-cert", line: "local all all cert", want: failsMethod("cert authentication is only supported on hostssl connections")},
		{id: "local-ident-map", line: "local all all ident map=m", want: ok(Peer, "map=m")},
		{id: "hostgssenc-gss-check-first", vers: "13", minor: 1, line: "hostgssenc all all 0.0.0.0/0 peer", want: failsMethod("GSSAPI encryption only supports gss, trust, or reject authentication")},
		{id: "db-user-ns-scram", vers: "13-16", setup: dbUserNS, line: h + "scram-sha-256", want: ok(ScramSHA256)},
		{id: "db-user-ns-unknown-first", vers: "13-16", setup: dbUserNS, line: h + "md6", want: failsMethod(`invalid authentication method "md6"`)},
	}
	for _, m := range []string{"trust", "reject", "md5", "password", "scram-sha-256"} {
		cases = append(cases, authCase{id: "plain-" + m, line: h + m, want: ok(parseMethod(m))})
	}
	runAuthCases(t, cases)
}

// TestParseAuthOptions covers the option table of SEMANTICS §4.7.2 and the
// completeness checks of §4.7.3.
func TestParseAuthOptions(t *testing.T) {
	ssl := "hostssl all all 0.0.0.0/0 "
	runAuthCases(t, []authCase{
		// Wrong-method texts, one per option.
		{id: "map-md5", vers: "13-17", line: h + "md5 map=a", want: fails(`authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, and cert`)},
		{id: "pamservice", line: h + "ldap pamservice=x", want: fails(`authentication option "pamservice" is only valid for authentication methods pam`)},
		{id: "pam_use_hostname", line: h + "md5 pam_use_hostname=1", want: fails(`authentication option "pam_use_hostname" is only valid for authentication methods pam`)},
		{id: "ldapurl", line: h + "md5 ldapurl=ldap://x", want: fails(`authentication option "ldapurl" is only valid for authentication methods ldap`)},
		{id: "ldaptls", line: h + "md5 ldaptls=1", want: fails(`authentication option "ldaptls" is only valid for authentication methods ldap`)},
		{id: "ldapscheme", line: h + "md5 ldapscheme=ldap", want: fails(`authentication option "ldapscheme" is only valid for authentication methods ldap`)},
		{id: "ldapserver", line: h + "md5 ldapserver=a", want: fails(`authentication option "ldapserver" is only valid for authentication methods ldap`)},
		{id: "ldapport", line: h + "md5 ldapport=0", want: fails(`authentication option "ldapport" is only valid for authentication methods ldap`)},
		{id: "ldapbinddn", line: h + "md5 ldapbinddn=a", want: fails(`authentication option "ldapbinddn" is only valid for authentication methods ldap`)},
		{id: "ldapbindpasswd", line: h + "md5 ldapbindpasswd=a", want: fails(`authentication option "ldapbindpasswd" is only valid for authentication methods ldap`)},
		{id: "ldapsearchattribute", line: h + "md5 ldapsearchattribute=a", want: fails(`authentication option "ldapsearchattribute" is only valid for authentication methods ldap`)},
		{id: "ldapsearchfilter", line: h + "md5 ldapsearchfilter=a", want: fails(`authentication option "ldapsearchfilter" is only valid for authentication methods ldap`)},
		{id: "ldapbasedn", line: h + "md5 ldapbasedn=a", want: fails(`authentication option "ldapbasedn" is only valid for authentication methods ldap`)},
		{id: "ldapprefix", line: h + "md5 ldapprefix=a", want: fails(`authentication option "ldapprefix" is only valid for authentication methods ldap`)},
		{id: "ldapsuffix", line: h + "md5 ldapsuffix=a", want: fails(`authentication option "ldapsuffix" is only valid for authentication methods ldap`)},
		{id: "krb_realm", line: h + "trust krb_realm=", want: fails(`authentication option "krb_realm" is only valid for authentication methods gssapi and sspi`)},
		{id: "include_realm", line: h + "ident include_realm=1", want: fails(`authentication option "include_realm" is only valid for authentication methods gssapi and sspi`)},
		{id: "compat_realm", line: h + "password compat_realm=1", want: fails(`authentication option "compat_realm" is only valid for authentication methods sspi`)},
		{id: "upn_username", line: h + "gss upn_username=1", want: fails(`authentication option "upn_username" is only valid for authentication methods sspi`)},
		{id: "radiusservers", line: h + "md5 radiusservers=a", want: fails(`authentication option "radiusservers" is only valid for authentication methods radius`)},
		{id: "radiussecrets", line: h + "md5 radiussecrets=a", want: fails(`authentication option "radiussecrets" is only valid for authentication methods radius`)},
		{id: "radiusports", line: h + "md5 radiusports=a", want: fails(`authentication option "radiusports" is only valid for authentication methods radius`)},
		{id: "radiusidentifiers", line: h + "md5 radiusidentifiers=a", want: fails(`authentication option "radiusidentifiers" is only valid for authentication methods radius`)},
		{id: "scope", vers: "18", line: h + "md5 scope=a", want: fails(`authentication option "scope" is only valid for authentication methods oauth`)},
		{id: "validator", vers: "18", line: h + "md5 validator=a", want: fails(`authentication option "validator" is only valid for authentication methods oauth`)},
		{id: "delegate_ident_mapping", vers: "18", line: h + "md5 delegate_ident_mapping=1", want: fails(`authentication option "delegate_ident_mapping" is only valid for authentication methods oauth`)},
		{id: "first-failing-option-wins", line: h + "md5 bogus=1 map=a", want: fails(`unrecognized authentication option name: "bogus"`)},
		{id: "value-with-equals", line: h + "ident map=a=b", want: ok(Ident, "map=a=b")},

		// GSS / SSPI
		{id: "gss-defaults", line: h + "gss", want: ok(GSS, "include_realm=true")},
		{id: "gss-realm-empty", line: h + "gss krb_realm= include_realm=0 map=a", want: ok(GSS, "krb_realm=", "map=a")},
		{id: "gss-include-realm-1", line: h + "gss include_realm=0 include_realm=1", want: ok(GSS, "include_realm=true")},
		{id: "sspi-hidden-booleans", setup: func(p *Parser) { p.Features = AllFeatures }, line: h + "sspi compat_realm=0 upn_username=1 krb_realm=R", want: ok(SSPI, "include_realm=true", "krb_realm=R")},

		// clientcert / clientname
		{id: "clientcert-verify-full", line: ssl + "md5 clientcert=verify-full", want: ok(MD5, "clientcert=verify-full")},
		{id: "clientcert-verify-ca", line: ssl + "md5 clientcert=verify-ca", want: ok(MD5, "clientcert=verify-ca")},
		{id: "clientcert-last-wins", line: ssl + "md5 clientcert=verify-full clientcert=verify-ca", want: ok(MD5, "clientcert=verify-ca")},
		{id: "clientcert-bad", line: ssl + "md5 clientcert=x", want: failsLogOnly(`invalid value for clientcert: "x"`)},
		{id: "clientcert-hostnossl", line: "hostnossl all all 0.0.0.0/0 md5 clientcert=x", want: fails(`clientcert can only be configured for "hostssl" rows`)},
		{id: "clientcert-local", line: "local all all md5 clientcert=verify-ca", want: fails(`clientcert can only be configured for "hostssl" rows`)},
		{id: "clientcert-13-no-verify", vers: "13", line: ssl + "md5 clientcert=verify-ca clientcert=no-verify", want: ok(MD5)},
		{id: "clientcert-13-0", vers: "13", line: ssl + "md5 clientcert=0", want: ok(MD5)},
		{id: "clientcert-13-cert-no-verify", vers: "13", line: ssl + "cert clientcert=no-verify", want: fails(`clientcert cannot be set to "no-verify" when using "cert" authentication`)},
		{id: "clientcert-13-cert-0", vers: "13", line: ssl + "cert clientcert=0", want: fails(`clientcert cannot be set to "no-verify" when using "cert" authentication`)},
		{id: "clientcert-14-0", vers: "14+", line: ssl + "md5 clientcert=0", want: failsLogOnly(`invalid value for clientcert: "0"`)},
		{id: "clientcert-14-no-verify", vers: "14+", line: ssl + "md5 clientcert=no-verify", want: failsLogOnly(`invalid value for clientcert: "no-verify"`)},
		{id: "cert-verify-full", line: ssl + "cert clientcert=verify-full map=x", want: ok(Cert, "map=x", "clientcert=verify-full")},
		{id: "clientname-DN-hidden", vers: "14+", line: ssl + "cert clientname=DN", want: ok(Cert, "clientcert=verify-full")},
		{id: "clientname-CN", vers: "14+", line: ssl + "md5 clientname=CN", want: ok(MD5)},
		{id: "clientname-host", vers: "14+", line: h + "md5 clientname=DN", want: fails(`clientname can only be configured for "hostssl" rows`)},
		{id: "clientname-hostnossl-bad", vers: "14+", line: "hostnossl all all 0.0.0.0/0 md5 clientname=x", want: fails(`clientname can only be configured for "hostssl" rows`)},

		// PAM
		{id: "pam-empty-service", line: h + "pam pamservice=", want: ok(PAM, "pamservice=")},
		{id: "pam-no-options", line: h + "pam pam_use_hostname=1", want: ok(PAM)},

		// LDAP
		{id: "ldap-port-atoi", line: h + `ldap ldapbasedn=b ldapport=" 12x"`, want: ok(LDAP, "ldapport=12", "ldapbasedn=b", "ldapscope=2")},
		{id: "ldap-port-389x", line: h + "ldap ldapbasedn=b ldapport=389x", want: ok(LDAP, "ldapport=389", "ldapbasedn=b", "ldapscope=2")},
		{id: "ldap-port-negative", line: h + "ldap ldapbasedn=b ldapport=-1", want: ok(LDAP, "ldapport=-1", "ldapbasedn=b", "ldapscope=2")},
		{id: "ldap-port-overflow", line: h + "ldap ldapbasedn=b ldapport=99999999999999999999", want: ok(LDAP, "ldapport=-1", "ldapbasedn=b", "ldapscope=2")},
		{id: "ldap-port-wraps-to-0", line: h + "ldap ldapbasedn=b ldapport=4294967296", want: fails(`invalid LDAP port number: "4294967296"`)},
		{id: "ldap-port-empty", line: h + "ldap ldapbasedn=b ldapport=", want: fails(`invalid LDAP port number: ""`)},
		{id: "ldap-everything", vers: "18", line: h + `ldap ldapbasedn=b ldaptls=1 ldapscheme=ldaps ldapbinddn="cn=a, dc=b" ldapbindpasswd=p ldapsearchfilter=f ldapserver=s ldapport=1`,
			want: ok(LDAP, "ldapserver=s", "ldapport=1", "ldapscheme=ldaps", "ldaptls=true", "ldapbasedn=b", "ldapbinddn=cn=a, dc=b", "ldapbindpasswd=p", "ldapsearchfilter=f", "ldapscope=2")},
		{id: "ldap-prefix-only", line: h + "ldap ldapserver=s ldapprefix=uid= ldapsuffix=\",dc=x\"", want: ok(LDAP, "ldapserver=s", "ldapprefix=uid=", "ldapsuffix=,dc=x", "ldapscope=2")},
		{id: "ldap-suffix-empty", line: h + `ldap ldapsuffix=""`, want: ok(LDAP, "ldapsuffix=", "ldapscope=2")},
		{id: "ldap-empty-basedn", line: h + `ldap ldapbasedn=""`, want: ok(LDAP, "ldapbasedn=", "ldapscope=2")},
		{id: "ldap-prefix-bindpasswd", vers: "13-17", line: h + "ldap ldapsuffix=s ldapbindpasswd=p",
			want: fails("cannot use ldapbasedn, ldapbinddn, ldapbindpasswd, ldapsearchattribute, ldapsearchfilter, or ldapurl together with ldapprefix")},
		{id: "ldap-tls-not-1", line: h + "ldap ldapbasedn=b ldaptls=true", want: ok(LDAP, "ldapbasedn=b", "ldapscope=2")},

		// ldapurl
		{id: "ldapurl-last", vers: "18", line: h + `ldap ldapurl="ldaps://h/x?cn?one"`,
			want: ok(LDAP, "ldapserver=h", "ldapport=636", "ldapscheme=ldaps", "ldapbasedn=x", "ldapsearchattribute=cn", "ldapscope=1")},
		{id: "ldapurl-base-scope-hidden", vers: "18", line: h + `ldap ldapurl="ldap://x/dc=a"`, want: ok(LDAP, "ldapserver=x", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=dc=a")},
		{id: "ldapurl-upper-scheme", vers: "18", line: h + `ldap ldapurl="LDAP://x/dc=a"`, want: ok(LDAP, "ldapserver=x", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=dc=a")},
		{id: "ldapurl-no-host", vers: "18", line: h + `ldap ldapurl="ldap:///"`, want: ok(LDAP, "ldapport=389", "ldapscheme=ldap", "ldapbasedn=")},
		{id: "ldapurl-no-path", line: h + `ldap ldapurl="ldap://x"`,
			want: fails(`authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set`)},
		{id: "ldapurl-bad-escape", vers: "18", line: h + `ldap ldapurl="ldap://x/%zz"`, want: ok(LDAP, "ldapserver=x", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=")},
		{id: "ldapurl-enclosed-v6", vers: "18", line: h + `ldap ldapurl="<URL:ldap://[::1]:0/o?a,b?one>"`,
			want: ok(LDAP, "ldapserver=::1", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=o", "ldapsearchattribute=a", "ldapscope=1")},
		{id: "ldapurl-question-in-host", vers: "18", line: h + `ldap ldapurl="ldap://h?x/y"`, want: ok(LDAP, "ldapserver=h?x", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=y")},
		{id: "ldapurl-v6-junk", vers: "18", line: h + `ldap ldapurl="ldap://[::1]x/y"`, want: ok(LDAP, "ldapserver=::1", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=y")},
		{id: "ldapurl-port-wraps", vers: "18", line: h + `ldap ldapurl="ldap://h:99999999999/y"`, want: ok(LDAP, "ldapserver=h", "ldapport=1215752191", "ldapscheme=ldap", "ldapbasedn=y")},
		{id: "ldapurl-port-blank", vers: "18", line: h + `ldap ldapurl="ldap://h: 12/y"`, want: ok(LDAP, "ldapserver=h", "ldapport=12", "ldapscheme=ldap", "ldapbasedn=y")},
		// An option the URL sets again shows the URL's value; one it does
		// not set keeps the token's (the view reuses the token's text).
		{id: "ldapurl-overrides", vers: "18", line: h + `ldap ldapscheme=ldap ldapserver=a ldapbasedn=dc=a ldapsearchattribute=a ldapurl="ldaps://h/x?cn?one"`,
			want: ok(LDAP, "ldapserver=h", "ldapport=636", "ldapscheme=ldaps", "ldapbasedn=x", "ldapsearchattribute=cn", "ldapscope=1")},
		{id: "ldapurl-overrides-filter", vers: "18", line: h + `ldap ldapsearchfilter=(a) ldapurl="ldap://h/x??sub?(b)"`,
			want: ok(LDAP, "ldapserver=h", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=x", "ldapsearchfilter=(b)", "ldapscope=2")},
		{id: "ldapurl-keeps", vers: "18", line: h + `ldap ldapserver=a ldapsearchattribute=a ldapurl="ldap:///x"`,
			want: ok(LDAP, "ldapserver=a", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=x", "ldapsearchattribute=a")},
		{id: "last-token-wins", line: h + `ident map=a map=b`, want: ok(Ident, "map=b")},
		{id: "ldapurl-then-basedn", vers: "18", line: h + `ldap ldapurl="ldaps://h/x" ldapbasedn=""`, want: ok(LDAP, "ldapserver=h", "ldapport=636", "ldapscheme=ldaps", "ldapbasedn=", "ldapscope=2")},
		{id: "ldapurl-prefix-no-dn", vers: "18", line: h + `ldap ldapprefix="" ldapurl="ldap://h"`, want: ok(LDAP, "ldapserver=h", "ldapport=389", "ldapscheme=ldap", "ldapprefix=")},
		{id: "ldapurl-prefix-empty-dn", vers: "13-17", line: h + `ldap ldapsuffix="" ldapurl="ldap://h/"`,
			want: fails("cannot use ldapbasedn, ldapbinddn, ldapbindpasswd, ldapsearchattribute, ldapsearchfilter, or ldapurl together with ldapprefix")},
		{id: "ldapurl-attr-and-filter", line: h + `ldap ldapurl="ldaps://x/dc=a?cn?sub?(x=1)"`, want: fails("cannot use ldapsearchattribute together with ldapsearchfilter")},
		{id: "ldapurl-filter", vers: "18", line: h + `ldap ldapurl="ldap://x/dc=a??sub?(x=1)"`,
			want: ok(LDAP, "ldapserver=x", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=dc=a", "ldapsearchfilter=(x=1)", "ldapscope=2")},
		{id: "ldapurl-http", line: h + `ldap ldapurl="http://x/dc=a"`, want: fails(`could not parse LDAP URL "http://x/dc=a": Time limit exceeded`)},
		{id: "ldapurl-ldapi", line: h + `ldap ldapurl="ldapi://x/dc=a"`, want: fails("unsupported LDAP URL scheme: ldapi")},
		{id: "ldapurl-pldap", line: h + `ldap ldapurl="pldap://x/dc=a"`, want: fails("unsupported LDAP URL scheme: pldap")},
		{id: "ldapurl-pldaps", line: h + `ldap ldapurl="pldaps://x/dc=a"`, want: fails("unsupported LDAP URL scheme: pldaps")},
		{id: "ldapurl-bad-scope", line: h + `ldap ldapurl="ldap://x/dc=a?cn?bogus"`, want: fails(`could not parse LDAP URL "ldap://x/dc=a?cn?bogus": Strong(er) authentication required`)},
		{id: "ldapurl-enclosure", line: h + `ldap ldapurl="<ldap://x/dc=a"`, want: fails(`could not parse LDAP URL "<ldap://x/dc=a": Size limit exceeded`)},
		{id: "ldapurl-bad-port", line: h + `ldap ldapurl="ldap://x:abc/dc=a"`, want: fails(`could not parse LDAP URL "ldap://x:abc/dc=a": Compare False`)},
		{id: "ldapurl-empty-port", line: h + `ldap ldapurl="ldap://x:/dc=a"`, want: fails(`could not parse LDAP URL "ldap://x:/dc=a": Compare False`)},
		{id: "ldapurl-v6-unclosed", line: h + `ldap ldapurl="ldap://[::1/dc=a"`, want: fails(`could not parse LDAP URL "ldap://[::1/dc=a": Compare False`)},
		{id: "ldapurl-bad-filter", line: h + `ldap ldapurl="ldap://x/dc=a?cn?sub?%zz"`, want: fails(`could not parse LDAP URL "ldap://x/dc=a?cn?sub?%zz": Partial results and referral received`)},
		{id: "ldapurl-empty-exts", line: h + `ldap ldapurl="ldap://x/dc=a?cn?sub?(a=1)?"`, want: fails(`could not parse LDAP URL "ldap://x/dc=a?cn?sub?(a=1)?": Referral`)},
		{id: "ldapurl-extra-question", line: h + `ldap ldapurl="ldap://x/dc=a?cn?sub?(a=1)?e?f"`, want: fails(`could not parse LDAP URL "ldap://x/dc=a?cn?sub?(a=1)?e?f": Compare False`)},
		// PostgreSQL crashes on these (NULL first attribute); we fail closed.
		{id: "ldapurl-empty-attrs", line: h + `ldap ldapurl="ldaps://h/x?,,?sub"`, want: fails(`could not parse LDAP URL "ldaps://h/x?,,?sub": empty attribute list`)},
		{id: "ldapurl-escaped-empty-attrs", line: h + `ldap ldapurl="ldaps://h/x?%00"`, want: fails(`could not parse LDAP URL "ldaps://h/x?%00": empty attribute list`)},
		{id: "ldapurl-attrs-skip-empty", vers: "18", line: h + `ldap ldapurl="ldaps://h/x?,a,,b?sub"`,
			want: ok(LDAP, "ldapserver=h", "ldapport=636", "ldapscheme=ldaps", "ldapbasedn=x", "ldapsearchattribute=a", "ldapscope=2")},
		{id: "ldapurl-empty", line: h + `ldap ldapurl=""`, want: fails(`could not parse LDAP URL "": Time limit exceeded`)},

		// RADIUS
		{id: "radius-quoted-list", line: h + `radius radiusservers=" 127.0.0.1 , ""127.0.0.2"" " radiussecrets=a`,
			want: ok(RADIUS, `radiusservers= 127.0.0.1 , "127.0.0.2" `, "radiussecrets=a")},
		{id: "radius-all-lists", line: h + `radius radiusservers="127.0.0.1,::1" radiussecrets=a radiusidentifiers=i radiusports="1812, 1813"`,
			want: ok(RADIUS, "radiusservers=127.0.0.1,::1", "radiussecrets=a", "radiusidentifiers=i", "radiusports=1812, 1813")},
		{id: "radius-identifiers-count", vers: "14+", line: h + `radius radiusservers="127.0.0.1,127.1" radiussecrets="a" radiusports="1,2" radiusidentifiers="x,y,z"`,
			want: fails("the number of RADIUS identifiers (3) must be 1 or the same as the number of RADIUS servers (2)")},
		{id: "radius-ports-count", vers: "14+", line: h + `radius radiusservers="a,b" radiussecrets="a" radiusports="1,2,3"`,
			want: fails("the number of RADIUS ports (3) must be 1 or the same as the number of RADIUS servers (2)")},
		{id: "radius-ports-count", vers: "13", line: h + `radius radiusservers="a,b" radiussecrets="a" radiusports="1,2,3"`,
			want: failsLogOnly("the number of RADIUS ports (3) must be 1 or the same as the number of RADIUS servers (2)")},
		{id: "radius-empty-servers", line: h + `radius radiusservers="" radiussecrets=a`, want: fails(`authentication method "radius" requires argument "radiusservers" to be set`)},
		{id: "radius-no-options", line: h + "radius", want: fails(`authentication method "radius" requires argument "radiusservers" to be set`)},
		{id: "radius-ports-syntax", line: h + `radius radiusservers="127.0.0.1" radiussecrets=a radiusports="1,,2"`,
			want: authWant{err: `invalid RADIUS port number: "1,,2"`, log: `could not parse RADIUS port list "1,,2"`}},
		{id: "radius-port-wraps-to-0", line: h + `radius radiusservers="127.0.0.1" radiussecrets=a radiusports="4294967296"`,
			want: failsLogOnly(`invalid RADIUS port number: "4294967296"`)},
		{id: "radius-port-overflow", line: h + `radius radiusservers="127.0.0.1" radiussecrets=a radiusports="99999999999999999999"`,
			want: ok(RADIUS, "radiusservers=127.0.0.1", "radiussecrets=a", "radiusports=99999999999999999999")},
		// glibc's atoi is (int)strtol: 2^63 followed by a digit saturates to
		// LONG_MAX, which is -1 as an int, not 0.
		{id: "radius-port-overflow-wide", line: h + `radius radiusservers="127.0.0.1" radiussecrets=a radiusports="92233720368547758080"`,
			want: ok(RADIUS, "radiusservers=127.0.0.1", "radiussecrets=a", "radiusports=92233720368547758080")},
		{id: "radius-secret-blank", line: h + `radius radiusservers="127.0.0.1" radiussecrets="a b"`, want: failsLogOnly(`could not parse RADIUS secret list "a b"`)},
		{id: "radius-secret-quote", line: h + `radius radiusservers="127.0.0.1" radiussecrets="""x"`, want: failsLogOnly(`could not parse RADIUS secret list ""x"`)},
		{id: "radius-servers-syntax", line: h + `radius radiusservers="a,"`, want: failsLogOnly(`could not parse RADIUS server list "a,"`)},
		{id: "radius-identifiers-syntax", line: h + `radius radiusidentifiers=",a"`, want: failsLogOnly(`could not parse RADIUS identifiers list ",a"`)},
		{id: "radius-resolve-ok", setup: func(p *Parser) {
			p.RADIUSResolver = fakeResolver{"radius.example": {netip.MustParseAddr("192.0.2.1")}}
		}, line: h + `radius radiusservers="radius.example,127.1,0x7f000001,::1" radiussecrets=a`,
			want: ok(RADIUS, "radiusservers=radius.example,127.1,0x7f000001,::1", "radiussecrets=a")},
		// radiusservers names are looked up unless glibc's getaddrinfo reads
		// them as numbers itself (__inet_aton_exact, then IPv6 with a
		// scope). A bare 0x is no number to glibc, so it is looked up.
		{id: "radius-resolve-bare-0x", setup: func(p *Parser) { p.RADIUSResolver = fakeResolver{} },
			line: h + `radius radiusservers=0x radiussecrets=a`,
			want: failsLogOnly(`could not translate RADIUS server name "0x" to address: Name or service not known`)},
		{id: "radius-resolve-hex-empty-part", setup: func(p *Parser) { p.RADIUSResolver = fakeResolver{} },
			line: h + `radius radiusservers="127.0.0.1,1.0x" radiussecrets="a,b"`,
			want: failsLogOnly(`could not translate RADIUS server name "1.0x" to address: Name or service not known`)},
		{id: "radius-resolve-0x-name", setup: func(p *Parser) {
			p.RADIUSResolver = fakeResolver{"0x.1": {netip.MustParseAddr("192.0.2.1")}}
		}, line: h + `radius radiusservers=0x.1 radiussecrets=a`, want: ok(RADIUS, "radiusservers=0x.1", "radiussecrets=a")},
		{id: "radius-resolve-numeric-scope", setup: func(p *Parser) { p.RADIUSResolver = fakeResolver{} },
			line: h + `radius radiusservers="fe80::1%1,2001:db8::2%7" radiussecrets="a,b"`,
			want: ok(RADIUS, "radiusservers=fe80::1%1,2001:db8::2%7", "radiussecrets=a,b")},
		// glibc fails a scope it cannot read without a lookup, so even a
		// resolver that would answer is not asked.
		{id: "radius-resolve-bad-scope", setup: func(p *Parser) {
			p.RADIUSResolver = fakeResolver{"2001:db8::1%bogus": {netip.MustParseAddr("2001:db8::1")}}
		}, line: h + `radius radiusservers=2001:db8::1%bogus radiussecrets=a`,
			want: failsLogOnly(`could not translate RADIUS server name "2001:db8::1%bogus" to address: Name or service not known`)},
		{id: "radius-bare-0x-nil-resolver", line: h + `radius radiusservers=0x radiussecrets=a`, want: ok(RADIUS, "radiusservers=0x", "radiussecrets=a")},
		{id: "radius-resolve-second-fails", setup: func(p *Parser) {
			p.RADIUSResolver = fakeResolver{"radius.example": {netip.MustParseAddr("192.0.2.1")}}
		}, line: h + `radius radiusservers="radius.example,timeout.example" radiussecrets=a`,
			want: failsLogOnly(`could not translate RADIUS server name "timeout.example" to address: Temporary failure in name resolution`)},
		{id: "radius-resolve-empty-name", setup: func(p *Parser) { p.RADIUSResolver = fakeResolver{} }, line: h + `radius radiusservers="""""" radiussecrets=a`,
			want: failsLogOnly(`could not translate RADIUS server name "" to address: Name or service not known`)},

		// OAuth (18)
		{id: "oauth-no-libs", vers: "18", line: h + "oauth issuer=i scope=s", want: fails("oauth_validator_libraries must be set for authentication method oauth")},
		{id: "oauth-libs-syntax", vers: "18", setup: func(p *Parser) { p.OAuthValidatorLibraries = `"a` }, line: h + "oauth issuer=i scope=s",
			want: fails(`invalid list syntax in parameter "oauth_validator_libraries"`)},
		{id: "oauth-libs-several", vers: "18", setup: func(p *Parser) { p.OAuthValidatorLibraries = "a, b" }, line: h + "oauth issuer=i scope=s",
			want: fails(`authentication method "oauth" requires argument "validator" to be set when oauth_validator_libraries contains multiple options`)},
		{id: "oauth-libs-several-chosen", vers: "18", setup: func(p *Parser) { p.OAuthValidatorLibraries = `a, "b c" ` }, line: h + `oauth issuer=i scope=s validator="b c"`,
			want: ok(OAuth, "issuer=i", "scope=s", "validator=b c")},
		{id: "oauth-libs-path", vers: "18", setup: func(p *Parser) { p.OAuthValidatorLibraries = "/lib//x/./v/ " }, line: h + "oauth issuer=i scope=s",
			want: ok(OAuth, "issuer=i", "scope=s", "validator=/lib/x/v")},
		{id: "oauth-libs-validator-not-canonicalized", vers: "18", setup: func(p *Parser) { p.OAuthValidatorLibraries = `a, "b c" , /x//y/./` },
			line: h + "oauth issuer=i scope=s validator=/x//y/", want: fails(`validator "/x//y/" is not permitted by oauth_validator_libraries`)},
		{id: "oauth-libs-validator-canonical", vers: "18", setup: func(p *Parser) { p.OAuthValidatorLibraries = `a, "b c" , /x//y/./` },
			line: h + "oauth issuer=i scope=s validator=/x/y", want: ok(OAuth, "issuer=i", "scope=s", "validator=/x/y")},
		// canonicalize_path leaves an empty path empty.
		{id: "oauth-libs-empty-quoted", vers: "18", setup: func(p *Parser) { p.OAuthValidatorLibraries = `""` },
			line: h + "oauth issuer=i scope=s", want: ok(OAuth, "issuer=i", "scope=s", "validator=")},
		{id: "oauth-libs-dotdot", vers: "18", setup: func(p *Parser) { p.OAuthValidatorLibraries = "/x/../z/" },
			line: h + "oauth issuer=i scope=s", want: ok(OAuth, "issuer=i", "scope=s", "validator=/z")},
		{id: "oauth-clientcert-order", vers: "18", setup: oauthV, line: ssl + "oauth issuer=i scope=s clientcert=verify-full",
			want: ok(OAuth, "clientcert=verify-full", "issuer=i", "scope=s", "validator=v")},
		{id: "oauth-delegate", vers: "18", setup: oauthV, line: h + "oauth issuer=i scope=s delegate_ident_mapping=1", want: ok(OAuth, "issuer=i", "scope=s", "validator=v", "delegate_ident_mapping=true")},
		{id: "oauth-map-empty-delegate", vers: "18", setup: oauthV, line: h + "oauth issuer=i scope=s map= delegate_ident_mapping=1", want: fails("map cannot be used in combination with delegate_ident_mapping")},
	})
}

// TestParseAuthWarning checks what happens to an earlier warning text.
func TestParseAuthWarning(t *testing.T) {
	const warn = "hostssl record cannot match because SSL is disabled"
	for _, tc := range []struct {
		name, line string
		want       string
	}{
		{"kept", "hostssl all all 0.0.0.0/0 md5", warn},
		{"oauth-clears", "hostssl all all 0.0.0.0/0 oauth issuer=i scope=s", ""},
		{"oauth-missing-scope-keeps", "hostssl all all 0.0.0.0/0 oauth issuer=i", warn},
		{"oauth-bad-clientcert-keeps", "hostssl all all 0.0.0.0/0 oauth issuer=i scope=s clientcert=bogus", warn},
		{"oauth-hostgssenc-clears", "hostgssenc all all 0.0.0.0/0 oauth issuer=i scope=s", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Parser{OAuthValidatorLibraries: "v"}
			typ, method, opts := testLineFields(t, tc.line)
			r := &Rule{typ: typ, warn: warningCode(t, warn)}
			p.parseAuth(r, method, opts)
			if r.Warning() != tc.want {
				t.Errorf("Warning = %q, want %q", r.Warning(), tc.want)
			}
		})
	}
}

// TestParseAuthOptionsValues checks the typed options, not only the view.
func TestParseAuthOptionsValues(t *testing.T) {
	p := &Parser{Version: 15, Features: AllFeatures}
	run := func(line string) *Rule {
		t.Helper()
		typ, method, opts := testLineFields(t, line)
		r := &Rule{typ: typ}
		if err := p.parseAuth(r, method, opts); err != nil {
			t.Fatalf("%s: %v", line, err.Msg)
		}
		return r
	}
	r := run(h + `sspi include_realm=0 krb_realm=R map=m`)
	want := AuthOptions{
		Raw:         []Option{{"include_realm", "0"}, {"krb_realm", "R"}, {"map", "m"}},
		Map:         "m",
		KrbRealm:    "R",
		CompatRealm: true,
	}
	got := *r.Options()
	got.view = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sspi options = %+v, want %+v", r.Options(), want)
	}
	r = run(h + `radius radiusservers="a, b" radiussecrets=s radiusports=1812 radiusidentifiers=""`)
	if got := r.Options().RADIUSServers; !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("RADIUSServers = %q", got)
	}
	if got := r.Options().RADIUSIdentifiers; got != nil {
		t.Errorf("RADIUSIdentifiers = %q, want none", got)
	}
	if r.Options().RADIUSServersText != "a, b" || r.Options().RADIUSPorts[0] != "1812" {
		t.Errorf("RADIUS texts = %+v", r.Options())
	}
	r = run(h + `ldap ldapurl="ldaps://h:1636/dc=x??one?(o=1)"`)
	o := r.Options()
	if o.LDAPScheme != "ldaps" || o.LDAPServer != "h" || o.LDAPPort != 1636 || o.LDAPBaseDN != "dc=x" ||
		o.LDAPSearchAttribute != "" || o.LDAPScope != 1 || o.LDAPSearchFilter != "(o=1)" {
		t.Errorf("ldapurl options = %+v", o)
	}
}

// End-to-end checks of the §10.7 vectors through the whole parser.

// mvec is one §10.7 vector run through ParseBytes and LoadBytes. line is the
// line the expectations are about (default 1).
type mvec struct {
	vers  string
	minor int
	setup func(*Parser)
	conf  string
	line  int
	// fails: the file must not load. viewErr is the error column of the line
	// ("" = NULL), logErr the server-log text ("" = same as viewErr).
	fails           bool
	viewErr, logErr string
	// On success: the auth_method and options columns of the line.
	method string
	opts   []string
}

func runMVec(t *testing.T, v mvec) {
	t.Helper()
	for _, ver := range versions(v.vers) {
		name := "v" + itoa(ver)
		if v.minor != 0 {
			name += "." + itoa(v.minor)
		}
		t.Run(name, func(t *testing.T) {
			p := &Parser{Version: ver, Minor: v.minor}
			if v.setup != nil {
				v.setup(p)
			}
			lineNo := v.line
			if lineNo == 0 {
				lineNo = 1
			}
			f := p.ParseBytes("pg_hba.conf", []byte(v.conf))
			var ln *Line
			for _, l := range f.Lines {
				if l.Pos.Line == lineNo {
					ln = l
				}
			}
			if ln == nil {
				t.Fatalf("no line %d in %q", lineNo, v.conf)
			}
			rs, err := p.LoadBytes("pg_hba.conf", []byte(v.conf))
			if v.fails {
				if err == nil || rs != nil {
					t.Fatalf("LoadBytes loaded, want failure")
				}
				if ln.Err == nil {
					t.Fatalf("line %d has no error", lineNo)
				}
				if ln.Rule != nil {
					t.Errorf("failed line %d has a rule", lineNo)
				}
				if got := ln.Err.viewText(); got != v.viewErr {
					t.Errorf("view error = %q, want %q", got, v.viewErr)
				}
				wantLog := v.logErr
				if wantLog == "" {
					wantLog = v.viewErr
				}
				if got := ln.Err.LogText(); got != wantLog {
					t.Errorf("log text = %q, want %q", got, wantLog)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadBytes: %v", err)
			}
			if ln.Err != nil || ln.Rule == nil {
				t.Fatalf("line %d: error %v", lineNo, ln.Err)
			}
			if got := ln.Rule.Method().String(); got != v.method {
				t.Errorf("auth_method = %q, want %q", got, v.method)
			}
			if got := ln.Rule.ViewOptions(); !reflect.DeepEqual(got, v.opts) {
				t.Errorf("options = %q, want %q", got, v.opts)
			}
			if len(rs.Rules()) == 0 {
				t.Errorf("empty ruleset")
			}
		})
	}
}

// methodVectors are the M vectors run by TestVectors (vectors_test.go), each a subtest
// named by its id.
var methodVectors = []vectorTest[mvec]{
	{id: "M01", vectors: []mvec{
		{conf: "local all all ident\n", method: "peer"},
	}},
	{id: "M02", vectors: []mvec{
		{conf: h + "peer\n", fails: true, viewErr: "peer authentication is only supported on local sockets"},
	}},
	{id: "M03", vectors: []mvec{
		{conf: "local all all gss\n", fails: true, viewErr: "gssapi authentication is not supported on local sockets"},
	}},
	{id: "M04", vectors: []mvec{
		{setup: noGSS, conf: h + "gss\n", fails: true, viewErr: `invalid authentication method "gss": not supported by this build`},
	}},
	{id: "M05", vectors: []mvec{
		{conf: h + "cert\n", fails: true, viewErr: "cert authentication is only supported on hostssl connections"},
	}},
	{id: "M06", vectors: []mvec{
		{vers: "14+", conf: "hostssl all all 127.0.0.1/32 cert clientcert=verify-ca\n", fails: true,
			viewErr: `clientcert can only be set to "verify-full" when using "cert" authentication`,
			logErr:  `clientcert only accepts "verify-full" when using "cert" authentication`},
	}},
	{id: "M07", check: func(t *testing.T) {
		const conf = "hostssl all all 127.0.0.1/32 cert clientcert=verify-ca\n"
		runMVec(t, mvec{vers: "13", conf: conf, method: "cert", opts: []string{"clientcert=verify-full"}})
		runMVec(t, mvec{vers: "13", minor: 5, conf: conf, method: "cert", opts: []string{"clientcert=verify-ca"}})
	}},
	{id: "M08", check: func(t *testing.T) {
		const conf = "hostssl all all 127.0.0.1/32 password clientcert=1\nhost all all 127.0.0.1/32 password\n"
		const log = `invalid value for clientcert: "1"`
		runMVec(t, mvec{vers: "14+", conf: conf, fails: true, viewErr: "hostssl record cannot match because SSL is disabled", logErr: log})
		runMVec(t, mvec{vers: "14+", setup: func(p *Parser) { p.SSL = true }, conf: conf, fails: true, viewErr: "", logErr: log})
	}},
	{id: "M09", vectors: []mvec{
		{vers: "13", conf: "hostssl all all 0.0.0.0/0 md5 clientcert=1\n", method: "md5", opts: []string{"clientcert=verify-ca"}},
	}},
	{id: "M10", vectors: []mvec{
		{conf: h + "md5 clientcert=verify-full\n", fails: true, viewErr: `clientcert can only be configured for "hostssl" rows`},
	}},
	{id: "M11", vectors: []mvec{
		{vers: "14+", setup: func(p *Parser) { p.SSL = true }, conf: "hostssl all all 127.0.0.1/32 md5 clientname=cn\n",
			fails: true, logErr: `invalid value for clientname: "cn"`},
	}},
	{id: "M12", vectors: []mvec{
		{vers: "13", conf: "hostssl all all 0.0.0.0/0 cert clientname=DN\n", fails: true,
			viewErr: `unrecognized authentication option name: "clientname"`},
	}},
	{id: "M13", vectors: []mvec{
		{vers: "13-17", conf: h + "trust map=x\n", fails: true,
			viewErr: `authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, and cert`},
		{vers: "18", conf: h + "trust map=x\n", fails: true,
			viewErr: `authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, cert, and oauth`},
	}},
	{id: "M14", vectors: []mvec{
		{conf: h + "ident map=x,map=y\n", method: "ident", opts: []string{"map=y"}},
	}},
	{id: "M15", vectors: []mvec{
		{conf: h + "gss include_realm=true krb_realm=A\n", method: "gss", opts: []string{"krb_realm=A"}},
	}},
	{id: "M16", vectors: []mvec{
		{conf: h + "gss map=\n", method: "gss", opts: []string{"include_realm=true", "map="}},
	}},
	{id: "M17", vectors: []mvec{
		{conf: h + "ident foo\n", fails: true, viewErr: "authentication option not in name=value format: foo"},
	}},
	{id: "M18", vectors: []mvec{
		{conf: h + "ident Map=x\n", fails: true, viewErr: `unrecognized authentication option name: "Map"`},
		{conf: h + "ident =x\n", fails: true, viewErr: `unrecognized authentication option name: ""`},
	}},
	{id: "M19", vectors: []mvec{
		{conf: h + "trust,reject\n", fails: true, viewErr: "multiple values specified for authentication type"},
	}},
	{id: "M20", vectors: []mvec{
		{conf: h + "ldap ldapserver=x\n", fails: true,
			viewErr: `authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set`},
	}},
	{id: "M21", check: func(t *testing.T) {
		const conf = h + "ldap ldapserver=x ldapprefix=a ldapbasedn=b\n"
		runMVec(t, mvec{vers: "13-17", conf: conf, fails: true,
			viewErr: "cannot use ldapbasedn, ldapbinddn, ldapbindpasswd, ldapsearchattribute, ldapsearchfilter, or ldapurl together with ldapprefix"})
		runMVec(t, mvec{vers: "18", conf: conf, fails: true, viewErr: "cannot mix options for simple bind and search+bind modes"})
	}},
	{id: "M22", vectors: []mvec{
		{conf: h + "ldap ldapbasedn=b ldapsearchattribute=a ldapsearchfilter=f\n", fails: true,
			viewErr: "cannot use ldapsearchattribute together with ldapsearchfilter"},
	}},
	{id: "M23", vectors: []mvec{
		{conf: h + "ldap ldapbasedn=b ldapport=abc\n", fails: true, viewErr: `invalid LDAP port number: "abc"`},
	}},
	{id: "M24", check: func(t *testing.T) {
		const conf = h + "ldap ldapbasedn=b ldapscheme=foo ldaptls=true\n"
		with := []string{"ldapscheme=foo", "ldapbasedn=b", "ldapscope=2"}
		without := []string{"ldapbasedn=b", "ldapscope=2"}
		runMVec(t, mvec{conf: conf, method: "ldap", opts: with}) // newest minors
		for _, m := range []struct {
			v, old, fixed int
		}{{13, 18, 19}, {14, 15, 16}, {15, 10, 11}, {16, 6, 7}, {17, 2, 3}} {
			runMVec(t, mvec{vers: itoa(m.v), minor: m.old, conf: conf, method: "ldap", opts: without})
			runMVec(t, mvec{vers: itoa(m.v), minor: m.fixed, conf: conf, method: "ldap", opts: with})
		}
	}},
	{id: "M25", vectors: []mvec{
		{vers: "18", conf: h + `ldap ldapurl="ldap://h:389/dc=x?uid?one" ldapserver=h2` + "\n", method: "ldap",
			opts: []string{"ldapserver=h2", "ldapport=389", "ldapscheme=ldap", "ldapbasedn=dc=x", "ldapsearchattribute=uid", "ldapscope=2"}},
	}},
	{id: "M26", vectors: []mvec{
		{conf: h + "radius radiusservers=127.0.0.1\n", fails: true,
			viewErr: `authentication method "radius" requires argument "radiussecrets" to be set`},
	}},
	{id: "M27", vectors: []mvec{
		{conf: h + "radius radiusservers=127.0.0.1,127.0.0.2 radiussecrets=a\n", fails: true,
			viewErr: "authentication option not in name=value format: 127.0.0.2"},
	}},
	{id: "M28", check: func(t *testing.T) {
		const conf = h + `radius radiusservers="127.0.0.1,127.0.0.2" radiussecrets="a,b,c"` + "\n"
		const msg = "the number of RADIUS secrets (3) must be 1 or the same as the number of RADIUS servers (2)"
		runMVec(t, mvec{vers: "14+", conf: conf, fails: true, viewErr: msg})
		runMVec(t, mvec{vers: "13", conf: conf, fails: true, viewErr: "", logErr: msg})
	}},
	{id: "M29", vectors: []mvec{
		{conf: h + "radius radiusservers=127.0.0.1 radiussecrets=a radiusports=abc\n", fails: true,
			logErr: `invalid RADIUS port number: "abc"`},
	}},
	{id: "M30", check: func(t *testing.T) {
		const conf = h + "radius radiusservers=no.such.host.invalid radiussecrets=a\n"
		runMVec(t, mvec{setup: func(p *Parser) { p.RADIUSResolver = fakeResolver{} }, conf: conf, fails: true,
			logErr: `could not translate RADIUS server name "no.such.host.invalid" to address: Name or service not known`})
		// Without a resolver the name is not looked up (documented divergence).
		runMVec(t, mvec{conf: conf, method: "radius", opts: []string{"radiusservers=no.such.host.invalid", "radiussecrets=a"}})
	}},
	{id: "M31", vectors: []mvec{
		{conf: h + `pam pamservice="a b" pam_use_hostname=1` + "\n", method: "pam", opts: []string{"pamservice=a b"}},
	}},
	{id: "M32", vectors: []mvec{
		{vers: "18", setup: oauthV, conf: h + `oauth issuer=https://x scope=""` + "\n", method: "oauth",
			opts: []string{"issuer=https://x", "scope=", "validator=v"}},
	}},
	{id: "M33", vectors: []mvec{
		{vers: "18", setup: oauthV, conf: h + "oauth issuer=https://x\n", fails: true,
			viewErr: `authentication method "oauth" requires argument "scope" to be set`},
		{vers: "18", setup: oauthV, conf: h + "oauth scope=a\n", fails: true,
			viewErr: `authentication method "oauth" requires argument "issuer" to be set`},
	}},
	{id: "M34", vectors: []mvec{
		{vers: "18", setup: oauthV, conf: h + "oauth issuer=i scope=s validator=w\n", fails: true,
			viewErr: `validator "w" is not permitted by oauth_validator_libraries`},
	}},
	{id: "M35", vectors: []mvec{
		{vers: "18", setup: oauthV, conf: h + "oauth issuer=i scope=s map=m delegate_ident_mapping=1\n", fails: true,
			viewErr: "map cannot be used in combination with delegate_ident_mapping"},
	}},
	{id: "M36", vectors: []mvec{
		{vers: "18", setup: oauthV, conf: h + "oauth issuer=i scope=s delegate_ident_mapping=true\n", method: "oauth",
			opts: []string{"issuer=i", "scope=s", "validator=v"}},
	}},
	{id: "M37", vectors: []mvec{
		{vers: "18", conf: h + "trust issuer=x\n", fails: true,
			viewErr: `authentication option "issuer" is only valid for authentication methods oauth`},
	}},
	{id: "M38", vectors: []mvec{
		{vers: "18", setup: oauthV, conf: `local all all oauth issuer=i scope="openid x" map=m` + "\n", method: "oauth",
			opts: []string{"map=m", "issuer=i", "scope=openid x", "validator=v"}},
	}},
	{id: "M39", vectors: []mvec{
		{vers: "13-16", setup: dbUserNS, conf: "host all all 0.0.0.0/0 md5\n", fails: true,
			viewErr: `MD5 authentication is not supported when "db_user_namespace" is enabled`},
	}},
	{id: "M40", vectors: []mvec{
		{vers: "13", minor: 1, conf: "hostgssenc all all 0.0.0.0/0 md5\n", fails: true,
			viewErr: "GSSAPI encryption only supports gss, trust, or reject authentication"},
	}},
	{id: "M41", vectors: []mvec{
		{vers: "14+", conf: "hostgssenc all all 0.0.0.0/0 md5\n", method: "md5"},
		{vers: "13", minor: 23, conf: "hostgssenc all all 0.0.0.0/0 md5\n", method: "md5"},
	}},
	// OAuthWarning: in 18 an oauth line drops the hostssl warning, so
	// the view shows no error for it; the rule still never matches.
	{id: "OAuthWarning", check: func(t *testing.T) {
		p := &Parser{Version: 18, OAuthValidatorLibraries: "v"}
		f := p.ParseBytes("pg_hba.conf", []byte("hostssl all all 0.0.0.0/0 oauth issuer=i scope=s\nhostssl all all 0.0.0.0/0 md5\n"))
		if len(f.Lines) != 2 || f.Lines[0].Rule == nil || f.Lines[1].Rule == nil {
			t.Fatalf("lines = %+v", f.Lines)
		}
		if w := f.Lines[0].Rule.Warning(); w != "" {
			t.Errorf("oauth line warning = %q, want none", w)
		}
		if w := f.Lines[1].Rule.Warning(); w != "hostssl record cannot match because SSL is disabled" {
			t.Errorf("md5 line warning = %q", w)
		}
	}},
}

// warningCode returns the code of a warning text.
func warningCode(t *testing.T, text string) ruleWarning {
	t.Helper()
	for i, w := range warningTexts {
		if w == text {
			return ruleWarning(i)
		}
	}
	t.Fatalf("unknown warning text %q", text)
	return 0
}

// TestOptionsMemo: rules with option tokens, read in one load where the
// memo of parseMethodColumn remembers earlier lines, get what each line
// gives loaded alone (method, options, view, warning, or the same error
// at the same place), and two rules share one *AuthOptions exactly when
// their options are equal. The lines are near-equal on purpose: same
// names with other values, other order, quoted or not, other case, other
// spacing and fields, other connection types, @file options with the same
// text naming other files.
func TestOptionsMemo(t *testing.T) {
	lines := []string{
		"host all all all ident map=corp",
		"host all all all ident map=corp",
		`host all all all ident map="corp"`,
		`host all all all ident "map=corp"`,
		"host all all all ident map=corp2",
		"host all all all ident map=cor",
		"host all all all ident MAP=corp",
		"host all all all ident map=corp map=corp",
		"host all all all ident map=a map=corp",
		"host all all all ident map=corp,map=a",
		"host all all all ident map=corp map=a",
		"host all all all ident  map=corp",
		"host all all all ident map=corp   # comment",
		"host all all all ident map=",
		"host all all all ident map",
		"host all all all Ident map=corp",
		"local all all ident map=corp",
		"local all all peer map=corp",
		"hostssl all all all ident map=corp",
		"hostssl all all all cert map=corp",
		"hostssl all all all cert map=corp clientcert=verify-full",
		"hostssl all all all cert clientcert=verify-full map=corp",
		"hostssl all all all md5 clientcert=verify-ca",
		"host all all all md5 clientcert=verify-ca",
		"hostssl all all all md5 clientcert=verify-ca",
		"hostssl all all all md5 clientcert=verify-full",
		"hostssl all all all md5 clientname=CN",
		"hostgssenc all all all gss include_realm=0 krb_realm=EXAMPLE.NET",
		"hostgssenc all all all gss krb_realm=EXAMPLE.NET include_realm=0",
		"host all all all gss include_realm=0 krb_realm=EXAMPLE.NET",
		"host all all all gss include_realm=1 krb_realm=EXAMPLE.NET",
		"host all all all gss include_realm=0 krb_realm=example.net",
		"host all all all sspi include_realm=0 krb_realm=EXAMPLE.NET",
		"host all all all ldap ldapserver=a ldapbasedn=dc=x",
		`host all all all ldap ldapserver=a ldapbasedn="dc=x"`,
		"host all all all ldap ldapserver=a ldapbasedn=dc=y",
		"host all all all ldap ldapbasedn=dc=x ldapserver=a",
		"host all all all ldap ldapserver=a ldapbasedn=dc=x ldapurl=ldap://b/dc=z",
		"host all all all ldap ldapurl=ldap://b/dc=z ldapserver=a",
		"host all all all ldap ldapurl=ldap://b/dc=z ldapserver=a",
		"host all all all ldap ldapurl=ldap:///dc=z ldapserver=a ldapscheme=ldaps",
		"host all all all ldap ldapscheme=ldaps ldapurl=ldap://b/dc=z?uid?sub",
		"host all all all ldap ldapserver=a ldapprefix=uid= ldapsuffix=,dc=x",
		`host all all all ldap ldapserver=a ldapprefix="uid=" ldapsuffix=",dc=x"`,
		"host all all all ldap ldapserver=a ldapprefix=uid= ldapsuffix=,dc=x ldapbasedn=dc=x",
		"host all all all ldap ldapserver=a ldapport=0389 ldapbasedn=dc=x",
		"host all all all ldap ldapserver=a ldapport=389 ldapbasedn=dc=x",
		`host all all all radius radiusservers="a,b" radiussecrets=s radiusports=1812`,
		`host all all all radius radiusservers="a, b" radiussecrets=s radiusports=1812`,
		`host all all all radius radiusservers="a,b" radiussecrets="s,s" radiusports=1812`,
		`host all all all radius radiusservers="a,b" radiussecrets=s,s radiusports=1812`,
		"host all all all pam pamservice=postgresql",
		"host all all all pam pamservice=postgresql pam_use_hostname=1",
		"host all all all pam pam_use_hostname=1 pamservice=postgresql",
		"host all all all pam pamservice=postgresql",
		"host all all all trust map=corp",
		"host all all all ident @o",
		"host all all all ident @o",
		"include sub/pg.conf",
		"host all all all ident @o",
		"hostssl all all all oauth issuer=https://x scope=s",
		"hostssl all all all oauth issuer=https://x scope=s",
		"host all all all oauth issuer=https://x scope=s",
		"hostssl all all all oauth issuer=https://x scope=s map=m delegate_ident_mapping=1",
		"host all all all oauth issuer=https://x scope=s validator=v",
	}
	conf := strings.Join(lines, "\n") + "\n"
	files := fstest.MapFS{
		"x/o":           {Data: []byte("map=corp\n")},
		"x/sub/o":       {Data: []byte("map=other\n")},
		"x/sub/pg.conf": {Data: []byte("host all all all ident @o\nhost all all all ident map=corp\nhost all all all ident @o\n")},
	}
	for _, pc := range []struct {
		v   int
		ssl bool
	}{{13, true}, {16, false}, {18, false}, {18, true}} {
		p := Parser{Version: pc.v, SSL: pc.ssl, FS: files, OAuthValidatorLibraries: "v"}
		f := p.ParseBytes("/x/pg_hba.conf", []byte(conf))
		if len(f.Lines) < len(lines) {
			t.Fatalf("%d: %d lines", pc.v, len(f.Lines))
		}
		var rules []*Rule
		for _, ln := range f.Lines {
			if strings.HasPrefix(ln.Raw, "include") {
				continue
			}
			// Alone: the line in its file, at its place. An included
			// file's line is compared with its file's alone.
			alone := p.ParseBytes(ln.Pos.Filename, []byte(strings.Repeat("\n", ln.Pos.Line-1)+ln.Raw+"\n"))
			if len(alone.Lines) != 1 {
				t.Fatalf("%q alone: %d lines", ln.Raw, len(alone.Lines))
			}
			want := alone.Lines[0]
			if ln.IncludedFrom != nil && ln.Err != nil {
				t.Fatalf("%q: %v", ln.Raw, ln.Err)
			}
			if (ln.Err == nil) != (want.Err == nil) || (ln.Err != nil && ln.Err.Error() != want.Err.Error()) || (ln.Err != nil && ln.Err.Pos != want.Err.Pos) {
				t.Errorf("%d ssl=%v: %q: error %v, alone %v", pc.v, pc.ssl, ln.Raw, ln.Err, want.Err)
				continue
			}
			if ln.Err != nil {
				continue
			}
			got, w := ln.Rule, want.Rule
			if got.Method() != w.Method() || !reflect.DeepEqual(*got.Options(), *w.Options()) ||
				!reflect.DeepEqual(got.ViewOptions(), w.ViewOptions()) || got.Warning() != w.Warning() || got.Never() != w.Never() {
				t.Errorf("%d ssl=%v: %q: method %v options %+v view %q warning %q; alone %v %+v %q %q", pc.v, pc.ssl, ln.Raw,
					got.Method(), *got.Options(), got.ViewOptions(), got.Warning(), w.Method(), *w.Options(), w.ViewOptions(), w.Warning())
			}
		}
		for _, ln := range f.Lines {
			if ln.Rule != nil {
				rules = append(rules, ln.Rule)
			}
		}
		if len(rules) < len(lines)/2 {
			t.Fatalf("%d: only %d rules", pc.v, len(rules))
		}
		for i, a := range rules {
			for _, b := range rules[:i] {
				same := a.Options() == b.Options()
				if eq := reflect.DeepEqual(*a.Options(), *b.Options()); same != eq {
					t.Errorf("%d ssl=%v: %q and %q: shared %v, equal %v (%+v, %+v)", pc.v, pc.ssl, a.Raw(), b.Raw(), same, eq, *a.Options(), *b.Options())
				}
			}
		}
	}
}

// TestOptionsMemoRADIUS: a RADIUS line is resolved again each time it is
// read, as PostgreSQL does, memo or not.
func TestOptionsMemoRADIUS(t *testing.T) {
	var n int
	res := lookupCounter{n: &n, inner: fakeResolver{"radius.example": {netip.MustParseAddr("192.0.2.1")}}}
	p := Parser{Version: 16, RADIUSResolver: res}
	line := "host all all all radius radiusservers=radius.example radiussecrets=s\n"
	rs, err := p.LoadBytes("/x/pg_hba.conf", []byte(strings.Repeat(line, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("%d lookups for 5 lines", n)
	}
	r := rs.Rules()
	if r[0].Options() != r[4].Options() {
		t.Error("equal RADIUS options are not shared")
	}
}

type lookupCounter struct {
	n     *int
	inner fakeResolver
}

func (c lookupCounter) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return c.inner.LookupAddr(ctx, addr)
}

func (c lookupCounter) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	*c.n++
	return c.inner.LookupNetIP(ctx, network, host)
}

// TestOptionsMemoRandom is TestOptionsMemo over random lines from a small
// vocabulary, so that equal and near-equal option lists recur often.
func TestOptionsMemoRandom(t *testing.T) {
	types := []string{"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
	common := []string{"map=a", "map=b", `map="a"`, `"map=a"`, "map=", "MAP=a", "clientcert=verify-ca", "clientcert=verify-full",
		"clientcert=1", "clientname=DN", "bogus=1", "nonameval"}
	// The options of each method, and a few of other methods.
	methods := map[string][]string{
		"trust": nil, "md5": nil, "Ident": nil, "ident": nil, "peer": nil, "cert": nil,
		"gss":    {"include_realm=0", "include_realm=1", "krb_realm=X", "krb_realm=x", "compat_realm=0"},
		"sspi":   {"include_realm=0", "krb_realm=X", "compat_realm=0", "upn_username=1"},
		"pam":    {"pamservice=p", "pamservice=q", "pam_use_hostname=1", "ldapserver=a"},
		"radius": {`radiusservers="a,b"`, "radiusservers=a", "radiussecrets=s", `radiussecrets="s,t"`, "radiusports=1812", "radiusidentifiers=i"},
		"oauth":  {"issuer=https://x", "scope=s", "scope=t", "validator=v", "delegate_ident_mapping=1"},
		"ldap": {"ldapserver=a", "ldapserver=b", "ldapbasedn=dc=x", `ldapbasedn="dc=x"`, "ldapprefix=u", "ldapsuffix=s",
			"ldapurl=ldap://h/dc=y?cn?one", "ldapurl=ldaps:///", "ldapscheme=ldaps", "ldapport=0389", "ldaptls=1",
			"ldapsearchattribute=uid", "ldapsearchfilter=(x)"},
	}
	names := slices.Sorted(maps.Keys(methods))
	rng := rand.New(rand.NewPCG(20, 20))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	var sb strings.Builder
	for range 1500 {
		ty := pick(types)
		sb.WriteString(ty + " all all ")
		if ty != "local" {
			sb.WriteString("all ")
		}
		m := pick(names)
		sb.WriteString(m)
		for n := rng.IntN(5); n > 0; n-- {
			sep := " "
			if rng.IntN(5) == 0 {
				sep = ","
			}
			vocab := methods[m]
			if len(vocab) == 0 || rng.IntN(4) == 0 {
				vocab = common
			}
			sb.WriteString(sep + pick(vocab))
		}
		sb.WriteString("\n")
	}
	conf := sb.String()
	for _, pc := range []struct {
		v   int
		ssl bool
	}{{13, true}, {16, false}, {18, false}, {18, true}} {
		p := Parser{Version: pc.v, SSL: pc.ssl, OAuthValidatorLibraries: "v"}
		f := p.ParseBytes("/x/pg_hba.conf", []byte(conf))
		var rules []*Rule
		for _, ln := range f.Lines {
			alone := p.ParseBytes("/x/pg_hba.conf", []byte(strings.Repeat("\n", ln.Pos.Line-1)+ln.Raw+"\n")).Lines[0]
			if (ln.Err == nil) != (alone.Err == nil) || (ln.Err != nil && (ln.Err.Error() != alone.Err.Error() || ln.Err.Pos != alone.Err.Pos)) {
				t.Fatalf("%d: %q: error %v, alone %v", pc.v, ln.Raw, ln.Err, alone.Err)
			}
			if ln.Err != nil {
				continue
			}
			got, w := ln.Rule, alone.Rule
			if got.Method() != w.Method() || !reflect.DeepEqual(*got.Options(), *w.Options()) ||
				!reflect.DeepEqual(got.ViewOptions(), w.ViewOptions()) || got.Warning() != w.Warning() {
				t.Fatalf("%d: %q: %v %+v %q %q; alone %v %+v %q %q", pc.v, ln.Raw, got.Method(), *got.Options(), got.ViewOptions(), got.Warning(),
					w.Method(), *w.Options(), w.ViewOptions(), w.Warning())
			}
			rules = append(rules, got)
		}
		if len(rules) < 100 {
			t.Fatalf("%d: only %d rules of %d lines", pc.v, len(rules), len(f.Lines))
		}
		// Equal options are one value; without option tokens, one per
		// method (TestOptionsSharing).
		byOpts := map[*AuthOptions]Method{}
		for _, r := range rules {
			if m, ok := byOpts[r.Options()]; ok && len(r.Options().Raw) == 0 && m != r.Method() {
				t.Fatalf("%d: methods %v and %v share options", pc.v, m, r.Method())
			}
			byOpts[r.Options()] = r.Method()
		}
		distinct := make([]*AuthOptions, 0, len(byOpts))
		for o := range byOpts {
			distinct = append(distinct, o)
		}
		for i, a := range distinct {
			for _, b := range distinct[:i] {
				if reflect.DeepEqual(*a, *b) && (len(a.Raw) > 0 || byOpts[a] == byOpts[b]) {
					t.Fatalf("%d: equal options not shared: %+v", pc.v, *a)
				}
			}
		}
		t.Logf("%d: %d rules, %d distinct options", pc.v, len(rules), len(distinct))
	}
}
