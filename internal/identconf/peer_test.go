package identconf

import (
	"os/user"
	"strings"
	"testing"

	"github.com/pghba/pghba/internal/pgtest"
)

// TestIdentPeer checks the same maps through peer authentication on the Unix socket: the
// system user is then the OS user running the test (root here), which cannot vary, so this
// is a small complement to TestIdentCert for the other route.
func TestIdentPeer(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	seed := env.Seed(t)
	t.Logf("system user %q", me.Username)
	n := env.Int("PEER_CHECKS", 48)
	env.Majors(t, []int{15, 18}, 13, func(t *testing.T, inst *pgtest.Install) {
		major := inst.Major
		cl := pgtest.Start(t, inst, pgtest.Options{NoSSL: true})
		createRoles(t, cl)
		var checks, agree, allowed int
		for i := 0; checks < n; i++ {
			c := genCertCase(caseRand(seed, major+100, i), major, 4)
			c.HBA, c.DN = "local all all peer map=M", false
			// make the OS user appear in the map often: most literal system users become it
			r := caseRand(seed, major+200, i)
			lines := strings.Split(strings.TrimSuffix(c.Ident, "\n"), "\n")
			for j, l := range lines {
				f := strings.SplitN(l, " ", 3)
				if len(f) == 3 && !strings.HasPrefix(f[1], "/") && !strings.HasPrefix(f[1], `"`) && r.IntN(5) < 3 {
					lines[j] = f[0] + " " + me.Username + " " + f[2]
				}
			}
			c.Ident = strings.Join(lines, "\n") + "\n"
			for j := range c.Checks {
				if r.IntN(3) == 0 {
					c.Checks[j].User = me.Username
				}
			}
			if err := cl.WriteFiles(map[string][]byte{"pg_hba.conf": []byte("local all postgres trust\n" + c.HBA + "\n"), "pg_ident.conf": []byte(c.Ident)}); err != nil {
				t.Fatal(err)
			}
			rr, err := cl.Reload()
			if err != nil || !rr.Loaded {
				t.Fatalf("reload: %v %v", err, rr.Errors)
			}
			if !rr.IdentLoaded {
				continue
			}
			for _, chk := range c.Checks {
				chk.CN = me.Username
				pr, err := cl.Probe(pgtest.ProbeConn{Local: true, User: chk.User, Database: "postgres"})
				if err != nil {
					t.Fatal(err)
				}
				out := outcomeOf(pr)
				lib, _, err := libPeer(major, inst.Minor, cl.Dir(), c, chk)
				if err != nil {
					t.Fatal(err)
				}
				checks++
				if out.Allowed {
					allowed++
				}
				if d := compareCert(lib, out); d != "" {
					t.Errorf("pg%d seed %d case %d: user %q: %s\n%s", major, seed, i, chk.User, d, c.Ident)
					continue
				}
				agree++
			}
		}
		t.Logf("pg%d (%s): %d/%d peer checks agree (%d allowed by the server)", major, inst.Version(), agree, checks, allowed)
	})
}
