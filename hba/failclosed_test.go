package hba_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
	"github.com/pghba/pghba/internal/refmatch"
)

// Fail-closed matching (issue 12): a rule that cannot be evaluated refuses
// the connection at that rule; it is never skipped.

// backrefBomb is a /regex whose match on a long run of 'a's exceeds pgre's
// work bound (PostgreSQL's own engine says it matches, after ~0.6 s).
const backrefBomb = `"/^(a*)(a*)(a*)(a*)(a*)(a*)\6\5\4\3\2\1$"`

// bombUser is a name backrefBomb cannot decide within the bound.
var bombUser = strings.Repeat("a", 62)

func loadV16(t *testing.T, conf string, env hba.Env) *hba.Ruleset {
	t.Helper()
	rs, err := (&hba.Parser{Version: 16, Env: env}).LoadBytes("/x/pg_hba.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Which second opinions checkDecision asks for (a match over the regex
// work bound costs a second or more, so the slow cases ask for one each).
const (
	withExplain = 1 << iota
	withRef
	withBoth = withExplain | withRef
)

// checkDecision checks that d is the outcome at the given line (0: none)
// with the given reason, and that Explain and Message, and the reference
// matcher, agree, as others asks.
func checkDecision(t *testing.T, rs *hba.Ruleset, ctx context.Context, c hba.Conn, d hba.Decision, want hba.Outcome, line int, reason hba.Reason, others int) {
	t.Helper()
	if d.Outcome != want || ruleLine(d.Rule) != line || d.Reason != reason {
		t.Fatalf("decision %v line %d reason %q (err %v), want %v line %d reason %q",
			d.Outcome, ruleLine(d.Rule), d.Reason, d.Err, want, line, reason)
	}
	if others&withExplain != 0 {
		checkExplain(t, rs, ctx, c, d, line)
	}
	if others&withRef != 0 {
		ref := refmatch.Decide(ctx, rs.Version(), rs.Rules(), rs.Env(), c)
		if ref.Outcome != d.Outcome || ref.Rule != d.Rule {
			t.Fatalf("reference matcher decided %v line %d, Decide %v line %d", ref.Outcome, ruleLine(ref.Rule), d.Outcome, ruleLine(d.Rule))
		}
	}
}

// checkExplain checks that Explain reaches decision d with a miss for each
// rule before it, and d's message.
func checkExplain(t *testing.T, rs *hba.Ruleset, ctx context.Context, c hba.Conn, d hba.Decision, line int) {
	t.Helper()
	tr := rs.Explain(ctx, c)
	if tr.Decision.Outcome != d.Outcome || tr.Decision.Rule != d.Rule || tr.Decision.Reason != d.Reason || (tr.Decision.Err == nil) != (d.Err == nil) {
		t.Fatalf("Explain decided %v line %d reason %q, Decide %v line %d reason %q",
			tr.Decision.Outcome, ruleLine(tr.Decision.Rule), tr.Decision.Reason, d.Outcome, ruleLine(d.Rule), d.Reason)
	}
	if want := max(line-1, 0); tr.Decision.Rule != nil && len(tr.Misses) != want {
		t.Fatalf("Explain has %d misses, want %d", len(tr.Misses), want)
	}
	if tr.Message != rs.Message(d, c) {
		t.Fatalf("Explain message %q, want %q", tr.Message, rs.Message(d, c))
	}
}

// TestRegexOverBudgetRefusesAtRule is issue 12's F1: a reject rule whose
// /regex cannot be decided within the matcher's work bound must refuse at
// that rule, not be skipped so that the trust rule after it grants. The
// server would have matched the reject rule.
func TestRegexOverBudgetRefusesAtRule(t *testing.T) {
	t.Parallel()
	rs := loadV16(t, "host all "+backrefBomb+" 0.0.0.0/0 reject\nhost all all 0.0.0.0/0 trust\n", hba.Env{})
	ctx := context.Background()
	c := hba.Conn{Addr: netip.MustParseAddr("10.1.2.3"), User: bombUser, Database: "postgres"}
	// The example proxy's path: a Holder's MatchContext (which is Decide)
	// refuses with ErrUnresolved.
	rule, err := hba.NewHolder(rs).MatchContext(ctx, c)
	var de *hba.DenyError
	if rule != nil || !errors.Is(err, hba.ErrUnresolved) || !errors.Is(err, hba.ErrRegexTooComplex) || !errors.As(err, &de) {
		t.Fatalf("Holder.MatchContext: rule %v, err %v; want nil rule, ErrUnresolved and ErrRegexTooComplex", rule, err)
	}
	d := de.Decision
	checkDecision(t, rs, ctx, c, d, hba.Unresolved, 1, hba.ReasonRegexTooComplex, withExplain)
	msg := rs.Message(d, c)
	for _, part := range []string{"pg_hba.conf rule /x/pg_hba.conf:1 ", "regular expression too complex to evaluate"} {
		if !strings.Contains(msg, part) {
			t.Errorf("message %q does not contain %q", msg, part)
		}
	}
	if de.Error() != msg {
		t.Errorf("DenyError %q, want %q", de.Error(), msg)
	}
	// A name the expression decides quickly still matches normally.
	if d := rs.Decide(ctx, hba.Conn{Addr: c.Addr, User: "aa"}); d.Outcome != hba.Rejected || ruleLine(d.Rule) != 1 {
		t.Errorf("user aa: %v line %d, want reject at line 1", d.Outcome, ruleLine(d.Rule))
	}
	if d := rs.Decide(ctx, hba.Conn{Addr: c.Addr, User: "b"}); d.Outcome != hba.Matched || ruleLine(d.Rule) != 2 {
		t.Errorf("user b: %v line %d, want trust at line 2", d.Outcome, ruleLine(d.Rule))
	}
}

// TestRegexOverBudgetRefusesInIndexedFile is F1 in a file large enough to
// be indexed, with the expression in the database column and literal
// users: the database test comes first, so the rule refuses whatever the
// user (the index must not skip it under its user names).
func TestRegexOverBudgetRefusesInIndexedFile(t *testing.T) {
	t.Parallel()
	var conf strings.Builder
	for i := range 20 {
		fmt.Fprintf(&conf, "host db%d u%d 10.%d.0.0/16 md5\n", i, i, i)
	}
	conf.WriteString("host " + backrefBomb + " alice,carol 0.0.0.0/0 reject\n")
	for i := range 20 {
		fmt.Fprintf(&conf, "host all u%d 192.168.%d.0/24 md5\n", i, i)
	}
	conf.WriteString("host all all 0.0.0.0/0 trust\n")
	rs := loadV16(t, conf.String(), hba.Env{})
	ctx := context.Background()
	c := hba.Conn{Addr: netip.MustParseAddr("10.1.2.3"), User: "bob", Database: bombUser}
	d := rs.Decide(ctx, c)
	checkDecision(t, rs, ctx, c, d, hba.Unresolved, 21, hba.ReasonRegexTooComplex, withRef)
}

// TestFailClosedSourceTable covers, row by row, the table of the package
// documentation ("Server facts and outside sources"): for each outside
// source and each of its outcomes, the decision. Every row's file is the
// rule under test, a reject rule at line 1, then trust for everyone.
func TestFailClosedSourceTable(t *testing.T) {
	t.Parallel()
	const (
		client = "192.0.2.7"
		tail   = "host all all 0.0.0.0/0 trust\n"
	)
	hostRule := "host all all db.example.com reject\n" + tail
	sameNet := "host all all samenet reject\n" + tail
	roleRule := "host all +grp 0.0.0.0/0 reject\n" + tail
	regexRule := "host all " + backrefBomb + " 0.0.0.0/0 reject\n" + tail

	good := hba.HostTable{Reverse: map[string][]string{client: {"db.example.com"}},
		Forward: map[string][]string{"db.example.com": {client}}}
	wrongAddr := hba.HostTable{Reverse: map[string][]string{client: {"db.example.com"}},
		Forward: map[string][]string{"db.example.com": {"192.0.2.99"}}}
	noName := hba.HostTable{Forward: good.Forward}
	noAddr := hba.HostTable{Reverse: good.Reverse}
	failRev := scriptedResolver{rev: errors.New("server misbehaving")}
	timeoutRev := scriptedResolver{rev: &net.DNSError{Err: "i/o timeout", Name: client, IsTimeout: true}}
	failFwd := scriptedResolver{names: []string{"db.example.com"}, fwd: errors.New("server misbehaving")}
	timeoutFwd := scriptedResolver{names: []string{"db.example.com"}, fwd: &net.DNSError{Err: "i/o timeout", Name: "db.example.com", IsTimeout: true}}
	// A CachingResolver whose lookup runs out of its Timeout.
	slowRev := &hba.CachingResolver{Resolver: scriptedResolver{block: true}, Timeout: time.Millisecond}
	ifs := hba.StaticInterfaces{netip.MustParsePrefix("192.0.2.2/24")}
	otherIfs := hba.StaticInterfaces{netip.MustParsePrefix("10.0.0.1/8")}
	failIfs := hba.InterfacesFunc(func(context.Context) ([]netip.Prefix, error) { return nil, errors.New("netlink: permission denied") })
	timeoutIfs := hba.InterfacesFunc(func(context.Context) ([]netip.Prefix, error) { return nil, context.DeadlineExceeded })
	roles := hba.RoleGraph{"alice": {"grp"}, "bob": nil, "grp": nil}
	failRoles := hba.RolesFunc(func(context.Context, string, string) (bool, error) { return false, errors.New("catalog unavailable") })
	timeoutRoles := hba.RolesFunc(func(context.Context, string, string) (bool, error) { return false, context.DeadlineExceeded })

	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	type row struct {
		name   string
		conf   string
		env    hba.Env
		user   string
		ctx    context.Context
		want   hba.Outcome
		line   int
		reason hba.Reason
	}
	rows := []row{
		// Roles: the answer decides; a role that does not exist is no
		// member; an error or a timeout refuses, also with
		// FailuresDoNotMatch; no source refuses.
		{"roles/ok member", roleRule, hba.Env{Roles: roles}, "alice", nil, hba.Rejected, 1, 0},
		{"roles/ok not member", roleRule, hba.Env{Roles: roles}, "bob", nil, hba.Matched, 2, 0},
		{"roles/not found", roleRule, hba.Env{Roles: roles}, "ghost", nil, hba.Matched, 2, 0},
		{"roles/error", roleRule, hba.Env{Roles: failRoles}, "alice", nil, hba.Unresolved, 1, hba.ReasonRolesFailed},
		{"roles/error, FailuresDoNotMatch", roleRule, hba.Env{Roles: failRoles, FailuresDoNotMatch: true}, "alice", nil, hba.Unresolved, 1, hba.ReasonRolesFailed},
		{"roles/timeout", roleRule, hba.Env{Roles: timeoutRoles}, "alice", nil, hba.Unresolved, 1, hba.ReasonRolesFailed},
		{"roles/nil", roleRule, hba.Env{}, "alice", nil, hba.Unresolved, 1, hba.ReasonNoRoles},

		// Resolver, reverse lookup of the client address.
		{"reverse/ok", hostRule, hba.Env{Resolver: good}, "u", nil, hba.Rejected, 1, 0},
		{"reverse/not found", hostRule, hba.Env{Resolver: noName}, "u", nil, hba.Matched, 2, 0},
		{"reverse/error", hostRule, hba.Env{Resolver: failRev}, "u", nil, hba.Unresolved, 1, hba.ReasonResolverFailed},
		{"reverse/error, FailuresDoNotMatch", hostRule, hba.Env{Resolver: failRev, FailuresDoNotMatch: true}, "u", nil, hba.Matched, 2, 0},
		{"reverse/timeout", hostRule, hba.Env{Resolver: timeoutRev}, "u", nil, hba.Unresolved, 1, hba.ReasonResolverFailed},
		{"reverse/timeout, FailuresDoNotMatch", hostRule, hba.Env{Resolver: timeoutRev, FailuresDoNotMatch: true}, "u", nil, hba.Matched, 2, 0},
		{"reverse/CachingResolver timeout", hostRule, hba.Env{Resolver: slowRev}, "u", nil, hba.Unresolved, 1, hba.ReasonResolverFailed},
		{"reverse/caller canceled", hostRule, hba.Env{Resolver: good}, "u", canceled, hba.Unresolved, 1, hba.ReasonResolverCanceled},
		{"reverse/caller canceled, FailuresDoNotMatch", hostRule, hba.Env{Resolver: good, FailuresDoNotMatch: true}, "u", canceled, hba.Unresolved, 1, hba.ReasonResolverCanceled},
		{"reverse/nil", hostRule, hba.Env{}, "u", nil, hba.Unresolved, 1, hba.ReasonNoResolver},

		// Resolver, forward confirmation of the name.
		{"forward/ok other address", hostRule, hba.Env{Resolver: wrongAddr}, "u", nil, hba.Matched, 2, 0},
		{"forward/not found", hostRule, hba.Env{Resolver: noAddr}, "u", nil, hba.Matched, 2, 0},
		{"forward/error", hostRule, hba.Env{Resolver: failFwd}, "u", nil, hba.Unresolved, 1, hba.ReasonResolverFailed},
		{"forward/error, FailuresDoNotMatch", hostRule, hba.Env{Resolver: failFwd, FailuresDoNotMatch: true}, "u", nil, hba.Matched, 2, 0},
		{"forward/timeout", hostRule, hba.Env{Resolver: timeoutFwd}, "u", nil, hba.Unresolved, 1, hba.ReasonResolverFailed},
		{"forward/timeout, FailuresDoNotMatch", hostRule, hba.Env{Resolver: timeoutFwd, FailuresDoNotMatch: true}, "u", nil, hba.Matched, 2, 0},

		// Interfaces (samehost, samenet).
		{"interfaces/ok in network", sameNet, hba.Env{Interfaces: ifs}, "u", nil, hba.Rejected, 1, 0},
		{"interfaces/ok not in network", sameNet, hba.Env{Interfaces: otherIfs}, "u", nil, hba.Matched, 2, 0},
		{"interfaces/error", sameNet, hba.Env{Interfaces: failIfs}, "u", nil, hba.Unresolved, 1, hba.ReasonInterfacesFailed},
		{"interfaces/error, FailuresDoNotMatch", sameNet, hba.Env{Interfaces: failIfs, FailuresDoNotMatch: true}, "u", nil, hba.Matched, 2, 0},
		{"interfaces/timeout", sameNet, hba.Env{Interfaces: timeoutIfs}, "u", nil, hba.Unresolved, 1, hba.ReasonInterfacesFailed},
		{"interfaces/timeout, FailuresDoNotMatch", sameNet, hba.Env{Interfaces: timeoutIfs, FailuresDoNotMatch: true}, "u", nil, hba.Matched, 2, 0},

		// Regular expressions: the answer decides; a match over the
		// work bound refuses, also with FailuresDoNotMatch.
		{"regex/ok match", regexRule, hba.Env{}, "aaaa", nil, hba.Rejected, 1, 0},
		{"regex/ok no match", regexRule, hba.Env{}, "aab", nil, hba.Matched, 2, 0},
		{"regex/over the work bound", regexRule, hba.Env{FailuresDoNotMatch: true}, bombUser, nil, hba.Unresolved, 1, hba.ReasonRegexTooComplex},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			rs := loadV16(t, r.conf, r.env)
			ctx := r.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			c := hba.Conn{Addr: netip.MustParseAddr(client), User: r.user, Database: "db"}
			d := rs.Decide(ctx, c)
			checkDecision(t, rs, ctx, c, d, r.want, r.line, r.reason, withBoth)
			if r.want == hba.Unresolved && r.reason != hba.ReasonNoRoles && r.reason != hba.ReasonNoResolver && d.Err == nil {
				t.Errorf("Unresolved (%s) without the source's error", d.Reason)
			}
		})
	}
}

// TestSystemInterfacesWhenNil: a nil Env.Interfaces reads this machine's
// interfaces (the table's "nil source" cell for Interfaces).
func TestSystemInterfacesWhenNil(t *testing.T) {
	sys, err := hba.SystemInterfaces.InterfaceAddrs(context.Background())
	if err != nil {
		t.Skipf("this machine's interfaces cannot be listed: %v", err)
	}
	i := slices.IndexFunc(sys, func(p netip.Prefix) bool { return p.Addr().Is4() })
	if i < 0 {
		t.Skip("no IPv4 interface address")
	}
	rs := loadV16(t, "host all all samehost reject\nhost all all 0.0.0.0/0 trust\n", hba.Env{})
	ctx := context.Background()
	c := hba.Conn{Addr: sys[i].Addr(), User: "u"}
	checkDecision(t, rs, ctx, c, rs.Decide(ctx, c), hba.Rejected, 1, 0, withBoth)
}

// scriptedResolver fails or blocks as told: rev is the reverse lookup's
// error (else names); fwd the forward lookup's error (else not found);
// block waits for the lookup's context to end.
type scriptedResolver struct {
	names    []string
	rev, fwd error
	block    bool
}

func (s scriptedResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if s.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if s.rev != nil {
		return nil, s.rev
	}
	return s.names, nil
}

func (s scriptedResolver) LookupNetIP(ctx context.Context, _, host string) ([]netip.Addr, error) {
	if s.fwd != nil {
		return nil, s.fwd
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestNilRulesetRefuses is issue 12's F17: every way of matching with a
// nil *Ruleset refuses as a zero Holder does, and none panics.
func TestNilRulesetRefuses(t *testing.T) {
	var rs *hba.Ruleset
	var h hba.Holder
	ctx := context.Background()
	c := hba.Conn{Addr: netip.MustParseAddr("10.1.2.3"), User: "u", Database: "db"}
	_, herr := h.MatchContext(ctx, c)

	if d := rs.Decide(ctx, c); d.Outcome != hba.NoMatch || d.Rule != nil {
		t.Errorf("Decide: %v %v, want no-match without a rule", d.Outcome, d.Rule)
	}
	for name, match := range map[string]func() (*hba.Rule, error){
		"Match":        func() (*hba.Rule, error) { return rs.Match(c) },
		"MatchContext": func() (*hba.Rule, error) { return rs.MatchContext(ctx, c) },
	} {
		rule, err := match()
		if rule != nil || !errors.Is(err, hba.ErrNoEntry) || err.Error() != herr.Error() {
			t.Errorf("%s: %v, %v; want nil and the zero Holder's %v", name, rule, err, herr)
		}
	}
	tr := rs.Explain(ctx, c)
	if tr.Decision.Outcome != hba.NoMatch || tr.Decision.Rule != nil || len(tr.Misses) != 0 || tr.Message != herr.Error() {
		t.Errorf("Explain: %+v, want no-match with message %q", tr, herr.Error())
	}
	if m := rs.Message(hba.Decision{}, c); m != herr.Error() {
		t.Errorf("Message: %q, want %q", m, herr.Error())
	}
}

// TestExposureRegexOverBudgetIsNotCertain: Exposure never counts a regular
// expression it cannot evaluate on a name as matching that name, so a later
// rule for that name is still shown (an over-estimate: Decide refuses the
// connection at the expression's rule), never hidden.
func TestExposureRegexOverBudgetIsNotCertain(t *testing.T) {
	t.Parallel()
	conf := "host all " + backrefBomb + " 0.0.0.0/0 reject\nhost all " + bombUser + ",aa 0.0.0.0/0 trust\n"
	f := (&hba.Parser{Version: 16}).ParseBytes("/x/pg_hba.conf", []byte(conf))
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	var trustUsers []string
	for _, row := range audit.Exposure(f, audit.ExposureOptions{}) {
		if row.Method == hba.Trust {
			trustUsers = append(trustUsers, row.Users.Tokens...)
		}
	}
	// aa is certainly matched by line 1 (reject); bombUser is not known.
	if !slices.Contains(trustUsers, bombUser) || slices.Contains(trustUsers, "aa") {
		t.Errorf("trust reaches users %q; want %s (undecidable at line 1) and not aa (rejected at line 1)", trustUsers, bombUser)
	}
}
