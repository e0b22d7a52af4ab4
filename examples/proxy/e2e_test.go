package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// testProxy is a Proxy served in-process on 127.0.0.1 and a random port.
type testProxy struct {
	*Proxy
	port       int // the first -listen
	ppPort     int // the first -proxy-listen, if any
	hbaPath    string
	logs       *syncBuffer
	metricsURL string
}

// startProxy writes hbaText to a temporary pg_hba.conf and serves a proxy
// for it in front of the cluster. mod may adjust the configuration.
func startProxy(t testing.TB, c *cluster, hbaText string, mod func(*Config)) *testProxy {
	t.Helper()
	dir := t.TempDir()
	hbaPath := filepath.Join(dir, "pg_hba.conf")
	if err := os.WriteFile(hbaPath, []byte(hbaText), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Upstream: c.addr(), HBAFile: hbaPath, PGVersion: 15, PollInterval: -1}
	if mod != nil {
		mod(&cfg)
	}
	logs := &syncBuffer{}
	p, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("New: %v\n%s", err, logs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var lns []net.Listener
	addrs := cfg.Listen
	if len(addrs) == 0 {
		addrs = []string{"127.0.0.1:0"}
	}
	for _, a := range append(addrs, cfg.ProxyListen...) {
		ln, err := Listen(ctx, a, false)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	mln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	p.Run(ctx)
	done := make(chan struct{}, len(lns)+1)
	for i, ln := range lns {
		if i >= len(addrs) {
			go func() { p.ServeProxyProtocol(ctx, ln); done <- struct{}{} }()
		} else {
			go func() { p.Serve(ctx, ln); done <- struct{}{} }()
		}
	}
	go func() { p.ServeMetrics(ctx, mln); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		for range len(lns) + 1 {
			<-done
		}
		p.Close()
		if t.Failed() {
			t.Logf("proxy log:\n%s", logs)
		}
	})
	tp := &testProxy{Proxy: p, port: lns[0].Addr().(*net.TCPAddr).Port, hbaPath: hbaPath, logs: logs,
		metricsURL: "http://" + mln.Addr().String() + "/metrics"}
	if len(cfg.ProxyListen) > 0 {
		tp.ppPort = lns[len(addrs)].Addr().(*net.TCPAddr).Port
	}
	return tp
}

func dsn(port int, user, sslmode string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=postgres sslmode=%s connect_timeout=10", port, user, sslmode)
}

// connect opens a pgx connection to the proxy, from source address src when
// it is not empty (any 127.x.y.z works on Linux without configuration).
func connect(ctx context.Context, port int, user, sslmode, src string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn(port, user, sslmode))
	if err != nil {
		return nil, err
	}
	if src != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
		cfg.DialFunc = d.DialContext
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// selectOne checks that the session works and belongs to user.
func selectOne(ctx context.Context, conn *pgx.Conn, user string) error {
	var one int
	var who string
	if err := conn.QueryRow(ctx, "SELECT 1, current_user").Scan(&one, &who); err != nil {
		return err
	}
	if one != 1 || who != user {
		return fmt.Errorf("SELECT 1, current_user = %d, %q; want 1, %q", one, who, user)
	}
	return nil
}

// expectAllowed connects and runs SELECT 1.
func expectAllowed(t *testing.T, port int, user, sslmode, src string) {
	t.Helper()
	ctx := context.Background()
	conn, err := connect(ctx, port, user, sslmode, src)
	if err != nil {
		t.Errorf("%s from %s sslmode=%s: refused: %v", user, or(src, "127.0.0.1"), sslmode, err)
		return
	}
	defer conn.Close(ctx)
	if err := selectOne(ctx, conn, user); err != nil {
		t.Errorf("%s: %v", user, err)
	}
}

// checkRefusal reports whether err is the FATAL 28000 with message want.
func checkRefusal(err error, want string) error {
	if err == nil {
		return errors.New("connection allowed")
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("not a server error: %v", err)
	}
	if pe.Severity != "FATAL" || pe.Code != "28000" || pe.Message != want {
		return fmt.Errorf("got %s %s %q, want FATAL 28000 %q", pe.Severity, pe.Code, pe.Message, want)
	}
	return nil
}

func expectRefused(t *testing.T, port int, user, sslmode, src, want string) {
	t.Helper()
	ctx := context.Background()
	conn, err := connect(ctx, port, user, sslmode, src)
	if err == nil {
		conn.Close(ctx)
	}
	if err := checkRefusal(err, want); err != nil {
		t.Errorf("%s from %s sslmode=%s: %v", user, or(src, "127.0.0.1"), sslmode, err)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// psql runs the real psql with a connection string and returns its
// combined output and exit code.
func psql(t *testing.T, conninfo string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(psqlPath, append([]string{"-X", "-A", "-t", "-d", conninfo}, args...)...)
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LC_ALL=C", "PGCONNECT_TIMEOUT=10"}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("psql: %v", err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func noEntry(host, user, db, enc string) string {
	return fmt.Sprintf(`no pg_hba.conf entry for host "%s", user "%s", database "%s", %s`, host, user, db, enc)
}

func rejects(host, user, db, enc string) string {
	return fmt.Sprintf(`pg_hba.conf rejects connection for host "%s", user "%s", database "%s", %s`, host, user, db, enc)
}

func TestPsqlThroughProxy(t *testing.T) {
	c := needPostgres(t)
	sockDir, err := os.MkdirTemp("", "pxs-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	tp := startProxy(t, c, `
local all alice           trust
host  all alice,bob 127.0.0.1/32 trust
host  all carol     127.0.0.1/32 reject
`, func(cfg *Config) {
		cfg.Listen = []string{"127.0.0.1:0", "unix:" + filepath.Join(sockDir, ".s.PGSQL.5432")}
	})

	out, code := psql(t, dsn(tp.port, "alice", "prefer"), "-c", "SELECT 1")
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Errorf("psql alice: exit %d, output %q; want 0, \"1\"", code, out)
	}

	for _, tc := range []struct{ user, msg string }{
		{"mallory", noEntry("127.0.0.1", "mallory", "postgres", "no encryption")},
		{"carol", rejects("127.0.0.1", "carol", "postgres", "no encryption")},
	} {
		out, code := psql(t, dsn(tp.port, tc.user, "prefer"), "-c", "SELECT 1")
		want := "FATAL:  " + tc.msg + "\n"
		if code != 2 || !strings.HasSuffix(out, want) {
			t.Errorf("psql %s: exit %d, output\n%s\nwant exit 2 and output ending in\n%s", tc.user, code, out, want)
		}
	}

	// A Unix-socket connection is a local connection.
	out, code = psql(t, fmt.Sprintf("host=%s port=5432 user=alice dbname=postgres", sockDir), "-c", "SELECT current_user")
	if code != 0 || strings.TrimSpace(out) != "alice" {
		t.Errorf("psql over the unix socket as alice: exit %d, output %q", code, out)
	}
	out, code = psql(t, fmt.Sprintf("host=%s port=5432 user=bob dbname=postgres", sockDir), "-c", "SELECT 1")
	if want := `FATAL:  no pg_hba.conf entry for host "[local]", user "bob", database "postgres", no encryption`; code != 2 || !strings.Contains(out, want) {
		t.Errorf("psql over the unix socket as bob: exit %d, output %q; want %q", code, out, want)
	}

	logs := tp.logs.String()
	for _, want := range []string{
		`msg=allowed client=127.0.0.1 user=alice database=postgres ssl=false rule=` + tp.hbaPath + `:3 method=trust`,
		`msg=refused client=127.0.0.1 user=carol database=postgres ssl=false rule=` + tp.hbaPath + `:4 method=reject outcome=reject`,
		`msg=refused client=127.0.0.1 user=mallory database=postgres ssl=false outcome=no-match`,
		`msg=allowed client=[local] user=alice`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// writeCert writes a self-signed certificate and its key into dir.
func writeCert(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestSSLModes(t *testing.T) {
	c := needPostgres(t)
	cert, key := writeCert(t, t.TempDir())
	tp := startProxy(t, c, `
hostssl   all sslonly   127.0.0.1/32 trust
hostnossl all plainonly 127.0.0.1/32 trust
`, func(cfg *Config) { cfg.TLSCert, cfg.TLSKey = cert, key })

	expectAllowed(t, tp.port, "sslonly", "require", "")
	expectAllowed(t, tp.port, "plainonly", "disable", "")
	expectRefused(t, tp.port, "sslonly", "disable", "", noEntry("127.0.0.1", "sslonly", "postgres", "no encryption"))
	expectRefused(t, tp.port, "plainonly", "require", "", noEntry("127.0.0.1", "plainonly", "postgres", "SSL encryption"))
	// Direct SSL (PostgreSQL 17's sslnegotiation=direct): TLS from the
	// first byte, with ALPN.
	const direct = "require sslnegotiation=direct"
	expectAllowed(t, tp.port, "sslonly", direct, "")
	expectRefused(t, tp.port, "plainonly", direct, "", noEntry("127.0.0.1", "plainonly", "postgres", "SSL encryption"))

	// The same with psql: the SSL session is really encrypted end to end
	// between psql and the proxy.
	out, code := psql(t, dsn(tp.port, "sslonly", "require"), "-c", "SELECT 1")
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Errorf("psql sslmode=require sslonly: exit %d, output %q", code, out)
	}
	out, code = psql(t, dsn(tp.port, "plainonly", "require"), "-c", "SELECT 1")
	if want := "FATAL:  " + noEntry("127.0.0.1", "plainonly", "postgres", "SSL encryption") + "\n"; code != 2 || !strings.HasSuffix(out, want) {
		t.Errorf("psql sslmode=require plainonly: exit %d, output %q; want it to end in %q", code, out, want)
	}
	if !strings.Contains(tp.logs.String(), "msg=allowed client=127.0.0.1 user=sslonly database=postgres ssl=true") {
		t.Error("no decision log with ssl=true")
	}
}

func TestSourceAddresses(t *testing.T) {
	c := needPostgres(t)
	const rules = `
host all all    127.0.0.2/32 trust
host all all    127.0.0.3/32 reject
host all +admins 127.0.0.4/32 trust
host all all    127.0.1.0/24 trust
`
	for _, src := range []struct {
		name string
		mod  func(*Config)
	}{
		{"roles-file", func(cfg *Config) {
			f := filepath.Join(t.TempDir(), "roles.json")
			os.WriteFile(f, []byte(`{"carol": ["admins"], "admins": ["staff"], "alice": [], "bob": []}`), 0o644)
			cfg.RolesFile = f
		}},
		{"roles-from-upstream", func(cfg *Config) { cfg.RolesDSN = c.directDSN("postgres", "disable") }},
	} {
		t.Run(src.name, func(t *testing.T) {
			tp := startProxy(t, c, rules, src.mod)
			if tp.roles != nil {
				// Do not race the first background fetch.
				if err := tp.roles.refresh(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			expectAllowed(t, tp.port, "alice", "disable", "127.0.0.2")
			expectRefused(t, tp.port, "alice", "disable", "127.0.0.3", rejects("127.0.0.3", "alice", "postgres", "no encryption"))
			expectAllowed(t, tp.port, "carol", "disable", "127.0.0.4")
			expectRefused(t, tp.port, "alice", "disable", "127.0.0.4", noEntry("127.0.0.4", "alice", "postgres", "no encryption"))
			expectAllowed(t, tp.port, "bob", "disable", "127.0.1.77")
			expectRefused(t, tp.port, "bob", "disable", "127.0.2.1", noEntry("127.0.2.1", "bob", "postgres", "no encryption"))
			expectRefused(t, tp.port, "bob", "disable", "", noEntry("127.0.0.1", "bob", "postgres", "no encryption"))
		})
	}
}

// replaceFile writes a file by renaming a complete copy over it, so that
// the poller never reads half a file.
func replaceFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitReload waits for the next reload attempt after change() runs.
func waitReload(t *testing.T, tp *testProxy, change func()) {
	t.Helper()
	ch := tp.ReloadNotify()
	change()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal("no reload within 30s")
	}
}

func TestReload(t *testing.T) {
	c := needPostgres(t)
	tp := startProxy(t, c, "host all alice,bob 127.0.0.1/32 trust\n", func(cfg *Config) {
		cfg.PollInterval = 20 * time.Millisecond
	})
	ctx := context.Background()
	session, err := connect(ctx, tp.port, "alice", "disable", "")
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close(ctx)
	if err := selectOne(ctx, session, "alice"); err != nil {
		t.Fatal(err)
	}

	// A change on disk is picked up by the poller.
	waitReload(t, tp, func() {
		replaceFile(t, tp.hbaPath, "host all alice 127.0.0.1/32 reject\nhost all bob 127.0.0.1/32 trust\n")
	})
	if ok, failed := tp.ReloadCounts(); ok != 1 || failed != 0 {
		t.Fatalf("reloads ok=%d failed=%d, want 1, 0", ok, failed)
	}
	expectRefused(t, tp.port, "alice", "disable", "", rejects("127.0.0.1", "alice", "postgres", "no encryption"))
	expectAllowed(t, tp.port, "bob", "disable", "")
	if err := selectOne(ctx, session, "alice"); err != nil {
		t.Errorf("open session after reload: %v", err)
	}

	// A file with errors is refused as a whole; the old rules stay.
	waitReload(t, tp, func() {
		replaceFile(t, tp.hbaPath, "host all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 bogus\nhostx all all all trust\n")
	})
	if ok, failed := tp.ReloadCounts(); ok != 1 || failed != 1 {
		t.Fatalf("reloads ok=%d failed=%d, want 1, 1", ok, failed)
	}
	logs := tp.logs.String()
	for _, want := range []string{
		tp.hbaPath + `:2: invalid authentication method \"bogus\"`,
		tp.hbaPath + `:3: invalid connection type \"hostx\"`,
		"pg_hba.conf was not reloaded",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	expectRefused(t, tp.port, "alice", "disable", "", rejects("127.0.0.1", "alice", "postgres", "no encryption"))
	expectAllowed(t, tp.port, "bob", "disable", "")
	expectRefused(t, tp.port, "mallory", "disable", "", noEntry("127.0.0.1", "mallory", "postgres", "no encryption"))

	// An explicit reload (what SIGHUP does) of a good file.
	replaceFile(t, tp.hbaPath, "host all all 127.0.0.1/32 trust\n")
	if err := tp.Reload(); err != nil {
		t.Fatal(err)
	}
	expectAllowed(t, tp.port, "mallory", "disable", "")
	if err := selectOne(ctx, session, "alice"); err != nil {
		t.Errorf("open session after the last reload: %v", err)
	}
}

func TestCancelRequest(t *testing.T) {
	c := needPostgres(t)
	tp := startProxy(t, c, "host all all 127.0.0.1/32 trust\n", nil)
	ctx := context.Background()
	conn, err := connect(ctx, tp.port, "alice", "disable", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SELECT pg_sleep(60)")
		errc <- err
	}()
	// Cancel until the query is seen cancelled: the first request may
	// arrive before the query starts.
	for {
		// pgx sends the CancelRequest on a new connection to the proxy.
		if err := conn.PgConn().CancelRequest(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "57014" {
				t.Fatalf("query ended with %v, want SQLSTATE 57014", err)
			}
			if !strings.Contains(tp.logs.String(), "cancel request forwarded") {
				t.Error("no log of the forwarded cancel request")
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestPeerOnUnixSocket: peer rules on the proxy's Unix socket are checked
// by the proxy with the socket's OS user and pg_ident.conf maps.
func TestPeerOnUnixSocket(t *testing.T) {
	c := needPostgres(t)
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	sockDir, err := os.MkdirTemp("", "pxp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	identPath := filepath.Join(t.TempDir(), "pg_ident.conf")
	os.WriteFile(identPath, []byte("# MAP SYSTEM-USER PG-USER\nm  "+me.Username+"  alice\n"), 0o644)
	tp := startProxy(t, c, "local all alice peer map=m\nlocal all bob peer\nlocal all carol peer map=nomap\n", func(cfg *Config) {
		cfg.Listen = []string{"127.0.0.1:0", "unix:" + filepath.Join(sockDir, ".s.PGSQL.5432")}
		cfg.IdentFile = identPath
		cfg.PollInterval = 20 * time.Millisecond
	})
	sock := func(user string) string {
		return fmt.Sprintf("host=%s port=5432 user=%s dbname=postgres", sockDir, user)
	}

	out, code := psql(t, sock("alice"), "-c", "SELECT current_user")
	if code != 0 || strings.TrimSpace(out) != "alice" {
		t.Errorf("psql alice via map m: exit %d, output %q", code, out)
	}
	for _, u := range []string{"bob", "carol"} {
		out, code = psql(t, sock(u), "-c", "SELECT 1")
		if want := `FATAL:  Peer authentication failed for user "` + u + `"`; code != 2 || !strings.Contains(out, want) {
			t.Errorf("psql %s: exit %d, output %q; want %q", u, code, out, want)
		}
	}
	if want := "outcome=peer-failed system_user=" + me.Username + " map=\"\""; !strings.Contains(tp.logs.String(), want) {
		t.Errorf("log lacks %q", want)
	}

	// A change of pg_ident.conf on disk is picked up.
	waitReload(t, tp, func() { replaceFile(t, identPath, "m  nosuchosuser  alice\n") })
	out, code = psql(t, sock("alice"), "-c", "SELECT 1")
	if want := `FATAL:  Peer authentication failed for user "alice"`; code != 2 || !strings.Contains(out, want) {
		t.Errorf("psql alice after the map changed: exit %d, output %q; want %q", code, out, want)
	}
	// A bad pg_ident.conf keeps the maps in force.
	waitReload(t, tp, func() { replaceFile(t, identPath, "m  "+me.Username+"\n") })
	if !strings.Contains(tp.logs.String(), "pg_ident.conf was not reloaded") {
		t.Error("no log of the refused pg_ident.conf")
	}
	out, code = psql(t, sock("alice"), "-c", "SELECT 1")
	if code != 2 {
		t.Errorf("psql alice after a bad pg_ident.conf: exit %d, output %q; want the old maps to refuse", code, out)
	}
}

// TestIPv6 serves on the IPv6 loopback address: clients are matched as
// IPv6 clients.
func TestIPv6(t *testing.T) {
	c := needPostgres(t)
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	tp := startProxy(t, c, "host all alice ::1/128 trust\nhost all alice 127.0.0.1/32 reject\n", func(cfg *Config) {
		cfg.Listen = []string{"[::1]:0"}
	})
	ctx := context.Background()
	try := func(user string) error {
		conn, err := pgconn.Connect(ctx, fmt.Sprintf("host=::1 port=%d user=%s dbname=postgres sslmode=disable connect_timeout=10", tp.port, user))
		if err == nil {
			conn.Close(ctx)
		}
		return err
	}
	if err := try("alice"); err != nil {
		t.Errorf("alice over ::1: %v", err)
	}
	if err := checkRefusal(try("bob"), noEntry("::1", "bob", "postgres", "no encryption")); err != nil {
		t.Errorf("bob over ::1: %v", err)
	}
}

// TestHostNameRule: a host-name rule is decided with a reverse lookup of
// the client address confirmed by a forward lookup, as PostgreSQL does.
func TestHostNameRule(t *testing.T) {
	c := needPostgres(t)
	ctx := context.Background()
	names, err := net.DefaultResolver.LookupAddr(ctx, "127.0.0.1")
	if err != nil || len(names) == 0 || strings.TrimSuffix(names[0], ".") != "localhost" {
		t.Skipf("127.0.0.1 does not resolve to localhost here (%v, %v)", names, err)
	}
	tp := startProxy(t, c, "host all alice localhost trust\nhost all bob .example.invalid trust\n", nil)
	expectAllowed(t, tp.port, "alice", "disable", "")
	expectRefused(t, tp.port, "bob", "disable", "", noEntry("127.0.0.1", "bob", "postgres", "no encryption"))
}
