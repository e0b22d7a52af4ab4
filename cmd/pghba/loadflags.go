package main

// This file is the loading flags: the main file, the server that reads it
// and the world outside the files, as every command takes them. They are
// defined once (register), checked once (validate, from parse) and turned
// into an hba.Parser once (parser). A new loading flag is a field of
// loadFlags, a line in register, its checks in validate and its use in
// parser, and nothing else; TestUsageNamesEveryFlag then asks for a line
// about it in the help of each command that takes it.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pghba/pghba/cmd/pghba/internal/live"
	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
	"github.com/pghba/pghba/pgconf"
)

// loadOpts are the optional groups of loading flags a command takes, on top
// of the server flags every command takes.
type loadOpts uint8

const (
	// withHosts: --hosts, a host table for host-name rules and for the
	// radiusservers names the server resolves when it loads the file. A
	// command with it uses the system resolver when --hosts is not given;
	// a command without it has no resolver at all (lint never touches
	// DNS).
	withHosts loadOpts = 1 << iota
	// withWorld: --roles (role membership) and --server-addrs (the
	// server's interfaces, for samehost and samenet).
	withWorld
)

// loadFlags are the loading flags.
type loadFlags struct {
	opts loadOpts // which optional flags were defined

	// Server flags, taken by every command.
	file            string // -f; "" for the default (path)
	lines           string // --lines: the main file as lists of lines (lines.go)
	version, minor  int
	serverSSL       bool
	missing         string
	oauthValidators string
	dbUserNamespace bool

	hostsFile   string          // withHosts
	rolesFile   string          // withWorld
	serverAddrs *[]netip.Prefix // withWorld; nil: this machine's interfaces

	// The server's own files, taken by every command: --pgdata DIR (the
	// data directory) and --config-file FILE (a postgresql.conf elsewhere, as
	// in Debian's /etc/postgresql/N/main). What they say is the default
	// of -f and the server flags; a flag given explicitly wins.
	pgdata, config string
	server         *pgconf.Server // what they say, set by parser; nil without them
	// --dsn URL: a running server, asked for its version, settings, roles
	// and (rules --dsn) the rules it reads. What it says wins over the
	// files (it is what the server runs with), and explicit flags win
	// over it.
	dsn   string
	live  *live.Facts // set by parser; nil without --dsn
	notes []string    // what --dsn could not read, for standard error
	// listenAddresses is the server's listen_addresses when read.
	listenAddresses *string

	withViews bool // rules --dsn: read pg_hba_file_rules and pg_ident_file_mappings too

	features hba.Features    // what missing leaves, set by validate
	given    map[string]bool // the flags given, set by validate
}

// register defines the loading flags on fs: the server flags and the groups
// in opts.
func (lf *loadFlags) register(fs *flag.FlagSet, opts loadOpts) {
	lf.opts = opts
	fs.StringVar(&lf.file, "f", "", "")
	fs.StringVar(&lf.lines, "lines", "", "")
	fs.IntVar(&lf.version, "pg-version", hba.DefaultVersion, "")
	fs.IntVar(&lf.minor, "minor", 0, "")
	fs.Func("server-ssl", "", func(s string) error {
		v, ok := parsePGBool(s)
		if !ok {
			return errors.New("want on or off")
		}
		lf.serverSSL = v
		return nil
	})
	fs.StringVar(&lf.missing, "missing", "bsd,sspi", "")
	fs.StringVar(&lf.oauthValidators, "oauth-validators", "", "")
	fs.BoolVar(&lf.dbUserNamespace, "db-user-namespace", false, "")
	fs.StringVar(&lf.pgdata, "pgdata", "", "")
	fs.StringVar(&lf.config, "config-file", "", "")
	fs.StringVar(&lf.dsn, "dsn", "", "")
	if opts&withHosts != 0 {
		fs.StringVar(&lf.hostsFile, "hosts", "", "")
	}
	if opts&withWorld != 0 {
		fs.StringVar(&lf.rolesFile, "roles", "", "")
		fs.Func("server-addrs", "", func(s string) error {
			p, err := parsePrefixList(s)
			lf.serverAddrs = &p
			return err
		})
	}
}

// validate checks the loading flags against each other; given holds the
// flags given. The error is a usageError.
func (lf *loadFlags) validate(given map[string]bool) error {
	lf.given = given
	if given["pgdata"] && lf.pgdata == "" {
		return badUsage("--pgdata: want a directory")
	}
	if given["config-file"] && lf.config == "" {
		return badUsage("--config-file: want a postgresql.conf")
	}
	if given["dsn"] && lf.dsn == "" {
		return badUsage("--dsn: want a connection string")
	}
	if lf.version < hba.MinVersion || lf.version > hba.MaxVersion {
		return badUsage("--pg-version %d: want %d to %d", lf.version, hba.MinVersion, hba.MaxVersion)
	}
	if given["f"] && given["lines"] {
		return badUsage("-f and --lines: give one main file")
	}
	if lf.minor < 0 {
		return badUsage("--minor %d: want 0 or more", lf.minor)
	}
	if given["db-user-namespace"] && lf.version > 16 {
		return badUsage("--db-user-namespace: the setting does not exist in PostgreSQL %d", lf.version)
	}
	features, err := hba.ParseMissing(lf.missing)
	if err != nil {
		return usageError("--missing: " + err.Error())
	}
	lf.features = features
	return nil
}

// parser returns the Parser the loading flags describe, after validate,
// reading the side inputs they name (--pgdata, --config-file, --roles,
// --hosts). Its errors are about those inputs, not usage.
func (lf *loadFlags) parser() (*hba.Parser, error) {
	if err := lf.readServer(); err != nil {
		return nil, err
	}
	p := &hba.Parser{
		Version:                 lf.version,
		Minor:                   lf.minor,
		SSL:                     lf.serverSSL,
		Features:                lf.features,
		DBUserNamespace:         lf.dbUserNamespace,
		OAuthValidatorLibraries: lf.oauthValidators,
	}
	if lf.lines != "" {
		c, err := readLines(lf.lines)
		if err != nil {
			return nil, fmt.Errorf("--lines: %w", err)
		}
		p.FS = &linesFS{c}
	}
	if lf.live != nil && lf.rolesFile == "" {
		p.Env.Roles = hba.RoleGraph(lf.live.Roles)
	}
	if lf.rolesFile != "" {
		var g hba.RoleGraph
		if err := readJSONFile(lf.rolesFile, &g); err != nil {
			return nil, fmt.Errorf("--roles: %w", err)
		}
		if g == nil {
			g = hba.RoleGraph{}
		}
		p.Env.Roles = g
	}
	if lf.opts&withHosts != 0 {
		if lf.hostsFile != "" {
			var h hba.HostTable
			if err := readJSONFile(lf.hostsFile, &h); err != nil {
				return nil, fmt.Errorf("--hosts: %w", err)
			}
			if err := h.Validate(); err != nil {
				return nil, fmt.Errorf("--hosts: %s: %w", lf.hostsFile, err)
			}
			p.Env.Resolver = h
			p.RADIUSResolver = h
		} else {
			p.Env.Resolver = net.DefaultResolver
			p.RADIUSResolver = net.DefaultResolver
		}
	}
	if lf.serverAddrs != nil {
		p.Env.Interfaces = hba.StaticInterfaces(*lf.serverAddrs)
	}
	return p, nil
}

// readServer reads the server's configuration named by --pgdata and
// --config-file, then asks the server --dsn names, and takes from them the
// facts no flag gave: the version, ssl, oauth_validator_libraries,
// db_user_namespace, listen_addresses and the pg_hba.conf path (--dsn
// over the files). A configuration the server would refuse to start with,
// or a server that cannot be reached or read, stops the command: it never
// falls back to defaults. What a --dsn role may not read is left to the
// files, flags or defaults, and named in notes.
func (lf *loadFlags) readServer() error {
	if err := lf.readFiles(); err != nil {
		return err
	}
	return lf.readLive()
}

// readFiles is readServer for --pgdata and --config-file.
func (lf *loadFlags) readFiles() error {
	if lf.pgdata == "" && lf.config == "" {
		return nil
	}
	s, err := pgconf.Load(pgconf.Options{DataDir: lf.pgdata, ConfigFile: lf.config})
	if err != nil {
		return serverError(err)
	}
	if s.Version < hba.MinVersion || s.Version > hba.MaxVersion {
		return fmt.Errorf("%s: PostgreSQL %d: pghba reads %d to %d", filepath.Join(s.DataDir, "PG_VERSION"), s.Version, hba.MinVersion, hba.MaxVersion)
	}
	lf.server = s
	g := lf.given
	if !g["pg-version"] {
		lf.version = s.Version
	}
	if g["db-user-namespace"] && lf.version > 16 {
		return badUsage("--db-user-namespace: the setting does not exist in PostgreSQL %d", lf.version)
	}
	if !g["server-ssl"] {
		lf.serverSSL = s.SSL
	}
	if !g["oauth-validators"] {
		lf.oauthValidators = s.OAuthValidatorLibraries
	}
	if !g["db-user-namespace"] {
		lf.dbUserNamespace = s.DBUserNamespace
	}
	if lf.file == "" {
		lf.file = s.HBAFile
	}
	lf.listenAddresses = &s.ListenAddresses
	return nil
}

// readLive is readServer for --dsn: the running server's facts, over what
// the files said.
func (lf *loadFlags) readLive() error {
	if lf.dsn == "" {
		return nil
	}
	ctx := context.Background()
	f, err := live.Read(ctx, lf.dsn, lf.withViews)
	if err != nil {
		return err
	}
	if f.Version() < hba.MinVersion || f.Version() > hba.MaxVersion {
		return fmt.Errorf("--dsn: %s: PostgreSQL %d: pghba reads %d to %d", f.Host, f.Version(), hba.MinVersion, hba.MaxVersion)
	}
	lf.live = f
	for _, u := range f.Unreadable {
		lf.notes = append(lf.notes, "--dsn: "+f.Host+": not read: "+u)
	}
	g := lf.given
	if !g["pg-version"] {
		lf.version = f.Version()
	}
	if g["db-user-namespace"] && lf.version > 16 {
		return badUsage("--db-user-namespace: the setting does not exist in PostgreSQL %d", lf.version)
	}
	set := func(name string, given bool, apply func(string) error) error {
		v, ok := f.Settings[name]
		if !ok || given {
			return nil
		}
		if err := apply(v); err != nil {
			return fmt.Errorf("--dsn: %s: %s = %q: %v", f.Host, name, v, err)
		}
		return nil
	}
	boolean := func(dst *bool) func(string) error {
		return func(v string) error {
			b, ok := parsePGBool(v)
			if !ok {
				return errors.New("not a boolean")
			}
			*dst = b
			return nil
		}
	}
	if err := set("ssl", g["server-ssl"], boolean(&lf.serverSSL)); err != nil {
		return err
	}
	if err := set("db_user_namespace", g["db-user-namespace"], boolean(&lf.dbUserNamespace)); err != nil {
		return err
	}
	set("oauth_validator_libraries", g["oauth-validators"], func(v string) error { lf.oauthValidators = v; return nil })
	set("listen_addresses", false, func(v string) error { lf.listenAddresses = &v; return nil })
	if !g["f"] {
		if v, ok := f.Settings["hba_file"]; ok {
			lf.file = v
		} else if lf.server == nil && !lf.withViews {
			return fmt.Errorf("--dsn: %s: hba_file cannot be read by this role (it needs superuser or pg_read_all_settings): give -f FILE, or --pgdata", f.Host)
		}
	}
	return nil
}

// serverError writes a configuration the server refuses as one error a
// line, each file:line: message.
func serverError(err error) error {
	var list pgconf.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return err
	}
	var refused *pgconf.RefusedError
	var b strings.Builder
	if errors.As(err, &refused) {
		fmt.Fprintf(&b, "the server would not start: configuration file %q contains errors:", refused.File)
	}
	for _, e := range list {
		b.WriteString("\n  " + e.Error())
	}
	return errors.New(b.String())
}

// settings are the server settings lint uses: what --pgdata or --config-file
// read, --dsn over it and --server-ssl over both; nil when none of them
// was given (lint then assumes nothing about them).
func (lf *loadFlags) settings() *audit.Settings {
	s := lf.server
	if s == nil && lf.live == nil {
		return nil
	}
	out := &audit.Settings{SSL: lf.serverSSL}
	if s != nil {
		at := func(name string) string {
			if e, ok := s.Set[name]; ok {
				return e.File + ":" + strconv.Itoa(e.Line)
			}
			return ""
		}
		out.SSLFrom = at("ssl")
		out.SSLCAFile, out.SSLCAFileFrom = s.SSLCAFile, at("ssl_ca_file")
		out.PasswordEncryption, out.PasswordEncryptionFrom = s.PasswordEncryption, at("password_encryption")
	}
	if f := lf.live; f != nil {
		from := "the server " + f.Host
		if _, ok := f.Settings["ssl"]; ok {
			out.SSLFrom = from
		}
		if v, ok := f.Settings["ssl_ca_file"]; ok {
			out.SSLCAFile, out.SSLCAFileFrom = v, from
		} else if s == nil {
			out.SSLCAFileUnknown = true
		}
		if v, ok := f.Settings["password_encryption"]; ok {
			out.PasswordEncryption, out.PasswordEncryptionFrom = v, from
		}
	}
	if lf.given["server-ssl"] {
		out.SSLFrom = "--server-ssl"
	}
	return out
}

// krbCaseinsUsers is the server's krb_caseins_users, when --dsn or the
// files read it.
func (lf *loadFlags) krbCaseinsUsers() (v, ok bool) {
	if lf.live != nil {
		if s, found := lf.live.Settings["krb_caseins_users"]; found {
			return parsePGBool(s)
		}
	}
	if lf.server != nil {
		return lf.server.KrbCaseinsUsers, true
	}
	return false, false
}

// serverListen sets l to the server's listen_addresses when --listen was
// not given and --pgdata, --config-file or --dsn read it.
func (lf *loadFlags) serverListen(l *listenFlag) error {
	if l.text != nil || lf.listenAddresses == nil {
		return nil
	}
	lis, err := audit.ParseListen(*lf.listenAddresses)
	if err != nil {
		return fmt.Errorf("the server's listen_addresses %q: %v", *lf.listenAddresses, err)
	}
	l.listen = lis
	return nil
}

// path is the main pg_hba.conf: -f, else the hba_file of --pgdata or
// --config-file, else $PGDATA/pg_hba.conf, else ./pg_hba.conf.
func (lf *loadFlags) path() string {
	if lf.file != "" {
		return lf.file
	}
	if lf.lines != "" {
		return lf.lines
	}
	if d := os.Getenv("PGDATA"); d != "" {
		return filepath.Join(d, "pg_hba.conf")
	}
	return "pg_hba.conf"
}

// parsePGBool accepts PostgreSQL's spellings of a boolean setting.
func parsePGBool(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "true", "yes", "1":
		return true, true
	case "off", "false", "no", "0":
		return false, true
	}
	return false, false
}

// parsePrefixList parses "127.0.0.1/8,::1/128". An empty list is no
// interfaces at all.
func parsePrefixList(s string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address with a prefix length (like 127.0.0.1/8)", f)
		}
		out = append(out, p)
	}
	return out, nil
}
