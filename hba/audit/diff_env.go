package audit

// Diff with outside sources given: the rules' environment-dependent tokens
// resolved into exact sets before the region analysis.
//
// A source Diff can enumerate (a RoleGraph, a HostTable, StaticInterfaces)
// turns the tokens that depend on it into what they match in that
// environment:
//
//   - +role (user column): the roles of the graph that are members of
//     role, as literal names;
//   - samerole, samegroup (database column): for each role r of the graph,
//     the database r with the users that are members of r;
//   - a host name: the client addresses whose reverse lookup gives a name
//     the rule's name (or .suffix) matches and whose forward lookup of that
//     name gives the address back;
//   - samehost: the interface addresses; samenet: their networks.
//
// These sets are exact: the matcher asks the same source the same
// questions. What no enumerable source answers stays an atom, and the
// regions it shapes stay may-change.

import (
	"context"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

// envResolver resolves one side's tokens against that side's sources;
// nil fields are sources it cannot enumerate.
type envResolver struct {
	roles  hba.RoleGraph
	names  []string            // every role of roles, sorted
	grants map[string][]string // role -> the roles directly members of it
	exists map[string]bool     // every role of roles
	hosts  *hba.HostTable
	ifaces []netip.Prefix
	hasIf  bool
	member map[string][]string // role -> its members, sorted
}

// newEnvResolver returns the resolver of e, or nil when e has no source
// Diff can enumerate.
func newEnvResolver(e *hba.Env) *envResolver {
	if e == nil {
		return nil
	}
	r := &envResolver{member: map[string][]string{}}
	found := false
	if g, ok := e.Roles.(hba.RoleGraph); ok && g != nil {
		r.roles, found = g, true
		seen := map[string]bool{}
		for k, ps := range g {
			seen[k] = true
			for _, p := range ps {
				seen[p] = true
			}
		}
		for k := range seen {
			if len(k) < namedatalen { // longer names are cut and never meet these
				r.names = append(r.names, k)
			}
		}
		sort.Strings(r.names)
		r.exists = seen
		r.grants = map[string][]string{}
		for k, ps := range g {
			for _, p := range ps {
				r.grants[p] = append(r.grants[p], k)
			}
		}
	}
	switch t := e.Resolver.(type) {
	case hba.HostTable:
		if t.Validate() == nil {
			r.hosts, found = &t, true
		}
	case *hba.HostTable:
		if t != nil && t.Validate() == nil {
			r.hosts, found = t, true
		}
	}
	if s, ok := e.Interfaces.(hba.StaticInterfaces); ok {
		r.ifaces, r.hasIf, found = s, true, true
	}
	if !found {
		return nil
	}
	return r
}

// members returns the roles of the graph that are members of group, as
// RoleGraph.IsMember answers: group itself when it exists, and every role
// from which group is reachable through grants (a walk of the grants
// backwards from group, so that samerole over a large graph stays linear
// per role).
func (r *envResolver) members(group string) []string {
	if m, ok := r.member[group]; ok {
		return m
	}
	var out []string
	if r.exists[group] {
		seen := map[string]bool{group: true}
		queue := []string{group}
		for len(queue) > 0 {
			g := queue[0]
			queue = queue[1:]
			if len(g) < namedatalen {
				out = append(out, g)
			}
			for _, m := range r.grants[g] {
				if !seen[m] {
					seen[m] = true
					queue = append(queue, m)
				}
			}
		}
		sort.Strings(out)
	}
	r.member[group] = out
	return out
}

// hostAddrs returns the client addresses a host-name rule for host matches.
func (r *envResolver) hostAddrs(host string) []netip.Prefix {
	ctx := context.Background()
	var out []netip.Prefix
	for k := range r.hosts.Reverse {
		ip, err := netip.ParseAddr(k)
		if err != nil {
			continue
		}
		ip = ip.WithZone("")
		names, err := r.hosts.LookupAddr(ctx, ip.String())
		if err != nil || len(names) == 0 {
			continue
		}
		name := strings.TrimSuffix(names[0], ".")
		if !hostNameMatches(name, host) {
			continue
		}
		addrs, err := r.hosts.LookupNetIP(ctx, "ip", name)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if a = a.Unmap(); a.Is4() == ip.Is4() && a.WithZone("") == ip {
				out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
				break
			}
		}
	}
	return out
}

// hostNameMatches is the server's comparison of the client's host name
// with a rule's name or .suffix, without regard to case.
func hostNameMatches(name, h string) bool {
	if strings.HasPrefix(h, ".") {
		return len(name) >= len(h) && strings.EqualFold(name[len(name)-len(h):], h)
	}
	return strings.EqualFold(name, h)
}

// ifaceAddrs returns what samehost (the addresses) or samenet (their
// networks) matches.
func (r *envResolver) ifaceAddrs(kind hba.AddrKind) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range r.ifaces {
		a := p.Addr().WithZone("")
		if !a.IsValid() {
			continue // the matcher's family test never passes for it
		}
		if kind == hba.AddrSameHost {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		bits := p.Bits()
		if bits <= 0 {
			bits = a.BitLen()
		}
		out = append(out, netip.PrefixFrom(a, bits).Masked())
	}
	return out
}

// resolveAddr replaces the address atoms the sources answer by prefixes.
func (r *envResolver) resolveAddr(s addrSet) addrSet {
	if len(s.atoms) == 0 {
		return s
	}
	out := addrSet{local: s.local, pfx: slices.Clone(s.pfx)}
	for _, at := range s.atoms {
		switch {
		case at.kind == hba.AddrHostName && r.hosts != nil:
			out.pfx = append(out.pfx, r.hostAddrs(at.host)...)
		case (at.kind == hba.AddrSameHost || at.kind == hba.AddrSameNet) && r.hasIf:
			out.pfx = append(out.pfx, r.ifaceAddrs(at.kind)...)
		default:
			out.atoms = append(out.atoms, at)
		}
	}
	out.pfx = mergePrefixes(out.pfx)
	return out
}

// resolveUsers replaces +role atoms by the role's members.
func (r *envResolver) resolveUsers(n nameSet) nameSet {
	if r.roles == nil || len(n.atoms) == 0 || n.all {
		return n
	}
	out := nameSet{lits: slices.Clone(n.lits)}
	for _, at := range n.atoms {
		if at.kind != hba.NameRole {
			out.atoms = append(out.atoms, at)
			continue
		}
		for _, m := range r.members(at.s) {
			if !slices.Contains(out.lits, m) {
				out.lits = append(out.lits, m)
			}
		}
	}
	return out
}

// resolveBox returns boxes, disjoint, holding exactly what b holds, with
// the atoms the sources answer resolved. A samerole that a regular
// expression of the user column keeps from being resolved exactly stays
// an atom (its regions stay may-change).
func (r *envResolver) resolveBox(b box) []box {
	b.addr = r.resolveAddr(b.addr)
	b.user = r.resolveUsers(b.user)
	if r.roles == nil || b.db.all || !slices.ContainsFunc(b.db.atoms, func(a nameAtom) bool { return a.kind == hba.NameSameRole }) {
		return []box{b}
	}
	// samerole: the pairs (database r, user member of r).
	var pairs []box
	for _, role := range r.names {
		var users []string
		for _, m := range r.members(role) {
			has, known := b.user.has(m)
			if !known {
				return []box{b} // a regular expression decides nothing here
			}
			if has {
				users = append(users, m)
			}
		}
		if len(users) > 0 {
			pairs = append(pairs, box{cls: b.cls, addr: b.addr, db: nameSet{lits: []string{role}}, user: nameSet{lits: users}})
		}
	}
	rest := b
	rest.db = nameSet{lits: b.db.lits}
	for _, at := range b.db.atoms {
		if at.kind != hba.NameSameRole {
			rest.db.atoms = append(rest.db.atoms, at)
		}
	}
	var out []box
	if !rest.db.empty() {
		out = append(out, rest)
	}
	// Disjoint: each pair less what the boxes before it hold.
	for _, p := range pairs {
		cur := []box{p}
		for i := range out {
			var next []box
			for k := range cur {
				next = cur[k].minus(&out[i], next)
			}
			cur = next
		}
		out = append(out, cur...)
	}
	return out
}

// resolveSpaces is spacesOfRules with the sources of r resolved (r nil:
// as spacesOfRules). It also returns, per rule, a text of what resolution
// made of it ("" when nothing), so that a rule is aligned only with a rule
// that resolved alike.
func (r *envResolver) resolveSpaces(rs []*hba.Rule) ([]ruleSpace, []string) {
	out := spacesOfRules(rs)
	if r == nil {
		return out, nil
	}
	sig := make([]string, len(rs))
	for i := range out {
		sp := &out[i]
		if !slices.ContainsFunc(sp.boxes, func(b box) bool { return hasAtoms(&b) }) {
			continue
		}
		var nb []box
		for _, b := range sp.boxes {
			for _, x := range r.resolveBox(b) {
				if !x.isEmpty() {
					nb = append(nb, x)
				}
			}
		}
		sp.boxes = nb
		sig[i] = boxesText(nb)
	}
	return out, sig
}

// boxesText is a canonical text of boxes.
func boxesText(bs []box) string {
	var sb strings.Builder
	for i := range bs {
		b := &bs[i]
		sb.WriteString(strconv.Itoa(int(b.cls)))
		for _, p := range b.addr.pfx {
			sb.WriteString(" " + p.String())
		}
		for _, a := range b.addr.atoms {
			sb.WriteString(" " + a.kind.String() + ":" + a.host)
		}
		for _, n := range []*nameSet{&b.db, &b.user} {
			l := nameListOf(n)
			sb.WriteString("|" + strconv.FormatBool(l.All) + ":" + strings.Join(l.Only, ",") + "^" + strings.Join(l.Except, ","))
		}
		sb.WriteString(";")
	}
	return sb.String()
}
