package pgtest

import (
	"fmt"
	"testing"
)

// Benchmarks for the harness's own costs (run: go test -run '^$' -bench . ./internal/pgtest).

func benchMajors(b *testing.B) []*Install {
	var out []*Install
	for _, m := range []int{15, 18} {
		if inst, err := Find(m); err == nil {
			out = append(out, inst)
		}
	}
	if len(out) == 0 {
		b.Skip("no PostgreSQL installed; run `bash scripts/test.sh`")
	}
	return out
}

func BenchmarkStart(b *testing.B) {
	for _, inst := range benchMajors(b) {
		b.Run(fmt.Sprint(inst.Major), func(b *testing.B) {
			for range b.N {
				c, err := StartCluster(inst, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Stop(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReload(b *testing.B) {
	for _, inst := range benchMajors(b) {
		b.Run(fmt.Sprint(inst.Major), func(b *testing.B) {
			c := Start(b, inst, Options{})
			b.ResetTimer()
			for range b.N {
				if _, err := c.Reload(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkProbe(b *testing.B) {
	probes := map[string]ProbeConn{
		"tcp-noentry":  {User: "nobody"},
		"tcp-password": {User: "postgres", Database: "postgres"},
		"ssl-password": {SSL: true, User: "postgres", Database: "postgres"},
		"local-trust":  {Local: true, User: "postgres", Database: "postgres"},
	}
	for _, inst := range benchMajors(b) {
		c := Start(b, inst, Options{})
		hba := "local all all trust\nhost all postgres all password\n"
		if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(hba)}); err != nil {
			b.Fatal(err)
		}
		if rr, err := c.Reload(); err != nil || !rr.Loaded {
			b.Fatalf("reload: %v %v", rr, err)
		}
		for _, name := range []string{"tcp-noentry", "tcp-password", "ssl-password", "local-trust"} {
			b.Run(fmt.Sprintf("%d/%s", inst.Major, name), func(b *testing.B) {
				for range b.N {
					if _, err := c.Probe(probes[name]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
