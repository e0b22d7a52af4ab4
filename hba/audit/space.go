package audit

// The connection-space algebra shared by Lint and Exposure.
//
// A rule matches a connection when every column passes, so the set of
// connections a rule matches is a conjunction of one test per column:
// class (transport and replication kind), address, database, user. A box is
// such a conjunction, each part held symbolically: address ranges as
// disjoint prefixes, names as literals plus opaque atoms (regular
// expressions, +role, sameuser, samerole, host names, samehost, samenet)
// whose exact extent depends on the server's environment.
//
// Set difference of boxes uses the identity
//
//	X ∖ A = (X₁∖A₁)·X₂·X₃·X₄ ∪ (X₁∩A₁)·(X₂∖A₂)·X₃·X₄ ∪ …
//
// which holds for any predicates, coupled ones such as sameuser included.
// Every piece is over-approximated: "∖ A" removes only what A certainly
// matches in every environment (an atom is removed only by All, by the same
// atom, or by an atom known to contain it; a literal is removed by the same
// literal or by a regular expression that matches it), and "∩ A" keeps
// whatever A might match. So the remainder always contains every connection
// the rule matches that the subtracted rules do not: an empty remainder is a
// proof that no connection reaches the rule.
//
// The API, for Lint, Exposure and any later analysis that compares rules
// (a diff of two files, a no-effect check of an edit):
//
//   - spaceOf(rule) is the connections a rule matches, as a ruleSpace: its
//     boxes (ruleBoxes), one per replication kind.
//   - subtract(rem, space, &budget) removes from the boxes rem what space
//     certainly matches; it reports whether anything changed and ok=false
//     when the budget (in box subtractions, see ruleWork and totalWork) ran
//     out, leaving an over-approximation.
//   - quickDisjoint(xs, as) and box.disjoint are cheap tests that two sets
//     of boxes share no connection; box.minus is one box difference.
//   - sameAddrSet and sameNameSet compare columns for equality.
//   - the column algebras are nameSet (space_names.go) and addrSet
//     (space_addr.go), each with minus, inter and empty.

import (
	"slices"

	"github.com/pghba/pghba/hba"
)

// Work limits of the union analysis, in box subtractions: per rule, and
// for one Lint or Exposure call. Past them a rule is only compared with
// single earlier rules (Lint reports this as "incomplete").
const (
	ruleWork  = 200000
	totalWork = 20000000
)

// Class bits: transport (Unix socket, plain TCP, SSL, GSS encryption) times
// replication kind (ordinary or logical, physical).
const (
	clsLocal uint8 = 1 << iota
	clsPlain
	clsSSL
	clsGSS
	clsPhysShift = 4
	clsNormal    = clsLocal | clsPlain | clsSSL | clsGSS
)

// typeClasses returns the transport classes a connection type admits.
func typeClasses(t hba.ConnType) uint8 {
	switch t {
	case hba.Local:
		return clsLocal
	case hba.Host:
		return clsPlain | clsSSL | clsGSS
	case hba.HostSSL:
		return clsSSL
	case hba.HostNoSSL:
		return clsPlain | clsGSS
	case hba.HostGSSEnc:
		return clsGSS
	case hba.HostNoGSSEnc:
		return clsPlain | clsSSL
	}
	return 0
}

// box is one conjunction of column tests.
type box struct {
	cls  uint8 // class bits; physical-replication bits are shifted by clsPhysShift
	addr addrSet
	db   nameSet // all for physical replication boxes
	user nameSet
}

// ruleBoxes returns the boxes of a rule: one for ordinary and logical
// connections (unless only the replication keyword is listed) and one for
// physical replication when the replication keyword is listed.
func ruleBoxes(r *hba.Rule) []box {
	if r.Never() {
		return nil
	}
	t := typeClasses(r.Type())
	addr := addrOf(r)
	db, repl := namesOf(r.Names(hba.ColumnDatabase))
	user, _ := namesOf(r.Names(hba.ColumnUser))
	if user.empty() {
		return nil
	}
	var out []box
	if !db.empty() {
		out = append(out, box{cls: t, addr: addr, db: db, user: user})
	}
	if repl {
		out = append(out, box{cls: t << clsPhysShift, addr: addr, db: nameSet{all: true}, user: user})
	}
	return out
}

// minus appends to out boxes containing x ∖ a.
func (x *box) minus(a *box, out []box) []box {
	if x.disjoint(a) {
		return append(out, *x)
	}
	return x.minusMeeting(a, out)
}

// minusMeeting is minus for boxes disjoint does not tell apart.
func (x *box) minusMeeting(a *box, out []box) []box {
	// When a column loses nothing, the pieces up to it make up x again:
	// keep x whole rather than in overlapping pieces.
	n0 := len(out)
	whole := func() []box { return append(out[:n0], *x) }
	if c := x.cls &^ a.cls; c != 0 {
		y := *x
		y.cls = c
		out = append(out, y)
	}
	ci := x.cls & a.cls
	if ci == 0 {
		return out
	}
	ad := x.addr.minus(&a.addr)
	if sameAddrSet(&ad, &x.addr) {
		return whole()
	}
	if !ad.empty() {
		out = append(out, box{cls: ci, addr: ad, db: x.db, user: x.user})
	}
	ai := x.addr.inter(&a.addr)
	if ai.empty() {
		return out
	}
	dd := x.db.minus(&a.db)
	if sameNameSet(&dd, &x.db) {
		return whole()
	}
	if !dd.empty() {
		out = append(out, box{cls: ci, addr: ai, db: dd, user: x.user})
	}
	di := x.db.inter(&a.db)
	if di.empty() {
		return out
	}
	ud := x.user.minus(&a.user)
	if sameNameSet(&ud, &x.user) {
		return whole()
	}
	if !ud.empty() {
		out = append(out, box{cls: ci, addr: ai, db: di, user: ud})
	}
	return out
}

// sameAddrSet reports whether a subtraction left an address set as it was
// (subtraction only removes, so sizes and families tell).
func sameAddrSet(a, b *addrSet) bool {
	if a.local != b.local || len(a.pfx) != len(b.pfx) || len(a.atoms) != len(b.atoms) {
		return false
	}
	for i := range a.pfx {
		if a.pfx[i] != b.pfx[i] {
			return false
		}
	}
	for i := range a.atoms {
		if a.atoms[i].fam != b.atoms[i].fam {
			return false
		}
	}
	return true
}

// sameNameSet reports whether a subtraction left a name set as it was.
func sameNameSet(a, b *nameSet) bool {
	return a.all == b.all && len(a.not) == len(b.not) && len(a.lits) == len(b.lits) && len(a.atoms) == len(b.atoms)
}

// ruleSpace is the boxes of a rule. Each box denotes exactly what the rule
// matches; the approximations are in the operations (minus, inter).
type ruleSpace struct {
	r     *hba.Rule
	boxes []box
}

func spaceOf(r *hba.Rule) ruleSpace {
	return ruleSpace{r: r, boxes: ruleBoxes(r)}
}

// maxBoxes bounds a remainder; past it the analysis gives up (and claims
// nothing).
const maxBoxes = 1024

// quickDisjoint reports, without allocating, that no box of xs shares a
// connection with a box of as: their classes, IP ranges or literal names
// do not meet. False means "maybe".
func quickDisjoint(xs, as []box) bool {
	for i := range xs {
		for j := range as {
			if !quickBoxDisjoint(&xs[i], &as[j]) {
				return false
			}
		}
	}
	return true
}

func quickBoxDisjoint(x, a *box) bool {
	if x.cls&a.cls == 0 {
		return true
	}
	if len(x.addr.atoms) == 0 && len(a.addr.atoms) == 0 && x.addr.local == a.addr.local {
		meet := x.addr.local
		for _, p := range x.addr.pfx {
			for _, q := range a.addr.pfx {
				if p.Overlaps(q) {
					meet = true
				}
			}
		}
		if !meet {
			return true
		}
	}
	return litsDisjoint(&x.db, &a.db) || litsDisjoint(&x.user, &a.user)
}

// litsDisjoint reports that two name sets made only of literals share none.
func litsDisjoint(x, a *nameSet) bool {
	if x.all || a.all || len(x.atoms) > 0 || len(a.atoms) > 0 {
		return false
	}
	for _, s := range x.lits {
		if slices.Contains(a.lits, s) {
			return false
		}
	}
	return true
}

// disjoint reports whether x and a certainly share no connection.
func (x *box) disjoint(a *box) bool {
	if x.cls&a.cls == 0 {
		return true
	}
	if ai := x.addr.inter(&a.addr); ai.empty() {
		return true
	}
	if di := x.db.inter(&a.db); di.empty() {
		return true
	}
	ui := x.user.inter(&a.user)
	return ui.empty()
}

// subtract returns a remainder containing every connection of rem that a
// does not match, and whether a took anything away. Each box subtraction
// costs one unit of *budget; ok is false when the budget runs out or the
// remainder grows past maxBoxes.
func subtract(rem []box, a *ruleSpace, budget *int) (out []box, changed, ok bool) {
	if len(a.boxes) == 0 {
		return rem, false, true
	}
	for _, x := range rem {
		cur := []box{x}
		for i := range a.boxes {
			var next []box
			for j := range cur {
				if *budget -= 1 + len(cur[j].addr.pfx); *budget < 0 {
					return nil, true, false
				}
				if cur[j].disjoint(&a.boxes[i]) {
					next = append(next, cur[j])
					continue
				}
				changed = true
				next = cur[j].minusMeeting(&a.boxes[i], next)
			}
			cur = next
		}
		out = append(out, cur...)
		if len(out) > maxBoxes {
			return nil, true, false
		}
	}
	return out, changed, true
}
