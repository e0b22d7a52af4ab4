package hba

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/pghba/pghba/internal/gen"
	"github.com/pghba/pghba/internal/pgre"
)

// withParKnobs sets the parallel loader's knobs for one test: every file is
// read in parallel, in chunks of about size bytes, on procs workers.
func withParKnobs(t *testing.T, size, procs int) {
	t.Helper()
	m, c, p := parMinBytes, parChunkBytes, parProcs
	parMinBytes, parChunkBytes, parProcs = 0, size, procs
	t.Cleanup(func() { parMinBytes, parChunkBytes, parProcs = m, c, p })
}

// parKnobsMu keeps tests that turn the knobs from running at once.
var parKnobsMu sync.Mutex

// loadBoth reads data in one pass and in parallel (with the knobs set),
// asserts that the Files and the Rulesets are the same, and reports
// whether the parallel read was used (not a fallback to one pass).
func loadBoth(t *testing.T, p *Parser, name string, data []byte, withLines bool) bool {
	t.Helper()
	abs := p.absPath(name)
	// Each read records the files it opens.
	var openSeq, openPar []string
	ps, pp := *p, *p
	if m, ok := p.FS.(fstest.MapFS); ok {
		ps.FS = cancelFS{MapFS: m, cancel: func() {}, opened: &openSeq}
		pp.FS = cancelFS{MapFS: m, cancel: func() {}, opened: &openPar}
	}
	ls := ps.newLoader(nil)
	ls.readBytes += int64(len(data))
	seq := ps.parseSeq(ls, abs, data, withLines)

	lp := pp.newLoader(nil)
	lp.readBytes += int64(len(data))
	par := pp.parseParallel(lp, abs, data, withLines)
	used := par != nil
	if par == nil {
		openPar = nil
		par = pp.parseSeq(lp, abs, data, withLines)
	}
	if !slices.Equal(openSeq, openPar) {
		t.Fatalf("files opened in parallel (used %v): %q, in one pass %q", used, openPar, openSeq)
	}
	// The entry point gives the same too.
	var entry *File
	if withLines {
		entry = p.ParseBytes(name, data)
	} else {
		entry = p.parseMain(p.newLoader(nil), abs, data, false)
	}
	for _, f := range []*File{par, entry} {
		if err := sameFile(seq, f); err != "" {
			t.Fatalf("parallel read (used %v) differs: %s\ninput:\n%q", used, err, trimInput(data))
		}
	}
	if lp.lines != ls.lines || lp.tokens != ls.tokens || lp.files != ls.files || lp.readBytes != ls.readBytes || lp.expanded != ls.expanded {
		t.Fatalf("budgets (lines %v): parallel lines %d tokens %d files %d bytes %d expanded %d, one pass %d %d %d %d %d", withLines,
			lp.lines, lp.tokens, lp.files, lp.readBytes, lp.expanded, ls.lines, ls.tokens, ls.files, ls.readBytes, ls.expanded)
	}
	rs1, err1 := p.Compile(seq)
	rs2, err2 := p.Compile(par)
	if d := deepDiff(reflect.ValueOf(err1), reflect.ValueOf(err2), "err"); d != "" {
		t.Fatalf("Compile errors differ: %s", d)
	}
	if d := deepDiff(reflect.ValueOf(rs1), reflect.ValueOf(rs2), "rs"); d != "" {
		t.Fatalf("Rulesets differ: %s", d)
	}
	return used
}

func trimInput(b []byte) []byte {
	if len(b) > 2000 {
		return b[:2000]
	}
	return b
}

// sameFile compares two Files: equal values, and the same sharing of
// options and of rule files between rules.
func sameFile(a, b *File) string {
	if d := deepDiff(reflect.ValueOf(a), reflect.ValueOf(b), "File"); d != "" {
		return d
	}
	if !reflect.DeepEqual(sharing(a, func(r *Rule) any { return r.opts }), sharing(b, func(r *Rule) any { return r.opts })) {
		return "options are shared differently"
	}
	// A chunk's rules keep a string table of their own (ruleFile.strs),
	// so rule files are shared by file and table, and a string that is
	// not in its rule's line has another index: what the rules resolve
	// must be the same.
	for i := range a.Rules {
		if d := sameStrings(a.Rules[i], b.Rules[i]); d != "" {
			return fmt.Sprintf("File.Rules[%d]: %s", i, d)
		}
	}
	return ""
}

// sameStrings compares what two rules' spans and indices resolve to: a
// chunk's rules index their chunk's text and tables (deepDiff skips
// those fields, ruleSkip).
func sameStrings(a, b *Rule) string {
	if a.Raw() != b.Raw() {
		return fmt.Sprintf("raw %q, want %q", b.Raw(), a.Raw())
	}
	if a.addrText() != b.addrText() {
		return "address texts differ"
	}
	if a.akind == AddrIP && (a.addr() != b.addr() || a.mask() != b.mask()) {
		return fmt.Sprintf("address %v mask %v, want %v %v", b.addr(), b.mask(), a.addr(), a.mask())
	}
	if !reflect.DeepEqual(a.Address(), b.Address()) {
		return fmt.Sprintf("Address %+v, want %+v", b.Address(), a.Address())
	}
	for _, c := range [][2][]name{{a.dbNames(), b.dbNames()}, {a.userNames(), b.userNames()}} {
		if len(c[0]) != len(c[1]) {
			return "column lengths differ"
		}
		for k := range c[0] {
			x, y := c[0][k], c[1][k]
			if xs, ys := a.str(x.sp), b.str(y.sp); xs != ys {
				return fmt.Sprintf("name %q, want %q", ys, xs)
			}
			if x.kind != y.kind || x.quoted != y.quoted {
				return fmt.Sprintf("name %+v, want %+v", y, x)
			}
		}
	}
	if a.hasExt() {
		ea, eb := a.file.strs.exts[a.ip], b.file.strs.exts[b.ip]
		if d := deepDiff(reflect.ValueOf(ea), reflect.ValueOf(eb), "ext"); d != "" {
			return d
		}
	}
	return ""
}

// ruleSkip are the fields of Rule that index its chunk's text or tables;
// sameStrings compares what they resolve to.
var ruleSkip = map[string]bool{"dbs": true, "users": true, "ip": true, "raw": true, "atext": true}

var (
	regexpType    = reflect.TypeOf((*pgre.Regexp)(nil))
	partitionType = reflect.TypeOf(partition{})
	spanType      = reflect.TypeOf(span{})
	ruleFileType  = reflect.TypeOf(ruleFile{})
	ruleType      = reflect.TypeOf(Rule{})
)

// deepDiff is reflect.DeepEqual that says where two values differ, and
// compares compiled regular expressions by their patterns (their programs
// keep caches).
func deepDiff(a, b reflect.Value, path string) string {
	type pair struct{ a, b uintptr }
	seen := map[pair]bool{}
	var walk func(a, b reflect.Value, path string) string
	walk = func(a, b reflect.Value, path string) string {
		if a.IsValid() != b.IsValid() {
			return path + ": one is invalid"
		}
		if !a.IsValid() {
			return ""
		}
		if a.Type() != b.Type() {
			return path + ": types differ"
		}
		if a.Type() == regexpType {
			if a.IsNil() != b.IsNil() || (!a.IsNil() && a.Elem().FieldByName("expr").String() != b.Elem().FieldByName("expr").String()) {
				return path + ": regexps differ"
			}
			return ""
		}
		switch a.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil %v, want nil %v", path, b.IsNil(), a.IsNil())
			}
			if a.IsNil() {
				return ""
			}
		}
		switch a.Kind() {
		case reflect.Pointer:
			k := pair{a.Pointer(), b.Pointer()}
			if seen[k] {
				return ""
			}
			seen[k] = true
			return walk(a.Elem(), b.Elem(), path)
		case reflect.Interface:
			if a.IsNil() != b.IsNil() {
				return path + ": nil interface"
			}
			return walk(a.Elem(), b.Elem(), path)
		case reflect.Struct:
			if a.Type() == spanType && spanExt(a) && spanExt(b) {
				return "" // an index into a string table: see sameStrings
			}
			for i := range a.NumField() {
				if a.Type() == ruleFileType && (a.Type().Field(i).Name == "strs" || a.Type().Field(i).Name == "text") {
					continue // see sameStrings
				}
				if a.Type() == ruleType && ruleSkip[a.Type().Field(i).Name] {
					continue // see sameStrings
				}
				if a.Type() == partitionType {
					switch a.Type().Field(i).Name {
					case "seed", "ipSeed", "db", "dbImp", "user", "ip":
						// Filed by a hash with a seed of each build.
						continue
					}
				}
				if d := walk(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
					return d
				}
			}
		case reflect.Slice, reflect.Array:
			if a.Len() != b.Len() {
				return fmt.Sprintf("%s: len %d, want %d", path, b.Len(), a.Len())
			}
			for i := range a.Len() {
				if d := walk(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
					return d
				}
			}
		case reflect.Map:
			if a.Len() != b.Len() {
				return fmt.Sprintf("%s: len %d, want %d", path, b.Len(), a.Len())
			}
			it := a.MapRange()
			for it.Next() {
				bv := b.MapIndex(it.Key())
				if !bv.IsValid() {
					return path + ": key missing"
				}
				if d := walk(it.Value(), bv, path+"[key]"); d != "" {
					return d
				}
			}
		case reflect.Func:
			if a.IsNil() != b.IsNil() {
				return path + ": func"
			}
		case reflect.Chan, reflect.UnsafePointer:
		case reflect.String:
			if a.String() != b.String() {
				return fmt.Sprintf("%s: %q, want %q", path, b.String(), a.String())
			}
		case reflect.Bool:
			if a.Bool() != b.Bool() {
				return path + ": bool"
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if a.Int() != b.Int() {
				return fmt.Sprintf("%s: %d, want %d", path, b.Int(), a.Int())
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if a.Uint() != b.Uint() {
				return fmt.Sprintf("%s: %d, want %d", path, b.Uint(), a.Uint())
			}
		case reflect.Float32, reflect.Float64:
			if a.Float() != b.Float() {
				return path + ": float"
			}
		default:
			return path + ": kind " + a.Kind().String()
		}
		return ""
	}
	return walk(a, b, path)
}

// sharing returns, for each rule, the index of the first rule whose ptr is
// the same pointer.
func sharing(f *File, ptr func(*Rule) any) []int {
	first := map[any]int{}
	out := make([]int, len(f.Rules))
	for i, r := range f.Rules {
		k := ptr(r)
		if j, ok := first[k]; ok {
			out[i] = j
		} else {
			first[k] = i
			out[i] = i
		}
	}
	return out
}

func TestParallelMultiTenant(t *testing.T) {
	parKnobsMu.Lock()
	defer parKnobsMu.Unlock()
	withParKnobs(t, 0, 2)
	parMinBytes = 256 << 10
	data := gen.MultiTenant(5000, 1).Data
	for _, v := range []int{13, 15, 16, 18} {
		p := &Parser{Version: v}
		for _, withLines := range []bool{false, true} {
			if !loadBoth(t, p, "/etc/pg_hba.conf", data, withLines) {
				t.Fatalf("%d: the tenant file was not read in parallel", v)
			}
		}
	}
	// Under the threshold, one pass.
	p := &Parser{}
	l := p.newLoader(nil)
	if p.parseParallel(l, "/x", gen.MultiTenant(100, 1).Data, true) != nil {
		t.Fatal("a small file was read in parallel")
	}
}

// parPieces are the lines random files are built from. Those with
// errors, NUL bytes and lines too long for 13 make the parallel read fall
// back; the others must not.
var parPieces = []string{
	"local all all trust\n",
	"host all all 127.0.0.1/32 scram-sha-256\n",
	"host db1,db2 u1,+grp 10.0.0.0 255.255.0.0 md5\n",
	"hostssl all all ::1/128 cert clientcert=verify-full\n",
	"hostnossl \"all\" \"u#1\" samenet ldap ldapurl=\"ldap://h/dc=x?uid?sub\" # tail\n",
	"hostgssenc samerole all samehost gss include_realm=0 krb_realm=EX\n",
	"host all all .example.com radius radiusservers=\"a,b\" radiussecrets=\"x,y\"\n",
	"# a comment line\n",
	"   # indented comment with \"quote\n",
	"\n",
	"   \t \n",
	"\r\n",
	"host all all 10.1.0.0/16 trust\r\n",
	"host all \\\nall 10.2.0.0/16 trust\n",
	"host all all \\\r\n 10.3.0.0/16 pam pamservice=x \\\n\n",
	"local all a\\\\ trust\n",
	"local all b trust\\\n\n",
	"\\\n\n",
	"local all \"a\\\" trust\n",
	"local sameuser \"quoted #\" trust # c\n",
	"local all @users trust\n",
	"local @dbs all trust\n",
	"local all x,@users,y trust\n",
	"local all \"@notafile\" trust\n",
	"local all a@b trust\n",
	"local all all peer map=m\n",
	"host all all 1.2.3.4/32 ident map=m1\n",
	"local all all trust\\", // at the end of the file only
}

// parPieces16 are the pieces that read without an error from 16 only.
var parPieces16 = []string{
	"include extra.conf\n",
	"include_if_exists missing.conf\n",
	"in\"clude\" extra.conf\n",
	",\"include\"_dir conf.d\n",
	"include_dir conf.d\n",
	"inc\\\nlude sub/pg_hba.conf\n",
	"host all /^u[0-9]+$ 192.168.0.0/16 reject\n",
}

var parErrorPieces = []string{
	"host all all 10.0.0.0/33 trust\n",
	"local all all nosuchmethod\n",
	"local all @missing trust\n",
	"include nosuch.conf\n",
	"bogus all all trust\n",
	"local all\n",
	"local all all tr\x00ust\n",
	"local all all trust # " + strings.Repeat("x", 30000) + "\n",
}

func parFS(main []byte) fstest.MapFS {
	return fstest.MapFS{
		"pg_hba.conf":     {Data: main},
		"users":           {Data: []byte("u1 u2 # users\n\"u 3\"\n")},
		"dbs":             {Data: []byte("db1\n# dbs\ndb2,db3\n")},
		"extra.conf":      {Data: []byte("# extra\nlocal all extra trust\nhost all extra2 10.9.0.0/16 md5 # x\n")},
		"conf.d/a.conf":   {Data: []byte("local all fromdir trust # d\n")},
		"conf.d/b.conf":   {Data: []byte("# only a comment\n")},
		"sub/pg_hba.conf": {Data: []byte("local all sub trust\n")},
		"sub/users":       {Data: []byte("subuser\n")},
	}
}

// randomFile glues n pieces; with errs, error pieces are mixed in.
func randomFile(rng *rand.Rand, n, v int, errs bool) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		pc := parPieces[rng.IntN(len(parPieces)-1)]
		if v >= 16 && rng.IntN(8) == 0 {
			pc = parPieces16[rng.IntN(len(parPieces16))]
		}
		if errs && rng.IntN(40) == 0 {
			pc = parErrorPieces[rng.IntN(len(parErrorPieces))]
		}
		b.WriteString(pc)
	}
	if rng.IntN(4) == 0 {
		b.WriteString(parPieces[len(parPieces)-1])
	}
	return b.Bytes()
}

func TestParallelRandom(t *testing.T) {
	parKnobsMu.Lock()
	defer parKnobsMu.Unlock()
	rng := rand.New(rand.NewPCG(20, 2026))
	used, fell, ahead := 0, 0, 0
	parSeen = func(_ int, a bool) { ahead += b2i(a) }
	defer func() { parSeen = nil }()
	for iter := 0; iter < 250; iter++ {
		withParKnobs(t, 1+rng.IntN(300), 2+rng.IntN(3))
		v := 13 + iter%6
		errs := iter%3 == 0
		data := randomFile(rng, 20+rng.IntN(200), v, errs)
		p := &Parser{Version: v, SSL: iter%2 == 0, FS: parFS(data)}
		if iter%5 == 0 {
			p.Limits.MaxLines = 1 + rng.IntN(150)
		}
		if iter%7 == 0 {
			p.Limits.MaxTokens = 1 + rng.IntN(800)
		}
		if iter%11 == 0 {
			p.Limits.MaxErrors = 1 + rng.IntN(3)
		}
		if iter%13 == 0 {
			p.Limits.MaxFiles = 1 + rng.IntN(5)
		}
		name := "pg_hba.conf"
		if iter%4 == 1 {
			name = "sub/../pg_hba.conf"
		}
		withLines := iter%4 != 3
		if loadBoth(t, p, name, data, withLines) {
			used++
		} else {
			fell++
		}
	}
	t.Logf("parallel %d (@files read ahead %d), one pass %d", used, ahead, fell)
	if used < 60 || fell < 20 || ahead < 10 {
		t.Fatalf("parallel %d (@files read ahead %d), one pass %d: the random files do not exercise both", used, ahead, fell)
	}
}

// TestParallelCuts reads one file in every chunk size from 1 byte, so
// that every place a cut can fall is tried.
func TestParallelCuts(t *testing.T) {
	parKnobsMu.Lock()
	defer parKnobsMu.Unlock()
	var b bytes.Buffer
	for _, pc := range parPieces[:len(parPieces)-1] {
		b.WriteString(pc)
	}
	for _, pc := range parPieces16 {
		b.WriteString(pc)
	}
	b.WriteString(parPieces[len(parPieces)-1])
	data := b.Bytes()
	if f := (&Parser{Version: 16, FS: parFS(data)}).ParseBytes("pg_hba.conf", data); len(f.Errors) > 0 {
		t.Fatalf("the pieces have errors in 16: %v", f.Errors)
	}
	for _, v := range []int{13, 14, 16, 18} {
		p := &Parser{Version: v, FS: parFS(data)}
		for size := 1; size <= len(data)+1; size += 1 + size/100 {
			withParKnobs(t, size, 2)
			if !loadBoth(t, p, "pg_hba.conf", data, true) && v >= 16 && size < len(data)/2 {
				t.Fatalf("%d: chunk size %d: not read in parallel", v, size)
			}
		}
	}
}

func TestParallelFallback(t *testing.T) {
	parKnobsMu.Lock()
	defer parKnobsMu.Unlock()
	withParKnobs(t, 50, 2)
	base := strings.Repeat("local all all trust # c\nhost all @users 10.0.0.0/8 md5\n", 20)
	for _, e := range parErrorPieces {
		for _, at := range []int{0, len(base) / 2, len(base)} {
			// Cut at a line boundary.
			at = strings.LastIndexByte(base[:at], '\n') + 1
			data := []byte(base[:at] + e + base[at:])
			for _, v := range []int{13, 16} {
				if strings.Contains(e, "xxxx") && v != 13 {
					continue // too long for 13's buffer only
				}
				p := &Parser{Version: v, FS: parFS(data)}
				if loadBoth(t, p, "pg_hba.conf", data, true) {
					t.Fatalf("%d: %q at %d: a file with an error was read in parallel", v, e, at)
				}
			}
		}
	}
	// Budgets that the parts only reach together.
	data := []byte(strings.Repeat("local all all trust\n", 100))
	for _, lim := range []Limits{{MaxLines: 99}, {MaxLines: 100}, {MaxTokens: 399}, {MaxTokens: 400}} {
		p := &Parser{Limits: lim}
		got := loadBoth(t, p, "pg_hba.conf", data, true)
		if ok := lim.MaxLines == 100 || lim.MaxTokens == 400; got != ok {
			t.Fatalf("%+v: parallel %v", lim, got)
		}
	}
}

// TestParallelContext: a context that ends while the deferred lines are
// read stops the load within the next lines (the chunks after a deferred
// line wait for it; those before may still be read, and stop at their
// next check). A load without lines (LoadContext) reads the @files ahead
// of the lines: a context that ends then stops it before its first line.
func TestParallelContext(t *testing.T) {
	parKnobsMu.Lock()
	defer parKnobsMu.Unlock()
	withParKnobs(t, 4096, 4)
	for _, cut := range []int{0, 3000, 7000} {
		rules := strings.Repeat("local all all trust\n", 10000)
		// Lines 1 and cut+1 name @files; opening "n" ends the context.
		data := "host @m all 0.0.0.0/0 trust\n" + rules[:cut*20] + "host @n all 0.0.0.0/0 trust\n" + rules[cut*20:]
		for range 5 {
			ctx, cancel := context.WithCancel(context.Background())
			var opened []string
			p := &Parser{FS: cancelFS{MapFS: fstest.MapFS{
				"pg_hba.conf": {Data: []byte(data)},
				"m":           {Data: []byte("x\n")},
				"n":           {Data: []byte("x\n")},
			}, at: "n", cancel: cancel, opened: &opened}}
			_, err := p.ParseFileContext(ctx, "pg_hba.conf")
			cancel()
			var e *Error
			if !errors.Is(err, context.Canceled) || !errors.As(err, &e) || e.Pos.Line < 2 || e.Pos.Line > cut+1000 {
				t.Fatalf("cut %d: %v", cut, err)
			}
			ctx, cancel = context.WithCancel(context.Background())
			opened = nil
			fsys := p.FS.(cancelFS)
			fsys.cancel = cancel
			p.FS = fsys
			_, err = p.LoadContext(ctx, "pg_hba.conf")
			cancel()
			if !errors.Is(err, context.Canceled) || !errors.As(err, &e) || e.Pos != (Position{Filename: "/pg_hba.conf"}) ||
				!slices.Equal(opened, []string{"pg_hba.conf", "m", "n"}) {
				t.Fatalf("cut %d: Load: %v, opened %q", cut, err, opened)
			}
		}
	}
}

// TestParallelRace loads a large file in parallel from several goroutines
// (run with -race).
func TestParallelRace(t *testing.T) {
	parKnobsMu.Lock()
	defer parKnobsMu.Unlock()
	withParKnobs(t, 8192, 4)
	var b bytes.Buffer
	rng := rand.New(rand.NewPCG(7, 7))
	for b.Len() < 200<<10 {
		b.Write(randomFile(rng, 50, 18, false))
		b.WriteString("\n")
	}
	data := b.Bytes()
	p := &Parser{FS: parFS(data)}
	l := p.newLoader(nil)
	l.readBytes += int64(len(data))
	want := p.parseSeq(l, "/pg_hba.conf", data, true)
	// Lines that name @files, read by the chunks from the shared cache
	// when the load keeps no lines.
	var a bytes.Buffer
	for i := 0; a.Len() < 200<<10; i++ {
		fmt.Fprintf(&a, "host @users,x%d @dbs 10.0.0.0/8 md5\nlocal \"d %d\" @./users trust\n", i, i)
	}
	ahead := a.Bytes()
	pa := &Parser{FS: parFS(ahead)}
	la := pa.newLoader(nil)
	la.readBytes += int64(len(ahead))
	wantAhead := pa.parseSeq(la, "/pg_hba.conf", ahead, false)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			got := p.ParseBytes("pg_hba.conf", data)
			if e := sameFile(want, got); e != "" {
				t.Error(e)
			}
		}()
		go func() {
			defer wg.Done()
			got := pa.parseMain(pa.newLoader(nil), "/pg_hba.conf", ahead, false)
			if e := sameFile(wantAhead, got); e != "" {
				t.Error(e)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkParallelParse reads the 100,000-rule tenant file as Load does,
// without compiling it, in one pass (seq) and in chunks on two workers
// (par, whatever GOMAXPROCS is: run with -cpu 2 for a real comparison).
func BenchmarkParallelParse(b *testing.B) {
	data := gen.MultiTenant(100000, 1).Data
	p := &Parser{Version: 15}
	abs := p.absPath("/bench/pg_hba.conf")
	for _, mode := range []struct {
		name  string
		procs int
	}{{"seq", 1}, {"par", 2}} {
		b.Run(mode.name, func(b *testing.B) {
			old := parProcs
			parProcs = mode.procs
			defer func() { parProcs = old }()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				f := p.parseMain(p.newLoader(nil), abs, data, false)
				if len(f.Rules) != 100002 {
					b.Fatal(len(f.Rules))
				}
			}
		})
	}
}

// FuzzParallel: any input, read in chunks of any size, gives what one
// pass gives (or falls back to one pass).
func FuzzParallel(f *testing.F) {
	for _, pc := range append(append([]string{}, parPieces...), parPieces16...) {
		f.Add([]byte(pc+pc+"local all all trust # x\n"+pc), uint8(7), uint8(18))
	}
	f.Add([]byte(strings.Join(parErrorPieces[:6], "")), uint8(3), uint8(13))
	f.Fuzz(func(t *testing.T, data []byte, size, v uint8) {
		if len(data) > 4096 {
			return
		}
		parKnobsMu.Lock()
		defer parKnobsMu.Unlock()
		withParKnobs(t, 1+int(size)%64, 2+int(size)%3)
		p := &Parser{Version: 13 + int(v)%6, SSL: size&1 == 0, FS: parFS(data)}
		loadBoth(t, p, "pg_hba.conf", data, size&2 == 0)
	})
}

// spanExt reports whether the span value v is a table index.
func spanExt(v reflect.Value) bool {
	n := v.FieldByName("n")
	return n.Index(0).Uint() == 0xff && n.Index(1).Uint() == 0xff
}

// TestParallelReadAhead: a load without lines reads the @files its lines
// name ahead, once each, and the chunks read those lines; lines whose
// @file names are not plain, and every line of a load that keeps lines,
// are read by the load's loader. Either way the result is that of one
// pass (loadBoth).
func TestParallelReadAhead(t *testing.T) {
	parKnobsMu.Lock()
	defer parKnobsMu.Unlock()
	withParKnobs(t, 512, 3)
	var deferred int
	var ahead bool
	parSeen = func(d int, a bool) { deferred, ahead = d, a }
	defer func() { parSeen = nil }()
	var b strings.Builder
	for i := range 400 {
		switch i % 8 {
		case 0:
			fmt.Fprintf(&b, "host @users,x%d all 10.0.0.0/8 md5\n", i)
		case 1:
			fmt.Fprintf(&b, "host \"db %d\" @./users 10.0.0.0/8 md5 # @nothere\n", i)
		case 2:
			fmt.Fprintf(&b, "host @dbs @sub/../users 10.0.0.0/8 ldap ldapserver=h ldapprefix=\"@x \" ldapsuffix=s\n")
		case 3:
			fmt.Fprintf(&b, "local all \"a @notafile\",u%d trust\n", i)
		default:
			fmt.Fprintf(&b, "local db%d u%d trust\n", i, i)
		}
	}
	plain := b.String()
	for _, v := range []int{13, 15, 16, 18} {
		for _, tc := range []struct {
			name      string
			data      string
			withLines bool
			ahead     bool
			deferred  int
		}{
			{"plain", plain, false, true, 0},
			// Every line that may name an @file (a quoted "@" too).
			{"with lines", plain, true, false, 200},
			// A quote inside an @file token: that line is read in order,
			// and so are the others, so that files open in file order.
			{"quoted name", plain + "host @\"users\" all 10.0.0.0/8 md5\n", false, false, 201},
			// A file that is missing: the load fails and is read again.
			{"missing", plain + "host @missing all 10.0.0.0/8 md5\n", false, true, -1},
		} {
			deferred, ahead = -1, false
			p := &Parser{Version: v, FS: parFS([]byte(tc.data))}
			used := loadBoth(t, p, "pg_hba.conf", []byte(tc.data), tc.withLines)
			if used != (tc.deferred >= 0) || ahead != tc.ahead || (used && deferred != tc.deferred) {
				t.Errorf("%d %s: parallel %v, read ahead %v, %d lines deferred; want %v %v %d", v, tc.name, used, ahead, deferred, tc.deferred >= 0, tc.ahead, tc.deferred)
			}
		}
	}
	// Each @file is opened once, whatever its spellings; the budgets
	// count it once (loadBoth compares them with one pass).
	opened := 0
	p := &Parser{FS: openCounter{parFS([]byte(plain)), &opened}, Limits: Limits{MaxFiles: 2}}
	if _, err := p.LoadBytes("/pg_hba.conf", []byte(plain)); err != nil || !ahead {
		t.Fatalf("LoadBytes: %v, read ahead %v", err, ahead)
	}
	if opened != 2 {
		t.Errorf("%d files opened, want 2 (users, dbs)", opened)
	}
	p.Limits.MaxFiles = 1
	if _, err := p.LoadBytes("/pg_hba.conf", []byte(plain)); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxFiles 1 (two @files): %v, want a limit error", err)
	}
}

// TestScanAtLines: the first pass's reading of the lines that hold a '@'
// only (13–15) gives what reading every line gives, or says it cannot.
func TestScanAtLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2026))
	pieces := []string{"local all all trust\n", "host @users,x @dbs 10.0.0.0/8 md5\n", "host a@b c 10.0.0.0/8 md5 # @c\n",
		"local \"x @y\" @./users trust\n", "host @\"q\" all all md5\n", "local all @u1,\\\n@u2 trust\n",
		"local all a\\\n@cont trust\n", "local\t@tab\r\n", "@lead\n", "x\\\r\n"}
	fast, slow := 0, 0
	for iter := 0; iter < 3000; iter++ {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		data := []byte(b.String())
		if rng.IntN(3) == 0 {
			data = data[:rng.IntN(len(data)+1)]
		}
		ver := 13 + rng.IntN(3)
		n, k, names, ok := scanAtLines(data, 0, len(data), ver)
		wn, wd, wk, wnames := scanLines(data, 0, len(data), ver, false, false)
		if !ok {
			slow++
			continue
		}
		fast++
		if n != wn || k != wk || len(wd) != 0 || !slices.Equal(names, wnames) {
			t.Fatalf("%d %q: at lines %d %d %v %q, every line %d %d %v %q", ver, data, n, k, ok, names, wn, wk, wd, wnames)
		}
	}
	if fast < 300 || slow < 300 {
		t.Fatalf("fast %d, slow %d: the inputs do not exercise both", fast, slow)
	}
}
