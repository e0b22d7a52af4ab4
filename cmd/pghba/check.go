package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

func init() {
	register(&command{
		name:    "check",
		summary: "decide a connection as the server would",
		usage:   checkUsage + identUsage,
		run:     runCheck,
	})
}

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

// checkFlags are the parsed flags of pghba check.
type checkFlags struct {
	serverFlags
	rolesFile   string
	hostsFile   string
	serverAddrs *[]netip.Prefix // nil: the system's interfaces
	json        bool
	batch       string

	local       bool
	host        string
	ssl, gss    bool
	db, user    string
	replication string
}

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f checkFlags
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	f.serverFlags.add(fs)
	fs.StringVar(&f.rolesFile, "roles", "", "")
	fs.StringVar(&f.hostsFile, "hosts", "", "")
	fs.Func("server-addrs", "", func(s string) error {
		p, err := parsePrefixList(s)
		f.serverAddrs = &p
		return err
	})
	fs.BoolVar(&f.json, "json", false, "")
	fs.StringVar(&f.batch, "batch", "", "")
	fs.BoolVar(&f.local, "local", false, "")
	fs.StringVar(&f.host, "host", "", "")
	fs.BoolVar(&f.ssl, "ssl", false, "")
	fs.BoolVar(&f.gss, "gss", false, "")
	fs.StringVar(&f.db, "db", "", "")
	fs.StringVar(&f.user, "user", "", "")
	fs.StringVar(&f.replication, "replication", "", "")
	explain := fs.Bool("explain", false, "") // explain.go
	ident := addIdentFlags(fs)               // ident.go
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, checkUsage)
			return exitOK
		}
		return usageError(stderr, "") // the flag package has said what is wrong
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := ident.validate(set, f.batch != ""); err != nil {
		return usageError(stderr, err.Error())
	}

	if f.version < hba.MinVersion || f.version > hba.MaxVersion {
		return usageError(stderr, fmt.Sprintf("--pg-version %d: want %d to %d", f.version, hba.MinVersion, hba.MaxVersion))
	}
	if f.minor < 0 {
		return usageError(stderr, fmt.Sprintf("--minor %d: want 0 or more", f.minor))
	}
	if set["db-user-namespace"] && f.version > 16 {
		return usageError(stderr, fmt.Sprintf("--db-user-namespace: the setting does not exist in PostgreSQL %d", f.version))
	}
	features, err := hba.ParseMissing(f.missing)
	if err != nil {
		return usageError(stderr, "--missing: "+err.Error())
	}

	// The connection to decide, unless this is a batch.
	var conn hba.Conn
	if f.batch != "" {
		for _, name := range []string{"local", "host", "ssl", "gss", "db", "user", "replication", "explain"} {
			if set[name] {
				return usageError(stderr, "--"+name+" cannot be used with --batch")
			}
		}
	} else {
		c, err := f.conn(set)
		if err != nil {
			return usageError(stderr, err.Error())
		}
		conn = c
	}

	p := f.hbaParser(features)
	if f.rolesFile != "" {
		var g hba.RoleGraph
		if err := readJSONFile(f.rolesFile, &g); err != nil {
			return ioError(stderr, "--roles: "+err.Error())
		}
		if g == nil {
			g = hba.RoleGraph{}
		}
		p.Env.Roles = g
	}
	if f.hostsFile != "" {
		var h hba.HostTable
		if err := readJSONFile(f.hostsFile, &h); err != nil {
			return ioError(stderr, "--hosts: "+err.Error())
		}
		if err := h.Validate(); err != nil {
			return ioError(stderr, "--hosts: "+f.hostsFile+": "+err.Error())
		}
		p.Env.Resolver = h
		p.RADIUSResolver = h
	} else {
		p.Env.Resolver = net.DefaultResolver
		p.RADIUSResolver = net.DefaultResolver
	}
	if f.serverAddrs != nil {
		p.Env.Interfaces = hba.StaticInterfaces(*f.serverAddrs)
	}

	path := f.file
	if path == "" {
		path = defaultHBAPath()
	}
	ld := load(&p, path)
	writeLoadErrors(stderr, ld.errors)

	if f.batch != "" {
		return runBatch(ld, f.batch, stdin, stdout, stderr)
	}
	if !f.json && ld.rs != nil {
		// Rules that load but can never match, as the server logs them.
		for _, r := range ld.rs.Rules() {
			if r.Warning() != "" {
				fmt.Fprintf(stderr, "%s:%d: warning: %s\n", ld.rel(r.Pos().Filename), r.Pos().Line, r.Warning())
			}
		}
	}
	res := ld.decide(conn)
	identLoaded := ident.attach(&p, ld, conn, res, stderr)
	if f.json {
		writeJSONLine(stdout, explained(ld, conn, res, *explain))
	} else {
		writeTrace(stdout, ld, conn, *explain)
		writeHuman(stdout, res)
		writeIdentHuman(stdout, res)
	}
	if ld.rs == nil || !identLoaded {
		return exitNotLoaded
	}
	return exitOK
}

// conn builds the connection described by the connection flags.
func (f *checkFlags) conn(set map[string]bool) (hba.Conn, error) {
	var c hba.Conn
	switch {
	case f.local && set["host"]:
		return c, errors.New("--local and --host cannot both be given")
	case f.local:
		c.Local = true
		if f.ssl || f.gss {
			return c, errors.New("--ssl and --gss need --host: a local connection is not encrypted")
		}
	case set["host"]:
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

// batchCase is one line of --batch input.
type batchCase struct {
	Type        *string `json:"type"`
	Addr        *string `json:"addr"`
	SSL         bool    `json:"ssl"`
	GSS         bool    `json:"gss"`
	DB          string  `json:"db"`
	User        *string `json:"user"`
	Replication string  `json:"replication"`
}

// conn checks the case and returns the connection it describes.
func (bc *batchCase) conn() (hba.Conn, error) {
	var c hba.Conn
	if bc.Type == nil {
		return c, errors.New(`missing "type" (local or host)`)
	}
	switch *bc.Type {
	case "local":
		c.Local = true
		if bc.Addr != nil {
			return c, errors.New(`"addr" given for a local connection`)
		}
		if bc.SSL || bc.GSS {
			return c, errors.New(`"ssl" and "gss" must be false for a local connection`)
		}
	case "host":
		if bc.Addr == nil {
			return c, errors.New(`missing "addr" for a host connection`)
		}
		a, err := netip.ParseAddr(*bc.Addr)
		if err != nil {
			return c, fmt.Errorf(`"addr" %q is not an IP address`, *bc.Addr)
		}
		c.Addr = a
	default:
		return c, fmt.Errorf(`"type" %q: want local or host`, *bc.Type)
	}
	if bc.SSL && bc.GSS {
		return c, errors.New(`"ssl" and "gss" cannot both be true`)
	}
	c.SSL, c.GSS = bc.SSL, bc.GSS
	if bc.User == nil || *bc.User == "" {
		return c, errors.New(`missing "user"`)
	}
	c.User, c.Database = *bc.User, bc.DB
	r, err := parseReplication(bc.Replication)
	if err != nil {
		return c, errors.New(`"replication": ` + err.Error())
	}
	c.Replication = r
	return c, nil
}

// maxBatchLine is the longest --batch line read, not counting its newline.
// A longer line is skipped, without being held in memory, with an error
// object in its place.
const maxBatchLine = 1 << 20

// runBatch decides every case read from name ("-": stdin), writing one JSON
// line per case and flushing after each, so that a caller may feed cases one
// at a time through a pipe.
func runBatch(ld *loaded, name string, stdin io.Reader, stdout, stderr io.Writer) int {
	in := stdin
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return ioError(stderr, "--batch: "+err.Error())
		}
		defer fh.Close()
		in = fh
	}
	r := bufio.NewReader(in)
	w := bufio.NewWriter(stdout)
	status := exitOK
	if ld.rs == nil {
		status = exitNotLoaded
	}
	var buf []byte
	for lineno := 1; ; lineno++ {
		line, long, err := readBoundedLine(r, buf[:0], maxBatchLine)
		buf = line
		var res any // nil for a blank line
		switch {
		case long:
			res = batchError{fmt.Sprintf("line %d: longer than %d bytes", lineno, maxBatchLine)}
		case len(bytes.TrimSpace(line)) > 0:
			res = batchResult(ld, lineno, line)
		}
		if res != nil {
			writeJSONLine(w, res)
			if w.Flush() != nil {
				// stdout remembers the failed write and run reports it:
				// stop, as every later result would be lost too.
				return exitUsage
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return ioError(stderr, "--batch: "+err.Error())
		}
	}
	return status
}

// readBoundedLine reads one line from r, up to and including its newline,
// appending it to buf. A line of more than max bytes, not counting the
// newline, is read to its end but not kept: long is then true and line is
// empty. err is io.EOF at the end of the input (line may then be non-empty:
// a last line without a newline).
func readBoundedLine(r *bufio.Reader, buf []byte, max int) (line []byte, long bool, err error) {
	line = buf
	for {
		chunk, err := r.ReadSlice('\n')
		content := len(chunk)
		if content > 0 && chunk[content-1] == '\n' {
			content--
		}
		if !long && len(line)+content > max {
			long, line = true, line[:0]
		}
		if !long {
			line = append(line, chunk...)
		}
		if err != bufio.ErrBufferFull {
			return line, long, err
		}
	}
}

type batchError struct {
	Error string `json:"error"`
}

func batchResult(ld *loaded, lineno int, line []byte) any {
	var bc batchCase
	if err := json.Unmarshal(line, &bc); err != nil {
		return batchError{fmt.Sprintf("line %d: %s", lineno, jsonErrorText(err))}
	}
	c, err := bc.conn()
	if err != nil {
		return batchError{fmt.Sprintf("line %d: %s", lineno, err)}
	}
	return ld.decide(c)
}

// jsonErrorText words a decoding error without Go type names.
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "not a JSON object"
		}
		return fmt.Sprintf("%q: wrong type (%s)", te.Field, te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field ") {
		return msg
	}
	return "invalid JSON: " + msg
}

// loaded is the outcome of loading the configuration.
type loaded struct {
	rs     *hba.Ruleset // nil when the files did not load
	dir    string       // the main file's directory
	errors []jsonError  // load errors, when rs is nil
}

type jsonError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
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
	Ident   *identResult       `json:"ident,omitempty"` // ident.go

	raw      string   // the rule's line, for human output
	options  []string // the view options in order, for human output
	included []string // the include directives leading to the rule, innermost first
}

// load reads and compiles the configuration.
func load(p *hba.Parser, path string) *loaded {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	ld := &loaded{dir: filepath.Dir(abs)}
	f, err := p.ParseFile(path)
	if err == nil {
		ld.dir = filepath.Dir(f.Path)
		var rs *hba.Ruleset
		if rs, err = p.Compile(f); err == nil {
			ld.rs = rs
			return ld
		}
	}
	// The main file could not be read, or some line failed.
	ld.errors = loadErrors(err, abs, ld.rel)
	return ld
}

// loadErrors lists the errors of a load that failed (see hbaErrors), each
// file named by rel.
func loadErrors(err error, file string, rel func(string) string) []jsonError {
	var out []jsonError
	for _, e := range hbaErrors(err, file) {
		out = append(out, jsonError{File: rel(e.Pos.Filename), Line: e.Pos.Line, Message: e.Msg})
	}
	return out
}

// hbaErrors lists the errors of a load that failed: each *hba.Error in err
// (an hba.ErrorList, or one *hba.Error, possibly wrapped), or else err's
// text. An error positioned in no file is put on file, the file that was
// being loaded. Whatever its kind (a missing file, a line error, a limit of
// the library), the file did not load.
func hbaErrors(err error, file string) []*hba.Error {
	var out []*hba.Error
	add := func(e *hba.Error) {
		if e.Pos.Filename == "" {
			c := *e
			c.Pos.Filename = file
			e = &c
		}
		out = append(out, e)
	}
	var list hba.ErrorList
	var one *hba.Error
	switch {
	case errors.As(err, &list) && len(list) > 0:
		for _, e := range list {
			add(e)
		}
	case errors.As(err, &one):
		add(one)
	default:
		add(&hba.Error{Msg: err.Error(), Err: err})
	}
	return out
}

// writeLoadErrors prints load errors as file:line: message, one a line.
func writeLoadErrors(w io.Writer, errs []jsonError) {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "%s:%d: %s\n", e.File, e.Line, e.Message)
	}
	io.WriteString(w, b.String())
}

// rel returns name relative to the main file's directory.
func (ld *loaded) rel(name string) string {
	if name == "" {
		return ""
	}
	if r, err := filepath.Rel(ld.dir, name); err == nil {
		return r
	}
	return name
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
		for _, p := range r.IncludedFrom() {
			res.included = append(res.included, ld.rel(p.Filename)+":"+strconv.Itoa(p.Line))
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
		abs := d.Rule.Pos()
		rel := hba.Position{Filename: ld.rel(abs.Filename), Line: abs.Line}
		res.Message = strings.Replace(res.Message, abs.String(), rel.String(), 1)
	}
	return res
}

func writeJSONLine(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // cannot fail for these types; write errors surface at flush
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
		fmt.Fprintf(&b, "%s: %s:%d: %s\n", r.Result, r.File, r.Line, strconv.Quote(r.raw))
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

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// defaultHBAPath is $PGDATA/pg_hba.conf, else ./pg_hba.conf.
func defaultHBAPath() string {
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

// maxSideInput is the largest side input read whole: a --roles or --hosts
// file, or the expectations of pghba test.
const maxSideInput = 64 << 20

// readLimited reads r to its end, or fails once it has given more than max
// bytes; name names r in that error.
func readLimited(name string, r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	return data, nil
}

// readFileLimited reads the file name, of at most max bytes.
func readFileLimited(name string, max int64) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max) // without reading it
	}
	return readLimited(name, fh, max)
}

// readJSONFile decodes the JSON file name, of at most maxSideInput bytes,
// into v, refusing unknown fields and trailing data.
func readJSONFile(name string, v any) error {
	data, err := readFileLimited(name, maxSideInput)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %s", name, jsonErrorText(err))
	}
	if dec.More() {
		return fmt.Errorf("%s: data after the JSON value", name)
	}
	return nil
}

func usageError(stderr io.Writer, msg string) int {
	if msg != "" {
		fmt.Fprintf(stderr, "pghba check: %s\n", msg)
	}
	fmt.Fprintln(stderr, "Run 'pghba help check' for usage.")
	return exitUsage
}

func ioError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "pghba check: %s\n", msg)
	return exitUsage
}
