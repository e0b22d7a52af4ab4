package main

// This file is pghba check: the decision of one connection, printed as
// text or JSON. batch.go is --batch, explain.go --explain, ident.go the
// user name check of --ident.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

const checkUsage = `usage: pghba check [loading flags] [--json] ( --local | --host ADDR ) [--ssl] [--gss]
                   [--db NAME] --user NAME [--replication physical|logical]
       pghba check [loading flags] --batch FILE|-

Check loads a pg_hba.conf as a PostgreSQL server would and reports which rule
decides a connection: match (the rule's method authenticates the client),
reject (a reject rule), no-match (no rule; the server refuses the
connection), or unresolved (a rule needed --roles or --hosts and they were
not given, or a lookup failed; the server's answer cannot be known).

Loading flags:
  -f FILE                  the pg_hba.conf to load (default $PGDATA/pg_hba.conf,
                           else ./pg_hba.conf)
  --lines FILE.json        in place of -f: the pg_hba.conf as a JSON array of lines
                           or {"segments": [{"name": N, "lines": [...]}, ...]};
                           places are NAME[INDEX]; includes and @file are refused
  --pgdata DIR             read the server's own configuration from its data
                           directory: PG_VERSION, postgresql.conf and
                           postgresql.auto.conf (with their includes), for the
                           version, hba_file, ssl, ssl_ca_file,
                           listen_addresses, password_encryption,
                           db_user_namespace and oauth_validator_libraries; the
                           flags given explicitly win over what it read
  --config-file FILE       the same from a postgresql.conf outside the data
                           directory (Debian: /etc/postgresql/N/main), whose
                           data_directory names the data
  --dsn URL                a running server (libpq URL or key=value string;
                           password from it, PGPASSWORD or ~/.pgpass; TLS per
                           its sslmode; connect_timeout default 10 s): its
                           version, settings and roles with their memberships
                           (so +role and samerole resolve), over what the files
                           said; hba_file needs superuser or
                           pg_read_all_settings, else give -f; what the role
                           cannot read is said on standard error
  --pg-version N           PostgreSQL major version, 13 to 18 (default 18)
  --minor N                minor release, for the few rules that changed within a
                           major version (default: the newest)
  --server-ssl on|off      the server's ssl setting (default off)
  --missing LIST           build features the server lacks, from
                           gssapi,ldap,pam,bsd,sspi,ssl (default bsd,sspi)
  --oauth-validators LIST  oauth_validator_libraries (18; default empty)
  --db-user-namespace      db_user_namespace is on (13 to 16)
  --roles FILE             JSON object: role -> array of the roles it is directly
                           a member of; without it, +role and samerole rules are
                           unresolved
  --hosts FILE             JSON {"reverse": {"IP": ["name", ...]},
                           "forward": {"name": ["IP", ...]}}; with it no real DNS
                           is used and a missing entry is a failed lookup, for
                           host-name rules and for radiusservers names (which
                           the server resolves when it loads the file)
  --server-addrs LIST      the server's interface addresses for samehost and
                           samenet, as prefixes: 127.0.0.1/8,::1/128 (default:
                           this machine's interfaces)

Connection flags:
  --local                  a Unix-domain socket connection
  --host ADDR              a TCP connection from client address ADDR
  --ssl                    the connection uses SSL encryption
  --gss                    the connection uses GSSAPI encryption
  --db NAME                the database (default: the user name)
  --user NAME              the user name
  --replication KIND       physical or logical replication connection

Output:
  --json                   one JSON object instead of text
  --explain                first say, for every rule before the deciding one,
                           which test failed and why (JSON: "trace":[{"file",
                           "line","column","reason"}])
  --batch FILE|-           read connections as JSON lines from FILE (- for
                           standard input) and write one JSON result line each

A batch line is
  {"type":"local|host","addr":"...","ssl":bool,"gss":bool,"db":"...","user":"...",
   "replication":"physical|logical"}
Fields other than these are ignored. A line that is not a valid connection,
or is longer than 1 MiB (1048576 bytes without its newline), gives
{"error":"line N: ..."} and the batch goes on; blank lines are skipped.

A JSON result is
  {"result":"match|reject|no-match|unresolved|file-not-loaded","file":"...",
   "line":N,"method":"...","options":{...},"message":"..."}
file (relative to the main file's directory) and line name the deciding rule;
method and options (the pg_hba_file_rules options column, name -> value) are
given for match and reject; message is PostgreSQL's client message for reject
and no-match, and an explanation for unresolved. file-not-loaded adds
"errors":[{"file":...,"line":N,"message":...}].

Without --json the decision is printed as text; rules that load but can never
match (hostssl with --server-ssl off, for instance) are listed on standard
error as warnings.

Exit status: 0 when a decision was made (whatever it is); 1 when the files
did not load: the pg_hba.conf or the --ident file is missing, unreadable,
has a line error or exceeds a load limit (each error is also written to
standard error as file:line: message); 2 for bad usage, an unreadable
--roles, --hosts or --batch input, a failed write to standard output or
standard error, or an internal error.
`

// checkFlags are the flags of pghba check besides the loading flags.
type checkFlags struct {
	json    bool
	batch   string
	explain bool       // explain.go
	ident   identCheck // ident.go

	local       bool
	host        string
	ssl, gss    bool
	db, user    string
	replication string
}

func (f *checkFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.json, "json", false, "")
	fs.StringVar(&f.batch, "batch", "", "")
	fs.BoolVar(&f.explain, "explain", false, "")
	f.ident.register(fs)
	fs.BoolVar(&f.local, "local", false, "")
	fs.StringVar(&f.host, "host", "", "")
	fs.BoolVar(&f.ssl, "ssl", false, "")
	fs.BoolVar(&f.gss, "gss", false, "")
	fs.StringVar(&f.db, "db", "", "")
	fs.StringVar(&f.user, "user", "", "")
	fs.StringVar(&f.replication, "replication", "", "")
}

func runCheck(inv *invocation, args []string) int {
	var f checkFlags
	var conn hba.Conn
	f.register(inv.flags)
	p, err := inv.start(args, 0, func() (err error) {
		conn, err = f.validate(inv.given)
		return err
	})
	if err != nil {
		return inv.exit(err)
	}
	if v, ok := inv.load.krbCaseinsUsers(); ok && !inv.given["krb-caseins-users"] {
		f.ident.caseins = v
	}
	ld := load(p, inv.load.path())
	writeLoadErrors(inv.stderr, ld.errors)
	if f.batch != "" {
		return runBatch(inv, ld, f.batch)
	}
	return f.report(inv, p, ld, conn)
}

// validate checks the flags of check; given holds the flags given. It
// returns the connection to decide, unless this is a batch.
func (f *checkFlags) validate(given map[string]bool) (hba.Conn, error) {
	if err := f.ident.validate(given, f.batch != ""); err != nil {
		return hba.Conn{}, err
	}
	if f.batch != "" {
		for _, name := range []string{"local", "host", "ssl", "gss", "db", "user", "replication", "explain"} {
			if given[name] {
				return hba.Conn{}, usageError("--" + name + " cannot be used with --batch")
			}
		}
		return hba.Conn{}, nil
	}
	c, err := f.conn(given)
	if err != nil {
		return c, usageError(err.Error())
	}
	return c, nil
}

// report decides the connection c with the configuration ld, loaded by p,
// and prints the decision.
func (f *checkFlags) report(inv *invocation, p *hba.Parser, ld *loaded, c hba.Conn) int {
	if !f.json && ld.rs != nil {
		// Rules that load but can never match, as the server logs them.
		for _, r := range ld.rs.Rules() {
			if r.Warning() != "" {
				fmt.Fprintf(inv.stderr, "%s: warning: %s\n", ld.at(r.Pos()), r.Warning())
			}
		}
	}
	res := ld.decide(c)
	identLoaded := f.ident.attach(p, ld, c, res, inv.stderr)
	if f.json {
		writeJSONLine(inv.stdout, explained(ld, c, res, f.explain))
	} else {
		writeTrace(inv.stdout, ld, c, f.explain)
		writeHuman(inv.stdout, res)
		writeIdentHuman(inv.stdout, res)
	}
	if ld.rs == nil || !identLoaded {
		return exitNotLoaded
	}
	return exitOK
}

// conn builds the connection described by the connection flags.
func (f *checkFlags) conn(given map[string]bool) (hba.Conn, error) {
	var c hba.Conn
	switch {
	case f.local && given["host"]:
		return c, errors.New("--local and --host cannot both be given")
	case f.local:
		c.Local = true
		if f.ssl || f.gss {
			return c, errors.New("--ssl and --gss need --host: a local connection is not encrypted")
		}
	case given["host"]:
		a, err := netip.ParseAddr(f.host)
		if err != nil {
			return c, fmt.Errorf("--host %q: not an IP address", f.host)
		}
		c.Addr = a
	default:
		return c, errors.New("one of --local, --host or --batch is required")
	}
	if f.ssl && f.gss {
		return c, errors.New("--ssl and --gss cannot both be given: a connection uses one encryption")
	}
	c.SSL, c.GSS = f.ssl, f.gss
	if f.user == "" {
		return c, errors.New("--user is required")
	}
	c.User, c.Database = f.user, f.db
	r, err := parseReplication(f.replication)
	if err != nil {
		return c, errors.New("--replication: " + err.Error())
	}
	c.Replication = r
	return c, nil
}

func parseReplication(s string) (hba.Replication, error) {
	switch s {
	case "":
		return hba.NoReplication, nil
	case "physical":
		return hba.PhysicalReplication, nil
	case "logical":
		return hba.LogicalReplication, nil
	}
	return 0, fmt.Errorf("%q: want physical or logical", s)
}

// result is a decision as pghba check reports it. Options is a pointer so
// that match and reject always show an object, even an empty one.
type result struct {
	Result  string             `json:"result"`
	File    string             `json:"file,omitempty"`
	Line    int                `json:"line,omitempty"`
	Method  string             `json:"method,omitempty"`
	Options *map[string]string `json:"options,omitempty"`
	Message string             `json:"message,omitempty"`
	Errors  []jsonError        `json:"errors,omitempty"`
	Ident   *identResult       `json:"ident,omitempty"`   // ident.go
	Segment string             `json:"segment,omitempty"` // --lines: segment and index replace file and line
	Index   *int               `json:"index,omitempty"`

	raw      string   // the rule's line, for human output
	options  []string // the view options in order, for human output
	included []string // the include directives leading to the rule, innermost first
}

// decide decides c.
func (ld *loaded) decide(c hba.Conn) *result {
	if ld.rs == nil {
		return &result{Result: "file-not-loaded", Errors: ld.errors}
	}
	d := ld.rs.Decide(context.Background(), c)
	res := &result{Result: d.Outcome.String()}
	if d.Rule != nil {
		r := d.Rule
		res.File, res.Line, res.raw = ld.rel(r.Pos().Filename), r.Pos().Line, r.Raw()
		if at := ld.locate(r.Pos()); at.Segment != "" {
			res.File, res.Line, res.Segment, res.Index = "", 0, at.Segment, &at.Index
		}
		for _, p := range r.IncludedFrom() {
			res.included = append(res.included, ld.at(p).String())
		}
		if d.Outcome == hba.Matched || d.Outcome == hba.Rejected {
			res.Method = r.Method().String()
			res.options = r.ViewOptions()
			m := make(map[string]string, len(res.options))
			for _, o := range res.options {
				k, v, _ := strings.Cut(o, "=")
				m[k] = v
			}
			res.Options = &m
		}
	}
	res.Message = ld.rs.Message(d, c)
	if d.Outcome == hba.Unresolved {
		// Name the rule by its relative path in the message too.
		res.Message = ld.inMessage(res.Message, d.Rule.Pos())
	}
	return res
}

// writeHuman prints a decision for people:
//
//	match: conf.d/10.conf:3: "host all all 127.0.0.1/32 scram-sha-256"
//	included from: pg_hba.conf:7
//	method: scram-sha-256
func writeHuman(w io.Writer, r *result) {
	var b strings.Builder
	switch r.Result {
	case "file-not-loaded":
		fmt.Fprintf(&b, "file-not-loaded: %d error%s\n", len(r.Errors), plural(len(r.Errors)))
	case "no-match":
		b.WriteString("no-match\n")
	default:
		if r.Segment != "" {
			fmt.Fprintf(&b, "%s: %s[%d]: %s\n", r.Result, r.Segment, *r.Index, strconv.Quote(r.raw))
		} else {
			fmt.Fprintf(&b, "%s: %s:%d: %s\n", r.Result, r.File, r.Line, strconv.Quote(r.raw))
		}
		if len(r.included) > 0 {
			fmt.Fprintf(&b, "included from: %s\n", strings.Join(r.included, ", "))
		}
	}
	if r.Method != "" {
		fmt.Fprintf(&b, "method: %s\n", r.Method)
	}
	if len(r.options) > 0 {
		b.WriteString("options:")
		for _, o := range r.options {
			if strings.ContainsAny(o, " \t\"") {
				o = strconv.Quote(o)
			}
			b.WriteString(" " + o)
		}
		b.WriteString("\n")
	}
	if r.Message != "" {
		fmt.Fprintf(&b, "message: %s\n", r.Message)
	}
	io.WriteString(w, b.String())
}
