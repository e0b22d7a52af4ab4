package gen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/gen"
)

// realisticTargets are the variants the tests check: the Debian build of 15
// (every feature) and the OpenSSL-only builds of 16 and 18.
var realisticTargets = []gen.Target{
	{Major: 15},
	{Major: 16, NoGSSAPI: true, NoLDAP: true, NoPAM: true},
	{Major: 18, NoGSSAPI: true, NoLDAP: true, NoPAM: true},
}

func features(t gen.Target) hba.Features {
	f := hba.FeatureSSL
	if !t.NoGSSAPI {
		f |= hba.FeatureGSSAPI
	}
	if !t.NoLDAP {
		f |= hba.FeatureLDAP
	}
	if !t.NoPAM {
		f |= hba.FeaturePAM
	}
	return f
}

// writeRealistic puts f's files in a new temp dir and returns the main file's path.
func writeRealistic(tb testing.TB, f gen.RealisticFile) string {
	tb.Helper()
	dir := tb.TempDir()
	main := filepath.Join(dir, "pg_hba.conf")
	if err := os.WriteFile(main, f.Main, 0o644); err != nil {
		tb.Fatal(err)
	}
	for name, data := range f.Side {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return main
}

func TestRealisticDeterministic(t *testing.T) {
	tg := gen.Target{Major: 15}
	a, b, c := gen.Realistic(2000, 1, tg), gen.Realistic(2000, 1, tg), gen.Realistic(2000, 2, tg)
	if !bytes.Equal(a.Main, b.Main) || a.Rules != b.Rules {
		t.Error("same seed, different files")
	}
	if bytes.Equal(a.Main, c.Main) {
		t.Error("different seeds, same file")
	}
}

// TestRealisticShape checks the mix the benchmark promises, at full size.
func TestRealisticShape(t *testing.T) {
	for _, tg := range realisticTargets {
		f := gen.Realistic(100000, 20261125, tg)
		if f.Rules != 100000 {
			t.Errorf("%+v: %d rules", tg, f.Rules)
		}
		per := float64(len(f.Main)) / float64(f.Rules)
		t.Logf("%+v: %d bytes main, %d with side files, %.1f B/rule", tg, len(f.Main), f.Bytes(), per)
		lo := 80.0
		if tg.NoLDAP {
			lo = 68 // no long ldap lines
		}
		if per < lo || per > 92 {
			t.Errorf("%+v: %.1f bytes per rule, want about 85", tg, per)
		}
		s := string(f.Main)
		refs := strings.Count(s, "@groups/ops.txt") + strings.Count(s, "@./groups/../groups/ops.txt")
		if refs < f.Rules/5 || refs > f.Rules*3/10 || !strings.Contains(s, "@./groups/../groups/ops.txt") {
			t.Errorf("%+v: %d references to the ops file", tg, refs)
		}
		want := []string{"\nhost ", "\nhostssl ", "\nhostnossl ", "\nlocal ", "\nhostnogssenc ", " 255.255.", "::/48", "samenet", "samehost",
			"samerole", " +role_", `"Jane Doe"`, ",+auditors,", "clientcert=verify-ca", "clientcert=verify-full", " cert", "radius", "ident map=", "peer", "reject", "md5"}
		if !tg.NoLDAP {
			want = append(want, "ldapprefix=", "ldapsearchattribute=")
		}
		if !tg.NoGSSAPI {
			want = append(want, "\nhostgssenc ", "gss include_realm=0")
		} else if strings.Contains(s, "gss ") || strings.Contains(s, "hostgssenc") {
			t.Errorf("%+v: gss in a file for a build without GSSAPI", tg)
		}
		if tg.NoLDAP && strings.Contains(s, "ldap") || tg.NoPAM && strings.Contains(s, " pam") {
			t.Errorf("%+v: ldap or pam in a file for a build without them", tg)
		}
		if tg.Major >= 16 {
			want = append(want, " /^svc_", "\\\n")
		} else if strings.Contains(s, " /^") || strings.Contains(s, "\\\n") {
			t.Errorf("%+v: regex or continuation in a file for 15", tg)
		}
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("%+v: no %q in the file", tg, w)
			}
		}
	}
}

// TestRealisticLoads loads every variant from disk with pghba: no errors.
func TestRealisticLoads(t *testing.T) {
	for _, tg := range realisticTargets {
		f := gen.Realistic(20000, 20261125, tg)
		p := hba.Parser{Version: tg.Major, SSL: true, Features: features(tg)}
		rs, err := p.Load(writeRealistic(t, f))
		if err != nil {
			t.Fatalf("%+v: %v", tg, err)
		}
		if got := len(rs.Rules()); got != f.Rules {
			t.Errorf("%+v: %d rules loaded, want %d", tg, got, f.Rules)
		}
	}
}
