package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A small starter for a throwaway PostgreSQL 15 cluster, shared by the
// tests of this package: initdb into a temporary directory, run postgres as
// OS user postgres on a random loopback port with trust authentication.

const (
	pgBin    = "/usr/lib/postgresql/15/bin"
	psqlPath = "/usr/bin/psql"
)

type cluster struct {
	dir    string
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
	admin  *pgx.Conn
}

var (
	clusterOnce sync.Once
	shared      *cluster
	sharedErr   error
)

func TestMain(m *testing.M) {
	// The test binary doubles as the proxy command for tests that run it
	// as separate processes (see proxyCommand).
	if os.Getenv(runAsProxyEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stderr))
	}
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	os.Exit(code)
}

// needPostgres returns the shared cluster, starting it on first use. When
// PostgreSQL 15 or psql is missing the test is skipped, or fails under
// CI=true.
func needPostgres(t testing.TB) *cluster {
	t.Helper()
	for _, f := range []string{filepath.Join(pgBin, "postgres"), filepath.Join(pgBin, "initdb"), psqlPath} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("PostgreSQL 15 is required under CI=true: %v", err)
			}
			t.Skipf("PostgreSQL 15 not installed (%v); set CI=true to make this a failure", err)
		}
	}
	clusterOnce.Do(func() { shared, sharedErr = startCluster() })
	if sharedErr != nil {
		t.Fatalf("starting PostgreSQL 15: %v", sharedErr)
	}
	return shared
}

// credential returns how to run the server: as OS user postgres when we
// are root (PostgreSQL refuses root), else as ourselves.
func credential() (*syscall.Credential, int, int, error) {
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

func freePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startCluster() (*cluster, error) {
	cred, uid, gid, err := credential()
	if err != nil {
		return nil, err
	}
	// A short path: the socket path must stay under ~100 bytes.
	dir, err := os.MkdirTemp("", "pgx-ex-")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	c := &cluster{dir: dir, exited: make(chan struct{})}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(pgBin, "initdb"), "-D", data, "--no-locale", "-E", "UTF8", "-U", "postgres", "-A", "trust", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// The proxy connects from 127.0.0.1 for every client; the server
	// trusts it (the proxy is the one enforcing the rules under test).
	hbaConf := "local all all trust\nhost all all 127.0.0.1/32 trust\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hbaConf), 0o600); err != nil {
		return nil, err
	}
	if cred != nil {
		os.Chown(filepath.Join(data, "pg_hba.conf"), uid, gid)
	}
	for range 5 {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = c.launch(cred, data); err == nil {
			return c, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

func (c *cluster) launch(cred *syscall.Credential, data string) error {
	logf, err := os.Create(filepath.Join(c.dir, "server.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(pgBin, "postgres"), "-D", data,
		"-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+c.dir,
		"-c", "lc_messages=C",
		"-c", "fsync=off",
		"-c", "max_connections=120",
		"-c", "log_line_prefix=%m [%p] %r ")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd = cmd
	c.exited = make(chan struct{})
	go func() { cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.exited:
			log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
			return fmt.Errorf("postgres exited during startup:\n%s", log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.directDSN("postgres", "disable"))
		cancel()
		if err == nil {
			c.admin = conn
			return c.setup()
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.stop()
	return errors.New("postgres did not accept connections within 30s")
}

// setup creates the roles the tests use.
func (c *cluster) setup() error {
	ctx := context.Background()
	for _, q := range []string{
		"CREATE ROLE alice LOGIN", "CREATE ROLE bob LOGIN", "CREATE ROLE carol LOGIN",
		"CREATE ROLE mallory LOGIN", "CREATE ROLE sslonly LOGIN", "CREATE ROLE plainonly LOGIN",
		"CREATE ROLE admins", "CREATE ROLE staff", "GRANT staff TO admins", "GRANT admins TO carol",
	} {
		if _, err := c.admin.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func (c *cluster) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)) }

func (c *cluster) directDSN(user, sslmode string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=postgres sslmode=%s connect_timeout=10", c.port, user, sslmode)
}

func (c *cluster) stop() {
	if c.admin != nil {
		c.admin.Close(context.Background())
		c.admin = nil
	}
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
	os.RemoveAll(c.dir)
}

// syncBuffer is a bytes.Buffer safe for the proxy's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
