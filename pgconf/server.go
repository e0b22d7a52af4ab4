package pgconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Options say where the server's configuration is, as the server's own
// invocation does.
type Options struct {
	// DataDir is the server's -D directory (or $PGDATA): where
	// postgresql.conf is, unless ConfigFile is set, and the data directory
	// unless postgresql.conf sets data_directory. Relative paths are taken
	// from the working directory, as the server takes them from its own.
	DataDir string
	// ConfigFile is the server's config_file (as in Debian's
	// /etc/postgresql/N/main/postgresql.conf). When DataDir is empty, the
	// directory of ConfigFile stands in for -D, as Debian's pg_ctlcluster
	// passes it: it is where hba_file and ident_file default to.
	ConfigFile string
	// Parser reads the files; nil means the zero Parser.
	Parser *Parser
}

// Server is what a server started with Options reads before it loads
// pg_hba.conf: its version, its files and the settings pghba uses.
type Server struct {
	Version    int    // the major version, from PG_VERSION
	DataDir    string // absolute data directory
	ConfigFile string // absolute postgresql.conf
	AutoFile   string // absolute postgresql.auto.conf (it may not exist)
	HBAFile    string // absolute pg_hba.conf path, as SHOW hba_file gives it
	IdentFile  string // absolute pg_ident.conf path, as SHOW ident_file gives it
	Config     *Config

	// The settings pghba uses, as the server has them: the last value in
	// the files, else the server's default.
	SSL                     bool
	SSLCAFile               string
	ListenAddresses         string // default "localhost"
	PasswordEncryption      string // "md5" or "scram-sha-256" (the default)
	DBUserNamespace         bool   // 13–16
	KrbCaseinsUsers         bool
	OAuthValidatorLibraries string // 18

	// Set names the settings above that the files set (lowercase).
	Set map[string]Entry
}

// Settings are the names of the settings pghba reads from the files,
// lowercase. Do not modify.
var Settings = []string{
	"data_directory", "hba_file", "ident_file", "ssl", "ssl_ca_file",
	"listen_addresses", "password_encryption", "db_user_namespace",
	"krb_caseins_users", "oauth_validator_libraries",
}

// Load reads the server's configuration as the postmaster does at start
// (SelectConfigFiles): postgresql.conf to find data_directory, then
// postgresql.conf and postgresql.auto.conf for every setting, PG_VERSION
// for the version, and hba_file and ident_file resolved to absolute paths.
//
// Every error the server would refuse to start with is an error here,
// naming the file and line: a syntax or include error, an invalid value of
// a setting pghba reads, a setting that does not exist in the version
// (db_user_namespace on 17+, oauth_validator_libraries before 18), a
// missing or malformed PG_VERSION, or a server older than 13.
//
// Setting names are checked with KnownName for the version (unless
// Parser.Known is set): a name the server does not define, and that is
// not a custom name with a dot, is the server's "unrecognized
// configuration parameter" error.
//
// Limits: settings given on the server's command line (-c) are not
// known and must be given to pghba as flags; a relative data_directory,
// hba_file or ident_file is taken from pghba's working directory, where the
// server takes it from the directory it was started in.
func Load(opt Options) (*Server, error) {
	p := opt.Parser
	if p == nil {
		p = &Parser{}
	}
	var configDir string
	if opt.DataDir != "" {
		d, err := absPath(opt.DataDir)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("could not access directory %q: %s", d, strerror(err))
		}
		configDir = d
	}
	var conf string
	switch {
	case opt.ConfigFile != "":
		c, err := absPath(opt.ConfigFile)
		if err != nil {
			return nil, err
		}
		conf = c
		if configDir == "" {
			configDir = filepath.Dir(c)
		}
	case configDir != "":
		conf = filepath.Join(configDir, "postgresql.conf")
	default:
		return nil, errors.New("no configuration: give a data directory or a postgresql.conf")
	}
	if _, err := os.Stat(conf); err != nil {
		return nil, fmt.Errorf("could not access the server configuration file %q: %s", conf, strerror(err))
	}

	// First pass: postgresql.conf alone, for data_directory (the server
	// keeps only the last entry spelled exactly so).
	first, err := p.ParseFile(conf)
	if err != nil {
		return nil, refused(conf, err)
	}
	dataDir := configDir
	for _, r := range first.Rows {
		if !r.IsError && r.Name == "data_directory" && r.Value != "" {
			if dataDir, err = absPath(r.Value); err != nil {
				return nil, err
			}
		}
	}
	if dataDir == "" {
		return nil, fmt.Errorf("%s: the server does not know where to find the data: set data_directory there or give the data directory", conf)
	}

	s := &Server{DataDir: dataDir, ConfigFile: conf, AutoFile: filepath.Join(dataDir, "postgresql.auto.conf"),
		ListenAddresses: "localhost", PasswordEncryption: "scram-sha-256", Set: map[string]Entry{}}
	if s.Version, err = ReadVersion(dataDir); err != nil {
		return nil, err
	}

	// Second pass: both files, the values checked for the version.
	pp := *p
	pp.Version = s.Version
	if pp.Known == nil {
		v := s.Version
		pp.Known = func(name string) bool { return KnownName(v, name) }
	}
	s.Config, err = pp.ParseFiles(conf, s.AutoFile)
	if err != nil {
		return nil, refused(conf, err)
	}
	for _, name := range Settings {
		if e, ok := s.Config.Lookup(name); ok {
			s.Set[name] = e
			s.apply(name, e.Value) // checked by the parse
		}
	}
	s.HBAFile = filepath.Join(configDir, "pg_hba.conf")
	if e, ok := s.Set["hba_file"]; ok && e.Value != "" {
		if s.HBAFile, err = absPath(e.Value); err != nil {
			return nil, err
		}
	}
	s.IdentFile = filepath.Join(configDir, "pg_ident.conf")
	if e, ok := s.Set["ident_file"]; ok && e.Value != "" {
		if s.IdentFile, err = absPath(e.Value); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// refused wraps the errors of a configuration the server refuses to start
// with; the ErrorList stays reachable with errors.As.
func refused(conf string, err error) error {
	return &RefusedError{File: conf, Err: err}
}

// RefusedError is a configuration the server would not start with. Err
// holds the errors (an ErrorList, usually).
type RefusedError struct {
	File string
	Err  error
}

// Error is the server's verdict and the first error.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("configuration file %q contains errors: %v", e.File, e.Err)
}

// Unwrap returns Err.
func (e *RefusedError) Unwrap() error { return e.Err }

// CheckSetting checks a value of one of Settings (name compared
// case-insensitively) as a server of the major version does, and returns
// the server's error text, or "" when the value is accepted or the name is
// not one pghba reads. A setting the version does not have is an error.
func CheckSetting(version int, name, value string) string {
	var s Server
	s.Version = version
	return s.apply(strings.ToLower(name), value)
}

// apply sets one setting (name lowercase) as the server's type checks do;
// it returns the server's error text, or "".
func (s *Server) apply(name, v string) string {
	if absentIn(s.Version, name) {
		return fmt.Sprintf("unrecognized configuration parameter %q", name)
	}
	boolean := func(dst *bool) string {
		b, ok := ParseBool(v)
		if !ok {
			return fmt.Sprintf("parameter %q requires a Boolean value", name)
		}
		*dst = b
		return ""
	}
	switch name {
	case "ssl":
		return boolean(&s.SSL)
	case "db_user_namespace":
		return boolean(&s.DBUserNamespace)
	case "krb_caseins_users":
		return boolean(&s.KrbCaseinsUsers)
	case "ssl_ca_file":
		s.SSLCAFile = v
	case "listen_addresses":
		s.ListenAddresses = v
	case "oauth_validator_libraries":
		s.OAuthValidatorLibraries = v
	case "password_encryption":
		switch l := strings.ToLower(v); {
		case l == "md5" || l == "scram-sha-256":
			s.PasswordEncryption = l
		case s.Version <= 13 && (l == "on" || l == "true" || l == "yes" || l == "1"):
			s.PasswordEncryption = "md5"
		default:
			return fmt.Sprintf("invalid value for parameter %q: %q", name, v)
		}
	}
	return ""
}

// ParseBool reads a boolean setting as the server does: any prefix of
// true, false, yes or no, on, of(f), 1 or 0, in any case; nothing else (no
// blanks).
func ParseBool(v string) (value, ok bool) {
	if v == "" {
		return false, false
	}
	l := strings.ToLower(v)
	prefix := func(word string, min int) bool {
		return len(l) >= min && len(l) <= len(word) && word[:len(l)] == l
	}
	switch l[0] {
	case 't':
		return true, prefix("true", 1)
	case 'f':
		return false, prefix("false", 1)
	case 'y':
		return true, prefix("yes", 1)
	case 'n':
		return false, prefix("no", 1)
	case 'o':
		if prefix("on", 2) {
			return true, true
		}
		return false, prefix("off", 2)
	case '1':
		return true, len(l) == 1
	case '0':
		return false, len(l) == 1
	}
	return false, false
}

// ReadVersion reads the major version from dir/PG_VERSION, as the server
// checks it, and refuses versions pghba does not model (before 13).
func ReadVersion(dir string) (int, error) {
	path := filepath.Join(dir, "PG_VERSION")
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("%q is not a valid data directory: file %q is missing", dir, path)
		}
		return 0, fmt.Errorf("could not open file %q: %s", path, strerror(err))
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	s := strings.TrimLeft(string(buf[:n]), " \t\n\r\v\f")
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	v, err := strconv.Atoi(s[:end])
	if err != nil || end == 0 {
		return 0, fmt.Errorf("%q is not a valid data directory: file %q does not contain valid data", dir, path)
	}
	if v < 13 {
		return v, fmt.Errorf("%s: PostgreSQL %d: pghba reads PostgreSQL 13 and later", path, v)
	}
	return v, nil
}
