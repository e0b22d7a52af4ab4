package hba

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// The index (index.go) is checked against decideLinear, the plain loop:
// same decision, same rule, same reason, and the same calls to every outside
// source in the same order, for generated rule sets and connections.

// callLog records the calls a decision makes to the Env sources.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	l.calls = append(l.calls, s)
	l.mu.Unlock()
}

func (l *callLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.calls, "; ")
	l.calls = l.calls[:0]
	return s
}

var errRolesDown = errors.New("roles source down")

type logRoles struct {
	log   *callLog
	graph RoleGraph
	fail  string // a group whose lookup fails
}

func (r logRoles) IsMember(ctx context.Context, role, group string) (bool, error) {
	r.log.add("member " + role + " " + group)
	if group == r.fail {
		return false, errRolesDown
	}
	return r.graph.IsMember(ctx, role, group)
}

type logResolver struct {
	log *callLog
	t   HostTable
}

func (r logResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	r.log.add("reverse " + addr)
	return r.t.LookupAddr(ctx, addr)
}

func (r logResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.log.add("forward " + host)
	return r.t.LookupNetIP(ctx, network, host)
}

type logInterfaces struct {
	log *callLog
	s   StaticInterfaces
}

func (i logInterfaces) InterfaceAddrs(ctx context.Context) ([]netip.Prefix, error) {
	i.log.add("interfaces")
	return i.s, nil
}

// The vocabulary of generated files: small, so that rules and connections
// meet often.
var (
	genTypes = []string{"local", "host", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
	genDBs   = []string{"db0", "db1", "db2", "db3", "db0", "db1", "all", "sameuser", "samerole", "replication",
		`"all"`, `"replication"`, "/^db[12]$", "u0", "g0"}
	genUsers = []string{"u0", "u1", "u2", "u3", "u0", "u1", "all", "+g0", "+g1", `"all"`, `"+g0"`, "/^u[0-2]$", "g0"}
	genAddrs = []string{"all", "samehost", "samenet", "h0.example", ".example", "h1.example",
		"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "10.1.2.3/32", "0.0.0.0/0", "192.168.0.0/16",
		"127.0.0.1/32", "10.1.2.0 255.255.255.0", "10.0.0.0 255.0.255.0", "10.1.0.0 255.255.0.255",
		"::/0", "fd00::/8", "fd00::1/128", "::1/128", "::ffff:10.1.2.3/128", "::ffff:0.0.0.0/96",
		"fd00:: ffff:ff00::", "2001:db8::/32", "fd00::1/64", "10.1.2.7/29", "10.1.2.3/31",
		"fd00::/72", "fd00::1/127", "fd00::/100", "::ffff:10.1.0.0/112", "fd00::8000:0:0/97", "10.1.2.128/25",
		"fd00:0:0:0:8000::/65", "fd00::/63"}
	genMethods = []string{"trust", "reject", "md5", "scram-sha-256", "password", "reject"}

	genConnAddrs = []string{"10.1.2.3", "10.1.2.4", "10.1.9.9", "10.200.0.1", "10.1.3.3", "192.168.1.1",
		"127.0.0.1", "::1", "fd00::1", "fd00::2", "::ffff:10.1.2.3", "2001:db8::1", "10.1.2.6", "fe80::1%eth0",
		"fd00::8000:0:1", "fd00::1:8000:0:0", "fd00::0:8000:0:0:1", "fd00::1:0:0:0:1", "10.1.2.200", "fd00::1:1"}
	genConnDBs   = []string{"db0", "db1", "db2", "db3", "u0", "u1", "g0", "g1", "", "replication", "all", "nodb"}
	genConnUsers = []string{"u0", "u1", "u2", "u3", "g0", "g1", "all", "+g0", "nobody"}
)

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func genList(rng *rand.Rand, vocab []string) string {
	n := 1 + rng.IntN(3)
	if rng.IntN(4) == 0 {
		n = 1
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = pick(rng, vocab)
	}
	return strings.Join(parts, ",")
}

// genFile writes n random rules. Literal-heavy rules (db0..3, u0..3 and IP
// prefixes) dominate so that the index files most rules under keys.
func genFile(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		typ := pick(rng, genTypes)
		db := genList(rng, genDBs)
		if rng.IntN(3) == 0 {
			db = fmt.Sprintf("db%d", rng.IntN(6))
		}
		user := genList(rng, genUsers)
		if rng.IntN(3) == 0 {
			user = fmt.Sprintf("u%d", rng.IntN(6))
		}
		method := pick(rng, genMethods)
		if typ == "local" {
			fmt.Fprintf(&b, "%s %s %s %s\n", typ, db, user, method)
			continue
		}
		fmt.Fprintf(&b, "%s %s %s %s %s\n", typ, db, user, pick(rng, genAddrs), method)
	}
	return b.String()
}

func genConn(rng *rand.Rand) Conn {
	c := Conn{
		Database: pick(rng, genConnDBs),
		User:     pick(rng, genConnUsers),
	}
	switch rng.IntN(8) {
	case 0:
		c.Local = true
	case 1:
		// The zero address: the index hands it to the linear loop.
		if rng.IntN(4) == 0 {
			break
		}
		fallthrough
	default:
		c.Addr = netip.MustParseAddr(pick(rng, genConnAddrs))
	}
	c.SSL = rng.IntN(3) == 0
	c.GSS = rng.IntN(3) == 0
	c.Replication = Replication(rng.IntN(3))
	return c
}

// genEnv returns an environment whose sources log their calls; some of the
// sources are missing, as callers may leave them nil.
func genEnv(rng *rand.Rand, log *callLog) Env {
	var env Env
	if rng.IntN(4) != 0 {
		r := logRoles{log: log, graph: RoleGraph{"u0": {"g0"}, "u1": {"g1"}, "g0": {"g1"}, "u2": nil, "u3": nil}}
		if rng.IntN(3) == 0 {
			r.fail = "g1"
		}
		env.Roles = r
	}
	if rng.IntN(4) != 0 {
		env.Resolver = logResolver{log: log, t: HostTable{
			Reverse: map[string][]string{
				"10.1.2.3": {"h0.example"}, "10.200.0.1": {"h1.example"}, "::1": {"h0.example"},
				"fd00::1": {"H0.EXAMPLE."}, "10.1.9.9": {"other.test"},
			},
			Forward: map[string][]string{
				"h0.example": {"10.1.2.3", "::1", "fd00::1"}, "h1.example": {"10.9.9.9"}, "other.test": {"10.1.9.9"},
			},
		}}
	}
	env.Interfaces = logInterfaces{log: log, s: StaticInterfaces{
		netip.MustParsePrefix("10.1.2.3/24"), netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("fd00::2/64"),
	}}
	return env
}

// compareIndex decides c with the index and with the linear loop and
// reports any difference.
func compareIndex(t *testing.T, rs *Ruleset, log *callLog, c Conn, what string) {
	t.Helper()
	ctx := context.Background()
	user, db := c.names(rs.version, rs.dbUserNS)
	st := rs.newState(ctx, &c, user, db)
	want := rs.decideLinear(&st)
	wantCalls := log.take()

	var got Decision
	if p := rs.idx.partitionOf(&c); p == nil {
		st = rs.newState(ctx, &c, user, db) // an invalid address has no partition
		got = rs.decideLinear(&st)
	} else if p.scan != nil {
		got = decided(p.scanPure(&c, user, db)) // as Decide does
	} else {
		got = rs.decideIndexed(ctx, p, &c, user, db)
	}
	gotCalls := log.take()

	if got.Outcome != want.Outcome || got.Rule != want.Rule || got.Reason != want.Reason || got.Err != want.Err {
		t.Fatalf("%s\nconn %+v\nindex:  %s\nlinear: %s", what, c, fmtDecision(got), fmtDecision(want))
	}
	if gotCalls != wantCalls {
		t.Fatalf("%s\nconn %+v\ndecision %s\nindex calls:  %s\nlinear calls: %s", what, c, fmtDecision(got), gotCalls, wantCalls)
	}
	// Decide itself must take the indexed path and agree.
	if d := rs.Decide(ctx, c); d.Rule != want.Rule || d.Outcome != want.Outcome {
		t.Fatalf("%s\nconn %+v\nDecide: %s\nlinear: %s", what, c, fmtDecision(d), fmtDecision(want))
	}
	log.take()
}

func fmtDecision(d Decision) string {
	s := d.Outcome.String()
	if d.Rule != nil {
		s += fmt.Sprintf(" line %d %q", d.Rule.Pos().Line, d.Rule.Raw())
	}
	if d.Reason != ReasonNone {
		s += " (" + d.Reason.String() + ")"
	}
	return s
}

func TestIndexMatchesLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2026))
	sets, conns := 600, 150
	if testing.Short() {
		sets = 100
	}
	indexed, parallel := 0, 0
	defer func(m int) { parIndexMin = m }(parIndexMin)
	for set := 0; set < sets; set++ {
		n := 1 + rng.IntN(120)
		// Every other set's index is built on every core, whatever its
		// size (its keyed partitions at once).
		parIndexMin = 1 << 30
		if set%2 == 1 {
			parIndexMin = 0
		}
		text := genFile(rng, n)
		p := Parser{Version: 13 + rng.IntN(6), SSL: rng.IntN(2) == 0}
		if p.Version <= 16 && rng.IntN(4) == 0 {
			p.DBUserNamespace = true
			text = strings.ReplaceAll(text, " md5\n", " password\n")
		}
		if p.Version < 16 {
			text = strings.ReplaceAll(text, "/^db[12]$", "db1")
			text = strings.ReplaceAll(text, "/^u[0-2]$", "u2")
		}
		log := new(callLog)
		p.Env = genEnv(rng, log)
		rs, err := p.LoadBytes("/gen/pg_hba.conf", []byte(text))
		if err != nil {
			t.Fatalf("set %d: %v\n%s", set, err, text)
		}
		keyed := 0
		for _, part := range rs.idx.parts {
			if !part.small && (part.db.slots != nil || part.user.slots != nil || part.ip.slots != nil || len(part.pureFB)+len(part.impFB) > 0) {
				keyed++
			}
		}
		indexed += keyed
		if keyed > 1 && parIndexMin == 0 && runtime.GOMAXPROCS(0) > 1 {
			parallel++
		}
		for k := 0; k < conns; k++ {
			compareIndex(t, rs, log, genConn(rng), fmt.Sprintf("set %d (version %d, ssl %v, dbns %v):\n%s", set, p.Version, p.SSL, p.DBUserNamespace, text))
		}
	}
	if indexed < sets/2 {
		t.Errorf("only %d indexed partitions in %d sets: the generator does not exercise the index", indexed, sets)
	}
	if runtime.GOMAXPROCS(0) > 1 && parallel < sets/20 {
		t.Errorf("only %d sets of %d built partitions at once", parallel, sets)
	}
	t.Logf("%d indexed partitions, %d sets built on more than one core", indexed, parallel)
}

// TestIndexMultiTenant checks every tenant of a generated multi-tenant file
// from inside and outside its network.
func TestIndexMultiTenant(t *testing.T) {
	rs, f := benchRuleset(t, 2000)
	log := new(callLog)
	for i := 0; i < f.Tenants; i += 7 {
		r := rs.Rules()[i+1]
		pfx, _ := r.Address().Prefix()
		in := pfx.Addr().Next()
		for _, c := range []Conn{
			{Addr: in, Database: r.Databases()[0].Value, User: r.Users()[0].Value},
			{Addr: in, Database: r.Databases()[0].Value, User: r.Users()[1].Value},
			{Addr: in, Database: r.Databases()[0].Value, User: "user_x"},
			{Addr: netip.MustParseAddr("127.0.0.1"), Database: r.Databases()[0].Value, User: "x"},
			{Addr: netip.MustParseAddr("198.51.100.7"), Database: r.Databases()[0].Value, User: r.Users()[0].Value},
			{Local: true, Database: r.Databases()[0].Value, User: "postgres"},
		} {
			compareIndex(t, rs, log, c, "multi-tenant")
		}
	}
}

// TestIndexShapes checks where the index files each kind of rule.
func TestIndexShapes(t *testing.T) {
	var b strings.Builder
	// Padding rules keep every partition above smallPartition.
	for i := 0; i < smallPartition+1; i++ {
		fmt.Fprintf(&b, "host pad%d all 10.%d.0.0/16 md5\nlocal pad%d all md5\nhost pad%d all fd%02x::/16 md5\n", i, i, i, i, i)
	}
	base := 3*(smallPartition+1) + 1
	rules := []struct {
		line       string
		part, want string
	}{
		{"host db1 all 10.1.0.0/16 md5", "ipv4", shapeDB},
		{"host all u1 10.1.0.0/16 md5", "ipv4", shapeUser},
		{"host all all 10.1.0.0/16 md5", "ipv4", shapeIP},
		{"host all all 10.1.0.0/16 md5", "ipv6", shapeNone},
		{"host all all 10.0.0.0 255.0.255.0 md5", "ipv4", shapePureFB},
		{"host all all all md5", "ipv6", shapePureFB},
		{"host /^a all all md5", "ipv4", shapePureFB},
		{"host db1 +g 10.1.0.0/16 md5", "ipv4", shapeDBImp},
		{"host all +g 10.1.0.0/16 md5", "ipv4", shapeImpFB},
		{"host samerole u1 10.1.0.0/16 md5", "ipv4", shapeImpFB},
		{"host db1 u1 h.example md5", "ipv4", shapeImpFB},
		{"host db1 u1 samenet md5", "ipv6", shapeImpFB},
		{"local db1 u1 md5", "local", shapeDB},
		{"local db1 u1 md5", "ipv4", shapeNone},
		{"local all u1,u2 md5", "local", shapeUser},
		{"local sameuser u1 md5", "local", shapeUser},
		{"local samerole u1 md5", "local", shapeImpFB},
		{"hostssl all all all md5", "ipv4", shapeNone}, // ssl off: never matches
		{"host pad0 u9 10.9.0.0/16 md5", "ipv4", shapeDB},
		{"host all pad9 10.0.0.0/16 md5", "ipv4", shapeUser},
		// Crowded buckets: the rules move on to their users, then to their
		// addresses.
		{"host crowd cu0 10.9.0.0/16 md5", "ipv4", shapeUser},
		{"host crowd crowduser 10.9.0.0/16 md5", "ipv4", shapeIP},
		{"host crowd +g 10.9.0.0/16 md5", "ipv4", shapeDBImp},
		{"host crowd all all md5", "ipv4", shapeDB},
		// A regular expression with back-references may be unresolved
		// (the matcher's work bound), so its rule is tested in file order.
		{`host db1 "/^(a*)\1$" 10.1.0.0/16 md5`, "ipv4", shapeDBImp},
		{`host "/^(a*)\1$" u1 10.1.0.0/16 md5`, "ipv4", shapeImpFB},
		{"host all /^a+$ 10.1.0.0/16 md5", "ipv4", shapeIP},
	}
	for _, r := range rules {
		b.WriteString(r.line + "\n")
	}
	for i := 1; i <= bucketLimit; i++ {
		fmt.Fprintf(&b, "host crowd cu%d 10.9.0.0/16 md5\nhost crowd crowduser 10.99.%d.0/24 md5\n", i, i)
	}
	p := Parser{Env: Env{Roles: RoleGraph{}}}
	rs, err := p.LoadBytes("/x/pg_hba.conf", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rules {
		if got := rs.indexShape(r.part, base+i); got != r.want {
			t.Errorf("%q in %s: filed as %s, want %s", r.line, r.part, got, r.want)
		}
	}
	small, _ := (&Parser{}).LoadBytes("/x/pg_hba.conf", []byte("host db1 all 10.1.0.0/16 md5\n"))
	if got := small.indexShape("ipv4", 1); got != shapeLinear {
		t.Errorf("one-rule file: filed as %s, want %s", got, shapeLinear)
	}
}

// FuzzIndex compares the index with the linear loop on fuzzed files and
// connections.
func FuzzIndex(f *testing.F) {
	f.Add(genFile(rand.New(rand.NewPCG(1, 1)), 30), uint64(1))
	f.Add("host db1 u1 10.1.2.0/24 md5\nhost all +g0 all reject\nlocal all all trust\n", uint64(7))
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 3))
		// Repeat the file so that partitions are large enough to index.
		text = strings.Repeat(text+"\n", 1+smallPartition/(1+strings.Count(text, "\n")))
		log := new(callLog)
		p := Parser{Version: 16, Env: genEnv(rng, log), FS: fstest.MapFS{}}
		rs, err := p.LoadBytes("/f/pg_hba.conf", []byte(text))
		if err != nil {
			return
		}
		for k := 0; k < 40; k++ {
			compareIndex(t, rs, log, genConn(rng), "fuzz")
		}
	})
}

// Shapes a rule is filed under, for tests (indexShape).
const (
	shapeNone   = "none" // not in the partition
	shapeLinear = "linear"
	shapePureFB = "fallback"
	shapeImpFB  = "fallback-impure"
	shapeDB     = "db"
	shapeDBImp  = "db-impure"
	shapeUser   = "user"
	shapeIP     = "ip"
)

// indexShape tells how the index filed the rule with the given 1-based
// number for connections of partition part ("local", "ipv4", "ipv6").
func (rs *Ruleset) indexShape(part string, number int) string {
	var p *partition
	switch part {
	case "local":
		p = &rs.idx.parts[partLocal]
	case "ipv4":
		p = &rs.idx.parts[part4]
	default:
		p = &rs.idx.parts[part6]
	}
	i := int32(number - 1)
	has := func(l []int32) bool {
		for _, x := range l {
			if x == i {
				return true
			}
		}
		return false
	}
	switch {
	case has(p.all):
		return shapeLinear
	case has(p.pureFB):
		return shapePureFB
	case has(p.impFB):
		return shapeImpFB
	}
	in := func(t *table) bool {
		for _, s := range t.slots {
			if s == 0 {
				continue
			}
			if v := int32(uint32(s)); v == i || v < 0 && has(t.post[t.offs[-v-1]:t.offs[-v]]) {
				return true
			}
		}
		return false
	}
	switch {
	case in(&p.ip):
		return shapeIP
	case in(&p.user):
		return shapeUser
	case in(&p.db):
		return shapeDB
	case in(&p.dbImp):
		return shapeDBImp
	}
	return shapeNone
}

// TestScanNameEq checks the word comparison of a small partition's names
// (scanName) against string equality: names of every length up to past 16
// bytes, and every name of the same length that differs in one byte.
func TestScanNameEq(t *testing.T) {
	for n := 0; n <= 20; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + i)
		}
		s := string(b)
		sn := newScanName(s)
		is := func(o string) bool { return len(o) == sn.n && sn.eq(o) }
		if sn.n != n || !is(strings.Clone(s)) {
			t.Fatalf("%q: not equal to itself", s)
		}
		for i := 0; i < n; i++ {
			for _, x := range []byte{0, 'A', b[i] ^ 0x80, b[i] + 1} {
				o := []byte(s)
				o[i] = x
				if is(string(o)) || is(string(o[:n-1])) || is(s+"x") {
					t.Fatalf("%q equals %q", s, o)
				}
			}
		}
	}
}

// TestScanPureMatchesLinear checks the scan of small partitions of pure
// rules (partition.scanPure: candidate sets by connection state and by
// address byte, names compared as words) against the linear loop, for
// names of many lengths that share their first and last bytes and for
// contiguous and non-contiguous IPv4 masks.
func TestScanPureMatchesLinear(t *testing.T) {
	names := []string{"", "a", "ab", "abc", "abd", "abcd", "abce", "abxd", "abcde", "abxde", "abcdefg", "abcxefg",
		"abcdefgh", "abcdefgx", "xbcdefgh", "abcdefghi", "abcdxfghi", "abcdefghijklmnop", "abcdefghXjklmnop",
		"abcdefghijklmnopq", "abcdefghijklmnopX", "abcdefghXjklmnopq", "tenant_8", "tenant_9", "admin_8", "admin_9",
		"user_8", "abcdx", "abcdy", "abcdefx", "abcdefy", "abcdefghiX", "abcdefghiY"}
	addrs := []string{"all", "10.1.2.0/24", "10.1.2.3/32", "10.0.0.0/8", "0.0.0.0/0", "10.1.2.128/25", "10.1.2.7/29",
		"10.0.0.0 255.0.255.0", "10.1.0.0 255.255.0.255", "10.1.2.0 255.255.255.1", "192.168.0.0/16",
		"::/0", "fd00::/8", "fd00::1/128"}
	connAddrs := []string{"10.1.2.3", "10.1.2.4", "10.1.2.200", "10.200.2.3", "10.1.9.3", "11.1.2.3", "192.168.1.1",
		"0.0.0.0", "255.255.255.255", "10.1.2.6", "fd00::1", "::1"}
	types := []string{"host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc", "local"}
	quote := func(s string) string {
		if s == "" {
			return `""`
		}
		return s
	}
	list := func(rng *rand.Rand, extra ...string) string {
		k := 1 + rng.IntN(3)
		parts := make([]string, k)
		for i := range parts {
			if rng.IntN(6) == 0 {
				parts[i] = pick(rng, extra)
			} else {
				parts[i] = quote(pick(rng, names))
			}
		}
		return strings.Join(parts, ",")
	}
	rng := rand.New(rand.NewPCG(20, 12))
	for set := 0; set < 400; set++ {
		var b strings.Builder
		for i, n := 0, 1+rng.IntN(smallPartition); i < n; i++ {
			typ := pick(rng, types)
			db := list(rng, "all", "sameuser", "replication", "/^abc")
			user := list(rng, "all", "/d$")
			if typ == "local" {
				fmt.Fprintf(&b, "local %s %s trust\n", db, user)
				continue
			}
			fmt.Fprintf(&b, "%s %s %s %s %s\n", typ, db, user, pick(rng, addrs), pick(rng, []string{"trust", "reject", "md5"}))
		}
		p := Parser{Version: 16, SSL: true}
		rs, err := p.LoadBytes("/gen/pg_hba.conf", []byte(b.String()))
		if err != nil {
			t.Fatalf("set %d: %v\n%s", set, err, b.String())
		}
		scanned := false
		for _, part := range rs.idx.parts {
			scanned = scanned || part.scan != nil
		}
		if !scanned {
			t.Fatalf("set %d: no partition is scanned\n%s", set, b.String())
		}
		log := new(callLog)
		for k := 0; k < 200; k++ {
			c := Conn{Database: pick(rng, names), User: pick(rng, names), SSL: rng.IntN(2) == 0, GSS: rng.IntN(3) == 0,
				Replication: Replication(rng.IntN(4) % 3)}
			if rng.IntN(6) == 0 {
				c.Local = true
			} else {
				c.Addr = netip.MustParseAddr(pick(rng, connAddrs))
			}
			compareIndex(t, rs, log, c, fmt.Sprintf("set %d:\n%s", set, b.String()))
		}
	}
}
