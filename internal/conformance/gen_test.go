package conformance

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

var testBuilds = []Options{
	{Version: 13, Features: hba.FeatureSSL},
	{Version: 14, Features: hba.FeatureSSL},
	{Version: 15, Features: hba.DefaultFeatures},
	{Version: 16, Features: hba.FeatureSSL},
	{Version: 17, Features: hba.FeatureSSL},
	{Version: 18, Features: hba.FeatureSSL},
}

func TestGenerateDeterministic(t *testing.T) {
	for _, o := range testBuilds {
		a := Generate(42, 7, o)
		b := Generate(42, 7, o)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("v%d: two generations of 42/7 differ", o.Version)
		}
		c := Generate(42, 8, o)
		if reflect.DeepEqual(a.Files, c.Files) {
			t.Errorf("v%d: cases 7 and 8 have the same files", o.Version)
		}
	}
}

// TestPasswordVariant checks, with the reference lexer, that the password
// variant of every file has its non-empty logical lines on the same line
// numbers as the original, and that each rewritten line keeps every field
// before the method and ends in the single field "password".
func TestPasswordVariant(t *testing.T) {
	for _, o := range testBuilds {
		rewritten := 0
		for i := range 250 {
			c := Generate(1, i, o)
			for _, f := range c.Files {
				if f.Dir {
					continue
				}
				if strings.Count(f.Data, "\n") != strings.Count(f.PW, "\n") {
					t.Fatalf("v%d case %d %s: newline counts differ", o.Version, i, f.Path)
				}
				orig, pw := refLex(f.Data, o.Version), refLex(f.PW, o.Version)
				if len(orig) != len(pw) {
					t.Fatalf("v%d case %d %s: %d logical lines, password variant %d\n%s\n%s", o.Version, i, f.Path, len(orig), len(pw), c.Dump(false), c.Dump(true))
				}
				for k := range orig {
					a, b := orig[k], pw[k]
					if a.line != b.line {
						t.Fatalf("v%d case %d %s: line %d became %d", o.Version, i, f.Path, a.line, b.line)
					}
					if reflect.DeepEqual(a.fields, b.fields) {
						continue
					}
					rewritten++
					n := len(b.fields)
					last := b.fields[n-1]
					if len(last) != 1 || last[0].v != "password" || n-1 > len(a.fields) || !reflect.DeepEqual(a.fields[:n-1], b.fields[:n-1]) {
						t.Fatalf("v%d case %d %s line %d: original %v, password variant %v", o.Version, i, f.Path, a.line, a.fields, b.fields)
					}
				}
			}
		}
		if rewritten < 250 {
			t.Errorf("v%d: only %d rewritten lines in 250 cases", o.Version, rewritten)
		}
	}
}

// TestCoverage checks that the generator produces every kind of line it
// knows about, for each dialect.
func TestCoverage(t *testing.T) {
	common := []string{"junk-line", "continuation", "inet_aton-form", "at-file", "at-file-nested", "at-file-subdir",
		"at-file-method", "no-entries", "hostgssenc",
		"method-trust", "method-reject", "method-md5", "method-password", "method-scram-sha-256", "method-ident",
		"method-peer", "method-radius", "method-cert",
		"err-multiple-type", "err-conn-type", "err-include-type", "err-eol-db", "err-eol-role", "err-eol-addr",
		"err-multiple-addr", "err-hostname-cidr", "err-cidr", "err-eol-mask", "err-multiple-mask", "err-mask",
		"err-mask-family", "err-eol-method", "err-multiple-method", "err-method", "err-method-build",
		"err-unterminated-quote", "err-continuation", "err-db-shift", "err-at-missing", "err-at-empty",
		"err-opt-format", "err-opt-method", "err-opt-name", "err-clientcert-nonssl", "err-clientcert-value",
		"err-radius-missing", "err-radius-count", "err-radius-format", "err-radius-ports", "err-radius-list",
		"at-file-dotdot", "err-at-dir", "long-token", "long-line"}
	extra := map[int][]string{
		13: {"err-token-too-long", "err-cert-no-verify", "err-clientname-13"},
		15: {"err-token-too-long", "method-gss", "method-pam", "method-ldap", "err-ldap-basedn", "err-ldap-mix",
			"err-ldap-search", "err-ldap-port", "err-ldap-url", "err-clientname-nonssl", "err-clientname-value", "err-cert-verify-ca"},
		16: {"include", "include_dir", "include_dir-empty", "include_dir-skipped", "include-list", "err-regex",
			"err-at-self", "err-include-missing", "err-include-cycle", "at-file-include", "comment-continuation", "eof-backslash",
			"include-directory", "include-chain", "at-file-chain"},
		18: {"include", "include_dir", "err-regex", "err-oauth"},
	}
	for _, o := range testBuilds {
		seen := map[string]int{}
		for i := range 1200 {
			for _, n := range Generate(3, i, o).Notes {
				seen[n]++
			}
		}
		want := append(append([]string(nil), common...), extra[o.Version]...)
		for _, w := range want {
			if o.Version == 13 && (w == "continuation" || w == "comment-continuation") {
				continue
			}
			if seen[w] == 0 {
				t.Errorf("v%d: no case has %q", o.Version, w)
			}
		}
	}
}

func TestConnStringRoundTrip(t *testing.T) {
	for _, o := range testBuilds {
		for i := range 50 {
			for _, c := range Generate(5, i, o).Conns {
				back, err := ParseConn(c.String())
				if err != nil || back != c {
					t.Fatalf("ParseConn(%q) = %+v, %v; want %+v", c.String(), back, err, c)
				}
			}
		}
	}
}

func TestCoverageProfiles(t *testing.T) {
	o := Options{Version: 18, Features: hba.FeatureSSL, OAuthValidators: "v", NoSSL: true}
	seen := map[string]bool{}
	for i := range 400 {
		c := Generate(4, i, o)
		for _, n := range c.Notes {
			seen[n] = true
		}
		for _, cn := range c.Conns {
			if cn.SSL {
				t.Fatalf("case %d: SSL connection %s with NoSSL", i, cn)
			}
		}
	}
	if !seen["method-oauth"] {
		t.Error("no oauth rule with OAuthValidators set")
	}
	o = Options{Version: 16, Features: hba.FeatureSSL, DBUserNamespace: true}
	at := false
	for i := range 100 {
		for _, cn := range Generate(4, i, o).Conns {
			at = at || strings.Contains(cn.User, "@")
		}
	}
	if !at {
		t.Error("no user@ spelling with DBUserNamespace")
	}
}
