package hba

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingResolver answers from a HostTable, counts calls per key and can
// hold lookups of chosen keys until released.
type countingResolver struct {
	t       HostTable
	mu      sync.Mutex
	calls   map[string]int
	gates   map[string]chan struct{}
	started chan string
}

func newCountingResolver(t HostTable) *countingResolver {
	return &countingResolver{t: t, calls: map[string]int{}, gates: map[string]chan struct{}{}, started: make(chan string, 100)}
}

// hold makes lookups of key wait until the returned func is called.
func (r *countingResolver) hold(key string) func() {
	ch := make(chan struct{})
	r.mu.Lock()
	r.gates[key] = ch
	r.mu.Unlock()
	return func() { close(ch) }
}

func (r *countingResolver) enter(ctx context.Context, key string) error {
	r.mu.Lock()
	r.calls[key]++
	g := r.gates[key]
	r.mu.Unlock()
	r.started <- key
	if g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (r *countingResolver) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[key]
}

func (r *countingResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if err := r.enter(ctx, "rev "+addr); err != nil {
		return nil, err
	}
	return r.t.LookupAddr(ctx, addr)
}

func (r *countingResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if err := r.enter(ctx, "fwd "+host); err != nil {
		return nil, err
	}
	return r.t.LookupNetIP(ctx, network, host)
}

var cacheHosts = HostTable{
	Reverse: map[string][]string{"192.0.2.7": {"db.example.com"}, "192.0.2.8": {"other.example.com"}},
	Forward: map[string][]string{"db.example.com": {"192.0.2.7"}, "other.example.com": {"192.0.2.8"}},
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestCachingResolverBurst: 50 concurrent lookups of one address while the
// first is in flight cost one lookup and all get its answer.
func TestCachingResolverBurst(t *testing.T) {
	fake := newCountingResolver(cacheHosts)
	release := fake.hold("rev 192.0.2.7")
	c := &CachingResolver{Resolver: fake}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			names, err := c.LookupAddr(context.Background(), "192.0.2.7")
			if err == nil && len(names) == 1 && names[0] == "db.example.com" {
				ok.Add(1)
			}
		}()
	}
	<-fake.started
	// Release only when every caller waits on the one lookup.
	for c.waiting.Load() != 50 {
		runtime.Gosched()
	}
	release()
	wg.Wait()
	if n := fake.count("rev 192.0.2.7"); n != 1 {
		t.Errorf("50 lookups of one address made %d resolver calls, want 1", n)
	}
	if ok.Load() != 50 {
		t.Errorf("%d of 50 callers got the answer", ok.Load())
	}
}

// TestCachingResolverTTL checks expiry of answers and of failures.
func TestCachingResolverTTL(t *testing.T) {
	fake := newCountingResolver(cacheHosts)
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c := &CachingResolver{Resolver: fake, TTL: time.Minute, NegativeTTL: 5 * time.Second, Now: clock.Now}
	ctx := context.Background()
	lookup := func(addr string) error {
		_, err := c.LookupAddr(ctx, addr)
		return err
	}
	if err := lookup("192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if err := lookup("198.51.100.1"); err == nil {
		t.Fatal("unknown address resolved")
	}
	clock.Add(4 * time.Second)
	lookup("192.0.2.7")
	lookup("198.51.100.1")
	if a, b := fake.count("rev 192.0.2.7"), fake.count("rev 198.51.100.1"); a != 1 || b != 1 {
		t.Errorf("within both TTLs: %d and %d calls, want 1 and 1", a, b)
	}
	clock.Add(2 * time.Second) // past NegativeTTL, within TTL
	lookup("192.0.2.7")
	lookup("198.51.100.1")
	if a, b := fake.count("rev 192.0.2.7"), fake.count("rev 198.51.100.1"); a != 1 || b != 2 {
		t.Errorf("after NegativeTTL: %d and %d calls, want 1 and 2", a, b)
	}
	clock.Add(time.Minute)
	lookup("192.0.2.7")
	if a := fake.count("rev 192.0.2.7"); a != 2 {
		t.Errorf("after TTL: %d calls, want 2", a)
	}
	// Forward names are cached case-insensitively.
	c.LookupNetIP(ctx, "ip", "DB.example.com.")
	addrs, err := c.LookupNetIP(ctx, "ip", "db.example.com")
	if err != nil || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("forward lookup: %v, %v", addrs, err)
	}
	if n := fake.count("fwd DB.example.com."); n != 1 || fake.count("fwd db.example.com") != 0 {
		t.Errorf("forward calls: %d for DB.example.com., %d for db.example.com; want 1 and 0", n, fake.count("fwd db.example.com"))
	}
	// Answers are copies.
	names, _ := c.LookupAddr(ctx, "192.0.2.7")
	names[0] = "changed"
	if again, _ := c.LookupAddr(ctx, "192.0.2.7"); again[0] != "db.example.com" {
		t.Errorf("cached answer changed through a returned slice: %v", again)
	}
}

// TestCachingResolverDeadline: a caller whose context ends stops waiting
// with its context's error; the lookup goes on and serves the next caller;
// a slow address never blocks another address.
func TestCachingResolverDeadline(t *testing.T) {
	fake := newCountingResolver(cacheHosts)
	release := fake.hold("rev 192.0.2.7")
	c := &CachingResolver{Resolver: fake}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := c.LookupAddr(ctx, "192.0.2.7")
		errc <- err
	}()
	<-fake.started
	// Another address is answered while the first lookup is stuck.
	if names, err := c.LookupAddr(context.Background(), "192.0.2.8"); err != nil || names[0] != "other.example.com" {
		t.Fatalf("other address: %v, %v", names, err)
	}
	<-fake.started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller got %v, want context.Canceled", err)
	}
	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, err := c.LookupAddr(dctx, "192.0.2.7"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expired caller got %v, want context.DeadlineExceeded", err)
	}
	release()
	names, err := c.LookupAddr(context.Background(), "192.0.2.7")
	if err != nil || names[0] != "db.example.com" {
		t.Fatalf("after release: %v, %v", names, err)
	}
	if n := fake.count("rev 192.0.2.7"); n != 1 {
		t.Errorf("%d resolver calls, want 1", n)
	}
}

// TestCachingResolverTimeout: a lookup that times out is not cached.
func TestCachingResolverTimeout(t *testing.T) {
	fake := newCountingResolver(cacheHosts)
	release := fake.hold("rev 192.0.2.7")
	defer release()
	c := &CachingResolver{Resolver: fake, Timeout: time.Millisecond}
	if _, err := c.LookupAddr(context.Background(), "192.0.2.7"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the lookup's deadline error", err)
	}
	if rev, _ := c.entries(); rev != 0 {
		t.Errorf("a timed-out lookup was cached (%d entries)", rev)
	}
}

// TestCachingResolverMaxEntries checks the size bound.
func TestCachingResolverMaxEntries(t *testing.T) {
	fake := newCountingResolver(HostTable{})
	c := &CachingResolver{Resolver: fake, MaxEntries: 3}
	for _, a := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"} {
		c.LookupAddr(context.Background(), a)
	}
	if rev, _ := c.entries(); rev > 3 {
		t.Errorf("%d entries, want at most 3", rev)
	}
}

// TestCachingResolverRuleset: host-name rules through the cache cost one
// reverse and one forward lookup for many connections from one address.
func TestCachingResolverRuleset(t *testing.T) {
	fake := newCountingResolver(cacheHosts)
	p := Parser{Env: Env{Resolver: &CachingResolver{Resolver: fake}}}
	rs, err := p.LoadBytes("/x/pg_hba.conf", []byte("host all all .nomatch.org md5\nhost all all db.example.com trust\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		d := rs.Decide(context.Background(), Conn{Addr: netip.MustParseAddr("192.0.2.7"), User: "u"})
		if d.Outcome != Matched || d.Rule.Pos().Line != 2 {
			t.Fatalf("decision %v %v, want line 2", d.Outcome, d.Rule)
		}
	}
	if r, f := fake.count("rev 192.0.2.7"), fake.count("fwd db.example.com"); r != 1 || f != 1 {
		t.Errorf("20 connections made %d reverse and %d forward lookups, want 1 and 1", r, f)
	}
}

// slowResolver blocks every lookup until release is closed (or the
// lookup's context ends) and calls onStart first.
type slowResolver struct {
	release chan struct{}
	onStart func()
	calls   atomic.Int32
}

func (s *slowResolver) wait(ctx context.Context) error {
	s.calls.Add(1)
	if s.onStart != nil {
		s.onStart()
	}
	select {
	case <-s.release:
		return &net.DNSError{Err: "no such host", IsNotFound: true}
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *slowResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return nil, s.wait(ctx)
}

func (s *slowResolver) LookupNetIP(ctx context.Context, _, _ string) ([]netip.Addr, error) {
	return nil, s.wait(ctx)
}

// TestCachingResolverBoundsInFlight is issue 12's F8: with a slow resolver
// and 3,000 client addresses, a CachingResolver with MaxEntries 100 keeps
// at most 100 entries and 100 lookup goroutines; the other addresses are
// refused at once with ErrTooManyLookups instead of queueing, and a
// host-name rule refuses such a connection (Unresolved, "too many lookups
// in flight").
func TestCachingResolverBoundsInFlight(t *testing.T) {
	const clients, maxEntries = 3000, 100
	slow := &slowResolver{release: make(chan struct{})}
	c := &CachingResolver{Resolver: slow, MaxEntries: maxEntries, Timeout: time.Hour}
	base := runtime.NumGoroutine()

	// Each caller gives up as soon as its lookup has started, as a client
	// whose connection times out would, leaving the lookup in flight.
	var mu sync.Mutex
	var cancelCaller context.CancelFunc
	slow.onStart = func() {
		mu.Lock()
		cancelCaller()
		mu.Unlock()
	}
	refused, gaveUp := 0, 0
	for i := range clients {
		ctx, cancel := context.WithCancel(context.Background())
		mu.Lock()
		cancelCaller = cancel
		mu.Unlock()
		addr := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
		_, err := c.LookupAddr(ctx, addr)
		cancel()
		switch {
		case errors.Is(err, ErrTooManyLookups):
			refused++
		case errors.Is(err, context.Canceled):
			gaveUp++
		default:
			t.Fatalf("client %d: %v", i, err)
		}
		if rev, _ := c.entries(); rev > maxEntries {
			t.Fatalf("after %d clients: %d entries, want at most %d", i+1, rev, maxEntries)
		}
	}
	if gaveUp != maxEntries || refused != clients-maxEntries || int(slow.calls.Load()) != maxEntries {
		t.Errorf("%d lookups started, %d callers gave up, %d refused; want %d, %d, %d",
			slow.calls.Load(), gaveUp, refused, maxEntries, maxEntries, clients-maxEntries)
	}
	if n := runtime.NumGoroutine() - base; n > maxEntries+5 {
		t.Errorf("%d goroutines more than before, want at most %d lookups (and a few spare)", n, maxEntries)
	}

	// A connection over the cap is refused at the host-name rule.
	rs, err := (&Parser{Env: Env{Resolver: c}}).LoadBytes("/x/pg_hba.conf",
		[]byte("host all all .evil.example reject\nhost all all 0.0.0.0/0 trust\n"))
	if err != nil {
		t.Fatal(err)
	}
	conn := Conn{Addr: netip.MustParseAddr("192.0.2.200"), User: "u"}
	d := rs.Decide(context.Background(), conn)
	if d.Outcome != Unresolved || d.Rule.Pos().Line != 1 || d.Reason != ReasonResolverFailed || !errors.Is(d.Err, ErrTooManyLookups) {
		t.Fatalf("decision %v %v %q %v, want unresolved at line 1 with ErrTooManyLookups", d.Outcome, d.Rule, d.Reason, d.Err)
	}
	if msg := rs.Message(d, conn); !strings.Contains(msg, "too many lookups in flight") {
		t.Errorf("message %q does not say why", msg)
	}

	// Once the lookups end, their goroutines are gone and new addresses
	// are looked up again.
	close(slow.release)
	for deadline := time.Now().Add(time.Minute); ; {
		c.mu.Lock()
		n := c.inFlight
		c.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lookups still in flight after release", n)
		}
		time.Sleep(time.Millisecond)
	}
	slow.onStart = nil
	if _, err := c.LookupAddr(context.Background(), "192.0.2.201"); !isNotFound(err) {
		t.Errorf("after the burst: %v, want not found", err)
	}
}
