package gen_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pghba/pghba/internal/gen"
	"github.com/pghba/pghba/internal/pgtest"
)

// TestRealisticPostgres has real servers read the realistic benchmark file
// with its @files next to it: pg_hba_file_rules must show every rule and no
// error row. The file is generated for each server's feature set (the Debian
// build of 15 has GSSAPI, LDAP and PAM; the npm builds of 16 and 18 do not).
// Missing binaries skip the test (fail it with CI=true).
func TestRealisticPostgres(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 5000
	}
	for _, major := range []int{15, 16, 18} {
		t.Run("pg"+strconv.Itoa(major), func(t *testing.T) {
			inst := pgtest.Require(t, major)
			tg := gen.Target{Major: major, NoGSSAPI: !inst.Features.GSSAPI, NoLDAP: !inst.Features.LDAP, NoPAM: !inst.Features.PAM}
			f := gen.Realistic(n, 20261125, tg)
			c := pgtest.Start(t, inst, pgtest.Options{})
			files := map[string][]byte{"pg_hba.conf": f.Main}
			for k, v := range f.Side {
				files[k] = v
			}
			if err := c.WriteFiles(files); err != nil {
				t.Fatal(err)
			}
			rows, err := c.Query("SELECT count(*) FILTER (WHERE error IS NULL), count(*) FILTER (WHERE error IS NOT NULL) FROM pg_hba_file_rules")
			if err != nil {
				t.Fatal(err)
			}
			ok, bad := *rows[0][0], *rows[0][1]
			t.Logf("%s, %+v: %d rules, %d bytes: %s rows without error, %s with", inst, tg, f.Rules, f.Bytes(), ok, bad)
			if bad != "0" {
				errs, err := c.Query("SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL LIMIT 5")
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range errs {
					t.Errorf("line %s: %s", *r[0], *r[1])
				}
			}
			if ok != strconv.Itoa(f.Rules) {
				t.Errorf("%s rules in the view, want %d", ok, f.Rules)
			}
			// The @files were found and read through both spellings: every
			// line naming the ops file lists its first and last name.
			main := string(f.Main)
			refs := strings.Count(main, "@groups/ops.txt") + strings.Count(main, "@./groups/../groups/ops.txt")
			dbRefs := strings.Count(main, "@groups/dbs.txt")
			rows, err = c.Query("SELECT count(*) FILTER (WHERE 'ops_0' = ANY(user_name) AND 'Ops Lead 3' = ANY(user_name))," +
				" count(*) FILTER (WHERE 'shared_9' = ANY(database)) FROM pg_hba_file_rules")
			if err != nil {
				t.Fatal(err)
			}
			if *rows[0][0] != strconv.Itoa(refs) || *rows[0][1] != strconv.Itoa(dbRefs) {
				t.Errorf("rows with the @files' names: %s users, %s databases; want %d, %d", *rows[0][0], *rows[0][1], refs, dbRefs)
			}
			rr, err := c.Reload()
			if err != nil {
				t.Fatal(err)
			}
			if !rr.Loaded {
				t.Errorf("reload refused the file: %+v", rr)
			}
		})
	}
}
