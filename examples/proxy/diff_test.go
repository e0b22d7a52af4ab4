package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// setServerHBA installs text as the cluster's pg_hba.conf and reloads it,
// waiting until the postmaster has really reloaded.
func (c *cluster) setServerHBA(t *testing.T, text string) {
	t.Helper()
	path := filepath.Join(c.dir, "data", "pg_hba.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The postmaster serves a new connection only after it has handled the
	// signal: a Unix-socket SSLRequest answered is a reload done.
	for range 2 {
		s, err := net.Dial("unix", filepath.Join(c.dir, ".s.PGSQL."+strconv.Itoa(c.port)))
		if err != nil {
			t.Fatal(err)
		}
		s.SetDeadline(time.Now().Add(30 * time.Second))
		fe := pgproto3.NewFrontend(s, s)
		fe.Send(&pgproto3.SSLRequest{})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// outcome is what a client sees: "ok" or the FATAL's SQLSTATE and message.
func outcome(ctx context.Context, port int, src, user, db string) string {
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable connect_timeout=10", port, user, db))
	if err != nil {
		return err.Error()
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	cfg.DialFunc = d.DialContext
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err == nil {
		conn.Close(ctx)
		return "ok"
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Severity + " " + pe.Code + " " + pe.Message
	}
	return "error: " + err.Error()
}

// TestSameAnswersAsServer gives the same rules to the proxy and to the real
// server, and checks that every client (source address, user, database)
// gets the same answer through the proxy as straight from the server:
// allowed, or the same FATAL with the same message.
func TestSameAnswersAsServer(t *testing.T) {
	c := needPostgres(t)
	const rules = `
host all       alice    127.0.0.2/32 trust
host all       alice    127.0.0.3/32 reject
host postgres  +admins  127.0.0.4/32 trust
host sameuser  all      127.0.0.5/32 trust
host template1 bob      127.0.0.5/32 trust
host all       all      127.0.0.6/31 reject
host samerole  all      127.0.0.8/32 trust
`
	// The server also lets the proxy in from 127.0.0.1, after the rules.
	c.setServerHBA(t, "local all all trust\n"+rules+"host all all 127.0.0.1/32 trust\n")
	t.Cleanup(func() { c.setServerHBA(t, "local all all trust\nhost all all 127.0.0.1/32 trust\n") })
	tp := startProxy(t, c, rules, func(cfg *Config) { cfg.RolesDSN = c.directDSN("postgres", "disable") })
	if err := tp.roles.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	n, allowed := 0, 0
	seen := map[string]int{}
	for _, src := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.7", "127.0.0.8"} {
		for _, user := range []string{"alice", "bob", "carol", "nosuchrole"} {
			for _, db := range []string{"postgres", "template1", "alice", "admins"} {
				direct := outcome(ctx, c.port, src, user, db)
				proxied := outcome(ctx, tp.port, src, user, db)
				n++
				seen[direct]++
				if direct == "ok" {
					allowed++
				}
				if direct != proxied {
					t.Errorf("%s %s@%s: server: %s\n\tproxy: %s", src, user, db, direct, proxied)
				}
			}
		}
	}
	if allowed == 0 || allowed == n {
		t.Errorf("%d of %d clients allowed: the matrix does not exercise both outcomes", allowed, n)
	}
	if len(seen) < 4 {
		t.Errorf("only %d distinct answers: %v", len(seen), seen)
	}
	t.Logf("%d clients, %d distinct answers, %d allowed: same through the proxy as from the server", n, len(seen), allowed)
}
