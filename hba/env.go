package hba

// Outside sources: Env and the role, resolver and interface sources
// matching asks, as small interfaces that standard library types satisfy.

import (
	"context"
	"net"
	"net/netip"
)

// Roles answers role-membership questions for +role user tokens and the
// samerole database keyword.
//
// IsMember reports whether role is a member of group as PostgreSQL decides it
// for pg_hba.conf: false when either role does not exist; true when role and
// group are the same role; true when group is reachable from role through
// role grants, directly or indirectly, whatever the grants' INHERIT and SET
// options; superuser status does not imply membership.
type Roles interface {
	IsMember(ctx context.Context, role, group string) (bool, error)
}

// RolesFunc adapts a function to the Roles interface.
type RolesFunc func(ctx context.Context, role, group string) (bool, error)

// IsMember calls f.
func (f RolesFunc) IsMember(ctx context.Context, role, group string) (bool, error) {
	return f(ctx, role, group)
}

// RoleGraph is a Roles source held in memory: each role maps to the roles it
// is directly a member of. Every key and every listed role exists.
type RoleGraph map[string][]string

// IsMember walks the grants from role, breadth first.
func (g RoleGraph) IsMember(_ context.Context, role, group string) (bool, error) {
	if !g.exists(role) || !g.exists(group) {
		return false, nil
	}
	if role == group {
		return true, nil
	}
	seen := map[string]bool{role: true}
	queue := []string{role}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, p := range g[r] {
			if p == group {
				return true, nil
			}
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return false, nil
}

func (g RoleGraph) exists(r string) bool {
	if _, ok := g[r]; ok {
		return true
	}
	for _, ps := range g {
		for _, p := range ps {
			if p == r {
				return true
			}
		}
	}
	return false
}

// Resolver does the host-name lookups of host-name rules. *net.Resolver
// satisfies it.
//
// A lookup that finds no such name or address must return an error that is,
// or wraps, a *net.DNSError with IsNotFound set (as *net.Resolver and
// [HostTable] do): the rule then does not match, as in the server. Any
// other error, a timeout included, refuses the connection at that rule
// (ReasonResolverFailed) unless [Env.FailuresDoNotMatch] is set. A nil
// error with no names or addresses is no match.
//
// LookupAddr is the reverse lookup of the client address; a trailing dot on
// the returned names is ignored, and only the first name is used, as
// getnameinfo returns one name. LookupNetIP is the forward confirmation of
// that name; network is "ip". IPv4-mapped IPv6 answers are read as IPv4:
// Go's resolver returns /etc/hosts IPv4 entries that way, where getaddrinfo
// returns IPv4 addresses.
type Resolver interface {
	LookupAddr(ctx context.Context, addr string) (names []string, err error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// Interfaces lists the server's network interface addresses, with their
// netmasks as prefix lengths, for samehost and samenet rules.
type Interfaces interface {
	InterfaceAddrs(ctx context.Context) ([]netip.Prefix, error)
}

// InterfacesFunc adapts a function to the Interfaces interface.
type InterfacesFunc func(ctx context.Context) ([]netip.Prefix, error)

// InterfaceAddrs calls f.
func (f InterfacesFunc) InterfaceAddrs(ctx context.Context) ([]netip.Prefix, error) { return f(ctx) }

// StaticInterfaces is a fixed list of interface addresses.
type StaticInterfaces []netip.Prefix

// InterfaceAddrs returns the list.
func (s StaticInterfaces) InterfaceAddrs(context.Context) ([]netip.Prefix, error) { return s, nil }

// SystemInterfaces reads this machine's interface addresses at each call.
var SystemInterfaces Interfaces = InterfacesFunc(systemInterfaces)

func systemInterfaces(context.Context) ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if len(n.IP) == 16 && n.IP.To4() != nil {
			ip = ip.Unmap()
		}
		ones, _ := n.Mask.Size()
		if ip.Is4() && len(n.Mask) == 16 {
			ones -= 96
		}
		out = append(out, netip.PrefixFrom(ip, ones))
	}
	return out, nil
}

// Env is what matching needs from outside the configuration files. Every
// field may be nil:
//   - Roles nil: +role users and samerole/samegroup databases cannot be
//     evaluated; a connection that reaches such a test is refused with
//     ErrUnresolved instead of guessing.
//   - Resolver nil: host-name rules cannot be evaluated, likewise.
//   - Interfaces nil: SystemInterfaces.
//
// A source that fails refuses the connection at the rule that needed it
// (ErrUnresolved), except a Resolver's "no such name or address" answer,
// which is no match, as in the server. The package documentation ("Server
// facts and outside sources") has the full table.
type Env struct {
	Roles      Roles
	Resolver   Resolver
	Interfaces Interfaces

	// FailuresDoNotMatch follows the server exactly where it treats a
	// failing source as no match: a Resolver lookup that fails or times
	// out (any error but not found and the context's own) and an
	// Interfaces error then make the rule not match, and the scan goes on
	// to the next rule, as PostgreSQL does after logging the failure. The
	// default, false, refuses instead (ReasonResolverFailed,
	// ReasonInterfacesFailed): the server behind a proxy may see a
	// different DNS or other interfaces, and a skipped reject rule could
	// let a later rule grant access. It changes nothing for Roles errors,
	// missing sources, a canceled context or regular expressions, which
	// always refuse.
	FailuresDoNotMatch bool
}
