package main

// This file is pghba exposure: who can reach which databases, from where,
// by which method, as a table or JSON.

import (
	"io"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba/audit"
)

const exposureUsage = `usage: pghba exposure [-f FILE] [--json] [--listen ADDRS] [loading flags]

Exposure reads a pg_hba.conf as a PostgreSQL server would and prints who can
reach what: for each rule, the connections it decides (first match wins: what
an earlier rule already decides is not counted again), grouped by method,
transport, databases and users, with the address ranges merged. The most
exposed come first: trust, password, md5, the other methods, reject; then
wider address ranges.

Columns:
  METHOD      the method that decides
  TRANSPORT   local (Unix socket), tcp (any), or tcp: and the encryptions
              admitted (plain, ssl, gss)
  ADDRESSES   client ranges ("A except B, C" when shorter; other ranges
              follow a semicolon), host names, samehost, samenet (with
              "(IPv4)" or "(IPv6)" when only one family is left); "-" for
              local
  DATABASES   names and keywords; "all except x" when earlier rules took x;
              "replication" for physical replication connections
  USERS       likewise
  LINES       the deciding rules (file:line for included files)

Where an earlier rule's reach depends on roles, DNS, interfaces or regular
expressions, the later rule is shown as reaching those connections too: the
table may overstate exposure, never understate it.

Flags:
  -f FILE          the pg_hba.conf (default $PGDATA/pg_hba.conf, else ./pg_hba.conf)
  --lines FILE.json  in place of -f: a JSON array of lines, or {"segments": [...]}
  --json           {"exposure":[{"method":...,"transport":...,"addresses":[...],
                   "except":[...],"databases":[...],"users":[...],
                   "rules":[{"file":...,"line":N}]}]}
  --listen ADDRS   the server's listen_addresses (see pghba help lint): only
                   TCP clients it admits are shown
  --pgdata DIR, --config-file FILE, --dsn URL
                   read the server's own configuration (see pghba help
                   check); its listen_addresses stands for --listen
  --pg-version N, --minor N, --server-ssl on|off, --missing LIST,
  --oauth-validators LIST, --db-user-namespace
                   as for pghba check

Exit status: 0 when the file loads; 1 when it does not, whether it is missing,
unreadable, has a line error or exceeds a load limit (each error is written
to standard error as file:line: message); 2 for bad usage, a failed write to
standard output or standard error, or an internal error.
`

type exposureJSONRow struct {
	Method    string    `json:"method"`
	Transport string    `json:"transport"`
	Addresses []string  `json:"addresses"`
	Except    []string  `json:"except,omitempty"`
	Databases []string  `json:"databases"`
	Users     []string  `json:"users"`
	Rules     []filePos `json:"rules"`
}

func runExposure(inv *invocation, args []string) int {
	var asJSON bool
	var listen listenFlag
	inv.flags.BoolVar(&asJSON, "json", false, "")
	listen.register(inv.flags) // lint.go
	p, err := inv.start(args, 0, listen.check)
	if err == nil {
		err = inv.load.serverListen(&listen)
	}
	if err != nil {
		return inv.exit(err)
	}
	ld := load(p, inv.load.path())
	if ld.rs == nil {
		writeLoadErrors(inv.stderr, ld.errors)
		return exitNotLoaded
	}
	rows := audit.Exposure(ld.file, audit.ExposureOptions{Listen: listen.listen})
	out := make([]exposureJSONRow, 0, len(rows))
	for _, r := range rows {
		j := exposureJSONRow{Method: r.Method.String(), Transport: r.Transport.String(), Addresses: r.Addresses, Except: r.Except,
			Databases: exposureWords(r.Databases), Users: exposureWords(r.Users)}
		if j.Addresses == nil {
			j.Addresses = []string{}
		}
		for _, rule := range r.Rules {
			j.Rules = append(j.Rules, ld.at(rule.Pos()))
		}
		out = append(out, j)
	}
	if asJSON {
		writeJSONLine(inv.stdout, struct {
			Exposure []exposureJSONRow `json:"exposure"`
		}{out})
		return exitOK
	}
	io.WriteString(inv.stdout, exposureTable(out, ld.rel(ld.file.Path)))
	return exitOK
}

// exposureTable is the rows as a text table; rules in the main file, main,
// are given by line number alone.
func exposureTable(out []exposureJSONRow, main string) string {
	table := [][]string{{"METHOD", "TRANSPORT", "ADDRESSES", "DATABASES", "USERS", "LINES"}}
	for _, j := range out {
		addrs := strings.Join(j.Addresses, ", ")
		if len(j.Except) > 0 {
			// Except applies to the first range.
			addrs = j.Addresses[0] + " except " + strings.Join(j.Except, ", ")
			if len(j.Addresses) > 1 {
				addrs += "; " + strings.Join(j.Addresses[1:], ", ")
			}
		}
		if addrs == "" {
			addrs = "-"
		}
		var lines []string
		for _, r := range j.Rules {
			if r.File == main {
				lines = append(lines, strconv.Itoa(r.Line))
			} else {
				lines = append(lines, r.String())
			}
		}
		table = append(table, []string{j.Method, j.Transport, addrs, exposureNames(j.Databases), exposureNames(j.Users), strings.Join(lines, ",")})
	}
	return alignColumns(table)
}

// exposureWords writes a name set as the JSON output's words: its tokens,
// or "all" followed by "!x" for each name x it leaves out.
func exposureWords(n audit.NameSet) []string {
	if !n.All {
		return n.Tokens
	}
	out := []string{"all"}
	for _, x := range n.Except {
		out = append(out, "!"+x)
	}
	return out
}

// exposureNames writes "all", "!x", "!y" as "all except x, y".
func exposureNames(ws []string) string {
	if len(ws) > 1 && ws[0] == "all" {
		var ex []string
		for _, w := range ws[1:] {
			ex = append(ex, strings.TrimPrefix(w, "!"))
		}
		return "all except " + strings.Join(ex, ", ")
	}
	return strings.Join(ws, ", ")
}

// alignColumns aligns columns with two spaces between them; the last
// column is not padded.
func alignColumns(rows [][]string) string {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c + strings.Repeat(" ", width[i]-len(c)+2))
		}
		b.WriteString("\n")
	}
	return b.String()
}
