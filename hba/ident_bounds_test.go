package hba

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/pghba/pghba/internal/pgre"
)

// identRuleFor parses one pg_hba.conf line for the CheckRule tests.
func identRuleFor(t *testing.T, p *Parser, line string) *Rule {
	t.Helper()
	f := p.ParseBytes("/pg_hba.conf", []byte(line+"\n"))
	if len(f.Errors) > 0 {
		t.Fatalf("%q: %v", line, f.Errors)
	}
	return f.Rules[0]
}

// TestIdentSystemUserOverServerLimitIsRefused: an ident answer over 512
// bytes or a GSS principal over 65,535 bytes cannot reach the server's
// check_usermap, so CheckRule refuses it, with a reason, even when a line
// (here /^a+$) would allow every shorter name. Up to the limit it is checked.
func TestIdentSystemUserOverServerLimitIsRefused(t *testing.T) {
	ctx := context.Background()
	p := &Parser{Version: 18}
	m, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m /^a+(@R)?$ alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		hba   string
		limit int
		sfx   string
	}{
		{"host all all 0.0.0.0/0 ident map=m", MaxIdentSystemUser, ""},
		{"host all all 0.0.0.0/0 gss map=m", MaxGSSSystemUser, "@R"},
	} {
		r := identRuleFor(t, p, c.hba)
		at := strings.Repeat("a", c.limit-len(c.sfx)) + c.sfx
		if res := m.CheckRule(ctx, r, at, "alice", IdentOptions{}); !res.Allowed {
			t.Errorf("%s, %d bytes: %v %s", c.hba, len(at), res.Outcome, res.Message)
		}
		over := "a" + at
		res := m.CheckRule(ctx, r, over, "alice", IdentOptions{})
		if res.Allowed || res.Outcome != IdentUnresolved || !errors.Is(res.Err, ErrSystemUserTooLong) || res.Line != nil {
			t.Fatalf("%s, %d bytes: %v %v", c.hba, len(over), res.Outcome, res.Err)
		}
		if !strings.Contains(res.Message, `usermap "m" could not be evaluated`) || !strings.Contains(res.Message, "at most") || len(res.Message) > 400 {
			t.Errorf("message %q", res.Message)
		}
	}
	// No server limit for peer, cert and oauth names: a long one is checked.
	long := strings.Repeat("a", 1<<20)
	for _, line := range []string{"local all all peer map=m", "hostssl all all 0.0.0.0/0 cert map=m"} {
		if res := m.CheckRule(ctx, identRuleFor(t, &Parser{Version: 18, SSL: true}, line), long, "alice", IdentOptions{}); !res.Allowed {
			t.Errorf("%s, 1 MiB name: %v %s", line, res.Outcome, res.Message)
		}
	}
}

// TestIdentCertNameWithNULIsRefused: the server ends a TLS connection whose
// certificate CN or DN holds a NUL byte before any rule applies.
func TestIdentCertNameWithNULIsRefused(t *testing.T) {
	p := &Parser{Version: 18, SSL: true}
	m, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m /^alice alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	for line, what := range map[string]string{
		"hostssl all all 0.0.0.0/0 cert map=m":               "common name",
		"hostssl all all 0.0.0.0/0 cert map=m clientname=DN": "distinguished name",
	} {
		res := m.CheckRule(context.Background(), identRuleFor(t, p, line), "alice\x00x", "alice", IdentOptions{})
		if res.Allowed || res.Message != "SSL certificate's "+what+" contains embedded null" {
			t.Errorf("%s: %v %q", line, res.Outcome, res.Message)
		}
	}
}

// budgetPattern makes pgre's dissection exponential; with a 62-byte subject
// it exceeds the match budget (the F1 pattern).
const budgetPattern = `^(a*)(a*)(a*)(a*)(a*)(a*)\6\5\4\3\2\1$`

// TestIdentRegexTooComplexStopsUnresolved: a system-user or (16+)
// database-user regular expression abandoned at the match budget stops the
// scan as unresolved at that line, naming it, never as "no match" (which
// would let a later line allow).
func TestIdentRegexTooComplexStopsUnresolved(t *testing.T) {
	subject := strings.Repeat("a", 62)
	re := pgre.MustCompile(budgetPattern)
	if _, err := re.Exec(subject); !errors.Is(err, pgre.ErrMatchTooComplex) {
		t.Fatalf("precondition: the pattern must hit the budget, got %v", err)
	}
	for _, c := range []struct{ file, sys, pg string }{
		{`m "/` + budgetPattern + `" bob` + "\nm " + subject + " bob\n", subject, "bob"},
		{`m root "/` + budgetPattern + `"` + "\nm root all\n", "root", subject[:62]},
	} {
		m := mustIdent(t, 18, c.file)
		res := m.Check(context.Background(), "m", c.sys, c.pg, IdentOptions{})
		if res.Allowed || res.Outcome != IdentUnresolved || res.Line == nil || res.Line.Pos.Line != 1 || !errors.Is(res.Err, pgre.ErrMatchTooComplex) || res.Reason != ReasonRegexTooComplex {
			t.Fatalf("%q: got %s (%v)", c.file, resultString(&res), res.Err)
		}
		if !strings.Contains(res.Message, "regular expression too complex to evaluate") || !strings.Contains(res.Message, "line "+res.Line.Pos.String()) {
			t.Errorf("message %q", res.Message)
		}
	}
}

// BenchmarkIdentCheckLongSystemUser measures Check with a pg_ident regex
// against long system users (certificate CNs and OAuth identities have no
// server limit): the time per op grows linearly with the name.
func BenchmarkIdentCheckLongSystemUser(b *testing.B) {
	p := &Parser{Version: 18}
	m, err := p.LoadIdentBytes("/pg_ident.conf", []byte("m /a*b alice\nm /^(.*)@example\\.com$ \\1\n"))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{4 << 10, 16 << 10, 64 << 10, 256 << 10} {
		for _, c := range []struct{ name, sys, pg string }{
			{"a*b", strings.Repeat("a", n) + "cb", "alice"},
			{"capture", strings.Repeat("a", n) + "@example.com", "bob"},
		} {
			b.Run(c.name+"/"+itoaK(n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.sys)))
				for b.Loop() {
					res := m.Check(context.Background(), "m", c.sys, c.pg, IdentOptions{})
					if c.name == "a*b" && !res.Allowed {
						b.Fatal(res.Message)
					}
				}
			})
		}
	}
}

func itoaK(n int) string { return strconv.Itoa(n>>10) + "K" }
