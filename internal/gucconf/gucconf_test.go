package gucconf

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pghba/pghba/internal/pgtest"
	"github.com/pghba/pghba/pgconf"
)

// A case is a set of files under the cluster's configuration directory;
// "main.conf" is included at the end of the server's postgresql.conf.
type gcase struct {
	name  string
	files map[string]string
}

// customNames are placeholders created in the admin session before any
// case runs, so that the server treats them as known (a placeholder
// created by one pg_file_settings query would change the next one).
var customNames = []string{"my.a", "my.b", "Ext.Opt", "cluster_name_x.y"}

func TestGUCFileDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no real servers")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("PGHBA_GUC_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	n := 300
	if s := os.Getenv("PGHBA_GUC_CASES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	t.Logf("seed %d (replay with PGHBA_GUC_SEED=%d), %d generated cases", seed, seed, n)
	for _, major := range []int{15, 18} {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			inst := pgtest.Require(t, major)
			c := pgtest.Start(t, inst, pgtest.Options{})
			runDifferential(t, c, major, seed, n)
		})
	}
}

func runDifferential(t *testing.T, c *pgtest.Cluster, major int, seed int64, n int) {
	known := knownNames(t, c)
	for _, name := range customNames {
		if err := c.Exec("SET " + name + " = 'x'"); err != nil {
			t.Fatal(err)
		}
	}
	mainConf := filepath.Join(c.DataDir(), "postgresql.conf")
	base, err := os.ReadFile(mainConf)
	if err != nil {
		t.Fatal(err)
	}
	g := &gen{r: rand.New(rand.NewSource(seed + int64(major))), major: major, hba: c.HBAFile(), ident: c.IdentFile()}
	cases := fixedCases(g)
	for i := 0; i < n; i++ {
		cases = append(cases, g.random(i))
	}
	p := &pgconf.Parser{Known: known, Version: major, View: true}
	var fails, rows, shows int
	for i, gc := range cases {
		files := map[string][]byte{}
		for name, data := range gc.files {
			files["g/"+name] = []byte(data)
		}
		if err := c.WriteFiles(files); err != nil {
			t.Fatal(err)
		}
		main := string(base) + "\ninclude '" + filepath.Join(c.Dir(), "g", "main.conf") + "'\n"
		if err := os.WriteFile(mainConf, []byte(main), 0o600); err != nil {
			t.Fatal(err)
		}
		got := serverRows(t, c)
		cfg, perr := p.ParseFiles(mainConf, filepath.Join(c.DataDir(), "postgresql.auto.conf"))
		if cfg == nil {
			t.Fatalf("case %s: %v", gc.name, perr)
		}
		want := predicted(cfg)
		rows += len(got)
		if d := diffRows(want, got); d != "" {
			fails++
			if fails <= 10 {
				t.Errorf("case %d %s: pg_file_settings disagrees:\n%s\nfiles:\n%s", i, gc.name, d, dump(gc.files))
			}
			continue
		}
		// SHOW, after a reload, for files the server accepts.
		if perr == nil && (i%4 == 0 || strings.HasPrefix(gc.name, "show")) {
			shows++
			if d := compareShow(t, c, major); d != "" {
				fails++
				t.Errorf("case %d %s: SHOW disagrees:\n%s\nfiles:\n%s", i, gc.name, d, dump(gc.files))
			}
		}
	}
	t.Logf("PostgreSQL %d: %d cases (%d pg_file_settings rows, %d SHOW comparisons), %d disagreements",
		major, len(cases), rows, shows, fails)
}

func knownNames(t *testing.T, c *pgtest.Cluster) func(string) bool {
	res, err := c.Query("SELECT lower(name) FROM pg_settings")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, r := range res {
		m[*r[0]] = true
	}
	for _, n := range customNames {
		m[strings.ToLower(n)] = true
	}
	return func(name string) bool { return m[strings.ToLower(name)] }
}

type row struct {
	file, line, name, setting, applied, err string
}

func (r row) String() string {
	return fmt.Sprintf("%s:%s name=%s setting=%q applied=%s error=%s", r.file, r.line, r.name, r.setting, r.applied, r.err)
}

func str(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(*s)
}

func serverRows(t *testing.T, c *pgtest.Cluster) []row {
	res, err := c.Query("SELECT sourcefile, sourceline, name, setting, applied, error FROM pg_file_settings ORDER BY seqno")
	if err != nil {
		t.Fatal(err)
	}
	var out []row
	for _, r := range res {
		out = append(out, row{str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5])})
	}
	return out
}

func predicted(cfg *pgconf.Config) []row {
	var out []row
	q := func(s string) *string { return &s }
	for _, r := range cfg.Rows {
		var file, name, setting, errs *string
		if r.File != "" {
			file = q(r.File)
		}
		if !r.IsError {
			name, setting = q(r.Name), q(r.Value)
		}
		if r.Error != "" {
			errs = q(r.Error)
		}
		line := q(strconv.Itoa(r.Line))
		applied := q("f")
		if r.Applied {
			applied = q("t")
		}
		out = append(out, row{str(file), str(line), str(name), str(setting), str(applied), str(errs)})
	}
	return out
}

func diffRows(want, got []row) string {
	var b strings.Builder
	for i := 0; i < len(want) || i < len(got); i++ {
		var w, g string
		if i < len(want) {
			w = want[i].String()
		}
		if i < len(got) {
			g = got[i].String()
		}
		if w != g {
			fmt.Fprintf(&b, "row %d:\n  pgconf: %s\n  server: %s\n", i, w, g)
		}
	}
	return b.String()
}

func dump(files map[string]string) string {
	var b strings.Builder
	for name, data := range files {
		fmt.Fprintf(&b, "-- %s --\n%s\n", name, data)
	}
	return b.String()
}

// compareShow reloads the server and compares SHOW with pgconf.Load.
func compareShow(t *testing.T, c *pgtest.Cluster, major int) string {
	before := first(t, c, "SELECT pg_conf_load_time()")
	if _, err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for first(t, c, "SELECT pg_conf_load_time()") == before {
		if time.Now().After(deadline) {
			t.Fatal("the admin session did not reload")
		}
		time.Sleep(time.Millisecond)
	}
	s, err := pgconf.Load(pgconf.Options{DataDir: c.DataDir()})
	if err != nil {
		return "pgconf.Load: " + err.Error()
	}
	onoff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	want := map[string]string{
		"ssl":                 onoff(s.SSL),
		"ssl_ca_file":         s.SSLCAFile,
		"listen_addresses":    s.ListenAddresses,
		"password_encryption": s.PasswordEncryption,
		"krb_caseins_users":   onoff(s.KrbCaseinsUsers),
		"hba_file":            s.HBAFile,
		"ident_file":          s.IdentFile,
		"data_directory":      s.DataDir,
		"server_version_num":  strconv.Itoa(s.Version),
	}
	if major <= 16 {
		want["db_user_namespace"] = onoff(s.DBUserNamespace)
	}
	if major >= 18 {
		want["oauth_validator_libraries"] = s.OAuthValidatorLibraries
	}
	var b strings.Builder
	for name, w := range want {
		got := first(t, c, "SHOW "+name)
		if name == "server_version_num" {
			v, _ := strconv.Atoi(got)
			got = strconv.Itoa(v / 10000)
		}
		if got != w {
			fmt.Fprintf(&b, "  %s: pgconf %q, server %q\n", name, w, got)
		}
	}
	return b.String()
}

func first(t *testing.T, c *pgtest.Cluster, sql string) string {
	res, err := c.Query(sql)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 || len(res[0]) == 0 || res[0][0] == nil {
		return ""
	}
	return *res[0][0]
}
