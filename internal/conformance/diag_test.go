package conformance

import (
	"os"
	"testing"
)

func TestDiagHits(t *testing.T) {
	if os.Getenv("DIAG") == "" {
		t.Skip()
	}
	o := Options{Version: 18, Features: 1, HostNames: true, Conns: 8}
	counts := map[string]int{}
	loaded := 0
	for i := range 500 {
		c := Generate(77, i, o)
		dir := writeCase(t, c.Files)
		out, err := HBAOutcome(NewParser(18, 4, 1, true, "postgres"), dir, c.Conns)
		if err != nil {
			t.Fatal(err)
		}
		if !out.Loaded {
			intent := false
			for _, n := range c.Notes {
				if len(n) > 4 && n[:4] == "err-" || n == "no-entries" {
					intent = true
				}
			}
			if !intent {
				t.Logf("not loaded: %v\n%s", out.Errors, c.Dump(false))
			}
			continue
		}
		loaded++
		for k, d := range out.Decisions {
			counts[d[:5]]++
			if d == "no-match" && k == 0 && counts["printed"] < 10 {
				counts["printed"]++
				t.Logf("case %d conn %s no match\n%s", i, c.Conns[k], c.Dump(false))
			}
		}
	}
	t.Logf("loaded %d/500, %v", loaded, counts)
}
