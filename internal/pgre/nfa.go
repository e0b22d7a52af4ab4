package pgre

import (
	"fmt"
	"sync"
)

// A prog is a Thompson NFA over bytes with zero-width assertions and
// lookaround constraints, simulated breadth-first (no backtracking, so the
// work is O(len(prog) * len(s)) per scan).

const (
	iSet = iota
	iSplit
	iJmp
	iAssert
	iLook
	iMatch
)

type inst struct {
	op       uint8
	out, alt int32
	arg      int32 // set index, assertion kind, look index
}

type look struct {
	kind int
	p    *prog
	rev  *prog // lookbehind: the reversed body, run backwards from the position
}

type prog struct {
	insts    []inst
	sets     []byteSet
	looks    []look
	start    int32
	anchored bool     // every match starts at offset 0
	fast     *bitProg // bit-parallel simulation, when small enough
	pool     sync.Pool
}

// maxStates bounds the size of one compiled program; beyond it the pattern
// is refused as unsupported. PostgreSQL's own limit ("regular expression is
// too complex") depends on its NFA construction and on recursion depth: it
// accepted (?:a{167}){255} (42,585 characters in a chain) but rejected
// (?:a{168}){255}. Staying far below it keeps our answers exact.
const maxStates = 10000

func compileProg(n *node) *prog {
	c := &progCompiler{p: &prog{}, outer: -1}
	f := c.compile(n)
	m := c.emit(inst{op: iMatch})
	c.patch(f, m)
	c.p.start = f.start
	c.p.anchored = startsWithBOS(n)
	pr := c.p
	pr.pool.New = func() any { return newScratch(len(pr.insts)) }
	pr.fast = buildBitProg(pr)
	return pr
}

func startsWithBOS(n *node) bool {
	switch n.op {
	case nAssert:
		return n.kind == aBOS
	case nCat:
		return startsWithBOS(n.kids[0])
	case nAlt:
		for _, k := range n.kids {
			if !startsWithBOS(k) {
				return false
			}
		}
		return true
	}
	return false
}

type frag struct {
	start int32
	outs  []int32 // instructions whose out (positive) or alt (encoded -pc-1) is dangling
}

type progCompiler struct {
	p     *prog
	outer int // offset of the outermost repetition being compiled, or -1
}

func (c *progCompiler) emit(i inst) int32 {
	if len(c.p.insts) >= maxStates {
		off := max(c.outer, 0)
		panic(pgError{&Error{Msg: fmt.Sprintf("repetition expands to more than %d NFA states (too large to verify against PostgreSQL's complexity limit)", maxStates), Offset: off, unsupported: true}})
	}
	i.out, i.alt = -1, -1
	c.p.insts = append(c.p.insts, i)
	return int32(len(c.p.insts) - 1)
}

func (c *progCompiler) patch(f frag, to int32) {
	for _, o := range f.outs {
		if o >= 0 {
			c.p.insts[o].out = to
		} else {
			c.p.insts[-o-1].alt = to
		}
	}
}

func (c *progCompiler) compile(n *node) frag {
	switch n.op {
	case nEmpty:
		j := c.emit(inst{op: iJmp})
		return frag{j, []int32{j}}
	case nSet:
		c.p.sets = append(c.p.sets, n.set)
		i := c.emit(inst{op: iSet, arg: int32(len(c.p.sets) - 1)})
		return frag{i, []int32{i}}
	case nAssert:
		i := c.emit(inst{op: iAssert, arg: int32(n.kind)})
		return frag{i, []int32{i}}
	case nLook:
		sub := compileProg(n.kids[0])
		l := look{kind: n.kind, p: sub}
		if n.kind == laBehindPos || n.kind == laBehindNeg {
			l.rev = compileProg(reverseNode(n.kids[0]))
		}
		c.p.looks = append(c.p.looks, l)
		i := c.emit(inst{op: iLook, arg: int32(len(c.p.looks) - 1)})
		return frag{i, []int32{i}}
	case nCat:
		f := c.compile(n.kids[0])
		for _, k := range n.kids[1:] {
			g := c.compile(k)
			c.patch(f, g.start)
			f.outs = g.outs
		}
		return f
	case nAlt:
		var f frag
		first := true
		for i := len(n.kids) - 1; i >= 0; i-- {
			g := c.compile(n.kids[i])
			if first {
				f = g
				first = false
				continue
			}
			s := c.emit(inst{op: iSplit})
			c.p.insts[s].out = g.start
			c.p.insts[s].alt = f.start
			f = frag{s, append(g.outs, f.outs...)}
		}
		return f
	case nRep:
		if c.outer < 0 {
			c.outer = n.pos
			defer func() { c.outer = -1 }()
		}
		return c.rep(n.kids[0], n.min, n.max)
	}
	panic("pgre: bad node")
}

// rep compiles x{m,n}: m copies, then n-m nested optional copies, or a loop.
func (c *progCompiler) rep(x *node, m, n int) frag {
	var f frag
	have := false
	add := func(g frag) {
		if !have {
			f, have = g, true
			return
		}
		c.patch(f, g.start)
		f.outs = g.outs
	}
	for i := 0; i < m; i++ {
		add(c.compile(x))
	}
	if n >= dupInf {
		// x* : split -> x -> back to split
		s := c.emit(inst{op: iSplit})
		g := c.compile(x)
		c.p.insts[s].out = g.start
		c.patch(g, s)
		add(frag{s, []int32{-s - 1}})
		return f
	}
	// optional copies, nested: (x(x(x)?)?)?
	var opt frag
	haveOpt := false
	for i := m; i < n; i++ {
		s := c.emit(inst{op: iSplit})
		g := c.compile(x)
		c.p.insts[s].out = g.start
		if haveOpt {
			c.patch(g, opt.start)
			g.outs = opt.outs
		}
		opt = frag{s, append(g.outs, -s-1)}
		haveOpt = true
	}
	if haveOpt {
		add(opt)
	}
	if !have {
		j := c.emit(inst{op: iJmp})
		return frag{j, []int32{j}}
	}
	return f
}

// scratch holds the sparse sets and stack of one simulation.
type scratch struct {
	a, b  sparse
	stack []int32
}

type sparse struct {
	dense  []int32
	sparse []int32
}

func newSparse(n int) sparse {
	return sparse{dense: make([]int32, 0, n), sparse: make([]int32, n)}
}

func (s *sparse) has(i int32) bool {
	j := s.sparse[i]
	return int(j) < len(s.dense) && s.dense[j] == i
}

func (s *sparse) add(i int32) {
	s.sparse[i] = int32(len(s.dense))
	s.dense = append(s.dense, i)
}

func (s *sparse) clear() { s.dense = s.dense[:0] }

func newScratch(n int) *scratch {
	return &scratch{a: newSparse(n), b: newSparse(n), stack: make([]int32, 0, 16)}
}

func assertHolds(kind int32, s string, pos int) bool {
	return assertInContext(kind, contextAt(s, pos))
}

func (p *prog) lookHolds(l *look, s string, pos int) bool {
	var ok bool
	switch l.kind {
	case laAheadPos, laAheadNeg:
		ok = l.p.shortest(s, pos, pos, len(s)) >= 0
	default:
		ok = l.rev.endsAt(s, pos)
	}
	if l.kind == laAheadNeg || l.kind == laBehindNeg {
		ok = !ok
	}
	return ok
}

// addClosure adds pc and everything reachable from it by empty moves at
// position pos to set; it reports whether the match state was reached.
func (p *prog) addClosure(sc *scratch, set *sparse, pc int32, s string, pos int) bool {
	matched := false
	stack := append(sc.stack[:0], pc)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if set.has(pc) {
			continue
		}
		set.add(pc)
		in := &p.insts[pc]
		switch in.op {
		case iSplit:
			stack = append(stack, in.alt, in.out)
		case iJmp:
			stack = append(stack, in.out)
		case iAssert:
			if assertHolds(in.arg, s, pos) {
				stack = append(stack, in.out)
			}
		case iLook:
			if p.lookHolds(&p.looks[in.arg], s, pos) {
				stack = append(stack, in.out)
			}
		case iMatch:
			matched = true
		}
	}
	sc.stack = stack
	return matched
}

// step advances every thread in cur over byte b into next, with closures
// evaluated at position pos (after b); it reports whether next contains the
// match state.
func (p *prog) step(sc *scratch, cur, next *sparse, s string, pos int) bool {
	b := s[pos-1]
	matched := false
	for _, pc := range cur.dense {
		in := &p.insts[pc]
		if in.op == iSet && p.sets[in.arg].has(b) {
			if p.addClosure(sc, next, in.out, s, pos) {
				matched = true
			}
		}
	}
	return matched
}

// matchAnywhere reports whether some match exists in s.
func (p *prog) matchAnywhere(s string) bool {
	if p.fast != nil {
		return p.fast.matchAnywhere(s, p.anchored)
	}
	return p.slowMatchAnywhere(s)
}

func (p *prog) slowMatchAnywhere(s string) bool {
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	if p.addClosure(sc, cur, p.start, s, 0) {
		return true
	}
	for pos := 1; pos <= len(s); pos++ {
		if len(cur.dense) == 0 && p.anchored {
			return false
		}
		next.clear()
		if p.step(sc, cur, next, s, pos) {
			return true
		}
		if !p.anchored && p.addClosure(sc, next, p.start, s, pos) {
			return true
		}
		cur, next = next, cur
	}
	return false
}

// searchShortest returns the earliest position e >= from at which some match
// starting at or after from ends, or -1.
func (p *prog) searchShortest(s string, from int) int {
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	if p.addClosure(sc, cur, p.start, s, from) {
		return from
	}
	for pos := from + 1; pos <= len(s); pos++ {
		next.clear()
		m := p.step(sc, cur, next, s, pos)
		if p.addClosure(sc, next, p.start, s, pos) {
			m = true
		}
		if m {
			return pos
		}
		cur, next = next, cur
	}
	return -1
}

// longest returns the largest e <= stop such that the program matches
// s[start:e] (constraints see the whole of s), or -1.
func (p *prog) longest(s string, start, stop int) int {
	if p.fast != nil {
		return p.fast.longest(s, start, stop)
	}
	return p.slowLongest(s, start, stop)
}

func (p *prog) slowLongest(s string, start, stop int) int {
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	last := -1
	if p.addClosure(sc, cur, p.start, s, start) {
		last = start
	}
	for pos := start + 1; pos <= stop && len(cur.dense) > 0; pos++ {
		next.clear()
		if p.step(sc, cur, next, s, pos) {
			last = pos
		}
		cur, next = next, cur
	}
	return last
}

// shortest returns the smallest e in [min, max] such that the program
// matches s[start:e], or -1.
func (p *prog) shortest(s string, start, min, max int) int {
	if p.fast != nil {
		return p.fast.shortest(s, start, min, max)
	}
	return p.slowShortest(s, start, min, max)
}

func (p *prog) slowShortest(s string, start, min, max int) int {
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	cur, next := &sc.a, &sc.b
	cur.clear()
	if p.addClosure(sc, cur, p.start, s, start) && start >= min {
		return start
	}
	for pos := start + 1; pos <= max && len(cur.dense) > 0; pos++ {
		next.clear()
		if p.step(sc, cur, next, s, pos) && pos >= min {
			return pos
		}
		cur, next = next, cur
	}
	return -1
}
