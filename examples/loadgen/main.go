// Command loadgen measures connection setup side by side, in one run:
// straight to PostgreSQL 15, through the pghba proxy, and through PgBouncer
// with auth_type = hba and the same pg_hba.conf. It starts all three itself
// (loopback, random ports, temporary directories), opens connections with
// raw startup packets (pgconn for scram-sha-256), and writes a Markdown
// report. scripts/bench-proxy.sh builds and runs it; it is not part of the
// test suite.
//
//	loadgen -proxy PATH -out examples/BENCHMARKS.md [-cell 1.5s] [-clients 1,16,64] [-rules 10,1000,10000]
//
// For every subject, pg_hba.conf size, kind of connection (trust,
// scram-sha-256, no entry, reject) and number of concurrent clients, it
// runs for -cell (at most -max-per-cell connections) and reports
// connections per second, p50 and p99 setup latency (connect to
// ReadyForQuery or to the FATAL), and CPU per connection of each process
// involved, from /proc/PID/stat (utime+stime; for PostgreSQL the
// postmaster with cutime+cstime, which holds its exited backends, plus its
// live children).
//
// Clients close with SO_LINGER 0 (a reset), so that a run of tens of
// thousands of loopback connections leaves no TIME_WAIT sockets behind.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

type options struct {
	pgBin      string
	pgbouncer  string
	proxy      string
	out        string
	cell       time.Duration
	maxPerCell int
	clients    []int
	rules      []int
	rounds     int
	roundCell  time.Duration
}

func main() {
	var o options
	var clients, rules string
	flag.StringVar(&o.pgBin, "pgbin", "/usr/lib/postgresql/15/bin", "PostgreSQL 15 binaries")
	flag.StringVar(&o.pgbouncer, "pgbouncer", "/usr/sbin/pgbouncer", "PgBouncer binary")
	flag.StringVar(&o.proxy, "proxy", "", "the proxy binary (go build ./proxy)")
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "report to write")
	flag.DurationVar(&o.cell, "cell", 1500*time.Millisecond, "time per measurement")
	flag.IntVar(&o.maxPerCell, "max-per-cell", 4000, "connections per measurement at most")
	flag.StringVar(&clients, "clients", "1,16,64", "concurrent clients")
	flag.StringVar(&rules, "rules", "10,1000,10000", "pg_hba.conf sizes (rules)")
	flag.DurationVar(&o.roundCell, "round-cell", 3*time.Second, "time per measurement in the interleaved rounds")
	flag.IntVar(&o.rounds, "rounds", 8, "interleaved rounds for the 10 vs 10,000 rules comparison")
	flag.Parse()
	var err error
	if o.clients, err = ints(clients); err == nil {
		o.rules, err = ints(rules)
	}
	if err == nil && o.proxy == "" {
		err = errors.New("-proxy is required")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if err := bench(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
}

// ---- processes ----

// runAs returns the credential to run servers with: OS user postgres when
// we are root (PostgreSQL and PgBouncer refuse root).
func runAs() (*syscall.Credential, int, int, error) {
	if os.Geteuid() != 0 {
		return nil, -1, -1, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("running as root needs OS user postgres: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid, nil
}

type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
}

func start(name string, cred *syscall.Credential, logPath string, bin string, args ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.exited) }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitPort waits until a startup as trustuser on port gets any answer.
func waitPort(p *proc, port int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited during startup", p.name)
		default:
		}
		if r := attempt(port, "trustuser"); r.err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not answering on %d within 30s", p.name, port)
}

// ---- CPU accounting ----

var clkTck = 100.0 // sysconf(_SC_CLK_TCK) on Linux

// statTimes returns utime+stime and cutime+cstime of pid, in seconds.
func statTimes(pid int) (self, children float64, ppid int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+2:])
	// f[0] is field 3 (state); utime is field 14, so f[11].
	num := func(k int) float64 { v, _ := strconv.ParseFloat(f[k], 64); return v }
	ppid, _ = strconv.Atoi(f[1])
	return (num(11) + num(12)) / clkTck, (num(13) + num(14)) / clkTck, ppid, nil
}

// cpuOf returns the CPU seconds used so far by pid; withChildren adds its
// reaped children and its live children (a PostgreSQL postmaster and its
// backends).
func cpuOf(pid int, withChildren bool) float64 {
	self, reaped, _, err := statTimes(pid)
	if err != nil {
		return 0
	}
	if !withChildren {
		return self
	}
	total := self + reaped
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		s, _, ppid, err := statTimes(child)
		if err == nil && ppid == pid {
			total += s
		}
	}
	return total
}

func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// ---- connections ----

type result struct {
	allowed bool
	msg     string // the FATAL's message when refused
	code    string
	err     error // anything else: not an answer
	lat     time.Duration
}

// attempt opens one connection with a raw startup packet and reads until
// ReadyForQuery (allowed; a Terminate is then sent) or an ErrorResponse.
func attempt(port int, user string) result {
	return attemptDB(port, user, "postgres")
}

func attemptDB(port int, user, db string) result {
	t0 := time.Now()
	c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
	if err != nil {
		return result{err: err}
	}
	defer closeReset(c)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	pkt, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": user, "database": db}}).Encode(nil)
	if _, err := c.Write(pkt); err != nil {
		return result{err: err}
	}
	fe := pgproto3.NewFrontend(c, c)
	for {
		m, err := fe.Receive()
		if err != nil {
			return result{err: err}
		}
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			return result{msg: m.Message, code: m.Code, lat: time.Since(t0)}
		case *pgproto3.ReadyForQuery:
			lat := time.Since(t0)
			fe.Send(&pgproto3.Terminate{})
			fe.Flush()
			return result{allowed: true, lat: lat}
		case *pgproto3.AuthenticationOk, *pgproto3.ParameterStatus, *pgproto3.BackendKeyData, *pgproto3.NoticeResponse:
		default:
			return result{err: fmt.Errorf("unexpected %T (a password request?)", m)}
		}
	}
}

// attemptSCRAM connects with pgconn and a password.
func attemptSCRAM(port int, user, password string) result {
	t0 := time.Now()
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=postgres sslmode=disable connect_timeout=10", port, user, password))
	if err != nil {
		return result{err: err}
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetLinger(0)
		}
		return c, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return result{msg: pe.Message, code: pe.Code, lat: time.Since(t0)}
		}
		return result{err: err}
	}
	lat := time.Since(t0)
	conn.Close(ctx)
	return result{allowed: true, lat: lat}
}

// closeReset closes with a reset: no TIME_WAIT on either side.
func closeReset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// ---- one measurement ----

type kind struct {
	name, user string
	allowed    bool
	scram      bool
}

var kinds = []kind{
	{"accepted, trust", "trustuser", true, false},
	{"accepted, scram-sha-256", "scramuser", true, true},
	{"refused, no entry", "nobody", false, false},
	{"refused, reject", "rejuser", false, false},
}

type watched struct {
	name     string
	pid      int
	children bool
}

type cell struct {
	subject string
	rules   int
	kind    kind
	clients int
	n       int
	wrong   int
	first   string
	rate    float64
	p50     time.Duration
	p99     time.Duration
	cpu     map[string]float64 // process -> CPU seconds per connection

	round    int           // interleaved runs: the round
	decision time.Duration // interleaved runs: mean decision time from the proxy's histogram
}

func measure(subject string, port, rules int, k kind, clients int, o options, procs []watched) cell {
	c := cell{subject: subject, rules: rules, kind: k, clients: clients, cpu: map[string]float64{}}
	before := map[string]float64{}
	for _, w := range procs {
		before[w.name] = cpuOf(w.pid, w.children)
	}
	before["loadgen"] = selfCPU()
	var next atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	deadline := time.Now().Add(o.cell)
	t0 := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && next.Add(1) <= int64(o.maxPerCell) {
				var r result
				if k.scram {
					r = attemptSCRAM(port, k.user, "secret")
				} else {
					r = attempt(port, k.user)
				}
				mu.Lock()
				if r.err != nil || r.allowed != k.allowed {
					c.wrong++
					if c.first == "" {
						c.first = fmt.Sprintf("allowed=%v msg=%q err=%v", r.allowed, r.msg, r.err)
					}
				}
				mu.Unlock()
				if r.err == nil {
					mine = append(mine, r.lat)
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	c.n = len(lats) + c.wrong
	if c.n == 0 {
		return c
	}
	c.rate = float64(len(lats)) / elapsed.Seconds()
	slices.Sort(lats)
	if len(lats) > 0 {
		c.p50 = lats[len(lats)/2]
		c.p99 = lats[min(len(lats)-1, len(lats)*99/100)]
	}
	for _, w := range procs {
		c.cpu[w.name] = (cpuOf(w.pid, w.children) - before[w.name]) / float64(c.n)
	}
	c.cpu["loadgen"] = (selfCPU() - before["loadgen"]) / float64(c.n)
	return c
}

// ---- the run ----

// hbaFile returns a pg_hba.conf of n rules: filler rules no benchmark
// client matches (other users, databases and addresses, in the shapes real
// files have), then the rules that decide the benchmark's clients, last, so
// that every decision passes the whole file.
func hbaFile(n int) string {
	var b strings.Builder
	b.WriteString("# generated by examples/loadgen\nlocal all all trust\n")
	tail := []string{
		"host all rejuser   127.0.0.1/32 reject",
		"host all trustuser 127.0.0.1/32 trust",
		"host all scramuser 127.0.0.1/32 scram-sha-256",
	}
	methods := []string{"scram-sha-256", "md5", "trust", "reject"}
	for i := 0; i < n-1-len(tail); i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "host db%d app%d 10.%d.%d.0/24 %s\n", i, i, i/65536%256, i/256%256, methods[i%len(methods)])
		case 1:
			fmt.Fprintf(&b, "hostssl all svc%d 172.16.%d.%d/32 %s\n", i, i/256%256, i%256, methods[i%len(methods)])
		case 2:
			fmt.Fprintf(&b, "host db%d,db%d all 192.168.%d.%d/32 %s\n", i, i+1, i/256%256, i%256, methods[i%len(methods)])
		case 3:
			fmt.Fprintf(&b, "host all user%d fd00::%x/128 %s\n", i, i, methods[i%len(methods)])
		}
	}
	for _, l := range tail {
		b.WriteString(l + "\n")
	}
	return b.String()
}

type env struct {
	dir   string
	cred  *syscall.Credential
	uid   int
	gid   int
	pg    *proc
	pgPrt int
}

func (e *env) chown(path string) {
	if e.cred != nil {
		os.Chown(path, e.uid, e.gid)
	}
}

func (e *env) write(name, text string) string {
	p := filepath.Join(e.dir, name)
	os.WriteFile(p, []byte(text), 0o644)
	e.chown(p)
	return p
}

func (e *env) psql(sql string) error {
	cmd := exec.Command(filepath.Join(filepath.Dir(e.pgBinPath()), "psql"), "-X", "-q", "-h", e.dir, "-p", strconv.Itoa(e.pgPrt), "-U", "postgres", "-d", "postgres", "-c", sql)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql %q: %v\n%s", sql, err, out)
	}
	return nil
}

var pgBinDir string

func (e *env) pgBinPath() string { return filepath.Join(pgBinDir, "postgres") }

func startPG(o options) (*env, error) {
	cred, uid, gid, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgbench-")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	e := &env{dir: dir, cred: cred, uid: uid, gid: gid}
	e.chown(dir)
	pgBinDir = o.pgBin
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(o.pgBin, "initdb"), "-D", data, "--no-locale", "-E", "UTF8", "-U", "postgres", "-A", "trust", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if e.pgPrt, err = freePort(); err != nil {
		return nil, err
	}
	e.write("pg_hba.conf", hbaFile(10))
	e.pg, err = start("postgres", cred, filepath.Join(dir, "postgres.log"), filepath.Join(o.pgBin, "postgres"), "-D", data,
		"-p", strconv.Itoa(e.pgPrt), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "max_connections=300", "-c", "fsync=off", "-c", "autovacuum=off", "-c", "lc_messages=C",
		"-c", "hba_file="+filepath.Join(dir, "pg_hba.conf"), "-c", "password_encryption=scram-sha-256")
	if err != nil {
		return nil, err
	}
	return e, nil
}

// setHBA gives PostgreSQL the file of n rules and waits for the reload.
func (e *env) setHBA(n int) (string, error) {
	path := e.write("pg_hba.conf", hbaFile(n))
	if err := e.pg.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return "", err
	}
	time.Sleep(500 * time.Millisecond)
	return path, nil
}

func bench(o options) error {
	for _, f := range []string{filepath.Join(o.pgBin, "postgres"), o.pgbouncer, o.proxy} {
		if _, err := os.Stat(f); err != nil {
			return err
		}
	}
	e, err := startPG(o)
	if err != nil {
		return err
	}
	defer os.RemoveAll(e.dir)
	defer e.pg.stop()
	if err := waitPort(e.pg, e.pgPrt); err != nil {
		return err
	}
	if err := e.createRoles(); err != nil {
		return err
	}
	rep := &report{opts: o, started: time.Now().UTC()}
	rep.machine()
	e.writeUserlist()
	e.write("pgbouncer.log", "")

	l := launcher{e: e, o: o}
	total := time.Now()
	if err := rep.bySize(l); err != nil {
		return err
	}
	if err := rep.interleave(l); err != nil {
		return err
	}
	// Where PgBouncer decides differently from PostgreSQL on one file.
	if err := rep.divergences(e, l.proxy, l.bouncer); err != nil {
		return err
	}
	rep.elapsed = time.Since(total)
	pblog, _ := os.ReadFile(filepath.Join(e.dir, "pgbouncer.log"))
	rep.pgbouncerLog = string(pblog)
	return os.WriteFile(o.out, []byte(rep.markdown()), 0o644)
}

// createRoles creates the roles and databases the benchmark's and the
// probes' clients connect as.
func (e *env) createRoles() error {
	for _, q := range []string{
		"CREATE ROLE trustuser LOGIN", "CREATE ROLE scramuser LOGIN PASSWORD 'secret'", "CREATE ROLE rejuser LOGIN",
		"CREATE ROLE nobody LOGIN", "CREATE ROLE grp", "CREATE ROLE member1 LOGIN IN ROLE grp",
		"CREATE ROLE listed LOGIN", "CREATE ROLE fileuser LOGIN", "CREATE ROLE samehostuser LOGIN",
		"CREATE ROLE localhostuser LOGIN", "CREATE ROLE maskuser LOGIN", "CREATE ROLE quoteduser LOGIN",
		`CREATE ROLE "Mixed" LOGIN`, "CREATE DATABASE grp", "CREATE DATABASE member1",
	} {
		if err := e.psql(q); err != nil {
			return err
		}
	}
	return nil
}

// writeUserlist writes PgBouncer's auth_file with every client's password.
func (e *env) writeUserlist() {
	users := []string{"trustuser", "scramuser", "rejuser", "nobody", "member1", "listed", "fileuser", "samehostuser",
		"localhostuser", "maskuser", "quoteduser", "Mixed", "postgres"}
	var ul strings.Builder
	for _, u := range users {
		pw := "x"
		if u == "scramuser" {
			pw = "secret"
		}
		fmt.Fprintf(&ul, "%q %q\n", u, pw)
	}
	e.write("userlist.txt", ul.String())
}

// bouncerIni is PgBouncer's configuration for a listener on port, deciding
// with the pg_hba.conf at hbaPath and pooling to e's server.
func (e *env) bouncerIni(port int, hbaPath string) string {
	return fmt.Sprintf(`[databases]
* = host=127.0.0.1 port=%d
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = hba
auth_hba_file = %s
auth_file = %s
pool_mode = session
max_client_conn = 2000
default_pool_size = 100
max_db_connections = 0
logfile = %s
pidfile =
`, e.pgPrt, port, hbaPath, filepath.Join(e.dir, "userlist.txt"), filepath.Join(e.dir, "pgbouncer.log"))
}

// launcher starts the subjects under test, the proxy and PgBouncer, in
// front of e's server, each on a free port it waits for.
type launcher struct {
	e *env
	o options
}

// proxy starts the pghba proxy deciding with hbaPath, with extra flags.
func (l launcher) proxy(hbaPath string, extra ...string) (*proc, int, error) {
	e, o := l.e, l.o
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	px, err := start("proxy", nil, filepath.Join(e.dir, "proxy.log"), o.proxy, "-listen", "127.0.0.1:"+strconv.Itoa(port),
		"-upstream", "127.0.0.1:"+strconv.Itoa(e.pgPrt), "-hba", hbaPath, "-pg-version", "15", "-poll", "0", "-max-conns", "2000")
	if len(extra) > 0 {
		px.stop()
		px, err = start("proxy", nil, filepath.Join(e.dir, "proxy.log"), o.proxy, append([]string{"-listen", "127.0.0.1:" + strconv.Itoa(port),
			"-upstream", "127.0.0.1:" + strconv.Itoa(e.pgPrt), "-hba", hbaPath, "-pg-version", "15", "-poll", "0", "-max-conns", "2000"}, extra...)...)
	}
	if err != nil {
		return nil, 0, err
	}
	if err := waitPort(px, port); err != nil {
		px.stop()
		return nil, 0, err
	}
	return px, port, nil
}

// bouncer starts PgBouncer deciding with hbaPath.
func (l launcher) bouncer(hbaPath string) (*proc, int, error) {
	e, o := l.e, l.o
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	ini := e.write("pgbouncer.ini", e.bouncerIni(port, hbaPath))
	pb, err := start("pgbouncer", e.cred, filepath.Join(e.dir, "pgbouncer.out"), o.pgbouncer, ini)
	if err != nil {
		return nil, 0, err
	}
	if err := waitPort(pb, port); err != nil {
		pb.stop()
		out, _ := os.ReadFile(filepath.Join(e.dir, "pgbouncer.out"))
		return nil, 0, fmt.Errorf("%w\n%s", err, out)
	}
	return pb, port, nil
}

// both starts the proxy and PgBouncer deciding with hbaPath.
func (l launcher) both(hbaPath string) (px, pb *proc, pxPort, pbPort int, err error) {
	if px, pxPort, err = l.proxy(hbaPath); err != nil {
		return
	}
	if pb, pbPort, err = l.bouncer(hbaPath); err != nil {
		px.stop()
	}
	return
}

// bySize measures every subject, kind of connection and number of clients
// for each file size in o.rules, the proxy and PgBouncer started afresh per
// size.
func (rep *report) bySize(l launcher) error {
	e, o := l.e, l.o
	for _, n := range o.rules {
		hbaPath, err := e.setHBA(n)
		if err != nil {
			return err
		}
		px, pb, pxPort, pbPort, err := l.both(hbaPath)
		if err != nil {
			return err
		}
		subjects := []struct {
			name  string
			port  int
			procs []watched
		}{
			{"PostgreSQL 15", e.pgPrt, []watched{{"postgres", e.pg.pid(), true}}},
			{"pghba proxy", pxPort, []watched{{"proxy", px.pid(), false}, {"postgres", e.pg.pid(), true}}},
			{"PgBouncer", pbPort, []watched{{"pgbouncer", pb.pid(), false}, {"postgres", e.pg.pid(), true}}},
		}
		for _, k := range kinds {
			for _, cl := range o.clients {
				for _, s := range subjects {
					// Warm: a pool, caches.
					for range 3 {
						if k.scram {
							attemptSCRAM(s.port, k.user, "secret")
						} else {
							attempt(s.port, k.user)
						}
					}
					c := measure(s.name, s.port, n, k, cl, o, s.procs)
					logf("%-14s rules=%-5d %-24s clients=%-2d n=%-5d %7.0f conn/s p50=%v p99=%v wrong=%d %s", s.name, n, k.name, cl, c.n, c.rate, c.p50, c.p99, c.wrong, c.first)
					rep.cells = append(rep.cells, c)
				}
			}
		}
		px.stop()
		pb.stop()
	}
	return nil
}

// interleave measures the proxy at 10 and at 10,000 rules, interleaved (both
// proxies up at once, PostgreSQL on the 10-rule file) so that the machine's
// drift falls on both alike. It does nothing unless o.rules has both sizes.
func (rep *report) interleave(l launcher) error {
	e, o := l.e, l.o
	if !slices.Contains(o.rules, 10) || !slices.Contains(o.rules, 10000) {
		return nil
	}
	small, err := e.setHBA(10)
	if err != nil {
		return err
	}
	big := e.write("pg_hba_10000.conf", hbaFile(10000))
	mS, err := freePort()
	if err != nil {
		return err
	}
	mB, err := freePort()
	if err != nil {
		return err
	}
	pxS, pS, err := l.proxy(small, "-metrics", "127.0.0.1:"+strconv.Itoa(mS))
	if err != nil {
		return err
	}
	pxB, pB, err := l.proxy(big, "-metrics", "127.0.0.1:"+strconv.Itoa(mB))
	if err != nil {
		return err
	}
	ro := o
	ro.cell = o.roundCell
	for _, k := range []kind{kinds[0], kinds[2]} {
		for r := 0; r < o.rounds; r++ {
			type sub struct {
				rules, port, pid, metrics int
			}
			order := []sub{{10, pS, pxS.pid(), mS}, {10000, pB, pxB.pid(), mB}}
			if r%2 == 1 {
				// ABBA: a steady drift of the machine falls on both alike.
				order[0], order[1] = order[1], order[0]
			}
			for _, v := range order {
				sum0, n0 := decisionTime(v.metrics)
				c := measure("pghba proxy", v.port, v.rules, k, 16, ro, []watched{{"proxy", v.pid, false}, {"postgres", e.pg.pid(), true}})
				sum1, n1 := decisionTime(v.metrics)
				if n1 > n0 {
					c.decision = time.Duration((sum1 - sum0) / (n1 - n0) * 1e9)
				}
				c.round = r
				rep.interleaved = append(rep.interleaved, c)
			}
		}
		logf("interleaved %s done", k.name)
	}
	pxS.stop()
	pxB.stop()
	return nil
}

// ---- PgBouncer versus PostgreSQL on one file ----

const probeFile = `# generated by examples/loadgen: probes of pg_hba.conf features
local all all trust
host all +grp 127.0.0.1/32 trust
host samerole member1 127.0.0.1/32 trust
host all listed,trustuser 127.0.0.1/32 trust
host all @users.txt 127.0.0.1/32 trust
host all samehostuser samehost trust
host all localhostuser localhost trust
host all maskuser 127.0.0.1 255.255.255.255 trust
host all "quoteduser" 127.0.0.1/32 trust
host all Mixed 127.0.0.1/32 trust
host all rejuser 127.0.0.1/32 reject
`

type probe struct{ user, db, feature string }

var probes = []probe{
	{"member1", "postgres", "`+grp` (group membership)"},
	{"member1", "grp", "`samerole` database"},
	{"listed", "postgres", "user list `listed,trustuser`"},
	{"fileuser", "postgres", "`@users.txt` file of user names"},
	{"samehostuser", "postgres", "`samehost` address"},
	{"localhostuser", "postgres", "host name `localhost`"},
	{"maskuser", "postgres", "address with a separate netmask"},
	{"quoteduser", "postgres", "quoted user name"},
	{"Mixed", "postgres", "mixed-case unquoted user name (kept as written)"},
	{"rejuser", "postgres", "`reject` rule"},
	{"nobody", "postgres", "no entry"},
}

type divergence struct {
	probe      probe
	pg, pb, px result
}

func (rep *report) divergences(e *env, startProxy func(string, ...string) (*proc, int, error), startBouncer func(string) (*proc, int, error)) error {
	e.write("users.txt", "fileuser\n")
	path := e.write("pg_hba.conf", probeFile)
	e.pg.cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	// +grp and samerole need role memberships: from the server.
	pxP, pxPort, err := startProxy(path, "-roles-from-upstream", fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres", e.dir, e.pgPrt))
	if err != nil {
		return err
	}
	defer pxP.stop()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(e.dir, "proxy.log")); strings.Contains(string(b), "role memberships refreshed") {
			break
		}
	}
	pbP, pbPort, err := startBouncer(path)
	if err != nil {
		rep.pgbouncerStart = err.Error()
	} else {
		defer pbP.stop()
	}
	rep.probeFile = probeFile
	for _, p := range probes {
		d := divergence{probe: p, pg: attemptDB(e.pgPrt, p.user, p.db), px: attemptDB(pxPort, p.user, p.db)}
		if pbP != nil {
			d.pb = attemptDB(pbPort, p.user, p.db)
		} else {
			d.pb = result{err: errors.New("PgBouncer did not start with this file")}
		}
		rep.probes = append(rep.probes, d)
	}
	return nil
}

// decisionTime reads the sum and count of the proxy's decision histogram.
func decisionTime(port int) (sum, count float64) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "pghba_proxy_decision_duration_seconds_sum "); ok {
			sum, _ = strconv.ParseFloat(v, 64)
		} else if v, ok := strings.CutPrefix(l, "pghba_proxy_decision_duration_seconds_count "); ok {
			count, _ = strconv.ParseFloat(v, 64)
		}
	}
	return sum, count
}

// ---- report ----

type report struct {
	opts         options
	started      time.Time
	elapsed      time.Duration
	cpuModel     string
	cores        int
	load         string
	cells        []cell
	interleaved  []cell
	probeFile    string
	probes       []divergence
	pgbouncerLog string
	// pgbouncerStart is why PgBouncer did not start with the probe file.
	pgbouncerStart string
}

func (rep *report) machine() {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			rep.cpuModel = strings.TrimSpace(v)
			break
		}
	}
	rep.cores = runtime.NumCPU()
	l, _ := os.ReadFile("/proc/loadavg")
	rep.load = strings.Join(strings.Fields(string(l))[:3], " ")
}

func us(d float64) string { return fmt.Sprintf("%.0f µs", d*1e6) }

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

func (rep *report) find(subject string, rules int, k string, clients int) *cell {
	for i := range rep.cells {
		c := &rep.cells[i]
		if c.subject == subject && c.rules == rules && c.kind.name == k && c.clients == clients {
			return c
		}
	}
	return nil
}

// roundRatios returns, per interleaved round, the rate at 10,000 rules
// over the rate at 10.
func (rep *report) roundRatios(accepted bool) []float64 {
	var out []float64
	for i := range rep.interleaved {
		a := rep.interleaved[i]
		if a.kind.allowed != accepted || a.rules != 10 {
			continue
		}
		for _, b := range rep.interleaved {
			if b.kind.allowed == accepted && b.rules == 10000 && b.round == a.round && a.rate > 0 {
				out = append(out, b.rate/a.rate)
			}
		}
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func (rep *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	rep.mdIntro(w)
	rep.mdHeadline(w)
	rep.mdTables(w)
	rep.mdInterleaved(w)
	rep.mdDivergences(w)
	rep.mdPgbouncerLog(w)
	return b.String()
}

// mdIntro writes the title and how the run was made: machine, versions,
// cells, files and CPU accounting.
func (rep *report) mdIntro(w func(format string, args ...any)) {
	l, _ := os.ReadFile("/proc/loadavg")
	w("# Connection setup: PostgreSQL 15, the pghba proxy and PgBouncer, side by side\n\n")
	w("Written by `bash scripts/bench-proxy.sh` (examples/loadgen); do not edit by hand. Not part of CI.\n\n")
	w("- Run: %s UTC, %s in all.\n", rep.started.Format("2006-01-02 15:04"), rep.elapsed.Round(time.Second))
	w("- Machine: %s, %d logical CPUs (`/proc/cpuinfo`), load average %s at the start and %s at the end (the machine is shared; every ratio below comes from this one run).\n",
		rep.cpuModel, rep.cores, rep.load, strings.Join(strings.Fields(string(l))[:3], " "))
	w("- Loopback TCP; PostgreSQL 15 (`fsync=off`, `autovacuum=off`); PgBouncer %s (`auth_type = hba`, `pool_mode = session`, the same pg_hba.conf); the proxy built from this tree (`-pg-version 15`, INFO decision logs to a file), relaying to the same PostgreSQL.\n", pgbouncerVersion(rep.opts.pgbouncer))
	w("- Each cell: %v or %d connections, whichever comes first, after 3 warm-up connections. A connection is: TCP connect, startup packet, until ReadyForQuery (then Terminate) or the FATAL; the client resets the socket after. Trust and refused use raw startup packets, scram-sha-256 uses pgconn (its client-side SCRAM is in the latency).\n", rep.opts.cell, rep.opts.maxPerCell)
	w("- pg_hba.conf of N rules: `local all all trust`, N−4 filler rules no client matches (other users, databases, IPv4/IPv6 addresses, `hostssl`), then the 3 rules that decide (`reject` for rejuser, `trust`, `scram-sha-256`), last, so every decision passes the whole file. \"no entry\" is a user no rule names.\n")
	w("- CPU per connection: utime+stime deltas from `/proc/PID/stat` divided by connections. *postgres* is the postmaster with its reaped children (cutime+cstime: every exited backend) plus its live children; *proxy* and *pgbouncer* are their single processes; *loadgen* is the client (getrusage). Clock ticks are 10 ms, so small per-connection figures from short cells are coarse.\n\n")
}

// mdHeadline writes the table of targets and the ratios this run measured
// for them.
func (rep *report) mdHeadline(w func(format string, args ...any)) {
	w("## Headline ratios (this run)\n\n")
	w("| target | measured | |\n|---|---|---|\n")
	worst := 0.0
	var worstAt string
	for _, n := range rep.opts.rules {
		for _, k := range []string{"refused, no entry", "refused, reject"} {
			for _, cl := range rep.opts.clients {
				pg, px := rep.find("PostgreSQL 15", n, k, cl), rep.find("pghba proxy", n, k, cl)
				if pg == nil || px == nil || px.cpu["proxy"] <= 0 {
					continue
				}
				r := pg.cpu["postgres"] / px.cpu["proxy"]
				if worst == 0 || r < worst {
					worst, worstAt = r, fmt.Sprintf("%d rules, %s, clients=%d", n, k, cl)
				}
			}
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	w("| a refused connection costs the proxy ≥ 10× less CPU than PostgreSQL refusing it | worst cell %.1f× (%s) | %s |\n", worst, worstAt, verdict(worst >= 10))
	var rateS, rateB, refS, refB []float64
	for _, c := range rep.interleaved {
		switch {
		case c.kind.allowed && c.rules == 10:
			rateS = append(rateS, c.rate)
		case c.kind.allowed:
			rateB = append(rateB, c.rate)
		case c.rules == 10:
			refS = append(refS, c.rate)
		default:
			refB = append(refB, c.rate)
		}
	}
	if len(rateS) > 0 {
		ra, rr := rep.roundRatios(true), rep.roundRatios(false)
		r := median(ra)
		w("| the proxy's accept rate at 10,000 rules within 10%% of its rate at 10 rules: accepted (trust) connections, 16 clients, %d interleaved rounds | median of the rounds' ratios %.2f× (medians %.0f vs %.0f conn/s) | %s |\n",
			len(ra), r, median(rateB), median(rateS), verdict(r >= 0.9))
		r2 := median(rr)
		w("| same, refused (no entry) connections: the proxy alone, no server | %.2f× (medians %.0f vs %.0f conn/s) | %s |\n", r2, median(refB), median(refS), verdict(r2 >= 0.9))
		var dS, dB []float64
		for _, c := range rep.interleaved {
			if c.rules == 10 {
				dS = append(dS, float64(c.decision))
			} else {
				dB = append(dB, float64(c.decision))
			}
		}
		w("| (the decision alone, from the proxy's `pghba_proxy_decision_duration_seconds`) | mean %.1f µs at 10,000 rules, %.1f µs at 10 (medians over the cells) | |\n", median(dB)/1e3, median(dS)/1e3)
	}
	for _, cl := range rep.opts.clients {
		pb, pg := rep.find("PgBouncer", 10, "accepted, trust", cl), rep.find("PostgreSQL 15", 10, "accepted, trust", cl)
		if pb != nil && pg != nil && pg.rate > 0 {
			w("| PgBouncer's rate, as it is (accepted, trust, 10 rules, clients=%d) | %.0f conn/s, %.1f× PostgreSQL's %.0f | measured |\n", cl, pb.rate, pb.rate/pg.rate, pg.rate)
		}
	}
	w("\n")
}

// mdTables writes one table per file size: every kind of connection,
// number of clients and subject.
func (rep *report) mdTables(w func(format string, args ...any)) {
	for _, n := range rep.opts.rules {
		w("## %d rules\n\n", n)
		w("| connection | clients | subject | conn/s | p50 | p99 | CPU/conn: server side | CPU/conn: postgres | CPU/conn: loadgen | wrong |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, k := range kinds {
			for _, cl := range rep.opts.clients {
				for _, s := range []string{"PostgreSQL 15", "pghba proxy", "PgBouncer"} {
					c := rep.find(s, n, k.name, cl)
					if c == nil {
						continue
					}
					side := "—"
					switch s {
					case "pghba proxy":
						side = "proxy " + us(c.cpu["proxy"])
					case "PgBouncer":
						side = "pgbouncer " + us(c.cpu["pgbouncer"])
					}
					wrong := strconv.Itoa(c.wrong)
					if c.wrong > 0 {
						wrong += " (" + strings.ReplaceAll(c.first, "|", "/") + ")"
					}
					w("| %s | %d | %s | %.0f | %s | %s | %s | %s | %s | %s |\n", k.name, cl, s, c.rate, ms(c.p50), ms(c.p99), side, us(c.cpu["postgres"]), us(c.cpu["loadgen"]), wrong)
				}
			}
		}
		w("\n")
	}
}

// mdInterleaved writes the interleaved rounds of the proxy at 10 and 10,000
// rules, if the run made them.
func (rep *report) mdInterleaved(w func(format string, args ...any)) {
	if len(rep.interleaved) > 0 {
		w("## The proxy at 10 and 10,000 rules, interleaved\n\n")
		w("Both proxies running at once, PostgreSQL on the 10-rule file (so that only the proxy's file differs); in each round both are measured, in the order 10, 10,000 in even rounds and 10,000, 10 in odd ones. 16 clients. Each measurement: %v or %d connections. Decision: the mean of the proxy's decision-time histogram over the measurement.\n\n", rep.opts.roundCell, rep.opts.maxPerCell)
		w("| connection | rules | conn/s per round | median | proxy CPU/conn (median) | decision (median) |\n|---|---|---|---|---|---|\n")
		for _, k := range []kind{kinds[0], kinds[2]} {
			for _, n := range []int{10, 10000} {
				var rates, cpus, decs []float64
				var parts []string
				for _, c := range rep.interleaved {
					if c.kind.name == k.name && c.rules == n {
						rates = append(rates, c.rate)
						cpus = append(cpus, c.cpu["proxy"])
						decs = append(decs, float64(c.decision))
						parts = append(parts, fmt.Sprintf("%.0f", c.rate))
					}
				}
				w("| %s | %d | %s | %.0f | %s | %.1f µs |\n", k.name, n, strings.Join(parts, ", "), median(rates), us(median(cpus)), median(decs)/1e3)
			}
		}
		w("\n")
	}
}

// mdDivergences writes the probe file and, per probe, the three decisions.
func (rep *report) mdDivergences(w func(format string, args ...any)) {
	w("## Where PgBouncer decides differently from PostgreSQL\n\n")
	w("One pg_hba.conf given to PostgreSQL 15 (directly), to the proxy (`-pg-version 15`) and to PgBouncer (`auth_hba_file`); every probe connects from 127.0.0.1 without SSL. Through PgBouncer a connection its own file allows still meets PostgreSQL's decision when PgBouncer logs in to the server (as the same user, from 127.0.0.1), so an \"allowed\" there means both allowed it.\n\n")
	w("```\n%s```\n\n", rep.probeFile)
	w("| probe | user | database | PostgreSQL 15 | pghba proxy | PgBouncer | same as PostgreSQL? |\n|---|---|---|---|---|---|---|\n")
	show := func(r result) string {
		switch {
		case r.err != nil:
			return "error: " + strings.ReplaceAll(r.err.Error(), "|", "/")
		case r.allowed:
			return "allowed"
		}
		return "refused: " + r.code + " " + strings.ReplaceAll(r.msg, "|", "/")
	}
	same := func(a, b result) bool { return a.err == nil && b.err == nil && a.allowed == b.allowed }
	for _, d := range rep.probes {
		pbSame, pxSame := "yes", "yes"
		if !same(d.pg, d.pb) {
			pbSame = "**PgBouncer differs**"
		}
		if !same(d.pg, d.px) || (!d.pg.allowed && d.pg.msg != d.px.msg) {
			pxSame = "**proxy differs**"
		}
		w("| %s | %s | %s | %s | %s | %s | %s; %s |\n", d.probe.feature, d.probe.user, d.probe.db, show(d.pg), show(d.px), show(d.pb), pbSame, pxSame)
	}
}

// mdPgbouncerLog writes why PgBouncer did not start, if so, and its log
// lines about its hba file, each distinct message once.
func (rep *report) mdPgbouncerLog(w func(format string, args ...any)) {
	if rep.pgbouncerStart != "" {
		w("\nPgBouncer did not start with this file:\n\n```\n%s\n```\n", rep.pgbouncerStart)
	}
	w("\nPgBouncer's log lines about its hba file during the run:\n\n```\n")
	seen := map[string]bool{}
	for _, line := range strings.Split(rep.pgbouncerLog, "\n") {
		if strings.Contains(strings.ToLower(line), "hba") {
			// Drop the timestamp and pid so repeated lines fold.
			msg := line
			if i := strings.Index(line, " LOG "); i >= 0 {
				msg = line[i+1:]
			} else if i := strings.Index(line, " WARNING "); i >= 0 {
				msg = line[i+1:]
			} else if i := strings.Index(line, " ERROR "); i >= 0 {
				msg = line[i+1:]
			}
			if !seen[msg] {
				seen[msg] = true
				w("%s\n", msg)
			}
		}
	}
	w("```\n")
}

func pgbouncerVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "?"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimPrefix(strings.TrimSpace(line), "PgBouncer ")
}
