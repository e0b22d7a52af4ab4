package hba

// Building the index at compile time: each rule is classified (pure or
// not, which keys it qualifies for) and filed in the partitions of the
// connections it can match. index.go has the structure and its use.

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
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

func (b *buckets[K]) add(k K, rule int32) {
	if b.m == nil {
		b.m = make(map[K]int32)
	}
	v, ok := b.m[k]
	switch {
	case !ok:
		b.m[k] = rule
	case v == rule:
		// The same name twice in one rule.
	case v >= 0:
		b.multi = append(b.multi, []int32{v, rule})
		b.m[k] = -int32(len(b.multi))
	default:
		l := b.multi[-v-1]
		if l[len(l)-1] != rule {
			b.multi[-v-1] = append(l, rule)
		}
	}
}

func (b *buckets[K]) size(k K) int {
	v, ok := b.m[k]
	switch {
	case !ok:
		return 0
	case v >= 0:
		return 1
	}
	return len(b.multi[-v-1])
}

// keep drops from the multi-rule lists the rules for which keep is false.
// (A dropped rule left as a key's only rule is harmless: candidates are
// always tested in full.)
func (b *buckets[K]) keep(keep func(int32) bool) {
	for i, l := range b.multi {
		out := l[:0]
		for _, r := range l {
			if keep(r) {
				out = append(out, r)
			}
		}
		b.multi[i] = out
	}
}

// sort puts the multi-rule lists back in file order after rules were added
// out of order.
func (b *buckets[K]) sort() {
	for i, l := range b.multi {
		slices.Sort(l)
		b.multi[i] = slices.Compact(l)
	}
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
	infos := make([]ruleInfo, len(rules))
	for i, r := range rules {
		infos[i] = classify(r)
	}
	ix := new(index)
	var filed []uint8
	seed := maphash.MakeSeed()
	for pi := range ix.parts {
		p := &ix.parts[pi]
		p.seed, p.userMin = seed, noRule
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
		switch {
		case n == 0:
		case n <= smallPartition:
			p.buildSmall(rules, infos, in, n, pi == part4)
		default:
			if filed == nil {
				filed = make([]uint8, len(rules))
			}
			p.buildKeyed(rules, infos, in, filed)
		}
	}
	return ix
}

// buildSmall makes p a partition scanned linearly, of the n rules in it.
func (p *partition) buildSmall(rules []*Rule, infos []ruleInfo, in func(*ruleInfo) bool, n int, ipv4 bool) {
	p.small, p.pure = true, true
	p.all = make([]int32, 0, n)
	for i := range rules {
		if in(&infos[i]) {
			p.all = append(p.all, int32(i))
			p.pure = p.pure && infos[i].pure
		}
	}
	if !ipv4 {
		return
	}
	p.pre4 = make([]pre4, len(p.all))
	for k, i := range p.all {
		r := rules[i]
		if r.akind == AddrIP && r.v4 {
			ip, m := r.addr().As4(), r.mask().As4()
			mask := binary.BigEndian.Uint32(m[:])
			p.pre4[k] = pre4{net: binary.BigEndian.Uint32(ip[:]) & mask, mask: mask}
		}
	}
}

// buildKeyed files the rules of a large partition: first choice database
// names, then user names, then address; then rules in crowded buckets
// move on when they can. filed is scratch space, one entry per rule.
func (p *partition) buildKeyed(rules []*Rule, infos []ruleInfo, in func(*ruleInfo) bool, filed []uint8) {
	p.sizeMaps(rules, infos, in)
	for i, r := range rules {
		ri := &infos[i]
		filed[i] = kNone
		if !in(ri) {
			continue
		}
		switch {
		case ri.dbKey && !ri.pure:
			filed[i] = kDB
			p.fileNames(&p.dbImp, r, r.dbNames(), i)
		case ri.dbKey:
			filed[i] = kDB
			p.fileNames(&p.db, r, r.dbNames(), i)
		case ri.userKey:
			filed[i] = kUser
			p.fileNames(&p.user, r, r.userNames(), i)
		case ri.ipKey:
			filed[i] = kIP
			p.addIP(keyOf(r.addr(), int(r.bits)), int32(i))
		case ri.pure:
			p.pureFB = append(p.pureFB, int32(i))
		default:
			p.impFB = append(p.impFB, int32(i))
		}
	}
	movedDB := p.moveCrowdedDB(rules, infos, filed)
	movedUser := p.moveCrowdedUser(rules, infos, filed)
	if movedDB {
		p.db.keep(func(r int32) bool { return filed[r] == kDB })
		p.user.sort()
		p.ip.sort()
	}
	if movedUser {
		p.user.keep(func(r int32) bool { return filed[r] == kUser })
		p.ip.sort()
	}
	p.firstFiled(rules, filed)
}

// sizeMaps makes p's maps, sized for their first filing.
func (p *partition) sizeMaps(rules []*Rule, infos []ruleInfo, in func(*ruleInfo) bool) {
	var nDB, nDBImp, nUser, nIP int
	for i := range rules {
		switch ri := &infos[i]; {
		case !in(ri):
		case ri.dbKey && !ri.pure:
			nDBImp += int(rules[i].ndb)
		case ri.dbKey:
			nDB += int(rules[i].ndb)
		case ri.userKey:
			nUser += int(rules[i].nuser)
		case ri.ipKey:
			nIP++
		}
	}
	p.db.m = make(map[uint64]int32, nDB)
	p.dbImp.m = make(map[uint64]int32, nDBImp)
	p.user.m = make(map[uint64]int32, nUser)
	p.ip.m = make(map[ipKey]int32, nIP)
}

// fileNames files rule i of rules under each of names in b.
func (p *partition) fileNames(b *buckets[uint64], r *Rule, names []name, i int) {
	for _, n := range names {
		b.add(p.hash(r.str(n.sp)), int32(i))
	}
}

// crowded reports whether one of names has a bucket in b over bucketLimit.
func (p *partition) crowded(b *buckets[uint64], r *Rule, names []name) bool {
	for _, n := range names {
		if b.size(p.hash(r.str(n.sp))) > bucketLimit {
			return true
		}
	}
	return false
}

// moveCrowdedDB moves the pure rules of crowded database buckets to their
// user names or their address, when they qualify. It reports whether a
// rule moved.
func (p *partition) moveCrowdedDB(rules []*Rule, infos []ruleInfo, filed []uint8) bool {
	if len(p.db.multi) == 0 {
		return false
	}
	moved := false
	for i, r := range rules {
		ri := &infos[i]
		if filed[i] != kDB || !ri.pure || !(ri.userKey || ri.ipKey) || !p.crowded(&p.db, r, r.dbNames()) {
			continue
		}
		moved = true
		if ri.userKey {
			filed[i] = kUser
			p.fileNames(&p.user, r, r.userNames(), i)
		} else {
			filed[i] = kIP
			p.addIP(keyOf(r.addr(), int(r.bits)), int32(i))
		}
	}
	return moved
}

// moveCrowdedUser moves the rules of crowded user buckets to their
// address, when they qualify. It reports whether a rule moved.
func (p *partition) moveCrowdedUser(rules []*Rule, infos []ruleInfo, filed []uint8) bool {
	if len(p.user.multi) == 0 {
		return false
	}
	moved := false
	for i, r := range rules {
		if filed[i] != kUser || !infos[i].ipKey || !p.crowded(&p.user, r, r.userNames()) {
			continue
		}
		moved = true
		filed[i] = kIP
		p.addIP(keyOf(r.addr(), int(r.bits)), int32(i))
	}
	return moved
}

// firstFiled records the first rule filed under user names and under each
// prefix length, and the prefix lengths present, longest first.
func (p *partition) firstFiled(rules []*Rule, filed []uint8) {
	var lenMin [129]int32
	for b := range lenMin {
		lenMin[b] = noRule
	}
	p.userMin = noRule
	for i := range rules {
		switch filed[i] {
		case kUser:
			p.userMin = min(p.userMin, int32(i))
		case kIP:
			b := rules[i].bits
			lenMin[b] = min(lenMin[b], int32(i))
		}
	}
	for b := 128; b >= 0; b-- {
		if p.ipLens[b] {
			p.lens = append(p.lens, uint8(b))
			p.lenMin = append(p.lenMin, lenMin[b])
		}
	}
}

func (p *partition) addIP(k ipKey, rule int32) {
	p.ip.add(k, rule)
	p.ipLens[k.bits] = true
}
