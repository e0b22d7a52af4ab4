package gucconf

import (
	"fmt"
	"math/rand"
	"strings"
)

// gen makes configuration files that a running server can re-read without
// server-only knowledge deciding the answer: names are the server's known
// settings with values it accepts (so "applied" depends only on syntax,
// duplicates and names), pghba's own settings with good and bad values,
// custom names, unknown names and broken syntax.
type gen struct {
	r          *rand.Rand
	major      int
	hba, ident string
}

func (g *gen) pick(s []string) string { return s[g.r.Intn(len(s))] }

// freeNames take any string value.
var freeNames = []string{"application_name", "APPLICATION_NAME", "Application_Name", "my.a", "MY.A", "my.b", "Ext.Opt", "ext.opt", "cluster_name_x.y"}

// quoted values: escapes, doubled quotes, octal, a NUL, non-ASCII.
var quotedValues = []string{
	`'plain'`, `''`, `'it''s'`, `'a\'b'`, `'tab\there'`, `'\101\102C'`, `'\7777'`, `'a\0b'`,
	`'back\\slash'`, `'\q\z'`, `'#not a comment'`, `'= x'`, `'caf` + "\xc3\xa9" + `'`, `'a''''b'`,
	`'\b\f\n\r'`, `'x\'`,
}

// bare values: identifiers, unquoted strings, numbers.
var bareValues = []string{
	"abc", "a-b.c", "/x/y:z", "_u", "x1", "10MB", "0x1F", "-5", "+7", "1.5", ".5", "5.", "1.5e3",
	"-2.5E-2", "0xZZ", "1kB", "caf\xc3\xa9",
}

// badLines break the syntax.
var badLines = []string{
	"= x", "application_name =", "application_name = 'unterminated", "application_name = a b",
	"'quoted' = 1", "search_path = a.b", "a.b.c = 1", "1abc = 2", "application_name = @",
	"application_name = 1e5", "application_name = 'x' 'y'", "my.a = 'x' # ok\n  = 'y'",
	"application_name = 'a\\\nb'", "application_name == x", "-x = 1", ".",
	"application_name = 1.5.6",
}

var seps = []string{" = ", " ", "=", "  =\t", "\t", " =  "}

func (g *gen) value() string {
	if g.r.Intn(2) == 0 {
		return g.pick(quotedValues)
	}
	return g.pick(bareValues)
}

// ownLine sets one of the settings pghba reads, sometimes to a bad value.
func (g *gen) ownLine() string {
	bools := []string{"on", "off", "ON", "true", "tr", "t", "FALSE", "yes", "y", "no", "n", "1", "0", "of", "o", "maybe", "'on'", "' on'", "''", "01"}
	switch g.r.Intn(6) {
	case 0:
		return "ssl = " + g.pick(bools)
	case 1:
		return "krb_caseins_users = " + g.pick(bools)
	case 2:
		return "password_encryption = " + g.pick([]string{"md5", "MD5", "'scram-sha-256'", "SCRAM-SHA-256", "plain", "on", "'md5 '"})
	case 3:
		return "ssl_ca_file = " + g.pick([]string{"'root.crt'", "''", "'/nonexistent/ca.pem'", "ca.pem"})
	case 4:
		if g.major <= 16 {
			return "db_user_namespace = " + g.pick(bools)
		}
		return "db_user_namespace = off" // unknown in 17+
	default:
		return "oauth_validator_libraries = " + g.pick([]string{"''", "'v1'", "'a, b'", "x"}) // unknown before 18
	}
}

func (g *gen) line() string {
	switch k := g.r.Intn(20); {
	case k < 9:
		return g.pick(freeNames) + g.pick(seps) + g.value()
	case k < 12:
		return g.ownLine()
	case k < 13:
		return g.pick(badLines)
	case k < 14:
		return g.pick([]string{"unknown_setting = 1", "Bogus = on", "my_ext = 2"})
	case k < 15:
		return "# a comment " + g.value()
	case k < 16:
		return ""
	case k < 17:
		return "   " + g.pick(freeNames) + " = " + g.value() + "   # trailing"
	case k < 18:
		return fmt.Sprintf("hba_file = '%s'", g.hba)
	case k < 19:
		return g.pick(freeNames) + " = " + g.value() + "\r"
	default:
		return "\t  "
	}
}

func (g *gen) file(n int) string {
	var lines []string
	for i := 0; i < n; i++ {
		lines = append(lines, g.line())
	}
	s := strings.Join(lines, "\n")
	if g.r.Intn(5) != 0 {
		s += "\n"
	}
	return s
}

// random makes a case of one to four files with includes between them.
func (g *gen) random(i int) gcase {
	files := map[string]string{}
	main := []string{g.file(1 + g.r.Intn(6))}
	if g.r.Intn(3) == 0 {
		files["sub.conf"] = g.file(1 + g.r.Intn(4))
		main = append(main, g.pick([]string{"include 'sub.conf'", "INCLUDE sub.conf", "include_if_exists 'sub.conf'", "Include = 'sub.conf'"}))
	}
	if g.r.Intn(4) == 0 {
		files["d/b.conf"] = g.file(1 + g.r.Intn(3))
		files["d/A.conf"] = g.file(1 + g.r.Intn(3))
		files["d/.h.conf"] = "application_name = hidden\n"
		files["d/x.txt"] = "application_name = txt\n"
		main = append(main, "include_dir 'd'")
	}
	if g.r.Intn(6) == 0 {
		main = append(main, g.pick([]string{"include_if_exists 'missing.conf'", "include 'missing.conf'", "include_dir 'nodir'", "include ''", "include_dir ' '"}))
	}
	main = append(main, g.file(g.r.Intn(3)))
	files["main.conf"] = strings.Join(main, "\n")
	return gcase{name: fmt.Sprintf("random-%d", i), files: files}
}

// fixedCases are hand-written: every rule of the syntax at least once.
func fixedCases(g *gen) []gcase {
	chain := map[string]string{"main.conf": "include 'c1.conf'\n"}
	for i := 1; i <= 11; i++ {
		chain[fmt.Sprintf("c%d.conf", i)] = fmt.Sprintf("application_name = c%d\ninclude 'c%d.conf'\n", i, i+1)
	}
	chain["c12.conf"] = "application_name = end\n"
	return []gcase{
		{"show-empty", map[string]string{"main.conf": ""}},
		{"show-own", map[string]string{"main.conf": "ssl = off\npassword_encryption = md5\nkrb_caseins_users = on\nssl_ca_file = 'ca.pem'\n"}},
		{"show-last-wins", map[string]string{"main.conf": "SSL = off\nssl on\nPassword_Encryption = md5\npassword_encryption = 'scram-sha-256'\n"}},
		{"show-across-files", map[string]string{"main.conf": "ssl = off\ninclude 'a.conf'\n", "a.conf": "ssl = on\nssl_ca_file = 'x'\n"}},
		{"no-equals", map[string]string{"main.conf": "application_name 'x'\nmy.a y\n"}},
		{"eof-no-newline", map[string]string{"main.conf": "application_name = x"}},
		{"eof-after-name", map[string]string{"main.conf": "application_name ="}},
		{"eof-after-name-nl", map[string]string{"main.conf": "application_name =\n"}},
		{"self-include", map[string]string{"main.conf": "include 'main.conf'\n"}},
		{"cycle", map[string]string{"main.conf": "include 'a.conf'\n", "a.conf": "include 'b.conf'\n", "b.conf": "include 'a.conf'\n"}},
		{"depth-limit", chain},
		{"depth-ok", func() map[string]string {
			m := map[string]string{"main.conf": "include 'c1.conf'\n"}
			for i := 1; i <= 9; i++ {
				m[fmt.Sprintf("c%d.conf", i)] = fmt.Sprintf("include 'c%d.conf'\n", i+1)
			}
			m["c10.conf"] = "application_name = deep\n"
			return m
		}()},
		{"include-dir-order", map[string]string{"main.conf": "include_dir 'd'\n", "d/b.conf": "my.a = b\n", "d/B.conf": "my.a = B\n",
			"d/a.conf": "my.a = a\n", "d/.conf": "my.a = short\n", "d/.hidden.conf": "my.a = hidden\n", "d/sub.conf/x.conf": "my.a = dir\n", "d/c.conf.bak": "my.a = bak\n"}},
		{"include-dir-relative", map[string]string{"main.conf": "include 'x/inc.conf'\n", "x/inc.conf": "include_dir '../y'\n", "y/z.conf": "my.b = 'from y'\n"}},
		{"include-missing", map[string]string{"main.conf": "my.a = 1\ninclude 'nope.conf'\nmy.b = 2\n"}},
		{"include-if-exists-missing", map[string]string{"main.conf": "my.a = 1\ninclude_if_exists 'nope.conf'\nmy.b = 2\n"}},
		{"include-dir-missing", map[string]string{"main.conf": "include_dir 'nope'\n"}},
		{"include-empty", map[string]string{"main.conf": "include ''\ninclude_if_exists ' '\ninclude_dir ''\n"}},
		{"include-syntax-error-inside", map[string]string{"main.conf": "my.a = 1\ninclude 'e.conf'\nmy.b = 2\n", "e.conf": "my.a = 'x\n"}},
		{"include-keyword-case", map[string]string{"main.conf": "INCLUDE_IF_EXISTS = 'a.conf'\nInclude_Dir 'd'\n", "a.conf": "my.a = a\n", "d/x.conf": "my.b = d\n"}},
		{"include-absolute", map[string]string{"main.conf": "include '" + "/nonexistent//x/../y.conf'\n"}},
		{"errors-resync", map[string]string{"main.conf": "a b c d\nmy.a = ok\n= = =\nmy.b = 'ok'\n"}},
		{"unknown-names", map[string]string{"main.conf": "unknown_thing = 1\nmy.a = 2\nAnother = 3\n"}},
		{"unknown-custom", map[string]string{"main.conf": "never.defined = 1\nnever.defined = 2\n"}},
		{"bad-values", map[string]string{"main.conf": "ssl = maybe\nkrb_caseins_users = 2\npassword_encryption = plain\nmy.a = ok\n"}},
		{"dup-case", map[string]string{"main.conf": "MY.A = 1\nmy.a = 2\nApplication_Name = x\napplication_name = y\napplication_name = z\n"}},
		{"crlf", map[string]string{"main.conf": "my.a = 1\r\nmy.b = 'two'\r\n"}},
		{"many-errors", map[string]string{"main.conf": strings.Repeat("@\n", 105) + "my.a = 1\n"}},
		{"high-bytes", map[string]string{"main.conf": "my.a = caf\xc3\xa9\n\xc3\xa9t\xc3\xa9 = 1\n"}},
		{"comment-glued", map[string]string{"main.conf": "my.a = abc#comment\nmy.b='x'#c\n#only\n   # indented\n"}},
	}
}
