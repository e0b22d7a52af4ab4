// Package eval is the playground's engine: it takes the page's whole state
// (files, server facts, connection) as JSON-shaped values, runs the hba
// library on it and returns what the page shows. It has no browser code, so it
// is tested natively; playground/wasm exposes it to JavaScript.
//
// The state is the share-link JSON (see playground/README.md):
//
//	{"version":16,"minor":0,"ssl":false,"missing":"bsd,sspi",
//	 "files":{"pg_hba.conf":"...","pg_ident.conf":"...","users.txt":"..."},
//	 "roles":{"alice":["admins"]},
//	 "conn":{"type":"host","addr":"10.0.0.5","ssl":false,"gss":false,
//	         "db":"app","user":"alice","replication":"","system_user":""}}
//
// Limits, on purpose: host names are never resolved (a host-name rule that a
// connection reaches is unresolved), the server's interface addresses are
// unknown (samehost and samenet are unresolved), and +role and samerole are
// unresolved unless "roles" is given.
package eval

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/pghba/pghba/hba"
)

// MaxListed is the most rows, errors and trace steps a Result lists; the
// totals are given beside them. The page renders no more than this, and
// sending a 100,000-line file's rows back would cost more than evaluating it.
const MaxListed = 2000

// MainFile and IdentFile are the names of the two files the server reads.
const (
	MainFile  = "pg_hba.conf"
	IdentFile = "pg_ident.conf"
)

// State is the page's whole state: the share-link JSON.
type State struct {
	Version int  `json:"version"`
	Minor   int  `json:"minor,omitempty"`
	SSL     bool `json:"ssl"`
	// Missing lists the features the build lacks, comma-separated (ssl,
	// gssapi, ldap, pam, bsd, sspi); nil means hba.DefaultFeatures, the
	// Linux build (bsd and sspi missing).
	Missing *string `json:"missing,omitempty"`
	// Files are the virtual files by relative name; pg_hba.conf is the main
	// file and pg_ident.conf, if present, the ident file.
	Files map[string]string `json:"files"`
	// Roles, if non-nil, is the role graph (role -> roles it is directly a
	// member of); nil means no role source.
	Roles map[string][]string `json:"roles,omitempty"`
	Conn  Conn                `json:"conn"`
}

// Conn is a connection as a `pghba check --batch` line gives it, plus the
// system user for the user name map check.
type Conn struct {
	Type        string `json:"type"` // "local" or "host"
	Addr        string `json:"addr,omitempty"`
	SSL         bool   `json:"ssl"`
	GSS         bool   `json:"gss"`
	DB          string `json:"db"`
	User        string `json:"user"`
	Replication string `json:"replication,omitempty"` // "", "physical" or "logical"
	SystemUser  string `json:"system_user,omitempty"`
}

// Result is what one evaluation shows, apart from lint and exposure (Audit).
type Result struct {
	// Error is set when the state itself is unusable (bad version, bad file
	// name); nothing else is then filled.
	Error string `json:"error,omitempty"`

	Version int      `json:"version"`
	Columns []string `json:"columns"` // the pg_hba_file_rules columns
	// Rows, Errors and Trace hold at most MaxListed entries each; the
	// totals count them all.
	Rows        []Row     `json:"rows"`
	RowsTotal   int       `json:"rowsTotal"`
	Errors      []Problem `json:"errors"`
	ErrorsTotal int       `json:"errorsTotal"`

	IdentColumns []string  `json:"identColumns,omitempty"`
	IdentRows    []Row     `json:"identRows,omitempty"`
	IdentErrors  []Problem `json:"identErrors,omitempty"`

	Decision   Decision    `json:"decision"`
	Trace      []Step      `json:"trace"`
	TraceTotal int         `json:"traceTotal"`
	Ident      *IdentCheck `json:"ident,omitempty"`

	// Micros is the time the evaluation took, in microseconds.
	Micros int64 `json:"micros"`
}

// Row is one view row: File and Line locate it, Cells follow Columns (nil
// is SQL NULL).
type Row struct {
	File  string    `json:"file"`
	Line  int       `json:"line"`
	Cells []*string `json:"cells"`
	Error bool      `json:"error,omitempty"`
}

// Problem is one load error with PostgreSQL's texts.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
	Log     string `json:"log,omitempty"`
	Hint    string `json:"hint,omitempty"`
	LogOnly bool   `json:"logOnly,omitempty"`
}

// Decision is the answer for the connection. Outcome is one of matched,
// rejected, no-entry, unresolved, not-loaded (pg_hba.conf did not load) and
// invalid (the connection form is not a valid connection).
type Decision struct {
	Outcome string   `json:"outcome"`
	File    string   `json:"file,omitempty"`
	Line    int      `json:"line,omitempty"`
	Method  string   `json:"method,omitempty"`
	Options []string `json:"options,omitempty"`
	Raw     string   `json:"raw,omitempty"`
	// Message is PostgreSQL's FATAL text (rejected, no-entry), pghba's
	// explanation (unresolved, not-loaded) or what is wrong (invalid).
	Message string `json:"message,omitempty"`
	// Database and User are the names the rules were compared with.
	Database string `json:"database,omitempty"`
	User     string `json:"user,omitempty"`
}

// Step is one rule before the deciding one, and why it did not match.
type Step struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// IdentCheck is the user name map check of the matched rule for the
// connection's system user.
type IdentCheck struct {
	Outcome string `json:"outcome"`
	Allowed bool   `json:"allowed"`
	Map     string `json:"map,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message,omitempty"`
}

// errNoInterfaces answers samehost and samenet: the playground does not know
// the server's addresses.
var errNoInterfaces = errors.New("the playground does not know the server's interface addresses")

// setup is what both Evaluate and Audit build from a State.
type setup struct {
	p    *hba.Parser
	f    *hba.File
	idf  *hba.IdentFile // nil without pg_ident.conf
	maps *hba.IdentMaps // nil: no ident file, or it did not load
}

func load(st *State) (*setup, error) {
	if st.Version < hba.MinVersion || st.Version > hba.MaxVersion {
		return nil, fmt.Errorf("version %d: want %d to %d", st.Version, hba.MinVersion, hba.MaxVersion)
	}
	if st.Minor < 0 {
		return nil, fmt.Errorf("minor version %d is negative", st.Minor)
	}
	main, ok := st.Files[MainFile]
	if !ok {
		return nil, errors.New("no " + MainFile + " in files")
	}
	fsys := fstest.MapFS{}
	for name, data := range st.Files {
		if !fs.ValidPath(name) || name == "." || path.Clean(name) != name {
			return nil, fmt.Errorf("file name %q: want a relative path such as users.txt or conf.d/a.conf", name)
		}
		fsys[name] = &fstest.MapFile{Data: []byte(data), Mode: 0o644}
	}
	p := &hba.Parser{FS: fsys, Version: st.Version, Minor: st.Minor, SSL: st.SSL}
	if st.Missing != nil {
		feat, err := hba.ParseMissing(*st.Missing)
		if err != nil {
			return nil, fmt.Errorf("missing features: %v", err)
		}
		p.Features = feat
		if feat == 0 { // zero would mean DefaultFeatures
			return nil, errors.New("missing features: a build without any optional feature is not modelled")
		}
	}
	p.Env.Interfaces = hba.InterfacesFunc(func(context.Context) ([]netip.Prefix, error) { return nil, errNoInterfaces })
	if st.Roles != nil {
		g := hba.RoleGraph{}
		for role, groups := range st.Roles {
			g[role] = append(g[role], groups...)
			for _, grp := range groups {
				if _, ok := g[grp]; !ok {
					g[grp] = nil
				}
			}
		}
		p.Env.Roles = g
	}
	s := &setup{p: p, f: p.ParseBytes(MainFile, []byte(main))}
	if data, ok := st.Files[IdentFile]; ok {
		s.idf = p.ParseIdentBytes(IdentFile, []byte(data))
		if len(s.idf.Errors) == 0 {
			if m, err := p.CompileIdent(s.idf); err == nil {
				s.maps = m
			}
		}
	}
	return s, nil
}

// Evaluate loads the state's files and decides its connection.
func Evaluate(st *State) *Result {
	start := time.Now()
	r := &Result{Version: st.Version}
	s, err := load(st)
	if err != nil {
		return &Result{Error: err.Error(), Version: st.Version}
	}
	r.Columns = hba.ViewColumns(st.Version)
	rows := s.f.ViewRows()
	r.RowsTotal, r.ErrorsTotal = len(rows), len(s.f.Errors)
	r.Rows, r.Errors = make([]Row, 0, min(len(rows), MaxListed)), []Problem{}
	for _, v := range rows[:min(len(rows), MaxListed)] {
		r.Rows = append(r.Rows, viewRow(r.Columns, v))
	}
	for _, e := range s.f.Errors[:min(len(s.f.Errors), MaxListed)] {
		r.Errors = append(r.Errors, problem(e))
	}
	if s.idf != nil {
		r.IdentColumns = hba.IdentViewColumns(st.Version)
		rows := s.idf.ViewRows()
		r.ErrorsTotal += len(s.idf.Errors)
		for _, v := range rows[:min(len(rows), MaxListed)] {
			r.IdentRows = append(r.IdentRows, identRow(r.IdentColumns, v))
		}
		for _, e := range s.idf.Errors[:min(len(s.idf.Errors), MaxListed)] {
			r.IdentErrors = append(r.IdentErrors, problem(e))
		}
	}
	r.Decision, r.Trace, r.TraceTotal, r.Ident = decide(s, st.Conn)
	r.Micros = time.Since(start).Microseconds()
	return r
}

func decide(s *setup, sc Conn) (Decision, []Step, int, *IdentCheck) {
	rs, err := s.p.Compile(s.f)
	if err != nil {
		n := len(s.f.Errors)
		msg := fmt.Sprintf("could not load %s: the server does not start with it, and a reload keeps the previous rules", MainFile)
		if n > 0 {
			msg = fmt.Sprintf("%s has %d error(s): the server does not start with it, and a reload keeps the previous rules", MainFile, n)
		} else if len(s.f.Rules) == 0 {
			msg = fmt.Sprintf("configuration file %q contains no entries", s.f.Path)
		}
		return Decision{Outcome: "not-loaded", Message: msg}, []Step{}, 0, nil
	}
	c, err := sc.conn()
	if err != nil {
		return Decision{Outcome: "invalid", Message: err.Error()}, []Step{}, 0, nil
	}
	ctx := context.Background()
	t := rs.Explain(ctx, c)
	steps := make([]Step, 0, min(len(t.Misses), MaxListed))
	for _, m := range t.Misses[:min(len(t.Misses), MaxListed)] {
		pos := m.Rule.Pos()
		steps = append(steps, Step{File: fileName(pos.Filename), Line: pos.Line, Column: m.Column.String(), Reason: m.Reason})
	}
	d := Decision{Database: t.Database, User: t.User, Message: t.Message}
	switch t.Decision.Outcome {
	case hba.Matched:
		d.Outcome = "matched"
	case hba.Rejected:
		d.Outcome = "rejected"
	case hba.NoMatch:
		d.Outcome = "no-entry"
	case hba.Unresolved:
		d.Outcome = "unresolved"
	}
	var ic *IdentCheck
	if r := t.Decision.Rule; r != nil {
		pos := r.Pos()
		d.File, d.Line = fileName(pos.Filename), pos.Line
		d.Method, d.Options, d.Raw = r.Method().String(), r.ViewOptions(), r.Raw()
		if t.Decision.Outcome == hba.Matched && sc.SystemUser != "" {
			ir := s.maps.CheckRule(ctx, r, sc.SystemUser, t.User, hba.IdentOptions{})
			if ir.Outcome != hba.IdentNotApplicable {
				ic = &IdentCheck{Outcome: ir.Outcome.String(), Allowed: ir.Allowed, Map: ir.Map, Message: ir.Message}
				if p := ir.Pos(); p.IsValid() {
					ic.File, ic.Line = fileName(p.Filename), p.Line
				}
			}
		}
	}
	return d, steps, len(t.Misses), ic
}

// conn checks the form as `pghba check --batch` checks a line.
func (sc Conn) conn() (hba.Conn, error) {
	var c hba.Conn
	switch sc.Type {
	case "local":
		c.Local = true
		if sc.SSL || sc.GSS {
			return c, errors.New("a local connection has no SSL or GSSAPI encryption")
		}
	case "host":
		a, err := netip.ParseAddr(strings.TrimSpace(sc.Addr))
		if err != nil {
			return c, fmt.Errorf("client address %q is not an IP address", sc.Addr)
		}
		c.Addr = a
	default:
		return c, fmt.Errorf("connection type %q: want local or host", sc.Type)
	}
	if sc.SSL && sc.GSS {
		return c, errors.New("SSL and GSSAPI encryption cannot both be on")
	}
	c.SSL, c.GSS = sc.SSL, sc.GSS
	if sc.User == "" {
		return c, errors.New("no user name: the client must send one")
	}
	c.User, c.Database = sc.User, sc.DB
	switch sc.Replication {
	case "":
	case "physical":
		c.Replication = hba.PhysicalReplication
	case "logical":
		c.Replication = hba.LogicalReplication
	default:
		return c, fmt.Errorf("replication %q: want physical, logical or nothing", sc.Replication)
	}
	return c, nil
}

// fileName turns the library's absolute virtual path back into a tab name.
func fileName(abs string) string { return strings.TrimPrefix(abs, "/") }

func problem(e *hba.Error) Problem {
	return Problem{File: fileName(e.Pos.Filename), Line: e.Pos.Line, Message: e.Msg, Log: e.Log, Hint: e.Hint, LogOnly: e.LogOnly}
}

func str(s string) *string { return &s }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func list(l []string) *string {
	if l == nil {
		return nil
	}
	return str("{" + strings.Join(l, ",") + "}")
}

// viewRow renders a ViewRow as the view's text cells, in ViewColumns order.
func viewRow(cols []string, v hba.ViewRow) Row {
	row := Row{File: fileName(v.FileName), Line: v.LineNumber, Error: v.Error != "" && v.Type == ""}
	if v.Line != nil {
		row.File = fileName(v.Line.Pos.Filename)
	}
	row.Cells = make([]*string, 0, len(cols))
	for _, col := range cols {
		var c *string
		switch col {
		case "rule_number":
			if v.RuleNumber != 0 {
				c = str(strconv.Itoa(v.RuleNumber))
			}
		case "file_name":
			c = nullable(v.FileName)
		case "line_number":
			c = str(strconv.Itoa(v.LineNumber))
		case "type":
			c = nullable(v.Type)
		case "database":
			c = list(v.Database)
		case "user_name":
			c = list(v.UserName)
		case "address":
			if v.HasAddress {
				c = str(v.Address)
			}
		case "netmask":
			c = nullable(v.Netmask)
		case "auth_method":
			c = nullable(v.AuthMethod)
		case "options":
			c = list(v.Options)
		case "error":
			c = nullable(v.Error)
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}

func identRow(cols []string, v hba.IdentViewRow) Row {
	row := Row{File: fileName(v.FileName), Line: v.LineNumber, Error: v.Error != ""}
	if v.Line != nil {
		row.File = fileName(v.Line.Pos.Filename)
	}
	ok := v.Error == ""
	for _, col := range cols {
		var c *string
		switch col {
		case "map_number":
			if ok {
				c = str(strconv.Itoa(v.MapNumber))
			}
		case "file_name":
			c = nullable(v.FileName)
		case "line_number":
			c = str(strconv.Itoa(v.LineNumber))
		case "map_name":
			if ok {
				c = str(v.MapName)
			}
		case "sys_name":
			if ok {
				c = str(v.SysName)
			}
		case "pg_username":
			if ok {
				c = str(v.PGUsername)
			}
		case "error":
			c = nullable(v.Error)
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}
