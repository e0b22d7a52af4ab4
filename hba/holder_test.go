package hba

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// reloadConf is configuration version v. Its rules sit after v blank lines,
// so every rule's line number encodes v, and its database lists name v. The
// probe user u3 is rejected by the first rule when v%7 == 3 and otherwise
// matched by the trust rule after it; padding rules make the IPv4 partition
// large enough to be indexed.
func reloadConf(v int) []byte {
	var b strings.Builder
	b.WriteString(strings.Repeat("\n", v))
	fmt.Fprintf(&b, "host v%d,all u%d 10.0.0.0/8 reject\n", v, v%7)
	fmt.Fprintf(&b, "host v%d,all all 10.0.0.0/8 trust\n", v)
	for i := 0; i < 2*smallPartition; i++ {
		fmt.Fprintf(&b, "host pad%d all 192.168.%d.0/24 md5\n", i, i)
	}
	return []byte(b.String())
}

// checkReloadDecision reports an error unless the decision is exactly what
// one configuration version gives the probe; it returns that version. The
// version is read from the rule's text and must agree with its line, its
// number and the outcome.
func checkReloadDecision(r *Rule, err error) (int, error) {
	if r == nil {
		return 0, fmt.Errorf("no rule (%v)", err)
	}
	vs, _, _ := strings.Cut(strings.TrimPrefix(r.Raw(), "host v"), ",")
	v, perr := strconv.Atoi(vs)
	if perr != nil {
		return 0, fmt.Errorf("unexpected rule %q", r.Raw())
	}
	want, line, number := "host v"+vs+",all all 10.0.0.0/8 trust", v+2, 2
	if v%7 == 3 {
		want, line, number = "host v"+vs+",all u3 10.0.0.0/8 reject", v+1, 1
	}
	if r.Raw() != want || r.Pos().Line != line || r.Number() != number {
		return v, fmt.Errorf("rule %d on line %d %q: version %d wants rule %d on line %d %q", r.Number(), r.Pos().Line, r.Raw(), v, number, line, want)
	}
	if rejected := errors.Is(err, ErrRejected); rejected != (v%7 == 3) || (err != nil && !rejected) {
		return v, fmt.Errorf("version %d: error %v", v, err)
	}
	return v, nil
}

// TestHolderReload matches from 64 goroutines while 1,000 configurations
// are loaded and swapped in; every decision must come wholly from one
// configuration, and no goroutine may see versions go backwards.
func TestHolderReload(t *testing.T) {
	const (
		readers = 64
		reloads = 1000
	)
	var p Parser
	rs0, err := p.LoadBytes("/r/pg_hba.conf", reloadConf(0))
	if err != nil {
		t.Fatal(err)
	}
	h := NewHolder(rs0)
	// Load the configurations ahead: what is under test is the swap.
	next := make([]*Ruleset, reloads+1)
	for v := 1; v <= reloads; v++ {
		if next[v], err = p.LoadBytes("/r/pg_hba.conf", reloadConf(v)); err != nil {
			t.Fatal(err)
		}
	}
	c := Conn{Addr: netip.MustParseAddr("10.1.2.3"), Database: "app", User: "u3"}
	ctx := context.Background()

	var done atomic.Bool
	var decisions atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, readers)
	for g := 0; g < readers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := -1
			for i := 0; ; i++ {
				stop := done.Load()
				var r *Rule
				var err error
				if i%2 == 0 {
					r, err = h.MatchContext(ctx, c)
				} else {
					rs := h.Load()
					d := rs.Decide(ctx, c)
					r = d.Rule
					if d.Outcome == Rejected {
						err = &DenyError{Decision: d}
					}
					if r != nil && rs.Rules()[r.Number()-1] != r {
						errc <- fmt.Errorf("decision's rule %d is not the Ruleset's", r.Number())
						return
					}
				}
				v, cerr := checkReloadDecision(r, err)
				if cerr != nil {
					errc <- cerr
					return
				}
				if v < last {
					errc <- fmt.Errorf("version went back from %d to %d", last, v)
					return
				}
				last = v
				decisions.Add(1)
				runtime.Gosched()
				if stop {
					return
				}
			}
		}()
	}
	for v := 1; v <= reloads; v++ {
		h.Store(next[v])
		// Let the readers run between swaps: on a small machine 64
		// spinning readers would otherwise see few versions.
		runtime.Gosched()
		if v%100 == 0 {
			h.Store(nil) // a failed reload keeps the current rules
		}
	}
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if got := h.Load().Rules()[0].Pos().Line; got != reloads+1 {
		t.Errorf("after the reloads the first rule is on line %d, want %d", got, reloads+1)
	}
	t.Logf("%d decisions", decisions.Load())
}

// TestHolderZero checks that an empty Holder refuses connections.
func TestHolderZero(t *testing.T) {
	var h Holder
	if h.Load() != nil {
		t.Fatal("zero Holder holds a Ruleset")
	}
	r, err := h.MatchContext(context.Background(), Conn{Local: true, User: "u"})
	if r != nil || err == nil {
		t.Fatalf("zero Holder matched: %v, %v", r, err)
	}
}

// TestNilHolderRefusesLikeZeroHolder: a nil *Holder does not panic; it
// refuses as the zero Holder does, and Store on it is a no-op.
func TestNilHolderRefusesLikeZeroHolder(t *testing.T) {
	var h *Holder
	var zero Holder
	c := Conn{Addr: netip.MustParseAddr("10.0.0.1"), User: "u", Database: "d"}
	rs, err := (&Parser{Version: 16}).LoadBytes("/x/pg_hba.conf", []byte("host all all 0.0.0.0/0 trust\n"))
	if err != nil {
		t.Fatal(err)
	}
	h.Store(rs)
	if got := h.Load(); got != nil {
		t.Fatalf("nil Holder Load = %v, want nil", got)
	}
	r, err := h.MatchContext(context.Background(), c)
	zr, zerr := zero.MatchContext(context.Background(), c)
	if r != nil || zr != nil {
		t.Fatalf("nil Holder matched %v, zero Holder %v", r, zr)
	}
	var de, zde *DenyError
	if !errors.As(err, &de) || !errors.As(zerr, &zde) || de.Error() != zde.Error() {
		t.Fatalf("nil Holder error %v, zero Holder error %v: want the same DenyError", err, zerr)
	}
}
