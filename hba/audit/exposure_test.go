package audit

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

// TestExposureCovers checks the exposure summary against the matcher on
// generated files: every connection a rule decides, in every generated
// environment, is shown in a row of that rule with its method, transport,
// address, database and user. (The summary may overstate; it must never
// leave out a connection.)
func TestExposureCovers(t *testing.T) {
	files := 150
	if testing.Short() {
		files = 30
	}
	rng := rand.New(rand.NewPCG(9, 3))
	conns := lintGenConns()
	envs := lintGenEnvs()
	checked := 0
	for n := 0; n < files; n++ {
		text := lintGenFile(rng, 3+rng.IntN(7))
		p := hba.Parser{Version: 18, SSL: n%2 == 0}
		f := p.ParseBytes("/pg_hba.conf", []byte(text))
		if len(f.Errors) > 0 || len(f.Rules) == 0 {
			continue
		}
		var opts ExposureOptions
		if n%5 == 0 {
			opts.Listen, _ = ParseListen("localhost")
		}
		rows := Exposure(f, opts)
		for _, env := range envs {
			q := p
			q.Env = env
			rs, err := q.Compile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range conns {
				if opts.Listen != nil && !c.Local && !c.Addr.IsLoopback() {
					continue
				}
				d := rs.Decide(context.Background(), c)
				if d.Rule == nil || d.Outcome == hba.Unresolved {
					continue
				}
				checked++
				if !slices.ContainsFunc(rows, func(r ExposureRow) bool { return rowShows(&r, d.Rule, c) }) {
					t.Fatalf("file:\n%s\nline %d decides %+v, which no row shows:\n%+v", text, d.Rule.Pos().Line, c, rows)
				}
			}
		}
	}
	t.Logf("%d decisions found in the summaries of %d files", checked, files)
}

func rowShows(r *ExposureRow, rule *hba.Rule, c hba.Conn) bool {
	if !slices.Contains(r.Rules, rule) || r.Method != rule.Method() {
		return false
	}
	switch {
	case c.Local:
		if r.Transport != TransportLocal {
			return false
		}
	default:
		cls := TransportPlain
		if c.SSL {
			cls = TransportSSL
		} else if c.GSS {
			cls = TransportGSS
		}
		if r.Transport&TransportLocal != 0 || !r.Transport.Has(cls) {
			return false
		}
		if !rowHasAddr(r, c.Addr) {
			return false
		}
	}
	if c.Replication == hba.PhysicalReplication {
		if !physical(r.Databases) {
			return false
		}
	} else {
		db := c.Database
		if db == "" {
			db = c.User
		}
		if physical(r.Databases) || !wordsHave(r.Databases, db) {
			return false
		}
	}
	return wordsHave(r.Users, c.User)
}

func rowHasAddr(r *ExposureRow, a netip.Addr) bool {
	in := false
	for _, w := range r.Addresses {
		p, err := netip.ParsePrefix(w)
		if err != nil {
			return true // a host name, samehost, samenet: may be anything
		}
		if p.Contains(a) {
			in = true
		}
	}
	for _, w := range r.Except {
		if netip.MustParsePrefix(w).Contains(a) {
			return false
		}
	}
	return in
}

// physical reports whether n is the database of physical replication rows.
func physical(n NameSet) bool { return !n.All && slices.Equal(n.Tokens, []string{"replication"}) }

func wordsHave(n NameSet, name string) bool {
	if n.All {
		return !slices.Contains(n.Except, nameWord(name))
	}
	for _, w := range n.Tokens {
		if w == nameWord(name) {
			return true
		}
		if strings.HasPrefix(w, "+") || strings.HasPrefix(w, "/") || w == "sameuser" || w == "samerole" {
			return true // depends on roles or a pattern
		}
	}
	return false
}

func TestMergePrefixes(t *testing.T) {
	var ps []netip.Prefix
	for _, s := range []string{"10.128.0.0/9", "10.0.0.0/9", "10.1.0.0/16", "192.168.0.0/24", "192.168.1.0/24"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	got := mergePrefixes(ps)
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.0/23")}
	if !slices.Equal(got, want) {
		t.Errorf("mergePrefixes = %v, want %v", got, want)
	}
}

func TestExposureOrder(t *testing.T) {
	var p hba.Parser
	f := p.ParseBytes("/pg_hba.conf", []byte(`local all all peer
host all all 10.0.0.0/24 scram-sha-256
host all all 10.0.0.0/8 md5
host app all 0.0.0.0/0 password
host all all 192.168.0.0/16 trust
host all all 127.0.0.1/32 trust
host all all 0.0.0.0/0 reject
`))
	var got []string
	for _, r := range Exposure(f, ExposureOptions{}) {
		got = append(got, r.Method.String()+" "+strings.Join(r.Addresses, ",")+" -"+strings.Join(r.Except, ","))
	}
	// Rows of one method, databases and users are merged; within a
	// method, wider first; local last.
	want := []string{
		"trust 127.0.0.1/32,192.168.0.0/16 -",
		"password 0.0.0.0/0 -10.0.0.0/8",
		"md5 10.0.0.0/8 -10.0.0.0/24",
		"scram-sha-256 10.0.0.0/24 -",
		"peer  -",
		"reject 0.0.0.0/0 -10.0.0.0/8,127.0.0.1/32,192.168.0.0/16",
	}
	if !slices.Equal(got, want) {
		t.Errorf("order:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTransportAndNameSetString: the words of the CLI's exposure table and
// JSON output come from these methods.
func TestTransportAndNameSetString(t *testing.T) {
	for tr, want := range map[Transport]string{
		TransportLocal: "local", TransportTCP: "tcp", TransportSSL: "tcp:ssl",
		TransportPlain | TransportGSS: "tcp:plain,gss", TransportPlain | TransportSSL: "tcp:plain,ssl",
	} {
		if got := tr.String(); got != want {
			t.Errorf("Transport(%d).String() = %q, want %q", tr, got, want)
		}
	}
	if !TransportTCP.Has(TransportSSL) || TransportSSL.Has(TransportTCP) || TransportLocal.Has(TransportPlain) {
		t.Error("Has")
	}
	for _, c := range []struct {
		n    NameSet
		want string
	}{
		{NameSet{All: true}, "all"},
		{NameSet{All: true, Except: []string{"a", `"all"`}}, `all except a, "all"`},
		{NameSet{Tokens: []string{"app", "+admins", "/^x"}}, "app, +admins, /^x"},
		{NameSet{}, ""},
	} {
		if got := c.n.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.n, got, c.want)
		}
	}
}

// TestExposureRowTypes: a hostnossl rule's row is plain and GSS TCP, a local
// rule's is local, and names left out of all are in Except.
func TestExposureRowTypes(t *testing.T) {
	var p hba.Parser
	f := p.ParseBytes("/pg_hba.conf", []byte("host secret all 0.0.0.0/0 reject\nhostnossl all all 0.0.0.0/0 md5\nlocal all all peer\n"))
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	got := map[hba.Method]ExposureRow{}
	for _, r := range Exposure(f, ExposureOptions{}) {
		got[r.Method] = r
	}
	md5 := got[hba.MD5]
	if md5.Transport != TransportPlain|TransportGSS || !md5.Databases.All || !slices.Equal(md5.Databases.Except, []string{"secret"}) || !md5.Users.All {
		t.Errorf("md5 row %+v", md5)
	}
	if peer := got[hba.Peer]; peer.Transport != TransportLocal || !peer.Databases.All || len(peer.Databases.Except) != 0 {
		t.Errorf("peer row %+v", peer)
	}
}
