package pgre

import "math/bits"

// Leftmost match start in one pass. A match starts at b when the program
// matches s[b:e] for some e >= b. Running the automaton of the reversed
// pattern backwards over the whole subject, with a fresh thread started at
// every position (every possible end e), marks exactly those b: the reversed
// automaton reaches its match state at b after reading s[e-1], ..., s[b].
// Assertions and lookaround constraints are evaluated at the same positions
// of the original subject, so they mean the same thing in both directions.
// The smallest such b is PostgreSQL's match start: its find() tries begins
// from the last "cold" point of the search automaton upwards and takes the
// first at which the longest or shortest end exists, and no match starts
// before that cold point. The work is O(len(prog) * len(s)), where trying
// every begin in turn costs O(len(prog) * len(s)^2) on subjects like
// "aaa…acb" for a*b.

// reverseNode returns the expression of the reversed language. Lookaround
// bodies keep their direction: they are evaluated forwards (or, for
// lookbehind, as ending at the position) wherever they are reached.
func reverseNode(n *node) *node {
	switch n.op {
	case nCat:
		ks := make([]*node, len(n.kids))
		for i, k := range n.kids {
			ks[len(ks)-1-i] = reverseNode(k)
		}
		c := *n
		c.kids = ks
		return &c
	case nAlt, nRep:
		ks := make([]*node, len(n.kids))
		for i, k := range n.kids {
			ks[i] = reverseNode(k)
		}
		c := *n
		c.kids = ks
		return &c
	}
	return n
}

// leftmostStart returns the smallest b at which a match of the pattern
// begins, or -1 when there is none. p must be compiled from the reversed
// pattern (reverseNode).
func (p *prog) leftmostStart(s string) int {
	if p.fast != nil {
		return p.fast.leftmostStart(s)
	}
	return p.slowLeftmostStart(s)
}

func (bp *bitProg) leftmostStart(s string) int {
	best := -1
	st := bp.startClo[bp.ctx(s, len(s))]
	if st&bp.matchBit != 0 {
		best = len(s)
	}
	idle := bp.startClo[0]
	skip := !bp.contextual && idle&bp.matchBit == 0
	for pos := len(s); pos > 0; pos-- {
		if skip && st == idle {
			// Only fresh threads are live: skip bytes that no match
			// can end with.
			for pos > 0 && bp.byteMask[s[pos-1]]&idle == 0 {
				pos--
			}
			if pos == 0 {
				break
			}
		}
		// consume s[pos-1], arriving at pos-1
		var next uint64
		if live := st & bp.byteMask[s[pos-1]]; live != 0 {
			next = bp.step(live, bp.ctx(s, pos-1))
		}
		st = next | bp.startClo[bp.ctx(s, pos-1)]
		if st&bp.matchBit != 0 {
			best = pos - 1
		}
	}
	return best
}

func (bp *bitProg) step(live uint64, ctx int) uint64 {
	succ := &bp.succ[ctx]
	var next uint64
	for live != 0 {
		i := bits.TrailingZeros64(live)
		live &= live - 1
		next |= succ[i]
	}
	return next
}

func (p *prog) slowLeftmostStart(s string) int {
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	best := -1
	if p.addClosure(sc, cur, p.start, s, len(s)) {
		best = len(s)
	}
	for pos := len(s); pos > 0; pos-- {
		next.clear()
		b := s[pos-1]
		m := false
		for _, pc := range cur.dense {
			in := &p.insts[pc]
			if in.op == iSet && p.sets[in.arg].has(b) && p.addClosure(sc, next, in.out, s, pos-1) {
				m = true
			}
		}
		if p.addClosure(sc, next, p.start, s, pos-1) {
			m = true
		}
		if m {
			best = pos - 1
		}
		cur, next = next, cur
	}
	return best
}

// Split points for dissection. Without back-references, cdissect's search
// for the split of a concatenation (ccondissect: the longest left part, then
// shorter ones, until the right part matches the rest; crevcondissect: the
// shortest first) cannot fail once a candidate's two parts both match, so
// its answer is the largest (or smallest) mid at which the left program
// matches s[begin:mid] and the right one matches s[mid:end]. Both sets come
// from one pass each, instead of one pass per candidate.

// matchEnds sets ends[e-start] for every e in [start, stop] such that p
// matches s[start:e].
func (p *prog) matchEnds(s string, start, stop int, ends []bool) {
	if bp := p.fast; bp != nil {
		st := bp.startClo[bp.ctx(s, start)]
		ends[0] = st&bp.matchBit != 0
		for pos := start + 1; pos <= stop && st != 0; pos++ {
			st = bp.advance(st, s, pos)
			ends[pos-start] = st&bp.matchBit != 0
		}
		return
	}
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	ends[0] = p.addClosure(sc, cur, p.start, s, start)
	for pos := start + 1; pos <= stop && len(cur.dense) > 0; pos++ {
		next.clear()
		ends[pos-start] = p.step(sc, cur, next, s, pos)
		cur, next = next, cur
	}
}

// matchStarts sets starts[b-lo] for every b in [lo, end] such that the
// pattern matches s[b:end]; p must be compiled from the reversed pattern.
func (p *prog) matchStarts(s string, lo, end int, starts []bool) {
	if bp := p.fast; bp != nil {
		st := bp.startClo[bp.ctx(s, end)]
		starts[end-lo] = st&bp.matchBit != 0
		for pos := end; pos > lo && st != 0; pos-- {
			var next uint64
			if live := st & bp.byteMask[s[pos-1]]; live != 0 {
				next = bp.step(live, bp.ctx(s, pos-1))
			}
			st = next
			starts[pos-1-lo] = st&bp.matchBit != 0
		}
		return
	}
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	starts[end-lo] = p.addClosure(sc, cur, p.start, s, end)
	for pos := end; pos > lo && len(cur.dense) > 0; pos-- {
		next.clear()
		b := s[pos-1]
		m := false
		for _, pc := range cur.dense {
			in := &p.insts[pc]
			if in.op == iSet && p.sets[in.arg].has(b) && p.addClosure(sc, next, in.out, s, pos-1) {
				m = true
			}
		}
		starts[pos-1-lo] = m
		cur, next = next, cur
	}
}

// split returns the largest (shortest: the smallest) mid in [begin, end]
// such that left matches s[begin:mid] and right matches s[mid:end], or -1.
func split(s string, left, right *subre, begin, end int, shortest bool) int {
	n := end - begin + 1
	buf := make([]bool, 2*n)
	ends, starts := buf[:n], buf[n:]
	left.prog.matchEnds(s, begin, end, ends)
	right.rev.matchStarts(s, begin, end, starts)
	if shortest {
		for i := 0; i < n; i++ {
			if ends[i] && starts[i] {
				return begin + i
			}
		}
		return -1
	}
	for i := n - 1; i >= 0; i-- {
		if ends[i] && starts[i] {
			return begin + i
		}
	}
	return -1
}

// longestScan is longest, also reporting how many bytes it read: the work
// charged to the match budget when dissecting without back-references.
func (p *prog) longestScan(s string, start, stop int) (last, scanned int) {
	if bp := p.fast; bp != nil {
		st := bp.startClo[bp.ctx(s, start)]
		last = -1
		if st&bp.matchBit != 0 {
			last = start
		}
		pos := start + 1
		for ; pos <= stop && st != 0; pos++ {
			st = bp.advance(st, s, pos)
			if st&bp.matchBit != 0 {
				last = pos
			}
		}
		return last, pos - start
	}
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	last = -1
	if p.addClosure(sc, cur, p.start, s, start) {
		last = start
	}
	pos := start + 1
	for ; pos <= stop && len(cur.dense) > 0; pos++ {
		next.clear()
		if p.step(sc, cur, next, s, pos) {
			last = pos
		}
		cur, next = next, cur
	}
	return last, (pos - start) * (1 + len(p.insts)/64)
}

// shortestScan is shortest, also reporting the bytes read (see longestScan).
func (p *prog) shortestScan(s string, start, min, max int) (end, scanned int) {
	if bp := p.fast; bp != nil {
		st := bp.startClo[bp.ctx(s, start)]
		if st&bp.matchBit != 0 && start >= min {
			return start, 1
		}
		for pos := start + 1; pos <= max && st != 0; pos++ {
			st = bp.advance(st, s, pos)
			if st&bp.matchBit != 0 && pos >= min {
				return pos, pos - start + 1
			}
		}
		return -1, max - start + 1
	}
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	w := 1 + len(p.insts)/64
	if p.addClosure(sc, cur, p.start, s, start) && start >= min {
		return start, w
	}
	pos := start + 1
	for ; pos <= max && len(cur.dense) > 0; pos++ {
		next.clear()
		if p.step(sc, cur, next, s, pos) && pos >= min {
			return pos, (pos - start + 1) * w
		}
		cur, next = next, cur
	}
	return -1, (pos - start) * w
}

// endsAt reports whether some match of the pattern ends exactly at end; p
// must be compiled from the reversed pattern. It reads backwards from end
// only while a thread is alive, so a lookbehind constraint costs the length
// of what its body can match, not the length of the subject before it.
func (p *prog) endsAt(s string, end int) bool {
	if bp := p.fast; bp != nil {
		st := bp.startClo[bp.ctx(s, end)]
		if st&bp.matchBit != 0 {
			return true
		}
		for pos := end; pos > 0 && st != 0; pos-- {
			var next uint64
			if live := st & bp.byteMask[s[pos-1]]; live != 0 {
				next = bp.step(live, bp.ctx(s, pos-1))
			}
			st = next
			if st&bp.matchBit != 0 {
				return true
			}
		}
		return false
	}
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	if p.addClosure(sc, cur, p.start, s, end) {
		return true
	}
	for pos := end; pos > 0 && len(cur.dense) > 0; pos-- {
		next.clear()
		b := s[pos-1]
		for _, pc := range cur.dense {
			in := &p.insts[pc]
			if in.op == iSet && p.sets[in.arg].has(b) && p.addClosure(sc, next, in.out, s, pos-1) {
				return true
			}
		}
		cur, next = next, cur
	}
	return false
}
