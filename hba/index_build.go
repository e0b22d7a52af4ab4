package hba

// Building the index at compile time: each rule is classified (pure or
// not, which keys it qualifies for) and filed in the partitions of the
// connections it can match. index.go has the structure and its use.

import (
	"encoding/binary"
	"hash/maphash"
)

// ruleInfo is the classification of one rule, computed once.
type ruleInfo struct {
	pure     bool
	dbKey    bool // every database token is a literal
	userKey  bool
	ipKey    bool
	inLocal  bool
	in4, in6 bool
}

func classify(r *Rule) ruleInfo {
	var ri ruleInfo
	if r.never || !r.typ.IsValid() {
		return ri
	}
	ri.pure = true
	ri.dbKey = true
	dbSourceFree := true
	for i, n := range r.dbNames() {
		switch n.kind {
		case nameLiteral:
		case nameSameRole:
			ri.pure = false
			dbSourceFree = false
			ri.dbKey = false
		case nameRegex:
			if r.regexp(i).CanFail() {
				ri.pure = false
				dbSourceFree = false
			}
			ri.dbKey = false
		default:
			ri.dbKey = false
		}
	}
	ri.userKey = dbSourceFree
	for i, n := range r.userNames() {
		switch n.kind {
		case nameLiteral:
		case nameRole:
			ri.pure = false
			ri.userKey = false
		case nameRegex:
			if r.regexp(int(r.ndb) + i).CanFail() {
				ri.pure = false
			}
			ri.userKey = false
		default:
			ri.userKey = false
		}
	}
	if r.typ == Local {
		ri.inLocal = true
		return ri
	}
	switch r.akind {
	case AddrAll:
		ri.in4, ri.in6 = true, true
	case AddrIP:
		ri.in4, ri.in6 = r.v4, !r.v4
		if r.bits != noBits {
			ri.ipKey = true // the prefix r.ip/r.bits
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
		if r.akind == AddrHostName || r.akind == AddrSameHost || r.akind == AddrSameNet {
			ri.dbKey = false
		}
	}
	return ri
}

// bucketLimit is the bucket size above which a pure rule filed under its
// database names moves to its user names, and from there to its address,
// when it qualifies.
const bucketLimit = 8

// tableBuilder builds a table by counted construction: add places each
// key in its slot and counts the key's distinct rules, finish lays out the
// lists and fills them. Rules are added in file order, a rule's keys
// together.
type tableBuilder struct {
	t    table
	cnt  []int32  // per slot: distinct rules, then the list's write position
	last []int32  // per slot: 1 + the last many-key rule filed there (0: none)
	fs   []placed // every filing kept, in order
}

// placed is one key of one rule, with the slot the key is in.
type placed struct {
	rule int32
	slot uint32
}

// newTableBuilder returns a builder for at most n filings.
func newTableBuilder(n int) *tableBuilder {
	size := 8
	for size < n+n/2 {
		size <<= 1
	}
	return &tableBuilder{
		t:   table{slots: make([]uint64, size), mask: uint64(size - 1)},
		cnt: make([]int32, size),
		fs:  make([]placed, 0, n),
	}
}

// manyKeys is the number of keys from which a rule's repeated key is
// found through last rather than by looking back at its filings.
const manyKeys = 8

// add files rule under the key of hash h; many says that the rule has
// manyKeys keys or more (the same for each of its keys).
func (b *tableBuilder) add(h uint64, rule int32, many bool) {
	t := &b.t
	tag := tagOf(h)
	i := h & t.mask
	for {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = uint64(tag)<<32 | uint64(uint32(rule))
			b.cnt[i] = 1
			if many {
				b.last[i] = rule + 1
			}
			break
		}
		if uint32(s>>32) == tag {
			// The same name twice in one rule counts once.
			if many {
				if b.last[i] == rule+1 {
					return
				}
				b.last[i] = rule + 1
			} else {
				for k := len(b.fs) - 1; k >= 0 && b.fs[k].rule == rule; k-- {
					if b.fs[k].slot == uint32(i) {
						return
					}
				}
			}
			b.cnt[i]++
			break
		}
		i = (i + 1) & t.mask
	}
	b.fs = append(b.fs, placed{rule: rule, slot: uint32(i)})
}

// finish returns the table and the size of its largest bucket.
func (b *tableBuilder) finish() (t table, largest int) {
	t = b.t
	if len(b.fs) == 0 {
		return table{}, 0
	}
	nlist, npost := 0, 0
	for _, c := range b.cnt {
		if c > 1 {
			nlist++
			npost += int(c)
			largest = max(largest, int(c))
		}
	}
	if nlist == 0 {
		return t, 1
	}
	// Lay out the lists of the keys with more than one rule; cnt becomes
	// each list's write position (-1: a single rule, in its slot).
	t.offs = make([]int32, 0, nlist+1)
	t.post = make([]int32, npost)
	at := int32(0)
	for i, c := range b.cnt {
		if c > 1 {
			k := int32(len(t.offs))
			t.offs = append(t.offs, at)
			t.slots[i] = t.slots[i]&^0xffffffff | uint64(uint32(-k-1))
			b.cnt[i] = at
			at += c
		} else {
			b.cnt[i] = -1
		}
	}
	t.offs = append(t.offs, at)
	for _, f := range b.fs {
		if w := b.cnt[f.slot]; w >= 0 {
			t.post[w] = f.rule
			b.cnt[f.slot] = w + 1
		}
	}
	return t, largest
}

// size is the number of rules filed under hash h.
func (t *table) size(h uint64) int {
	var one [1]int32
	return len(t.lookup(h, &one))
}

// Filing of a rule in one partition.
const (
	kNone uint8 = iota
	kDB
	kUser
	kIP
)

// buildIndex files every rule of rules.
func buildIndex(rules []*Rule) *index {
	// One pass classifies every rule and counts the members of each
	// partition; a second lists them.
	infos := make([]ruleInfo, len(rules))
	var count [3]int
	for i, r := range rules {
		ri := classify(r)
		infos[i] = ri
		count[partLocal] += b2i(ri.inLocal)
		count[part4] += b2i(ri.in4)
		count[part6] += b2i(ri.in6)
	}
	var members [3][]int32
	for pi, n := range count {
		members[pi] = make([]int32, 0, n)
	}
	for i := range infos {
		ri := &infos[i]
		if ri.inLocal {
			members[partLocal] = append(members[partLocal], int32(i))
		}
		if ri.in4 {
			members[part4] = append(members[part4], int32(i))
		}
		if ri.in6 {
			members[part6] = append(members[part6], int32(i))
		}
	}
	ix := new(index)
	var filed []uint8
	seed := maphash.MakeSeed()
	ipSeed := maphash.String(seed, "ip")
	hc := &hashCache{seed: seed}
	for pi := range ix.parts {
		p := &ix.parts[pi]
		p.seed, p.ipSeed, p.userMin = seed, ipSeed, noRule
		switch m := members[pi]; {
		case len(m) == 0:
		case len(m) <= smallPartition:
			p.buildSmall(rules, infos, m, pi == part4)
		default:
			if filed == nil {
				filed = make([]uint8, len(rules))
			}
			p.buildKeyed(rules, infos, m, filed, hc)
		}
	}
	return ix
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildSmall makes p a partition scanned linearly, of the rules m.
func (p *partition) buildSmall(rules []*Rule, infos []ruleInfo, m []int32, ipv4 bool) {
	p.small, p.pure = true, true
	p.all = m
	for _, i := range m {
		p.pure = p.pure && infos[i].pure
	}
	if !p.pure {
		return
	}
	p.ipv4 = ipv4
	p.scan = make([]scanRule, len(m))
	p.pre = make([]scanPre, len(m))
	n := 0
	for _, i := range m {
		n += int(rules[i].ndb + rules[i].nuser)
	}
	strs := make([]string, 0, n) // every rule's literal names, in one array
	for k, i := range m {
		p.scan[k], p.pre[k] = newScanRule(rules[i], ipv4, &strs)
	}
}

// newScanRule lays out the tests of the pure rule r of a small partition
// (the IPv4 one when ipv4), appending its literal names to strs.
func newScanRule(r *Rule, ipv4 bool, strs *[]string) (scanRule, scanPre) {
	f := scanRule{r: r}
	conn := uint8(0xff) // the connBits the rule's type passes
	switch r.typ {
	case Local:
		conn = 1
	case HostSSL:
		conn = 1<<1 | 1<<3
	case HostNoSSL:
		conn = 1<<0 | 1<<2
	case HostGSSEnc:
		conn = 1<<2 | 1<<3
	case HostNoGSSEnc:
		conn = 1<<0 | 1<<1
	}
	pre := scanPre{mask: uint64(^conn) << 32}
	if r.typ != Local && r.akind == AddrIP {
		if ipv4 && r.v4 {
			ip, m := r.addr().As4(), r.mask().As4()
			mask := binary.BigEndian.Uint32(m[:])
			pre.mask |= uint64(mask)
			pre.net = uint64(binary.BigEndian.Uint32(ip[:]) & mask)
		} else {
			f.slow = true // r.contains
		}
	}
	at := len(*strs)
	for _, n := range r.dbNames() {
		switch n.kind {
		case nameLiteral:
			*strs = append(*strs, r.str(n.sp))
		case nameAll:
			f.db |= scanDBAll
		case nameSameUser:
			f.db |= scanDBSameUser
		case nameReplication:
			f.db |= scanDBRepl
		default:
			f.slow = true
		}
	}
	f.dbs = (*strs)[at:len(*strs):len(*strs)]
	at = len(*strs)
	for _, n := range r.userNames() {
		switch n.kind {
		case nameLiteral:
			*strs = append(*strs, r.str(n.sp))
		case nameAll:
			f.userAll = true
		default:
			f.slow = true
		}
	}
	f.users = (*strs)[at:len(*strs):len(*strs)]
	return f, pre
}

// buildKeyed files the rules m of a large partition: first choice database
// names, then user names, then address; then rules in crowded buckets
// move on when they can. filed is scratch space, one entry per rule.
func (p *partition) buildKeyed(rules []*Rule, infos []ruleInfo, m []int32, filed []uint8, hc *hashCache) {
	nDB, nDBImp, nUser, nIP := 0, 0, 0, 0
	for _, i := range m {
		r, ri := rules[i], &infos[i]
		filed[i] = kNone
		switch {
		case ri.dbKey && !ri.pure:
			nDBImp += int(r.ndb)
		case ri.dbKey:
			filed[i] = kDB
			nDB += int(r.ndb)
		case ri.userKey:
			filed[i] = kUser
			nUser += int(r.nuser)
		case ri.ipKey:
			filed[i] = kIP
			nIP++
		case ri.pure:
			p.pureFB = append(p.pureFB, i)
		default:
			p.impFB = append(p.impFB, i)
		}
	}
	if nDBImp > 0 {
		b := newTableBuilder(nDBImp)
		for _, i := range m {
			if r, ri := rules[i], &infos[i]; ri.dbKey && !ri.pure {
				fileNames(b, hc.hashes(r, r.dbNames()), i)
			}
		}
		p.dbImp, _ = b.finish()
	}
	var largest int
	p.db, largest = fileAll(rules, m, filed, kDB, nDB, hc)
	if largest > bucketLimit && p.moveCrowdedDB(rules, infos, m, filed, hc) {
		p.db, _ = fileAll(rules, m, filed, kDB, -1, hc)
		nUser, nIP = -1, -1
	}
	p.user, largest = fileAll(rules, m, filed, kUser, nUser, hc)
	if largest > bucketLimit && p.moveCrowdedUser(rules, infos, m, filed, hc) {
		p.user, _ = fileAll(rules, m, filed, kUser, -1, hc)
		nIP = -1
	}
	if nIP < 0 {
		nIP = 0
		for _, i := range m {
			nIP += b2i(filed[i] == kIP)
		}
	}
	var ipLens [129]bool
	if nIP > 0 {
		b := newTableBuilder(nIP)
		for _, i := range m {
			if filed[i] == kIP {
				r := rules[i]
				b.add(p.ipHash(keyOf(r.addr(), int(r.bits))), i, false)
				ipLens[r.bits] = true
			}
		}
		p.ip, _ = b.finish()
	}
	p.firstFiled(rules, m, filed, &ipLens)
}

// fileNames files rule i under each of the name hashes hs.
func fileNames(b *tableBuilder, hs []uint64, i int32) {
	many := len(hs) >= manyKeys
	if many && b.last == nil {
		b.last = make([]int32, len(b.cnt))
	}
	for _, h := range hs {
		b.add(h, i, many)
	}
}

// hashCache hashes the names of rule columns (with the seed of every
// partition) and keeps the hashes of a column that rules share (the names
// of one @file: the same array, of strings of one table), so that they are
// computed once per index.
type hashCache struct {
	seed   maphash.Seed
	buf    []uint64
	lastID colID
	last   []uint64
	cols   map[colID][]uint64
}

// colID is a column shared between rules: its first name, its length and
// the string table its names index.
type colID struct {
	first *name
	n     int
	strs  *strTable
}

// sharedMin is the fewest names of a column whose hashes are kept.
const sharedMin = 4

// hashes returns the hashes of the names of r's column names, valid until
// the next call unless the column is shared.
func (c *hashCache) hashes(r *Rule, names []name) []uint64 {
	if len(names) >= sharedMin && allExt(names) {
		id := colID{first: &names[0], n: len(names), strs: r.file.strs}
		if id == c.lastID {
			return c.last
		}
		hs, ok := c.cols[id]
		if !ok {
			hs = make([]uint64, len(names))
			for j, n := range names {
				hs[j] = maphash.String(c.seed, r.str(n.sp))
			}
			if c.cols == nil {
				c.cols = map[colID][]uint64{}
			}
			c.cols[id] = hs
		}
		c.lastID, c.last = id, hs
		return hs
	}
	c.buf = c.buf[:0]
	for _, n := range names {
		c.buf = append(c.buf, maphash.String(c.seed, r.str(n.sp)))
	}
	return c.buf
}

// allExt reports whether every name of names is in the load's string
// table: such a column reads the same strings in every rule that holds it.
func allExt(names []name) bool {
	for _, n := range names {
		if !n.sp.ext() {
			return false
		}
	}
	return true
}

// fileAll builds the table of the rules filed under k (kDB or kUser), by
// their database or their user names; n is the number of names, or -1 to
// count them.
func fileAll(rules []*Rule, m []int32, filed []uint8, k uint8, n int, hc *hashCache) (table, int) {
	names := func(r *Rule) []name {
		if k == kDB {
			return r.dbNames()
		}
		return r.userNames()
	}
	if n < 0 {
		n = 0
		for _, i := range m {
			if filed[i] == k {
				n += len(names(rules[i]))
			}
		}
	}
	if n == 0 {
		return table{}, 0
	}
	b := newTableBuilder(n)
	for _, i := range m {
		if filed[i] == k {
			r := rules[i]
			fileNames(b, hc.hashes(r, names(r)), i)
		}
	}
	return b.finish()
}

// crowded reports whether one of names has a bucket in t over bucketLimit.
func crowded(t *table, r *Rule, names []name, hc *hashCache) bool {
	for _, h := range hc.hashes(r, names) {
		if t.size(h) > bucketLimit {
			return true
		}
	}
	return false
}

// moveCrowdedDB moves the pure rules of crowded database buckets to their
// user names or their address, when they qualify. It reports whether a
// rule moved.
func (p *partition) moveCrowdedDB(rules []*Rule, infos []ruleInfo, m []int32, filed []uint8, hc *hashCache) bool {
	moved := false
	for _, i := range m {
		r, ri := rules[i], &infos[i]
		if filed[i] != kDB || !ri.pure || !(ri.userKey || ri.ipKey) || !crowded(&p.db, r, r.dbNames(), hc) {
			continue
		}
		moved = true
		if ri.userKey {
			filed[i] = kUser
		} else {
			filed[i] = kIP
		}
	}
	return moved
}

// moveCrowdedUser moves the rules of crowded user buckets to their
// address, when they qualify. It reports whether a rule moved.
func (p *partition) moveCrowdedUser(rules []*Rule, infos []ruleInfo, m []int32, filed []uint8, hc *hashCache) bool {
	moved := false
	for _, i := range m {
		if r := rules[i]; filed[i] == kUser && infos[i].ipKey && crowded(&p.user, r, r.userNames(), hc) {
			filed[i] = kIP
			moved = true
		}
	}
	return moved
}

// firstFiled records the first rule filed under user names and under each
// prefix length, and the prefix lengths present, longest first.
func (p *partition) firstFiled(rules []*Rule, m []int32, filed []uint8, ipLens *[129]bool) {
	var lenMin [129]int32
	for b := range lenMin {
		lenMin[b] = noRule
	}
	p.userMin = noRule
	for _, i := range m {
		switch filed[i] {
		case kUser:
			p.userMin = min(p.userMin, i)
		case kIP:
			b := rules[i].bits
			lenMin[b] = min(lenMin[b], i)
		}
	}
	for b := 128; b >= 0; b-- {
		if ipLens[b] {
			p.lens = append(p.lens, uint8(b))
			p.lenMin = append(p.lenMin, lenMin[b])
		}
	}
}
