package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/pghba/pghba/hba"
)

// Config is everything the proxy is started with; main fills it from flags.
type Config struct {
	Listen []string // addresses: "127.0.0.1:6432", "[::1]:6432", ":6432", "unix:/tmp/.s.PGSQL.6432"
	// ProxyListen are TCP addresses served with ServeProxyProtocol.
	ProxyListen []string
	// MetricsAddr is where main serves /metrics (empty: nowhere).
	MetricsAddr string
	ReusePort   bool
	Upstream    string // host:port of the real server
	HBAFile     string
	IdentFile   string // pg_ident.conf, for peer rules on the Unix socket

	TLSCert, TLSKey string

	RolesFile    string        // JSON object: role -> roles it is directly a member of
	RolesDSN     string        // or: read memberships from the upstream server
	RolesRefresh time.Duration // how often RolesDSN is re-read

	// MaxConns bounds the client connections open at once, counted from
	// accept (PROXY header, startup and relayed sessions alike); the
	// connection over it is answered PostgreSQL's FATAL "sorry, too many
	// clients already" (SQLSTATE 53300) at once, without reading from it.
	// 0: no limit.
	MaxConns  int
	PGVersion int // dialect of pg_hba.conf; 0 means the hba package's default

	// ProxyNetworks are the senders (load balancers) whose PROXY protocol
	// headers are believed, on the listeners served with ServeProxyProtocol.
	// A connection from them must start with a header unless ProxyOptional;
	// a header from any other address is refused and logged as an attack.
	ProxyNetworks []netip.Prefix
	ProxyOptional bool

	// AuthTimeout bounds the time from accept to the decision: the PROXY
	// header, the SSL or GSS negotiation and the startup packet (after the
	// decision the upstream's own authentication_timeout applies). 0 means
	// 60 s, PostgreSQL's authentication_timeout default.
	AuthTimeout time.Duration

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

	metrics      *metrics
	lastLimitLog atomic.Int64 // unix nanoseconds of the last "too many" log line
	lingering    atomic.Int64 // lingerClose goroutines

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
	if cfg.AuthTimeout == 0 {
		cfg.AuthTimeout = time.Minute
	}
	p := &Proxy{cfg: cfg, log: log, notify: make(chan struct{}), conns: make(map[net.Conn]struct{})}
	p.metrics = newMetrics(func() float64 { return float64(p.active.Load()) })
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
	p.storeRules(rs)
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
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error { return p.serve(ctx, ln, false) }

// ServeProxyProtocol is Serve for a listener behind PROXY-protocol senders
// (Config.ProxyNetworks): the decision uses the client address of the
// header. ln must be a TCP listener.
func (p *Proxy) ServeProxyProtocol(ctx context.Context, ln net.Listener) error {
	if ln.Addr().Network() == "unix" {
		return errors.New("PROXY protocol listeners must be TCP")
	}
	return p.serve(ctx, ln, true)
}

func (p *Proxy) serve(ctx context.Context, ln net.Listener, pp bool) error {
	local := ln.Addr().Network() == "unix"
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// EMFILE, ENFILE, ENOBUFS, ECONNABORTED…: back off, doubling
			// from 5 ms to 1 s, so a full descriptor table never makes the
			// loop spin; log once per step up, not once per failure.
			p.metrics.acceptErrors.Inc()
			if backoff == 0 {
				backoff = 5 * time.Millisecond
			} else if backoff < time.Second {
				backoff = min(2*backoff, time.Second)
			}
			if backoff < time.Second || p.limitLogDue() {
				p.log.Error("accept failed; backing off", "err", err, "backoff", backoff.String())
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		p.metrics.connsTotal.Inc()
		n := p.active.Add(1)
		if p.cfg.MaxConns > 0 && n > int64(p.cfg.MaxConns) {
			// Answered here, in the accept loop: writing a hundred bytes
			// to a fresh socket does not block (and is bounded by the
			// deadline), and a flood over the limit then costs no
			// goroutine and holds each descriptor for microseconds.
			p.tooManyClients(c)
			p.active.Add(-1)
			continue
		}
		p.track(c, true)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.active.Add(-1)
			defer p.track(c, false)
			p.handle(ctx, c, local, pp)
		}()
	}
}

// tooManyClients answers a connection over -max-conns as PostgreSQL does
// when it has no backend slot left, and closes it.
func (p *Proxy) tooManyClients(c net.Conn) {
	p.metrics.tooMany.Inc()
	if p.limitLogDue() {
		p.log.Warn("refused: too many connections", "peer", c.RemoteAddr().String(), "max", p.cfg.MaxConns)
	}
	c.SetWriteDeadline(time.Now().Add(time.Second))
	fatal(c, "53300", "sorry, too many clients already", "")
	lingerClose(c, &p.lingering)
}

// maxLingering bounds the connections being closed gracefully at once.
const maxLingering = 256

// lingerClose closes a connection the proxy answered without reading what
// the client sent (its startup packet, typically): closing a socket with
// unread input sends a TCP reset, which can destroy the answer before the
// client reads it. So the proxy half-closes, and reads and discards until
// the client closes (at most a second, 64 KiB) in a goroutine of its own;
// beyond maxLingering such goroutines it closes at once.
func lingerClose(c net.Conn, n *atomic.Int64) {
	tc, ok := c.(*net.TCPConn)
	if !ok || n.Add(1) > maxLingering {
		if ok {
			n.Add(-1)
		}
		c.Close()
		return
	}
	tc.CloseWrite()
	go func() {
		defer n.Add(-1)
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// limitLogDue rate-limits repeated warnings to one a second.
func (p *Proxy) limitLogDue() bool {
	now := time.Now().UnixNano()
	last := p.lastLimitLog.Load()
	return now-last >= int64(time.Second) && p.lastLimitLog.CompareAndSwap(last, now)
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

// bare returns the socket under prefixConns whose prefix is used up, so that
// io.Copy can splice between two sockets.
func bare(c net.Conn) net.Conn {
	for {
		pc, ok := c.(*prefixConn)
		if !ok || len(pc.prefix) > 0 {
			return c
		}
		c = pc.Conn
	}
}

// pendingInput reports whether bytes have arrived on c that nobody has read
// yet (FIONREAD), as PostgreSQL checks its input buffer after an
// encryption request.
func pendingInput(c net.Conn) bool {
	if pc, ok := c.(*prefixConn); ok {
		return len(pc.prefix) > 0 || pendingInput(pc.Conn)
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	raw.Control(func(fd uintptr) {
		var v int32
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&v))); errno == 0 {
			n = int(v)
		}
	})
	return n > 0
}

// startup is what the client asked for.
type startup struct {
	raw    []byte // the startup packet, to forward as received
	params map[string]string
	opts   []string // protocol options (_pq_.*)
	pkt    packet
	ssl    bool
}

// errClosed ends a connection without an error message to the client;
// errCancel ends a connection that brought a cancel request.
var (
	errClosed = errors.New("connection closed during startup")
	errCancel = errors.New("cancel request")
)

// startupError is a startup the proxy answers with a FATAL, as PostgreSQL.
type startupError struct {
	reason string
	resp   *pgproto3.ErrorResponse
	legacy bool // send it in protocol 2's format
}

func (e *startupError) Error() string { return e.resp.Message }

// readStartup runs the startup negotiation: SSLRequest and GSSENCRequest are
// answered, a CancelRequest is forwarded and ends the connection. It returns
// the connection to use afterwards (TLS when negotiated). Every packet is
// read exactly: bytes the client sent behind its startup packet stay in the
// socket, to be relayed.
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
		pkt, err := readPacket(c)
		if err != nil {
			return c, nil, err
		}
		switch pkt.code {
		case sslRequestCode, gssEncRequestCode:
			isSSL := pkt.code == sslRequestCode
			if (isSSL && sslDone) || (!isSSL && gssDone) || len(pkt.raw) != 8 {
				return c, nil, fmt.Errorf("%w: repeated or malformed encryption request", errClosed)
			}
			if pendingInput(c) {
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
		case cancelRequestCode:
			if len(pkt.raw) == 16 {
				p.forwardCancel(pkt.raw)
			}
			return c, nil, errCancel
		default:
			if pkt.major() != 3 {
				return c, nil, &startupError{"protocol", unsupportedProtocol(pkt, p.cfg.PGVersion), pkt.major() < 3}
			}
			params, opts, bad := startupParams(pkt)
			if bad != nil {
				return c, nil, &startupError{reason: "bad_startup", resp: bad}
			}
			st.pkt, st.raw, st.params, st.opts = pkt, pkt.raw, params, opts
			return c, st, nil
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
		var err error
		hdr, err = readProxyHeader(c, p.trusted(peer), p.cfg.ProxyOptional)
		if err != nil {
			p.headerFailed(c, peer, err)
			return
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
			return
		}
		if hdr.present {
			addr = hdr.src.Addr()
		} else {
			c = &prefixConn{Conn: c, prefix: hdr.prefix}
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
		return
	}
	hc, bad := connFor(local, addr, st.ssl, st.params)
	if bad != nil {
		p.metrics.handshakeFailed.WithLabelValues("bad_startup").Inc()
		bad.Severity, bad.SeverityUnlocalized = "FATAL", "FATAL"
		send(conn, bad)
		return
	}

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
		return
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
			return
		}
		attrs = append(attrs, "system_user", res.SystemUser)
		if res.Line != nil {
			attrs = append(attrs, "ident_line", res.Pos().String())
		}
	}
	p.metrics.decisions.WithLabelValues("allowed", ruleLabel).Inc()
	p.log.Info("allowed", attrs...)

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

// drainClose ends a connection the proxy answered (or gave up on) without
// reading all the client sent: closing a socket with unread input sends a
// TCP reset, which can destroy the answer before the client reads it. So
// the proxy half-closes and reads and discards until the client closes, for
// half a second and 64 KiB at most. The caller closes c afterwards.
func drainClose(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	tc.CloseWrite()
	tc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.Copy(io.Discard, io.LimitReader(tc, 64<<10))
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
