package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/pghba/pghba/internal/pgtest"
)

// BenchmarkServer measures what one case costs a server, in server CPU per
// operation (wall time depends on what else runs on the machine):
//
//	go test ./internal/conformance -run '^$' -bench Server -benchtime 200x
func BenchmarkServer(b *testing.B) {
	for _, major := range []int{15, 18} {
		inst, err := pgtest.Find(major)
		if err != nil {
			continue
		}
		cl, err := pgtest.StartCluster(inst, pgtest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		files := map[string][]byte{MainFile: []byte("host all alice 127.0.0.1/32 password\nlocal all all password\n")}
		if err := cl.WriteFiles(files); err != nil {
			b.Fatal(err)
		}
		if _, err := cl.Reload(); err != nil {
			b.Fatal(err)
		}
		cpu := func() time.Duration { return processCPU(cl.PID()) + processCPU(cl.AdminPID()) }
		run := func(name string, op func() error) {
			b.Run(fmt.Sprintf("pg%d/%s", major, name), func(b *testing.B) {
				c0 := cpu()
				for b.Loop() {
					if err := op(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpu()-c0).Microseconds())/float64(b.N), "server-µs/op")
			})
		}
		run("reload", func() error { _, err := cl.Reload(); return err })
		run("view", func() error { _, err := cl.HBARules(); return err })
		run("probe-nomatch", func() error {
			_, err := cl.Probe(pgtest.ProbeConn{Source: "127.0.0.2", User: "bob"})
			return err
		})
		run("probe-password", func() error {
			_, err := cl.Probe(pgtest.ProbeConn{Source: "127.0.0.1", User: "alice"})
			return err
		})
		run("probe-ssl", func() error {
			_, err := cl.Probe(pgtest.ProbeConn{Source: "127.0.0.1", User: "alice", SSL: true})
			return err
		})
		run("probe-local", func() error {
			_, err := cl.Probe(pgtest.ProbeConn{Local: true, User: "alice"})
			return err
		})
		cl.Stop()
	}
}
