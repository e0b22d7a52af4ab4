package main

// This file is pghba diff: which connections change their decision between
// two files, or one file read by two servers.

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

const diffUsage = `usage: pghba diff [loading flags] [--json] OLD NEW
       pghba diff --from-version A --to-version B [--from-ssl on|off --to-ssl on|off]
                  [loading flags] [--json] FILE

Diff loads two pg_hba.conf files (or one file read by two servers) as
PostgreSQL would and reports the connections whose decision changes: the
outcome, or the deciding rule's method or options. Each change is a region
of connections, the decision before and after (file:line and method), and a
witness connection as a pghba check command line.

Kinds of change:
  changed     every connection of the region is decided differently
  may-change  some may be: the region depends on +role, samerole, host names,
              samehost or samenet without the source that answers them
              (--roles, --hosts, --server-addrs), or on a regular
              expression the analysis cannot compare; the reason says which
  moved       a rule moved and decides as before (informational)

sameuser needs no source: its regions are exact, and say "database equal
to the user name" (or "other than the user name"; in JSON "db_is_user").

A side that does not load is one change whose outcome is not-loaded, with
the load errors.

Flags:
  --json                 {"changes": [...], "incomplete": bool}; docs/diff.md
                         gives the contract
  --from-version A, --to-version B
                         read FILE as PostgreSQL A and as PostgreSQL B
  --from-ssl on|off, --to-ssl on|off
                         the server's ssl setting for each side (default
                         --server-ssl)
  --roles FILE, --hosts FILE, --server-addrs LIST
                         as for pghba check (both sides). The analysis uses
                         them: with --roles (or --dsn's roles) +role and
                         samerole regions, with --hosts host-name regions,
                         with --server-addrs samehost and samenet regions
                         are exact (changed, or not reported) instead of
                         may-change. The witnesses are decided with them.
  --pg-version N, --minor N, --server-ssl on|off, --missing LIST,
  --oauth-validators LIST, --db-user-namespace, --pgdata DIR,
  --config-file FILE, --dsn URL, -f FILE, --lines FILE.json
                         as for pghba check (both sides)

Exit status: 0 when no decision changes (moves alone are 0); 1 when a
decision changed, may change, a side did not load or the analysis was
incomplete; 2 for bad usage or an I/O error.
`

func runDiff(inv *invocation, args []string) int {
	var asJSON bool
	var fromV, toV int
	var fromSSL, toSSL *bool
	inv.flags.BoolVar(&asJSON, "json", false, "")
	inv.flags.IntVar(&fromV, "from-version", 0, "")
	inv.flags.IntVar(&toV, "to-version", 0, "")
	sslFlag := func(dst **bool) func(string) error {
		return func(s string) error {
			v, ok := parsePGBool(s)
			if !ok {
				return fmt.Errorf("want on or off")
			}
			*dst = &v
			return nil
		}
	}
	inv.flags.Func("from-ssl", "", sslFlag(&fromSSL))
	inv.flags.Func("to-ssl", "", sslFlag(&toSSL))
	p, err := inv.start(args, 2, func() error {
		g := inv.given
		versions := g["from-version"] || g["to-version"]
		for _, v := range []struct {
			name string
			n    int
		}{{"from-version", fromV}, {"to-version", toV}} {
			if g[v.name] && (v.n < hba.MinVersion || v.n > hba.MaxVersion) {
				return badUsage("--%s %d: want %d to %d", v.name, v.n, hba.MinVersion, hba.MaxVersion)
			}
		}
		oneFile := versions || g["from-ssl"] || g["to-ssl"]
		switch n := len(inv.args); {
		case oneFile && n == 2:
			return badUsage("--from-version, --to-version, --from-ssl and --to-ssl compare one FILE read by two servers; with two files, give OLD NEW alone")
		case oneFile && n == 0 && inv.load.file == "" && inv.load.lines == "":
			return badUsage("want FILE (or -f FILE) to read with two servers")
		case oneFile && n == 1 && (g["f"] || g["lines"]):
			return badUsage("FILE and -f/--lines: give one file")
		case !oneFile && n != 2:
			return badUsage("want OLD NEW: two files to compare (or --from-version A --to-version B FILE)")
		case !oneFile && (g["f"] || g["lines"]):
			return badUsage("-f and --lines name one file: give OLD NEW instead")
		}
		return nil
	})
	if err != nil {
		return inv.exit(err)
	}
	oldP, newP := *p, *p
	if fromV != 0 {
		oldP.Version = fromV
	}
	if toV != 0 {
		newP.Version = toV
	}
	if fromSSL != nil {
		oldP.SSL = *fromSSL
	}
	if toSSL != nil {
		newP.SSL = *toSSL
	}
	oldPath, newPath := "", ""
	switch len(inv.args) {
	case 2:
		oldPath, newPath = inv.args[0], inv.args[1]
	case 1:
		oldPath, newPath = inv.args[0], inv.args[0]
	default:
		oldPath = inv.load.path()
		newPath = oldPath
	}
	ol, nl := load(&oldP, oldPath), load(&newP, newPath)
	var res audit.DiffResult
	if ol.rs == nil || nl.rs == nil {
		res.Changes = []audit.Change{audit.NotLoaded(loadErrorTexts(ol), loadErrorTexts(nl), ol.rs, nl.rs)}
	} else {
		var opts audit.DiffOptions
		g := inv.given
		if g["roles"] || g["hosts"] || g["server-addrs"] || g["dsn"] {
			oe, ne := oldP.Env, newP.Env
			opts.OldEnv, opts.NewEnv = &oe, &ne
		}
		res = audit.Diff(ol.file, nl.file, opts)
	}
	status := exitOK
	var n [3]int
	for _, c := range res.Changes {
		switch c.Kind {
		case audit.Changed:
			n[0]++
		case audit.MayChange:
			n[1]++
		case audit.Moved:
			n[2]++
		}
	}
	if n[0]+n[1] > 0 || res.Incomplete {
		status = 1
	}
	if asJSON {
		if res.Changes == nil {
			res.Changes = []audit.Change{}
		}
		writeJSONLine(inv.stdout, res)
		return status
	}
	checkFlags := func(side string) string {
		q := oldP
		path := oldPath
		if side == "new" {
			q, path = newP, newPath
		}
		s := "pghba check -f " + shellWord(path)
		if q.Version != hba.DefaultVersion {
			s += " --pg-version " + strconv.Itoa(q.Version)
		}
		if q.SSL {
			s += " --server-ssl on"
		}
		return s
	}
	for _, c := range res.Changes {
		io.WriteString(inv.stdout, diffBlock(&c, ol, nl, checkFlags))
	}
	summary := fmt.Sprintf("%d changed, %d may change, %d moved", n[0], n[1], n[2])
	if res.Incomplete {
		summary += "; incomplete: the work bound was reached"
	}
	if n[0]+n[1]+n[2] == 0 && !res.Incomplete {
		summary = "no decision changes"
	}
	fmt.Fprintln(inv.stdout, summary)
	return status
}

func loadErrorTexts(ld *loaded) []string {
	if ld.rs != nil {
		return nil
	}
	var out []string
	for _, e := range ld.errors {
		if e.Line > 0 {
			out = append(out, e.File+":"+strconv.Itoa(e.Line)+": "+e.Message)
		} else {
			out = append(out, e.File+": "+e.Message)
		}
	}
	if len(out) == 0 {
		out = []string{"did not load"}
	}
	return out
}

// diffBlock is one change in text.
func diffBlock(c *audit.Change, ol, nl *loaded, checkFlags func(string) string) string {
	var sb strings.Builder
	words := regionWords(&c.Region)
	if c.Before.Outcome == "not-loaded" || c.After.Outcome == "not-loaded" {
		words = "every connection (a side did not load)"
	}
	sb.WriteString(string(c.Kind) + ": " + words + "\n")
	side := func(s audit.Side, ld *loaded) string {
		switch s.Outcome {
		case "matched", "rejected":
			w := ld.rel(s.File) + ":" + strconv.Itoa(s.Line) + " " + s.Method
			if s.Options != "" {
				w += " " + s.Options
			}
			return w
		case "no-entry":
			return "no rule (the server refuses)"
		}
		return s.Outcome
	}
	fmt.Fprintf(&sb, "  %s -> %s\n", side(c.Before, ol), side(c.After, nl))
	if c.Reason != "" {
		sb.WriteString("  reason: " + c.Reason + "\n")
	}
	if w := c.Witness; w != nil && c.Kind != audit.Moved {
		args := ""
		if w.Type == "local" {
			args += " --local"
		} else {
			args += " --host " + *w.Addr
		}
		if w.SSL {
			args += " --ssl"
		}
		if w.GSS {
			args += " --gss"
		}
		if w.Replication != "physical" {
			args += " --db " + shellWord(w.DB)
		}
		args += " --user " + shellWord(w.User)
		if w.Replication != "none" {
			args += " --replication " + w.Replication
		}
		sb.WriteString("  witness: " + checkFlags("old") + args + "\n")
		sb.WriteString("           " + checkFlags("new") + args + "\n")
	}
	return sb.String()
}

// regionWords names a region: "tcp from 10.0.0.0/8 except 10.1.0.0/16,
// database app, every user except admin".
func regionWords(r *audit.Region) string {
	var parts []string
	if r.Local {
		parts = append(parts, "local")
	} else {
		t := "tcp"
		switch {
		case r.SSL != nil && *r.SSL:
			t = "tcp ssl"
		case r.GSS != nil && *r.GSS:
			t = "tcp gss"
		case r.SSL != nil && r.GSS != nil:
			t = "tcp plain"
		case r.SSL != nil:
			t = "tcp without ssl"
		case r.GSS != nil:
			t = "tcp without gss"
		}
		parts = append(parts, t+" from "+addrWordsList(r.Addrs))
	}
	phys := len(r.Replication) == 1 && r.Replication[0] == "physical"
	eq := r.DBIsUser != nil && *r.DBIsUser
	// With sameuser's relation: "database equal to the user name" says
	// the database list when it is every name or the user list.
	sameList := r.DBs.All == r.Users.All && slices.Equal(r.DBs.Only, r.Users.Only) && slices.Equal(r.DBs.Except, r.Users.Except)
	switch {
	case phys:
		parts = append(parts, "physical replication")
	case eq && (sameList || r.DBs.All && len(r.DBs.Except) == 0):
		parts = append(parts, "database equal to the user name")
		eq = false
	default:
		parts = append(parts, namesWords(r.DBs, "database", "databases"))
	}
	parts = append(parts, namesWords(r.Users, "user", "users"))
	switch {
	case eq:
		parts = append(parts, "database equal to the user name")
	case r.DBIsUser != nil && !*r.DBIsUser:
		parts = append(parts, "database other than the user name")
	}
	return strings.Join(parts, ", ")
}

func addrWordsList(as []string) string {
	if len(as) == 2 && as[0] == "0.0.0.0/0" && as[1] == "::/0" {
		return "anywhere"
	}
	// Per family: the smallest range holding them all, less its holes,
	// when that is shorter ("10.0.0.0/8 except 10.1.0.0/16").
	var words []string
	var v4, v6, other []netip.Prefix
	var rest []string
	for _, a := range as {
		p, err := netip.ParsePrefix(a)
		switch {
		case err != nil:
			rest = append(rest, a)
		case p.Addr().Is4():
			v4 = append(v4, p)
		default:
			v6 = append(v6, p)
		}
	}
	_ = other
	for _, ps := range [][]netip.Prefix{v4, v6} {
		if len(ps) == 0 {
			continue
		}
		cover := ps[0]
		for _, p := range ps[1:] {
			for !cover.Contains(p.Addr()) || cover.Bits() > p.Bits() {
				cover = netip.PrefixFrom(cover.Addr(), cover.Bits()-1).Masked()
			}
		}
		holes := prefixHoles(cover, ps, 0)
		if len(holes) >= 0 && len(holes) < len(ps) {
			w := cover.String()
			if len(holes) > 0 {
				var hs []string
				for _, h := range holes {
					hs = append(hs, h.String())
				}
				w += " except " + strings.Join(hs, ", ")
			}
			words = append(words, w)
			continue
		}
		for _, p := range ps {
			words = append(words, p.String())
		}
	}
	as = append(words, rest...)
	switch {
	case len(as) == 2 && as[0] == "0.0.0.0/0" && as[1] == "::/0":
		return "anywhere"
	case len(as) > 6:
		return strings.Join(as[:6], ", ") + " and " + strconv.Itoa(len(as)-6) + " more ranges"
	}
	return strings.Join(as, ", ")
}

func namesWords(n audit.NameList, one, many string) string {
	if n.All {
		if len(n.Except) == 0 {
			return "every " + one
		}
		return "every " + one + " except " + strings.Join(n.Except, ", ")
	}
	if len(n.Only) == 1 {
		return one + " " + n.Only[0]
	}
	return many + " " + strings.Join(n.Only, ", ")
}

// prefixHoles returns the parts of cover no prefix of ps holds (ps are
// disjoint), or more than len(ps) of them when there are many.
func prefixHoles(cover netip.Prefix, ps []netip.Prefix, depth int) []netip.Prefix {
	meets := false
	for _, p := range ps {
		if p.Bits() <= cover.Bits() && p.Contains(cover.Addr()) {
			return nil
		}
		if p.Overlaps(cover) {
			meets = true
		}
	}
	if !meets {
		return []netip.Prefix{cover}
	}
	if depth > 128 || cover.Bits() >= cover.Addr().BitLen() {
		return nil
	}
	lo := netip.PrefixFrom(cover.Addr(), cover.Bits()+1)
	hiAddr := cover.Addr().As16()
	bit := cover.Bits()
	if cover.Addr().Is4() {
		bit += 96
	}
	hiAddr[bit/8] |= 0x80 >> (bit % 8)
	ha := netip.AddrFrom16(hiAddr)
	if cover.Addr().Is4() {
		ha = ha.Unmap()
	}
	hi := netip.PrefixFrom(ha, cover.Bits()+1)
	out := prefixHoles(lo, ps, depth+1)
	if len(out) > len(ps) {
		return out
	}
	return append(out, prefixHoles(hi, ps, depth+1)...)
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
