package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/gen"
	"github.com/pghba/pghba/internal/pgtest"
)

// shape is one benchmark file with its side files, as hba/bench_test.go
// (loadShapes) loads it.
type shape struct {
	name   string
	files  map[string][]byte // slash paths relative to the directory of pg_hba.conf
	rules  int
	bytes  int
	parser hba.Parser
}

func shapes() []shape {
	t := gen.MultiTenant(100000, seed)
	r := gen.Realistic(100000, seed, gen.Target{Major: 15})
	rf := map[string][]byte{"pg_hba.conf": r.Main}
	for k, v := range r.Side {
		rf[k] = v
	}
	return []shape{
		{name: "tenant", files: map[string][]byte{"pg_hba.conf": t.Data}, rules: t.Tenants + 2, bytes: len(t.Data),
			parser: hba.Parser{Version: 15}},
		{name: "realistic", files: rf, rules: r.Rules, bytes: r.Bytes(),
			parser: hba.Parser{Version: 15, SSL: true}},
	}
}

// shapeResult is PostgreSQL's and pghba's reading of one shape, round by round.
type shapeResult struct {
	name        string
	rules       int
	bytes       int
	viewRows    int
	exec        []time.Duration // EXPLAIN ANALYZE execution time of the view
	wall        []time.Duration // round trip of the plain view query
	reload      []time.Duration // SIGHUP until the postmaster answers again
	load        []time.Duration // pghba Parser.Load of the same path, in this process
	ratioView   []float64       // exec[i] / load[i]
	ratioReload []float64       // reload[i] / load[i]
	// CPU time of the same steps: the admin backend's during the EXPLAIN
	// query, the postmaster's during the reload, this process's during the
	// load (all its threads). Other work on the machine moves these much
	// less than wall-clock times.
	cpuExec, cpuReload, cpuLoad []time.Duration
}

// pgInfo is the server side of the run.
type pgInfo struct {
	version string
	floor   []time.Duration // reloads with a one-line pg_hba.conf
}

var pgSide pgInfo

// measure starts one throwaway PostgreSQL 15 cluster (ssl = on, so that
// hostssl lines are what they are on a server that uses them) and measures
// every shape on it, then the reload of a one-line file (the cost of a
// reload that is not pg_hba.conf: postgresql.conf, the certificate).
func measure(runs int) ([]*shapeResult, error) {
	inst, err := pgtest.Find(15)
	if err != nil {
		return nil, err
	}
	c, err := pgtest.StartCluster(inst, pgtest.Options{})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	pgSide.version = strings.TrimPrefix(inst.VersionString, "postgres (PostgreSQL) ")
	var out []*shapeResult
	for _, s := range shapes() {
		res, err := measureShape(c, s, runs)
		if err != nil {
			return nil, fmt.Errorf("shape %s: %v", s.name, err)
		}
		out = append(out, res)
	}
	if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(pgtest.BootstrapHBA)}); err != nil {
		return nil, err
	}
	for i := 0; i < runs+1; i++ {
		t0 := time.Now()
		if _, err := c.Reload(); err != nil {
			return nil, err
		}
		if i > 0 {
			pgSide.floor = append(pgSide.floor, time.Since(t0))
		}
	}
	return out, nil
}

func measureShape(c *pgtest.Cluster, s shape, runs int) (*shapeResult, error) {
	if err := c.WriteFiles(s.files); err != nil {
		return nil, err
	}
	res := &shapeResult{name: s.name, rules: s.rules, bytes: s.bytes}
	rows, err := c.Query("SELECT count(*) FILTER (WHERE error IS NULL), count(*) FILTER (WHERE error IS NOT NULL) FROM pg_hba_file_rules")
	if err != nil {
		return nil, err
	}
	res.viewRows, _ = strconv.Atoi(*rows[0][0])
	if *rows[0][1] != "0" || res.viewRows != s.rules {
		return nil, fmt.Errorf("PostgreSQL shows %s rules and %s error rows, want %d and 0", *rows[0][0], *rows[0][1], s.rules)
	}
	path := filepath.Join(c.Dir(), "pg_hba.conf")
	p := s.parser
	load := func() (time.Duration, error) {
		c0 := selfCPU()
		t0 := time.Now()
		rs, err := p.Load(path)
		d := time.Since(t0)
		lastLoadCPU = selfCPU() - c0
		if err != nil {
			return 0, err
		}
		if len(rs.Rules()) != s.rules {
			return 0, fmt.Errorf("pghba loaded %d rules, want %d", len(rs.Rules()), s.rules)
		}
		return d, nil
	}
	reload := func() (time.Duration, error) {
		c0 := procCPU(c.PID())
		t0 := time.Now()
		rr, err := c.Reload()
		d := time.Since(t0)
		lastReloadCPU = procCPU(c.PID()) - c0
		if err != nil {
			return 0, err
		}
		if !rr.Loaded {
			return 0, fmt.Errorf("PostgreSQL did not reload the file: %v", rr.Errors)
		}
		return d, nil
	}
	// One untimed round: caches, the server's first reading, the Go heap.
	if _, err := c.Query("SELECT count(*) FROM pg_hba_file_rules"); err != nil {
		return nil, err
	}
	if _, err := reload(); err != nil {
		return nil, err
	}
	if _, err := load(); err != nil {
		return nil, err
	}
	for i := 0; i < runs; i++ {
		c0 := procCPU(c.AdminPID())
		rows, err := c.Query("EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM pg_hba_file_rules")
		if err != nil {
			return nil, err
		}
		execCPU := procCPU(c.AdminPID()) - c0
		var exec time.Duration
		for _, r := range rows {
			if r[0] == nil {
				continue
			}
			if rest, ok := strings.CutPrefix(*r[0], "Execution Time: "); ok {
				ms, err := strconv.ParseFloat(strings.TrimSuffix(rest, " ms"), 64)
				if err == nil {
					exec = time.Duration(ms * float64(time.Millisecond))
				}
			}
		}
		if exec == 0 {
			return nil, fmt.Errorf("no execution time in the EXPLAIN ANALYZE output")
		}
		t0 := time.Now()
		if _, err := c.Query("SELECT count(*) FROM pg_hba_file_rules"); err != nil {
			return nil, err
		}
		wall := time.Since(t0)
		rl, err := reload()
		if err != nil {
			return nil, err
		}
		ld, err := load()
		if err != nil {
			return nil, err
		}
		res.exec = append(res.exec, exec)
		res.wall = append(res.wall, wall)
		res.reload = append(res.reload, rl)
		res.load = append(res.load, ld)
		res.ratioView = append(res.ratioView, float64(exec)/float64(ld))
		res.ratioReload = append(res.ratioReload, float64(rl)/float64(ld))
		res.cpuExec = append(res.cpuExec, execCPU)
		res.cpuReload = append(res.cpuReload, lastReloadCPU)
		res.cpuLoad = append(res.cpuLoad, lastLoadCPU)
	}
	return res, nil
}

var lastLoadCPU, lastReloadCPU time.Duration

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is a process's user and system time so far, from
// /proc/PID/stat (in clock ticks of 10 ms on Linux; 0 if unreadable).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: fields count from its ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(ut+st) * (time.Second / 100)
}

func medianDur(d []time.Duration) time.Duration {
	v := make([]float64, len(d))
	for i, x := range d {
		v[i] = float64(x)
	}
	return time.Duration(median(v))
}

func medianOf(x []float64) float64 { return median(append([]float64(nil), x...)) }

func durList(d []time.Duration) string {
	var s []string
	for _, x := range d {
		s = append(s, fmt.Sprintf("%.0f", float64(x)/1e6))
	}
	return strings.Join(s, ", ") + " ms"
}
