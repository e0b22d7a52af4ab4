package hba

// The index over the rules of a Ruleset and the search of it that Decide
// runs. Its building at compile time is in index_build.go.

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
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
//     samenet address, no samerole database, no +role user) and cannot be
//     unresolved (no regular expression with back-references, the only
//     kind whose match can stop at the matcher's work bound), so testing it
//     has no effect, can happen in any order and either matches or not; or
//   - impure: its test may call a Roles, Resolver or Interfaces source, or
//     be unresolved for a regular expression, so it must be tested exactly
//     when the linear loop would test it.
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
// skipped that the linear loop would have done (for a regular expression
// that may fail, its test is the "call": it comes in the database or user
// test, after the address test and, for a user-column expression, after
// the database test). Among the keys it qualifies
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

// scanSet is a set of the rules of a small partition of pure rules, bit k
// for its kth rule.
type scanSet = uint16

// The set must hold every rule of a small partition.
var _ [16 - smallPartition]struct{}

// scanRule is the rest of the tests of one rule of a small partition of
// pure rules, laid out flat, once its type, SSL, GSS and (in the IPv4
// partition) address tests passed (partition.conn and v4).
type scanRule struct {
	db      uint8      // scanDB* flags
	userAll bool       // the user column has all
	slow    bool       // the names or the address need the rule's own tests
	dbs     []scanName // the literal database names
	users   []scanName // the literal user names
	r       *Rule
}

// Database-column flags of a scanRule.
const (
	scanDBAll      uint8 = 1 << iota // all
	scanDBSameUser                   // sameuser
	scanDBRepl                       // replication
)

// scanName is a literal name of a scanRule: its length and, for a name of
// at most 16 bytes, its bytes as two words (its first and last 8 or 4
// bytes, which overlap in a shorter name), so that a name of the same
// length is compared in a few loads instead of a memequal call.
type scanName struct {
	w0, w1 uint64
	n      int
	s      string
}

func newScanName(s string) scanName {
	n := scanName{n: len(s), s: s}
	switch {
	case len(s) > 16:
	case len(s) >= 8:
		n.w0, n.w1 = le64(s), le64(s[len(s)-8:])
	case len(s) >= 4:
		n.w0 = uint64(le32(s)) | uint64(le32(s[len(s)-4:]))<<32
	}
	return n
}

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// eq reports whether the name is s, a string of its length.
func (n *scanName) eq(s string) bool {
	switch {
	case len(s) > 16:
	case len(s) >= 8:
		return le64(s) == n.w0 && le64(s[len(s)-8:]) == n.w1
	case len(s) >= 4:
		return uint64(le32(s))|uint64(le32(s[len(s)-4:]))<<32 == n.w0
	}
	return n.s == s
}

// connState is the state of a connection that the type, SSL and GSS tests
// read, as an index of partition.conn: a local connection is 0 (in the
// local partition every rule is local), a TCP one its SSL and GSS
// encryption as bits 0 and 1.
func connState(c *Conn) int {
	i := 0
	if c.SSL {
		i |= 1
	}
	if c.GSS {
		i |= 2
	}
	if c.Local {
		i = 0
	}
	return i
}

// ipKey is a masked address and its prefix length. An IPv4 address is in lo.
type ipKey struct {
	hi, lo uint64
	bits   uint8
}

type partition struct {
	// small partitions are scanned linearly: all is every rule of the
	// partition in order. pure: every rule of all is pure.
	small bool
	pure  bool
	all   []int32
	// scan is, for a small partition of pure rules, every rule of all as
	// a scanRule. conn[connState(c)] is the set of those rules whose type,
	// SSL and GSS tests c passes; in the IPv4 partition v4[j][b] is the set
	// of those whose address test passes byte j of the address being b
	// (an address test is a test of each byte under the mask).
	scan []scanRule
	conn [4]scanSet
	v4   *[4][256]scanSet

	pureFB []int32 // pure rules filed under no key
	impFB  []int32 // impure rules filed under no key
	// Names and prefixes are filed by hash: a collision only adds
	// candidates, which are always tested in full (and are rejected before
	// any source call, as a rule the linear loop tests would be).
	seed   maphash.Seed
	ipSeed uint64
	db     table
	dbImp  table
	user   table
	ip     table
	// byDB: db, dbG or dbImp holds rules.
	byDB bool
	// Groups: rules that share a column (one @file's names), filed
	// together. dbG and userG map a name to the groups filed under it;
	// group g's rules, in file order, are grules[goffs[g]:goffs[g+1]].
	dbG, userG table
	grules     []int32
	goffs      []int32
	lens       []uint8 // prefix lengths present in ip, longest first
	// The first rule filed under user names, and under each prefix length
	// in lens: a structure whose first rule comes after the best match so
	// far is not looked up.
	userMin int32
	lenMin  []int32
}

// noRule is past every rule number.
const noRule = math.MaxInt32

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

// table maps the hash of a key to its rules: an open-addressing table
// (linear probing) of tagged slots, built once (index_build.go). A key's
// probe sequence starts at the slot of its hash's top bits. A slot is 0
// when empty, else a tag (the hash's low half, never 0) above a value v:
// v >= 0 is the key's only rule, v < 0 the list post[offs[-v-1]:offs[-v]],
// in file order. Two keys with the same tag whose probe sequences meet
// share one list of candidates (for random 64-bit hashes about as rare as a
// full hash collision), which is harmless: candidates are tested in full.
type table struct {
	slots []uint64
	mask  uint64 // len(slots)-1; len(slots) is a power of two
	shift uint8  // 64 - log2(len(slots))
	offs  []int32
	post  []int32
}

// tagOf is the tag a hash is stored under.
func tagOf(h uint64) uint32 { return uint32(h) | 1 }

// lookup returns the rules filed under hash h; one is storage for a single
// rule.
func (t *table) lookup(h uint64, one *[1]int32) []int32 {
	if t.slots == nil {
		return nil
	}
	tag := tagOf(h)
	for i := h >> t.shift; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		switch {
		case s == 0:
			return nil
		case uint32(s>>32) != tag:
			continue
		}
		return t.value(s, one)
	}
}

// value returns the rules of the full slot s.
func (t *table) value(s uint64, one *[1]int32) []int32 {
	v := int32(uint32(s))
	if v >= 0 {
		one[0] = v
		return one[:]
	}
	return t.post[t.offs[-v-1]:t.offs[-v]]
}

// hash is the key a name is filed under.
func (p *partition) hash(name string) uint64 { return maphash.String(p.seed, name) }

// ipHash is the key a prefix is filed under.
func (p *partition) ipHash(k ipKey) uint64 {
	return mix64(mix64(mix64(p.ipSeed^k.hi)^k.lo) ^ uint64(k.bits))
}

// mix64 is the SplitMix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// firstPure returns the first rule of list, before best, that matches.
// Every rule of list is pure.
func (rs *Ruleset) firstPure(c *Conn, user, db string, list []int32, best int32) int32 {
	for _, i := range list {
		if i >= best {
			break
		}
		if rs.rules[i].matchesPure(c, user, db) {
			return i
		}
	}
	return best
}

// firstInGroups returns the first rule of the groups gs of p, before
// best, that matches: each group's rules are one more list for firstPure.
func (rs *Ruleset) firstInGroups(c *Conn, user, db string, p *partition, gs []int32, best int32) int32 {
	for _, g := range gs {
		best = rs.firstPure(c, user, db, p.grules[p.goffs[g]:p.goffs[g+1]], best)
	}
	return best
}

// partitionOf returns the partition of c's connections, nil for a TCP
// connection without a valid address (the linear loop decides those).
func (ix *index) partitionOf(c *Conn) *partition {
	switch {
	case c.Local:
		return &ix.parts[partLocal]
	case c.Addr.Is4():
		return &ix.parts[part4]
	case c.Addr.Is6():
		return &ix.parts[part6]
	}
	return nil
}

// decideIndexed is decideLinear with the index, for a connection of
// partition p, except a small partition of pure rules, which Decide scans
// itself (partition.scanPure). The per-connection state that source calls need is
// made only when an impure rule has to be tested.
func (rs *Ruleset) decideIndexed(ctx context.Context, p *partition, c *Conn, user, db string) Decision {
	if p.small {
		st := rs.newState(ctx, c, user, db)
		for _, i := range p.all {
			if d, ok := rs.decideAt(&st, i); ok {
				return d
			}
		}
		return Decision{Outcome: NoMatch}
	}

	var one [1]int32
	best := int32(noRule)
	best = rs.firstPure(c, user, db, p.pureFB, best)
	phys := c.Replication == PhysicalReplication
	var hdb uint64
	if !phys && p.byDB {
		hdb = p.hash(db)
		best = rs.firstPure(c, user, db, p.db.lookup(hdb, &one), best)
		if p.dbG.slots != nil {
			best = rs.firstInGroups(c, user, db, p, p.dbG.lookup(hdb, &one), best)
		}
	}
	if p.userMin < best {
		hu := p.hash(user)
		best = rs.firstPure(c, user, db, p.user.lookup(hu, &one), best)
		if p.userG.slots != nil {
			best = rs.firstInGroups(c, user, db, p, p.userG.lookup(hu, &one), best)
		}
	}
	if len(p.lens) > 0 {
		a := c.Addr
		for k, bits := range p.lens {
			if p.lenMin[k] < best {
				best = rs.firstPure(c, user, db, p.ip.lookup(p.ipHash(keyOf(a, int(bits))), &one), best)
			}
		}
	}

	// Impure candidates before best, in file order: merge the fall-back
	// list with the database bucket.
	fb := p.impFB
	var dbl []int32
	var oneImp [1]int32
	if !phys && p.dbImp.slots != nil {
		dbl = p.dbImp.lookup(hdb, &oneImp)
	}
	if (len(fb) > 0 && fb[0] < best) || (len(dbl) > 0 && dbl[0] < best) {
		st := rs.newState(ctx, c, user, db)
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
			if d, ok := rs.decideAt(&st, i); ok {
				return d
			}
		}
	}
	if best != noRule {
		return decided(rs.rules[best])
	}
	return decided(nil)
}

// scanPure returns the first rule of the small, pure partition p that
// matches, or nil.
func (p *partition) scanPure(c *Conn, user, db string) *Rule {
	set := p.conn[connState(c)&3]
	if t := p.v4; t != nil {
		b := c.Addr.As4()
		set &= t[0][b[0]] & t[1][b[1]] & t[2][b[2]] & t[3][b[3]]
	}
	phys := c.Replication == PhysicalReplication
	for ; set != 0; set &= set - 1 {
		// The rule's type, SSL, GSS and (in the IPv4 partition)
		// address tests passed. The name tests are laid out flat here:
		// as calls they would cost a good part of the whole scan.
		f := &p.scan[bits.TrailingZeros16(set)]
		if f.slow {
			if f.r.matchesPure(c, user, db) {
				return f.r
			}
			continue
		}
		switch {
		case phys:
			if f.db&scanDBRepl == 0 {
				continue
			}
		case f.db&scanDBAll != 0, f.db&scanDBSameUser != 0 && db == user:
		default:
			ok := false
			for i := range f.dbs {
				if n := &f.dbs[i]; n.n == len(db) {
					// n.eq(db), inline for 4 to 16 bytes.
					switch {
					case len(db) >= 8 && len(db) <= 16:
						ok = le64(db) == n.w0 && le64(db[len(db)-8:]) == n.w1
					case len(db) >= 4 && len(db) < 8:
						ok = uint64(le32(db))|uint64(le32(db[len(db)-4:]))<<32 == n.w0
					default:
						ok = n.eq(db)
					}
					if ok {
						break
					}
				}
			}
			if !ok {
				continue
			}
		}
		if f.userAll {
			return f.r
		}
		for i := range f.users {
			if n := &f.users[i]; n.n == len(user) {
				// n.eq(user), inline for 4 to 16 bytes.
				var ok bool
				switch {
				case len(user) >= 8 && len(user) <= 16:
					ok = le64(user) == n.w0 && le64(user[len(user)-8:]) == n.w1
				case len(user) >= 4 && len(user) < 8:
					ok = uint64(le32(user))|uint64(le32(user[len(user)-4:]))<<32 == n.w0
				default:
					ok = n.eq(user)
				}
				if ok {
					return f.r
				}
			}
		}
	}
	return nil
}

// decideAt tests rule i; ok is false when the rule does not decide.
func (rs *Ruleset) decideAt(st *matchState, i int32) (Decision, bool) {
	r := rs.rules[i]
	switch r.test(st) {
	case pass:
		return decided(r), true
	case undecidable:
		return Decision{Outcome: Unresolved, Rule: r, Reason: st.reason, Err: st.err}, true
	}
	return Decision{}, false
}

// decided is the decision of a first match r, or NoMatch for nil. (One
// composite literal, so that the result stays in registers.)
func decided(r *Rule) Decision {
	o := NoMatch
	if r != nil {
		o = Matched
		if r.method == Reject {
			o = Rejected
		}
	}
	return Decision{Outcome: o, Rule: r}
}
