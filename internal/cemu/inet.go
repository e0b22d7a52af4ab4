package cemu

import (
	"net"
	"net/netip"
	"strings"
)

// This file holds the IPv4 and IPv6 text forms glibc accepts: inet_aton,
// the exact variant getaddrinfo uses, and getaddrinfo's numeric-host test.

// InetAton parses s as glibc's inet_aton does: one to four parts separated
// by dots, each read as C's strtoul with base 0 reads it (decimal, octal
// after a leading 0, hex after 0x or 0X), every part but the last at most
// 255 and the last filling the bytes that remain (a, a.b with b of 24 bits,
// a.b.c with c of 16 bits, a.b.c.d). Each part must begin with a digit, so
// signs and leading blanks fail.
//
// After the last part, glibc stops at the first white-space byte (space,
// \t, \n, \v, \f, \r) and ignores everything from there on: "1.2.3.4 junk"
// is 1.2.3.4. Any other byte after a part fails, and so does "0x" with no
// hex digit after it ("0x", "0x.1", "1.0x"), since strtoul reads only the 0
// and the x is left over. A NUL byte is an ordinary byte here and fails.
//
// PostgreSQL on Linux reaches inet_aton only through getaddrinfo (hba.c's
// address column and radiusservers), which uses the exact form: pg_hba.conf
// reading uses [InetAtonExact] or [NumericHost]. InetAton is the C function
// itself, kept beside them so that the tests prove both against glibc.
func InetAton(s string) (netip.Addr, bool) {
	v, end, ok := inetAtonEnd(s)
	if !ok || end < len(s) && !IsSpace(s[end]) {
		return netip.Addr{}, false
	}
	return addrFrom(v), true
}

// InetAtonExact is glibc's __inet_aton_exact, the IPv4 test that
// getaddrinfo makes before anything else: [InetAton] on the whole of s, with
// nothing after the last part, not even white space.
func InetAtonExact(s string) (netip.Addr, bool) {
	v, end, ok := inetAtonEnd(s)
	if !ok || end != len(s) {
		return netip.Addr{}, false
	}
	return addrFrom(v), true
}

func addrFrom(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// inetAtonEnd is glibc's inet_aton_end: it parses the parts and returns the
// address and the offset of the byte it stopped at, which the caller
// judges.
func inetAtonEnd(s string) (v uint32, end int, ok bool) {
	var parts [3]uint32
	np := 0
	i := 0
	for {
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return 0, i, false
		}
		val, n, ok := strtoul32(s[i:])
		if !ok {
			return 0, i, false
		}
		i += n
		if i < len(s) && s[i] == '.' {
			if np > 2 || val > 0xff {
				return 0, i, false
			}
			parts[np] = val
			np++
			i++
			continue
		}
		// The last part fills the bytes the others left.
		if np < 3 && val>>(8*(4-np)) != 0 || np == 3 && val > 0xff {
			return 0, i, false
		}
		for k := 0; k < np; k++ {
			val |= parts[k] << (24 - 8*k)
		}
		return val, i, true
	}
}

// strtoul32 reads one unsigned number from the start of s as strtoul(s,
// &end, 0) does when s begins with a digit, and returns it with the number
// of bytes read; ok is false when the value does not fit 32 bits.
func strtoul32(s string) (val uint32, n int, ok bool) {
	base := uint64(10)
	i := 0
	if s[0] == '0' {
		i = 1
		base = 8
		if len(s) > 2 && (s[1] == 'x' || s[1] == 'X') && HexDigit(s[2]) < 16 {
			base, i = 16, 2
		}
	}
	var v uint64
	for ; i < len(s); i++ {
		d := HexDigit(s[i])
		if d >= base {
			break
		}
		if v = v*base + d; v > 0xffffffff {
			v = 1 << 32 // saturate; the value fails anyway
		}
	}
	return uint32(v), i, v <= 0xffffffff
}

// NumericHost is the numeric-host test of glibc's getaddrinfo, which
// decides alone when AI_NUMERICHOST is set: IPv4 as [InetAtonExact] reads
// it, else IPv6 text (inet_pton's form) with an optional %scope that
// [ScopeOK] accepts. It returns the address without its scope. An empty s
// is not numeric.
//
// The IPv6 part (before the first %) is read by [netip.ParseAddr]; the
// tests check that it accepts exactly what glibc's inet_pton accepts on
// their inputs (among them "1:2:3:4:5:6:7::", "::01.2.3.4" and
// "1:2:3:4:5:6:7:8::"), not on every possible text.
func NumericHost(s string) (netip.Addr, bool) {
	if strings.IndexByte(s, ':') < 0 {
		return InetAtonExact(s)
	}
	a, ok, bad := ipv6(s)
	if !ok || bad {
		return netip.Addr{}, false
	}
	return a, true
}

// BadScope reports whether s is IPv6 text whose %scope glibc rejects. For
// such text getaddrinfo fails with EAI_NONAME ("Name or service not known")
// whatever its flags, without a name lookup.
func BadScope(s string) bool {
	_, ok, bad := ipv6(s)
	return ok && bad
}

// ipv6 parses s as IPv6 text with an optional scope after the first %;
// badScope reports a scope that glibc rejects.
func ipv6(s string) (a netip.Addr, ok, badScope bool) {
	addr, zone, hasZone := strings.Cut(s, "%")
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return netip.Addr{}, false, false
	}
	return a, true, hasZone && !ScopeOK(a, zone)
}

// ScopeOK reports whether glibc's __inet6_scopeid_pton accepts zone as the
// scope of a: the name of an interface of this machine (if_nametoindex) when
// a is link-local unicast or node- or link-local multicast, else a decimal
// number that fits 32 bits and starts with a digit.
func ScopeOK(a netip.Addr, zone string) bool {
	if zone == "" {
		return false
	}
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		if _, err := net.InterfaceByName(zone); err == nil {
			return true
		}
	}
	var n uint64
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		if c < '0' || c > '9' {
			return false
		}
		if n = n*10 + uint64(c-'0'); n > 0xffffffff {
			return false
		}
	}
	return true
}
