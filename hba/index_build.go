package hba

// Building the index at compile time: each rule is classified (pure or
// not, which keys it qualifies for) and filed in the partitions of the
// connections it can match. index.go has the structure and its use.

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"runtime"
	"slices"
	"sync"
)

// ruleInfo is the classification of one rule, computed once.
type ruleInfo struct {
	pure     bool
	dbKey    bool // every database token is a literal
	userKey  bool
	ipKey    bool
	inLocal  bool
	in4, in6 bool
	// dbG and userG are 1 + the group (buildState.groups) of the
	// database and the user column, 0 for a column that is not shared.
	dbG, userG int32
}

func classify(r *Rule) ruleInfo {
	var ri ruleInfo
	if r.never() || !r.typ.IsValid() {
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
			if r.regexp(int(r.nDB()) + i).CanFail() {
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
		ri.in4, ri.in6 = r.v4(), !r.v4()
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
// when it qualifies. A group (a shared column) counts as its rules.
const bucketLimit = 8

// Filing of a rule in one partition.
const (
	kNone uint8 = iota
	kDB
	kUser
	kIP
)

// buildState is what the building of one index shares between its
// partitions.
type buildState struct {
	rules  []*Rule
	infos  []ruleInfo
	filed  []uint8 // per rule: its filing in the partition being built
	seed   maphash.Seed
	groups []colGroup
	// Scratch: the filings of one table, sorted into tmp or fs; the
	// filings of a group table; the groups with rules in one table.
	fs, tmp, gfs []filing
	used         []int32
}

// colGroup is a column that several rules share: one @file's names, the
// same array for each rule that names the file. The column's names are
// hashed once per index, and in a partition the rules that are filed
// under its names are filed as one group: the table of groups holds the
// group under each name once, and the group lists its rules in file order.
type colGroup struct {
	hs []uint64 // the hashes of the column's distinct names
	// While one table is built: the group's rules filed in it, whether a
	// bucket of one of its names is crowded, and its number in the
	// partition (-1: none).
	members []int32
	crowded bool
	local   int32
}

// colID is a column that rules may share: its first name, its length, the
// string table its names index and which column (0: database, 1: user)
// it is.
type colID struct {
	first *name
	n     int
	strs  *strTable
	user  bool
}

// sharedMin is the fewest names of a column filed as a group.
const sharedMin = 4

// findGroups sets the dbG and userG of every rule whose database or user
// column may be filed by name and is shared with another rule: at least
// sharedMin names of the load's string table (allExt), the same array in
// each rule.
func (b *buildState) findGroups() {
	// ids maps a column to its group, or to -1 - (2*rule + user) for a
	// column seen once so far.
	var ids map[colID]int32
	var lastID colID
	lastG := int32(-1)
	ref := func(i int, r *Rule, names []name, user bool) int32 {
		if len(names) < sharedMin || !allExt(names) {
			return 0
		}
		id := colID{first: &names[0], n: len(names), strs: r.file.strs, user: user}
		if id == lastID && lastG >= 0 {
			return lastG + 1
		}
		if ids == nil {
			ids = map[colID]int32{}
		}
		g, ok := ids[id]
		switch {
		case !ok:
			ids[id] = -1 - (2*int32(i) + int32(b2i(user)))
			return 0
		case g < 0:
			// The second rule: make the group, and put the first in it.
			first, firstUser := (-1-g)/2, (-1-g)%2 == 1
			g = int32(len(b.groups))
			b.groups = append(b.groups, colGroup{hs: b.hashNames(r, names), local: -1})
			ids[id] = g
			if firstUser {
				b.infos[first].userG = g + 1
			} else {
				b.infos[first].dbG = g + 1
			}
		}
		lastID, lastG = id, g
		return g + 1
	}
	for i, r := range b.rules {
		ri := &b.infos[i]
		if ri.dbKey {
			ri.dbG = ref(i, r, r.dbNames(), false)
		}
		if ri.userKey {
			ri.userG = ref(i, r, r.userNames(), true)
		}
	}
}

// hashNames returns the distinct hashes of the names of r's column names.
func (b *buildState) hashNames(r *Rule, names []name) []uint64 {
	hs := make([]uint64, len(names))
	for j, n := range names {
		hs[j] = maphash.String(b.seed, r.str(n.sp))
	}
	slices.Sort(hs)
	return slices.Clip(slices.Compact(hs))
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

// buildIndex files every rule of rules.
func buildIndex(rules []*Rule) *index {
	// One pass classifies every rule and counts the members of each
	// partition; a second lists them.
	infos := make([]ruleInfo, len(rules))
	procs := runtime.GOMAXPROCS(0)
	par := procs > 1 && len(rules) >= parIndexMin
	if par {
		const span = 8192
		parallelFor((len(rules)+span-1)/span, procs, nil, func(k int) {
			for i := k * span; i < min(len(rules), (k+1)*span); i++ {
				infos[i] = classify(rules[i])
			}
		})
	} else {
		// A small file's index allocates no closure.
		for i, r := range rules {
			infos[i] = classify(r)
		}
	}
	var count [3]int
	for i := range infos {
		ri := &infos[i]
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
	seed := maphash.MakeSeed()
	ipSeed := maphash.String(seed, "ip")
	var b *buildState
	keyed := 0
	for _, m := range members {
		keyed += b2i(len(m) > smallPartition)
	}
	if keyed > 0 {
		b = &buildState{rules: rules, infos: infos, filed: make([]uint8, len(rules)), seed: seed}
		b.findGroups()
	}
	// A large file's keyed partitions are built at once, the first with
	// b, each other with a fork of b made before any starts.
	var states [len(ix.parts)]*buildState
	par = par && keyed > 1
	first := true
	for pi, m := range members {
		switch {
		case len(m) <= smallPartition:
		case !par || first:
			states[pi], first = b, false
		default:
			states[pi] = b.fork()
		}
	}
	var wg sync.WaitGroup
	for pi := range ix.parts {
		p := &ix.parts[pi]
		p.seed, p.ipSeed, p.userMin = seed, ipSeed, noRule
		switch m := members[pi]; {
		case len(m) == 0:
		case len(m) <= smallPartition:
			p.buildSmall(rules, infos, m, pi == part4)
		case par:
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.buildKeyed(states[pi], m)
			}()
		default:
			p.buildKeyed(states[pi], m)
		}
	}
	wg.Wait()
	return ix
}

// parIndexMin is the smallest number of rules whose index is built on
// more than one core.
var parIndexMin = 16384

// fork returns a state to build another partition at the same time as b:
// the same rules, classes and groups' names, scratch of its own.
func (b *buildState) fork() *buildState {
	f := &buildState{rules: b.rules, infos: b.infos, filed: make([]uint8, len(b.rules)), seed: b.seed}
	f.groups = make([]colGroup, len(b.groups))
	for i, g := range b.groups {
		f.groups[i] = colGroup{hs: g.hs, local: -1}
	}
	return f
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
	p.scan = make([]scanRule, len(m))
	n := 0
	for _, i := range m {
		n += int(rules[i].nDB() + rules[i].nUser())
	}
	strs := make([]scanName, 0, n) // every rule's literal names, in one array
	if ipv4 {
		p.v4 = new([4][256]scanSet)
	}
	for k, i := range m {
		var conn uint8
		var mask, net uint32
		p.scan[k], conn, mask, net = newScanRule(rules[i], ipv4, &strs)
		bit := scanSet(1) << k
		for s := range p.conn {
			if conn&(1<<s) != 0 {
				p.conn[s] |= bit
			}
		}
		if p.v4 == nil {
			continue
		}
		for j := range p.v4 {
			sh := 24 - 8*j
			mb, nb := byte(mask>>sh), byte(net>>sh)
			for b := range p.v4[j] {
				if byte(b)&mb == nb {
					p.v4[j][b] |= bit
				}
			}
		}
	}
}

// newScanRule lays out the tests of the pure rule r of a small partition
// (the IPv4 one when ipv4), appending its literal names to strs. conn is
// the set of connStates its type, SSL and GSS tests pass; in the IPv4
// partition an address passes its address test when address&mask == net
// (mask 0 when the rule has no address).
func newScanRule(r *Rule, ipv4 bool, strs *[]scanName) (f scanRule, conn uint8, mask, net uint32) {
	f = scanRule{r: r}
	conn = 0xf
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
	if r.typ != Local && r.akind == AddrIP {
		if ipv4 && r.v4() {
			ip, m := r.addr().As4(), r.mask().As4()
			mask = binary.BigEndian.Uint32(m[:])
			net = binary.BigEndian.Uint32(ip[:]) & mask
		} else {
			f.slow = true // r.contains
		}
	}
	at := len(*strs)
	for _, n := range r.dbNames() {
		switch n.kind {
		case nameLiteral:
			*strs = append(*strs, newScanName(r.str(n.sp)))
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
			*strs = append(*strs, newScanName(r.str(n.sp)))
		case nameAll:
			f.userAll = true
		default:
			f.slow = true
		}
	}
	f.users = (*strs)[at:len(*strs):len(*strs)]
	return f, conn, mask, net
}

// buildKeyed files the rules m of a large partition: first choice database
// names, then user names, then address; rules in crowded buckets move on
// when they can.
func (p *partition) buildKeyed(b *buildState, m []int32) {
	rules, infos, filed := b.rules, b.infos, b.filed
	imp := false
	for _, i := range m {
		ri := &infos[i]
		filed[i] = kNone
		switch {
		case ri.dbKey && !ri.pure:
			imp = true
		case ri.dbKey:
			filed[i] = kDB
		case ri.userKey:
			filed[i] = kUser
		case ri.ipKey:
			filed[i] = kIP
		case ri.pure:
			p.pureFB = append(p.pureFB, i)
		default:
			p.impFB = append(p.impFB, i)
		}
	}
	if imp {
		// Impure rules are tested in file order (index.go), so they are
		// filed one by one, a shared column's rules too.
		n := 0
		for _, i := range m {
			if ri := &infos[i]; ri.dbKey && !ri.pure {
				n += int(rules[i].nDB())
			}
		}
		b.reserve(n)
		fs := b.fs[:0]
		for _, i := range m {
			if ri := &infos[i]; ri.dbKey && !ri.pure {
				fs = b.appendKeys(fs, i, ri.dbG, rules[i].dbNames())
			}
		}
		b.fs = fs
		p.dbImp = tableOf(b.sort(fs))
	}
	p.goffs = []int32{0}
	p.db, p.dbG = p.fileByName(b, m, kDB)
	p.user, p.userG = p.fileByName(b, m, kUser)
	if len(p.goffs) == 1 {
		p.goffs = nil
	}
	p.byDB = p.db.slots != nil || p.dbG.slots != nil || p.dbImp.slots != nil

	var ipLens [129]bool
	nIP := 0
	for _, i := range m {
		nIP += b2i(filed[i] == kIP)
	}
	b.reserve(nIP)
	fs := b.fs[:0]
	for _, i := range m {
		if filed[i] == kIP {
			r := rules[i]
			fs = append(fs, filing{h: p.ipHash(keyOf(r.addr(), int(r.bits))), v: i})
			ipLens[r.bits] = true
		}
	}
	b.fs = fs
	p.ip = tableOf(b.sort(fs))
	p.firstFiled(rules, m, filed, &ipLens)
}

// fileByName builds the table of the rules of m filed under k (kDB or
// kUser), by the names of that column, and the table of their groups.
// First the rules of buckets over bucketLimit move on, to their user
// names (from kDB) or their address, when they qualify.
func (p *partition) fileByName(b *buildState, m []int32, k uint8) (t, gt table) {
	rules, infos, filed := b.rules, b.infos, b.filed
	n := 0 // filings, at most
	for _, i := range m {
		switch {
		case filed[i] != k:
		case k == kDB && infos[i].dbG == 0:
			n += int(rules[i].nDB())
		case k == kUser && infos[i].userG == 0:
			n += int(rules[i].nUser())
		}
	}
	b.reserve(n)
	fs, used := b.fs[:0], b.used[:0]
	for _, i := range m {
		if filed[i] != k {
			continue
		}
		names, g := rules[i].userNames(), infos[i].userG
		if k == kDB {
			names, g = rules[i].dbNames(), infos[i].dbG
		}
		if g == 0 {
			fs = b.appendKeys(fs, i, 0, names)
			continue
		}
		grp := &b.groups[g-1]
		if len(grp.members) == 0 {
			used = append(used, g-1)
		}
		grp.members = append(grp.members, i)
	}
	// A group is filed once under each of its names, after the rules (so
	// that, in a bucket, rules come first and stay in file order).
	for _, g := range used {
		for _, h := range b.groups[g].hs {
			fs = append(fs, filing{h: h, v: -1 - g})
		}
	}
	b.fs, b.used = fs, used
	if len(fs) == 0 {
		return table{}, table{}
	}
	fs = b.sort(fs)

	// Crowded buckets: their rules move on. A rule's filings in a bucket
	// are next to each other, and count once.
	for a := 0; a < len(fs); {
		h, e, n, prev := fs[a].h, a, 0, int32(-1)
		for ; e < len(fs) && fs[e].h == h; e++ {
			if v := fs[e].v; v < 0 {
				n += len(b.groups[-1-v].members)
			} else if v != prev {
				n++
				prev = v
			}
		}
		if n > bucketLimit {
			for _, f := range fs[a:e] {
				if f.v < 0 {
					b.groups[-1-f.v].crowded = true
				} else if filed[f.v] == k {
					filed[f.v] = moveOn(&infos[f.v], k)
				}
			}
		}
		a = e
	}
	for _, g := range used {
		grp := &b.groups[g]
		if grp.crowded {
			for _, i := range grp.members {
				filed[i] = moveOn(&infos[i], k)
			}
		}
		// The rules that stay make the group's list in the partition.
		at := len(p.grules)
		for _, i := range grp.members {
			if filed[i] == k {
				p.grules = append(p.grules, i)
			}
		}
		if len(p.grules) > at {
			grp.local = int32(len(p.goffs) - 1)
			p.goffs = append(p.goffs, int32(len(p.grules)))
		}
	}

	// The filings that stay, still sorted: the rules', and the groups' in
	// gfs.
	n, gfs := 0, b.gfs[:0]
	for _, f := range fs {
		if f.v >= 0 {
			if filed[f.v] == k {
				fs[n] = f
				n++
			}
		} else if l := b.groups[-1-f.v].local; l >= 0 {
			gfs = append(gfs, filing{h: f.h, v: l})
		}
	}
	b.gfs = gfs
	for _, g := range used {
		grp := &b.groups[g]
		grp.members, grp.crowded, grp.local = grp.members[:0], false, -1
	}
	return tableOf(fs[:n]), tableOf(gfs)
}

// moveOn returns where a rule filed under k goes from a crowded bucket:
// its user names (from kDB), its address, or nowhere else (k).
func moveOn(ri *ruleInfo, k uint8) uint8 {
	switch {
	case k == kDB && ri.userKey:
		return kUser
	case ri.ipKey:
		return kIP
	}
	return k
}

// appendKeys appends to fs a filing of rule i under each of names, the
// column of group g (1 + its number; 0 for none).
func (b *buildState) appendKeys(fs []filing, i, g int32, names []name) []filing {
	if g > 0 {
		for _, h := range b.groups[g-1].hs {
			fs = append(fs, filing{h: h, v: i})
		}
		return fs
	}
	r := b.rules[i]
	for _, n := range names {
		fs = append(fs, filing{h: maphash.String(b.seed, r.str(n.sp)), v: i})
	}
	return fs
}

// filing is one key of a table, by its hash, and one rule (or, v < 0 in
// fileByName, the group -1-v) filed under it.
type filing struct {
	h uint64
	v int32
}

// tableSize is the number of slots of a table of n keys: a power of two,
// at most 4/5 full: a miss probes a few slots more than at 2/3, but 100,000
// keys take 131,072 slots (1 MiB) rather than 262,144.
func tableSize(n int) int {
	size := 8
	for size < n+n/4 {
		size <<= 1
	}
	return size
}

// reserve makes room for n filings in b.fs.
func (b *buildState) reserve(n int) {
	if cap(b.fs) < n {
		b.fs = make([]filing, 0, n)
	}
}

// sort returns fs sorted by sortFilings, in fs or in b.tmp.
func (b *buildState) sort(fs []filing) []filing {
	if cap(b.tmp) < len(fs) {
		b.tmp = make([]filing, len(fs))
	}
	return sortFilings(fs, b.tmp[:len(fs)])
}

// radixBits is the width of one pass of sortFilings.
const radixBits = 11

// sortFilings orders fs by the top bits of their hashes, at least as many
// as a table of len(fs) keys takes its slot from, so that tableOf writes
// the slots in order; the filings of one key are together and in the
// order of fs. tmp is scratch of len(fs); the result is fs or tmp.
func sortFilings(fs, tmp []filing) []filing {
	n := len(fs)
	byHash := func(x, y filing) int { return cmp.Compare(x.h, y.h) }
	if n <= 32 {
		slices.SortStableFunc(fs, byHash)
		return fs
	}
	// Least significant digit first, radixBits at a time: stable.
	passes := (bits.Len(uint(tableSize(n)-1)) + radixBits - 1) / radixBits
	top := uint(passes * radixBits)
	src, dst := fs, tmp
	var cnt [1 << radixBits]int32
	for pass := range passes {
		shift := 64 - top + uint(pass)*radixBits
		clear(cnt[:])
		for _, f := range src {
			cnt[f.h>>shift&(1<<radixBits-1)]++
		}
		at := int32(0)
		for d, c := range cnt {
			cnt[d] = at
			at += c
		}
		for _, f := range src {
			d := f.h >> shift & (1<<radixBits - 1)
			dst[cnt[d]] = f
			cnt[d]++
		}
		src, dst = dst, src
	}
	// Keys whose top bits are the same: sort them by the whole hash, so
	// that each key's filings are together.
	shift := 64 - top
	for a := 0; a < n; {
		e, mixed := a+1, false
		for ; e < n && src[e].h>>shift == src[a].h>>shift; e++ {
			mixed = mixed || src[e].h != src[a].h
		}
		if mixed {
			slices.SortStableFunc(src[a:e], byHash)
		}
		a = e
	}
	return src
}

// tableOf builds the table of fs, sorted by sortFilings (or a
// subsequence of such). The keys are placed in the order of their slots,
// so the writes are local, and each key's rules are its filings' in
// order, a rule's repeated filing once.
func tableOf(fs []filing) table {
	if len(fs) == 0 {
		return table{}
	}
	keys, nlist, npost := 0, 0, 0
	for a := 0; a < len(fs); {
		h, e, c := fs[a].h, a+1, 1
		for ; e < len(fs) && fs[e].h == h; e++ {
			c += b2i(fs[e].v != fs[e-1].v)
		}
		keys++
		if c > 1 {
			nlist++
			npost += c
		}
		a = e
	}
	size := tableSize(keys)
	t := table{slots: make([]uint64, size), mask: uint64(size - 1), shift: uint8(64 - bits.TrailingZeros(uint(size)))}
	if nlist > 0 {
		t.offs = make([]int32, 1, nlist+1)
		t.post = make([]int32, 0, npost)
	}
	// Two keys with the same tag whose probe sequences meet share a slot
	// (lookup stops at the first slot of its tag): the second's rules are
	// merged into the first's list afterwards. Rare: a 32-bit tag equal in
	// one run of full slots.
	var merges [][3]int
	for a := 0; a < len(fs); {
		h, e := fs[a].h, a+1
		single := true
		for ; e < len(fs) && fs[e].h == h; e++ {
			single = single && fs[e].v == fs[a].v
		}
		tag := tagOf(h)
		i := h >> t.shift
		for t.slots[i] != 0 && uint32(t.slots[i]>>32) != tag {
			i = (i + 1) & t.mask
		}
		switch {
		case t.slots[i] != 0:
			merges = append(merges, [3]int{int(i), a, e})
		case single:
			t.slots[i] = uint64(tag)<<32 | uint64(uint32(fs[a].v))
		default:
			t.slots[i] = uint64(tag)<<32 | uint64(t.addList(fs[a:e]))
		}
		a = e
	}
	for _, mg := range merges {
		var one [1]int32
		s := &t.slots[mg[0]]
		merged := slices.Clone(t.value(*s, &one))
		for _, f := range fs[mg[1]:mg[2]] {
			merged = append(merged, f.v)
		}
		slices.Sort(merged)
		merged = slices.Compact(merged)
		list := make([]filing, len(merged))
		for j, v := range merged {
			list[j].v = v
		}
		*s = *s&^0xffffffff | uint64(t.addList(list))
	}
	return t
}

// addList appends the rules of fs (a rule's repeated filing once) to t's
// lists and returns its slot value.
func (t *table) addList(fs []filing) uint32 {
	k := int32(len(t.offs) - 1)
	if k < 0 {
		t.offs = append(t.offs, 0)
		k = 0
	}
	prev := int32(-1)
	for _, f := range fs {
		if f.v != prev {
			t.post = append(t.post, f.v)
			prev = f.v
		}
	}
	t.offs = append(t.offs, int32(len(t.post)))
	return uint32(-k - 1)
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
