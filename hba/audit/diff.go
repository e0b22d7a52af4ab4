package audit

// Diff: which connections change their decision between two loaded files,
// built on the connection-space algebra (space.go).
//
// The rules of the two files are aligned (a common subsequence of rules
// with the same columns, method and options). A connection that matches
// no unaligned rule in either file meets the same aligned rules in the same
// order in both files, so it is decided the same: only the connections
// some unaligned rule matches can change. Those are cut into disjoint
// boxes, and each box is walked through the old rules and then the new
// rules, split at every rule it meets, into pieces decided by one old and
// one new rule (or none). A piece whose two decisions differ is a change.
//
// A piece is exact when every operation that made it was exact: no
// address atom (host name, samehost, samenet, non-contiguous mask) and no
// name atom (+role, samerole, samegroup; a regular expression except
// against literal names it was evaluated on) took part. sameuser is no
// atom here: it is a relation between the database and the user name,
// held exactly (diff_sameuser.go). An exact
// piece is reported as changed: each of its connections differs. A piece
// that is not exact is reported as may-change with the reason.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

// ChangeKind is the kind of a Change.
type ChangeKind string

// The kinds of change.
const (
	// Changed: every connection of the region is decided differently.
	Changed ChangeKind = "changed"
	// MayChange: some connections of the region may be decided
	// differently, depending on an outside source or on what the analysis
	// could not compare (Change.Reason says which).
	MayChange ChangeKind = "may-change"
	// Moved: a rule moved and kept its method and options. Informational:
	// a move that changes decisions is also reported as changed.
	Moved ChangeKind = "moved"
)

// Change is one entry of a DiffResult.
type Change struct {
	Kind    ChangeKind `json:"kind"`
	Region  Region     `json:"region"`
	Before  Side       `json:"before"`
	After   Side       `json:"after"`
	Witness *Witness   `json:"witness"`
	Reason  string     `json:"reason"`
}

// Side is the decision of one file for a region.
type Side struct {
	// Outcome is matched, rejected, no-entry, unresolved or not-loaded.
	Outcome string `json:"outcome"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Method  string `json:"method"`
	Options string `json:"options"`
}

// Region is a set of connections: a connection is in it when every field
// admits it.
type Region struct {
	// Local: Unix-socket connections (Addrs is then empty).
	Local bool `json:"local"`
	// SSL, GSS: nil when both values are in the region.
	SSL *bool `json:"ssl"`
	GSS *bool `json:"gss"`
	// Addrs is the union of the client address ranges (TCP).
	Addrs []string `json:"addrs"`
	// DBs is matched against the requested database name.
	DBs   NameList `json:"dbs"`
	Users NameList `json:"users"`
	// Replication lists the kinds: none, physical, logical.
	Replication []string `json:"replication"`
	// DBIsUser, when set, relates the two name columns: true, the
	// database equals the user name (sameuser); false, it differs. Nil
	// (absent in JSON): no relation.
	DBIsUser *bool `json:"db_is_user,omitempty"`
}

// NameList is either Only these names, or every name Except these. In a
// may-change region it may hold tokens that are not names (+role,
// /regex, samerole, samegroup): the parts the analysis could not
// resolve.
type NameList struct {
	All  bool
	Only []string
	// Except, with All.
	Except []string
}

// MarshalJSON writes {"only": [...]} or {"except": [...]}.
func (n NameList) MarshalJSON() ([]byte, error) {
	if n.All {
		return json.Marshal(map[string][]string{"except": nonNil(n.Except)})
	}
	return json.Marshal(map[string][]string{"only": nonNil(n.Only)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (n *NameList) UnmarshalJSON(b []byte) error {
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	ex, all := m["except"]
	*n = NameList{All: all, Only: m["only"], Except: ex}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Witness is a connection in pghba check --batch input form.
type Witness struct {
	Type        string  `json:"type"`
	Addr        *string `json:"addr,omitempty"`
	SSL         bool    `json:"ssl"`
	GSS         bool    `json:"gss"`
	DB          string  `json:"db"`
	User        string  `json:"user"`
	Replication string  `json:"replication"`
}

// Conn returns the connection the witness describes.
func (w *Witness) Conn() hba.Conn {
	c := hba.Conn{Local: w.Type == "local", SSL: w.SSL, GSS: w.GSS, Database: w.DB, User: w.User}
	if w.Addr != nil {
		c.Addr, _ = netip.ParseAddr(*w.Addr)
	}
	switch w.Replication {
	case "physical":
		c.Replication = hba.PhysicalReplication
	case "logical":
		c.Replication = hba.LogicalReplication
	}
	return c
}

func witnessOf(c hba.Conn) *Witness {
	w := &Witness{Type: "host", SSL: c.SSL, GSS: c.GSS, DB: c.Database, User: c.User, Replication: "none"}
	if c.Local {
		w.Type = "local"
	} else {
		s := c.Addr.String()
		w.Addr = &s
	}
	switch c.Replication {
	case hba.PhysicalReplication:
		w.Replication = "physical"
	case hba.LogicalReplication:
		w.Replication = "logical"
	}
	return w
}

// DiffResult is the result of Diff.
type DiffResult struct {
	Changes []Change `json:"changes"`
	// Incomplete: the work bound was reached. The connections not analysed
	// are reported as a may-change change; the result never claims "no
	// change" for them.
	Incomplete bool `json:"incomplete"`
}

// DiffOptions are the options of Diff.
type DiffOptions struct {
	// OldEnv and NewEnv are the outside sources of each side: the
	// witnesses are decided with them, and the sources the analysis can
	// enumerate are used by the analysis itself. A RoleGraph resolves
	// +role and samerole/samegroup, a HostTable (valid, see
	// HostTable.Validate) resolves host names, StaticInterfaces resolve
	// samehost and samenet: the regions that depend on them are then
	// exact (changed, or not reported). Other sources (a live server's
	// roles behind another Roles, DNS, the system's interfaces) are only
	// asked about witnesses: their regions stay may-change. Nil: roles
	// named by the files exist without grants, no host name resolves, the
	// server has no interfaces, and every region that depends on them is
	// may-change.
	OldEnv, NewEnv *hba.Env
	// Work bounds the analysis, in box operations; zero means the default
	// (the bound of one Lint call).
	Work int
}

// Diff reports the connections whose decision differs between the files
// old and new (each read by a Parser; each is compiled with the dialect it
// was read for). A decision is the outcome with the deciding rule's method
// and options: a connection decided by a different rule with the same
// method and options has not changed.
//
// Every connection whose decision differs, and whose decision in neither
// file depends on an outside source, lies in exactly one Changed region.
// Connections whose decision may depend on one (+role, samerole, host
// names, samehost, samenet, regular expressions compared with a column
// that is not a list of names) are in MayChange regions, with the reason,
// unless DiffOptions gives the source in a form the analysis can
// enumerate: then they too are in exactly one Changed region.
// A connection in no Changed or MayChange region is decided the same.
// Each Changed witness is checked with Ruleset.Decide on both files; a
// witness that does not confirm turns its change into MayChange.
//
// Limits: the analysis assumes sources answer (a failing source makes a
// rule Unresolved in the server, which this does not model), and
// db_user_namespace is not modelled. Past the work bound the rest is one
// MayChange with Incomplete set.
//
// A file with load errors (or no rules) is not-loaded: the result is one
// Changed change covering every connection, its Reason the errors.
func Diff(old, new *hba.File, opts DiffOptions) DiffResult {
	d := &differ{work: opts.Work}
	if d.work <= 0 {
		d.work = totalWork
	}
	var res DiffResult
	oldRS, oldErr := compileFile(old)
	newRS, newErr := compileFile(new)
	if oldErr != nil || newErr != nil {
		res.Changes = append(res.Changes, NotLoaded(oldErr, newErr, oldRS, newRS))
		return res
	}
	d.oldEnv, d.newEnv = envFor(old, opts.OldEnv), envFor(new, opts.NewEnv)
	d.old, d.new = oldRS.WithEnv(d.oldEnv), newRS.WithEnv(d.newEnv)
	d.or, d.nr = old.Rules, new.Rules
	// With sources Diff can enumerate, the tokens that depend on them are
	// resolved first (diff_env.go), so their regions are exact.
	var osig, nsig []string
	d.os, osig = newEnvResolver(opts.OldEnv).resolveSpaces(old.Rules)
	d.ns, nsig = newEnvResolver(opts.NewEnv).resolveSpaces(new.Rules)
	// sameuser becomes a relation of the two name columns, exactly.
	d.relateSpaces(d.os)
	d.relateSpaces(d.ns)
	ao, an := alignRules(old.Rules, new.Rules, osig, nsig)
	d.vocab = vocabulary(old.Rules, new.Rules)
	// The names resolution brought in (members of a role) too.
	for _, sps := range [][]ruleSpace{d.os, d.ns} {
		for i := range sps {
			for k := range sps[i].boxes {
				b := &sps[i].boxes[k]
				for _, l := range b.db.lits {
					d.vocab[l] = true
				}
				for _, l := range b.user.lits {
					d.vocab[l] = true
				}
			}
		}
	}

	// The candidate space: what the unaligned rules match, made disjoint.
	var cand []piece
	var seen []*ruleSpace
	addCand := func(sp *ruleSpace) {
		rem := make([]piece, 0, len(sp.boxes))
		rels := d.relsOf(sp)
		for k, b := range sp.boxes {
			q := piece{b: b, rel: relAt(rels, k), exact: true}
			if hasAtoms(&b) {
				q.exact, q.why = false, atomReason(&b)
			}
			rem = append(rem, q)
		}
		for _, s := range seen {
			rem = d.cut(rem, s, nil)
		}
		cand = append(cand, rem...)
		seen = append(seen, sp)
	}
	for i := range d.or {
		if !ao[i] {
			addCand(&d.os[i])
		}
	}
	for j := range d.nr {
		if !an[j] {
			addCand(&d.ns[j])
		}
	}
	// Pieces with the same decisions and columns but other classes are
	// one region (they are disjoint, so the union of classes is exact).
	var out []piece
	at := map[string]int{}
	for _, p := range cand {
		for _, q := range d.walk(p, d.os, func(q *piece, k int) { q.oldRule = k }) {
			q.newRule = -1
			for _, r := range d.walk(q, d.ns, func(r *piece, k int) { r.newRule = k }) {
				if sameDecision(ruleAt(d.or, r.oldRule), ruleAt(d.nr, r.newRule)) {
					continue
				}
				k := pieceKey(&r)
				if i, ok := at[k]; ok {
					out[i].b.cls |= r.b.cls
					continue
				}
				at[k] = len(out)
				out = append(out, r)
			}
		}
	}
	for i := range out {
		d.report(&res, &out[i])
	}
	if d.work < 0 {
		res.Incomplete = true
		res.Changes = append(res.Changes, Change{Kind: MayChange, Region: everything(),
			Before: Side{Outcome: "unresolved"}, After: Side{Outcome: "unresolved"},
			Reason: "work bound reached: the connections not analysed may change"})
	}
	// Moves: an unaligned old rule with the same key as an unaligned new one.
	keys := map[string]int{}
	for i, r := range d.or {
		if !ao[i] {
			keys[ruleKey(r)] = i
		}
	}
	for j, r := range d.nr {
		if an[j] {
			continue
		}
		if i, ok := keys[ruleKey(r)]; ok && d.or[i].Pos().Line != r.Pos().Line {
			delete(keys, ruleKey(r))
			c := Change{Kind: Moved, Before: d.side(d.or, i), After: d.side(d.nr, j),
				Reason: "rule moved from line " + strconv.Itoa(d.or[i].Pos().Line) + " to line " + strconv.Itoa(r.Pos().Line)}
			if len(d.ns[j].boxes) > 0 {
				c.Region = regionsOf(&d.ns[j].boxes[0])[0]
				c.Region.DBIsUser = dbIsUser(relAt(d.relsOf(&d.ns[j]), 0))
			}
			res.Changes = append(res.Changes, c)
		}
	}
	return res
}

type differ struct {
	work           int
	old, new       *hba.Ruleset
	oldEnv, newEnv hba.Env
	or, nr         []*hba.Rule
	os, ns         []ruleSpace
	vocab          map[string]bool
	// rels: the relations of the boxes of the rule spaces of os and ns
	// that list sameuser (relateSpaces); a space not in it is all relAny.
	rels map[*ruleSpace][]rel
}

// piece is a box, with the relation of its name columns, with the old and
// new rules deciding it (-1: none yet or no rule) and whether it was
// computed exactly.
type piece struct {
	b                box
	rel              rel
	oldRule, newRule int
	exact            bool
	why              string
}

// NotLoaded is the change Diff reports when a side does not load: every
// connection, not-loaded on the side with errors (oldErrs, newErrs; nil
// for a side that loaded), the errors as the reason. The side that loaded
// (its Ruleset oldRS or newRS; nil when unknown) gives the witness's
// decision.
func NotLoaded(oldErrs, newErrs []string, oldRS, newRS *hba.Ruleset) Change {
	w := hba.Conn{Local: true, Database: "postgres", User: "postgres"}
	c := Change{Kind: Changed, Region: everything(), Before: loadedSide(oldErrs, oldRS, w), After: loadedSide(newErrs, newRS, w)}
	var why []string
	if oldErrs != nil {
		why = append(why, "old: "+strings.Join(oldErrs, "; "))
	}
	if newErrs != nil {
		why = append(why, "new: "+strings.Join(newErrs, "; "))
	}
	c.Reason = strings.Join(why, "; ")
	c.Witness = witnessOf(w)
	return c
}

func compileFile(f *hba.File) (*hba.Ruleset, []string) {
	if f == nil {
		return nil, []string{"no file"}
	}
	if len(f.Errors) > 0 {
		var s []string
		for _, e := range f.Errors {
			s = append(s, e.Error())
		}
		return nil, s
	}
	dl := f.Dialect()
	p := hba.Parser{Version: dl.Version, Minor: dl.Minor, SSL: dl.SSL, Features: dl.Features,
		DBUserNamespace: dl.DBUserNamespace, OAuthValidatorLibraries: dl.OAuthValidatorLibraries}
	rs, err := p.Compile(f)
	if err != nil {
		return nil, []string{err.Error()}
	}
	return rs, nil
}

func loadedSide(errs []string, rs *hba.Ruleset, w hba.Conn) Side {
	if errs != nil || rs == nil {
		return Side{Outcome: "not-loaded"}
	}
	d := rs.Decide(context.Background(), w)
	if d.Rule == nil {
		return Side{Outcome: "no-entry"}
	}
	s := sideOf(d.Rule)
	if d.Outcome == hba.Unresolved {
		s.Outcome = "unresolved"
	}
	return s
}

// everything is the region of every connection (as two regions cannot be
// one, the JSON form says "local: false, every address": a not-loaded
// change covers local connections too, as its reason says).
func everything() Region {
	return Region{Addrs: []string{"0.0.0.0/0", "::/0"}, DBs: NameList{All: true}, Users: NameList{All: true},
		Replication: []string{"none", "physical", "logical"}}
}

// noRoles answers "not a member" for every role: the roles exist without
// grants.
type noRoles struct{}

func (noRoles) IsMember(context.Context, string, string) (bool, error) { return false, nil }

func envFor(f *hba.File, e *hba.Env) hba.Env {
	if e != nil {
		return *e
	}
	return hba.Env{Roles: noRoles{}, Resolver: hba.HostTable{}, Interfaces: hba.StaticInterfaces{}}
}

func spacesOfRules(rs []*hba.Rule) []ruleSpace {
	out := make([]ruleSpace, len(rs))
	for i, r := range rs {
		out[i] = spaceOf(r)
	}
	return out
}

// ruleKey is what makes two rules decide alike wherever they match.
func ruleKey(r *hba.Rule) string {
	var sb strings.Builder
	sb.WriteString(r.Type().String())
	if r.Never() {
		sb.WriteString(" never")
	}
	sb.WriteString("\x00" + r.Address().String() + "\x00")
	for _, c := range []hba.Column{hba.ColumnDatabase, hba.ColumnUser} {
		for _, n := range r.Names(c) {
			sb.WriteString(strconv.Itoa(int(n.Kind)) + ":" + n.Value + "\x01")
		}
		sb.WriteString("\x00")
	}
	sb.WriteString(decisionKey(r))
	return sb.String()
}

// decisionKey is the decision a rule gives: method and options.
func decisionKey(r *hba.Rule) string {
	return r.Method().String() + "\x00" + strings.Join(r.ViewOptions(), "\x00")
}

// alignRules marks a common subsequence of rules with equal keys (an
// alignment's quality costs time, never exactness): the common head and
// tail, then rules whose key is unique in both files, in increasing
// order on both sides (patience anchors), and between anchors the same
// again, ending in a longest common subsequence where the gap is small.
//
// sa and sb, when not nil, are added to the keys: what the environment made
// of each rule (resolveSpaces), so that rules that read alike but match
// differently in their two environments are not aligned.
func alignRules(a, b []*hba.Rule, sa, sb []string) (ao, an []bool) {
	ao, an = make([]bool, len(a)), make([]bool, len(b))
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, r := range a {
		ka[i] = ruleKey(r)
		if sa != nil {
			ka[i] += "\x00" + sa[i]
		}
	}
	for j, r := range b {
		kb[j] = ruleKey(r)
		if sb != nil {
			kb[j] += "\x00" + sb[j]
		}
	}
	alignRange(ka, kb, 0, len(a), 0, len(b), ao, an, 0)
	return ao, an
}

func alignRange(ka, kb []string, alo, ahi, blo, bhi int, ao, an []bool, depth int) {
	for alo < ahi && blo < bhi && ka[alo] == kb[blo] {
		ao[alo], an[blo] = true, true
		alo++
		blo++
	}
	for ahi > alo && bhi > blo && ka[ahi-1] == kb[bhi-1] {
		ahi--
		bhi--
		ao[ahi], an[bhi] = true, true
	}
	n, m := ahi-alo, bhi-blo
	if n == 0 || m == 0 {
		return
	}
	if n*m <= 1<<20 {
		lcs(ka, kb, alo, ahi, blo, bhi, ao, an)
		return
	}
	if depth > 64 {
		return
	}
	// Patience anchors: keys unique on both sides.
	count := map[string][2]int{}
	for i := alo; i < ahi; i++ {
		c := count[ka[i]]
		c[0]++
		count[ka[i]] = c
	}
	pos := map[string]int{}
	for j := blo; j < bhi; j++ {
		if c, ok := count[kb[j]]; ok {
			c[1]++
			count[kb[j]] = c
			pos[kb[j]] = j
		}
	}
	type pair struct{ i, j int }
	var ps []pair
	for i := alo; i < ahi; i++ {
		if c := count[ka[i]]; c[0] == 1 && c[1] == 1 {
			ps = append(ps, pair{i, pos[ka[i]]})
		}
	}
	if len(ps) == 0 {
		return
	}
	// Longest increasing subsequence of j (patience sorting).
	tails, prev := []int{}, make([]int, len(ps))
	for k, p := range ps {
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if ps[tails[mid]].j < p.j {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		prev[k] = -1
		if lo > 0 {
			prev[k] = tails[lo-1]
		}
		if lo == len(tails) {
			tails = append(tails, k)
		} else {
			tails[lo] = k
		}
	}
	var chain []pair
	for k := tails[len(tails)-1]; k >= 0; k = prev[k] {
		chain = append(chain, ps[k])
	}
	slices.Reverse(chain)
	ai, bj := alo, blo
	for _, p := range chain {
		ao[p.i], an[p.j] = true, true
		alignRange(ka, kb, ai, p.i, bj, p.j, ao, an, depth+1)
		ai, bj = p.i+1, p.j+1
	}
	alignRange(ka, kb, ai, ahi, bj, bhi, ao, an, depth+1)
}

// lcs marks a longest common subsequence of ka[alo:ahi] and kb[blo:bhi].
func lcs(ka, kb []string, alo, ahi, blo, bhi int, ao, an []bool) {
	n, m := ahi-alo, bhi-blo
	t := make([]int32, (n+1)*(m+1))
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if ka[alo+i] == kb[blo+j] {
				t[i*(m+1)+j] = t[(i+1)*(m+1)+j+1] + 1
			} else {
				t[i*(m+1)+j] = max(t[(i+1)*(m+1)+j], t[i*(m+1)+j+1])
			}
		}
	}
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case ka[alo+i] == kb[blo+j]:
			ao[alo+i], an[blo+j] = true, true
			i++
			j++
		case t[(i+1)*(m+1)+j] >= t[i*(m+1)+j+1]:
			i++
		default:
			j++
		}
	}
}

// vocabulary is every literal name of both files, so that a witness for
// "every name except ..." picks a name no rule lists.
func vocabulary(a, b []*hba.Rule) map[string]bool {
	v := map[string]bool{}
	for _, rs := range [][]*hba.Rule{a, b} {
		for _, r := range rs {
			for _, c := range []hba.Column{hba.ColumnDatabase, hba.ColumnUser} {
				for _, n := range r.Names(c) {
					v[n.Value] = true
				}
			}
		}
	}
	return v
}

func hasAtoms(b *box) bool {
	return len(b.addr.atoms) > 0 || len(b.db.atoms) > 0 || len(b.user.atoms) > 0
}

// exactWith reports whether cutting x by a is exact, and if not why.
func exactWith(x, a *box) (bool, string) {
	if hasAtoms(x) {
		return false, "the region holds names or addresses whose extent depends on the environment"
	}
	for _, at := range a.addr.atoms {
		switch at.kind {
		case hba.AddrHostName:
			return false, "host name " + at.host + " (resolved by DNS)"
		case hba.AddrSameHost:
			return false, "samehost (the server's interface addresses)"
		case hba.AddrSameNet:
			return false, "samenet (the server's interface networks)"
		default:
			return false, "address with a non-contiguous mask"
		}
	}
	for _, c := range []struct{ x, a *nameSet }{{&x.db, &a.db}, {&x.user, &a.user}} {
		for _, at := range c.a.atoms {
			switch at.kind {
			case hba.NameRegex:
				if c.x.all {
					return false, "regular expression " + at.s + " against every name"
				}
				for _, l := range c.x.lits {
					if at.member(l) == reUndecided {
						return false, "regular expression " + at.s + " too complex to evaluate"
					}
				}
			case hba.NameRole:
				return false, "+" + at.s + " (role membership)"
			default:
				return false, at.s + " (depends on role membership or the user name)"
			}
		}
	}
	return true, ""
}

// atomReason names what makes a box depend on the environment.
func atomReason(b *box) string {
	all := box{db: nameSet{all: true}, user: nameSet{all: true}}
	if ok, why := exactWith(&all, b); !ok {
		return why
	}
	return "the region holds names or addresses whose extent depends on the environment"
}

func (x *box) inter(a *box) box {
	return box{cls: x.cls & a.cls, addr: x.addr.inter(&a.addr), db: x.db.inter(&a.db), user: x.user.inter(&a.user)}
}

func (x *box) isEmpty() bool {
	return x.cls == 0 || x.addr.empty() || x.db.empty() || x.user.empty()
}

// cut removes from the pieces what sp matches; each piece it meets is
// passed, intersected with sp, to take (when non-nil).
func (d *differ) cut(ps []piece, sp *ruleSpace, take func(piece)) []piece {
	var out []piece
	rels := d.relsOf(sp)
	for _, p := range ps {
		cur := []piece{p}
		for i := range sp.boxes {
			a := &sp.boxes[i]
			ar := relAt(rels, i)
			var next []piece
			for _, q := range cur {
				d.work -= 1 + len(q.b.addr.pfx)
				if q.rel != relAny || ar != relAny {
					next = d.cutRel(&q, a, ar, take, next)
					continue
				}
				if q.b.disjoint(a) {
					next = append(next, q)
					continue
				}
				ok, why := exactWith(&q.b, a)
				if take != nil {
					in := q
					in.b = q.b.inter(a)
					if !in.b.isEmpty() {
						if !ok && in.exact {
							in.exact, in.why = false, why
						}
						take(in)
					}
				}
				for _, b := range q.b.minusMeeting(a, nil) {
					r := q
					r.b = b
					if !ok && r.exact {
						r.exact, r.why = false, why
					}
					next = append(next, r)
				}
			}
			cur = next
		}
		out = append(out, cur...)
	}
	return out
}

// cutRel is one step of cut where q or a has a relation: what a holds of
// q is passed to take, and what is left of q appended to next.
func (d *differ) cutRel(q *piece, a *box, ar rel, take func(piece), next []piece) []piece {
	y, meet := relMeet(&q.b, q.rel, a, ar)
	if !meet {
		return append(next, *q)
	}
	ok, why := exactWith(&q.b, a)
	if take != nil {
		in := *q
		in.b, in.rel = y.b, y.rel
		if !ok && in.exact {
			in.exact, in.why = false, why
		}
		take(in)
	}
	x, ab := relBox{b: q.b, rel: q.rel}, relBox{b: *a, rel: ar}
	for _, y := range relMinus(&x, &ab, nil) {
		r := *q
		r.b, r.rel = y.b, y.rel
		if !ok && r.exact {
			r.exact, r.why = false, why
		}
		next = append(next, r)
	}
	return next
}

// walk splits p among the rules of spaces in order: each part is passed to
// set with the index of its first rule; what no rule matches keeps -1.
func (d *differ) walk(p piece, spaces []ruleSpace, set func(*piece, int)) []piece {
	var out []piece
	rem := []piece{p}
	set(&rem[0], -1)
	for k := range spaces {
		if len(rem) == 0 || d.work < 0 {
			break
		}
		sp := &spaces[k]
		if len(sp.boxes) == 0 {
			continue
		}
		d.work -= len(rem) // the quick tests count too, so work stays bounded
		meets := false
		for i := range rem {
			if !quickDisjoint([]box{rem[i].b}, sp.boxes) {
				meets = true
				break
			}
		}
		if !meets {
			continue
		}
		rem = d.cut(rem, sp, func(q piece) {
			set(&q, k)
			out = append(out, q)
		})
	}
	if d.work < 0 {
		return out // the rest is reported as incomplete
	}
	return append(out, rem...)
}

func (d *differ) side(rules []*hba.Rule, k int) Side {
	if k < 0 {
		return Side{Outcome: "no-entry"}
	}
	return sideOf(rules[k])
}

func sideOf(r *hba.Rule) Side {
	s := Side{Outcome: "matched", File: r.Pos().Filename, Line: r.Pos().Line, Method: r.Method().String(),
		Options: strings.Join(r.ViewOptions(), " ")}
	if r.Method() == hba.Reject {
		s.Outcome = "rejected"
	}
	return s
}

func sameDecision(a, b *hba.Rule) bool {
	if a == nil || b == nil {
		return a == b
	}
	return decisionKey(a) == decisionKey(b)
}

func ruleAt(rules []*hba.Rule, k int) *hba.Rule {
	if k < 0 {
		return nil
	}
	return rules[k]
}

func (d *differ) report(res *DiffResult, p *piece) {
	if sameDecision(ruleAt(d.or, p.oldRule), ruleAt(d.nr, p.newRule)) {
		return
	}
	for _, b := range splitClasses(&p.b) {
		c := Change{Kind: Changed, Region: regionsOf(&b)[0], Before: d.side(d.or, p.oldRule), After: d.side(d.nr, p.newRule)}
		c.Region.DBIsUser = dbIsUser(p.rel)
		w, ok := d.witness(&b, p)
		if w != nil {
			c.Witness = witnessOf(*w)
		}
		switch {
		case !p.exact:
			c.Kind, c.Reason = MayChange, p.why
		case !ok:
			c.Kind, c.Reason = MayChange, "no witness confirmed by the matcher"
		}
		res.Changes = append(res.Changes, c)
	}
}

// pieceKey is a piece less its classes.
func pieceKey(p *piece) string {
	phys := p.b.cls&clsNormal == 0
	r := regionsOf(&box{cls: clsPlain, addr: p.b.addr, db: p.b.db, user: p.b.user})[0]
	return fmt.Sprint(p.oldRule, p.newRule, p.exact, p.why, phys, r.Addrs, r.DBs, r.Users, p.b.addr.local, p.rel)
}

// splitClasses splits a box into boxes whose classes one Region can state.
func splitClasses(b *box) []box {
	norm, phys := b.cls&clsNormal, b.cls>>clsPhysShift
	var out []box
	for _, part := range []struct {
		c     uint8
		shift uint8
	}{{norm, 0}, {phys, clsPhysShift}} {
		for _, g := range classGroups(part.c) {
			y := *b
			y.cls = g << part.shift
			out = append(out, y)
		}
	}
	return out
}

func classGroups(c uint8) []uint8 {
	var out []uint8
	if c&clsLocal != 0 {
		out = append(out, clsLocal)
	}
	t := c &^ clsLocal
	switch t {
	case 0:
	case clsSSL | clsGSS:
		out = append(out, clsSSL, clsGSS)
	default:
		out = append(out, t)
	}
	return out
}

// regionsOf states a box whose classes splitClasses made statable.
func regionsOf(b *box) []Region {
	r := Region{DBs: nameListOf(&b.db), Users: nameListOf(&b.user), Addrs: []string{}}
	cls := b.cls
	if cls&clsNormal == 0 {
		r.Replication = []string{"physical"}
		cls >>= clsPhysShift
		r.DBs = NameList{All: true}
	} else {
		r.Replication = []string{"none", "logical"}
	}
	if cls&clsLocal != 0 {
		r.Local = true
		return []Region{r}
	}
	t, f := true, false
	switch cls {
	case clsPlain:
		r.SSL, r.GSS = &f, &f
	case clsSSL:
		r.SSL, r.GSS = &t, &f
	case clsGSS:
		r.SSL, r.GSS = &f, &t
	case clsPlain | clsSSL:
		r.GSS = &f
	case clsPlain | clsGSS:
		r.SSL = &f
	}
	for _, p := range mergePrefixes(slices.Clone(b.addr.pfx)) {
		r.Addrs = append(r.Addrs, p.String())
	}
	for _, a := range b.addr.atoms {
		switch a.kind {
		case hba.AddrHostName:
			r.Addrs = append(r.Addrs, a.host)
		case hba.AddrIP:
			r.Addrs = append(r.Addrs, a.ip.String())
		default:
			r.Addrs = append(r.Addrs, a.kind.String())
		}
	}
	return []Region{r}
}

func nameListOf(n *nameSet) NameList {
	if n.all {
		ex := slices.Clone(n.not)
		slices.Sort(ex)
		return NameList{All: true, Except: nonNil(ex)}
	}
	only := slices.Clone(n.lits)
	for _, a := range n.atoms {
		switch a.kind {
		case hba.NameRole:
			only = append(only, "+"+a.s)
		default:
			only = append(only, a.s)
		}
	}
	slices.Sort(only)
	return NameList{Only: nonNil(only)}
}

// witness picks a connection in b and checks it with both rulesets.
func (d *differ) witness(b *box, p *piece) (*hba.Conn, bool) {
	c := classConn(lowestClass(b.cls))
	if !c.Local {
		a, ok := addrIn(&b.addr)
		if !ok {
			return nil, false
		}
		c.Addr = a
	}
	var ok bool
	switch {
	case p.rel != relAny:
		if c.Database, c.User, ok = d.relNames(b, p.rel); !ok {
			return nil, false
		}
	default:
		if c.Replication != hba.PhysicalReplication {
			if c.Database, ok = d.nameIn(&b.db, "db"); !ok {
				return nil, false
			}
		}
		if c.User, ok = d.nameIn(&b.user, "user"); !ok {
			return nil, false
		}
	}
	ctx := context.Background()
	return &c, d.confirms(d.old.Decide(ctx, c), ruleAt(d.or, p.oldRule)) && d.confirms(d.new.Decide(ctx, c), ruleAt(d.nr, p.newRule))
}

func (d *differ) confirms(got hba.Decision, want *hba.Rule) bool {
	if want == nil {
		return got.Outcome == hba.NoMatch
	}
	return got.Rule != nil && got.Outcome != hba.Unresolved && got.Rule.Pos() == want.Pos()
}

func lowestClass(cls uint8) uint8 {
	for _, c := range []uint8{clsPlain, clsSSL, clsGSS, clsLocal} {
		if cls&c != 0 {
			return c
		}
		if cls&(c<<clsPhysShift) != 0 {
			return c << clsPhysShift
		}
	}
	return clsLocal
}

// addrIn picks an address of an address set: inside its first prefix.
func addrIn(a *addrSet) (netip.Addr, bool) {
	if len(a.pfx) == 0 {
		return netip.Addr{}, false
	}
	p := a.pfx[0]
	for _, e := range exampleAddrs {
		if p.Contains(e) {
			return e, true
		}
	}
	x := p.Masked().Addr()
	if p.Bits() < x.BitLen() {
		x = x.Next() // not the network address, where a /31 or less allows it
	}
	return x, true
}

// nameIn picks a name of a name set: a literal, or a name no rule lists.
func (d *differ) nameIn(n *nameSet, base string) (string, bool) {
	if n.all {
		for k := 0; ; k++ {
			s := base + "_w" + strconv.Itoa(k)
			if !d.vocab[s] && !slices.Contains(n.not, s) {
				return s, true
			}
		}
	}
	if len(n.lits) > 0 {
		return n.lits[0], true
	}
	for _, a := range n.atoms {
		if a.kind == hba.NameRegex {
			if s := regexSample(strings.TrimPrefix(a.s, "/")); s != "" {
				return s, true
			}
		}
	}
	return "", false
}
