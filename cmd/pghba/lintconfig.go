package main

// This file is lint's configuration file, .pghba.json: where it is found
// (searched upward from each linted file to the repository root), how it is
// read (every key checked, errors placed at FILE:LINE:COL) and the settings
// it and the flags give one file (flags win).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

// lintConfigName is the configuration file's name.
const lintConfigName = ".pghba.json"

// maxLintConfig is the largest .pghba.json read.
const maxLintConfig = 1 << 20

// failNone is the fail-on level "none": no finding fails the run.
const failNone = audit.SeverityError + 1

// lintCheck is one check as lint documents it: its id, default severity,
// and its descriptions for SARIF rules and the help text.
type lintCheck struct {
	id    audit.CheckID
	name  string // SARIF's rule name: PascalCase, not the id
	sev   audit.Severity
	short string // one line
	full  string // a sentence or two
}

// lintChecks are every check of audit.Lint, in the order of the Check*
// constants (the order findings on one line come in).
var lintChecks = []lintCheck{
	{audit.CheckLoadError, "FileDoesNotLoad", audit.SeverityError, "The line or file does not load.",
		"A line, an included file or the whole file does not load; the message is PostgreSQL's. The server refuses to start, or to reload, with it."},
	{audit.CheckNeverMatches, "RuleNeverMatches", audit.SeverityWarning, "The rule can never match in this server.",
		"The rule loads with PostgreSQL's warning and can never match: hostssl with ssl off or without SSL support, hostgssenc without GSSAPI."},
	{audit.CheckDuplicate, "DuplicateRule", audit.SeverityWarning, "An earlier rule has the same columns.",
		"An earlier rule has the same type, database, user and address columns, so this rule can never match."},
	{audit.CheckUnreachable, "ShadowedRule", audit.SeverityWarning, "Earlier rules match every connection this rule matches.",
		"Earlier rules, one or several together, match every connection this rule matches, in any environment: the rule can never match."},
	{audit.CheckNoEffect, "RuleWithoutEffect", audit.SeverityInfo, "Removing the rule changes no decision.",
		"The rule is reachable, but every connection it decides would be decided by later rules with the same method and options: removing it changes no decision. The finding names those rules."},
	{audit.CheckUnreachableListen, "UnreachableUnderListenAddresses", audit.SeverityInfo, "No client the rule admits can connect under listen_addresses.",
		"With the server's listen_addresses (--listen, or listen in .pghba.json), no client that the rule's address admits can connect."},
	{audit.CheckTrustRemote, "TrustForRemoteClients", audit.SeverityWarning, "trust for clients other than loopback ones.",
		"Method trust on a rule whose address admits a client other than a loopback one: anyone there logs in without a password."},
	{audit.CheckPasswordCleartext, "CleartextPassword", audit.SeverityWarning, "password on a line admitting unencrypted TCP.",
		"Method password on a rule that admits unencrypted TCP connections from the network: the password crosses the network in clear text."},
	{audit.CheckMD5, "DeprecatedMd5", audit.SeverityWarning, "md5 is deprecated; use scram-sha-256.",
		"Method md5 is deprecated in PostgreSQL 18; scram-sha-256 is its replacement."},
	{audit.CheckWideOpen, "WideOpenRule", audit.SeverityWarning, "All databases and users from a very wide address range.",
		"Database all and user all, a method other than reject, and the address all or a range wider than IPv4 /8 or IPv6 /32."},
	{audit.CheckReplicationWide, "WideReplicationRule", audit.SeverityWarning, "Replication from a wide address range.",
		"The replication keyword, a method other than reject, and the address all or a range wider than IPv4 /16 or IPv6 /48."},
	{audit.CheckIdentTCP, "IdentOverTcp", audit.SeverityWarning, "ident over TCP.",
		"Method ident on a host rule: the server believes whatever the ident daemon of the client machine says."},
	{audit.CheckHostName, "HostNameAddress", audit.SeverityInfo, "A host-name address (trusts DNS).",
		"The address is a host name or .suffix: access rests on reverse DNS of the client address, confirmed by a forward lookup."},
	{audit.CheckMissingMap, "MissingIdentMap", audit.SeverityWarning, "map= names a map the ident file lacks.",
		"With --ident, map= names a user name map that the ident file does not define: every login through the rule fails."},
	{audit.CheckPasswordEncryption, "ScramWithMd5PasswordEncryption", audit.SeverityWarning, "scram-sha-256 while the server stores md5 passwords.",
		"With --pgdata, --config-file or --dsn: a scram-sha-256 rule while the server has password_encryption = md5; passwords set from then on are stored as MD5, and scram-sha-256 refuses MD5 secrets."},
	{audit.CheckNoSSLCA, "ClientCertificateWithoutCA", audit.SeverityWarning, "Client certificates without ssl_ca_file.",
		"With --pgdata, --config-file or --dsn: a cert rule or a clientcert= option while the server has no ssl_ca_file; the line loads, and every connection it matches fails."},
	{audit.CheckUnusedSuppression, "UnusedSuppression", audit.SeverityInfo, "A suppression comment waives nothing.",
		"A # pghba: ignore= or ignore-file= comment names a check that has no finding on its rule (or in its file): the problem was fixed, or the comment is not on the rule's line or directly above it."},
	{audit.CheckBadSuppression, "MalformedSuppression", audit.SeverityWarning, "A pghba: comment is not a valid suppression.",
		"A comment starting with pghba: is not # pghba: ignore=ID[,ID...] [-- reason] or ignore-file=ID[,ID...], or it names load-error, which cannot be waived."},
	{audit.CheckIncomplete, "IncompleteAnalysis", audit.SeverityInfo, "The file was too fragmented for the full analysis.",
		"The file is too fragmented for the analysis of rules shadowed by several rules together within its work limit; the rules named were only compared with each earlier rule alone."},
}

// lintCheckIndex returns the index of the check id in lintChecks, or -1.
func lintCheckIndex(id string) int {
	for i, c := range lintChecks {
		if string(c.id) == id {
			return i
		}
	}
	return -1
}

// lintCheckIDs lists the valid check ids, comma-separated, for errors.
func lintCheckIDs() string {
	ids := make([]string, len(lintChecks))
	for i, c := range lintChecks {
		ids[i] = string(c.id)
	}
	return strings.Join(ids, ", ")
}

// checkIDs checks a list of check ids (what names it, for the error); an
// unknown id is an error listing the valid ones.
func checkIDs(what string, ids []string) error {
	for _, id := range ids {
		if lintCheckIndex(id) < 0 {
			return fmt.Errorf("%s: unknown check %q (valid: %s)", what, id, lintCheckIDs())
		}
		if id == string(audit.CheckLoadError) && strings.Contains(what, "disable") {
			return fmt.Errorf("%s: %s cannot be disabled: a file that does not load is not linted", what, id)
		}
	}
	return nil
}

// checkSeverityID checks the id of a severity override: a valid id whose
// severity may change (load-error's may not: a file that does not load
// must not pass).
func checkSeverityID(what, id string) error {
	if err := checkIDs(what, []string{id}); err != nil {
		return err
	}
	if id == string(audit.CheckLoadError) {
		return fmt.Errorf("%s: the severity of %s cannot be changed", what, id)
	}
	return nil
}

// parseSeverityName reads error, warning or info.
func parseSeverityName(s string) (audit.Severity, bool) {
	switch s {
	case "error":
		return audit.SeverityError, true
	case "warning":
		return audit.SeverityWarning, true
	case "info":
		return audit.SeverityInfo, true
	}
	return 0, false
}

// parseFailOn reads a fail-on level: a severity or none.
func parseFailOn(s string) (audit.Severity, bool) {
	if s == "none" {
		return failNone, true
	}
	return parseSeverityName(s)
}

// lintConfig is one .pghba.json as read. Pointers and nil slices are keys
// the file does not have.
type lintConfig struct {
	path string // absolute
	name string // as errors name it
	dir  string // its directory: relative names in it are relative to dir

	pgVersion, minor *int
	serverSSL        *bool
	listen           *string
	missing          *string
	roles, hosts     string // absolute; "" when absent

	enable, disable []string // nil when absent
	severity        map[string]audit.Severity
	failOn          *audit.Severity
	exclude         []string
}

// configKeys are the keys of .pghba.json, for the error about an unknown
// one.
var configKeys = []string{"pg-version", "minor", "server-ssl", "listen", "missing", "roles", "hosts",
	"enable", "disable", "severity", "fail-on", "exclude"}

// readLintConfig reads and checks the configuration file name. Its errors
// are FILE:LINE:COL: message, the place that of the offending key (or of
// the JSON syntax error).
func readLintConfig(name string) (*lintConfig, error) {
	abs := absPath(name)
	data, err := readFileLimited(abs, maxLintConfig)
	if err != nil {
		return nil, err
	}
	c := &lintConfig{path: abs, name: name, dir: filepath.Dir(abs)}
	at := func(off int64, format string, args ...any) error {
		line, col := lineCol(data, off)
		return fmt.Errorf("%s:%d:%d: %s", name, line, col, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return at(se.Offset, "invalid JSON: %s", se.Error())
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return at(int64(len(data)), "invalid JSON: unexpected end of file")
		}
		return at(dec.InputOffset(), "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, at(0, "want a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		keyOff := skipSpace(data, dec.InputOffset(), " \t\r\n,")
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		if seen[key] {
			return nil, at(keyOff, "%q given twice", key)
		}
		seen[key] = true
		if err := c.set(key, raw); err != nil {
			return nil, at(keyOff, "%s", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, at(dec.InputOffset(), "data after the JSON object")
	}
	return c, nil
}

// set sets the key from its JSON value.
func (c *lintConfig) set(key string, raw json.RawMessage) error {
	str := func() (string, error) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%q: want a string", key)
		}
		return s, nil
	}
	list := func() ([]string, error) {
		var l []string
		if err := json.Unmarshal(raw, &l); err != nil || l == nil {
			return nil, fmt.Errorf("%q: want a list of strings", key)
		}
		return l, nil
	}
	num := func() (*int, error) {
		var n int
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("%q: want an integer", key)
		}
		return &n, nil
	}
	var err error
	switch key {
	case "pg-version":
		if c.pgVersion, err = num(); err == nil && (*c.pgVersion < hba.MinVersion || *c.pgVersion > hba.MaxVersion) {
			err = fmt.Errorf("%q: %d: want %d to %d", key, *c.pgVersion, hba.MinVersion, hba.MaxVersion)
		}
	case "minor":
		if c.minor, err = num(); err == nil && *c.minor < 0 {
			err = fmt.Errorf("%q: %d: want 0 or more", key, *c.minor)
		}
	case "server-ssl":
		return c.setServerSSL(key, raw)
	case "listen":
		var s string
		if s, err = str(); err == nil {
			if _, perr := audit.ParseListen(s); perr != nil {
				return fmt.Errorf("%q: %s", key, perr)
			}
			c.listen = &s
		}
	case "missing":
		var s string
		if s, err = str(); err == nil {
			if _, perr := hba.ParseMissing(s); perr != nil {
				return fmt.Errorf("%q: %s", key, perr)
			}
			c.missing = &s
		}
	case "roles", "hosts":
		var s string
		if s, err = str(); err == nil {
			if s == "" {
				return fmt.Errorf("%q: want a file name", key)
			}
			if !filepath.IsAbs(s) {
				s = filepath.Join(c.dir, filepath.FromSlash(s))
			}
			if key == "roles" {
				c.roles = s
			} else {
				c.hosts = s
			}
		}
	case "enable", "disable":
		var l []string
		if l, err = list(); err == nil {
			if err = checkIDs(strconv.Quote(key), l); err == nil {
				if key == "enable" {
					c.enable = l
				} else {
					c.disable = l
				}
			}
		}
	case "severity":
		return c.setSeverity(key, raw)
	case "fail-on":
		var s string
		if s, err = str(); err == nil {
			v, ok := parseFailOn(s)
			if !ok {
				return fmt.Errorf("%q: %q: want \"error\", \"warning\", \"info\" or \"none\"", key, s)
			}
			c.failOn = &v
		}
	case "exclude":
		var l []string
		if l, err = list(); err == nil {
			for _, g := range l {
				if _, gerr := globRegexp(g); gerr != nil {
					return fmt.Errorf("%q: %s", key, gerr)
				}
			}
			c.exclude = l
		}
	default:
		return fmt.Errorf("unknown key %q (valid: %s)", key, strings.Join(configKeys, ", "))
	}
	return err
}

// setServerSSL sets "server-ssl": "on" or "off".
func (c *lintConfig) setServerSSL(key string, raw json.RawMessage) error {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return fmt.Errorf("%q: want \"on\" or \"off\"", key)
	}
	v, ok := map[string]bool{"on": true, "off": false}[s]
	if !ok {
		return fmt.Errorf("%q: %q: want \"on\" or \"off\"", key, s)
	}
	c.serverSSL = &v
	return nil
}

// setSeverity sets "severity": an object from check id to a level.
func (c *lintConfig) setSeverity(key string, raw json.RawMessage) error {
	var m map[string]string
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return fmt.Errorf("%q: want an object from check id to \"error\", \"warning\" or \"info\"", key)
	}
	c.severity = map[string]audit.Severity{}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := checkSeverityID(strconv.Quote(key), id); err != nil {
			return err
		}
		s, ok := parseSeverityName(m[id])
		if !ok {
			return fmt.Errorf("%q: %s: %q: want \"error\", \"warning\" or \"info\"", key, id, m[id])
		}
		c.severity[id] = s
	}
	return nil
}

// lineCol is the 1-based line and byte column of the offset off in data.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = 1 + len(before) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}

// skipSpace returns the offset of the first byte at or after off that is
// not in set.
func skipSpace(data []byte, off int64, set string) int64 {
	for off < int64(len(data)) && strings.IndexByte(set, data[off]) >= 0 {
		off++
	}
	return off
}

// repoRoot returns the repository root above dir (the nearest directory,
// dir included, holding .git), or "" when there is none.
func repoRoot(dir string) string {
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

// configFinder finds and reads the .pghba.json of each linted file, once a
// directory.
type configFinder struct {
	byDir map[string]*lintConfig // nil value: none found
	errs  map[string]error
}

// find returns the configuration of the file at the absolute path file:
// the nearest .pghba.json in its directory or above, up to and including
// the repository root (the directory holding .git; without one, up to the
// file system root). nil when there is none.
func (cf *configFinder) find(file string) (*lintConfig, error) {
	if cf.byDir == nil {
		cf.byDir, cf.errs = map[string]*lintConfig{}, map[string]error{}
	}
	var visited []string
	dir := filepath.Dir(file)
	var found *lintConfig
	var ferr error
	for {
		if c, ok := cf.byDir[dir]; ok {
			found, ferr = c, cf.errs[dir]
			break
		}
		visited = append(visited, dir)
		name := filepath.Join(dir, lintConfigName)
		if fi, err := os.Stat(name); err == nil || errors.Is(err, os.ErrPermission) {
			if err == nil && fi.IsDir() {
				err = fmt.Errorf("%s: is a directory", name)
			}
			if err == nil {
				if wd, werr := os.Getwd(); werr == nil {
					name = relOrAbs(wd, name)
				}
				found, ferr = readLintConfig(name)
			} else {
				ferr = err
			}
			break
		}
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			break
		}
		dir = up
	}
	for _, d := range visited {
		cf.byDir[d], cf.errs[d] = found, ferr
	}
	return found, ferr
}

// lintSettings are what lints one file: the loading facts, the checks
// and their severities, and the threshold of the exit status.
type lintSettings struct {
	config   *lintConfig // nil: none
	parser   *hba.Parser
	opts     audit.LintOptions
	enabled  map[string]bool
	severity map[string]audit.Severity // overrides of the default severity
	failOn   audit.Severity
}

// lintFlags are lint's own flags that .pghba.json can also set.
type lintFlags struct {
	listen   listenFlag
	enable   []string // nil: not given
	disable  []string
	severity map[string]audit.Severity
	failOn   audit.Severity // 0: not given
}

// settings combines the configuration c (nil: none) with the flags, which
// override it, for one file. Its errors are about c's side inputs, or the
// loading facts the combination gives.
func (inv *invocation) lintSettings(c *lintConfig, lf *lintFlags) (*lintSettings, error) {
	load := inv.load // a copy
	listen := lf.listen.listen
	if c != nil {
		given := inv.given
		if c.pgVersion != nil && !given["pg-version"] {
			load.version = *c.pgVersion
		}
		if c.minor != nil && !given["minor"] {
			load.minor = *c.minor
		}
		if c.serverSSL != nil && !given["server-ssl"] {
			load.serverSSL = *c.serverSSL
		}
		if c.missing != nil && !given["missing"] {
			load.missing = *c.missing
		}
		if c.listen != nil && listen == nil {
			listen, _ = audit.ParseListen(*c.listen) // checked when read
		}
		load.rolesFile = c.roles
		if c.hosts != "" {
			load.opts |= withHosts
			load.hostsFile = c.hosts
		}
		if err := load.validate(given); err != nil {
			return nil, fmt.Errorf("%s: %s", c.name, err)
		}
	}
	if listen == nil && lf.listen.text == nil {
		// Neither --listen nor the configuration file: the server's own
		// listen_addresses, when --pgdata, --config-file or --dsn read it.
		var server listenFlag
		if err := load.serverListen(&server); err != nil {
			return nil, err
		}
		listen = server.listen
	}
	p, err := load.parser()
	if err != nil {
		if c == nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %s", c.name, strings.Replace(err.Error(), "--", "", 1))
	}
	s := &lintSettings{config: c, parser: p, failOn: audit.SeverityWarning, enabled: map[string]bool{}, severity: map[string]audit.Severity{}}
	s.opts = audit.LintOptions{Listen: listen,
		Settings: load.settings()}
	// --enable or --disable replaces both lists of the file: a check the
	// command line enables is not disabled by the file.
	enable, disable := lf.enable, lf.disable
	if c != nil {
		if lf.enable == nil && lf.disable == nil {
			enable, disable = c.enable, c.disable
		}
		for id, sev := range c.severity {
			s.severity[id] = sev
		}
		if c.failOn != nil {
			s.failOn = *c.failOn
		}
	}
	if enable == nil {
		for _, ch := range lintChecks {
			s.enabled[string(ch.id)] = true
		}
	} else {
		for _, id := range enable {
			s.enabled[id] = true
		}
		s.enabled[string(audit.CheckLoadError)] = true
	}
	for _, id := range disable {
		delete(s.enabled, id)
	}
	for id, sev := range lf.severity {
		s.severity[id] = sev
	}
	if lf.failOn != 0 {
		s.failOn = lf.failOn
	}
	return s, nil
}

// excluded reports whether the configuration excludes the absolute path
// file: one of its globs matches the path relative to the configuration's
// directory.
func (c *lintConfig) excluded(file string) bool {
	if c == nil || len(c.exclude) == 0 {
		return false
	}
	rel, err := filepath.Rel(c.dir, file)
	if err != nil || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	return matchGlobs(c.exclude, filepath.ToSlash(rel))
}
