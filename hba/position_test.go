package hba_test

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pghba/pghba/hba"
)

// TestErrorColumns checks that a load error is placed on the token or
// field at fault: Column is where its text starts in the line, EndColumn
// just past it; and that Error() still leaves the column out.
func TestErrorColumns(t *testing.T) {
	long := strings.Repeat("a", 300)
	cases := []struct {
		name    string
		version int
		minor   int
		line    string
		at      string // the text at fault; "" for no column
		msg     string // a part of the message
	}{
		{name: "type", line: "hots all all 0.0.0.0/0 trust", at: "hots", msg: "invalid connection type"},
		{name: "type-before-comment", line: "hots#x all", at: "hots", msg: `invalid connection type "hots"`},
		{name: "multiple-types", line: "host,local all all 0.0.0.0/0 trust", at: "host,local", msg: "multiple values specified for connection type"},
		{name: "cidr", line: "host all all 10.0.0.0/33 trust", at: "10.0.0.0/33", msg: "invalid CIDR mask"},
		{name: "quoted-cidr", line: `host all all "10.0.0.0/33" trust`, at: `"10.0.0.0/33"`, msg: "invalid CIDR mask"},
		{name: "host-and-cidr", line: "host all all db.example/8 trust", at: "db.example/8", msg: "specifying both host name and CIDR mask"},
		{name: "multiple-addresses", line: "host all all 10.0.0.0/8,10.1.0.0/16 trust", at: "10.0.0.0/8,10.1.0.0/16", msg: "multiple values specified for host address"},
		{name: "mask", line: "host all all 10.0.0.0 255.0.0.x trust", at: "255.0.0.x", msg: "invalid IP mask"},
		{name: "mask-family", line: "host all all 10.0.0.0 ffff:: trust", at: "ffff::", msg: "IP address and mask do not match"},
		{name: "method", line: "host all all 0.0.0.0/0 bogus", at: "bogus", msg: "invalid authentication method"},
		{name: "method-local", line: "host all all 0.0.0.0/0 peer", at: "peer", msg: "peer authentication is only supported"},
		{name: "multiple-methods", line: "local all all trust,reject", at: "trust,reject", msg: "multiple values specified for authentication type"},
		{name: "option", line: "host all all 0.0.0.0/0 md5 foo=bar", at: "foo=bar", msg: "unrecognized authentication option"},
		{name: "second-option", line: "local all all peer map=m bad", at: "bad", msg: "not in name=value format"},
		{name: "option-method", line: "local all all trust pamservice=x", at: "pamservice=x", msg: `"pamservice" is only valid for authentication methods pam`},
		{name: "options-together", line: "host all all 0.0.0.0/0 ldap ldapserver=x ldaptls=1", at: "ldap ldapserver=x ldaptls=1", msg: `requires argument "ldapbasedn"`},
		{name: "no-options", line: "host all all 0.0.0.0/0 ldap", at: "ldap", msg: `requires argument "ldapbasedn"`},
		{name: "regex", version: 16, line: "local /( all trust", at: "/(", msg: "invalid regular expression"},
		{name: "missing-field", line: "local all", msg: "end-of-line before role specification"},
		{name: "token-too-long", version: 13, minor: 11, line: "local " + long + " all trust", at: long, msg: "authentication file token too long"},
		{name: "at-file", line: "local @missing.txt all trust", at: "@missing.txt", msg: "could not open"},
		{name: "include", version: 16, line: "include missing.conf", at: "missing.conf", msg: "could not open file"},
		{name: "continued", version: 14, line: "host all all \\\n10.0.0.0/33 trust", at: "10.0.0.0/33", msg: "invalid CIDR mask"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := hba.Parser{Version: c.version, Minor: c.minor, FS: fstest.MapFS{}}
			f := p.ParseBytes("pg_hba.conf", []byte(c.line+"\n"))
			if len(f.Errors) != 1 {
				t.Fatalf("errors %v, want one", f.Errors)
			}
			e := f.Errors[0]
			if !strings.Contains(e.Msg, c.msg) {
				t.Fatalf("message %q, want it to contain %q", e.Msg, c.msg)
			}
			if want := "/pg_hba.conf:1: " + e.Msg; e.Error() != want {
				t.Errorf("Error() = %q, want %q", e.Error(), want)
			}
			if e.Pos.Line != 1 || e.Pos.Filename != "/pg_hba.conf" {
				t.Errorf("Pos = %+v, want /pg_hba.conf line 1", e.Pos)
			}
			logical := strings.ReplaceAll(c.line, "\\\n", "")
			col, end := 0, 0
			if c.at != "" {
				col = strings.Index(logical, c.at) + 1
				end = col + len(c.at)
			}
			if e.Pos.Column != col || e.Pos.EndColumn != end {
				t.Errorf("columns [%d, %d), want [%d, %d) (%q)", e.Pos.Column, e.Pos.EndColumn, col, end, c.at)
			}
			if c.at != "" && f.Lines[0].Raw[col-1:end-1] != c.at {
				t.Errorf("Raw[%d:%d] = %q, want %q", col-1, end-1, f.Lines[0].Raw[col-1:end-1], c.at)
			}
		})
	}
}

// TestErrorColumnsInFile checks the place of an error that an @file's
// content causes: the @file token of the line that names it.
func TestErrorColumnsInFile(t *testing.T) {
	fsys := fstest.MapFS{"users.txt": {Data: []byte("alice\n")}}
	p := hba.Parser{FS: fsys}
	line := "host db @users.txt 10.0.0.0/33 trust"
	f := p.ParseBytes("pg_hba.conf", []byte(line+"\n"))
	if len(f.Errors) != 1 {
		t.Fatalf("errors %v", f.Errors)
	}
	if e := f.Errors[0]; e.Pos.Column != strings.Index(line, "10.0")+1 {
		t.Errorf("column %d", e.Pos.Column)
	}
	p.Version = 16
	line = "local db @users.txt,/( trust"
	f = p.ParseBytes("pg_hba.conf", []byte(line+"\n"))
	if len(f.Errors) != 1 {
		t.Fatalf("errors %v", f.Errors)
	}
	if e := f.Errors[0]; e.Pos.Column != strings.Index(line, "/(")+1 || e.Pos.EndColumn != e.Pos.Column+2 {
		t.Errorf("columns [%d, %d)", e.Pos.Column, e.Pos.EndColumn)
	}
	fsys["bad.txt"] = &fstest.MapFile{Data: []byte("\"" + strings.Repeat("b", 300) + "\"\n")}
	p.Version, p.Minor = 13, 11
	line = "local db @bad.txt trust"
	f = p.ParseBytes("pg_hba.conf", []byte(line+"\n"))
	if len(f.Errors) != 1 {
		t.Fatalf("errors %v", f.Errors)
	}
	if e := f.Errors[0]; e.Pos.Column != 10 || e.Pos.EndColumn != 18 {
		t.Errorf("an error inside an @file: columns [%d, %d), want the @file token [10, 18)", e.Pos.Column, e.Pos.EndColumn)
	}
}

// TestRuleColumnPos checks that a rule tells where each of its columns is
// written.
func TestRuleColumnPos(t *testing.T) {
	src := "local db1 all trust\n" +
		`host "db one",@dbs +grp 10.0.0.0 255.0.0.0 md5 # trailing` + "\n" +
		"hostssl  all  bob  db.example  cert\n"
	p := hba.Parser{FS: fstest.MapFS{"dbs": {Data: []byte("a b\n")}}, SSL: true}
	f := p.ParseBytes("pg_hba.conf", []byte(src))
	if err := f.Errors.Err(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(src, "\n")
	cases := []struct {
		rule int
		col  hba.Column
		text string // "" for no position
	}{
		{0, hba.ColumnType, "local"},
		{0, hba.ColumnDatabase, "db1"},
		{0, hba.ColumnUser, "all"},
		{0, hba.ColumnAddress, ""},
		{1, hba.ColumnType, "host"},
		{1, hba.ColumnSSL, "host"},
		{1, hba.ColumnDatabase, `"db one",@dbs`},
		{1, hba.ColumnUser, "+grp"},
		{1, hba.ColumnAddress, "10.0.0.0 255.0.0.0"},
		{2, hba.ColumnGSS, "hostssl"},
		{2, hba.ColumnUser, "bob"},
		{2, hba.ColumnAddress, "db.example"},
		{2, hba.Column(0), ""},
	}
	for _, c := range cases {
		r := f.Rules[c.rule]
		pos := r.ColumnPos(c.col)
		if c.text == "" {
			if pos != (hba.Position{}) {
				t.Errorf("rule %d %v: %+v, want none", c.rule, c.col, pos)
			}
			continue
		}
		col := strings.Index(lines[c.rule], c.text) + 1
		want := hba.Position{Filename: "/pg_hba.conf", Line: c.rule + 1, Column: col, EndColumn: col + len(c.text)}
		if pos != want {
			t.Errorf("rule %d %v: %+v, want %+v", c.rule, c.col, pos, want)
		}
	}
}

// TestComments checks that ParseFile and ParseBytes keep every comment with
// its place, in the order read, and that Load's File does not need them.
func TestComments(t *testing.T) {
	fsys := fstest.MapFS{
		"users":         {Data: []byte("alice # in an @file\n")},
		"conf.d/a.conf": {Data: []byte("# included\nlocal all all trust\n")},
	}
	src := "# pghba: ignore=unreachable\n" +
		"local all @users trust  # after a rule\n" +
		"\n" +
		`local "a#b" all trust` + "\n" +
		"   # indented\n" +
		"include_dir conf.d # after a directive\n" +
		"local all all trust#glued\n"
	p := hba.Parser{FS: fsys, Version: 16}
	f := p.ParseBytes("pg_hba.conf", []byte(src))
	if err := f.Errors.Err(); err != nil {
		t.Fatal(err)
	}
	type want struct {
		file string
		line int
		text string
	}
	wants := []want{
		{"/pg_hba.conf", 1, "# pghba: ignore=unreachable"},
		{"/users", 1, "# in an @file"},
		{"/pg_hba.conf", 2, "# after a rule"},
		{"/pg_hba.conf", 5, "# indented"},
		{"/pg_hba.conf", 6, "# after a directive"}, // the directive is read before the files it includes
		{"/conf.d/a.conf", 1, "# included"},
		{"/pg_hba.conf", 7, "#glued"},
	}
	if len(f.Comments) != len(wants) {
		t.Fatalf("comments %+v, want %d", f.Comments, len(wants))
	}
	files := map[string][]string{"/pg_hba.conf": strings.Split(src, "\n"), "/users": {"alice # in an @file"}, "/conf.d/a.conf": {"# included"}}
	for i, w := range wants {
		c := f.Comments[i]
		line := files[w.file][w.line-1]
		col := strings.Index(line, w.text) + 1
		wp := hba.Position{Filename: w.file, Line: w.line, Column: col, EndColumn: len(line) + 1}
		if c.Text != w.text || c.Pos != wp {
			t.Errorf("comment %d: %q at %+v, want %q at %+v", i, c.Text, c.Pos, w.text, wp)
		}
	}
}

// TestFileDialect checks that a File records the server facts it was read
// for, resolved as the Parser documents.
func TestFileDialect(t *testing.T) {
	f := (&hba.Parser{}).ParseBytes("pg_hba.conf", []byte("local all all trust\n"))
	if d := f.Dialect(); d != (hba.Dialect{Version: hba.DefaultVersion}) {
		t.Errorf("zero Parser: %+v", d)
	}
	p := hba.Parser{Version: 15, Minor: 3, SSL: true, Features: hba.FeatureSSL, DBUserNamespace: true, OAuthValidatorLibraries: "v"}
	f = p.ParseBytes("pg_hba.conf", []byte("local all all trust\n"))
	want := hba.Dialect{Version: 15, Minor: 3, SSL: true, Features: hba.FeatureSSL, DBUserNamespace: true, OAuthValidatorLibraries: "v"}
	if d := f.Dialect(); d != want {
		t.Errorf("%+v, want %+v", f.Dialect(), want)
	}
}

// ctxResolver answers a lookup only while its context lives, and records
// that it was given the load's context.
type ctxResolver struct{ key any }

func (ctxResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return nil, errors.New("not used")
}

func (r ctxResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ctx.Value(r.key) == nil {
		return nil, errors.New("not the load's context")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
}

type ctxKey struct{}

// TestRADIUSResolverContext checks that RADIUS lookups get the load's
// context, and that a lookup failing because it ended stops the load.
func TestRADIUSResolverContext(t *testing.T) {
	conf := "host all all 0.0.0.0/0 radius radiusservers=radius.example radiussecrets=s\n"
	fsys := fstest.MapFS{"pg_hba.conf": {Data: []byte(conf)}}
	p := hba.Parser{FS: fsys, RADIUSResolver: ctxResolver{ctxKey{}}}
	ctx := context.WithValue(context.Background(), ctxKey{}, true)
	if _, err := p.LoadContext(ctx, "pg_hba.conf"); err != nil {
		t.Fatalf("LoadContext: %v", err)
	}
	f, err := p.ParseFileContext(ctx, "pg_hba.conf")
	if err != nil || len(f.Errors) != 0 {
		t.Fatalf("ParseFileContext: %v %v", err, f.Errors)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	// Cancelled before the main file is opened: stopped there.
	if _, err := p.LoadContext(cctx, "pg_hba.conf"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// Load has no context of its own: the lookup gets Background, which
	// the resolver refuses, and the line fails as PostgreSQL's would.
	if _, err := p.Load("pg_hba.conf"); err == nil || !strings.Contains(err.Error(), "could not translate RADIUS server name") {
		t.Fatalf("Load: %v", err)
	}
}

// cancelResolver cancels the load's context during the lookup.
type cancelResolver struct{ cancel context.CancelFunc }

func (cancelResolver) LookupAddr(context.Context, string) ([]string, error) { return nil, nil }

func (r cancelResolver) LookupNetIP(ctx context.Context, _, _ string) ([]netip.Addr, error) {
	r.cancel()
	return nil, ctx.Err()
}

// TestRADIUSLookupStopsLoad checks that a lookup that fails because the
// load's context ended during it stops the load, with the context's error.
func TestRADIUSLookupStopsLoad(t *testing.T) {
	conf := "host all all 0.0.0.0/0 radius radiusservers=radius.example radiussecrets=s\n"
	fsys := fstest.MapFS{"pg_hba.conf": {Data: []byte(conf)}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := hba.Parser{FS: fsys, RADIUSResolver: cancelResolver{cancel}}
	rs, err := p.LoadContext(ctx, "pg_hba.conf")
	var he *hba.Error
	if rs != nil || !errors.Is(err, context.Canceled) || !errors.As(err, &he) || he.Pos.Line != 1 {
		t.Fatalf("LoadContext = %v, %v; want the context's error at line 1", rs, err)
	}
}

// TestFileErrorCause checks that an error for a file that could not be
// read keeps the file system's error as a value beside its category.
func TestFileErrorCause(t *testing.T) {
	p := hba.Parser{Version: 16, FS: fstest.MapFS{"dir/x.conf": {Data: []byte("local all all trust\n")}}}
	for _, line := range []string{"local @missing all trust", "include missing.conf"} {
		f := p.ParseBytes("pg_hba.conf", []byte(line+"\n"))
		if len(f.Errors) != 1 {
			t.Fatalf("%q: errors %v", line, f.Errors)
		}
		e := f.Errors[0]
		var pe *fs.PathError
		if !errors.Is(e, hba.ErrFile) || !errors.Is(e, fs.ErrNotExist) || !errors.As(e, &pe) {
			t.Errorf("%q: %v: want ErrFile, fs.ErrNotExist and an *fs.PathError", line, e)
		}
		if !strings.HasSuffix(e.Msg, ": No such file or directory") {
			t.Errorf("%q: message %q", line, e.Msg)
		}
	}
	if _, err := p.ParseFile("nosuch.conf"); !errors.Is(err, hba.ErrFile) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("main file: %v", err)
	}
	f := p.ParseBytes("pg_hba.conf", []byte("include dir\n"))
	if len(f.Errors) != 0 {
		t.Errorf("a directory included: %v", f.Errors)
	}
	f = p.ParseBytes("pg_hba.conf", []byte("local all all trust\nhost all all 0.0.0.0/0 bogus\n"))
	if e := f.Errors[0]; errors.Is(e, fs.ErrNotExist) || !errors.Is(e, hba.ErrMethod) {
		t.Errorf("a parse error: %v", e)
	}
}
