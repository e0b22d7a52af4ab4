package audit

// The no-effect check: a rule whose removal changes no decision.

import (
	"strings"

	"github.com/pghba/pghba/hba"
)

// noEffectWork bounds the no-effect analysis of one Lint call, in box
// operations; past it the remaining rules are not checked (no finding is
// claimed for them).
const noEffectWork = 4000000

// noEffect reports rule i when every connection it decides would, without
// it, be decided by later rules with the same method and options. It is
// proved on the box algebra like Diff: only pieces computed exactly (no
// address or name whose extent depends on the environment took part)
// count, so an environment-dependent rule is never reported. Rules that
// are already dead are not checked.
func (l *linter) noEffect(i int) {
	if l.dbUserNS || l.noEffectWork < 0 {
		return
	}
	rules := l.f.Rules
	r := rules[i]
	key := decisionKey(r)
	if l.lastByDecision == nil {
		l.lastByDecision = map[string]int{}
		for k, q := range rules {
			if !q.Never() {
				l.lastByDecision[decisionKey(q)] = k
			}
		}
	}
	if l.lastByDecision[key] <= i {
		return
	}
	d := &differ{work: min(ruleWork, l.noEffectWork)}
	defer func() { l.noEffectWork -= min(ruleWork, l.noEffectWork) - d.work }()
	rem := make([]piece, 0, len(l.spaces[i].boxes))
	for _, b := range l.spaces[i].boxes {
		if hasAtoms(&b) {
			return
		}
		rem = append(rem, piece{b: b, exact: true})
	}
	for _, j := range l.idx.earlier(i, l.spaces[i].boxes) {
		rem = d.cut(rem, &l.spaces[j], nil)
		if d.work < 0 {
			return
		}
	}
	if len(rem) == 0 {
		return
	}
	later := l.spaces[i+1:]
	var by []int
	for _, p := range rem {
		if !p.exact {
			return
		}
		for _, q := range d.walk(p, later, func(q *piece, k int) { q.newRule = k }) {
			if d.work < 0 || !q.exact || q.newRule < 0 || decisionKey(rules[i+1+q.newRule]) != key {
				return
			}
			if j := i + 1 + q.newRule; !containsInt(by, j) {
				by = append(by, j)
			}
		}
	}
	if d.work < 0 || len(by) == 0 {
		return
	}
	for _, j := range by {
		if sameColumns(r, rules[j]) {
			return // a duplicate: the duplicate finding on j says it
		}
	}
	var related []hba.Position
	var names []string
	for _, j := range sortedInts(by) {
		related = append(related, rules[j].Pos())
		names = append(names, relName(rules[j].Pos(), r.Pos()))
	}
	verb := "decides"
	if len(names) > 1 {
		verb = "decide"
	}
	msg := "removing this rule changes no decision: without it " + joinAnd(names) + " " + verb +
		" every connection it decides, with the same method" + optionsWords(r)
	l.add(r, SeverityInfo, CheckNoEffect, msg, related, nil)
}

func optionsWords(r *hba.Rule) string {
	if o := r.ViewOptions(); len(o) > 0 {
		return " and options (" + r.Method().String() + " " + strings.Join(o, " ") + ")"
	}
	return " (" + r.Method().String() + ")"
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func sortedInts(s []int) []int {
	out := append([]int(nil), s...)
	for a := 1; a < len(out); a++ {
		for b := a; b > 0 && out[b] < out[b-1]; b-- {
			out[b], out[b-1] = out[b-1], out[b]
		}
	}
	return out
}
