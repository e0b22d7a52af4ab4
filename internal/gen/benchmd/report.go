package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

func fmtNs(ns float64) string {
	switch {
	case ns == 0:
		return "not measured"
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f ns", ns)
}

func fmtDur(d time.Duration) string { return fmtNs(float64(d)) }

// verdict is "met", "NOT met" or "not measured".
func verdict(measured bool, met bool) string {
	switch {
	case !measured:
		return "not measured"
	case met:
		return "met"
	}
	return "**NOT met**"
}

func minMax(x []float64) (lo, hi float64) {
	for i, v := range x {
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return
}

func ratioList(x []float64) string {
	var s []string
	for _, v := range x {
		s = append(s, fmt.Sprintf("%.1f", v))
	}
	return strings.Join(s, ", ")
}

func (r *run) report(w io.Writer, fig *figures) {
	m := r.mach
	tenant, real := r.shape("tenant"), r.shape("realistic")
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }

	p("# Benchmarks\n\n")
	p("Produced by `scripts/bench.sh` (do not edit by hand): one run measures pghba with `go test -bench`\n")
	p("and, in the same run, PostgreSQL %s and pghba reading the same two files from disk.\n", pgSide.version)
	p("Figures are medians over the runs shown.\n\n")
	p("| Machine | |\n|---|---|\n")
	p("| Date | %s |\n", m.date)
	p("| CPU | %s |\n", m.cpu)
	p("| Cores | %d |\n", m.ncpu)
	p("| Go | %s |\n", m.goVersion)
	p("| PostgreSQL | %s, ssl = on |\n", pgSide.version)
	if m.nSamples > 0 {
		p("| Load average (1 min) during the run | %.2f median, %.2f–%.2f over %d samples |\n\n", m.loadMedian, m.loadMin, m.loadMax, m.nSamples)
	} else {
		p("| Load average (1 min) during the run | not sampled |\n\n")
	}
	if m.loadMax > 1 {
		p("**WARNING: the 1-minute load average reached %.2f during the run (over 1): the machine was not quiet\n", m.loadMax)
		p("and these figures are noisy.** Rerun on a quiet machine before quoting them.\n\n")
	}

	p("## The files\n\n")
	p("| Shape | Generator (seed %d) | Rules | Bytes (with `@file`s) |\n|---|---|---|---|\n", seed)
	p("| tenant | `gen.MultiTenant(100000)` | %d | %d (%.1f MB) |\n", tenant.rules, tenant.bytes, float64(tenant.bytes)/1e6)
	p("| realistic | `gen.Realistic(100000, Target{Major: 15})` | %d | %d (%.1f MB) |\n\n", real.rules, real.bytes, float64(real.bytes)/1e6)
	p("- **tenant**: `local all postgres peer`, then rule i = `host tenant_i user_i,admin_(i%%50) A.B.C.0/24 scram-sha-256`\n")
	p("  for each tenant, then `host all all 127.0.0.1/32 trust`.\n")
	p("- **realistic**: local, host, hostssl, hostnossl, hostgssenc and hostnogssenc lines; IPv4 and IPv6\n")
	p("  networks, address plus mask columns, samehost and samenet; quoted names, name lists, `+role`,\n")
	p("  `samerole`; an `@file` of 40 user names on about a quarter of the lines, spelled `@groups/ops.txt`\n")
	p("  and `@./groups/../groups/ops.txt`, and an `@file` of databases; scram-sha-256 and md5 (with\n")
	p("  `clientcert=verify-ca`/`verify-full` on hostssl), cert, trust, reject, peer, ident with a map, ldap\n")
	p("  (simple and search+bind), radius (numeric servers), pam and gss with options; comments. PostgreSQL\n")
	p("  shows all %d rules in `pg_hba_file_rules` with no error row (`internal/gen` TestRealisticPostgres\n", real.viewRows)
	p("  checks this on 15, 16 and 18; the 16+ variant adds `/regex` users and continuation lines).\n\n")

	lt, lr := r.get("BenchmarkLoad/shape=tenant"), r.get("BenchmarkLoad/shape=realistic")
	st, sr := r.get("BenchmarkLoadSingleCore/shape=tenant"), r.get("BenchmarkLoadSingleCore/shape=realistic")
	m10 := r.get("BenchmarkMatch/rules=10")
	d1k, d10k := r.get("BenchmarkDiff1000"), r.get("BenchmarkDiff10000")

	p("## Targets (issue 20)\n\n")
	p("| Figure | Measured | Target | |\n|---|---|---|---|\n")
	ratioRow := func(name string, x []float64) {
		v := medianOf(x)
		p("| %s | %.1f× | ≥ 10× | %s |\n", name, v, verdict(len(x) > 0, v >= 10))
	}
	ratioRow("tenant: pghba load vs PostgreSQL view query", tenant.ratioView)
	ratioRow("tenant: pghba load vs PostgreSQL reload", tenant.ratioReload)
	ratioRow("realistic: pghba load vs PostgreSQL view query", real.ratioView)
	ratioRow("realistic: pghba load vs PostgreSQL reload", real.ratioReload)
	mbs := st.extra["MB/s"]
	p("| single-core load throughput, tenant (`BenchmarkLoadSingleCore`) | %.0f MB/s | ≥ 300 MB/s | %s |\n", mbs, verdict(mbs > 0, mbs >= 300))
	bt, br := lt.extra["B/rule"], lr.extra["B/rule"]
	p("| retained heap, tenant | %.0f B/rule | ≤ 150 | %s |\n", bt, verdict(bt > 0, bt <= 150))
	p("| retained heap, realistic | %.0f B/rule | ≤ 300 | %s |\n", br, verdict(br > 0, br <= 300))
	p("| `BenchmarkMatch/rules=10` | %s, %.0f allocs | ≤ 30 ns, 0 allocs | %s |\n", fmtNs(m10.nsOp), m10.allocs, verdict(m10.nsOp > 0, m10.nsOp <= 30 && m10.allocs == 0))
	p("| `BenchmarkDiff1000` | %s | ≤ 1 s | %s |\n", fmtNs(d1k.nsOp), verdict(d1k.nsOp > 0, d1k.nsOp <= 1e9))
	p("| `BenchmarkDiff10000` | %s | ≤ 10 s | %s |\n\n", fmtNs(d10k.nsOp), verdict(d10k.nsOp > 0, d10k.nsOp <= 10e9))

	p("## Loading\n\n")
	p("| | tenant | realistic |\n|---|---|---|\n")
	p("| pghba `BenchmarkLoad/shape=*` (all %d cores, from disk) | %s/op, %.0f MB/s | %s/op, %.0f MB/s |\n", m.ncpu, fmtNs(lt.nsOp), lt.extra["MB/s"], fmtNs(lr.nsOp), lr.extra["MB/s"])
	p("| pghba `BenchmarkLoadSingleCore/shape=*` (GOMAXPROCS=1) | %s/op, %.0f MB/s | %s/op, %.0f MB/s |\n", fmtNs(st.nsOp), st.extra["MB/s"], fmtNs(sr.nsOp), sr.extra["MB/s"])
	p("| allocs per load | %.0f | %.0f |\n", lt.allocs, lr.allocs)
	p("| retained heap per rule | %.0f B | %.0f B |\n", bt, br)
	p("| pghba `Parser.Load` in the rounds below (median) | %s | %s |\n", fmtDur(medianDur(tenant.load)), fmtDur(medianDur(real.load)))
	p("| PostgreSQL view query, execution time (median) | %s | %s |\n", fmtDur(medianDur(tenant.exec)), fmtDur(medianDur(real.exec)))
	p("| PostgreSQL view query, round trip (median) | %s | %s |\n", fmtDur(medianDur(tenant.wall)), fmtDur(medianDur(real.wall)))
	p("| PostgreSQL reload (median) | %s | %s |\n", fmtDur(medianDur(tenant.reload)), fmtDur(medianDur(real.reload)))
	rr := func(x []float64) string {
		lo, hi := minMax(x)
		return fmt.Sprintf("**%.1f×** (%.1f–%.1f)", medianOf(x), lo, hi)
	}
	p("| ratio: view query / pghba load, per round | %s | %s |\n", rr(tenant.ratioView), rr(real.ratioView))
	p("| ratio: reload / pghba load, per round | %s | %s |\n", rr(tenant.ratioReload), rr(real.ratioReload))
	gb := func(pg []time.Duration, x *result) string {
		if x.nsOp == 0 {
			return "not measured"
		}
		return fmt.Sprintf("%.1f×", float64(medianDur(pg))/x.nsOp)
	}
	cpu := func(pg, pgh []time.Duration) string {
		if len(pg) == 0 || medianDur(pgh) == 0 {
			return "not measured"
		}
		return fmt.Sprintf("%.1f× (%s / %s)", float64(medianDur(pg))/float64(medianDur(pgh)), fmtDur(medianDur(pg)), fmtDur(medianDur(pgh)))
	}
	p("| CPU time: view query backend / pghba process (medians) | %s | %s |\n", cpu(tenant.cpuExec, tenant.cpuLoad), cpu(real.cpuExec, real.cpuLoad))
	p("| CPU time: reload postmaster / pghba process (medians) | %s | %s |\n", cpu(tenant.cpuReload, tenant.cpuLoad), cpu(real.cpuReload, real.cpuLoad))
	p("| ratio: view query / `BenchmarkLoad` (medians) | %s | %s |\n", gb(tenant.exec, lt), gb(real.exec, lr))
	p("| ratio: reload / `BenchmarkLoad` (medians) | %s | %s |\n\n", gb(tenant.reload, lt), gb(real.reload, lr))

	p("Rounds (%d per shape, after one untimed round). Each round, one after the other: the view query\n", r.runs)
	p("`EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM pg_hba_file_rules` (the view re-reads and\n")
	p("parses the file and its `@file`s at every query; its execution time is the figure), the same\n")
	p("query without EXPLAIN (round trip), a reload (SIGHUP until the postmaster answers a new\n")
	p("connection; it re-reads postgresql.conf and the SSL certificate too), and pghba's `Parser.Load`\n")
	p("of the same path in benchmd's process. The ratios are the medians of the per-round ratios, so\n")
	p("that a change in the machine's load moves both sides alike. The CPU-time rows compare what\n")
	p("each side spent on the processor (the admin backend's and the postmaster's user+system time from\n")
	p("/proc, in 10 ms ticks; pghba's whole process from getrusage, all threads): other work on a\n")
	p("shared machine moves them much less than it moves wall-clock time, but they are not the\n")
	p("issue's targets, which are wall-clock (a parallel load spends more CPU than wall time).\n\n")
	for _, s := range []*shapeResult{tenant, real} {
		p("- %s: view %s; round trip %s; reload %s; pghba %s; view ratios %s; reload ratios %s.\n",
			s.name, durList(s.exec), durList(s.wall), durList(s.reload), durList(s.load), ratioList(s.ratioView), ratioList(s.ratioReload))
	}
	p("- a reload with a one-line pg_hba.conf on the same server (what a reload costs besides reading\n")
	p("  pg_hba.conf): %s (median %s).\n\n", durList(pgSide.floor), fmtDur(medianDur(pgSide.floor)))
	p("`BenchmarkLoad/shape=*` and `BenchmarkLoadSingleCore/shape=*` (hba/bench_test.go) load the same\n")
	p("generated files from a temp dir with `Parser.Load`, %.0f loads per run: the steady state of a\n", lt.extra["iterations"])
	p("process that reloads. MB/s counts the main file and its `@file`s once. The retained heap is the\n")
	p("live heap after two collections with one loaded `Ruleset`, minus before, per rule.\n\n")

	p("## Matching\n\n")
	p("| Benchmark | time/op | allocs/op |\n|---|---|---|\n")
	for _, name := range []string{"BenchmarkMatch/rules=10", "BenchmarkMatch/rules=1000", "BenchmarkMatch/rules=100000", "BenchmarkMatchNoMatch/rules=100000", "BenchmarkMatchParallel"} {
		x := r.get(name)
		extra := ""
		if name == "BenchmarkMatchParallel" {
			extra = fmt.Sprintf(" (%.2g reloads per op)", x.extra["reloads/op"])
		}
		p("| `%s` | %s%s | %.0f |\n", name, fmtNs(x.nsOp), extra, x.allocs)
	}
	p("\n`Ruleset.Decide` on the tenant file of that many rules; the connection matches tenant rule n-2,\n")
	p("the miss comes from 198.51.100.7. PostgreSQL has no counterpart: it tests its rules one by one\n")
	p("for every connection. `BenchmarkMatchParallel` matches through a Holder while a goroutine keeps\n")
	p("swapping in configurations (a fresh load every 64 swaps); its B/op is that goroutine's loading.\n\n")

	p("## pghba diff\n\n")
	p("| Benchmark | time/op | allocs/op | target |\n|---|---|---|---|\n")
	p("| `BenchmarkDiff1000` | %s | %.0f | ≤ 1 s |\n", fmtNs(d1k.nsOp), d1k.allocs)
	p("| `BenchmarkDiff10000` | %s | %.0f | ≤ 10 s |\n\n", fmtNs(d10k.nsOp), d10k.allocs)
	p("`audit.Diff` (hba/audit/diff_bench_test.go) of the lint benchmark's multi-tenant file (1,000 and\n")
	p("10,000 rules) against the same file under 8 edits (changed method, narrowed address, inserted\n")
	p("rule, moved rule).\n\n")

	p("## The README's figures and how they are checked\n\n")
	p("The README quotes only ratios from one run and retained bytes per rule, in a block between\n")
	p("`<!-- benchmd:begin … -->` and `<!-- benchmd:end -->` that this script writes; the block keeps its\n")
	p("figures as JSON in an HTML comment and its text is rendered from them. `CHECK=1 bash scripts/bench.sh`\n")
	p("reruns everything, writes nothing but its row in the runs table below, and compares the README's figures with the rerun's: it fails\n")
	p("(exit 1) when one differs by more than 20%%, or when the block's text is not what its figures\n")
	p("render to. The figures this run wrote: load vs view %.1f× / %.1f× (tenant / realistic), vs reload\n", fig.TenantView, fig.RealisticView)
	p("%.1f× / %.1f×, %.0f / %.0f B/rule, Match 100,000 over 10 rules %.1f×.\n\n", fig.TenantReload, fig.RealisticReload, fig.TenantBPerRule, fig.RealisticBPerRule, fig.MatchScale)
	p("Runs per pghba benchmark: %d. Raw `go test` output is in the script's working directory.\n\n", m10.runs)

	p("## Runs on record\n\n")
	p("Every run of the script adds its row here, newest first (the figures of a full run are the ones\n")
	p("above); a `CHECK=1` run adds its row too, with its verdict, and changes nothing else. Ratios are\n")
	p("PostgreSQL's time over pghba's load in the same run; the last two columns are absolute, so they\n")
	p("compare only on one CPU.\n\n")
	p("%s\n", runsTable(r.runRow(fig, "full"), r.oldRuns))
}
