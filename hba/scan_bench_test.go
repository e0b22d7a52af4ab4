package hba

import (
	"os"
	"strconv"
	"testing"

	"github.com/pghba/pghba/internal/gen"
)

// BenchmarkParseRules measures tokenizing and parsing alone (no index): the
// path Load takes up to the rules, on the tenant file.
func BenchmarkParseRules(b *testing.B) {
	for _, n := range []int{100000} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			f := gen.MultiTenant(n, benchSeed)
			var p Parser
			p.Version = 15
			abs := p.absPath("/bench/pg_hba.conf")
			b.SetBytes(int64(len(f.Data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				file := p.parseMain(p.newLoader(nil), abs, f.Data, false)
				if len(file.Errors) != 0 || len(file.Rules) != n+2 {
					b.Fatalf("%d errors, %d rules", len(file.Errors), len(file.Rules))
				}
			}
		})
	}
}

// BenchmarkTokenize measures the tokenizer alone on the main files of
// loadShapes (their @files read as a load reads them): readPlain,
// scanFields and @file expansion, no parsing.
func BenchmarkTokenize(b *testing.B) {
	for _, s := range loadShapes(b, b.TempDir()) {
		b.Run("shape="+s.name, func(b *testing.B) {
			data, err := os.ReadFile(s.path)
			if err != nil {
				b.Fatal(err)
			}
			p := s.p
			abs := p.absPath(s.path)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				l := p.newLoader(nil)
				var lines []*tokLine
				l.tokenize(abs, data, 0, nil, &lines)
				if len(lines) < s.rules {
					b.Fatalf("%d lines, want %d", len(lines), s.rules)
				}
			}
		})
	}
}
