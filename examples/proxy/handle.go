// One client connection, from accept to relay: the PROXY header, the
// startup's failures, the decision and peer authentication, and the FATAL
// messages the proxy answers with, as PostgreSQL would.

package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/pghba/pghba/hba"
)

// fatal sends an ErrorResponse with severity FATAL, as PostgreSQL does
// before closing a connection it refuses.
func fatal(c net.Conn, code, msg, hint string) error {
	be := pgproto3.NewBackend(c, c)
	be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg, Hint: hint})
	return be.Flush()
}

// clientAddr returns the address PostgreSQL would see for a TCP client: an
// IPv4 client of a dual-stack socket is IPv4.
func clientAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// connFor builds the hba.Conn for a startup message. A non-nil error is the
// FATAL PostgreSQL would send for a malformed startup packet.
func connFor(local bool, addr netip.Addr, ssl bool, params map[string]string) (hba.Conn, *pgproto3.ErrorResponse) {
	c := hba.Conn{Local: local, SSL: ssl && !local, User: params["user"], Database: params["database"]}
	if !local {
		c.Addr = addr
	}
	if v, ok := params["replication"]; ok {
		if strings.EqualFold(v, "database") {
			c.Replication = hba.LogicalReplication
		} else if b, ok := parseBool(v); !ok {
			return c, &pgproto3.ErrorResponse{Code: "22023",
				Message: `invalid value for parameter "replication": "` + v + `"`,
				Hint:    `Valid values are: "false", 0, "true", 1, "database".`}
		} else if b {
			c.Replication = hba.PhysicalReplication
		}
	}
	if c.User == "" {
		return c, &pgproto3.ErrorResponse{Code: "28000", Message: "no PostgreSQL user name specified in startup packet"}
	}
	return c, nil
}

// parseBool reads a boolean as PostgreSQL's parse_bool does: true, false,
// yes, no, on, off, 1, 0, any unambiguous prefix, in any case.
func parseBool(s string) (val, ok bool) {
	l := strings.ToLower(strings.TrimSpace(s))
	if l == "" {
		return false, false
	}
	prefix := func(word string, min int) bool {
		return len(l) >= min && len(l) <= len(word) && word[:len(l)] == l
	}
	switch {
	case prefix("true", 1), prefix("yes", 1), prefix("on", 2), l == "1":
		return true, true
	case prefix("false", 1), prefix("no", 1), prefix("off", 2), l == "0":
		return false, true
	}
	return false, false
}

// handle serves one client connection: PROXY header (pp), startup,
// decision, relay.
func (p *Proxy) handle(ctx context.Context, c net.Conn, local, pp bool) {
	// From accept to the decision, as PostgreSQL's authentication_timeout.
	c.SetDeadline(time.Now().Add(p.cfg.AuthTimeout))
	raw := c
	relayed := false
	defer func() {
		if !relayed {
			drainClose(raw)
		}
	}()
	peer := clientAddr(c)
	addr := peer
	var hdr proxyHeader
	if pp {
		var ok bool
		if c, addr, hdr, ok = p.header(c, peer); !ok {
			return
		}
	}
	conn, st, err := p.readStartup(c, local)
	if conn != c {
		defer conn.Close()
	}
	attrs := []any{"client", clientText(local, addr)}
	if hdr.present {
		attrs = append(attrs, "client_port", hdr.src.Port(), "proxy", peer.String(), "proxy_dst", hdr.dst.String())
	}
	if err != nil {
		p.startupFailed(conn, err, attrs)
		return
	}
	hc, bad := connFor(local, addr, st.ssl, st.params)
	if bad != nil {
		p.metrics.handshakeFailed.WithLabelValues("bad_startup").Inc()
		bad.Severity, bad.SeverityUnlocalized = "FATAL", "FATAL"
		send(conn, bad)
		return
	}
	if !p.admit(ctx, c, conn, st, hc, attrs) {
		return
	}

	up, err := net.DialTimeout("tcp", p.cfg.Upstream, p.cfg.DialTimeout)
	if err != nil {
		p.log.Error("upstream unreachable", "upstream", p.cfg.Upstream, "err", err)
		fatal(conn, "08006", "could not connect to the upstream server", "")
		return
	}
	defer up.Close()
	c.SetDeadline(time.Time{})
	// The upstream negotiates the protocol version itself (it sees the
	// client's own startup packet).
	if _, err := up.Write(st.raw); err != nil {
		p.log.Error("upstream write", "err", err)
		fatal(conn, "08006", "could not connect to the upstream server", "")
		return
	}
	relayed = true
	relay(bare(conn), up)
}

// header reads the PROXY header of a connection from a PROXY-protocol
// listener. It returns the connection to read the startup from (with the
// bytes read back when an optional header was absent), the client's address
// (the header's source when present), the header, and false when the
// connection is done: a refused header, or a balancer's health check, which
// it answers.
func (p *Proxy) header(c net.Conn, peer netip.Addr) (net.Conn, netip.Addr, proxyHeader, bool) {
	hdr, err := readProxyHeader(c, p.trusted(peer), p.cfg.ProxyOptional)
	if err != nil {
		p.headerFailed(c, peer, err)
		return c, peer, hdr, false
	}
	if hdr.present {
		cmd := "proxy"
		if hdr.local {
			cmd = "local"
		}
		p.metrics.proxyHeaders.WithLabelValues(strconv.Itoa(int(hdr.version)), cmd).Inc()
	}
	if hdr.local {
		p.healthCheck(c, peer)
		return c, peer, hdr, false
	}
	if hdr.present {
		return c, hdr.src.Addr(), hdr, true
	}
	return &prefixConn{Conn: c, prefix: hdr.prefix}, peer, hdr, true
}

// startupFailed counts and logs a startup that ended before a decision, and
// sends the FATAL PostgreSQL sends for it, if any.
func (p *Proxy) startupFailed(conn net.Conn, err error, attrs []any) {
	var se *startupError
	switch {
	case errors.As(err, &se):
		p.metrics.handshakeFailed.WithLabelValues(se.reason).Inc()
		p.log.Info("startup refused", append(attrs, "err", err)...)
		se.resp.Severity, se.resp.SeverityUnlocalized = "FATAL", "FATAL"
		if se.legacy {
			conn.Write(legacyError(se.resp))
		} else {
			send(conn, se.resp)
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		p.metrics.handshakeFailed.WithLabelValues("timeout").Inc()
		p.log.Info("startup timed out", append(attrs, "timeout", p.cfg.AuthTimeout.String())...)
	case errors.Is(err, io.EOF):
		// A client that connects and leaves (a TCP health check).
		p.metrics.handshakeFailed.WithLabelValues("eof").Inc()
	case errors.Is(err, errCancel):
	case errors.Is(err, errClosed):
		p.metrics.handshakeFailed.WithLabelValues("protocol").Inc()
		p.log.Debug("startup ended", append(attrs, "err", err)...)
	default:
		reason := "protocol"
		if strings.Contains(err.Error(), "tls") {
			reason = "tls"
		} else if errors.Is(err, errBadStartup) {
			reason = "bad_startup"
		} else if errors.Is(err, io.ErrUnexpectedEOF) {
			reason = "eof"
		}
		p.metrics.handshakeFailed.WithLabelValues(reason).Inc()
		p.log.Debug("startup failed", append(attrs, "err", err)...)
	}
}

// admit decides hc with the rules (bounded by DialTimeout, since a
// host-name rule may wait for DNS), does peer authentication itself when the
// rule says peer, and logs and counts the outcome. It refuses the client on
// conn and returns false unless the connection may go upstream. c is the
// client socket under conn (peer credentials are read from it).
func (p *Proxy) admit(ctx context.Context, c, conn net.Conn, st *startup, hc hba.Conn, attrs []any) bool {
	// Bound the decision: a host-name rule may wait for DNS.
	mctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	t0 := time.Now()
	rs := p.rules.Load()
	rule, err := rs.MatchContext(mctx, hc)
	p.metrics.decisionSeconds.Observe(time.Since(t0).Seconds())
	cancel()
	if err == nil && rule == nil {
		// Never expected; anything but a matching rule refuses.
		err = &hba.DenyError{Conn: hc, Message: "no pg_hba.conf rule decided the connection"}
	}
	attrs = append(attrs, "user", hc.User, "database", hc.Database, "ssl", hc.SSL)
	if hc.Replication != hba.NoReplication {
		attrs = append(attrs, "replication", hc.Replication.String())
	}
	ruleLabel := ""
	if rule != nil {
		ruleLabel = rule.Pos().String()
		attrs = append(attrs, "rule", ruleLabel, "method", rule.Method().String())
	}
	if err != nil {
		var de *hba.DenyError
		outcome := "error"
		if errors.As(err, &de) {
			outcome = de.Decision.Outcome.String()
			if de.Decision.Reason != hba.ReasonNone {
				attrs = append(attrs, "reason", de.Decision.Reason.String())
			}
		}
		p.metrics.decisions.WithLabelValues(outcome, ruleLabel).Inc()
		p.log.Info("refused", append(attrs, "outcome", outcome, "message", err.Error())...)
		p.refuse(conn, st, "28000", err.Error())
		return false
	}
	if rule.Method() == hba.Peer {
		// The proxy can do peer authentication itself: it knows the OS
		// user on the other end of its Unix socket. (The upstream, which
		// sees a TCP connection from the proxy, cannot.)
		// The user name as the server shows it (63 bytes, db_user_namespace).
		user, _ := rs.Names(hc)
		res, ok := p.checkPeer(ctx, c, rule, hc.User, user)
		if !ok {
			p.metrics.decisions.WithLabelValues("peer-failed", ruleLabel).Inc()
			p.log.Info("refused", append(attrs, "outcome", "peer-failed", "system_user", res.SystemUser,
				"map", res.Map, "detail", res.Message)...)
			p.refuse(conn, st, "28000", `Peer authentication failed for user "`+user+`"`)
			return false
		}
		attrs = append(attrs, "system_user", res.SystemUser)
		if res.Line != nil {
			attrs = append(attrs, "ident_line", res.Pos().String())
		}
	}
	p.metrics.decisions.WithLabelValues("allowed", ruleLabel).Inc()
	p.log.Info("allowed", attrs...)
	return true
}

// refuse sends the FATAL for a refused startup, preceded, as PostgreSQL
// does, by NegotiateProtocolVersion when the client asked for a newer minor
// protocol version or for protocol options.
func (p *Proxy) refuse(c net.Conn, st *startup, code, msg string) {
	be := pgproto3.NewBackend(c, c)
	if n := negotiation(st.pkt, st.opts, p.cfg.PGVersion); n != nil {
		be.Send(n)
	}
	be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
	be.Flush()
}

// send sends one message.
func send(c net.Conn, m pgproto3.BackendMessage) error {
	be := pgproto3.NewBackend(c, c)
	be.Send(m)
	return be.Flush()
}

// trusted reports whether a peer may send PROXY headers.
func (p *Proxy) trusted(a netip.Addr) bool {
	for _, n := range p.cfg.ProxyNetworks {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// headerFailed logs and counts a refused PROXY header and tells the client,
// when it is one (a connection from a trusted network without a header is
// presumably a PostgreSQL client that bypassed the balancer).
func (p *Proxy) headerFailed(c net.Conn, peer netip.Addr, err error) {
	var he *headerError
	if !errors.As(err, &he) {
		// The connection ended before its first byte.
		p.metrics.handshakeFailed.WithLabelValues("eof").Inc()
		return
	}
	p.metrics.proxyHeaderFails.WithLabelValues(he.reason).Inc()
	switch he.reason {
	case ppUntrusted:
		p.log.Warn("possible attack: PROXY header from an untrusted address; refused", "peer", peer.String(), "err", he.err)
	case ppMissing:
		p.log.Warn("refused: no PROXY header", "peer", peer.String())
		fatal(c, "08P01", "connection from a PROXY-protocol sender without a PROXY header", "")
	case ppTruncated:
		if errors.Is(err, os.ErrDeadlineExceeded) {
			p.log.Info("PROXY header timed out", "peer", peer.String(), "timeout", p.cfg.AuthTimeout.String())
		} else {
			p.log.Info("PROXY header truncated", "peer", peer.String(), "err", he.err)
		}
	default:
		p.log.Warn("refused: bad PROXY header", "peer", peer.String(), "reason", he.reason, "err", he.err)
	}
}

// healthCheck answers a balancer's own connection (PROXY v2 LOCAL) without
// a decision: a bare TCP check closes at once; a PostgreSQL check (such as
// HAProxy's option pgsql-check) sends a startup packet and is answered
// AuthenticationOk, which such checks take for a live server, and closed.
// An SSLRequest or GSSENCRequest first is answered N.
func (p *Proxy) healthCheck(c net.Conn, peer netip.Addr) {
	p.metrics.healthChecks.Inc()
	for range 3 {
		pkt, err := readPacket(c)
		if err != nil {
			break
		}
		if pkt.code == sslRequestCode || pkt.code == gssEncRequestCode {
			if _, err := c.Write([]byte{'N'}); err != nil {
				break
			}
			continue
		}
		if pkt.major() == 3 {
			send(c, &pgproto3.AuthenticationOk{})
		}
		break
	}
	p.log.Debug("health check answered", "peer", peer.String())
}

func clientText(local bool, a netip.Addr) string {
	if local {
		return "[local]"
	}
	return a.String()
}
