package hba

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func testHostTable(t *testing.T) HostTable {
	t.Helper()
	var h HostTable
	err := json.Unmarshal([]byte(`{
		"reverse": {"192.0.2.7": ["db.example.com.", "alias.example.com"], "2001:db8:0::7": ["v6.example.com"]},
		"forward": {"DB.Example.com": ["192.0.2.7", "2001:db8::7"], "v6.example.com.": ["2001:db8::7"], "bad.example.com": ["nope"]}
	}`), &h)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHostTableLookupAddr(t *testing.T) {
	h := testHostTable(t)
	ctx := context.Background()
	tests := []struct {
		name, addr string
		want       []string
	}{
		{"exact key", "192.0.2.7", []string{"db.example.com.", "alias.example.com"}},
		{"same address other spelling", "2001:db8::7", []string{"v6.example.com"}},
		{"missing", "192.0.2.8", nil},
		{"not an address", "db.example.com", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.LookupAddr(ctx, tt.addr)
			if tt.want == nil {
				if !isNotFound(err) {
					t.Fatalf("LookupAddr(%q) = %q, %v; want a not-found *net.DNSError", tt.addr, got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("LookupAddr(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
			}
		})
	}
}

func TestHostTableLookupAddrCopies(t *testing.T) {
	h := testHostTable(t)
	got, err := h.LookupAddr(context.Background(), "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	got[0] = "changed"
	if h.Reverse["192.0.2.7"][0] != "db.example.com." {
		t.Fatal("LookupAddr returned the table's own slice")
	}
}

func TestHostTableLookupNetIP(t *testing.T) {
	h := testHostTable(t)
	ctx := context.Background()
	tests := []struct {
		name, network, host string
		want                []string // nil: not found
		wantErr             bool     // another error
	}{
		{"exact case differs", "ip", "db.example.com", []string{"192.0.2.7", "2001:db8::7"}, false},
		{"upper case query", "ip", "DB.EXAMPLE.COM", []string{"192.0.2.7", "2001:db8::7"}, false},
		{"trailing dot in query", "ip", "db.example.com.", []string{"192.0.2.7", "2001:db8::7"}, false},
		{"trailing dot in key", "ip", "v6.example.com", []string{"2001:db8::7"}, false},
		{"ip4 only", "ip4", "db.example.com", []string{"192.0.2.7"}, false},
		{"ip6 only", "ip6", "db.example.com", []string{"2001:db8::7"}, false},
		{"no address of family", "ip4", "v6.example.com", nil, false},
		{"missing", "ip", "other.example.com", nil, false},
		{"suffix is not a match", "ip", "example.com", nil, false},
		{"bad entry", "ip", "bad.example.com", nil, true},
		{"bad network", "tcp", "db.example.com", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.LookupNetIP(ctx, tt.network, tt.host)
			switch {
			case tt.wantErr:
				if err == nil || isNotFound(err) {
					t.Fatalf("LookupNetIP(%q, %q) = %v, %v; want an error other than not found", tt.network, tt.host, got, err)
				}
			case tt.want == nil:
				if !isNotFound(err) {
					t.Fatalf("LookupNetIP(%q, %q) = %v, %v; want not found", tt.network, tt.host, got, err)
				}
			default:
				var want []netip.Addr
				for _, s := range tt.want {
					want = append(want, netip.MustParseAddr(s))
				}
				if err != nil || !slices.Equal(got, want) {
					t.Fatalf("LookupNetIP(%q, %q) = %v, %v; want %v", tt.network, tt.host, got, err, want)
				}
			}
		})
	}
}

func TestHostTableZeroValue(t *testing.T) {
	var h HostTable
	ctx := context.Background()
	if _, err := h.LookupAddr(ctx, "127.0.0.1"); !isNotFound(err) {
		t.Errorf("LookupAddr on zero HostTable: %v, want not found", err)
	}
	if _, err := h.LookupNetIP(ctx, "ip", "localhost"); !isNotFound(err) {
		t.Errorf("LookupNetIP on zero HostTable: %v, want not found", err)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("Validate on zero HostTable: %v", err)
	}
}

func TestHostTableCanceled(t *testing.T) {
	h := testHostTable(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.LookupAddr(ctx, "192.0.2.7"); !errors.Is(err, context.Canceled) {
		t.Errorf("LookupAddr with canceled context: %v", err)
	}
	if _, err := h.LookupNetIP(ctx, "ip", "db.example.com"); !errors.Is(err, context.Canceled) {
		t.Errorf("LookupNetIP with canceled context: %v", err)
	}
}

func TestHostTableValidate(t *testing.T) {
	tests := []struct {
		name string
		h    HostTable
		want string
	}{
		{"good", HostTable{Reverse: map[string][]string{"::1": {"localhost"}}, Forward: map[string][]string{"localhost": {"::1", "127.0.0.1"}}}, ""},
		{"bad reverse key", HostTable{Reverse: map[string][]string{"localhost": {"x"}}}, `reverse: "localhost" is not an IP address`},
		{"bad forward value", HostTable{Forward: map[string][]string{"b": {"::1"}, "a": {"1.2.3"}}}, `forward: "a": "1.2.3" is not an IP address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}
