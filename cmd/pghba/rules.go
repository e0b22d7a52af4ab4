package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pghba/pghba/hba"
)

func init() {
	register(&command{
		name:    "rules",
		summary: "show the rows of pg_hba_file_rules or pg_ident_file_mappings",
		usage:   rulesUsage,
		run:     runRules,
	})
}

const rulesUsage = `usage: pghba rules [loading flags] [--json] [-f FILE]
       pghba rules [loading flags] [--json] --ident FILE

Rules prints the rows PostgreSQL's pg_hba_file_rules view would show for a
pg_hba.conf (with --ident, the rows of pg_ident_file_mappings for a
pg_ident.conf, PostgreSQL 15 and later): one row per non-empty line, included
files in place, with the columns of the chosen version (16 and later start
with rule_number and file_name; pg_ident_file_mappings with map_number and
file_name). A line that failed shows only its position and the error; a
rule that loads but can never match shows its warning as the error.

Loading flags:
  -f FILE                  the pg_hba.conf to read (default $PGDATA/pg_hba.conf,
                           else ./pg_hba.conf)
  --ident FILE             read this pg_ident.conf instead
  --pg-version N           PostgreSQL major version, 13 to 18 (default 18)
  --minor N                minor release (default: the newest)
  --server-ssl on|off      the server's ssl setting (default off)
  --missing LIST           build features the server lacks, from
                           gssapi,ldap,pam,bsd,sspi,ssl (default bsd,sspi)
  --oauth-validators LIST  oauth_validator_libraries (18; default empty)
  --db-user-namespace      db_user_namespace is on (13 to 16)
  --hosts FILE             host table for radiusservers names (see pghba help
                           check); default: the system resolver

Output:
  --json                   a JSON array of objects, one per row, keyed by
                           column name; NULL is null
  --relative               file_name relative to the main file's directory
                           (the server shows absolute paths)

Without --json the rows are printed as psql prints a query result: a
centred header, a separator, one line per row with arrays as {a,b} and NULL
as nothing, and a (N rows) footer.

Exit status: 0 when the file would load; 1 when it would not: the file
cannot be read (each error is written to standard error as
file:line: message, and no row is printed), or some line has an error (the
rows are still printed, the error in its row) or a pg_hba.conf has no rule
(said on standard error); 2 for bad usage, an unreadable --hosts file or a
failed write.
`

// loadFlags are the flags that describe the server that reads the files,
// shared by rules and test.
type loadFlags struct {
	cmd string
	serverFlags
	hostsFile string
	set       map[string]bool
}

func (lf *loadFlags) add(fs *flag.FlagSet) {
	lf.serverFlags.add(fs)
	fs.StringVar(&lf.hostsFile, "hosts", "", "")
}

// parse parses args into fs and returns the arguments left, or an exit
// status when the command must stop (help, bad flags).
func (lf *loadFlags) parse(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) ([]string, int, bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	// Flags may follow the arguments: parse again after each argument.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				io.WriteString(stdout, usage)
				return nil, exitOK, false
			}
			return nil, cmdUsageError(stderr, lf.cmd, ""), false
		}
		left := fs.Args()
		if len(left) == 0 {
			break
		}
		if n := len(args) - len(left); n > 0 && args[n-1] == "--" {
			rest = append(rest, left...)
			break
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
	lf.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { lf.set[fl.Name] = true })
	return rest, 0, true
}

// parser checks the loading flags and returns the Parser they describe.
func (lf *loadFlags) parser(stderr io.Writer) (*hba.Parser, int, bool) {
	if lf.version < hba.MinVersion || lf.version > hba.MaxVersion {
		return nil, cmdUsageError(stderr, lf.cmd, fmt.Sprintf("--pg-version %d: want %d to %d", lf.version, hba.MinVersion, hba.MaxVersion)), false
	}
	if lf.minor < 0 {
		return nil, cmdUsageError(stderr, lf.cmd, fmt.Sprintf("--minor %d: want 0 or more", lf.minor)), false
	}
	if lf.set["db-user-namespace"] && lf.version > 16 {
		return nil, cmdUsageError(stderr, lf.cmd, fmt.Sprintf("--db-user-namespace: the setting does not exist in PostgreSQL %d", lf.version)), false
	}
	features, err := hba.ParseMissing(lf.missing)
	if err != nil {
		return nil, cmdUsageError(stderr, lf.cmd, "--missing: "+err.Error()), false
	}
	pv := lf.hbaParser(features)
	p := &pv
	if lf.hostsFile != "" {
		var h hba.HostTable
		if err := readJSONFile(lf.hostsFile, &h); err != nil {
			return nil, cmdIOError(stderr, lf.cmd, "--hosts: "+err.Error()), false
		}
		if err := h.Validate(); err != nil {
			return nil, cmdIOError(stderr, lf.cmd, "--hosts: "+lf.hostsFile+": "+err.Error()), false
		}
		p.Env.Resolver = h
		p.RADIUSResolver = h
	} else {
		p.Env.Resolver = net.DefaultResolver
		p.RADIUSResolver = net.DefaultResolver
	}
	return p, 0, true
}

// path is the pg_hba.conf to read.
func (lf *loadFlags) path() string {
	if lf.file != "" {
		return lf.file
	}
	return defaultHBAPath()
}

func cmdUsageError(stderr io.Writer, cmd, msg string) int {
	if msg != "" {
		fmt.Fprintf(stderr, "pghba %s: %s\n", cmd, msg)
	}
	fmt.Fprintf(stderr, "Run 'pghba help %s' for usage.\n", cmd)
	return exitUsage
}

func cmdIOError(stderr io.Writer, cmd, msg string) int {
	fmt.Fprintf(stderr, "pghba %s: %s\n", cmd, msg)
	return exitUsage
}

func runRules(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	lf := loadFlags{cmd: "rules"}
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	lf.add(fs)
	var asJSON bool
	var identFile string
	var relative bool
	fs.BoolVar(&asJSON, "json", false, "")
	fs.BoolVar(&relative, "relative", false, "")
	fs.StringVar(&identFile, "ident", "", "")
	rest, code, ok := lf.parse(fs, args, rulesUsage, stdout, stderr)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return cmdUsageError(stderr, "rules", fmt.Sprintf("unexpected argument %q", rest[0]))
	}
	p, code, ok := lf.parser(stderr)
	if !ok {
		return code
	}
	var t *viewTable
	failed := false
	if lf.set["ident"] {
		if lf.set["f"] {
			return cmdUsageError(stderr, "rules", "-f and --ident cannot both be given")
		}
		if lf.version < 15 {
			return cmdUsageError(stderr, "rules", fmt.Sprintf("--ident: pg_ident_file_mappings does not exist in PostgreSQL %d", lf.version))
		}
		f, err := p.ParseIdentFile(identFile)
		if err != nil {
			return notLoaded(stderr, identFile, err)
		}
		t = identTable(lf.version, f, fileNamer(relative, f.Path))
		failed = len(f.Errors) > 0
	} else {
		f, err := p.ParseFile(lf.path())
		if err != nil {
			return notLoaded(stderr, lf.path(), err)
		}
		t = hbaTable(lf.version, f, fileNamer(relative, f.Path))
		failed = len(f.Errors) > 0 || len(f.Rules) == 0 // the server refuses a file without rules
		if len(f.Errors) == 0 && len(f.Rules) == 0 {
			// No row says why the file does not load: say it as the
			// other commands do.
			if _, err := p.Compile(f); err != nil {
				dir := filepath.Dir(f.Path)
				writeLoadErrors(stderr, loadErrors(err, f.Path, func(name string) string { return lintRel(dir, name) }))
			}
		}
	}
	if asJSON {
		t.writeJSON(stdout)
	} else {
		t.writeAligned(stdout)
	}
	if failed {
		return exitNotLoaded
	}
	return exitOK
}

// notLoaded reports that the file path, a main file, could not be read at
// all: err as file:line: message, the file named relative to its
// directory, as pghba check names it. The status is exitNotLoaded.
func notLoaded(stderr io.Writer, path string, err error) int {
	abs, aerr := filepath.Abs(path)
	if aerr != nil {
		abs = filepath.Clean(path)
	}
	dir := filepath.Dir(abs)
	writeLoadErrors(stderr, loadErrors(err, abs, func(name string) string { return lintRel(dir, name) }))
	return exitNotLoaded
}

// viewCell is one value of a result table.
type viewCell struct {
	null  bool
	num   bool     // an integer column: right-aligned, a JSON number
	array bool     // a text[] column
	s     string   // text and numbers
	a     []string // arrays
}

func textCell(s string, ok bool) viewCell    { return viewCell{s: s, null: !ok} }
func numCell(n int, ok bool) viewCell        { return viewCell{s: strconv.Itoa(n), num: true, null: !ok} }
func arrayCell(a []string, ok bool) viewCell { return viewCell{a: a, array: true, null: !ok} }

// viewTable is a query result: column names and rows.
type viewTable struct {
	cols    []string
	numeric []bool
	rows    [][]viewCell
}

// fileNamer returns how the file_name column names a file: as it is, or
// relative to the main file's directory.
func fileNamer(relative bool, main string) func(string) string {
	if !relative {
		return func(s string) string { return s }
	}
	dir := filepath.Dir(main)
	return func(s string) string {
		if r, err := filepath.Rel(dir, s); err == nil {
			return filepath.ToSlash(r)
		}
		return s
	}
}

func hbaTable(version int, f *hba.File, name func(string) string) *viewTable {
	t := &viewTable{cols: hba.ViewColumns(version)}
	for _, r := range f.ViewRows() {
		var row []viewCell
		if version >= 16 {
			row = append(row, numCell(r.RuleNumber, r.RuleNumber != 0), textCell(name(r.FileName), true))
		}
		row = append(row,
			numCell(r.LineNumber, true),
			textCell(r.Type, r.Type != ""),
			arrayCell(r.Database, r.Database != nil),
			arrayCell(r.UserName, r.UserName != nil),
			textCell(r.Address, r.HasAddress),
			textCell(r.Netmask, r.Netmask != ""),
			textCell(r.AuthMethod, r.AuthMethod != ""),
			arrayCell(r.Options, r.Options != nil),
			textCell(r.Error, r.Error != ""))
		t.rows = append(t.rows, row)
	}
	t.setNumeric()
	return t
}

func identTable(version int, f *hba.IdentFile, name func(string) string) *viewTable {
	t := &viewTable{cols: hba.IdentViewColumns(version)}
	for _, r := range f.ViewRows() {
		data := r.Error == ""
		var row []viewCell
		if version >= 16 {
			row = append(row, numCell(r.MapNumber, r.MapNumber != 0), textCell(name(r.FileName), true))
		}
		row = append(row,
			numCell(r.LineNumber, true),
			textCell(r.MapName, data),
			textCell(r.SysName, data),
			textCell(r.PGUsername, data),
			textCell(r.Error, !data))
		t.rows = append(t.rows, row)
	}
	t.setNumeric()
	return t
}

func (t *viewTable) setNumeric() {
	t.numeric = make([]bool, len(t.cols))
	for i, c := range t.cols {
		t.numeric[i] = c == "rule_number" || c == "line_number" || c == "map_number"
	}
}

// arrayText is PostgreSQL's text form of a text[] ({a,"b c"}).
func arrayText(a []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if s == "" || strings.EqualFold(s, "NULL") || strings.ContainsAny(s, "{},\"\\ \t\n\r\v\f") {
			b.WriteByte('"')
			for _, c := range []byte(s) {
				if c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
			b.WriteByte('"')
			continue
		}
		b.WriteString(s)
	}
	b.WriteByte('}')
	return b.String()
}

func (c viewCell) display() string {
	switch {
	case c.null:
		return ""
	case c.array:
		return arrayText(c.a)
	}
	return c.s
}

// width is the display width psql gives a value: one column per character.
func displayWidth(s string) int { return utf8.RuneCountInString(s) }

// writeAligned prints the table as psql's aligned format does.
func (t *viewTable) writeAligned(w io.Writer) {
	widths := make([]int, len(t.cols))
	for i, c := range t.cols {
		widths[i] = displayWidth(c)
	}
	texts := make([][]string, len(t.rows))
	for r, row := range t.rows {
		texts[r] = make([]string, len(row))
		for i, c := range row {
			texts[r][i] = c.display()
			widths[i] = max(widths[i], displayWidth(texts[r][i]))
		}
	}
	var b strings.Builder
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(" |")
		}
		pad := widths[i] - displayWidth(c)
		b.WriteString(" " + strings.Repeat(" ", pad/2) + c + strings.Repeat(" ", pad-pad/2))
	}
	b.WriteString(" \n")
	for i := range t.cols {
		if i > 0 {
			b.WriteByte('+')
		}
		b.WriteString(strings.Repeat("-", widths[i]+2))
	}
	b.WriteByte('\n')
	for _, row := range texts {
		for i, s := range row {
			if i > 0 {
				b.WriteString(" |")
			}
			pad := strings.Repeat(" ", widths[i]-displayWidth(s))
			switch {
			case t.numeric[i]:
				b.WriteString(" " + pad + s)
			case i == len(row)-1:
				b.WriteString(" " + s)
			default:
				b.WriteString(" " + s + pad)
			}
		}
		b.WriteByte('\n')
	}
	if len(t.rows) == 1 {
		b.WriteString("(1 row)\n\n")
	} else {
		fmt.Fprintf(&b, "(%d rows)\n\n", len(t.rows))
	}
	io.WriteString(w, b.String())
}

// writeJSON prints the rows as a JSON array of objects, one row per line.
func (t *viewTable) writeJSON(w io.Writer) {
	var b strings.Builder
	b.WriteString("[")
	for r, row := range t.rows {
		if r > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{")
		for i, c := range row {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(jsonQuote(t.cols[i]) + ":")
			switch {
			case c.null:
				b.WriteString("null")
			case c.num:
				b.WriteString(c.s)
			case c.array:
				b.WriteString("[")
				for k, s := range c.a {
					if k > 0 {
						b.WriteString(",")
					}
					b.WriteString(jsonQuote(s))
				}
				b.WriteString("]")
			default:
				b.WriteString(jsonQuote(c.s))
			}
		}
		b.WriteString("}")
	}
	if len(t.rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	io.WriteString(w, b.String())
}

func jsonQuote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
