package conformance

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// refLine is one logical line as the reference lexer below sees it.
type refLine struct {
	line   int
	fields [][]tok
}

// refLex is a small, independent reference of PostgreSQL's lexer
// (SEMANTICS §3.1–§3.3), used to check what the generator writes. It does
// not expand @files or includes.
func refLex(data string, version int) []refLine {
	phys := strings.SplitAfter(data, "\n")
	if len(phys) > 0 && phys[len(phys)-1] == "" {
		phys = phys[:len(phys)-1]
	}
	var out []refLine
	lineNo := 1
	for i := 0; i < len(phys); {
		start := lineNo
		buf := strings.TrimRight(phys[i], "\r\n")
		i++
		lineNo++
		if version >= 14 {
			prev := -1
			for len(buf) > prev && strings.HasSuffix(buf, "\\") {
				buf = buf[:len(buf)-1]
				prev = len(buf)
				if i >= len(phys) {
					break
				}
				buf += phys[i]
				buf = strings.TrimRight(buf, "\r\n")
				i++
				lineNo++
			}
		}
		if fs := refFields(buf); len(fs) > 0 {
			out = append(out, refLine{line: start, fields: fs})
		}
	}
	return out
}

func refFields(s string) [][]tok {
	var fields [][]tok
	var cur []tok
	pos := 0
	for {
		t, ok, comma, rest := refToken(s[pos:])
		pos = len(s) - len(rest)
		if !ok {
			break
		}
		cur = append(cur, t)
		if !comma {
			fields = append(fields, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		fields = append(fields, cur)
	}
	return fields
}

// refToken reads one token (§3.2.1). rest is what is left of the line.
func refToken(s string) (t tok, ok, comma bool, rest string) {
	i := 0
	for i < len(s) && (isBlank(s[i]) || s[i] == ',') {
		i++
	}
	if i == len(s) {
		return tok{}, false, false, ""
	}
	var out []byte
	inq, pendq, sawq := false, false, false
	for ; i < len(s) && (inq || !isBlank(s[i])); i++ {
		c := s[i]
		if c == '#' && !inq {
			i = len(s)
			break
		}
		if c == ',' && !inq {
			comma = true
			break
		}
		if c != '"' || pendq {
			out = append(out, c)
		}
		if inq && c == '"' {
			pendq = !pendq
		} else {
			pendq = false
		}
		if c == '"' {
			inq = !inq
			sawq = true
			if len(out) == 0 {
				t.q = true
			}
		}
	}
	t.v = string(out)
	return t, sawq || len(out) > 0, comma, s[i:]
}

func TestRenderTokRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`ab "#,\t+@/x=é`)
	for n := 0; n < 20000; n++ {
		var b []byte
		for range r.IntN(8) {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		want := tok{v: string(b), q: r.IntN(2) == 0}
		if !want.q && !canUnquote(want.v) {
			want.q = true
		}
		text := renderTok(r, want)
		fs := refFields(text)
		if len(fs) != 1 || len(fs[0]) != 1 || fs[0][0] != want {
			t.Fatalf("renderTok(%+v) = %q, reads back as %+v", want, text, fs)
		}
	}
}

func TestRefLexVectors(t *testing.T) {
	// Vectors from SEMANTICS §10.2, to check the reference itself.
	cases := []struct {
		in      string
		version int
		want    string
	}{
		{`host a"ll" al"l" 127.0.0.1/32 trust`, 15, `host|all|all|127.0.0.1/32|trust`},
		{`host "a""b" all`, 15, `host|"a"b|all`},
		{`host db1 ,db2 all`, 15, `host|db1|db2|all`},
		{`host db1, all x`, 15, `host|db1,all|x`},
		{"host all\\\nall x", 14, `host|allall|x`},
		{"host all\\\nall x", 13, `host|all\` + "\n" + `2:all|x`},
		{"# c \\\nhost all\nlocal", 14, `3:local`},
		{"trust#x", 15, `trust`},
		{`""`, 15, `"`},
		{`"abc def all`, 15, `"abc def all`},
		{"local all all trust \\\\\nhost x", 14, `local|all|all|trust|\host|x`},
	}
	for _, c := range cases {
		var parts []string
		for _, l := range refLex(c.in, c.version) {
			var fs []string
			for _, f := range l.fields {
				var ts []string
				for _, tk := range f {
					s := tk.v
					if tk.q {
						s = `"` + s
					}
					ts = append(ts, s)
				}
				fs = append(fs, strings.Join(ts, ","))
			}
			p := strings.Join(fs, "|")
			if l.line != 1 {
				p = strconv.Itoa(l.line) + ":" + p
			}
			parts = append(parts, p)
		}
		if got := strings.Join(parts, "\n"); got != c.want {
			t.Errorf("refLex(%q, %d) = %q, want %q", c.in, c.version, got, c.want)
		}
	}
}
