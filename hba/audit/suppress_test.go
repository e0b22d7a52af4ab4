package audit

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pghba/pghba/hba"
)

// knownCheck is the valid function of the tests: the checks of this
// package.
func knownCheck(id CheckID) bool {
	return slices.Contains([]CheckID{CheckLoadError, CheckNeverMatches, CheckDuplicate, CheckUnreachable, CheckUnreachableListen,
		CheckTrustRemote, CheckPasswordCleartext, CheckMD5, CheckWideOpen, CheckReplicationWide, CheckIdentTCP, CheckHostName,
		CheckMissingMap, CheckPasswordEncryption, CheckNoSSLCA, CheckUnusedSuppression, CheckBadSuppression, CheckIncomplete}, id)
}

// lintSuppressed lints text as /pg_hba.conf (with the files of fsys),
// applies its suppressions and renders each finding as
// "line check [suppressed: reason]".
func lintSuppressed(t *testing.T, text string, fsys fstest.MapFS, ran func(CheckID) bool) []string {
	t.Helper()
	if fsys == nil {
		fsys = fstest.MapFS{}
	}
	p := hba.Parser{FS: fsys}
	f := p.ParseBytes("/pg_hba.conf", []byte(text))
	sups, err := Suppressions(f, knownCheck)
	if err != nil {
		t.Fatalf("Suppressions: %v", err)
	}
	var out []string
	for _, fd := range Suppress(f, Lint(f, LintOptions{}), sups, ran) {
		s := fmt.Sprintf("%s:%d %s", strings.TrimPrefix(fd.Pos.Filename, "/"), fd.Pos.Line, fd.Check)
		if fd.Suppressed != nil {
			s += " suppressed: " + fd.Suppressed.Reason
		}
		out = append(out, s)
	}
	return out
}

// TestSuppress: where a suppression applies (the rule's line, the comment
// lines directly above it, the file), what it waives and what it reports
// (unused-suppression, bad-suppression), in file order.
func TestSuppress(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"trailing", "host all all 10.0.0.0/8 md5 # pghba: ignore=md5 -- legacy clients\n",
			[]string{"pg_hba.conf:1 md5 suppressed: legacy clients"}},
		{"above", "# pghba: ignore=md5\nhost all all 10.0.0.0/8 md5\nhost all all 10.1.0.0/16 md5\n",
			[]string{"pg_hba.conf:2 md5 suppressed: ", "pg_hba.conf:3 unreachable"}},
		{"stacked", "# pghba: ignore=ident-tcp -- a\n# pghba: ignore=trust-remote -- b\nhost all bob 10.0.0.0/8 ident\nhost all alice 10.0.0.0/8 trust\n",
			[]string{"pg_hba.conf:2 unused-suppression", "pg_hba.conf:3 ident-tcp suppressed: a", "pg_hba.conf:4 trust-remote"}},
		{"several ids, one unused", "host all all 0.0.0.0/0 trust # pghba: ignore=wide-open,trust-remote,md5\n",
			[]string{"pg_hba.conf:1 trust-remote suppressed: ", "pg_hba.conf:1 wide-open suppressed: ", "pg_hba.conf:1 unused-suppression"}},
		{"blank line breaks the link", "# pghba: ignore=md5\n\nhost all all 10.0.0.0/8 md5\n",
			[]string{"pg_hba.conf:1 unused-suppression", "pg_hba.conf:3 md5"}},
		{"another comment breaks the link", "# pghba: ignore=md5\n# why\nhost all all 10.0.0.0/8 md5\n",
			[]string{"pg_hba.conf:1 unused-suppression", "pg_hba.conf:3 md5"}},
		{"a trailing comment does not waive the next line", "local all all peer # pghba: ignore=md5\nhost all all 10.0.0.0/8 md5\n",
			[]string{"pg_hba.conf:1 unused-suppression", "pg_hba.conf:2 md5"}},
		{"end of file", "host all all 10.0.0.0/8 md5\n# pghba: ignore=md5\n",
			[]string{"pg_hba.conf:1 md5", "pg_hba.conf:2 unused-suppression"}},
		{"file", "host all all 10.0.0.0/8 md5\n# pghba: ignore-file=md5 -- all legacy\nhost all all 172.16.0.0/16 ident\nhost all bob 192.168.0.0/16 md5\n",
			[]string{"pg_hba.conf:1 md5 suppressed: all legacy", "pg_hba.conf:3 ident-tcp", "pg_hba.conf:4 md5 suppressed: all legacy"}},
		{"file, unused", "# pghba: ignore-file=host-name\nlocal all all peer\n",
			[]string{"pg_hba.conf:1 unused-suppression"}},
		{"malformed", "# pghba: ignroe=md5\nhost all all 10.0.0.0/8 md5\n",
			[]string{"pg_hba.conf:1 bad-suppression", "pg_hba.conf:2 md5"}},
		{"load-error cannot be waived", "host all all 10.0.0.0/33 md5 # pghba: ignore=load-error\n",
			[]string{"pg_hba.conf:1 load-error", "pg_hba.conf:1 bad-suppression"}},
		{"not a pghba comment", "# pghba ignore=md5\n# PGHBA: ignore=md5\nhost all all 10.0.0.0/8 md5\n",
			[]string{"pg_hba.conf:3 md5"}},
		{"continued line", "host all all \\\n 10.0.0.0/8 md5 # pghba: ignore=md5\n",
			[]string{"pg_hba.conf:1 md5 suppressed: "}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := lintSuppressed(t, c.text, nil, nil)
			if !slices.Equal(got, c.want) {
				t.Errorf("file:\n%s\ngot  %q\nwant %q", c.text, got, c.want)
			}
		})
	}
}

// TestSuppressIncluded: a suppression in an included file waives its
// rules; ignore-file= of the main file does not reach the included one.
func TestSuppressIncluded(t *testing.T) {
	fsys := fstest.MapFS{"more.conf": {Data: []byte("# pghba: ignore=md5 -- inner\nhost all all 10.0.0.0/8 md5\nhost all bob 172.16.0.0/16 ident\n")}}
	got := lintSuppressed(t, "# pghba: ignore-file=ident-tcp\ninclude more.conf\nhost all all 192.168.0.0/16 ident\n", fsys, nil)
	want := []string{"more.conf:2 md5 suppressed: inner", "more.conf:3 ident-tcp", "pg_hba.conf:3 ident-tcp suppressed: "}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestSuppressDisabledCheck: a suppression of a check that did not run is
// not reported as unused.
func TestSuppressDisabledCheck(t *testing.T) {
	text := "host all all 10.0.0.0/8 scram-sha-256 # pghba: ignore=md5\n"
	if got := lintSuppressed(t, text, nil, func(id CheckID) bool { return id != CheckMD5 }); len(got) != 0 {
		t.Errorf("md5 not run: got %q, want nothing", got)
	}
	if got := lintSuppressed(t, text, nil, nil); !slices.Equal(got, []string{"pg_hba.conf:1 unused-suppression"}) {
		t.Errorf("md5 run: got %q, want the unused suppression", got)
	}
}

// TestSuppressionsSyntax: the comment forms read, and each bad one with
// what is wrong.
func TestSuppressionsSyntax(t *testing.T) {
	for _, c := range []struct {
		comment string
		file    bool
		checks  []CheckID
		reason  string
		bad     string // in Malformed; "" for a valid one
	}{
		{"# pghba: ignore=md5", false, []CheckID{"md5"}, "", ""},
		{"#pghba:ignore=md5,wide-open--why not", false, []CheckID{"md5", "wide-open"}, "why not", ""},
		{"#   pghba:   ignore = md5 , trust-remote   --  the reason -- with dashes ", false, []CheckID{"md5", "trust-remote"}, "the reason -- with dashes", ""},
		{"# pghba: ignore-file=host-name -- DNSSEC", true, []CheckID{"host-name"}, "DNSSEC", ""},
		{"# pghba: ignroe=md5", false, nil, "", `unknown directive "ignroe"`},
		{"# pghba: ignore", false, nil, "", `no ignore= or ignore-file=`},
		{"# pghba:", false, nil, "", `no ignore= or ignore-file=`},
		{"# pghba: ignore=", false, nil, "", "empty check id"},
		{"# pghba: ignore=md5,", false, nil, "", "empty check id"},
		{"# pghba: ignore=md5 --", false, nil, "", "empty reason after --"},
		{"# pghba: ignore=md5 legacy clients", false, nil, "", `check id "md5 legacy clients" is not lowercase words`},
		{"# pghba: ignore=MD5", false, nil, "", `check id "MD5" is not lowercase words`},
		{"# pghba: ignore=unused-suppression", false, nil, "", "unused-suppression cannot be waived"},
		{"# pghba: ignore-file=bad-suppression", false, nil, "", "bad-suppression cannot be waived"},
	} {
		f := (&hba.Parser{}).ParseBytes("/pg_hba.conf", []byte("local all all peer "+c.comment+"\n"))
		sups, err := Suppressions(f, knownCheck)
		if err != nil || len(sups) != 1 {
			t.Errorf("%q: %d suppressions, error %v; want one", c.comment, len(sups), err)
			continue
		}
		s := sups[0]
		if c.bad != "" {
			if !strings.Contains(s.Malformed, c.bad) || !strings.Contains(s.Malformed, c.comment[:min(len(c.comment), 10)]) {
				t.Errorf("%q: Malformed %q, want it to name the comment and say %q", c.comment, s.Malformed, c.bad)
			}
			continue
		}
		if s.Malformed != "" || s.File != c.file || !slices.Equal(s.Checks, c.checks) || s.Reason != c.reason {
			t.Errorf("%q: got %+v, want file=%v checks=%q reason=%q", c.comment, s, c.file, c.checks, c.reason)
		}
		if s.Pos.Line != 1 || s.Pos.Column != len("local all all peer ")+1 {
			t.Errorf("%q: at %+v, want line 1 column %d", c.comment, s.Pos, len("local all all peer ")+1)
		}
		if !c.file && (s.Target.Line != 1 || s.Target.Filename != "/pg_hba.conf") {
			t.Errorf("%q: target %+v, want line 1", c.comment, s.Target)
		}
	}
}

// TestSuppressionsUnknownCheck: an unknown id is an error at the comment,
// one line each, and that suppression is left out; nil valid takes any id.
func TestSuppressionsUnknownCheck(t *testing.T) {
	text := "host all all 10.0.0.0/8 md5 # pghba: ignore=md55\n# pghba: ignore-file=md5,nosuch\nlocal all all peer # pghba: ignore=md5\n"
	f := (&hba.Parser{}).ParseBytes("/pg_hba.conf", []byte(text))
	sups, err := Suppressions(f, knownCheck)
	if err == nil {
		t.Fatal("no error for unknown check ids")
	}
	want := "/pg_hba.conf:1:29: unknown check \"md55\" in suppression\n/pg_hba.conf:2:1: unknown check \"nosuch\" in suppression"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if len(sups) != 1 || sups[0].Pos.Line != 3 {
		t.Errorf("suppressions %+v, want only line 3's", sups)
	}
	if sups, err := Suppressions(f, nil); err != nil || len(sups) != 3 {
		t.Errorf("valid nil: %d suppressions, error %v; want 3, nil", len(sups), err)
	}
}

// TestFindingColumns: each check points at its token (see findingPos).
func TestFindingColumns(t *testing.T) {
	text := `local all +dba peer map=dbas
host all all 0.0.0.0/0 trust
host "app","x" bob 10.0.0.0 255.0.0.0 md5
host all bob 10.0.0.0/8 "md5"
host all all 10.0.0.0/8 ident  map=m  # map=other
hostssl all all 10.0.0.0/8 password
host all all ::1/128 password
`
	f := (&hba.Parser{}).ParseBytes("/pg_hba.conf", []byte(text))
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	rule := func(n int) *hba.Rule { return f.Rules[n-1] }
	span := func(r *hba.Rule, c CheckID) string {
		p := findingPos(r, c)
		if p.Column == 0 {
			return ""
		}
		return r.Raw()[p.Column-1 : p.EndColumn-1]
	}
	for _, c := range []struct {
		line  int
		check CheckID
		want  string
	}{
		{1, CheckMissingMap, "map=dbas"},
		{1, CheckUnreachable, "local all +dba peer map=dbas"},
		{2, CheckTrustRemote, "0.0.0.0/0"},
		{2, CheckWideOpen, "0.0.0.0/0"},
		{2, CheckNeverMatches, "host"},
		{3, CheckMD5, "md5"},
		{3, CheckWideOpen, "10.0.0.0 255.0.0.0"},
		{3, CheckDuplicate, `host "app","x" bob 10.0.0.0 255.0.0.0 md5`},
		{4, CheckMD5, `"md5"`},
		{5, CheckIdentTCP, "ident"},
		{5, CheckMissingMap, "map=m"},
		{5, CheckDuplicate, "host all all 10.0.0.0/8 ident  map=m"},
		{6, CheckNeverMatches, "hostssl"},
		{7, CheckPasswordCleartext, "password"},
	} {
		if got := span(rule(c.line), c.check); got != c.want {
			t.Errorf("line %d %s: span %q, want %q", c.line, c.check, got, c.want)
		}
	}
}

// TestScanFields: white space, quotes, commas that join fields, comments.
func TestScanFields(t *testing.T) {
	for _, c := range []struct {
		s    string
		want []string
	}{
		{"md5", []string{"md5"}},
		{"  ldap  ldapserver=a  ldapprefix=\"cn= x\"  ", []string{"ldap", "ldapserver=a", `ldapprefix="cn= x"`}},
		{"a, b c", []string{"a, b", "c"}},
		{"a,\"b #c\" d#e", []string{`a,"b #c"`, "d"}},
		{"a, # tail", []string{"a,"}},
		{"# all comment", nil},
		{"", nil},
	} {
		var got []string
		for _, sp := range scanFields(c.s, 0) {
			got = append(got, c.s[sp[0]-1:sp[1]-1])
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("scanFields(%q) = %q, want %q", c.s, got, c.want)
		}
	}
}

// BenchmarkSuppress: 20,000 disjoint md5 rules, every other one waived by
// a comment above it and a tenth of the comments unused; Suppressions and
// Suppress, not Lint.
func BenchmarkSuppress(b *testing.B) {
	var sb strings.Builder
	for i := range 20000 {
		switch {
		case i%20 == 0:
			sb.WriteString("# pghba: ignore=md5,ident-tcp -- half unused\n")
		case i%2 == 0:
			sb.WriteString("# pghba: ignore=md5 -- legacy\n")
		}
		fmt.Fprintf(&sb, "host db%d all 10.%d.%d.0/24 md5\n", i, i/256, i%256)
	}
	f := (&hba.Parser{}).ParseBytes("/pg_hba.conf", []byte(sb.String()))
	findings := Lint(f, LintOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sups, err := Suppressions(f, knownCheck)
		if err != nil {
			b.Fatal(err)
		}
		out := Suppress(f, findings, sups, nil)
		if len(out) != len(findings)+1000 {
			b.Fatalf("%d findings, want %d", len(out), len(findings)+1000)
		}
	}
}
