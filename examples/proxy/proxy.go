// The Proxy: its configuration and construction, the listeners it serves,
// the limits on clients (max connections, lingering closes) and shutdown.

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
	"sync"
	"sync/atomic"
	"time"

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
