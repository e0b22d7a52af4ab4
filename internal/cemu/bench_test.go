package cemu

import (
	"net/netip"
	"testing"
)

var sinkAddr netip.Addr

// TestNumericHostNoAllocs: reading an address column allocates nothing
// (a scope with an interface name asks the kernel, and is not measured).
func TestNumericHostNoAllocs(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "0x7f.1", "10.0.0.0.1", "db.example.com", "::1", "2001:db8::1%7"} {
		if n := testing.AllocsPerRun(100, func() { sinkAddr, _ = NumericHost(s) }); n != 0 {
			t.Errorf("NumericHost(%q): %v allocations, want 0", s, n)
		}
	}
}

func BenchmarkInetAtonExact(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkAddr, _ = InetAtonExact("192.168.100.200")
	}
}

func BenchmarkNumericHost(b *testing.B) {
	for _, s := range []string{"192.168.100.200", "2001:db8::1", "db.example.com"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkAddr, _ = NumericHost(s)
			}
		})
	}
}
