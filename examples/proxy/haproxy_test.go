package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	proxyproto "github.com/pires/go-proxyproto"
)

// Tests with a real PROXY-protocol sender: HAProxy (Debian's haproxy
// package, installed by scripts/install-proxy-deps.sh) in front of the
// proxy, and a real PostgreSQL 15 behind it.

const haproxyPath = "/usr/sbin/haproxy"

func needHAProxy(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(haproxyPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("HAProxy is required under CI=true (bash scripts/install-proxy-deps.sh): %v", err)
		}
		t.Skipf("HAProxy not installed (%v): run bash scripts/install-proxy-deps.sh; set CI=true to make this a failure", err)
	}
}

// haproxy is one HAProxy process with one TCP frontend per backend spec.
type haproxy struct {
	ports map[string]int // frontend name -> port on 127.0.0.1
	logs  *syncBuffer
}

// startHAProxy runs HAProxy in the foreground with a configuration in a
// temporary directory: for each name, a frontend on a free loopback port
// relaying to a backend whose server line is servers[name] (such as
// "server p 127.0.0.1:6433 send-proxy-v2").
func startHAProxy(t *testing.T, servers map[string]string) *haproxy {
	t.Helper()
	needHAProxy(t)
	h := &haproxy{ports: map[string]int{}, logs: &syncBuffer{}}
	var b strings.Builder
	b.WriteString("global\n    maxconn 4096\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n")
	for name, server := range servers {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		h.ports[name] = port
		fmt.Fprintf(&b, "frontend fe_%s\n    bind 127.0.0.1:%d\n    default_backend be_%s\n", name, port, name)
		fmt.Fprintf(&b, "backend be_%s\n    %s\n", name, server)
	}
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	writeFile(t, cfg, b.String())
	cmd := exec.Command(haproxyPath, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = h.logs, h.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("haproxy log:\n%s\nconfiguration:\n%s", h.logs, b.String())
		}
	})
	// Wait for the listening sockets without connecting to them (a
	// connection would reach the proxy and count in its metrics).
	deadline := time.Now().Add(20 * time.Second)
	for _, port := range h.ports {
		for !listening(port) {
			select {
			case <-exited:
				t.Fatalf("haproxy exited:\n%s", h.logs)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("haproxy not listening on %d within 20s:\n%s", port, h.logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return h
}

// listening reports whether a socket listens on 127.0.0.1:port, from
// /proc/net/tcp (state 0A).
func listening(port int) bool {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == want && f[3] == "0A" {
			return true
		}
	}
	return false
}

// metricsClient keeps no idle connection (whose goroutines would count as
// leaks).
var metricsClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// metric returns the value of one sample from the proxy's /metrics, fetched
// over HTTP: name{labels} as Prometheus prints it (labels sorted), 0 when
// absent.
func metric(t *testing.T, url, sample string) float64 {
	t.Helper()
	resp, err := metricsClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// metrics3 samples several metrics.
func metrics3(t *testing.T, url string, samples []string) []float64 {
	out := make([]float64, len(samples))
	for i, s := range samples {
		out[i] = metric(t, url, s)
	}
	return out
}

// TestHAProxyHeaderAddressDecides: clients reach the proxy through HAProxy
// (send-proxy-v2 and send-proxy, i.e. versions 2 and 1) from different
// loopback source addresses; the decision follows the client address in the
// header, not HAProxy's; both addresses are logged; the metrics move with
// the decisions; HAProxy's health checks (pgsql-check, LOCAL) are answered
// without a decision.
func TestHAProxyHeaderAddressDecides(t *testing.T) {
	c := needPostgres(t)
	needHAProxy(t)
	tp := startProxy(t, c, `
host all alice 127.0.0.2/32 trust
host all alice 127.0.0.3/32 reject
host all bob   127.0.0.1/32 trust
`, func(cfg *Config) {
		cfg.ProxyListen = []string{"127.0.0.1:0"}
		cfg.ProxyNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	up := "127.0.0.1:" + strconv.Itoa(tp.ppPort)
	h := startHAProxy(t, map[string]string{
		"v2":      "server p " + up + " send-proxy-v2",
		"v1":      "server p " + up + " send-proxy",
		"checked": "option pgsql-check user alice\n    server p " + up + " send-proxy-v2 check-send-proxy check inter 100ms",
	})
	rule := func(n int) string { return tp.hbaPath + ":" + strconv.Itoa(n) }
	samples := []string{
		`pghba_proxy_decisions_total{outcome="allowed",rule="` + rule(2) + `"}`,
		`pghba_proxy_decisions_total{outcome="reject",rule="` + rule(3) + `"}`,
		`pghba_proxy_decisions_total{outcome="no-match",rule=""}`,
		`pghba_proxy_proxy_headers_total{command="proxy",version="2"}`,
		`pghba_proxy_proxy_headers_total{command="proxy",version="1"}`,
		`pghba_proxy_decision_duration_seconds_count`,
		`pghba_proxy_connections_total`,
	}
	before := metrics3(t, tp.metricsURL, samples)

	for _, fe := range []string{"v2", "v1"} {
		port := h.ports[fe]
		expectAllowed(t, port, "alice", "disable", "127.0.0.2")
		expectRefused(t, port, "alice", "disable", "127.0.0.3", rejects("127.0.0.3", "alice", "postgres", "no encryption"))
		expectRefused(t, port, "alice", "disable", "127.0.0.4", noEntry("127.0.0.4", "alice", "postgres", "no encryption"))
		// HAProxy's own address, 127.0.0.1, would let bob in.
		expectRefused(t, port, "bob", "disable", "127.0.0.2", noEntry("127.0.0.2", "bob", "postgres", "no encryption"))
	}
	after := metrics3(t, tp.metricsURL, samples)
	for i, want := range []float64{2, 2, 4, 4, 4, 8, 8} {
		if got := after[i] - before[i]; got < want || (i < 6 && got != want) {
			t.Errorf("%s moved by %v, want %v", samples[i], got, want)
		}
	}

	logs := tp.logs.String()
	for _, want := range []string{
		"msg=allowed client=127.0.0.2 client_port=",
		" proxy=127.0.0.1 proxy_dst=127.0.0.1:" + strconv.Itoa(h.ports["v2"]) + " user=alice database=postgres ssl=false rule=" + rule(2),
		" proxy=127.0.0.1 proxy_dst=127.0.0.1:" + strconv.Itoa(h.ports["v1"]) + " user=alice database=postgres ssl=false rule=" + rule(2),
		"msg=refused client=127.0.0.3 client_port=",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}

	// HAProxy's health checks arrive as LOCAL and get AuthenticationOk,
	// which pgsql-check takes for a live server; no decision is made.
	deadline := time.Now().Add(20 * time.Second)
	for metric(t, tp.metricsURL, `pghba_proxy_health_checks_total`) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("fewer than 3 health checks answered in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := metric(t, tp.metricsURL, `pghba_proxy_proxy_headers_total{command="local",version="2"}`); n < 3 {
		t.Errorf("%v LOCAL headers counted, want at least 3", n)
	}
	if strings.Contains(h.logs.String(), "is DOWN") {
		t.Errorf("HAProxy took the proxy for down:\n%s", h.logs)
	}
	if got := metric(t, tp.metricsURL, `pghba_proxy_decision_duration_seconds_count`) - after[5]; got != 0 {
		t.Errorf("health checks made %v decisions, want 0", got)
	}
}

// TestHAProxyUntrustedSender: HAProxy sending from 127.0.0.9, outside
// -proxy-networks, is refused (and logged as an attack); a trusted sender
// that sends no header is refused; a direct client outside the networks is
// an ordinary client.
func TestHAProxyUntrustedSender(t *testing.T) {
	c := needPostgres(t)
	needHAProxy(t)
	tp := startProxy(t, c, "host all alice 127.0.0.0/8 trust\n", func(cfg *Config) {
		cfg.ProxyListen = []string{"127.0.0.1:0"}
		cfg.ProxyNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	up := "127.0.0.1:" + strconv.Itoa(tp.ppPort)
	h := startHAProxy(t, map[string]string{
		"untrusted": "server p " + up + " send-proxy-v2 source 127.0.0.9",
		"noheader":  "server p " + up, // trusted (127.0.0.1), no header
	})
	ctx := context.Background()
	conn, err := connect(ctx, h.ports["untrusted"], "alice", "disable", "127.0.0.2")
	if err == nil {
		conn.Close(ctx)
		t.Fatal("untrusted sender: connection allowed")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		t.Errorf("untrusted sender: got a server error %v, want the connection closed", pe)
	}
	if want := `msg="possible attack: PROXY header from an untrusted address; refused" peer=127.0.0.9`; !strings.Contains(tp.logs.String(), want) {
		t.Errorf("log lacks the attack line for 127.0.0.9:\n%s", tp.logs)
	}
	// (A client or HAProxy may try again after the close: at least one.)
	if n := metric(t, tp.metricsURL, `pghba_proxy_proxy_header_failures_total{reason="untrusted"}`); n < 1 {
		t.Errorf("untrusted header failures = %v, want at least 1", n)
	}
	if n := metric(t, tp.metricsURL, `pghba_proxy_decisions_total{outcome="allowed",rule="`+tp.hbaPath+`:1"}`); n != 0 {
		t.Errorf("%v connections allowed from the untrusted sender", n)
	}

	conn, err = connect(ctx, h.ports["noheader"], "alice", "disable", "127.0.0.2")
	if err == nil {
		conn.Close(ctx)
		t.Fatal("trusted sender without a header: connection allowed")
	}
	if !errors.As(err, &pe) || pe.Code != "08P01" {
		t.Errorf("trusted sender without a header: %v, want FATAL 08P01", err)
	}
	if n := metric(t, tp.metricsURL, `pghba_proxy_proxy_header_failures_total{reason="missing"}`); n < 1 {
		t.Errorf("missing header failures = %v, want at least 1", n)
	}

	// A client of its own, from outside the networks, is decided on its
	// own address.
	expectAllowed(t, tp.ppPort, "alice", "disable", "127.0.0.5")
}

// TestHAProxyStalledClient: a client that connects through HAProxy and
// sends nothing is closed when -authentication-timeout runs out.
func TestHAProxyStalledClient(t *testing.T) {
	c := needPostgres(t)
	const timeout = 500 * time.Millisecond
	tp := startProxy(t, c, "host all all 127.0.0.0/8 trust\n", func(cfg *Config) {
		cfg.ProxyListen = []string{"127.0.0.1:0"}
		cfg.ProxyNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		cfg.AuthTimeout = timeout
	})
	h := startHAProxy(t, map[string]string{"v2": "server p 127.0.0.1:" + strconv.Itoa(tp.ppPort) + " send-proxy-v2"})
	cl := dialFrom(t, "127.0.0.2", "127.0.0.1:"+strconv.Itoa(h.ports["v2"]))
	start := time.Now()
	b, err := io.ReadAll(cl)
	took := time.Since(start)
	if len(b) != 0 || err != nil {
		t.Errorf("read %q, %v; want a close", b, err)
	}
	if took < timeout-50*time.Millisecond || took > timeout+5*time.Second {
		t.Errorf("closed after %v, want about %v", took, timeout)
	}
	if n := metric(t, tp.metricsURL, `pghba_proxy_handshake_failures_total{reason="timeout"}`); n != 1 {
		t.Errorf("timeouts = %v, want 1", n)
	}
	// A live client is served meanwhile and after.
	expectAllowed(t, h.ports["v2"], "alice", "disable", "127.0.0.2")
}

// TestHAProxyTooManyClients: with -max-conns 3 and three idle connections
// through HAProxy, the fourth client gets PostgreSQL's FATAL 53300; after
// one idle connection closes, clients are served again.
func TestHAProxyTooManyClients(t *testing.T) {
	c := needPostgres(t)
	tp := startProxy(t, c, "host all all 127.0.0.0/8 trust\n", func(cfg *Config) {
		cfg.ProxyListen = []string{"127.0.0.1:0"}
		cfg.ProxyNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		cfg.MaxConns = 3
	})
	h := startHAProxy(t, map[string]string{"v2": "server p 127.0.0.1:" + strconv.Itoa(tp.ppPort) + " send-proxy-v2"})
	addr := "127.0.0.1:" + strconv.Itoa(h.ports["v2"])
	var idle []net.Conn
	for range 3 {
		idle = append(idle, dialFrom(t, "127.0.0.2", addr))
	}
	deadline := time.Now().Add(10 * time.Second)
	for tp.Active() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d active connections, want 3", tp.Active())
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx := context.Background()
	conn, err := connect(ctx, h.ports["v2"], "alice", "disable", "127.0.0.2")
	if err == nil {
		conn.Close(ctx)
		t.Fatal("fourth client allowed")
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" || pe.Message != "sorry, too many clients already" || pe.Severity != "FATAL" {
		t.Fatalf("fourth client: %v; want FATAL 53300 sorry, too many clients already", err)
	}
	if n := metric(t, tp.metricsURL, `pghba_proxy_connections_over_limit_total`); n != 1 {
		t.Errorf("over-limit counter = %v, want 1", n)
	}
	if n := metric(t, tp.metricsURL, `pghba_proxy_connections_active`); n != 3 {
		t.Errorf("active connections gauge = %v, want 3", n)
	}
	idle[0].Close()
	deadline = time.Now().Add(10 * time.Second)
	for tp.Active() > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d active connections after a close, want 2", tp.Active())
		}
		time.Sleep(5 * time.Millisecond)
	}
	expectAllowed(t, h.ports["v2"], "alice", "disable", "127.0.0.2")
}

// TestRefusedFloodNoLeak: 1,000 refused connections, half through HAProxy
// (refused by pg_hba.conf on the header's address), half from a Go sender
// with bad, untrusted, truncated or missing headers, 16 at a time; then the
// proxy must serve no connection, and this process's goroutines and open
// descriptors must come back to their counts before the flood.
func TestRefusedFloodNoLeak(t *testing.T) {
	c := needPostgres(t)
	tp := startProxy(t, c, "host all alice 127.0.0.2/32 trust\nhost all all 127.0.0.3/32 reject\n", func(cfg *Config) {
		cfg.ProxyListen = []string{"127.0.0.1:0"}
		cfg.ProxyNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		cfg.AuthTimeout = 2 * time.Second
	})
	h := startHAProxy(t, map[string]string{"v2": "server p 127.0.0.1:" + strconv.Itoa(tp.ppPort) + " send-proxy-v2"})
	haAddr := "127.0.0.1:" + strconv.Itoa(h.ports["v2"])
	ppAddr := "127.0.0.1:" + strconv.Itoa(tp.ppPort)
	v2 := v2Header(t, proxyproto.PROXY, "192.0.2.7:5555", "198.51.100.1:5432", nil)
	malformed := append(append([]byte(nil), v2[:13]...), 0x77, 0, 0) // unknown family

	// Warm up, then take the baseline.
	expectAllowed(t, h.ports["v2"], "alice", "disable", "127.0.0.2")
	waitIdle(t, tp, -1, -1)
	runtime.GC()
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)

	const n = 1000
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wrong []string
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := floodOne(i, haAddr, ppAddr, v2, malformed); err != nil {
					mu.Lock()
					wrong = append(wrong, fmt.Sprintf("connection %d: %v", i, err))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(wrong) > 0 {
		t.Errorf("%d of %d flood connections not refused as expected; first: %s", len(wrong), n, wrong[0])
	}
	if got := metric(t, tp.metricsURL, `pghba_proxy_decisions_total{outcome="reject",rule="`+tp.hbaPath+`:2"}`); got != n/2 {
		t.Errorf("reject decisions = %v, want %d", got, n/2)
	}
	waitIdle(t, tp, g0, fd0)
	t.Logf("after %d refused connections: %d goroutines (baseline %d), %d descriptors (baseline %d)",
		n, runtime.NumGoroutine(), g0, openFDs(t), fd0)
}

// floodOne opens flood connection i and checks that it is refused.
func floodOne(i int, haAddr, ppAddr string, v2, malformed []byte) error {
	if i%2 == 0 {
		// Through HAProxy from 127.0.0.3: refused by the reject rule.
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}, Timeout: 10 * time.Second}
		c, err := d.Dial("tcp4", haAddr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		c.Write(startupPacket("mallory"))
		m, err := pgproto3.NewFrontend(c, c).Receive()
		if er, ok := m.(*pgproto3.ErrorResponse); !ok || er.Code != "28000" {
			return fmt.Errorf("got %#v, %v; want FATAL 28000", m, err)
		}
		return nil
	}
	src := "127.0.0.1"
	var send []byte
	switch (i / 2) % 4 {
	case 0:
		send = malformed
	case 1:
		src, send = "127.0.0.9", v2 // untrusted
	case 2:
		send = v2[:10] // truncated: the client leaves
	case 3:
		send = startupPacket("alice") // trusted, no header
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp4", ppAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	c.Write(send)
	if (i/2)%4 == 2 {
		return nil
	}
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		return err
	}
	if (i/2)%4 == 3 {
		if len(b) == 0 || b[0] != 'E' {
			return fmt.Errorf("no header: read %q, want an ErrorResponse", b)
		}
	} else if len(b) != 0 {
		return fmt.Errorf("read %q, want a close", b)
	}
	return nil
}
