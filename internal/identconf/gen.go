package identconf

import (
	"math/rand/v2"
	"strings"
)

// fileSet is a pg_ident.conf ("pg_ident.conf") with the files it refers to, by
// slash-separated path relative to the configuration directory.
type fileSet map[string][]byte

// Token pools. Names and regular expressions are chosen to hit the parser's corners: quoting,
// keywords, \1, valid and invalid patterns.
var (
	genMapNames = []string{"m", "m", "M", "map1", `"m"`, `"two words"`, `m"a"p`, "include", `""`, "x,y", "ma#p"}
	genSysNames = []string{"root", "alice", "bob", "ROOT", `"root"`, `"a b"`, `a""b`, "al\"i ce\"", `\1`, "@", `"@u1.txt"`}
	genPGNames  = []string{"alice", "bob", "all", `"all"`, "+grp", `"+grp"`, `+"grp"`, `\1`, `x\1`, `\1\1y`, `"\1"`, `+\1`,
		`a"ll"`, `""`, "carol", `"+"`, "+", "a,b", "alice,", ",bob"}
	genGoodRegex = []string{`^a`, `^(.*)$`, `^r(.*)$`, `oo`, ``, `^(a|b)c$`, `[[:alpha:]]+`, `\d+`, `^(?:x)(y)$`,
		`a{2,3}`, `^(.*)@example\.com$`, `(a)(b)?`, `^.{1,5}$`, `[^@]+`, `x*?`, `\w+`, `(?i)abc`, `^[a-z]+$`,
		`(a|ab)(c|bcd)(d*)`, `\.`, `a b`, `[[:digit:]]`, `\y`, `(\w+)\1`, `***=a.b`, `a\mb`, `(?=a)`,
		`^(?:a|b)+$`, `[[:<:]]a`, `a\M`, `a\Z`, `(?x) a b # c`, `(?n)(a)`, `\u0041`, `\x41`, `a{0}`, `a{255}`,
		`***:(?i)A`, `(?b)a\{2\}`, `(?q)a.b(`, `[[=a=]]`, `[[.a.]]`, `[[.space.]]`, `\A`, `(a)|\1`, `a(?!b)`,
		`\s`, `[\d]`, `\B`, `\e`, `\cA`, `\07`, `a+?b`, `(a*)+`, `^*`, `$a`, `[^]a]`, `[]a]`, `[a-]`, `\(`,
		`(?i)[A-Z]`, "caf\u00e9", `.`, `\d{1,3}\.\d`, `(?#c)a`, `\Y`, `(?<=a)`, `(?<!a)b`, `[[:word:]]`, `a{1,}?`,
		`(?e)a|b`, `(?c)a`, `(?s).`, `(?w)^a`, `(?p)a$`, `(?t)a`, `\y\w+\y`, `[^[:space:]]+`, `x|`, `|x`, `()`, `(|a)`}
	// Patterns with bytes above 127. The server's view compiles them in the database
	// encoding (UTF-8) while loading compiles them byte by byte (see CONFORMANCE.md), so
	// they are generated for the view only on request (PGHBA_IDENT_NONASCII=1).
	genNonASCIIRegex = []string{"caf.", "^caf.$", "[é]", "é{2}", "[à-é]", "[é-à]", "^.{4}$", "[^é]+", "\xc3", "[\xc3]", "a\xff", "(?i)É"}
	genNonASCII      = false
	genBadRegex      = []string{`(`, `a{2,1}`, `[z-a]`, `\`, `*a`, `a)`, `[[:foo:]]`, `a{300}`, `(?z)`, `\2`, `[a`,
		`a**`, `\q`, `{`, `x{1`, `(?<=a)b`, `[[.foo.]]`, `a{,3}`, `[]`,
		`(?`, `a{1,2`, `[[:alpha:]`, `\x`, `\u12`, `(?P<n>a)`, `a{1}{2}`, `x++`, `\k<a>`, `[b-a]`, `a{256}`, `(?i`,
		`***x`, `\z`, `[\w-z]`, `(?=a(b))`, `[[:alpha:]-z]`, `a{2,256}`, `\c`, `(?y)a`, `[[=ab=]]`, `[[.ab.]]`, `\9`, `(a)\2`,
		`(?e)\d`, `(?b)\(a`, `(?q`, `a\`, `[\`, `***=`}
	genAtFiles  = []string{"@u1.txt", "@u2.txt", "@empty.txt", "@missing.txt", "@sub/u3.txt", "@sub/nested.txt", `@"u1.txt"`, `"@u1.txt"`, "@"}
	genComments = []string{"# comment", "#", "# a \"quoted\" comment", "#x,y"}
)

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// regexToken returns a slash token, quoted when the pattern holds a blank, comma or #.
func regexToken(r *rand.Rand, bad bool) string {
	p := pick(r, genGoodRegex)
	if genNonASCII && r.IntN(5) == 0 {
		p = pick(r, genNonASCIIRegex)
	}
	if bad {
		p = pick(r, genBadRegex)
	}
	t := "/" + p
	if strings.ContainsAny(p, " ,#\"") || r.IntN(6) == 0 {
		t = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	return t
}

// clean generation makes only lines that load (most files fail otherwise).
var genCleanPG = []string{"alice", "bob", "all", `"all"`, "+grp", `"+grp"`, `\1`, `x\1`, `\1\1y`, `"\1"`, `+\1`, `a"ll"`, `""`, "carol", "+"}

func sysToken(r *rand.Rand, clean bool) string {
	if clean {
		if r.IntN(2) == 0 {
			return pick(r, genSysNames[:8])
		}
		return regexToken(r, false)
	}
	switch n := r.IntN(20); {
	case n < 8:
		return pick(r, genSysNames)
	case n < 17:
		return regexToken(r, false)
	case n < 19:
		return regexToken(r, true)
	default:
		return pick(r, genAtFiles)
	}
}

func pgToken(r *rand.Rand, clean bool) string {
	if clean {
		if r.IntN(5) == 0 {
			return regexToken(r, false)
		}
		return pick(r, genCleanPG)
	}
	switch n := r.IntN(20); {
	case n < 14:
		return pick(r, genPGNames)
	case n < 17:
		return regexToken(r, false)
	case n < 18:
		return regexToken(r, true)
	default:
		return pick(r, genAtFiles)
	}
}

func mapToken(r *rand.Rand, clean bool) string {
	if clean {
		return pick(r, genMapNames[:9])
	}
	if r.IntN(12) == 0 {
		return pick(r, genAtFiles)
	}
	return pick(r, genMapNames)
}

func sep(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return "\t"
	case 1:
		return "  "
	case 2:
		return " \t "
	default:
		return " "
	}
}

// genLine returns one logical line (without terminator). depth limits include directives
// inside included files.
func genLine(r *rand.Rand, major int, depth int, clean bool) string {
	if clean {
		switch n := r.IntN(20); {
		case n == 0:
			return pick(r, genComments)
		case n < 3 && major >= 16 && depth < 1:
			return pick(r, genCleanIncludes)
		}
		f := []string{mapToken(r, true), sysToken(r, true), pgToken(r, true)}
		if r.IntN(6) == 0 {
			f = append(f, pick(r, genPGNames))
		}
		return strings.Join(f, sep(r))
	}
	switch n := r.IntN(40); {
	case n == 0:
		return ""
	case n == 1:
		return pick(r, genComments)
	case n < 4: // too few fields
		f := []string{mapToken(r, false), sysToken(r, false)}
		return strings.Join(f[:1+r.IntN(2)], sep(r))
	case n < 8 && depth < 2: // include directives (ordinary lines before 16)
		return genInclude(r)
	}
	f := []string{mapToken(r, false), sysToken(r, false), pgToken(r, false)}
	switch r.IntN(8) {
	case 0: // extra fields
		f = append(f, pick(r, genPGNames))
		if r.IntN(2) == 0 {
			f = append(f, pick(r, genSysNames))
		}
	case 1: // a comma list in one of the fields
		i := r.IntN(3)
		f[i] += pick(r, []string{",", ", ", ",x", ",\"y z\"", ",,bob"})
	case 2: // trailing comment
		f = append(f, pick(r, genComments))
	case 3: // the comma joins the next word into the field
		i := r.IntN(2)
		f[i] += ","
	}
	var b strings.Builder
	if r.IntN(10) == 0 {
		b.WriteString(sep(r))
	}
	for i, x := range f {
		if i > 0 {
			b.WriteString(sep(r))
		}
		b.WriteString(x)
	}
	if r.IntN(10) == 0 {
		b.WriteString(sep(r))
	}
	return b.String()
}

var genIncludes = []string{
	"include inc1.conf", "include inc1.conf", "include_if_exists inc2.conf", "include_if_exists nosuch.conf",
	"include nosuch.conf", "include_dir conf.d", "include_dir conf.e", "include_dir nosuchdir", `include_dir ""`,
	"include inc1.conf extra", `"include" inc1.conf`, "include inc1.conf,inc2.conf", "include", "include_dir sub/../conf.d",
	"include sub/inc3.conf", "include_if_exists conf.d",
	`include "sp ace.conf"`, "include_dir conf.d/", "include ../conf/inc1.conf", "include @incname.txt",
	"include sub", "include_if_exists sub/", "include ./sub/../inc1.conf", "include_dir ./conf.d/..//conf.d",
	"m @incname.txt @u1.txt",
}

var genCleanIncludes = []string{"include inc1.conf", "include_if_exists inc2.conf", "include_if_exists nosuch.conf",
	"include_dir conf.d", "include_dir conf.e", "include inc1.conf extra"}

func genInclude(r *rand.Rand) string { return pick(r, genIncludes) }

// genLines joins n generated lines with newlines, with continuation lines, CRLF and a
// missing final newline now and then.
func genLines(r *rand.Rand, major, depth, n int, clean bool) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		l := genLine(r, major, depth, clean)
		if major >= 14 && r.IntN(15) == 0 {
			// split at a blank with a continuation
			if j := strings.IndexAny(l, " \t"); j > 0 {
				l = l[:j] + "\\\n" + l[j:]
			}
		}
		b.WriteString(l)
		if i == n-1 && r.IntN(8) == 0 {
			break
		}
		if r.IntN(20) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// genFileSet makes one pg_ident.conf and its secondary files for major.
func genFileSet(r *rand.Rand, major int) fileSet {
	clean := r.IntN(5) < 2
	fs := fileSet{
		"pg_ident.conf":  []byte(genLines(r, major, 0, 2+r.IntN(10), clean)),
		"u1.txt":         []byte("alice bob\n"),
		"u2.txt":         []byte("/^r(.*)$\n"),
		"empty.txt":      []byte("# nothing\n"),
		"sub/u3.txt":     []byte("dave, eve # c\n\"q w\"\n"),
		"sub/nested.txt": []byte("@u4.txt\n"),
		"sub/u4.txt":     []byte("frank\n"),
		"conf.e/x.txt":   []byte("m root nobody\n"),
		"incname.txt":    []byte("inc1.conf\n"),
		"sp ace.conf":    []byte("m \"sp ace\" alice\n"),
		"conf.d/b.conf":  []byte(genLines(r, major, 2, 1+r.IntN(3), clean)),
		"conf.d/a.conf":  []byte(genLines(r, major, 2, 1+r.IntN(3), clean)),
		"conf.d/c.txt":   []byte("m root ignored\n"),
		"sub/inc3.conf":  []byte(genLines(r, major, 1, 1+r.IntN(3), clean)),
	}
	if clean || r.IntN(3) > 0 {
		fs["inc1.conf"] = []byte(genLines(r, major, 1, 1+r.IntN(4), clean))
	}
	if r.IntN(2) == 0 {
		fs["inc2.conf"] = []byte(genLines(r, major, 2, 1+r.IntN(3), clean))
	}
	return fs
}
