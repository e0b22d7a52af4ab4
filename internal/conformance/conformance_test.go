package conformance

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/pgtest"
	"github.com/pghba/pghba/internal/testkit"
)

// Environment:
//
//	PGHBA_CONFORMANCE_SEED      replay a run (the seed is printed by every run)
//	PGHBA_CONFORMANCE_CASES     cases per version (default 1000 on 15 and 18, 100 on the others)
//	PGHBA_CONFORMANCE_LONG=1    10,000 cases on each of 13–18
//	PGHBA_CONFORMANCE_VERSIONS  comma-separated majors to run (default: 15, 18 and every other installed)
//	PGHBA_CONFORMANCE_CONNS     connections per case (default 6)
//	PGHBA_CONFORMANCE_RELOAD_ALL=1  reload the original of every case (default: every fourth)
//	PGHBA_CONFORMANCE_NOALT=1   no second cluster (ssl = off, db_user_namespace = on)
//	PGHBA_CONFORMANCE_INDEX     run only this case index (with the seed: replay one case)
//	PGHBA_CONFORMANCE_FIRST     first case index (a long run in pieces: same seed, later FIRST)
//	PGHBA_CONFORMANCE_PROGRESS  log a progress line every N cases (with -v)
//	PGHBA_CONFORMANCE_SAVE      directory for regression files of divergent cases
//	                            (default: a new directory under $TMPDIR, printed)

// env is the harness skeleton (testkit.Env) with the PGHBA_CONFORMANCE_ prefix.
var env = &testkit.Env{Prefix: "PGHBA_CONFORMANCE"}

func TestConformance(t *testing.T) {
	seed := env.Seed(t)
	// every major is required: a missing one skips, or fails with CI=true
	env.Majors(t, pgtest.Majors, pgtest.Majors[0], func(t *testing.T, inst *pgtest.Install) {
		n := 100
		if inst.Major == 15 || inst.Major == 18 {
			n = 1000
		}
		n = env.Count("CASES", n, 10000)
		runConformance(t, inst.Major, seed, n)
	})
}

// target is one cluster with the matching hba dialect.
type target struct {
	t      *testing.T
	inst   *pgtest.Install
	cl     *pgtest.Cluster
	opts   Options
	parser *hba.Parser
	hosts  bool
	owner  *user.User
	dirs   []string // directories made for the current case
	prof   profile
	// time spent per phase
	tInstall, tView, tLib, tProbe time.Duration
	tLibLast, tProbeLast          time.Duration
}

// altProfile is the second cluster's configuration for a major.
func altProfile(major int) profile {
	p := profile{NoSSL: true, DBUserNS: major <= 16}
	if major >= 18 {
		p.OAuth = "v"
	}
	return p
}

// profile is a server configuration besides the standard one.
type profile struct {
	NoSSL    bool   // ssl = off
	DBUserNS bool   // db_user_namespace = on (13–16)
	OAuth    string // oauth_validator_libraries (18)
}

func startTarget(t *testing.T, major int, prof profile) *target {
	inst := pgtest.Require(t, major)
	hosts := os.Geteuid() == 0
	var opt pgtest.Options
	if hosts {
		opt.Hosts = HostsFile
	}
	opt.NoSSL = prof.NoSSL
	cl := pgtest.Start(t, inst, opt)
	if err := cl.Exec(strings.Join(FixtureSQL(), ";\n")); err != nil {
		t.Fatalf("creating the role fixture: %v", err)
	}
	if prof.OAuth != "" {
		if err := cl.Exec("ALTER SYSTEM SET oauth_validator_libraries = '" + prof.OAuth + "'"); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	if prof.DBUserNS {
		// Set after start: with it on, the harness's admin login "postgres"
		// would have to be spelled "postgres@". The admin session survives.
		if err := cl.Exec("ALTER SYSTEM SET db_user_namespace = on"); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Reload(); err != nil {
			t.Fatal(err)
		}
		rows, err := cl.Query("SHOW db_user_namespace")
		if err != nil || len(rows) != 1 || rows[0][0] == nil || *rows[0][0] != "on" {
			t.Fatalf("db_user_namespace not on: %v %v", rows, err)
		}
	}
	feat := BuildFeatures(inst.Features)
	tg := &target{t: t, inst: inst, cl: cl, hosts: hosts,
		opts: Options{Version: major, Features: feat, HostNames: hosts, Conns: env.Int("CONNS", 6),
			NoSSL: prof.NoSSL, DBUserNamespace: prof.DBUserNS, OAuthValidators: prof.OAuth},
		parser: NewParser(major, inst.Minor, feat, hosts, "postgres"),
		prof:   prof,
	}
	tg.parser.SSL = !prof.NoSSL
	tg.parser.DBUserNamespace = prof.DBUserNS
	tg.parser.OAuthValidatorLibraries = prof.OAuth
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		tg.owner = u
	}
	tg.checkRoles()
	t.Logf("%s: features %s, host names %v, %+v", inst, feat, hosts, prof)
	return tg
}

// checkRoles compares the cluster's role graph with the one given to hba.
func (tg *target) checkRoles() {
	rows, err := tg.cl.Query(`SELECT r.rolname, coalesce(g.rolname, '') FROM pg_roles r
		LEFT JOIN pg_auth_members m ON m.member = r.oid LEFT JOIN pg_roles g ON g.oid = m.roleid
		WHERE r.rolname !~ '^pg_' ORDER BY 1, 2`)
	if err != nil {
		tg.t.Fatal(err)
	}
	got := hba.RoleGraph{}
	for _, r := range rows {
		name, grp := *r[0], *r[1]
		if grp == "" {
			if _, ok := got[name]; !ok {
				got[name] = nil
			}
			continue
		}
		got[name] = append(got[name], grp)
	}
	want := FixtureGraph("postgres")
	for k, v := range want {
		sort.Strings(v)
		sort.Strings(got[k])
		if !slices.Equal(v, got[k]) {
			tg.t.Fatalf("role %q: server grants %q, fixture %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		tg.t.Fatalf("server has %d roles, fixture %d: %v", len(got), len(want), got)
	}
}

// install writes one variant of c's files and reloads.
func (tg *target) install(c *Case, pw, reload bool) (pgtest.ReloadResult, error) {
	files := map[string][]byte{}
	for _, f := range c.Files {
		if f.Dir {
			continue
		}
		if pw {
			files[f.Path] = []byte(f.PW)
		} else {
			files[f.Path] = []byte(f.Data)
		}
	}
	if err := tg.cl.WriteFiles(files); err != nil {
		return pgtest.ReloadResult{}, err
	}
	tg.removeDirs()
	for _, f := range c.Files {
		if f.Dir {
			if err := tg.mkdir(f.Path); err != nil {
				return pgtest.ReloadResult{}, err
			}
		}
	}
	if !reload {
		return pgtest.ReloadResult{}, nil
	}
	return tg.cl.Reload()
}

// viewLoaded derives from the view whether the server would load the files:
// at least one rule row, and no row whose parse failed (error rows and
// log-only failures have no type; warning rows have one).
func viewLoaded(rows []pgtest.HBARow) bool {
	n := 0
	for _, r := range rows {
		if r.Type == nil {
			return false
		}
		n++
	}
	return n > 0
}

func (tg *target) mkdir(rel string) error {
	p := filepath.Join(tg.cl.Dir(), filepath.FromSlash(rel))
	var made []string
	for d := p; d != tg.cl.Dir(); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		return err
	}
	for i := len(made) - 1; i >= 0; i-- {
		if tg.owner != nil {
			uid, _ := strconv.Atoi(tg.owner.Uid)
			gid, _ := strconv.Atoi(tg.owner.Gid)
			if err := os.Chown(made[i], uid, gid); err != nil {
				return err
			}
		}
		tg.dirs = append(tg.dirs, made[i])
	}
	return nil
}

func (tg *target) removeDirs() {
	for i := len(tg.dirs) - 1; i >= 0; i-- {
		os.Remove(tg.dirs[i])
	}
	tg.dirs = nil
}

// serverRows turns the view into Outcome rows and errors, and a map from
// position to auth_method.
func (tg *target) serverRows(rows []pgtest.HBARow, out *Outcome) map[string]string {
	dir := tg.cl.Dir()
	sub := func(s string) string { return strings.ReplaceAll(s, dir, "$DIR") }
	methods := map[string]string{}
	for _, r := range rows {
		file := tg.cl.HBAFile()
		if r.FileName != nil {
			file = *r.FileName
		}
		line := 0
		if r.LineNumber != nil {
			line = *r.LineNumber
		}
		pos := fmt.Sprintf("%s:%d", Rel(dir, file), line)
		if r.Error != nil {
			out.Errors = append(out.Errors, pos+": "+sub(*r.Error))
		}
		row := pos
		if tg.opts.Version >= 16 {
			n := 0
			if r.RuleNumber != nil {
				n = *r.RuleNumber
			}
			row += " #" + ruleNumber(n)
		}
		if r.Type != nil {
			addr, mask := deref(r.Address), deref(r.Netmask)
			method := deref(r.AuthMethod)
			methods[pos] = method
			row += " " + RowColumns(*r.Type, r.Database, r.UserName, addr, mask, method, r.Options)
		}
		out.Rows = append(out.Rows, sub(row))
	}
	return methods
}

func probeConn(c Conn) pgtest.ProbeConn {
	p := pgtest.ProbeConn{Local: c.Local, SSL: c.SSL && !c.Local, User: c.User, Database: c.Database}
	if !c.Local {
		p.Source = c.Addr.String()
	}
	switch c.Repl {
	case hba.PhysicalReplication:
		p.Replication = "physical"
	case hba.LogicalReplication:
		p.Replication = "logical"
	}
	return p
}

// caseResult is what one case produced.
type caseResult struct {
	server, lib *Outcome
	diff        string
	generator   string // a problem with the generated case itself
	probes      int
}

func (tg *target) run(c *Case) (res caseResult, err error) {
	t0 := time.Now()
	// A reload costs the server a connection (a fork, expensive here); the
	// view needs none. Every fourth case reloads the original for real and
	// checks that the view tells the same; the others take the view's word.
	reload := c.Index%4 == 0 || env.Get("RELOAD_ALL") == "1"
	rr, err := tg.install(c, false, reload)
	if err != nil {
		return res, err
	}
	t1 := time.Now()
	tg.tInstall += t1.Sub(t0)
	defer func() { tg.tView += time.Since(t1) - tg.tLibLast - tg.tProbeLast }()
	tg.tLibLast, tg.tProbeLast = 0, 0
	rows, err := tg.cl.HBARules()
	if err != nil {
		return res, fmt.Errorf("reading pg_hba_file_rules: %v", err)
	}
	srv := &Outcome{Loaded: viewLoaded(rows)}
	if reload && rr.Loaded != srv.Loaded {
		res.server, res.lib = srv, &Outcome{}
		res.generator = fmt.Sprintf("the reload says loaded=%v, the view says %v", rr.Loaded, srv.Loaded)
		return res, nil
	}
	methods := tg.serverRows(rows, srv)
	res.server = srv
	t2 := time.Now()
	lib, err := HBAOutcome(tg.parser, tg.cl.Dir(), c.Conns)
	tg.tLibLast = time.Since(t2)
	tg.tLib += tg.tLibLast
	if err != nil {
		res.lib = &Outcome{}
		res.diff = "hba: " + err.Error()
		return res, nil
	}
	res.lib = lib
	if srv.Loaded {
		rr2, err := tg.install(c, true, true)
		if err != nil {
			return res, err
		}
		rows2, err := tg.cl.HBARules()
		if err != nil {
			return res, err
		}
		if g := tg.checkPW(rr2, rows, rows2); g != "" {
			res.generator = g
			return res, nil
		}
		dir := tg.cl.Dir()
		t3 := time.Now()
		defer func() { tg.tProbeLast = time.Since(t3); tg.tProbe += tg.tProbeLast }()
		for _, cn := range c.Conns {
			pr, err := tg.cl.Probe(probeConn(cn))
			if err != nil {
				return res, fmt.Errorf("probe %s: %v", cn, err)
			}
			res.probes++
			var d string
			switch pr.Kind {
			case pgtest.NoEntry:
				d = "no-match"
			case pgtest.Matched:
				if pr.Line == 0 {
					res.generator = fmt.Sprintf("probe %s: matched but no line logged: %s", cn, pr)
					return res, nil
				}
				pos := fmt.Sprintf("%s:%d", Rel(dir, pr.File), pr.Line)
				if methods[pos] == "reject" {
					d = "reject " + pos
				} else {
					d = "match " + pos
				}
			default:
				res.generator = fmt.Sprintf("probe %s: %s", cn, pr)
				return res, nil
			}
			srv.Decisions = append(srv.Decisions, d)
		}
	}
	res.diff = lib.Diff(srv)
	return res, nil
}

// checkPW checks that the password variant loaded, has rows on the same
// lines, all with method password and without errors.
func (tg *target) checkPW(rr pgtest.ReloadResult, orig, pw []pgtest.HBARow) string {
	if !rr.Loaded {
		var msgs []string
		for _, e := range rr.Errors {
			msgs = append(msgs, e.String())
		}
		return "password variant did not load: " + strings.Join(msgs, "; ")
	}
	pos := func(rs []pgtest.HBARow) []string {
		var out []string
		for _, r := range rs {
			f := ""
			if r.FileName != nil {
				f = *r.FileName
			}
			out = append(out, fmt.Sprintf("%s:%d", f, *r.LineNumber))
		}
		return out
	}
	if a, b := pos(orig), pos(pw); !slices.Equal(a, b) {
		return fmt.Sprintf("password variant rows %q, original %q", b, a)
	}
	for i, r := range pw {
		// Warnings (hostssl with ssl off, hostgssenc without GSSAPI) may
		// appear, also where the original's oauth method cleared them (18);
		// nothing else may.
		warning := r.Error != nil && strings.Contains(*r.Error, " record cannot match because ")
		if !warning && deref(r.Error) != deref(orig[i].Error) || r.AuthMethod == nil || *r.AuthMethod != "password" {
			return fmt.Sprintf("password variant row at line %d: method %v error %v", *r.LineNumber, deref(r.AuthMethod), deref(r.Error))
		}
	}
	return ""
}

func deref(p *string) string {
	if p == nil {
		return "NULL"
	}
	return *p
}

func runConformance(t *testing.T, major int, seed uint64, n int) {
	main := startTarget(t, major, profile{})
	cpu0 := processCPU(main.cl.PID()) + processCPU(main.cl.AdminPID())
	var self0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self0)
	// every sixth case runs on a second cluster with ssl = off (and
	// db_user_namespace = on where it exists)
	var alt *target
	start := time.Now()
	// PGHBA_CONFORMANCE_FIRST starts at a later case index, so that a long
	// run can be done in pieces with one seed (a case depends only on the
	// seed, its index and the dialect).
	first := env.Int("FIRST", 0)
	last := first + n
	if v := env.Get("INDEX"); v != "" {
		first = env.Int("INDEX", 0)
		last = first + 1
	}
	progress := env.Int("PROGRESS", 0)
	var loaded, probes, failures, genProblems int
	decisions := map[string]int{}
	deadline, hasDeadline := t.Deadline()
	for i := first; i < last; i++ {
		if hasDeadline && time.Until(deadline) < time.Minute {
			t.Errorf("pg%d: stopped after %d of %d cases: the test deadline is a minute away (raise -timeout, or lower PGHBA_CONFORMANCE_CASES)", major, i-first, last-first)
			last = i
			break
		}
		if progress > 0 && i > first && (i-first)%progress == 0 {
			// Written as it happens (-v), so that a run that is stopped
			// still says how far it got.
			t.Logf("pg%d: progress: cases %d..%d of seed %d done: %d loaded, %d probes, %d divergent, %d generator problems, %.0fs",
				major, first, i-1, seed, loaded, probes, failures, genProblems, time.Since(start).Seconds())
		}
		tg := main
		if i%6 == 5 && env.Get("NOALT") == "" {
			if alt == nil {
				alt = startTarget(t, major, altProfile(major))
			}
			tg = alt
		}
		c := Generate(seed, i, tg.opts)
		res, err := tg.run(c)
		if err != nil {
			t.Fatalf("pg%d seed %d case %d: harness: %v", major, seed, i, err)
		}
		probes += res.probes
		if res.server != nil && res.server.Loaded {
			loaded++
			for _, d := range res.server.Decisions {
				decisions[strings.Fields(d)[0]]++
			}
		}
		if res.generator != "" {
			genProblems++
			if genProblems <= 5 {
				t.Errorf("pg%d seed %d case %d: generator problem: %s\n%s", major, seed, i, res.generator, c.Dump(true))
			}
			continue
		}
		if res.diff == "" {
			continue
		}
		failures++
		if failures > 20 {
			continue
		}
		reg := &Regression{Version: major, Minor: tg.inst.Minor, Features: tg.opts.Features, Hosts: tg.hosts,
			NoSSL: tg.prof.NoSSL, DBUserNS: tg.prof.DBUserNS, OAuth: tg.prof.OAuth,
			Seed: seed, Index: i, Files: c.Files, Conns: c.Conns, Want: *res.server,
			Note: "divergence found by TestConformance:\n" + res.diff}
		path := env.Save(t, fmt.Sprintf("pg%d-%d-%d", major, seed, i), reg.Marshal())
		var conns strings.Builder
		for k, cn := range c.Conns {
			fmt.Fprintf(&conns, "  conn %d: %s\n", k, cn)
		}
		t.Errorf("pg%d (%s) seed %d case %d: server and hba disagree:\n%s\nfiles:\n%s\nconnections:\n%s\nserver: %+v\nhba:    %+v\nregression file: %s",
			major, tg.inst.Version(), seed, i, res.diff, c.Dump(false), conns.String(), *res.server, *res.lib, path)
	}
	el := time.Since(start)
	t.Logf("pg%d (%s): %d cases (%d loaded), %d probes (match %d, reject %d, no-match %d), %d divergent, %d generator problems, %.1fs (%.0f cases/s), seed %d, cases %d..%d",
		major, main.inst.Version(), last-first, loaded, probes, decisions["match"], decisions["reject"], decisions["no-match"],
		failures, genProblems, el.Seconds(), float64(last-first)/el.Seconds(), seed, first, last-1)
	var self1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self1)
	srvCPU := processCPU(main.cl.PID()) + processCPU(main.cl.AdminPID()) - cpu0
	if alt != nil {
		srvCPU += processCPU(alt.cl.PID()) + processCPU(alt.cl.AdminPID())
	}
	selfCPU := time.Duration(self1.Utime.Nano()+self1.Stime.Nano()-self0.Utime.Nano()-self0.Stime.Nano()) * time.Nanosecond
	// CPU, not wall time, is what predicts a quiet machine: the clusters
	// share 2 cores with everything else running.
	t.Logf("pg%d CPU: server %.1fs, test process %.1fs (shared by parallel subtests), %.1f ms server CPU per case",
		major, srvCPU.Seconds(), selfCPU.Seconds(), srvCPU.Seconds()*1000/float64(last-first))
	for _, tg := range []*target{main, alt} {
		if tg != nil {
			t.Logf("pg%d %+v time: install+reload %.1fs, view+pw %.1fs, hba %.1fs, probes %.1fs", major, tg.prof,
				tg.tInstall.Seconds(), tg.tView.Seconds(), tg.tLib.Seconds(), tg.tProbe.Seconds())
		}
	}
}

// TestReplay runs the regression files named in PGHBA_CONFORMANCE_REPLAY
// (comma-separated paths) against a real server of their version and prints
// both answers; with -update it rewrites each file with
// the server's answers. Connections are probed only when every rule of the
// file already has the method password (the file is its own password
// variant) or the file is an unedited generated case (seed and index
// regenerate the password variant).
func TestReplay(t *testing.T) {
	paths := os.Getenv("PGHBA_CONFORMANCE_REPLAY")
	if paths == "" {
		t.Skip("set PGHBA_CONFORMANCE_REPLAY to regression files")
	}
	for _, path := range strings.Split(paths, ",") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRegression(data)
		if err != nil {
			t.Fatal(err)
		}
		tg := startTarget(t, r.Version, profile{NoSSL: r.NoSSL, DBUserNS: r.DBUserNS, OAuth: r.OAuth})
		c := &Case{Seed: r.Seed, Index: r.Index, Version: r.Version, Files: r.Files, Conns: r.Conns}
		if g := Generate(r.Seed, r.Index, tg.opts); slices.EqualFunc(g.Files, r.Files, func(a, b File) bool {
			return a.Path == b.Path && a.Dir == b.Dir && a.Data == b.Data
		}) {
			c.Files = g.Files
		}
		res, err := tg.run(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: generator note: %q", path, res.generator)
		t.Logf("%s:\nserver: %+v\nhba:    %+v\ndiff:\n%s", path, *res.server, *res.lib, res.diff)
		if testkit.Update() {
			r.Want = *res.server
			r.Minor = tg.inst.Minor
			if err := os.WriteFile(path, r.Marshal(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		tg.cl.Stop()
	}
}

// processCPU returns the CPU time of a process and its reaped children
// (for a postmaster: every backend that has exited), from /proc.
func processCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	// after the command: state(0) … utime(11) stime(12) cutime(13) cstime(14)
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, k := range []int{11, 12, 13, 14} {
		n, _ := strconv.ParseInt(f[k], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100)
}
