package pgtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options tune a cluster. The zero value is the standard setup (SSL on).
type Options struct {
	NoSSL bool     // ssl = off (default: ssl = on with a self-signed certificate)
	Conf  []string // extra postgresql.conf lines, appended after the harness's own settings
	// Hosts, when set, is the content of the server's /etc/hosts. Only possible as root: the
	// postmaster then runs under `unshare -m` with this file over /etc/hosts and an
	// nsswitch.conf with "hosts: files" over /etc/nsswitch.conf (see the package doc).
	Hosts string
}

// Cluster is a running throwaway PostgreSQL cluster with an open admin session.
type Cluster struct {
	Install *Install

	mu       sync.Mutex
	opts     Options
	base     string
	dataDir  string
	confDir  string
	sockDir  string
	ownSock  bool // sockDir is a separate directory to remove
	logPath  string
	port     int
	cmd      *exec.Cmd
	pid      int
	done     chan struct{}
	waitErr  error
	admin    *wireConn
	adminPID int
	log      *logReader
	owner    *syscall.Credential // nil when not running as root
	written  map[string]bool
	stopped  bool
	pmLog    []*LogEntry // postmaster messages read by probes, kept for the next Reload
}

// BootstrapHBA is the pg_hba.conf a new cluster starts with: it lets the admin session in.
const BootstrapHBA = "local all all trust\n"

// Start starts a cluster for a test and stops it in t.Cleanup. With Options.Hosts set and
// not running as root, the test is skipped.
func Start(t testing.TB, inst *Install, opt Options) *Cluster {
	t.Helper()
	if opt.Hosts != "" && os.Geteuid() != 0 {
		t.Skip("pgtest: Options.Hosts needs root (private mount namespace)")
	}
	c, err := StartCluster(inst, opt)
	if err != nil {
		t.Fatalf("pgtest: starting %s: %v", inst, err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("pgtest: stopping %s: %v", inst, err)
		}
	})
	return c
}

// StartCluster is Start for code without a testing.TB; call Stop when done.
func StartCluster(inst *Install, opt Options) (*Cluster, error) {
	c := &Cluster{Install: inst, opts: opt, written: map[string]bool{}}
	if err := c.setup(); err != nil {
		c.removeDirs()
		return nil, err
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = c.launch()
		if err == nil || !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		c.kill()
		c.removeDirs()
		return nil, err
	}
	return c, nil
}

var errPortTaken = errors.New("port taken")

func (c *Cluster) setup() error {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs OS user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.owner = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	} else if c.opts.Hosts != "" {
		return errors.New("Options.Hosts needs root")
	}
	base, err := os.MkdirTemp("", "pghba-")
	if err != nil {
		return err
	}
	c.base = base
	c.dataDir = filepath.Join(base, "data")
	c.confDir = filepath.Join(base, "conf")
	c.logPath = filepath.Join(base, "server.log")
	c.sockDir = filepath.Join(base, "s")
	if len(c.sockDir)+len("/.s.PGSQL.65535") > 100 {
		d, err := os.MkdirTemp("/tmp", "pgs-")
		if err != nil {
			return err
		}
		c.sockDir, c.ownSock = d, true
	} else if err := os.Mkdir(c.sockDir, 0o700); err != nil {
		return err
	}
	for _, d := range []string{c.confDir, filepath.Join(base, "ssl")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(c.HBAFile(), []byte(BootstrapHBA), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(c.IdentFile(), nil, 0o600); err != nil {
		return err
	}
	sslFiles := map[string]string{}
	if !c.opts.NoSSL {
		cert, key, err := serverCert()
		if err != nil {
			return fmt.Errorf("certificate: %v", err)
		}
		sslFiles["cert"] = filepath.Join(base, "ssl", "server.crt")
		sslFiles["key"] = filepath.Join(base, "ssl", "server.key")
		if err := os.WriteFile(sslFiles["cert"], cert, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(sslFiles["key"], key, 0o600); err != nil {
			return err
		}
	}
	if c.opts.Hosts != "" {
		if err := c.writeNameFiles(); err != nil {
			return err
		}
	}
	if err := c.chownTree(base); err != nil {
		return err
	}
	if c.ownSock {
		if err := c.chownTree(c.sockDir); err != nil {
			return err
		}
	}
	if err := c.os0755(base); err != nil {
		return err
	}

	initdb := exec.Command(filepath.Join(c.Install.BinDir, "initdb"), "-D", c.dataDir,
		"--no-locale", "-E", "UTF8", "-A", "trust", "-U", "postgres", "-N")
	initdb.Env = serverEnv()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}

	conf := []string{
		"",
		"# pgtest settings",
		"listen_addresses = '127.0.0.1,::1'",
		"unix_socket_directories = " + quoteConf(c.sockDir),
		"hba_file = " + quoteConf(c.HBAFile()),
		"ident_file = " + quoteConf(c.IdentFile()),
		"log_connections = on",
		"lc_messages = 'C'",
		"log_line_prefix = '%m [%p] %r '",
		"log_timezone = 'UTC'",
		"logging_collector = off",
		"log_destination = 'stderr'",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"shared_buffers = 16MB",
		"max_connections = 40",
		"max_wal_senders = 5",
		"autovacuum = off",
	}
	if c.opts.NoSSL {
		conf = append(conf, "ssl = off")
	} else {
		conf = append(conf, "ssl = on",
			"ssl_cert_file = "+quoteConf(sslFiles["cert"]),
			"ssl_key_file = "+quoteConf(sslFiles["key"]))
	}
	conf = append(conf, c.opts.Conf...)
	f, err := os.OpenFile(filepath.Join(c.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.Join(conf, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// os0755 lets the server user traverse base (it owns it anyway) and the test user read it.
func (c *Cluster) os0755(base string) error { return os.Chmod(base, 0o755) }

func serverEnv() []string {
	return []string{"LC_ALL=C", "LANG=C", "TZ=UTC", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
}

func quoteConf(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (c *Cluster) chownTree(root string) error {
	if c.owner == nil {
		return nil
	}
	uid, gid := int(c.owner.Uid), int(c.owner.Gid)
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func (c *Cluster) writeNameFiles() error {
	etc := filepath.Join(c.base, "etc")
	if err := os.Mkdir(etc, 0o755); err != nil {
		return err
	}
	hosts := c.opts.Hosts
	if !strings.HasSuffix(hosts, "\n") {
		hosts += "\n"
	}
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte(hosts), 0o644); err != nil {
		return err
	}
	var nss []string
	if sys, err := os.ReadFile("/etc/nsswitch.conf"); err == nil {
		for _, l := range strings.Split(string(sys), "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == "hosts:" {
				continue
			}
			nss = append(nss, l)
		}
	}
	nss = append(nss, "hosts: files", "")
	return os.WriteFile(filepath.Join(etc, "nsswitch.conf"), []byte(strings.Join(nss, "\n")), 0o644)
}

// freePort finds a TCP port free on both 127.0.0.1 and ::1.
func freePort() (int, error) {
	for range 50 {
		l4, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l4.Addr().(*net.TCPAddr).Port
		l6, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port))
		l4.Close()
		if err != nil {
			continue
		}
		l6.Close()
		return port, nil
	}
	return 0, errors.New("no port free on both 127.0.0.1 and ::1")
}

func (c *Cluster) launch() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	if c.log == nil {
		if c.log, err = openLog(c.logPath); err != nil {
			return err
		}
	}
	postgres := filepath.Join(c.Install.BinDir, "postgres")
	args := []string{"-D", c.dataDir, "-p", strconv.Itoa(port)}
	var cmd *exec.Cmd
	if c.opts.Hosts != "" {
		etc := filepath.Join(c.base, "etc")
		script := `mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"`
		cargs := []string{"-m", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh",
			filepath.Join(etc, "hosts"), filepath.Join(etc, "nsswitch.conf"),
			"setpriv", "--reuid=" + strconv.Itoa(int(c.owner.Uid)), "--regid=" + strconv.Itoa(int(c.owner.Gid)),
			"--clear-groups", "--pdeathsig=QUIT", "--", postgres}
		cmd = exec.Command("unshare", append(cargs, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	} else {
		cmd = exec.Command(postgres, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner, Pdeathsig: syscall.SIGQUIT}
	}
	cmd.Env = serverEnv()
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd = cmd
	c.done = make(chan struct{})
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()

	deadline := time.Now().Add(60 * time.Second)
	for delay := 2 * time.Millisecond; ; {
		select {
		case <-c.done:
			tail := c.logTail()
			if strings.Contains(tail, "could not bind") || strings.Contains(tail, "could not create any TCP/IP sockets") {
				return fmt.Errorf("%w: %d", errPortTaken, port)
			}
			return fmt.Errorf("postmaster exited (%v); log:\n%s", c.waitErr, tail)
		default:
		}
		wc, st, err := c.connect(c.sockDir, [][2]string{{"user", "postgres"}, {"database", "postgres"}}, "")
		if err == nil && st.ready {
			c.admin, c.adminPID = wc, st.backendPID
			break
		}
		if wc != nil {
			wc.close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after 60s (last: %v %v); log:\n%s", err, st.err, c.logTail())
		}
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay += delay / 2
		}
	}
	pidFile, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return err
	}
	c.pid, err = strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	if err != nil {
		return fmt.Errorf("postmaster.pid: %v", err)
	}
	for _, e := range c.log.read() {
		if strings.HasPrefix(e.Message, "could not bind") {
			// Someone took the port on one of the two families in the meantime.
			_ = c.admin.nc.Close()
			c.admin = nil
			_ = c.kill()
			return fmt.Errorf("%w: %s", errPortTaken, e.Message)
		}
	}
	return nil
}

// Running reports whether the postmaster is still alive.
func (c *Cluster) Running() bool {
	select {
	case <-c.done:
		return false
	default:
		return !processGone(c.cmd.Process.Pid)
	}
}

// readLog reads new log entries, keeping the postmaster's for the next Reload.
func (c *Cluster) readLog() []*LogEntry {
	entries := c.log.read()
	for _, e := range entries {
		if e.PID == c.pid {
			c.pmLog = append(c.pmLog, e)
		}
	}
	return entries
}

// connect opens a session over the Unix socket in dir.
func (c *Cluster) connect(dir string, params [][2]string, password string) (*wireConn, authState, error) {
	nc, err := net.DialTimeout("unix", filepath.Join(dir, fmt.Sprintf(".s.PGSQL.%d", c.port)), 5*time.Second)
	if err != nil {
		return nil, authState{}, err
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	wc := newWireConn(nc)
	if err := wc.startup(params); err != nil {
		wc.close()
		return nil, authState{}, err
	}
	st, err := wc.handshake(params[0][1], password)
	if err != nil || !st.ready {
		wc.close()
		return nil, st, err
	}
	_ = nc.SetDeadline(time.Time{})
	return wc, st, nil
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Dir is the directory holding pg_hba.conf, pg_ident.conf and the files WriteFiles creates.
func (c *Cluster) Dir() string { return c.confDir }

// HBAFile is the server's hba_file, Dir()/pg_hba.conf.
func (c *Cluster) HBAFile() string { return filepath.Join(c.confDir, "pg_hba.conf") }

// IdentFile is the server's ident_file, Dir()/pg_ident.conf.
func (c *Cluster) IdentFile() string { return filepath.Join(c.confDir, "pg_ident.conf") }

// DataDir is the cluster's data directory.
func (c *Cluster) DataDir() string { return c.dataDir }

// LogFile is the server log (stderr of the postmaster and its children).
func (c *Cluster) LogFile() string { return c.logPath }

// SocketDir is the Unix socket directory.
func (c *Cluster) SocketDir() string { return c.sockDir }

// Port is the TCP port on 127.0.0.1 and ::1 (and the Unix socket's number).
func (c *Cluster) Port() int { return c.port }

// PID is the postmaster's process id.
func (c *Cluster) PID() int { return c.pid }

// AdminPID is the backend process id of the admin session.
func (c *Cluster) AdminPID() int { return c.adminPID }

// Exec runs SQL (one or more statements) in the admin session.
func (c *Cluster) Exec(sql string) error {
	_, err := c.Query(sql)
	return err
}

// Query runs SQL in the admin session and returns the rows of all its statements, in text
// form; a NULL is nil.
func (c *Cluster) Query(sql string) ([][]*string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admin == nil {
		return nil, errors.New("pgtest: cluster stopped")
	}
	res, err := c.admin.simpleQuery(sql)
	return res.rows, err
}

// WriteFiles installs files under Dir(): keys are slash-separated relative paths (parent
// directories are created), values the contents. Files written by the previous call and absent
// from files are removed. Everything belongs to the server's OS user.
func (c *Cluster) WriteFiles(files map[string][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range files {
		if !validRel(name) {
			return fmt.Errorf("pgtest: WriteFiles: bad relative path %q", name)
		}
	}
	for name := range c.written {
		if _, keep := files[name]; keep {
			continue
		}
		p := filepath.Join(c.confDir, filepath.FromSlash(name))
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		for d := filepath.Dir(p); d != c.confDir && strings.HasPrefix(d, c.confDir); d = filepath.Dir(d) {
			if os.Remove(d) != nil {
				break
			}
		}
		delete(c.written, name)
	}
	for name, data := range files {
		p := filepath.Join(c.confDir, filepath.FromSlash(name))
		if err := c.mkdirs(filepath.Dir(p)); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		if c.owner != nil {
			if err := os.Chown(p, int(c.owner.Uid), int(c.owner.Gid)); err != nil {
				return err
			}
		}
		c.written[name] = true
	}
	return nil
}

func validRel(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

func (c *Cluster) mkdirs(dir string) error {
	if dir == c.confDir {
		return nil
	}
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("pgtest: %s is not a directory", dir)
		}
		return nil
	}
	if err := c.mkdirs(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if c.owner != nil {
		return os.Chown(dir, int(c.owner.Uid), int(c.owner.Gid))
	}
	return nil
}

// Stop shuts the server down (immediate shutdown, then SIGKILL after 10 s) and removes its
// directories. Calling it again is harmless.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	if c.admin != nil {
		_ = c.admin.nc.Close()
		c.admin = nil
	}
	err := c.kill()
	if c.log != nil {
		c.log.close()
	}
	if rerr := c.removeDirs(); err == nil {
		err = rerr
	}
	return err
}

func (c *Cluster) kill() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	pid := c.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-c.done:
			return nil
		case <-time.After(2 * time.Millisecond):
		}
		if processGone(pid) {
			return nil
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			select {
			case <-c.done:
				return nil
			case <-time.After(5 * time.Second):
				return fmt.Errorf("pgtest: postmaster %d did not exit", pid)
			}
		}
	}
}

// processGone reports whether pid no longer runs: absent, or a zombie waiting to be reaped.
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] == 'Z' || s[i+2] == 'X'
}

func (c *Cluster) removeDirs() error {
	var err error
	if c.base != "" {
		err = os.RemoveAll(c.base)
	}
	if c.ownSock {
		if e := os.RemoveAll(c.sockDir); err == nil {
			err = e
		}
	}
	return err
}
