package audit

// Diff with sameuser: the database column's sameuser (the requested
// database equals the user name) depends on no outside source, so Diff
// states it exactly, as a relation between the two name columns.
//
// A piece of Diff carries, besides its box, a relation between the
// database and the user name: any (the box alone), eq (and the database
// equals the user name) or ne (and it differs). A rule whose database
// column lists sameuser is, for ordinary and logical connections, two
// boxes: the rest of its database column with rel any, and every database
// not in that rest with rel eq. The box operations then extend exactly:
//
//	X·eq ∩ A·eq = (X∩A)·eq     X·eq ∩ A·ne = ∅
//	X ∖ A·any   = (X∖A)·rel(X)
//	X·any ∖ A·r = (X∖A)·any ∪ (X∩A)·not(r)   (r is eq or ne)
//	X·r ∖ A·r   = (X∖A)·r      X·r ∖ A·not(r) = X·r
//
// and canonRel keeps a related box in a form whose emptiness the columns
// tell (eq: both columns cut to the names they share; ne: a column of one
// literal removed from the other, which then needs no relation). As for
// the box algebra, an operation is exact when no atom took part.
//
// Lint's rule spaces keep their sameuser atoms (its proofs are not
// changed): the relations live in Diff's pieces and in differ.rels, per
// rule space of the two files.

import (
	"slices"
	"strconv"

	"github.com/pghba/pghba/hba"
)

// rel is the relation of a piece between its database and its user name.
type rel uint8

const (
	relAny rel = iota // no relation: the box alone
	relEq             // the database equals the user name
	relNe             // the database differs from the user name
)

func (r rel) not() rel {
	switch r {
	case relEq:
		return relNe
	case relNe:
		return relEq
	}
	return relAny
}

// relOf combines the relations of two pieces that are intersected; ok is
// false when they exclude each other.
func relOf(a, b rel) (rel, bool) {
	switch {
	case a == relAny:
		return b, true
	case b == relAny || a == b:
		return a, true
	}
	return relAny, false
}

// relBox is a box and its relation.
type relBox struct {
	b   box
	rel rel
}

// mightHave reports whether the set n may hold the name s in some
// environment: a literal of it, a name all lets in, or an atom that may.
func (n *nameSet) mightHave(s string) bool {
	if n.all {
		return !slices.Contains(n.not, s)
	}
	if slices.Contains(n.lits, s) {
		return true
	}
	for i := range n.atoms {
		a := &n.atoms[i]
		if a.kind != hba.NameRegex || a.member(s) != reNoMatch {
			return true
		}
	}
	return false
}

// finite reports whether n is a list of literal names.
func (n *nameSet) finite() bool { return !n.all && len(n.atoms) == 0 }

// canonRel returns x in canonical form, and false when it is empty.
//
// eq: a column that is a list of names keeps those the other column may
// hold; the other column, when it is every name, becomes the same list;
// two columns of every name leave out what either leaves out; one name on
// both sides needs no relation. ne: a column of one literal name is
// removed from the other column, and the relation dropped.
func canonRel(x relBox) (relBox, bool) {
	if x.b.isEmpty() {
		return x, false
	}
	if x.b.cls&clsNormal == 0 {
		// Physical replication names no database: sameuser never matches
		// it, and a relation has nothing to relate.
		if x.rel == relEq {
			return x, false
		}
		x.rel = relAny
		return x, true
	}
	d, u := &x.b.db, &x.b.user
	switch x.rel {
	case relEq:
		switch {
		case d.finite():
			lits := filterNames(d.lits, u)
			x.b.db = nameSet{lits: lits}
			if u.finite() || u.all {
				x.b.user = nameSet{lits: slices.Clone(lits)}
			}
		case u.finite():
			lits := filterNames(u.lits, d)
			x.b.user = nameSet{lits: lits}
			if d.all {
				x.b.db = nameSet{lits: slices.Clone(lits)}
			}
		case d.all && u.all && slices.Equal(d.not, u.not):
		case d.all && u.all:
			not := slices.Clone(d.not)
			for _, s := range u.not {
				if !slices.Contains(not, s) {
					not = append(not, s)
				}
			}
			slices.Sort(not)
			x.b.db = nameSet{all: true, not: not}
			x.b.user = nameSet{all: true, not: slices.Clone(not)}
		}
		if x.b.db.empty() || x.b.user.empty() {
			return x, false
		}
		if d, u := &x.b.db, &x.b.user; d.finite() && u.finite() && len(d.lits) == 1 && slices.Equal(d.lits, u.lits) {
			x.rel = relAny
		}
	case relNe:
		switch {
		case d.finite() && len(d.lits) == 1:
			x.b.user = u.minus(&nameSet{lits: d.lits})
			x.rel = relAny
		case u.finite() && len(u.lits) == 1:
			x.b.db = d.minus(&nameSet{lits: u.lits})
			x.rel = relAny
		}
		if x.b.db.empty() || x.b.user.empty() {
			return x, false
		}
	}
	return x, true
}

// filterNames returns the names of lits that n may hold.
func filterNames(lits []string, n *nameSet) []string {
	var out []string
	for _, s := range lits {
		if n.mightHave(s) {
			out = append(out, s)
		}
	}
	return out
}

// relMeet returns x ∩ a, and false when x and a certainly share no
// connection.
func relMeet(x *box, xr rel, a *box, ar rel) (relBox, bool) {
	r, ok := relOf(xr, ar)
	if !ok || quickBoxDisjoint(x, a) {
		return relBox{}, false
	}
	return canonRel(relBox{b: x.inter(a), rel: r})
}

// relDisjoint reports whether x and a certainly share no connection.
func relDisjoint(x, a *relBox) bool {
	if x.rel == relAny && a.rel == relAny {
		return x.b.disjoint(&a.b)
	}
	_, ok := relMeet(&x.b, x.rel, &a.b, a.rel)
	return !ok
}

// relMinus appends to out boxes holding x ∖ a, for boxes relDisjoint does
// not tell apart.
func relMinus(x, a *relBox, out []relBox) []relBox {
	if x.rel != relAny && a.rel == x.rel.not() {
		return append(out, *x) // they exclude each other
	}
	for _, b := range x.b.minusMeeting(&a.b, nil) {
		if y, ok := canonRel(relBox{b: b, rel: x.rel}); ok {
			out = append(out, y)
		}
	}
	if x.rel == relAny && a.rel != relAny {
		// What the box of a holds that its relation leaves out.
		if y, ok := canonRel(relBox{b: x.b.inter(&a.b), rel: a.rel.not()}); ok {
			out = append(out, y)
		}
	}
	return out
}

// hasSameUser reports whether a box's database column lists sameuser.
func hasSameUser(b *box) bool {
	return slices.ContainsFunc(b.db.atoms, func(a nameAtom) bool { return a.kind == hba.NameSameUser })
}

// splitSameUser returns the boxes of sp with each sameuser atom made a
// relation, disjoint, and their relations; nil when no box lists
// sameuser.
func splitSameUser(sp *ruleSpace) ([]box, []rel) {
	if !slices.ContainsFunc(sp.boxes, func(b box) bool { return hasSameUser(&b) }) {
		return nil, nil
	}
	var parts []relBox
	for _, b := range sp.boxes {
		if !hasSameUser(&b) {
			parts = append(parts, relBox{b: b})
			continue
		}
		rest := b
		rest.db = nameSet{lits: b.db.lits}
		for _, at := range b.db.atoms {
			if at.kind != hba.NameSameUser {
				rest.db.atoms = append(rest.db.atoms, at)
			}
		}
		if !rest.db.empty() {
			parts = append(parts, relBox{b: rest})
		}
		eq := b
		eq.db = nameSet{all: true, not: slices.Clone(rest.db.lits)}
		if y, ok := canonRel(relBox{b: eq, rel: relEq}); ok {
			parts = append(parts, y)
		}
	}
	// Disjoint: each part less the parts before it.
	var out []relBox
	for _, p := range parts {
		cur := []relBox{p}
		for i := range out {
			var next []relBox
			for _, q := range cur {
				if relDisjoint(&q, &out[i]) {
					next = append(next, q)
					continue
				}
				next = relMinus(&q, &out[i], next)
			}
			cur = next
		}
		out = append(out, cur...)
	}
	boxes, rels := make([]box, len(out)), make([]rel, len(out))
	for i := range out {
		boxes[i], rels[i] = out[i].b, out[i].rel
	}
	return boxes, rels
}

// relateSpaces replaces, in sps, the boxes of each rule that lists
// sameuser by splitSameUser's, and records their relations in d.rels.
func (d *differ) relateSpaces(sps []ruleSpace) {
	for i := range sps {
		boxes, rels := splitSameUser(&sps[i])
		if boxes == nil {
			continue
		}
		sps[i].boxes = boxes
		if d.rels == nil {
			d.rels = map[*ruleSpace][]rel{}
		}
		d.rels[&sps[i]] = rels
	}
}

// relsOf returns the relations of the boxes of sp (nil: all relAny).
func (d *differ) relsOf(sp *ruleSpace) []rel {
	if len(d.rels) == 0 {
		return nil
	}
	return d.rels[sp]
}

func relAt(rels []rel, i int) rel {
	if rels == nil {
		return relAny
	}
	return rels[i]
}

// dbIsUser is the region's statement of a relation.
func dbIsUser(r rel) *bool {
	t, f := true, false
	switch r {
	case relEq:
		return &t
	case relNe:
		return &f
	}
	return nil
}

// relNames picks the database and user names of a witness in b with the
// relation r (eq or ne): equal names for eq, different ones for ne.
func (d *differ) relNames(b *box, r rel) (db, user string, ok bool) {
	switch r {
	case relEq:
		src, base := &b.user, "user"
		if b.db.finite() {
			src, base = &b.db, "db"
		}
		s, ok := d.nameIn(src, base)
		return s, s, ok
	case relNe:
		if db, ok = d.nameIn(&b.db, "db"); !ok {
			return "", "", false
		}
		if user, ok = d.nameIn(&b.user, "user"); !ok {
			return "", "", false
		}
		if user != db {
			return db, user, true
		}
		// Another name of either column.
		if b.user.all {
			for k := 0; ; k++ {
				s := "user_w" + strconv.Itoa(k)
				if s != db && !d.vocab[s] && !slices.Contains(b.user.not, s) {
					return db, s, true
				}
			}
		}
		for _, s := range b.user.lits {
			if s != db {
				return db, s, true
			}
		}
		for _, s := range b.db.lits {
			if s != user {
				return s, user, true
			}
		}
		return "", "", false
	}
	return "", "", false
}
