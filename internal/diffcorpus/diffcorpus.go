// Package diffcorpus generates the file pairs of the diff proof tests
// (hba/audit TestDiffProved and its siblings) and of the real-server check
// of their witnesses (internal/conformance TestDiffWitnesses): small
// pg_hba.conf files under random edits of the kinds issue #14 lists, over a
// fixed vocabulary, and the connections to enumerate over it.
//
// The addresses are in 127.0.0.0/8 and ::1 where a real server can be
// reached from them, with a few outside it that only the library decides.
// The names are those of the conformance role fixture (bob is a member of
// grp, dave of sub and so of grp, db1 is a role, admin is not).
package diffcorpus

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/pghba/pghba/hba"
)

// Vocab is what the generated rules and connections are made of.
type Vocab struct {
	Types, Addrs, DBs, Users, Methods []string
	// Atoms are user tokens used in one rule out of six, in files with
	// atoms; DBAtoms likewise for the database column.
	Atoms, DBAtoms []string
	// AddrAtoms are address tokens used in one rule out of four, in files
	// with atoms.
	AddrAtoms []string
	// AtomEvery: every AtomEvery-th pair (index % AtomEvery ==
	// AtomEvery-1) has atoms; 1 is every pair, 0 none.
	AtomEvery int
	// Conns: the addresses, databases and users connections are made of.
	ConnAddrs, ConnDBs, ConnUsers []string
}

// Plain is the vocabulary of TestDiffProved: literal names, sameuser,
// address ranges, and in one pair out of five +grp or a regular
// expression. The connections' databases include user names (bob, one
// the rules list; bert, one they do not) so that sameuser matches.
var Plain = Vocab{
	Types:     []string{"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"},
	Addrs:     []string{"all", "0.0.0.0/0", "::/0", "127.0.0.0/8", "127.1.0.0/16", "127.1.2.0/24", "127.168.0.0/16", "127.0.0.1/32", "::1/128", "127.1.2.3/32"},
	DBs:       []string{"all", "app", "db1", "app,db1", "db2", "replication", "replication,app", "all", "sameuser", "sameuser,app"},
	Users:     []string{"all", "admin", "bob", "bob,admin", "carol", "all"},
	Methods:   []string{"trust", "reject", "md5", "scram-sha-256", "password", "md5 clientcert=verify-ca"},
	Atoms:     []string{"+grp", "/^b"},
	AtomEvery: 5,
	ConnAddrs: []string{"127.0.0.5", "127.1.0.5", "127.1.2.3", "127.1.2.9", "127.168.1.1", "172.16.0.1", "127.0.0.1", "::1", "2001:db8::1"},
	ConnDBs:   []string{"app", "db1", "db2", "other", "bob", "bert"},
	ConnUsers: []string{"admin", "bob", "carol", "bert"},
}

// Sources is the vocabulary of the proofs with outside sources: every pair
// has rules with +role, samerole and (with hosts) host names, samehost
// and samenet, whose extent the role fixture, the conformance host table
// and the interface list give, and sameuser, alone and with samerole.
func Sources(hosts bool) Vocab {
	v := Plain
	v.Users = []string{"all", "admin", "bob", "bob,admin", "dave", "alice", "all"}
	v.DBs = []string{"all", "app", "db1", "grp", "app,grp", "replication", "replication,app", "all"}
	v.Atoms = []string{"+grp", "+sub", "+db1", "bob,+sub", "+nosuch"}
	v.DBAtoms = []string{"samerole", "samegroup,app", "samerole,grp", "sameuser", "samerole,sameuser"}
	v.AddrAtoms = []string{"samehost", "samenet"}
	if hosts {
		v.AddrAtoms = append(v.AddrAtoms, "db.example.com", ".example.com", "localhost", "dbalias", "web.example.com")
	}
	v.AtomEvery = 1
	v.ConnAddrs = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.1.2.3", "127.1.2.9", "127.168.1.1", "172.16.0.1", "127.0.0.1", "::1", "2001:db8::1"}
	v.ConnDBs = []string{"app", "db1", "grp", "sub", "other"}
	v.ConnUsers = []string{"admin", "bob", "dave", "alice", "db1", "grp"}
	return v
}

// Pair is one generated pair: the old and the new file, and whether its
// rules use atoms.
type Pair struct {
	Old, New string
	Atoms    bool
}

// Pairs returns n pairs, the same for the same vocabulary, seed and n (the
// first k pairs of n are the pairs of k).
func (v *Vocab) Pairs(seed uint64, n int) []Pair {
	rng := rand.New(rand.NewPCG(seed, seed))
	var out []Pair
	for i := 0; i < n; i++ {
		atoms := v.AtomEvery > 0 && i%v.AtomEvery == v.AtomEvery-1
		var lines []string
		for k := 0; k < 2+rng.IntN(8); k++ {
			lines = append(lines, v.rule(rng, atoms))
		}
		edited := lines
		for k := 0; k < 1+rng.IntN(3); k++ {
			edited = v.edit(rng, edited, atoms)
		}
		out = append(out, Pair{Old: strings.Join(lines, "\n") + "\n", New: strings.Join(edited, "\n") + "\n", Atoms: atoms})
	}
	return out
}

// Rule returns a random rule line.
func (v *Vocab) Rule(rng *rand.Rand, atoms bool) string { return v.rule(rng, atoms) }

func (v *Vocab) rule(rng *rand.Rand, atoms bool) string {
	t := v.Types[rng.IntN(len(v.Types))]
	db := v.DBs[rng.IntN(len(v.DBs))]
	user := v.Users[rng.IntN(len(v.Users))]
	if atoms && len(v.Atoms) > 0 && rng.IntN(6) == 0 {
		user = v.Atoms[rng.IntN(len(v.Atoms))]
	}
	if atoms && len(v.DBAtoms) > 0 && rng.IntN(6) == 0 {
		db = v.DBAtoms[rng.IntN(len(v.DBAtoms))]
	}
	m := v.Methods[rng.IntN(len(v.Methods))]
	if t == "local" {
		if strings.Contains(m, "clientcert") {
			m = "md5"
		}
		return fmt.Sprintf("%s %s %s %s", t, db, user, m)
	}
	if t != "hostssl" && strings.Contains(m, "clientcert") {
		m = "scram-sha-256"
	}
	return fmt.Sprintf("%s %s %s %s %s", t, db, user, v.addr(rng, atoms), m)
}

func (v *Vocab) addr(rng *rand.Rand, atoms bool) string {
	if atoms && len(v.AddrAtoms) > 0 && rng.IntN(4) == 0 {
		return v.AddrAtoms[rng.IntN(len(v.AddrAtoms))]
	}
	return v.Addrs[rng.IntN(len(v.Addrs))]
}

// edit applies one random edit: insert, delete, move, change the method,
// widen or narrow the address, change a name list, flip the type.
func (v *Vocab) edit(rng *rand.Rand, lines []string, atoms bool) []string {
	out := slices.Clone(lines)
	if len(out) == 0 {
		return append(out, v.rule(rng, atoms))
	}
	i := rng.IntN(len(out))
	f := strings.Fields(out[i])
	local := f[0] == "local"
	switch rng.IntN(7) {
	case 0: // insert
		out = slices.Insert(out, rng.IntN(len(out)+1), v.rule(rng, atoms))
	case 1: // delete
		if len(out) > 1 {
			out = slices.Delete(out, i, i+1)
		}
	case 2: // move
		l := out[i]
		out = slices.Delete(out, i, i+1)
		out = slices.Insert(out, rng.IntN(len(out)+1), l)
	case 3: // change method
		mi := 4
		if local {
			mi = 3
		}
		m := v.Methods[rng.IntN(len(v.Methods)-1)]
		out[i] = strings.Join(append(f[:mi:mi], m), " ")
	case 4: // widen or narrow the address
		if !local {
			f[3] = v.addr(rng, atoms)
			out[i] = strings.Join(f, " ")
		}
	case 5: // change a name list
		if rng.IntN(2) == 0 {
			f[1] = v.DBs[rng.IntN(len(v.DBs))]
		} else {
			f[2] = v.Users[rng.IntN(len(v.Users))]
		}
		out[i] = strings.Join(f, " ")
	case 6: // flip the type
		if !local {
			f[0] = v.Types[1+rng.IntN(len(v.Types)-1)]
			if f[0] != "hostssl" && strings.Contains(out[i], "clientcert") {
				f = f[:5]
			}
			out[i] = strings.Join(f, " ")
		}
	}
	return out
}

// Conns enumerates connections over the vocabulary: every transport
// (local, plain, SSL, GSS encryption), replication kind, database, user
// and address.
func (v *Vocab) Conns() []hba.Conn {
	var out []hba.Conn
	for _, repl := range []hba.Replication{hba.NoReplication, hba.PhysicalReplication, hba.LogicalReplication} {
		for _, db := range v.ConnDBs {
			if repl == hba.PhysicalReplication && db != v.ConnDBs[0] {
				continue
			}
			for _, u := range v.ConnUsers {
				out = append(out, hba.Conn{Local: true, Database: db, User: u, Replication: repl})
				for _, a := range v.ConnAddrs {
					for _, enc := range []int{0, 1, 2} {
						c := hba.Conn{Addr: netip.MustParseAddr(a), SSL: enc == 1, GSS: enc == 2, Database: db, User: u, Replication: repl}
						if repl == hba.PhysicalReplication {
							c.Database = ""
						}
						out = append(out, c)
					}
				}
			}
		}
	}
	return out
}

// PasswordVariant returns a generated file with every rule's method and
// options replaced by password, every byte before the method kept (the
// conformance harness's probes name the line the original would match).
func PasswordVariant(file string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(file, "\n"), "\n") {
		f := strings.Fields(l)
		n := 4
		if f[0] != "local" {
			n = 5
		}
		out = append(out, strings.Join(append(f[:n-1:n-1], "password"), " "))
	}
	return strings.Join(out, "\n") + "\n"
}
