package hba

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

// matchState carries per-connection state through one decision.
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
}

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
	user, db := c.names(rs.version, rs.dbUserNS)
	if rs.idx != nil {
		if p := rs.idx.partitionOf(&c); p != nil {
			if p.small && p.pure {
				// The common small file: no per-connection state at all.
				return decided(rs.scanPure(p, &c, user, db))
			}
			return rs.decideIndexed(ctx, p, &c, user, db)
		}
	}
	st := rs.newState(ctx, &c, user, db)
	return rs.decideLinear(&st)
}

// newState returns the per-connection state of one decision.
func (rs *Ruleset) newState(ctx context.Context, c *Conn, user, db string) matchState {
	return matchState{ctx: ctx, env: &rs.env, conn: *c, user: user, db: db}
}

// decideLinear is the plain first-match loop over all rules.
func (rs *Ruleset) decideLinear(st *matchState) Decision {
	for _, r := range rs.rules {
		ok, unresolved := r.matches(st)
		if unresolved {
			return Decision{Outcome: Unresolved, Rule: r, Reason: st.reason, Err: st.err}
		}
		if ok {
			if r.method == Reject {
				return Decision{Outcome: Rejected, Rule: r}
			}
			return Decision{Outcome: Matched, Rule: r}
		}
	}
	return Decision{Outcome: NoMatch}
}

// matches runs PostgreSQL's per-rule tests in order. unresolved is true when
// a test needed a missing or failing source; st.reason says which.
func (r *Rule) matches(st *matchState) (ok, unresolved bool) {
	c := &st.conn
	if r.never || !r.typeMatches(c) {
		return false, false
	}
	if !c.Local {
		ok, un := r.matchAddr(st)
		if !ok || un {
			return ok, un
		}
	}
	ok, un := r.matchDB(c.Replication == PhysicalReplication, st.user, st.db, st)
	if !ok || un {
		return ok, un
	}
	return r.matchUser(st.user, st)
}

// matchesPure is matches for a rule the index classified pure: one that
// can match and whose tests call no source and cannot be unresolved (see
// index.go).
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

// typeMatches is the connection type test.
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

func (r *Rule) matchAddr(st *matchState) (ok, unresolved bool) {
	ip := st.conn.Addr
	switch r.akind {
	case AddrAll:
		return true, false
	case AddrIP:
		return r.contains(ip), false
	case AddrSameHost, AddrSameNet:
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
				}
			}
			st.ifaddrs, st.ifloaded = addrs, true
		}
		if st.iferr != nil {
			st.reason, st.err = ReasonInterfacesFailed, st.iferr
			return false, true
		}
		for _, p := range st.ifaddrs {
			if p.Addr().Is4() != ip.Is4() {
				continue
			}
			if r.akind == AddrSameHost {
				if p.Addr().WithZone("") == ip.WithZone("") {
					return true, false
				}
				continue
			}
			bits := p.Bits()
			if bits <= 0 {
				bits = p.Addr().BitLen()
			}
			if netip.PrefixFrom(p.Addr().WithZone(""), bits).Contains(ip.WithZone("")) {
				return true, false
			}
		}
		return false, false
	case AddrHostName:
		return r.matchHostName(st)
	}
	return false, false
}

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
		if ctxErr := st.ctx.Err(); ctxErr != nil {
			st.reason, st.err = ReasonResolverCanceled, ctxErr
			return false, true
		}
		if err != nil && !st.env.FailuresDoNotMatch && !isNotFound(err) {
			st.reason, st.err = ReasonResolverFailed, err
			return false, true
		}
		if err != nil || len(names) == 0 {
			st.hstate = hostFailed
			return false, false
		}
		st.hostname = strings.TrimSuffix(names[0], ".")
		st.hstate = hostKnown
	}
	h := r.str(r.atext)
	name := st.hostname
	if strings.HasPrefix(h, ".") {
		if len(name) < len(h) || !strings.EqualFold(name[len(name)-len(h):], h) {
			return false, false
		}
	} else if !strings.EqualFold(name, h) {
		return false, false
	}
	if st.hstate == hostVerified {
		return true, false
	}
	addrs, err := res.LookupNetIP(st.ctx, "ip", name)
	if ctxErr := st.ctx.Err(); ctxErr != nil {
		st.reason, st.err = ReasonResolverCanceled, ctxErr
		return false, true
	}
	if err != nil && !st.env.FailuresDoNotMatch && !isNotFound(err) {
		st.reason, st.err = ReasonResolverFailed, err
		return false, true
	}
	if err != nil {
		st.hstate = hostFailed
		return false, false
	}
	for _, a := range addrs {
		a = a.Unmap() // Go's resolver answers /etc/hosts IPv4 entries as ::ffff:a.b.c.d
		if a.Is4() == ip.Is4() && a.WithZone("") == ip.WithZone("") {
			st.hstate = hostVerified
			return true, false
		}
	}
	st.hstate = hostFailed
	return false, false
}

// matchDB is the database test. st is needed only by samerole and by a
// regular expression that may fail (neither is in a pure rule), which set
// st.reason when unresolved. A regular expression that could not be
// evaluated stops the test unresolved (ReasonRegexTooComplex): the server
// would have gone on matching it, and its answer is not known.
func (r *Rule) matchDB(phys bool, user, db string, st *matchState) (ok, unresolved bool) {
	dbs := r.names[:r.ndb]
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
			ok, err := r.regexp(i).MatchErrContext(st.regexCtx(), db)
			if err != nil {
				st.regexFailed(err)
				return false, true
			}
			if ok {
				return true, false
			}
		}
	}
	return false, false
}

// matchUser is the user test. st is needed only by +role and by a regular
// expression that may fail, as for matchDB.
func (r *Rule) matchUser(user string, st *matchState) (ok, unresolved bool) {
	for i := int(r.ndb); i < len(r.names); i++ {
		m := &r.names[i]
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
			ok, err := r.regexp(i).MatchErrContext(st.regexCtx(), user)
			if err != nil {
				st.regexFailed(err)
				return false, true
			}
			if ok {
				return true, false
			}
		}
	}
	return false, false
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
