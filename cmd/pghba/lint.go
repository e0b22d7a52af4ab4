package main

// This file is pghba lint: load errors, rules that can never match and
// risky settings, one finding a line. It also holds --listen, which
// exposure takes too.

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

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
	Severity string        `json:"severity"`
	Check    string        `json:"check"`
	Message  string        `json:"message"`
	Related  []filePos     `json:"related,omitempty"`
	Included []filePos     `json:"included_from,omitempty"`
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

func runLint(inv *invocation, args []string) int {
	var asJSON bool
	var listen listenFlag
	var identFile string
	inv.flags.BoolVar(&asJSON, "json", false, "")
	listen.register(inv.flags)
	inv.flags.StringVar(&identFile, "ident", "", "")
	// No resolver (the command table gives lint no --hosts): lint never
	// touches DNS, and radiusservers names are not looked up.
	p, err := inv.start(args, 0, listen.check)
	if err != nil {
		return inv.exit(err)
	}
	opts := audit.LintOptions{Version: inv.load.version, DBUserNamespace: inv.load.dbUserNamespace, Listen: listen.listen}
	findings, n := lintFindings(p, inv.load.path(), identFile, opts)

	status := exitOK
	out := make([]lintJSONFinding, 0, len(findings))
	for _, fd := range findings {
		if fd.Severity >= audit.SeverityWarning {
			status = 1
		}
		j := lintJSONFinding{File: n.rel(fd.Pos.Filename), Line: fd.Pos.Line, Severity: fd.Severity.String(),
			Check: string(fd.Check), Message: fd.Message, Witness: lintCase(fd.Witness)}
		for _, r := range fd.Related {
			j.Related = append(j.Related, n.at(r))
		}
		for _, r := range fd.IncludedFrom {
			j.Included = append(j.Included, n.at(r))
		}
		out = append(out, j)
	}
	if asJSON {
		writeJSONLine(inv.stdout, struct {
			Findings []lintJSONFinding `json:"findings"`
		}{out})
	} else {
		writeLintText(inv.stdout, out)
	}
	return status
}

// lintFindings lints the main file path, read with p, and the --ident file
// when identFile is not empty. A file that does not load, even one that
// cannot be read, gives load-error findings: the server would not start
// with it, or would run without its maps. The namer names the files.
func lintFindings(p *hba.Parser, path, identFile string, opts audit.LintOptions) ([]audit.Finding, namer) {
	var findings []audit.Finding
	loadError := func(errs []*hba.Error) {
		for _, e := range errs {
			findings = append(findings, audit.Finding{Pos: e.Pos, Severity: audit.SeverityError, Check: audit.CheckLoadError, Message: e.Msg})
		}
	}
	f, n, err := readMain(p, path)
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
	}
	return findings, n
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
		fmt.Fprintf(&b, "%s:%d: %s: %s: %s\n", j.File, j.Line, j.Severity, j.Check, j.Message)
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
