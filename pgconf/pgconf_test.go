package pgconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestScanValues(t *testing.T) {
	for _, tc := range []struct{ in, name, value string }{
		{"a = 'it''s'\n", "a", "it's"},
		{"a 'x\\ty'\n", "a", "x\ty"},
		{"A='\\101\\102'", "A", "AB"},
		{"a = 'x\\0y'\n", "a", "x"},
		{"a = 10MB # c\n", "a", "10MB"},
		{"a = x/y:z\n", "a", "x/y:z"},
		{"a.b = -2.5E-2\n", "a.b", "-2.5E-2"},
		{"a = 'a\\'b'\n", "a", "a'b"},
		{"a = 0x1F\n", "a", "0x1F"},
	} {
		dir := write(t, map[string]string{"p.conf": tc.in})
		c, err := (&Parser{}).ParseFile(filepath.Join(dir, "p.conf"))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		e, ok := c.Lookup(strings.ToUpper(tc.name))
		if !ok || e.Name != tc.name || e.Value != tc.value || e.Line != 1 {
			t.Errorf("%q: got %+v, want %s = %q on line 1", tc.in, e, tc.name, tc.value)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // substring of the error, with DIR for the directory
	}{
		{"token", map[string]string{"p.conf": "a = 'x\n"}, `DIR/p.conf:1: syntax error in file "DIR/p.conf" line 1, near token "'"`},
		{"eol", map[string]string{"p.conf": "\na =\n"}, `DIR/p.conf:2: syntax error in file "DIR/p.conf" line 2, near end of line`},
		{"qualified value", map[string]string{"p.conf": "a = b.c\n"}, `near token "b.c"`},
		{"self", map[string]string{"p.conf": "include 'p.conf'\n"}, `DIR/p.conf:1: configuration file recursion in "DIR/p.conf"`},
		{"cycle", map[string]string{"p.conf": "include 'q.conf'\n", "q.conf": "include 'p.conf'\n"}, `maximum nesting depth exceeded`},
		{"missing", map[string]string{"p.conf": "x = 1\ninclude 'n.conf'\n"}, `DIR/p.conf:2: could not open configuration file "DIR/n.conf": No such file or directory`},
		{"dir", map[string]string{"p.conf": "include_dir 'nd'\n"}, `could not open configuration directory "DIR/nd": No such file or directory`},
		{"not regular", map[string]string{"p.conf": "include 'd'\n", "d/x": ""}, `could not open configuration file "DIR/d": not a regular file`},
	} {
		dir := write(t, tc.files)
		_, err := (&Parser{}).ParseFile(filepath.Join(dir, "p.conf"))
		want := strings.ReplaceAll(tc.want, "DIR", dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %s", tc.name, err, want)
		}
		var list ErrorList
		if err != nil && !errors.As(err, &list) {
			t.Errorf("%s: %T is not an ErrorList", tc.name, err)
		}
	}
}

func TestByteBudget(t *testing.T) {
	dir := write(t, map[string]string{"p.conf": "include 'q.conf'\n", "q.conf": strings.Repeat("a = 1\n", 100)})
	_, err := (&Parser{MaxBytes: 300}).ParseFile(filepath.Join(dir, "p.conf"))
	if err == nil || !strings.Contains(err.Error(), "limit of 300 bytes") {
		t.Fatalf("got %v", err)
	}
	if _, err := (&Parser{MaxBytes: 1000}).ParseFile(filepath.Join(dir, "p.conf")); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDataDir(t *testing.T) {
	dir := write(t, map[string]string{
		"data/PG_VERSION":           "16\n",
		"data/postgresql.conf":      "ssl = on\nlisten_addresses = '*'\ninclude_dir 'conf.d'\n",
		"data/conf.d/a.conf":        "password_encryption = md5\n",
		"data/postgresql.auto.conf": "listen_addresses = '127.0.0.1'\n",
	})
	s, err := Load(Options{DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(dir, "data")
	if s.Version != 16 || !s.SSL || s.ListenAddresses != "127.0.0.1" || s.PasswordEncryption != "md5" ||
		s.HBAFile != filepath.Join(d, "pg_hba.conf") || s.IdentFile != filepath.Join(d, "pg_ident.conf") || s.DataDir != d {
		t.Fatalf("got %+v", s)
	}
	if e := s.Set["listen_addresses"]; e.File != filepath.Join(d, "postgresql.auto.conf") || e.Line != 1 {
		t.Errorf("listen_addresses from %s:%d", e.File, e.Line)
	}
}

// TestLoadDebian: postgresql.conf in /etc, data_directory pointing at the
// data; hba_file defaults to the configuration's directory, and a relative
// hba_file is taken from the working directory.
func TestLoadDebian(t *testing.T) {
	dir := write(t, map[string]string{
		"var/lib/16/main/PG_VERSION": "16\n",
		"etc/16/main/postgresql.conf": "data_directory = '" + "DATA" + "'\n" +
			"ident_file = 'rel/ident.conf'\n",
	})
	data := filepath.Join(dir, "var/lib/16/main")
	conf := filepath.Join(dir, "etc/16/main/postgresql.conf")
	b, _ := os.ReadFile(conf)
	os.WriteFile(conf, []byte(strings.Replace(string(b), "DATA", data, 1)), 0o644)
	s, err := Load(Options{ConfigFile: conf})
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if s.DataDir != data || s.HBAFile != filepath.Join(dir, "etc/16/main/pg_hba.conf") ||
		s.IdentFile != filepath.Join(wd, "rel/ident.conf") || s.Version != 16 {
		t.Fatalf("got %+v", s)
	}
}

func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no PG_VERSION", map[string]string{"postgresql.conf": ""}, `is not a valid data directory: file "DIR/PG_VERSION" is missing`},
		{"bad PG_VERSION", map[string]string{"postgresql.conf": "", "PG_VERSION": "x\n"}, `does not contain valid data`},
		{"old", map[string]string{"postgresql.conf": "", "PG_VERSION": "9.6\n"}, `PostgreSQL 9: pghba reads PostgreSQL 13 and later`},
		{"bad bool", map[string]string{"postgresql.conf": "\nssl = maybe\n", "PG_VERSION": "15\n"}, `DIR/postgresql.conf:2: parameter "ssl" requires a Boolean value`},
		{"bad enum", map[string]string{"postgresql.conf": "password_encryption = on\n", "PG_VERSION": "14\n"}, `invalid value for parameter "password_encryption": "on"`},
		{"removed", map[string]string{"postgresql.conf": "db_user_namespace = off\n", "PG_VERSION": "17\n"}, `unrecognized configuration parameter "db_user_namespace" in file "DIR/postgresql.conf" line 1`},
		{"not yet", map[string]string{"postgresql.conf": "oauth_validator_libraries = 'v'\n", "PG_VERSION": "17\n"}, `unrecognized configuration parameter "oauth_validator_libraries"`},
		{"syntax", map[string]string{"postgresql.conf": "ssl = on off\n", "PG_VERSION": "18\n"}, `syntax error in file "DIR/postgresql.conf" line 1, near token "off"`},
		{"no conf", map[string]string{"PG_VERSION": "18\n"}, `could not access the server configuration file "DIR/postgresql.conf": No such file or directory`},
	} {
		dir := write(t, tc.files)
		_, err := Load(Options{DataDir: dir})
		want := strings.ReplaceAll(tc.want, "DIR", dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %s", tc.name, err, want)
		}
	}
	// 13 still takes password_encryption = on, as md5.
	dir := write(t, map[string]string{"postgresql.conf": "password_encryption = on\n", "PG_VERSION": "13\n"})
	if s, err := Load(Options{DataDir: dir}); err != nil || s.PasswordEncryption != "md5" {
		t.Errorf("13: %v %+v", err, s)
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]int{"on": 1, "ON": 1, "of": 0, "off": 0, "o": -1, "t": 1, "TRUE": 1, "truex": -1,
		"y": 1, "no": 0, "1": 1, "0": 0, "01": -1, "": -1, " on": -1} {
		v, ok := ParseBool(in)
		got := -1
		if ok {
			got = 0
			if v {
				got = 1
			}
		}
		if got != want {
			t.Errorf("ParseBool(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestLoadUnknownName(t *testing.T) {
	dir := write(t, map[string]string{"PG_VERSION": "16\n",
		"postgresql.conf": "shared_buffers = 1GB\nmy_ext.opt = 1\nshared_bufers = 2GB\n"})
	_, err := Load(Options{DataDir: dir})
	want := `unrecognized configuration parameter "shared_bufers" in file "` + filepath.Join(dir, "postgresql.conf") + `" line 3`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %s", err, want)
	}
	if !KnownName(18, "OAUTH_validator_libraries") || KnownName(17, "oauth_validator_libraries") ||
		!KnownName(16, "db_user_namespace") || KnownName(17, "db_user_namespace") || !KnownName(15, "role") {
		t.Error("KnownName")
	}
}
