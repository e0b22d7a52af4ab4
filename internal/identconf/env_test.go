package identconf

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

// Environment:
//
//	PGHBA_IDENT_SEED          replay a run (every run prints its seed)
//	PGHBA_IDENT_FILES         view files per version (default 300; long mode 3000)
//	PGHBA_IDENT_CHECKS        certificate checks per version (default 240; long mode 2000)
//	PGHBA_CONFORMANCE_LONG=1  long mode: more cases, every installed major 15–18 (view) and
//	                          13–18 (certificates)
//	PGHBA_IDENT_VERSIONS      comma-separated majors (overrides the defaults)
//	PGHBA_IDENT_NONASCII=1    also generate patterns with bytes above 127 for the view test
//	                          (known divergence: the view decodes them as UTF-8)
//	PGHBA_IDENT_SAVE          directory for regression files of divergent cases (default: a
//	                          new directory under $TMPDIR, printed)
//
// Without CI=true a missing server skips the version; with CI=true it fails.

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func long() bool { return os.Getenv("PGHBA_CONFORMANCE_LONG") == "1" }

func envSeed(t *testing.T) uint64 {
	if v := os.Getenv("PGHBA_IDENT_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PGHBA_IDENT_SEED=%q: %v", v, err)
		}
		return s
	}
	return rand.Uint64() >> 1
}

// versions returns the majors to run: def, or every major from lo in long mode, or
// PGHBA_IDENT_VERSIONS. required tells which must be installed (the others skip silently
// when missing, even under CI).
func versions(t *testing.T, def []int, lo int) (majors []int, required map[int]bool) {
	required = map[int]bool{}
	for _, m := range def {
		required[m] = true
	}
	majors = def
	if long() {
		majors = nil
		for _, m := range pgtest.Majors {
			if m >= lo {
				majors = append(majors, m)
			}
		}
	}
	if v := os.Getenv("PGHBA_IDENT_VERSIONS"); v != "" {
		majors = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				t.Fatalf("PGHBA_IDENT_VERSIONS=%q: %v", v, err)
			}
			majors = append(majors, n)
			required[n] = true
		}
	}
	return majors, required
}

// install returns the binaries of major, or skips (fails under CI=true for required ones).
func install(t *testing.T, major int, required bool) *pgtest.Install {
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

// saver writes regression files for divergent cases.
type saver struct {
	dir string
	mu  sync.Mutex
	n   int
}

func newSaver(t *testing.T) *saver {
	dir := os.Getenv("PGHBA_IDENT_SAVE")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "identconf-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &saver{dir: dir}
}

func (s *saver) save(t *testing.T, name string, a *archive) {
	s.mu.Lock()
	s.n++
	p := filepath.Join(s.dir, fmt.Sprintf("%s-%d.txtar", name, s.n))
	s.mu.Unlock()
	if err := os.WriteFile(p, a.format(), 0o644); err != nil {
		t.Errorf("saving %s: %v", p, err)
		return
	}
	t.Logf("regression file: %s", p)
}
