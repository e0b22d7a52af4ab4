package audit

import (
	"cmp"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"github.com/pghba/pghba/hba"
)

// Transport is a set of ways a client reaches the server: the Unix-domain
// socket, or TCP with some of: no encryption, SSL, GSSAPI encryption. An
// exposure row's transport is either TransportLocal or a non-empty set of
// the three TCP ones. The zero value is the empty set.
type Transport uint8

// Transports.
const (
	TransportLocal Transport = Transport(clsLocal) // Unix-domain socket (local rules)
	TransportPlain Transport = Transport(clsPlain) // TCP without encryption
	TransportSSL   Transport = Transport(clsSSL)   // TCP with SSL
	TransportGSS   Transport = Transport(clsGSS)   // TCP with GSSAPI encryption
	// TransportTCP is every TCP connection (host rules).
	TransportTCP = TransportPlain | TransportSSL | TransportGSS
)

// Has reports whether t holds every transport of u.
func (t Transport) Has(u Transport) bool { return t&u == u }

// String writes t as "local", "tcp" (every TCP transport), or "tcp:"
// followed by the encryptions of t among plain, ssl and gss, for example
// "tcp:ssl" for hostssl and "tcp:plain,gss" for hostnossl.
func (t Transport) String() string {
	switch t {
	case TransportLocal:
		return "local"
	case TransportTCP:
		return "tcp"
	}
	var w []string
	for _, c := range []struct {
		bit  Transport
		name string
	}{{TransportPlain, "plain"}, {TransportSSL, "ssl"}, {TransportGSS, "gss"}} {
		if t&c.bit != 0 {
			w = append(w, c.name)
		}
	}
	if t&TransportLocal != 0 {
		w = append(w, "local")
	}
	return "tcp:" + strings.Join(w, ",")
}

// NameSet is the databases or the users of an exposure row.
type NameSet struct {
	// All is set when the row reaches every name but those in Except.
	All    bool
	Except []string
	// Tokens, when All is not set, are the names the row reaches: literal
	// names (quoted where they would read as a keyword, +role or a regular
	// expression), the keywords sameuser and samerole, +role and regular
	// expressions. Physical replication connections have the single token
	// replication, unquoted, as their database.
	Tokens []string
}

// String writes n as "all", "all except x, y" or its tokens joined by ", ".
func (n NameSet) String() string {
	if n.All {
		if len(n.Except) == 0 {
			return "all"
		}
		return "all except " + strings.Join(n.Except, ", ")
	}
	return strings.Join(n.Tokens, ", ")
}

// ExposureRow is one line of the exposure summary: connections of one
// transport, from some addresses, to some databases, as some users, that
// one method decides.
type ExposureRow struct {
	Method    hba.Method
	Transport Transport
	// Addresses are the client addresses: merged IP ranges, then host
	// names, samehost and samenet, in that order; empty for local. Except,
	// when non-empty, are holes in Addresses[0] (an IPv4 or IPv6 range
	// written as a wider range less a few smaller ones).
	Addresses []string
	Except    []string
	// Databases and Users are the names reached.
	Databases NameSet
	Users     NameSet
	// Rules are the deciding rules, in file order.
	Rules []*hba.Rule

	score float64
}

// ExposureOptions are the facts Exposure uses beyond the file.
type ExposureOptions struct {
	// Listen, if non-nil, restricts TCP clients to those the server's
	// listen_addresses admit (see Listen).
	Listen *Listen
}

// Exposure summarises who can reach what: for each rule, the connections
// it decides (what it matches less what earlier rules certainly match),
// grouped by method, transport, databases and users with the address
// ranges merged; the most exposed first (trust, password, md5, other
// methods, reject; then wider address ranges first; then file order).
//
// The summary errs on the side of exposure: where an earlier rule's reach
// depends on the environment (host names, roles, interfaces, regular
// expressions), the later rule is shown as reaching those connections too.
// A regular expression that cannot be evaluated on a name within the
// matcher's work limit (see hba.ReasonRegexTooComplex) counts as not
// certainly matching it: the later rules for that name are shown too,
// although Decide refuses such a connection at the expression's rule. So a
// rule is never hidden behind an earlier rule whose match is undecidable;
// the cost is an over-estimate. Rules that can never match and lines that
// failed to load are left out.
func Exposure(f *hba.File, opts ExposureOptions) []ExposureRow {
	spaces := make([]ruleSpace, len(f.Rules))
	for i, r := range f.Rules {
		spaces[i] = spaceOf(r)
	}
	var reach *addrSet
	if opts.Listen != nil {
		reach = &addrSet{pfx: opts.Listen.reach()}
	}
	type key struct {
		method    hba.Method
		transport Transport
		dbs       string
		users     string
	}
	work := totalWork
	rows := map[key]*ExposureRow{}
	accs := map[key]*exposureAddrs{}
	var order []key
	for i, r := range f.Rules {
		rem := spaces[i].boxes
		budget := min(ruleWork, work)
		for j := 0; j < i && len(rem) > 0; j++ {
			if quickDisjoint(spaces[i].boxes, spaces[j].boxes) {
				continue
			}
			next, _, ok := subtract(rem, &spaces[j], &budget)
			if !ok {
				break // too fragmented: keep what is left, an over-estimate
			}
			rem = next
		}
		work -= min(ruleWork, work) - max(budget, 0)
		for _, b := range rem {
			if reach != nil && !b.addr.local {
				b.addr = b.addr.inter(reach)
				if b.addr.empty() {
					continue
				}
			}
			for _, cls := range []uint8{b.cls & clsNormal, b.cls >> clsPhysShift} {
				if cls == 0 {
					continue
				}
				dbs := NameSet{Tokens: []string{"replication"}}
				if cls == b.cls&clsNormal {
					dbs = nameSetOf(&b.db)
				}
				users := nameSetOf(&b.user)
				k := key{r.Method(), Transport(cls), dbs.key(), users.key()}
				row := rows[k]
				if row == nil {
					row = &ExposureRow{Method: r.Method(), Transport: k.transport, Databases: dbs, Users: users}
					rows[k] = row
					accs[k] = &exposureAddrs{}
					order = append(order, k)
				}
				if len(row.Rules) == 0 || row.Rules[len(row.Rules)-1] != r {
					row.Rules = append(row.Rules, r)
				}
				accs[k].add(&b.addr)
			}
		}
	}
	out := make([]ExposureRow, 0, len(order))
	for _, k := range order {
		row := rows[k]
		row.finish(accs[k])
		out = append(out, *row)
	}
	slices.SortStableFunc(out, func(a, b ExposureRow) int {
		if c := cmp.Compare(methodRank(a.Method), methodRank(b.Method)); c != 0 {
			return c
		}
		return cmp.Compare(b.score, a.score)
	})
	return out
}

// methodRank orders methods from the most exposed.
func methodRank(m hba.Method) int {
	switch m {
	case hba.Trust:
		return 0
	case hba.Password:
		return 1
	case hba.MD5:
		return 2
	case hba.Reject:
		return 4
	}
	return 3
}

// nameSetOf writes a name set as a NameSet.
func nameSetOf(n *nameSet) NameSet {
	if n.all {
		out := NameSet{All: true}
		for _, s := range n.not {
			out.Except = append(out.Except, nameWord(s))
		}
		return out
	}
	var out NameSet
	for _, s := range n.lits {
		out.Tokens = append(out.Tokens, nameWord(s))
	}
	for _, a := range n.atoms {
		switch a.kind {
		case hba.NameRole:
			out.Tokens = append(out.Tokens, "+"+a.s)
		case hba.NameSameUser:
			out.Tokens = append(out.Tokens, "sameuser")
		case hba.NameSameRole:
			out.Tokens = append(out.Tokens, "samerole")
		default:
			out.Tokens = append(out.Tokens, a.s)
		}
	}
	return out
}

// key is n as a map key: rows with equal keys have equal name sets.
func (n NameSet) key() string {
	all := "\x01"
	if n.All {
		all = "\x02"
	}
	return all + strings.Join(n.Except, "\x00") + "\x03" + strings.Join(n.Tokens, "\x00")
}

// nameWord writes a name as a token that reads back as that name: quoted
// when it is a keyword or looks like +role or a regular expression.
func nameWord(s string) string {
	switch s {
	case "all", "sameuser", "samerole", "samegroup", "replication":
		return `"` + s + `"`
	}
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "/") {
		return `"` + s + `"`
	}
	return hba.Token{Value: s}.String()
}

// exposureAddrs accumulates a row's addresses while rows are built.
type exposureAddrs struct {
	pfx   []netip.Prefix
	atoms []string
	local bool
}

func (acc *exposureAddrs) add(a *addrSet) {
	acc.local = acc.local || a.local
	acc.pfx = append(acc.pfx, a.pfx...)
	for _, at := range a.atoms {
		var w string
		switch at.kind {
		case hba.AddrSameHost:
			w = "samehost"
		case hba.AddrSameNet:
			w = "samenet"
		case hba.AddrIP:
			w = at.ip.IP.String() + " mask " + at.ip.Mask.String()
		default:
			w = at.host
		}
		switch fam := at.fam; {
		case at.kind == hba.AddrIP:
		case fam == fam4:
			w += " (IPv4)"
		case fam == fam6:
			w += " (IPv6)"
		}
		if !slices.Contains(acc.atoms, w) {
			acc.atoms = append(acc.atoms, w)
		}
	}
}

// finish merges the row's ranges and computes its width score.
func (row *ExposureRow) finish(acc *exposureAddrs) {
	row.score = -1
	for _, fam := range []uint8{fam4, fam6} {
		var ps []netip.Prefix
		for _, p := range acc.pfx {
			if famOf(p.Addr()) == fam {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			continue
		}
		ps = mergePrefixes(ps)
		// Write "C except H…" when the holes are fewer than the pieces.
		c := ps[0]
		for _, p := range ps[1:] {
			c = commonPrefix(c, p)
		}
		holes := []netip.Prefix{c}
		for _, p := range ps {
			holes = subtractPrefix(holes, p)
		}
		if len(ps) > 1 && len(holes) < len(ps) && len(row.Except) == 0 && len(row.Addresses) == 0 {
			row.Addresses = append(row.Addresses, c.String())
			slices.SortFunc(holes, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
			for _, h := range holes {
				row.Except = append(row.Except, h.String())
			}
		} else {
			for _, p := range ps {
				row.Addresses = append(row.Addresses, p.String())
			}
		}
		row.score = max(row.score, float64(c.Addr().BitLen()-c.Bits())/float64(c.Addr().BitLen()))
	}
	for _, w := range acc.atoms {
		row.Addresses = append(row.Addresses, w)
		switch {
		case strings.Contains(w, " mask "):
			ip, mask, _ := strings.Cut(w, " mask ")
			m := netip.MustParseAddr(mask)
			fixed := 0
			for _, x := range m.AsSlice() {
				fixed += bits.OnesCount8(x)
			}
			bl := netip.MustParseAddr(ip).BitLen()
			row.score = max(row.score, float64(bl-fixed)/float64(bl))
		case strings.HasPrefix(w, "samenet"):
			row.score = max(row.score, 0.25)
		case strings.HasPrefix(w, "."):
			row.score = max(row.score, 0.2)
		default:
			row.score = max(row.score, 0)
		}
	}
}

// mergePrefixes sorts disjoint-or-nested prefixes of one family, drops the
// nested ones and joins siblings.
func mergePrefixes(ps []netip.Prefix) []netip.Prefix {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Bits(), b.Bits())
	})
	var out []netip.Prefix
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Bits() <= p.Bits() && out[n-1].Contains(p.Addr()) {
			continue
		}
		out = append(out, p)
		for len(out) >= 2 {
			a, b := out[len(out)-2], out[len(out)-1]
			if a.Bits() != b.Bits() || a.Bits() == 0 {
				break
			}
			parent := netip.PrefixFrom(a.Addr(), a.Bits()-1).Masked()
			if parent.Addr() != a.Addr() || !parent.Contains(b.Addr()) {
				break
			}
			out = append(out[:len(out)-2], parent)
		}
	}
	return out
}

// commonPrefix returns the longest prefix containing a and b (one family).
func commonPrefix(a, b netip.Prefix) netip.Prefix {
	n := min(a.Bits(), b.Bits())
	for n > 0 {
		p := netip.PrefixFrom(a.Addr(), n).Masked()
		if p.Contains(b.Addr()) {
			return p
		}
		n--
	}
	return netip.PrefixFrom(a.Addr(), 0).Masked()
}
