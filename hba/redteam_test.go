package hba

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small file of many self-includes opens few files but reaches the depth
// limit on every line of every file at the deepest level. Each refused
// include costs an error line, so it counts against MaxFiles: the errors of
// a load stay bounded by MaxFiles instead of MaxFiles times the lines of a
// file (a 1.7 KB file of 100 such lines gave 1.6 million errors and 1.5 GB).
func TestRedteamIncludeDepthErrorsCountAgainstMaxFiles(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		ver        int
	}{
		{"include", "include self.conf", 16},
		{"atfile16", "host all @self.conf 0.0.0.0/0 trust", 16},
		{"atfile13", "host all @self.conf 0.0.0.0/0 trust", 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "self.conf")
			data := strings.Repeat(tc.line+"\n", 50)
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			const maxFiles = 200
			p := Parser{Version: tc.ver, Limits: Limits{MaxFiles: maxFiles}}
			_, err := p.Load(path)
			var el ErrorList
			if !errors.As(err, &el) {
				t.Fatalf("Load error = %v, want an ErrorList", err)
			}
			if len(el) > maxFiles+1 {
				t.Errorf("%d errors, want at most %d (MaxFiles+1)", len(el), maxFiles+1)
			}
			if !errors.Is(err, ErrLimit) {
				t.Errorf("no ErrLimit among the errors (first: %v)", el[0])
			}
		})
	}
}

// Env.FailuresDoNotMatch turns an Interfaces failure into no match, as the
// server does, but it promises nothing for a canceled context, which always
// refuses. An Interfaces source that answers a canceled context with its
// error (as any context-aware source does) must then not skip a samenet
// reject rule and let a later trust rule grant.
func TestRedteamCanceledContextInterfacesErrorRefusesWithFailuresDoNotMatch(t *testing.T) {
	p := Parser{Version: 16}
	rs, err := p.LoadBytes("pg_hba.conf", []byte("host all all samenet reject\nhost all all 0.0.0.0/0 trust\n"))
	if err != nil {
		t.Fatal(err)
	}
	rs = rs.WithEnv(Env{FailuresDoNotMatch: true, Interfaces: InterfacesFunc(func(ctx context.Context) ([]netip.Prefix, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, nil
	})})
	c := Conn{Addr: netip.MustParseAddr("10.1.2.3"), User: "u", Database: "d"}
	if d := rs.Decide(context.Background(), c); d.Outcome != Matched || d.Rule.Pos().Line != 2 {
		t.Fatalf("live context: %v at %v, want a match at line 2", d.Outcome, d.Rule)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := rs.Decide(ctx, c)
	if d.Outcome != Unresolved || d.Rule == nil || d.Rule.Pos().Line != 1 || d.Reason != ReasonInterfacesFailed || !errors.Is(d.Err, context.Canceled) {
		t.Errorf("canceled context: Decide = %v at %v (%v, %v), want unresolved at line 1, ReasonInterfacesFailed, context.Canceled", d.Outcome, d.Rule, d.Reason, d.Err)
	}
	if _, err := rs.MatchContext(ctx, c); !errors.Is(err, ErrUnresolved) {
		t.Errorf("canceled context: MatchContext error %v, want ErrUnresolved", err)
	}
	tr := rs.Explain(ctx, c)
	if tr.Decision.Outcome != Unresolved || tr.Decision.Rule == nil || tr.Decision.Rule.Pos().Line != 1 {
		t.Errorf("canceled context: Explain decision %v at %v, want unresolved at line 1", tr.Decision.Outcome, tr.Decision.Rule)
	}
}
