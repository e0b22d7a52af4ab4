// Package refmatch is a deliberately simple reference matcher for
// pg_hba.conf rules, written straight from SEMANTICS.md §5: one loop over
// the rules in order, no index, no cache shared between rules except the
// per-connection host-name state the server itself keeps. Tests and fuzz
// targets compare the production matcher in package hba against it.
package refmatch

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/pgre"
)

// Result is the reference decision.
type Result struct {
	Outcome hba.Outcome
	Rule    *hba.Rule
}

// Decide returns the first rule that matches c, for a server of the given
// major version. A test that needs a missing source (Roles, Resolver), a
// source that fails (except a resolver's "not found", and, with
// env.FailuresDoNotMatch, resolver and interface failures, which do not
// match) or a regular expression that cannot be evaluated stops the loop
// with Unresolved at that rule.
func Decide(ctx context.Context, version int, rules []*hba.Rule, env hba.Env, c hba.Conn) Result {
	user := c.User
	db := c.Database
	if c.Replication == hba.PhysicalReplication {
		db = ""
	} else if db == "" {
		db = user
	}
	if len(user) > 63 {
		user = user[:63]
	}
	if len(db) > 63 {
		db = db[:63]
	}
	h := &hostCheck{ctx: ctx, env: env, ip: c.Addr}
	for _, r := range rules {
		ok, unresolved := matchRule(ctx, version, r, env, c, db, user, h)
		if unresolved {
			return Result{Outcome: hba.Unresolved, Rule: r}
		}
		if ok {
			if r.Method() == hba.Reject {
				return Result{Outcome: hba.Rejected, Rule: r}
			}
			return Result{Outcome: hba.Matched, Rule: r}
		}
	}
	return Result{Outcome: hba.NoMatch}
}

func matchRule(ctx context.Context, version int, r *hba.Rule, env hba.Env, c hba.Conn, db, user string, h *hostCheck) (ok, unresolved bool) {
	// 1. type; 2. SSL; 3. GSS encryption.
	if r.Never() {
		return false, false
	}
	if c.Local != (r.Type() == hba.Local) {
		return false, false
	}
	if !c.Local {
		if r.Type() == hba.HostSSL && !c.SSL || r.Type() == hba.HostNoSSL && c.SSL {
			return false, false
		}
		if r.Type() == hba.HostGSSEnc && !c.GSS || r.Type() == hba.HostNoGSSEnc && c.GSS {
			return false, false
		}
		// 4. address.
		ok, unresolved := matchAddress(ctx, r, env, c.Addr, h)
		if !ok || unresolved {
			return ok, unresolved
		}
	}
	// 5. database.
	dbOK := false
	for _, t := range r.Databases() {
		if c.Replication == hba.PhysicalReplication {
			if !t.Quoted && t.Value == "replication" {
				dbOK = true
				break
			}
			continue
		}
		switch {
		case version >= 16 && strings.HasPrefix(t.Value, "/"):
			m, err := search(t.Value[1:], db)
			if err != nil {
				return false, true
			}
			dbOK = m
		case !t.Quoted && t.Value == "all":
			dbOK = true
		case !t.Quoted && t.Value == "sameuser":
			dbOK = db == user
		case !t.Quoted && (t.Value == "samerole" || t.Value == "samegroup"):
			if env.Roles == nil {
				return false, true
			}
			m, err := env.Roles.IsMember(ctx, user, db)
			if err != nil {
				return false, true
			}
			dbOK = m
		case !t.Quoted && t.Value == "replication":
		default:
			dbOK = t.Value == db
		}
		if dbOK {
			break
		}
	}
	if !dbOK {
		return false, false
	}
	// 6. user.
	for _, t := range r.Users() {
		switch {
		case !t.Quoted && strings.HasPrefix(t.Value, "+"):
			if env.Roles == nil {
				return false, true
			}
			m, err := env.Roles.IsMember(ctx, user, t.Value[1:])
			if err != nil {
				return false, true
			}
			if m {
				return true, false
			}
		case !t.Quoted && t.Value == "all":
			return true, false
		case version >= 16 && strings.HasPrefix(t.Value, "/"):
			m, err := search(t.Value[1:], user)
			if err != nil {
				return false, true
			}
			if m {
				return true, false
			}
		default:
			if t.Value == user {
				return true, false
			}
		}
	}
	return false, false
}

// search matches a /regex token; an error is a match that could not be
// decided.
func search(pattern, s string) (bool, error) {
	re, err := pgre.Compile(pattern)
	if err != nil {
		return false, nil
	}
	return re.MatchErr(s)
}

// failed reports whether a lookup error is a failure rather than "no such
// name or address".
func failed(err error) bool {
	var de *net.DNSError
	return err != nil && !(errors.As(err, &de) && de.IsNotFound)
}

func matchAddress(ctx context.Context, r *hba.Rule, env hba.Env, ip netip.Addr, h *hostCheck) (ok, unresolved bool) {
	a := r.Address()
	switch a.Kind {
	case hba.AddrAll:
		return true, false
	case hba.AddrIP:
		if a.IP.Is4() != ip.Is4() {
			return false, false
		}
		x, y, m := ip.AsSlice(), a.IP.AsSlice(), a.Mask.AsSlice()
		for i := range x {
			if (x[i]^y[i])&m[i] != 0 {
				return false, false
			}
		}
		return true, false
	case hba.AddrSameHost, hba.AddrSameNet:
		src := env.Interfaces
		if src == nil {
			src = hba.SystemInterfaces
		}
		addrs, err := src.InterfaceAddrs(ctx)
		if err != nil {
			return false, !env.FailuresDoNotMatch
		}
		for _, p := range addrs {
			ifa := p.Addr().WithZone("")
			if ifa.Is4() != ip.Is4() {
				continue
			}
			if a.Kind == hba.AddrSameHost {
				if ifa == ip.WithZone("") {
					return true, false
				}
				continue
			}
			bits := p.Bits()
			if bits <= 0 {
				bits = ifa.BitLen()
			}
			if netip.PrefixFrom(ifa, bits).Contains(ip.WithZone("")) {
				return true, false
			}
		}
		return false, false
	case hba.AddrHostName:
		return h.match(a.Host)
	}
	return false, false
}

// hostCheck is the server's per-connection host-name state.
type hostCheck struct {
	ctx      context.Context
	env      hba.Env
	ip       netip.Addr
	state    int // 0 unknown, 1 name known, 2 verified, 3 failed
	hostname string
}

func (h *hostCheck) match(pattern string) (ok, unresolved bool) {
	if h.state == 3 {
		return false, false
	}
	if h.env.Resolver == nil {
		return false, true
	}
	if h.state == 0 {
		names, err := h.env.Resolver.LookupAddr(h.ctx, h.ip.String())
		if h.ctx.Err() != nil {
			return false, true
		}
		if failed(err) && !h.env.FailuresDoNotMatch {
			return false, true
		}
		if err != nil || len(names) == 0 {
			h.state = 3
			return false, false
		}
		h.hostname = strings.TrimSuffix(names[0], ".")
		h.state = 1
	}
	name := strings.ToLower(h.hostname)
	p := strings.ToLower(pattern)
	if strings.HasPrefix(p, ".") {
		if !strings.HasSuffix(name, p) {
			return false, false
		}
	} else if name != p {
		return false, false
	}
	if h.state == 2 {
		return true, false
	}
	addrs, err := h.env.Resolver.LookupNetIP(h.ctx, "ip", h.hostname)
	if h.ctx.Err() != nil {
		return false, true
	}
	if failed(err) && !h.env.FailuresDoNotMatch {
		return false, true
	}
	if err != nil {
		h.state = 3
		return false, false
	}
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() == h.ip.Is4() && a.WithZone("") == h.ip.WithZone("") {
			h.state = 2
			return true, false
		}
	}
	h.state = 3
	return false, false
}
