package audit

import (
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

func TestLintSettings(t *testing.T) {
	src := "hostssl all all 192.168.0.0/16 cert\n" +
		"hostssl all all 172.16.0.0/12 md5 clientcert=verify-ca\n" +
		"hostssl all all 0.0.0.0/0 scram-sha-256\n" +
		"host all all 10.0.0.0/8 scram-sha-256\n" +
		"host all all 127.0.0.1/32 trust\n"
	checks := func(p *hba.Parser, s *Settings) map[int][]string {
		f := p.ParseBytes("/t/pg_hba.conf", []byte(src))
		out := map[int][]string{}
		for _, fd := range Lint(f, LintOptions{Settings: s}) {
			out[fd.Pos.Line] = append(out[fd.Pos.Line], string(fd.Check)+": "+fd.Message)
		}
		return out
	}
	has := func(got map[int][]string, line int, check CheckID, text string) bool {
		for _, m := range got[line] {
			if strings.HasPrefix(m, string(check)+":") && strings.Contains(m, text) {
				return true
			}
		}
		return false
	}

	// ssl off, stated with its source.
	got := checks(&hba.Parser{}, &Settings{SSLFrom: "/d/postgresql.conf:3", PasswordEncryption: "scram-sha-256"})
	if !has(got, 3, CheckNeverMatches, "the server has ssl = off (set at /d/postgresql.conf:3)") {
		t.Errorf("line 3: %q", got[3])
	}
	// Without settings: PostgreSQL's warning only, no settings checks.
	got = checks(&hba.Parser{}, nil)
	if !has(got, 3, CheckNeverMatches, "") || has(got, 3, CheckNeverMatches, "ssl = off") || has(got, 4, CheckPasswordEncryption, "") {
		t.Errorf("no settings: %q", got)
	}
	// md5 password_encryption; cert and clientcert without a CA.
	got = checks(&hba.Parser{SSL: true}, &Settings{SSL: true, PasswordEncryption: "md5", PasswordEncryptionFrom: "/d/postgresql.auto.conf:1"})
	for _, line := range []int{3, 4} {
		if !has(got, line, CheckPasswordEncryption, "password_encryption = md5 (set at /d/postgresql.auto.conf:1)") {
			t.Errorf("line %d: %q", line, got[line])
		}
	}
	if !has(got, 1, CheckNoSSLCA, "cert, but the server has no ssl_ca_file (the default)") ||
		!has(got, 2, CheckNoSSLCA, "clientcert, but") || has(got, 5, CheckNoSSLCA, "") {
		t.Errorf("no CA: %q", got)
	}
	// With a CA and scram-sha-256: neither.
	got = checks(&hba.Parser{SSL: true}, &Settings{SSL: true, SSLCAFile: "root.crt", PasswordEncryption: "scram-sha-256"})
	for line, ms := range got {
		for _, m := range ms {
			if strings.HasPrefix(m, string(CheckNoSSLCA)) || strings.HasPrefix(m, string(CheckPasswordEncryption)) {
				t.Errorf("line %d: %s", line, m)
			}
		}
	}
}
