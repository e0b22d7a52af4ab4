// Names, databases and users: the pools of role and database names, their
// memberships, literal and regular-expression spellings, and the target
// connections with the database and user columns built to match them (or not).

package conformance

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/pghba/pghba/hba"
)

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
