package testkit

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pghba/pghba/internal/pgtest"
)

// Env is the skeleton of a differential harness (internal/conformance,
// internal/identconf): generated cases run against real servers, configured
// by environment variables that all start with Prefix and an underscore.
// The names it reads itself:
//
//	PREFIX_SEED      replay a run; Seed prints the seed of every run
//	PREFIX_VERSIONS  comma-separated majors to run (see Versions)
//	PREFIX_SAVE      directory for regression files of divergent cases
//	                 (default: a new directory under $TMPDIR, made on the
//	                 first divergence and printed)
//	PGHBA_CONFORMANCE_LONG=1  long mode, shared by every harness (Long)
//	CI=true          a required server that is missing fails the test
//	                 instead of skipping it (Install)
//
// A harness documents its own options (case counts and the like) next to
// its tests and reads them with Int and Get.
type Env struct {
	Prefix string // e.g. "PGHBA_CONFORMANCE"

	mu    sync.Mutex
	dir   string // the save directory, once made
	saved int
}

// Get returns the variable Prefix_name.
func (e *Env) Get(name string) string { return os.Getenv(e.Prefix + "_" + name) }

// Int returns the variable Prefix_name as an integer, or def when it is
// unset or not a number.
func (e *Env) Int(name string, def int) int {
	if n, err := strconv.Atoi(e.Get(name)); err == nil {
		return n
	}
	return def
}

// Long reports long mode (PGHBA_CONFORMANCE_LONG=1).
func Long() bool { return os.Getenv("PGHBA_CONFORMANCE_LONG") == "1" }

// Seed returns Prefix_SEED, or a new random seed, and logs how to replay
// the run. A malformed seed fails the test.
func (e *Env) Seed(t testing.TB) uint64 {
	t.Helper()
	seed := rand.Uint64() >> 1
	if v := e.Get("SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s_SEED=%q: %v", e.Prefix, v, err)
		}
		seed = s
	}
	t.Logf("seed %d (replay with %s_SEED=%d)", seed, e.Prefix, seed)
	return seed
}

// Versions returns the majors to run: def; in long mode every major of
// pgtest.Majors from lo on; or the list in Prefix_VERSIONS. required tells
// which of them must be installed (def's and the listed ones): see Install.
// A malformed list fails the test.
func (e *Env) Versions(t testing.TB, def []int, lo int) (majors []int, required map[int]bool) {
	t.Helper()
	required = map[int]bool{}
	for _, m := range def {
		required[m] = true
	}
	majors = def
	if Long() {
		majors = nil
		for _, m := range pgtest.Majors {
			if m >= lo {
				majors = append(majors, m)
			}
		}
	}
	if v := e.Get("VERSIONS"); v != "" {
		majors = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				t.Fatalf("%s_VERSIONS=%q: %v", e.Prefix, v, err)
			}
			majors = append(majors, n)
			required[n] = true
		}
	}
	return majors, required
}

// Install returns the binaries of major. When they are missing it skips the
// test, except for a required major under CI=true, which fails it.
func Install(t testing.TB, major int, required bool) *pgtest.Install {
	t.Helper()
	if required {
		return pgtest.Require(t, major)
	}
	inst, err := pgtest.Find(major)
	if err != nil {
		t.Skipf("%v", err)
	}
	return inst
}

// Save writes a regression file NAME.txtar for a divergent case into the
// save directory (see Env) and returns its path; a failure to write is a test
// error. Safe for parallel tests.
func (e *Env) Save(t testing.TB, name string, data []byte) string {
	t.Helper()
	e.mu.Lock()
	if e.dir == "" {
		dir := e.Get("SAVE")
		var err error
		if dir == "" {
			dir, err = os.MkdirTemp("", strings.ToLower(strings.ReplaceAll(e.Prefix, "_", "-"))+"-")
		} else {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			e.mu.Unlock()
			t.Errorf("regression directory: %v", err)
			return ""
		}
		e.dir = dir
	}
	p := filepath.Join(e.dir, name+".txtar")
	e.mu.Unlock()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Errorf("saving %s: %v", p, err)
		return p
	}
	t.Logf("regression file: %s", p)
	return p
}

// Seq returns 1, 2, 3... on successive calls: a counter for Save names.
func (e *Env) Seq() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.saved++
	return e.saved
}

// Majors runs fn once per major of Versions(def, lo), each as a parallel subtest "pgN"
// with the major's binaries (Install; required as Versions says). A major below lo (one
// named in Prefix_VERSIONS) is skipped, and so is everything under -short.
func (e *Env) Majors(t *testing.T, def []int, lo int, fn func(t *testing.T, inst *pgtest.Install)) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no real servers")
	}
	majors, required := e.Versions(t, def, lo)
	for _, major := range majors {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			if major < lo {
				t.Skipf("this test starts at PostgreSQL %d", lo)
			}
			fn(t, Install(t, major, required[major]))
		})
	}
}

// Count returns a case count: Prefix_name when set, else long in long mode, else def.
func (e *Env) Count(name string, def, long int) int {
	if Long() {
		def = long
	}
	return e.Int(name, def)
}
