package audit

// The connection-space algebra, address column: disjoint IP prefixes plus
// opaque atoms (host names, samehost, samenet, non-contiguous masks).

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/pghba/pghba/hba"
)

// Address families as bits.
const (
	fam4 uint8 = 1 << iota
	fam6
)

func famOf(a netip.Addr) uint8 {
	if a.Is4() {
		return fam4
	}
	return fam6
}

// addrAtom is an address that is not a prefix: samehost, samenet and host
// names, whose extent depends on the environment, and IP addresses with a
// non-contiguous mask, whose extent is exact but not a prefix.
type addrAtom struct {
	kind hba.AddrKind // AddrSameHost, AddrSameNet, AddrHostName, AddrIP
	host string       // lower case, for AddrHostName
	ip   hba.Address  // for AddrIP
	fam  uint8        // the families it may still match
}

// addrSet is an address column: the Unix-socket point, disjoint prefixes,
// atoms.
type addrSet struct {
	local bool
	pfx   []netip.Prefix
	atoms []addrAtom
}

func (s *addrSet) empty() bool { return !s.local && len(s.pfx) == 0 && len(s.atoms) == 0 }

var (
	all4 = netip.MustParsePrefix("0.0.0.0/0")
	all6 = netip.MustParsePrefix("::/0")
)

// addrOf returns the rule's address set.
func addrOf(r *hba.Rule) addrSet {
	var s addrSet
	if r.Type() == hba.Local {
		s.local = true
		return s
	}
	a := r.Address()
	switch a.Kind {
	case hba.AddrAll:
		s.pfx = []netip.Prefix{all4, all6}
	case hba.AddrIP:
		if p, ok := a.Prefix(); ok {
			s.pfx = []netip.Prefix{p}
		} else {
			m := a
			m.IP = m.IP.WithZone("")
			s.atoms = []addrAtom{{kind: hba.AddrIP, ip: m, fam: famOf(a.IP)}}
		}
	case hba.AddrSameHost, hba.AddrSameNet:
		s.atoms = []addrAtom{{kind: a.Kind, fam: fam4 | fam6}}
	case hba.AddrHostName:
		s.atoms = []addrAtom{{kind: a.Kind, host: strings.ToLower(a.Host), fam: fam4 | fam6}}
	}
	return s
}

// fixedMask returns the bits of byte i that a prefix of the given length
// fixes.
func fixedMask(bits, i int) byte {
	rest := bits - i*8
	switch {
	case rest >= 8:
		return 0xff
	case rest <= 0:
		return 0
	}
	return byte(0xff << (8 - rest))
}

// maskContains reports whether every address of p passes the address
// test of m: the mask fixes no bit that p leaves free, and p agrees with
// m's address on the bits the mask fixes.
func maskContains(m *hba.Address, p netip.Prefix) bool {
	if p.Addr().Is4() != m.IP.Is4() {
		return false
	}
	pa, ma, mk := p.Addr().AsSlice(), m.IP.AsSlice(), m.Mask.AsSlice()
	for i := range mk {
		if mk[i]&^fixedMask(p.Bits(), i) != 0 || (pa[i]^ma[i])&mk[i] != 0 {
			return false
		}
	}
	return true
}

// maskOverlaps reports whether some address of p passes the address test
// of m: p agrees with m's address on the bits both fix.
func maskOverlaps(m *hba.Address, p netip.Prefix) bool {
	if p.Addr().Is4() != m.IP.Is4() {
		return false
	}
	pa, ma, mk := p.Addr().AsSlice(), m.IP.AsSlice(), m.Mask.AsSlice()
	for i := range mk {
		if (pa[i]^ma[i])&mk[i]&fixedMask(p.Bits(), i) != 0 {
			return false
		}
	}
	return true
}

// prefixHoldsMask reports whether p contains every address passing the
// address test of m: every bit p fixes is fixed by m, to the same value.
func prefixHoldsMask(p netip.Prefix, m *hba.Address) bool {
	if p.Addr().Is4() != m.IP.Is4() {
		return false
	}
	pa, ma, mk := p.Addr().AsSlice(), m.IP.AsSlice(), m.Mask.AsSlice()
	for i := range mk {
		f := fixedMask(p.Bits(), i)
		if f&^mk[i] != 0 || (pa[i]^ma[i])&f != 0 {
			return false
		}
	}
	return true
}

// masksOverlap reports whether some address passes both address tests.
func masksOverlap(a, b *hba.Address) bool {
	if a.IP.Is4() != b.IP.Is4() {
		return false
	}
	aa, am, ba, bm := a.IP.AsSlice(), a.Mask.AsSlice(), b.IP.AsSlice(), b.Mask.AsSlice()
	for i := range am {
		if (aa[i]^ba[i])&am[i]&bm[i] != 0 {
			return false
		}
	}
	return true
}

// fullFams returns the families whose whole space the prefixes cover.
func fullFams(ps []netip.Prefix) uint8 {
	var f uint8
	for _, p := range ps {
		if p.Bits() == 0 {
			f |= famOf(p.Addr())
		}
	}
	return f
}

// covers reports whether atom a matches everything atom x does.
func (a addrAtom) covers(x addrAtom) bool {
	if a.fam&x.fam != x.fam {
		return false
	}
	switch {
	case a.kind == hba.AddrIP || x.kind == hba.AddrIP:
		if a.kind != x.kind {
			return false
		}
		// a's mask fixes no bit x's leaves free, to the same values.
		aa, am, xa, xm := a.ip.IP.AsSlice(), a.ip.Mask.AsSlice(), x.ip.IP.AsSlice(), x.ip.Mask.AsSlice()
		for i := range am {
			if am[i]&^xm[i] != 0 || (aa[i]^xa[i])&am[i] != 0 {
				return false
			}
		}
		return true
	case a.kind == x.kind && a.kind != hba.AddrHostName:
		return true
	case a.kind == hba.AddrSameNet && x.kind == hba.AddrSameHost:
		// Every interface address is inside its own network.
		return true
	case a.kind == hba.AddrHostName && x.kind == hba.AddrHostName:
		if a.host == x.host {
			return true
		}
		// .example.com matches every name ending in it; so does any
		// more specific name or suffix.
		return strings.HasPrefix(a.host, ".") && strings.HasSuffix(x.host, a.host)
	}
	return false
}

// minus returns a set containing x ∖ a.
func (x addrSet) minus(a *addrSet) addrSet {
	r := addrSet{local: x.local && !a.local}
	r.pfx = x.pfx
	for _, ap := range a.pfx {
		r.pfx = subtractPrefix(r.pfx, ap)
	}
	for i := range a.atoms {
		if m := &a.atoms[i]; m.kind == hba.AddrIP {
			if slices.ContainsFunc(r.pfx, func(p netip.Prefix) bool { return maskContains(&m.ip, p) }) {
				r.pfx = slices.DeleteFunc(slices.Clone(r.pfx), func(p netip.Prefix) bool { return maskContains(&m.ip, p) })
			}
		}
	}
	full := fullFams(a.pfx)
	for _, at := range x.atoms {
		at.fam &^= full
		if at.fam == 0 {
			continue
		}
		covered := false
		for _, b := range a.atoms {
			if b.covers(at) {
				covered = true
				break
			}
		}
		if at.kind == hba.AddrIP && slices.ContainsFunc(a.pfx, func(p netip.Prefix) bool { return prefixHoldsMask(p, &at.ip) }) {
			covered = true
		}
		if !covered {
			r.atoms = append(r.atoms, at)
		}
	}
	return r
}

// inter returns a set containing x ∩ a.
func (x addrSet) inter(a *addrSet) addrSet {
	r := addrSet{local: x.local && a.local}
	var atomFams uint8 // families of a's atoms of unknown extent
	for _, b := range a.atoms {
		if b.kind != hba.AddrIP {
			atomFams |= b.fam
		}
	}
	for _, p := range x.pfx {
		if atomFams&famOf(p.Addr()) != 0 || slices.ContainsFunc(a.atoms, func(b addrAtom) bool { return b.kind == hba.AddrIP && maskOverlaps(&b.ip, p) }) {
			r.pfx = append(r.pfx, p)
			continue
		}
		for _, ap := range a.pfx {
			if !p.Overlaps(ap) {
				continue
			}
			if p.Bits() >= ap.Bits() {
				r.pfx = append(r.pfx, p)
				break
			}
			r.pfx = append(r.pfx, ap)
		}
	}
	for _, at := range x.atoms {
		meets := func(fam uint8) bool {
			if at.kind == hba.AddrIP {
				return slices.ContainsFunc(a.pfx, func(p netip.Prefix) bool { return maskOverlaps(&at.ip, p) }) ||
					slices.ContainsFunc(a.atoms, func(b addrAtom) bool {
						return b.kind != hba.AddrIP && b.fam&fam != 0 || b.kind == hba.AddrIP && masksOverlap(&at.ip, &b.ip)
					})
			}
			return atomFams&fam != 0 || slices.ContainsFunc(a.pfx, func(p netip.Prefix) bool { return famOf(p.Addr())&fam != 0 }) ||
				slices.ContainsFunc(a.atoms, func(b addrAtom) bool { return b.kind == hba.AddrIP && b.fam&fam != 0 })
		}
		var fam uint8
		for _, f := range []uint8{fam4, fam6} {
			if at.fam&f != 0 && meets(f) {
				fam |= f
			}
		}
		if fam != 0 {
			at.fam = fam
			r.atoms = append(r.atoms, at)
		}
	}
	return r
}

// subtractPrefix returns the disjoint prefixes ps less the addresses of a.
func subtractPrefix(ps []netip.Prefix, a netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	changed := false
	for i, p := range ps {
		if !p.Overlaps(a) {
			if changed {
				out = append(out, p)
			}
			continue
		}
		if !changed {
			out = append(out, ps[:i]...)
			changed = true
		}
		if a.Bits() <= p.Bits() {
			continue // a contains p
		}
		// p contains a: keep the sibling of each ancestor of a below p.
		for b := p.Bits(); b < a.Bits(); b++ {
			anc := netip.PrefixFrom(a.Addr(), b+1).Masked()
			out = append(out, netip.PrefixFrom(flipBit(anc.Addr(), b), b+1))
		}
	}
	if !changed {
		return ps
	}
	return out
}

// flipBit inverts bit i (0 is the most significant) of a.
func flipBit(a netip.Addr, i int) netip.Addr {
	if a.Is4() {
		b := a.As4()
		b[i/8] ^= 0x80 >> (i % 8)
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	b[i/8] ^= 0x80 >> (i % 8)
	return netip.AddrFrom16(b)
}
