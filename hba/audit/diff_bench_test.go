package audit

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/pghba/pghba/hba"
)

// diffBenchPair returns lintOverlapFile(n) and the same file under a
// handful of edits of the kinds a review sees: a changed method, a
// narrowed address, a rule inserted before its tenant's rules, a rule
// deleted, a rule moved.
func diffBenchPair(n int) (oldText, newText []byte) {
	oldText = lintOverlapFile(n)
	lines := bytes.Split(bytes.TrimSuffix(oldText, []byte("\n")), []byte("\n"))
	rng := rand.New(rand.NewPCG(benchSeed, 14))
	out := make([][]byte, len(lines))
	copy(out, lines)
	for e := 0; e < 8; e++ {
		i := 1 + rng.IntN(len(out)-6)
		switch e % 4 {
		case 0:
			out[i] = bytes.Replace(out[i], []byte("scram-sha-256"), []byte("md5"), 1)
		case 1:
			out[i] = bytes.Replace(out[i], []byte(".0/24"), []byte(".0/26"), 1)
		case 2:
			ins := []byte(fmt.Sprintf("host all user_%d 10.%d.%d.0/24 reject", i, i>>8&255, i&255))
			out = append(out[:i], append([][]byte{ins}, out[i:]...)...)
		case 3:
			l := out[i]
			out = append(out[:i], out[i+1:]...)
			j := 1 + rng.IntN(len(out)-6)
			out = append(out[:j], append([][]byte{l}, out[j:]...)...)
		}
	}
	return oldText, append(bytes.Join(out, []byte("\n")), '\n')
}

func benchmarkDiff(b *testing.B, n int) {
	oldText, newText := diffBenchPair(n)
	p := hba.Parser{SSL: true}
	of := p.ParseBytes("/old/pg_hba.conf", oldText)
	nf := p.ParseBytes("/new/pg_hba.conf", newText)
	if len(of.Errors)+len(nf.Errors) > 0 {
		b.Fatal(of.Errors, nf.Errors)
	}
	res := Diff(of, nf, DiffOptions{})
	if res.Incomplete || len(res.Changes) == 0 {
		b.Fatalf("incomplete %v, %d changes", res.Incomplete, len(res.Changes))
	}
	b.ReportMetric(float64(len(res.Changes)), "changes")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		Diff(of, nf, DiffOptions{})
	}
}

func BenchmarkDiff1000(b *testing.B)  { benchmarkDiff(b, 1000) }
func BenchmarkDiff10000(b *testing.B) { benchmarkDiff(b, 10000) }

// BenchmarkDiffRoles1000 is BenchmarkDiff1000 with the admin_N users
// written +grp_N and a role graph of every user_K and admin_K given, so
// that Diff resolves the +role rules (diff_env.go) before the analysis.
func BenchmarkDiffRoles1000(b *testing.B) {
	oldText, newText := diffBenchPair(1000)
	oldText = bytes.ReplaceAll(oldText, []byte(" admin_"), []byte(" +grp_"))
	newText = bytes.ReplaceAll(newText, []byte(" admin_"), []byte(" +grp_"))
	g := hba.RoleGraph{}
	for k := 0; k < 1000; k++ {
		g["user_"+strconv.Itoa(k)] = []string{"grp_" + strconv.Itoa(k%50)}
	}
	for k := 0; k < 50; k++ {
		g["admin_"+strconv.Itoa(k)] = []string{"grp_" + strconv.Itoa(k)}
	}
	env := hba.Env{Roles: g}
	opts := DiffOptions{OldEnv: &env, NewEnv: &env}
	p := hba.Parser{SSL: true}
	of := p.ParseBytes("/old/pg_hba.conf", oldText)
	nf := p.ParseBytes("/new/pg_hba.conf", newText)
	if len(of.Errors)+len(nf.Errors) > 0 {
		b.Fatal(of.Errors, nf.Errors)
	}
	res := Diff(of, nf, opts)
	if res.Incomplete || len(res.Changes) == 0 {
		b.Fatalf("incomplete %v, %d changes", res.Incomplete, len(res.Changes))
	}
	may := 0
	for _, c := range res.Changes {
		if c.Kind == MayChange {
			may++
		}
	}
	if may > 0 {
		b.Fatalf("%d may-change with the role graph given", may)
	}
	b.ReportMetric(float64(len(res.Changes)), "changes")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		Diff(of, nf, opts)
	}
}

// BenchmarkDiffSameUser1000 is BenchmarkDiff1000 with the database column
// of every hostssl rule written sameuser,tenant_K (the shape of
// internal/gen's realistic files), and in the new file a sameuser rule
// for every user inserted at the top: Diff holds sameuser exactly, as a
// relation of the database and the user name (diff_sameuser.go).
func BenchmarkDiffSameUser1000(b *testing.B)  { benchmarkDiffSameUser(b, 1000) }
func BenchmarkDiffSameUser10000(b *testing.B) { benchmarkDiffSameUser(b, 10000) }

func benchmarkDiffSameUser(b *testing.B, n int) {
	oldText, newText := diffBenchPair(n)
	oldText = bytes.ReplaceAll(oldText, []byte("hostssl tenant_"), []byte("hostssl sameuser,tenant_"))
	newText = bytes.ReplaceAll(newText, []byte("hostssl tenant_"), []byte("hostssl sameuser,tenant_"))
	// And a sameuser rule for every user, inserted after the first line.
	i := bytes.IndexByte(newText, '\n') + 1
	newText = append(newText[:i:i], append([]byte("host sameuser all 10.0.0.0/9 trust\n"), newText[i:]...)...)
	p := hba.Parser{SSL: true}
	of := p.ParseBytes("/old/pg_hba.conf", oldText)
	nf := p.ParseBytes("/new/pg_hba.conf", newText)
	if len(of.Errors)+len(nf.Errors) > 0 {
		b.Fatal(of.Errors, nf.Errors)
	}
	res := Diff(of, nf, DiffOptions{})
	if res.Incomplete || len(res.Changes) == 0 {
		b.Fatalf("incomplete %v, %d changes", res.Incomplete, len(res.Changes))
	}
	related := 0
	for _, c := range res.Changes {
		// The file's +dba rule is may-change (no role graph), nothing else.
		if c.Kind == MayChange && c.Reason != "+dba (role membership)" {
			b.Fatalf("may-change: %+v", c)
		}
		if c.Kind == Changed && c.Region.DBIsUser != nil {
			related++
		}
	}
	if related == 0 {
		b.Fatal("no changed region with db_is_user")
	}
	b.ReportMetric(float64(len(res.Changes)), "changes")
	b.ReportMetric(float64(related), "related")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		Diff(of, nf, DiffOptions{})
	}
}
