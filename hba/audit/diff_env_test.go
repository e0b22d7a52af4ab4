package audit

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
)

// TestDiffEnvMembers: the members Diff resolves +role to are exactly the
// roles RoleGraph.IsMember says are members, on random graphs with cycles,
// roles only named as groups, and a name too long to be a user.
func TestDiffEnvMembers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	long := strings.Repeat("L", namedatalen)
	names := []string{"a", "b", "c", "d", "e", "f", long}
	ctx := context.Background()
	for n := 0; n < 300; n++ {
		g := hba.RoleGraph{}
		for _, r := range names[:2+rng.IntN(len(names)-2)] {
			var ps []string
			for k := 0; k < rng.IntN(3); k++ {
				ps = append(ps, names[rng.IntN(len(names))])
			}
			g[r] = ps
		}
		r := newEnvResolver(&hba.Env{Roles: g})
		for _, group := range append(slices.Clone(names), "nosuch") {
			var want []string
			for _, u := range names {
				if ok, _ := g.IsMember(ctx, u, group); ok && len(u) < namedatalen {
					want = append(want, u)
				}
			}
			if got := r.members(group); !slices.Equal(got, want) {
				t.Fatalf("%v: members of %q: got %q, want %q", g, group, got, want)
			}
		}
	}
}
