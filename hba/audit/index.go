package audit

// The rule index of Lint.
//
// Lint compares a rule only with the earlier rules that may share a
// connection with it. Every box of every rule is filed three ways: by its
// IP prefixes, by its literal database names and by its literal user
// names, or, in each of the three, in a wild list when the column is not of
// that shape (host names, samenet, regular expressions, all, …). For a box
// of rule i the index then picks the column that names the fewest earlier
// rules and returns them, together with that column's wild list. The answer
// is a superset of the earlier rules that quickDisjoint does not rule out,
// in file order, so the analysis that follows sees the same rules in the
// same order as a scan of every earlier rule would, and finds the same
// proofs; only the rules it would skip at once are never looked at.

import (
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/pghba/pghba/hba"
)

// lintIndex is the index of one Lint call.
type lintIndex struct {
	dbLit, userLit map[string][]int32
	// Rules with a box whose column is not literal names only (database,
	// user), or not IP prefixes only (address).
	dbWild, userWild, addrWild []int32
	// pfx holds the rules of each stored prefix; lens the prefix lengths
	// present per family (0: IPv4, 1: IPv6), shortest first.
	pfx  map[netip.Prefix][]int32
	lens [2][]int
	// pos is every stored prefix by first address (then rule), and tree a
	// segment tree of the least rule over each range of pos.
	pos  []pfxPos
	tree []int32
	size int
	// dup files the rules by the columns sameColumns compares.
	dup map[string][]int32
	// seen[j] == stamp marks rule j as already returned by this query.
	seen  []int32
	stamp int32
	out   []int32
}

type pfxPos struct {
	lo netip.Addr
	j  int32
}

// appendRule appends j unless it is already last (a rule's boxes and names
// are filed in turn, so repeats are adjacent).
func appendRule(s []int32, j int32) []int32 {
	if n := len(s); n > 0 && s[n-1] == j {
		return s
	}
	return append(s, j)
}

// before returns the rules of s (ascending) that come before rule i.
func before(s []int32, i int) []int32 {
	n, _ := slices.BinarySearch(s, int32(i))
	return s[:n]
}

// pfxOnly reports whether an address column is IP prefixes only: the
// shape quickBoxDisjoint compares.
func pfxOnly(a *addrSet) bool { return !a.local && len(a.atoms) == 0 && len(a.pfx) > 0 }

// litsOnly reports whether a name column is literal names only.
func litsOnly(n *nameSet) bool { return !n.all && len(n.atoms) == 0 }

func famIndex(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

func newLintIndex(rules []*hba.Rule, spaces []ruleSpace) *lintIndex {
	x := &lintIndex{
		dbLit:   map[string][]int32{},
		userLit: map[string][]int32{},
		pfx:     map[netip.Prefix][]int32{},
		dup:     map[string][]int32{},
		seen:    make([]int32, len(rules)),
		stamp:   0,
	}
	var lens [2][129]bool
	for j := range spaces {
		j32 := int32(j)
		if !rules[j].Never() {
			k := dupKey(rules[j])
			x.dup[k] = append(x.dup[k], j32)
		}
		for bi := range spaces[j].boxes {
			b := &spaces[j].boxes[bi]
			if pfxOnly(&b.addr) {
				for _, p := range b.addr.pfx {
					p = p.Masked()
					x.pfx[p] = appendRule(x.pfx[p], j32)
					lens[famIndex(p.Addr())][p.Bits()] = true
					x.pos = append(x.pos, pfxPos{p.Addr(), j32})
				}
			} else {
				x.addrWild = appendRule(x.addrWild, j32)
			}
			x.dbWild = fileNames(x.dbLit, x.dbWild, &b.db, j32)
			x.userWild = fileNames(x.userLit, x.userWild, &b.user, j32)
		}
	}
	for f := range lens {
		for n, ok := range lens[f] {
			if ok {
				x.lens[f] = append(x.lens[f], n)
			}
		}
	}
	slices.SortFunc(x.pos, func(a, b pfxPos) int {
		if c := a.lo.Compare(b.lo); c != 0 {
			return c
		}
		return int(a.j - b.j)
	})
	x.size = 1
	for x.size < len(x.pos) {
		x.size *= 2
	}
	x.tree = make([]int32, 2*x.size)
	for k := range x.tree {
		x.tree[k] = int32(len(rules))
	}
	for k, p := range x.pos {
		x.tree[x.size+k] = p.j
	}
	for k := x.size - 1; k > 0; k-- {
		x.tree[k] = min(x.tree[2*k], x.tree[2*k+1])
	}
	return x
}

func fileNames(lits map[string][]int32, wild []int32, n *nameSet, j int32) []int32 {
	if !litsOnly(n) {
		return appendRule(wild, j)
	}
	for _, s := range n.lits {
		lits[s] = appendRule(lits[s], j)
	}
	return wild
}

// dupKey returns a key that rules sameColumns finds equal share.
func dupKey(r *hba.Rule) string {
	var b strings.Builder
	b.WriteByte(byte(r.Type()))
	tokens := func(ts []hba.Token) {
		b.WriteString(strconv.Itoa(len(ts)))
		for _, t := range ts {
			if t.Quoted {
				b.WriteByte('"')
			}
			b.WriteString(strconv.Itoa(len(t.Value)))
			b.WriteByte(':')
			b.WriteString(t.Value)
		}
	}
	tokens(r.Databases())
	tokens(r.Users())
	a := r.Address()
	b.WriteByte(byte(a.Kind))
	switch a.Kind {
	case hba.AddrIP:
		if p, ok := a.Prefix(); ok {
			b.WriteString(p.String())
		} else {
			b.WriteString(a.IP.WithZone("").String() + "&" + a.Mask.String())
		}
	case hba.AddrHostName:
		// strings.EqualFold compares runes by their simple case-folding
		// orbits: file each rune under the least rune of its orbit.
		for _, c := range a.Host {
			least := c
			for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
				least = min(least, f)
			}
			b.WriteRune(least)
		}
	}
	return b.String()
}

// duplicateOf returns the first earlier rule that sameColumns finds equal
// to rule i, or -1.
func (x *lintIndex) duplicateOf(rules []*hba.Rule, i int) int {
	for _, j := range before(x.dup[dupKey(rules[i])], i) {
		if sameColumns(rules[j], rules[i]) {
			return int(j)
		}
	}
	return -1
}

// earlier returns, in file order, the rules before i that may share a
// connection with it: every rule quickDisjoint does not rule out, and
// perhaps others. The slice is reused by the next call.
func (x *lintIndex) earlier(i int, bs []box) []int32 {
	x.stamp++
	x.out = x.out[:0]
	for k := range bs {
		if !x.query(i, &bs[k]) {
			// No column to look up: every earlier rule.
			x.out = x.out[:0]
			for j := range i {
				x.out = append(x.out, int32(j))
			}
			return x.out
		}
	}
	slices.Sort(x.out)
	return x.out
}

func (x *lintIndex) add(js []int32) {
	for _, j := range js {
		if x.seen[j] != x.stamp {
			x.seen[j] = x.stamp
			x.out = append(x.out, j)
		}
	}
}

// query adds the earlier rules that may share a connection with box b
// through the most selective of its columns; false when no column is of a
// shape the index files.
func (x *lintIndex) query(i int, b *box) bool {
	const none = int(^uint(0) >> 1)
	addrCost, dbCost, userCost := none, none, none
	if pfxOnly(&b.addr) {
		addrCost = len(before(x.addrWild, i))
		for _, p := range b.addr.pfx {
			addrCost += x.ancestors(i, p, false)
			lo, hi := x.span(p)
			addrCost += hi - lo
		}
	}
	nameCost := func(lits map[string][]int32, wild []int32, n *nameSet) int {
		if !litsOnly(n) {
			return none
		}
		c := len(before(wild, i))
		for _, s := range n.lits {
			c += len(before(lits[s], i))
		}
		return c
	}
	dbCost = nameCost(x.dbLit, x.dbWild, &b.db)
	userCost = nameCost(x.userLit, x.userWild, &b.user)
	switch best := min(addrCost, dbCost, userCost); {
	case best == none:
		return false
	case best == addrCost:
		x.add(before(x.addrWild, i))
		for _, p := range b.addr.pfx {
			x.ancestors(i, p, true)
			lo, hi := x.span(p)
			x.report(1, 0, x.size, lo, hi, int32(i))
		}
	case best == dbCost:
		x.addNames(i, x.dbLit, x.dbWild, &b.db)
	default:
		x.addNames(i, x.userLit, x.userWild, &b.user)
	}
	return true
}

func (x *lintIndex) addNames(i int, lits map[string][]int32, wild []int32, n *nameSet) {
	x.add(before(wild, i))
	for _, s := range n.lits {
		x.add(before(lits[s], i))
	}
}

// ancestors counts (or, with add, adds) the earlier rules with a stored
// prefix strictly containing p.
func (x *lintIndex) ancestors(i int, p netip.Prefix, add bool) int {
	n := 0
	for _, l := range x.lens[famIndex(p.Addr())] {
		if l >= p.Bits() {
			break
		}
		q, _ := p.Addr().Prefix(l)
		js := before(x.pfx[q], i)
		n += len(js)
		if add {
			x.add(js)
		}
	}
	return n
}

// span returns the range of pos whose prefixes start inside p: p's
// subprefixes, p itself, and larger prefixes starting where p does.
func (x *lintIndex) span(p netip.Prefix) (lo, hi int) {
	first, last := p.Masked().Addr(), lastAddr(p)
	lo = sort.Search(len(x.pos), func(k int) bool { return !x.pos[k].lo.Less(first) })
	hi = lo + sort.Search(len(x.pos)-lo, func(k int) bool { return last.Less(x.pos[lo+k].lo) })
	return lo, hi
}

// report adds the rules before i stored at positions [lo, hi) of pos;
// node covers [nlo, nhi).
func (x *lintIndex) report(node, nlo, nhi, lo, hi int, i int32) {
	if hi <= nlo || nhi <= lo || x.tree[node] >= i {
		return
	}
	if nhi-nlo == 1 {
		if j := x.tree[node]; x.seen[j] != x.stamp {
			x.seen[j] = x.stamp
			x.out = append(x.out, j)
		}
		return
	}
	mid := (nlo + nhi) / 2
	x.report(2*node, nlo, mid, lo, hi, i)
	x.report(2*node+1, mid, nhi, lo, hi, i)
}
