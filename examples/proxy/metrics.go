package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the proxy's Prometheus metrics, in a registry of its own (one
// per Proxy, so that tests can run several). Every name starts with
// pghba_proxy_; examples/README.md lists them.
type metrics struct {
	reg *prometheus.Registry

	decisions        *prometheus.CounterVec // outcome, rule
	decisionSeconds  prometheus.Histogram
	reloads          *prometheus.CounterVec // file, result
	rulesLoadedAt    prometheus.Gauge
	rules            prometheus.Gauge
	connsTotal       prometheus.Counter
	tooMany          prometheus.Counter
	handshakeFailed  *prometheus.CounterVec // reason
	proxyHeaderFails *prometheus.CounterVec // reason
	proxyHeaders     *prometheus.CounterVec // version, command
	healthChecks     prometheus.Counter
	acceptErrors     prometheus.Counter
}

func newMetrics(active func() float64) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pghba_proxy_decisions_total",
		Help: "pg_hba.conf decisions, by outcome (allowed, reject, no-match, unresolved, peer-failed, …) and deciding rule (file:line; empty when no rule matched)."},
		[]string{"outcome", "rule"})
	m.decisionSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pghba_proxy_decision_duration_seconds",
		Help:    "Time to decide a connection with the rules in force (host-name lookups included).",
		Buckets: []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2, 0.1, 1}})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pghba_proxy_reloads_total",
		Help: "Reload attempts, by file (hba, ident) and result (ok, failed)."}, []string{"file", "result"})
	m.rulesLoadedAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pghba_proxy_rules_loaded_timestamp_seconds",
		Help: "When the pg_hba.conf rules in force were loaded (Unix time)."})
	m.rules = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pghba_proxy_rules",
		Help: "Number of rules in force."})
	m.connsTotal = prometheus.NewCounter(prometheus.CounterOpts{Name: "pghba_proxy_connections_total",
		Help: "Client connections accepted (over the limit included)."})
	m.tooMany = prometheus.NewCounter(prometheus.CounterOpts{Name: "pghba_proxy_connections_over_limit_total",
		Help: "Connections answered \"sorry, too many clients already\" (-max-conns)."})
	m.handshakeFailed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pghba_proxy_handshake_failures_total",
		Help: "Connections that ended before a decision, by reason (timeout, eof, tls, bad_startup, protocol, …)."}, []string{"reason"})
	m.proxyHeaderFails = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pghba_proxy_proxy_header_failures_total",
		Help: "Connections refused for their PROXY header, by reason (missing, untrusted, malformed, too_long, truncated, no_address)."}, []string{"reason"})
	m.proxyHeaders = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pghba_proxy_proxy_headers_total",
		Help: "PROXY headers accepted, by version (1, 2) and command (proxy, local)."}, []string{"version", "command"})
	m.healthChecks = prometheus.NewCounter(prometheus.CounterOpts{Name: "pghba_proxy_health_checks_total",
		Help: "PROXY version 2 LOCAL connections (a balancer's health checks) answered without a decision."})
	m.acceptErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "pghba_proxy_accept_errors_total",
		Help: "Failed accept calls (EMFILE, ENFILE, …), each followed by a backoff."})
	for _, c := range []prometheus.Collector{m.decisions, m.decisionSeconds, m.reloads, m.rulesLoadedAt, m.rules,
		m.connsTotal, m.tooMany, m.handshakeFailed, m.proxyHeaderFails, m.proxyHeaders, m.healthChecks, m.acceptErrors} {
		f(c)
	}
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pghba_proxy_connections_active",
		Help: "Client connections open now, from accept to close (over the limit included while being answered)."}, active))
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (p *Proxy) Handler() http.Handler {
	return promhttp.HandlerFor(p.metrics.reg, promhttp.HandlerOpts{})
}

// ServeMetrics serves /metrics on ln until ctx ends.
func (p *Proxy) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", p.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	defer stop()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
