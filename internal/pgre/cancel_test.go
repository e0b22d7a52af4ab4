package pgre

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// countingCtx is a context whose Err reports Canceled from the after-th
// call on, counting the calls.
type countingCtx struct {
	context.Context
	calls, after int
}

func (c *countingCtx) Err() error {
	c.calls++
	if c.calls >= c.after {
		return context.Canceled
	}
	return nil
}

// TestMatchErrContextStopsAtFirstPollAfterCancel: a back-reference match
// over the work bound polls its context and stops at the first poll after
// the context ended, with an error matching context.Canceled (never a
// match or a non-match); without cancellation the same match runs to the
// bound (ErrMatchTooComplex), polling many times; answers within the bound
// are unchanged.
func TestMatchErrContextStopsAtFirstPollAfterCancel(t *testing.T) {
	re := MustCompile(`^(a*)(a*)(a*)(a*)(a*)(a*)\6\5\4\3\2\1$`)
	long := strings.Repeat("a", 62)

	ctx := &countingCtx{Context: context.Background(), after: 3}
	ok, err := re.MatchErrContext(ctx, long)
	var ce *CanceledError
	if ok || !errors.As(err, &ce) || !errors.Is(err, context.Canceled) || errors.Is(err, ErrMatchTooComplex) {
		t.Fatalf("canceled: %v, %v; want a CanceledError", ok, err)
	}
	if ctx.calls != 3 {
		t.Fatalf("canceled at the 3rd poll, but Err was called %d times", ctx.calls)
	}

	live := &countingCtx{Context: context.Background(), after: 1 << 30}
	ok, err = re.MatchErrContext(live, long)
	if ok || !errors.Is(err, ErrMatchTooComplex) {
		t.Fatalf("live: %v, %v; want ErrMatchTooComplex", ok, err)
	}
	if want := matchBudget / pollEvery / 2; live.calls < want {
		t.Fatalf("live: %d polls, want at least %d", live.calls, want)
	}

	for _, s := range []string{"aaaa", "aab", ""} {
		want, werr := re.MatchErr(s)
		got, gerr := re.MatchErrContext(context.Background(), s)
		if got != want || gerr != werr {
			t.Errorf("%q: MatchErrContext %v %v, MatchErr %v %v", s, got, gerr, want, werr)
		}
	}
	// Without back-references the context is not looked at.
	plain := MustCompile(`^a+b$`)
	never := &countingCtx{Context: context.Background(), after: 0}
	if ok, err := plain.MatchErrContext(never, "aaab"); !ok || err != nil || never.calls != 0 {
		t.Fatalf("plain: %v %v, %d polls", ok, err, never.calls)
	}
}
