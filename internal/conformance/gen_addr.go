// Addresses: the address column of a TCP rule (CIDR, address and mask,
// host names, samehost/samenet, all) and the client addresses it is built to
// match or miss.

package conformance

import (
	"fmt"
	"net/netip"
	"strings"
)

// addrField returns the address column (one or two fields, already
// rendered) for a TCP rule; hit makes it contain t.Addr when possible.
func (g *gen) addrField(t Conn, hit bool) []string {
	ip := t.Addr
	if g.o.HostNames && g.pct(12) {
		return []string{g.hostNameTok(ip, hit)}
	}
	switch k := g.r.IntN(20); {
	case k == 0:
		return []string{renderTok(g.r, tok{v: "all"})}
	case k == 1:
		if hit && ip != netip.MustParseAddr("127.0.0.1") && ip != netip.IPv6Loopback() {
			break
		}
		return []string{renderTok(g.r, tok{v: "samehost"})}
	case k == 2:
		return []string{renderTok(g.r, tok{v: "samenet"})}
	case k <= 5:
		// separate mask column
		a, m := g.addrMask(ip, hit, true)
		return []string{g.renderAddrTok(a), g.renderAddrTok(m)}
	}
	a, m := g.addrMask(ip, hit, false)
	bits, _ := maskLen(m)
	return []string{g.renderCIDR(a, bits)}
}

// addrMask returns an address and mask of ip's family (or, when not hit,
// sometimes of the other family) containing ip when hit.
func (g *gen) addrMask(ip netip.Addr, hit, anyMask bool) (netip.Addr, netip.Addr) {
	fam := ip
	if !hit && g.pct(20) {
		if ip.Is4() {
			fam = netip.IPv6Loopback()
		} else {
			fam = netip.MustParseAddr("127.0.0.1")
		}
	}
	nbytes := fam.BitLen() / 8
	var m []byte
	if anyMask && g.pct(30) {
		// a non-contiguous mask, or a tiny one such as 0.0.0.24
		m = make([]byte, nbytes)
		for i := range m {
			if g.pct(50) {
				m[i] = byte(g.r.IntN(256))
			} else if g.pct(50) {
				m[i] = 0xff
			}
		}
	} else {
		var bits int
		if fam.Is4() {
			bits = pick(g.r, 0, 1, 7, 8, 8, 16, 24, 31, 32, 32, 32)
		} else {
			bits = pick(g.r, 0, 1, 64, 120, 127, 128, 128, 128)
		}
		m = prefixMask(bits, nbytes)
	}
	base := fam.AsSlice()
	out := make([]byte, nbytes)
	for i := range out {
		hostBits := byte(0)
		switch g.r.IntN(3) {
		case 0:
			hostBits = base[i]
		case 1:
			hostBits = byte(g.r.IntN(256))
		}
		out[i] = base[i]&m[i] | hostBits&^m[i]
	}
	if !hit || fam != ip {
		// perturb a masked bit so it probably misses
		if g.pct(70) {
			i := g.r.IntN(nbytes)
			out[i] ^= m[i] & byte(1<<g.r.IntN(8))
		}
	}
	a, _ := netip.AddrFromSlice(out)
	mk, _ := netip.AddrFromSlice(m)
	return a, mk
}

func prefixMask(bits, nbytes int) []byte {
	m := make([]byte, nbytes)
	for i := range m {
		switch {
		case bits >= 8:
			m[i] = 0xff
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return m
}

func maskLen(m netip.Addr) (int, bool) {
	n := 0
	zero := false
	for _, b := range m.AsSlice() {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) != 0 {
				if zero {
					return 0, false
				}
				n++
			} else {
				zero = true
			}
		}
	}
	return n, true
}

// renderCIDR renders addr/bits with glibc-accepted spellings.
func (g *gen) renderCIDR(a netip.Addr, bits int) string {
	b := fmt.Sprint(bits)
	switch g.r.IntN(12) {
	case 0:
		b = "0" + b
	case 1:
		b = "+" + b
	case 2:
		return renderTok(g.r, tok{v: g.addrText(a) + "/ " + b, q: true})
	}
	if a.Is6() && a.IsLinkLocalUnicast() && g.pct(50) {
		return a.String() + pick(g.r, "%lo", "%1") + "/" + b
	}
	return renderTok(g.r, tok{v: g.addrText(a) + "/" + b})
}

func (g *gen) renderAddrTok(a netip.Addr) string {
	return renderTok(g.r, tok{v: g.addrText(a)})
}

// addrText spells a numeric address as glibc's getaddrinfo(AI_NUMERICHOST)
// accepts it: inet_aton forms for IPv4 (1–4 parts, octal, hex), several IPv6
// spellings.
func (g *gen) addrText(a netip.Addr) string {
	if a.Is6() {
		switch g.r.IntN(5) {
		case 0:
			return strings.ToUpper(a.StringExpanded())
		case 1:
			return a.StringExpanded()
		}
		return a.String()
	}
	if g.pct(60) {
		return a.String()
	}
	g.note("inet_aton-form")
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	part := func(x uint32) string {
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprintf("0%o", x)
		case 1:
			return fmt.Sprintf("0x%x", x)
		case 2:
			return fmt.Sprintf("0X%X", x)
		}
		return fmt.Sprint(x)
	}
	switch g.r.IntN(4) {
	case 0:
		return part(v)
	case 1:
		return part(v>>24) + "." + part(v&0xffffff)
	case 2:
		return part(v>>24) + "." + part(v>>16&0xff) + "." + part(v&0xffff)
	}
	return part(v>>24) + "." + part(v>>16&0xff) + "." + part(v>>8&0xff) + "." + part(v&0xff)
}
