// Package gen writes deterministic pg_hba.conf files for benchmarks and
// tests: the same arguments always give the same bytes.
//
// It does not import package hba, so that hba's own tests can use it.
package gen

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
)

// Probe is a connection to try against a generated file, with the 1-based
// line of the rule that should decide it (0: no rule matches).
type Probe struct {
	Addr     netip.Addr
	Database string
	User     string
	Line     int
}

// MultiTenantFile is a generated multi-tenant pg_hba.conf.
type MultiTenantFile struct {
	// Data is the file's contents.
	Data []byte
	// Tenants is the number of tenant rules; the file has Tenants+2 rules.
	Tenants int
	// Hit is a TCP connection decided by a tenant rule near the end.
	Hit Probe
	// Miss is a TCP connection no rule matches.
	Miss Probe
}

// MultiTenant returns the benchmark file of issue 8 with n tenant rules:
//
//	local all postgres peer
//	host tenant_0 user_0,admin_0 A.B.C.0/24 scram-sha-256
//	…
//	host tenant_i user_i,admin_(i%50) A.B.C.0/24 scram-sha-256
//	…
//	host all all 127.0.0.1/32 trust
//
// The /24 networks are drawn from a PCG generator seeded with seed; they
// never fall in 127.0.0.0/8, 0.0.0.0/8, multicast or 198.51.100.0/24 (the
// miss probe's network). Hit is tenant n-2 (or the only one) connecting as
// its admin user from inside its network; Miss connects from 198.51.100.7.
func MultiTenant(n int, seed uint64) MultiTenantFile {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, 0, n*64+64)
	b = append(b, "local all postgres peer\n"...)
	nets := make([][3]byte, n)
	for i := 0; i < n; i++ {
		nets[i] = randNet(rng)
		b = append(b, "host tenant_"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, " user_"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ",admin_"...)
		b = strconv.AppendInt(b, int64(i%50), 10)
		b = append(b, ' ')
		for k := 0; k < 3; k++ {
			b = strconv.AppendInt(b, int64(nets[i][k]), 10)
			b = append(b, '.')
		}
		b = append(b, "0/24 scram-sha-256\n"...)
	}
	b = append(b, "host all all 127.0.0.1/32 trust\n"...)
	f := MultiTenantFile{Data: b, Tenants: n}
	if n > 0 {
		t := n - 2
		if t < 0 {
			t = 0
		}
		nt := nets[t]
		f.Hit = Probe{
			Addr:     netip.AddrFrom4([4]byte{nt[0], nt[1], nt[2], byte(1 + t%250)}),
			Database: "tenant_" + strconv.Itoa(t),
			User:     "admin_" + strconv.Itoa(t%50),
			Line:     t + 2,
		}
	}
	f.Miss = Probe{
		Addr:     netip.AddrFrom4([4]byte{198, 51, 100, 7}),
		Database: "tenant_0",
		User:     "nobody",
	}
	return f
}

func randNet(rng *rand.Rand) [3]byte {
	for {
		v := rng.Uint32()
		a, b, c := byte(v>>24), byte(v>>16), byte(v>>8)
		if a == 0 || a == 127 || a >= 224 || (a == 198 && b == 51 && c == 100) {
			continue
		}
		return [3]byte{a, b, c}
	}
}
