package fuzz

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

// nameOf classifies a read-back token the way SEMANTICS.md describes the
// columns, independently of the builder.
func nameOf(ver int, t hba.Token, user bool) hba.Name {
	switch {
	case ver >= 16 && strings.HasPrefix(t.Value, "/"):
		return hba.Name{Value: t.Value, Kind: hba.NameRegex}
	case t.Quoted:
		return hba.Lit(t.Value)
	case t.Value == "all" || !user && (t.Value == "sameuser" || t.Value == "samerole" || t.Value == "samegroup" || t.Value == "replication"):
		return hba.Kw(t.Value)
	case user && strings.HasPrefix(t.Value, "+"):
		return hba.Name{Value: t.Value[1:], Kind: hba.NameRole}
	}
	return hba.Lit(t.Value)
}

var fuzzOptions = []string{"map", "clientcert", "ldapserver", "ldapbasedn", "ldapprefix", "ldapsuffix", "pamservice",
	"radiusservers", "radiussecrets", "include_realm", "krb_realm", "issuer", "scope", "bogus", "a b", ""}

// FuzzBuildRule: every rule BuildRule builds reads back, through the
// parser, as the same columns; otherwise BuildRule refused with a reason.
func FuzzBuildRule(f *testing.F) {
	f.Add(uint8(18), uint8(2), "all", "my db", uint8(1), uint8(0), "+adm", uint8(0), []byte{10, 0, 0, 1}, uint8(32), "", uint8(5), uint8(0), "x")
	f.Add(uint8(16), uint8(2), "/^db", `q"x`, uint8(3), uint8(0), "all", uint8(1), []byte{}, uint8(0), ".example.com", uint8(12), uint8(2), "ldap.example")
	f.Add(uint8(13), uint8(1), "replication", "@f", uint8(1), uint8(0), "a,b", uint8(2), []byte{}, uint8(0), "", uint8(9), uint8(0), `m\`)
	f.Add(uint8(14), uint8(3), "sameuser", "#x", uint8(0), uint8(0), "", uint8(0), make([]byte, 16), uint8(129), "", uint8(3), uint8(13), "")
	f.Fuzz(func(t *testing.T, ver, typ uint8, db1, db2 string, k1, k2 uint8, user string, ku uint8, addr []byte, bits uint8, host string, method, opt uint8, val string) {
		p := &hba.Parser{Version: hba.MinVersion + int(ver)%(hba.MaxVersion-hba.MinVersion+1)}
		spec := hba.RuleSpec{
			Type:      hba.ConnType(typ % 8),
			Databases: []hba.Name{{Value: db1, Kind: hba.NameKind(k1 % 5)}},
			Users:     []hba.Name{{Value: user, Kind: hba.NameKind(ku % 5)}},
			Host:      host,
			Method:    hba.Method(method % 17),
		}
		if k2%3 != 0 {
			spec.Databases = append(spec.Databases, hba.Name{Value: db2, Kind: hba.NameKind(k2 % 5)})
		}
		if a, ok := netip.AddrFromSlice(addr); ok {
			spec.Prefix = netip.PrefixFrom(a, int(bits))
		}
		if o := int(opt) % (len(fuzzOptions) + 1); o < len(fuzzOptions) {
			spec.Options = []hba.Option{{Name: fuzzOptions[o], Value: val}}
		}
		line, err := p.BuildRule(spec)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "hba: cannot build rule: ") || len(msg) < len("hba: cannot build rule: ")+8 {
				t.Fatalf("refusal without a reason: %q", msg)
			}
			return
		}
		if strings.ContainsAny(line, "\n\x00") {
			t.Fatalf("built line %q holds a line break or NUL", line)
		}
		file := p.ParseBytes("/b.conf", []byte(line+"\n"))
		if len(file.Errors) > 0 || len(file.Rules) != 1 {
			t.Fatalf("built %q: %v", line, file.Errors)
		}
		r := file.Rules[0]
		if r.Type() != spec.Type || r.Method() != spec.Method {
			t.Fatalf("built %q: type/method %v %v", line, r.Type(), r.Method())
		}
		for _, c := range []struct {
			toks  []hba.Token
			names []hba.Name
			user  bool
		}{{r.Databases(), spec.Databases, false}, {r.Users(), spec.Users, true}} {
			if len(c.toks) != len(c.names) {
				t.Fatalf("built %q: %d tokens for %d names", line, len(c.toks), len(c.names))
			}
			for i, tok := range c.toks {
				if got := nameOf(p.Version, tok, c.user); got != specName(c.names[i]) {
					t.Fatalf("built %q: element %d reads back as %+v, want %+v", line, i, got, c.names[i])
				}
			}
		}
		a := r.Address()
		switch {
		case spec.Prefix.IsValid():
			if a.Kind != hba.AddrIP || a.IP != spec.Prefix.Addr() || a.Mask.BitLen() != spec.Prefix.Addr().BitLen() {
				t.Fatalf("built %q: address %+v", line, a)
			}
			if pr, ok := a.Prefix(); !ok || pr.Bits() != spec.Prefix.Bits() {
				t.Fatalf("built %q: prefix %v", line, pr)
			}
		case spec.Host != "":
			if a.Text != spec.Host {
				t.Fatalf("built %q: address %+v", line, a)
			}
		default:
			if a.Kind != hba.AddrNone {
				t.Fatalf("built %q: address %+v", line, a)
			}
		}
		raw := r.Options().Raw
		if len(raw) != len(spec.Options) || len(raw) == 1 && raw[0] != spec.Options[0] {
			t.Fatalf("built %q: options %v", line, raw)
		}
	})
}

// specName is a RuleSpec name as it reads back: a regex with its slash, a
// keyword in its usual spelling when none is given.
func specName(n hba.Name) hba.Name {
	if n.Kind == hba.NameRegex && !strings.HasPrefix(n.Value, "/") {
		n.Value = "/" + n.Value
	}
	if n.Value == "" && n.Kind != hba.NameLiteral && n.Kind != hba.NameRole && n.Kind != hba.NameRegex {
		n.Value = n.Kind.String()
	}
	return n
}
