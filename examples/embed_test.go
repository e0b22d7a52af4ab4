package examples_test

import (
	"fmt"
	"log"
	"net/netip"

	"github.com/pghba/pghba/hba"
)

// Example is what a connection pooler needs to enforce pg_hba.conf: load the
// rules once (and again on reload), then match each client after reading its
// startup packet. A refusal's error text is PostgreSQL's FATAL message, to
// send with SQLSTATE 28000.
func Example() {
	p := hba.Parser{Version: 15, Env: hba.Env{Roles: hba.RoleGraph{"alice": {"admins"}, "bob": nil}}}
	rules, err := p.LoadBytes("/etc/pooler/pg_hba.conf", []byte(`
local all all                      peer
host  all +admins     10.0.0.0/8   scram-sha-256
host  all all         10.9.0.0/16  reject
`))
	if err != nil {
		log.Fatal(err) // an hba.ErrorList: every bad line as file:line: message
	}

	for _, c := range []hba.Conn{
		{Addr: netip.MustParseAddr("10.1.2.3"), User: "alice", Database: "app"},
		{Addr: netip.MustParseAddr("10.9.0.5"), User: "bob", Database: "app", SSL: true},
		{Addr: netip.MustParseAddr("192.0.2.1"), User: "bob"},
		{Local: true, User: "bob"},
	} {
		rule, err := rules.Match(c)
		if err != nil {
			fmt.Println("FATAL: ", err)
			continue
		}
		fmt.Println(rule.Pos(), rule.Method())
	}
	// Output:
	// /etc/pooler/pg_hba.conf:3 scram-sha-256
	// FATAL:  pg_hba.conf rejects connection for host "10.9.0.5", user "bob", database "app", SSL encryption
	// FATAL:  no pg_hba.conf entry for host "192.0.2.1", user "bob", database "bob", no encryption
	// /etc/pooler/pg_hba.conf:2 peer
}
