package audit

// Proofs that a rule can never match: duplicates, unreachable rules (one
// earlier rule, or several together), and how they are reported.

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/pghba/pghba/hba"
)

// sameColumns reports whether two rules test the same type, database, user
// and address.
func sameColumns(a, b *hba.Rule) bool {
	if a.Type() != b.Type() || !slices.Equal(a.Databases(), b.Databases()) || !slices.Equal(a.Users(), b.Users()) {
		return false
	}
	x, y := a.Address(), b.Address()
	if x.Kind != y.Kind {
		return false
	}
	switch x.Kind {
	case hba.AddrIP:
		return x.IP.WithZone("") == y.IP.WithZone("") && x.Mask == y.Mask || samePrefix(&x, &y)
	case hba.AddrHostName:
		return strings.EqualFold(x.Host, y.Host)
	}
	return true
}

func samePrefix(x, y *hba.Address) bool {
	p, ok1 := x.Prefix()
	q, ok2 := y.Prefix()
	return ok1 && ok2 && p == q
}

// shadowed reports rule i when earlier rules decide everything it matches.
// A rule left unproved after a regular-expression test that could not be
// decided is listed for the incomplete finding.
func (l *linter) shadowed(i int) bool {
	u := l.undecided
	if l.shadowedBy(i) {
		return true
	}
	if l.undecided > u {
		l.reUndecided = append(l.reUndecided, i)
	}
	return false
}

func (l *linter) shadowedBy(i int) bool {
	rules := l.f.Rules
	b := rules[i]
	if j := l.idx.duplicateOf(rules, i); j >= 0 {
		a := rules[j]
		what := "the same type, database, user and address as"
		if a.Method() == b.Method() && slices.Equal(a.Options().Raw, b.Options().Raw) {
			what = "the same columns, method and options as"
		}
		msg := lineWord(b.Pos()) + " can never match: it has " + what + " " + relName(a.Pos(), b.Pos())
		w, _ := l.witness(i, []int{j}, true)
		if w != nil {
			msg += ", which matches it first (e.g. " + describeConn(w) + ")"
		}
		l.add(b, SeverityWarning, CheckDuplicate, msg, []hba.Position{a.Pos()}, w)
		return true
	}
	bs := &l.spaces[i]
	if len(bs.boxes) == 0 {
		return false // matches nothing by itself (the lists hold only over-long names)
	}

	rem := bs.boxes
	var contrib []int
	budget := min(ruleWork, l.work)
	earlier := l.idx.earlier(i, bs.boxes)
	union := l.addrPlausible(i, earlier)
	for _, j32 := range earlier {
		j := int(j32)
		a := &l.spaces[j]
		if len(a.boxes) == 0 || quickDisjoint(bs.boxes, a.boxes) {
			continue
		}
		free := maxBoxes
		if narrower(bs.boxes, a.boxes) {
			// a alone leaves part of rule i's range.
		} else if single, _, ok := subtract(bs.boxes, a, &free); ok && len(single) == 0 {
			l.reportCover(i, []int{j})
			return true
		}
		if !union {
			continue
		}
		next, changed, ok := subtract(rem, a, &budget)
		if !ok {
			// Too fragmented: go on looking for one covering rule only.
			union = false
			l.incomplete = append(l.incomplete, i)
			continue
		}
		if changed {
			contrib = append(contrib, j)
			rem = next
		}
		if len(rem) == 0 {
			l.work -= min(ruleWork, l.work) - budget
			l.reportCover(i, l.minimize(i, contrib))
			return true
		}
	}
	l.work -= min(ruleWork, l.work) - max(budget, 0)
	return false
}

// narrower reports that the address column of the boxes as, one rule's
// (all boxes of a rule share one address column), leaves part of a box of
// xs: that part survives every subtraction of as, so as alone cannot cover
// xs. IP prefixes are compared directly; host names, samehost, samenet,
// non-contiguous masks and the Unix socket through addrSet.minus.
func narrower(xs, as []box) bool {
	if pfxOnly(&as[0].addr) {
		for k := range xs {
			if !pfxOnly(&xs[k].addr) {
				continue
			}
			for _, p := range xs[k].addr.pfx {
				if !slices.ContainsFunc(as[0].addr.pfx, func(q netip.Prefix) bool { return q.Bits() <= p.Bits() && q.Contains(p.Addr()) }) {
					return true
				}
			}
		}
	}
	for k := range xs {
		if x := &xs[k].addr; len(x.atoms) > 0 || x.local {
			if d := x.minus(&as[0].addr); !d.empty() {
				return true
			}
		}
	}
	return false
}

// addrPlausible reports whether the IP ranges of rule i lie inside the
// union of the ranges of the earlier rules that may share connections with
// it: if not, no union of earlier rules covers it, and the costly union
// analysis is skipped. Ranges are compared as sorted intervals.
func (l *linter) addrPlausible(i int, earlier []int32) bool {
	bs := l.spaces[i].boxes
	var need []netip.Prefix
	for _, b := range bs {
		need = append(need, b.addr.pfx...)
	}
	if len(need) == 0 {
		return true
	}
	var have []netip.Prefix
	for _, j := range earlier {
		a := l.spaces[j].boxes
		if len(a) == 0 || quickDisjoint(bs, a) {
			continue
		}
		for _, ab := range a {
			have = append(have, ab.addr.pfx...)
			for _, at := range ab.addr.atoms {
				if at.kind == hba.AddrIP {
					// Its extent is not a prefix: do not rule anything out.
					return true
				}
			}
		}
	}
	type span struct{ lo, hi netip.Addr }
	spans := make([]span, 0, len(have))
	for _, p := range have {
		spans = append(spans, span{p.Masked().Addr(), lastAddr(p)})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo.Compare(b.lo) })
	for _, p := range need {
		lo, hi := p.Masked().Addr(), lastAddr(p)
		done := false
		for _, s := range spans {
			if s.lo.Is4() != lo.Is4() || s.hi.Less(lo) {
				continue
			}
			if lo.Less(s.lo) {
				break // a gap before s
			}
			if !s.hi.Less(hi) {
				done = true
				break
			}
			lo = s.hi.Next()
		}
		if !done {
			return false
		}
	}
	return true
}

// lastAddr returns the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for k := range b {
		b[k] |= ^fixedMask(p.Bits(), k)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// covered reports whether the rules js together cover rule i.
func (l *linter) covered(i int, js []int) bool {
	rem := l.spaces[i].boxes
	budget := ruleWork
	for _, j := range js {
		var ok bool
		if rem, _, ok = subtract(rem, &l.spaces[j], &budget); !ok {
			return false
		}
		if len(rem) == 0 {
			return true
		}
	}
	return false
}

// minimize drops covering rules that are not needed, greedily.
func (l *linter) minimize(i int, js []int) []int {
	if len(js) > 16 {
		return js
	}
	for k := 0; k < len(js) && len(js) > 2; {
		try := slices.Delete(slices.Clone(js), k, k+1)
		if l.covered(i, try) {
			js = try
			continue
		}
		k++
	}
	return js
}

func (l *linter) reportCover(i int, js []int) {
	rules := l.f.Rules
	b := rules[i]
	var rel []hba.Position
	var names []string
	for _, j := range js {
		rel = append(rel, rules[j].Pos())
		names = append(names, relName(rules[j].Pos(), b.Pos()))
	}
	w, d := l.witness(i, js, len(js) == 1)
	var msg string
	if len(js) == 1 {
		msg = lineWord(b.Pos()) + " can never match: " + names[0] + " matches everything it does"
		if w != nil {
			msg += " (e.g. " + describeConn(w) + ")"
		}
	} else {
		msg = lineWord(b.Pos()) + " can never match: " + joinAnd(names) + " together match everything it does"
		if w != nil {
			msg += " (e.g. " + describeConn(w) + ", decided by " + relName(rules[d].Pos(), b.Pos()) + ")"
		}
	}
	l.add(b, SeverityWarning, CheckUnreachable, msg, rel, w)
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	if strings.HasPrefix(s[0], "line ") {
		t := slices.Clone(s)
		for k := 1; k < len(t); k++ {
			t[k] = strings.TrimPrefix(t[k], "line ")
		}
		t[0] = "lines " + strings.TrimPrefix(t[0], "line ")
		s = t
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// describeConn writes a connection the way lint messages show it:
// "host ssl db=app user=bob 10.1.2.3", "local db=app user=bob",
// "host replication user=rep 10.0.0.1".
func describeConn(c *hba.Conn) string {
	var b strings.Builder
	if c.Local {
		b.WriteString("local")
	} else {
		b.WriteString("host")
		if c.SSL {
			b.WriteString(" ssl")
		}
		if c.GSS {
			b.WriteString(" gss")
		}
	}
	switch c.Replication {
	case hba.PhysicalReplication:
		b.WriteString(" replication")
	case hba.LogicalReplication:
		b.WriteString(" replication=database")
	}
	if c.Replication != hba.PhysicalReplication {
		db := c.Database
		if db == "" {
			db = c.User
		}
		b.WriteString(" db=" + hba.Token{Value: db}.String())
	}
	b.WriteString(" user=" + hba.Token{Value: c.User}.String())
	if !c.Local {
		b.WriteString(" " + c.Addr.String())
	}
	return b.String()
}
