package hba

import (
	"strconv"
	"testing"

	"github.com/pghba/pghba/internal/gen"
)

// BenchmarkBuildIndex measures building the index alone, on the rules of
// the multi-tenant benchmark file.
func BenchmarkBuildIndex(b *testing.B) {
	for _, n := range []int{10, 100000} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			rs, _ := benchRuleset(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rs.idx = buildIndex(rs.rules)
			}
		})
	}
}

var _ = gen.MultiTenant
