package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testFig = &figures{Date: "2026-12-02", CPU: "Test CPU", Cores: 2, PG: "15.18",
	TenantView: 12.3, TenantReload: 10.5, RealisticView: 0.8, RealisticReload: 11,
	MatchScale: 1.4, TenantBPerRule: 140, RealisticBPerRule: 290}

func TestBlockRoundTrip(t *testing.T) {
	readme := []byte("# x\n\nbefore\n\n" + beginMarker + "\n" + endMarker + "\n\nafter\n")
	out, err := writeBlock(readme, testFig)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("# x\n\nbefore\n\n")) || !bytes.HasSuffix(out, []byte(endMarker+"\n\nafter\n")) {
		t.Errorf("text around the block changed:\n%s", out)
	}
	b, err := readBlock(out)
	if err != nil {
		t.Fatal(err)
	}
	if *b.fig != *testFig {
		t.Errorf("read %+v, wrote %+v", *b.fig, *testFig)
	}
	for _, want := range []string{"**12.3× faster**", "**1.2× slower**", "140 bytes per rule", "2026-12-02, Test CPU, 2 cores"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// Writing again replaces the block, it does not add one.
	again, err := writeBlock(out, testFig)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("rewrite: %v\n%s", err, again)
	}
	// A hand edit of the text is refused.
	edited := bytes.Replace(out, []byte("12.3× faster"), []byte("20.0× faster"), 1)
	if _, err := readBlock(edited); err == nil || !strings.Contains(err.Error(), "edited by hand") {
		t.Errorf("hand-edited block: err %v", err)
	}
	if _, err := readBlock([]byte("no block")); err == nil {
		t.Error("README without a block: no error")
	}
}

func TestCompareTolerance(t *testing.T) {
	old := &block{fig: testFig}
	same := *testFig
	same.TenantView = 12.3 * 1.19
	var w bytes.Buffer
	if !compare(&w, old, &same, 0.2) {
		t.Errorf("19%% off failed:\n%s", w.String())
	}
	off := *testFig
	off.RealisticBPerRule = 290 * 0.79
	w.Reset()
	if compare(&w, old, &off, 0.2) || !strings.Contains(w.String(), "realistic B/rule") || !strings.Contains(w.String(), "DIFFERS") {
		t.Errorf("21%% off passed:\n%s", w.String())
	}
}

// TestRepositoryREADME checks that the README's block, if filled, is
// consistent (its text is what its figures render to).
func TestRepositoryREADME(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	start, end, err := findBlock(text)
	if err != nil {
		t.Fatal(err)
	}
	if end-start == len(beginMarker)+1+len(endMarker) {
		t.Skip("README figures block is empty")
	}
	if _, err := readBlock(text); err != nil {
		t.Error(err)
	}
}

func TestParseBench(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.txt")
	os.WriteFile(p, []byte("goos: linux\nBenchmarkLoad/shape=tenant-2   20  100 ns/op  300.5 MB/s  140.0 B/rule  10 B/op  3 allocs/op\n"+
		"BenchmarkLoad/shape=tenant-2   20  300 ns/op  100.5 MB/s  142.0 B/rule  10 B/op  3 allocs/op\n"+
		"BenchmarkLoad/shape=tenant-2   20  200 ns/op  200.5 MB/s  141.0 B/rule  10 B/op  3 allocs/op\nPASS\n"), 0o644)
	res, err := parseBench(p)
	if err != nil {
		t.Fatal(err)
	}
	r := res["BenchmarkLoad/shape=tenant"]
	if r == nil || r.runs != 3 || r.nsOp != 200 || r.extra["MB/s"] != 200.5 || r.extra["B/rule"] != 141 || r.allocs != 3 {
		t.Errorf("%+v", r)
	}
}
