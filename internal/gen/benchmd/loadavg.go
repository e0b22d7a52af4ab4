package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadavg1 reads the 1-minute load average.
func loadavg1() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// sampleLoad samples the 1-minute load average every interval until the
// returned function is called, which returns the samples.
func sampleLoad(interval time.Duration) func() []float64 {
	var mu sync.Mutex
	var samples []float64
	done := make(chan struct{})
	stopped := make(chan struct{})
	take := func() {
		if v, ok := loadavg1(); ok {
			mu.Lock()
			samples = append(samples, v)
			mu.Unlock()
		}
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		take()
		for {
			select {
			case <-done:
				take()
				return
			case <-t.C:
				take()
			}
		}
	}()
	return func() []float64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return samples
	}
}

// readLoadSamples reads a file of /proc/loadavg lines and returns their
// 1-minute figures.
func readLoadSamples(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v []float64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if x, err := strconv.ParseFloat(f[0], 64); err == nil {
			v = append(v, x)
		}
	}
	return v, nil
}
