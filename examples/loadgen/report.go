// The report: the machine, the lookups over the cells, and the Markdown
// written section by section.

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

type report struct {
	opts         options
	started      time.Time
	elapsed      time.Duration
	cpuModel     string
	cores        int
	load         string
	cells        []cell
	interleaved  []cell
	probeFile    string
	probes       []divergence
	pgbouncerLog string
	// pgbouncerStart is why PgBouncer did not start with the probe file.
	pgbouncerStart string
}

func (rep *report) machine() {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			rep.cpuModel = strings.TrimSpace(v)
			break
		}
	}
	rep.cores = runtime.NumCPU()
	l, _ := os.ReadFile("/proc/loadavg")
	rep.load = strings.Join(strings.Fields(string(l))[:3], " ")
}

func us(d float64) string { return fmt.Sprintf("%.0f µs", d*1e6) }

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

func (rep *report) find(subject string, rules int, k string, clients int) *cell {
	for i := range rep.cells {
		c := &rep.cells[i]
		if c.subject == subject && c.rules == rules && c.kind.name == k && c.clients == clients {
			return c
		}
	}
	return nil
}

// roundRatios returns, per interleaved round, the rate at 10,000 rules
// over the rate at 10.
func (rep *report) roundRatios(accepted bool) []float64 {
	var out []float64
	for i := range rep.interleaved {
		a := rep.interleaved[i]
		if a.kind.allowed != accepted || a.rules != 10 {
			continue
		}
		for _, b := range rep.interleaved {
			if b.kind.allowed == accepted && b.rules == 10000 && b.round == a.round && a.rate > 0 {
				out = append(out, b.rate/a.rate)
			}
		}
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func (rep *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	rep.mdIntro(w)
	rep.mdHeadline(w)
	rep.mdTables(w)
	rep.mdInterleaved(w)
	rep.mdDivergences(w)
	rep.mdPgbouncerLog(w)
	return b.String()
}

// mdIntro writes the title and how the run was made: machine, versions,
// cells, files and CPU accounting.
func (rep *report) mdIntro(w func(format string, args ...any)) {
	l, _ := os.ReadFile("/proc/loadavg")
	w("# Connection setup: PostgreSQL 15, the pghba proxy and PgBouncer, side by side\n\n")
	w("Written by `bash scripts/bench-proxy.sh` (examples/loadgen); do not edit by hand. Not part of CI.\n\n")
	w("- Run: %s UTC, %s in all.\n", rep.started.Format("2006-01-02 15:04"), rep.elapsed.Round(time.Second))
	w("- Machine: %s, %d logical CPUs (`/proc/cpuinfo`), load average %s at the start and %s at the end (the machine is shared; every ratio below comes from this one run).\n",
		rep.cpuModel, rep.cores, rep.load, strings.Join(strings.Fields(string(l))[:3], " "))
	w("- Loopback TCP; PostgreSQL 15 (`fsync=off`, `autovacuum=off`); PgBouncer %s (`auth_type = hba`, `pool_mode = session`, the same pg_hba.conf); the proxy built from this tree (`-pg-version 15`, INFO decision logs to a file), relaying to the same PostgreSQL.\n", pgbouncerVersion(rep.opts.pgbouncer))
	w("- Each cell: %v or %d connections, whichever comes first, after 3 warm-up connections. A connection is: TCP connect, startup packet, until ReadyForQuery (then Terminate) or the FATAL; the client resets the socket after. Trust and refused use raw startup packets, scram-sha-256 uses pgconn (its client-side SCRAM is in the latency).\n", rep.opts.cell, rep.opts.maxPerCell)
	w("- pg_hba.conf of N rules: `local all all trust`, N−4 filler rules no client matches (other users, databases, IPv4/IPv6 addresses, `hostssl`), then the 3 rules that decide (`reject` for rejuser, `trust`, `scram-sha-256`), last, so every decision passes the whole file. \"no entry\" is a user no rule names.\n")
	w("- CPU per connection: utime+stime deltas from `/proc/PID/stat` divided by connections. *postgres* is the postmaster with its reaped children (cutime+cstime: every exited backend) plus its live children; *proxy* and *pgbouncer* are their single processes; *loadgen* is the client (getrusage). Clock ticks are 10 ms, so small per-connection figures from short cells are coarse.\n\n")
}

// mdHeadline writes the table of targets and the ratios this run measured
// for them.
func (rep *report) mdHeadline(w func(format string, args ...any)) {
	w("## Headline ratios (this run)\n\n")
	w("| target | measured | |\n|---|---|---|\n")
	worst := 0.0
	var worstAt string
	for _, n := range rep.opts.rules {
		for _, k := range []string{"refused, no entry", "refused, reject"} {
			for _, cl := range rep.opts.clients {
				pg, px := rep.find("PostgreSQL 15", n, k, cl), rep.find("pghba proxy", n, k, cl)
				if pg == nil || px == nil || px.cpu["proxy"] <= 0 {
					continue
				}
				r := pg.cpu["postgres"] / px.cpu["proxy"]
				if worst == 0 || r < worst {
					worst, worstAt = r, fmt.Sprintf("%d rules, %s, clients=%d", n, k, cl)
				}
			}
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	w("| a refused connection costs the proxy ≥ 10× less CPU than PostgreSQL refusing it | worst cell %.1f× (%s) | %s |\n", worst, worstAt, verdict(worst >= 10))
	var rateS, rateB, refS, refB []float64
	for _, c := range rep.interleaved {
		switch {
		case c.kind.allowed && c.rules == 10:
			rateS = append(rateS, c.rate)
		case c.kind.allowed:
			rateB = append(rateB, c.rate)
		case c.rules == 10:
			refS = append(refS, c.rate)
		default:
			refB = append(refB, c.rate)
		}
	}
	if len(rateS) > 0 {
		ra, rr := rep.roundRatios(true), rep.roundRatios(false)
		r := median(ra)
		w("| the proxy's accept rate at 10,000 rules within 10%% of its rate at 10 rules: accepted (trust) connections, 16 clients, %d interleaved rounds | median of the rounds' ratios %.2f× (medians %.0f vs %.0f conn/s) | %s |\n",
			len(ra), r, median(rateB), median(rateS), verdict(r >= 0.9))
		r2 := median(rr)
		w("| same, refused (no entry) connections: the proxy alone, no server | %.2f× (medians %.0f vs %.0f conn/s) | %s |\n", r2, median(refB), median(refS), verdict(r2 >= 0.9))
		var dS, dB []float64
		for _, c := range rep.interleaved {
			if c.rules == 10 {
				dS = append(dS, float64(c.decision))
			} else {
				dB = append(dB, float64(c.decision))
			}
		}
		w("| (the decision alone, from the proxy's `pghba_proxy_decision_duration_seconds`) | mean %.1f µs at 10,000 rules, %.1f µs at 10 (medians over the cells) | |\n", median(dB)/1e3, median(dS)/1e3)
	}
	for _, cl := range rep.opts.clients {
		pb, pg := rep.find("PgBouncer", 10, "accepted, trust", cl), rep.find("PostgreSQL 15", 10, "accepted, trust", cl)
		if pb != nil && pg != nil && pg.rate > 0 {
			w("| PgBouncer's rate, as it is (accepted, trust, 10 rules, clients=%d) | %.0f conn/s, %.1f× PostgreSQL's %.0f | measured |\n", cl, pb.rate, pb.rate/pg.rate, pg.rate)
		}
	}
	w("\n")
}

// mdTables writes one table per file size: every kind of connection,
// number of clients and subject.
func (rep *report) mdTables(w func(format string, args ...any)) {
	for _, n := range rep.opts.rules {
		w("## %d rules\n\n", n)
		w("| connection | clients | subject | conn/s | p50 | p99 | CPU/conn: server side | CPU/conn: postgres | CPU/conn: loadgen | wrong |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, k := range kinds {
			for _, cl := range rep.opts.clients {
				for _, s := range []string{"PostgreSQL 15", "pghba proxy", "PgBouncer"} {
					c := rep.find(s, n, k.name, cl)
					if c == nil {
						continue
					}
					side := "—"
					switch s {
					case "pghba proxy":
						side = "proxy " + us(c.cpu["proxy"])
					case "PgBouncer":
						side = "pgbouncer " + us(c.cpu["pgbouncer"])
					}
					wrong := strconv.Itoa(c.wrong)
					if c.wrong > 0 {
						wrong += " (" + strings.ReplaceAll(c.first, "|", "/") + ")"
					}
					w("| %s | %d | %s | %.0f | %s | %s | %s | %s | %s | %s |\n", k.name, cl, s, c.rate, ms(c.p50), ms(c.p99), side, us(c.cpu["postgres"]), us(c.cpu["loadgen"]), wrong)
				}
			}
		}
		w("\n")
	}
}

// mdInterleaved writes the interleaved rounds of the proxy at 10 and 10,000
// rules, if the run made them.
func (rep *report) mdInterleaved(w func(format string, args ...any)) {
	if len(rep.interleaved) > 0 {
		w("## The proxy at 10 and 10,000 rules, interleaved\n\n")
		w("Both proxies running at once, PostgreSQL on the 10-rule file (so that only the proxy's file differs); in each round both are measured, in the order 10, 10,000 in even rounds and 10,000, 10 in odd ones. 16 clients. Each measurement: %v or %d connections. Decision: the mean of the proxy's decision-time histogram over the measurement.\n\n", rep.opts.roundCell, rep.opts.maxPerCell)
		w("| connection | rules | conn/s per round | median | proxy CPU/conn (median) | decision (median) |\n|---|---|---|---|---|---|\n")
		for _, k := range []kind{kinds[0], kinds[2]} {
			for _, n := range []int{10, 10000} {
				var rates, cpus, decs []float64
				var parts []string
				for _, c := range rep.interleaved {
					if c.kind.name == k.name && c.rules == n {
						rates = append(rates, c.rate)
						cpus = append(cpus, c.cpu["proxy"])
						decs = append(decs, float64(c.decision))
						parts = append(parts, fmt.Sprintf("%.0f", c.rate))
					}
				}
				w("| %s | %d | %s | %.0f | %s | %.1f µs |\n", k.name, n, strings.Join(parts, ", "), median(rates), us(median(cpus)), median(decs)/1e3)
			}
		}
		w("\n")
	}
}

// mdDivergences writes the probe file and, per probe, the three decisions.
func (rep *report) mdDivergences(w func(format string, args ...any)) {
	w("## Where PgBouncer decides differently from PostgreSQL\n\n")
	w("One pg_hba.conf given to PostgreSQL 15 (directly), to the proxy (`-pg-version 15`) and to PgBouncer (`auth_hba_file`); every probe connects from 127.0.0.1 without SSL. Through PgBouncer a connection its own file allows still meets PostgreSQL's decision when PgBouncer logs in to the server (as the same user, from 127.0.0.1), so an \"allowed\" there means both allowed it.\n\n")
	w("```\n%s```\n\n", rep.probeFile)
	w("| probe | user | database | PostgreSQL 15 | pghba proxy | PgBouncer | same as PostgreSQL? |\n|---|---|---|---|---|---|---|\n")
	show := func(r result) string {
		switch {
		case r.err != nil:
			return "error: " + strings.ReplaceAll(r.err.Error(), "|", "/")
		case r.allowed:
			return "allowed"
		}
		return "refused: " + r.code + " " + strings.ReplaceAll(r.msg, "|", "/")
	}
	same := func(a, b result) bool { return a.err == nil && b.err == nil && a.allowed == b.allowed }
	for _, d := range rep.probes {
		pbSame, pxSame := "yes", "yes"
		if !same(d.pg, d.pb) {
			pbSame = "**PgBouncer differs**"
		}
		if !same(d.pg, d.px) || (!d.pg.allowed && d.pg.msg != d.px.msg) {
			pxSame = "**proxy differs**"
		}
		w("| %s | %s | %s | %s | %s | %s | %s; %s |\n", d.probe.feature, d.probe.user, d.probe.db, show(d.pg), show(d.px), show(d.pb), pbSame, pxSame)
	}
}

// mdPgbouncerLog writes why PgBouncer did not start, if so, and its log
// lines about its hba file, each distinct message once.
func (rep *report) mdPgbouncerLog(w func(format string, args ...any)) {
	if rep.pgbouncerStart != "" {
		w("\nPgBouncer did not start with this file:\n\n```\n%s\n```\n", rep.pgbouncerStart)
	}
	w("\nPgBouncer's log lines about its hba file during the run:\n\n```\n")
	seen := map[string]bool{}
	for _, line := range strings.Split(rep.pgbouncerLog, "\n") {
		if strings.Contains(strings.ToLower(line), "hba") {
			// Drop the timestamp and pid so repeated lines fold.
			msg := line
			if i := strings.Index(line, " LOG "); i >= 0 {
				msg = line[i+1:]
			} else if i := strings.Index(line, " WARNING "); i >= 0 {
				msg = line[i+1:]
			} else if i := strings.Index(line, " ERROR "); i >= 0 {
				msg = line[i+1:]
			}
			if !seen[msg] {
				seen[msg] = true
				w("%s\n", msg)
			}
		}
	}
	w("```\n")
}

func pgbouncerVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "?"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimPrefix(strings.TrimSpace(line), "PgBouncer ")
}
