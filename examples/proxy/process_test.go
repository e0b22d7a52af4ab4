package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const runAsProxyEnv = "PGHBA_EXAMPLES_RUN_PROXY"

// proxyCommand returns an *exec.Cmd that runs the proxy's main with args:
// this test binary, told by the environment to be the proxy.
func proxyCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runAsProxyEnv+"=1")
	return cmd
}

type proxyProcess struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan error
}

func startProcess(t *testing.T, args ...string) *proxyProcess {
	t.Helper()
	pp := &proxyProcess{logs: &syncBuffer{}, exited: make(chan error, 1)}
	pp.cmd = proxyCommand(args...)
	pp.cmd.Stdout, pp.cmd.Stderr = pp.logs, pp.logs
	if err := pp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { pp.exited <- pp.cmd.Wait() }()
	t.Cleanup(func() {
		pp.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-pp.exited:
		case <-time.After(10 * time.Second):
			pp.cmd.Process.Kill()
			<-pp.exited
		}
		if t.Failed() {
			t.Logf("proxy %d log:\n%s", pp.cmd.Process.Pid, pp.logs)
		}
	})
	return pp
}

// waitLog waits until the process has logged s n times.
func (pp *proxyProcess) waitLog(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(pp.logs.String(), s) < n {
		select {
		case err := <-pp.exited:
			t.Fatalf("proxy exited (%v) before logging %q:\n%s", err, s, pp.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy did not log %q %d times within 30s:\n%s", s, n, pp.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReusePortProcesses runs two proxy processes on one port with
// -reuseport: the kernel spreads connections over both, and each reloads
// on SIGHUP.
func TestReusePortProcesses(t *testing.T) {
	c := needPostgres(t)
	dir := t.TempDir()
	hbaPath := filepath.Join(dir, "pg_hba.conf")
	if err := os.WriteFile(hbaPath, []byte("host all alice 127.0.0.1/32 trust\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-listen", "127.0.0.1:" + strconv.Itoa(port), "-reuseport", "-upstream", c.addr(),
		"-hba", hbaPath, "-pg-version", "15", "-poll", "0"}
	a := startProcess(t, args...)
	b := startProcess(t, args...)
	a.waitLog(t, "msg=listening", 1)
	b.waitLog(t, "msg=listening", 1)

	// Each new connection has a new source port, which the kernel hashes
	// to pick a listener: both processes are soon chosen.
	ctx := context.Background()
	served := func(pp *proxyProcess) bool { return strings.Contains(pp.logs.String(), "msg=allowed") }
	n := 0
	for ; n < 300 && !(served(a) && served(b)); n++ {
		conn, err := connect(ctx, port, "alice", "disable", "")
		if err != nil {
			t.Fatalf("connection %d: %v", n, err)
		}
		if err := selectOne(ctx, conn, "alice"); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
	}
	if !served(a) || !served(b) {
		t.Fatalf("after %d connections: process A served=%v, B served=%v", n, served(a), served(b))
	}
	t.Logf("both processes served after %d connections", n)

	// SIGHUP reloads each process (polling is off).
	replaceFile(t, hbaPath, "host all alice 127.0.0.1/32 reject\n")
	for _, pp := range []*proxyProcess{a, b} {
		pp.cmd.Process.Signal(syscall.SIGHUP)
		pp.waitLog(t, "msg=\"pg_hba.conf reloaded\"", 1)
	}
	for i := range 20 {
		conn, err := connect(ctx, port, "alice", "disable", "")
		if err == nil {
			conn.Close(ctx)
		}
		if err := checkRefusal(err, rejects("127.0.0.1", "alice", "postgres", "no encryption")); err != nil {
			t.Fatalf("connection %d after SIGHUP: %v", i, err)
		}
	}

	for _, pp := range []*proxyProcess{a, b} {
		pp.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-pp.exited:
			pp.exited <- err // for the cleanup
			if err != nil {
				t.Errorf("proxy exit: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("proxy did not stop on SIGTERM")
		}
	}
}

func TestProxyRefusesToStartWithBadFile(t *testing.T) {
	dir := t.TempDir()
	hbaPath := filepath.Join(dir, "pg_hba.conf")
	os.WriteFile(hbaPath, []byte("host all all 127.0.0.1/32 trust\nhost all all 10.0.0.0/33 trust\n"), 0o644)
	var logs syncBuffer
	code := run([]string{"-listen", "127.0.0.1:0", "-upstream", "127.0.0.1:1", "-hba", hbaPath}, &logs)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if want := fmt.Sprintf("%s:2: ", hbaPath); !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}
