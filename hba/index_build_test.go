package hba

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// TestSortFilings checks sortFilings against its contract: a permutation
// of its input, in the order of the hashes' top bits (as many as a table
// of that many keys uses), each key's filings together and in input order.
func TestSortFilings(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1202))
	for trial := 0; trial < 400; trial++ {
		n := rng.IntN(40)
		if trial%4 == 0 {
			n = rng.IntN(9000)
		}
		// Few distinct top halves and low halves, so that keys share
		// their top bits.
		tops := 1 + rng.IntN(n+1)
		keys := make([]uint64, 1+rng.IntN(n+1))
		for k := range keys {
			keys[k] = uint64(rng.IntN(tops))<<(64-bits.Len(uint(tableSize(n))))*uint64(rng.IntN(2)) ^ rng.Uint64()>>uint(rng.IntN(64))
		}
		fs := make([]filing, n)
		for i := range fs {
			fs[i] = filing{h: keys[rng.IntN(len(keys))], v: int32(i)}
		}
		got := sortFilings(slices.Clone(fs), make([]filing, n))
		checkSorted(t, fs, got)
	}
	// Exhaustive on short inputs: every sequence of up to 6 filings over
	// 3 keys that share their top bits or not.
	ks := []uint64{1 << 63, 1<<63 | 5, 7}
	for n := 0; n <= 6; n++ {
		total := 1
		for range n {
			total *= len(ks)
		}
		for code := 0; code < total; code++ {
			fs := make([]filing, n)
			for i, c := 0, code; i < n; i, c = i+1, c/len(ks) {
				fs[i] = filing{h: ks[c%len(ks)], v: int32(i)}
			}
			checkSorted(t, fs, sortFilings(slices.Clone(fs), make([]filing, n)))
		}
	}
}

func checkSorted(t *testing.T, in, got []filing) {
	t.Helper()
	if len(got) != len(in) {
		t.Fatalf("%d filings sorted into %d", len(in), len(got))
	}
	shift := 64 - bits.Len(uint(tableSize(len(in))-1))
	seen := map[uint64]bool{}
	for i, f := range got {
		if f.v < 0 || int(f.v) >= len(in) || in[f.v] != f {
			t.Fatalf("filing %d: %+v is not an input filing", i, f)
		}
		if i == 0 {
			seen[f.h] = true
			continue
		}
		p := got[i-1]
		switch {
		case p.h>>shift > f.h>>shift:
			t.Fatalf("filing %d: top bits %#x after %#x", i, f.h>>shift, p.h>>shift)
		case p.h == f.h && p.v >= f.v:
			t.Fatalf("filing %d: key %#x: filing %d after %d", i, f.h, f.v, p.v)
		case p.h != f.h && seen[f.h]:
			t.Fatalf("filing %d: key %#x is split", i, f.h)
		}
		seen[f.h] = true
	}
}

// TestTableOf checks the table against a map from each key to its rules:
// a key's lookup is its rules in file order, a rule named twice under one
// key once, plus, only for keys sharing a tag whose slots meet, the rules
// of such keys (still in order); absent keys give no rule of another tag.
func TestTableOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1202))
	for trial := 0; trial < 300; trial++ {
		nkeys := 1 + rng.IntN(300)
		if trial%10 == 0 {
			nkeys = 1 + rng.IntN(20000)
		}
		// Keys from few tags and few top halves, so that equal tags meet.
		tags := 1 + rng.IntN(nkeys)
		keys := make([]uint64, nkeys)
		for k := range keys {
			keys[k] = uint64(rng.IntN(1+nkeys/4))<<48 ^ rng.Uint64()&0xffff_0000_0000 | uint64(rng.IntN(tags))<<1
		}
		want := map[uint64][]int32{}
		var fs []filing
		for r := int32(0); len(fs) < 2*nkeys; r++ {
			for range 1 + rng.IntN(3) {
				k := keys[rng.IntN(1+rng.IntN(nkeys))]
				fs = append(fs, filing{h: k, v: r})
				if l := want[k]; len(l) == 0 || l[len(l)-1] != r {
					want[k] = append(l, r)
				}
			}
		}
		tb := tableOf(sortFilings(fs, make([]filing, len(fs))))
		byTag := map[uint32][]int32{}
		for k, l := range want {
			byTag[tagOf(k)] = append(byTag[tagOf(k)], l...)
		}
		var one [1]int32
		for k, w := range want {
			got := tb.lookup(k, &one)
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Fatalf("key %#x: %v is not in file order once each", k, got)
			}
			for _, r := range w {
				if _, ok := slices.BinarySearch(got, r); !ok {
					t.Fatalf("key %#x: %v lacks rule %d (want %v)", k, got, r, w)
				}
			}
			if len(got) > len(w) {
				for _, r := range got {
					if !slices.Contains(byTag[tagOf(k)], r) {
						t.Fatalf("key %#x: rule %d is not of a key with its tag", k, r)
					}
				}
			}
		}
		for range 50 {
			k := rng.Uint64()
			if _, ok := want[k]; ok {
				continue
			}
			for _, r := range tb.lookup(k, &one) {
				if !slices.Contains(byTag[tagOf(k)], r) {
					t.Fatalf("absent key %#x: rule %d is not of a key with its tag", k, r)
				}
			}
		}
	}
	// Two keys of one tag and one home, a rule each: one list of both.
	same := tableOf([]filing{{h: 1<<63 | 2, v: 0}, {h: 1<<63 | 1<<40 | 2, v: 1}})
	var one [1]int32
	if got := same.lookup(1<<63|1<<40|2, &one); !slices.Equal(got, []int32{0, 1}) {
		t.Errorf("keys sharing a tag and a slot: %v, want [0 1]", got)
	}
	if empty := tableOf(nil); empty.lookup(1, &one) != nil {
		t.Errorf("empty table: a rule")
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

// TestIndexGroups checks the index against the linear loop on files whose
// rules share @file columns (filed as groups): with overlapping literal
// columns, crowded buckets, groups in every partition, several groups per
// name, first matches across group and non-group lists.
func TestIndexGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 1202))
	fsys := fstest.MapFS{
		"g/a.txt": {Data: []byte("db0, db1, u0, u1, g0\n")},
		"g/b.txt": {Data: []byte("db1 db2 u1 u2 db3\n")},
		"g/c.txt": {Data: []byte("db0\ndb3\nu3\nu0\nnodb\n")},
		"g/d.txt": {Data: []byte("\"db2\", db0, u2, \"u3\", all\n")},
	}
	refs := []string{"@a.txt", "@b.txt", "@c.txt", "@d.txt", "@./a.txt", "@../g/b.txt"}
	sets, conns, grouped := 300, 120, 0
	if testing.Short() {
		sets = 60
	}
	defer func(m int) { parIndexMin = m }(parIndexMin)
	for set := 0; set < sets; set++ {
		// Every other set's keyed partitions are built at once, sharing
		// the groups' names.
		parIndexMin = 1 << 30
		if set%2 == 1 {
			parIndexMin = 0
		}
		text := genFile(rng, 20+rng.IntN(200))
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		for i, l := range lines {
			f := strings.Fields(l)
			if rng.IntN(2) == 0 {
				f[1] = pick(rng, refs) // database column
			}
			if rng.IntN(2) == 0 {
				f[2] = pick(rng, refs) // user column
			}
			lines[i] = strings.Join(f, " ")
		}
		text = strings.Join(lines, "\n") + "\n"
		log := new(callLog)
		p := Parser{Version: 16, Env: genEnv(rng, log), FS: fsys}
		rs, err := p.LoadBytes("g/pg_hba.conf", []byte(text))
		if err != nil {
			t.Fatalf("set %d: %v\n%s", set, err, text)
		}
		for _, part := range rs.idx.parts {
			if len(part.goffs) > 1 {
				grouped++
			}
		}
		for k := 0; k < conns; k++ {
			compareIndex(t, rs, log, genConn(rng), fmt.Sprintf("set %d:\n%s", set, text))
		}
	}
	if grouped < sets {
		t.Errorf("only %d partitions with groups in %d sets", grouped, sets)
	}
}
