package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	proxyproto "github.com/pires/go-proxyproto"
)

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// countingReader counts the bytes taken from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

// v2Header builds a version 2 header with go-proxyproto's encoder.
func v2Header(t testing.TB, cmd proxyproto.ProtocolVersionAndCommand, src, dst string, tlvs []proxyproto.TLV) []byte {
	t.Helper()
	h := &proxyproto.Header{Version: 2, Command: cmd, TransportProtocol: proxyproto.UNSPEC}
	if src != "" {
		s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
		h.TransportProtocol = proxyproto.TCPv4
		if s.Addr().Is6() {
			h.TransportProtocol = proxyproto.TCPv6
		}
		h.SourceAddr, h.DestinationAddr = net.TCPAddrFromAddrPort(s), net.TCPAddrFromAddrPort(d)
	}
	if tlvs != nil {
		if err := h.SetTLVs(tlvs); err != nil {
			t.Fatal(err)
		}
	}
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadProxyHeader: every kind of header, and that no more than the
// header is ever read from the connection.
func TestReadProxyHeader(t *testing.T) {
	startup := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
	pkt, _ := startup.Encode(nil)
	ssl := []proxyproto.TLV{{Type: proxyproto.PP2_TYPE_SSL, Value: []byte{0x01, 0, 0, 0, 0, 0x21, 0, 7, 'T', 'L', 'S', 'v', '1', '.', '3'}},
		{Type: proxyproto.PP2_TYPE_ALPN, Value: []byte("postgresql")}}
	v2 := v2Header(t, proxyproto.PROXY, "192.0.2.7:5555", "198.51.100.1:5432", nil)
	badTLV := append([]byte(nil), v2...)
	badTLV = append(badTLV, 0x20, 0x00, 0x09, 1) // a TLV announcing 9 bytes, giving 1
	binary.BigEndian.PutUint16(badTLV[14:], uint16(len(badTLV)-16))
	tooLong := append([]byte(nil), v2[:16]...)
	binary.BigEndian.PutUint16(tooLong[14:], 5000)
	unix := append([]byte(nil), v2[:16]...)
	unix[13] = 0x31 // AF_UNIX, stream
	binary.BigEndian.PutUint16(unix[14:], 216)
	unix = append(unix, make([]byte, 216)...)

	for _, tc := range []struct {
		name              string
		in                []byte
		trusted, optional bool
		reason            string // "" for a header (or no header) accepted
		src               string
		local             bool
		tlvs              int
		used              int // bytes the reader may take; -1: the whole header
		noTail            bool
	}{
		{name: "v1 tcp4", in: []byte("PROXY TCP4 192.0.2.7 198.51.100.1 5555 5432\r\n"), trusted: true, src: "192.0.2.7:5555", used: -1},
		{name: "v1 tcp6", in: []byte("PROXY TCP6 2001:db8::7 2001:db8::1 5555 5432\r\n"), trusted: true, src: "[2001:db8::7]:5555", used: -1},
		// HAProxy's version 1 health checks: taken as LOCAL.
		{name: "v1 unknown", in: []byte("PROXY UNKNOWN\r\n"), trusted: true, local: true, used: -1},
		{name: "v1 garbage", in: []byte("PROXY TCP4 not-an-address 198.51.100.1 1 2\r\n"), trusted: true, reason: ppMalformed, used: -1},
		{name: "v1 no CRLF within 107 bytes", in: []byte("PROXY TCP4 " + strings.Repeat("1", 300)), trusted: true, reason: ppTooLong, used: maxV1Header},
		{name: "v1 truncated", in: []byte("PROXY TCP4 192.0.2.7"), trusted: true, reason: ppTruncated, used: -1, noTail: true},
		{name: "v2 tcp4", in: v2, trusted: true, src: "192.0.2.7:5555", used: -1},
		{name: "v2 tcp6", in: v2Header(t, proxyproto.PROXY, "[2001:db8::7]:5555", "[2001:db8::1]:5432", nil), trusted: true, src: "[2001:db8::7]:5555", used: -1},
		{name: "v2 with SSL and ALPN TLVs", in: v2Header(t, proxyproto.PROXY, "192.0.2.7:5555", "198.51.100.1:5432", ssl), trusted: true, src: "192.0.2.7:5555", tlvs: 2, used: -1},
		{name: "v2 malformed TLV", in: badTLV, trusted: true, reason: ppMalformed, used: -1},
		{name: "v2 LOCAL", in: v2Header(t, proxyproto.LOCAL, "", "", nil), trusted: true, local: true, used: -1},
		{name: "v2 AF_UNIX", in: unix, trusted: true, reason: ppNoAddress, used: -1},
		{name: "v2 length past the limit", in: append(tooLong, make([]byte, 6000)...), trusted: true, reason: ppTooLong, used: 16},
		{name: "v2 truncated", in: v2[:20], trusted: true, reason: ppTruncated, used: 20, noTail: true},
		{name: "v2 bad version byte", in: append(append([]byte(nil), v2[:12]...), append([]byte{0x31}, v2[13:]...)...), trusted: true, reason: ppMalformed, used: -1},
		{name: "untrusted v2", in: v2, reason: ppUntrusted, used: len(sigV2)},
		{name: "untrusted v1", in: []byte("PROXY TCP4 192.0.2.7 198.51.100.1 5555 5432\r\n"), reason: ppUntrusted, used: len(sigV1)},
		{name: "trusted without header", in: pkt, trusted: true, reason: ppMissing, used: 1},
		{name: "trusted without header, optional", in: pkt, trusted: true, optional: true, used: 1, noTail: true},
		{name: "untrusted without header", in: pkt, used: 1, noTail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]byte(nil), tc.in...)
			if !tc.noTail {
				in = append(in, pkt...)
			}
			cr := &countingReader{r: bytes.NewReader(in)}
			h, err := readProxyHeader(cr, tc.trusted, tc.optional)
			used := tc.used
			if used < 0 {
				used = len(tc.in)
			}
			if cr.n > used {
				t.Errorf("read %d bytes, want at most %d", cr.n, used)
			}
			if tc.reason != "" {
				var he *headerError
				if !errors.As(err, &he) || he.reason != tc.reason {
					t.Fatalf("got %+v, %v; want a %s refusal", h, err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.local != tc.local || h.tlvs != tc.tlvs {
				t.Errorf("local=%v tlvs=%d, want %v, %d", h.local, h.tlvs, tc.local, tc.tlvs)
			}
			if tc.src != "" && h.src.String() != tc.src {
				t.Errorf("source %s, want %s", h.src, tc.src)
			}
			// What follows is the startup packet, whole and unread.
			rest, _ := io.ReadAll(cr)
			if got := append(append([]byte(nil), h.prefix...), rest...); (tc.src != "" || tc.local || !h.present) && !bytes.Equal(got, pkt) {
				t.Errorf("after the header: %q, want the startup packet %q", got, pkt)
			}
		})
	}
}

// TestReadProxyHeaderEmpty: a connection closed before its first byte (a
// balancer's TCP health check) is a plain end of file, not a refused header.
func TestReadProxyHeaderEmpty(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		_, err := readProxyHeader(bytes.NewReader(nil), trusted, false)
		var he *headerError
		if !errors.Is(err, io.EOF) || errors.As(err, &he) {
			t.Errorf("trusted=%v: %v, want io.EOF", trusted, err)
		}
	}
}

// ppFakeProxy is a proxy with a PROXY-protocol listener in front of a fake
// upstream; 127.0.0.1 is the trusted balancer.
func ppFakeProxy(t *testing.T, rules string, mod func(*Config)) (addr string, p *Proxy, logs *syncBuffer) {
	t.Helper()
	upstream, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { upstream.Close() })
	go func() {
		for {
			u, err := upstream.Accept()
			if err != nil {
				return
			}
			// A server that reads the startup packet and hangs up.
			go func() { defer u.Close(); readPacket(u) }()
		}
	}()
	hbaPath := t.TempDir() + "/pg_hba.conf"
	writeFile(t, hbaPath, rules)
	logs = &syncBuffer{}
	cfg := Config{Upstream: upstream.Addr().String(), HBAFile: hbaPath, PollInterval: -1,
		ProxyNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	if mod != nil {
		mod(&cfg)
	}
	p, err = New(cfg, newTestLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen(ctx, "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.ServeProxyProtocol(ctx, ln); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		p.Close()
		if t.Failed() {
			t.Logf("proxy log:\n%s", logs)
		}
	})
	return ln.Addr().String(), p, logs
}

// dialFrom dials addr from a source address (any 127.x.y.z on Linux).
func dialFrom(t testing.TB, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

func startupPacket(user string) []byte {
	b, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": user, "database": "postgres"}}).Encode(nil)
	return b
}

// firstMessage reads the proxy's first answer.
func firstMessage(t *testing.T, c net.Conn) (pgproto3.BackendMessage, error) {
	t.Helper()
	fe := pgproto3.NewFrontend(c, c)
	return fe.Receive()
}

// TestProxyProtocolWithGoSender: the decision uses the header's address,
// a LOCAL health check is answered without a decision, and refused headers
// are refused as documented; no server involved.
func TestProxyProtocolWithGoSender(t *testing.T) {
	addr, p, logs := ppFakeProxy(t, "host all alice 192.0.2.7/32 reject\nhost all alice 127.0.0.1/32 trust\n", nil)
	v2 := v2Header(t, proxyproto.PROXY, "192.0.2.7:5555", "198.51.100.1:5432", nil)

	// The header's address decides: 192.0.2.7 is rejected, whereas the
	// sender's own address, 127.0.0.1, would be trusted.
	c := dialFrom(t, "127.0.0.1", addr)
	c.Write(append(v2, startupPacket("alice")...))
	m, err := firstMessage(t, c)
	if er, ok := m.(*pgproto3.ErrorResponse); !ok || er.Message != rejects("192.0.2.7", "alice", "postgres", "no encryption") {
		t.Errorf("got %#v, %v; want the reject FATAL for 192.0.2.7", m, err)
	}
	if want := "msg=refused client=192.0.2.7 client_port=5555 proxy=127.0.0.1 proxy_dst=198.51.100.1:5432 user=alice"; !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q", want)
	}

	// LOCAL: answered AuthenticationOk, without a decision.
	c = dialFrom(t, "127.0.0.1", addr)
	c.Write(append(v2Header(t, proxyproto.LOCAL, "", "", nil), startupPacket("whoever")...))
	if m, err := firstMessage(t, c); err != nil {
		t.Errorf("health check: %v", err)
	} else if _, ok := m.(*pgproto3.AuthenticationOk); !ok {
		t.Errorf("health check answered %#v, want AuthenticationOk", m)
	}

	// A trusted sender without a header.
	c = dialFrom(t, "127.0.0.1", addr)
	c.Write(startupPacket("alice"))
	m, err = firstMessage(t, c)
	if er, ok := m.(*pgproto3.ErrorResponse); !ok || er.Code != "08P01" {
		t.Errorf("no header: got %#v, %v; want FATAL 08P01", m, err)
	}

	// An untrusted sender with a header: closed without an answer.
	c = dialFrom(t, "127.0.0.9", addr)
	c.Write(append(v2, startupPacket("alice")...))
	if b, err := io.ReadAll(c); len(b) != 0 {
		t.Errorf("untrusted header: read %q, %v; want the connection closed", b, err)
	}
	if !strings.Contains(logs.String(), `possible attack: PROXY header from an untrusted address; refused" peer=127.0.0.9`) {
		t.Error("no attack log for 127.0.0.9")
	}

	// An untrusted sender without a header is an ordinary client.
	c = dialFrom(t, "127.0.0.9", addr)
	c.Write(startupPacket("alice"))
	m, err = firstMessage(t, c)
	if er, ok := m.(*pgproto3.ErrorResponse); !ok || er.Message != noEntry("127.0.0.9", "alice", "postgres", "no encryption") {
		t.Errorf("direct client: got %#v, %v; want no entry for 127.0.0.9", m, err)
	}
	waitProxyIdle(t, p)
}

func waitProxyIdle(t *testing.T, p *Proxy) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Active() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still active", p.Active())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAuthenticationTimeout: a client that stalls inside the PROXY header,
// after it, or inside the startup packet is closed when
// -authentication-timeout runs out, and not before.
func TestAuthenticationTimeout(t *testing.T) {
	const timeout = 400 * time.Millisecond
	addr, p, logs := ppFakeProxy(t, "host all all 127.0.0.1/32 trust\n", func(cfg *Config) { cfg.AuthTimeout = timeout })
	v2 := v2Header(t, proxyproto.PROXY, "192.0.2.7:5555", "198.51.100.1:5432", nil)
	for _, tc := range []struct {
		name string
		send []byte
	}{
		{"nothing", nil},
		{"half a v1 header", []byte("PROXY TCP4 192.0")},
		{"half a v2 header", v2[:14]},
		{"header, no startup packet", v2},
		{"half a startup packet", append(append([]byte(nil), v2...), startupPacket("alice")[:9]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFrom(t, "127.0.0.1", addr)
			start := time.Now()
			c.Write(tc.send)
			b, err := io.ReadAll(c)
			took := time.Since(start)
			if err != nil || len(b) != 0 {
				t.Errorf("read %q, %v; want a close", b, err)
			}
			if took < timeout-50*time.Millisecond || took > timeout+5*time.Second {
				t.Errorf("closed after %v, want about %v", took, timeout)
			}
		})
	}
	if n := strings.Count(logs.String(), "timed out"); n != 5 {
		t.Errorf("%d timeouts logged, want 5:\n%s", n, logs)
	}
	waitProxyIdle(t, p)
}

// TestProtocolVersions: protocol 2.0 gets the server's FATAL, a newer 3.x
// minor or a _pq_ option gets NegotiateProtocolVersion before the FATAL of a
// refusal.
func TestProtocolVersions(t *testing.T) {
	for _, tc := range []struct {
		version int
		latest  uint32
	}{{15, 0}, {18, 2}} {
		addr, _, _ := fakeProxyConfig(t, "host all alice 127.0.0.1/32 reject\n", func(cfg *Config) { cfg.PGVersion = tc.version })
		// A protocol 2.0 startup packet: length, version 2.0, fixed fields.
		v2pkt := make([]byte, 296)
		binary.BigEndian.PutUint32(v2pkt, 296)
		binary.BigEndian.PutUint32(v2pkt[4:], 2<<16)
		copy(v2pkt[8:], "postgres")
		copy(v2pkt[72:], "alice")
		c, _ := dialProxy(t, addr)
		c.Write(v2pkt)
		got, err := io.ReadAll(c)
		// Protocol 2's error format, as PostgreSQL 14+ send it.
		want := "EFATAL:  unsupported frontend protocol 2.0: server supports 3.0 to 3." + string(rune('0'+tc.latest)) + "\n\x00"
		if string(got) != want {
			t.Errorf("PG %d, protocol 2.0: got %q, %v; want %q", tc.version, got, err, want)
		}
		// A newer major version gets the FATAL in protocol 3's format.
		v4, _ := (&pgproto3.StartupMessage{ProtocolVersion: 4 << 16, Parameters: map[string]string{"user": "alice"}}).Encode(nil)
		c, _ = dialProxy(t, addr)
		c.Write(v4)
		m, err := firstMessage(t, c)
		want4 := "unsupported frontend protocol 4.0: server supports 3.0 to 3." + string(rune('0'+tc.latest))
		if er, ok := m.(*pgproto3.ErrorResponse); !ok || er.Code != "0A000" || er.Message != want4 || er.Severity != "FATAL" {
			t.Errorf("PG %d, protocol 4.0: got %#v, %v; want FATAL 0A000 %q", tc.version, m, err, want4)
		}

		b, _ := (&pgproto3.StartupMessage{ProtocolVersion: 3<<16 | 5, Parameters: map[string]string{"user": "alice", "database": "postgres", "_pq_.frob": "1"}}).Encode(nil)
		c, fe := dialProxy(t, addr)
		c.Write(b)
		m, err = fe.Receive()
		npv, ok := m.(*pgproto3.NegotiateProtocolVersion)
		if !ok || npv.NewestMinorProtocol != 3<<16|tc.latest || len(npv.UnrecognizedOptions) != 1 || npv.UnrecognizedOptions[0] != "_pq_.frob" {
			t.Fatalf("PG %d, protocol 3.5: got %#v, %v; want NegotiateProtocolVersion 3.%d [_pq_.frob]", tc.version, m, err, tc.latest)
		}
		m, err = fe.Receive()
		if er, ok := m.(*pgproto3.ErrorResponse); !ok || er.Message != rejects("127.0.0.1", "alice", "postgres", "no encryption") {
			t.Errorf("PG %d, protocol 3.5: then %#v, %v; want the reject FATAL", tc.version, m, err)
		}
	}
}

// TestTooManyFromAccept: -max-conns counts idle connections that sent
// nothing yet, and the one over the limit is answered at once.
func TestTooManyFromAccept(t *testing.T) {
	addr, p, _ := ppFakeProxy(t, "host all all 127.0.0.1/32 trust\n", func(cfg *Config) { cfg.MaxConns = 3 })
	for range 3 {
		dialFrom(t, "127.0.0.9", addr) // idle, untrusted: holds a slot
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Active() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	c := dialFrom(t, "127.0.0.9", addr)
	m, err := firstMessage(t, c) // before sending anything
	if er, ok := m.(*pgproto3.ErrorResponse); !ok || er.Code != "53300" || er.Message != "sorry, too many clients already" || er.Severity != "FATAL" {
		t.Errorf("got %#v, %v; want FATAL 53300", m, err)
	}
}

func TestParseProxyFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{"-proxy-listen", "127.0.0.1:1", "-proxy-networks", "10.0.0.0/8, 192.0.2.7,2001:db8::/32",
		"-proxy-optional", "-upstream", "h:1", "-hba", "f", "-authentication-timeout", "5s", "-metrics", "127.0.0.1:9187"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	if len(cfg.ProxyListen) != 1 || !cfg.ProxyOptional || cfg.AuthTimeout != 5*time.Second || cfg.MetricsAddr != "127.0.0.1:9187" ||
		len(cfg.ProxyNetworks) != 3 || cfg.ProxyNetworks[0] != want[0] || cfg.ProxyNetworks[1] != want[1] || cfg.ProxyNetworks[2] != want[2] {
		t.Errorf("parsed %+v", cfg)
	}
	for _, args := range [][]string{
		{"-proxy-listen", "127.0.0.1:1"},                                 // no -proxy-networks
		{"-proxy-listen", "unix:/tmp/x", "-proxy-networks", "127.0.0.1"}, // not TCP
		{"-proxy-listen", "127.0.0.1:1", "-proxy-networks", "10.0.0.0/33"},
		{"-listen", "127.0.0.1:1", "-proxy-networks", "10.0.0.0/8"}, // no PROXY listener
		{"-listen", "127.0.0.1:1", "-authentication-timeout", "0s"},
		{"-listen", "127.0.0.1:1", "-max-conns", "-1"},
	} {
		if _, _, err := parseFlags(append(args, "-upstream", "h:1", "-hba", "f"), io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
