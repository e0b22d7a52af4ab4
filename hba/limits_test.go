package hba

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pghba/pghba/internal/gen"
)

// Regression tests for issue 12 F2–F5: every read bounded before it
// happens, only regular files read, fan-out and blow-up bounded, loading
// cancellable. They use real temporary directories, FIFOs and devices.

// noHang runs f and fails the test if it has not returned after a long
// time: a load that blocks on a FIFO would otherwise hang the test binary.
// It guards against a hang; it does not measure speed.
func noHang(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: loading blocked", what)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// loadErrors loads main and returns the main-file error or the line errors.
func loadErrors(t *testing.T, p *Parser, main string) (mainErr error, lines ErrorList) {
	t.Helper()
	var f *File
	noHang(t, main, func() { f, mainErr = p.ParseFile(main) })
	if mainErr != nil {
		return mainErr, nil
	}
	return nil, f.Errors
}

// wantOneError checks that exactly one error was reported, containing want.
func wantOneError(t *testing.T, what string, mainErr error, lines ErrorList, want string) {
	t.Helper()
	switch {
	case mainErr != nil:
		if !strings.Contains(mainErr.Error(), want) {
			t.Errorf("%s: main-file error %q, want it to contain %q", what, mainErr, want)
		}
	case len(lines) != 1:
		t.Errorf("%s: %d errors, want 1: %v", what, len(lines), lines)
	case !strings.Contains(lines[0].Msg, want):
		t.Errorf("%s: error %q, want it to contain %q", what, lines[0].Msg, want)
	}
}

func TestIncludeFanOutBounded(t *testing.T) {
	// F3: five tiny files, each including the directory they are in.
	dir := t.TempDir()
	files := map[string]string{"pg_hba.conf": "include_dir fan\nhost all all 0.0.0.0/0 trust\n"}
	for i := 1; i <= 5; i++ {
		files["fan/f"+itoa(i)+".conf"] = "include_dir .\n"
	}
	writeFiles(t, dir, files)
	p := &Parser{Limits: Limits{MaxFiles: 500}}
	f, err := p.ParseFile(filepath.Join(dir, "pg_hba.conf"))
	if err != nil {
		t.Fatal(err)
	}
	last := f.Errors[len(f.Errors)-1]
	if !errors.Is(last, ErrLimit) || !strings.Contains(last.Msg, "pghba limit of 500 files opened per load exceeded") {
		t.Fatalf("last error %v", last)
	}
	if n := countLimit(f.Errors); n != 1 {
		t.Errorf("%d limit errors, want 1", n)
	}
	// Nothing is read after the limit: the main file's rule is not reached.
	if len(f.Rules) != 0 {
		t.Errorf("%d rules loaded after the limit", len(f.Rules))
	}
	if _, err := p.Load(filepath.Join(dir, "pg_hba.conf")); !errors.Is(err, ErrLimit) {
		t.Errorf("Load: %v", err)
	}
}

func countLimit(l ErrorList) int {
	n := 0
	for _, e := range l {
		if errors.Is(e, ErrLimit) {
			n++
		}
	}
	return n
}

func TestSelfIncludeBounded(t *testing.T) {
	// F3: one file including itself three times, 3^10 files deep: the
	// default file budget stops it.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"self.conf": strings.Repeat("include self.conf\n", 3)})
	p := &Parser{}
	f, err := p.ParseFile(filepath.Join(dir, "self.conf"))
	if err != nil {
		t.Fatal(err)
	}
	last := f.Errors[len(f.Errors)-1]
	if !errors.Is(last, ErrLimit) || !strings.HasSuffix(last.Msg, ": pghba limit of "+itoa(DefaultLimits.MaxFiles)+" files opened per load exceeded") {
		t.Fatalf("last error %v", last)
	}
	if len(f.Errors) > 3*DefaultLimits.MaxFiles {
		t.Errorf("%d errors", len(f.Errors))
	}
	// Twice: 2^11-1 files opened and 2^11 includes refused for their
	// depth, which count too. The limit is reached at 100, and raised to
	// 4095 the file reads to the end, 2 errors for each file at depth 10.
	writeFiles(t, dir, map[string]string{"self.conf": strings.Repeat("include self.conf\n", 2)})
	p.Limits.MaxFiles = 100
	f, _ = p.ParseFile(filepath.Join(dir, "self.conf"))
	if countLimit(f.Errors) != 1 || !strings.HasSuffix(f.Errors[len(f.Errors)-1].Msg, "pghba limit of 100 files opened per load exceeded") {
		t.Errorf("limit 100: %v", f.Errors[len(f.Errors)-1])
	}
	p.Limits.MaxFiles = 4095
	f, err = p.ParseFile(filepath.Join(dir, "self.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if countLimit(f.Errors) != 0 || len(f.Errors) != 2*1024 {
		t.Errorf("raised limit: %d errors, %d limit errors", len(f.Errors), countLimit(f.Errors))
	}
}

func TestLineBudgetNamesFirstLinePast(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"pg_hba.conf": "# comment\n\nlocal all all trust\ninclude more.conf\nlocal all all trust\n",
		"more.conf":   strings.Repeat("local all all trust\n", 10),
	})
	p := &Parser{Limits: Limits{MaxLines: 5}}
	f, err := p.ParseFile(filepath.Join(dir, "pg_hba.conf"))
	if err != nil {
		t.Fatal(err)
	}
	// Lines counted: main 3 and 4 (the directive), more.conf 1..3; the
	// 6th is more.conf line 4.
	if len(f.Errors) != 1 {
		t.Fatalf("%v", f.Errors)
	}
	e := f.Errors[0]
	if !errors.Is(e, ErrLimit) || e.Msg != "pghba limit of 5 lines per load exceeded" ||
		e.Pos.Filename != filepath.Join(dir, "more.conf") || e.Pos.Line != 4 {
		t.Fatalf("%v (%s)", e, e.Pos.Filename)
	}
	if len(f.Lines) != 5 || len(f.Rules) != 4 {
		t.Errorf("%d lines, %d rules after the limit", len(f.Lines), len(f.Rules))
	}
	p.Limits.MaxLines = 13
	if f, _ := p.ParseFile(filepath.Join(dir, "pg_hba.conf")); len(f.Errors) != 0 || len(f.Rules) != 12 {
		t.Errorf("raised: %v, %d rules", f.Errors, len(f.Rules))
	}
}

// TestHostileNameListFailsFast is F4's main file of `a,a,a,…`: it fails
// on its line with the per-line token limit, without reading further.
func TestHostileNameListFailsFast(t *testing.T) {
	n := DefaultLimits.MaxLineTokens + 10
	line := "host " + strings.Repeat("a,", n) + "a all 0.0.0.0/0 trust\n"
	dir := t.TempDir()
	main := filepath.Join(dir, "pg_hba.conf")
	writeFiles(t, dir, map[string]string{"pg_hba.conf": line + "local all all trust\n"})
	rs, err := Load(main)
	if rs != nil || !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "pghba limit of 1048576 tokens in one line exceeded") {
		t.Fatalf("%v", err)
	}
	var l ErrorList
	if !errors.As(err, &l) || len(l) != 1 || l[0].Pos.Line != 1 {
		t.Fatalf("%v", err)
	}
	// Raised, it loads.
	p := &Parser{Limits: Limits{MaxLineTokens: n + 10}}
	if rs, err := p.Load(main); err != nil || len(rs.Rules()[0].Databases()) != n+1 {
		t.Fatalf("raised: %v", err)
	}
}

func TestTokenBudgetPerLoad(t *testing.T) {
	data := strings.Repeat("host all all 0.0.0.0/0 trust\n", 100)
	p := &Parser{Limits: Limits{MaxTokens: 250}}
	f := p.ParseBytes("/x/pg_hba.conf", []byte(data))
	if len(f.Errors) != 1 || f.Errors[0].Pos.Line != 51 || f.Errors[0].Msg != "pghba limit of 250 tokens per load exceeded" || len(f.Rules) != 50 {
		t.Fatalf("%v, %d rules", f.Errors, len(f.Rules))
	}
	// @file expansion counts.
	p = &Parser{Limits: Limits{MaxTokens: 1000}, FS: fstest.MapFS{
		"pg_hba.conf": {Data: []byte("host @names all 0.0.0.0/0 trust\n")},
		"names":       {Data: []byte(strings.Repeat("a ", 600))},
	}}
	f, _ = p.ParseFile("pg_hba.conf")
	if len(f.Errors) != 1 || !errors.Is(f.Errors[0], ErrLimit) || f.Errors[0].Pos.Line != 1 {
		t.Fatalf("@file: %v", f.Errors)
	}
}

func TestMainFileCountsAgainstByteBudget(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"pg_hba.conf": strings.Repeat("local all all trust\n", 10), // 200 bytes
		"small.conf":  "include_if_exists x\nhost @n all 0.0.0.0/0 trust\n",
		"n":           strings.Repeat("db ", 100),
	})
	p := &Parser{Limits: Limits{MaxBytes: 199}}
	_, err := p.ParseFile(filepath.Join(dir, "pg_hba.conf"))
	if !errors.Is(err, ErrLimit) || !strings.HasSuffix(err.Error(), `pg_hba.conf": pghba limit of 199 bytes read exceeded`) {
		t.Fatalf("%v", err)
	}
	if _, err := p.Load(filepath.Join(dir, "pg_hba.conf")); !errors.Is(err, ErrLimit) {
		t.Fatalf("Load: %v", err)
	}
	p.Limits.MaxBytes = 200
	if _, err := p.Load(filepath.Join(dir, "pg_hba.conf")); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	// The main file's bytes leave too little for the @file.
	p.Limits.MaxBytes = 300
	f, err := p.ParseFile(filepath.Join(dir, "small.conf"))
	if err != nil || len(f.Errors) != 1 || !errors.Is(f.Errors[0], ErrLimit) || f.Errors[0].Pos.Line != 2 {
		t.Fatalf("%v %v", err, f.Errors)
	}
	// ParseBytes data counts too.
	f = p.ParseBytes(filepath.Join(dir, "x.conf"), []byte(strings.Repeat("#", 290)+"\nhost @n all 0.0.0.0/0 trust\n"))
	if len(f.Errors) != 1 || !errors.Is(f.Errors[0], ErrLimit) {
		t.Fatalf("ParseBytes: %v", f.Errors)
	}
}

// countingFS serves one file whose Stat reports size and whose contents
// never end, counting the bytes read from it.
type countingFS struct {
	size int64
	read *int64
}

type endless struct {
	fs.FileInfo
	read *int64
}

type endlessInfo struct{ size int64 }

func (i endlessInfo) Name() string       { return "names" }
func (i endlessInfo) Size() int64        { return i.size }
func (i endlessInfo) Mode() fs.FileMode  { return 0o644 }
func (i endlessInfo) ModTime() time.Time { return time.Time{} }
func (i endlessInfo) IsDir() bool        { return false }
func (i endlessInfo) Sys() any           { return nil }

func (e *endless) Stat() (fs.FileInfo, error) { return e.FileInfo, nil }
func (e *endless) Close() error               { return nil }
func (e *endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = "y\n"[i%2]
	}
	*e.read += int64(len(b))
	return len(b), nil
}

func (c countingFS) Open(name string) (fs.File, error) {
	switch name {
	case "pg_hba.conf":
		return fstest.MapFS{"pg_hba.conf": {Data: []byte("host @names all 0.0.0.0/0 trust\n")}}.Open(name)
	case "names":
		return &endless{endlessInfo{c.size}, c.read}, nil
	}
	return nil, fs.ErrNotExist
}

func TestOversizedFileRefusedBeforeRead(t *testing.T) {
	// A file that says it is over the budget is not read at all.
	var read int64
	p := &Parser{FS: countingFS{size: 1 << 40, read: &read}}
	f, err := p.ParseFile("pg_hba.conf")
	if err != nil || len(f.Errors) != 1 || !errors.Is(f.Errors[0], ErrLimit) || read != 0 {
		t.Fatalf("%v %v, %d bytes read", err, f.Errors, read)
	}
	// A file whose size is unknown (0, like /proc files) is read to one
	// byte past the budget, no further.
	read = 0
	p = &Parser{FS: countingFS{size: 0, read: &read}, Limits: Limits{MaxBytes: 1 << 20}}
	f, err = p.ParseFile("pg_hba.conf")
	if err != nil || len(f.Errors) != 1 || f.Errors[0].Msg != `could not open file "/names": pghba limit of 1048576 bytes read exceeded` {
		t.Fatalf("%v %v", err, f.Errors)
	}
	if remain := int64(1<<20 - len("host @names all 0.0.0.0/0 trust\n")); read != remain+1 {
		t.Fatalf("%d bytes read, want %d", read, remain+1)
	}
	// A real sparse file of 1 GiB, over the default budget.
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	writeFiles(t, dir, map[string]string{"pg_hba.conf": "host @big all 0.0.0.0/0 trust\n", "big": ""})
	if err := os.Truncate(big, 1<<30); err != nil {
		t.Fatal(err)
	}
	f, err = (&Parser{}).ParseFile(filepath.Join(dir, "pg_hba.conf"))
	if err != nil || len(f.Errors) != 1 || f.Errors[0].Msg != `could not open file "`+big+`": pghba limit of 536870912 bytes read exceeded` {
		t.Fatalf("%v %v", err, f.Errors)
	}
}

func TestLoadContextCanceled(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"pg_hba.conf": "local all all trust\n"})
	main := filepath.Join(dir, "pg_hba.conf")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &Parser{}
	if rs, err := p.LoadContext(ctx, main); rs != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("LoadContext: %v", err)
	}
	if f, err := p.ParseFileContext(ctx, main); f != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("ParseFileContext: %v", err)
	}
	if m, err := p.LoadIdentContext(ctx, main); m != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("LoadIdentContext: %v", err)
	}
	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, err := p.LoadContext(dctx, main); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if _, err := p.LoadContext(context.Background(), main); err != nil {
		t.Errorf("live context: %v", err)
	}
}

// cancelFS cancels a context when a file is opened.
type cancelFS struct {
	fstest.MapFS
	at     string
	cancel func()
	opened *[]string
}

func (c cancelFS) Open(name string) (fs.File, error) {
	*c.opened = append(*c.opened, name)
	if name == c.at {
		c.cancel()
	}
	return c.MapFS.Open(name)
}

func TestLoadContextCanceledBetweenIncludeDirFiles(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var opened []string
	fsys := cancelFS{MapFS: fstest.MapFS{
		"pg_hba.conf": {Data: []byte("include_dir d\n")},
		"d/a.conf":    {Data: []byte("local all all trust\n")},
		"d/b.conf":    {Data: []byte("local all all trust\n")},
		"d/c.conf":    {Data: []byte("local all all trust\n")},
	}, at: "d/a.conf", cancel: cancel, opened: &opened}
	p := &Parser{FS: fsys}
	_, err := p.LoadContext(ctx, "pg_hba.conf")
	var e *Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &e) || e.Pos.Filename != "/d/b.conf" {
		t.Fatalf("%v", err)
	}
	for _, n := range opened {
		if n == "d/b.conf" || n == "d/c.conf" {
			t.Fatalf("opened %s after the cancel: %v", n, opened)
		}
	}
}

// TestLoadContextCanceledInLongFile checks that a long file is not read to
// its end once the context ends: in one pass within the next lines, in
// parallel (the file is large) before its first line, as the @file is
// read ahead of the lines.
func TestLoadContextCanceledInLongFile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &Parser{FS: cancelFS{MapFS: fstest.MapFS{
		"pg_hba.conf": {Data: []byte("host @n all 0.0.0.0/0 trust\n" + strings.Repeat("local all all trust\n", 100_000))},
		"n":           {Data: []byte("x\n")},
	}, at: "n", cancel: cancel, opened: new([]string)}}
	_, err := p.LoadContext(ctx, "pg_hba.conf")
	var e *Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &e) || e.Pos.Line > 1000 ||
		e.Pos.Line < 2 && e.Pos != (Position{Filename: "/pg_hba.conf"}) {
		t.Fatalf("%v", err)
	}
}

func TestLimitsNegativeMeansNoLimit(t *testing.T) {
	r := Limits{MaxBytes: -1, MaxFiles: -1, MaxLines: -1, MaxTokens: -1, MaxLineTokens: -1, MaxExpandedTokens: -1, MaxErrors: -1}.resolved()
	if r.MaxBytes < 1<<62 || r.MaxFiles < 1<<30 || r.MaxLines < 1<<30 || r.MaxTokens < 1<<30 || r.MaxLineTokens < 1<<30 || r.MaxExpandedTokens < 1<<30 || r.MaxErrors < 1<<30 {
		t.Fatalf("%+v", r)
	}
	if (Limits{}).resolved() != DefaultLimits {
		t.Fatalf("zero: %+v", Limits{}.resolved())
	}
	// Unlimited bytes still read a file whole.
	p := &Parser{Limits: Limits{MaxBytes: -1}, FS: fstest.MapFS{"pg_hba.conf": {Data: []byte("local all all trust\n")}}}
	if _, err := p.Load("pg_hba.conf"); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultLimitsLoadMillionRules loads a generated file of a million
// rules with the default limits.
func TestDefaultLimitsLoadMillionRules(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rules")
	}
	f := gen.MultiTenant(1_000_000, benchSeed)
	dir := t.TempDir()
	main := filepath.Join(dir, "pg_hba.conf")
	if err := os.WriteFile(main, f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := (&Parser{}).Load(main)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rs.Rules()); n != 1_000_002 {
		t.Fatalf("%d rules", n)
	}
}

// BenchmarkHostileLoad measures the hostile loads of issue 12 that the
// limits stop: a 4 MB `a,a,a,…` list (per-line token budget), a file that
// includes itself three times (file budget), five files that each include
// their directory (file budget), and a main file that names /dev/zero.
func BenchmarkHostileLoad(b *testing.B) {
	dir := b.TempDir()
	files := map[string]string{
		"names.conf": "host " + strings.Repeat("a,", 2<<20) + "a all 0.0.0.0/0 trust\n",
		"self.conf":  strings.Repeat("include self.conf\n", 3),
		"fan.conf":   "include_dir fan\n",
		"zero.conf":  "host @/dev/zero all 0.0.0.0/0 trust\n",
	}
	for i := 1; i <= 5; i++ {
		files["fan/f"+itoa(i)+".conf"] = "include_dir .\n"
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{"names.conf", "self.conf", "fan.conf", "zero.conf"} {
		b.Run(strings.TrimSuffix(name, ".conf"), func(b *testing.B) {
			var p Parser
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Load(filepath.Join(dir, name)); err == nil {
					b.Fatal("loaded")
				}
			}
		})
	}
}

// TestErrorBudgetStopsLoadAtFirstErrorPast: a file of error lines stops
// at Limits.MaxErrors with a positioned limit error in place of the next
// line's own error, and nothing after it is read; in ParseFile, Load and
// ParseIdentFile alike. Raising or removing the limit reads the whole file.
func TestErrorBudgetStopsLoadAtFirstErrorPast(t *testing.T) {
	dir := t.TempDir()
	// Lines 1-2 are good; 3, 4, 5, ... errors; the 4th error is line 6.
	hbaConf := "local all all trust\nlocal all all trust\n" + strings.Repeat("x\n", 20) + "local all all trust\n"
	identConf := "m a b\nm a b\n" + strings.Repeat("x\n", 20) + "m a b\n"
	writeFiles(t, dir, map[string]string{"pg_hba.conf": hbaConf, "pg_ident.conf": identConf})
	main, ident := filepath.Join(dir, "pg_hba.conf"), filepath.Join(dir, "pg_ident.conf")
	const want = "pghba limit of 3 errors per load exceeded"
	check := func(what string, errs ErrorList, nLines int) {
		t.Helper()
		if len(errs) != 4 {
			t.Fatalf("%s: %d errors, want 3 and the limit: %v", what, len(errs), errs)
		}
		for _, e := range errs[:3] {
			if errors.Is(e, ErrLimit) {
				t.Errorf("%s: %v is a limit error", what, e)
			}
		}
		e := errs[3]
		if !errors.Is(e, ErrLimit) || e.Msg != want || e.Pos.Filename != main && e.Pos.Filename != ident || e.Pos.Line != 6 {
			t.Errorf("%s: last error %v at %+v, want %q at line 6", what, e, e.Pos, want)
		}
		if nLines >= 0 && nLines != 6 {
			t.Errorf("%s: %d lines read, want 6 (nothing past the limit)", what, nLines)
		}
	}
	p := &Parser{Version: 16, Limits: Limits{MaxErrors: 3}}
	f, err := p.ParseFile(main)
	if err != nil {
		t.Fatal(err)
	}
	check("ParseFile", f.Errors, len(f.Lines))
	if len(f.Rules) != 2 {
		t.Errorf("ParseFile: %d rules, want 2", len(f.Rules))
	}
	_, err = p.Load(main)
	var list ErrorList
	if !errors.As(err, &list) || !errors.Is(err, ErrLimit) {
		t.Fatalf("Load: %v, want an ErrorList with the limit", err)
	}
	check("Load", list, -1)
	idf, err := p.ParseIdentFile(ident)
	if err != nil {
		t.Fatal(err)
	}
	check("ParseIdentFile", idf.Errors, len(idf.Lines))

	for _, lim := range []int{20, -1} {
		p.Limits.MaxErrors = lim
		f, _ := p.ParseFile(main)
		idf, _ := p.ParseIdentFile(ident)
		if len(f.Errors) != 20 || errors.Is(f.Errors, ErrLimit) || len(f.Rules) != 3 ||
			len(idf.Errors) != 20 || errors.Is(idf.Errors, ErrLimit) || len(idf.Mappings) != 3 {
			t.Errorf("MaxErrors %d: hba %d errors %d rules, ident %d errors %d maps; want all read",
				lim, len(f.Errors), len(f.Rules), len(idf.Errors), len(idf.Mappings))
		}
	}
}

// TestErrorLinesFailFastAtDefaultLimit is the red-team's file of 4,000,000
// lines of `x` (8 MB): with the default limits it stops at the 100,001st
// error line rather than holding four million errors.
func TestErrorLinesFailFastAtDefaultLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("8 MB input")
	}
	data := []byte(strings.Repeat("x\n", 4_000_000))
	f := (&Parser{Version: 16}).ParseBytes("/x/pg_hba.conf", data)
	n := DefaultLimits.MaxErrors
	if len(f.Errors) != n+1 || len(f.Lines) != n+1 {
		t.Fatalf("%d errors, %d lines; want %d", len(f.Errors), len(f.Lines), n+1)
	}
	if e := f.Errors[n]; !errors.Is(e, ErrLimit) || e.Pos.Line != n+1 || e.Msg != "pghba limit of 100000 errors per load exceeded" {
		t.Fatalf("%v at %+v", e, e.Pos)
	}
}
