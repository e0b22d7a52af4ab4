package main

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
)

// result is one benchmark's figures, the median over -count runs.
type result struct {
	name   string
	runs   int
	nsOp   float64
	allocs float64
	extra  map[string]float64 // every unit, median
	all    []float64          // ns/op of each run
}

// parseBench reads `go test -bench` output; a name's -N GOMAXPROCS suffix
// is dropped.
func parseBench(path string) (map[string]*result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all := map[string][]map[string]float64{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := map[string]float64{}
		if n, err := strconv.ParseFloat(fields[1], 64); err == nil {
			m["iterations"] = n
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			m[fields[i+1]] = v
		}
		if _, ok := all[name]; !ok {
			order = append(order, name)
		}
		all[name] = append(all[name], m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	res := map[string]*result{}
	for _, name := range order {
		ms := all[name]
		med := func(unit string) float64 {
			var v []float64
			for _, m := range ms {
				if x, ok := m[unit]; ok {
					v = append(v, x)
				}
			}
			return median(v)
		}
		r := &result{name: name, runs: len(ms), nsOp: med("ns/op"), allocs: med("allocs/op"), extra: map[string]float64{}}
		for _, m := range ms {
			r.all = append(r.all, m["ns/op"])
		}
		for unit := range ms[0] {
			r.extra[unit] = med(unit)
		}
		res[name] = r
	}
	return res, nil
}

// median sorts v and returns its median (0 for none).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
