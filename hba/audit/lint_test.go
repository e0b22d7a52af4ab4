package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/gen"
	"github.com/pghba/pghba/internal/testkit"
)

// Vocabulary of the generated rule sets: chosen so that ranges split and
// lists spread over several rules, keywords and atoms meet.
var (
	lintGenTypes = []string{"local", "host", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
	lintGenDBs   = []string{"all", "app", "db1", "app,db1", "sameuser", "samerole", "replication", "replication,app",
		`"all"`, "/^db", "/^db1$", `"replication"`, "all,replication", "admins"}
	lintGenUsers = []string{"all", "alice", "bob", "alice,bob", "+admins", "+support", "/^a", `"all"`, "bob,+admins", "admins"}
	lintGenAddrs = []string{"all", "0.0.0.0/0", "::/0", "10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16",
		"10.1.2.3/32", "127.0.0.1/32", "::1/128", "192.168.0.0/16", "samehost", "samenet", ".example.com",
		"db.example.com", "10.0.0.0 255.0.255.0", "10.1.0.0 255.255.0.255", "10.0.0.0 255.0.0.255", "10.1.0.0 255.255.0.0", "2001:db8::/32", "0.0.0.0/1", "128.0.0.0/1"}
	lintGenMethods = []string{"trust", "reject", "md5", "scram-sha-256", "password"}
)

func lintGenFile(rng *rand.Rand, n int) string {
	var b strings.Builder
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	var prev []string
	for i := 0; i < n; i++ {
		var line string
		if rng.IntN(6) == 0 {
			// A line split in two by address or by list, then whole: the
			// whole line is covered by the union of the halves.
			t := pick(lintGenTypes[1:])
			db, user, addr := pick(lintGenDBs), pick(lintGenUsers), pick(lintGenAddrs)
			halves := [][2]string{{"10.0.0.0/9", "10.128.0.0/9"}, {"0.0.0.0/1", "128.0.0.0/1"}}
			h := halves[rng.IntN(len(halves))]
			var parts []string
			switch rng.IntN(3) {
			case 0:
				parts = []string{t + " " + db + " " + user + " " + h[0], t + " " + db + " " + user + " " + h[1]}
				addr = map[string]string{"10.0.0.0/9": "10.0.0.0/8", "0.0.0.0/1": "0.0.0.0/0"}[h[0]]
			case 1:
				parts = []string{t + " app " + user + " " + addr, t + " db1 " + user + " " + addr}
				db = "app,db1"
			default:
				parts = []string{t + " " + db + " alice " + addr, t + " " + db + " bob " + addr}
				user = "alice,bob"
			}
			for _, pt := range parts {
				b.WriteString(pt + " " + pick(lintGenMethods) + "\n")
			}
			line = t + " " + db + " " + user + " " + addr + " " + pick(lintGenMethods)
			i += 2
		} else if len(prev) > 0 && rng.IntN(5) == 0 {
			// Repeat an earlier line with one column changed, so that
			// shadowing is common.
			f := strings.Fields(prev[rng.IntN(len(prev))])
			if f[0] != "local" && rng.IntN(2) == 0 {
				f[3] = pick(lintGenAddrs)
			} else {
				f[len(f)-1] = pick(lintGenMethods)
			}
			line = strings.Join(f, " ")
		} else {
			t := pick(lintGenTypes)
			line = t + " " + pick(lintGenDBs) + " " + pick(lintGenUsers)
			if t != "local" {
				line += " " + pick(lintGenAddrs)
			}
			line += " " + pick(lintGenMethods)
		}
		prev = append(prev, line)
		b.WriteString(line + "\n")
	}
	return b.String()
}

// lintGenIndexFile writes n rules over many prefixes of 10.0.0.0/14 and
// several literal names, with the atoms of lintGenFile, host names in two
// cases and IPv6: files where the index of Lint has something to sort.
func lintGenIndexFile(rng *rand.Rand, n int) string {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	types := []string{"local", "host", "host", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
	dbs := []string{"all", "app", "db1", "db2", "db3", "app,db1", "db2,db3", "sameuser", "samerole", "replication", "replication,app",
		`"all"`, "/^db", "/^db1$", "admins", "u1"}
	users := []string{"all", "u1", "u2", "u3", "u1,u2", "+admins", "+r1", "/^u", "/^u[12]$", `"all"`, "u2,+admins", "admins"}
	fixed := []string{"all", "0.0.0.0/0", "::/0", "127.0.0.1/32", "::1/128", "samehost", "samenet", ".example.com",
		"db.example.com", "DB.Example.COM", "10.0.0.0 255.0.255.0", "10.1.0.0 255.255.0.255", "10.1.0.0 255.255.0.0", "2001:db8::/32", "2001:db8:1::/48", "0.0.0.0/1", "128.0.0.0/1"}
	methods := []string{"trust", "reject", "md5", "scram-sha-256", "password"}
	addr := func() string {
		if rng.IntN(3) == 0 {
			return pick(fixed)
		}
		bits := 8 + rng.IntN(25)
		return fmt.Sprintf("10.%d.%d.%d/%d", rng.IntN(4), rng.IntN(4)*64, rng.IntN(2)*128, bits)
	}
	var b strings.Builder
	var prev []string
	for i := 0; i < n; i++ {
		var line string
		if len(prev) > 0 && rng.IntN(4) == 0 {
			f := strings.Fields(prev[rng.IntN(len(prev))])
			switch {
			case f[0] != "local" && len(f) == 5 && rng.IntN(2) == 0:
				f[3] = addr()
			case rng.IntN(2) == 0:
				f[1] = pick(dbs)
			default:
				f[len(f)-1] = pick(methods)
			}
			line = strings.Join(f, " ")
		} else {
			t := pick(types)
			line = t + " " + pick(dbs) + " " + pick(users)
			if t != "local" {
				line += " " + addr()
			}
			line += " " + pick(methods)
		}
		prev = append(prev, line)
		b.WriteString(line + "\n")
	}
	return b.String()
}

// lintGenConns is a broad set of connections: every class, replication kind,
// boundary addresses of the vocabulary's ranges, and names from its lists.
func lintGenConns() []hba.Conn {
	addrs := []string{"10.0.0.0", "10.0.0.1", "10.1.2.3", "10.1.2.4", "10.1.0.3", "10.127.255.255", "10.128.0.0",
		"10.200.0.1", "10.255.255.255", "11.0.0.1", "127.0.0.1", "127.0.0.2", "192.168.1.1", "1.2.3.4", "200.1.2.3",
		"::1", "::2", "2001:db8::1", "2001:db9::1", "10.2.0.3", "10.1.5.0"}
	dbs := []string{"", "app", "db1", "db12", "alice", "admins", "support", "replication", "all", "other"}
	users := []string{"alice", "bob", "admins", "carol", "app", "alice@"} // alice@ is alice under db_user_namespace
	var out []hba.Conn
	for _, repl := range []hba.Replication{hba.NoReplication, hba.PhysicalReplication, hba.LogicalReplication} {
		for _, u := range users {
			for _, db := range dbs {
				if repl == hba.PhysicalReplication && db != "" {
					continue
				}
				out = append(out, hba.Conn{Local: true, User: u, Database: db, Replication: repl})
				for _, a := range addrs {
					ip := netip.MustParseAddr(a)
					for _, enc := range [][2]bool{{false, false}, {true, false}, {false, true}} {
						out = append(out, hba.Conn{Addr: ip, SSL: enc[0], GSS: enc[1], User: u, Database: db, Replication: repl})
					}
				}
			}
		}
	}
	return out
}

// lintGenEnvs are environments of different shapes: the proofs must hold in
// every one of them.
func lintGenEnvs() []hba.Env {
	return []hba.Env{
		{
			Roles:      hba.RoleGraph{"alice": {"admins"}, "bob": nil, "carol": {"support"}, "app": nil, "support": nil},
			Interfaces: hba.StaticInterfaces{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("10.1.2.3/16"), netip.MustParsePrefix("::1/128")},
			Resolver: hba.HostTable{
				Reverse: map[string][]string{"10.1.2.3": {"db.example.com"}, "192.168.1.1": {"x.example.com"}, "10.200.0.1": {"evil.example.com"}},
				Forward: map[string][]string{"db.example.com": {"10.1.2.3"}, "x.example.com": {"192.168.1.1"}},
			},
		},
		{Roles: hba.RoleGraph{}, Interfaces: hba.StaticInterfaces{netip.MustParsePrefix("192.168.1.1/24")}, Resolver: hba.HostTable{}},
		{
			Roles:      hba.RoleGraph{"bob": {"admins", "support"}, "alice": nil, "admins": nil, "carol": {"bob"}},
			Interfaces: hba.StaticInterfaces{netip.MustParsePrefix("10.0.0.1/8"), netip.MustParsePrefix("2001:db8::1/64")},
			Resolver: hba.HostTable{
				Reverse: map[string][]string{"10.0.0.1": {"app.example.com"}, "2001:db8::1": {"db.example.com"}, "127.0.0.1": {"db.example.com"}},
				Forward: map[string][]string{"app.example.com": {"10.0.0.1"}, "db.example.com": {"2001:db8::1", "127.0.0.1"}},
			},
		},
	}
}

// TestLintUnreachableProved checks every unreachable and duplicate finding
// on generated files against the matcher: no generated connection, in any
// generated environment, is decided by the flagged rule, and the witness is
// matched by the flagged rule and by a covering rule.
func TestLintUnreachableProved(t *testing.T) {
	files := 200
	if testing.Short() {
		files = 40
	}
	seed := uint64(5)
	if s := os.Getenv("LINT_SEED"); s != "" {
		fmt.Sscan(s, &seed)
		files = 2000
	}
	rng := rand.New(rand.NewPCG(seed, 17))
	conns := lintGenConns()
	envs := lintGenEnvs()
	var flagged, single, union, dup, witnesses, emptyDead int
	for n := 0; n < files; n++ {
		text := lintGenFile(rng, 3+rng.IntN(7))
		p := hba.Parser{Version: 18, SSL: n%3 != 0}
		if n%4 == 1 {
			// db_user_namespace rewrites user names before matching.
			p.Version, p.DBUserNamespace = 16, true
			text = strings.ReplaceAll(text, " md5", " scram-sha-256")
		}
		f := p.ParseBytes("/pg_hba.conf", []byte(text))
		if len(f.Errors) > 0 || len(f.Rules) == 0 {
			continue
		}
		findings := Lint(f, LintOptions{})
		dead := map[int]*Finding{}
		for k := range findings {
			fd := &findings[k]
			if fd.Check != CheckUnreachable && fd.Check != CheckDuplicate {
				continue
			}
			dead[fd.Pos.Line] = fd
			flagged++
			switch {
			case fd.Check == CheckDuplicate:
				dup++
			case len(fd.Related) == 1:
				single++
			default:
				union++
			}
		}
		reached := map[*hba.Rule]bool{}
		for _, env := range envs {
			q := p
			q.Env = env
			rs, err := q.Compile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range conns {
				d := rs.Decide(context.Background(), c)
				if d.Rule == nil {
					continue
				}
				reached[d.Rule] = true
				if fd := dead[d.Rule.Pos().Line]; fd != nil {
					t.Fatalf("file:\n%s\n%s: %s\nbut %s decides %+v", text, fd.Check, fd.Message, d.Rule.Pos(), c)
				}
			}
		}
		// A witness holds where the roles the file names exist (with no
		// grants), no host name resolves and the server has no interfaces.
		roles := hba.RoleGraph{}
		for _, m := range regexp.MustCompile(`\+(\w+)`).FindAllStringSubmatch(text, -1) {
			roles[m[1]] = nil
		}
		q := p
		q.Env = hba.Env{Roles: roles, Resolver: hba.HostTable{}, Interfaces: hba.StaticInterfaces{}}
		for _, fd := range dead {
			if fd.Witness == nil {
				continue
			}
			b := lintRuleAt(f, fd.Pos.Line)
			if !lintMatchesAlone(&q, f, b, *fd.Witness) {
				t.Fatalf("file:\n%s\n%s\nwitness %+v not matched by the flagged rule", text, fd.Message, *fd.Witness)
			}
			ok := false
			for _, rp := range fd.Related {
				if lintMatchesAlone(&q, f, lintRuleAt(f, rp.Line), *fd.Witness) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("file:\n%s\n%s\nwitness %+v not matched by a covering rule", text, fd.Message, *fd.Witness)
			}
		}
		for _, fd := range dead {
			if fd.Witness != nil {
				witnesses++
			}
		}
		for _, r := range f.Rules {
			if !reached[r] && !r.Never() && dead[r.Pos().Line] == nil {
				emptyDead++
				if os.Getenv("LINT_SHOW_MISSED") != "" && emptyDead < 12 {
					t.Logf("not proved, never reached: line %d of\n%s", r.Pos().Line, text)
				}
			}
		}
	}
	t.Logf("%d connections, %d environments", len(conns), len(envs))
	t.Logf("%d files: %d rules proved unreachable (%d duplicates, %d by one rule, %d by several), %d with a witness; %d other rules no generated connection reached",
		files, flagged, dup, single, union, witnesses, emptyDead)
	if single == 0 || union == 0 || dup == 0 || witnesses == 0 {
		t.Fatalf("the generator does not exercise every kind of finding")
	}
}

// lintMatchesAlone reports whether r alone matches c in q's environment.
func lintMatchesAlone(q *hba.Parser, f *hba.File, r *hba.Rule, c hba.Conn) bool {
	rs, err := q.Compile(&hba.File{Path: f.Path, Rules: []*hba.Rule{r}})
	if err != nil {
		return false
	}
	d := rs.Decide(context.Background(), c)
	return d.Rule == r && d.Outcome != hba.Unresolved
}

func lintRuleAt(f *hba.File, line int) *hba.Rule {
	for _, r := range f.Rules {
		if r.Pos().Line == line {
			return r
		}
	}
	return nil
}

func TestLintUnionCover(t *testing.T) {
	text := `host all all 10.0.0.0/9 md5
host all all 10.128.0.0/9 md5
host all all 10.0.0.0/8 trust
host app alice 192.168.0.0/16 md5
host db1 alice,bob 192.168.0.0/16 md5
host app bob 192.168.0.0/16 md5
host app,db1 alice,bob 192.168.1.0/24 scram-sha-256
`
	var p hba.Parser
	f := p.ParseBytes("/pg_hba.conf", []byte(text))
	got := Lint(f, LintOptions{})
	var lines []string
	for _, fd := range got {
		if fd.Check == CheckUnreachable {
			lines = append(lines, fmt.Sprintf("%d %s", fd.Pos.Line, fd.Message))
		}
	}
	want := []string{
		"3 line 3 can never match: lines 1 and 2 together match everything it does (e.g. host db=app user=bob 10.0.0.1, decided by line 1)",
		"7 line 7 can never match: lines 4, 5 and 6 together match everything it does (e.g. host db=app user=alice 192.168.1.1, decided by line 4)",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestSubtractPrefix(t *testing.T) {
	ps := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	ps = subtractPrefix(ps, netip.MustParsePrefix("10.1.2.0/24"))
	if len(ps) != 16 {
		t.Fatalf("got %d pieces: %v", len(ps), ps)
	}
	// The pieces and the hole partition the /8: count addresses.
	var total uint64
	for _, p := range ps {
		if p.Contains(netip.MustParseAddr("10.1.2.7")) {
			t.Fatalf("%v contains the hole", p)
		}
		total += 1 << (32 - p.Bits())
	}
	if total+256 != 1<<24 {
		t.Fatalf("pieces cover %d addresses", total)
	}
	if got := subtractPrefix(ps, netip.MustParsePrefix("0.0.0.0/0")); len(got) != 0 {
		t.Fatalf("subtracting everything left %v", got)
	}
	if got := subtractPrefix(ps, netip.MustParsePrefix("::/0")); len(got) != 16 {
		t.Fatalf("the other family removed something: %v", got)
	}
}

func TestRegexSample(t *testing.T) {
	for _, pat := range []string{`^.*helpdesk$`, `^db\d{2,4}$`, `^a`, `^[abc]x+$`, `^(ops|dev)$`, `^.+_ro$`} {
		s := regexSample(pat)
		if !regexp.MustCompile(pat).MatchString(s) {
			t.Errorf("regexSample(%q) = %q, which it does not match", pat, s)
		}
	}
}

func TestParseListen(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // reach
	}{
		{"*", "[0.0.0.0/0 ::/0]"},
		{"localhost", "[127.0.0.0/8 ::1/128]"},
		{"127.0.0.1", "[127.0.0.0/8]"},
		{"0.0.0.0", "[0.0.0.0/0]"},
		{"::", "[::/0]"},
		{"", "[]"},
		{"localhost, 10.0.0.5", "[0.0.0.0/0 ::1/128]"},
		{"db.example.com", "[0.0.0.0/0 ::/0]"},
	} {
		l, err := ParseListen(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(l.reach()); got != tc.want {
			t.Errorf("ParseListen(%q).reach() = %s, want %s", tc.in, got, tc.want)
		}
	}
	if _, err := ParseListen("10.0.0.0/8"); err == nil {
		t.Errorf("a prefix was accepted")
	}
}

// TestLintGolden runs the cases in testdata/lint: each txtar holds a
// pg_hba.conf (and any files it includes), an optional "options" section
// (listen=…, version=…, ssl=on, ident=FILE) and the expected "lint" output,
// one finding per line. go test -update rewrites it.
func TestLintGolden(t *testing.T) {
	testkit.Fixtures(t, "testdata/lint/*.txtar", func(t *testing.T, file string, data []byte) {
		a, err := testkit.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		fsys := fstest.MapFS{}
		var opts LintOptions
		p := hba.Parser{FS: fsys}
		for _, s := range a.Files {
			if s.Name != "lint" && s.Name != "options" {
				fsys[s.Name] = &fstest.MapFile{Data: s.Data}
			}
		}
		for _, s := range a.Files {
			if s.Name != "options" {
				continue
			}
			for _, kv := range strings.Fields(string(s.Data)) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "listen":
					l, err := ParseListen(strings.ReplaceAll(v, "_", " "))
					if err != nil {
						t.Fatal(err)
					}
					opts.Listen = l
				case "version":
					fmt.Sscan(v, &p.Version)
				case "ssl":
					p.SSL = v == "on"
				case "ident":
					m, err := p.LoadIdent(v)
					if err != nil {
						t.Fatal(err)
					}
					opts.Ident = m
				default:
					t.Fatalf("unknown option %q", k)
				}
			}
		}
		f, err := p.ParseFile("pg_hba.conf")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, fd := range Lint(f, opts) {
			fmt.Fprintf(&b, "%s:%d: %s: %s: %s\n", strings.TrimPrefix(fd.Pos.Filename, "/"), fd.Pos.Line, fd.Severity, fd.Check, fd.Message)
			for _, r := range fd.Related {
				fmt.Fprintf(&b, "\trelated %s:%d\n", strings.TrimPrefix(r.Filename, "/"), r.Line)
			}
		}
		// Lines annotated "# dead" must be reported unreachable;
		// other annotated lines must not.
		mainData, _ := a.Get("pg_hba.conf")
		main := string(mainData)
		dead := map[int]bool{}
		for _, fd := range Lint(f, opts) {
			if fd.Pos.Filename == "/pg_hba.conf" && (fd.Check == CheckUnreachable || fd.Check == CheckDuplicate) {
				dead[fd.Pos.Line] = true
			}
		}
		for i, line := range strings.Split(main, "\n") {
			if _, c, ok := strings.Cut(line, "#"); ok && i > 0 || ok && !strings.HasPrefix(line, "#") {
				if want := strings.HasPrefix(strings.TrimSpace(c), "dead"); want != dead[i+1] {
					t.Errorf("line %d %q: reported unreachable %v", i+1, line, dead[i+1])
				}
			}
		}
		got := b.String()
		wantData, _ := a.Get("lint")
		want := string(wantData)
		if testkit.Update() {
			a.Files = slices.DeleteFunc(a.Files, func(f testkit.File) bool { return f.Name == "lint" })
			a.Files = append(a.Files, testkit.File{Name: "lint", Data: []byte(got)})
			if err := os.WriteFile(file, a.Format(), 0o666); err != nil {
				t.Fatal(err)
			}
			return
		}
		if got != want {
			t.Errorf("lint:\n%s\nwant:\n%s", got, want)
		}
	})
}

// TestDangerousExample lints examples/dangerous_pg_hba.conf: every line
// annotated "# LINT id,id" must get exactly those checks, and no other line
// any finding.
func TestDangerousExample(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "dangerous_pg_hba.conf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := hba.Parser{}
	f, err := p.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ParseListen("*")
	ident, err := p.LoadIdent(filepath.Join("..", "..", "examples", "pg_ident.conf"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int][]string{}
	for _, fd := range Lint(f, LintOptions{Listen: l, Ident: ident}) {
		if filepath.Base(fd.Pos.Filename) != "dangerous_pg_hba.conf" {
			t.Errorf("finding in another file: %s %s", fd.Pos, fd.Message)
			continue
		}
		got[fd.Pos.Line] = append(got[fd.Pos.Line], string(fd.Check))
	}
	want := map[int][]string{}
	planted := 0
	for i, line := range strings.Split(string(data), "\n") {
		_, ann, ok := strings.Cut(line, "# LINT ")
		if !ok {
			continue
		}
		ids := strings.Split(strings.Fields(ann)[0], ",")
		want[i+1] = ids
		planted += len(ids)
	}
	if planted < 10 {
		t.Fatalf("only %d planted problems", planted)
	}
	for line := range lintMergeKeys(got, want) {
		g, w := slices.Sorted(slices.Values(got[line])), slices.Sorted(slices.Values(want[line]))
		if !slices.Equal(g, w) {
			t.Errorf("line %d: lint found %v, planted %v", line, g, w)
		}
	}
	t.Logf("%d planted problems on %d lines, all found, none elsewhere", planted, len(want))
}

func lintMergeKeys(a, b map[int][]string) map[int]bool {
	out := map[int]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// BenchmarkExposure summarises the same files.
func BenchmarkExposure(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := hba.Parser{Version: 15}
			f := p.ParseBytes("/bench/pg_hba.conf", gen.MultiTenant(n, benchSeed).Data)
			b.ReportAllocs()
			for b.Loop() {
				exposureSink = Exposure(f, ExposureOptions{})
			}
		})
	}
}

var (
	lintSink     []Finding
	exposureSink []ExposureRow
)

// FuzzLint: on any file, Lint does not panic, names only lines of the
// file, and no connection of the generated set reaches a rule it proves
// unreachable.
func FuzzLint(f *testing.F) {
	files, _ := filepath.Glob("testdata/lint/*.txtar")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		if a, err := testkit.Parse(data); err == nil {
			if d, ok := a.Get("pg_hba.conf"); ok {
				f.Add(string(d))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add(lintGenFile(rng, 6))
	}
	conns := lintGenConns()
	env := lintGenEnvs()[0]
	f.Fuzz(func(t *testing.T, text string) {
		p := hba.Parser{Version: 18, SSL: true, FS: fstest.MapFS{}, Env: env}
		file := p.ParseBytes("/pg_hba.conf", []byte(text))
		l, _ := ParseListen("localhost")
		findings := Lint(file, LintOptions{Listen: l})
		lines := map[int]bool{}
		for _, ln := range file.Lines {
			lines[ln.Pos.Line] = true
		}
		dead := map[*hba.Rule]bool{}
		for _, fd := range findings {
			if fd.Pos.Line != 0 && !lines[fd.Pos.Line] {
				t.Fatalf("finding on line %d, which the file does not have: %s", fd.Pos.Line, fd.Message)
			}
			if fd.Check == CheckUnreachable || fd.Check == CheckDuplicate {
				dead[lintRuleAt(file, fd.Pos.Line)] = true
			}
		}
		if len(dead) == 0 || len(file.Errors) > 0 {
			return
		}
		rs, err := p.Compile(file)
		if err != nil {
			return
		}
		for _, c := range conns {
			if d := rs.Decide(context.Background(), c); d.Rule != nil && dead[d.Rule] {
				t.Fatalf("line %d is reported unreachable but decides %+v", d.Rule.Pos().Line, c)
			}
		}
	})
}

func TestAddrPlausible(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"host all all 10.0.0.0/9 md5\nhost all all 10.128.0.0/9 md5\nhost all all 10.0.0.0/8 md5\n", true},
		{"host all all 10.0.0.0/9 md5\nhost all all 10.128.0.0/10 md5\nhost all all 10.0.0.0/8 md5\n", false},
		{"host all all 10.0.0.1/32 md5\nhost all all 10.0.0.1/32 md5\n", true},
		{"host all all 10.0.0.2/32 md5\nhost all all 10.0.0.1/32 md5\n", false},
		{"host all all ::/0 md5\nhost all all 10.0.0.1/32 md5\n", false},
		{"host all all 0.0.0.0/1 md5\nhost all all 128.0.0.0/1 md5\nhost all all all md5\n", false},
		{"host all all 0.0.0.0/1 md5\nhost all all 128.0.0.0/1 md5\nhost all all ::/0 md5\nhost all all all md5\n", true},
	} {
		var p hba.Parser
		f := p.ParseBytes("/pg_hba.conf", []byte(tc.text))
		l := &linter{f: f}
		for _, r := range f.Rules {
			l.spaces = append(l.spaces, spaceOf(r))
		}
		l.idx = newLintIndex(f.Rules, l.spaces)
		i := len(f.Rules) - 1
		if got := l.addrPlausible(i, l.idx.earlier(i, l.spaces[i].boxes)); got != tc.want {
			t.Errorf("%s: addrPlausible = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestLintIndexSuperset checks the index of Lint against a scan of every
// earlier rule: earlier(i) is in file order and holds every earlier rule
// quickDisjoint does not rule out, and duplicateOf finds the first rule
// sameColumns finds equal.
func TestLintIndexSuperset(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	for k := range 400 {
		var text string
		if k%2 == 0 {
			text = lintGenIndexFile(rng, 2+rng.IntN(60))
		} else {
			text = lintGenFile(rng, 2+rng.IntN(30))
		}
		p := hba.Parser{Version: 16, SSL: true}
		f := p.ParseBytes("/pg_hba.conf", []byte(text))
		spaces := make([]ruleSpace, len(f.Rules))
		for i, r := range f.Rules {
			spaces[i] = spaceOf(r)
		}
		x := newLintIndex(f.Rules, spaces)
		for i := range f.Rules {
			wantDup := -1
			for j := range i {
				if !f.Rules[j].Never() && sameColumns(f.Rules[j], f.Rules[i]) {
					wantDup = j
					break
				}
			}
			if got := x.duplicateOf(f.Rules, i); got != wantDup {
				t.Fatalf("%s\nrule %d: duplicateOf = %d, want %d", text, i+1, got, wantDup)
			}
			got := slices.Clone(x.earlier(i, spaces[i].boxes))
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Fatalf("rule %d: earlier = %v, not ascending", i+1, got)
			}
			for j := range i {
				if len(spaces[j].boxes) == 0 || quickDisjoint(spaces[i].boxes, spaces[j].boxes) {
					continue
				}
				if !slices.Contains(got, int32(j)) {
					t.Fatalf("%s\nrule %d: earlier = %v leaves out rule %d, which may share connections with it", text, i+1, got, j+1)
				}
			}
		}
	}
}

// TestLintNarrower checks the shortcut of the single-rule comparison: when
// narrower says an earlier rule alone cannot cover a rule, subtracting it
// leaves something.
func TestLintNarrower(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	skipped := 0
	for range 300 {
		p := hba.Parser{Version: 16, SSL: true}
		f := p.ParseBytes("/pg_hba.conf", []byte(lintGenIndexFile(rng, 2+rng.IntN(30))))
		for i, b := range f.Rules {
			bs := spaceOf(b)
			for _, a := range f.Rules[:i] {
				as := spaceOf(a)
				if len(bs.boxes) == 0 || len(as.boxes) == 0 || !narrower(bs.boxes, as.boxes) {
					continue
				}
				skipped++
				free := maxBoxes
				if rem, _, ok := subtract(bs.boxes, &as, &free); ok && len(rem) == 0 {
					t.Fatalf("%s covers %s, but narrower says it cannot", a.Raw(), b.Raw())
				}
			}
		}
	}
	if skipped == 0 {
		t.Fatal("narrower never applied")
	}
}

// TestLintRegexTooComplex: a regular expression that runs out of pgre's
// work budget against a name (issue 12, F1: PostgreSQL's matcher says the
// 62-letter name matches, after 619 ms) decides nothing. Lint claims no
// proof from it and says so in an incomplete finding; the same expression
// still proves what it can decide.
func TestLintRegexTooComplex(t *testing.T) {
	const re = `"/^(a*)(a*)(a*)(a*)(a*)(a*)\6\5\4\3\2\1$"`
	long := strings.Repeat("a", 62)
	text := "host all " + re + " 0.0.0.0/0 reject\n" + // line 1
		"host all " + long + " 0.0.0.0/0 trust\n" + // line 2: undecided
		"host all aa 0.0.0.0/0 trust\n" + // line 3: line 1 matches "aa"
		"host " + long + " all 0.0.0.0/0 trust\n" + // line 4: a database, not a user
		"host all " + re + "," + long + " 10.0.0.0/8 md5\n" // line 5: line 1 and 2 together
	p := hba.Parser{Version: 16}
	f := p.ParseBytes("/pg_hba.conf", []byte(text))
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	got := map[int][]string{}
	var incomplete string
	for _, fd := range Lint(f, LintOptions{}) {
		got[fd.Pos.Line] = append(got[fd.Pos.Line], string(fd.Check))
		if fd.Check == CheckIncomplete {
			incomplete = fd.Message
		}
	}
	if slices.Contains(got[2], CheckUnreachable) || slices.Contains(got[2], CheckDuplicate) {
		t.Errorf("line 2 is claimed unreachable on an undecided match: %v", got[2])
	}
	if !slices.Contains(got[3], CheckUnreachable) {
		t.Errorf("line 3: %v, want unreachable (line 1 matches aa)", got[3])
	}
	if slices.Contains(got[4], CheckUnreachable) {
		t.Errorf("line 4: %v: line 1 tests the user name, not the database", got[4])
	}
	if !slices.Contains(got[5], CheckUnreachable) {
		t.Errorf("line 5: %v, want unreachable (lines 1 and 2 list both its users)", got[5])
	}
	if !strings.Contains(incomplete, "regular expression too complex to evaluate") || !strings.Contains(incomplete, "line 2") {
		t.Errorf("incomplete finding %q, want one naming line 2 and the complex expression", incomplete)
	}

	// The algebra: the name stays in both the difference and the
	// intersection, so no piece of the rule is lost.
	users, _ := namesOf(f.Rules[0].Names(hba.ColumnUser))
	if has, known := users.has(long); has || known {
		t.Errorf("has(62 a) = %v, %v; want undecided", has, known)
	}
	if has, known := users.has("aa"); !has || !known {
		t.Errorf("has(aa) = %v, %v; want a decided match", has, known)
	}
	x := nameSet{lits: []string{long, "b"}}
	if d := x.minus(&users); !slices.Contains(d.lits, long) {
		t.Errorf("minus dropped the undecided name: %v", d.lits)
	}
	if i := x.inter(&users); !slices.Contains(i.lits, long) || slices.Contains(i.lits, "b") {
		t.Errorf("inter = %v, want the undecided name kept and b dropped", i.lits)
	}
}
