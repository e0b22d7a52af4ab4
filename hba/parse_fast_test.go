package hba

import (
	"strings"
	"testing"

	"github.com/pghba/pghba/internal/cemu"
)

// ipv4CIDR against the exact reading of the address column (cemu.NumericHost
// on the text before the slash, cidrBits after it), on texts built from the
// parts that decide: decimal, octal and hex parts, leading zeros, values
// around 255, one to five parts, and prefix lengths with signs, blanks,
// zeros and junk.
func TestIPv4CIDRMatchesExact(t *testing.T) {
	parts := []string{"", "0", "00", "1", "9", "10", "99", "100", "255", "256", "999", "1000", "0x1", "01", "08", "010", " 1", "a"}
	suffixes := []string{"", "/", "/0", "/00", "/000", "/0000", "/8", "/24", "/32", "/33", "/99", "/024", "/0032", "/ 8", "/+8", "/-0", "/8x", "/999", "/8/8", "x", " ", ":", "%1"}
	fastN := 0
	var rec func(prefix string, k int)
	check := func(s string) {
		ip, n, hasBits, ok := ipv4CIDR(s)
		if !ok {
			return
		}
		fastN++
		str, bitsText, slash := strings.Cut(s, "/")
		want, wok := cemu.NumericHost(str)
		if !wok || want != ip || slash != hasBits {
			t.Fatalf("ipv4CIDR(%q) = %v %v, exact %v %v", s, ip, hasBits, want, wok)
		}
		if slash {
			wn, wok := cidrBits(bitsText, true)
			if !wok || wn != n {
				t.Fatalf("ipv4CIDR(%q) bits %d, exact %d %v", s, n, wn, wok)
			}
		}
		if !hasBits {
			if a, ok := numericHost(s); !ok || a != want {
				t.Fatalf("numericHost(%q) = %v %v, want %v", s, a, ok, want)
			}
		}
	}
	rec = func(prefix string, k int) {
		for _, p := range parts {
			s := prefix + p
			if k < 3 {
				rec(s+".", k+1)
			}
			for _, suf := range suffixes {
				check(s + suf)
			}
		}
	}
	rec("", 0)
	if fastN < 1000 {
		t.Fatalf("the fast path took only %d texts", fastN)
	}
	// Five parts, and every octet value with each suffix.
	for _, p := range parts {
		for _, suf := range suffixes {
			check("1.2.3.4." + p + suf)
		}
	}
	for v := 0; v < 1000; v++ {
		for _, suf := range suffixes {
			check("1.2.3." + itoa(v) + suf)
			check(itoa(v) + ".2.3.4" + suf)
		}
	}
	// numericHost on what the fast path declines is cemu.NumericHost.
	for _, s := range []string{"", "::1", "1.2.3", "1.2.3.4.5", "0x7f.1", "01.2.3.4", "1.2.3.4%1", "fe80::1%lo"} {
		a, ok := numericHost(s)
		b, wok := cemu.NumericHost(s)
		if a != b || ok != wok {
			t.Errorf("numericHost(%q) = %v %v, want %v %v", s, a, ok, b, wok)
		}
	}
}
