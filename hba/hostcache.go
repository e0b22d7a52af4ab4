package hba

// CachingResolver: host-name answers shared between connections, with
// single flight and bounds.

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CachingResolver is a Resolver that shares the answers of another Resolver
// between connections: host-name rules then cost one reverse and one
// forward lookup per client address and TTL, however many connections
// arrive. Matching already caches answers for the duration of one
// connection; CachingResolver adds the cache across connections.
//
// Concurrent lookups of the same address or name wait for a single lookup
// (single flight), so a burst of connections from one address costs one
// lookup. That lookup runs on its own goroutine with a context that is not
// canceled with the caller's but ends after Timeout: each caller waits only
// as long as its own context allows and gets its context's error when that
// ends first, while the lookup goes on for the others and for the cache. A
// lookup for one address never delays lookups of other addresses: the cache
// is locked only to read and update its tables.
//
// Answers are kept for TTL, failures (a name not found, a lookup error) for
// NegativeTTL; a lookup that ends with a context error is not kept. A
// lookup that reaches Timeout fails with the context's deadline error,
// which host-name rules treat as a resolver failure: the connection is
// refused (ReasonResolverFailed) unless Env.FailuresDoNotMatch is set.
//
// Work is bounded: each table (reverse, forward) holds at most MaxEntries
// answers, finished or in flight, and at most MaxInFlight lookups run at
// once (one goroutine each), and never more than MaxEntries. A lookup of a
// new address or name over that cap is not queued: it fails at once with
// ErrTooManyLookups, so that the connection is refused ("too many lookups
// in flight") while the running lookups finish or time out. Callers
// waiting for a lookup already in flight are not counted; they are the
// callers' own goroutines.
//
// The zero value is not usable: set Resolver. A CachingResolver must not be
// copied after first use; the exported fields must not change after first
// use.
type CachingResolver struct {
	// Resolver does the lookups, for example net.DefaultResolver.
	Resolver Resolver
	// TTL is how long answers are kept; zero means one minute.
	TTL time.Duration
	// NegativeTTL is how long failures are kept; zero means ten seconds,
	// a negative value not at all.
	NegativeTTL time.Duration
	// Timeout bounds one lookup; zero means ten seconds.
	Timeout time.Duration
	// MaxEntries bounds the number of cached answers of each kind,
	// lookups in flight included; zero means 10,000. When full, expired
	// answers are dropped first, then arbitrary finished ones.
	MaxEntries int
	// MaxInFlight bounds the lookups running at once, reverse and forward
	// together (each runs on its own goroutine); zero means 256. The cap
	// in force is the smaller of MaxInFlight and MaxEntries. Past it, new
	// lookups fail with ErrTooManyLookups.
	MaxInFlight int
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	mu       sync.Mutex
	reverse  map[string]*cacheEntry
	forward  map[string]*cacheEntry
	inFlight int          // lookups running (goroutines started, not finished)
	waiting  atomic.Int32 // callers waiting for a lookup, for tests
}

var _ Resolver = (*CachingResolver)(nil)

// ErrTooManyLookups is the error of a CachingResolver lookup refused
// because its cap on lookups in flight is reached (see
// CachingResolver.MaxInFlight). A host-name rule that gets it refuses the
// connection (ReasonResolverFailed) unless Env.FailuresDoNotMatch is set.
var ErrTooManyLookups = errors.New("too many lookups in flight")

// Defaults of CachingResolver's bounds.
const (
	defaultMaxEntries  = 10000
	defaultMaxInFlight = 256
)

// maxInFlight is the cap on lookups in flight.
func (c *CachingResolver) maxInFlight() int {
	n := c.MaxInFlight
	if n <= 0 {
		n = defaultMaxInFlight
	}
	return min(n, c.maxEntries())
}

func (c *CachingResolver) maxEntries() int {
	if c.MaxEntries <= 0 {
		return defaultMaxEntries
	}
	return c.MaxEntries
}

// cacheEntry is one lookup, finished when done is closed.
type cacheEntry struct {
	done    chan struct{}
	names   []string
	addrs   []netip.Addr
	err     error
	expires time.Time
}

func (c *CachingResolver) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// LookupAddr is the reverse lookup of addr, answered from the cache when
// possible.
func (c *CachingResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	key := addr
	if ip, err := netip.ParseAddr(addr); err == nil {
		key = ip.String()
	}
	e, err := c.lookup(ctx, true, key, func(lctx context.Context) *cacheEntry {
		names, err := c.Resolver.LookupAddr(lctx, addr)
		return &cacheEntry{names: names, err: err}
	})
	if err != nil {
		return nil, err
	}
	if e.err != nil {
		return nil, e.err
	}
	return append([]string(nil), e.names...), nil
}

// LookupNetIP is the forward lookup of host, answered from the cache when
// possible. Names are compared without regard to case or a trailing dot.
func (c *CachingResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	key := network + " " + strings.ToLower(strings.TrimSuffix(host, "."))
	e, err := c.lookup(ctx, false, key, func(lctx context.Context) *cacheEntry {
		addrs, err := c.Resolver.LookupNetIP(lctx, network, host)
		return &cacheEntry{addrs: addrs, err: err}
	})
	if err != nil {
		return nil, err
	}
	if e.err != nil {
		return nil, e.err
	}
	return append([]netip.Addr(nil), e.addrs...), nil
}

// lookup returns the finished entry for key, starting a lookup when there is
// no usable one. err is the caller's context error when it ends first, or
// ErrTooManyLookups when a lookup is needed and the cap is reached.
func (c *CachingResolver) lookup(ctx context.Context, rev bool, key string, do func(context.Context) *cacheEntry) (*cacheEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	m := &c.forward
	if rev {
		m = &c.reverse
	}
	if *m == nil {
		*m = make(map[string]*cacheEntry)
	}
	e, ok := (*m)[key]
	if ok && isDone(e) && !c.now().Before(e.expires) {
		delete(*m, key)
		ok = false
	}
	if !ok {
		if c.inFlight >= c.maxInFlight() {
			c.mu.Unlock()
			return nil, ErrTooManyLookups
		}
		c.makeRoom(*m)
		e = &cacheEntry{done: make(chan struct{})}
		(*m)[key] = e
		c.inFlight++
		go c.run(ctx, *m, key, e, do)
	}
	c.mu.Unlock()
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case <-e.done:
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run does one lookup and publishes it.
func (c *CachingResolver) run(ctx context.Context, m map[string]*cacheEntry, key string, e *cacheEntry, do func(context.Context) *cacheEntry) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(c.Timeout, 10*time.Second))
	defer cancel()
	r := do(lctx)
	ttl := orDefault(c.TTL, time.Minute)
	keep := true
	if r.err != nil {
		ttl = orDefault(c.NegativeTTL, 10*time.Second)
		if ttl < 0 || errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded) {
			keep = false
		}
	}
	c.mu.Lock()
	e.names, e.addrs, e.err = r.names, r.addrs, r.err
	e.expires = c.now().Add(ttl)
	if !keep && m[key] == e {
		delete(m, key)
	}
	c.inFlight--
	close(e.done)
	c.mu.Unlock()
}

func isDone(e *cacheEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// makeRoom drops entries until one more fits. c.mu is held.
func (c *CachingResolver) makeRoom(m map[string]*cacheEntry) {
	limit := c.maxEntries()
	if len(m) < limit {
		return
	}
	now := c.now()
	for k, e := range m {
		if isDone(e) && !now.Before(e.expires) {
			delete(m, k)
		}
	}
	for k, e := range m {
		if len(m) < limit {
			break
		}
		if isDone(e) {
			delete(m, k)
		}
	}
}

// entries returns the number of cached reverse and forward answers, finished or
// in flight.
func (c *CachingResolver) entries() (reverse, forward int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reverse), len(c.forward)
}
