package hba

import (
	"encoding/binary"
	"math"
	"net/netip"
)

// The index finds the rule the plain first-match loop (decideLinear) would
// find without looking at most rules.
//
// Rules are split into three partitions by the connections they can ever
// match: local, TCP over IPv4, TCP over IPv6 (an IP rule sits only in its
// family's partition, other host rules in both; rules that can never match
// are left out). SSL and GSS are checked by the full per-rule test.
//
// Within a partition each rule is either
//
//   - pure: its test calls no outside source (no host name, samehost or
//     samenet address, no samerole database, no +role user), so testing it
//     has no effect and can happen in any order; or
//   - impure: its test may call a Roles, Resolver or Interfaces source, so
//     it must be tested exactly when the linear loop would test it.
//
// A rule is filed under one key, chosen at compile time, or in a fall-back
// list that every connection scans:
//
//   - db: every database token is a literal name; the rule can match only a
//     connection whose database is one of them (never physical replication).
//   - user: every user token is a literal and the database test calls no
//     source (pure rules only); only those user names.
//   - ip: an address with a contiguous mask (pure rules only); only clients
//     inside the prefix.
//
// Skipping a rule filed under a key the connection does not have is safe:
// the linear loop would reject it in a test that comes before any test that
// calls a source (the address test for ip, the database test for db, and the
// user test, after a source-free database test, for user), so no lookup is
// skipped that the linear loop would have done. Among the keys it qualifies
// for, a pure rule takes the one whose bucket is smallest.
//
// Deciding a connection: the first pure rule that matches is found source by
// source (each source's list is in file order, and a scan stops at the best
// rule found so far); then the impure candidates before it are tested in
// file order, and the first of them that matches, or cannot be evaluated,
// decides instead. Pure rules do not change the per-connection state, so
// the result, and every source call, is the linear loop's.
type index struct {
	parts [3]partition // partLocal, part4, part6
}

const (
	partLocal = iota
	part4
	part6
)

// smallPartition is the size up to which a partition is scanned linearly:
// below it a scan costs less than the hash lookups.
const smallPartition = 12

// pre4 is a quick IPv4 address test run before the full rule test.
type pre4 struct{ net, mask uint32 }

// span is a list of rule indexes in partition.post.
type span struct{ off, n uint32 }

// ipKey is a masked address and its prefix length. An IPv4 address is in lo.
type ipKey struct {
	hi, lo uint64
	bits   uint8
}

type partition struct {
	// small partitions are scanned linearly: all is every rule of the
	// partition in order.
	small bool
	all   []int32
	// pre4 is, for each rule of all, an IPv4 network and mask the client
	// must be in (mask 0 when the rule has no IPv4 address to check first).
	pre4 []pre4

	pureFB []int32 // pure rules filed under no key
	impFB  []int32 // impure rules filed under no key
	db     map[string]span
	dbImp  map[string]span
	user   map[string]span
	ip     map[ipKey]span
	lens   []uint8 // prefix lengths present in ip, longest first
	post   []int32
}

// Shapes a rule is filed under, for tests (indexShape).
const (
	shapeNone   = "none" // not in the partition
	shapeLinear = "linear"
	shapePureFB = "fallback"
	shapeImpFB  = "fallback-impure"
	shapeDB     = "db"
	shapeDBImp  = "db-impure"
	shapeUser   = "user"
	shapeIP     = "ip"
	noRule      = math.MaxInt32
)

// ruleInfo is the classification of one rule, computed once.
type ruleInfo struct {
	pure     bool
	dbKey    bool // every database token is a literal
	userKey  bool
	ipKey    bool
	prefix   netip.Prefix
	inLocal  bool
	in4, in6 bool
}

func classify(r *Rule) ruleInfo {
	var ri ruleInfo
	if r.Never || !r.Type.IsValid() {
		return ri
	}
	ri.pure = true
	ri.dbKey = true
	dbSourceFree := true
	for i := range r.dbs {
		switch r.dbs[i].kind {
		case nameLiteral:
		case nameSameRole:
			ri.pure = false
			dbSourceFree = false
			ri.dbKey = false
		default:
			ri.dbKey = false
		}
	}
	ri.userKey = dbSourceFree
	for i := range r.users {
		switch r.users[i].kind {
		case nameLiteral:
		case nameRole:
			ri.pure = false
			ri.userKey = false
		default:
			ri.userKey = false
		}
	}
	if r.Type == Local {
		ri.inLocal = true
		return ri
	}
	switch r.Address.Kind {
	case AddrAll:
		ri.in4, ri.in6 = true, true
	case AddrIP:
		ri.in4, ri.in6 = r.Address.IP.Is4(), !r.Address.IP.Is4()
		if p, ok := r.Address.Prefix(); ok {
			ri.prefix, ri.ipKey = p, true
		}
	case AddrSameHost, AddrSameNet, AddrHostName:
		ri.in4, ri.in6 = true, true
		ri.pure = false
	default:
		return ruleInfo{}
	}
	if !ri.pure {
		// Only a database key can be checked before an impure rule's first
		// source call; an address test may itself call one.
		ri.userKey, ri.ipKey = false, false
		if r.Address.Kind == AddrHostName || r.Address.Kind == AddrSameHost || r.Address.Kind == AddrSameNet {
			ri.dbKey = false
		}
	}
	return ri
}

func keyOf(a netip.Addr, bits int) ipKey {
	if a.Is4() {
		b4 := a.As4()
		v := uint64(binary.BigEndian.Uint32(b4[:]))
		if bits < 32 {
			v &^= (uint64(1) << (32 - bits)) - 1
		}
		return ipKey{lo: v, bits: uint8(bits)}
	}
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	switch {
	case bits == 0:
		hi, lo = 0, 0
	case bits < 64:
		hi &^= (uint64(1) << (64 - bits)) - 1
		lo = 0
	case bits == 64:
		lo = 0
	case bits < 128:
		lo &^= (uint64(1) << (128 - bits)) - 1
	}
	return ipKey{hi: hi, lo: lo, bits: uint8(bits)}
}

// buildIndex files every rule of rules.
func buildIndex(rules []*Rule) *index {
	infos := make([]ruleInfo, len(rules))
	var counts struct {
		db, user map[string]int32
		ip       map[ipKey]int32
	}
	counts.db = make(map[string]int32)
	counts.user = make(map[string]int32)
	counts.ip = make(map[ipKey]int32)
	for i, r := range rules {
		ri := classify(r)
		infos[i] = ri
		if ri.dbKey {
			for k := range r.dbs {
				counts.db[r.dbs[k].s]++
			}
		}
		if ri.userKey {
			for k := range r.users {
				counts.user[r.users[k].s]++
			}
		}
		if ri.ipKey {
			counts.ip[keyOf(ri.prefix.Addr(), ri.prefix.Bits())]++
		}
	}
	// Choose each rule's key: the smallest bucket it could be in.
	const (
		kNone = iota
		kDB
		kUser
		kIP
	)
	choice := make([]uint8, len(rules))
	for i, r := range rules {
		ri := &infos[i]
		best, cost := uint8(kNone), int32(math.MaxInt32)
		if ri.dbKey {
			var c int32
			for k := range r.dbs {
				c = max(c, counts.db[r.dbs[k].s])
			}
			best, cost = kDB, c
		}
		if ri.userKey {
			var c int32
			for k := range r.users {
				c = max(c, counts.user[r.users[k].s])
			}
			if c < cost {
				best, cost = kUser, c
			}
		}
		if ri.ipKey {
			if c := counts.ip[keyOf(ri.prefix.Addr(), ri.prefix.Bits())]; c < cost {
				best = kIP
			}
		}
		choice[i] = best
	}
	counts.db, counts.user, counts.ip = nil, nil, nil

	ix := new(index)
	for pi := range ix.parts {
		p := &ix.parts[pi]
		in := func(ri *ruleInfo) bool {
			switch pi {
			case partLocal:
				return ri.inLocal
			case part4:
				return ri.in4
			}
			return ri.in6
		}
		n := 0
		for i := range rules {
			if in(&infos[i]) {
				n++
			}
		}
		if n == 0 {
			continue
		}
		p.all = make([]int32, 0, n)
		for i := range rules {
			if in(&infos[i]) {
				p.all = append(p.all, int32(i))
			}
		}
		if n <= smallPartition {
			p.small = true
			if pi == part4 {
				p.pre4 = make([]pre4, len(p.all))
				for k, i := range p.all {
					a := &rules[i].Address
					if a.Kind == AddrIP && a.IP.Is4() {
						ip, m := a.IP.As4(), a.Mask.As4()
						mask := binary.BigEndian.Uint32(m[:])
						p.pre4[k] = pre4{net: binary.BigEndian.Uint32(ip[:]) & mask, mask: mask}
					}
				}
			}
			continue
		}
		p.all = nil
		// Group rule indexes by key, keeping file order within each key.
		var (
			dbL, dbImpL, userL = newLists[string](), newLists[string](), newLists[string]()
			ipL                = newLists[ipKey]()
		)
		for i, r := range rules {
			ri := &infos[i]
			if !in(ri) {
				continue
			}
			switch {
			case choice[i] == kDB && ri.pure:
				for k := range r.dbs {
					dbL.add(r.dbs[k].s, int32(i))
				}
			case choice[i] == kDB:
				for k := range r.dbs {
					dbImpL.add(r.dbs[k].s, int32(i))
				}
			case choice[i] == kUser:
				for k := range r.users {
					userL.add(r.users[k].s, int32(i))
				}
			case choice[i] == kIP:
				ipL.add(keyOf(ri.prefix.Addr(), ri.prefix.Bits()), int32(i))
			case ri.pure:
				p.pureFB = append(p.pureFB, int32(i))
			default:
				p.impFB = append(p.impFB, int32(i))
			}
		}
		total := dbL.total + dbImpL.total + userL.total + ipL.total
		p.post = make([]int32, 0, total)
		p.db = dbL.flatten(&p.post)
		p.dbImp = dbImpL.flatten(&p.post)
		p.user = userL.flatten(&p.post)
		p.ip = ipL.flatten(&p.post)
		var seen [129]bool
		for k := range p.ip {
			seen[k.bits] = true
		}
		for b := 128; b >= 0; b-- {
			if seen[b] {
				p.lens = append(p.lens, uint8(b))
			}
		}
	}
	return ix
}

// lists groups rule indexes by key while building. A key with one rule
// keeps it inline; more spill into a slice.
type lists[K comparable] struct {
	keys  []K
	first map[K]int32 // key -> position in keys
	rules [][]int32
	total int
}

func newLists[K comparable]() *lists[K] {
	return &lists[K]{first: make(map[K]int32)}
}

func (l *lists[K]) add(k K, rule int32) {
	pos, ok := l.first[k]
	if !ok {
		pos = int32(len(l.keys))
		l.first[k] = pos
		l.keys = append(l.keys, k)
		l.rules = append(l.rules, nil)
	}
	rs := l.rules[pos]
	if n := len(rs); n > 0 && rs[n-1] == rule {
		return // the same name twice in one rule
	}
	l.rules[pos] = append(rs, rule)
	l.total++
}

func (l *lists[K]) flatten(post *[]int32) map[K]span {
	if len(l.keys) == 0 {
		return nil
	}
	m := make(map[K]span, len(l.keys))
	for i, k := range l.keys {
		off := len(*post)
		*post = append(*post, l.rules[i]...)
		m[k] = span{off: uint32(off), n: uint32(len(l.rules[i]))}
	}
	return m
}

func (p *partition) list(s span) []int32 { return p.post[s.off : s.off+s.n : s.off+s.n] }

// firstPure returns the first rule of list, before best, that matches.
// Every rule of list is pure.
func (rs *Ruleset) firstPure(st *matchState, list []int32, best int32) int32 {
	for _, i := range list {
		if i >= best {
			break
		}
		if ok, _ := rs.rules[i].matches(st); ok {
			return i
		}
	}
	return best
}

// decideIndexed is decideLinear with the index.
func (rs *Ruleset) decideIndexed(st *matchState) Decision {
	c := &st.conn
	var p *partition
	switch {
	case c.Local:
		p = &rs.idx.parts[partLocal]
	case c.Addr.Is4():
		p = &rs.idx.parts[part4]
	case c.Addr.Is6():
		p = &rs.idx.parts[part6]
	default:
		// An invalid client address matches what the linear loop makes of it.
		return rs.decideLinear(st)
	}
	if p.small {
		if p.pre4 != nil {
			b := c.Addr.As4()
			ip := binary.BigEndian.Uint32(b[:])
			for k, i := range p.all {
				if f := p.pre4[k]; ip&f.mask != f.net {
					continue
				}
				if d, ok := rs.decideAt(st, i); ok {
					return d
				}
			}
			return Decision{Outcome: NoMatch}
		}
		for _, i := range p.all {
			if d, ok := rs.decideAt(st, i); ok {
				return d
			}
		}
		return Decision{Outcome: NoMatch}
	}

	best := int32(noRule)
	best = rs.firstPure(st, p.pureFB, best)
	phys := c.Replication == PhysicalReplication
	if !phys && p.db != nil {
		if s, ok := p.db[st.db]; ok {
			best = rs.firstPure(st, p.list(s), best)
		}
	}
	if p.user != nil {
		if s, ok := p.user[st.user]; ok {
			best = rs.firstPure(st, p.list(s), best)
		}
	}
	if len(p.lens) > 0 {
		a := c.Addr
		for _, bits := range p.lens {
			if s, ok := p.ip[keyOf(a, int(bits))]; ok {
				best = rs.firstPure(st, p.list(s), best)
			}
		}
	}

	// Impure candidates before best, in file order: merge the fall-back
	// list with the database bucket.
	fb := p.impFB
	var dbl []int32
	if !phys && p.dbImp != nil {
		if s, ok := p.dbImp[st.db]; ok {
			dbl = p.list(s)
		}
	}
	for len(fb) > 0 || len(dbl) > 0 {
		var i int32
		switch {
		case len(dbl) == 0 || (len(fb) > 0 && fb[0] < dbl[0]):
			i, fb = fb[0], fb[1:]
		default:
			i, dbl = dbl[0], dbl[1:]
		}
		if i >= best {
			break
		}
		if d, ok := rs.decideAt(st, i); ok {
			return d
		}
	}
	if best != noRule {
		return decided(rs.rules[best])
	}
	return Decision{Outcome: NoMatch}
}

// decideAt tests rule i; ok is false when the rule does not decide.
func (rs *Ruleset) decideAt(st *matchState, i int32) (Decision, bool) {
	r := rs.rules[i]
	ok, unresolved := r.matches(st)
	if unresolved {
		return Decision{Outcome: Unresolved, Rule: r, Reason: st.reason, Err: st.err}, true
	}
	if ok {
		return decided(r), true
	}
	return Decision{}, false
}

func decided(r *Rule) Decision {
	if r.Method == Reject {
		return Decision{Outcome: Rejected, Rule: r}
	}
	return Decision{Outcome: Matched, Rule: r}
}

// indexShape tells how the index filed the rule with the given 1-based
// number for connections of partition part ("local", "ipv4", "ipv6").
func (rs *Ruleset) indexShape(part string, number int) string {
	var p *partition
	switch part {
	case "local":
		p = &rs.idx.parts[partLocal]
	case "ipv4":
		p = &rs.idx.parts[part4]
	default:
		p = &rs.idx.parts[part6]
	}
	i := int32(number - 1)
	has := func(l []int32) bool {
		for _, x := range l {
			if x == i {
				return true
			}
		}
		return false
	}
	switch {
	case has(p.all):
		return shapeLinear
	case has(p.pureFB):
		return shapePureFB
	case has(p.impFB):
		return shapeImpFB
	}
	for _, s := range p.db {
		if has(p.list(s)) {
			return shapeDB
		}
	}
	for _, s := range p.dbImp {
		if has(p.list(s)) {
			return shapeDBImp
		}
	}
	for _, s := range p.user {
		if has(p.list(s)) {
			return shapeUser
		}
	}
	for _, s := range p.ip {
		if has(p.list(s)) {
			return shapeIP
		}
	}
	return shapeNone
}
