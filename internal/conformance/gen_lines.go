// Lines: rule lines assembled from the columns, @file references and their
// chains, and include directives with the files they name.

package conformance

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

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
