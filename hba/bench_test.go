package hba

import (
	"context"
	"flag"
	"os"
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
