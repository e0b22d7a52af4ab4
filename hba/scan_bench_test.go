package hba

import (
	"bytes"
	"math"
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
			p, abs, data := s.main(b)
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

// BenchmarkScanLines measures scanFields alone on the lines of the main
// files of loadShapes, its chunks reused line after line (no allocation,
// no collector): the cost of splitting lines into fields, @file expansion
// from the load's cache after the first round.
func BenchmarkScanLines(b *testing.B) {
	for _, s := range loadShapes(b, b.TempDir()) {
		b.Run("shape="+s.name, func(b *testing.B) {
			p, abs, data := s.main(b)
			size := int64(len(data))
			var lines []string
			for len(data) > 0 {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					i = len(data)
				}
				lines = append(lines, string(data[:i]))
				data = data[min(i+1, len(data)):]
			}
			// A load's loader (readInto): @file fields are lazy.
			l := p.newLoader(nil)
			l.lazyAt = true
			l.lim.MaxTokens = math.MaxInt
			var tl tokLine
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k, raw := range lines {
					tl.reset(abs, k+1, nil, raw)
					l.scanFields(&tl, abs, 0)
					l.tokChunk, l.fieldChunk = l.tokChunk[:0], l.fieldChunk[:0]
				}
			}
		})
	}
}

// main returns the shape's parser, its main file's absolute path and bytes.
func (s *loadShape) main(b *testing.B) (Parser, string, []byte) {
	b.Helper()
	data, err := os.ReadFile(s.path)
	if err != nil {
		b.Fatal(err)
	}
	return s.p, s.p.absPath(s.path), data
}
