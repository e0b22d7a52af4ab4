package pgre

import "math/bits"

// bitProg is a bit-parallel simulation of a prog with at most 64
// byte-consuming instructions and no lookaround constraints. Epsilon
// closures are precomputed for each of the 16 contexts an assertion can
// observe (class of the previous byte x class of the next byte), so a step
// costs a few word operations per live thread and nothing is allocated.
type bitProg struct {
	byteMask   [256]uint64  // leaves whose set contains the byte
	succ       [][64]uint64 // closure of a leaf's successor, per context
	startClo   []uint64     // closure of the start instruction, per context
	matchBit   uint64       // the match leaf
	contextual bool         // has assertions: contexts matter
}

// Context classes of a neighbouring position.
const (
	cxNone  = iota // beginning or end of string
	cxNL           // newline
	cxWord         // word character
	cxOther        // any other byte
)

var byteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c == '\n':
			t[c] = cxNL
		case isWordByte(byte(c)):
			t[c] = cxWord
		default:
			t[c] = cxOther
		}
	}
	return
}()

func contextAt(s string, pos int) int {
	prev, next := cxNone, cxNone
	if pos > 0 {
		prev = int(byteClass[s[pos-1]])
	}
	if pos < len(s) {
		next = int(byteClass[s[pos]])
	}
	return prev<<2 | next
}

func assertInContext(kind int32, ctx int) bool {
	prev, next := ctx>>2, ctx&3
	pw, nw := prev == cxWord, next == cxWord
	switch kind {
	case aBOS:
		return prev == cxNone
	case aBOL:
		return prev == cxNone || prev == cxNL
	case aEOS:
		return next == cxNone
	case aEOL:
		return next == cxNone || next == cxNL
	case aWordStart:
		return !pw && nw
	case aWordEnd:
		return pw && !nw
	case aWordBoundary:
		return pw != nw
	case aNotWordBoundary:
		return pw == nw
	}
	return false
}

func buildBitProg(p *prog) *bitProg {
	if len(p.looks) > 0 {
		return nil
	}
	leaf := make([]int, len(p.insts))
	n := 0
	contextual := false
	for pc, in := range p.insts {
		leaf[pc] = -1
		switch in.op {
		case iSet, iMatch:
			if n == 64 {
				return nil
			}
			leaf[pc] = n
			n++
		case iAssert:
			contextual = true
		}
	}
	nctx := 1
	if contextual {
		nctx = 16
	}
	bp := &bitProg{contextual: contextual, succ: make([][64]uint64, nctx), startClo: make([]uint64, nctx)}
	seen := make([]bool, len(p.insts))
	closure := func(pc int32, ctx int) uint64 {
		clear(seen)
		var m uint64
		stack := []int32{pc}
		for len(stack) > 0 {
			pc := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if pc < 0 || seen[pc] {
				continue
			}
			seen[pc] = true
			in := &p.insts[pc]
			switch in.op {
			case iSet, iMatch:
				m |= 1 << leaf[pc]
			case iSplit:
				stack = append(stack, in.alt, in.out)
			case iJmp:
				stack = append(stack, in.out)
			case iAssert:
				if assertInContext(in.arg, ctx) {
					stack = append(stack, in.out)
				}
			}
		}
		return m
	}
	for ctx := 0; ctx < nctx; ctx++ {
		bp.startClo[ctx] = closure(p.start, ctx)
		for pc, in := range p.insts {
			if in.op == iSet {
				bp.succ[ctx][leaf[pc]] = closure(in.out, ctx)
			}
		}
	}
	for pc, in := range p.insts {
		switch in.op {
		case iSet:
			set := &p.sets[in.arg]
			for c := 0; c < 256; c++ {
				if set.has(byte(c)) {
					bp.byteMask[c] |= 1 << leaf[pc]
				}
			}
		case iMatch:
			bp.matchBit = 1 << leaf[pc]
		}
	}
	return bp
}

func (bp *bitProg) ctx(s string, pos int) int {
	if !bp.contextual {
		return 0
	}
	return contextAt(s, pos)
}

// advance consumes s[pos-1] from state st and returns the state at pos.
func (bp *bitProg) advance(st uint64, s string, pos int) uint64 {
	live := st & bp.byteMask[s[pos-1]]
	if live == 0 {
		return 0
	}
	succ := &bp.succ[bp.ctx(s, pos)]
	var next uint64
	for live != 0 {
		i := bits.TrailingZeros64(live)
		live &= live - 1
		next |= succ[i]
	}
	return next
}

func (bp *bitProg) matchAnywhere(s string, anchored bool) bool {
	st := bp.startClo[bp.ctx(s, 0)]
	if st&bp.matchBit != 0 {
		return true
	}
	idle := bp.startClo[0]
	for pos := 1; pos <= len(s); pos++ {
		if !anchored && !bp.contextual && st == idle {
			// Only the start state is live: skip bytes that cannot
			// begin a match.
			for pos <= len(s) && bp.byteMask[s[pos-1]]&idle == 0 {
				pos++
			}
			if pos > len(s) {
				return false
			}
		}
		st = bp.advance(st, s, pos)
		if anchored {
			if st == 0 {
				return false
			}
		} else {
			st |= bp.startClo[bp.ctx(s, pos)]
		}
		if st&bp.matchBit != 0 {
			return true
		}
	}
	return false
}

func (bp *bitProg) longest(s string, start, stop int) int {
	st := bp.startClo[bp.ctx(s, start)]
	last := -1
	if st&bp.matchBit != 0 {
		last = start
	}
	for pos := start + 1; pos <= stop && st != 0; pos++ {
		st = bp.advance(st, s, pos)
		if st&bp.matchBit != 0 {
			last = pos
		}
	}
	return last
}

func (bp *bitProg) shortest(s string, start, min, max int) int {
	st := bp.startClo[bp.ctx(s, start)]
	if st&bp.matchBit != 0 && start >= min {
		return start
	}
	for pos := start + 1; pos <= max && st != 0; pos++ {
		st = bp.advance(st, s, pos)
		if st&bp.matchBit != 0 && pos >= min {
			return pos
		}
	}
	return -1
}
