package gen

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func TestMultiTenantDeterministic(t *testing.T) {
	a, b, c := MultiTenant(500, 1), MultiTenant(500, 1), MultiTenant(500, 2)
	if !bytes.Equal(a.Data, b.Data) || a.Hit != b.Hit {
		t.Error("same seed, different files")
	}
	if bytes.Equal(a.Data, c.Data) {
		t.Error("different seeds, same file")
	}
}

func TestMultiTenantProbes(t *testing.T) {
	for _, n := range []int{1, 10, 1000} {
		f := MultiTenant(n, 7)
		lines := strings.Split(strings.TrimSuffix(string(f.Data), "\n"), "\n")
		if len(lines) != n+2 || lines[0] != "local all postgres peer" || lines[n+1] != "host all all 127.0.0.1/32 trust" {
			t.Fatalf("n=%d: %d lines, first %q, last %q", n, len(lines), lines[0], lines[len(lines)-1])
		}
		hit := strings.Fields(lines[f.Hit.Line-1])
		if hit[1] != f.Hit.Database || !strings.Contains(","+hit[2]+",", ","+f.Hit.User+",") {
			t.Errorf("n=%d: hit %+v is not for line %q", n, f.Hit, lines[f.Hit.Line-1])
		}
		if !netip.MustParsePrefix(hit[3]).Contains(f.Hit.Addr) {
			t.Errorf("n=%d: hit address %v outside %s", n, f.Hit.Addr, hit[3])
		}
		for _, l := range lines[1 : n+1] {
			if netip.MustParsePrefix(strings.Fields(l)[3]).Contains(f.Miss.Addr) {
				t.Errorf("n=%d: miss address %v inside %q", n, f.Miss.Addr, l)
			}
		}
	}
}
