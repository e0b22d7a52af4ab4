// The case generator: Options, Generate, the generator's state, the files of
// a case and their bodies, and the connections probed against them.

package conformance

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"

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
