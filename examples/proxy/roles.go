package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pghba/pghba/hba"
)

// loadRoleFile reads a JSON object mapping each role to the roles it is
// directly a member of: {"alice": ["admins"], "admins": []}.
func loadRoleFile(path string) (hba.RoleGraph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var g hba.RoleGraph
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if g == nil {
		g = hba.RoleGraph{}
	}
	return g, nil
}

// membershipQuery lists every role with every role it belongs to, directly
// or through other roles, whatever the grants' INHERIT and SET options: the
// membership PostgreSQL tests for +role and samerole in pg_hba.conf. Each
// role is listed with itself, so roles without grants appear too.
const membershipQuery = `
WITH RECURSIVE m(member, roleid) AS (
	SELECT oid, oid FROM pg_catalog.pg_roles
	UNION
	SELECT m.member, a.roleid
	FROM m JOIN pg_catalog.pg_auth_members a ON a.member = m.roleid
)
SELECT r.rolname, g.rolname
FROM m
JOIN pg_catalog.pg_roles r ON r.oid = m.member
JOIN pg_catalog.pg_roles g ON g.oid = m.roleid`

// fetchRoleGraph runs membershipQuery on the server at dsn.
func fetchRoleGraph(ctx context.Context, dsn string) (hba.RoleGraph, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, membershipQuery)
	if err != nil {
		return nil, err
	}
	g := hba.RoleGraph{}
	var role, group string
	_, err = pgx.ForEachRow(rows, []any{&role, &group}, func() error {
		if _, ok := g[role]; !ok {
			g[role] = nil
		}
		if role != group {
			g[role] = append(g[role], group)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// upstreamRoles answers membership questions from a cached copy of the
// upstream's grants, refreshed periodically. Before the first successful
// fetch it fails, so rules that need roles refuse (hba.ErrUnresolved) rather
// than guess.
type upstreamRoles struct {
	dsn   string
	log   *slog.Logger
	graph atomic.Pointer[hba.RoleGraph]
}

func newUpstreamRoles(dsn string, log *slog.Logger) *upstreamRoles {
	return &upstreamRoles{dsn: dsn, log: log}
}

var errRolesNotLoaded = errors.New("role memberships not fetched from the upstream yet")

func (u *upstreamRoles) IsMember(ctx context.Context, role, group string) (bool, error) {
	g := u.graph.Load()
	if g == nil {
		return false, errRolesNotLoaded
	}
	return g.IsMember(ctx, role, group)
}

// refresh fetches the grants once; a failure keeps the previous copy.
func (u *upstreamRoles) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	g, err := fetchRoleGraph(ctx, u.dsn)
	if err != nil {
		u.log.Warn("role memberships not refreshed", "err", err)
		return err
	}
	u.graph.Store(&g)
	u.log.Info("role memberships refreshed", "roles", len(g))
	return nil
}

func (u *upstreamRoles) run(ctx context.Context, every time.Duration) {
	u.refresh(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			u.refresh(ctx)
		}
	}
}
