package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/pghba/pghba/hba"
)

// This file is pghba check --ident FILE --system-user NAME: after the rule
// is decided, the user name check its method runs (the map named by map=,
// or the direct comparison of the names) is made with the pg_ident.conf
// given. check.go calls (*identCheck).register, validate and attach, and
// writeIdentHuman.

const identUsage = `
User name maps:
  --ident FILE             a pg_ident.conf; with it, a decided rule whose method
                           checks user names (ident, peer, gss, sspi, cert,
                           oauth, or clientcert=verify-full) adds the result of
                           that check: "ident" in JSON
  --system-user NAME       the name the method authenticated: the OS user (peer),
                           the ident server's answer, the Kerberos principal
                           name@REALM (gss; include_realm and krb_realm apply),
                           account@DOMAIN (sspi), the certificate CN or DN
                           (cert, clientcert=verify-full), the validator's
                           identity (oauth)
  --krb-caseins-users      krb_caseins_users is on (gss)

The "ident" object is
  {"map":"...","allowed":bool,"file":"...","line":N,"message":"..."}
map is the rule's map= ("" without one: the names are compared); file and
line name the pg_ident.conf line that allowed or stopped the check; message
is the server's log message when the check fails. A pg_ident.conf that does
not load is reported like the pg_hba.conf errors (on standard error, and as
"errors" in the ident object; exit status 1) and checked as the empty map
set the server would run with.
`

// identCheck holds the flags of the user name check.
type identCheck struct {
	file       string
	systemUser string
	caseins    bool
}

// identResult is the "ident" object of check --json.
type identResult struct {
	Map     string `json:"map"`
	Allowed bool   `json:"allowed"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message,omitempty"`
	// Errors are the pg_ident.conf load errors; the check was then made
	// with the empty map set, as the server would.
	Errors []jsonError `json:"errors,omitempty"`
}

func (ic *identCheck) register(fs *flag.FlagSet) {
	fs.StringVar(&ic.file, "ident", "", "")
	fs.StringVar(&ic.systemUser, "system-user", "", "")
	fs.BoolVar(&ic.caseins, "krb-caseins-users", false, "")
}

// validate checks the flags; given holds the flags given. The error is a
// usageError.
func (ic *identCheck) validate(given map[string]bool, batch bool) error {
	switch {
	case given["ident"] && batch:
		return usageError("--ident cannot be used with --batch")
	case given["ident"] != given["system-user"]:
		return usageError("--ident and --system-user go together")
	case given["krb-caseins-users"] && !given["ident"]:
		return usageError("--krb-caseins-users needs --ident")
	}
	return nil
}

// attach runs the check for the decided rule and stores it in res. It
// reports whether pg_ident.conf loaded (true when --ident was not given),
// writing its errors to stderr.
func (ic *identCheck) attach(p *hba.Parser, ld *loaded, c hba.Conn, res *result, stderr io.Writer) bool {
	if ic.file == "" {
		return true
	}
	maps, errs := loadIdent(p, ld, ic.file)
	writeLoadErrors(stderr, errs)
	if ld.rs == nil || (res.Result != "match") {
		return errs == nil
	}
	d := ld.rs.Explain(context.Background(), c)
	r := d.Decision.Rule
	if r == nil || !r.ChecksUserName() {
		return errs == nil
	}
	ir := maps.CheckRule(context.Background(), r, ic.systemUser, d.User, hba.IdentOptions{CaseInsensitive: ic.caseins})
	out := &identResult{Map: ir.Map, Allowed: ir.Allowed, Message: ir.Message, Errors: errs}
	if ir.Line != nil {
		out.File, out.Line = ld.rel(ir.Line.Pos.Filename), ir.Line.Pos.Line
		// Name the line relative to the main file's directory in the
		// message of an unresolved check too.
		out.Message = ld.inMessage(out.Message, ir.Line.Pos)
	}
	res.Ident = out
	return errs == nil
}

// loadIdent loads the pg_ident.conf; on failure it returns nil maps (the
// server's empty map set) and the errors, named relative to the pg_hba.conf
// directory.
func loadIdent(p *hba.Parser, ld *loaded, name string) (*hba.IdentMaps, []jsonError) {
	maps, err := p.LoadIdent(name)
	if err == nil {
		return maps, nil
	}
	return nil, ld.loadErrors(err, name)
}

// writeIdentHuman prints the check for people:
//
//	ident: allowed by pg_ident.conf:3 (map "certs")
//	ident: refused (map "certs"): no match in usermap "certs" for user …
func writeIdentHuman(w io.Writer, res *result) {
	ir := res.Ident
	if ir == nil {
		return
	}
	where := ""
	if ir.File != "" {
		where = " " + ir.File + ":" + strconv.Itoa(ir.Line)
	}
	switch {
	case ir.Allowed && ir.Map == "":
		fmt.Fprintf(w, "ident: allowed (no map: the names are equal)\n")
	case ir.Allowed:
		fmt.Fprintf(w, "ident: allowed by%s (map %s)\n", where, strconv.Quote(ir.Map))
	default:
		m := "no map"
		if ir.Map != "" {
			m = "map " + strconv.Quote(ir.Map)
		}
		fmt.Fprintf(w, "ident: refused%s (%s): %s\n", where, m, ir.Message)
	}
}
