// Command loadgen measures connection setup side by side, in one run:
// straight to PostgreSQL 15, through the pghba proxy, and through PgBouncer
// with auth_type = hba and the same pg_hba.conf. It starts all three itself
// (loopback, random ports, temporary directories), opens connections with
// raw startup packets (pgconn for scram-sha-256), and writes a Markdown
// report. scripts/bench-proxy.sh builds and runs it; it is not part of the
// test suite.
//
//	loadgen -proxy PATH -out examples/BENCHMARKS.md [-cell 1.5s] [-clients 1,16,64] [-rules 10,1000,10000]
//
// For every subject, pg_hba.conf size, kind of connection (trust,
// scram-sha-256, no entry, reject) and number of concurrent clients, it
// runs for -cell (at most -max-per-cell connections) and reports
// connections per second, p50 and p99 setup latency (connect to
// ReadyForQuery or to the FATAL), and CPU per connection of each process
// involved, from /proc/PID/stat (utime+stime; for PostgreSQL the
// postmaster with cutime+cstime, which holds its exited backends, plus its
// live children).
//
// Clients close with SO_LINGER 0 (a reset), so that a run of tens of
// thousands of loopback connections leaves no TIME_WAIT sockets behind.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type options struct {
	pgBin      string
	pgbouncer  string
	proxy      string
	out        string
	cell       time.Duration
	maxPerCell int
	clients    []int
	rules      []int
	rounds     int
	roundCell  time.Duration
}

func main() {
	var o options
	var clients, rules string
	flag.StringVar(&o.pgBin, "pgbin", "/usr/lib/postgresql/15/bin", "PostgreSQL 15 binaries")
	flag.StringVar(&o.pgbouncer, "pgbouncer", "/usr/sbin/pgbouncer", "PgBouncer binary")
	flag.StringVar(&o.proxy, "proxy", "", "the proxy binary (go build ./proxy)")
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "report to write")
	flag.DurationVar(&o.cell, "cell", 1500*time.Millisecond, "time per measurement")
	flag.IntVar(&o.maxPerCell, "max-per-cell", 4000, "connections per measurement at most")
	flag.StringVar(&clients, "clients", "1,16,64", "concurrent clients")
	flag.StringVar(&rules, "rules", "10,1000,10000", "pg_hba.conf sizes (rules)")
	flag.DurationVar(&o.roundCell, "round-cell", 3*time.Second, "time per measurement in the interleaved rounds")
	flag.IntVar(&o.rounds, "rounds", 8, "interleaved rounds for the 10 vs 10,000 rules comparison")
	flag.Parse()
	var err error
	if o.clients, err = ints(clients); err == nil {
		o.rules, err = ints(rules)
	}
	if err == nil && o.proxy == "" {
		err = errors.New("-proxy is required")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if err := bench(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
}
