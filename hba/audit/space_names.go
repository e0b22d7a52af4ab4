package audit

// The connection-space algebra, database and user columns: name sets of
// literals and opaque atoms (+role, sameuser, samerole, regular expressions).

import (
	"slices"

	"github.com/pghba/pghba/hba"
)

// nameSet is a database or user column: all (less the names in not), or
// literal names and opaque atoms.
type nameSet struct {
	all   bool
	not   []string // with all: names left out
	lits  []string
	atoms []nameAtom
}

// nameAtom is a token whose extent is not a list of names: a regular
// expression (s is the token, slash included), +role (s is the role),
// sameuser, samerole.
type nameAtom struct {
	kind hba.NameKind
	s    string
	name hba.Name   // the name as the rule holds it, for MatchRegex
	memo *regexMemo // for regular expressions
}

func (n *nameSet) empty() bool { return !n.all && len(n.lits) == 0 && len(n.atoms) == 0 }

// namesOf builds the set a compiled column matches for ordinary and logical
// connections; repl reports an unquoted replication keyword.
func namesOf(ms []hba.Name) (n nameSet, repl bool) {
	for _, m := range ms {
		switch m.Kind {
		case hba.NameAll:
			n.all = true
		case hba.NameReplication:
			repl = true
		case hba.NameLiteral:
			// Names are cut to 63 bytes before matching: a longer literal
			// matches nothing.
			if len(m.Value) < namedatalen && !slices.Contains(n.lits, m.Value) {
				n.lits = append(n.lits, m.Value)
			}
		default:
			a := nameAtom{kind: m.Kind, s: m.Value, name: m}
			if m.Kind == hba.NameRegex {
				a.memo = &regexMemo{}
			}
			n.atoms = append(n.atoms, a)
		}
	}
	if n.all {
		n.lits, n.atoms = nil, nil
	}
	return n, repl
}

func (n *nameSet) hasAtom(a nameAtom) bool {
	for _, b := range n.atoms {
		if b.kind == a.kind && b.s == a.s {
			return true
		}
	}
	return false
}

// certainlyHas reports whether the literal s is matched in every environment.
// A regular expression too complex to evaluate against s does not count.
func (n *nameSet) certainlyHas(s string) bool {
	has, _ := n.has(s)
	return has
}

// has reports whether the literal s is matched in every environment, and
// whether that was decided: false when a regular expression that might
// match s could not be evaluated against it.
func (n *nameSet) has(s string) (has, known bool) {
	if n.all {
		return !slices.Contains(n.not, s), true
	}
	if slices.Contains(n.lits, s) {
		return true, true
	}
	known = true
	for _, a := range n.atoms {
		if a.kind != hba.NameRegex {
			continue
		}
		switch a.member(s) {
		case reMatch:
			return true, true
		case reUndecided:
			known = false
		}
	}
	return false, known
}

// namedatalen is PostgreSQL's NAMEDATALEN: names are cut to one byte less
// before they are compared.
const namedatalen = 64

// Outcomes of a regular-expression membership test.
const (
	reNoMatch int8 = iota
	reMatch
	reUndecided // pgre gave up (work budget): no proof may rest on it
)

// regexMemo holds the outcomes of one regular expression against the
// names it was tested with, so that a test that runs into pgre's work
// budget is paid for once per name.
type regexMemo struct {
	m map[string]int8
	// undecided, if set, counts the undecided outcomes returned.
	undecided *int
}

// member tests the regular expression atom a against s. A match that
// fails with an error (pgre.ErrMatchTooComplex when a pattern with
// back-references exceeds its work budget) is reUndecided: PostgreSQL's
// matcher has no budget and would decide it, one way or the other.
func (a *nameAtom) member(s string) int8 {
	if a.memo != nil {
		if v, ok := a.memo.m[s]; ok {
			if v == reUndecided && a.memo.undecided != nil {
				*a.memo.undecided++
			}
			return v
		}
	}
	v := reNoMatch
	switch m, err := a.name.MatchRegex(s); {
	case err != nil:
		v = reUndecided
	case m:
		v = reMatch
	}
	if a.memo != nil {
		if a.memo.m == nil {
			a.memo.m = map[string]int8{}
		}
		a.memo.m[s] = v
		if v == reUndecided && a.memo.undecided != nil {
			*a.memo.undecided++
		}
	}
	return v
}

// minus returns a set containing x ∖ a.
func (x nameSet) minus(a *nameSet) nameSet {
	if a.all {
		// What is left is at most the names a leaves out.
		var r nameSet
		if x.all {
			for _, s := range a.not {
				if !slices.Contains(x.not, s) {
					r.lits = append(r.lits, s)
				}
			}
			return r
		}
		for _, l := range x.lits {
			if slices.Contains(a.not, l) {
				r.lits = append(r.lits, l)
			}
		}
		if len(a.not) > 0 {
			r.atoms = x.atoms
		}
		return r
	}
	if x.all {
		r := nameSet{all: true, not: slices.Clone(x.not)}
		for _, l := range a.lits {
			if !slices.Contains(r.not, l) {
				r.not = append(r.not, l)
			}
		}
		return r
	}
	var r nameSet
	for _, l := range x.lits {
		if !a.certainlyHas(l) {
			r.lits = append(r.lits, l)
		}
	}
	for _, at := range x.atoms {
		if !a.hasAtom(at) {
			r.atoms = append(r.atoms, at)
		}
	}
	return r
}

// inter returns a set containing x ∩ a.
func (x nameSet) inter(a *nameSet) nameSet {
	if a.all && x.all {
		r := nameSet{all: true, not: slices.Clone(x.not)}
		for _, s := range a.not {
			if !slices.Contains(r.not, s) {
				r.not = append(r.not, s)
			}
		}
		return r
	}
	if a.all || x.all {
		all, other := a, &x
		if x.all {
			all, other = &x, a
		}
		r := nameSet{atoms: other.atoms}
		for _, l := range other.lits {
			if !slices.Contains(all.not, l) {
				r.lits = append(r.lits, l)
			}
		}
		return r
	}
	if a.empty() {
		return nameSet{}
	}
	opaque := false // a holds atoms other than regular expressions
	for _, at := range a.atoms {
		if at.kind != hba.NameRegex {
			opaque = true
		}
	}
	var r nameSet
	for _, l := range x.lits {
		// Keep what a might match: a name a regular expression could not
		// be evaluated against included.
		if has, known := a.has(l); opaque || has || !known {
			r.lits = append(r.lits, l)
		}
	}
	r.atoms = x.atoms
	return r
}
