package audit

// Witnesses: a concrete connection that shows a proof, checked with the
// matcher itself.

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/pghba/pghba/hba"
)

// witness finds a connection rule i matches and that an earlier rule
// decides, checked with the matcher itself in an environment where the
// roles named by the rules exist without grants, no host name resolves and
// the server has no interfaces. With matchFirst, the first of prefer must
// match it. It returns the connection and the index of the deciding rule.
func (l *linter) witness(i int, prefer []int, matchFirst bool) (*hba.Conn, int) {
	rules := l.f.Rules
	b := rules[i]
	if l.roleFirst == nil {
		l.roleFirst = map[string]int{}
		for k, r := range rules {
			for _, m := range r.Names(hba.ColumnUser) {
				if _, ok := l.roleFirst[m.Value]; m.Kind == hba.NameRole && !ok {
					l.roleFirst[m.Value] = k
				}
			}
		}
	}
	env := hba.Env{Roles: lintRoles{first: l.roleFirst, upto: i}, Resolver: hba.HostTable{}, Interfaces: hba.StaticInterfaces{}}
	mk := func(rs []*hba.Rule) *hba.Ruleset {
		set, err := l.compiler.Compile(&hba.File{Path: l.f.Path, Rules: rs})
		if err != nil {
			return nil
		}
		return set.WithEnv(env)
	}
	if !l.fullDone {
		l.full, l.fullDone = mk(rules), true
	}
	// The first match among rules[:i] is the first match of the whole file
	// when that comes before rule i, and none otherwise: one compiled file
	// serves every witness.
	only := mk([]*hba.Rule{b})
	var first *hba.Ruleset
	if matchFirst && len(prefer) > 0 {
		first = mk([]*hba.Rule{rules[prefer[0]]})
	}
	if only == nil || l.full == nil || i == 0 {
		return nil, -1
	}
	earlier := l.full.WithEnv(env)
	ctx := context.Background()

	var others []*hba.Rule
	for _, j := range prefer {
		others = append(others, rules[j])
	}
	dbs, users := witnessNames(b, others)
	var best *hba.Conn
	bestD := -1
	tries := 0
	for _, cls := range witnessClasses(l.spaces[i].boxes) {
		addrs := []netip.Addr{{}}
		if cls&clsNormal&^clsLocal != 0 || (cls>>clsPhysShift)&^clsLocal != 0 {
			addrs = witnessAddrs(l.spaces[i].boxes, l.spacesOf(prefer))
		}
		for _, a := range addrs {
			for _, db := range dbs {
				for _, u := range users {
					if tries++; tries > 400 {
						return best, bestD
					}
					c := classConn(cls)
					c.Addr, c.Database, c.User = a, db, u
					if c.Replication == hba.PhysicalReplication {
						c.Database = ""
					}
					if l.dbUserNS && c.Replication != hba.PhysicalReplication {
						if strings.Contains(u, "@") {
							continue
						}
						c.User = u + "@"
						if db == "" {
							c.Database = u // sameuser: the database is the user's name
						}
					}
					if d := only.Decide(ctx, c); d.Rule != b {
						continue
					}
					d := earlier.Decide(ctx, c)
					if d.Rule == nil || d.Outcome == hba.Unresolved || l.order[d.Rule] >= i {
						continue
					}
					if first != nil {
						if fd := first.Decide(ctx, c); fd.Rule == nil || fd.Outcome == hba.Unresolved {
							continue
						}
					}
					di := l.order[d.Rule]
					if slices.Contains(prefer, di) {
						return &c, di
					}
					if best == nil {
						cc := c
						best, bestD = &cc, di
					}
				}
			}
		}
	}
	return best, bestD
}

func (l *linter) spacesOf(js []int) []*ruleSpace {
	out := make([]*ruleSpace, len(js))
	for k, j := range js {
		out[k] = &l.spaces[j]
	}
	return out
}

// witnessClasses lists single class bits of the boxes, most ordinary first.
func witnessClasses(bs []box) []uint8 {
	var all uint8
	var phys uint8
	for _, b := range bs {
		all |= b.cls & clsNormal
		phys |= b.cls >> clsPhysShift
	}
	var out []uint8
	for _, c := range []uint8{clsPlain, clsSSL, clsGSS, clsLocal} {
		if all&c != 0 {
			out = append(out, c)
		}
	}
	for _, c := range []uint8{clsPlain, clsSSL, clsGSS, clsLocal} {
		if phys&c != 0 {
			out = append(out, c<<clsPhysShift)
		}
	}
	return out
}

func classConn(cls uint8) hba.Conn {
	var c hba.Conn
	if cls > clsNormal {
		c.Replication = hba.PhysicalReplication
		cls >>= clsPhysShift
	}
	switch cls {
	case clsLocal:
		c.Local = true
	case clsSSL:
		c.SSL = true
	case clsGSS:
		c.GSS = true
	}
	return c
}

// exampleAddrs are tried first inside very wide ranges.
var exampleAddrs = []netip.Addr{netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::7")}

// witnessAddrs proposes client addresses inside the boxes' ranges, and
// inside their overlap with the preferred rules' ranges first.
func witnessAddrs(bs []box, prefer []*ruleSpace) []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		if !slices.Contains(out, a) && len(out) < 8 {
			out = append(out, a)
		}
	}
	host := func(p netip.Prefix) netip.Addr {
		a := p.Masked().Addr()
		if p.Bits() < a.BitLen()-1 {
			a = a.Next()
		}
		return a
	}
	for _, b := range bs {
		for _, p := range b.addr.pfx {
			for _, a := range prefer {
				for _, ab := range a.boxes {
					for _, ap := range ab.addr.pfx {
						if !p.Overlaps(ap) {
							continue
						}
						q := p
						if ap.Bits() > p.Bits() {
							q = ap
						}
						for _, e := range exampleAddrs {
							if q.Bits() < 8 && q.Contains(e) {
								add(e)
							}
						}
						add(host(q))
					}
				}
			}
			for _, e := range exampleAddrs {
				if p.Bits() < 8 && p.Contains(e) {
					add(e)
				}
			}
			add(host(p))
		}
		for _, at := range b.addr.atoms {
			if at.kind == hba.AddrIP {
				ip, mask := at.ip.IP.AsSlice(), at.ip.Mask.AsSlice()
				for k := range ip {
					ip[k] &= mask[k]
				}
				a, _ := netip.AddrFromSlice(ip)
				add(a)
			}
		}
	}
	return out
}

// witnessNames proposes database and user names: the rule's own literals,
// those of the other rules it accepts, role names, then stock names. The
// empty database stands for "the user name" (sameuser).
func witnessNames(b *hba.Rule, others []*hba.Rule) (dbs, users []string) {
	addLit := func(list *[]string, s string) {
		if len(s) < namedatalen && s != "" && !slices.Contains(*list, s) && len(*list) < 6 {
			*list = append(*list, s)
		}
	}
	for _, r := range append([]*hba.Rule{b}, others...) {
		for _, m := range r.Names(hba.ColumnDatabase) {
			if m.Kind == hba.NameLiteral {
				addLit(&dbs, m.Value)
			}
		}
		for _, m := range r.Names(hba.ColumnUser) {
			if m.Kind == hba.NameLiteral || m.Kind == hba.NameRole {
				addLit(&users, m.Value)
			}
		}
	}
	for _, r := range append([]*hba.Rule{b}, others...) {
		for _, m := range r.Names(hba.ColumnDatabase) {
			if m.Kind == hba.NameRegex {
				addLit(&dbs, regexSample(m.Value[1:]))
			}
		}
		for _, m := range r.Names(hba.ColumnUser) {
			if m.Kind == hba.NameRegex {
				addLit(&users, regexSample(m.Value[1:]))
			}
		}
	}
	dbs = append(dbs, "app", "")
	users = append(users, "bob")
	return dbs, users
}

// regexSample guesses a string a simple regular expression matches:
// anchors dropped, ".*" and "x*" left out, "\d" as 1, "\w" and "." as a,
// a bracket expression as its first character, {n,m} as n copies. The
// guess is only a candidate: witnesses are checked with the matcher.
func regexSample(p string) string {
	var out []byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '^', '$', '(', ')':
		case '|':
			return string(out)
		case '*', '?':
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case '+':
		case '.':
			out = append(out, 'a')
		case '\\':
			if i+1 < len(p) {
				i++
				switch p[i] {
				case 'd':
					out = append(out, '1')
				case 'w', 's':
					out = append(out, 'a')
				default:
					out = append(out, p[i])
				}
			}
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '^' {
				return string(out)
			}
			if j < len(p) {
				out = append(out, p[j])
			}
			for i = j + 1; i < len(p) && p[i] != ']'; i++ {
			}
		case '{':
			n := 0
			j := i + 1
			for ; j < len(p) && p[j] >= '0' && p[j] <= '9'; j++ {
				n = n*10 + int(p[j]-'0')
			}
			for ; j < len(p) && p[j] != '}'; j++ {
			}
			i = j
			if len(out) > 0 && n < 64 {
				last := out[len(out)-1]
				out = out[:len(out)-1]
				for k := 0; k < n; k++ {
					out = append(out, last)
				}
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}
