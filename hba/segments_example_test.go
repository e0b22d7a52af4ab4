package hba_test

import (
	"fmt"
	"net/netip"

	"github.com/pghba/pghba/hba"
)

// A Cluster's list between the operator's rules and a catch-all: every
// error names its element; the backslash does not hide the next one.
func ExampleParser_ParseComposed() {
	c := &hba.Composed{Segments: []hba.Segment{
		{Name: "operator", Lines: []string{"local all all peer map=local"}},
		{Name: "spec.postgresql.pg_hba", Lines: []string{
			`hostssl app app 10.0.0.0/8 scram-sha-256 \`,
			"host all all 10.0.0.0/8 md6",
			"host all @admins 10.0.0.0/8 md5",
		}},
		{Name: "default", Lines: []string{"host all all all scram-sha-256"}},
	}}
	p := &hba.Parser{Version: 17}
	for _, e := range p.ParseComposed(c).Errors {
		fmt.Println(e)
	}
	// Output:
	// spec.postgresql.pg_hba[0]: element ends in a backslash: PostgreSQL 14 and later join the next line to it
	// spec.postgresql.pg_hba[1]: invalid authentication method "md6"
	// spec.postgresql.pg_hba[2]: could not open file "/admins": refused: a list of lines reads no other files
}

func ExampleParser_BuildRule() {
	p := &hba.Parser{Version: 16}
	line, err := p.BuildRule(hba.RuleSpec{
		Type:      hba.HostSSL,
		Databases: []hba.Name{hba.Lit("all"), hba.Lit("sales db")},
		Users:     []hba.Name{{Value: "app", Kind: hba.NameRole}, hba.Lit(`o"neil`)},
		Prefix:    netip.PrefixFrom(netip.MustParseAddr("2001:db8::7"), 128),
		Method:    hba.ScramSHA256,
	})
	fmt.Println(line, err)
	_, err = p.BuildRule(hba.RuleSpec{Type: hba.Local, Databases: []hba.Name{hba.Kw("all")}, Users: []hba.Name{hba.Kw("all")},
		Method: hba.MD5, Options: []hba.Option{{Name: "map", Value: "m"}}})
	fmt.Println(err)
	// Output:
	// hostssl "all","sales db" +app,"o""neil" 2001:db8::7/128 scram-sha-256 <nil>
	// hba: cannot build rule: authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, and cert
}
