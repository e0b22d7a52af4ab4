package fuzz

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/pgre"
)

// refIdentCheck is check_usermap written straight from SEMANTICS.md §6.2,
// for a map name that is not empty: the lines of the map in order, the
// first match allows, a \1 without a capture group stops the scan, and so
// does a regular expression too complex to evaluate (refused).
func refIdentCheck(version int, maps []*hba.IdentMapping, roles hba.Roles, mapName, sys, pg string) (allowed, stopped bool, line *hba.IdentMapping) {
	if len(pg) > 63 {
		pg = pg[:63]
	}
	for _, m := range maps {
		if m.Map != mapName {
			continue
		}
		want := m.PGUser
		if strings.HasPrefix(m.SystemUser.Value, "/") {
			re, err := pgre.Compile(m.SystemUser.Value[1:])
			if err != nil {
				panic("loaded mapping with a bad regex: " + err.Error())
			}
			loc, err := re.Exec(sys)
			if err != nil {
				// too complex to evaluate: the scan stops, refused
				return false, true, m
			}
			if loc == nil {
				continue
			}
			substitute := version <= 15 ||
				!(!want.Quoted && strings.HasPrefix(want.Value, "+")) && !strings.HasPrefix(want.Value, "/")
			if i := strings.Index(want.Value, `\1`); i >= 0 && substitute {
				if len(loc) < 4 || loc[2] < 0 {
					return false, true, m
				}
				want = hba.Token{Value: want.Value[:i] + sys[loc[2]:loc[3]] + want.Value[i+2:], Quoted: true}
			}
		} else if m.SystemUser.Value != sys {
			continue
		}
		if version <= 15 {
			if want.Value == pg {
				return true, true, m
			}
			continue
		}
		switch {
		case !want.Quoted && strings.HasPrefix(want.Value, "+"):
			if ok, _ := roles.IsMember(context.Background(), pg, want.Value[1:]); ok {
				return true, true, m
			}
		case !want.Quoted && want.Value == "all":
			return true, true, m
		case strings.HasPrefix(want.Value, "/"):
			re, err := pgre.Compile(want.Value[1:])
			if err == nil {
				loc, err := re.Exec(pg)
				if err != nil {
					return false, true, m
				}
				if loc != nil {
					return true, true, m
				}
			}
		default:
			if want.Value == pg {
				return true, true, m
			}
		}
	}
	return false, false, nil
}

// FuzzIdent loads arbitrary pg_ident.conf contents and checks arbitrary
// (map, system user, database user) triples: no panic, errors positioned
// inside the file, a file with errors never loads, and the check agrees
// with the reference above.
func FuzzIdent(f *testing.F) {
	f.Add([]byte("m root alice\nm /^(.*)@example\\.com$ \\1\nm /^r(.*)$ b\\1\n"), "m", "root", "alice", uint8(5))
	f.Add([]byte("m /^(r)(o)ot$ \\1\\1x\nm root +grp\nm root all\nm root \"all\"\n"), "m", "root", "rrx", uint8(3))
	f.Add([]byte("m /^root$ \\1x\nm root alice\n"), "m", "root", "alice", uint8(0))
	f.Add([]byte("include inc.conf\nm a /^b\nx @names c\n"), "x", "db1", "c", uint8(4))
	f.Add([]byte("m / alice\nm /oo alice bob carol\n"), "m", "boot", "alice", uint8(1))
	roles := hba.RoleGraph{"bob": {"grp"}, "dave": {"sub"}, "sub": {"grp"}, "alice": nil, "grp": nil}
	f.Fuzz(func(t *testing.T, data []byte, mapName, sys, pg string, v uint8) {
		if len(data) > 4096 || len(sys) > 256 || len(pg) > 256 {
			return
		}
		version := hba.MinVersion + int(v)%(hba.MaxVersion-hba.MinVersion+1)
		p := &hba.Parser{Version: version, Env: hba.Env{Roles: roles},
			FS: fstest.MapFS{"pg_ident.conf": {Data: data}, "inc.conf": {Data: []byte("m inc alice\n")}, "names": {Data: []byte("db1 db2\n")}}}
		file, err := p.ParseIdentFile("pg_ident.conf")
		if err != nil {
			t.Fatal(err)
		}
		nlines := strings.Count(string(data), "\n") + 1
		for _, e := range file.Errors {
			if e.Pos.Filename == "/pg_ident.conf" && (e.Pos.Line < 1 || e.Pos.Line > nlines) {
				t.Fatalf("error outside the file: %v", e)
			}
		}
		maps, err := p.CompileIdent(file)
		if len(file.Errors) > 0 {
			if err == nil {
				t.Fatalf("an ident file with %d errors loaded", len(file.Errors))
			}
			return
		}
		if err != nil {
			t.Fatalf("CompileIdent: %v", err)
		}
		if mapName == "" {
			return
		}
		res := maps.Check(context.Background(), mapName, sys, pg, hba.IdentOptions{Roles: roles})
		allowed, stopped, line := refIdentCheck(version, file.Mappings, roles, mapName, sys, pg)
		if res.Allowed != allowed || (stopped && res.Line != line) {
			t.Fatalf("check(%q, %q, %q) on\n%s\ngot %v line %v, reference allowed=%v line %v", mapName, sys, pg, data, res.Outcome, res.Pos(), allowed, line)
		}
	})
}
