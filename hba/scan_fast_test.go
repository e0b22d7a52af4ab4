package hba

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// The fast paths of the scanner (readPlain, scanFields' runs) against the
// exact readers they stand in for (readLogical, scanExact): on every short text
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

// scanFile is the file the lines of the scan tests are read from, and
// scanFS the @files they name (others fail to open).
const scanFile = "/f"

var scanFS = fstest.MapFS{
	"a":  {Data: []byte("p \"q r\",s\n# c\n\"t\"#u\n")},
	"x":  {Data: []byte("y,@a\nz\n")},
	"xa": {Data: []byte("\"\"\n")},
}

// scanLoaders are scanDialects with an FS of @files, some keeping
// comments, with lazy @file fields, and with small budgets of tokens
// and expanded tokens, so that the fast scan meets all of them.
func scanLoaders() []*loader {
	var out []*loader
	for k, l := range scanDialects() {
		p := *l.p
		p.FS = scanFS
		l.p = &p
		l.lazyAt = k%2 == 1
		out = append(out, l)
		c := *l
		c.comments = new([]Comment)
		c.lim.MaxTokens = 12 // 7 spent before each line
		c.lim.MaxExpandedTokens = 2
		out = append(out, &c)
	}
	return out
}

// scanBoth scans s with scanFields on one copy of base and scanExact on
// another, and fails t when they differ in anything a line's scan leaves:
// its fields, error and token counts, the budgets spent, the comments
// kept, whether the load halted. It reports whether the fast run took the
// whole line.
func scanBoth(t *testing.T, base *loader, s string) bool {
	t.Helper()
	fast, exact, run := *base, *base, *base
	// Chunks of their own, small: a chunk the scan makes is 112 KB.
	for _, l := range []*loader{&fast, &exact, &run} {
		l.tokChunk, l.fieldChunk = make([]token, 0, 64), make([][]token, 0, 64)
	}
	fast.tokens, exact.tokens = 7, 7
	if base.comments != nil {
		fast.comments, exact.comments = new([]Comment), new([]Comment)
	}
	ft := &tokLine{pos: Position{Filename: scanFile, Line: 3}, raw: s}
	et := &tokLine{pos: Position{Filename: scanFile, Line: 3}, raw: s}
	// What scanRun does without keep: nothing kept or spent.
	rt := &tokLine{raw: s}
	nt, _, _, _, st := run.scanRun(rt, s, 0, false)
	if len(run.tokChunk) != 0 || len(run.fieldChunk) != 0 || run.tokens != 0 || run.comment != 0 ||
		rt.ntok != 0 || rt.fields != nil || st == runKept {
		t.Fatalf("v%d %q: scanRun kept or spent something", base.ver, s)
	}
	whole := st == runDone && fast.fits(ft, nt)
	fast.scanFields(ft, scanFile, 0)
	exact.comment = 0
	exact.scanExact(et, scanFile, 0)
	if !reflect.DeepEqual(ft.fields, et.fields) || ft.ntok != et.ntok || ft.lazy != et.lazy ||
		!reflect.DeepEqual(ft.err, et.err) {
		t.Fatalf("v%d maxTok %d lim %+v %q:\nfast  %+v (%d tokens) %v\nexact %+v (%d tokens) %v",
			base.ver, base.maxTok, base.lim, s, ft.fields, ft.ntok, ft.err, et.fields, et.ntok, et.err)
	}
	if fast.tokens != exact.tokens || fast.expanded != exact.expanded || fast.lines != exact.lines ||
		fast.halted != exact.halted || fast.comment != exact.comment || fast.comment != 0 {
		t.Fatalf("v%d %q: fast spent tokens %d expanded %d lines %d halted %v comment %d, exact %d %d %d %v %d",
			base.ver, s, fast.tokens, fast.expanded, fast.lines, fast.halted, fast.comment,
			exact.tokens, exact.expanded, exact.lines, exact.halted, exact.comment)
	}
	if base.comments != nil && !reflect.DeepEqual(*fast.comments, *exact.comments) {
		t.Fatalf("v%d %q: comments fast %+v, exact %+v", base.ver, s, *fast.comments, *exact.comments)
	}
	// A token of the line is its substring where at says, and what
	// next_token makes of the bytes it was read from.
	for _, f := range ft.fields {
		for _, tk := range f {
			if tk.at > 0 && (s[tk.at-1:int(tk.at)-1+len(tk.s)] != tk.s || dequote(s[tk.col-1:tk.end-1]) != tk.s) {
				t.Fatalf("v%d %q: token %+v is not at %d, or not %q", base.ver, s, tk, tk.at, dequote(s[tk.col-1:tk.end-1]))
			}
		}
	}
	return whole
}

// dequote is the text next_token makes of the bytes of one token.
func dequote(raw string) string {
	var out []byte
	inQuote, wasQuote := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '"' || wasQuote {
			out = append(out, c)
		}
		if inQuote && c == '"' {
			wasQuote = !wasQuote
		} else {
			wasQuote = false
		}
		if c == '"' {
			inQuote = !inQuote
		}
	}
	return string(out)
}

func TestScanFieldsMatchesExact(t *testing.T) {
	for _, base := range scanLoaders() {
		whole := 0
		eachText("a, \t\"#@x", 5, 0, func(s string) {
			if scanBoth(t, base, s) {
				whole++
			}
		})
		eachText("a, \t\r\"#@x,a\"\x00b", 0, 30000, func(s string) {
			if scanBoth(t, base, s) {
				whole++
			}
		})
		if whole < 10000 {
			t.Errorf("v%d: the fast run took only %d whole lines", base.ver, whole)
		}
	}
}

// TestScanFieldsEdges runs scanBoth on lines of the shapes the fast run
// takes or leaves, among them tokens about the 13–15 length limits.
func TestScanFieldsEdges(t *testing.T) {
	lines := []string{
		`host "svc-deploy" all 10.0.0.0/8 trust`,
		`host a,"b c",d all samenet md5 # a comment, "quoted"`,
		`host "a""b" all all trust`, `host """" x`, `host "" x`, `host "",""`, `"",`, `""#`,
		`a"b c"d e`, `"a"b c`, `a "b`, `"#" "," "a,b" ", " x`, `a#b`, `a #b`, `a,#b`, `a, #b`,
		`"a"#b`, `"a",#b`, `"a" ,# b`, "\"a\tb\"\tc\r", "a\r\"b\"", `@x a "b" c`, `a @x,"b" c`,
		`host a b 10/8 ldap ldapprefix="uid=" ldapsuffix=",ou=p,dc=n"`, `a b="c,d",e f`, `a"b"c d`,
		`a"" b`, `"a"b"c" d`, `"a""b",c`, `@"x" a`, `a,@"x" b`, `a "@x",b`, `a x"#"y#z`, `a "b"c#d`,
		`a "b""c"#d`, "a b\x00c d", "a \"b\"\x00 c",
		`a "b" @x`, `a "b" @x#c`, `"@x" @"x" @`, `a ,,, b ,, "c",,d`, "local\t\"all\"\t,all # x",
	}
	for _, n := range []int{252, 253, 254, 255, 256, 257, 10237, 10238, 10239, 10240} {
		w := strings.Repeat("w", n)
		for _, f := range []string{"%s", "\"%s\"", "\"%s", "%s\"\"", "\"\"%s"} {
			tok := strings.Replace(f, "%s", w, 1)
			for _, sep := range []string{"", " ", ",", "#", ", x", " x", "\"x\""} {
				lines = append(lines, tok+sep, "a "+tok+sep, "a,"+tok+sep, "\""+w[:n/2]+"\","+tok+sep)
			}
		}
	}
	for _, base := range scanLoaders() {
		for _, s := range lines {
			scanBoth(t, base, s)
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

// TestScanRunBytes checks scanRun's eight-bytes-at-a-time search for the
// end of a plain token: every byte at every place of a word and of the
// tail, after plain bytes of both sides of ',', from every start.
func TestScanRunBytes(t *testing.T) {
	loaders := scanLoaders()
	for c := 0; c < 256; c++ {
		for at := 0; at < 20; at++ {
			b := []byte("abcdefghijklmnopqrstuvwxyz0123456789")
			for k := range b[:at] {
				b[k] = "+-.~\x80\xff"[k%6]
			}
			b[at] = byte(c)
			s := string(b)
			for i := 0; i <= at; i++ {
				for _, base := range loaders[:2] {
					if !scanBoth(t, base, s[i:]) && scanClass[c] == clPlain && s[i] != '@' {
						t.Fatalf("%q: the fast run did not take it", s[i:])
					}
					scanBoth(t, base, "x "+s[i:]+" y")
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

// FuzzScanFields runs scanBoth on any line, for every loader of
// scanLoaders: go test ./hba -run '^$' -fuzz '^FuzzScanFields$'.
func FuzzScanFields(f *testing.F) {
	for _, s := range []string{`host "a b",c "x"y @x # z`, `a"b c"d,"" "e""f"#`, "local\tall\t\"@x\" trust\r"} {
		f.Add(s)
	}
	loaders := scanLoaders()
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		for _, base := range loaders {
			scanBoth(t, base, s)
		}
	})
}
