package hba

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// The fast paths of the scanner (readPlain, scanPlain) against the exact
// readers they stand in for (readLogical, scanExact): on every short text
// over an alphabet of the bytes that matter, and on random longer ones,
// for each dialect of line reading and token limits.

// scanDialects are loaders of the dialects whose reading differs: 13's
// fgets buffer, 13–15 token limits (small ones, to reach them), 16+.
func scanDialects() []*loader {
	var out []*loader
	for _, v := range []int{13, 14, 15, 16, 18} {
		p := &Parser{Version: v}
		l := p.newLoader(nil)
		out = append(out, l)
		if l.maxTok > 0 {
			// Small limits: the fgets buffer and token length, and the
			// token budgets.
			s := p.newLoader(nil)
			s.maxTok = 4
			if v == 13 {
				s.maxLine = 8
			}
			s.lim.MaxLineTokens = 3
			out = append(out, s)
		}
	}
	return out
}

// eachText calls f with every text of up to n bytes over alpha, then with
// count random texts of up to 40 bytes.
func eachText(alpha string, n, count int, f func(string)) {
	buf := make([]byte, 0, 40)
	var rec func(int)
	rec = func(k int) {
		f(string(buf))
		if k == n {
			return
		}
		for i := 0; i < len(alpha); i++ {
			buf = append(buf, alpha[i])
			rec(k + 1)
			buf = buf[:len(buf)-1]
		}
	}
	rec(0)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < count; i++ {
		buf = buf[:0]
		for k := rng.Intn(41); k > 0; k-- {
			buf = append(buf, alpha[rng.Intn(len(alpha))])
		}
		f(string(buf))
	}
}

func TestScanPlainMatchesExact(t *testing.T) {
	for _, base := range scanDialects() {
		plainLines := 0
		ftok, ffld := make([]token, 0, 64), make([][]token, 0, 64)
		etok, efld := make([]token, 0, 64), make([][]token, 0, 64)
		eachText("a, \t\r\"#@x", 5, 50000, func(s string) {
			fast, exact := *base, *base
			fast.tokens, exact.tokens = 7, 7
			fast.tokChunk, fast.fieldChunk = ftok[:0], ffld[:0]
			exact.tokChunk, exact.fieldChunk = etok[:0], efld[:0]
			ft := &tokLine{raw: s}
			et := &tokLine{raw: s}
			if !fast.scanPlain(ft, s) {
				if fast.tokens != 7 || ft.ntok != 0 || ft.fields != nil || len(fast.tokChunk) != 0 || len(fast.fieldChunk) != 0 {
					t.Fatalf("v%d %q: scanPlain declined but changed the loader", base.ver, s)
				}
				return
			}
			plainLines++
			exact.scanExact(et, "f", 0)
			if et.err != nil || exact.comment != 0 {
				t.Fatalf("v%d maxTok %d %q: scanPlain took a line the exact scanner fails (%v)", base.ver, base.maxTok, s, et.err)
			}
			if !reflect.DeepEqual(ft.fields, et.fields) || ft.ntok != et.ntok || fast.tokens != exact.tokens {
				t.Fatalf("v%d maxTok %d %q:\nfast  %+v (%d tokens)\nexact %+v (%d tokens)", base.ver, base.maxTok, s, ft.fields, ft.ntok, et.fields, et.ntok)
			}
		})
		if plainLines < 10000 {
			t.Errorf("v%d: the fast path took only %d lines", base.ver, plainLines)
		}
	}
}

func TestReadPlainMatchesReadLogical(t *testing.T) {
	for _, base := range scanDialects() {
		plain := 0
		eachText("a\n\r\\\x00 ", 6, 20000, func(s string) {
			data := []byte(s)
			for start := 0; start < len(data); start++ { // tokenize reads while data remains
				fast, exact := *base, *base
				fast.tooLong13, exact.tooLong13 = true, true
				fp, ep := start, start
				line, ok := fast.readPlain(data, &fp, !strings.Contains(s, "\x00") && start%2 == 0)
				if !ok {
					if fp != start || !fast.tooLong13 {
						t.Fatalf("v%d %q at %d: readPlain declined but moved", base.ver, s, start)
					}
					continue
				}
				plain++
				buf, n := exact.readLogical(data, &ep, nil)
				if string(buf) != string(line) || n != 1 || fp != ep || fast.tooLong13 != exact.tooLong13 {
					t.Fatalf("v%d %q at %d: readPlain %q to %d, readLogical %q (%d lines) to %d", base.ver, s, start, line, fp, buf, n, ep)
				}
			}
		})
		if plain < 10000 {
			t.Errorf("v%d: the fast path took only %d lines", base.ver, plain)
		}
	}
}

func TestPlainEnd(t *testing.T) {
	// Every byte at every place of a word and of the tail, after plain
	// bytes of both sides of ','.
	for c := 0; c < 256; c++ {
		for at := 0; at < 20; at++ {
			b := []byte("abcdefghijklmnopqrstuvwxyz0123456789")
			for k := range b[:at] {
				b[k] = "+-.~\x80\xff"[k%6]
			}
			b[at] = byte(c)
			s := string(b)
			for i := 0; i <= at; i++ {
				want := i
				for want < len(s) && scanClass[s[want]] == clPlain {
					want++
				}
				if got := plainEnd(s, i); got != want {
					t.Fatalf("plainEnd(%q, %d) = %d, want %d", s, i, got, want)
				}
			}
		}
	}
}

// TestTokLineReset fills every field of a tokLine, resets it, and wants the
// literal reset stands for. The field counts make a field added to
// tokLine or Position fail here until reset and this test know it.
func TestTokLineReset(t *testing.T) {
	if n := reflect.TypeOf(tokLine{}).NumField(); n != 7 {
		t.Fatalf("tokLine has %d fields: reset and this test know 7", n)
	}
	if n := reflect.TypeOf(Position{}).NumField(); n != 6 {
		t.Fatalf("Position has %d fields: reset and this test know 6", n)
	}
	tl := tokLine{
		pos:    Position{Filename: "x", Line: 1, Column: 2, EndColumn: 3, Segment: "s", Index: 4},
		inc:    []Position{{Line: 9}},
		raw:    "junk",
		fields: [][]token{{{s: "a"}}},
		err:    &Error{Msg: "m"},
		ntok:   5,
		lazy:   [2][2]int32{{1, 2}, {3, 4}},
	}
	inc := []Position{{Filename: "a", Line: 2}}
	tl.reset("f", 3, inc, "raw")
	want := tokLine{pos: Position{Filename: "f", Line: 3}, inc: inc, raw: "raw"}
	if !reflect.DeepEqual(tl, want) {
		t.Fatalf("reset gave %+v, want %+v", tl, want)
	}
}
