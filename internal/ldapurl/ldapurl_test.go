package ldapurl

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     URL
		code     Code
	}{
		{"full", "ldap://h:1636/dc=x?uid?one?(o=1)",
			URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 1636, DN: "dc=x", HasDN: true,
				Attrs: []string{"uid"}, HasAttrs: true, Scope: ScopeOneLevel, Filter: "(o=1)", HasFilter: true}, OK},
		{"default-port", "ldap://h", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389}, OK},
		{"ldaps-port", "ldaps://h", URL{Scheme: "ldaps", Host: "h", HasHost: true, Port: 636}, OK},
		{"port-zero-is-default", "ldap://h:0", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389}, OK},
		{"scheme-case", "LDAP://H/", URL{Scheme: "ldap", Host: "H", HasHost: true, Port: 389, HasDN: true}, OK},
		{"no-host", "ldap:///dc=x", URL{Scheme: "ldap", Port: 389, DN: "dc=x", HasDN: true}, OK},
		{"enclosed-prefixed", "<URL:ldap://h>", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389}, OK},
		{"ipv6", "ldap://[::1]:10/", URL{Scheme: "ldap", Host: "::1", HasHost: true, Port: 10, HasDN: true}, OK},
		{"ldapi-no-port", "ldapi://%2Fsock", URL{Scheme: "ldapi", Host: "/sock", HasHost: true}, OK},
		{"query-ends-host", "ldap://h?x", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389}, OK},
		{"escapes", "ldap://h/dc%3dx", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dc=x", HasDN: true}, OK},
		// ldap_pvt_hex_unescape empties the whole string on a short escape.
		{"short-escape", "ldap://h/ab%2", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, HasDN: true}, OK},
		{"escaped-nul", "ldap://h/a%00b", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "a", HasDN: true}, OK},
		{"empty-attrs", "ldap://h/dn?,,", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true, HasAttrs: true}, OK},
		{"attrs-skip-empty", "ldap://h/dn?,a,,b", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true,
			Attrs: []string{"a", "b"}, HasAttrs: true}, OK},
		{"scope-words", "ldap://h/dn??SUBTREE", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true, Scope: ScopeSubtree}, OK},
		{"scope-children", "ldap://h/dn??children", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true, Scope: ScopeSubordinate}, OK},
		{"extensions", "ldap://h/dn????e", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true}, OK},

		{"bad-scheme", "http://h", URL{}, ErrBadScheme},
		{"bad-enclosure", "<ldap://h", URL{Scheme: "ldap"}, ErrBadEnclosure},
		{"bracket-unclosed", "ldap://[::1", URL{Scheme: "ldap"}, ErrBadURL},
		{"bracket-junk", "ldap://[::1]x:10", URL{Scheme: "ldap"}, ErrBadURL},
		{"port-letters", "ldap://h:abc", URL{Scheme: "ldap"}, ErrBadURL},
		{"port-empty", "ldap://h:", URL{Scheme: "ldap"}, ErrBadURL},
		{"port-trailing", "ldap://h:1 ", URL{Scheme: "ldap"}, ErrBadURL},
		{"bad-scope", "ldap://h/dn?a?bogus", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true,
			Attrs: []string{"a"}, HasAttrs: true}, ErrBadScope},
		{"bad-filter", "ldap://h/dn???%zz", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true}, ErrBadFilter},
		{"empty-extensions", "ldap://h/dn?????", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true}, ErrBadURL},
		{"only-commas-extensions", "ldap://h/dn????,", URL{Scheme: "ldap", Host: "h", HasHost: true, Port: 389, DN: "dn", HasDN: true}, ErrBadExts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code := Parse(tc.in)
			if code != tc.code {
				t.Fatalf("Parse(%q) code %d (%s), want %d", tc.in, code, ErrString(code), tc.code)
			}
			if code == OK || tc.want.Scheme != "" {
				if tc.code != OK {
					// On failure only the fields read before the problem
					// are meaningful; compare the scheme.
					got = URL{Scheme: got.Scheme}
					tc.want = URL{Scheme: tc.want.Scheme}
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Parse(%q) =\n %+v\nwant\n %+v", tc.in, got, tc.want)
				}
			}
		})
	}
}

func TestErrString(t *testing.T) {
	for code, want := range map[Code]string{
		ErrBadScheme: "Time limit exceeded", ErrBadEnclosure: "Size limit exceeded", ErrBadURL: "Compare False",
		ErrBadScope: "Strong(er) authentication required", ErrBadFilter: "Partial results and referral received",
		ErrBadExts: "Referral", 99: "Unknown error",
	} {
		if got := ErrString(code); got != want {
			t.Errorf("ErrString(%d) = %q, want %q", code, got, want)
		}
	}
}
