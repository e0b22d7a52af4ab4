package hba

// HostTable, a Resolver answering from fixed tables, and what counts as
// a "not found" lookup answer.

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// HostTable is a Resolver that answers from fixed tables instead of DNS, for
// tests and for pghba's --hosts flag. Its JSON form is
//
//	{"reverse": {"192.0.2.7": ["db.example.com"]},
//	 "forward": {"db.example.com": ["192.0.2.7", "2001:db8::7"]}}
//
// A name or address missing from a table is a failed lookup (a
// *net.DNSError with IsNotFound set), as an NXDOMAIN answer would be: a
// host-name rule then does not match. A Forward entry that is not an IP
// address is a lookup error, which refuses (ReasonResolverFailed). The
// zero value, and a nil map, answer every lookup with not found. A HostTable
// must not be modified while it is in use; reading it from several goroutines
// is safe.
type HostTable struct {
	// Reverse maps a client IP address, in any form netip.ParseAddr accepts,
	// to the names its reverse lookup returns. Only the first name is used by
	// host-name rules, as in PostgreSQL.
	Reverse map[string][]string `json:"reverse"`
	// Forward maps a host name to its addresses. Names are compared without
	// regard to case or a trailing dot, as DNS compares them.
	Forward map[string][]string `json:"forward"`
}

var _ Resolver = HostTable{}

// LookupAddr returns Reverse[addr]. The address is compared as an IP address,
// so "::1" finds an entry written "0::1"; a string that is not an address is
// looked up as written. It fails with ctx's error when ctx is done.
func (t HostTable) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if names, ok := t.Reverse[addr]; ok && len(names) > 0 {
		return append([]string(nil), names...), nil
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		for k, names := range t.Reverse {
			if kip, err := netip.ParseAddr(k); err == nil && kip == ip && len(names) > 0 {
				return append([]string(nil), names...), nil
			}
		}
	}
	return nil, notFound(addr)
}

// LookupNetIP returns the addresses of Forward[host] of the family network
// asks for: "ip" for both, "ip4" or "ip6" for one. The host name is compared
// without regard to case or a trailing dot. An entry that is not an IP
// address is an error; no matching entry, or none of the family, is not
// found. It fails with ctx's error when ctx is done.
func (t HostTable) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var want func(netip.Addr) bool
	switch network {
	case "ip":
		want = func(netip.Addr) bool { return true }
	case "ip4":
		want = netip.Addr.Is4
	case "ip6":
		want = netip.Addr.Is6
	default:
		return nil, net.UnknownNetworkError(network)
	}
	texts, ok := t.forward(host)
	if !ok {
		return nil, notFound(host)
	}
	var out []netip.Addr
	for _, s := range texts {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, &net.DNSError{Err: "invalid address " + quote(s) + " in host table", Name: host}
		}
		if want(ip) {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, notFound(host)
	}
	return out, nil
}

// forward finds the entry for host: an exact key first, then a key equal to
// it without regard to case or a trailing dot.
func (t HostTable) forward(host string) ([]string, bool) {
	if v, ok := t.Forward[host]; ok {
		return v, true
	}
	h := strings.TrimSuffix(host, ".")
	for k, v := range t.Forward {
		if strings.EqualFold(strings.TrimSuffix(k, "."), h) {
			return v, true
		}
	}
	return nil, false
}

// Validate reports the first entry, in key order, that is not an IP address
// where one is needed: a Reverse key or a Forward value.
func (t HostTable) Validate() error {
	for _, k := range slices.Sorted(maps.Keys(t.Reverse)) {
		if _, err := netip.ParseAddr(k); err != nil {
			return errors.New("reverse: " + quote(k) + " is not an IP address")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t.Forward)) {
		for _, s := range t.Forward[k] {
			if _, err := netip.ParseAddr(s); err != nil {
				return errors.New("forward: " + quote(k) + ": " + quote(s) + " is not an IP address")
			}
		}
	}
	return nil
}

// isNotFound reports whether a lookup error is the answer "no such name or
// address" (a *net.DNSError with IsNotFound set, anywhere in its chain), as
// opposed to a failure or a timeout. Host-name rules treat the first as no
// match, as the server does; see Env.FailuresDoNotMatch for the second.
func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}
