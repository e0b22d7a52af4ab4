package hba

// The options column of pg_hba_file_rules: the validated options of a rule
// as PostgreSQL's get_hba_options lists them.

// view returns the pg_hba_file_rules options column, nil for NULL (or
// empty when s.o.view has an array to reuse). The entries of string
// options given by a token are that token, not a copy.
func (s *authState) view() []string {
	p, r, o := s.p, s.r, s.o
	out := o.view[:0]
	add := func(name, val string) { out = append(out, name+"="+val) }
	// given adds the string option bit, name=val.
	given := func(bit optSet, name, val string) {
		if t := s.tok[bit.bit()]; t != "" {
			out = append(out, t)
		} else {
			add(name, val)
		}
	}
	if r.method == GSS || r.method == SSPI {
		if o.IncludeRealm {
			out = append(out, "include_realm=true")
		}
		if s.set&setKrbRealm != 0 {
			given(setKrbRealm, "krb_realm", o.KrbRealm)
		}
	}
	if s.set&setMap != 0 {
		given(setMap, "map", o.Map)
	}
	switch o.ClientCert {
	case ClientCertVerifyCA:
		add("clientcert", "verify-ca")
	case ClientCertVerifyFull:
		add("clientcert", "verify-full")
	}
	if s.set&setPAMService != 0 {
		given(setPAMService, "pamservice", o.PAMService)
	}
	switch r.method {
	case LDAP:
		if s.set&setLDAPServer != 0 {
			given(setLDAPServer, "ldapserver", o.LDAPServer)
		}
		if o.LDAPPort != 0 {
			add("ldapport", itoa(o.LDAPPort))
		}
		if s.set&setLDAPScheme != 0 && p.viewShowsLDAPScheme() {
			given(setLDAPScheme, "ldapscheme", o.LDAPScheme)
		}
		if o.LDAPTLS {
			out = append(out, "ldaptls=true")
		}
		if s.set&setLDAPPrefix != 0 {
			given(setLDAPPrefix, "ldapprefix", o.LDAPPrefix)
		}
		if s.set&setLDAPSuffix != 0 {
			given(setLDAPSuffix, "ldapsuffix", o.LDAPSuffix)
		}
		if s.set&setLDAPBaseDN != 0 {
			given(setLDAPBaseDN, "ldapbasedn", o.LDAPBaseDN)
		}
		if s.set&setLDAPBindDN != 0 {
			given(setLDAPBindDN, "ldapbinddn", o.LDAPBindDN)
		}
		if s.set&setLDAPBindPasswd != 0 {
			given(setLDAPBindPasswd, "ldapbindpasswd", o.LDAPBindPasswd)
		}
		if s.set&setLDAPSearchAttribute != 0 {
			given(setLDAPSearchAttribute, "ldapsearchattribute", o.LDAPSearchAttribute)
		}
		if s.set&setLDAPSearchFilter != 0 {
			given(setLDAPSearchFilter, "ldapsearchfilter", o.LDAPSearchFilter)
		}
		if o.LDAPScope != 0 {
			add("ldapscope", itoa(o.LDAPScope))
		}
	case RADIUS:
		if s.set&setRADIUSServers != 0 {
			given(setRADIUSServers, "radiusservers", o.RADIUSServersText)
		}
		if s.set&setRADIUSSecrets != 0 {
			given(setRADIUSSecrets, "radiussecrets", o.RADIUSSecretsText)
		}
		if s.set&setRADIUSIdentifiers != 0 {
			given(setRADIUSIdentifiers, "radiusidentifiers", o.RADIUSIdentifiersText)
		}
		if s.set&setRADIUSPorts != 0 {
			given(setRADIUSPorts, "radiusports", o.RADIUSPortsText)
		}
	case OAuth:
		if s.set&setIssuer != 0 {
			given(setIssuer, "issuer", o.Issuer)
		}
		if s.set&setScope != 0 {
			given(setScope, "scope", o.Scope)
		}
		if s.set&setValidator != 0 {
			given(setValidator, "validator", o.Validator)
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
