package conformance

import (
	"net/netip"
	"strings"

	"github.com/pghba/pghba/hba"
)

// HostsFile is the /etc/hosts the clusters run with when host-name rules are
// generated (pgtest.Options.Hosts). Every name is on one line only, so the
// answers do not depend on glibc's "multi" setting.
const HostsFile = `127.0.0.1 localhost
127.0.0.2 db.example.com dbalias
127.0.0.3 web.example.com
127.1.2.3 deep.sub.example.com
127.0.0.4 UPPER.Example.COM
::1 ip6-localhost ip6-loopback
127.0.0.9 radius.example.com
`

// HostTable returns what glibc's files backend answers for hosts: a reverse
// lookup gives the first name of the first line holding the address; a
// forward lookup gives the addresses of every line naming the host, compared
// without regard to case.
func HostTable(hosts string) hba.HostTable {
	t := hba.HostTable{Reverse: map[string][]string{}, Forward: map[string][]string{}}
	for _, line := range strings.Split(hosts, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		k := ip.String()
		if _, ok := t.Reverse[k]; !ok {
			t.Reverse[k] = []string{f[1]}
		}
		for _, n := range f[1:] {
			key := strings.ToLower(n)
			t.Forward[key] = append(t.Forward[key], k)
		}
	}
	return t
}

// reverseName returns the name the hosts file gives addr, or "".
func reverseName(addr netip.Addr) string {
	if ns := HostTable(HostsFile).Reverse[addr.String()]; len(ns) > 0 {
		return ns[0]
	}
	return ""
}

// hostNameTok returns a host-name address token; when hit, one that the
// client at addr matches if possible.
func (g *gen) hostNameTok(addr netip.Addr, hit bool) string {
	g.note("hostname")
	name := reverseName(addr)
	if hit && name != "" {
		switch g.r.IntN(4) {
		case 0:
			return strings.ToUpper(name)
		case 1:
			if i := strings.IndexByte(name, '.'); i >= 0 {
				return name[i:]
			}
		}
		return name
	}
	return renderTok(g.r, tok{v: pick(g.r, "localhost", "LOCALHOST", ".example.com", "db.example.com", ".com",
		"example.com", "web.example.com", "nohost.invalid", "ip6-localhost", "deep.sub.example.com",
		".sub.example.com", "all", "samehost", "samenet", "300.1.1.1", "1.2.3.4.5", "127.0.0.1.", "fe80::1%bogus",
		"dbalias", ".calhost", ".localhost", "upper.example.com"), q: g.pct(20)})
}
