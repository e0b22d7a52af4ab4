package hba

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pghba/pghba/internal/gen"
)

// benchFile lets a user benchmark matching and loading on their own file:
// go test ./hba -run '^$' -bench 'File' -hba.benchfile=/etc/postgresql/15/main/pg_hba.conf
var benchFile = flag.String("hba.benchfile", "", "pg_hba.conf for BenchmarkUserFile*")

const benchSeed = 20261125

var (
	sinkDecision Decision
	sinkRuleset  *Ruleset
	sinkRule     *Rule
)

// benchRuleset loads gen.MultiTenant(n) and returns it with its probes.
func benchRuleset(tb testing.TB, n int) (*Ruleset, gen.MultiTenantFile) {
	tb.Helper()
	f := gen.MultiTenant(n, benchSeed)
	var p Parser
	p.Version = 15
	rs, err := p.LoadBytes("/bench/pg_hba.conf", f.Data)
	if err != nil {
		tb.Fatal(err)
	}
	return rs, f
}

func probeConn(p gen.Probe) Conn {
	return Conn{Addr: p.Addr, Database: p.Database, User: p.User}
}

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			rs, f := benchRuleset(b, n)
			c := probeConn(f.Hit)
			ctx := context.Background()
			if d := rs.Decide(ctx, c); d.Outcome != Matched || d.Rule.Pos().Line != f.Hit.Line {
				b.Fatalf("probe decided %v rule %v, want line %d", d.Outcome, d.Rule, f.Hit.Line)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sinkDecision = rs.Decide(ctx, c)
			}
		})
	}
}

func BenchmarkMatchNoMatch(b *testing.B) {
	for _, n := range []int{100000} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			rs, f := benchRuleset(b, n)
			c := probeConn(f.Miss)
			ctx := context.Background()
			if d := rs.Decide(ctx, c); d.Outcome != NoMatch {
				b.Fatalf("miss probe decided %v rule %v", d.Outcome, d.Rule.Pos())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sinkDecision = rs.Decide(ctx, c)
			}
		})
	}
}

// retainedHeap returns the live heap after a full collection.
func retainedHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// loadShape is a benchmark file written to a temp dir with its side files.
type loadShape struct {
	name  string
	path  string // the main file
	bytes int64  // main and side files
	rules int
	p     Parser
}

// loadShapes writes the two benchmark files of issue 20 into dir:
// "tenant" (gen.MultiTenant, 100,000 tenant rules, 6.7 MB) and "realistic"
// (gen.Realistic for PostgreSQL 15 with ssl = on, 100,000 rules, 8.3 MB
// plus its @files). scripts/bench.sh and internal/gen/benchmd have
// PostgreSQL read the same files.
func loadShapes(tb testing.TB, dir string) []*loadShape {
	tb.Helper()
	write := func(name string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	t := gen.MultiTenant(100000, benchSeed)
	write("tenant/pg_hba.conf", t.Data)
	r := gen.Realistic(100000, benchSeed, gen.Target{Major: 15})
	write("realistic/pg_hba.conf", r.Main)
	for name, data := range r.Side {
		write("realistic/"+name, data)
	}
	return []*loadShape{
		{name: "tenant", path: filepath.Join(dir, "tenant", "pg_hba.conf"), bytes: int64(len(t.Data)), rules: t.Tenants + 2,
			p: Parser{Version: 15}},
		{name: "realistic", path: filepath.Join(dir, "realistic", "pg_hba.conf"), bytes: int64(r.Bytes()), rules: r.Rules,
			p: Parser{Version: 15, SSL: true}},
	}
}

// benchLoad loads s.path b.N times from disk and reports MB/s (main plus
// side bytes) and the retained heap per rule of one live Ruleset.
func benchLoad(b *testing.B, s *loadShape) {
	p := s.p
	before := retainedHeap()
	rs, err := p.Load(s.path)
	if err != nil {
		b.Fatal(err)
	}
	after := retainedHeap()
	if got := len(rs.Rules()); got != s.rules {
		b.Fatalf("%s: %d rules, want %d", s.name, got, s.rules)
	}
	runtime.KeepAlive(rs)
	perRule := float64(int64(after)-int64(before)) / float64(len(rs.Rules()))
	rs = nil
	b.SetBytes(s.bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sinkRuleset, err = p.Load(s.path)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sinkRuleset = nil
	b.ReportMetric(perRule, "B/rule")
}

// BenchmarkLoad: rules=100000 parses and compiles gen.MultiTenant from
// memory (LoadBytes); shape=tenant and shape=realistic load the files of
// loadShapes from disk (Load), so that @file reads count as they do for
// PostgreSQL. GOMAXPROCS is whatever the run says.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{100000} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			f := gen.MultiTenant(n, benchSeed)
			var p Parser
			p.Version = 15
			// Retained bytes: the heap growth that one live Ruleset keeps.
			before := retainedHeap()
			rs, err := p.LoadBytes("/bench/pg_hba.conf", f.Data)
			if err != nil {
				b.Fatal(err)
			}
			after := retainedHeap()
			runtime.KeepAlive(rs)
			perRule := float64(int64(after)-int64(before)) / float64(len(rs.Rules()))
			rs = nil
			b.SetBytes(int64(len(f.Data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sinkRuleset, err = p.LoadBytes("/bench/pg_hba.conf", f.Data)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			sinkRuleset = nil
			b.ReportMetric(perRule, "B/rule")
		})
	}
	for _, s := range loadShapes(b, b.TempDir()) {
		b.Run("shape="+s.name, func(b *testing.B) { benchLoad(b, s) })
	}
}

// BenchmarkLoadSingleCore is BenchmarkLoad/shape=* with GOMAXPROCS=1 for
// the duration of each sub-benchmark: the single-core throughput (MB/s) of
// issue 20, whatever -cpu says.
func BenchmarkLoadSingleCore(b *testing.B) {
	for _, s := range loadShapes(b, b.TempDir()) {
		b.Run("shape="+s.name, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			benchLoad(b, s)
		})
	}
}

// BenchmarkMatchParallel matches from every P while a background goroutine
// keeps loading new configurations and swapping them into a Holder.
func BenchmarkMatchParallel(b *testing.B) {
	const n = 1000
	// Two alternating configurations, loaded ahead so that the reloader
	// spends its time swapping, plus a fresh load every round to keep the
	// allocator and the collector busy as a real reload would.
	rs0, f := benchRuleset(b, n)
	rs1, _ := benchRuleset(b, n)
	h := NewHolder(rs0)
	c := probeConn(f.Hit)
	var stop atomic.Bool
	var reloads atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var p Parser
		p.Version = 15
		for i := 0; !stop.Load(); i++ {
			next := rs1
			if i%2 == 1 {
				next = rs0
			}
			if i%64 == 0 {
				if rs, err := p.LoadBytes("/bench/pg_hba.conf", f.Data); err == nil {
					next = rs
				}
			}
			h.Store(next)
			reloads.Add(1)
			runtime.Gosched()
		}
	}()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var d Decision
		for pb.Next() {
			d = h.Load().Decide(ctx, c)
		}
		sinkDecision = d
	})
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
	b.ReportMetric(float64(reloads.Load())/float64(b.N), "reloads/op")
}

// BenchmarkUserFileMatch and BenchmarkUserFileLoad use -hba.benchfile.
func BenchmarkUserFileLoad(b *testing.B) {
	if *benchFile == "" {
		b.Skip("no -hba.benchfile")
	}
	data, err := os.ReadFile(*benchFile)
	if err != nil {
		b.Fatal(err)
	}
	var p Parser
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sinkRuleset, err = p.LoadBytes(*benchFile, data)
		if err != nil {
			b.Fatal(err)
		}
	}
}
