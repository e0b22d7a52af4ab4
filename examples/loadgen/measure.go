// One measurement: the kinds of connection, and one cell (a subject, a
// file size, a kind, a number of clients) measured for rate, latency and
// CPU per connection.

package main

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type kind struct {
	name, user string
	allowed    bool
	scram      bool
}

var kinds = []kind{
	{"accepted, trust", "trustuser", true, false},
	{"accepted, scram-sha-256", "scramuser", true, true},
	{"refused, no entry", "nobody", false, false},
	{"refused, reject", "rejuser", false, false},
}

type watched struct {
	name     string
	pid      int
	children bool
}

type cell struct {
	subject string
	rules   int
	kind    kind
	clients int
	n       int
	wrong   int
	first   string
	rate    float64
	p50     time.Duration
	p99     time.Duration
	cpu     map[string]float64 // process -> CPU seconds per connection

	round    int           // interleaved runs: the round
	decision time.Duration // interleaved runs: mean decision time from the proxy's histogram
}

func measure(subject string, port, rules int, k kind, clients int, o options, procs []watched) cell {
	c := cell{subject: subject, rules: rules, kind: k, clients: clients, cpu: map[string]float64{}}
	before := map[string]float64{}
	for _, w := range procs {
		before[w.name] = cpuOf(w.pid, w.children)
	}
	before["loadgen"] = selfCPU()
	var next atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	deadline := time.Now().Add(o.cell)
	t0 := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && next.Add(1) <= int64(o.maxPerCell) {
				var r result
				if k.scram {
					r = attemptSCRAM(port, k.user, "secret")
				} else {
					r = attempt(port, k.user)
				}
				mu.Lock()
				if r.err != nil || r.allowed != k.allowed {
					c.wrong++
					if c.first == "" {
						c.first = fmt.Sprintf("allowed=%v msg=%q err=%v", r.allowed, r.msg, r.err)
					}
				}
				mu.Unlock()
				if r.err == nil {
					mine = append(mine, r.lat)
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	c.n = len(lats) + c.wrong
	if c.n == 0 {
		return c
	}
	c.rate = float64(len(lats)) / elapsed.Seconds()
	slices.Sort(lats)
	if len(lats) > 0 {
		c.p50 = lats[len(lats)/2]
		c.p99 = lats[min(len(lats)-1, len(lats)*99/100)]
	}
	for _, w := range procs {
		c.cpu[w.name] = (cpuOf(w.pid, w.children) - before[w.name]) / float64(c.n)
	}
	c.cpu["loadgen"] = (selfCPU() - before["loadgen"]) / float64(c.n)
	return c
}
