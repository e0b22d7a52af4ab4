package hba

import (
	"slices"
	"strconv"
	"testing"
)

// TestTableBuilder checks the counted construction: every key's rules in
// file order, a rule named twice under one key filed once, absent keys
// empty.
func TestTableBuilder(t *testing.T) {
	// Keys with distinct tags (high halves) and colliding slots (low
	// bits), so that they probe.
	key := func(i int32) uint64 { return uint64(i+1)<<40 | uint64(i%2) }
	b := newTableBuilder(80)
	want := map[uint64][]int32{}
	b.last = make([]int32, len(b.cnt))
	for r := int32(0); r < 20; r++ {
		// Both ways of finding a rule's repeated key: odd rules look back
		// at their filings, even ones use last.
		many := r%2 == 0
		for _, k := range []uint64{key(r % 3), key(r % 3), key(3 + r%5), key(9)} {
			b.add(k, r, many)
			if l := want[k]; len(l) == 0 || l[len(l)-1] != r {
				want[k] = append(l, r)
			}
		}
	}
	tb, largest := b.finish()
	if largest != 20 {
		t.Errorf("largest bucket %d, want 20", largest)
	}
	var one [1]int32
	for k, w := range want {
		if got := tb.lookup(k, &one); !slices.Equal(got, w) {
			t.Errorf("key %#x: %v, want %v", k, got, w)
		}
	}
	if got := tb.lookup(key(10), &one); got != nil {
		t.Errorf("absent key: %v", got)
	}
	var empty table
	if got := empty.lookup(1, &one); got != nil {
		t.Errorf("empty table: %v", got)
	}
}

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
	for _, s := range loadShapes(b, b.TempDir()) {
		b.Run("shape="+s.name, func(b *testing.B) {
			rs, err := s.p.Load(s.path)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rs.idx = buildIndex(rs.rules)
			}
		})
	}
}
