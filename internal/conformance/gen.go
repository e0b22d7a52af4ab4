package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pghba/pghba/hba"
)

// Options configures the generator for one server.
type Options struct {
	// Version is the PostgreSQL major version (13–18).
	Version int
	// Features is the server build's feature set (methods it supports).
	Features hba.Features
	// Conns is the number of connections per case (default 10).
	Conns int
	// HostNames allows host-name rules and RADIUS server names; the server
	// must then resolve names from HostsFile only (pgtest.Options.Hosts).
	HostNames bool
	// NoSSL: the server runs with ssl = off; no connection asks for SSL.
	NoSSL bool
	// DBUserNamespace: the server runs with db_user_namespace = on (13–16).
	DBUserNamespace bool
	// OAuthValidators is the server's oauth_validator_libraries (18); when
	// set, valid oauth rules are generated.
	OAuthValidators string
	// BrokenRate is the probability, in percent, that a case gets
	// deliberately broken lines (default 35).
	BrokenRate int
}

func (o Options) conns() int {
	if o.Conns <= 0 {
		return 10
	}
	return o.Conns
}

// Generate returns case index of the sequence seeded with seed. The same
// (seed, index, options) always gives the same case.
func Generate(seed uint64, index int, o Options) *Case {
	g := &gen{
		r:     rand.New(rand.NewPCG(seed, uint64(index)^0x9e3779b97f4a7c15)),
		o:     o,
		c:     &Case{Seed: seed, Index: index, Version: o.Version},
		files: map[string]*fileBuilder{},
		notes: map[string]bool{},
	}
	g.generate()
	return g.c
}

type gen struct {
	r     *rand.Rand
	o     Options
	c     *Case
	files map[string]*fileBuilder
	order []string // file creation order
	dirs  []string
	seq   int
	// targets are connections the rules were built to match, in file order
	// as far as the generator knows it.
	targets []Conn
	notes   map[string]bool
	broken  int // broken lines still to place
	crlf    bool
}

func (g *gen) note(s string) { g.notes[s] = true }

func (g *gen) v16() bool { return g.o.Version >= 16 }
func (g *gen) v14() bool { return g.o.Version >= 14 }

func (g *gen) has(f hba.Features) bool { return g.o.Features.Has(f) }

func (g *gen) pct(p int) bool { return g.r.IntN(100) < p }

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func (g *gen) name(prefix, ext string) string {
	g.seq++
	return fmt.Sprintf("%s%d%s", prefix, g.seq, ext)
}

// fileBuilder accumulates both variants of one file.
type fileBuilder struct {
	path     string
	orig, pw strings.Builder
	lines    int // physical lines written so far
}

// emit appends one unit (one or more whole physical lines) to both variants.
// The variants must have the same number of newlines.
func (f *fileBuilder) emit(orig, pw string) {
	if strings.Count(orig, "\n") != strings.Count(pw, "\n") {
		panic(fmt.Sprintf("conformance: variants differ in line count: %q vs %q", orig, pw))
	}
	f.orig.WriteString(orig)
	f.pw.WriteString(pw)
	f.lines += strings.Count(orig, "\n")
}

func (g *gen) newFile(p string) *fileBuilder {
	if _, dup := g.files[p]; dup {
		panic("conformance: duplicate file " + p)
	}
	f := &fileBuilder{path: p}
	g.files[p] = f
	g.order = append(g.order, p)
	return f
}

// plainFile adds a file whose variants are identical.
func (g *gen) plainFile(p, data string) {
	f := g.newFile(p)
	f.orig.WriteString(data)
	f.pw.WriteString(data)
}

func (g *gen) generate() {
	g.crlf = g.pct(5)
	if g.pct(g.brokenRate()) {
		g.broken = 1
		if g.pct(15) {
			g.broken = 2
		}
	}
	main := g.newFile(MainFile)
	n := 1 + g.r.IntN(7)
	if g.pct(6) {
		// a long file, for the matcher's index
		n = 20 + g.r.IntN(50)
		g.broken = 0
		g.note("long-file")
	}
	if g.pct(3) {
		n = 0 // no rules at all: "contains no entries"
		g.note("no-entries")
	}
	g.confBody(main, "", n, 0)
	if g.pct(10) {
		// a comment-only or blank tail
		main.emit("# trailing comment"+g.eol(), "# trailing comment"+g.eol())
	}
	if g.pct(4) && g.v14() {
		// last line without newline, ending in a backslash (dropped)
		g.ruleLine(main, "", true)
		g.note("eof-backslash")
	}
	for _, p := range g.order {
		f := g.files[p]
		g.c.Files = append(g.c.Files, File{Path: p, Data: f.orig.String(), PW: f.pw.String()})
	}
	for _, d := range g.dirs {
		g.c.Files = append(g.c.Files, File{Path: d, Dir: true})
	}
	g.conns()
	for n := range g.notes {
		g.c.Notes = append(g.c.Notes, n)
	}
	sort.Strings(g.c.Notes)
}

func (g *gen) brokenRate() int {
	if g.o.BrokenRate > 0 {
		return g.o.BrokenRate
	}
	if g.o.BrokenRate < 0 {
		return 0
	}
	return 35
}

func (g *gen) eol() string {
	if g.crlf {
		return "\r\n"
	}
	return "\n"
}

// confBody writes n items (rules, junk lines, includes) into f, which lives
// in directory dir (relative to the main file's directory).
func (g *gen) confBody(f *fileBuilder, dir string, n, depth int) {
	for range n {
		switch {
		case g.broken > 0 && g.pct(30):
			g.broken--
			g.brokenLine(f, dir, depth)
		case g.pct(8):
			g.junkLine(f)
		case g.v16() && depth < 2 && g.pct(10):
			g.include(f, dir, depth)
		case g.pct(3) && g.v14():
			// a comment ending in a backslash swallows the next line
			t := "# swallowing comment \\\nhost all all all reject" + g.eol()
			f.emit(t, t)
			g.note("comment-continuation")
		default:
			g.ruleLine(f, dir, false)
		}
	}
	if g.broken > 0 && depth == 0 {
		g.broken = 0
		g.brokenLine(f, dir, depth)
	}
}

func (g *gen) junkLine(f *fileBuilder) {
	t := pick(g.r, "", "   ", "\t", ",,,", " , ,", "# a comment", "#", "  # indented comment, \"quoted\"")
	t += g.eol()
	f.emit(t, t)
	g.note("junk-line")
}

// ---------------------------------------------------------------------------
// Names

var userPool = []string{"alice", "bob", "dave", "noinh", "carol", "grp", "sub", "+grp", "all", "Alice",
	"a b", "x,y", "other", "dé", "ghost", "db1", strings.Repeat("u", 63)}

var dbPool = []string{"db1", "db2", "grp", "alice", "all", "replication", "a b", "x,y", "sameuser",
	"other", "mydb1", "dé", "sub", "@x", "@", "samerole", "Db1", strings.Repeat("d", 63)}

// memberships returns the roles user is a member of (itself included), following
// the fixture's grants.
func memberships(user string) []string { return membershipTable()[user] }

var membershipTable = sync.OnceValue(func() map[string][]string {
	g := FixtureGraph("")
	t := map[string][]string{}
	for u := range g {
		for r := range g {
			if ok, _ := g.IsMember(context.Background(), u, r); ok {
				t[u] = append(t[u], r)
			}
		}
		sort.Strings(t[u])
	}
	return t
})

// literal returns a token that is the literal name s (quoted when s would
// otherwise be read as a keyword, a +role, an @file or a regex).
func (g *gen) literal(s string, userField bool) tok {
	special := s == "all" || s == "sameuser" || s == "samerole" || s == "samegroup" || s == "replication" ||
		strings.HasPrefix(s, "@") && len(s) > 1 || (userField && strings.HasPrefix(s, "+"))
	if special || !canUnquote(s) {
		return tok{v: s, q: true}
	}
	return tok{v: s, q: g.pct(20)}
}

// regexFor returns a simple ARE pattern (without the slash) that matches s.
func (g *gen) regexFor(s string) string {
	alnum := 0
	for alnum < len(s) && (s[alnum] >= 'a' && s[alnum] <= 'z' || s[alnum] >= 'A' && s[alnum] <= 'Z' || s[alnum] >= '0' && s[alnum] <= '9') {
		alnum++
	}
	switch g.r.IntN(6) {
	case 0:
		return ""
	case 1:
		return ".*"
	case 2:
		if alnum > 0 {
			return "^" + s[:1+g.r.IntN(alnum)]
		}
	case 3:
		if alnum == len(s) && alnum > 0 {
			return "^" + s + "$"
		}
	case 4:
		if alnum > 1 {
			return s[1:alnum]
		}
	case 5:
		if alnum == len(s) && alnum > 1 {
			return "^" + s[:1] + "." + "{" + fmt.Sprint(len(s)-1) + "}$"
		}
	}
	return "^" + pick(g.r, "a", "d", "b", "[a-c]", "(alice|bob)$", `\w+\d$`, "x,y")
}

// randRegex returns a pattern that may or may not match anything useful.
func (g *gen) randRegex() string {
	return pick(g.r, "^db", `^db\d+$`, "b", "^(alice|bob)$", ".*", "", "^a.c$", "[a-c]", "x,y", "^A", "é", "^.$", "^grp$", `\d`)
}

// ---------------------------------------------------------------------------
// Rules

// target is the connection a rule is built to match.
func (g *gen) newTarget(local bool) Conn {
	c := Conn{Local: local}
	if !local {
		c.Addr = g.randClientAddr()
		c.SSL = g.pct(50)
	}
	switch k := g.r.IntN(10); {
	case k == 0:
		c.Repl = hba.PhysicalReplication
	case k == 1:
		c.Repl = hba.LogicalReplication
	}
	c.User = pick(g.r, userPool...)
	if g.pct(10) {
		c.User = strings.Repeat("u", 63) + "vwxyz" // truncated to 63 bytes
	}
	if g.o.DBUserNamespace && g.pct(30) {
		c.User = pick(g.r, "alice@", "bob@", "alice@db1", "a@b@", "@")
	}
	if g.pct(10) {
		c.Database = ""
	} else {
		c.Database = pick(g.r, dbPool...)
	}
	return c
}

func (g *gen) randClientAddr() netip.Addr {
	switch g.r.IntN(8) {
	case 0, 1:
		return netip.MustParseAddr("127.0.0.1")
	case 2:
		return netip.IPv6Loopback()
	case 3:
		return netip.MustParseAddr("127.0.0.2")
	case 4:
		return netip.AddrFrom4([4]byte{127, byte(g.r.IntN(256)), byte(g.r.IntN(256)), byte(1 + g.r.IntN(254))})
	case 5:
		return netip.MustParseAddr("127.255.255.254")
	case 6:
		return netip.MustParseAddr("127.1.2.3")
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + g.r.IntN(254))})
}

// effDB is the database name the server compares for c.
func effDB(c Conn) string {
	if c.Database == "" {
		return c.User
	}
	return c.Database
}

// dbField returns database tokens; when hit, one of them matches t.
func (g *gen) dbField(t *Conn, hit bool) []tok {
	var ts []tok
	n := 1
	if g.pct(25) {
		n += 1 + g.r.IntN(3)
	}
	if g.pct(1) {
		// a logical line longer than 13's 20480-byte line buffer
		n = 2000 + g.r.IntN(1000)
		g.note("long-line")
	}
	hitAt := -1
	if hit {
		hitAt = g.r.IntN(n)
	}
	for i := range n {
		if i == hitAt {
			ts = append(ts, g.dbHit(t))
		} else {
			ts = append(ts, g.dbAny())
		}
	}
	return ts
}

func (g *gen) dbHit(t *Conn) tok {
	if t.Repl == hba.PhysicalReplication {
		return tok{v: "replication"}
	}
	db := effDB(*t)
	switch g.r.IntN(10) {
	case 0, 1:
		return tok{v: "all"}
	case 2:
		t.Database = pick(g.r, t.User, "")
		return tok{v: "sameuser"}
	case 3:
		ms := memberships(t.User)
		if len(ms) > 0 {
			t.Database = pick(g.r, ms...)
			return tok{v: pick(g.r, "samerole", "samegroup")}
		}
	case 4:
		if g.v16() {
			return tok{v: "/" + g.regexFor(db), q: g.pct(30)}
		}
	}
	return g.literal(db, false)
}

func (g *gen) dbAny() tok {
	if g.pct(1) {
		// around the 13–15 token length limit (10239 bytes)
		g.note("long-token")
		n := pick(g.r, 10238, 10239, 255, 256)
		return tok{v: strings.Repeat("d", n), q: g.pct(30)}
	}
	switch g.r.IntN(12) {
	case 0:
		return tok{v: pick(g.r, "all", "sameuser", "samerole", "samegroup", "replication")}
	case 1:
		return tok{v: pick(g.r, "all", "sameuser", "samerole", "replication"), q: true}
	case 2:
		if g.v16() {
			return tok{v: "/" + g.randRegex(), q: g.pct(30)}
		}
		return tok{v: "/db"}
	case 3:
		return tok{v: pick(g.r, "ALL", "Replication", "a\"ll\"")}
	}
	return g.literal(pick(g.r, dbPool...), false)
}

func (g *gen) userField(t *Conn, hit bool) []tok {
	var ts []tok
	n := 1
	if g.pct(25) {
		n += 1 + g.r.IntN(3)
	}
	hitAt := -1
	if hit {
		hitAt = g.r.IntN(n)
	}
	for i := range n {
		if i == hitAt {
			ts = append(ts, g.userHit(t))
		} else {
			ts = append(ts, g.userAny())
		}
	}
	return ts
}

func (g *gen) userHit(t *Conn) tok {
	u := t.User
	switch g.r.IntN(8) {
	case 0, 1:
		return tok{v: "all"}
	case 2, 3:
		ms := memberships(u)
		if len(ms) > 0 {
			return tok{v: "+" + pick(g.r, ms...)}
		}
	case 4:
		if g.v16() {
			return tok{v: "/" + g.regexFor(u), q: g.pct(30)}
		}
	}
	if len(u) > 63 && g.pct(50) {
		return g.literal(u[:63], true)
	}
	if g.o.DBUserNamespace && g.pct(50) {
		// the server matches "user@database" (a trailing lone @ is dropped instead)
		if strings.HasSuffix(u, "@") && strings.Count(u, "@") == 1 {
			return g.literal(strings.TrimSuffix(u, "@"), true)
		}
		return g.literal(u+"@"+effDB(*t), true)
	}
	return g.literal(u, true)
}

func (g *gen) userAny() tok {
	switch g.r.IntN(10) {
	case 0:
		return tok{v: "+" + pick(g.r, "grp", "sub", "other", "nosuch", "alice", "+grp", "/^g")}
	case 1:
		return tok{v: pick(g.r, "all", "+grp"), q: true}
	case 2:
		if g.v16() {
			return tok{v: "/" + g.randRegex(), q: g.pct(30)}
		}
	case 3:
		return tok{v: pick(g.r, "sameuser", "ALL", "ghost")}
	}
	return g.literal(pick(g.r, userPool...), true)
}

// ---------------------------------------------------------------------------
// Addresses

// addrField returns the address column (one or two fields, already
// rendered) for a TCP rule; hit makes it contain t.Addr when possible.
func (g *gen) addrField(t Conn, hit bool) []string {
	ip := t.Addr
	if g.o.HostNames && g.pct(12) {
		return []string{g.hostNameTok(ip, hit)}
	}
	switch k := g.r.IntN(20); {
	case k == 0:
		return []string{renderTok(g.r, tok{v: "all"})}
	case k == 1:
		if hit && ip != netip.MustParseAddr("127.0.0.1") && ip != netip.IPv6Loopback() {
			break
		}
		return []string{renderTok(g.r, tok{v: "samehost"})}
	case k == 2:
		return []string{renderTok(g.r, tok{v: "samenet"})}
	case k <= 5:
		// separate mask column
		a, m := g.addrMask(ip, hit, true)
		return []string{g.renderAddrTok(a), g.renderAddrTok(m)}
	}
	a, m := g.addrMask(ip, hit, false)
	bits, _ := maskLen(m)
	return []string{g.renderCIDR(a, bits)}
}

// addrMask returns an address and mask of ip's family (or, when not hit,
// sometimes of the other family) containing ip when hit.
func (g *gen) addrMask(ip netip.Addr, hit, anyMask bool) (netip.Addr, netip.Addr) {
	fam := ip
	if !hit && g.pct(20) {
		if ip.Is4() {
			fam = netip.IPv6Loopback()
		} else {
			fam = netip.MustParseAddr("127.0.0.1")
		}
	}
	nbytes := fam.BitLen() / 8
	var m []byte
	if anyMask && g.pct(30) {
		// a non-contiguous mask, or a tiny one such as 0.0.0.24
		m = make([]byte, nbytes)
		for i := range m {
			if g.pct(50) {
				m[i] = byte(g.r.IntN(256))
			} else if g.pct(50) {
				m[i] = 0xff
			}
		}
	} else {
		var bits int
		if fam.Is4() {
			bits = pick(g.r, 0, 1, 7, 8, 8, 16, 24, 31, 32, 32, 32)
		} else {
			bits = pick(g.r, 0, 1, 64, 120, 127, 128, 128, 128)
		}
		m = prefixMask(bits, nbytes)
	}
	base := fam.AsSlice()
	out := make([]byte, nbytes)
	for i := range out {
		hostBits := byte(0)
		switch g.r.IntN(3) {
		case 0:
			hostBits = base[i]
		case 1:
			hostBits = byte(g.r.IntN(256))
		}
		out[i] = base[i]&m[i] | hostBits&^m[i]
	}
	if !hit || fam != ip {
		// perturb a masked bit so it probably misses
		if g.pct(70) {
			i := g.r.IntN(nbytes)
			out[i] ^= m[i] & byte(1<<g.r.IntN(8))
		}
	}
	a, _ := netip.AddrFromSlice(out)
	mk, _ := netip.AddrFromSlice(m)
	return a, mk
}

func prefixMask(bits, nbytes int) []byte {
	m := make([]byte, nbytes)
	for i := range m {
		switch {
		case bits >= 8:
			m[i] = 0xff
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return m
}

func maskLen(m netip.Addr) (int, bool) {
	n := 0
	zero := false
	for _, b := range m.AsSlice() {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) != 0 {
				if zero {
					return 0, false
				}
				n++
			} else {
				zero = true
			}
		}
	}
	return n, true
}

// renderCIDR renders addr/bits with glibc-accepted spellings.
func (g *gen) renderCIDR(a netip.Addr, bits int) string {
	b := fmt.Sprint(bits)
	switch g.r.IntN(12) {
	case 0:
		b = "0" + b
	case 1:
		b = "+" + b
	case 2:
		return renderTok(g.r, tok{v: g.addrText(a) + "/ " + b, q: true})
	}
	if a.Is6() && a.IsLinkLocalUnicast() && g.pct(50) {
		return a.String() + pick(g.r, "%lo", "%1") + "/" + b
	}
	return renderTok(g.r, tok{v: g.addrText(a) + "/" + b})
}

func (g *gen) renderAddrTok(a netip.Addr) string {
	return renderTok(g.r, tok{v: g.addrText(a)})
}

// addrText spells a numeric address as glibc's getaddrinfo(AI_NUMERICHOST)
// accepts it: inet_aton forms for IPv4 (1–4 parts, octal, hex), several IPv6
// spellings.
func (g *gen) addrText(a netip.Addr) string {
	if a.Is6() {
		switch g.r.IntN(5) {
		case 0:
			return strings.ToUpper(a.StringExpanded())
		case 1:
			return a.StringExpanded()
		}
		return a.String()
	}
	if g.pct(60) {
		return a.String()
	}
	g.note("inet_aton-form")
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	part := func(x uint32) string {
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprintf("0%o", x)
		case 1:
			return fmt.Sprintf("0x%x", x)
		case 2:
			return fmt.Sprintf("0X%X", x)
		}
		return fmt.Sprint(x)
	}
	switch g.r.IntN(4) {
	case 0:
		return part(v)
	case 1:
		return part(v>>24) + "." + part(v&0xffffff)
	case 2:
		return part(v>>24) + "." + part(v>>16&0xff) + "." + part(v&0xffff)
	}
	return part(v>>24) + "." + part(v>>16&0xff) + "." + part(v>>8&0xff) + "." + part(v&0xff)
}

// ---------------------------------------------------------------------------
// Methods and options

type methodChoice struct {
	method string
	opts   []string // name=value
}

// validMethod picks a method and valid options for a rule of type typ.
func (g *gen) validMethod(typ string) methodChoice {
	local := typ == "local"
	ssl := typ == "hostssl"
	var ms []string
	ms = append(ms, "trust", "reject", "reject", "md5", "password", "scram-sha-256", "radius")
	if local {
		ms = append(ms, "peer", "ident")
	} else {
		ms = append(ms, "ident")
		if g.has(hba.FeatureGSSAPI) {
			ms = append(ms, "gss")
		}
	}
	if g.has(hba.FeaturePAM) {
		ms = append(ms, "pam")
	}
	if g.has(hba.FeatureLDAP) {
		ms = append(ms, "ldap")
	}
	if ssl && g.has(hba.FeatureSSL) {
		ms = append(ms, "cert", "cert")
	}
	if g.o.OAuthValidators != "" && g.o.Version >= 18 {
		ms = append(ms, "oauth", "oauth")
	}
	m := methodChoice{method: pick(g.r, ms...)}
	add := func(o string) { m.opts = append(m.opts, o) }
	switch m.method {
	case "ident", "peer":
		if g.pct(50) {
			add("map=" + pick(g.r, "m", "", "omap"))
		}
	case "gss":
		if g.pct(40) {
			add("include_realm=" + pick(g.r, "0", "1", "true"))
		}
		if g.pct(40) {
			add("krb_realm=EXAMPLE.COM")
		}
		if g.pct(30) {
			add("map=gm")
		}
	case "pam":
		if g.pct(50) {
			add("pamservice=" + pick(g.r, "postgresql", "a b", "x"))
		}
		if g.pct(30) {
			add("pam_use_hostname=1")
		}
	case "ldap":
		switch g.r.IntN(3) {
		case 0:
			add("ldapserver=ldap.example.com")
			add(pick(g.r, "ldapprefix=cn=", "ldapsuffix=,dc=example,dc=com"))
		case 1:
			add("ldapserver=ldap.example.com")
			add("ldapbasedn=dc=example,dc=com")
			if g.pct(50) {
				add(pick(g.r, "ldapsearchattribute=uid", "ldapsearchfilter=(uid=$username)"))
			}
			if g.pct(30) {
				add("ldapbinddn=cn=admin,dc=example,dc=com")
				add("ldapbindpasswd=secret")
			}
		case 2:
			add("ldapurl=" + pick(g.r, "ldap://h:389/dc=x?uid?sub", "ldaps://ldap.example.com/dc=example,dc=com??one", "ldap://h/dc=x"))
		}
		if g.pct(20) {
			add("ldapport=" + pick(g.r, "389", "636", "389x", "-1"))
		}
		if g.pct(20) {
			add("ldaptls=" + pick(g.r, "1", "0"))
		}
		if g.pct(15) {
			add("ldapscheme=" + pick(g.r, "ldap", "ldaps", "foo"))
		}
	case "radius":
		n := 1 + g.r.IntN(2)
		servers := []string{"127.0.0.1", "::1", "127.0.0.2"}[:n]
		if g.o.HostNames && g.pct(30) {
			servers[0] = pick(g.r, "localhost", "radius.example.com", "RADIUS.example.com", "no.such.host.invalid")
			g.note("radius-name")
		}
		add("radiusservers=" + strings.Join(servers, ","))
		if n == 1 || g.pct(50) {
			// a list element with a blank must be double-quoted inside the value
			add(pick(g.r, "radiussecrets=s3cret", `radiussecrets="""a b"""`, `"radiussecrets=""x y"""`))
		} else {
			add("radiussecrets=a,b")
		}
		if g.pct(30) {
			add("radiusports=1812")
		}
		if g.pct(20) {
			add("radiusidentifiers=pg")
		}
	case "oauth":
		add("issuer=" + pick(g.r, "https://issuer.example.com", "https://x/.well-known/openid-configuration"))
		add("scope=" + pick(g.r, "openid", `"openid email"`, `""`))
		if g.pct(40) {
			add("validator=" + pick(g.r, g.o.OAuthValidators, g.o.OAuthValidators, "nope"))
		}
		switch g.r.IntN(4) {
		case 0:
			add("map=om")
		case 1:
			add("delegate_ident_mapping=" + pick(g.r, "1", "true", "0"))
		}
	case "cert":
		if g.pct(40) {
			add("clientcert=verify-full")
		}
		if g.pct(40) {
			add("map=cm")
		}
	}
	if ssl && m.method != "cert" {
		if g.pct(20) {
			if g.o.Version == 13 {
				add("clientcert=" + pick(g.r, "verify-ca", "verify-full", "1", "0", "no-verify"))
			} else {
				add("clientcert=" + pick(g.r, "verify-ca", "verify-full"))
			}
		}
	}
	if ssl && g.v14() && g.pct(15) {
		add("clientname=" + pick(g.r, "CN", "DN"))
	}
	if g.pct(5) && len(m.opts) > 0 {
		// repeat the first option: the last one wins
		m.opts = append(m.opts, m.opts[0])
	}
	return m
}

// renderOptions renders options as fields, sometimes several per field.
func (g *gen) renderOptions(opts []string) string {
	var b strings.Builder
	for i := 0; i < len(opts); i++ {
		b.WriteString(fieldSep(g.r))
		b.WriteString(g.renderOption(opts[i]))
		for i+1 < len(opts) && g.pct(25) {
			i++
			b.WriteString(listSep(g.r))
			b.WriteString(g.renderOption(opts[i]))
		}
	}
	return b.String()
}

// renderOption renders name=value so the lexer reads it back as one token.
// A value that needs quotes (blank, comma) gets them around the value or
// around the whole token.
func (g *gen) renderOption(o string) string {
	if strings.Contains(o, `"`) {
		return o // pre-quoted by the caller
	}
	if allSafe(o) {
		return renderTok(g.r, tok{v: o, q: g.pct(15)})
	}
	name, val, _ := strings.Cut(o, "=")
	if g.pct(50) {
		return name + "=" + quoteRun(val)
	}
	return quoteRun(o)
}

// ---------------------------------------------------------------------------
// Lines

var connTypes = []string{"local", "host", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc", "host", "local",
	"local", "host", "host", "hostssl", "hostssl", "hostnossl", "hostnogssenc", "host", "local"}

// ruleLine writes one valid-intent rule line and records its target.
func (g *gen) ruleLine(f *fileBuilder, dir string, eofBackslash bool) {
	g.rule(f, dir, eofBackslash, "", nil)
}

// rule writes a rule line of type typ (random when "") with method mc
// (random valid when nil). The password variant keeps every byte before the
// method.
func (g *gen) rule(f *fileBuilder, dir string, eofBackslash bool, typ string, mc *methodChoice) {
	if typ == "" {
		typ = pick(g.r, connTypes...)
	}
	local := typ == "local"
	t := g.newTarget(local)
	switch typ {
	case "hostssl":
		t.SSL = true
	case "hostnossl":
		t.SSL = false
	}
	hit := g.pct(85)
	var fields []string
	typTok := tok{v: typ, q: g.pct(5)}
	fields = append(fields, renderTok(g.r, typTok))
	dbs := g.dbField(&t, hit)
	users := g.userField(&t, hit)
	fields = append(fields, g.maybeAtFile(dir, dbs, "db"))
	fields = append(fields, g.maybeAtFile(dir, users, "user"))
	if !local {
		fields = append(fields, g.addrField(t, hit)...)
	}
	if mc == nil {
		v := g.validMethod(typ)
		mc = &v
	}
	g.note("method-" + mc.method)
	if typ == "hostgssenc" {
		g.note("hostgssenc")
	}
	var prefix strings.Builder
	for i, fl := range fields {
		if i > 0 {
			prefix.WriteString(fieldSep(g.r))
		}
		prefix.WriteString(fl)
	}
	prefix.WriteString(fieldSep(g.r))
	method := renderTok(g.r, tok{v: mc.method, q: g.pct(5)})
	if g.pct(3) {
		// the method and options from an @file
		p := g.name("m", ".txt")
		g.plainFile(path.Join(dir, p), "# the method\n"+mc.method+"\n")
		method = "@" + p
		g.note("at-file-method")
	}
	mpart := method + g.renderOptions(mc.opts) + lineEnd(g.r)
	if g.pct(2) && g.v14() {
		mpart += " # continued comment \\\nmap=x"
		g.note("comment-continuation")
	}
	pre := prefix.String()
	if g.v14() && g.pct(15) {
		n := 1 + g.r.IntN(3)
		k := g.r.IntN(n + 1)
		pre, _ = insertContinuations(g.r, pre, k)
		mpart, _ = insertContinuations(g.r, mpart, n-k)
		g.note("continuation")
	}
	eol := g.eol()
	if eofBackslash {
		eol = "\\"
	}
	orig := pre + mpart + eol
	pw := pre + "password" + strings.Repeat("\n", strings.Count(mpart, "\n"))
	if !eofBackslash {
		pw += eol
	}
	f.emit(orig, pw)
	g.targets = append(g.targets, t)
}

// maybeAtFile renders a name field, sometimes moving (part of) it into an
// @file.
func (g *gen) maybeAtFile(dir string, ts []tok, kind string) string {
	if !g.pct(12) {
		return renderField(g.r, ts)
	}
	g.note("at-file")
	cut := g.r.IntN(len(ts))
	inFile := ts[cut:]
	var p string
	if g.pct(8) {
		p = g.atChain(dir, inFile)
	} else {
		p = g.atFile(dir, inFile, 0)
	}
	ref := tok{v: "@" + p}
	rest := append([]tok(nil), ts[:cut]...)
	var b strings.Builder
	for i, t := range rest {
		if i > 0 {
			b.WriteString(listSep(g.r))
		}
		b.WriteString(renderTok(g.r, t))
	}
	if len(rest) > 0 {
		b.WriteString(listSep(g.r))
	}
	b.WriteString(renderTok(g.r, ref))
	return b.String()
}

// atChain creates a chain of 9–12 @files, each naming the next, the last
// holding ts: around 16's nesting limit of 10 (13–15 have none).
func (g *gen) atChain(dir string, ts []tok) string {
	g.note("at-file-chain")
	n := 9 + g.r.IntN(4)
	base := g.name("chain", "_")
	for i := n; i >= 1; i-- {
		var data string
		if i == n {
			data = renderField(g.r, ts) + "\n"
		} else {
			data = fmt.Sprintf("@%s%d\n", base, i+1)
		}
		g.plainFile(path.Join(dir, fmt.Sprintf("%s%d", base, i)), data)
	}
	return base + "1"
}

// atFile creates an @file holding ts (its directory relative to dir) and
// returns the reference path as written in a file in dir.
func (g *gen) atFile(dir string, ts []tok, depth int) string {
	var ref string
	switch g.r.IntN(4) {
	case 0:
		ref = g.name("sub dir/names", ".txt")
		g.note("at-file-subdir")
	case 1:
		ref = g.name("n", "")
	default:
		ref = g.name("names", ".txt")
	}
	full := path.Join(dir, ref)
	fdir := path.Dir(full)
	if fdir == "." {
		fdir = ""
	}
	var b strings.Builder
	for i := 0; i < len(ts); i++ {
		if depth < 2 && i > 0 && g.pct(20) {
			// the rest of the tokens through a nested @file
			nested := g.atFile(fdir, ts[i:], depth+1)
			b.WriteString(renderTok(g.r, tok{v: "@" + nested}))
			b.WriteString("\n")
			g.note("at-file-nested")
			break
		}
		if g.v16() && i > 0 && g.pct(10) {
			inc := g.name("list", ".inc")
			g.plainFile(path.Join(fdir, inc), renderTok(g.r, ts[i])+"\n")
			b.WriteString("include " + inc + "\n")
			g.note("at-file-include")
			continue
		}
		b.WriteString(renderTok(g.r, ts[i]))
		switch g.r.IntN(5) {
		case 0:
			b.WriteString(", ")
		case 1:
			b.WriteString(" # comment\n")
		case 2:
			b.WriteString("\n")
		default:
			b.WriteString(" ")
		}
	}
	if g.pct(20) {
		b.WriteString("# trailing\n")
	}
	g.plainFile(full, b.String())
	switch g.r.IntN(12) {
	case 0:
		g.note("at-file-dotdot")
		return "nosuch/../" + ref
	case 1:
		return "./" + ref
	case 2:
		return strings.Replace(ref, "/", "//", 1)
	}
	return ref
}

// include writes an include directive (16+) and generates what it includes.
func (g *gen) include(f *fileBuilder, dir string, depth int) {
	kw := pick(g.r, "include", "include", "include_if_exists", "include_dir")
	kwTok := renderTok(g.r, tok{v: kw, q: g.pct(10)})
	var target string
	switch kw {
	case "include_dir":
		target = g.name("conf.d", "")
		full := path.Join(dir, target)
		g.note("include_dir")
		if g.pct(15) {
			g.dirs = append(g.dirs, full)
			g.note("include_dir-empty")
			break
		}
		names := slices.Clone([]string{"10.conf", "9.conf", "A.conf", "b.conf", "x y.conf"})
		g.r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		for _, n := range names[:1+g.r.IntN(3)] {
			sub := g.newFile(path.Join(full, n))
			g.confBody(sub, full, 1+g.r.IntN(3), depth+1)
		}
		if g.pct(40) {
			// entries that must be skipped: hidden, wrong suffix, wrong case, a directory
			junk := "this line would not parse\n"
			g.plainFile(path.Join(full, pick(g.r, ".h.conf", "x.conf.bak", "Z.CONF", ".conf")), junk)
			if g.pct(30) {
				g.dirs = append(g.dirs, path.Join(full, "sub.conf"))
			}
			g.note("include_dir-skipped")
		}
	case "include":
		if g.pct(6) && depth == 0 {
			// a chain of includes around the nesting limit of 10
			g.note("include-chain")
			n := 8 + g.r.IntN(4)
			base := g.name("deep", "_")
			for i := n; i >= 1; i-- {
				f := g.newFile(path.Join(dir, fmt.Sprintf("%s%d.conf", base, i)))
				if i == n {
					g.ruleLine(f, dir, false)
				} else {
					t := fmt.Sprintf("include %s%d.conf", base, i+1) + g.eol()
					f.emit(t, t)
				}
			}
			target = base + "1.conf"
			break
		}
		if g.pct(8) {
			// a directory: reading fails, the file just ends (16+)
			target = g.name("idir", "")
			g.dirs = append(g.dirs, path.Join(dir, target))
			g.note("include-directory")
			break
		}
		fallthrough
	default:
		target = g.name(pick(g.r, "inc/a", "b", "sp ace"), ".conf")
		full := path.Join(dir, target)
		sub := g.newFile(full)
		g.confBody(sub, path.Dir(full), 1+g.r.IntN(3), depth+1)
		g.note("include")
	}
	second := renderTok(g.r, tok{v: target, q: g.pct(20)})
	if g.pct(10) {
		second += ",ignored.conf"
		g.note("include-list")
	}
	t := kwTok + fieldSep(g.r) + second + lineEnd(g.r) + g.eol()
	f.emit(t, t)
}

// conns picks the case's connections: the rules' targets (first, last and
// some in between), a few of them perturbed, and random ones that probably
// match nothing.
func (g *gen) conns() {
	n := g.o.conns()
	var out []Conn
	seen := map[string]bool{}
	addc := func(c Conn) {
		if c.Local {
			c.Addr, c.SSL = netip.Addr{}, false
		}
		if g.o.NoSSL {
			c.SSL = false
		}
		if c.Repl == hba.PhysicalReplication && g.pct(50) {
			c.Database = ""
		}
		k := c.String()
		if !seen[k] && len(out) < n {
			seen[k] = true
			out = append(out, c)
		}
	}
	ts := g.targets
	order := make([]int, 0, len(ts))
	if len(ts) > 0 {
		order = append(order, 0, len(ts)-1)
		order = append(order, g.r.Perm(len(ts))...)
	}
	budget := n - 1
	for k := 0; len(out) < budget && k < 4*n && len(order) > 0; k++ {
		c := ts[order[k%len(order)]]
		if g.pct(15) || k >= len(order) && g.pct(50) {
			switch g.r.IntN(4) {
			case 0:
				c.SSL = !c.SSL
			case 1:
				c.User = pick(g.r, userPool...)
			case 2:
				c.Addr = g.randClientAddr()
			case 3:
				c.Repl = hba.Replication(g.r.IntN(3))
			}
		}
		addc(c)
	}
	for len(out) < n {
		addc(g.newTarget(g.pct(30)))
	}
	g.c.Conns = out
}
