package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestRunsTable(t *testing.T) {
	text := []byte("# Benchmarks\n\nbefore\n\n" + runsTable("| a |\n", nil) + "\n\nafter\n")
	got, err := recordRun(text, "| b |\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nbefore\n\n" + runsBegin + "\n" + runsHead + "| b |\n| a |\n" + runsEnd + "\n\nafter\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if rows := oldRuns(got); len(rows) != 2 || rows[0] != "| b |\n" {
		t.Errorf("rows %q", rows)
	}
	// The table keeps the newest maxRuns rows.
	for i := range maxRuns + 5 {
		if got, err = recordRun(got, fmt.Sprintf("| r%d |\n", i)); err != nil {
			t.Fatal(err)
		}
	}
	rows := oldRuns(got)
	if len(rows) != maxRuns || rows[0] != fmt.Sprintf("| r%d |\n", maxRuns+4) {
		t.Errorf("%d rows, first %q", len(rows), rows[0])
	}
	if !strings.HasSuffix(string(got), runsEnd+"\n\nafter\n") {
		t.Errorf("text after the table changed")
	}
	if oldRuns([]byte("# no table\n")) != nil {
		t.Error("rows from a file without a table")
	}
	if _, err := recordRun([]byte("# no table\n"), "| x |\n"); err == nil {
		t.Error("recorded into a file without a table")
	}
}

func TestRunRow(t *testing.T) {
	r := &run{bench: map[string]*result{
		"BenchmarkLoadSingleCore/shape=tenant": {extra: map[string]float64{"MB/s": 131.4}},
		"BenchmarkMatch/rules=10":              {nsOp: 31.25},
	}, mach: machineInfo{date: "2026-12-02 14:00 UTC", loadMax: 0.42}}
	row := r.runRow(testFig, "full")
	for _, want := range []string{"| 2026-12-02 14:00 UTC | Test CPU | 2 | 0.42 | full |", "12.3× / 10.5×", "0.8× / 11.0×", "140 / 290", "131 MB/s"} {
		if !strings.Contains(row, want) {
			t.Errorf("no %q in %q", want, row)
		}
	}
}
