package hba

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestBuildRule(t *testing.T) {
	all := []Name{Kw("all")}
	for _, tc := range []struct {
		ver  int
		spec RuleSpec
		want string // the line, or the start of the refusal after "hba: cannot build rule: "
		err  bool
	}{
		{18, RuleSpec{Type: Host, Databases: []Name{Kw("all"), Lit("all"), Lit("a b"), Lit(`q"x`), Lit("@f"), Lit("+p"), Lit("x#y"), Lit("c,d"), Lit("")},
			Users:  []Name{{Value: "adm ins", Kind: NameRole}, {Value: "^a", Kind: NameRegex}, Lit("replication"), Lit("sameuser")},
			Prefix: netip.MustParsePrefix("2001:db8::/32"), Method: ScramSHA256},
			`host all,"all","a b","q""x","@f","+p","x#y","c,d","" +"adm ins",/^a,"replication","sameuser" 2001:db8::/32 scram-sha-256`, false},
		{18, RuleSpec{Type: Host, Databases: all, Users: all, Prefix: netip.PrefixFrom(netip.MustParseAddr("2001:db8::1"), 128), Method: MD5},
			"host all all 2001:db8::1/128 md5", false},
		{18, RuleSpec{Type: HostSSL, Databases: all, Users: all, Prefix: netip.PrefixFrom(netip.MustParseAddr("10.1.2.3"), 32), Method: LDAP,
			Options: []Option{{"ldapserver", "ldap.example"}, {"ldapbasedn", "dc=ex, dc=org"}, {"ldapsearchattribute", "uid"}}},
			`hostssl all all 10.1.2.3/32 ldap ldapserver=ldap.example ldapbasedn="dc=ex, dc=org" ldapsearchattribute=uid`, false},
		{16, RuleSpec{Type: Local, Databases: all, Users: all, Method: Peer, Options: []Option{{"map", `x\`}}}, `local all all peer map="x\"`, false},
		{15, RuleSpec{Type: Local, Databases: []Name{Lit("/x")}, Users: all, Method: Trust}, `local "/x" all trust`, false},
		{16, RuleSpec{Type: Host, Databases: []Name{Kw("sameuser"), Kw("replication")}, Users: []Name{{Value: "g", Kind: NameRole}}, Host: ".example.com", Method: MD5},
			"host sameuser,replication +g .example.com md5", false},
		{16, RuleSpec{Type: Host, Databases: all, Users: all, Host: "samenet", Method: Reject}, "host all all samenet reject", false},
		// Refusals, each with its reason.
		{18, RuleSpec{Type: Local, Databases: all, Users: all, Method: Peer, Options: []Option{{"bogus", "1"}}}, `unrecognized authentication option name: "bogus"`, true},
		{18, RuleSpec{Type: Local, Databases: all, Users: all, Method: MD5, Options: []Option{{"map", "m"}}}, `authentication option "map" is only valid for`, true},
		{18, RuleSpec{Type: Host, Databases: all, Users: all, Host: "ldap", Method: LDAP}, `authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set`, true},
		{18, RuleSpec{Type: Host, Databases: all, Users: all, Host: "h", Method: RADIUS, Options: []Option{{"radiusservers", "r"}, {"radiussecrets", `s 1,s"2`}}},
			`could not parse RADIUS secret list "s 1,s"2"`, true},
		{13, RuleSpec{Type: Local, Databases: all, Users: all, Method: Cert}, "cert authentication is only supported on hostssl connections", true},
		{16, RuleSpec{Type: Local, Databases: []Name{Lit("/x")}, Users: all, Method: Trust}, `database[0] "/x": from PostgreSQL 16`, true},
		{15, RuleSpec{Type: Local, Databases: all, Users: []Name{{Value: "x", Kind: NameRegex}}, Method: Trust}, "user[0] regular expressions need PostgreSQL 16", true},
		{18, RuleSpec{Type: Local, Databases: []Name{Kw("sameuser")}, Users: []Name{Kw("sameuser")}, Method: Trust}, `user[0] "sameuser": not a keyword of the user column`, true},
		{18, RuleSpec{Type: Local, Databases: []Name{{Value: "g", Kind: NameRole}}, Users: all, Method: Trust}, "database[0] \"g\": role membership", true},
		{18, RuleSpec{Type: Local, Databases: []Name{Lit("a\nb")}, Users: all, Method: Trust}, `database[0] "a\nb": a name cannot contain a newline`, true},
		{18, RuleSpec{Type: Local, Databases: all, Users: all, Prefix: netip.MustParsePrefix("10.0.0.0/8"), Method: Trust}, "a local rule has no address", true},
		{18, RuleSpec{Type: Host, Databases: all, Users: all, Method: Trust}, "a host rule needs an address", true},
		{18, RuleSpec{Type: Host, Databases: all, Users: all, Host: "10.0.0.1", Method: Trust}, `host "10.0.0.1": an IP address goes in Prefix`, true},
		{18, RuleSpec{Type: Host, Databases: all, Users: nil, Host: "h", Method: Trust}, "no user given", true},
		{18, RuleSpec{Type: Local, Databases: all, Users: all, Method: Trust, Options: []Option{{"a=b", "c"}}}, `option[0] name "a=b"`, true},
		{14, RuleSpec{Type: Local, Databases: []Name{Lit(strings.Repeat("d", 300))}, Users: all, Method: Trust}, "", true},
	} {
		p := &Parser{Version: tc.ver, Minor: 1}
		if tc.ver != 14 {
			p.Minor = 0
		}
		got, err := p.BuildRule(tc.spec)
		switch {
		case tc.err && err == nil:
			t.Errorf("%d %+v: built %q, want refusal %q", tc.ver, tc.spec, got, tc.want)
		case tc.err && !strings.HasPrefix(err.Error(), "hba: cannot build rule: "+tc.want):
			t.Errorf("%d: refusal %q, want %q", tc.ver, err, tc.want)
		case !tc.err && err != nil:
			t.Errorf("%d: %v, want %q", tc.ver, err, tc.want)
		case !tc.err && got != tc.want:
			t.Errorf("%d: built\n%s\nwant\n%s", tc.ver, got, tc.want)
		}
	}
}

func TestBuildRuleParserError(t *testing.T) {
	_, err := (&Parser{}).BuildRule(RuleSpec{Type: Local, Databases: []Name{Kw("all")}, Users: []Name{Kw("all")}, Method: Peer, Options: []Option{{"bogus", "1"}}})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrOption) {
		t.Fatalf("%v: not the parser's *Error", err)
	}
}

// TestTokenNameInverts checks TokenName against BuildRule on names of
// every kind.
func TestTokenNameInverts(t *testing.T) {
	p := &Parser{}
	names := []Name{Lit("all"), Kw("all"), Lit("+x"), {Value: "x y", Kind: NameRole}, {Value: `/^"a`, Kind: NameRegex}, Lit("@f"), Lit(`"`)}
	line, err := p.BuildRule(RuleSpec{Type: Local, Databases: []Name{Kw("all")}, Users: names, Method: Trust})
	if err != nil {
		t.Fatal(err)
	}
	r := p.ParseBytes("x", []byte(line)).Rules[0]
	for i, tok := range r.Users() {
		if got := p.TokenName(tok, ColumnUser); got != names[i] {
			t.Errorf("%q: %+v, want %+v", line, got, names[i])
		}
	}
}
