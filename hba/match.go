package hba

// The matcher: a Ruleset and Decide, PostgreSQL's first-match loop over
// the rules, and the per-rule tests (check_hba's type, SSL, GSS, address,
// database and user tests), written once for Decide and Explain.

import (
	"context"
	"net/netip"
	"strings"
)

// Ruleset is a loaded, compiled pg_hba.conf: the rules in file order, ready
// for matching. A Ruleset is immutable and safe for concurrent use; no later
// change to the files affects it. Reload by loading a new one and swapping
// it, for example with a Holder.
type Ruleset struct {
	rules    []*Rule
	env      Env
	version  int
	minor    int
	features Features
	ssl      bool
	dbUserNS bool
	path     string
	idx      *index
}

// Rules returns the rules in file order. The slice and the rules must not be
// modified.
func (rs *Ruleset) Rules() []*Rule { return rs.rules }

// Path returns the absolute path of the main file.
func (rs *Ruleset) Path() string { return rs.path }

// Version returns the PostgreSQL major version the rules were read for.
func (rs *Ruleset) Version() int { return rs.version }

// Env returns the sources the Ruleset matches with.
func (rs *Ruleset) Env() Env { return rs.env }

// WithEnv returns a Ruleset sharing rs's rules that matches with env.
func (rs *Ruleset) WithEnv(env Env) *Ruleset {
	c := *rs
	c.env = env
	return &c
}

// nameKind is the shape of one database or user token.
type nameKind uint8

const (
	nameLiteral     nameKind = iota // byte-equal
	nameAll                         // all
	nameSameUser                    // sameuser (database)
	nameSameRole                    // samerole/samegroup (database)
	nameReplication                 // replication (database)
	nameRole                        // +role (user)
	nameRegex                       // /regex (16+)
)

// regex is the compiled form of a /regex token as the analyses (lint,
// exposure) read it: there MatchString false means "not certainly a
// match", which a match abandoned at the matcher's work limit also is.
// Matching a connection uses (*pgre.Regexp).MatchErr instead, so that an
// abandoned match refuses (ReasonRegexTooComplex).
type regex interface {
	MatchString(s string) bool
}

// hostState is the per-connection host-name lookup cache, PostgreSQL's
// remote_hostname_resolv.
type hostState uint8

const (
	hostUnknown hostState = iota
	hostKnown             // reverse lookup done, forward not yet
	hostVerified
	hostFailed // reverse failed, forward failed or forward mismatch
)

// matchState carries per-connection state through one decision: the
// server's host-name cache and interface list, and why a test could not be
// evaluated.
type matchState struct {
	ctx      context.Context
	env      *Env
	conn     Conn
	db, user string
	hstate   hostState
	hostname string
	ifaddrs  []netip.Prefix
	iferr    error // Env.Interfaces failed (and Env.FailuresDoNotMatch is false, or the context ended)
	ifloaded bool
	reason   Reason
	err      error
	// rec, when set, receives what the tests saw that the state above
	// does not keep, for Explain to put into words. Decide leaves it nil.
	rec *matchRecord
}

// matchRecord is what the per-rule tests record for Explain beyond the
// per-connection state: the outside answers behind a failed host-name
// check and an interface list counted as empty. It holds only what a test
// was given; Explain makes no call of its own.
type matchRecord struct {
	hostAt   *Rule        // the rule whose host-name check failed (hstate hostFailed)
	hostFail hostFailure  // how it failed
	hostErr  error        // the lookup error, if the lookup failed
	forward  []netip.Addr // the forward answer, for hostMismatch
	ifErr    error        // an Interfaces error Env.FailuresDoNotMatch counts as no match
}

// hostFailure is how a host-name check failed for a connection.
type hostFailure uint8

const (
	hostNoReverse hostFailure = iota + 1 // the reverse lookup failed or gave no name
	hostNoForward                        // the forward lookup of the name failed
	hostMismatch                         // the name does not resolve to the client address
)

// verdict is the result of PostgreSQL's tests on one rule: pass, the
// Column of the first test that failed, or undecidable.
type verdict uint8

const (
	pass        verdict = 0    // every test passed: the rule matches
	undecidable verdict = 0xff // a test could not be evaluated; matchState.reason says why
)

// Decide returns the decision for c without building error values. It never
// allocates for rules that need no outside source.
//
// The decision is PostgreSQL's first match, found through an index built at
// Compile (see index.go): rules are partitioned by connection kind and
// address family, and filed by literal database name, literal user name or
// address prefix, so a large file costs a few hash lookups instead of a
// scan. Rules that consult a Roles, Resolver or Interfaces source are
// tested in file order, exactly when the plain loop would test them, so
// the sources see the same calls.
//
// Decide fails closed: a rule that cannot be evaluated (a source missing
// or failing, a regular expression too complex to evaluate) gives
// Unresolved at that rule, never a skipped rule; the package documentation
// lists each case. A nil Ruleset gives NoMatch with no rule, the decision
// of a zero [Holder].
func (rs *Ruleset) Decide(ctx context.Context, c Conn) Decision {
	if rs == nil {
		return Decision{Outcome: NoMatch}
	}
	var user, db string
	if !rs.dbUserNS && c.Replication != PhysicalReplication && len(c.User) < namedatalen && len(c.Database) < namedatalen {
		// c.names without a rewrite, inline.
		user, db = c.User, c.Database
		if db == "" {
			db = user
		}
	} else {
		user, db = c.names(rs.version, rs.dbUserNS)
	}
	if rs.idx != nil {
		if p := rs.idx.partitionOf(&c); p != nil {
			if p.scan != nil {
				// The common small file: no per-connection state at all.
				return decided(p.scanPure(&c, user, db))
			}
			return rs.decideIndexed(ctx, p, &c, user, db)
		}
	}
	return rs.decideUnindexed(ctx, &c, user, db)
}

// decideUnindexed is decideLinear for a connection the index does not
// decide. (Its per-connection state is not in Decide's frame, which the
// small-file path above would pay for.)
func (rs *Ruleset) decideUnindexed(ctx context.Context, c *Conn, user, db string) Decision {
	st := rs.newState(ctx, c, user, db)
	return rs.decideLinear(&st)
}

// newState returns the per-connection state of one decision.
func (rs *Ruleset) newState(ctx context.Context, c *Conn, user, db string) matchState {
	return matchState{ctx: ctx, env: &rs.env, conn: *c, user: user, db: db}
}

// decideLinear is the plain first-match loop over all rules.
func (rs *Ruleset) decideLinear(st *matchState) Decision {
	for _, r := range rs.rules {
		switch r.test(st) {
		case pass:
			return decided(r)
		case undecidable:
			return Decision{Outcome: Unresolved, Rule: r, Reason: st.reason, Err: st.err}
		}
	}
	return Decision{Outcome: NoMatch}
}

// test runs PostgreSQL's tests on r in the server's order: type, SSL, GSS,
// address, database, user. It returns pass, the Column of the first test
// that fails, or undecidable when a test needed a missing or failing source
// or a regular expression could not be evaluated (st.reason says which).
// It is the one implementation of the tests: Decide, through the index or
// not, and Explain run it; matchesPure is the same tests for rules that
// need no state.
func (r *Rule) test(st *matchState) verdict {
	c := &st.conn
	if r.never() {
		return verdict(r.neverColumn())
	}
	if col := r.connTest(c); col != 0 {
		return verdict(col)
	}
	if !c.Local {
		ok, un := r.matchAddr(st)
		if un {
			return undecidable
		}
		if !ok {
			return verdict(ColumnAddress)
		}
	}
	ok, un := r.matchDB(c.Replication == PhysicalReplication, st.user, st.db, st)
	if un {
		return undecidable
	}
	if !ok {
		return verdict(ColumnDatabase)
	}
	ok, un = r.matchUser(st.user, st)
	if un {
		return undecidable
	}
	if !ok {
		return verdict(ColumnUser)
	}
	return pass
}

// neverColumn is the test a rule that can never match fails: hostssl
// without SSL, hostgssenc without GSSAPI.
func (r *Rule) neverColumn() Column {
	if r.typ == HostGSSEnc {
		return ColumnGSS
	}
	return ColumnSSL
}

// matchesPure is test for a rule the index classified pure: one that can
// match and whose tests call no source and cannot be unresolved (see
// index.go). It needs no per-connection state.
func (r *Rule) matchesPure(c *Conn, user, db string) bool {
	if !c.Local && r.akind == AddrIP && !r.contains(c.Addr) {
		return false
	}
	return r.matchesPureNames(c, user, db)
}

// matchesPureNames is matchesPure once the address is known to match.
func (r *Rule) matchesPureNames(c *Conn, user, db string) bool {
	if !r.typeMatches(c) {
		return false
	}
	ok, _ := r.matchDB(c.Replication == PhysicalReplication, user, db, nil)
	if !ok {
		return false
	}
	ok, _ = r.matchUser(user, nil)
	return ok
}

// typeMatches is the connection type test and the SSL and GSS tests.
func (r *Rule) typeMatches(c *Conn) bool {
	if c.Local {
		return r.typ == Local
	}
	switch r.typ {
	case Local:
		return false
	case HostSSL:
		return c.SSL
	case HostNoSSL:
		return !c.SSL
	case HostGSSEnc:
		return c.GSS
	case HostNoGSSEnc:
		return !c.GSS
	}
	return true
}

// connTest is typeMatches with the Column of the test that fails (0 when
// they pass): the type test when the connection's kind and the rule's
// differ, else the SSL or the GSS test, whichever the rule's type names.
func (r *Rule) connTest(c *Conn) Column {
	switch {
	case r.typeMatches(c):
		return 0
	case c.Local || r.typ == Local:
		return ColumnType
	case r.typ == HostSSL || r.typ == HostNoSSL:
		return ColumnSSL
	}
	return ColumnGSS
}

// matchAddr is the address test of a TCP connection.
func (r *Rule) matchAddr(st *matchState) (ok, unresolved bool) {
	switch r.akind {
	case AddrAll:
		return true, false
	case AddrIP:
		return r.contains(st.conn.Addr), false
	case AddrSameHost, AddrSameNet:
		if !st.loadInterfaces() {
			st.reason, st.err = ReasonInterfacesFailed, st.iferr
			return false, true
		}
		return sameHostNet(r.akind, st.ifaddrs, st.conn.Addr), false
	case AddrHostName:
		return r.matchHostName(st)
	}
	return false, false
}

// loadInterfaces lists the server's interfaces once per connection. It is
// false when the list failed and the failure refuses.
func (st *matchState) loadInterfaces() bool {
	if !st.ifloaded {
		src := st.env.Interfaces
		if src == nil {
			src = SystemInterfaces
		}
		addrs, err := src.InterfaceAddrs(st.ctx)
		if err != nil {
			// PostgreSQL logs the failure and the rule does not match;
			// we refuse unless told to follow the server. An error
			// once the caller's context has ended always refuses: the
			// decision was cut short, not answered.
			addrs = nil
			if !st.env.FailuresDoNotMatch || st.ctx.Err() != nil {
				st.iferr = err
			} else if st.rec != nil {
				st.rec.ifErr = err
			}
		}
		st.ifaddrs, st.ifloaded = addrs, true
	}
	return st.iferr == nil
}

// sameHostNet is the samehost (an address of the server) or samenet (in a
// network of the server) test of ip against the interface list.
func sameHostNet(kind AddrKind, ifaddrs []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ifaddrs {
		if p.Addr().Is4() != ip.Is4() {
			continue
		}
		if kind == AddrSameHost {
			if p.Addr().WithZone("") == ip.WithZone("") {
				return true
			}
			continue
		}
		if interfaceNet(p).Contains(ip.WithZone("")) {
			return true
		}
	}
	return false
}

// interfaceNet is the network of an interface address: its prefix, or the
// address alone when the prefix length is missing.
func interfaceNet(p netip.Prefix) netip.Prefix {
	bits := p.Bits()
	if bits <= 0 {
		bits = p.Addr().BitLen()
	}
	return netip.PrefixFrom(p.Addr().WithZone(""), bits)
}

// matchHostName is the host-name test with the server's per-connection
// cache (SEMANTICS §5.3): one reverse lookup, and one forward confirmation
// of the name it gave.
func (r *Rule) matchHostName(st *matchState) (ok, unresolved bool) {
	if st.hstate == hostFailed {
		return false, false
	}
	res := st.env.Resolver
	if res == nil {
		st.reason = ReasonNoResolver
		return false, true
	}
	ip := st.conn.Addr
	if st.hstate == hostUnknown {
		names, err := res.LookupAddr(st.ctx, ip.String())
		if st.lookupStops(err) {
			return false, true
		}
		if err != nil || len(names) == 0 {
			st.failHost(r, hostNoReverse, err, nil)
			return false, false
		}
		st.hostname = strings.TrimSuffix(names[0], ".")
		st.hstate = hostKnown
	}
	if !hostNameIs(st.hostname, r.addrText()) {
		return false, false
	}
	if st.hstate == hostVerified {
		return true, false
	}
	addrs, err := res.LookupNetIP(st.ctx, "ip", st.hostname)
	if st.lookupStops(err) {
		return false, true
	}
	if err != nil {
		st.failHost(r, hostNoForward, err, nil)
		return false, false
	}
	for _, a := range addrs {
		a = a.Unmap() // Go's resolver answers /etc/hosts IPv4 entries as ::ffff:a.b.c.d
		if a.Is4() == ip.Is4() && a.WithZone("") == ip.WithZone("") {
			st.hstate = hostVerified
			return true, false
		}
	}
	st.failHost(r, hostMismatch, nil, addrs)
	return false, false
}

// hostNameIs compares the client's host name with a rule's host name or
// .suffix, without regard to case.
func hostNameIs(name, h string) bool {
	if strings.HasPrefix(h, ".") {
		return len(name) >= len(h) && strings.EqualFold(name[len(name)-len(h):], h)
	}
	return strings.EqualFold(name, h)
}

// lookupStops reports whether a lookup's outcome stops the decision: the
// context ended, or the lookup failed (other than "not found") and the
// failure refuses. It sets st.reason.
func (st *matchState) lookupStops(err error) bool {
	if ctxErr := st.ctx.Err(); ctxErr != nil {
		st.reason, st.err = ReasonResolverCanceled, ctxErr
		return true
	}
	if err != nil && !st.env.FailuresDoNotMatch && !isNotFound(err) {
		st.reason, st.err = ReasonResolverFailed, err
		return true
	}
	return false
}

// failHost marks the host-name check failed for the connection, at rule r.
func (st *matchState) failHost(r *Rule, how hostFailure, err error, forward []netip.Addr) {
	st.hstate = hostFailed
	if st.rec != nil {
		*st.rec = matchRecord{hostAt: r, hostFail: how, hostErr: err, forward: forward, ifErr: st.rec.ifErr}
	}
}

// matchDB is the database test. st is needed only by samerole and by a
// regular expression that may fail (neither is in a pure rule), which set
// st.reason when unresolved. A regular expression that could not be
// evaluated stops the test unresolved (ReasonRegexTooComplex): the server
// would have gone on matching it, and its answer is not known.
func (r *Rule) matchDB(phys bool, user, db string, st *matchState) (ok, unresolved bool) {
	dbs := r.dbNames()
	if phys {
		for i := range dbs {
			if dbs[i].kind == nameReplication {
				return true, false
			}
		}
		return false, false
	}
	for i := range dbs {
		m := &dbs[i]
		switch m.kind {
		case nameLiteral:
			if m.is(r, db) {
				return true, false
			}
		case nameAll:
			return true, false
		case nameSameUser:
			if db == user {
				return true, false
			}
		case nameSameRole:
			ok, un := st.isMember(user, db)
			if un || ok {
				return ok, un
			}
		case nameReplication:
		case nameRegex:
			if ok, un := r.matchRegex(i, db, st); ok || un {
				return ok, un
			}
		}
	}
	return false, false
}

// matchUser is the user test. st is needed only by +role and by a regular
// expression that may fail, as for matchDB.
func (r *Rule) matchUser(user string, st *matchState) (ok, unresolved bool) {
	us := r.userNames()
	for j := range us {
		m := &us[j]
		switch m.kind {
		case nameLiteral:
			if m.is(r, user) {
				return true, false
			}
		case nameAll:
			return true, false
		case nameRole:
			ok, un := st.isMember(user, r.str(m.sp)[1:])
			if un || ok {
				return ok, un
			}
		case nameRegex:
			if ok, un := r.matchRegex(int(r.nDB())+j, user, st); ok || un {
				return ok, un
			}
		}
	}
	return false, false
}

// matchRegex is the test of the /regex name i against s, for the database
// and user tests alike: a match that could not be evaluated (the work
// bound, or the decision's context ending) is unresolved, recorded in st,
// never a miss.
func (r *Rule) matchRegex(i int, s string, st *matchState) (ok, unresolved bool) {
	ok, err := r.regexp(i).MatchErrContext(st.regexCtx(), s)
	if err != nil {
		st.regexFailed(err)
		return false, true
	}
	return ok, false
}

// regexFailed records a regular expression that could not be evaluated.
func (st *matchState) regexFailed(err error) {
	st.reason, st.err = ReasonRegexTooComplex, err
}

func (st *matchState) isMember(role, group string) (ok, unresolved bool) {
	if st.env.Roles == nil {
		st.reason = ReasonNoRoles
		return false, true
	}
	ok, err := st.env.Roles.IsMember(st.ctx, role, group)
	if err != nil {
		st.reason, st.err = ReasonRolesFailed, err
		return false, true
	}
	return ok, false
}
