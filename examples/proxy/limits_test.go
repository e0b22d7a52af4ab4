package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// emfileListener fails every Accept with EMFILE, as a listener does when
// the process is out of descriptors.
type emfileListener struct {
	net.Listener
	calls atomic.Int64
}

func (l *emfileListener) Accept() (net.Conn, error) {
	l.calls.Add(1)
	return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
}

// TestAcceptBackoff: a listener that keeps failing is retried with a
// doubling backoff, not in a loop.
func TestAcceptBackoff(t *testing.T) {
	hbaPath := filepath.Join(t.TempDir(), "pg_hba.conf")
	writeFile(t, hbaPath, "host all all 127.0.0.1/32 trust\n")
	logs := &syncBuffer{}
	p, err := New(Config{Upstream: "127.0.0.1:1", HBAFile: hbaPath, PollInterval: -1}, newTestLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &emfileListener{Listener: inner}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	p.Serve(ctx, ln)
	// 5+10+20+40+80+160+320 ms = 635 ms: eight calls in 700 ms.
	if n := ln.calls.Load(); n < 3 || n > 12 {
		t.Errorf("%d accept calls in 700 ms, want about 8", n)
	}
	if n := strings.Count(logs.String(), "accept failed; backing off"); n < 3 || n > 12 {
		t.Errorf("%d accept failures logged, want about 8", n)
	}
}

// TestDescriptorLimit is the scenario: the proxy process (the test
// binary re-run as the command) under a 1,024-descriptor limit with
// -max-conns 100, and 1,500 idle TCP connections. The proxy never runs out
// of descriptors (no failed accept), a legitimate client meanwhile gets
// FATAL 53300 rather than a timeout, and once -authentication-timeout has
// closed the idle connections it is served.
func TestDescriptorLimit(t *testing.T) {
	c := needPostgres(t)
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skipf("no prlimit: %v", err)
	}
	// This process holds the 1,500 client ends.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 4000 {
		lim.Cur = min(lim.Max, 8192)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); lim.Cur < 4000 {
			t.Skipf("descriptor limit %d is too low for 1,500 client connections", lim.Cur)
		}
	}
	dir := t.TempDir()
	hbaPath := filepath.Join(dir, "pg_hba.conf")
	writeFile(t, hbaPath, "host all alice 127.0.0.1/32 trust\n")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	pp := &proxyProcess{logs: &syncBuffer{}, exited: make(chan error, 1)}
	pp.cmd = exec.Command("prlimit", "--nofile=1024", "--", os.Args[0], "-listen", "127.0.0.1:"+strconv.Itoa(port),
		"-upstream", c.addr(), "-hba", hbaPath, "-pg-version", "15", "-poll", "0",
		"-max-conns", "100", "-authentication-timeout", "3s")
	pp.cmd.Env = append(os.Environ(), runAsProxyEnv+"=1")
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
			t.Logf("proxy log:\n%s", pp.logs)
		}
	})
	pp.waitLog(t, "msg=listening", 1)
	// The limit applies to the proxy (prlimit execs it in place).
	if lim, err := os.ReadFile("/proc/" + strconv.Itoa(pp.cmd.Process.Pid) + "/limits"); err == nil &&
		!bytes.Contains(lim, []byte("Max open files            1024")) {
		t.Fatalf("the proxy's limits:\n%s", lim)
	}

	addr := "127.0.0.1:" + strconv.Itoa(port)
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	start := time.Now()
	for i := range 1500 {
		cn, err := net.DialTimeout("tcp4", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		idle = append(idle, cn)
	}
	ctx := context.Background()
	_, err = connect(ctx, port, "alice", "disable", "")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" {
		t.Errorf("a client while 1,500 idle connections are open: %v, want FATAL 53300", err)
	}
	if time.Since(start) < 3*time.Second {
		// The idle connections over the limit were answered too.
		answered := 0
		for _, cn := range idle[100:200] {
			cn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if m, err := pgproto3.NewFrontend(cn, cn).Receive(); err == nil {
				if er, ok := m.(*pgproto3.ErrorResponse); ok && er.Code == "53300" {
					answered++
				}
			}
		}
		if answered < 90 {
			t.Errorf("%d of 100 idle connections over the limit read FATAL 53300", answered)
		}
	}
	// After the authentication timeout the idle ones are gone.
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := connect(ctx, port, "alice", "disable", "")
		if err == nil {
			err = selectOne(ctx, conn, "alice")
			conn.Close(ctx)
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served 20 s after the idle connections timed out: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(pp.logs.String(), "accept failed") {
		t.Errorf("the proxy ran out of descriptors:\n%s", pp.logs)
	}
}

// TestProtocolVersionsAgainstServer: the proxy's answers to a protocol 2.0
// startup packet and to protocol 3.5 with a _pq_ option are those of a real
// PostgreSQL 15.
func TestProtocolVersionsAgainstServer(t *testing.T) {
	c := needPostgres(t)
	tp := startProxy(t, c, "host all all 127.0.0.1/32 trust\n", nil)
	v2pkt := make([]byte, 296)
	binary.BigEndian.PutUint32(v2pkt, 296)
	binary.BigEndian.PutUint32(v2pkt[4:], 2<<16)
	copy(v2pkt[8:], "postgres")
	copy(v2pkt[72:], "alice")
	v35, _ := (&pgproto3.StartupMessage{ProtocolVersion: 3<<16 | 5, Parameters: map[string]string{"user": "alice", "database": "postgres", "_pq_.frob": "1"}}).Encode(nil)
	raw := func(port int, pkt []byte) string {
		t.Helper()
		cn := dialFrom(t, "127.0.0.1", "127.0.0.1:"+strconv.Itoa(port))
		cn.Write(pkt)
		b, _ := io.ReadAll(cn)
		return string(b)
	}
	first := func(port int, pkt []byte) pgproto3.BackendMessage {
		t.Helper()
		cn := dialFrom(t, "127.0.0.1", "127.0.0.1:"+strconv.Itoa(port))
		cn.Write(pkt)
		m, err := pgproto3.NewFrontend(cn, cn).Receive()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// Byte for byte (protocol 2's error format).
	if srv, px := raw(c.port, v2pkt), raw(tp.port, v2pkt); srv != px || srv == "" {
		t.Errorf("protocol 2.0: server sent %q, proxy %q", srv, px)
	}
	// Allowed: the proxy relays, the server negotiates.
	srvN, ok1 := first(c.port, v35).(*pgproto3.NegotiateProtocolVersion)
	pxN, ok2 := first(tp.port, v35).(*pgproto3.NegotiateProtocolVersion)
	if !ok1 || !ok2 || srvN.NewestMinorProtocol != pxN.NewestMinorProtocol || strings.Join(srvN.UnrecognizedOptions, ",") != strings.Join(pxN.UnrecognizedOptions, ",") {
		t.Errorf("protocol 3.5: server %+v, proxy %+v", srvN, pxN)
	}
	// Refused by the proxy: its own NegotiateProtocolVersion is the server's.
	tp2 := startProxy(t, c, "host all all 127.0.0.1/32 reject\n", nil)
	if m, ok := first(tp2.port, v35).(*pgproto3.NegotiateProtocolVersion); !ok || m.NewestMinorProtocol != srvN.NewestMinorProtocol ||
		strings.Join(m.UnrecognizedOptions, ",") != strings.Join(srvN.UnrecognizedOptions, ",") {
		t.Errorf("protocol 3.5 refused by the proxy: %+v, want the server's %+v", m, srvN)
	}
}
