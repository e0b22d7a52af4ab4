package audit

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/gen"
)

// benchSeed is the seed of the generated files, as in hba's benchmarks.
const benchSeed = 20261125

// lintDisjointFile returns n host rules for every database and user, each
// from its own /32 address: no rule shares a connection with another, so
// no earlier rule can shadow a later one.
func lintDisjointFile(n int) []byte {
	b := make([]byte, 0, n*48)
	for k := range n {
		a := k + 1
		b = append(b, "host all all 10."...)
		b = strconv.AppendInt(b, int64(a>>16&255), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(a>>8&255), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(a&255), 10)
		b = append(b, "/32 scram-sha-256\n"...)
	}
	return b
}

// lintOverlapFile returns about n rules of the shape real multi-tenant
// files have: per tenant an SSL rule for its user and a plain rule for a
// shared admin user from the tenant's /24, inside /16 regions that end
// with a reject for the whole region; one tenant in 64 repeats an earlier
// tenant's rule (a duplicate), every 32nd is split into two /25 halves
// that a later /24 rule can never pass (unreachable through two rules),
// and the file ends with role, regex and catch-all rules.
func lintOverlapFile(n int) []byte {
	var b []byte
	line := func(s ...string) {
		for _, x := range s {
			b = append(b, x...)
		}
		b = append(b, '\n')
	}
	b = append(b, "local all postgres peer\n"...)
	rules := 1
	for k := 0; rules < n-4; k++ {
		t, net := strconv.Itoa(k), "10."+strconv.Itoa(k>>8&255)+"."+strconv.Itoa(k&255)
		switch {
		case k%32 == 31:
			line("host tenant_", t, " user_", t, " ", net, ".0/25 scram-sha-256")
			line("host tenant_", t, " user_", t, " ", net, ".128/25 scram-sha-256")
			line("host tenant_", t, " user_", t, " ", net, ".0/24 md5")
			rules += 3
		case k%64 == 40:
			e := strconv.Itoa(k - 17)
			enet := "10." + strconv.Itoa((k-17)>>8&255) + "." + strconv.Itoa((k-17)&255)
			line("hostssl tenant_", e, " user_", e, " ", enet, ".0/24 scram-sha-256")
			rules++
		default:
			line("hostssl tenant_", t, " user_", t, " ", net, ".0/24 scram-sha-256")
			line("host tenant_", t, " admin_", strconv.Itoa(k%50), " ", net, ".0/24 scram-sha-256")
			rules += 2
		}
		if k&255 == 255 {
			line("host all all 10.", strconv.Itoa(k>>8&255), ".0.0/16 reject")
			rules++
		}
	}
	line("host all +dba 10.0.0.0/8 scram-sha-256")
	line("host all /^svc_ 10.0.0.0/8 scram-sha-256")
	line("host all all 10.0.0.0/8 reject")
	line("host all all all reject")
	return b
}

// BenchmarkLint lints files of n rules: disjoint ones (no rule shadows
// another, the case lint must handle in near-linear time), the
// overlapping multi-tenant shape of lintOverlapFile, the gen.MultiTenant
// files of the other benchmarks, and host-name rules.
func BenchmarkLint(b *testing.B) {
	run := func(name string, data []byte) {
		b.Run(name, func(b *testing.B) {
			p := hba.Parser{Version: 15, SSL: true}
			f := p.ParseBytes("/bench/pg_hba.conf", data)
			if len(f.Errors) > 0 {
				b.Fatal(f.Errors)
			}
			b.ReportAllocs()
			for b.Loop() {
				lintSink = Lint(f, LintOptions{})
			}
		})
	}
	for _, n := range []int{1000, 10000, 100000} {
		run(fmt.Sprintf("rules=%d", n), lintDisjointFile(n))
	}
	for _, n := range []int{1000, 10000, 100000} {
		run(fmt.Sprintf("overlap=%d", n), lintOverlapFile(n))
	}
	for _, n := range []int{100, 1000} {
		run(fmt.Sprintf("multitenant=%d", n), gen.MultiTenant(n, benchSeed).Data)
	}
	// Host names for every database and user: the index cannot tell
	// these rules apart (two names may resolve to one client), so each
	// is compared with every earlier one; quadratic, as Lint documents.
	var hosts []byte
	for k := range 1000 {
		hosts = append(hosts, "host all all app"+strconv.Itoa(k)+".example.com scram-sha-256\n"...)
	}
	run("hostnames=1000", hosts)
}
