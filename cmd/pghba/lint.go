package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

func init() {
	register(&command{
		name:    "lint",
		summary: "report load errors, rules that can never match and risky settings",
		usage:   lintUsage,
		run:     runLint,
	})
}

const lintUsage = `usage: pghba lint [-f FILE] [--json] [--listen ADDRS] [--ident FILE] [loading flags]

Lint reads a pg_hba.conf as a PostgreSQL server would and reports, one
finding per line, as
  file:line: severity: check: message
every load error, every rule that can never match (with the earlier rules
that decide its connections first and an example connection) and settings
that expose the server. Files are named relative to the main file's
directory. The checks (see docs/lint.md):

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

Flags:
  -f FILE                  the pg_hba.conf (default $PGDATA/pg_hba.conf, else
                           ./pg_hba.conf)
  --json                   {"findings":[{"file":...,"line":N,"severity":...,
                           "check":...,"message":...,"related":[{"file":...,
                           "line":N}],"witness":{...}}]}; the witness is a
                           connection in the form of pghba check --batch lines;
                           related and witness are left out when there are none,
                           and included_from lists the include directives
  --listen ADDRS           the server's listen_addresses: * (everything),
                           localhost, 0.0.0.0, ::, addresses and host names,
                           comma-separated; '' for none. With only loopback
                           addresses, rules that admit no loopback client are
                           reported as unreachable-listen and findings about
                           remote clients are dropped
  --ident FILE             a pg_ident.conf: report map= names it lacks
  --pg-version N, --minor N, --server-ssl on|off, --missing LIST,
  --oauth-validators LIST, --db-user-namespace
                           as for pghba check

Exit status: 0 when there is no finding of severity warning or error, 1 when
there is (a main or --ident file that does not load, even one that cannot be
read, is reported as load-error findings); 2 for bad usage, a failed write
to standard output or standard error, or an internal error.
`

// lintLoadFlags are the loading flags lint and exposure share with check.
type lintLoadFlags struct {
	serverFlags
	json   bool
	listen *string
}

func (lf *lintLoadFlags) register(fs *flag.FlagSet) {
	lf.serverFlags.add(fs)
	fs.BoolVar(&lf.json, "json", false, "")
	fs.Func("listen", "", func(s string) error {
		lf.listen = &s
		return nil
	})
}

// parser checks the loading flags and builds the Parser and the Listen.
func (lf *lintLoadFlags) parser(set map[string]bool) (*hba.Parser, *hba.Listen, error) {
	if lf.version < hba.MinVersion || lf.version > hba.MaxVersion {
		return nil, nil, fmt.Errorf("--pg-version %d: want %d to %d", lf.version, hba.MinVersion, hba.MaxVersion)
	}
	if lf.minor < 0 {
		return nil, nil, fmt.Errorf("--minor %d: want 0 or more", lf.minor)
	}
	if set["db-user-namespace"] && lf.version > 16 {
		return nil, nil, fmt.Errorf("--db-user-namespace: the setting does not exist in PostgreSQL %d", lf.version)
	}
	features, err := hba.ParseMissing(lf.missing)
	if err != nil {
		return nil, nil, errors.New("--missing: " + err.Error())
	}
	var lis *hba.Listen
	if lf.listen != nil {
		if lis, err = hba.ParseListen(*lf.listen); err != nil {
			return nil, nil, errors.New("--listen: " + err.Error())
		}
	}
	// No resolver: lint never touches DNS (radiusservers names are not
	// looked up).
	return &hba.Parser{
		Version:                 lf.version,
		Minor:                   lf.minor,
		SSL:                     lf.serverSSL,
		Features:                features,
		DBUserNamespace:         lf.dbUserNamespace,
		OAuthValidatorLibraries: lf.oauthValidators,
	}, lis, nil
}

// parseFlags parses args for the command name; status is non-negative when
// the command must stop with it.
func (lf *lintLoadFlags) parseFlags(name, usage string, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (set map[string]bool, status int) {
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, usage)
			return nil, exitOK
		}
		return nil, lintUsageError(stderr, name, "")
	}
	if fs.NArg() > 0 {
		return nil, lintUsageError(stderr, name, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set, -1
}

func lintUsageError(stderr io.Writer, name, msg string) int {
	if msg != "" {
		fmt.Fprintf(stderr, "pghba %s: %s\n", name, msg)
	}
	fmt.Fprintf(stderr, "Run 'pghba help %s' for usage.\n", name)
	return exitUsage
}

// lintParse reads the main file. A main file that cannot be opened is a
// finding, not an I/O error: the server would not start with it either.
func lintParse(p *hba.Parser, path string) (*hba.File, string, []*hba.Error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	f, err := p.ParseFile(path)
	if err != nil {
		return nil, filepath.Dir(abs), hbaErrors(err, abs)
	}
	return f, filepath.Dir(f.Path), nil
}

// lintRel names a file relative to dir.
func lintRel(dir, name string) string {
	if name == "" {
		return ""
	}
	if r, err := filepath.Rel(dir, name); err == nil {
		return r
	}
	return name
}

type lintJSONPos struct {
	File string `json:"file"`
	Line int    `json:"line"`
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
	Severity string        `json:"severity"`
	Check    string        `json:"check"`
	Message  string        `json:"message"`
	Related  []lintJSONPos `json:"related,omitempty"`
	Included []lintJSONPos `json:"included_from,omitempty"`
	Witness  *lintJSONCase `json:"witness,omitempty"`
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

func runLint(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var lf lintLoadFlags
	var identFile string
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	lf.register(fs)
	fs.StringVar(&identFile, "ident", "", "")
	set, status := lf.parseFlags("lint", lintUsage, fs, args, stdout, stderr)
	if status >= 0 {
		return status
	}
	p, lis, err := lf.parser(set)
	if err != nil {
		return lintUsageError(stderr, "lint", err.Error())
	}
	path := lf.file
	if path == "" {
		path = defaultHBAPath()
	}
	opts := hba.LintOptions{Version: lf.version, DBUserNamespace: lf.dbUserNamespace, Listen: lis}
	var findings []hba.Finding
	loadError := func(errs []*hba.Error) {
		for _, e := range errs {
			findings = append(findings, hba.Finding{Pos: e.Pos, Severity: hba.SeverityError, Check: hba.CheckLoadError, Message: e.Msg})
		}
	}
	f, dir, openErrs := lintParse(p, path)
	loadError(openErrs)
	if identFile != "" {
		// A pg_ident.conf that does not load is a finding too, as the
		// main file is: the server would run without its maps.
		identAbs, err := filepath.Abs(identFile)
		if err != nil {
			identAbs = filepath.Clean(identFile)
		}
		idf, err := p.ParseIdentFile(identFile)
		switch {
		case err != nil:
			loadError(hbaErrors(err, identAbs))
		case len(idf.Errors) > 0:
			loadError(idf.Errors)
		default:
			m, err := p.CompileIdent(idf)
			if err != nil {
				loadError(hbaErrors(err, identAbs))
			} else {
				opts.Ident = m
			}
		}
	}
	if f != nil {
		findings = append(hba.Lint(f, opts), findings...)
	}

	status = exitOK
	out := make([]lintJSONFinding, 0, len(findings))
	for _, fd := range findings {
		if fd.Severity >= hba.SeverityWarning {
			status = 1
		}
		j := lintJSONFinding{File: lintRel(dir, fd.Pos.Filename), Line: fd.Pos.Line, Severity: fd.Severity.String(),
			Check: fd.Check, Message: fd.Message, Witness: lintCase(fd.Witness)}
		for _, r := range fd.Related {
			j.Related = append(j.Related, lintJSONPos{lintRel(dir, r.Filename), r.Line})
		}
		for _, r := range fd.IncludedFrom {
			j.Included = append(j.Included, lintJSONPos{lintRel(dir, r.Filename), r.Line})
		}
		out = append(out, j)
	}
	if lf.json {
		writeJSONLine(stdout, struct {
			Findings []lintJSONFinding `json:"findings"`
		}{out})
		return status
	}
	var b strings.Builder
	for _, j := range out {
		fmt.Fprintf(&b, "%s:%d: %s: %s: %s\n", j.File, j.Line, j.Severity, j.Check, j.Message)
		if len(j.Related) > 0 {
			b.WriteString("\tsee")
			for k, r := range j.Related {
				if k > 0 {
					b.WriteString(",")
				}
				b.WriteString(" " + r.File + ":" + strconv.Itoa(r.Line))
			}
			b.WriteString("\n")
		}
		if len(j.Included) > 0 {
			b.WriteString("\tincluded from")
			for k, r := range j.Included {
				if k > 0 {
					b.WriteString(",")
				}
				b.WriteString(" " + r.File + ":" + strconv.Itoa(r.Line))
			}
			b.WriteString("\n")
		}
	}
	io.WriteString(stdout, b.String())
	return status
}
