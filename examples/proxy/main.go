// Command proxy is a small PostgreSQL proxy that enforces pg_hba.conf with
// the hba package: it reads each client's startup packet, decides the
// connection as PostgreSQL would, and either refuses it with PostgreSQL's
// exact FATAL message or relays it, byte for byte, to the upstream server,
// which still does the authentication (except for peer rules on the proxy's
// Unix socket, which the proxy checks itself with pg_ident.conf).
//
//	proxy -listen 127.0.0.1:6432 -listen unix:/tmp/.s.PGSQL.6432 \
//	      -upstream 127.0.0.1:5432 -hba pg_hba.conf [-ident pg_ident.conf] \
//	      [-pg-version 15] [-tls-cert server.crt -tls-key server.key] \
//	      [-reuseport] [-roles roles.json | -roles-from-upstream DSN] \
//	      [-max-conns N] [-authentication-timeout 60s] [-metrics 127.0.0.1:9187] \
//	      [-proxy-listen 127.0.0.1:6433 -proxy-networks 10.0.0.0/8,… [-proxy-optional]]
//
// SIGHUP, or a change of a file on disk, reloads pg_hba.conf and
// pg_ident.conf; a file that does not load leaves the old rules in force.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// parseFlags turns the command line into a Config.
func parseFlags(args []string, stderr io.Writer) (Config, bool, error) {
	var cfg Config
	var listen, proxyListen listFlag
	var jsonLogs bool
	var proxyNets string
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&listen, "listen", "address to listen on: HOST:PORT, [IPv6]:PORT, :PORT (all interfaces) or unix:PATH; repeatable")
	fs.BoolVar(&cfg.ReusePort, "reuseport", false, "set SO_REUSEPORT so several proxies can share a port")
	fs.StringVar(&cfg.Upstream, "upstream", "", "HOST:PORT of the PostgreSQL server")
	fs.StringVar(&cfg.HBAFile, "hba", "", "pg_hba.conf to enforce")
	fs.StringVar(&cfg.IdentFile, "ident", "", "pg_ident.conf: user name maps for peer rules on -listen unix: sockets")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "certificate for SSL connections (PEM)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "key for -tls-cert (PEM)")
	fs.StringVar(&cfg.RolesFile, "roles", "", "JSON file of role memberships: {\"role\": [\"group\", …]}")
	fs.StringVar(&cfg.RolesDSN, "roles-from-upstream", "", "connection string to read role memberships from")
	fs.DurationVar(&cfg.RolesRefresh, "roles-refresh", 30*time.Second, "how often -roles-from-upstream is re-read")
	fs.Var(&proxyListen, "proxy-listen", "TCP address to listen on for connections that start with a PROXY protocol (v1 or v2) header; repeatable")
	fs.StringVar(&proxyNets, "proxy-networks", "", "CIDR[,CIDR…]: the load balancers whose PROXY headers are believed on -proxy-listen")
	fs.BoolVar(&cfg.ProxyOptional, "proxy-optional", false, "serve connections from -proxy-networks that send no PROXY header (with the balancer's address)")
	fs.DurationVar(&cfg.AuthTimeout, "authentication-timeout", time.Minute, "time allowed from accept to the decision: PROXY header, SSL negotiation and startup packet")
	fs.StringVar(&cfg.MetricsAddr, "metrics", "", "HOST:PORT to serve Prometheus metrics on, at /metrics")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "client connections open at once, counted from accept; the next one is answered \"sorry, too many clients already\" (0: no limit)")
	fs.IntVar(&cfg.PGVersion, "pg-version", 0, "PostgreSQL major version whose pg_hba.conf dialect to read (13-18; default 18)")
	fs.DurationVar(&cfg.PollInterval, "poll", time.Second, "how often to check pg_hba.conf for changes (0: never)")
	fs.BoolVar(&jsonLogs, "json", false, "log JSON instead of text")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if len(listen) == 0 && len(proxyListen) == 0 {
		return cfg, false, errors.New("no -listen or -proxy-listen address")
	}
	if proxyNets != "" {
		for _, f := range strings.Split(proxyNets, ",") {
			pfx, err := netip.ParsePrefix(strings.TrimSpace(f))
			if err != nil {
				if a, aerr := netip.ParseAddr(strings.TrimSpace(f)); aerr == nil {
					pfx = netip.PrefixFrom(a, a.BitLen())
				} else {
					return cfg, false, fmt.Errorf("-proxy-networks: %w", err)
				}
			}
			cfg.ProxyNetworks = append(cfg.ProxyNetworks, pfx.Masked())
		}
	}
	if len(proxyListen) > 0 && len(cfg.ProxyNetworks) == 0 {
		return cfg, false, errors.New("-proxy-listen needs -proxy-networks (the balancers to believe)")
	}
	if len(proxyListen) == 0 && (len(cfg.ProxyNetworks) > 0 || cfg.ProxyOptional) {
		return cfg, false, errors.New("-proxy-networks and -proxy-optional apply to -proxy-listen listeners; none given")
	}
	for _, a := range proxyListen {
		if strings.HasPrefix(a, "unix:") {
			return cfg, false, fmt.Errorf("-proxy-listen %s: PROXY protocol listeners must be TCP", a)
		}
	}
	if cfg.AuthTimeout <= 0 {
		return cfg, false, errors.New("-authentication-timeout must be positive")
	}
	if cfg.MaxConns < 0 {
		return cfg, false, errors.New("-max-conns must not be negative")
	}
	cfg.ProxyListen = proxyListen
	if cfg.PollInterval == 0 {
		cfg.PollInterval = -1
	}
	cfg.Listen = listen
	return cfg, jsonLogs, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	cfg, jsonLogs, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "proxy:", err)
		return 2
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if jsonLogs {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	p, err := New(cfg, log)
	if err != nil {
		log.Error("not started", "err", err)
		return 1
	}
	type listener struct {
		ln net.Listener
		pp bool
	}
	var lns []listener
	closeAll := func() {
		for _, l := range lns {
			l.ln.Close()
		}
	}
	for i, a := range append(append([]string(nil), cfg.Listen...), cfg.ProxyListen...) {
		pp := i >= len(cfg.Listen)
		ln, err := Listen(ctx, a, cfg.ReusePort)
		if err != nil {
			log.Error("listen", "addr", a, "err", err)
			closeAll()
			return 1
		}
		log.Info("listening", "addr", ln.Addr().String(), "network", ln.Addr().Network(), "proxy_protocol", pp)
		lns = append(lns, listener{ln, pp})
	}
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		network, err := tcpNetwork(cfg.MetricsAddr)
		if err == nil {
			mln, err = net.Listen(network, cfg.MetricsAddr)
		}
		if err != nil {
			log.Error("metrics listen", "addr", cfg.MetricsAddr, "err", err)
			closeAll()
			return 1
		}
		log.Info("serving metrics", "addr", mln.Addr().String())
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("received SIGHUP, reloading configuration files")
				p.ReloadAll()
			}
		}
	}()

	p.Run(ctx)
	var wg sync.WaitGroup
	for _, l := range lns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.pp {
				p.ServeProxyProtocol(ctx, l.ln)
			} else {
				p.Serve(ctx, l.ln)
			}
		}()
	}
	if mln != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.ServeMetrics(ctx, mln); err != nil {
				log.Error("metrics", "err", err)
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	log.Info("shutting down")
	p.Close()
	return 0
}
