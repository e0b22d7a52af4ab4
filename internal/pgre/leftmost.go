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
