package gucconf

import (
	"fmt"
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/pgtest"
)

// TestClientCertWithoutCA is the fact behind lint's no-ssl-ca check, on
// every major pghba reads: with ssl on and no ssl_ca_file, cert and
// clientcert= lines load (pghba agrees), and every connection they match
// fails with the server's "root certificate store" message.
func TestClientCertWithoutCA(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no real servers")
	}
	const file = "local all all trust\n" +
		"hostssl all all 127.0.0.1/32 cert\n" +
		"hostssl all all 127.0.0.2/32 trust clientcert=verify-ca\n"
	const msg = "client certificates can only be checked if a root certificate store is available"
	for _, major := range pgtest.Majors {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			inst := pgtest.Require(t, major)
			c := pgtest.Start(t, inst, pgtest.Options{})
			if err := c.WriteFiles(map[string][]byte{"pg_hba.conf": []byte(file)}); err != nil {
				t.Fatal(err)
			}
			res, err := c.Reload()
			if err != nil {
				t.Fatal(err)
			}
			if !res.Loaded || len(res.Errors) > 0 {
				t.Fatalf("PostgreSQL %d did not load the file: %v", major, res.Errors)
			}
			f := (&hba.Parser{Version: major, SSL: true}).ParseBytes(c.HBAFile(), []byte(file))
			if len(f.Errors) > 0 {
				t.Errorf("pghba refuses what PostgreSQL %d loads: %v", major, f.Errors)
			}
			for _, src := range []string{"127.0.0.1", "127.0.0.2"} {
				r, err := c.Probe(pgtest.ProbeConn{SSL: true, Source: src, User: "postgres"})
				if err != nil {
					t.Fatal(err)
				}
				if r.Message != msg {
					t.Errorf("PostgreSQL %d, from %s: got %q, want %q", major, src, r.Message, msg)
				}
			}
		})
	}
}
