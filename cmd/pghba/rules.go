package main

// This file is pghba rules: the rows of pg_hba_file_rules or
// pg_ident_file_mappings. viewtable.go prints them.

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/pghba/pghba/cmd/pghba/internal/live"
	"github.com/pghba/pghba/hba"
)

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
  --lines FILE.json        in place of -f: the pg_hba.conf as a JSON array of lines
                           or {"segments": [{"name": N, "lines": [...]}, ...]};
                           places are NAME[INDEX]; includes and @file are refused
  --ident FILE             read this pg_ident.conf instead
  --pgdata DIR             read the server's own configuration from its data
                           directory: PG_VERSION, postgresql.conf and
                           postgresql.auto.conf (with their includes), for the
                           version, hba_file, ssl, ssl_ca_file,
                           listen_addresses, password_encryption,
                           db_user_namespace and oauth_validator_libraries; the
                           flags given explicitly win over what it read
  --config-file FILE            the same from a postgresql.conf outside the data
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
  --minor N                minor release (default: the newest)
  --server-ssl on|off      the server's ssl setting (default off)
  --missing LIST           build features the server lacks, from
                           gssapi,ldap,pam,bsd,sspi,ssl (default bsd,sspi)
  --oauth-validators LIST  oauth_validator_libraries (18; default empty)
  --db-user-namespace      db_user_namespace is on (13 to 16)
  --hosts FILE             host table for radiusservers names (see pghba help
                           check); default: the system resolver

With --dsn, the rows are the server's own pg_hba_file_rules (with --ident,
pg_ident_file_mappings), which need superuser.

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

func runRules(inv *invocation, args []string) int {
	var asJSON, relative bool
	var identFile string
	inv.flags.BoolVar(&asJSON, "json", false, "")
	inv.flags.BoolVar(&relative, "relative", false, "")
	inv.flags.StringVar(&identFile, "ident", "", "")
	inv.load.withViews = true // --dsn: what the server reads
	p, err := inv.start(args, 0, func() error {
		switch {
		case inv.given["ident"] && inv.given["f"]:
			return usageError("-f and --ident cannot both be given")
		case inv.given["ident"] && inv.load.version < 15:
			return badUsage("--ident: pg_ident_file_mappings does not exist in PostgreSQL %d", inv.load.version)
		}
		return nil
	})
	if err != nil {
		return inv.exit(err)
	}
	if f := inv.load.live; f != nil {
		return liveRules(inv, f, inv.given["ident"], asJSON)
	}
	version := inv.load.version
	var t *viewTable
	var loads bool
	if inv.given["ident"] {
		f, err := p.ParseIdentFile(identFile)
		if err != nil {
			return notLoaded(inv.stderr, identFile, err)
		}
		t = identTable(version, f, fileNamer(relative, f.Path))
		loads = len(f.Errors) == 0
	} else {
		f, n, err := readMain(p, inv.load.path())
		if err != nil {
			return notLoaded(inv.stderr, inv.load.path(), err)
		}
		t = hbaTable(version, f, fileNamer(relative, f.Path))
		loads = len(f.Errors) == 0 && len(f.Rules) > 0 // the server refuses a file without rules
		if len(f.Errors) == 0 && len(f.Rules) == 0 {
			// No row says why the file does not load: say it as the
			// other commands do.
			if _, err := p.Compile(f); err != nil {
				writeLoadErrors(inv.stderr, n.loadErrors(err, f.Path))
			}
		}
	}
	if asJSON {
		t.writeJSON(inv.stdout)
	} else {
		t.writeAligned(inv.stdout)
	}
	if !loads {
		return exitNotLoaded
	}
	return exitOK
}

// notLoaded reports that the file path, the main file of the command, could
// not be read at all: err as file:line: message, the file named relative to
// its directory, as pghba check names it. The status is exitNotLoaded.
func notLoaded(stderr io.Writer, path string, err error) int {
	writeLoadErrors(stderr, namerFor(path).loadErrors(err, path))
	return exitNotLoaded
}

// fileNamer returns how the file_name column names a file: as it is, or
// relative to the directory of the main file, main, with forward slashes.
func fileNamer(relative bool, main string) func(string) string {
	if !relative {
		return func(s string) string { return s }
	}
	n := namer{dir: filepath.Dir(main)}
	return func(s string) string { return filepath.ToSlash(n.rel(s)) }
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

// liveRules prints the rows of pg_hba_file_rules (or, with --ident,
// pg_ident_file_mappings) as the server --dsn names shows them: its own
// text forms, arrays included.
func liveRules(inv *invocation, f *live.Facts, ident, asJSON bool) int {
	view, cols, arrays, rows := "pg_hba_file_rules", f.HBAColumns, f.HBAArrays, f.HBARules
	if ident {
		view, cols, arrays, rows = "pg_ident_file_mappings", f.IdentColumns, f.IdentArrays, f.IdentMappings
	}
	if rows == nil {
		fmt.Fprintf(inv.stderr, "pghba rules: --dsn: %s: %s cannot be read by this role (it needs superuser, or a GRANT SELECT on the view)\n", f.Host, view)
		return exitUsage
	}
	t := &viewTable{cols: cols}
	errCol := -1
	for i, c := range cols {
		if c == "error" {
			errCol = i
		}
	}
	loads := true
	for _, r := range rows {
		var row []viewCell
		for i, v := range r {
			s := ""
			if v != nil {
				s = *v
			}
			cell := textCell(s, v != nil)
			if a, ok := live.ParseArray(s); ok && asJSON && arrays[i] {
				cell = arrayCell(a, true) // aligned output keeps the server's own text
			}
			row = append(row, cell)
			if i == errCol && v != nil {
				loads = false
			}
		}
		t.rows = append(t.rows, row)
	}
	t.setNumeric()
	for i := range t.cols {
		if t.numeric[i] {
			for _, row := range t.rows {
				row[i].num = true
			}
		}
	}
	if asJSON {
		t.writeJSON(inv.stdout)
	} else {
		t.writeAligned(inv.stdout)
	}
	if !loads {
		return exitNotLoaded
	}
	return exitOK
}
