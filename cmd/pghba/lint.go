package main

// This file is pghba lint: load errors, rules that can never match and
// risky settings, one finding a line. It also holds --listen, which
// exposure takes too.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

const lintUsage = `usage: pghba lint [flags] [FILE|DIR...]

Lint reads pg_hba.conf files as a PostgreSQL server would and reports, one
finding per line, as
  file:line: severity: check: message
every load error, every rule that can never match (with the earlier rules
that decide its connections first and an example connection) and settings
that expose the server. Each FILE is linted; each DIR is walked for files
named pg_hba*.conf (see --include). Without FILE, -f FILE, else
$PGDATA/pg_hba.conf, else ./pg_hba.conf, and files are named relative to its
directory; with FILEs, relative to the working directory. The checks (see
docs/lint.md):

  load-error          error    the line or file does not load (PostgreSQL's text)
  never-matches       warning  hostssl with ssl off, hostgssenc without GSSAPI
  duplicate           warning  an earlier rule has the same type, database,
                               user and address
  unreachable         warning  earlier rules, one or several together, match
                               every connection the rule matches
  unreachable-listen  info     no client the rule admits can connect under
                               --listen
  trust-remote        warning  trust for clients other than loopback ones
  password-cleartext  warning  password on a line admitting unencrypted TCP
  md5                 warning  md5 is deprecated; use scram-sha-256
  wide-open           warning  all databases and users from all addresses or a
                               range wider than IPv4 /8, IPv6 /32
  replication-wide    warning  replication from all addresses or a range wider
                               than IPv4 /16, IPv6 /48
  ident-tcp           warning  ident over TCP
  host-name           info     a host-name address (trusts DNS)
  missing-map         warning  map= names a map the --ident file lacks
  incomplete          info     the file was too fragmented for the analysis of
                               rules shadowed by several rules together
  unused-suppression  info     a # pghba: ignore= comment waives nothing
  bad-suppression     warning  a # pghba: comment that is not a suppression

A comment "# pghba: ignore=ID[,ID...] [-- reason]" at the end of a rule's
line or on a comment line directly above it waives those checks for the
rule; "# pghba: ignore-file=ID[,ID...]" for the file. Suppressed findings
are left out of every format but json and sarif, and never fail the run.

Each file is linted with the nearest .pghba.json in its directory or above,
up to the repository root (docs/lint.md lists its keys); flags override it.

Flags:
  -f FILE                  the pg_hba.conf when no FILE is given
  --lines FILE.json        in place of -f: the pg_hba.conf as a JSON array of lines
                           or {"segments": [{"name": N, "lines": [...]}, ...]};
                           places are NAME[INDEX]; includes and @file are refused
  --format FORMAT          text (default), json, sarif (SARIF 2.1.0, one run
                           for every file), github (workflow commands),
                           checkstyle or junit (XML)
  --json                   --format json: {"findings":[{"file":...,"line":N,
                           "severity":...,"check":...,"message":...,
                           "related":[{"file":...,"line":N}],"witness":{...}}]};
                           the witness is a connection in the form of pghba
                           check --batch lines; related and witness are left
                           out when there are none, and included_from lists
                           the include directives
  --listen ADDRS           the server's listen_addresses: * (everything),
                           localhost, 0.0.0.0, ::, addresses and host names,
                           comma-separated; '' for none. With only loopback
                           addresses, rules that admit no loopback client are
                           reported as unreachable-listen and findings about
                           remote clients are dropped
  --ident FILE             a pg_ident.conf: report map= names it lacks
  --config FILE            use this configuration file for every file
  --no-config              use no configuration file
  --enable IDS             report only these checks (comma-separated;
                           load-error always)
  --disable IDS            do not report these checks
  --severity ID=LEVEL,...  report a check as error, warning or info
  --fail-on LEVEL          exit 1 for a finding of this severity or worse:
                           error, warning (default), info or none
  --include GLOBS          the files a directory walk lints (comma-separated,
                           relative to the directory; default pg_hba*.conf)
  --new-from-rev REV       report only findings on lines that git diff REV
                           adds or changes (files git does not track: all)
  --path-prefix PREFIX     SARIF and github: name files PREFIX/ and their path
                           from the working directory (default: their path
                           from the repository root)
  --pgdata DIR, --config-file FILE, --dsn URL
                           read the server's own configuration (see pghba help
                           check): its listen_addresses stands for --listen, and
                           ssl, ssl_ca_file and password_encryption enable the
                           checks no-ssl-ca and password-encryption
  --pg-version N, --minor N, --server-ssl on|off, --missing LIST,
  --oauth-validators LIST, --db-user-namespace
                           as for pghba check

Exit status: the worst of the files: 0 when there is no finding at the
--fail-on level or worse, 1 when there is (a -f or --ident file that does
not load, even one that cannot be read, is reported as load-error findings);
2 for bad usage, a bad configuration file, a FILE or DIR that cannot be read
(reported, the others still linted), a failed write to standard output or
standard error, or an internal error.
`

// listenFlag is --listen, the server's listen_addresses, of lint and
// exposure.
type listenFlag struct {
	text   *string       // nil without --listen
	listen *audit.Listen // what text says, after check; nil without --listen
}

func (l *listenFlag) register(fs *flag.FlagSet) {
	fs.Func("listen", "", func(s string) error {
		l.text = &s
		return nil
	})
}

// check parses the value given; the error is a usageError.
func (l *listenFlag) check() error {
	if l.text == nil {
		return nil
	}
	lis, err := audit.ParseListen(*l.text)
	if err != nil {
		return usageError("--listen: " + err.Error())
	}
	l.listen = lis
	return nil
}

type lintJSONCase struct {
	Type        string `json:"type"`
	Addr        string `json:"addr,omitempty"`
	SSL         bool   `json:"ssl,omitempty"`
	GSS         bool   `json:"gss,omitempty"`
	DB          string `json:"db,omitempty"`
	User        string `json:"user"`
	Replication string `json:"replication,omitempty"`
}

type lintJSONFinding struct {
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Column   int           `json:"column,omitempty"`
	Severity string        `json:"severity"`
	Check    string        `json:"check"`
	Message  string        `json:"message"`
	Related  []filePos     `json:"related,omitempty"`
	Included []filePos     `json:"included_from,omitempty"`
	Witness  *lintJSONCase `json:"witness,omitempty"`
	// Suppressions are the waivers of the finding (# pghba: ignore=
	// comments); a suppressed finding is in the JSON and SARIF output
	// only.
	Suppressions []lintSuppression `json:"suppressions,omitempty"`
	// --lines: segment and index replace file and line.
	Segment string `json:"-"`
	Index   int    `json:"-"`
}

func lintCase(c *hba.Conn) *lintJSONCase {
	if c == nil {
		return nil
	}
	j := &lintJSONCase{Type: "host", SSL: c.SSL, GSS: c.GSS, DB: c.Database, User: c.User, Replication: c.Replication.String()}
	if c.Local {
		j.Type = "local"
	} else {
		j.Addr = c.Addr.String()
	}
	return j
}

// lintFormats are the values of --format.
var lintFormats = []string{"text", "json", "sarif", "github", "checkstyle", "junit"}

// listFlag is a comma-separated flag value; nil until given.
func listFlag(fs *flag.FlagSet, name string, dst *[]string) {
	fs.Func(name, "", func(s string) error {
		*dst = []string{}
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				*dst = append(*dst, f)
			}
		}
		return nil
	})
}

// lintArgs are the flags of pghba lint beyond the loading flags.
type lintArgs struct {
	asJSON, noConfig                                                          bool
	format, identFile, configFile, severities, failOn, newFromRev, pathPrefix string
	include                                                                   []string
	lf                                                                        lintFlags
}

func (a *lintArgs) register(fs *flag.FlagSet) {
	fs.BoolVar(&a.asJSON, "json", false, "")
	fs.StringVar(&a.format, "format", "text", "")
	a.lf.listen.register(fs)
	fs.StringVar(&a.identFile, "ident", "", "")
	fs.StringVar(&a.configFile, "config", "", "")
	fs.BoolVar(&a.noConfig, "no-config", false, "")
	listFlag(fs, "enable", &a.lf.enable)
	listFlag(fs, "disable", &a.lf.disable)
	fs.StringVar(&a.severities, "severity", "", "")
	fs.StringVar(&a.failOn, "fail-on", "", "")
	listFlag(fs, "include", &a.include)
	fs.StringVar(&a.newFromRev, "new-from-rev", "", "")
	fs.StringVar(&a.pathPrefix, "path-prefix", "", "")
}

// validate checks the lint flags against each other once they are parsed.
func (a *lintArgs) validate(inv *invocation) error {
	if err := a.lf.listen.check(); err != nil {
		return err
	}
	if a.asJSON {
		if inv.given["format"] && a.format != "json" {
			return badUsage("--json and --format %s", a.format)
		}
		a.format = "json"
	}
	if !slices.Contains(lintFormats, a.format) {
		return badUsage("--format %q: want one of %s", a.format, strings.Join(lintFormats, ", "))
	}
	if inv.given["config"] && a.noConfig {
		return badUsage("--config and --no-config")
	}
	if inv.given["f"] && len(inv.args) > 0 {
		return badUsage("-f and FILE arguments: give one or the other")
	}
	if err := checkIDs("--enable", a.lf.enable); err != nil {
		return usageError(err.Error())
	}
	if err := checkIDs("--disable", a.lf.disable); err != nil {
		return usageError(err.Error())
	}
	if inv.given["severity"] {
		if err := a.parseSeverities(); err != nil {
			return err
		}
	}
	if inv.given["fail-on"] {
		v, ok := parseFailOn(a.failOn)
		if !ok {
			return badUsage("--fail-on %q: want error, warning, info or none", a.failOn)
		}
		a.lf.failOn = v
	}
	if inv.given["include"] {
		for _, g := range a.include {
			if _, err := globRegexp(g); err != nil {
				return usageError("--include: " + err.Error())
			}
		}
		if len(a.include) == 0 {
			return badUsage("--include: no glob given")
		}
	} else {
		a.include = defaultLintGlobs
	}
	if inv.given["new-from-rev"] && a.newFromRev == "" {
		return badUsage("--new-from-rev: no revision given")
	}
	return nil
}

// parseSeverities reads --severity ID=LEVEL,....
func (a *lintArgs) parseSeverities() error {
	a.lf.severity = map[string]audit.Severity{}
	for _, f := range strings.Split(a.severities, ",") {
		id, level, ok := strings.Cut(strings.TrimSpace(f), "=")
		if err := checkSeverityID("--severity", id); err != nil {
			return usageError(err.Error())
		}
		sev, valid := parseSeverityName(level)
		if !ok || !valid {
			return badUsage("--severity %s: want ID=error, ID=warning or ID=info", f)
		}
		a.lf.severity[id] = sev
	}
	return nil
}

// lintSession is one run of pghba lint over its files.
type lintSession struct {
	inv     *invocation
	a       *lintArgs
	fixed   *lintConfig // --config
	changes *changedLines
	legacy  bool // -f or the default file: named from its directory
	finder  configFinder
	rep     *lintReport
	status  int
}

func (s *lintSession) worst(st int) { s.status = max(s.status, st) }

func runLint(inv *invocation, args []string) int {
	var a lintArgs
	a.register(inv.flags)
	if _, err := inv.start(args, math.MaxInt, func() error { return a.validate(inv) }); err != nil {
		return inv.exit(err)
	}
	s := &lintSession{inv: inv, a: &a, legacy: len(inv.args) == 0}
	if a.configFile != "" {
		c, err := readLintConfig(a.configFile)
		if errors.Is(err, iofs.ErrNotExist) {
			err = fmt.Errorf("--config: %w", err)
		}
		if err != nil {
			return inv.exit(err)
		}
		s.fixed = c
	}
	cwd, _ := os.Getwd()
	if a.newFromRev != "" {
		c, err := gitChanges(cwd, a.newFromRev)
		if err != nil {
			return inv.exit(err)
		}
		s.changes = c
	}
	var targets []lintTarget
	if s.legacy {
		targets = []lintTarget{{path: inv.load.path(), abs: absPath(inv.load.path())}}
	} else {
		var errs []error
		targets, errs = lintTargets(inv.args, a.include)
		for _, err := range errs {
			fmt.Fprintf(inv.stderr, "pghba lint: %s\n", err)
			s.worst(exitUsage)
		}
	}
	s.rep = &lintReport{format: a.format, pathPrefix: a.pathPrefix, cwd: cwd}
	s.rep.root = repoRoot(cwd)
	if s.rep.root == "" {
		s.rep.root = cwd
	}
	for _, t := range targets {
		s.lintOne(t)
	}
	s.rep.write(inv.stdout)
	return s.status
}

// lintOne lints one target file with its own configuration.
func (s *lintSession) lintOne(t lintTarget) {
	inv := s.inv
	cfg := s.fixed
	if cfg == nil && !s.a.noConfig {
		c, err := s.finder.find(t.abs)
		if err != nil {
			fmt.Fprintf(inv.stderr, "pghba lint: %s\n", err)
			s.worst(exitUsage)
			return
		}
		cfg = c
	}
	if !s.legacy && cfg.excluded(t.abs) {
		return
	}
	settings, err := inv.lintSettings(cfg, &s.a.lf)
	if err != nil {
		fmt.Fprintf(inv.stderr, "pghba lint: %s\n", err)
		s.worst(exitUsage)
		return
	}
	lr := lintFindings(settings.parser, t.path, s.a.identFile, settings.opts)
	if lr.unreadable && !s.legacy {
		s.worst(exitUsage)
	}
	nm := s.rep.namerFor(lr.namer, s.legacy)
	if lr.supErr != nil {
		s.unknownSuppressions(lr, nm)
	}
	results := lintPolicy(lr, settings, s.changes, nm)
	for _, r := range results {
		if r.fails {
			s.worst(1)
		}
	}
	s.rep.files = append(s.rep.files, nm.place(hba.Position{Filename: absPath(t.path)}))
	s.rep.results = append(s.rep.results, results...)
}

// unknownSuppressions reports each unknown check id of a suppression
// comment, exit 2; the file is still linted without that suppression.
func (s *lintSession) unknownSuppressions(lr *lintRun, nm lintNamer) {
	errs := []error{lr.supErr}
	if j, ok := lr.supErr.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, err := range errs {
		var u *audit.UnknownCheckError
		if errors.As(err, &u) {
			p := nm.place(u.Pos)
			fmt.Fprintf(s.inv.stderr, "pghba lint: %s:%d:%d: unknown check %q in suppression (valid: %s)\n",
				p.file, p.line, charColumn(lr.raw[hba.Position{Filename: u.Pos.Filename, Line: u.Pos.Line}], p.col), u.Check, lintCheckIDs())
		}
	}
	s.worst(exitUsage)
}

// lintRun is what lintFindings found in one file.
type lintRun struct {
	findings   []audit.Finding
	namer      namer                   // for the main file's directory
	raw        map[hba.Position]string // the logical line at each (Filename, Line); a comment line's comment
	unreadable bool                    // the main file could not be read at all
	// file is the loaded file (nil when it could not be read), sups its
	// suppression comments, supErr their unknown check ids.
	file   *hba.File
	sups   []audit.Suppression
	supErr error
}

// lintFindings lints the main file path, read with p, and the --ident file
// when identFile is not empty. A file that does not load, even one that
// cannot be read, gives load-error findings: the server would not start
// with it, or would run without its maps.
func lintFindings(p *hba.Parser, path, identFile string, opts audit.LintOptions) *lintRun {
	var findings []audit.Finding
	loadError := func(errs []*hba.Error) {
		for _, e := range errs {
			findings = append(findings, audit.Finding{Pos: e.Pos, Severity: audit.SeverityError, Check: audit.CheckLoadError, Message: e.Msg})
		}
	}
	f, n, err := readMain(p, path)
	lr := &lintRun{namer: n, raw: map[hba.Position]string{}, unreadable: err != nil}
	if err != nil {
		loadError(hbaErrors(err, path))
	}
	if identFile != "" {
		var errs []*hba.Error
		opts.Ident, errs = lintIdent(p, identFile)
		loadError(errs)
	}
	if f != nil {
		findings = append(audit.Lint(f, opts), findings...)
		lr.file = f
		lr.sups, lr.supErr = audit.Suppressions(f, func(id audit.CheckID) bool { return lintCheckIndex(string(id)) >= 0 })
		for _, l := range f.Lines {
			lr.raw[hba.Position{Filename: l.Pos.Filename, Line: l.Pos.Line}] = l.Raw
		}
		for _, c := range f.Comments { // comment lines: what a suppression finding shows and is fingerprinted by
			k := hba.Position{Filename: c.Pos.Filename, Line: c.Pos.Line}
			if _, ok := lr.raw[k]; !ok && c.Pos.Column == 1 {
				lr.raw[k] = c.Text
			}
		}
	}
	lr.findings = findings
	return lr
}

// lintIdent loads the pg_ident.conf name: its maps, or the errors that
// stopped it.
func lintIdent(p *hba.Parser, name string) (*hba.IdentMaps, []*hba.Error) {
	idf, err := p.ParseIdentFile(name)
	switch {
	case err != nil:
		return nil, hbaErrors(err, name)
	case len(idf.Errors) > 0:
		return nil, idf.Errors
	}
	m, err := p.CompileIdent(idf)
	if err != nil {
		return nil, hbaErrors(err, name)
	}
	return m, nil
}

// writeLintText prints the findings for people, one a line, with the
// related rules and include directives on indented lines:
//
//	pg_hba.conf:4: warning: unreachable: ...
//		see pg_hba.conf:2
func writeLintText(w io.Writer, out []lintJSONFinding) {
	var b strings.Builder
	for _, j := range out {
		if j.Segment != "" {
			fmt.Fprintf(&b, "%s[%d]: %s: %s: %s\n", j.Segment, j.Index, j.Severity, j.Check, j.Message)
		} else {
			fmt.Fprintf(&b, "%s:%d: %s: %s: %s\n", j.File, j.Line, j.Severity, j.Check, j.Message)
		}
		writePlaces(&b, "\tsee", j.Related)
		writePlaces(&b, "\tincluded from", j.Included)
	}
	io.WriteString(w, b.String())
}

// writePlaces writes label and the places, comma-separated, as a line;
// nothing when there are none.
func writePlaces(b *strings.Builder, label string, places []filePos) {
	if len(places) == 0 {
		return
	}
	b.WriteString(label)
	for k, p := range places {
		if k > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + p.String())
	}
	b.WriteString("\n")
}
