package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// BENCHMARKS.md keeps a table of the runs on record, newest first, between
// these markers: every run of the script adds its row, a CHECK=1 run too
// (with its verdict), so that the figures can be compared across machines
// and days. Rows beyond maxRuns are dropped.
const (
	runsBegin = "<!-- benchmd:runs -->"
	runsEnd   = "<!-- benchmd:runs-end -->"
	runsHead  = "| Date | CPU | Cores | Load max | Run | tenant: view / reload | realistic: view / reload | B/rule tenant / realistic | single-core tenant | Match 10 rules |\n" +
		"|---|---|---|---|---|---|---|---|---|---|\n"
	maxRuns = 30
)

// runRow is the table row of this run; kind is "full" or the verdict of a
// check.
func (r *run) runRow(f *figures, kind string) string {
	single := "–"
	if v := r.get("BenchmarkLoadSingleCore/shape=tenant").extra["MB/s"]; v > 0 {
		single = fmt.Sprintf("%.0f MB/s", v)
	}
	match := "–"
	if m := r.get("BenchmarkMatch/rules=10"); m.nsOp > 0 {
		match = fmtNs(m.nsOp)
	}
	return fmt.Sprintf("| %s | %s | %d | %.2f | %s | %.1f× / %.1f× | %.1f× / %.1f× | %.0f / %.0f | %s | %s |\n",
		r.mach.date, f.CPU, f.Cores, r.mach.loadMax, kind, f.TenantView, f.TenantReload,
		f.RealisticView, f.RealisticReload, f.TenantBPerRule, f.RealisticBPerRule, single, match)
}

// oldRuns returns the rows of the runs table of a BENCHMARKS.md (none when
// it has no table).
func oldRuns(text []byte) []string {
	i := bytes.Index(text, []byte(runsBegin))
	j := bytes.Index(text, []byte(runsEnd))
	if i < 0 || j < i {
		return nil
	}
	var rows []string
	for _, line := range strings.Split(string(text[i+len(runsBegin):j]), "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| Date |") {
			rows = append(rows, line+"\n")
		}
	}
	return rows
}

// runsTable renders the table with row first, then the older rows.
func runsTable(row string, old []string) string {
	rows := append([]string{row}, old...)
	if len(rows) > maxRuns {
		rows = rows[:maxRuns]
	}
	return runsBegin + "\n" + runsHead + strings.Join(rows, "") + runsEnd
}

// recordRun adds row to the runs table of text, leaving the rest as it is.
func recordRun(text []byte, row string) ([]byte, error) {
	i := bytes.Index(text, []byte(runsBegin))
	j := bytes.Index(text, []byte(runsEnd))
	if i < 0 || j < i {
		return nil, errors.New("no runs table (" + runsBegin + " … " + runsEnd + ")")
	}
	var b bytes.Buffer
	b.Write(text[:i])
	b.WriteString(runsTable(row, oldRuns(text)))
	b.Write(text[j+len(runsEnd):])
	return b.Bytes(), nil
}
