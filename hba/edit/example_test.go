package edit_test

import (
	"fmt"
	"net/netip"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/edit"
)

func Example() {
	data := []byte("# TYPE  DATABASE        USER            ADDRESS                 METHOD\n" +
		"local all all peer   # the operator's\n" +
		"host all all \\\n" +
		"    127.0.0.1/32 scram-sha-256\n")
	p := &hba.Parser{Version: 17}
	f := edit.Parse(p, "/etc/pg_hba.conf", data)

	rule, err := p.BuildRule(hba.RuleSpec{Type: hba.Host, Databases: []hba.Name{hba.Lit("all")},
		Users: []hba.Name{hba.Kw("all")}, Prefix: netip.MustParsePrefix("::1/128"), Method: hba.ScramSHA256})
	if err != nil {
		panic(err)
	}
	l, err := f.InsertAfter(3, rule) // after the record of lines 3 and 4
	if err != nil {
		panic(err)
	}
	fmt.Printf("inserted at line %d: %s\n", l.Line, l.Text)
	if err := f.Format(); err != nil {
		panic(err)
	}
	fmt.Print(string(f.Bytes()))
	_, err = f.Append("host all all 10.0.0.256/32 trust")
	fmt.Println(err)
	// Output:
	// inserted at line 5: host "all" all ::1/128 scram-sha-256
	//
	// # TYPE  DATABASE        USER            ADDRESS                 METHOD
	// local   all             all                                     peer # the operator's
	// host all all \
	//     127.0.0.1/32 scram-sha-256
	// host    "all"           all             ::1/128                 scram-sha-256
	// rule "host all all 10.0.0.256/32 trust" refused: column 14: specifying both host name and CIDR mask is invalid: "10.0.0.256/32"
}
