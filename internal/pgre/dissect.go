package pgre

// The dissector assigns capture positions inside a known overall match the
// way PostgreSQL's regexec.c (cdissect and friends) does: concatenations
// split at the longest (or, when the left side prefers shorter, shortest)
// point that lets the right side match the rest; alternations take the first
// alternative that matches the whole span; iterations split greedily (or
// lazily) and report the captures of the last iteration.

type dissector struct {
	s string
	m []int
}

func (d *dissector) zap(t *subre) {
	if t.capno > 0 {
		d.m[2*t.capno], d.m[2*t.capno+1] = -1, -1
	}
	for _, k := range t.kids {
		d.zap(k)
	}
}

// dissect reports success; without back-references it cannot fail once the
// node's own language is known to match [begin, end].
func (d *dissector) dissect(t *subre, begin, end int) bool {
	ok := true
	switch t.op {
	case '.':
		if t.kids[0].flags&sSHORTER != 0 {
			ok = d.revcon(t, begin, end)
		} else {
			ok = d.con(t, begin, end)
		}
	case '|':
		ok = false
		for _, k := range t.kids {
			if k.prog.longest(d.s, begin, end) == end && d.dissect(k, begin, end) {
				ok = true
				break
			}
		}
	case '*':
		if t.kids[0].flags&sSHORTER != 0 {
			ok = d.reviter(t, begin, end)
		} else {
			ok = d.iter(t, begin, end)
		}
	case '(':
		ok = d.dissect(t.kids[0], begin, end)
	}
	if ok && t.capno > 0 {
		d.m[2*t.capno], d.m[2*t.capno+1] = begin, end
	}
	return ok
}

func (d *dissector) con(t *subre, begin, end int) bool {
	left, right := t.kids[0], t.kids[1]
	mid := left.prog.longest(d.s, begin, end)
	for mid >= 0 {
		if right.prog.longest(d.s, mid, end) == end {
			if d.dissect(left, begin, mid) {
				if d.dissect(right, mid, end) {
					return true
				}
				d.zap(left)
			}
		}
		if mid == begin {
			return false
		}
		mid = left.prog.longest(d.s, begin, mid-1)
	}
	return false
}

func (d *dissector) revcon(t *subre, begin, end int) bool {
	left, right := t.kids[0], t.kids[1]
	mid := left.prog.shortest(d.s, begin, begin, end)
	for mid >= 0 {
		if right.prog.longest(d.s, mid, end) == end {
			if d.dissect(left, begin, mid) {
				if d.dissect(right, mid, end) {
					return true
				}
				d.zap(left)
			}
		}
		if mid == end {
			return false
		}
		mid = left.prog.shortest(d.s, begin, mid+1, end)
	}
	return false
}

// iter follows citerdissect: find sub-match end points greedily with the
// child's automaton, backtracking as needed, then dissect each.
func (d *dissector) iter(t *subre, begin, end int) bool {
	child := t.kids[0]
	minM := t.min
	if minM <= 0 {
		minM = 1
	}
	maxM := end - begin
	if t.max != dupInf && maxM > t.max {
		maxM = t.max
	}
	if maxM < minM {
		maxM = minM
	}
	endpts := make([]int, maxM+1)
	endpts[0] = begin
	nverified := 0
	k := 1
	limit := end
	for k > 0 {
		endpts[k] = child.prog.longest(d.s, endpts[k-1], limit)
		if endpts[k] < 0 {
			k--
			goto backtrack
		}
		if nverified >= k {
			nverified = k - 1
		}
		if endpts[k] != end {
			if k >= maxM {
				k--
				goto backtrack
			}
			if endpts[k] == endpts[k-1] && (k >= minM || minM-k < end-endpts[k]) {
				goto backtrack
			}
			k++
			limit = end
			continue
		}
		if k < minM {
			goto backtrack
		}
		{
			i := nverified + 1
			for ; i <= k; i++ {
				d.zap(child)
				if !d.dissect(child, endpts[i-1], endpts[i]) {
					break
				}
				nverified = i
			}
			if i > k {
				return true
			}
			k = i
		}
	backtrack:
		for k > 0 {
			prevEnd := endpts[k-1]
			if endpts[k] > prevEnd {
				limit = endpts[k] - 1
				if limit > prevEnd || (k < minM && minM-k >= end-prevEnd) {
					break
				}
			}
			k--
		}
	}
	return t.min == 0 && begin == end
}

// reviter follows creviterdissect (shortest-first iteration).
func (d *dissector) reviter(t *subre, begin, end int) bool {
	child := t.kids[0]
	minM := t.min
	if minM <= 0 {
		if begin == end {
			return true
		}
		minM = 1
	}
	maxM := end - begin
	if t.max != dupInf && maxM > t.max {
		maxM = t.max
	}
	if maxM < minM {
		maxM = minM
	}
	endpts := make([]int, maxM+1)
	endpts[0] = begin
	nverified := 0
	k := 1
	limit := begin
	for k > 0 {
		if limit == endpts[k-1] && limit != end && (k >= minM || minM-k < end-limit) {
			limit++
		}
		if k >= maxM {
			limit = end
		}
		endpts[k] = child.prog.shortest(d.s, endpts[k-1], limit, end)
		if endpts[k] < 0 {
			k--
			goto backtrack
		}
		if nverified >= k {
			nverified = k - 1
		}
		if endpts[k] != end {
			if k >= maxM {
				k--
				goto backtrack
			}
			k++
			limit = endpts[k-1]
			continue
		}
		if k < minM {
			goto backtrack
		}
		{
			i := nverified + 1
			for ; i <= k; i++ {
				d.zap(child)
				if !d.dissect(child, endpts[i-1], endpts[i]) {
					break
				}
				nverified = i
			}
			if i > k {
				return true
			}
			k = i
		}
	backtrack:
		for k > 0 {
			if endpts[k] < end {
				limit = endpts[k] + 1
				break
			}
			k--
		}
	}
	return false
}
