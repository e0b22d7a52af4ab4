package hba

// Explaining a decision: Explain runs the matcher's per-rule tests
// (match.go) with a recorder and puts each miss into words.

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
// deciding one did not match. It runs Decide's per-rule tests on every
// rule in file order, without the index, so the outside sources see the
// calls Decide makes and the decision is the same; the words are made from
// what the tests saw, without further lookups. It is meant for people and
// is not optimised.
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
	user, db := c.names(rs.version, rs.dbUserNS)
	st := rs.newState(ctx, &c, user, db)
	var rec matchRecord
	st.rec = &rec
	t := Trace{Database: db, User: user}
	for _, r := range rs.rules {
		v := r.test(&st)
		if v == pass {
			t.Decision = decided(r)
			break
		}
		if v == undecidable {
			t.Decision = Decision{Outcome: Unresolved, Rule: r, Reason: st.reason, Err: st.err}
			break
		}
		col := Column(v)
		t.Misses = append(t.Misses, Miss{Rule: r, Column: col, Reason: rs.missReason(r, col, &st)})
	}
	t.Message = rs.Message(t.Decision, c)
	return t
}

// missReason puts into words why r failed the test of col, from the rule,
// the connection and what the tests recorded in st.
func (rs *Ruleset) missReason(r *Rule, col Column, st *matchState) string {
	c := &st.conn
	switch {
	case r.never():
		return r.Warning()
	case col == ColumnType && c.Local:
		return "connection type " + r.Type().String() + " is for TCP connections; this connection is over the Unix-domain socket"
	case col == ColumnType:
		return "connection type local is for Unix-domain socket connections; this connection is TCP from " + c.Addr.String()
	case col == ColumnSSL:
		return sslMiss(r.typ, c)
	case col == ColumnGSS:
		return gssMiss(r.typ, c)
	case col == ColumnAddress:
		return rs.addressMiss(r, st)
	case col == ColumnDatabase:
		return databaseMiss(r, st.user, st.db, c.Replication == PhysicalReplication)
	}
	return userMiss(r, st.user)
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
	if t == HostSSL {
		return "connection type hostssl needs SSL; this connection is " + encryption(c)
	}
	return "connection type hostnossl excludes SSL; this connection is SSL-encrypted"
}

func gssMiss(t ConnType, c *Conn) string {
	if t == HostGSSEnc {
		return "connection type hostgssenc needs GSSAPI encryption; this connection is " + encryption(c)
	}
	return "connection type hostnogssenc excludes GSSAPI encryption; this connection is GSSAPI-encrypted"
}

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

// addressMiss is why the address test failed.
func (rs *Ruleset) addressMiss(r *Rule, st *matchState) string {
	a := r.Address()
	ip := st.conn.Addr
	switch a.Kind {
	case AddrIP:
		if a.IP.Is4() != ip.Is4() {
			return "address " + addressText(&a) + " is " + family(a.IP) + " and " + ip.String() + " is " + family(ip) +
				"; PostgreSQL does not match across address families"
		}
		return "address " + addressText(&a) + " does not contain " + ip.String()
	case AddrSameHost, AddrSameNet:
		if err := st.rec.ifErr; err != nil {
			return a.Kind.String() + ": the server's network interfaces could not be listed (" + err.Error() +
				"), which Env.FailuresDoNotMatch counts as no match"
		}
		return sameHostNetMiss(a.Kind, st.ifaddrs, ip)
	case AddrHostName:
		return rs.hostNameMiss(r, st)
	}
	return "the rule has no address"
}

// sameHostNetMiss is why ip is not samehost or samenet, listing the
// server's addresses or networks of ip's family.
func sameHostNetMiss(kind AddrKind, ifaddrs []netip.Prefix, ip netip.Addr) string {
	var list []string
	for _, p := range ifaddrs {
		if p.Addr().Is4() != ip.Is4() {
			continue
		}
		if kind == AddrSameHost {
			list = append(list, p.Addr().WithZone("").String())
		} else {
			list = append(list, interfaceNet(p).Masked().String())
		}
	}
	switch {
	case len(list) == 0:
		return kind.String() + ": the server has no " + family(ip) + " interface address"
	case kind == AddrSameHost:
		return "samehost: " + ip.String() + " is not an address of the server {" + strings.Join(list, ", ") + "}"
	}
	return "samenet: " + ip.String() + " is not in a network of the server {" + strings.Join(list, ", ") + "}"
}

// hostNameMiss is why the host-name test failed (SEMANTICS §5.3): the
// client's name differs, or the check failed for the connection at this
// rule or at an earlier one.
func (rs *Ruleset) hostNameMiss(r *Rule, st *matchState) string {
	h := r.addrText()
	ip := st.conn.Addr.String()
	if st.hstate != hostFailed {
		if strings.HasPrefix(h, ".") {
			return "host name rule: " + ip + " reverse-resolves to " + st.hostname + ", which does not end in " + h
		}
		return "host name rule: " + ip + " reverse-resolves to " + st.hostname + ", not " + h
	}
	why := hostFailureText(st)
	if at := st.rec.hostAt; at != r {
		where := "line " + itoa(at.Pos().Line)
		if at.Pos().Filename != r.Pos().Filename {
			where = rs.relPos(at.Pos())
		}
		return "host name rule " + h + ": not checked, as the host-name check of " + where +
			" failed for this connection (" + why + ")"
	}
	return "host name rule " + h + ": " + why
}

// hostFailureText says how the host-name check failed for the connection.
func hostFailureText(st *matchState) string {
	rec := st.rec
	ip, name, err := st.conn.Addr.String(), st.hostname, rec.hostErr
	switch rec.hostFail {
	case hostNoReverse:
		switch {
		case err != nil && !isNotFound(err):
			return "the reverse lookup of " + ip + " failed (" + err.Error() + "), which Env.FailuresDoNotMatch counts as no match"
		case err != nil:
			return ip + " has no reverse DNS name: " + err.Error()
		}
		return ip + " has no reverse DNS name"
	case hostNoForward:
		if !isNotFound(err) {
			return ip + " reverse-resolves to " + name + ", but the lookup of " + name + " failed (" + err.Error() +
				"), which Env.FailuresDoNotMatch counts as no match"
		}
		return ip + " reverse-resolves to " + name + ", but " + name + " does not resolve: " + err.Error()
	}
	var same []string
	for _, a := range rec.forward {
		if a = a.Unmap(); a.Is4() == st.conn.Addr.Is4() {
			same = append(same, a.String())
		}
	}
	got := "no " + family(st.conn.Addr) + " address"
	if len(same) > 0 {
		got = strings.Join(same, ", ")
	}
	return ip + " reverse-resolves to " + name + ", but " + name + " resolves to " + got + ", not " + ip
}

func tokenList(ts []Token) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return "{" + strings.Join(s, ", ") + "}"
}

// databaseMiss is why the database test failed. Every token was tested
// and none matched (a test stops at the first match), so each keyword,
// membership and regular expression gets its note.
func databaseMiss(r *Rule, user, db string, phys bool) string {
	toks := r.Databases()
	if phys {
		return "a physical replication connection matches only the keyword replication, and the database column is " +
			tokenList(toks)
	}
	var notes []string
	for i, n := range r.dbNames() {
		switch n.kind {
		case nameSameUser:
			notes = appendOnce(notes, "sameuser needs the database to be named like the user "+quote(user))
		case nameSameRole:
			notes = appendOnce(notes, "samerole: user "+user+" is not a member of role "+db)
		case nameReplication:
			notes = appendOnce(notes, "replication matches only physical replication connections")
		case nameRegex:
			notes = append(notes, "the regular expression "+toks[i].Value+" does not match "+quote(db))
		}
	}
	if len(toks) == 1 && len(notes) == 1 && r.dbNames()[0].kind != nameLiteral {
		return notes[0]
	}
	why := "database " + quote(db) + " is not in " + tokenList(toks)
	if len(notes) > 0 {
		why += "; " + strings.Join(notes, "; ")
	}
	return why
}

// userMiss is why the user test failed, as databaseMiss.
func userMiss(r *Rule, user string) string {
	toks := r.Users()
	var notes []string
	for i, n := range r.userNames() {
		switch n.kind {
		case nameRole:
			notes = appendOnce(notes, "user "+user+" is not a member of role "+r.str(n.sp)[1:])
		case nameRegex:
			notes = append(notes, "the regular expression "+toks[i].Value+" does not match "+quote(user))
		}
	}
	if len(toks) == 1 && len(notes) == 1 {
		return notes[0]
	}
	why := "user " + quote(user) + " is not in " + tokenList(toks)
	if len(notes) > 0 {
		why += "; " + strings.Join(notes, "; ")
	}
	return why
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
