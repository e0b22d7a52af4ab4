package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/pghba/pghba/hba"
)

func TestParseBool(t *testing.T) {
	for _, tc := range []struct {
		in      string
		val, ok bool
	}{
		{"true", true, true}, {"TRU", true, true}, {"t", true, true}, {"yes", true, true}, {"y", true, true},
		{"on", true, true}, {"1", true, true}, {"false", false, true}, {"f", false, true}, {"no", false, true},
		{"off", false, true}, {"of", false, true}, {"0", false, true},
		{"o", false, false}, {"", false, false}, {"truee", false, false}, {"2", false, false}, {"database", false, false},
	} {
		val, ok := parseBool(tc.in)
		if val != tc.val || ok != tc.ok {
			t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tc.in, val, ok, tc.val, tc.ok)
		}
	}
}

func TestConnFor(t *testing.T) {
	a := netip.MustParseAddr("127.0.0.5")
	c, bad := connFor(false, a, true, map[string]string{"user": "u", "database": "d", "replication": "database"})
	if bad != nil || c != (hba.Conn{Addr: a, SSL: true, User: "u", Database: "d", Replication: hba.LogicalReplication}) {
		t.Errorf("logical: %+v %v", c, bad)
	}
	c, bad = connFor(true, a, true, map[string]string{"user": "u", "replication": "on"})
	if bad != nil || c != (hba.Conn{Local: true, User: "u", Replication: hba.PhysicalReplication}) {
		t.Errorf("local physical: %+v %v", c, bad)
	}
	if _, bad = connFor(false, a, false, map[string]string{"user": "u", "replication": "maybe"}); bad == nil || bad.Code != "22023" {
		t.Errorf("bad replication value: %v", bad)
	}
	if _, bad = connFor(false, a, false, map[string]string{"database": "d"}); bad == nil || bad.Code != "28000" {
		t.Errorf("no user: %v", bad)
	}
}

func TestTCPNetwork(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1:1": "tcp4", "[::1]:1": "tcp6", ":1": "tcp", "localhost:1": "tcp", "0.0.0.0:1": "tcp4", "[::]:1": "tcp6"} {
		if got, err := tcpNetwork(in); err != nil || got != want {
			t.Errorf("tcpNetwork(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := tcpNetwork("nonsense"); err == nil {
		t.Error("tcpNetwork(nonsense): no error")
	}
}

func TestParseFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{"-listen", "127.0.0.1:1", "-listen", "unix:/tmp/x", "-upstream", "h:1", "-hba", "f", "-reuseport", "-max-conns", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listen) != 2 || cfg.Listen[1] != "unix:/tmp/x" || !cfg.ReusePort || cfg.MaxConns != 3 || cfg.Upstream != "h:1" {
		t.Errorf("parseFlags: %+v", cfg)
	}
	if _, _, err := parseFlags([]string{"-upstream", "h:1"}, io.Discard); err == nil {
		t.Error("no -listen: no error")
	}
}

func TestListenIPv6AndUnix(t *testing.T) {
	ctx := context.Background()
	ln, err := Listen(ctx, "[::1]:0", true)
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	path := filepath.Join(t.TempDir(), ".s.PGSQL.5432")
	for range 2 { // the second time over the stale socket file
		ln, err := Listen(ctx, "unix:"+path, false)
		if err != nil {
			t.Fatal(err)
		}
		if ln.Addr().Network() != "unix" {
			t.Errorf("network %q", ln.Addr().Network())
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close()
	}
}

// fakeProxy serves a proxy in front of a fake upstream listener; it needs
// no PostgreSQL.
func fakeProxy(t *testing.T, rules string, maxConns int) (proxyAddr string, upstream net.Listener, logs *syncBuffer) {
	return fakeProxyConfig(t, rules, func(cfg *Config) { cfg.MaxConns = maxConns })
}

func fakeProxyConfig(t testing.TB, rules string, mod func(*Config)) (proxyAddr string, upstream net.Listener, logs *syncBuffer) {
	t.Helper()
	upstream, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { upstream.Close() })
	hbaPath := filepath.Join(t.TempDir(), "pg_hba.conf")
	os.WriteFile(hbaPath, []byte(rules), 0o644)
	logs = &syncBuffer{}
	cfg := Config{Upstream: upstream.Addr().String(), HBAFile: hbaPath, PollInterval: -1}
	mod(&cfg)
	p, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen(ctx, "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; p.Close() })
	return ln.Addr().String(), upstream, logs
}

func dialProxy(t testing.TB, addr string) (net.Conn, *pgproto3.Frontend) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c, pgproto3.NewFrontend(c, c)
}

func readByte(t *testing.T, c net.Conn) byte {
	t.Helper()
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		t.Fatal(err)
	}
	return b[0]
}

// TestRelayWithoutServer negotiates SSL and GSS refusals, sends a startup
// message with a pipelined query, and checks that the fake upstream gets
// both and that its answer reaches the client.
func TestRelayWithoutServer(t *testing.T) {
	addr, upstream, _ := fakeProxy(t, "host all all 127.0.0.1/32 trust\n", 0)
	got := make(chan error, 1)
	go func() {
		u, err := upstream.Accept()
		if err != nil {
			got <- err
			return
		}
		defer u.Close()
		be := pgproto3.NewBackend(u, u)
		m, err := be.ReceiveStartupMessage()
		if err != nil {
			got <- err
			return
		}
		sm, ok := m.(*pgproto3.StartupMessage)
		if !ok || sm.Parameters["user"] != "alice" || sm.Parameters["application_name"] != "relay" {
			got <- fmt.Errorf("upstream got %#v", m)
			return
		}
		q, err := be.Receive()
		if qq, ok := q.(*pgproto3.Query); err != nil || !ok || qq.String != "SELECT 1" {
			got <- fmt.Errorf("upstream got %#v, %v; want the pipelined query", q, err)
			return
		}
		be.Send(&pgproto3.AuthenticationOk{})
		be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		got <- be.Flush()
	}()

	c, fe := dialProxy(t, addr)
	fe.Send(&pgproto3.GSSEncRequest{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if b := readByte(t, c); b != 'N' {
		t.Fatalf("GSSENCRequest answered %q, want N", b)
	}
	fe.Send(&pgproto3.SSLRequest{})
	fe.Flush()
	if b := readByte(t, c); b != 'N' {
		t.Fatalf("SSLRequest without a certificate answered %q, want N", b)
	}
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "alice", "application_name": "relay"}})
	fe.Send(&pgproto3.Query{String: "SELECT 1"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	for _, want := range []pgproto3.BackendMessage{&pgproto3.AuthenticationOk{}, &pgproto3.ReadyForQuery{}} {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(interface{ Backend() }); !ok || typeName(m) != typeName(want) {
			t.Fatalf("client got %T, want %T", m, want)
		}
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func TestCancelForwardedWithoutServer(t *testing.T) {
	addr, upstream, _ := fakeProxy(t, "host all all 127.0.0.1/32 reject\n", 0)
	got := make(chan any, 1)
	go func() {
		u, err := upstream.Accept()
		if err != nil {
			got <- err
			return
		}
		defer u.Close()
		m, err := pgproto3.NewBackend(u, u).ReceiveStartupMessage()
		if err != nil {
			got <- err
			return
		}
		cr, _ := m.(*pgproto3.CancelRequest)
		if cr == nil {
			got <- m
			return
		}
		got <- *cr
	}()
	c, fe := dialProxy(t, addr)
	fe.Send(&pgproto3.CancelRequest{ProcessID: 4242, SecretKey: []byte{1, 2, 3, 4}})
	fe.Flush()
	r := <-got
	cr, ok := r.(pgproto3.CancelRequest)
	if !ok || cr.ProcessID != 4242 || !bytes.Equal(cr.SecretKey, []byte{1, 2, 3, 4}) {
		t.Fatalf("upstream got %#v", r)
	}
	// The proxy closes the client connection without an answer.
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("client read %d bytes, %v; want EOF", n, err)
	}
}

func TestStartupRefusals(t *testing.T) {
	addr, upstream, _ := fakeProxy(t, "host all all 127.0.0.1/32 trust\n", 1)
	// Hold one relayed connection open to reach -max-conns.
	accepted := make(chan net.Conn, 1)
	go func() {
		u, err := upstream.Accept()
		if err == nil {
			accepted <- u
		}
	}()
	_, holder := dialProxy(t, addr)
	holder.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "alice"}})
	holder.Flush()
	u := <-accepted
	defer u.Close()

	for _, tc := range []struct {
		params   map[string]string
		code     string
		severity string
	}{
		{map[string]string{"user": "bob"}, "53300", "FATAL"},
	} {
		_, fe := dialProxy(t, addr)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: tc.params})
		fe.Flush()
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		er, ok := m.(*pgproto3.ErrorResponse)
		if !ok || er.Code != tc.code || er.Severity != tc.severity {
			t.Errorf("%v: got %#v, want %s %s", tc.params, m, tc.severity, tc.code)
		}
	}
}

func TestMalformedStartup(t *testing.T) {
	addr, _, _ := fakeProxy(t, "host all all 127.0.0.1/32 trust\n", 0)
	for _, tc := range []struct {
		params map[string]string
		code   string
		msg    string
	}{
		{map[string]string{"database": "x"}, "28000", "no PostgreSQL user name specified in startup packet"},
		{map[string]string{"user": "u", "replication": "sometimes"}, "22023", `invalid value for parameter "replication": "sometimes"`},
	} {
		_, fe := dialProxy(t, addr)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: tc.params})
		fe.Flush()
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		er, ok := m.(*pgproto3.ErrorResponse)
		if !ok || er.Code != tc.code || er.Severity != "FATAL" || er.Message != tc.msg {
			t.Errorf("%v: got %#v, want FATAL %s %q", tc.params, m, tc.code, tc.msg)
		}
	}

	// Bytes pipelined behind an SSLRequest are refused (they would be read
	// as if they were encrypted).
	c, fe := dialProxy(t, addr)
	fe.Send(&pgproto3.SSLRequest{})
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
	fe.Flush()
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Errorf("after a pipelined SSLRequest: read %q, %v; want the connection closed", b, err)
	}
}

// TestRolesUnavailable: until role memberships are known, a connection
// that reaches a +role test is refused, not guessed.
func TestRolesUnavailable(t *testing.T) {
	addr, _, logs := fakeProxyConfig(t, "host all +admins 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 trust\n",
		func(cfg *Config) { cfg.RolesDSN = "host=127.0.0.1 port=1 user=nobody connect_timeout=1" })
	_, fe := dialProxy(t, addr)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "alice"}})
	fe.Flush()
	m, err := fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	er, ok := m.(*pgproto3.ErrorResponse)
	if !ok || er.Severity != "FATAL" || er.Code != "28000" || !strings.Contains(er.Message, "could not be evaluated") {
		t.Fatalf("got %#v, want FATAL 28000 \"… could not be evaluated …\"", m)
	}
	if !strings.Contains(logs.String(), "outcome=unresolved") {
		t.Errorf("log lacks outcome=unresolved:\n%s", logs)
	}
}

// BenchmarkRefusedConnection measures a whole refused connection through
// the proxy: TCP connect, startup packet, decision, FATAL, close.
func BenchmarkRefusedConnection(b *testing.B) {
	addr, _, _ := fakeProxyConfig(b, "host all alice 127.0.0.1/32 trust\nhost all carol 127.0.0.1/32 reject\n", func(*Config) {})
	startup := &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "carol", "database": "postgres"}}
	b.ReportAllocs()
	for b.Loop() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		fe := pgproto3.NewFrontend(c, c)
		fe.Send(startup)
		if err := fe.Flush(); err != nil {
			b.Fatal(err)
		}
		m, err := fe.Receive()
		if er, ok := m.(*pgproto3.ErrorResponse); err != nil || !ok || er.Code != "28000" {
			b.Fatalf("got %#v, %v", m, err)
		}
		c.Close()
	}
}
