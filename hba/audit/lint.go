package audit

import (
	"context"
	"math/bits"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/pghba/pghba/hba"
)

// Severity is how much a lint finding matters.
type Severity uint8

// Severities, least serious first.
const (
	SeverityInfo Severity = iota + 1
	SeverityWarning
	SeverityError
)

var severityNames = [...]string{"", "info", "warning", "error"}

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return ""
}

// CheckID identifies a lint check. The values are stable, lowercase words
// joined by hyphens: tools may filter on them.
type CheckID string

// Lint checks.
const (
	// CheckLoadError: a line (or the file) does not load; the message is
	// PostgreSQL's. Error.
	CheckLoadError CheckID = "load-error"
	// CheckNeverMatches: the rule loads with PostgreSQL's warning and can
	// never match (hostssl with ssl off or without SSL support, hostgssenc
	// without GSSAPI). Warning.
	CheckNeverMatches = "never-matches"
	// CheckDuplicate: an earlier rule has the same type, database, user and
	// address columns, so this one can never match. Warning.
	CheckDuplicate = "duplicate"
	// CheckUnreachable: earlier rules, one or several together, match every
	// connection this rule matches. Warning.
	CheckUnreachable = "unreachable"
	// CheckUnreachableListen: with the given listen_addresses no client
	// that the rule's address admits can connect. Info.
	CheckUnreachableListen = "unreachable-listen"
	// CheckTrustRemote: trust for clients that are not on the loopback
	// interface. Warning.
	CheckTrustRemote = "trust-remote"
	// CheckPasswordCleartext: method password on a line that admits
	// unencrypted TCP connections from the network. Warning.
	CheckPasswordCleartext = "password-cleartext"
	// CheckMD5: method md5, deprecated in PostgreSQL 18; scram-sha-256 is
	// the replacement. Warning.
	CheckMD5 = "md5"
	// CheckWideOpen: every database and every user from a very wide address
	// range with a method other than reject. Warning.
	CheckWideOpen = "wide-open"
	// CheckReplicationWide: replication connections from a wide address
	// range with a method other than reject. Warning.
	CheckReplicationWide = "replication-wide"
	// CheckIdentTCP: ident over TCP believes the client machine's ident
	// server. Warning.
	CheckIdentTCP = "ident-tcp"
	// CheckHostName: a host-name address trusts reverse DNS (confirmed by a
	// forward lookup). Info.
	CheckHostName = "host-name"
	// CheckMissingMap: map= names a user name map the ident file does not
	// define. Warning.
	CheckMissingMap = "missing-map"
	// CheckIncomplete: the analysis could not decide everything it needed.
	// Either the file is too fragmented for the union analysis within its
	// work limit (the rules named were only compared with each earlier
	// rule alone), or a regular expression was too complex to evaluate
	// against a name (the rules named may be unreachable, but are not
	// claimed to be). Info.
	CheckIncomplete = "incomplete"
)

// Width thresholds of wide-open and replication-wide, in fixed (mask one)
// bits: an IPv4 range with fewer than WideOpenBits4 fixed bits (wider than a
// /8) is wide for wide-open, and so on.
const (
	WideOpenBits4    = 8
	WideOpenBits6    = 32
	ReplicationBits4 = 16
	ReplicationBits6 = 48
)

// Finding is one lint result.
type Finding struct {
	// Pos is the line; IncludedFrom the include chain, innermost first.
	Pos          hba.Position
	IncludedFrom []hba.Position
	Severity     Severity
	// Check is one of the Check* identifiers.
	Check   CheckID
	Message string
	// Related are the other lines the finding names (covering rules, the
	// duplicated rule).
	Related []hba.Position
	// Witness, for unreachable and duplicate findings, is a connection the
	// rule would match and an earlier rule decides; nil when none could be
	// built without host names, interfaces or role grants.
	Witness *hba.Conn
}

// LintOptions are the facts Lint uses beyond the file. The zero value
// assumes nothing.
type LintOptions struct {
	// Version and DBUserNamespace are the Parser's, for building witness
	// connections (db_user_namespace rewrites user names).
	Version         int
	DBUserNamespace bool
	// Listen, if non-nil, is the server's listen_addresses: see Listen.
	Listen *Listen
	// Ident, if non-nil, is the loaded pg_ident.conf: rules whose map= it
	// does not define are reported (missing-map).
	Ident *hba.IdentMaps
}

// Listen is a listen_addresses value: which clients can open a TCP
// connection to the server at all.
type Listen struct {
	// Text is the value as given.
	Text string
	// Remote4 and Remote6: clients of the family from any address may
	// connect (the server listens on a non-loopback address, a wildcard or
	// a host name of that family).
	Remote4, Remote6 bool
	// Loop4 and Loop6: loopback clients of the family may connect.
	Loop4, Loop6 bool
}

// ParseListen reads a listen_addresses value: a comma-separated list of
// "*" (every address of both families), "0.0.0.0" (every IPv4 address),
// "::" (every IPv6 address), "localhost" (127.0.0.1 and ::1), IP addresses
// and host names. An empty value means no TCP at all. A loopback IP admits
// loopback clients of its family; any other IP admits clients of its family
// from anywhere (and loopback ones); any other host name is taken to admit
// clients of both families from anywhere.
func ParseListen(s string) (*Listen, error) {
	l := &Listen{Text: s}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case item == "*":
			l.Remote4, l.Remote6 = true, true
		case strings.EqualFold(item, "localhost"):
			l.Loop4, l.Loop6 = true, true
		default:
			a, err := netip.ParseAddr(item)
			if err != nil {
				if strings.ContainsAny(item, " \t/") {
					return nil, &listenError{item}
				}
				l.Remote4, l.Remote6 = true, true
				continue
			}
			switch {
			case a.Is4() && a.IsLoopback():
				l.Loop4 = true
			case a.Is4():
				l.Remote4 = true
			case a.IsLoopback():
				l.Loop6 = true
			default:
				l.Remote6 = true
			}
		}
	}
	l.Loop4 = l.Loop4 || l.Remote4
	l.Loop6 = l.Loop6 || l.Remote6
	return l, nil
}

type listenError struct{ item string }

func (e *listenError) Error() string {
	return "listen address \"" + e.item + "\" is neither an IP address nor a host name"
}

var (
	loop4 = netip.MustParsePrefix("127.0.0.0/8")
	loop6 = netip.MustParsePrefix("::1/128")
)

// reach returns the client addresses that can connect: prefixes per family.
func (l *Listen) reach() []netip.Prefix {
	var out []netip.Prefix
	switch {
	case l.Remote4:
		out = append(out, all4)
	case l.Loop4:
		out = append(out, loop4)
	}
	switch {
	case l.Remote6:
		out = append(out, all6)
	case l.Loop6:
		out = append(out, loop6)
	}
	return out
}

// String describes the listen setting for messages.
func (l *Listen) String() string { return "listen_addresses '" + l.Text + "'" }

// Lint reports the problems of a parsed file: its load errors, rules that
// can never match (with the earlier rules that shadow them and a witness
// connection), and settings that expose the server. Findings are in file
// order; on one line, in the order of the Check* constants.
//
// An unreachable or duplicate finding is a proof, not a guess: the rule
// cannot match any connection in any environment (any role grants, DNS
// answers and interface addresses). Rules that are only partly shadowed, or
// whose shadowing depends on the environment, are not reported.
//
// A /regex name test that the matcher cannot finish within its work budget (a
// pattern with back-references against a long name) decides nothing: no proof rests on it, and the
// rules it left unproved are named in an incomplete finding ("regular
// expression too complex to evaluate"). PostgreSQL's matcher has no budget
// and would eventually answer, so such a rule may in fact be unreachable.
//
// Cost: a rule is compared only with the earlier rules that may share a
// connection with it, found through an index of IP prefixes and literal
// database and user names, so a file of rules that do not overlap lints
// in near-linear time (100,000 disjoint rules in 1.4 s on an idle 2-core
// machine, under 6 s on a loaded one; see BenchmarkLint). A rule whose address is a host name,
// samehost or samenet and whose database and user columns are not literal
// names (all, keywords, +role, /regex) is still compared with every
// earlier rule, and every later rule looks at it; the union analysis of
// overlapping rules is bounded by a work limit per rule and per call
// (CheckIncomplete).
func Lint(f *hba.File, opts LintOptions) []Finding {
	// TODO(issue 13): take the dialect from the File (File.Dialect, being
	// added on the load side) instead of LintOptions.Version and
	// DBUserNamespace.
	l := &linter{f: f, opts: opts, work: totalWork,
		compiler: &hba.Parser{Version: opts.Version, DBUserNamespace: opts.DBUserNamespace}}
	l.run()
	return l.out
}

type linter struct {
	f      *hba.File
	opts   LintOptions
	out    []Finding
	spaces []ruleSpace
	dead   []bool // unreachable, duplicate or never-matching
	// work is what is left of totalWork; incomplete lists the rules
	// whose union analysis gave up.
	work       int
	incomplete []int
	// undecided counts the regular-expression tests that could not be
	// decided; reUndecided lists the rules left unproved after one.
	undecided   int
	reUndecided []int
	// idx finds the earlier rules a rule may share connections with.
	idx *lintIndex
	// full is the whole file compiled for witnesses (nil until needed, and
	// when it does not compile); roleFirst is the first rule naming each
	// +role user.
	full      *hba.Ruleset
	fullDone  bool
	compiler  *hba.Parser // compiles the witness rulesets, built once
	roleFirst map[string]int
	// order is the index of each rule in f.Rules.
	order map[*hba.Rule]int
}

// lintRoles is the role source of witnesses: the roles named as +role
// users by the rules up to upto exist, and no role is granted another.
type lintRoles struct {
	first map[string]int
	upto  int
}

// IsMember answers as a RoleGraph holding those roles without grants.
func (g lintRoles) IsMember(_ context.Context, role, group string) (bool, error) {
	k, ok := g.first[role]
	return ok && k <= g.upto && role == group, nil
}

func (l *linter) add(r *hba.Rule, sev Severity, check CheckID, msg string, related []hba.Position, w *hba.Conn) {
	l.out = append(l.out, Finding{Pos: r.Pos(), IncludedFrom: r.IncludedFrom(), Severity: sev, Check: check, Message: msg, Related: related, Witness: w})
}

func (l *linter) run() {
	f := l.f
	seen := map[*hba.Error]bool{}
	rules := f.Rules
	l.spaces = make([]ruleSpace, len(rules))
	l.dead = make([]bool, len(rules))
	index := make(map[*hba.Rule]int, len(rules))
	l.order = index
	for i, r := range rules {
		l.spaces[i] = spaceOf(r)
		index[r] = i
	}
	l.idx = newLintIndex(rules, l.spaces)
	for i := range l.spaces {
		for k := range l.spaces[i].boxes {
			b := &l.spaces[i].boxes[k]
			for _, n := range []*nameSet{&b.db, &b.user} {
				for _, a := range n.atoms {
					if a.memo != nil {
						a.memo.undecided = &l.undecided
					}
				}
			}
		}
	}
	for _, ln := range f.Lines {
		if ln.Err != nil {
			seen[ln.Err] = true
			l.loadError(ln.Err, ln.IncludedFrom)
		}
		if ln.Rule != nil {
			if i, ok := index[ln.Rule]; ok {
				l.rule(i)
			}
		}
	}
	for _, e := range f.Errors {
		if !seen[e] {
			l.loadError(e, nil)
		}
	}
	if len(l.incomplete) > 0 || len(l.reUndecided) > 0 {
		l.reportIncomplete()
	}
	if len(f.Rules) == 0 && len(f.Errors) == 0 {
		l.out = append(l.out, Finding{Pos: hba.Position{Filename: f.Path}, Severity: SeverityError, Check: CheckLoadError,
			Message: `configuration file "` + f.Path + `" contains no entries`})
	}
}

// reportIncomplete says, on the first rule concerned, which rules the
// union analysis gave up on, and which rules a regular expression too
// complex to evaluate left unproved.
func (l *linter) reportIncomplete() {
	names := func(rs []int) (*hba.Rule, string) {
		first := l.f.Rules[rs[0]]
		var names []string
		for k, i := range rs {
			if k == 10 {
				names = append(names, "and "+strconv.Itoa(len(rs)-10)+" more")
				break
			}
			names = append(names, relName(l.f.Rules[i].Pos(), first.Pos()))
		}
		return first, strings.Join(names, ", ")
	}
	if len(l.incomplete) > 0 {
		first, list := names(l.incomplete)
		msg := "the analysis of rules shadowed by several earlier rules together gave up on " + list +
			" (too many overlapping ranges); they were only compared with each earlier rule alone"
		l.out = append(l.out, Finding{Pos: first.Pos(), IncludedFrom: first.IncludedFrom(), Severity: SeverityInfo, Check: CheckIncomplete, Message: msg})
	}
	if len(l.reUndecided) > 0 {
		first, list := names(l.reUndecided)
		msg := "regular expression too complex to evaluate against the database or user names of " + list +
			": no proof that earlier rules shadow these lines is claimed"
		l.out = append(l.out, Finding{Pos: first.Pos(), IncludedFrom: first.IncludedFrom(), Severity: SeverityInfo, Check: CheckIncomplete, Message: msg})
	}
	// Keep file order.
	order := make(map[hba.Position]int, len(l.f.Lines))
	for k, ln := range l.f.Lines {
		order[ln.Pos] = k
	}
	slices.SortStableFunc(l.out, func(a, b Finding) int { return order[a.Pos] - order[b.Pos] })
}

func (l *linter) loadError(e *hba.Error, inc []hba.Position) {
	msg := e.Msg
	if e.LogOnly {
		msg = e.LogText()
	}
	l.out = append(l.out, Finding{Pos: e.Pos, IncludedFrom: inc, Severity: SeverityError, Check: CheckLoadError, Message: msg})
}

func lineWord(p hba.Position) string { return "line " + strconv.Itoa(p.Line) }

// relName names the line at p as seen from the line at from: "line 3", or
// "other.conf:3" in another file.
func relName(p, from hba.Position) string {
	if p.Filename == from.Filename {
		return lineWord(p)
	}
	name := p.Filename
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name + ":" + strconv.Itoa(p.Line)
}

func (l *linter) rule(i int) {
	r := l.f.Rules[i]
	if r.Never() {
		l.dead[i] = true
		l.add(r, SeverityWarning, CheckNeverMatches, r.Warning(), nil, nil)
	} else if l.shadowed(i) {
		l.dead[i] = true
	} else if l.opts.Listen != nil && r.Type() != hba.Local && l.listenDead(i) {
		l.dead[i] = true
	}
	if !l.dead[i] {
		l.exposure(i)
	}
	if l.dead[i] {
		return
	}
	if r.Method() == hba.MD5 {
		l.add(r, SeverityWarning, CheckMD5, "md5 is deprecated (PostgreSQL 18): use scram-sha-256 (an md5 line already uses SCRAM for passwords stored as SCRAM)", nil, nil)
	}
	if m := r.Options().Map; m != "" && l.opts.Ident != nil && !l.opts.Ident.Has(m) {
		msg := `map "` + m + `" is not defined in ` + identName(l.opts.Ident) + `: every login through this line fails`
		l.add(r, SeverityWarning, CheckMissingMap, msg, nil, nil)
	}
}

func identName(m *hba.IdentMaps) string {
	p := m.Path()
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return "the ident file"
	}
	return p
}

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

// Work limits of the union analysis, in box subtractions: per rule, and
// for one Lint or Exposure call. Past them a rule is only compared with
// single earlier rules (Lint reports this as "incomplete").
const (
	ruleWork  = 200000
	totalWork = 20000000
)

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

// witness finds a connection rule i matches and that an earlier rule
// decides, checked with the matcher itself in an environment where the
// roles named by the rules exist without grants, no host name resolves and
// the server has no interfaces. With matchFirst, the first of prefer must
// match it. It returns the connection and the index of the deciding rule.
func (l *linter) witness(i int, prefer []int, matchFirst bool) (*hba.Conn, int) {
	rules := l.f.Rules
	b := rules[i]
	if l.roleFirst == nil {
		l.roleFirst = map[string]int{}
		for k, r := range rules {
			for _, m := range r.Names(hba.ColumnUser) {
				if _, ok := l.roleFirst[m.Value]; m.Kind == hba.NameRole && !ok {
					l.roleFirst[m.Value] = k
				}
			}
		}
	}
	env := hba.Env{Roles: lintRoles{first: l.roleFirst, upto: i}, Resolver: hba.HostTable{}, Interfaces: hba.StaticInterfaces{}}
	mk := func(rs []*hba.Rule) *hba.Ruleset {
		set, err := l.compiler.Compile(&hba.File{Path: l.f.Path, Rules: rs})
		if err != nil {
			return nil
		}
		return set.WithEnv(env)
	}
	if !l.fullDone {
		l.full, l.fullDone = mk(rules), true
	}
	// The first match among rules[:i] is the first match of the whole file
	// when that comes before rule i, and none otherwise: one compiled file
	// serves every witness.
	only := mk([]*hba.Rule{b})
	var first *hba.Ruleset
	if matchFirst && len(prefer) > 0 {
		first = mk([]*hba.Rule{rules[prefer[0]]})
	}
	if only == nil || l.full == nil || i == 0 {
		return nil, -1
	}
	earlier := l.full.WithEnv(env)
	ctx := context.Background()

	var others []*hba.Rule
	for _, j := range prefer {
		others = append(others, rules[j])
	}
	dbs, users := witnessNames(b, others)
	var best *hba.Conn
	bestD := -1
	tries := 0
	for _, cls := range witnessClasses(l.spaces[i].boxes) {
		addrs := []netip.Addr{{}}
		if cls&clsNormal&^clsLocal != 0 || (cls>>clsPhysShift)&^clsLocal != 0 {
			addrs = witnessAddrs(l.spaces[i].boxes, l.spacesOf(prefer))
		}
		for _, a := range addrs {
			for _, db := range dbs {
				for _, u := range users {
					if tries++; tries > 400 {
						return best, bestD
					}
					c := classConn(cls)
					c.Addr, c.Database, c.User = a, db, u
					if c.Replication == hba.PhysicalReplication {
						c.Database = ""
					}
					if l.opts.DBUserNamespace && c.Replication != hba.PhysicalReplication {
						if strings.Contains(u, "@") {
							continue
						}
						c.User = u + "@"
						if db == "" {
							c.Database = u // sameuser: the database is the user's name
						}
					}
					if d := only.Decide(ctx, c); d.Rule != b {
						continue
					}
					d := earlier.Decide(ctx, c)
					if d.Rule == nil || d.Outcome == hba.Unresolved || l.order[d.Rule] >= i {
						continue
					}
					if first != nil {
						if fd := first.Decide(ctx, c); fd.Rule == nil || fd.Outcome == hba.Unresolved {
							continue
						}
					}
					di := l.order[d.Rule]
					if slices.Contains(prefer, di) {
						return &c, di
					}
					if best == nil {
						cc := c
						best, bestD = &cc, di
					}
				}
			}
		}
	}
	return best, bestD
}

func (l *linter) spacesOf(js []int) []*ruleSpace {
	out := make([]*ruleSpace, len(js))
	for k, j := range js {
		out[k] = &l.spaces[j]
	}
	return out
}

// witnessClasses lists single class bits of the boxes, most ordinary first.
func witnessClasses(bs []box) []uint8 {
	var all uint8
	var phys uint8
	for _, b := range bs {
		all |= b.cls & clsNormal
		phys |= b.cls >> clsPhysShift
	}
	var out []uint8
	for _, c := range []uint8{clsPlain, clsSSL, clsGSS, clsLocal} {
		if all&c != 0 {
			out = append(out, c)
		}
	}
	for _, c := range []uint8{clsPlain, clsSSL, clsGSS, clsLocal} {
		if phys&c != 0 {
			out = append(out, c<<clsPhysShift)
		}
	}
	return out
}

func classConn(cls uint8) hba.Conn {
	var c hba.Conn
	if cls > clsNormal {
		c.Replication = hba.PhysicalReplication
		cls >>= clsPhysShift
	}
	switch cls {
	case clsLocal:
		c.Local = true
	case clsSSL:
		c.SSL = true
	case clsGSS:
		c.GSS = true
	}
	return c
}

// exampleAddrs are tried first inside very wide ranges.
var exampleAddrs = []netip.Addr{netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::7")}

// witnessAddrs proposes client addresses inside the boxes' ranges, and
// inside their overlap with the preferred rules' ranges first.
func witnessAddrs(bs []box, prefer []*ruleSpace) []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		if !slices.Contains(out, a) && len(out) < 8 {
			out = append(out, a)
		}
	}
	host := func(p netip.Prefix) netip.Addr {
		a := p.Masked().Addr()
		if p.Bits() < a.BitLen()-1 {
			a = a.Next()
		}
		return a
	}
	for _, b := range bs {
		for _, p := range b.addr.pfx {
			for _, a := range prefer {
				for _, ab := range a.boxes {
					for _, ap := range ab.addr.pfx {
						if !p.Overlaps(ap) {
							continue
						}
						q := p
						if ap.Bits() > p.Bits() {
							q = ap
						}
						for _, e := range exampleAddrs {
							if q.Bits() < 8 && q.Contains(e) {
								add(e)
							}
						}
						add(host(q))
					}
				}
			}
			for _, e := range exampleAddrs {
				if p.Bits() < 8 && p.Contains(e) {
					add(e)
				}
			}
			add(host(p))
		}
		for _, at := range b.addr.atoms {
			if at.kind == hba.AddrIP {
				ip, mask := at.ip.IP.AsSlice(), at.ip.Mask.AsSlice()
				for k := range ip {
					ip[k] &= mask[k]
				}
				a, _ := netip.AddrFromSlice(ip)
				add(a)
			}
		}
	}
	return out
}

// witnessNames proposes database and user names: the rule's own literals,
// those of the other rules it accepts, role names, then stock names. The
// empty database stands for "the user name" (sameuser).
func witnessNames(b *hba.Rule, others []*hba.Rule) (dbs, users []string) {
	addLit := func(list *[]string, s string) {
		if len(s) < namedatalen && s != "" && !slices.Contains(*list, s) && len(*list) < 6 {
			*list = append(*list, s)
		}
	}
	for _, r := range append([]*hba.Rule{b}, others...) {
		for _, m := range r.Names(hba.ColumnDatabase) {
			if m.Kind == hba.NameLiteral {
				addLit(&dbs, m.Value)
			}
		}
		for _, m := range r.Names(hba.ColumnUser) {
			if m.Kind == hba.NameLiteral || m.Kind == hba.NameRole {
				addLit(&users, m.Value)
			}
		}
	}
	for _, r := range append([]*hba.Rule{b}, others...) {
		for _, m := range r.Names(hba.ColumnDatabase) {
			if m.Kind == hba.NameRegex {
				addLit(&dbs, regexSample(m.Value[1:]))
			}
		}
		for _, m := range r.Names(hba.ColumnUser) {
			if m.Kind == hba.NameRegex {
				addLit(&users, regexSample(m.Value[1:]))
			}
		}
	}
	dbs = append(dbs, "app", "")
	users = append(users, "bob")
	return dbs, users
}

// listenDead reports host rule i when no client its address admits can
// connect under opts.Listen.
func (l *linter) listenDead(i int) bool {
	r := l.f.Rules[i]
	lis := l.opts.Listen
	reach := lis.reach()
	sp := &l.spaces[i]
	if len(sp.boxes) == 0 {
		return false
	}
	live := false
	a := &sp.boxes[0].addr
	for _, p := range a.pfx {
		for _, q := range reach {
			if p.Overlaps(q) {
				live = true
			}
		}
	}
	for _, at := range a.atoms {
		for _, q := range reach {
			if at.kind == hba.AddrIP && maskOverlaps(&at.ip, q) || at.kind != hba.AddrIP && at.fam&famOf(q.Addr()) != 0 {
				live = true
			}
		}
	}
	if live {
		return false
	}
	var msg string
	if len(reach) == 0 {
		msg = lineWord(r.Pos()) + " can never match: " + lis.String() + " opens no TCP socket"
	} else {
		msg = lineWord(r.Pos()) + " can never match: with " + lis.String() + " only " + prefixWords(reach) +
			" clients can connect, and its address " + r.Address().Text + " admits none of them"
	}
	l.add(r, SeverityInfo, CheckUnreachableListen, msg, nil, nil)
	return true
}

func prefixWords(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		switch p {
		case all4:
			s = append(s, "IPv4")
		case all6:
			s = append(s, "IPv6")
		default:
			s = append(s, p.String())
		}
	}
	return joinAnd(s)
}

// remote returns the address set of rule i that clients other than
// loopback ones can use, under opts.Listen: IP prefixes outside loopback
// and the host-name/samenet atoms; samehost is the server itself.
func (l *linter) remote(i int) (pfx []netip.Prefix, atoms []addrAtom) {
	sp := &l.spaces[i]
	if len(sp.boxes) == 0 || l.f.Rules[i].Type() == hba.Local {
		return nil, nil
	}
	a := sp.boxes[0].addr
	fams := fam4 | fam6
	if lis := l.opts.Listen; lis != nil {
		fams = 0
		if lis.Remote4 {
			fams |= fam4
		}
		if lis.Remote6 {
			fams |= fam6
		}
	}
	for _, p := range subtractPrefix(subtractPrefix(a.pfx, loop4), loop6) {
		if famOf(p.Addr())&fams != 0 {
			pfx = append(pfx, p)
		}
	}
	for _, at := range a.atoms {
		if at.kind == hba.AddrSameHost || at.kind == hba.AddrHostName && at.host == "localhost" ||
			at.kind == hba.AddrIP && (prefixHoldsMask(loop4, &at.ip) || prefixHoldsMask(loop6, &at.ip)) {
			continue
		}
		if at.fam&fams != 0 {
			atoms = append(atoms, at)
		}
	}
	return pfx, atoms
}

// fixedBits returns the number of one bits of an IP rule's mask.
func fixedBits(a *hba.Address) int {
	n := 0
	for _, x := range a.Mask.AsSlice() {
		n += bits.OnesCount8(x)
	}
	return n
}

// wide reports whether the rule's address is all, or an IP range with fewer
// fixed bits than the family's threshold.
func wide(r *hba.Rule, b4, b6 int) bool {
	switch r.Address().Kind {
	case hba.AddrAll:
		return true
	case hba.AddrIP:
		if r.Address().IP.Is4() {
			a := r.Address()
			return fixedBits(&a) < b4
		}
		a := r.Address()
		return fixedBits(&a) < b6
	}
	return false
}

func (l *linter) exposure(i int) {
	r := l.f.Rules[i]
	if r.Type() == hba.Local {
		return
	}
	pfx, atoms := l.remote(i)
	if len(pfx) == 0 && len(atoms) == 0 {
		return // only loopback clients (or none) can use it
	}
	addr := r.Address().Text
	db, repl := namesOf(r.Names(hba.ColumnDatabase))
	user, _ := namesOf(r.Names(hba.ColumnUser))
	if r.Method() == hba.Trust {
		l.add(r, SeverityWarning, CheckTrustRemote, "trust lets clients from "+addr+" in without any password; only loopback or a Unix socket should be trusted", nil, nil)
	}
	if r.Method() == hba.Password && typeClasses(r.Type())&clsPlain != 0 {
		l.add(r, SeverityWarning, CheckPasswordCleartext, "password sends the password in clear text, and "+r.Type().String()+" admits unencrypted connections; use hostssl, or scram-sha-256", nil, nil)
	}
	if r.Method() != hba.Reject && db.all && user.all && wide(r, WideOpenBits4, WideOpenBits6) {
		l.add(r, SeverityWarning, CheckWideOpen, "every database and every user are open to "+addrWords(r)+" ("+r.Method().String()+")", nil, nil)
	}
	if r.Method() != hba.Reject && repl && wide(r, ReplicationBits4, ReplicationBits6) {
		l.add(r, SeverityWarning, CheckReplicationWide, "replication connections are open to "+addrWords(r)+"; list the standby servers' addresses instead", nil, nil)
	}
	if r.Method() == hba.Ident {
		l.add(r, SeverityWarning, CheckIdentTCP, "ident over TCP believes whatever the ident server on the client machine says; use it only for machines you control, or use peer over a Unix socket", nil, nil)
	}
	if r.Address().Kind == hba.AddrHostName {
		l.add(r, SeverityInfo, CheckHostName, "the address "+addr+" is a host name: access depends on reverse DNS of the client address (confirmed by a forward lookup)", nil, nil)
	}
}

func addrWords(r *hba.Rule) string {
	if r.Address().Kind == hba.AddrAll {
		return "every address (all)"
	}
	return r.Address().Text
}

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

// Address families as bits.
const (
	fam4 uint8 = 1 << iota
	fam6
)

func famOf(a netip.Addr) uint8 {
	if a.Is4() {
		return fam4
	}
	return fam6
}

// addrAtom is an address that is not a prefix: samehost, samenet and host
// names, whose extent depends on the environment, and IP addresses with a
// non-contiguous mask, whose extent is exact but not a prefix.
type addrAtom struct {
	kind hba.AddrKind // AddrSameHost, AddrSameNet, AddrHostName, AddrIP
	host string       // lower case, for AddrHostName
	ip   hba.Address  // for AddrIP
	fam  uint8        // the families it may still match
}

// addrSet is an address column: the Unix-socket point, disjoint prefixes,
// atoms.
type addrSet struct {
	local bool
	pfx   []netip.Prefix
	atoms []addrAtom
}

func (s *addrSet) empty() bool { return !s.local && len(s.pfx) == 0 && len(s.atoms) == 0 }

var (
	all4 = netip.MustParsePrefix("0.0.0.0/0")
	all6 = netip.MustParsePrefix("::/0")
)

// addrOf returns the rule's address set.
func addrOf(r *hba.Rule) addrSet {
	var s addrSet
	if r.Type() == hba.Local {
		s.local = true
		return s
	}
	a := r.Address()
	switch a.Kind {
	case hba.AddrAll:
		s.pfx = []netip.Prefix{all4, all6}
	case hba.AddrIP:
		if p, ok := a.Prefix(); ok {
			s.pfx = []netip.Prefix{p}
		} else {
			m := a
			m.IP = m.IP.WithZone("")
			s.atoms = []addrAtom{{kind: hba.AddrIP, ip: m, fam: famOf(a.IP)}}
		}
	case hba.AddrSameHost, hba.AddrSameNet:
		s.atoms = []addrAtom{{kind: a.Kind, fam: fam4 | fam6}}
	case hba.AddrHostName:
		s.atoms = []addrAtom{{kind: a.Kind, host: strings.ToLower(a.Host), fam: fam4 | fam6}}
	}
	return s
}

// fixedMask returns the bits of byte i that a prefix of the given length
// fixes.
func fixedMask(bits, i int) byte {
	rest := bits - i*8
	switch {
	case rest >= 8:
		return 0xff
	case rest <= 0:
		return 0
	}
	return byte(0xff << (8 - rest))
}

// maskContains reports whether every address of p passes the address
// test of m: the mask fixes no bit that p leaves free, and p agrees with
// m's address on the bits the mask fixes.
func maskContains(m *hba.Address, p netip.Prefix) bool {
	if p.Addr().Is4() != m.IP.Is4() {
		return false
	}
	pa, ma, mk := p.Addr().AsSlice(), m.IP.AsSlice(), m.Mask.AsSlice()
	for i := range mk {
		if mk[i]&^fixedMask(p.Bits(), i) != 0 || (pa[i]^ma[i])&mk[i] != 0 {
			return false
		}
	}
	return true
}

// maskOverlaps reports whether some address of p passes the address test
// of m: p agrees with m's address on the bits both fix.
func maskOverlaps(m *hba.Address, p netip.Prefix) bool {
	if p.Addr().Is4() != m.IP.Is4() {
		return false
	}
	pa, ma, mk := p.Addr().AsSlice(), m.IP.AsSlice(), m.Mask.AsSlice()
	for i := range mk {
		if (pa[i]^ma[i])&mk[i]&fixedMask(p.Bits(), i) != 0 {
			return false
		}
	}
	return true
}

// prefixHoldsMask reports whether p contains every address passing the
// address test of m: every bit p fixes is fixed by m, to the same value.
func prefixHoldsMask(p netip.Prefix, m *hba.Address) bool {
	if p.Addr().Is4() != m.IP.Is4() {
		return false
	}
	pa, ma, mk := p.Addr().AsSlice(), m.IP.AsSlice(), m.Mask.AsSlice()
	for i := range mk {
		f := fixedMask(p.Bits(), i)
		if f&^mk[i] != 0 || (pa[i]^ma[i])&f != 0 {
			return false
		}
	}
	return true
}

// masksOverlap reports whether some address passes both address tests.
func masksOverlap(a, b *hba.Address) bool {
	if a.IP.Is4() != b.IP.Is4() {
		return false
	}
	aa, am, ba, bm := a.IP.AsSlice(), a.Mask.AsSlice(), b.IP.AsSlice(), b.Mask.AsSlice()
	for i := range am {
		if (aa[i]^ba[i])&am[i]&bm[i] != 0 {
			return false
		}
	}
	return true
}

// fullFams returns the families whose whole space the prefixes cover.
func fullFams(ps []netip.Prefix) uint8 {
	var f uint8
	for _, p := range ps {
		if p.Bits() == 0 {
			f |= famOf(p.Addr())
		}
	}
	return f
}

// covers reports whether atom a matches everything atom x does.
func (a addrAtom) covers(x addrAtom) bool {
	if a.fam&x.fam != x.fam {
		return false
	}
	switch {
	case a.kind == hba.AddrIP || x.kind == hba.AddrIP:
		if a.kind != x.kind {
			return false
		}
		// a's mask fixes no bit x's leaves free, to the same values.
		aa, am, xa, xm := a.ip.IP.AsSlice(), a.ip.Mask.AsSlice(), x.ip.IP.AsSlice(), x.ip.Mask.AsSlice()
		for i := range am {
			if am[i]&^xm[i] != 0 || (aa[i]^xa[i])&am[i] != 0 {
				return false
			}
		}
		return true
	case a.kind == x.kind && a.kind != hba.AddrHostName:
		return true
	case a.kind == hba.AddrSameNet && x.kind == hba.AddrSameHost:
		// Every interface address is inside its own network.
		return true
	case a.kind == hba.AddrHostName && x.kind == hba.AddrHostName:
		if a.host == x.host {
			return true
		}
		// .example.com matches every name ending in it; so does any
		// more specific name or suffix.
		return strings.HasPrefix(a.host, ".") && strings.HasSuffix(x.host, a.host)
	}
	return false
}

// minus returns a set containing x ∖ a.
func (x addrSet) minus(a *addrSet) addrSet {
	r := addrSet{local: x.local && !a.local}
	r.pfx = x.pfx
	for _, ap := range a.pfx {
		r.pfx = subtractPrefix(r.pfx, ap)
	}
	for i := range a.atoms {
		if m := &a.atoms[i]; m.kind == hba.AddrIP {
			if slices.ContainsFunc(r.pfx, func(p netip.Prefix) bool { return maskContains(&m.ip, p) }) {
				r.pfx = slices.DeleteFunc(slices.Clone(r.pfx), func(p netip.Prefix) bool { return maskContains(&m.ip, p) })
			}
		}
	}
	full := fullFams(a.pfx)
	for _, at := range x.atoms {
		at.fam &^= full
		if at.fam == 0 {
			continue
		}
		covered := false
		for _, b := range a.atoms {
			if b.covers(at) {
				covered = true
				break
			}
		}
		if at.kind == hba.AddrIP && slices.ContainsFunc(a.pfx, func(p netip.Prefix) bool { return prefixHoldsMask(p, &at.ip) }) {
			covered = true
		}
		if !covered {
			r.atoms = append(r.atoms, at)
		}
	}
	return r
}

// inter returns a set containing x ∩ a.
func (x addrSet) inter(a *addrSet) addrSet {
	r := addrSet{local: x.local && a.local}
	var atomFams uint8 // families of a's atoms of unknown extent
	for _, b := range a.atoms {
		if b.kind != hba.AddrIP {
			atomFams |= b.fam
		}
	}
	for _, p := range x.pfx {
		if atomFams&famOf(p.Addr()) != 0 || slices.ContainsFunc(a.atoms, func(b addrAtom) bool { return b.kind == hba.AddrIP && maskOverlaps(&b.ip, p) }) {
			r.pfx = append(r.pfx, p)
			continue
		}
		for _, ap := range a.pfx {
			if !p.Overlaps(ap) {
				continue
			}
			if p.Bits() >= ap.Bits() {
				r.pfx = append(r.pfx, p)
				break
			}
			r.pfx = append(r.pfx, ap)
		}
	}
	for _, at := range x.atoms {
		meets := func(fam uint8) bool {
			if at.kind == hba.AddrIP {
				return slices.ContainsFunc(a.pfx, func(p netip.Prefix) bool { return maskOverlaps(&at.ip, p) }) ||
					slices.ContainsFunc(a.atoms, func(b addrAtom) bool {
						return b.kind != hba.AddrIP && b.fam&fam != 0 || b.kind == hba.AddrIP && masksOverlap(&at.ip, &b.ip)
					})
			}
			return atomFams&fam != 0 || slices.ContainsFunc(a.pfx, func(p netip.Prefix) bool { return famOf(p.Addr())&fam != 0 }) ||
				slices.ContainsFunc(a.atoms, func(b addrAtom) bool { return b.kind == hba.AddrIP && b.fam&fam != 0 })
		}
		var fam uint8
		for _, f := range []uint8{fam4, fam6} {
			if at.fam&f != 0 && meets(f) {
				fam |= f
			}
		}
		if fam != 0 {
			at.fam = fam
			r.atoms = append(r.atoms, at)
		}
	}
	return r
}

// subtractPrefix returns the disjoint prefixes ps less the addresses of a.
func subtractPrefix(ps []netip.Prefix, a netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	changed := false
	for i, p := range ps {
		if !p.Overlaps(a) {
			if changed {
				out = append(out, p)
			}
			continue
		}
		if !changed {
			out = append(out, ps[:i]...)
			changed = true
		}
		if a.Bits() <= p.Bits() {
			continue // a contains p
		}
		// p contains a: keep the sibling of each ancestor of a below p.
		for b := p.Bits(); b < a.Bits(); b++ {
			anc := netip.PrefixFrom(a.Addr(), b+1).Masked()
			out = append(out, netip.PrefixFrom(flipBit(anc.Addr(), b), b+1))
		}
	}
	if !changed {
		return ps
	}
	return out
}

// flipBit inverts bit i (0 is the most significant) of a.
func flipBit(a netip.Addr, i int) netip.Addr {
	if a.Is4() {
		b := a.As4()
		b[i/8] ^= 0x80 >> (i % 8)
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	b[i/8] ^= 0x80 >> (i % 8)
	return netip.AddrFrom16(b)
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

// regexSample guesses a string a simple regular expression matches:
// anchors dropped, ".*" and "x*" left out, "\d" as 1, "\w" and "." as a,
// a bracket expression as its first character, {n,m} as n copies. The
// guess is only a candidate: witnesses are checked with the matcher.
func regexSample(p string) string {
	var out []byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '^', '$', '(', ')':
		case '|':
			return string(out)
		case '*', '?':
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case '+':
		case '.':
			out = append(out, 'a')
		case '\\':
			if i+1 < len(p) {
				i++
				switch p[i] {
				case 'd':
					out = append(out, '1')
				case 'w', 's':
					out = append(out, 'a')
				default:
					out = append(out, p[i])
				}
			}
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '^' {
				return string(out)
			}
			if j < len(p) {
				out = append(out, p[j])
			}
			for i = j + 1; i < len(p) && p[i] != ']'; i++ {
			}
		case '{':
			n := 0
			j := i + 1
			for ; j < len(p) && p[j] >= '0' && p[j] <= '9'; j++ {
				n = n*10 + int(p[j]-'0')
			}
			for ; j < len(p) && p[j] != '}'; j++ {
			}
			i = j
			if len(out) > 0 && n < 64 {
				last := out[len(out)-1]
				out = out[:len(out)-1]
				for k := 0; k < n; k++ {
					out = append(out, last)
				}
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// The rule index of Lint.
//
// Lint compares a rule only with the earlier rules that may share a
// connection with it. Every box of every rule is filed three ways: by its
// IP prefixes, by its literal database names and by its literal user
// names, or, in each of the three, in a wild list when the column is not of
// that shape (host names, samenet, regular expressions, all, …). For a box
// of rule i the index then picks the column that names the fewest earlier
// rules and returns them, together with that column's wild list. The answer
// is a superset of the earlier rules that quickDisjoint does not rule out,
// in file order, so the analysis that follows sees the same rules in the
// same order as a scan of every earlier rule would, and finds the same
// proofs; only the rules it would skip at once are never looked at.

// lintIndex is the index of one Lint call.
type lintIndex struct {
	dbLit, userLit map[string][]int32
	// Rules with a box whose column is not literal names only (database,
	// user), or not IP prefixes only (address).
	dbWild, userWild, addrWild []int32
	// pfx holds the rules of each stored prefix; lens the prefix lengths
	// present per family (0: IPv4, 1: IPv6), shortest first.
	pfx  map[netip.Prefix][]int32
	lens [2][]int
	// pos is every stored prefix by first address (then rule), and tree a
	// segment tree of the least rule over each range of pos.
	pos  []pfxPos
	tree []int32
	size int
	// dup files the rules by the columns sameColumns compares.
	dup map[string][]int32
	// seen[j] == stamp marks rule j as already returned by this query.
	seen  []int32
	stamp int32
	out   []int32
}

type pfxPos struct {
	lo netip.Addr
	j  int32
}

// appendRule appends j unless it is already last (a rule's boxes and names
// are filed in turn, so repeats are adjacent).
func appendRule(s []int32, j int32) []int32 {
	if n := len(s); n > 0 && s[n-1] == j {
		return s
	}
	return append(s, j)
}

// before returns the rules of s (ascending) that come before rule i.
func before(s []int32, i int) []int32 {
	n, _ := slices.BinarySearch(s, int32(i))
	return s[:n]
}

// pfxOnly reports whether an address column is IP prefixes only: the
// shape quickBoxDisjoint compares.
func pfxOnly(a *addrSet) bool { return !a.local && len(a.atoms) == 0 && len(a.pfx) > 0 }

// litsOnly reports whether a name column is literal names only.
func litsOnly(n *nameSet) bool { return !n.all && len(n.atoms) == 0 }

func famIndex(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

func newLintIndex(rules []*hba.Rule, spaces []ruleSpace) *lintIndex {
	x := &lintIndex{
		dbLit:   map[string][]int32{},
		userLit: map[string][]int32{},
		pfx:     map[netip.Prefix][]int32{},
		dup:     map[string][]int32{},
		seen:    make([]int32, len(rules)),
		stamp:   0,
	}
	var lens [2][129]bool
	for j := range spaces {
		j32 := int32(j)
		if !rules[j].Never() {
			k := dupKey(rules[j])
			x.dup[k] = append(x.dup[k], j32)
		}
		for bi := range spaces[j].boxes {
			b := &spaces[j].boxes[bi]
			if pfxOnly(&b.addr) {
				for _, p := range b.addr.pfx {
					p = p.Masked()
					x.pfx[p] = appendRule(x.pfx[p], j32)
					lens[famIndex(p.Addr())][p.Bits()] = true
					x.pos = append(x.pos, pfxPos{p.Addr(), j32})
				}
			} else {
				x.addrWild = appendRule(x.addrWild, j32)
			}
			x.dbWild = fileNames(x.dbLit, x.dbWild, &b.db, j32)
			x.userWild = fileNames(x.userLit, x.userWild, &b.user, j32)
		}
	}
	for f := range lens {
		for n, ok := range lens[f] {
			if ok {
				x.lens[f] = append(x.lens[f], n)
			}
		}
	}
	slices.SortFunc(x.pos, func(a, b pfxPos) int {
		if c := a.lo.Compare(b.lo); c != 0 {
			return c
		}
		return int(a.j - b.j)
	})
	x.size = 1
	for x.size < len(x.pos) {
		x.size *= 2
	}
	x.tree = make([]int32, 2*x.size)
	for k := range x.tree {
		x.tree[k] = int32(len(rules))
	}
	for k, p := range x.pos {
		x.tree[x.size+k] = p.j
	}
	for k := x.size - 1; k > 0; k-- {
		x.tree[k] = min(x.tree[2*k], x.tree[2*k+1])
	}
	return x
}

func fileNames(lits map[string][]int32, wild []int32, n *nameSet, j int32) []int32 {
	if !litsOnly(n) {
		return appendRule(wild, j)
	}
	for _, s := range n.lits {
		lits[s] = appendRule(lits[s], j)
	}
	return wild
}

// dupKey returns a key that rules sameColumns finds equal share.
func dupKey(r *hba.Rule) string {
	var b strings.Builder
	b.WriteByte(byte(r.Type()))
	tokens := func(ts []hba.Token) {
		b.WriteString(strconv.Itoa(len(ts)))
		for _, t := range ts {
			if t.Quoted {
				b.WriteByte('"')
			}
			b.WriteString(strconv.Itoa(len(t.Value)))
			b.WriteByte(':')
			b.WriteString(t.Value)
		}
	}
	tokens(r.Databases())
	tokens(r.Users())
	a := r.Address()
	b.WriteByte(byte(a.Kind))
	switch a.Kind {
	case hba.AddrIP:
		if p, ok := a.Prefix(); ok {
			b.WriteString(p.String())
		} else {
			b.WriteString(a.IP.WithZone("").String() + "&" + a.Mask.String())
		}
	case hba.AddrHostName:
		// strings.EqualFold compares runes by their simple case-folding
		// orbits: file each rune under the least rune of its orbit.
		for _, c := range a.Host {
			least := c
			for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
				least = min(least, f)
			}
			b.WriteRune(least)
		}
	}
	return b.String()
}

// duplicateOf returns the first earlier rule that sameColumns finds equal
// to rule i, or -1.
func (x *lintIndex) duplicateOf(rules []*hba.Rule, i int) int {
	for _, j := range before(x.dup[dupKey(rules[i])], i) {
		if sameColumns(rules[j], rules[i]) {
			return int(j)
		}
	}
	return -1
}

// earlier returns, in file order, the rules before i that may share a
// connection with it: every rule quickDisjoint does not rule out, and
// perhaps others. The slice is reused by the next call.
func (x *lintIndex) earlier(i int, bs []box) []int32 {
	x.stamp++
	x.out = x.out[:0]
	for k := range bs {
		if !x.query(i, &bs[k]) {
			// No column to look up: every earlier rule.
			x.out = x.out[:0]
			for j := range i {
				x.out = append(x.out, int32(j))
			}
			return x.out
		}
	}
	slices.Sort(x.out)
	return x.out
}

func (x *lintIndex) add(js []int32) {
	for _, j := range js {
		if x.seen[j] != x.stamp {
			x.seen[j] = x.stamp
			x.out = append(x.out, j)
		}
	}
}

// query adds the earlier rules that may share a connection with box b
// through the most selective of its columns; false when no column is of a
// shape the index files.
func (x *lintIndex) query(i int, b *box) bool {
	const none = int(^uint(0) >> 1)
	addrCost, dbCost, userCost := none, none, none
	if pfxOnly(&b.addr) {
		addrCost = len(before(x.addrWild, i))
		for _, p := range b.addr.pfx {
			addrCost += x.ancestors(i, p, false)
			lo, hi := x.span(p)
			addrCost += hi - lo
		}
	}
	nameCost := func(lits map[string][]int32, wild []int32, n *nameSet) int {
		if !litsOnly(n) {
			return none
		}
		c := len(before(wild, i))
		for _, s := range n.lits {
			c += len(before(lits[s], i))
		}
		return c
	}
	dbCost = nameCost(x.dbLit, x.dbWild, &b.db)
	userCost = nameCost(x.userLit, x.userWild, &b.user)
	switch best := min(addrCost, dbCost, userCost); {
	case best == none:
		return false
	case best == addrCost:
		x.add(before(x.addrWild, i))
		for _, p := range b.addr.pfx {
			x.ancestors(i, p, true)
			lo, hi := x.span(p)
			x.report(1, 0, x.size, lo, hi, int32(i))
		}
	case best == dbCost:
		x.addNames(i, x.dbLit, x.dbWild, &b.db)
	default:
		x.addNames(i, x.userLit, x.userWild, &b.user)
	}
	return true
}

func (x *lintIndex) addNames(i int, lits map[string][]int32, wild []int32, n *nameSet) {
	x.add(before(wild, i))
	for _, s := range n.lits {
		x.add(before(lits[s], i))
	}
}

// ancestors counts (or, with add, adds) the earlier rules with a stored
// prefix strictly containing p.
func (x *lintIndex) ancestors(i int, p netip.Prefix, add bool) int {
	n := 0
	for _, l := range x.lens[famIndex(p.Addr())] {
		if l >= p.Bits() {
			break
		}
		q, _ := p.Addr().Prefix(l)
		js := before(x.pfx[q], i)
		n += len(js)
		if add {
			x.add(js)
		}
	}
	return n
}

// span returns the range of pos whose prefixes start inside p: p's
// subprefixes, p itself, and larger prefixes starting where p does.
func (x *lintIndex) span(p netip.Prefix) (lo, hi int) {
	first, last := p.Masked().Addr(), lastAddr(p)
	lo = sort.Search(len(x.pos), func(k int) bool { return !x.pos[k].lo.Less(first) })
	hi = lo + sort.Search(len(x.pos)-lo, func(k int) bool { return last.Less(x.pos[lo+k].lo) })
	return lo, hi
}

// report adds the rules before i stored at positions [lo, hi) of pos;
// node covers [nlo, nhi).
func (x *lintIndex) report(node, nlo, nhi, lo, hi int, i int32) {
	if hi <= nlo || nhi <= lo || x.tree[node] >= i {
		return
	}
	if nhi-nlo == 1 {
		if j := x.tree[node]; x.seen[j] != x.stamp {
			x.seen[j] = x.stamp
			x.out = append(x.out, j)
		}
		return
	}
	mid := (nlo + nhi) / 2
	x.report(2*node, nlo, mid, lo, hi, i)
	x.report(2*node+1, mid, nhi, lo, hi, i)
}
