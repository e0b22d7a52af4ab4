package hba

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"testing/fstest"
)

func composed(user ...string) *Composed {
	return &Composed{Segments: []Segment{
		{Name: "operator", Lines: []string{"# fixed", "local all postgres peer"}},
		{Name: "spec.postgresql.pg_hba", Lines: user},
		{Name: "default", Lines: []string{"host all all 0.0.0.0/0 reject"}},
	}}
}

// errorTexts returns Error() of every error of f.
func errorTexts(f *File) []string {
	var out []string
	for _, e := range f.Errors {
		out = append(out, e.Error())
	}
	return out
}

func TestComposedBackslashDoesNotSwallow(t *testing.T) {
	c := composed(
		`host all all 10.0.0.0/8 md5 \`,
		"host all all 10.0.0.256/32 md5",
		"host all all 192.168.0.0/16 scram-sha-256",
	)
	p := &Parser{Version: 16}
	got := errorTexts(p.ParseComposed(c))
	want := []string{
		`spec.postgresql.pg_hba[0]: element ends in a backslash: PostgreSQL 14 and later join the next line to it`,
		`spec.postgresql.pg_hba[1]: specifying both host name and CIDR mask is invalid: "10.0.0.256/32"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Joined and parsed as one file, the second element is swallowed.
	joined := "local all postgres peer\n" + strings.Join(c.Segments[1].Lines, "\n") + "\n"
	if n := len(p.ParseBytes("x", []byte(joined)).Errors); n != 1 {
		t.Fatalf("joined file: %d errors, want the 1 that hides the others", n)
	}
	// 13 has no continuation lines: the backslash is an option token.
	got = errorTexts((&Parser{Version: 13}).ParseComposed(c))
	if len(got) != 2 || !strings.HasPrefix(got[0], "spec.postgresql.pg_hba[0]: authentication option not in name=value format") {
		t.Fatalf("13: %q", got)
	}
	if _, err := p.RenderComposed(c); err == nil || !strings.Contains(err.Error(), "spec.postgresql.pg_hba[0]: element ends in a backslash") {
		t.Fatalf("RenderComposed: %v", err)
	}
}

func TestComposedElementErrors(t *testing.T) {
	for _, tc := range []struct {
		ver  int
		elem string
		want string // "" for no element error
	}{
		{16, "local all all\ntrust", "element contains a newline"},
		{13, "local all all trust\n", "element contains a newline"},
		{16, "local all all trust\x00", "element contains a NUL byte: the server ignores the rest of the line and joins"},
		{13, "local all all trust\x00x", "element contains a NUL byte: the server ignores the rest of the line"},
		{14, "local all all trust \\\r\r", "element ends in a backslash"},
		{14, "local all all trust # \\", "element ends in a backslash"},
		{13, "local all all trust # \\", ""},
		{14, "local all all trust # \\ ", ""},
		{13, "local all all trust #" + strings.Repeat("x", 20480), "authentication file line too long"},
		{13, "local all all trust #" + strings.Repeat("x", 20455), ""},
	} {
		c := composed(tc.elem)
		f := (&Parser{Version: tc.ver}).ParseComposed(c)
		var got string
		for _, e := range f.Errors {
			if e.Pos.Segment == "spec.postgresql.pg_hba" && e.Pos.Index == 0 {
				got = e.Msg
			}
		}
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%d %.40q: error %q, want %q", tc.ver, tc.elem, got, tc.want)
		}
		// The lines around keep their place and meaning.
		if n := len(f.Rules); n != 2+boolInt(tc.want == "") {
			t.Errorf("%d %.40q: %d rules", tc.ver, tc.elem, n)
		}
		if last := f.Lines[len(f.Lines)-1]; last.Pos.String() != "default[0]" || last.Rule == nil || last.Pos.Line != 4 {
			t.Errorf("%d %.40q: last line at %v (line %d)", tc.ver, tc.elem, last.Pos, last.Pos.Line)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestComposedReferencesRefused(t *testing.T) {
	c := composed(
		"host all @admins 10.0.0.0/8 md5",
		"include extra.conf",
		"include_if_exists missing.conf",
		"include_dir conf.d",
		`host "@db" all 10.0.0.0/8 md5`,
	)
	f := (&Parser{}).ParseComposed(c)
	want := []string{
		`spec.postgresql.pg_hba[0]: could not open file "/admins": ` + refusedText,
		`spec.postgresql.pg_hba[1]: could not open file "/extra.conf": ` + refusedText,
		`spec.postgresql.pg_hba[2]: could not open file "/missing.conf": ` + refusedText,
		`spec.postgresql.pg_hba[3]: could not open directory "/conf.d": ` + refusedText,
	}
	if got := errorTexts(f); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range f.Errors {
		if !errors.Is(e, ErrFile) {
			t.Errorf("%v: not ErrFile", e)
		}
	}
	// 13-15 name the @file the old way.
	f = (&Parser{Version: 15}).ParseComposed(composed("host all @admins 10.0.0.0/8 md5"))
	if got := errorTexts(f); len(got) != 1 || got[0] != `spec.postgresql.pg_hba[0]: could not open secondary authentication file "@admins" as "/admins": `+refusedText {
		t.Fatalf("15: %q", got)
	}
}

func TestComposedReferencesInFS(t *testing.T) {
	fsys := fstest.MapFS{
		"data/admins":        {Data: []byte("alice, bob\n")},
		"data/conf.d/a.conf": {Data: []byte("host all all 10.1.0.0/16 md5\nhost all all bad md5 x\n")},
	}
	c := composed("host all @admins 10.0.0.0/8 md5", "include_dir conf.d")
	c.Path, c.FS = "data/pg_hba.conf", fsys
	f := (&Parser{}).ParseComposed(c)
	if len(f.Rules) != 4 {
		t.Fatalf("%d rules, errors %v", len(f.Rules), f.Errors)
	}
	if u := f.Rules[1].Users(); len(u) != 2 || u[1].Value != "bob" {
		t.Fatalf("@admins: %v", u)
	}
	if len(f.Errors) != 1 {
		t.Fatalf("errors: %v", f.Errors)
	}
	e := f.Errors[0]
	if e.Pos.Filename != "/data/conf.d/a.conf" || e.Pos.Line != 2 || e.Pos.Segment != "" {
		t.Fatalf("included error at %#v", e.Pos)
	}
	var ln *Line
	for _, l := range f.Lines {
		if l.Err == e {
			ln = l
		}
	}
	if ln == nil || len(ln.IncludedFrom) != 1 || ln.IncludedFrom[0].String() != "spec.postgresql.pg_hba[1]" {
		t.Fatalf("included line: %+v", ln)
	}
	if got := c.Locate(f.Rules[2].IncludedFrom()[0]).String(); got != "spec.postgresql.pg_hba[1]" {
		t.Fatalf("rule included from %s", got)
	}
}

func TestComposedLocate(t *testing.T) {
	c := composed("host all all 10.0.0.0/8 md5", "host all all 10.0.0.0/8 md5")
	p := &Parser{}
	rs, err := p.LoadComposed(c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs.Rules() {
		got = append(got, c.Locate(r.Pos()).String())
	}
	if strings.Join(got, " ") != "operator[1] spec.postgresql.pg_hba[0] spec.postgresql.pg_hba[1] default[0]" {
		t.Fatalf("rules at %v", got)
	}
	// audit.Lint places its findings with Locate too: hba/audit/segments_test.go.
	for _, pos := range []Position{{Filename: "/other", Line: 1}, {Filename: "/pg_hba.conf", Line: 6}, {Filename: "/pg_hba.conf"}} {
		if got := c.Locate(pos); got != pos {
			t.Errorf("Locate(%v) = %v", pos, got)
		}
	}
	// An unnamed segment is "lines"; ordinary positions print as before.
	f := p.ParseComposed(&Composed{Segments: []Segment{{Lines: []string{"local all all bogus"}}}})
	if got := f.Errors.Error(); got != `lines[0]: invalid authentication method "bogus"` {
		t.Fatalf("%s", got)
	}
	if got := (Position{Filename: "/x", Line: 3}).String(); got != "/x:3" {
		t.Fatalf("%s", got)
	}
}

// TestComposedRenderRoundTrip is the property: whenever RenderComposed
// accepts segments, ParseBytes of the bytes gives the lines, rules and
// errors that ParseComposed gives, positions mapped back.
func TestComposedRenderRoundTrip(t *testing.T) {
	frags := []string{
		"local all all trust", "host all all 10.0.0.0/8 md5", `host "all" "a b",c ::1/128 scram-sha-256`,
		"hostssl db +grp samenet cert", "host all all 10.0.0.256/32 md5", "# comment", "", "   ",
		`host all all 10.0.0.0/8 md5 \`, "local all all peer map=x", "local all all ldap", "a\nb",
		"host all all 127.1 255.0.0.0 trust", "local all all trust\r", "x\x00y", `local all all trust "unterminated`,
		"include_if_exists nope.conf", "host all @list 10.0.0.0/8 md5", "host all /^a.*$ 10.0.0.0/8 md5",
	}
	rng := rand.New(rand.NewSource(15))
	accepted := 0
	for iter := 0; iter < 1500; iter++ {
		var c Composed
		for s := 0; s < 1+rng.Intn(3); s++ {
			var seg Segment
			seg.Name = []string{"operator", "spec.postgresql.pg_hba", "default"}[s]
			for i := 0; i < rng.Intn(5); i++ {
				seg.Lines = append(seg.Lines, frags[rng.Intn(len(frags))])
			}
			c.Segments = append(c.Segments, seg)
		}
		p := &Parser{Version: 13 + rng.Intn(6)}
		f := p.ParseComposed(&c)
		data, err := p.RenderComposed(&c)
		if err != nil {
			// Every refused element is an error of the parse too.
			for _, e := range err.(ErrorList) {
				ok := false
				for _, fe := range f.Errors {
					ok = ok || fe.Pos == e.Pos && fe.Msg == e.Msg
				}
				if !ok {
					t.Fatalf("%q: render error %v not in parse", c.Segments, e)
				}
			}
			continue
		}
		accepted++
		q := *p
		q.FS = refuseFS{}
		g := q.ParseBytes("/pg_hba.conf", data)
		if len(g.Lines) != len(f.Lines) || len(g.Rules) != len(f.Rules) || len(g.Errors) != len(f.Errors) {
			t.Fatalf("%d: %q: lines %d/%d rules %d/%d errors %d/%d", p.Version, c.Segments, len(g.Lines), len(f.Lines), len(g.Rules), len(f.Rules), len(g.Errors), len(f.Errors))
		}
		for i, ln := range g.Lines {
			fl := f.Lines[i]
			if c.Locate(ln.Pos) != fl.Pos || ln.Raw != fl.Raw || (ln.Rule == nil) != (fl.Rule == nil) {
				t.Fatalf("%d: line %d: %v %q / %v %q", p.Version, i, ln.Pos, ln.Raw, fl.Pos, fl.Raw)
			}
			if fl.Pos.Segment == "" || strings.TrimRight(c.Segments[indexOf(c, fl.Pos.Segment)].Lines[fl.Pos.Index], "\r") != fl.Raw {
				t.Fatalf("%d: line %v is not its element: %q", p.Version, fl.Pos, fl.Raw)
			}
			if ln.Rule != nil && ln.Rule.String() != fl.Rule.String() {
				t.Fatalf("rule %s / %s", ln.Rule, fl.Rule)
			}
		}
		for i, e := range g.Errors {
			if e.Msg != f.Errors[i].Msg || c.Locate(e.Pos) != f.Errors[i].Pos {
				t.Fatalf("error %v / %v", e, f.Errors[i])
			}
		}
	}
	if accepted < 150 {
		t.Fatalf("only %d of 1500 compositions rendered", accepted)
	}
}

func indexOf(c Composed, name string) int {
	for i, s := range c.Segments {
		if s.Name == name {
			return i
		}
	}
	return -1
}
