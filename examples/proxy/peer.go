package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/user"
	"strconv"
	"syscall"

	"github.com/pghba/pghba/hba"
)

// peerUser returns the operating-system user name of the process on the
// other end of a Unix-domain socket (SO_PEERCRED), as PostgreSQL's peer
// method reads it.
func peerUser(c net.Conn) (string, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return "", errors.New("peer authentication is only supported on local sockets")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return "", err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return "", err
	}
	if cerr != nil {
		return "", fmt.Errorf("could not get peer credentials: %w", cerr)
	}
	u, err := user.LookupId(strconv.Itoa(int(cred.Uid)))
	if err != nil {
		return "", fmt.Errorf("could not look up local user ID %d: %w", cred.Uid, err)
	}
	return u.Username, nil
}

// checkPeer runs the peer method for a local connection matched by a peer
// rule: the socket's OS user must map to the requested user under the
// rule's map= (or equal it without one). user is pgUser as the server
// shows it (hba.Ruleset.Names).
func (p *Proxy) checkPeer(ctx context.Context, c net.Conn, rule *hba.Rule, pgUser, user string) (hba.IdentResult, bool) {
	sys, err := peerUser(c)
	if err != nil {
		return hba.IdentResult{Map: rule.Options().Map, PGUser: user, Message: err.Error()}, false
	}
	res := p.ident.Load().CheckRule(ctx, rule, sys, pgUser, hba.IdentOptions{})
	return res, res.Allowed
}

// loadIdent (re)reads pg_ident.conf; a file that does not load is logged and
// the maps in force stay (at startup: no maps, as PostgreSQL).
func (p *Proxy) loadIdent(startup bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	m, err := p.parser.LoadIdentContext(ctx, p.cfg.IdentFile)
	if err != nil {
		p.logLoadError(p.cfg.IdentFile, err)
		if startup {
			p.log.Warn("pg_ident.conf not loaded: running without user name maps", "file", p.cfg.IdentFile)
		} else {
			p.log.Warn("pg_ident.conf was not reloaded", "file", p.cfg.IdentFile)
		}
		return err
	}
	p.ident.Store(m)
	p.log.Info("pg_ident.conf loaded", "file", m.Path(), "maps", len(m.Names()))
	return nil
}
