package pgre

import "context"

// The dissector assigns capture positions inside a known overall match the
// way PostgreSQL's regexec.c (cdissect and friends) does: concatenations
// split at the longest (or, when the left side prefers shorter, shortest)
// point that lets the right side match the rest; alternations take the first
// alternative that matches the whole span; iterations split greedily (or
// lazily) and report the captures of the last iteration.

type dissector struct {
	s      string
	m      []int
	icase  bool
	budget int  // remaining work units; <= 0 aborts; 0 at the start: no budget
	exact  bool // no back-references: charge the bytes actually read
	// ctx, when not nil, is polled whenever the budget falls below poll,
	// every pollEvery units: once it has ended the match stops.
	ctx  context.Context
	poll int
}

// budgetExceeded is the panic that unwinds a match stopped by its budget
// (err nil) or by its context (err the context's error).
type budgetExceeded struct{ err error }

// pollEvery is the work between two polls of a match's context: some
// tens of microseconds to a few milliseconds of CPU.
const pollEvery = 1 << 16

// spend charges n units of work when a budget is set.
func (d *dissector) spend(n int) {
	if d.budget == 0 {
		return
	}
	d.budget -= n + 1
	if d.budget <= 0 {
		panic(budgetExceeded{})
	}
	if d.ctx != nil && d.budget < d.poll {
		d.poll = d.budget - pollEvery
		if err := d.ctx.Err(); err != nil {
			panic(budgetExceeded{err})
		}
	}
}

// longest and shortest run t's automaton, except that for a back-reference
// whose capture is currently set they match repetitions of the captured
// text, as PostgreSQL's dfa_backref does.
func (d *dissector) longest(t *subre, begin, end int) int {
	if d.exact {
		e, n := t.prog.longestScan(d.s, begin, end)
		d.spend(n)
		return e
	}
	d.spend(end - begin)
	if t.op == 'b' && d.m[2*t.backno] >= 0 {
		return d.backrefDFA(t, begin, begin, end, false)
	}
	return t.prog.longest(d.s, begin, end)
}

func (d *dissector) shortest(t *subre, begin, min, max int) int {
	if d.exact {
		e, n := t.prog.shortestScan(d.s, begin, min, max)
		d.spend(n)
		return e
	}
	d.spend(max - begin)
	if t.op == 'b' && d.m[2*t.backno] >= 0 {
		return d.backrefDFA(t, begin, min, max, true)
	}
	return t.prog.shortest(d.s, begin, min, max)
}

func (d *dissector) equal(a, b string) bool {
	if !d.icase {
		return a == b
	}
	for i := 0; i < len(a); i++ {
		if toLower(int(a[i])) != toLower(int(b[i])) {
			return false
		}
	}
	return true
}

func (d *dissector) backrefDFA(t *subre, start, min, max int, shortest bool) int {
	so, eo := d.m[2*t.backno], d.m[2*t.backno+1]
	br := d.s[so:eo]
	if len(br) == 0 {
		if min == start && t.min <= t.max {
			return start
		}
		return -1
	}
	minreps := 0
	if min > start {
		minreps = (min-start-1)/len(br) + 1
	}
	maxreps := (max - start) / len(br)
	if minreps < t.min {
		minreps = t.min
	}
	if t.max != dupInf && maxreps > t.max {
		maxreps = t.max
	}
	if maxreps < minreps {
		return -1
	}
	if shortest && minreps == 0 {
		return start
	}
	p, n := start, 0
	for n < maxreps {
		if !d.equal(br, d.s[p:p+len(br)]) {
			break
		}
		p += len(br)
		n++
		if shortest && n >= minreps {
			break
		}
	}
	if n >= minreps {
		return p
	}
	return -1
}

// backref follows cbrdissect.
func (d *dissector) backref(t *subre, begin, end int) bool {
	so, eo := d.m[2*t.backno], d.m[2*t.backno+1]
	if so < 0 {
		return false
	}
	br := d.s[so:eo]
	if len(br) == 0 {
		return begin == end && t.min <= t.max
	}
	if begin == end {
		return t.min == 0
	}
	tlen := end - begin
	if tlen%len(br) != 0 {
		return false
	}
	reps := tlen / len(br)
	if reps < t.min || (reps > t.max && t.max != dupInf) {
		return false
	}
	for p := begin; p < end; p += len(br) {
		if !d.equal(br, d.s[p:p+len(br)]) {
			return false
		}
	}
	return true
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
	d.spend(0)
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
			if d.longest(k, begin, end) == end && d.dissect(k, begin, end) {
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
	case 'b':
		ok = d.backref(t, begin, end)
	}
	if ok && t.capno > 0 {
		d.m[2*t.capno], d.m[2*t.capno+1] = begin, end
	}
	return ok
}

func (d *dissector) con(t *subre, begin, end int) bool {
	left, right := t.kids[0], t.kids[1]
	if right.rev != nil {
		// No back-references: the first candidate whose two parts match
		// wins, and its dissection cannot fail; should it fail, the
		// candidate-by-candidate search below decides.
		d.spend(2 * (end - begin))
		if mid := split(d.s, left, right, begin, end, false); mid >= 0 && d.dissect(left, begin, mid) && d.dissect(right, mid, end) {
			return true
		}
	}
	mid := d.longest(left, begin, end)
	for mid >= 0 {
		if d.longest(right, mid, end) == end {
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
		mid = d.longest(left, begin, mid-1)
	}
	return false
}

func (d *dissector) revcon(t *subre, begin, end int) bool {
	left, right := t.kids[0], t.kids[1]
	if right.rev != nil {
		// No back-references: the first candidate whose two parts match
		// wins, and its dissection cannot fail; should it fail, the
		// candidate-by-candidate search below decides.
		d.spend(2 * (end - begin))
		if mid := split(d.s, left, right, begin, end, true); mid >= 0 && d.dissect(left, begin, mid) && d.dissect(right, mid, end) {
			return true
		}
	}
	mid := d.shortest(left, begin, begin, end)
	for mid >= 0 {
		if d.longest(right, mid, end) == end {
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
		mid = d.shortest(left, begin, mid+1, end)
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
		endpts[k] = d.longest(child, endpts[k-1], limit)
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
		endpts[k] = d.shortest(child, endpts[k-1], limit, end)
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
