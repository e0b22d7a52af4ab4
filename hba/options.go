package hba

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
)

// This file validates the METHOD column and the options that follow it, as
// PostgreSQL's parse_hba_line (from the method on) and parse_hba_auth_opt do,
// and computes the options column of pg_hba_file_rules.

// methodFeature is the build feature a method needs, zero when none.
func methodFeature(m Method) Features {
	switch m {
	case GSS:
		return FeatureGSSAPI
	case SSPI:
		return FeatureSSPI
	case PAM:
		return FeaturePAM
	case BSD:
		return FeatureBSD
	case LDAP:
		return FeatureLDAP
	case Cert:
		return FeatureSSL
	}
	return 0
}

// LDAP search scopes as OpenLDAP numbers them.
const (
	ldapScopeBase        = 0
	ldapScopeOneLevel    = 1
	ldapScopeSubtree     = 2
	ldapScopeSubordinate = 3
)

// optSet records which string options were given at all: PostgreSQL keeps
// them as possibly-NULL pointers, and an empty value is still "set".
type optSet uint32

const (
	setMap optSet = 1 << iota
	setKrbRealm
	setPAMService
	setLDAPServer
	setLDAPScheme
	setLDAPPrefix
	setLDAPSuffix
	setLDAPBaseDN
	setLDAPBindDN
	setLDAPBindPasswd
	setLDAPSearchAttribute
	setLDAPSearchFilter
	setRADIUSServers
	setRADIUSSecrets
	setRADIUSIdentifiers
	setRADIUSPorts
	setIssuer
	setScope
	setValidator
)

// authState is the working state of one line's method and options.
type authState struct {
	p   *Parser
	r   *Rule
	o   *AuthOptions
	set optSet
}

func methodErr(msg string) *Error { return &Error{Msg: msg, Err: ErrMethod} }
func optionErr(msg string) *Error { return &Error{Msg: msg, Err: ErrOption} }

// logOnlyErr is a failure PostgreSQL logs without storing a text for the line.
func logOnlyErr(msg string) *Error { return &Error{Msg: msg, LogOnly: true, Err: ErrOption} }

// parseAuth validates the METHOD column token and the option tokens that
// follow it for rule r. r.typ (and the columns before the method) must be
// set; r.Warning may hold a non-fatal warning text. It sets r.method,
// r.opts (Raw = the options as written) and the view's options column,
// and clears r.Warning where PostgreSQL 18 does (oauth lines). The returned
// error, if any, has Pos unset.
func (p *Parser) parseAuth(r *Rule, method string, opts []string) *Error {
	v := p.version()
	m := parseMethod(method)
	if m == 0 || (m == OAuth && v < 18) {
		return methodErr(`invalid authentication method "` + method + `"`)
	}
	if m == MD5 && v <= 16 && p.DBUserNamespace {
		return methodErr(`MD5 authentication is not supported when "db_user_namespace" is enabled`)
	}
	if f := methodFeature(m); f != 0 && !p.Features.Has(f) {
		return methodErr(`invalid authentication method "` + method + `": not supported by this build`)
	}
	if r.typ == Local && m == Ident {
		m = Peer
	}
	if r.typ == Local && m == GSS {
		return methodErr("gssapi authentication is not supported on local sockets")
	}
	if v == 13 && !p.atLeast(13, 2) && r.typ == HostGSSEnc && m != GSS && m != Reject && m != Trust {
		return methodErr("GSSAPI encryption only supports gss, trust, or reject authentication")
	}
	if r.typ != Local && m == Peer {
		return methodErr("peer authentication is only supported on local sockets")
	}
	if r.typ != HostSSL && m == Cert {
		return methodErr("cert authentication is only supported on hostssl connections")
	}
	r.method = m

	// The caller may lend storage in r.opts (the loader does, to share
	// identical options between rules).
	if r.opts == nil {
		r.opts = new(AuthOptions)
	} else {
		*r.opts = AuthOptions{}
	}
	s := &authState{p: p, r: r, o: r.opts}
	if m == GSS || m == SSPI {
		s.o.IncludeRealm = true
	}
	if m == SSPI {
		s.o.CompatRealm = true
		s.o.UPNUsername = false
	}

	for _, tok := range opts {
		name, val, ok := strings.Cut(tok, "=")
		if !ok {
			return optionErr("authentication option not in name=value format: " + tok)
		}
		s.o.Raw = append(s.o.Raw, Option{Name: name, Value: val})
		if err := s.option(name, val); err != nil {
			return err
		}
	}
	if err := s.complete(); err != nil {
		return err
	}
	s.o.view = s.view()
	return nil
}

// wrongMethod is PostgreSQL's "only valid for authentication methods" error.
func wrongMethod(name, methods string) *Error {
	return optionErr(`authentication option "` + name + `" is only valid for authentication methods ` + methods)
}

// require fails unless the rule's method is m.
func (s *authState) require(m Method, name string) *Error {
	if s.r.method != m {
		return wrongMethod(name, m.String())
	}
	return nil
}

// option applies one name=value option.
func (s *authState) option(name, val string) *Error {
	p, r, o := s.p, s.r, s.o
	v := p.version()
	// PostgreSQL resets the LDAP search scope before every option in builds
	// with LDAP support, so an ldapurl scope survives only as the last option.
	if p.Features.Has(FeatureLDAP) && r.method == LDAP {
		o.LDAPScope = ldapScopeSubtree
	}
	b := val == "1" // the only true boolean
	switch name {
	case "map":
		switch r.method {
		case Ident, Peer, GSS, SSPI, Cert:
		case OAuth: // 18 only; the method does not exist before
		default:
			if v >= 18 {
				return wrongMethod(name, "ident, peer, gssapi, sspi, cert, and oauth")
			}
			return wrongMethod(name, "ident, peer, gssapi, sspi, and cert")
		}
		o.Map = val
		s.set |= setMap
	case "clientcert":
		if r.typ != HostSSL {
			return optionErr(`clientcert can only be configured for "hostssl" rows`)
		}
		return s.clientCert(val)
	case "clientname":
		if v < 14 {
			return unrecognized(name)
		}
		if r.typ != HostSSL {
			return optionErr(`clientname can only be configured for "hostssl" rows`)
		}
		switch val {
		case "CN":
			o.ClientName = ClientNameCN
		case "DN":
			o.ClientName = ClientNameDN
		default:
			return logOnlyErr(`invalid value for clientname: "` + val + `"`)
		}
	case "pamservice":
		if err := s.require(PAM, name); err != nil {
			return err
		}
		o.PAMService = val
		s.set |= setPAMService
	case "pam_use_hostname":
		if err := s.require(PAM, name); err != nil {
			return err
		}
		o.PAMUseHostname = b
	case "ldapurl":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		return s.ldapURL(val)
	case "ldaptls":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPTLS = b
	case "ldapscheme":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		// Any other value only logs `invalid ldapscheme value: "%s"` and is
		// kept as written.
		o.LDAPScheme = val
		s.set |= setLDAPScheme
	case "ldapserver":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPServer = val
		s.set |= setLDAPServer
	case "ldapport":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPPort = atoi(val)
		if o.LDAPPort == 0 {
			return optionErr(`invalid LDAP port number: "` + val + `"`)
		}
	case "ldapbinddn":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPBindDN = val
		s.set |= setLDAPBindDN
	case "ldapbindpasswd":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPBindPasswd = val
		s.set |= setLDAPBindPasswd
	case "ldapsearchattribute":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPSearchAttribute = val
		s.set |= setLDAPSearchAttribute
	case "ldapsearchfilter":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPSearchFilter = val
		s.set |= setLDAPSearchFilter
	case "ldapbasedn":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPBaseDN = val
		s.set |= setLDAPBaseDN
	case "ldapprefix":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPPrefix = val
		s.set |= setLDAPPrefix
	case "ldapsuffix":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPSuffix = val
		s.set |= setLDAPSuffix
	case "krb_realm":
		if r.method != GSS && r.method != SSPI {
			return wrongMethod(name, "gssapi and sspi")
		}
		o.KrbRealm = val
		s.set |= setKrbRealm
	case "include_realm":
		if r.method != GSS && r.method != SSPI {
			return wrongMethod(name, "gssapi and sspi")
		}
		o.IncludeRealm = b
	case "compat_realm":
		if err := s.require(SSPI, name); err != nil {
			return err
		}
		o.CompatRealm = b
	case "upn_username":
		if err := s.require(SSPI, name); err != nil {
			return err
		}
		o.UPNUsername = b
	case "radiusservers":
		if err := s.require(RADIUS, name); err != nil {
			return err
		}
		list, ok := splitGUCList(val)
		if !ok {
			return logOnlyErr(`could not parse RADIUS server list "` + val + `"`)
		}
		for _, h := range list {
			if err := s.resolveRADIUS(h); err != nil {
				return err
			}
		}
		o.RADIUSServers, o.RADIUSServersText = list, val
		s.set |= setRADIUSServers
	case "radiusports":
		if err := s.require(RADIUS, name); err != nil {
			return err
		}
		list, ok := splitGUCList(val)
		if !ok {
			e := optionErr(`invalid RADIUS port number: "` + val + `"`)
			e.Log = `could not parse RADIUS port list "` + val + `"`
			return e
		}
		for _, port := range list {
			if atoi(port) == 0 {
				return logOnlyErr(`invalid RADIUS port number: "` + val + `"`)
			}
		}
		o.RADIUSPorts, o.RADIUSPortsText = list, val
		s.set |= setRADIUSPorts
	case "radiussecrets":
		if err := s.require(RADIUS, name); err != nil {
			return err
		}
		list, ok := splitGUCList(val)
		if !ok {
			return logOnlyErr(`could not parse RADIUS secret list "` + val + `"`)
		}
		o.RADIUSSecrets, o.RADIUSSecretsText = list, val
		s.set |= setRADIUSSecrets
	case "radiusidentifiers":
		if err := s.require(RADIUS, name); err != nil {
			return err
		}
		list, ok := splitGUCList(val)
		if !ok {
			return logOnlyErr(`could not parse RADIUS identifiers list "` + val + `"`)
		}
		o.RADIUSIdentifiers, o.RADIUSIdentifiersText = list, val
		s.set |= setRADIUSIdentifiers
	case "issuer", "scope", "validator", "delegate_ident_mapping":
		if v < 18 {
			return unrecognized(name)
		}
		if err := s.require(OAuth, name); err != nil {
			return err
		}
		switch name {
		case "issuer":
			o.Issuer = val
			s.set |= setIssuer
		case "scope":
			o.Scope = val
			s.set |= setScope
		case "validator":
			o.Validator = val
			s.set |= setValidator
		default:
			o.DelegateIdentMapping = b
		}
	default:
		return unrecognized(name)
	}
	return nil
}

func unrecognized(name string) *Error {
	return optionErr(`unrecognized authentication option name: "` + name + `"`)
}

// clientCert applies a clientcert value on a hostssl row.
func (s *authState) clientCert(val string) *Error {
	o, cert := s.o, s.r.method == Cert
	if s.p.version() == 13 {
		switch val {
		case "1", "verify-ca":
			o.ClientCert = ClientCertVerifyCA
		case "verify-full":
			o.ClientCert = ClientCertVerifyFull
		case "0", "no-verify":
			if cert {
				return optionErr(`clientcert cannot be set to "no-verify" when using "cert" authentication`)
			}
			o.ClientCert = ClientCertOff
		default:
			return logOnlyErr(`invalid value for clientcert: "` + val + `"`)
		}
		return nil
	}
	switch val {
	case "verify-full":
		o.ClientCert = ClientCertVerifyFull
	case "verify-ca":
		if cert {
			e := optionErr(`clientcert can only be set to "verify-full" when using "cert" authentication`)
			e.Log = `clientcert only accepts "verify-full" when using "cert" authentication`
			return e
		}
		o.ClientCert = ClientCertVerifyCA
	default:
		return logOnlyErr(`invalid value for clientcert: "` + val + `"`)
	}
	return nil
}

// ldapURL applies an ldapurl value as PostgreSQL does with OpenLDAP.
func (s *authState) ldapURL(val string) *Error {
	u, code := parseLDAPURL(val)
	if code != 0 {
		return optionErr(`could not parse LDAP URL "` + val + `": ` + ldapErrString(code))
	}
	if u.scheme != "ldap" && u.scheme != "ldaps" {
		return optionErr("unsupported LDAP URL scheme: " + u.scheme)
	}
	o := s.o
	o.LDAPScheme = u.scheme
	s.set |= setLDAPScheme
	if u.hasHost {
		o.LDAPServer = u.host
		s.set |= setLDAPServer
	}
	o.LDAPPort = u.port
	if u.hasDN {
		o.LDAPBaseDN = u.dn
		s.set |= setLDAPBaseDN
	}
	if u.hasAttrs && len(u.attrs) == 0 {
		// PostgreSQL copies the first attribute without checking that there
		// is one, and crashes on a list of only commas. Fail the line instead.
		return optionErr(`could not parse LDAP URL "` + val + `": empty attribute list`)
	}
	if len(u.attrs) > 0 {
		o.LDAPSearchAttribute = u.attrs[0]
		s.set |= setLDAPSearchAttribute
	}
	o.LDAPScope = u.scope
	if u.hasFilter {
		o.LDAPSearchFilter = u.filter
		s.set |= setLDAPSearchFilter
	}
	return nil
}

// resolveRADIUS checks that a RADIUS server name resolves, as PostgreSQL's
// getaddrinfo call at load time does. Numeric addresses need no lookup; a nil
// resolver accepts every name.
func (s *authState) resolveRADIUS(host string) *Error {
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if _, ok := parseInetAton(host); ok {
		return nil
	}
	res := s.p.RADIUSResolver
	if res == nil {
		return nil
	}
	fail := func(reason string) *Error {
		return logOnlyErr(`could not translate RADIUS server name "` + host + `" to address: ` + reason)
	}
	if host == "" {
		return fail("Name or service not known")
	}
	addrs, err := res.LookupNetIP(context.Background(), "ip", host)
	if err != nil {
		return fail(gaiText(err))
	}
	if len(addrs) == 0 {
		return fail("No address associated with hostname")
	}
	return nil
}

// gaiText turns a lookup error into the glibc gai_strerror text PostgreSQL
// would log.
func gaiText(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return "Name or service not known"
		case de.IsTemporary || de.IsTimeout:
			return "Temporary failure in name resolution"
		}
		return "Non-recoverable failure in name resolution"
	}
	return err.Error()
}

// parseInetAton reports whether s is an IPv4 address in the forms glibc's
// inet_aton accepts (1 to 4 parts, decimal, octal or hex), which getaddrinfo
// treats as numeric.
func parseInetAton(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	var parts []uint64
	for _, f := range strings.Split(s, ".") {
		if f == "" {
			return 0, false
		}
		base := uint64(10)
		switch {
		case len(f) > 1 && (f[:2] == "0x" || f[:2] == "0X"):
			base, f = 16, f[2:]
		case len(f) > 1 && f[0] == '0':
			base, f = 8, f[1:]
		}
		var n uint64
		for i := 0; i < len(f); i++ {
			d := digitVal(f[i])
			if d >= base {
				return 0, false
			}
			n = n*base + d
			if n > 0xffffffff {
				return 0, false
			}
		}
		parts = append(parts, n)
	}
	if len(parts) > 4 {
		return 0, false
	}
	var out uint64
	for i, n := range parts[:len(parts)-1] {
		if n > 0xff {
			return 0, false
		}
		out |= n << (24 - 8*i)
	}
	last := parts[len(parts)-1]
	if last >= 1<<(8*(5-len(parts))) && len(parts) > 1 {
		return 0, false
	}
	return uint32(out | last), true
}

func digitVal(c byte) uint64 {
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

// complete runs the per-method checks PostgreSQL makes after all options.
func (s *authState) complete() *Error {
	p, r, o := s.p, s.r, s.o
	v := p.version()
	switch r.method {
	case LDAP:
		if s.set&(setLDAPPrefix|setLDAPSuffix) != 0 {
			if s.set&(setLDAPBaseDN|setLDAPBindDN|setLDAPBindPasswd|setLDAPSearchAttribute|setLDAPSearchFilter) != 0 {
				if v >= 18 {
					return optionErr("cannot mix options for simple bind and search+bind modes")
				}
				return optionErr("cannot use ldapbasedn, ldapbinddn, ldapbindpasswd, ldapsearchattribute, ldapsearchfilter, or ldapurl together with ldapprefix")
			}
		} else if s.set&setLDAPBaseDN == 0 {
			return optionErr(`authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set`)
		}
		if s.set&setLDAPSearchAttribute != 0 && s.set&setLDAPSearchFilter != 0 {
			return optionErr("cannot use ldapsearchattribute together with ldapsearchfilter")
		}
	case RADIUS:
		// A list option parsed to an empty list is NULL in PostgreSQL.
		if len(o.RADIUSServers) == 0 {
			return requiresArg("radius", "radiusservers")
		}
		if len(o.RADIUSSecrets) == 0 {
			return requiresArg("radius", "radiussecrets")
		}
		n := len(o.RADIUSServers)
		check := func(what string, k int, zeroOK bool) *Error {
			if k == 1 || k == n || (zeroOK && k == 0) {
				return nil
			}
			msg := "the number of RADIUS " + what + " (" + itoa(k) + ") must be 1 or the same as the number of RADIUS servers (" + itoa(n) + ")"
			if v == 13 {
				return logOnlyErr(msg)
			}
			return optionErr(msg)
		}
		if err := check("secrets", len(o.RADIUSSecrets), false); err != nil {
			return err
		}
		if err := check("ports", len(o.RADIUSPorts), true); err != nil {
			return err
		}
		if err := check("identifiers", len(o.RADIUSIdentifiers), true); err != nil {
			return err
		}
	case Cert:
		if p.atLeast(13, 6) {
			o.ClientCert = ClientCertVerifyFull
		} else {
			o.ClientCert = ClientCertVerifyCA
		}
	case OAuth:
		if s.set&setScope == 0 {
			return requiresArg("oauth", "scope")
		}
		if s.set&setIssuer == 0 {
			return requiresArg("oauth", "issuer")
		}
		// PostgreSQL's validator check starts by clearing the line's
		// message, which drops an earlier hostssl/hostgssenc warning.
		r.warn = warnNone
		if err := s.checkValidator(); err != nil {
			return err
		}
		if o.DelegateIdentMapping && s.set&setMap != 0 {
			return optionErr("map cannot be used in combination with delegate_ident_mapping")
		}
	}
	return nil
}

func requiresArg(method, arg string) *Error {
	return optionErr(`authentication method "` + method + `" requires argument "` + arg + `" to be set`)
}

// checkValidator checks validator= against oauth_validator_libraries, and
// fills it in when the setting names exactly one library.
func (s *authState) checkValidator() *Error {
	libs := s.p.OAuthValidatorLibraries
	if libs == "" {
		return optionErr("oauth_validator_libraries must be set for authentication method oauth")
	}
	list, ok := splitDirectoriesString(libs)
	if !ok {
		return optionErr(`invalid list syntax in parameter "oauth_validator_libraries"`)
	}
	if s.set&setValidator == 0 {
		if len(list) == 1 {
			s.o.Validator = list[0]
			s.set |= setValidator
			return nil
		}
		// PostgreSQL crashes on a setting of only blanks; treat it as "several".
		return optionErr(`authentication method "oauth" requires argument "validator" to be set when oauth_validator_libraries contains multiple options`)
	}
	for _, l := range list {
		if l == s.o.Validator {
			return nil
		}
	}
	return optionErr(`validator "` + s.o.Validator + `" is not permitted by oauth_validator_libraries`)
}

// view returns the pg_hba_file_rules options column, nil for NULL.
func (s *authState) view() []string {
	p, r, o := s.p, s.r, s.o
	var out []string
	add := func(name, val string) { out = append(out, name+"="+val) }
	if r.method == GSS || r.method == SSPI {
		if o.IncludeRealm {
			out = append(out, "include_realm=true")
		}
		if s.set&setKrbRealm != 0 {
			add("krb_realm", o.KrbRealm)
		}
	}
	if s.set&setMap != 0 {
		add("map", o.Map)
	}
	switch o.ClientCert {
	case ClientCertVerifyCA:
		add("clientcert", "verify-ca")
	case ClientCertVerifyFull:
		add("clientcert", "verify-full")
	}
	if s.set&setPAMService != 0 {
		add("pamservice", o.PAMService)
	}
	switch r.method {
	case LDAP:
		if s.set&setLDAPServer != 0 {
			add("ldapserver", o.LDAPServer)
		}
		if o.LDAPPort != 0 {
			add("ldapport", itoa(o.LDAPPort))
		}
		if s.set&setLDAPScheme != 0 && p.viewShowsLDAPScheme() {
			add("ldapscheme", o.LDAPScheme)
		}
		if o.LDAPTLS {
			out = append(out, "ldaptls=true")
		}
		if s.set&setLDAPPrefix != 0 {
			add("ldapprefix", o.LDAPPrefix)
		}
		if s.set&setLDAPSuffix != 0 {
			add("ldapsuffix", o.LDAPSuffix)
		}
		if s.set&setLDAPBaseDN != 0 {
			add("ldapbasedn", o.LDAPBaseDN)
		}
		if s.set&setLDAPBindDN != 0 {
			add("ldapbinddn", o.LDAPBindDN)
		}
		if s.set&setLDAPBindPasswd != 0 {
			add("ldapbindpasswd", o.LDAPBindPasswd)
		}
		if s.set&setLDAPSearchAttribute != 0 {
			add("ldapsearchattribute", o.LDAPSearchAttribute)
		}
		if s.set&setLDAPSearchFilter != 0 {
			add("ldapsearchfilter", o.LDAPSearchFilter)
		}
		if o.LDAPScope != 0 {
			add("ldapscope", itoa(o.LDAPScope))
		}
	case RADIUS:
		if s.set&setRADIUSServers != 0 {
			add("radiusservers", o.RADIUSServersText)
		}
		if s.set&setRADIUSSecrets != 0 {
			add("radiussecrets", o.RADIUSSecretsText)
		}
		if s.set&setRADIUSIdentifiers != 0 {
			add("radiusidentifiers", o.RADIUSIdentifiersText)
		}
		if s.set&setRADIUSPorts != 0 {
			add("radiusports", o.RADIUSPortsText)
		}
	case OAuth:
		if s.set&setIssuer != 0 {
			add("issuer", o.Issuer)
		}
		if s.set&setScope != 0 {
			add("scope", o.Scope)
		}
		if s.set&setValidator != 0 {
			add("validator", o.Validator)
		}
		if o.DelegateIdentMapping {
			out = append(out, "delegate_ident_mapping=true")
		}
	}
	return out
}

// viewShowsLDAPScheme reports whether the view lists ldapscheme=, which
// PostgreSQL added in minor releases of every supported branch.
func (p *Parser) viewShowsLDAPScheme() bool {
	switch p.version() {
	case 13:
		return p.atLeast(13, 19)
	case 14:
		return p.atLeast(14, 16)
	case 15:
		return p.atLeast(15, 11)
	case 16:
		return p.atLeast(16, 7)
	case 17:
		return p.atLeast(17, 3)
	}
	return true
}

// atoi is C's atoi as glibc implements it: strtol in base 10 (leading
// blanks, an optional sign, then digits; anything after them is ignored),
// saturating on overflow, then truncated to a 32-bit int.
func atoi(s string) int {
	return int(int32(strtol(s)))
}

// strtol parses like C's strtol(s, NULL, 10) on a 64-bit long.
func strtol(s string) int64 {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n uint64
	over := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if !over {
			n = n*10 + uint64(s[i]-'0')
			if n > 1<<63 {
				over = true
			}
		}
	}
	if neg {
		if over || n > 1<<63 {
			return -1 << 63
		}
		return -int64(n)
	}
	if over || n > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(n)
}

// strtolFull is strtol that also reports whether any digit was read and
// whether the whole string was consumed.
func strtolFull(s string) (n int64, digits, full bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false, false
	}
	return strtol(s), true, j == len(s)
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// isScannerSpace is PostgreSQL's scanner_isspace.
func isScannerSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// splitGUCList splits a list-valued setting as PostgreSQL's SplitGUCList
// does: elements separated by commas, blanks around them ignored, an element
// may be double-quoted (with "" for a quote), an unquoted element may not be
// empty nor contain blanks. An empty or blank string is an empty list.
func splitGUCList(s string) ([]string, bool) {
	return splitList(s, false)
}

// splitDirectoriesString is PostgreSQL's SplitDirectoriesString: like
// splitGUCList, but unquoted elements may contain blanks (trailing ones are
// dropped) and every element is canonicalised as a path.
func splitDirectoriesString(s string) ([]string, bool) {
	list, ok := splitList(s, true)
	if !ok {
		return nil, false
	}
	for i, e := range list {
		if len(e) >= 1024 { // MAXPGPATH
			e = e[:1023]
		}
		list[i] = canonicalizePath(e)
	}
	return list, true
}

func splitList(s string, inner bool) ([]string, bool) {
	i := 0
	skip := func() {
		for i < len(s) && isScannerSpace(s[i]) {
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
		if i < len(s) && s[i] == '"' {
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
			for i < len(s) && s[i] != ',' {
				if isScannerSpace(s[i]) {
					if !inner {
						break
					}
				} else {
					end = i + 1
				}
				i++
			}
			if !inner {
				end = i
			}
			if end == start {
				return nil, false
			}
			elem = s[start:end]
		}
		skip()
		list = append(list, elem)
		if i == len(s) {
			return list, true
		}
		if s[i] != ',' {
			return nil, false
		}
		i++
		skip()
	}
}

// canonicalizePath tidies a Unix path as PostgreSQL's canonicalize_path does:
// repeated and trailing slashes, "." components and ".." after a real
// component are removed.
func canonicalizePath(path string) string {
	abs := strings.HasPrefix(path, "/")
	var parts []string
	for _, c := range strings.Split(path, "/") {
		switch c {
		case "", ".":
		case "..":
			if n := len(parts); n > 0 && parts[n-1] != ".." {
				parts = parts[:n-1]
			} else if !abs {
				parts = append(parts, c)
			}
		default:
			parts = append(parts, c)
		}
	}
	out := strings.Join(parts, "/")
	if abs {
		return "/" + out
	}
	if out == "" {
		return "."
	}
	return out
}

// ldapURLDesc is what OpenLDAP's ldap_url_parse returns, for the fields
// PostgreSQL uses.
type ldapURLDesc struct {
	scheme    string
	host      string
	hasHost   bool
	port      int
	dn        string
	hasDN     bool
	attrs     []string
	hasAttrs  bool // lud_attrs non-NULL, possibly with no element
	scope     int
	filter    string
	hasFilter bool
}

// OpenLDAP's URL parse result codes.
const (
	ldapURLErrBadScheme    = 3
	ldapURLErrBadEnclosure = 4
	ldapURLErrBadURL       = 5
	ldapURLErrBadScope     = 8
	ldapURLErrBadFilter    = 9
	ldapURLErrBadExts      = 10
)

// ldapErrString is ldap_err2string for the codes ldap_url_parse returns:
// PostgreSQL passes URL codes to the function for result codes, so the
// texts are those of the LDAP result codes with the same numbers.
func ldapErrString(code int) string {
	switch code {
	case 1:
		return "Operations error"
	case 2:
		return "Protocol error"
	case ldapURLErrBadScheme:
		return "Time limit exceeded"
	case ldapURLErrBadEnclosure:
		return "Size limit exceeded"
	case ldapURLErrBadURL:
		return "Compare False"
	case 6:
		return "Compare True"
	case 7:
		return "Authentication method not supported"
	case ldapURLErrBadScope:
		return "Strong(er) authentication required"
	case ldapURLErrBadFilter:
		return "Partial results and referral received"
	case ldapURLErrBadExts:
		return "Referral"
	}
	return "Unknown error"
}

// parseLDAPURL parses s as OpenLDAP's ldap_url_parse does (flags: no empty
// host, default port, base scope by default). It returns a non-zero code on
// failure.
func parseLDAPURL(s string) (ldapURLDesc, int) {
	var u ldapURLDesc
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
			u.scheme, rest, found = sc, rest[len(pre):], true
			ipc = sc == "ldapi"
			break
		}
	}
	if !found {
		return u, ldapURLErrBadScheme
	}
	if enclosed {
		if rest == "" || rest[len(rest)-1] != '>' {
			return u, ldapURLErrBadEnclosure
		}
		rest = rest[:len(rest)-1]
	}
	u.scope = ldapScopeBase

	// The host-port part ends at the first '/', or when there is none at
	// the first '?'.
	hostport, after, hasPath := strings.Cut(rest, "/")
	if !hasPath {
		hostport, _, _ = strings.Cut(rest, "?")
	}
	if !ipc {
		var portText string
		hasPort := false
		if strings.HasPrefix(hostport, "[") {
			r := strings.IndexByte(hostport, ']')
			if r < 0 {
				return u, ldapURLErrBadURL
			}
			tail := hostport[r+1:]
			if c := strings.IndexByte(tail, ':'); c >= 0 {
				if c != 0 {
					return u, ldapURLErrBadURL
				}
				portText, hasPort = tail[1:], true
			}
			hostport = hostport[1:r]
		} else if c := strings.IndexByte(hostport, ':'); c >= 0 {
			portText, hasPort = hostport[c+1:], true
			hostport = hostport[:c]
		}
		if hasPort {
			portText = ldapHexUnescape(portText)
			if portText == "" {
				return u, ldapURLErrBadURL
			}
			n, digits, full := strtolFull(portText)
			if !digits || !full {
				return u, ldapURLErrBadURL
			}
			u.port = int(int32(n))
		}
		if u.port == 0 {
			if u.scheme == "ldaps" {
				u.port = 636
			} else {
				u.port = 389
			}
		}
	}
	u.host = ldapHexUnescape(hostport)
	u.hasHost = u.host != ""
	if !hasPath {
		return u, 0
	}

	// dn ? attrs ? scope ? filter ? extensions
	part, after, more := strings.Cut(after, "?")
	if part != "" {
		u.dn = ldapHexUnescape(part)
	}
	u.hasDN = true
	if !more {
		return u, 0
	}
	part, after, more = strings.Cut(after, "?")
	if part != "" {
		u.hasAttrs = true
		for _, a := range strings.Split(ldapHexUnescape(part), ",") {
			if a != "" {
				u.attrs = append(u.attrs, a)
			}
		}
	}
	if !more {
		return u, 0
	}
	part, after, more = strings.Cut(after, "?")
	if part != "" {
		sc, ok := ldapScope(ldapHexUnescape(part))
		if !ok {
			return u, ldapURLErrBadScope
		}
		u.scope = sc
	}
	if !more {
		return u, 0
	}
	part, after, more = strings.Cut(after, "?")
	if part != "" {
		f := ldapHexUnescape(part)
		if f == "" {
			return u, ldapURLErrBadFilter
		}
		u.filter, u.hasFilter = f, true
	}
	if !more {
		return u, 0
	}
	if strings.Contains(after, "?") {
		return u, ldapURLErrBadURL
	}
	n := 0
	for _, e := range strings.Split(after, ",") {
		if e != "" {
			n++
		}
	}
	if n == 0 {
		return u, ldapURLErrBadExts
	}
	return u, 0
}

// ldapScope maps a scope word of an LDAP URL (case-insensitive) to its number.
func ldapScope(s string) (int, bool) {
	switch strings.ToLower(s) {
	case "one", "onelevel":
		return ldapScopeOneLevel, true
	case "base":
		return ldapScopeBase, true
	case "sub", "subtree":
		return ldapScopeSubtree, true
	case "subord", "subordinate", "children":
		return ldapScopeSubordinate, true
	}
	return 0, false
}

// ldapHexUnescape decodes %XX escapes as OpenLDAP's ldap_pvt_hex_unescape
// does, including its quirk: a '%' not followed by two hex digits empties the
// whole string. Decoding stops at a decoded NUL byte, as in C.
func ldapHexUnescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || digitVal(s[i+1]) > 15 || digitVal(s[i+2]) > 15 {
			return ""
		}
		b = append(b, byte(digitVal(s[i+1])<<4|digitVal(s[i+2])))
		i += 2
	}
	if k := strings.IndexByte(string(b), 0); k >= 0 {
		b = b[:k]
	}
	return string(b)
}
