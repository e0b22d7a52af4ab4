// Command benchmd measures PostgreSQL 15 reading the two benchmark files of
// issue 20 (the tenant and the realistic shape) next to pghba loading the
// same files, and writes BENCHMARKS.md from those figures and the output of
// `go test -bench` in the same run. It can also write or check the figures
// block of the README. scripts/bench.sh runs it.
//
//	go run ./internal/gen/benchmd -gobench bench.txt -runs 5 -out BENCHMARKS.md -readme README.md
//	go run ./internal/gen/benchmd -gobench bench.txt -runs 5 -check README.md
//
// For each shape, one PostgreSQL 15 cluster (ssl = on) gets the file as its
// pg_hba.conf, with the shape's @files next to it. Each of the -runs rounds
// then times, one after the other: the pg_hba_file_rules view (EXPLAIN
// ANALYZE execution time, and the plain query's round trip), a reload
// (SIGHUP until the postmaster answers a new connection), and pghba's
// Parser.Load of the same path in this process. The load ratios are the
// medians of the per-round ratios, so that a change of the machine's load
// during the run moves both sides of a ratio alike.
//
// With -check, nothing is written: the figures of the README block are
// compared with this run's, and benchmd exits with status 1 if any differs
// by more than -tolerance (default 20%).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

const seed = 20261125 // the seed of hba/bench_test.go

func main() {
	goBench := flag.String("gobench", "", "file with `go test -bench` output (required)")
	runs := flag.Int("runs", 5, "rounds per shape (view query, reload, pghba load)")
	out := flag.String("out", "", "write BENCHMARKS.md here (default stdout; not with -check)")
	readme := flag.String("readme", "", "rewrite the figures block of this README")
	check := flag.String("check", "", "compare this README's figures block with this run; exit 1 if one differs by more than -tolerance")
	tolerance := flag.Float64("tolerance", 0.20, "relative difference -check accepts")
	loadFile := flag.String("loadavg", "", "file of /proc/loadavg samples taken during the run (scripts/bench.sh writes it)")
	record := flag.String("record", "", "with -check: add this run's row to the runs table of this BENCHMARKS.md")
	flag.Parse()
	if *goBench == "" {
		log.Fatal("benchmd: -gobench is required")
	}
	bench, err := parseBench(*goBench)
	if err != nil {
		log.Fatal(err)
	}
	var oldBlock *block
	var readmeText []byte
	if *check != "" {
		readmeText, err = os.ReadFile(*check)
		if err != nil {
			log.Fatal(err)
		}
		if oldBlock, err = readBlock(readmeText); err != nil {
			log.Fatalf("benchmd: %s: %v", *check, err)
		}
	}
	stopSampler := sampleLoad(2 * time.Second)
	pg, err := measure(*runs)
	if err != nil {
		log.Fatal(err)
	}
	samples := stopSampler()
	if *loadFile != "" {
		more, err := readLoadSamples(*loadFile)
		if err != nil {
			log.Fatal(err)
		}
		samples = append(more, samples...)
	}
	m := machine(samples)
	if m.loadMax > 1 && *loadFile == "" {
		// With -loadavg, scripts/bench.sh prints the warning for the whole run.
		fmt.Fprintf(os.Stderr, "WARNING: the 1-minute load average reached %.2f during the run (over 1): the machine was not quiet, figures are noisy\n", m.loadMax)
	}
	r := &run{bench: bench, pg: pg, mach: m, runs: *runs}
	fig := r.figures()

	if *check != "" {
		ok := compare(os.Stdout, oldBlock, fig, *tolerance)
		if *record != "" {
			verdict := "check: within " + fmt.Sprintf("%.0f%%", *tolerance*100)
			if !ok {
				verdict = "check: DIFFERS"
			}
			text, err := os.ReadFile(*record)
			if err == nil {
				text, err = recordRun(text, r.runRow(fig, verdict))
			}
			if err == nil {
				err = os.WriteFile(*record, text, 0o644)
			}
			if err != nil {
				log.Fatalf("benchmd: -record %s: %v", *record, err)
			}
		}
		if !ok {
			os.Exit(1)
		}
		return
	}
	var w io.Writer = os.Stdout
	if *out != "" {
		// The runs on record so far stay in the new report.
		if text, err := os.ReadFile(*out); err == nil {
			r.oldRuns = oldRuns(text)
		}
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	r.report(w, fig)
	if *readme != "" {
		text, err := os.ReadFile(*readme)
		if err != nil {
			log.Fatal(err)
		}
		text, err = writeBlock(text, fig)
		if err != nil {
			log.Fatalf("benchmd: %s: %v", *readme, err)
		}
		if err := os.WriteFile(*readme, text, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// run is everything one invocation measured.
type run struct {
	bench map[string]*result
	pg    []*shapeResult
	mach  machineInfo
	runs  int
	// oldRuns are the rows of the runs table the report keeps.
	oldRuns []string
}

func (r *run) get(name string) *result {
	if x, ok := r.bench[name]; ok {
		return x
	}
	return &result{name: name, extra: map[string]float64{}}
}

func (r *run) shape(name string) *shapeResult {
	for _, s := range r.pg {
		if s.name == name {
			return s
		}
	}
	return &shapeResult{name: name}
}

type machineInfo struct {
	cpu                          string
	ncpu                         int
	goVersion                    string
	date                         string  // UTC
	loadMin, loadMedian, loadMax float64 // 1-minute load average over the samples
	nSamples                     int
}

func machine(samples []float64) machineInfo {
	m := machineInfo{ncpu: runtime.NumCPU(), date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if m.cpu == "" {
		m.cpu = runtime.GOARCH
	}
	if v, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(v))
	} else {
		m.goVersion = runtime.Version()
	}
	m.nSamples = len(samples)
	if len(samples) > 0 {
		v := append([]float64(nil), samples...)
		m.loadMedian = median(v) // sorts v
		m.loadMin, m.loadMax = v[0], v[len(v)-1]
	}
	return m
}
