package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/pghba/pghba/hba"
)

// Config is everything the proxy is started with; main fills it from flags.
type Config struct {
	Listen    []string // addresses: "127.0.0.1:6432", "[::1]:6432", ":6432", "unix:/tmp/.s.PGSQL.6432"
	ReusePort bool
	Upstream  string // host:port of the real server
	HBAFile   string
	IdentFile string // pg_ident.conf, for peer rules on the Unix socket

	TLSCert, TLSKey string

	RolesFile    string        // JSON object: role -> roles it is directly a member of
	RolesDSN     string        // or: read memberships from the upstream server
	RolesRefresh time.Duration // how often RolesDSN is re-read

	MaxConns  int // 0: no limit
	PGVersion int // dialect of pg_hba.conf; 0 means the hba package's default

	// PollInterval is how often the files are checked for changes; 0 means
	// one second, negative disables polling.
	PollInterval time.Duration
	// DialTimeout bounds the upstream dial; 0 means ten seconds.
	DialTimeout time.Duration
}

// Proxy accepts PostgreSQL connections, decides them with pg_hba.conf rules
// and relays the allowed ones to the upstream server.
type Proxy struct {
	cfg    Config
	log    *slog.Logger
	parser hba.Parser
	rules  hba.Holder
	ident  hba.IdentHolder
	tls    *tls.Config
	roles  *upstreamRoles // nil unless Config.RolesDSN

	active atomic.Int64 // connections being served

	reloadMu sync.Mutex // serialises reloads (SIGHUP and the poller)
	gen      atomic.Uint64
	failed   atomic.Uint64
	notify   chan struct{} // closed and replaced at every reload attempt
	notifyMu sync.Mutex

	connsMu sync.Mutex
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// New loads the configuration. A pg_hba.conf that does not load is an error
// here: like PostgreSQL, the proxy does not start without valid rules.
func New(cfg Config, log *slog.Logger) (*Proxy, error) {
	if cfg.Upstream == "" {
		return nil, errors.New("no upstream given")
	}
	if cfg.HBAFile == "" {
		return nil, errors.New("no pg_hba.conf given")
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.RolesRefresh == 0 {
		cfg.RolesRefresh = 30 * time.Second
	}
	p := &Proxy{cfg: cfg, log: log, notify: make(chan struct{}), conns: make(map[net.Conn]struct{})}
	p.parser.Version = cfg.PGVersion
	// Host-name rules resolve the client's address, as PostgreSQL does.
	p.parser.Env.Resolver = unmapResolver{net.DefaultResolver}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		// ALPN "postgresql", as PostgreSQL 17+ servers; required for
		// direct SSL (sslnegotiation=direct), optional after an SSLRequest.
		p.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
			NextProtos: []string{"postgresql"}}
		// hostssl rules only match when the server has ssl=on.
		p.parser.SSL = true
	}
	switch {
	case cfg.RolesFile != "" && cfg.RolesDSN != "":
		return nil, errors.New("give -roles or -roles-from-upstream, not both")
	case cfg.RolesFile != "":
		g, err := loadRoleFile(cfg.RolesFile)
		if err != nil {
			return nil, err
		}
		p.parser.Env.Roles = g
	case cfg.RolesDSN != "":
		p.roles = newUpstreamRoles(cfg.RolesDSN, log)
		p.parser.Env.Roles = p.roles
	}
	if cfg.IdentFile != "" {
		// As PostgreSQL at startup: a pg_ident.conf that does not load is
		// logged and the proxy runs with no maps (every mapped check fails).
		p.loadIdent(true)
	}
	rs, err := p.parser.Load(cfg.HBAFile)
	if err != nil {
		p.logLoadError(cfg.HBAFile, err)
		return nil, fmt.Errorf("%s: not loaded: %w", cfg.HBAFile, err)
	}
	p.rules.Store(rs)
	p.log.Info("pg_hba.conf loaded", "file", rs.Path(), "rules", len(rs.Rules()))
	return p, nil
}

// Rules returns the rules in force.
func (p *Proxy) Rules() *hba.Ruleset { return p.rules.Load() }

// Run starts the background work (file polling, role refresh) until ctx ends.
func (p *Proxy) Run(ctx context.Context) {
	if p.roles != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.roles.run(ctx, p.cfg.RolesRefresh)
		}()
	}
	if p.cfg.PollInterval > 0 {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.watch(ctx)
		}()
	}
}

// Serve accepts connections on ln until ln is closed or ctx ends. Each
// connection is handled in its own goroutine.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	local := ln.Addr().Network() == "unix"
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and friends: back off briefly instead of spinning.
			p.log.Error("accept", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		p.track(c, true)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.track(c, false)
			p.handle(ctx, c, local)
		}()
	}
}

func (p *Proxy) track(c net.Conn, add bool) {
	p.connsMu.Lock()
	defer p.connsMu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
		c.Close()
	}
}

// Close closes every client connection and waits for the handlers and the
// background goroutines to end. Listeners are closed by their Serve's ctx.
func (p *Proxy) Close() {
	p.connsMu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.connsMu.Unlock()
	p.wg.Wait()
}

// Active returns the number of client connections being served.
func (p *Proxy) Active() int64 { return p.active.Load() }

// recorder keeps every byte read through it, so that the startup packet can
// be forwarded to the upstream exactly as the client sent it, with anything
// the client pipelined behind it.
type recorder struct {
	r   io.Reader
	buf bytes.Buffer
}

func (r *recorder) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.buf.Write(b[:n])
	return n, err
}

// prefixConn gives back bytes already read before reading on.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// startup is what the client asked for.
type startup struct {
	raw []byte // the packets to forward: startup message and pipelined bytes
	msg *pgproto3.StartupMessage
	ssl bool
}

// errClosed ends a connection without an error message to the client.
var errClosed = errors.New("connection closed during startup")

// readStartup runs the startup negotiation: SSLRequest and GSSENCRequest are
// answered, a CancelRequest is forwarded and ends the connection. It returns
// the connection to use afterwards (TLS when negotiated).
func (p *Proxy) readStartup(c net.Conn, local bool) (net.Conn, *startup, error) {
	st := &startup{}
	sslDone, gssDone := false, false
	if p.tls != nil && !local {
		// A client with sslnegotiation=direct (PostgreSQL 17+) starts the
		// TLS handshake at once instead of sending an SSLRequest.
		var first [1]byte
		if _, err := io.ReadFull(c, first[:]); err != nil {
			return c, nil, err
		}
		c = &prefixConn{Conn: c, prefix: first[:]}
		if first[0] == 0x16 { // TLS handshake record
			tc := tls.Server(c, p.tls)
			if err := tc.Handshake(); err != nil {
				return c, nil, fmt.Errorf("direct tls handshake: %w", err)
			}
			c = tc
			if tc.ConnectionState().NegotiatedProtocol != "postgresql" {
				fatal(c, "08P01", "received direct SSL connection request without ALPN protocol negotiation extension", "")
				return c, nil, errClosed
			}
			st.ssl, sslDone, gssDone = true, true, true
		}
	}
	for {
		rec := &recorder{r: c}
		be := pgproto3.NewBackend(rec, c)
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return c, nil, err
		}
		pkt := int(binary.BigEndian.Uint32(rec.buf.Bytes()))
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			isSSL := false
			if _, ok := m.(*pgproto3.SSLRequest); ok {
				isSSL = true
			}
			if (isSSL && sslDone) || (!isSSL && gssDone) {
				return c, nil, fmt.Errorf("%w: repeated encryption request", errClosed)
			}
			if rec.buf.Len() > pkt {
				// Bytes after an encryption request would be read as if
				// they were encrypted; PostgreSQL refuses them too.
				return c, nil, fmt.Errorf("%w: unencrypted data after encryption request", errClosed)
			}
			answer := byte('N')
			if isSSL && p.tls != nil && !local {
				answer = 'S'
			}
			if _, err := c.Write([]byte{answer}); err != nil {
				return c, nil, err
			}
			if isSSL {
				sslDone = true
			} else {
				gssDone = true
			}
			if answer == 'S' {
				tc := tls.Server(c, p.tls)
				if err := tc.Handshake(); err != nil {
					return c, nil, fmt.Errorf("tls handshake: %w", err)
				}
				c = tc
				st.ssl = true
				gssDone = true // no GSS request inside TLS
			}
		case *pgproto3.CancelRequest:
			p.forwardCancel(rec.buf.Bytes())
			return c, nil, errClosed
		case *pgproto3.StartupMessage:
			// The Backend reuses its message value; keep our own copy.
			cp := *m
			st.msg = &cp
			st.raw = append([]byte(nil), rec.buf.Bytes()...)
			return c, st, nil
		default:
			return c, nil, fmt.Errorf("unexpected startup message %T", msg)
		}
	}
}

// forwardCancel sends a CancelRequest packet to the upstream as received.
// The upstream answers nothing; it closes the connection.
func (p *Proxy) forwardCancel(pkt []byte) {
	u, err := net.DialTimeout("tcp", p.cfg.Upstream, p.cfg.DialTimeout)
	if err != nil {
		p.log.Warn("cancel request not forwarded", "err", err)
		return
	}
	defer u.Close()
	if _, err := u.Write(pkt); err != nil {
		p.log.Warn("cancel request not forwarded", "err", err)
		return
	}
	// Wait for the server to close, so the cancel is delivered before we
	// close the client (libpq waits for our close).
	u.SetReadDeadline(time.Now().Add(p.cfg.DialTimeout))
	io.Copy(io.Discard, u)
	p.log.Info("cancel request forwarded")
}

// unmapResolver returns IPv4 addresses as IPv4: Go's resolver answers
// LookupNetIP(ctx, "ip", name) from /etc/hosts with IPv4-mapped IPv6
// addresses (::ffff:127.0.0.1), which would never equal an IPv4 client.
type unmapResolver struct{ *net.Resolver }

func (r unmapResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	addrs, err := r.Resolver.LookupNetIP(ctx, network, host)
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, err
}

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

// handle serves one client connection.
func (p *Proxy) handle(ctx context.Context, c net.Conn, local bool) {
	n := p.active.Add(1)
	defer p.active.Add(-1)
	// The startup negotiation must not hang forever (PostgreSQL's
	// authentication_timeout is one minute).
	c.SetDeadline(time.Now().Add(time.Minute))
	conn, st, err := p.readStartup(c, local)
	if conn != c {
		defer conn.Close()
	}
	if err != nil {
		if !errors.Is(err, errClosed) && !errors.Is(err, io.EOF) {
			p.log.Debug("startup failed", "client", c.RemoteAddr().String(), "err", err)
		}
		return
	}
	addr := clientAddr(c)
	hc, bad := connFor(local, addr, st.ssl, st.msg.Parameters)
	if bad != nil {
		bad.Severity, bad.SeverityUnlocalized = "FATAL", "FATAL"
		be := pgproto3.NewBackend(conn, conn)
		be.Send(bad)
		be.Flush()
		return
	}
	if p.cfg.MaxConns > 0 && n > int64(p.cfg.MaxConns) {
		p.log.Warn("refused: too many connections", "client", clientText(local, addr), "max", p.cfg.MaxConns)
		fatal(conn, "53300", "sorry, too many clients already", "")
		return
	}

	// Bound the decision: a host-name rule may wait for DNS.
	mctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	rule, err := p.rules.MatchContext(mctx, hc)
	cancel()
	attrs := []any{"client", clientText(local, addr), "user", hc.User, "database", hc.Database, "ssl", hc.SSL}
	if hc.Replication != hba.NoReplication {
		attrs = append(attrs, "replication", hc.Replication.String())
	}
	if rule != nil {
		attrs = append(attrs, "rule", rule.Pos().String(), "method", rule.Method().String())
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
		p.log.Info("refused", append(attrs, "outcome", outcome, "message", err.Error())...)
		fatal(conn, "28000", err.Error(), "")
		return
	}
	if rule.Method() == hba.Peer {
		// The proxy can do peer authentication itself: it knows the OS
		// user on the other end of its Unix socket. (The upstream, which
		// sees a TCP connection from the proxy, cannot.)
		res, ok := p.checkPeer(ctx, c, rule, hc.User)
		if !ok {
			p.log.Info("refused", append(attrs, "outcome", "peer-failed", "system_user", res.SystemUser,
				"map", res.Map, "detail", res.Message)...)
			fatal(conn, "28000", `Peer authentication failed for user "`+truncName(hc.User)+`"`, "")
			return
		}
		attrs = append(attrs, "system_user", res.SystemUser)
		if res.Line != nil {
			attrs = append(attrs, "ident_line", res.Pos().String())
		}
	}
	p.log.Info("allowed", attrs...)

	up, err := net.DialTimeout("tcp", p.cfg.Upstream, p.cfg.DialTimeout)
	if err != nil {
		p.log.Error("upstream unreachable", "upstream", p.cfg.Upstream, "err", err)
		fatal(conn, "08006", "could not connect to the upstream server", "")
		return
	}
	defer up.Close()
	c.SetDeadline(time.Time{})
	if _, err := up.Write(st.raw); err != nil {
		p.log.Error("upstream write", "err", err)
		fatal(conn, "08006", "could not connect to the upstream server", "")
		return
	}
	if pc, ok := conn.(*prefixConn); ok && len(pc.prefix) == 0 {
		conn = pc.Conn // lets io.Copy splice between the two sockets
	}
	relay(conn, up)
}

func clientText(local bool, a netip.Addr) string {
	if local {
		return "[local]"
	}
	return a.String()
}

// relay copies bytes both ways until either side closes, then closes both.
func relay(client, up net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		// Closing both ends unblocks the other copy.
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go cp(up, client)
	go cp(client, up)
	<-done
	<-done
}
