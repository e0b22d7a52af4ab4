package hba

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
)

// Column names one of the tests PostgreSQL runs on each rule, in the order
// it runs them: type, ssl, gss, address, database, user. The zero value is
// invalid.
type Column uint8

// Columns, in test order.
const (
	ColumnType     Column = iota + 1 // local vs TCP
	ColumnSSL                        // hostssl / hostnossl against the connection's SSL
	ColumnGSS                        // hostgssenc / hostnogssenc against GSSAPI encryption
	ColumnAddress                    // the address column
	ColumnDatabase                   // the database column
	ColumnUser                       // the user column
)

var columnNames = [...]string{"", "type", "ssl", "gss", "address", "database", "user"}

// String returns "type", "ssl", "gss", "address", "database" or "user".
func (c Column) String() string {
	if int(c) < len(columnNames) {
		return columnNames[c]
	}
	return ""
}

// IsValid reports whether c is one of the six columns.
func (c Column) IsValid() bool { return c >= ColumnType && c <= ColumnUser }

// Miss is why one rule did not match a connection: the first test that
// failed, and the reason in words.
type Miss struct {
	Rule   *Rule
	Column Column
	// Reason is a sentence for a person, naming the rule's value and the
	// connection's, e.g. "address 10.0.0.0/8 does not contain 192.168.1.5".
	Reason string
}

// Trace is the explanation of one decision: every rule tested before the
// deciding one with the reason it did not match, then the decision.
type Trace struct {
	// Database and User are the names the rules were compared with: after
	// the database defaults to the user name, the db_user_namespace rewrite
	// and truncation to 63 bytes. Database is "" for physical replication.
	Database, User string
	// Misses has one entry per rule before the deciding one (every rule for
	// NoMatch), in file order.
	Misses []Miss
	// Decision is the decision, the same as Ruleset.Decide returns.
	Decision Decision
	// Message is PostgreSQL's client message for the decision ("" for
	// Matched); see Ruleset.Message.
	Message string
}

// Explain decides c as Decide does and says why each rule before the
// deciding one did not match. It evaluates the rules itself, in the same
// order and with the same outside lookups as Decide, and always reaches
// the same decision. It is meant for people and is not optimised.
//
// A rule that cannot be evaluated ends the trace there, as it ends the
// decision: Decision is Unresolved at that rule with its Reason (for
// example ReasonRegexTooComplex, never a miss saying the expression "does
// not match"), and Message names the rule and the reason. A nil Ruleset
// gives the refusal of a zero [Holder]: NoMatch, no misses, and the
// message "no pg_hba.conf loaded".
func (rs *Ruleset) Explain(ctx context.Context, c Conn) Trace {
	if rs == nil {
		t := Trace{Decision: Decision{Outcome: NoMatch}, Message: noRulesetMessage}
		t.User, t.Database = c.names(MaxVersion, false)
		return t
	}
	ex := explainer{ctx: ctx, env: &rs.env, conn: c, rs: rs}
	ex.db, ex.user = rs.matchNames(c)
	t := Trace{Database: ex.db, User: ex.user}
	for _, r := range rs.rules {
		col, reason, unresolved := ex.rule(r)
		if unresolved {
			t.Decision = Decision{Outcome: Unresolved, Rule: r, Reason: ex.reason, Err: ex.err}
			break
		}
		if col == 0 {
			t.Decision = Decision{Outcome: Matched, Rule: r}
			if r.Method() == Reject {
				t.Decision.Outcome = Rejected
			}
			break
		}
		t.Misses = append(t.Misses, Miss{Rule: r, Column: col, Reason: reason})
	}
	t.Message = rs.Message(t.Decision, c)
	return t
}

// matchNames returns the database and user names rules are compared with
// (SEMANTICS §5.1).
func (rs *Ruleset) matchNames(c Conn) (db, user string) {
	user, db = c.names(rs.version, rs.dbUserNS)
	return db, user
}

// explainer is the per-connection state of one explanation: the server's
// host-name cache and the interface list, as Decide keeps them.
type explainer struct {
	ctx      context.Context
	env      *Env
	conn     Conn
	db, user string
	cur      *Rule // the rule being tested
	rs       *Ruleset

	host     hostState
	hostname string
	hostWhy  string // why host-name checks fail for this connection, once hostFailed
	hostAt   *Rule  // the rule whose check failed
	ifaddrs  []netip.Prefix
	ifErr    error
	ifLoaded bool
	// ifCtxEnded: the context had ended when Interfaces failed, which
	// refuses even with Env.FailuresDoNotMatch.
	ifCtxEnded bool
	reason     Reason
	err        error
}

// rule runs the tests on r. col is 0 when r matches; otherwise it names the
// failed test and reason says why. unresolved stops the decision at r.
func (ex *explainer) rule(r *Rule) (col Column, reason string, unresolved bool) {
	ex.cur = r
	c := &ex.conn
	if r.Never() {
		col := ColumnSSL
		if r.Type() == HostGSSEnc {
			col = ColumnGSS
		}
		return col, r.Warning(), false
	}
	if c.Local {
		if r.Type() != Local {
			return ColumnType, "connection type " + r.Type().String() + " is for TCP connections; this connection is over the Unix-domain socket", false
		}
	} else {
		if r.Type() == Local {
			return ColumnType, "connection type local is for Unix-domain socket connections; this connection is TCP from " + ex.addrText(), false
		}
		if why := sslMiss(r.Type(), c); why != "" {
			return ColumnSSL, why, false
		}
		if why := gssMiss(r.Type(), c); why != "" {
			return ColumnGSS, why, false
		}
		why, un := ex.address(r)
		if un {
			return 0, "", true
		}
		if why != "" {
			return ColumnAddress, why, false
		}
	}
	why, un := ex.database(r)
	if un {
		return 0, "", true
	}
	if why != "" {
		return ColumnDatabase, why, false
	}
	why, un = ex.users(r)
	if un {
		return 0, "", true
	}
	if why != "" {
		return ColumnUser, why, false
	}
	return 0, "", false
}

// encryption describes a TCP connection's encryption.
func encryption(c *Conn) string {
	switch {
	case c.GSS:
		return "GSSAPI-encrypted"
	case c.SSL:
		return "SSL-encrypted"
	}
	return "not encrypted"
}

func sslMiss(t ConnType, c *Conn) string {
	switch {
	case t == HostSSL && !c.SSL:
		return "connection type hostssl needs SSL; this connection is " + encryption(c)
	case t == HostNoSSL && c.SSL:
		return "connection type hostnossl excludes SSL; this connection is SSL-encrypted"
	}
	return ""
}

func gssMiss(t ConnType, c *Conn) string {
	switch {
	case t == HostGSSEnc && !c.GSS:
		return "connection type hostgssenc needs GSSAPI encryption; this connection is " + encryption(c)
	case t == HostNoGSSEnc && c.GSS:
		return "connection type hostnogssenc excludes GSSAPI encryption; this connection is GSSAPI-encrypted"
	}
	return ""
}

func (ex *explainer) addrText() string { return ex.conn.Addr.String() }

// addressText is the rule's address column as written, with its mask
// column when it has one.
func addressText(a *Address) string {
	if a.Kind == AddrIP && !strings.Contains(a.Text, "/") {
		return a.Text + " mask " + a.Mask.String()
	}
	return a.Text
}

func family(ip netip.Addr) string {
	if ip.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// address returns "" when the address test passes.
func (ex *explainer) address(r *Rule) (why string, unresolved bool) {
	a := r.Address()
	ip := ex.conn.Addr
	switch a.Kind {
	case AddrAll:
		return "", false
	case AddrIP:
		if a.Contains(ip) {
			return "", false
		}
		if a.IP.Is4() != ip.Is4() {
			return "address " + addressText(&a) + " is " + family(a.IP) + " and " + ip.String() + " is " + family(ip) +
				"; PostgreSQL does not match across address families", false
		}
		return "address " + addressText(&a) + " does not contain " + ip.String(), false
	case AddrSameHost, AddrSameNet:
		return ex.sameHostNet(a.Kind, ip)
	case AddrHostName:
		return ex.hostName(a.Host)
	}
	return "the rule has no address", false
}

func (ex *explainer) sameHostNet(kind AddrKind, ip netip.Addr) (why string, unresolved bool) {
	if !ex.ifLoaded {
		src := ex.env.Interfaces
		if src == nil {
			src = SystemInterfaces
		}
		ex.ifaddrs, ex.ifErr = src.InterfaceAddrs(ex.ctx)
		if ex.ifErr != nil {
			ex.ifaddrs = nil
			ex.ifCtxEnded = ex.ctx.Err() != nil
		}
		ex.ifLoaded = true
	}
	if ex.ifErr != nil {
		if !ex.env.FailuresDoNotMatch || ex.ifCtxEnded {
			ex.reason, ex.err = ReasonInterfacesFailed, ex.ifErr
			return "", true
		}
		return kind.String() + ": the server's network interfaces could not be listed (" + ex.ifErr.Error() +
			"), which Env.FailuresDoNotMatch counts as no match", false
	}
	return ex.sameHostNetList(kind, ip), false
}

// sameHostNetList is sameHostNet once the interfaces are listed.
func (ex *explainer) sameHostNetList(kind AddrKind, ip netip.Addr) string {
	var list []string
	for _, p := range ex.ifaddrs {
		if p.Addr().Is4() != ip.Is4() {
			continue
		}
		if kind == AddrSameHost {
			if p.Addr().WithZone("") == ip.WithZone("") {
				return ""
			}
			list = append(list, p.Addr().WithZone("").String())
			continue
		}
		bits := p.Bits()
		if bits <= 0 {
			bits = p.Addr().BitLen()
		}
		n := netip.PrefixFrom(p.Addr().WithZone(""), bits)
		if n.Contains(ip.WithZone("")) {
			return ""
		}
		list = append(list, n.Masked().String())
	}
	if len(list) == 0 {
		return kind.String() + ": the server has no " + family(ip) + " interface address"
	}
	if kind == AddrSameHost {
		return "samehost: " + ip.String() + " is not an address of the server {" + strings.Join(list, ", ") + "}"
	}
	return "samenet: " + ip.String() + " is not in a network of the server {" + strings.Join(list, ", ") + "}"
}

// hostName follows the server's host-name check and its per-connection
// cache (SEMANTICS §5.3).
func (ex *explainer) hostName(h string) (why string, unresolved bool) {
	ip := ex.conn.Addr
	if ex.host == hostFailed {
		at := ex.hostAt.Pos()
		where := "line " + itoa(at.Line)
		if at.Filename != ex.cur.Pos().Filename {
			where = ex.rs.relPos(at)
		}
		return "host name rule " + h + ": not checked, as the host-name check of " + where +
			" failed for this connection (" + ex.hostWhy + ")", false
	}
	res := ex.env.Resolver
	if res == nil {
		ex.reason = ReasonNoResolver
		return "", true
	}
	if ex.host == hostUnknown {
		names, err := res.LookupAddr(ex.ctx, ip.String())
		if cerr := ex.ctx.Err(); cerr != nil {
			ex.reason, ex.err = ReasonResolverCanceled, cerr
			return "", true
		}
		if err != nil && !ex.env.FailuresDoNotMatch && !isNotFound(err) {
			ex.reason, ex.err = ReasonResolverFailed, err
			return "", true
		}
		if err != nil || len(names) == 0 {
			ex.host, ex.hostAt = hostFailed, ex.cur
			ex.hostWhy = ip.String() + " has no reverse DNS name"
			switch {
			case err != nil && !isNotFound(err):
				ex.hostWhy = "the reverse lookup of " + ip.String() + " failed (" + err.Error() + "), which Env.FailuresDoNotMatch counts as no match"
			case err != nil:
				ex.hostWhy += ": " + err.Error()
			}
			return "host name rule " + h + ": " + ex.hostWhy, false
		}
		ex.hostname = strings.TrimSuffix(names[0], ".")
		ex.host = hostKnown
	}
	name := ex.hostname
	if strings.HasPrefix(h, ".") {
		if len(name) < len(h) || !strings.EqualFold(name[len(name)-len(h):], h) {
			return "host name rule: " + ip.String() + " reverse-resolves to " + name + ", which does not end in " + h, false
		}
	} else if !strings.EqualFold(name, h) {
		return "host name rule: " + ip.String() + " reverse-resolves to " + name + ", not " + h, false
	}
	if ex.host == hostVerified {
		return "", false
	}
	addrs, err := res.LookupNetIP(ex.ctx, "ip", name)
	if cerr := ex.ctx.Err(); cerr != nil {
		ex.reason, ex.err = ReasonResolverCanceled, cerr
		return "", true
	}
	if err != nil && !ex.env.FailuresDoNotMatch && !isNotFound(err) {
		ex.reason, ex.err = ReasonResolverFailed, err
		return "", true
	}
	if err != nil {
		ex.host, ex.hostAt = hostFailed, ex.cur
		ex.hostWhy = ip.String() + " reverse-resolves to " + name + ", but " + name + " does not resolve: " + err.Error()
		if !isNotFound(err) {
			ex.hostWhy = ip.String() + " reverse-resolves to " + name + ", but the lookup of " + name + " failed (" + err.Error() +
				"), which Env.FailuresDoNotMatch counts as no match"
		}
		return "host name rule " + h + ": " + ex.hostWhy, false
	}
	var same []string
	for _, a := range addrs {
		a = a.Unmap() // as Decide does: Go's resolver maps IPv4 answers
		if a.Is4() == ip.Is4() {
			if a.WithZone("") == ip.WithZone("") {
				ex.host = hostVerified
				return "", false
			}
			same = append(same, a.String())
		}
	}
	ex.host, ex.hostAt = hostFailed, ex.cur
	got := "no " + family(ip) + " address"
	if len(same) > 0 {
		got = strings.Join(same, ", ")
	}
	ex.hostWhy = ip.String() + " reverse-resolves to " + name + ", but " + name + " resolves to " + got + ", not " + ip.String()
	return "host name rule " + h + ": " + ex.hostWhy, false
}

func tokenList(ts []Token) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return "{" + strings.Join(s, ", ") + "}"
}

// member runs a membership test; unresolved sets ex.reason.
func (ex *explainer) member(role, group string) (ok, unresolved bool) {
	if ex.env.Roles == nil {
		ex.reason = ReasonNoRoles
		return false, true
	}
	ok, err := ex.env.Roles.IsMember(ex.ctx, role, group)
	if err != nil {
		ex.reason, ex.err = ReasonRolesFailed, err
		return false, true
	}
	return ok, false
}

// database returns "" when the database test passes.
func (ex *explainer) database(r *Rule) (why string, unresolved bool) {
	if ex.conn.Replication == PhysicalReplication {
		for i := range r.matchers(true) {
			if r.matchers(true)[i].kind == nameReplication {
				return "", false
			}
		}
		return "a physical replication connection matches only the keyword replication, and the database column is " +
			tokenList(r.Databases()), false
	}
	var notes []string
	for i := range r.matchers(true) {
		m := &r.matchers(true)[i]
		switch m.kind {
		case nameAll:
			return "", false
		case nameSameUser:
			if ex.db == ex.user {
				return "", false
			}
			notes = appendOnce(notes, "sameuser needs the database to be named like the user "+quote(ex.user))
		case nameSameRole:
			ok, un := ex.member(ex.user, ex.db)
			if un || ok {
				return "", un
			}
			notes = appendOnce(notes, "samerole: user "+ex.user+" is not a member of role "+ex.db)
		case nameReplication:
			notes = appendOnce(notes, "replication matches only physical replication connections")
		case nameRegex:
			ok, err := m.re.MatchErr(ex.db)
			if err != nil {
				ex.reason, ex.err = ReasonRegexTooComplex, err
				return "", true
			}
			if ok {
				return "", false
			}
			notes = append(notes, "the regular expression "+r.Databases()[i].Value+" does not match "+quote(ex.db))
		default:
			if m.s == ex.db {
				return "", false
			}
		}
	}
	why = "database " + quote(ex.db) + " is not in " + tokenList(r.Databases())
	if len(r.Databases()) == 1 && len(notes) == 1 && r.matchers(true)[0].kind != nameLiteral {
		return notes[0], false
	}
	if len(notes) > 0 {
		why += "; " + strings.Join(notes, "; ")
	}
	return why, false
}

// users returns "" when the user test passes.
func (ex *explainer) users(r *Rule) (why string, unresolved bool) {
	var notes []string
	for i := range r.matchers(false) {
		m := &r.matchers(false)[i]
		switch m.kind {
		case nameAll:
			return "", false
		case nameRole:
			ok, un := ex.member(ex.user, m.s)
			if un || ok {
				return "", un
			}
			notes = appendOnce(notes, "user "+ex.user+" is not a member of role "+m.s)
		case nameRegex:
			ok, err := m.re.MatchErr(ex.user)
			if err != nil {
				ex.reason, ex.err = ReasonRegexTooComplex, err
				return "", true
			}
			if ok {
				return "", false
			}
			notes = append(notes, "the regular expression "+r.Users()[i].Value+" does not match "+quote(ex.user))
		default:
			if m.s == ex.user {
				return "", false
			}
		}
	}
	if len(r.matchers(false)) == 1 && len(notes) == 1 {
		return notes[0], false
	}
	why = "user " + quote(ex.user) + " is not in " + tokenList(r.Users())
	if len(notes) > 0 {
		why += "; " + strings.Join(notes, "; ")
	}
	return why, false
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// relPos names a rule's position relative to the main file's directory.
func (rs *Ruleset) relPos(p Position) string {
	if r, err := filepath.Rel(filepath.Dir(rs.path), p.Filename); err == nil && !strings.HasPrefix(r, "..") {
		p.Filename = filepath.ToSlash(r)
	}
	return p.String()
}
