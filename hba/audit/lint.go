package audit

// Lint: the driver that runs every check over a file, rule by rule.

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

// LintOptions are the facts Lint uses beyond the file. The zero value
// assumes nothing. The server facts parsing depended on (version,
// db_user_namespace, ...) are not repeated here: Lint takes them from the
// file (hba.File.Dialect).
type LintOptions struct {
	// Listen, if non-nil, is the server's listen_addresses: see Listen.
	Listen *Listen
	// Ident, if non-nil, is the loaded pg_ident.conf: rules whose map= it
	// does not define are reported (missing-map).
	Ident *hba.IdentMaps
	// Settings, if non-nil, are the server's settings: they enable
	// CheckPasswordEncryption and CheckNoSSLCA, and a hostssl rule's
	// never-matches finding then says that ssl is off and where.
	Settings *Settings
}

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
	d := f.Dialect()
	l := &linter{f: f, opts: opts, work: totalWork, noEffectWork: noEffectWork, dbUserNS: d.DBUserNamespace,
		compiler: &hba.Parser{Version: d.Version, DBUserNamespace: d.DBUserNamespace}}
	l.run()
	return l.out
}

type linter struct {
	f        *hba.File
	opts     LintOptions
	dbUserNS bool // the file's db_user_namespace (witness user names)
	out      []Finding
	spaces   []ruleSpace
	dead     []bool // unreachable, duplicate or never-matching
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
	// noEffectWork is what is left of noEffectWork; lastByDecision the
	// last rule of each method and options (noeffect.go).
	noEffectWork   int
	lastByDecision map[string]int
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
	l.out = append(l.out, Finding{Pos: findingPos(r, check), IncludedFrom: r.IncludedFrom(), Severity: sev, Check: check, Message: msg, Related: related, Witness: w})
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
		l.out = append(l.out, Finding{Pos: findingPos(first, CheckIncomplete), IncludedFrom: first.IncludedFrom(), Severity: SeverityInfo, Check: CheckIncomplete, Message: msg})
	}
	if len(l.reUndecided) > 0 {
		first, list := names(l.reUndecided)
		msg := "regular expression too complex to evaluate against the database or user names of " + list +
			": no proof that earlier rules shadow these lines is claimed"
		l.out = append(l.out, Finding{Pos: findingPos(first, CheckIncomplete), IncludedFrom: first.IncludedFrom(), Severity: SeverityInfo, Check: CheckIncomplete, Message: msg})
	}
	// Keep file order: by line, whatever column a finding points at.
	type lineKey struct {
		file string
		line int
	}
	key := func(p hba.Position) lineKey { return lineKey{p.Filename, p.Line} }
	order := make(map[lineKey]int, len(l.f.Lines))
	for k, ln := range l.f.Lines {
		order[key(ln.Pos)] = k
	}
	slices.SortStableFunc(l.out, func(a, b Finding) int { return order[key(a.Pos)] - order[key(b.Pos)] })
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
		l.add(r, SeverityWarning, CheckNeverMatches, l.neverMessage(r), nil, nil)
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
	l.noEffect(i)
	if r.Method() == hba.MD5 {
		l.add(r, SeverityWarning, CheckMD5, "md5 is deprecated (PostgreSQL 18): use scram-sha-256 (an md5 line already uses SCRAM for passwords stored as SCRAM)", nil, nil)
	}
	if m := r.Options().Map; m != "" && l.opts.Ident != nil && !l.opts.Ident.Has(m) {
		msg := `map "` + m + `" is not defined in ` + identName(l.opts.Ident) + `: every login through this line fails`
		l.add(r, SeverityWarning, CheckMissingMap, msg, nil, nil)
	}
	l.settingsRule(i)
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
