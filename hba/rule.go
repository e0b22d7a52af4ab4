package hba

import (
	"net/netip"
	"strings"
)

// ConnType is the connection type column of a pg_hba.conf record.
// The zero value is invalid.
type ConnType uint8

// Connection types, in PostgreSQL's spelling.
const (
	Local        ConnType = iota + 1 // local
	Host                             // host
	HostSSL                          // hostssl
	HostNoSSL                        // hostnossl
	HostGSSEnc                       // hostgssenc
	HostNoGSSEnc                     // hostnogssenc
)

var connTypeNames = [...]string{"", "local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}

// String returns the keyword as written in pg_hba.conf, or "" for the zero value.
func (t ConnType) String() string {
	if int(t) < len(connTypeNames) {
		return connTypeNames[t]
	}
	return ""
}

// IsValid reports whether t is one of the six connection types.
func (t ConnType) IsValid() bool { return t >= Local && t <= HostNoGSSEnc }

func parseConnType(s string) ConnType {
	for i, n := range connTypeNames {
		if i > 0 && n == s {
			return ConnType(i)
		}
	}
	return 0
}

// Method is an authentication method. The zero value is invalid.
type Method uint8

// Authentication methods, in PostgreSQL's spelling.
const (
	Trust       Method = iota + 1 // trust
	Reject                        // reject
	MD5                           // md5
	Password                      // password
	ScramSHA256                   // scram-sha-256
	GSS                           // gss
	SSPI                          // sspi
	Ident                         // ident
	Peer                          // peer
	PAM                           // pam
	BSD                           // bsd
	LDAP                          // ldap
	RADIUS                        // radius
	Cert                          // cert
	OAuth                         // oauth (PostgreSQL 18)
)

var methodNames = [...]string{"", "trust", "reject", "md5", "password", "scram-sha-256", "gss", "sspi",
	"ident", "peer", "pam", "bsd", "ldap", "radius", "cert", "oauth"}

// String returns the method keyword as written in pg_hba.conf, or "" for the zero value.
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return ""
}

// IsValid reports whether m is a known method.
func (m Method) IsValid() bool { return m >= Trust && m <= OAuth }

func parseMethod(s string) Method {
	for i, n := range methodNames {
		if i > 0 && n == s {
			return Method(i)
		}
	}
	return 0
}

// Token is one list element of a database or user column (or of a pg_ident.conf
// field) after @file expansion. Quoted reports whether the token started with a
// double quote, which makes keywords (all, sameuser, +role, …) plain names.
type Token struct {
	Value  string
	Quoted bool
}

// String returns the token as it could be written back into a file: quoted
// when it was quoted or when it would not read back as the same token.
func (t Token) String() string {
	if !t.Quoted && t.Value != "" && !strings.ContainsAny(t.Value, " \t\r\n,#\"") &&
		(t.Value[0] != '@' || len(t.Value) == 1) {
		return t.Value
	}
	return `"` + strings.ReplaceAll(t.Value, `"`, `""`) + `"`
}

// AddrKind tells what the address column of a host rule holds.
type AddrKind uint8

// Address kinds. The zero value, AddrNone, is what local rules have.
const (
	AddrNone     AddrKind = iota // local rule: no address column
	AddrAll                      // all
	AddrSameHost                 // samehost
	AddrSameNet                  // samenet
	AddrIP                       // an IP address with a mask (CIDR or separate mask column)
	AddrHostName                 // a host name, or a .suffix when it starts with a dot
)

var addrKindNames = [...]string{"none", "all", "samehost", "samenet", "ip", "hostname"}

// String returns a short lower-case name of the kind.
func (k AddrKind) String() string {
	if int(k) < len(addrKindNames) {
		return addrKindNames[k]
	}
	return ""
}

// Address is the address column of a host rule.
type Address struct {
	Kind AddrKind
	// IP and Mask are set for AddrIP. Mask has the same family as IP and may be
	// any bit pattern (PostgreSQL accepts non-contiguous masks); host bits of
	// the written address are kept in IP and ignored when matching.
	IP   netip.Addr
	Mask netip.Addr
	// Host is the host name or .suffix for AddrHostName.
	Host string
	// Text is the address token as written (after @file expansion).
	Text string
}

// Prefix returns the address as a prefix when the mask is contiguous. ok is
// false for non-IP addresses and for non-contiguous masks.
func (a Address) Prefix() (p netip.Prefix, ok bool) {
	if a.Kind != AddrIP {
		return netip.Prefix{}, false
	}
	bits, ok := maskBits(a.Mask)
	if !ok {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a.IP, bits).Masked(), true
}

// maskBits returns the prefix length of a contiguous mask.
func maskBits(m netip.Addr) (int, bool) {
	b := m.AsSlice()
	n := 0
	seenZero := false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) != 0 {
				if seenZero {
					return 0, false
				}
				n++
			} else {
				seenZero = true
			}
		}
	}
	return n, true
}

// Contains reports whether ip is inside the address range. It is false for
// every non-IP kind and across address families, as in PostgreSQL.
func (a Address) Contains(ip netip.Addr) bool {
	if a.Kind != AddrIP || ip.Is4() != a.IP.Is4() {
		return false
	}
	if a.IP.Is4() {
		x, y, m := ip.As4(), a.IP.As4(), a.Mask.As4()
		for i := range x {
			if (x[i]^y[i])&m[i] != 0 {
				return false
			}
		}
		return true
	}
	x, y, m := ip.As16(), a.IP.As16(), a.Mask.As16()
	for i := range x {
		if (x[i]^y[i])&m[i] != 0 {
			return false
		}
	}
	return true
}

// Position is a place in a configuration file. Line is 1-based; Column, when
// non-zero, is a 1-based byte column.
type Position struct {
	Filename string
	Line     int
	Column   int
}

// IsValid reports whether the position names a line.
func (p Position) IsValid() bool { return p.Line > 0 }

// String returns "file:line" or "file:line:col".
func (p Position) String() string {
	s := p.Filename
	if s == "" {
		s = "-"
	}
	if p.Line > 0 {
		s += ":" + itoa(p.Line)
		if p.Column > 0 {
			s += ":" + itoa(p.Column)
		}
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Rule is one loaded pg_hba.conf record. Rules are immutable once loaded.
type Rule struct {
	// Pos is the file (absolute, cleaned path) and the number of the first
	// physical line of the record.
	Pos Position
	// IncludedFrom lists the include directives that led to this file,
	// innermost first. Empty for rules of the main file.
	IncludedFrom []Position
	// Raw is the logical line as PostgreSQL keeps it: continuation
	// backslashes and line terminators removed.
	Raw string
	// Number is the 1-based position of the rule in the loaded list
	// (pg_hba_file_rules.rule_number for files without warnings).
	Number int

	Type      ConnType
	Databases []Token
	Users     []Token
	Address   Address
	Method    Method
	// Options are the rule's validated options; never nil in a loaded
	// rule. Rules of one load whose options are identical (typically rules
	// without options) share one value, which must not be modified.
	Options *AuthOptions

	// Warning is the non-fatal text PostgreSQL stores for a rule that loads
	// but can never match (for example "hostssl record cannot match because
	// SSL is disabled"). Empty for ordinary rules.
	Warning string
	// Never is true when the rule loads but no connection can ever match it
	// (hostssl with SSL off, hostgssenc without GSSAPI).
	Never bool

	dbs   []nameMatcher
	users []nameMatcher
	// view is the options column of pg_hba_file_rules, computed at load.
	view []string
}

// ViewOptions returns the options column PostgreSQL's pg_hba_file_rules view
// shows for the rule (nil when it shows NULL).
func (r *Rule) ViewOptions() []string { return r.view }

// Option is one name=value option token as written.
type Option struct {
	Name, Value string
}

// ClientCertMode is the clientcert option's value.
type ClientCertMode uint8

// Client certificate modes.
const (
	ClientCertOff ClientCertMode = iota
	ClientCertVerifyCA
	ClientCertVerifyFull
)

// ClientNameMode is the clientname option's value (14+).
type ClientNameMode uint8

// Client name modes.
const (
	ClientNameCN ClientNameMode = iota
	ClientNameDN
)

// AuthOptions are the options of a rule after validation, with PostgreSQL's
// defaults applied. Raw keeps the option tokens as written, in order.
type AuthOptions struct {
	Raw []Option

	Map          string
	IncludeRealm bool
	KrbRealm     string
	CompatRealm  bool
	UPNUsername  bool
	ClientCert   ClientCertMode
	ClientName   ClientNameMode

	PAMService     string
	PAMUseHostname bool

	LDAPServer          string
	LDAPPort            int
	LDAPScheme          string
	LDAPTLS             bool
	LDAPPrefix          string
	LDAPSuffix          string
	LDAPBaseDN          string
	LDAPBindDN          string
	LDAPBindPasswd      string
	LDAPSearchAttribute string
	LDAPSearchFilter    string
	LDAPScope           int

	RADIUSServers     []string
	RADIUSSecrets     []string
	RADIUSIdentifiers []string
	RADIUSPorts       []string
	// The list texts as written, as the view shows them.
	RADIUSServersText, RADIUSSecretsText, RADIUSIdentifiersText, RADIUSPortsText string

	Issuer               string
	Scope                string
	Validator            string
	DelegateIdentMapping bool
}
