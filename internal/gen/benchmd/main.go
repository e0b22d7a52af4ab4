// Command benchmd measures PostgreSQL 15 parsing the benchmark pg_hba.conf
// and writes BENCHMARKS.md from those figures and the output of
// `go test -bench` in the same run. scripts/bench.sh runs it.
//
//	go run ./internal/gen/benchmd -gobench bench.txt -rules 100000 -runs 7 -out BENCHMARKS.md
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pghba/pghba/internal/gen"
	"github.com/pghba/pghba/internal/pgtest"
)

const seed = 20261125 // the seed of hba/bench_test.go

func main() {
	goBench := flag.String("gobench", "", "file with `go test -bench` output (required)")
	rules := flag.Int("rules", 100000, "tenant rules in the file PostgreSQL parses")
	runs := flag.Int("runs", 7, "timed queries of the view")
	out := flag.String("out", "", "write the Markdown here (default stdout)")
	flag.Parse()
	if *goBench == "" {
		log.Fatal("benchmd: -gobench is required")
	}
	bench, err := parseBench(*goBench)
	if err != nil {
		log.Fatal(err)
	}
	pg, err := measurePG(*rules, *runs)
	if err != nil {
		log.Fatal(err)
	}
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	report(w, bench, pg, *rules, *runs)
}

// result is one benchmark's figures, the median over -count runs.
type result struct {
	name    string
	runs    int
	nsOp    float64
	allocs  float64
	bytesOp float64
	extra   map[string]float64
}

func parseBench(path string) (map[string]*result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all := map[string][]map[string]float64{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := map[string]float64{}
		if n, err := strconv.ParseFloat(fields[1], 64); err == nil {
			m["iterations"] = n
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			m[fields[i+1]] = v
		}
		if _, ok := all[name]; !ok {
			order = append(order, name)
		}
		all[name] = append(all[name], m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	res := map[string]*result{}
	for _, name := range order {
		ms := all[name]
		med := func(unit string) float64 {
			var v []float64
			for _, m := range ms {
				if x, ok := m[unit]; ok {
					v = append(v, x)
				}
			}
			return median(v)
		}
		r := &result{name: name, runs: len(ms), nsOp: med("ns/op"), allocs: med("allocs/op"), bytesOp: med("B/op"), extra: map[string]float64{}}
		for unit := range ms[0] {
			r.extra[unit] = med(unit)
		}
		res[name] = r
	}
	return res, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// pgResult is PostgreSQL's side.
type pgResult struct {
	version string
	bytes   int
	count   int
	exec    []time.Duration // EXPLAIN ANALYZE execution time
	wall    []time.Duration // round trip of the plain query
	reload  []time.Duration // SIGHUP until the postmaster answers again
}

// measurePG starts a throwaway PostgreSQL 15 cluster, replaces its
// pg_hba.conf on disk with the benchmark file (the server is never reloaded,
// so its admin session stays in) and times the pg_hba_file_rules view,
// which reads and parses the hba_file at every query.
func measurePG(rules, runs int) (*pgResult, error) {
	inst, err := pgtest.Find(15)
	if err != nil {
		return nil, err
	}
	c, err := pgtest.StartCluster(inst, pgtest.Options{NoSSL: true})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	f := gen.MultiTenant(rules, seed)
	if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": f.Data}); err != nil {
		return nil, err
	}
	res := &pgResult{version: inst.VersionString, bytes: len(f.Data)}
	rows, err := c.Query("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NULL")
	if err != nil {
		return nil, err
	}
	res.count, _ = strconv.Atoi(*rows[0][0])
	for i := 0; i < runs; i++ {
		rows, err := c.Query("EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM pg_hba_file_rules")
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if r[0] == nil {
				continue
			}
			s := *r[0]
			if rest, ok := strings.CutPrefix(s, "Execution Time: "); ok {
				ms, err := strconv.ParseFloat(strings.TrimSuffix(rest, " ms"), 64)
				if err == nil {
					res.exec = append(res.exec, time.Duration(ms*float64(time.Millisecond)))
				}
			}
		}
		t0 := time.Now()
		if _, err := c.Query("SELECT count(*) FROM pg_hba_file_rules"); err != nil {
			return nil, err
		}
		res.wall = append(res.wall, time.Since(t0))
	}
	// The server's own load of the file: a reload (SIGHUP) with it in
	// place, timed until the postmaster answers a new connection, which it
	// does only after the reload (postgresql.conf is read again too). The
	// admin session stays connected.
	for i := 0; i < runs; i++ {
		t0 := time.Now()
		rr, err := c.Reload()
		if err != nil {
			return nil, err
		}
		if !rr.Loaded {
			return nil, fmt.Errorf("PostgreSQL did not load the benchmark file")
		}
		res.reload = append(res.reload, time.Since(t0))
	}
	// Put back a file the server could reload.
	c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(pgtest.BootstrapHBA)})
	return res, nil
}

func medianDur(d []time.Duration) time.Duration {
	v := make([]float64, len(d))
	for i, x := range d {
		v[i] = float64(x)
	}
	return time.Duration(median(v))
}

func machine() (cpu string, n int, load string) {
	n = runtime.NumCPU()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f ns", ns)
}

func report(w io.Writer, b map[string]*result, pg *pgResult, rules, runs int) {
	cpu, ncpu, load := machine()
	goVer, _ := exec.Command("go", "env", "GOVERSION").Output()
	get := func(name string) *result {
		if r, ok := b[name]; ok {
			return r
		}
		return &result{name: name, extra: map[string]float64{}}
	}
	m10, m1k, m100k := get("BenchmarkMatch/rules=10"), get("BenchmarkMatch/rules=1000"), get("BenchmarkMatch/rules=100000")
	miss, load100k, par := get("BenchmarkMatchNoMatch/rules=100000"), get("BenchmarkLoad/rules=100000"), get("BenchmarkMatchParallel")
	pgExec, pgWall := medianDur(pg.exec), medianDur(pg.wall)

	fmt.Fprintf(w, "# Benchmarks\n\n")
	fmt.Fprintf(w, "Produced by `scripts/bench.sh` (do not edit by hand): one run measures pghba with\n")
	fmt.Fprintf(w, "`go test -bench` and PostgreSQL %s parsing the same generated file on a throwaway\n", strings.TrimPrefix(pg.version, "postgres (PostgreSQL) "))
	fmt.Fprintf(w, "cluster. Figures are medians over the runs shown.\n\n")
	fmt.Fprintf(w, "Machine: %d CPUs, %s; %s; load average at the end of the run: %s.\n\n", ncpu, cpu, strings.TrimSpace(string(goVer)), load)
	fmt.Fprintf(w, "The file (`internal/gen.MultiTenant`, seed %d): `local all postgres peer`, then rule i =\n", seed)
	fmt.Fprintf(w, "`host tenant_i user_i,admin_(i%%50) A.B.C.0/24 scram-sha-256` for each tenant, then\n")
	fmt.Fprintf(w, "`host all all 127.0.0.1/32 trust`. %d tenant rules are %.1f MB.\n\n", rules, float64(pg.bytes)/1e6)

	fmt.Fprintf(w, "| Benchmark | pghba | allocs/op | PostgreSQL 15 | target |\n|---|---|---|---|---|\n")
	row := func(r *result, pgs, target string) {
		fmt.Fprintf(w, "| `%s` | %s/op | %.0f | %s | %s |\n", r.name, fmtNs(r.nsOp), r.allocs, pgs, target)
	}
	row(m10, "—", "≤ 50 ns, 0 allocs")
	row(m1k, "—", "")
	ratio := m100k.nsOp / m10.nsOp
	row(m100k, "—", fmt.Sprintf("≤ 5× rules=10 (measured %.1f×)", ratio))
	row(miss, "—", "")
	row(par, "", fmt.Sprintf("%.2g reloads per op", par.extra["reloads/op"]))
	speed := float64(pgExec) / load100k.nsOp
	row(load100k, fmt.Sprintf("%s (view query; %s round trip)", fmtNs(float64(pgExec)), fmtNs(float64(pgWall))), fmt.Sprintf("≥ 10× faster than PostgreSQL (measured %.1f×)", speed))
	fmt.Fprintf(w, "\nRetained heap per rule after loading %d rules: **%.0f B/rule** (target ≤ 300).\n\n", rules+2, load100k.extra["B/rule"])

	fmt.Fprintf(w, "PostgreSQL: `EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM pg_hba_file_rules`, %d runs,\n", len(pg.exec))
	fmt.Fprintf(w, "execution times %s; the view re-reads and parses the file at every query (%d rules loaded).\n", durList(pg.exec), pg.count)
	fmt.Fprintf(w, "A reload of the server with the same file in place (SIGHUP until the postmaster answers a new\n")
	fmt.Fprintf(w, "connection; it reads postgresql.conf again too) took %s (median %s: pghba's load is %.1f× faster).\n",
		durList(pg.reload), fmtNs(float64(medianDur(pg.reload))), float64(medianDur(pg.reload))/load100k.nsOp)
	fmt.Fprintf(w, "pghba `BenchmarkLoad` parses and compiles the same bytes from memory (no file read), %.0f loads\n", load100k.extra["iterations"])
	fmt.Fprintf(w, "per run: the steady state of a process that reloads (the first loads of a fresh process also pay\n")
	fmt.Fprintf(w, "for the kernel's page faults on new memory, which on this VM adds up to half again).\n")
	fmt.Fprintf(w, "PostgreSQL has no match benchmark here (—): it tests the rules of its parsed list one by one\n")
	fmt.Fprintf(w, "for every connection. pghba's `Match` figures are `Ruleset.Decide` with the index\n")
	fmt.Fprintf(w, "(hba/index.go); the connection matches tenant rule n-2, the miss comes from 198.51.100.7.\n")
	fmt.Fprintf(w, "`BenchmarkMatchParallel` matches through a Holder while a goroutine keeps swapping in\n")
	fmt.Fprintf(w, "configurations (a fresh load every 64 swaps); its B/op is that goroutine's loading.\n\n")
	fmt.Fprintf(w, "Runs per pghba benchmark: %d. Raw `go test` output is in the script's working directory.\n", m10.runs)
	_ = runs
}

func durList(d []time.Duration) string {
	var s []string
	for _, x := range d {
		s = append(s, fmt.Sprintf("%.0f", float64(x)/1e6))
	}
	return strings.Join(s, ", ") + " ms"
}
