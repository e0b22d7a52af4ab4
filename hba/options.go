package hba

// Options: the METHOD column and the name=value options after it, validated
// as PostgreSQL's parse_hba_line (from the method on) and parse_hba_auth_opt
// do. The view's options column is computed in options_view.go.

import (
	"context"
	"errors"
	"math/bits"
	"net"
	"slices"
	"strings"

	"github.com/pghba/pghba/internal/cemu"
	"github.com/pghba/pghba/internal/ldapurl"
)

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
	ldapScopeBase        = ldapurl.ScopeBase
	ldapScopeOneLevel    = ldapurl.ScopeOneLevel
	ldapScopeSubtree     = ldapurl.ScopeSubtree
	ldapScopeSubordinate = ldapurl.ScopeSubordinate
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
	numSet = iota // the number of optSet bits
)

// bit is the index of the single bit of b.
func (b optSet) bit() int { return bits.TrailingZeros32(uint32(b)) }

// authState is the working state of one line's method and options.
type authState struct {
	ctx context.Context // the load's, for RADIUSResolver
	p   *Parser
	r   *Rule
	o   *AuthOptions
	set optSet
	// tok is, for each string option of set, the token that gave its
	// value ("name=value" as the view shows it), "" when the value came
	// otherwise (ldapurl, oauth_validator_libraries).
	tok [numSet]string
}

// given records that the string option bit was given by the token tok
// ("" for a value from elsewhere).
func (s *authState) given(bit optSet, tok string) {
	s.set |= bit
	s.tok[bit.bit()] = tok
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
	_, e := p.parseAuthAt(context.Background(), r, method, opts)
	return e
}

// parseAuthAt is parseAuth, also returning what an error is about: -1 for
// the method, i for opts[i], len(opts) for the options together (a check
// made after the last one).
// ctx is passed to p.RADIUSResolver.
func (p *Parser) parseAuthAt(ctx context.Context, r *Rule, method string, opts []string) (int, *Error) {
	v := p.version()
	m := parseMethod(method)
	if m == 0 || (m == OAuth && v < 18) {
		return -1, methodErr(`invalid authentication method "` + method + `"`)
	}
	if m == MD5 && v <= 16 && p.DBUserNamespace {
		return -1, methodErr(`MD5 authentication is not supported when "db_user_namespace" is enabled`)
	}
	if f := methodFeature(m); f != 0 && !p.Features.Has(f) {
		return -1, methodErr(`invalid authentication method "` + method + `": not supported by this build`)
	}
	if r.typ == Local && m == Ident {
		m = Peer
	}
	if r.typ == Local && m == GSS {
		return -1, methodErr("gssapi authentication is not supported on local sockets")
	}
	if v == 13 && !p.atLeast(13, 2) && r.typ == HostGSSEnc && m != GSS && m != Reject && m != Trust {
		return -1, methodErr("GSSAPI encryption only supports gss, trust, or reject authentication")
	}
	if r.typ != Local && m == Peer {
		return -1, methodErr("peer authentication is only supported on local sockets")
	}
	if r.typ != HostSSL && m == Cert {
		return -1, methodErr("cert authentication is only supported on hostssl connections")
	}
	r.method = m

	// The caller may lend storage in r.opts (the loader does, to share
	// identical options between rules); its Raw and view arrays are
	// reused, and shareOptions copies them.
	if r.opts == nil {
		r.opts = new(AuthOptions)
	} else {
		*r.opts = AuthOptions{Raw: r.opts.Raw[:0], view: r.opts.view[:0]}
	}
	s := &authState{ctx: ctx, p: p, r: r, o: r.opts}
	if m == GSS || m == SSPI {
		s.o.IncludeRealm = true
	}
	if m == SSPI {
		s.o.CompatRealm = true
		s.o.UPNUsername = false
	}

	for i, tok := range opts {
		name, val, ok := strings.Cut(tok, "=")
		if !ok {
			return i, optionErr("authentication option not in name=value format: " + tok)
		}
		s.o.Raw = append(s.o.Raw, Option{Name: name, Value: val})
		if err := s.option(tok, name, val); err != nil {
			return i, err
		}
	}
	if err := s.complete(); err != nil {
		return len(opts), err
	}
	s.o.view = s.view()
	return 0, nil
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

// simpleOption is an option PostgreSQL's parse_hba_auth_opt handles by
// checking the rule's method and assigning the value: a string, or a
// boolean that only "1" sets.
type simpleOption struct {
	// methods are the methods the option is valid for; text names them in
	// the error, "" for the one method's name.
	methods []Method
	text    string
	// minVersion is the first major version with the option; an earlier
	// one does not know its name.
	minVersion int
	set        optSet // recorded when the option is given; 0 for none
	str        func(*AuthOptions) *string
	flag       func(*AuthOptions) *bool
}

// simpleOptions are the options that need no more than their method and a
// field to assign. The rest are in authState.option.
var simpleOptions = map[string]simpleOption{
	"pamservice":             {methods: []Method{PAM}, set: setPAMService, str: func(o *AuthOptions) *string { return &o.PAMService }},
	"pam_use_hostname":       {methods: []Method{PAM}, flag: func(o *AuthOptions) *bool { return &o.PAMUseHostname }},
	"ldaptls":                {methods: []Method{LDAP}, flag: func(o *AuthOptions) *bool { return &o.LDAPTLS }},
	"ldapserver":             {methods: []Method{LDAP}, set: setLDAPServer, str: func(o *AuthOptions) *string { return &o.LDAPServer }},
	"ldapbinddn":             {methods: []Method{LDAP}, set: setLDAPBindDN, str: func(o *AuthOptions) *string { return &o.LDAPBindDN }},
	"ldapbindpasswd":         {methods: []Method{LDAP}, set: setLDAPBindPasswd, str: func(o *AuthOptions) *string { return &o.LDAPBindPasswd }},
	"ldapsearchattribute":    {methods: []Method{LDAP}, set: setLDAPSearchAttribute, str: func(o *AuthOptions) *string { return &o.LDAPSearchAttribute }},
	"ldapsearchfilter":       {methods: []Method{LDAP}, set: setLDAPSearchFilter, str: func(o *AuthOptions) *string { return &o.LDAPSearchFilter }},
	"ldapbasedn":             {methods: []Method{LDAP}, set: setLDAPBaseDN, str: func(o *AuthOptions) *string { return &o.LDAPBaseDN }},
	"ldapprefix":             {methods: []Method{LDAP}, set: setLDAPPrefix, str: func(o *AuthOptions) *string { return &o.LDAPPrefix }},
	"ldapsuffix":             {methods: []Method{LDAP}, set: setLDAPSuffix, str: func(o *AuthOptions) *string { return &o.LDAPSuffix }},
	"krb_realm":              {methods: []Method{GSS, SSPI}, text: "gssapi and sspi", set: setKrbRealm, str: func(o *AuthOptions) *string { return &o.KrbRealm }},
	"include_realm":          {methods: []Method{GSS, SSPI}, text: "gssapi and sspi", flag: func(o *AuthOptions) *bool { return &o.IncludeRealm }},
	"compat_realm":           {methods: []Method{SSPI}, flag: func(o *AuthOptions) *bool { return &o.CompatRealm }},
	"upn_username":           {methods: []Method{SSPI}, flag: func(o *AuthOptions) *bool { return &o.UPNUsername }},
	"issuer":                 {methods: []Method{OAuth}, minVersion: 18, set: setIssuer, str: func(o *AuthOptions) *string { return &o.Issuer }},
	"scope":                  {methods: []Method{OAuth}, minVersion: 18, set: setScope, str: func(o *AuthOptions) *string { return &o.Scope }},
	"validator":              {methods: []Method{OAuth}, minVersion: 18, set: setValidator, str: func(o *AuthOptions) *string { return &o.Validator }},
	"delegate_ident_mapping": {methods: []Method{OAuth}, minVersion: 18, flag: func(o *AuthOptions) *bool { return &o.DelegateIdentMapping }},
	// Any ldapscheme value but ldap and ldaps only logs `invalid ldapscheme
	// value: "%s"` and is kept as written.
	"ldapscheme": {methods: []Method{LDAP}, set: setLDAPScheme, str: func(o *AuthOptions) *string { return &o.LDAPScheme }},
}

// simple applies an option of simpleOptions given by the token tok.
func (s *authState) simple(tok, name, val string, so *simpleOption) *Error {
	if s.p.version() < so.minVersion {
		return unrecognized(name)
	}
	if !slices.Contains(so.methods, s.r.method) {
		text := so.text
		if text == "" {
			text = so.methods[0].String()
		}
		return wrongMethod(name, text)
	}
	if so.str != nil {
		*so.str(s.o) = val
	} else {
		*so.flag(s.o) = val == "1" // the only true boolean
	}
	if so.set != 0 {
		s.given(so.set, tok)
	}
	return nil
}

// option applies one name=value option, the token tok, as
// parse_hba_auth_opt does.
func (s *authState) option(tok, name, val string) *Error {
	p, r, o := s.p, s.r, s.o
	v := p.version()
	// PostgreSQL resets the LDAP search scope before every option in builds
	// with LDAP support, so an ldapurl scope survives only as the last option.
	if p.Features.Has(FeatureLDAP) && r.method == LDAP {
		o.LDAPScope = ldapScopeSubtree
	}
	if so, ok := simpleOptions[name]; ok {
		return s.simple(tok, name, val, &so)
	}
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
		s.given(setMap, tok)
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
	case "ldapurl":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		return s.ldapURL(val)
	case "ldapport":
		if err := s.require(LDAP, name); err != nil {
			return err
		}
		o.LDAPPort = cemu.Atoi(val)
		if o.LDAPPort == 0 {
			return optionErr(`invalid LDAP port number: "` + val + `"`)
		}
	case "radiusservers", "radiusports", "radiussecrets", "radiusidentifiers":
		if err := s.require(RADIUS, name); err != nil {
			return err
		}
		return s.radiusList(tok, name, val)
	default:
		return unrecognized(name)
	}
	return nil
}

// radiusList applies one of the four RADIUS list options, the token tok.
func (s *authState) radiusList(tok, name, val string) *Error {
	o := s.o
	list, ok := cemu.SplitGUCList(val, ',')
	switch name {
	case "radiusservers":
		if !ok {
			return logOnlyErr(`could not parse RADIUS server list "` + val + `"`)
		}
		for _, h := range list {
			if err := s.resolveRADIUS(h); err != nil {
				return err
			}
		}
		o.RADIUSServers, o.RADIUSServersText = list, val
		s.given(setRADIUSServers, tok)
	case "radiusports":
		if !ok {
			e := optionErr(`invalid RADIUS port number: "` + val + `"`)
			e.Log = `could not parse RADIUS port list "` + val + `"`
			return e
		}
		for _, port := range list {
			if cemu.Atoi(port) == 0 {
				return logOnlyErr(`invalid RADIUS port number: "` + val + `"`)
			}
		}
		o.RADIUSPorts, o.RADIUSPortsText = list, val
		s.given(setRADIUSPorts, tok)
	case "radiussecrets":
		if !ok {
			return logOnlyErr(`could not parse RADIUS secret list "` + val + `"`)
		}
		o.RADIUSSecrets, o.RADIUSSecretsText = list, val
		s.given(setRADIUSSecrets, tok)
	case "radiusidentifiers":
		if !ok {
			return logOnlyErr(`could not parse RADIUS identifiers list "` + val + `"`)
		}
		o.RADIUSIdentifiers, o.RADIUSIdentifiersText = list, val
		s.given(setRADIUSIdentifiers, tok)
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
	u, code := ldapurl.Parse(val)
	if code != ldapurl.OK {
		return optionErr(`could not parse LDAP URL "` + val + `": ` + ldapurl.ErrString(code))
	}
	if u.Scheme != "ldap" && u.Scheme != "ldaps" {
		return optionErr("unsupported LDAP URL scheme: " + u.Scheme)
	}
	o := s.o
	o.LDAPScheme = u.Scheme
	s.given(setLDAPScheme, "")
	if u.HasHost {
		o.LDAPServer = u.Host
		s.given(setLDAPServer, "")
	}
	o.LDAPPort = u.Port
	if u.HasDN {
		o.LDAPBaseDN = u.DN
		s.given(setLDAPBaseDN, "")
	}
	if u.HasAttrs && len(u.Attrs) == 0 {
		// PostgreSQL copies the first attribute without checking that there
		// is one, and crashes on a list of only commas. Fail the line instead.
		return optionErr(`could not parse LDAP URL "` + val + `": empty attribute list`)
	}
	if len(u.Attrs) > 0 {
		o.LDAPSearchAttribute = u.Attrs[0]
		s.given(setLDAPSearchAttribute, "")
	}
	o.LDAPScope = u.Scope
	if u.HasFilter {
		o.LDAPSearchFilter = u.Filter
		s.given(setLDAPSearchFilter, "")
	}
	return nil
}

// resolveRADIUS checks that a RADIUS server name resolves, as PostgreSQL's
// getaddrinfo call at load time does. Numeric addresses, in the forms
// glibc's getaddrinfo reads without a lookup (cemu.NumericHost), need no
// resolver; a nil resolver accepts every other name.
func (s *authState) resolveRADIUS(host string) *Error {
	if _, ok := cemu.NumericHost(host); ok {
		return nil
	}
	res := s.p.RADIUSResolver
	if res == nil {
		return nil
	}
	fail := func(reason string) *Error {
		return logOnlyErr(`could not translate RADIUS server name "` + host + `" to address: ` + reason)
	}
	if host == "" || cemu.BadScope(host) {
		// glibc fails these without a lookup.
		return fail("Name or service not known")
	}
	addrs, err := res.LookupNetIP(s.ctx, "ip", host)
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
	list, ok := cemu.SplitDirectoriesString(libs, ',')
	if !ok {
		return optionErr(`invalid list syntax in parameter "oauth_validator_libraries"`)
	}
	if s.set&setValidator == 0 {
		if len(list) == 1 {
			s.o.Validator = list[0]
			s.given(setValidator, "")
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
