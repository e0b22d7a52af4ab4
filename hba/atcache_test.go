package hba

import (
	"context"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// The @file cache (include.go): a load reads and tokenizes an @file once,
// however often and however it is named, and gives exactly what reading it
// again each time gives.

// atCacheFiles are the files of the cache tests, relative to the directory
// of pg_hba.conf. "names" is named in every spelling that reaches it; sub/
// holds @files that name files of their own directory and of the one above.
var atCacheFiles = map[string]string{
	"pg_hba.conf": `# main
host @names all 10.0.0.0/8 md5
host db1,@./names,x @sub/../names 10.0.0.0/8 md5
host @names#trailing comment
all @sub/two 10.1.0.0/16 trust
host "@names" @sub//two,"q" 10.2.0.0/16 scram-sha-256
host all all @addr md5
host all all 10.3.0.0/16 @method
host @missing all 10.4.0.0/16 md5
host @missing,@names all 10.4.0.0/16 md5
host @bad all 10.5.0.0/16 md5
host @bad all 10.5.0.0/16 md5
host @self all 10.6.0.0/16 md5
host @self all 10.6.0.0/16 md5
host @dir all 10.7.0.0/16 md5
host @dir,@names all 10.7.0.0/16 md5
host @inc all 10.8.0.0/16 md5
host @inc all 10.8.0.0/16 md5
host @nosuch/../names all 10.9.0.0/16 md5
host @./sub/./../names all 10.9.0.0/16 md5
host all @sub/two,@sub/../sub/two 10.10.0.0/16 md5
host @empty all 10.11.0.0/16 md5
host @empty,@comments all 10.11.0.0/16 md5
host @comments all 10.11.0.0/16 md5 # after
host @regex @regex 10.12.0.0/16 md5
host @regex all 10.12.0.0/16 md5
include inc.conf
include inc.conf
host @/ABS/names,@/ABS/sub/two all 10.14.0.0/16 md5
host @names @badre 10.15.0.0/16 md5
host @regex @badre 10.15.0.0/16 md5
host @names @names
local @names @sub/two
local @names @names bogus
host @names @names 10.16.0.0/16 ldap ldapserver=x ldapprefix=y
include @incname
include @incname
`,
	"names":     "alpha, \"b e\" # a comment in names\n+grp,beta\\\n,gamma\n@inner\n",
	"inner":     "delta \"quoted,\"\"x\"\"\"\n",
	"sub/two":   "two1 @../inner\n@three\n",
	"sub/three": "three1,\"+three2\"\n",
	"addr":      "192.168.0.0/16\n",
	"method":    "trust\n",
	"bad":       "ok1 \"unterminated\n" + strings.Repeat("x", 300) + "\nafter\n",
	"self":      "s1 @self\n",
	"dir/x":     "in-dir\n",
	"inc":       "i1\ninclude sub/three\ni2\n",
	"empty":     "",
	"comments":  "# only a comment\n\n   # another\n",
	"regex":     "/^re.*$\n\"/quoted\"\n",
	"badre":     "ok /(\n",
	"incname":   "inc.conf\n",
	"inc.conf":  "host @names @sub/two 10.13.0.0/16 md5\nhost @names all 10.13.0.0/16 md5\n",
}

// dumpFile renders everything a File shows through its API, so that two
// loads can be compared.
func dumpFile(f *File) string {
	var b strings.Builder
	fmt.Fprintf(&b, "path %s dialect %+v\n", f.Path, f.Dialect())
	for _, ln := range f.Lines {
		fmt.Fprintf(&b, "line %v from %v raw %q\n", ln.Pos, ln.IncludedFrom, ln.Raw)
		if ln.Err != nil {
			fmt.Fprintf(&b, "  err %s\n", dumpErr(ln.Err))
		}
		if ln.Rule != nil {
			b.WriteString(dumpRule(ln.Rule))
		}
	}
	for _, r := range f.Rules {
		b.WriteString(dumpRule(r))
	}
	for _, e := range f.Errors {
		fmt.Fprintf(&b, "error %s\n", dumpErr(e))
	}
	for _, c := range f.Comments {
		fmt.Fprintf(&b, "comment %v %q\n", c.Pos, c.Text)
	}
	return b.String()
}

func dumpErr(e *Error) string {
	return fmt.Sprintf("%v [%d,%d) %q log %q hint %q logonly %v cat %v: %s", e.Pos, e.Pos.Column, e.Pos.EndColumn, e.Msg, e.Log, e.Hint, e.LogOnly, e.Err, e.Error())
}

func dumpRule(r *Rule) string {
	a := r.Address()
	s := fmt.Sprintf("  rule %d %v from %v raw %q type %v db %v user %v addr %v/%v/%v/%q/%q method %v opts %+v view %q warn %q never %v\n",
		r.Number(), r.Pos(), r.IncludedFrom(), r.Raw(), r.Type(), r.Databases(), r.Users(),
		a.Kind, a.IP, a.Mask, a.Host, a.Text, r.Method(), *r.Options(), r.ViewOptions(), r.Warning(), r.Never())
	for _, c := range []Column{ColumnDatabase, ColumnUser} {
		for _, n := range r.Names(c) {
			s += fmt.Sprintf("    name %v %q regex %v\n", n.Kind, n.Value, n.re != nil)
		}
	}
	return s
}

// loadCachedAndNot loads main with and without the cache and fails when the two
// differ; it returns the cached load.
func loadCachedAndNot(t *testing.T, p *Parser, main string) *File {
	t.Helper()
	load := func(off bool) (*File, string) {
		noFileCache = off
		defer func() { noFileCache = false }()
		f, err := p.ParseFile(main)
		if err != nil {
			return nil, "main: " + err.Error()
		}
		return f, dumpFile(f)
	}
	f, cached := load(false)
	_, plain := load(true)
	if cached != plain {
		t.Fatalf("version %d: the cached load differs:\n%s", p.Version, firstDiff(cached, plain))
	}
	return f
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\ncached: %s\nplain:  %s", i+1, x, y)
		}
	}
	return ""
}

func TestAtFileCacheIdentical(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for k, v := range atCacheFiles {
		files[k] = strings.ReplaceAll(v, "@/ABS/", "@"+dir+"/")
	}
	writeFiles(t, dir, files)
	fsys := fstest.MapFS{}
	for k, v := range atCacheFiles {
		fsys[k] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(v, "@/ABS/", "@/"))}
	}
	for v := 13; v <= 18; v++ {
		for _, minor := range []int{0, 1} {
			for _, useFS := range []bool{false, true} {
				p := &Parser{Version: v, Minor: minor, SSL: true}
				main := filepath.Join(dir, "pg_hba.conf")
				if useFS {
					p.FS, main = fsys, "pg_hba.conf"
				}
				f := loadCachedAndNot(t, p, main)
				if len(f.Rules) < 10 || len(f.Errors) < 4 {
					t.Fatalf("version %d: %d rules, %d errors: the file does not exercise the cache", v, len(f.Rules), len(f.Errors))
				}
				// The Rulesets decide alike: compile what loaded.
				g := &File{Path: f.Path, Rules: f.Rules, dialect: f.dialect}
				rs, err := p.Compile(g)
				if err != nil {
					t.Fatal(err)
				}
				noFileCache = true
				f2, _ := p.ParseFile(main)
				noFileCache = false
				rs2, err := p.Compile(&File{Path: f2.Path, Rules: f2.Rules, dialect: f2.dialect})
				if err != nil {
					t.Fatal(err)
				}
				env := Env{Roles: RoleGraph{"beta": {"grp"}}}
				rs, rs2 = rs.WithEnv(env), rs2.WithEnv(env)
				for _, db := range []string{"alpha", "b e", "delta", "two1", "x", "i1", "reo", "nomatch"} {
					for _, user := range []string{"alpha", "beta", "two1", "three1", "+three2", "gamma", "nobody"} {
						for _, ip := range []string{"10.0.0.1", "10.1.2.3", "10.2.0.1", "192.168.1.1", "10.8.0.1", "10.12.0.1", "10.13.0.1"} {
							c := Conn{Addr: netip.MustParseAddr(ip), Database: db, User: user}
							d1, d2 := rs.Decide(context.Background(), c), rs2.Decide(context.Background(), c)
							if d1.Outcome != d2.Outcome || (d1.Rule == nil) != (d2.Rule == nil) ||
								d1.Rule != nil && d1.Rule.Number() != d2.Rule.Number() {
								t.Fatalf("version %d %+v: cached %v %v, plain %v %v", v, c, d1.Outcome, d1.Rule, d2.Outcome, d2.Rule)
							}
						}
					}
				}
			}
		}
	}
}

// TestAtFileCacheLimits checks that the budgets that count every expansion
// (lines, tokens, expanded tokens, tokens in a line) stop a cached load
// where they stop one that reads each @file again, with the same errors.
func TestAtFileCacheLimits(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for k, v := range atCacheFiles {
		files[k] = strings.ReplaceAll(v, "@/ABS/", "@"+dir+"/")
	}
	writeFiles(t, dir, files)
	main := filepath.Join(dir, "pg_hba.conf")
	for _, v := range []int{13, 15, 16, 18} {
		for n := 1; n <= 160; n += 3 {
			for _, lim := range []Limits{{MaxLines: n}, {MaxTokens: n}, {MaxExpandedTokens: n}, {MaxLineTokens: n}, {MaxErrors: n % 7}} {
				p := &Parser{Version: v, Limits: lim}
				loadCachedAndNot(t, p, main)
			}
		}
	}
}

// TestAtFileReadOnce checks that an @file named many times, in several
// spellings, is opened once: the load fits in a MaxFiles of the distinct
// files, and the reads counted are those of the distinct files.
func TestAtFileReadOnce(t *testing.T) {
	names := "n1,n2\n"
	var main strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&main, "host @names,@./names,@sub/../names all 10.0.0.0/8 md5\n")
	}
	files := map[string]string{"pg_hba.conf": main.String(), "names": names, "sub/x": ""}
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	opened := 0
	counting := openCounter{fsys, &opened}
	for _, v := range []int{15, 16} {
		opened = 0
		p := &Parser{Version: v, FS: counting, Limits: Limits{MaxFiles: 2, MaxBytes: int64(main.Len() + len(names))}}
		f, err := p.ParseFile("pg_hba.conf")
		if err != nil || len(f.Errors) != 0 || len(f.Rules) != 100 {
			t.Fatalf("version %d: %v %v, %d rules", v, err, f.Errors, len(f.Rules))
		}
		if opened != 2 {
			t.Errorf("version %d: %d files opened, want 2", v, opened)
		}
		r := f.Rules[99]
		if got := len(r.Databases()); got != 6 {
			t.Errorf("version %d: %d databases", v, got)
		}
		// The names of the @file are one string each for the whole load
		// (the other strings are the lines of this small file, copies).
		n := len(r.file.strs.s)
		for _, x := range f.Rules {
			if x.raw.ext() {
				n--
			}
		}
		if r.file.strs != f.Rules[0].file.strs || n != 2 {
			t.Errorf("version %d: the load keeps %d strings, want 2", v, n)
		}
		if !reflect.DeepEqual(r.dbNames(), f.Rules[0].dbNames()) {
			t.Errorf("version %d: the rules' names differ", v)
		}
		// A column of @file names only is one slice for the whole load.
		if &r.dbNames()[0] != &f.Rules[0].dbNames()[0] {
			t.Errorf("version %d: the database columns are not shared", v)
		}
	}
	// Shared columns: the same @file in the same column; not shared: a
	// column with a name of its own line, or the same file in the other
	// column (keywords differ by column).
	fsys = fstest.MapFS{
		"pg_hba.conf": {Data: []byte("host a @u 10.0.0.0/8 md5\nhost b @u 10.0.0.0/8 md5\n" +
			"host c @u,x 10.0.0.0/8 md5\nhost @u @u 10.0.0.0/8 md5\nhost all @u 10.0.0.0/8 md5\n")},
		"u": {Data: []byte("u1,+g,all,/^r\n")},
	}
	for _, v := range []int{15, 16} {
		p := &Parser{Version: v, FS: fsys}
		f, err := p.ParseFile("pg_hba.conf")
		if err != nil || len(f.Errors) != 0 {
			t.Fatalf("version %d: %v %v", v, err, f.Errors)
		}
		rs := f.Rules
		col := func(r *Rule) *name { return &r.userNames()[0] }
		if col(rs[0]) != col(rs[1]) || col(rs[0]) != col(rs[3]) || col(rs[0]) != col(rs[4]) {
			t.Errorf("version %d: the user columns of @u are not shared", v)
		}
		if col(rs[0]) == col(rs[2]) || &rs[3].dbNames()[0] == col(rs[3]) {
			t.Errorf("version %d: columns that differ are shared", v)
		}
		if rs[3].dbNames()[1].kind != nameLiteral || rs[3].userNames()[1].kind != nameRole {
			t.Errorf("version %d: +g is %v in the database column, %v in the user column", v, rs[3].dbNames()[1].kind, rs[3].userNames()[1].kind)
		}
		if v >= 16 && (rs[1].regexp(int(rs[1].nDB())+3) == nil || rs[3].regexp(3) == nil || rs[3].regexp(int(rs[3].nDB())+3) == nil) {
			t.Errorf("version %d: a /regex of a shared column has no compiled expression", v)
		}
	}
}

// openCounter counts the files opened through it.
type openCounter struct {
	fstest.MapFS
	n *int
}

func (c openCounter) Open(name string) (fs.File, error) {
	*c.n++
	return c.MapFS.Open(name)
}
