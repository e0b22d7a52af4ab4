package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(ents)
}

// loadUser is one kind of client in the load test, with the decision the
// proxy must make for it.
type loadUser struct {
	name    string
	refusal string // "" when allowed
}

// hammer opens n connections, workers at a time, cycling through users, and
// returns how many got a wrong decision (with the first one) and the rate.
func hammer(ctx context.Context, port, n, workers int, users []loadUser) (wrong int64, first error, perSec float64) {
	var next, bad atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				u := users[i%len(users)]
				conn, err := connect(ctx, port, u.name, "disable", "")
				if u.refusal == "" {
					if err == nil {
						err = selectOne(ctx, conn, u.name)
						conn.Close(ctx)
					}
				} else {
					if err == nil {
						conn.Close(ctx)
					}
					err = checkRefusal(err, u.refusal)
				}
				if err != nil {
					bad.Add(1)
					once.Do(func() { first = fmt.Errorf("connection %d as %s: %w", i, u.name, err) })
				}
			}
		}()
	}
	wg.Wait()
	return bad.Load(), first, float64(n) / time.Since(start).Seconds()
}

// TestLoad opens 2,000 connections through the proxy (allowed, rejected and
// unmatched users mixed, one in sixteen allowed) while reloading the rules
// all along, checks every decision, and checks that no
// goroutine or file descriptor is left behind. It logs connection rates
// through the proxy and straight to the server for comparison (run with -v;
// the figures are not asserted).
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	c := needPostgres(t)
	tp := startProxy(t, c, "host all alice,bob 127.0.0.1/32 trust\nhost all carol 127.0.0.1/32 reject\n", nil)
	ctx := context.Background()
	// One allowed connection in sixteen: an allowed connection costs a
	// server backend (up to a hundred milliseconds on a loaded two-core
	// machine), a refused one only the proxy's decision.
	reject := loadUser{"carol", rejects("127.0.0.1", "carol", "postgres", "no encryption")}
	none := loadUser{"mallory", noEntry("127.0.0.1", "mallory", "postgres", "no encryption")}
	mixed := []loadUser{{"alice", ""}, reject, none, reject, none, reject, none, reject,
		none, reject, none, reject, none, reject, none, none}
	allowed := []loadUser{{"alice", ""}, {"bob", ""}}
	const workers = 8

	// Warm up (the first connections pay for TLS-free handshake code paths,
	// catalog caches) and take the baseline afterwards.
	if wrong, first, _ := hammer(ctx, tp.port, 16, workers, mixed); wrong != 0 {
		t.Fatalf("warm-up: %d wrong decisions; first: %v", wrong, first)
	}
	waitIdle(t, tp, -1, -1)
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)

	// Reload all along, alternating two files that decide alike: decisions
	// in flight must never see a missing or half-built rule set.
	stop := make(chan struct{})
	reloaded := make(chan int)
	go func() {
		files := []string{
			"host all alice,bob 127.0.0.1/32 trust\nhost all carol 127.0.0.1/32 reject\n",
			"# reordered\nhost all carol 127.0.0.1/32 reject\nhost all bob,alice 127.0.0.1/32 trust\n",
		}
		i := 0
		for {
			select {
			case <-stop:
				reloaded <- i
				return
			case <-time.After(5 * time.Millisecond):
			}
			os.WriteFile(tp.hbaPath, []byte(files[i%2]), 0o644)
			if tp.Reload() == nil {
				i++
			}
		}
	}()
	const n = 2000
	wrong, first, mixedRate := hammer(ctx, tp.port, n, workers, mixed)
	close(stop)
	if r := <-reloaded; r == 0 {
		t.Error("no reload succeeded during the run")
	} else {
		t.Logf("%d reloads during the %d connections", r, n)
	}
	if wrong != 0 {
		t.Errorf("%d of %d connections got a wrong decision; first: %v", wrong, n, first)
	}
	_, _, proxyRate := hammer(ctx, tp.port, 64, workers, allowed)
	_, _, directRate := hammer(ctx, c.port, 64, workers, allowed)
	_, _, refusedRate := hammer(ctx, tp.port, 1000, workers, []loadUser{reject, none})
	t.Logf("%d workers: through the proxy %.0f conn/s (mixed), %.0f conn/s (allowed, SELECT 1 each); "+
		"straight to the server %.0f conn/s (same); refused by the proxy %.0f conn/s",
		workers, mixedRate, proxyRate, directRate, refusedRate)

	waitIdle(t, tp, g0, fd0)
}

// waitIdle waits until the proxy serves no connection and, when g0 and fd0
// are not negative, goroutines and descriptors are back to those counts.
func waitIdle(t *testing.T, tp *testProxy, g0, fd0 int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		active, g, fd := tp.Active(), runtime.NumGoroutine(), openFDs(t)
		if active == 0 && (g0 < 0 || g <= g0) && (fd0 < 0 || fd <= fd0) {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("not idle after 10s: %d active connections, %d goroutines (baseline %d), %d fds (baseline %d)\n%s",
				active, g, g0, fd, fd0, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
