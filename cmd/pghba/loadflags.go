package main

// This file is the loading flags: the main file, the server that reads it
// and the world outside the files, as every command takes them. They are
// defined once (register), checked once (validate, from parse) and turned
// into an hba.Parser once (parser). A new loading flag is a field of
// loadFlags, a line in register, its checks in validate and its use in
// parser, and nothing else; TestUsageNamesEveryFlag then asks for a line
// about it in the help of each command that takes it.

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/pghba/pghba/hba"
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

	features hba.Features // what missing leaves, set by validate
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
// reading the side inputs they name (--roles, --hosts). Its errors are
// about those inputs, not usage.
func (lf *loadFlags) parser() (*hba.Parser, error) {
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

// path is the main pg_hba.conf: -f, else $PGDATA/pg_hba.conf, else
// ./pg_hba.conf.
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
