// Package fuzz holds property fuzz targets on hba's public API. See
// README.md for how to run them.
package fuzz

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/refmatch"
)

// seedFiles returns the golden pg_hba.conf files of the repository.
func seedFiles(f *testing.F) [][]byte {
	var out [][]byte
	for _, pat := range []string{"../hba/testdata/errors/*.conf", "../examples/pg_hba.conf", "../hba/testdata/*/*.conf"} {
		names, _ := filepath.Glob(pat)
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, data)
		}
	}
	return out
}

// The files FuzzLoad's real directory holds besides the input's: a file
// that includes itself three times and a directory of files that each
// include it (fan-out past the file budget), a FIFO, links to /dev/zero and
// /dev/null, and a sparse file over the byte budget.
var (
	hostileFiles = map[string][]byte{
		"self.conf":   []byte("include self.conf\ninclude self.conf\ninclude self.conf\n"),
		"fan/f1.conf": []byte("include_dir .\n"),
		"fan/f2.conf": []byte("include_dir .\n"),
		"fan/f3.conf": []byte("include_dir .\n"),
	}
	// fuzzLimits are small, so that the fuzzer reaches every budget fast
	// and no input costs long.
	fuzzLimits = hba.Limits{MaxBytes: 1 << 20, MaxFiles: 300, MaxLines: 20000, MaxTokens: 100000, MaxLineTokens: 20000}
)

// realDir writes files to a new temporary directory, with the hostile
// files beside them; sel adds a FIFO (bit 0) and a link to /dev/zero (bit
// 1) to the include_dir d.
func realDir(t *testing.T, files map[string][]byte, sel int) string {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		write(name, data)
	}
	for name, data := range hostileFiles {
		write(name, data)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	// The special files are made where the system has them.
	_ = mkfifo(filepath.Join(dir, "fifo"))
	_ = os.Symlink("/dev/zero", filepath.Join(dir, "zero"))
	_ = os.Symlink("/dev/null", filepath.Join(dir, "null"))
	write("big", nil)
	must(os.Truncate(filepath.Join(dir, "big"), fuzzLimits.MaxBytes+1))
	if sel&1 != 0 {
		_ = mkfifo(filepath.Join(dir, "d", "c.conf"))
	}
	if sel&2 != 0 {
		_ = os.Symlink("/dev/zero", filepath.Join(dir, "d", "z.conf"))
	}
	return dir
}

// FuzzLoad loads arbitrary bytes as pg_hba.conf, with arbitrary contents for
// the files it may include or name with @, from an in-memory filesystem or
// (by v) from a real temporary directory that also holds a FIFO, devices,
// an oversized file and fan-out include trees; under small Limits.
// Properties: no panic and no hang; every error in a file of the input
// names a line inside it; at most one limit error, the last one; a file
// with errors never compiles; formatting the rules and loading the result
// gives the same rules.
func FuzzLoad(f *testing.F) {
	for _, s := range seedFiles(f) {
		f.Add(s, []byte("db1, db2 \"a b\"\n"), uint8(5))
	}
	f.Add([]byte("host @names all 127.0.0.1/32 trust\ninclude inc.conf\n"), []byte("local all all trust\n"), uint8(3))
	f.Add([]byte("include_dir d\nhost @inc.conf all all trust\n"), []byte("x @inc.conf\n"), uint8(4))
	f.Add([]byte("host \"a\\\nb\" all 127.0.0.1/32 trust\n"), []byte(""), uint8(1))
	// v/6 odd: a real directory; v/12 picks the special files of d/.
	f.Add([]byte("include fifo\nhost @zero all 0.0.0.0/0 trust\ninclude big\ninclude null\n"), []byte("local all all trust\n"), uint8(6+3))
	f.Add([]byte("include_dir d\nlocal all all trust\n"), []byte("host all all 0.0.0.0/0 trust\n"), uint8(6+36+5))
	f.Add([]byte("include self.conf\n"), []byte(""), uint8(6+5))
	f.Add([]byte("include_dir fan\n"), []byte(""), uint8(6+4))
	f.Add([]byte("host @fifo all 0.0.0.0/0 trust\nhost @big,@null all 0.0.0.0/0 trust\n"), []byte(""), uint8(6+1))
	f.Add([]byte("host @names all 0.0.0.0/0 trust\n"), bytes.Repeat([]byte("@names "), 200), uint8(6+2))
	f.Fuzz(func(t *testing.T, main, inc []byte, v uint8) {
		if len(main) > 1<<16 || len(inc) > 1<<16 {
			return
		}
		files := map[string][]byte{"pg_hba.conf": main, "inc.conf": inc, "names": inc, "d/a.conf": inc, "d/b.conf": main}
		version := hba.MinVersion + int(v)%(hba.MaxVersion-hba.MinVersion+1)
		p := &hba.Parser{Version: version, Limits: fuzzLimits}
		mainName := "pg_hba.conf"
		dir := ""
		if (v/6)&1 != 0 {
			dir = realDir(t, files, int(v/12))
			for name, data := range hostileFiles {
				files[name] = data
			}
			mainName = filepath.Join(dir, "pg_hba.conf")
		} else {
			fsys := fstest.MapFS{
				"fifo": {Mode: fs.ModeNamedPipe},
				"dev":  {Mode: fs.ModeDevice | fs.ModeCharDevice},
			}
			for name, data := range files {
				fsys[name] = &fstest.MapFile{Data: data}
			}
			p.FS = fsys
		}
		var file *hba.File
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			file, err = p.ParseFile(mainName)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("ParseFile blocked")
		}
		if err != nil {
			t.Fatalf("ParseFile: %v", err)
		}
		for i, e := range file.Errors {
			if e.Error() == "" || e.Msg == "" {
				t.Fatalf("empty error text: %#v", e)
			}
			if errors.Is(e, hba.ErrLimit) && i != len(file.Errors)-1 {
				t.Fatalf("limit error %d of %d: %v", i+1, len(file.Errors), e)
			}
			name := strings.TrimPrefix(e.Pos.Filename, "/")
			if dir != "" {
				rel, err := filepath.Rel(dir, e.Pos.Filename)
				if err != nil || strings.HasPrefix(rel, "..") {
					continue // a file outside the directory, named absolutely
				}
				name = rel
			}
			data, ok := files[name]
			if !ok {
				t.Fatalf("error in unknown file %q: %v", e.Pos.Filename, e)
			}
			if n := bytes.Count(data, []byte("\n")) + 1; e.Pos.Line < 1 || e.Pos.Line > n {
				t.Fatalf("error line %d outside %s (%d lines): %v", e.Pos.Line, name, n, e)
			}
		}
		rs, cerr := p.Compile(file)
		if len(file.Errors) > 0 {
			if cerr == nil || rs != nil {
				t.Fatalf("a file with %d errors compiled", len(file.Errors))
			}
			return
		}
		if len(file.Rules) == 0 {
			if cerr == nil {
				t.Fatal("a file without rules compiled")
			}
			return
		}
		if cerr != nil {
			t.Fatalf("Compile without errors failed: %v", cerr)
		}
		if version < 16 {
			// 13–15 limit token length; quoting in the canonical form may
			// exceed it, so the round trip is checked with 16+ dialects.
			return
		}
		var buf bytes.Buffer
		if err := hba.Format(&buf, file.Rules); err != nil {
			t.Fatal(err)
		}
		q := &hba.Parser{Version: version}
		again := q.ParseBytes("/formatted.conf", buf.Bytes())
		if len(again.Errors) > 0 {
			t.Fatalf("formatted rules do not load: %v\n%s", again.Errors, buf.String())
		}
		if len(again.Rules) != len(file.Rules) {
			t.Fatalf("round trip: %d rules, want %d\n%s", len(again.Rules), len(file.Rules), buf.String())
		}
		for i, r := range file.Rules {
			a := again.Rules[i]
			if a.String() != r.String() || a.Method() != r.Method() || a.Type() != r.Type() ||
				strings.Join(a.ViewOptions(), ",") != strings.Join(r.ViewOptions(), ",") || a.Warning() != r.Warning() {
				t.Fatalf("round trip of rule %d:\n got %s\nwant %s", i, a, r)
			}
		}
	})
}

// The vocabulary FuzzMatch builds rules and connections from.
var (
	vTypes = []string{"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
	vDBs   = []string{"all", "sameuser", "samerole", "samegroup", "replication", `"all"`, `"replication"`, "db1", "db2", "grp",
		"/^db", `"/^x,y$"`, "db1,db2", "alice", "@dbs"}
	vUsers = []string{"all", "+grp", "+sub", `"+grp"`, "alice", "bob", "Alice", "/^a", "bob,+sub", `"all"`, "@users", "ghost"}
	vAddrs = []string{"all", "127.0.0.1/32", "127.0.0.0/8", "127.0.0.2/31", "::1/128", "::/0", "0.0.0.0/0", "samehost", "samenet",
		"localhost", ".example.com", "db.example.com", "10.0.0.0 255.0.0.0", "127.0.0.1 0.0.0.24", "127.1/32", "::ffff:127.0.0.1/128", "\"all\""}
	vMethods = []string{"trust", "reject", "scram-sha-256", "md5", "password", "reject"}
	vConnIPs = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "::1", "10.1.2.3", "::ffff:127.0.0.1", "192.0.2.7"}
	vNames   = []string{"alice", "bob", "dave", "carol", "grp", "db1", "db2", "ghost", "Alice", "x,y", ""}
)

var fuzzRoles = hba.RoleGraph{"alice": nil, "bob": {"grp"}, "dave": {"sub"}, "sub": {"grp"}, "carol": nil, "grp": nil, "+grp": nil, "db1": nil}

var fuzzHosts = hba.HostTable{
	Reverse: map[string][]string{"127.0.0.1": {"localhost"}, "127.0.0.2": {"db.example.com."}, "10.1.2.3": {"evil.example.com"}},
	Forward: map[string][]string{"localhost": {"127.0.0.1", "::1"}, "db.example.com": {"127.0.0.2"}},
}

// byteReader hands out small numbers from the fuzz input.
type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) pick(n int) int {
	if r.i >= len(r.b) {
		r.i++
		return (r.i * 7) % n
	}
	x := int(r.b[r.i])
	r.i++
	return x % n
}

func (r *byteReader) more() bool { return r.i < len(r.b) }

// FuzzMatch builds a rule set and connections from the input and checks
// that the production matcher agrees with the reference matcher, and that
// deciding the same connections in another order changes nothing.
func FuzzMatch(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(5), uint8(0))
	f.Add([]byte("a rather long seed that picks many different rules and connections"), uint8(3), uint8(1))
	f.Add([]byte{1, 0, 0, 1, 0, 1, 1, 2, 2, 0, 2, 3, 3, 1, 0, 9, 9, 9, 4, 4, 4, 4, 10, 11, 12}, uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, v uint8, envSel uint8) {
		if len(data) > 4096 {
			return
		}
		r := &byteReader{b: data}
		var conf strings.Builder
		nrules := 1 + r.pick(12)
		for i := 0; i < nrules; i++ {
			typ := vTypes[r.pick(len(vTypes))]
			conf.WriteString(typ + " " + vDBs[r.pick(len(vDBs))] + " " + vUsers[r.pick(len(vUsers))])
			if typ != "local" {
				conf.WriteString(" " + vAddrs[r.pick(len(vAddrs))])
			}
			conf.WriteString(" " + vMethods[r.pick(len(vMethods))] + "\n")
		}
		version := hba.MinVersion + int(v)%(hba.MaxVersion-hba.MinVersion+1)
		env := hba.Env{Roles: fuzzRoles, Resolver: fuzzHosts,
			Interfaces: hba.StaticInterfaces{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}}
		if envSel&1 != 0 {
			env.Roles = nil
		}
		if envSel&2 != 0 {
			env.Resolver = nil
		}
		p := &hba.Parser{Version: version, SSL: envSel&4 == 0, Env: env,
			FS: fstest.MapFS{"pg_hba.conf": {Data: []byte(conf.String())}, "dbs": {Data: []byte("db2 \"all\"\n")}, "users": {Data: []byte("+grp\n")}}}
		rs, err := p.Load("pg_hba.conf")
		if err != nil {
			t.Fatalf("generated file does not load: %v\n%s", err, conf.String())
		}
		var conns []hba.Conn
		for n := 0; n < 1+r.pick(8); n++ {
			c := hba.Conn{User: vNames[r.pick(len(vNames)-1)], Database: vNames[r.pick(len(vNames))]}
			if r.pick(4) == 0 {
				c.Local = true
			} else {
				c.Addr = netip.MustParseAddr(vConnIPs[r.pick(len(vConnIPs))])
				switch r.pick(4) {
				case 1:
					c.SSL = true
				case 2:
					c.GSS = true
				}
			}
			switch r.pick(5) {
			case 1:
				c.Replication = hba.PhysicalReplication
			case 2:
				c.Replication = hba.LogicalReplication
			}
			conns = append(conns, c)
		}
		ctx := context.Background()
		forward := make([]hba.Decision, len(conns))
		for i, c := range conns {
			d := rs.Decide(ctx, c)
			ref := refmatch.Decide(ctx, version, rs.Rules(), env, c)
			if d.Outcome != ref.Outcome || d.Rule != ref.Rule {
				t.Fatalf("conn %+v on\n%s\nhba: %v %v\nref: %v %v", c, conf.String(), d.Outcome, ruleLine(d.Rule), ref.Outcome, ruleLine(ref.Rule))
			}
			// Explain runs the same per-rule tests: the same decision.
			if tr := rs.Explain(ctx, c); tr.Decision.Outcome != d.Outcome || tr.Decision.Rule != d.Rule || tr.Decision.Reason != d.Reason {
				t.Fatalf("conn %+v on\n%s\nDecide: %v %v\nExplain: %v %v", c, conf.String(), d.Outcome, ruleLine(d.Rule), tr.Decision.Outcome, ruleLine(tr.Decision.Rule))
			}
			forward[i] = d
		}
		for i := len(conns) - 1; i >= 0; i-- {
			d := rs.Decide(ctx, conns[i])
			if d.Outcome != forward[i].Outcome || d.Rule != forward[i].Rule {
				t.Fatalf("order changed the decision for %+v: %v then %v", conns[i], forward[i].Outcome, d.Outcome)
			}
		}
	})
}

func ruleLine(r *hba.Rule) int {
	if r == nil {
		return 0
	}
	return r.Pos().Line
}
