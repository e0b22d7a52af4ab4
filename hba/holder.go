package hba

// Holder: the current Ruleset for concurrent readers while a reloader swaps
// in new ones.

import (
	"context"
	"sync/atomic"
)

// Holder holds the current Ruleset for concurrent readers while a reloader
// swaps in new ones. Matching never takes a lock. The zero value holds nil.
// A nil *Holder behaves as the zero value: Load returns nil, MatchContext
// refuses every connection, and Store does nothing (there is nowhere to
// store).
type Holder struct {
	p atomic.Pointer[Ruleset]
}

// NewHolder returns a Holder holding rs.
func NewHolder(rs *Ruleset) *Holder {
	h := new(Holder)
	h.p.Store(rs)
	return h
}

// Load returns the current Ruleset.
func (h *Holder) Load() *Ruleset {
	if h == nil {
		return nil
	}
	return h.p.Load()
}

// Store makes rs the current Ruleset. A nil rs is ignored: a failed reload
// keeps the previous rules, as PostgreSQL does.
func (h *Holder) Store(rs *Ruleset) {
	if rs != nil && h != nil {
		h.p.Store(rs)
	}
}

// MatchContext matches with the current Ruleset. With no Ruleset it refuses
// every connection (ErrNoEntry).
func (h *Holder) MatchContext(ctx context.Context, c Conn) (*Rule, error) {
	rs := h.Load()
	if rs == nil {
		return nil, &DenyError{Conn: c, Message: "no pg_hba.conf loaded"}
	}
	return rs.MatchContext(ctx, c)
}
