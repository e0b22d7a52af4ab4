package hba

import (
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
