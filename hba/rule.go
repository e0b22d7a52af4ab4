package hba

// A loaded pg_hba.conf record: Rule and the types of its columns
// (ConnType, Method, Token, Address, AuthOptions).

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"slices"
	"strings"
	"unsafe"

	"github.com/pghba/pghba/internal/pgre"
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
	// A switch, which the compiler turns into a search by length and
	// value; TestParseKeywords keeps it in step with connTypeNames.
	switch s {
	case "local":
		return Local
	case "host":
		return Host
	case "hostssl":
		return HostSSL
	case "hostnossl":
		return HostNoSSL
	case "hostgssenc":
		return HostGSSEnc
	case "hostnogssenc":
		return HostNoGSSEnc
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
	// A switch, as in parseConnType; TestParseKeywords keeps it in step
	// with methodNames.
	switch s {
	case "trust":
		return Trust
	case "reject":
		return Reject
	case "md5":
		return MD5
	case "password":
		return Password
	case "scram-sha-256":
		return ScramSHA256
	case "gss":
		return GSS
	case "sspi":
		return SSPI
	case "ident":
		return Ident
	case "peer":
		return Peer
	case "pam":
		return PAM
	case "bsd":
		return BSD
	case "ldap":
		return LDAP
	case "radius":
		return RADIUS
	case "cert":
		return Cert
	case "oauth":
		return OAuth
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

// Rule is one loaded pg_hba.conf record. A Rule is immutable: its fields
// are reached through methods, and the slices and options they return are
// shared and must not be modified.
//
// A Rule is kept small, and with few pointers (the collector marks every
// pointer of every rule a Ruleset holds, at each cycle): its line and
// names are spans of its file's text, its columns offsets into the load's
// name slab, and the rare parts (warnings, regular expressions,
// non-contiguous masks) sit in a side record that most rules do not have.
type Rule struct {
	file *ruleFile
	opts *AuthOptions
	// The database and the user column: names file.strs.names[dbs:][:nDB()]
	// and [users:][:nUser()] (see dbNames). A column of @file names only
	// may be shared with other rules of the load that name the same file.
	// nn holds the two counts, 16 bits each, or is bigCols.
	dbs, users uint32
	nn         uint32
	// ip is, for an AddrIP rule without a side record, the IPv4 address
	// (big-endian value) when v4, else the index of the IPv6 address in
	// file.strs.ip6; with a side record (flExt), the index of the record in
	// file.strs.exts, which holds the address. Addresses have no zone.
	ip     uint32
	line   int32
	number int32
	atext  uint32 // the address token as written (addrText)
	raw    span   // the logical line, in file.text or in the load's table
	typ    ConnType
	method Method
	akind  AddrKind
	bits   uint8 // prefix length of a contiguous mask; noBits when the side record holds the mask
	warn   ruleWarning
	fl     ruleFlags
}

// ruleFlags are a rule's yes-or-no facts.
type ruleFlags uint8

const (
	flNever ruleFlags = 1 << iota // the rule cannot match (Warning says why)
	flV4                          // an AddrIP rule's address is IPv4
	flExt                         // the rule has a side record (ip indexes file.strs.exts)
)

func (r *Rule) never() bool  { return r.fl&flNever != 0 }
func (r *Rule) v4() bool     { return r.fl&flV4 != 0 }
func (r *Rule) hasExt() bool { return r.fl&flExt != 0 }

// ruleFile is what the rules of one file share.
type ruleFile struct {
	name string
	inc  []Position
	// text, when not empty, is the file's text that the rules' lines are
	// substrings of (their raw spans index it); shorter than maxText.
	text string
	strs *strTable // the load's strings that are not in a rule's line
}

// maxText bounds ruleFile.text: a span's offset is 32 bits.
const maxText = 1<<32 - 1

// sameText reports whether a and b are the same string in memory.
func sameText(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// ruleExt holds the parts of a rule that few rules have.
type ruleExt struct {
	ip   [16]byte // the address of an AddrIP rule (the first 4 bytes when v4)
	ndb  uint32   // the counts of names when Rule.nn is bigCols
	nuse uint32
	mask netip.Addr     // a mask that is not a prefix
	res  []*pgre.Regexp // compiled /regex names, aligned with dbNames() then userNames()
}

// strTable holds what the rules of one load keep outside their structs:
// the strings that are not substrings of their files' texts (lines that
// are copies, de-quoted tokens, and the tokens of @files, each of which is
// here once however many rules name the file), the names of their
// database and user columns, IPv6 addresses, and side records. It only
// grows while the load runs and is not changed after (but for trim).
type strTable struct {
	s     []string
	names []name
	ip6   [][16]byte
	exts  []ruleExt
}

// maxStrIndex bounds strTable: a span's offset and a token's at hold an
// index into it.
const maxStrIndex = 1<<31 - 2

// strTable returns the load's string table.
func (l *loader) strTable() *strTable {
	if l.strs == nil {
		l.strs = new(strTable)
	}
	return l.strs
}

// trim gives the name slab its length as capacity once a read is over, so
// that a slab sized ahead keeps no unused room.
func (t *strTable) trim() {
	if n := len(t.names); cap(t.names)-n > n/16 {
		c := make([]name, n)
		copy(c, t.names)
		t.names = c
	}
}

// span is one string of a rule: bytes [off, off+len) of the rule's base
// text (see Rule.base), or the string file.strs.s[off] when ext. Most
// tokens are substrings of their file's text, so a rule does not keep a
// string header for each. It is 6 bytes with byte alignment, so that a
// name is 8.
type span struct {
	o [4]byte // the offset, little-endian
	n [2]byte // the length, little-endian; extLen: o indexes the table
}

// extLen in a span's length marks a table index; longer strings go to the
// table too.
const extLen = 0xffff

func mkSpan(off uint32, n int) span {
	var s span
	binary.LittleEndian.PutUint32(s.o[:], off)
	binary.LittleEndian.PutUint16(s.n[:], uint16(n))
	return s
}

func (s span) off() uint32 { return binary.LittleEndian.Uint32(s.o[:]) }
func (s span) len() int    { return int(binary.LittleEndian.Uint16(s.n[:])) }
func (s span) ext() bool   { return s.n == [2]byte{0xff, 0xff} }

// base returns the text the rule's non-table spans index: its file's
// text, or its line when the line is in the table.
func (r *Rule) base() string {
	if r.raw.ext() {
		return r.file.strs.s[r.raw.off()]
	}
	return r.file.text
}

// str returns the string of s.
func (r *Rule) str(s span) string {
	if s.ext() {
		return r.file.strs.s[s.off()]
	}
	o := s.off()
	return r.base()[o : o+uint32(s.len())]
}

// tableSpan returns the span of s as a new entry of the load's table.
func (r *Rule) tableSpan(s string) span {
	tab := r.file.strs
	tab.s = append(tab.s, s)
	return mkSpan(uint32(len(tab.s)-1), extLen)
}

// setRaw sets the rule's line: a span of its file's text when the line is
// a substring of it, else a table entry.
func (r *Rule) setRaw(s string) {
	if t := r.file.text; len(s) > 0 && len(s) < extLen && len(t) > 0 {
		b := uintptr(unsafe.Pointer(unsafe.StringData(t)))
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		if p >= b && p-b <= uintptr(len(t)) && uintptr(len(s)) <= uintptr(len(t))-(p-b) {
			r.raw = mkSpan(uint32(p-b), len(s))
			return
		}
	}
	r.raw = r.tableSpan(s)
}

// spanOf returns the span of token t: its place in the line, its string
// in the load's table (an @file's token, there already), or a new entry
// of the table. The line (setRaw) must be set.
func (r *Rule) spanOf(t token) span {
	switch {
	case t.at > 0 && len(t.s) < extLen:
		o := uint32(t.at - 1)
		if !r.raw.ext() {
			o += r.raw.off()
		}
		return mkSpan(o, len(t.s))
	case t.at < 0:
		return mkSpan(uint32(-t.at-1), extLen)
	}
	return r.tableSpan(t.s)
}

// atTable in Rule.atext marks the index of the address token in the
// load's table; without it, atext is the token's offset in the line (15
// bits) above its length (16 bits).
const atTable = 1 << 31

// setAddrText sets the rule's address token as written, t, which the line
// (setRaw) holds when t.at > 0.
func (r *Rule) setAddrText(t token) {
	switch {
	case t.at > 0 && t.at-1 < 1<<15 && len(t.s) < 1<<16:
		r.atext = uint32(t.at-1)<<16 | uint32(len(t.s))
	case t.at < 0:
		r.atext = atTable | uint32(-t.at-1)
	default:
		r.atext = atTable | r.tableSpan(t.s).off()
	}
}

// addrText returns the address token as written ("" for a local rule).
func (r *Rule) addrText() string {
	if r.atext&atTable != 0 {
		return r.file.strs.s[r.atext&^atTable]
	}
	o, n := r.atext>>16, r.atext&0xffff
	return r.str(r.raw)[o : o+n]
}

// noBits in Rule.bits means the mask is not contiguous.
const noBits = 0xff

// name is one database or user token as the matcher reads it: 8 bytes.
type name struct {
	sp     span // the token's text (for +role and /regex, with the sign)
	kind   nameKind
	quoted bool
}

// is reports whether the name of rule r is s.
func (n *name) is(r *Rule, s string) bool {
	if n.sp.ext() {
		return r.file.strs.s[n.sp.off()] == s
	}
	if n.sp.len() != len(s) {
		return false
	}
	o := n.sp.off()
	return r.base()[o:o+uint32(len(s))] == s
}

// ruleWarning is one of the texts PostgreSQL stores for a rule that loads
// but cannot match.
type ruleWarning uint8

const (
	warnNone ruleWarning = iota
	warnSSLNotSupported
	warnSSLDisabled
	warnGSSNotSupported
)

var warningTexts = [...]string{
	"",
	"hostssl record cannot match because SSL is not supported by this build",
	"hostssl record cannot match because SSL is disabled",
	"hostgssenc record cannot match because GSSAPI is not supported by this build",
}

// Pos returns the file (absolute, cleaned path) and the number of the first
// physical line of the record.
func (r *Rule) Pos() Position {
	return Position{Filename: r.file.name, Line: int(r.line)}
}

// IncludedFrom returns the include directives that led to the rule's
// file, innermost first; nil for rules of the main file.
func (r *Rule) IncludedFrom() []Position { return r.file.inc }

// Raw returns the logical line as PostgreSQL keeps it: continuation
// backslashes and line terminators removed.
func (r *Rule) Raw() string { return r.str(r.raw) }

// Number returns the 1-based position of the rule in the loaded list
// (pg_hba_file_rules.rule_number for files without warnings).
func (r *Rule) Number() int { return int(r.number) }

// Type returns the connection type column.
func (r *Rule) Type() ConnType { return r.typ }

// Databases returns the database column's tokens after @file expansion.
func (r *Rule) Databases() []Token { return r.tokens(r.dbNames()) }

// Users returns the user column's tokens after @file expansion.
func (r *Rule) Users() []Token { return r.tokens(r.userNames()) }

// bigCols in Rule.nn says that a column has 0xffff names or more: the
// side record holds the counts.
const bigCols = 0xffffffff

// nDB returns the number of names of the database column.
func (r *Rule) nDB() uint32 {
	if r.nn == bigCols {
		return r.file.strs.exts[r.ip].ndb
	}
	return r.nn & 0xffff
}

// nUser returns the number of names of the user column.
func (r *Rule) nUser() uint32 {
	if r.nn == bigCols {
		return r.file.strs.exts[r.ip].nuse
	}
	return r.nn >> 16
}

// setColumn sets the database (db) or the user column to the n names
// file.strs.names[off:].
func (r *Rule) setColumn(db bool, off, n uint32) {
	nd, nu := r.nDB(), r.nUser()
	if db {
		r.dbs, nd = off, n
	} else {
		r.users, nu = off, n
	}
	if r.nn != bigCols && nd < 0xffff && nu < 0xffff {
		r.nn = nd | nu<<16
		return
	}
	e := r.extra()
	e.ndb, e.nuse = nd, nu
	r.nn = bigCols
}

// dbNames returns the names of the database column. The slice is shared
// and must not be modified.
func (r *Rule) dbNames() []name {
	n := r.nDB()
	if n == 0 {
		return nil
	}
	return r.file.strs.names[r.dbs : r.dbs+n : r.dbs+n]
}

// userNames returns the names of the user column, shared as dbNames. The
// regular expression of userNames()[j] is regexp(nDB()+j).
func (r *Rule) userNames() []name {
	n := r.nUser()
	if n == 0 {
		return nil
	}
	return r.file.strs.names[r.users : r.users+n : r.users+n]
}

func (r *Rule) tokens(ns []name) []Token {
	t := make([]Token, len(ns))
	for i, n := range ns {
		t[i] = Token{Value: r.str(n.sp), Quoted: n.quoted}
	}
	return t
}

// Address returns the address column; its Kind is AddrNone for local rules.
func (r *Rule) Address() Address {
	if r.akind == AddrNone {
		return Address{}
	}
	a := Address{Kind: r.akind, Text: r.addrText()}
	switch r.akind {
	case AddrIP:
		a.IP, a.Mask = r.addr(), r.mask()
	case AddrHostName:
		a.Host = a.Text
	}
	return a
}

// addr returns the address of an AddrIP rule.
func (r *Rule) addr() netip.Addr {
	b := r.ip16()
	if r.v4() {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// ip16 returns the address bytes of an AddrIP rule (the first 4 when v4).
func (r *Rule) ip16() [16]byte {
	var b [16]byte
	switch {
	case r.hasExt():
		return r.file.strs.exts[r.ip].ip
	case r.v4():
		binary.BigEndian.PutUint32(b[:4], r.ip)
		return b
	}
	return r.file.strs.ip6[r.ip]
}

// setAddr stores the address of an AddrIP rule (without a zone): in the
// side record when the rule has one, in r.ip when IPv4, else in the
// load's table of IPv6 addresses.
func (r *Rule) setAddr(a netip.Addr) {
	r.fl &^= flV4
	if a.Is4() {
		r.fl |= flV4
	}
	var b [16]byte
	if r.v4() {
		x := a.As4()
		copy(b[:], x[:])
	} else {
		b = a.As16()
	}
	switch {
	case r.hasExt():
		r.file.strs.exts[r.ip].ip = b
	case r.v4():
		r.ip = binary.BigEndian.Uint32(b[:4])
	default:
		tab := r.file.strs
		tab.ip6 = append(tab.ip6, b)
		r.ip = uint32(len(tab.ip6) - 1)
	}
}

// mask returns the mask of an AddrIP rule.
func (r *Rule) mask() netip.Addr {
	if r.bits == noBits {
		return r.file.strs.exts[r.ip].mask
	}
	var b [16]byte
	n := 4
	if !r.v4() {
		n = 16
	}
	for i := 0; i < int(r.bits); i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	if n == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// Method returns the authentication method (ident on a local rule is peer).
func (r *Rule) Method() Method { return r.method }

// Options returns the rule's validated options, never nil. The value is
// shared and must not be modified, nor the slices in it: the rules of one
// load that have the same method and no option tokens share one
// *AuthOptions, and so do the rules of one load whose options are equal
// in every field (the same method and option tokens give that), so a
// change would reach all of them and every Ruleset built from that load,
// while it is in use by other goroutines. Loads never share options with
// each other.
// Copy the value (o := *r.Options()) to change it; the slice fields of a
// copy still share their arrays. TestOptionsSharing shows the sharing.
func (r *Rule) Options() *AuthOptions { return r.opts }

// Warning returns the non-fatal text PostgreSQL stores for a rule that
// loads but can never match (for example "hostssl record cannot match
// because SSL is disabled"), or "".
func (r *Rule) Warning() string { return warningTexts[r.warn] }

// Never reports whether the rule loads but no connection can ever match it
// (hostssl with SSL off, hostgssenc without GSSAPI).
func (r *Rule) Never() bool { return r.never() }

// ViewOptions returns the options column PostgreSQL's pg_hba_file_rules view
// shows for the rule (nil when it shows NULL). The slice is shared and must
// not be modified.
func (r *Rule) ViewOptions() []string { return r.opts.view }

// regexp returns the compiled regular expression of names[i].
func (r *Rule) regexp(i int) *pgre.Regexp { return r.file.strs.exts[r.ip].res[i] }

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

	// view is the pg_hba_file_rules options column, computed at load.
	view []string
}

// equal reports whether o and x hold the same options, field by field
// (TestAuthOptionsEqual checks that every field is compared).
func (o *AuthOptions) equal(x *AuthOptions) bool {
	return slices.Equal(o.Raw, x.Raw) && slices.Equal(o.view, x.view) &&
		o.Map == x.Map && o.IncludeRealm == x.IncludeRealm && o.KrbRealm == x.KrbRealm &&
		o.CompatRealm == x.CompatRealm && o.UPNUsername == x.UPNUsername &&
		o.ClientCert == x.ClientCert && o.ClientName == x.ClientName &&
		o.PAMService == x.PAMService && o.PAMUseHostname == x.PAMUseHostname &&
		o.LDAPServer == x.LDAPServer && o.LDAPPort == x.LDAPPort && o.LDAPScheme == x.LDAPScheme &&
		o.LDAPTLS == x.LDAPTLS && o.LDAPPrefix == x.LDAPPrefix && o.LDAPSuffix == x.LDAPSuffix &&
		o.LDAPBaseDN == x.LDAPBaseDN && o.LDAPBindDN == x.LDAPBindDN &&
		o.LDAPBindPasswd == x.LDAPBindPasswd && o.LDAPSearchAttribute == x.LDAPSearchAttribute &&
		o.LDAPSearchFilter == x.LDAPSearchFilter && o.LDAPScope == x.LDAPScope &&
		slices.Equal(o.RADIUSServers, x.RADIUSServers) && slices.Equal(o.RADIUSSecrets, x.RADIUSSecrets) &&
		slices.Equal(o.RADIUSIdentifiers, x.RADIUSIdentifiers) && slices.Equal(o.RADIUSPorts, x.RADIUSPorts) &&
		o.RADIUSServersText == x.RADIUSServersText && o.RADIUSSecretsText == x.RADIUSSecretsText &&
		o.RADIUSIdentifiersText == x.RADIUSIdentifiersText && o.RADIUSPortsText == x.RADIUSPortsText &&
		o.Issuer == x.Issuer && o.Scope == x.Scope && o.Validator == x.Validator &&
		o.DelegateIdentMapping == x.DelegateIdentMapping
}

// hash is a hash of the option tokens of o, for finding equal options.
func (o *AuthOptions) hash(seed maphash.Seed) uint64 {
	// One maphash.String per string, mixed: cheaper than a maphash.Hash
	// fed byte by byte, and equal tokens still hash alike (equal decides).
	h := uint64(len(o.Raw))
	for _, t := range o.Raw {
		h = (h^maphash.String(seed, t.Name))*0x9e3779b97f4a7c15 + 1
		h = (h ^ maphash.String(seed, t.Value)) * 0xbf58476d1ce4e5b9
	}
	return h
}

// contains reports whether ip is inside the range of an AddrIP rule; false
// across address families, as in PostgreSQL. The zone is ignored.
func (r *Rule) contains(ip netip.Addr) bool {
	if ip.Is4() != r.v4() {
		return false
	}
	if r.bits == noBits {
		return Address{Kind: AddrIP, IP: r.addr(), Mask: r.mask()}.Contains(ip)
	}
	if ip.Is4() {
		x := ip.As4()
		a := r.ip
		if r.hasExt() {
			b := r.ip16()
			a = binary.BigEndian.Uint32(b[:4])
		}
		d := binary.BigEndian.Uint32(x[:]) ^ a
		// A shift by 32 or more gives 0 in Go: /0 contains every address.
		return d>>(32-uint(r.bits)) == 0
	}
	x, y := ip.As16(), r.ip16()
	hi := binary.BigEndian.Uint64(x[:8]) ^ binary.BigEndian.Uint64(y[:8])
	lo := binary.BigEndian.Uint64(x[8:]) ^ binary.BigEndian.Uint64(y[8:])
	switch b := uint(r.bits); {
	case b == 0:
		return true
	case b <= 64:
		return hi>>(64-b) == 0
	default:
		return hi == 0 && lo>>(128-b) == 0
	}
}

// nameMatcher is a name in the shape the analyses (explain, lint) read:
// s is the role name without its sign for nameRole.
type nameMatcher struct {
	kind nameKind
	s    string
	re   *pgre.Regexp // nameRegex
}

// matchers returns the database (db) or user column as nameMatchers.
func (r *Rule) matchers(db bool) []nameMatcher {
	ns, lo := r.dbNames(), 0
	if !db {
		ns, lo = r.userNames(), int(r.nDB())
	}
	out := make([]nameMatcher, 0, len(ns))
	for j, n := range ns {
		i := lo + j
		m := nameMatcher{kind: n.kind, s: r.str(n.sp)}
		switch n.kind {
		case nameRole:
			m.s = m.s[1:]
		case nameRegex:
			m.re = r.regexp(i)
		}
		out = append(out, m)
	}
	return out
}
