package hba

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/pghba/pghba/internal/testkit"
)

// The SEMANTICS.md §10.8 vectors, each a test named by its id, and table
// tests of the user name map check.
//
// An identVector gives pg_ident.conf (and any other files) placed at "/",
// the versions it holds for, the expected load errors as "L<line>: <text>",
// and checks. Each check runs through the hba rule "local all all peer
// map=m" (or the vector's own hba line) with CheckRule, so the map= plumbing
// is exercised as well.

type identVector struct {
	id     string
	vers   string
	files  map[string]string // "pg_ident.conf" is the main file
	hba    string            // default "local all all peer map=m"
	ci     bool              // IdentOptions.CaseInsensitive (krb_caseins_users)
	errs   []string
	view   []string // ViewRows formatted by viewString, for 16+
	view15 []string // the same for 15
	check  []identCheck
}

type identCheck struct {
	sys, pg string
	// want is "allowed L<n>", "allowed" (no line: map=), "no-match",
	// "error L<n>", "unresolved L<n>", optionally followed by " | message".
	want string
}

var identFixture = fixture

func runIdentVector(t *testing.T, v identVector) {
	t.Helper()
	vs := versions(v.vers)
	if len(vs) == 0 {
		t.Fatalf("no versions for %q", v.vers)
	}
	for _, ver := range vs {
		t.Run(fmt.Sprintf("v%d", ver), func(t *testing.T) {
			p := &Parser{Version: ver, FS: vectorFS(v.files), Env: Env{Roles: identFixture}}
			f, err := p.ParseIdentFile("pg_ident.conf")
			if err != nil {
				t.Fatalf("ParseIdentFile: %v", err)
			}
			var got []string
			for _, e := range f.Errors {
				got = append(got, identErrString(e))
			}
			if strings.Join(got, "\n") != strings.Join(v.errs, "\n") {
				t.Errorf("errors:\n got %q\nwant %q", got, v.errs)
			}
			want := v.view
			if ver == 15 {
				want = v.view15
			}
			if want != nil && ver >= 15 {
				var rows []string
				for _, r := range f.ViewRows() {
					rows = append(rows, viewString(r, ver))
				}
				if strings.Join(rows, "\n") != strings.Join(want, "\n") {
					t.Errorf("view:\n got %q\nwant %q", rows, want)
				}
			}
			maps, err := p.CompileIdent(f)
			if (err != nil) != (len(v.errs) > 0) {
				t.Fatalf("CompileIdent error = %v, want errors %q", err, v.errs)
			}
			if err != nil && maps != nil {
				t.Fatalf("CompileIdent returned maps with an error")
			}
			hbaLine := v.hba
			if hbaLine == "" {
				hbaLine = "local all all peer map=m"
			}
			hf := (&Parser{Version: ver}).ParseBytes("/pg_hba.conf", []byte(hbaLine+"\n"))
			if len(hf.Errors) > 0 || len(hf.Rules) != 1 {
				t.Fatalf("hba line %q: %v", hbaLine, hf.Errors)
			}
			rule := hf.Rules[0]
			for _, c := range v.check {
				res := maps.CheckRule(context.Background(), rule, c.sys, c.pg, IdentOptions{CaseInsensitive: v.ci})
				want, msg, hasMsg := strings.Cut(c.want, " | ")
				if g := resultString(&res); g != want {
					t.Errorf("%s → %s: got %s (%s), want %s", c.sys, c.pg, g, res.Message, want)
				}
				if hasMsg && res.Message != msg {
					t.Errorf("%s → %s: message\n got %q\nwant %q", c.sys, c.pg, res.Message, msg)
				}
				if res.Allowed != (res.Outcome == IdentAllowed) {
					t.Errorf("Allowed = %v with outcome %v", res.Allowed, res.Outcome)
				}
				if res.Allowed && res.Message != "" {
					t.Errorf("allowed with message %q", res.Message)
				}
				if !res.Allowed && res.Message == "" {
					t.Errorf("%s → %s refused without a message", c.sys, c.pg)
				}
			}
		})
	}
}

func identErrString(e *Error) string {
	s := "L" + itoa(e.Pos.Line) + ": " + e.Msg
	if name := strings.TrimPrefix(e.Pos.Filename, "/"); name != "pg_ident.conf" {
		s = name + ":" + s
	}
	return s
}

func resultString(r *IdentResult) string {
	s := r.Outcome.String()
	if r.Line != nil {
		s += " L" + itoa(r.Line.Pos.Line)
		if name := strings.TrimPrefix(r.Line.Pos.Filename, "/"); name != "pg_ident.conf" {
			s += " " + name
		}
	}
	return s
}

// viewString renders a row as psql's unaligned output would, with NULL as
// "∅", in the version's column set.
func viewString(r IdentViewRow, ver int) string {
	null := func(ok bool, s string) string {
		if !ok {
			return "∅"
		}
		return s
	}
	ok := r.Error == ""
	cols := []string{itoa(r.LineNumber), null(ok, r.MapName), null(ok, r.SysName), null(ok, r.PGUsername), null(!ok, r.Error)}
	if ver >= 16 {
		cols = append([]string{null(ok, itoa(r.MapNumber)), r.FileName}, cols...)
	}
	return strings.Join(cols, "|")
}

func ident(s string) map[string]string { return map[string]string{"pg_ident.conf": s} }

// identVectors are the §10.8 vectors run by TestVectors (vectors_test.go), each a subtest
// named by its id.
var identVectors = []vectorTest[identVector]{
	{id: "I01", vectors: []identVector{
		{vers: "all", files: ident("m root alice\n"), check: []identCheck{
			{"root", "alice", "allowed L1"},
			{"root", "bob", `no-match | no match in usermap "m" for user "bob" authenticated as "root"`},
		}},
	}},
	{id: "I02", vectors: []identVector{
		{vers: "13-15", files: ident("m root all\n"), check: []identCheck{
			{"root", "alice", "no-match"},
			{"root", "all", "allowed L1"},
		}},
	}},
	{id: "I03", vectors: []identVector{
		{vers: "16+", files: ident("m root all\n"), check: []identCheck{
			{"root", "alice", "allowed L1"},
			{"root", "ghost", "allowed L1"},
			{"toor", "alice", "no-match"},
		}},
	}},
	{id: "I04", vectors: []identVector{
		{vers: "16+", files: ident("m root \"all\"\n"), check: []identCheck{
			{"root", "alice", "no-match"},
			{"root", "all", "allowed L1"},
		}},
	}},
	{id: "I05", vectors: []identVector{
		{vers: "13-15", files: ident("m root +grp\n"), check: []identCheck{
			{"root", "bob", "no-match"},
			{"root", "+grp", "allowed L1"},
		}},
	}},
	{id: "I06", vectors: []identVector{
		{vers: "16+", files: ident("m root +grp\n"), check: []identCheck{
			{"root", "bob", "allowed L1"},
			{"root", "dave", "allowed L1"},
			{"root", "noinh", "allowed L1"},
			{"root", "carol", "no-match"},
			{"root", "alice", "no-match"},
			{"root", "+grp", "no-match"},
			{"root", "grp", "allowed L1"},
		}},
	}},
	{id: "I07", vectors: []identVector{
		{vers: "16+", files: ident("m root \"+grp\"\n"), check: []identCheck{
			{"root", "bob", "no-match"},
			{"root", "+grp", "allowed L1"},
		}},
	}},
	{id: "I08", check: func(t *testing.T) {
		runIdentVector(t, identVector{vers: "16+", files: ident("m root /^a\n"), check: []identCheck{
			{"root", "alice", "allowed L1"},
			{"root", "Alice", "no-match"},
			{"root", "bob", "no-match"},
		}})
		// 13–15: /^a is the literal name.
		runIdentVector(t, identVector{vers: "13-15", files: ident("m root /^a\n"), check: []identCheck{
			{"root", "alice", "no-match"},
			{"root", "/^a", "allowed L1"},
		}})
	}},
	{id: "I09", vectors: []identVector{
		{vers: "all", files: ident("m /^r(.*)$ b\\1\n"), check: []identCheck{
			{"root", "boot", "allowed L1"},
			{"root", "bob", "no-match"},
		}},
	}},
	{id: "I10", vectors: []identVector{
		{vers: "all", files: ident("m /^(r)(o)ot$ \\1\\1x\n"), check: []identCheck{
			{"root", "rrx", "no-match"},
			{"root", "r\\1x", "allowed L1"},
		}},
	}},
	{id: "I11", vectors: []identVector{
		{vers: "all", files: ident("m /^root$ \\1x\nm root alice\n"), check: []identCheck{
			{"root", "alice", `error L1 | regular expression "^root$" has no subexpressions as requested by backreference in "\1x"`},
			// A system user the regex does not match reaches line 2.
			{"root2", "alice", "no-match"},
		}},
	}},
	{id: "I12", vectors: []identVector{
		{vers: "all", files: ident("m /oo alice\n"), check: []identCheck{
			{"root", "alice", "allowed L1"},
			{"rot", "alice", "no-match"},
		}},
	}},
	{id: "I13", vectors: []identVector{
		{vers: "all", files: ident("m ROOT alice\n"), check: []identCheck{
			{"root", "alice", "no-match"},
			{"ROOT", "alice", "allowed L1"},
		}},
	}},
	{id: "I14", vectors: []identVector{
		{vers: "all", files: ident("m / alice\n"), check: []identCheck{
			{"root", "alice", "allowed L1"},
			{"", "alice", "allowed L1"},
		}},
	}},
	{id: "I15", vectors: []identVector{
		{vers: "16+", files: ident("m /^(r)oot$ \"\\1oo\\1\"\n"), check: []identCheck{
			{"root", "roo\\1", "allowed L1"},
			{"root", "roor", "no-match"},
			{"root", "\\1oo\\1", "no-match"},
		}},
	}},
	{id: "I16", check: func(t *testing.T) {
		runIdentVector(t, identVector{vers: "16+", files: ident("m /^(.*)$ +\\1\n"), check: []identCheck{
			{"root", "alice", "no-match"},
			{"grp", "bob", "no-match"},
		}})
		// The role literally named \1 is what is tested.
		saved := identFixture
		identFixture = RoleGraph{"alice": {`\1`}, `\1`: nil}
		defer func() { identFixture = saved }()
		runIdentVector(t, identVector{vers: "16+", files: ident("m /^(.*)$ +\\1\n"), check: []identCheck{
			{"root", "alice", "allowed L1"},
		}})
	}},
	{id: "I17", vectors: []identVector{
		{vers: "all", files: ident("m root alice bob carol\n"),
			view:   []string{"1|/pg_ident.conf|1|m|root|alice|∅"},
			view15: []string{"1|m|root|alice|∅"},
			check: []identCheck{
				{"root", "alice", "allowed L1"},
				{"root", "bob", "no-match"},
				{"root", "carol", "no-match"},
			}},
	}},
	{id: "I18", vectors: []identVector{
		{vers: "16+",
			files: map[string]string{"pg_ident.conf": "include inc.conf\n", "inc.conf": "m root alice\n"},
			view:  []string{"1|/inc.conf|1|m|root|alice|∅"},
			check: []identCheck{
				{"root", "alice", "allowed L1 inc.conf"},
				{"root", "bob", "no-match"},
			}},
	}},
	{id: "I19", vectors: []identVector{
		{vers: "16+", files: ident("include inc.conf x\n"),
			hba:  "local all all peer map=include",
			view: []string{"1|/pg_ident.conf|1|include|inc.conf|x|∅"},
			check: []identCheck{
				{"inc.conf", "x", "allowed L1"},
				{"root", "x", "no-match"},
			}},
	}},
	{id: "I20", vectors: []identVector{
		{vers: "13-15", files: ident("include foo.conf\n"),
			errs:   []string{"L1: missing entry at end of line"},
			view15: []string{"1|∅|∅|∅|missing entry at end of line"},
			check: []identCheck{
				// A failed load leaves the empty map set: every map check fails.
				{"root", "alice", `no-match | no match in usermap "m" for user "alice" authenticated as "root"`},
			}},
	}},
	{id: "I21", vectors: []identVector{
		{vers: "all", files: ident("m\nm a\nm a b,c\nm /( b\n"),
			errs: []string{
				"L1: missing entry at end of line",
				"L2: missing entry at end of line",
				"L3: multiple values in ident field",
				`L4: invalid regular expression "(": parentheses () not balanced`,
			},
			view: []string{
				"∅|/pg_ident.conf|1|∅|∅|∅|missing entry at end of line",
				"∅|/pg_ident.conf|2|∅|∅|∅|missing entry at end of line",
				"∅|/pg_ident.conf|3|∅|∅|∅|multiple values in ident field",
				`∅|/pg_ident.conf|4|∅|∅|∅|invalid regular expression "(": parentheses () not balanced`,
			},
			view15: []string{
				"1|∅|∅|∅|missing entry at end of line",
				"2|∅|∅|∅|missing entry at end of line",
				"3|∅|∅|∅|multiple values in ident field",
				`4|∅|∅|∅|invalid regular expression "(": parentheses () not balanced`,
			},
			check: []identCheck{{"a", "b", "no-match"}}},
	}},
	{id: "I22", check: func(t *testing.T) {
		runIdentVector(t, identVector{vers: "16+", files: ident("m a /(\n"),
			errs: []string{`L1: invalid regular expression "(": parentheses () not balanced`}})
		// 13–15 read the database user as a literal name.
		runIdentVector(t, identVector{vers: "13-15", files: ident("m a /(\n"), hba: "local all all peer map=m",
			check: []identCheck{{"a", "/(", "allowed L1"}}})
	}},
	{id: "I23", vectors: []identVector{
		{vers: "all", files: ident(""), check: []identCheck{
			{"root", "root", `no-match | no match in usermap "m" for user "root" authenticated as "root"`},
		}},
		{vers: "all", files: ident("# only a comment\n\n  \n"), check: []identCheck{
			{"root", "root", "no-match"},
		}},
	}},
	{id: "I24", check: func(t *testing.T) {
		runIdentVector(t, identVector{vers: "all", files: ident("m root alice\n"), hba: "local all all peer map=",
			check: []identCheck{
				{"root", "root", "allowed"},
				{"root", "alice", "no-match | provided user name (alice) and authenticated user name (root) do not match"},
				{"root", "Root", "no-match"},
			}})
		// Without the option at all, the same.
		runIdentVector(t, identVector{vers: "all", files: ident(""), hba: "local all all peer",
			check: []identCheck{
				{"root", "root", "allowed"},
				{"root", "alice", "no-match | provided user name (alice) and authenticated user name (root) do not match"},
			}})
	}},
	{id: "I25", vectors: []identVector{
		{vers: "all", files: ident("m ALICE@REALM alice\n"), hba: "host all all 0.0.0.0/0 gss map=m", ci: true,
			check: []identCheck{
				{"alice@realm", "alice", "allowed L1"},
				{"alice@realm", "ALICE", "allowed L1"},
				{"bob@realm", "alice", "no-match"},
			}},
		{vers: "all", files: ident("m ALICE@REALM alice\n"), hba: "host all all 0.0.0.0/0 gss map=m",
			check: []identCheck{{"alice@realm", "alice", "no-match"}}},
	}},
}

// TestIdentCaptures checks \1 with PostgreSQL's capture rules (ARE), where
// they differ from RE2's leftmost-first ones.
func TestIdentCaptures(t *testing.T) {
	tests := []struct {
		name, re, sys, pg string
		allowed           bool
	}{
		{"user@domain", `^(.*)@(.*)$`, "alice@example.com", "alice", true},
		{"user@domain greedy", `^(.*)@(.*)$`, "a@b@c", "a@b", true},
		{"user@domain not first @", `^(.*)@(.*)$`, "a@b@c", "a", false},
		{"non-greedy", `^(.*?)@`, "a@b@c", "a", true},
		{"alternation longest", `^(a|ab)(c|bcd)(d*)$`, "abcd", "ab", true},
		{"alternation RE2 answer", `^(a|ab)(c|bcd)(d*)$`, "abcd", "a", false},
		{"unanchored leftmost", `(o+)`, "foooo", "oooo", true},
		{"group did not participate", `^(x)?root$`, "root", "", false},
		{"domain backslash", `^DOM\\(.*)$`, `DOM\jim`, "jim", true},
		{"class escape", `^(\w+)-\d+$`, "svc-42", "svc", true},
		{"bytes not runes", `^(.)`, "\xc3\xa9t\xc3\xa9", "\xc3", true},
		// Checked through peer authentication on PostgreSQL 15 (system user root).
		{"alternation first", `^(ro|r)(o|ot)t?$`, "root", "ro", true},
		{"empty capture", `(o*)`, "root", "", true},
		{"empty capture not the later run", `(o*)`, "root", "oo", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ver := range []int{13, 15, 16, 18} {
				p := &Parser{Version: ver}
				m, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m \"/"+tt.re+"\" \"\\1\"\n"))
				if err != nil {
					t.Fatal(err)
				}
				res := m.Check(context.Background(), "m", tt.sys, tt.pg, IdentOptions{})
				if res.Allowed != tt.allowed {
					t.Errorf("v%d: %q → %q: allowed = %v, want %v (%s)", ver, tt.sys, tt.pg, res.Allowed, tt.allowed, res.Message)
				}
			}
		})
	}
}

func TestIdentNoSubexpression(t *testing.T) {
	// A group that exists but did not take part counts as missing.
	m := mustIdent(t, 18, "m /^(x)?root$ \\1\nm root root\n")
	res := m.Check(context.Background(), "m", "root", "root", IdentOptions{})
	if res.Outcome != IdentError || res.Line == nil || res.Line.Pos.Line != 1 {
		t.Fatalf("got %s, want error on line 1", resultString(&res))
	}
	want := `regular expression "^(x)?root$" has no subexpressions as requested by backreference in "\1"`
	if res.Message != want {
		t.Errorf("message %q, want %q", res.Message, want)
	}
	// 16+: no substitution (so no error) for +role and regex database users.
	// (A \1 inside a database-user regex is the regex's own back-reference.)
	m = mustIdent(t, 18, "m /^root$ +\\1\nm root root\n")
	res = m.WithRoles(RoleGraph{}).Check(context.Background(), "m", "root", "root", IdentOptions{})
	if !res.Allowed || res.Line.Pos.Line != 2 {
		t.Errorf("got %s, want allowed on line 2", resultString(&res))
	}
	// 13–15 substitute into those too, and fail.
	m = mustIdent(t, 15, "m /^root$ +\\1\nm root root\n")
	res = m.Check(context.Background(), "m", "root", "root", IdentOptions{})
	if res.Outcome != IdentError {
		t.Errorf("v15: got %s, want error", resultString(&res))
	}
}

func TestIdentNonParticipatingAlternative(t *testing.T) {
	// The leftmost match of o(o*)|(r) in root is "r", by the second branch:
	// group 1 did not take part, an error (PostgreSQL 15, peer as root).
	for _, ver := range []int{15, 18} {
		m := mustIdent(t, ver, "m /o(o*)|(r) \\1\nm root o\n")
		res := m.Check(context.Background(), "m", "root", "o", IdentOptions{})
		if res.Outcome != IdentError {
			t.Errorf("v%d: got %s", ver, resultString(&res))
		}
	}
}

func TestIdentSubstitutedKeyword(t *testing.T) {
	// The substituted name is a literal, never the keyword all.
	m := mustIdent(t, 18, "m /^(a)(ll)$ \\1ll\n")
	if res := m.Check(context.Background(), "m", "all", "alice", IdentOptions{}); res.Allowed {
		t.Errorf("substituted all acted as the keyword")
	}
	if res := m.Check(context.Background(), "m", "all", "all", IdentOptions{}); !res.Allowed {
		t.Errorf("substituted all does not match the name all: %s", res.Message)
	}
}

func TestIdentCaseInsensitive(t *testing.T) {
	ctx := context.Background()
	ci := IdentOptions{CaseInsensitive: true}
	m := mustIdent(t, 18, "m Root Alice\nr /^root$ alice\np root /^alice$\nq /^(ROOT)$ \\1\n")
	tests := []struct {
		mapName, sys, pg string
		opts             IdentOptions
		allowed          bool
	}{
		{"m", "root", "alice", ci, true},
		{"m", "root", "alice", IdentOptions{}, false},
		{"m", "ROOT", "ALICE", ci, true},
		{"r", "ROOT", "alice", ci, false}, // regexes stay case-sensitive
		{"r", "root", "ALICE", ci, true},
		{"p", "ROOT", "ALICE", ci, false}, // database-user regex too (16+)
		{"p", "ROOT", "alice", ci, true},
		{"q", "ROOT", "root", ci, true},   // the substituted name compares case-insensitively
		{"M", "root", "alice", ci, false}, // map names are case-sensitive
		{"", "Alice", "alice", ci, true},
		{"", "Alice", "alice", IdentOptions{}, false},
		{"", "\xc9", "\xe9", ci, false}, // ASCII only
	}
	for _, tt := range tests {
		res := m.Check(ctx, tt.mapName, tt.sys, tt.pg, tt.opts)
		if res.Allowed != tt.allowed {
			t.Errorf("Check(%q, %q, %q, ci=%v) = %v (%s), want %v", tt.mapName, tt.sys, tt.pg, tt.opts.CaseInsensitive, res.Allowed, res.Message, tt.allowed)
		}
	}
}

func TestIdentRoles(t *testing.T) {
	ctx := context.Background()
	p := &Parser{Version: 16}
	m, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m root +grp\nm root alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	// No role source: fail closed on the +grp line, even though line 2
	// would allow alice.
	res := m.Check(ctx, "m", "root", "alice", IdentOptions{})
	if res.Outcome != IdentUnresolved || res.Allowed || res.Reason != ReasonNoRoles || res.Line.Pos.Line != 1 {
		t.Errorf("no roles: got %s reason %v", resultString(&res), res.Reason)
	}
	if !strings.Contains(res.Message, "no role source") {
		t.Errorf("message %q does not explain", res.Message)
	}
	// A failing source.
	boom := errors.New("boom")
	res = m.Check(ctx, "m", "root", "alice", IdentOptions{Roles: RolesFunc(func(context.Context, string, string) (bool, error) { return false, boom })})
	if res.Outcome != IdentUnresolved || res.Reason != ReasonRolesFailed || !errors.Is(res.Err, boom) {
		t.Errorf("failing roles: got %s %v %v", resultString(&res), res.Reason, res.Err)
	}
	// The source gets the context, the database user and the group.
	type key struct{}
	ctx = context.WithValue(ctx, key{}, "v")
	var gotRole, gotGroup string
	res = m.Check(ctx, "m", "root", "bob", IdentOptions{Roles: RolesFunc(func(c context.Context, role, group string) (bool, error) {
		if c.Value(key{}) != "v" {
			t.Errorf("context not passed")
		}
		gotRole, gotGroup = role, group
		return true, nil
	})})
	if !res.Allowed || gotRole != "bob" || gotGroup != "grp" {
		t.Errorf("got %s, IsMember(%q, %q)", resultString(&res), gotRole, gotGroup)
	}
	// Parser.Env.Roles is the default source.
	p.Env.Roles = fixture
	m, _ = p.LoadIdentBytes("/pg_ident.conf", []byte("m root +grp\n"))
	if res := m.Check(ctx, "m", "root", "dave", IdentOptions{}); !res.Allowed {
		t.Errorf("Env.Roles not used: %s", res.Message)
	}
	// 13–15 never ask.
	p = &Parser{Version: 15}
	m, _ = p.LoadIdentBytes("/pg_ident.conf", []byte("m root +grp\nm root alice\n"))
	if res := m.Check(ctx, "m", "root", "alice", IdentOptions{}); !res.Allowed || res.Line.Pos.Line != 2 {
		t.Errorf("v15: got %s", resultString(&res))
	}
}

func TestIdentNilMaps(t *testing.T) {
	var m *IdentMaps
	ctx := context.Background()
	if res := m.Check(ctx, "m", "root", "root", IdentOptions{}); res.Allowed || res.Outcome != IdentNoMatch {
		t.Errorf("nil maps allowed a map check: %s", resultString(&res))
	}
	if res := m.Check(ctx, "", "root", "root", IdentOptions{}); !res.Allowed {
		t.Errorf("nil maps refused map=: %s", res.Message)
	}
	if m.Has("m") || m.Names() != nil || m.mappingList() != nil || m.Path() != "" || m.Version() != 0 || m.WithRoles(fixture) != nil {
		t.Errorf("nil maps accessors")
	}
}

func TestIdentTruncatesPGUser(t *testing.T) {
	long := strings.Repeat("a", 70)
	m := mustIdent(t, 18, "m root "+long[:63]+"\n")
	res := m.Check(context.Background(), "m", "root", long, IdentOptions{})
	if !res.Allowed || res.PGUser != long[:63] {
		t.Errorf("got %s, PGUser %d bytes", resultString(&res), len(res.PGUser))
	}
}

func TestIdentLoadErrors(t *testing.T) {
	// The 13–15 log text of a missing entry names the file and line.
	f := (&Parser{Version: 14}).ParseIdentBytes("/data/pg_ident.conf", []byte("\n\nm root\n"))
	if len(f.Errors) != 1 {
		t.Fatalf("errors %v", f.Errors)
	}
	e := f.Errors[0]
	if e.Msg != "missing entry at end of line" || e.LogText() != `missing entry in file "/data/pg_ident.conf" at end of line 3` || !errors.Is(e, ErrIdent) {
		t.Errorf("got %q / %q", e.Msg, e.LogText())
	}
	f = (&Parser{Version: 16}).ParseIdentBytes("/data/pg_ident.conf", []byte("m root\n"))
	if e := f.Errors[0]; e.LogText() != "missing entry at end of line" {
		t.Errorf("16: log text %q", e.LogText())
	}
	// Multiple values: checked field by field, before missing fields.
	for _, tc := range []struct{ in, want string }{
		{"m,n root alice", "multiple values in ident field"},
		{"m a,b", "multiple values in ident field"},
		{"m a b,c d", "multiple values in ident field"},
		{"m a b c,d", ""},
		{"m /a,b c", "multiple values in ident field"},
		{"\"m a\" b c", ""},
	} {
		f := (&Parser{}).ParseIdentBytes("/pg_ident.conf", []byte(tc.in+"\n"))
		got := ""
		if len(f.Errors) > 0 {
			got = f.Errors[0].Msg
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	// The load fails as a whole, with every error listed.
	_, err := (&Parser{}).LoadIdentBytes("/pg_ident.conf", []byte("m\nok root root\nm /[ x\n"))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 || !errors.Is(err, ErrRegex) || !errors.Is(err, ErrIdent) {
		t.Errorf("LoadIdentBytes error %v", err)
	}
}

func TestIdentFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"conf/pg_ident.conf": {Data: []byte("m @users.txt alice\n@maps.txt root bob\n")},
		"conf/users.txt":     {Data: []byte("# system users\nroot\n")},
		"conf/maps.txt":      {Data: []byte("n\n")},
	}
	for _, ver := range []int{13, 18} {
		p := &Parser{Version: ver, FS: fsys}
		m, err := p.LoadIdent("conf/pg_ident.conf")
		if err != nil {
			t.Fatalf("v%d: %v", ver, err)
		}
		if !m.Check(context.Background(), "m", "root", "alice", IdentOptions{}).Allowed ||
			!m.Check(context.Background(), "n", "root", "bob", IdentOptions{}).Allowed {
			t.Errorf("v%d: @files not expanded", ver)
		}
		if got := strings.Join(m.Names(), ","); got != "m,n" || !m.Has("n") || m.Has("x") {
			t.Errorf("v%d: names %q", ver, got)
		}
		if m.Path() != "/conf/pg_ident.conf" || m.Version() != ver {
			t.Errorf("v%d: path %q version %d", ver, m.Path(), m.Version())
		}
	}
	// An @file whose tokens form a list in one field: multiple values.
	fsys["conf/two.txt"] = &fstest.MapFile{Data: []byte("a b\n")}
	fsys["conf/pg_ident.conf"] = &fstest.MapFile{Data: []byte("m @two.txt alice\n")}
	if _, err := (&Parser{FS: fsys}).LoadIdent("conf/pg_ident.conf"); err == nil || !strings.Contains(err.Error(), "multiple values in ident field") {
		t.Errorf("@file list: %v", err)
	}
	// A missing @file.
	fsys["conf/pg_ident.conf"] = &fstest.MapFile{Data: []byte("m @nope alice\n")}
	for ver, want := range map[int]string{
		15: `could not open secondary authentication file "@nope" as "/conf/nope": No such file or directory`,
		16: `could not open file "/conf/nope": No such file or directory`,
	} {
		f, _ := (&Parser{Version: ver, FS: fsys}).ParseIdentFile("conf/pg_ident.conf")
		if len(f.Errors) != 1 || f.Errors[0].Msg != want {
			t.Errorf("v%d: %v", ver, f.Errors)
		}
	}
}

func TestIdentMainFileMissing(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "pg_ident.conf")
	for ver, want := range map[int]string{
		15: `could not open usermap file "` + name + `": No such file or directory`,
		16: `could not open file "` + name + `": No such file or directory`,
	} {
		p := &Parser{Version: ver}
		m, err := p.LoadIdent(name)
		var e *Error
		if m != nil || !errors.As(err, &e) || e.Msg != want || !errors.Is(err, ErrFile) {
			t.Errorf("v%d: %v", ver, err)
		}
	}
	if err := os.WriteFile(name, []byte("m root alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := LoadIdent(name)
	if err != nil || !m.Has("m") || m.Version() != DefaultVersion {
		t.Errorf("LoadIdent: %v", err)
	}
}

func TestIdentViewRows(t *testing.T) {
	fsys := fstest.MapFS{
		"pg_ident.conf": {Data: []byte("a x y\nbad\ninclude_dir conf.d\n\"quoted map\" \"/^(.*)$\" \"all\" extra\ninclude missing.conf\n")},
		"conf.d/1.conf": {Data: []byte("b x y\n")},
	}
	f, err := (&Parser{Version: 17, FS: fsys}).ParseIdentFile("pg_ident.conf")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range f.ViewRows() {
		got = append(got, viewString(r, 17))
	}
	want := []string{
		"1|/pg_ident.conf|1|a|x|y|∅",
		"∅|/pg_ident.conf|2|∅|∅|∅|missing entry at end of line",
		"2|/conf.d/1.conf|1|b|x|y|∅",
		"3|/pg_ident.conf|4|quoted map|/^(.*)$|all|∅",
		`∅|/pg_ident.conf|5|∅|∅|∅|could not open file "/missing.conf": No such file or directory`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l := f.Lines[3].Mapping; l == nil || !l.SystemUser.Quoted || !l.systemUserRegex() || l.pgUserRegex() || !l.PGUser.Quoted {
		t.Errorf("line 4 mapping %+v", l)
	}
	if len(f.Mappings) != 3 || f.Mappings[2].Number != 3 || len(f.Lines[2].IncludedFrom) != 1 {
		t.Errorf("mappings %d", len(f.Mappings))
	}
}

func TestGSSSystemUser(t *testing.T) {
	tests := []struct {
		principal    string
		includeRealm bool
		krbRealm     string
		ci           bool
		want, err    string
	}{
		{"alice@EXAMPLE.COM", true, "", false, "alice@EXAMPLE.COM", ""},
		{"alice@EXAMPLE.COM", false, "", false, "alice", ""},
		{"alice/admin@EXAMPLE.COM", false, "", false, "alice/admin", ""},
		{"alice@EXAMPLE.COM@X", false, "", false, "alice", ""},
		{"alice@EXAMPLE.COM", false, "EXAMPLE.COM", false, "alice", ""},
		{"alice@example.com", false, "EXAMPLE.COM", false, "", "GSSAPI realm (example.com) and configured realm (EXAMPLE.COM) don't match"},
		{"alice@example.com", true, "EXAMPLE.COM", true, "alice@example.com", ""},
		{"alice", true, "", false, "alice", ""},
		{"alice", true, "EXAMPLE.COM", false, "", "GSSAPI did not return realm but realm matching was requested"},
	}
	for _, tt := range tests {
		got, err := GSSSystemUser(tt.principal, tt.includeRealm, tt.krbRealm, tt.ci)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || gotErr != tt.err {
			t.Errorf("GSSSystemUser(%q, %v, %q, %v) = %q, %q; want %q, %q", tt.principal, tt.includeRealm, tt.krbRealm, tt.ci, got, gotErr, tt.want, tt.err)
		}
	}
	if got, err := SSPISystemUser("jim", "CORP", true, "corp"); got != "jim@CORP" || err != nil {
		t.Errorf("SSPISystemUser = %q, %v", got, err)
	}
	if got, err := SSPISystemUser("jim", "CORP", false, ""); got != "jim" || err != nil {
		t.Errorf("SSPISystemUser = %q, %v", got, err)
	}
	if _, err := SSPISystemUser("jim", "CORP", true, "OTHER"); err == nil || err.Error() != "SSPI domain (CORP) and configured domain (OTHER) don't match" {
		t.Errorf("SSPISystemUser mismatch: %v", err)
	}
}

func TestIdentCheckRule(t *testing.T) {
	ctx := context.Background()
	p := &Parser{Version: 18, SSL: true, Features: AllFeatures, OAuthValidatorLibraries: "v"}
	m, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m alice alice\nm alice@REALM alice\nm jim@CORP jim\nm CN=alice alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	rule := func(line string) *Rule {
		t.Helper()
		f := p.ParseBytes("/pg_hba.conf", []byte(line+"\n"))
		if len(f.Errors) > 0 {
			t.Fatalf("%q: %v", line, f.Errors)
		}
		return f.Rules[0]
	}
	tests := []struct {
		hba, sys, pg string
		ci           bool
		want         string
	}{
		{"local all all peer map=m", "alice", "alice", false, "allowed L1"},
		{"local all all ident map=m", "alice", "alice", false, "allowed L1"}, // ident on local is peer
		{"host all all 0.0.0.0/0 ident map=m", "alice", "alice", false, "allowed L1"},
		{"host all all 0.0.0.0/0 ident map=m", "ALICE", "alice", true, "no-match"}, // ident never folds case
		{"host all all 0.0.0.0/0 gss map=m", "alice@REALM", "alice", false, "allowed L2"},
		{"host all all 0.0.0.0/0 gss map=m include_realm=0", "alice@REALM", "alice", false, "allowed L1"},
		{"host all all 0.0.0.0/0 gss map=m krb_realm=OTHER", "alice@REALM", "alice", false, "realm-mismatch"},
		{"host all all 0.0.0.0/0 gss include_realm=0", "alice@REALM", "alice", false, "allowed"},
		{"host all all 0.0.0.0/0 gss", "alice@REALM", "alice", false, "no-match"},
		{"host all all 0.0.0.0/0 sspi map=m", "JIM@corp", "jim", false, "allowed L3"},
		{"host all all 0.0.0.0/0 sspi map=m krb_realm=corp", "JIM@CORP", "JIM", false, "allowed L3"},
		{"host all all 0.0.0.0/0 sspi map=m krb_realm=other", "JIM@CORP", "jim", false, "realm-mismatch"},
		{"hostssl all all 0.0.0.0/0 cert map=m", "alice", "alice", false, "allowed L1"},
		{"hostssl all all 0.0.0.0/0 cert map=m", "ALICE", "alice", true, "no-match"},
		{"hostssl all all 0.0.0.0/0 cert map=m clientname=DN", "CN=alice", "alice", false, "allowed L4"},
		{"hostssl all all 0.0.0.0/0 cert", "alice", "alice", false, "allowed"},
		{"hostssl all all 0.0.0.0/0 cert", "", "", false, "no-match"},
		{"hostssl all all 0.0.0.0/0 md5 clientcert=verify-full", "alice", "alice", false, "allowed"},
		{"hostssl all all 0.0.0.0/0 md5 clientcert=verify-full", "alice", "bob", false, "no-match"},
		{"hostssl all all 0.0.0.0/0 md5 clientcert=verify-ca", "alice", "bob", false, "not-applicable"},
		{"host all all 0.0.0.0/0 trust", "alice", "alice", false, "not-applicable"},
		{"host all all 0.0.0.0/0 oauth issuer=https://x scope=openid map=m", "alice", "alice", false, "allowed L1"},
		{"host all all 0.0.0.0/0 oauth issuer=https://x scope=openid delegate_ident_mapping=1", "alice", "bob", false, "not-applicable"},
		{"host all all 0.0.0.0/0 oauth issuer=https://x scope=openid map=m", "", "alice", false, "no-match"},
	}
	for _, tt := range tests {
		r := rule(tt.hba)
		res := m.CheckRule(ctx, r, tt.sys, tt.pg, IdentOptions{CaseInsensitive: tt.ci})
		if got := resultString(&res); got != tt.want {
			t.Errorf("%s [%s → %s]: got %s (%s), want %s", tt.hba, tt.sys, tt.pg, got, res.Message, tt.want)
		}
		if res.Allowed != (res.Outcome == IdentAllowed) {
			t.Errorf("%s: Allowed %v with %v", tt.hba, res.Allowed, res.Outcome)
		}
		if applies := r.ChecksUserName(); applies != (res.Outcome != IdentNotApplicable) {
			t.Errorf("%s: ChecksUserName %v with outcome %v", tt.hba, applies, res.Outcome)
		}
	}
	// The certificate messages, as PostgreSQL 15.18 logs them (checked with
	// client certificates over hostssl).
	r := rule("hostssl all all 0.0.0.0/0 md5 clientcert=verify-full clientname=DN")
	res := m.CheckRule(ctx, r, "CN=bob", "alice", IdentOptions{})
	if res.Message != "provided user name (alice) and authenticated user name (CN=bob) do not match" ||
		res.CertMessage != `certificate validation (clientcert=verify-full) failed for user "alice": DN mismatch` {
		t.Errorf("verify-full messages %q / %q", res.Message, res.CertMessage)
	}
	res = m.CheckRule(ctx, rule("hostssl all all 0.0.0.0/0 cert map=m"), "", "alice", IdentOptions{})
	if res.Message != `certificate authentication failed for user "alice": client certificate contains no user name` || res.CertMessage != "" {
		t.Errorf("empty CN message %q / %q", res.Message, res.CertMessage)
	}
	// An ident rule with clientcert=verify-full: the certificate check is separate.
	r = rule("hostssl all all 0.0.0.0/0 ident map=m clientcert=verify-full")
	if res := m.CheckCert(ctx, r, "CN=alice", "alice", IdentOptions{}); !res.Allowed || res.Line.Pos.Line != 4 {
		t.Errorf("CheckCert: %s", resultString(&res))
	}
	if res := m.CheckCert(ctx, rule("host all all 0.0.0.0/0 ident map=m"), "alice", "alice", IdentOptions{}); res.Outcome != IdentNotApplicable {
		t.Errorf("CheckCert without clientcert: %s", resultString(&res))
	}
}

// TestIdentHolder checks the reload behaviour: a failed reload keeps the old
// maps, and readers never see a partial state.
func TestIdentHolder(t *testing.T) {
	ctx := context.Background()
	var h IdentHolder
	if res := h.Check(ctx, "m", "root", "alice", IdentOptions{}); res.Allowed {
		t.Fatal("zero holder allowed")
	}
	p := &Parser{}
	good, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m root alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	h.Store(good)
	bad, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m root alice\nm root\n"))
	if err == nil {
		t.Fatal("bad file loaded")
	}
	h.Store(bad)
	if h.Load() != good || !h.Check(ctx, "m", "root", "alice", IdentOptions{}).Allowed {
		t.Fatal("failed reload replaced the maps")
	}
	other, _ := p.LoadIdentBytes("/pg_ident.conf", []byte("m root bob\n"))
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				m := h.Load()
				a := m.Check(ctx, "m", "root", "alice", IdentOptions{}).Allowed
				b := m.Check(ctx, "m", "root", "bob", IdentOptions{}).Allowed
				if a == b {
					t.Error("maps changed under a reader")
					return
				}
			}
		}()
	}
	for j := 0; j < 50; j++ {
		if j%2 == 0 {
			h.Store(other)
		} else {
			h.Store(good)
		}
	}
	wg.Wait()
}

func mustIdent(t *testing.T, ver int, data string) *IdentMaps {
	t.Helper()
	m, err := (&Parser{Version: ver}).LoadIdentBytes("/pg_ident.conf", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ExampleIdentMaps_Check() {
	p := &Parser{Version: 16, Env: Env{Roles: RoleGraph{"bob": {"staff"}}}}
	maps, err := p.LoadIdentBytes("/etc/postgresql/pg_ident.conf", []byte(`
# MAP   SYSTEM-USER          PG-USER
certs   /^(.*)@example\.com$  \1
certs   ops@example.com      +staff
`))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, c := range [][2]string{{"alice@example.com", "alice"}, {"ops@example.com", "bob"}, {"alice@example.com", "bob"}} {
		res := maps.Check(ctx, "certs", c[0], c[1], IdentOptions{})
		if res.Allowed {
			fmt.Printf("%s as %s: allowed by line %d\n", c[0], c[1], res.Line.Pos.Line)
		} else {
			fmt.Printf("%s as %s: %s\n", c[0], c[1], res.Message)
		}
	}
	// Output:
	// alice@example.com as alice: allowed by line 3
	// ops@example.com as bob: allowed by line 4
	// alice@example.com as bob: no match in usermap "certs" for user "bob" authenticated as "alice@example.com"
}

// ExampleIdentHolder shows PostgreSQL's two failure behaviours: a bad file at
// startup leaves the empty map set, a bad file on reload keeps the old maps.
func ExampleIdentHolder() {
	var p Parser
	var h IdentHolder
	ctx := context.Background()

	maps, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m root\n"))
	fmt.Println("startup:", err)
	h.Store(maps) // nil: the empty map set
	fmt.Println(h.Check(ctx, "m", "root", "alice", IdentOptions{}).Message)

	maps, _ = p.LoadIdentBytes("/pg_ident.conf", []byte("m root alice\n"))
	h.Store(maps)
	maps, err = p.LoadIdentBytes("/pg_ident.conf", []byte("m root alice,bob\n"))
	fmt.Println("reload:", err)
	h.Store(maps) // ignored: the previous maps stay
	fmt.Println(h.Check(ctx, "m", "root", "alice", IdentOptions{}).Allowed)
	// Output:
	// startup: /pg_ident.conf:1: missing entry at end of line
	// no match in usermap "m" for user "alice" authenticated as "root"
	// reload: /pg_ident.conf:1: multiple values in ident field
	// true
}

// FuzzIdent checks properties of loading and checking arbitrary
// pg_ident.conf text: no panics; every error is positioned on a line of the
// view; a file loads exactly when no line failed; a check is allowed only
// with its outcome, names its line when the map decided, and explains every
// refusal.
func FuzzIdent(f *testing.F) {
	for _, s := range []string{
		"m root alice\n", "m /^(.*)@(.*)$ \\1\n", "m root +grp\nm root all\n", "m /^(x)?r \\1\n",
		"m\nm a\nm a b,c\n", "include inc.conf\n", "m \"/a,b\" \"\\1x\"\n", "m / \"all\"\n",
	} {
		f.Add(s, "root", "alice", uint8(18), false)
	}
	f.Fuzz(func(t *testing.T, data, sys, pg string, ver uint8, ci bool) {
		v := MinVersion + int(ver)%(MaxVersion-MinVersion+1)
		fsys := fstest.MapFS{"pg_ident.conf": {Data: []byte(data)}, "inc.conf": {Data: []byte("m root alice\n")}}
		p := &Parser{Version: v, FS: fsys, Env: Env{Roles: fixture}}
		file, err := p.ParseIdentFile("pg_ident.conf")
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, l := range file.Lines {
			if (l.Err == nil) == (l.Mapping == nil) {
				t.Fatalf("line %v: mapping %v and error %v", l.Pos, l.Mapping, l.Err)
			}
			if l.Err != nil {
				failed++
				if !l.Err.Pos.IsValid() || l.Err.Msg == "" {
					t.Fatalf("bad error %#v", l.Err)
				}
			}
		}
		if failed != len(file.Errors) || len(file.ViewRows()) != len(file.Lines) {
			t.Fatalf("%d failed lines, %d errors, %d rows", failed, len(file.Errors), len(file.ViewRows()))
		}
		maps, err := p.CompileIdent(file)
		if (err != nil) != (failed > 0) {
			t.Fatalf("CompileIdent error %v with %d failed lines", err, failed)
		}
		for _, name := range append([]string{"", "m", "include"}, maps.Names()...) {
			res := maps.Check(context.Background(), name, sys, pg, IdentOptions{CaseInsensitive: ci})
			if res.Allowed != (res.Outcome == IdentAllowed) || res.Allowed == (res.Message != "") {
				t.Fatalf("inconsistent result %+v", res)
			}
			if name != "" && (res.Outcome == IdentAllowed || res.Outcome == IdentError) && (res.Line == nil || res.Line.Map != name) {
				t.Fatalf("map %q decided by %+v", name, res.Line)
			}
		}
	})
}

func TestIdentCheckAllocs(t *testing.T) {
	m := mustIdent(t, 18, "x a b\nm root alice\nm /^svc-[0-9]+$ app\n")
	ctx := context.Background()
	for _, c := range [][2]string{{"root", "alice"}, {"svc-12", "app"}} {
		n := testing.AllocsPerRun(100, func() {
			if !m.Check(ctx, "m", c[0], c[1], IdentOptions{}).Allowed {
				t.Fatal("refused")
			}
		})
		// The regex search reports its match positions in one slice.
		if max := 1.0; n > max {
			t.Errorf("%s: %v allocations, want at most %v", c[0], n, max)
		}
	}
}

func BenchmarkIdentCheck(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&sb, "m%d user%d role%d\n", i%10, i, i)
	}
	sb.WriteString("certs /^(.*)@example\\.com$ \\1\n")
	m, err := (&Parser{}).LoadIdentBytes("/pg_ident.conf", []byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("literal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			identSink = m.Check(ctx, "m9", "user499", "role499", IdentOptions{}).Allowed
		}
	})
	b.Run("regex", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			identSink = m.Check(ctx, "certs", "alice@example.com", "alice", IdentOptions{}).Allowed
		}
	})
	b.Run("no-match", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			identSink = m.Check(ctx, "m9", "user499", "nobody", IdentOptions{}).Allowed
		}
	})
}

var identSink bool

// TestIdentRecorded replays testdata/ident/*.txtar: pg_ident.conf cases
// whose answers were recorded from real servers (13, 15, 18) by
// TestRecordPeer in internal/identconf, through peer authentication as the OS user root
// with "local all all peer map=m". Each "want N" section holds, for major
// version N, whether the file loaded, the error lines the server logged
// when it did not, the pg_ident_file_mappings rows as psql -At prints them
// (15+), and per database user whether the map allowed it, with the log
// message when it did not.
func TestIdentRecorded(t *testing.T) {
	testkit.Fixtures(t, "testdata/ident/*.txtar", func(t *testing.T, file string, data []byte) {
		fsys := fstest.MapFS{}
		wants := map[int][]string{}
		a, err := testkit.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range a.Files {
			if v, ok := strings.CutPrefix(sec.Name, "want "); ok {
				wants[atoiT(v)] = strings.Split(strings.TrimSuffix(string(sec.Data), "\n"), "\n")
			} else {
				fsys[sec.Name] = &fstest.MapFile{Data: sec.Data}
			}
		}
		if len(wants) == 0 {
			t.Fatal("no want sections")
		}
		for ver, want := range wants {
			got := replayIdent(t, fsys, ver, want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("v%d:\n got:\n%s\nwant:\n%s", ver, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	})
}

// replayIdent produces the lines of a want section from the library; the
// database users come from the section's check lines.
func replayIdent(t *testing.T, fsys fstest.MapFS, ver int, want []string) []string {
	p := &Parser{Version: ver, FS: fsys, Env: Env{Roles: fixture}}
	f, err := p.ParseIdentFile("pg_ident.conf")
	if err != nil {
		t.Fatal(err)
	}
	maps, err := p.CompileIdent(f)
	var out []string
	if err != nil {
		out = append(out, "load: failed")
		for _, e := range f.Errors {
			out = append(out, "error: "+e.LogText())
		}
	} else {
		out = append(out, "load: ok")
	}
	if ver >= 15 {
		for _, r := range f.ViewRows() {
			out = append(out, "row: "+psqlRow(r, ver))
		}
	}
	for _, w := range want {
		rest, ok := strings.CutPrefix(w, "check: ")
		if !ok {
			continue
		}
		user, quoted := rest, strings.HasPrefix(rest, `"`)
		if quoted {
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			u, err := strconv.Unquote(rest[:end+1])
			if err != nil {
				t.Fatalf("bad check line %q", w)
			}
			user, rest = u, rest[:end+1]
		} else {
			rest, _, _ = strings.Cut(rest, " ")
			user = rest
		}
		res := maps.Check(context.Background(), "m", "root", user, IdentOptions{})
		line := "check: " + rest
		if res.Allowed {
			line += " allowed"
		} else {
			line += " refused: " + res.Message
		}
		out = append(out, line)
	}
	return out
}

// psqlRow prints a view row as psql -At does: columns joined by |, NULL
// empty.
func psqlRow(r IdentViewRow, ver int) string {
	ok := r.Error == ""
	keep := func(s string) string {
		if !ok {
			return ""
		}
		return s
	}
	cols := []string{itoa(r.LineNumber), keep(r.MapName), keep(r.SysName), keep(r.PGUsername), r.Error}
	if ver >= 16 {
		cols = append([]string{keep(itoa(r.MapNumber)), r.FileName}, cols...)
	}
	return strings.Join(cols, "|")
}
