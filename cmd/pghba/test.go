package main

// This file is pghba test: a pg_hba.conf checked against allow/deny
// expectations.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

const testUsage = `usage: pghba test [loading flags] [--roles FILE] [--server-addrs LIST]
                  [--json] [--explain] [-f FILE] EXPECTATIONS|-

Test loads a pg_hba.conf as a PostgreSQL server would and decides the
connection of every line of the EXPECTATIONS file (- for standard input),
checking the verdict and the assertions:

  # verdict  type      address      names and assertions
  allow      host      10.1.2.3     db=app user=alice method=scram-sha-256
  deny       host      203.0.113.9  db=all user=postgres
  allow      local                  db=app user=bob line=4
  allow      hostssl   10.0.0.1     user=alice line=conf.d/app.conf:2
  deny       host      10.1.2.3     user=repl replication=physical

allow: a rule matched and its method is not reject. deny: a reject rule or no
rule at all. A decision that could not be evaluated (a +role or samerole rule
without --roles, a host-name rule whose lookup failed, a regular expression
too complex to evaluate) fails allow and deny alike, "could not be evaluated:
REASON": the server might grant that connection. The type is local,
host or hostnossl (TCP, unencrypted), hostssl (SSL) or hostgssenc (GSSAPI
encryption); TCP types take the client's IP address. user= is required;
db= defaults to the user name; replication=physical|logical. method=NAME
asserts the deciding rule's method, line=N its line in the main file,
line=FILE:N its line in FILE (relative to the main file's directory).
Values may be double-quoted; # starts a comment.

Loading flags are those of pghba rules (-f, --lines, --pgdata DIR,
--config-file FILE, --dsn URL, --pg-version, --minor, --server-ssl, --missing,
--oauth-validators, --db-user-namespace, --hosts);
--roles and --server-addrs are those of pghba check.

Output: each failed expectation with what went wrong and the rule that
decided, then a summary line. --explain adds, for each failure, why every
earlier rule did not match. --json prints one object:
  {"passed":N,"failed":N,"failures":[{"file":…,"line":N,"expectation":…,
   "problems":[…],"decision":{"result":…,"file":…,"line":N,"method":…,
   "raw":…,"message":…},"trace":[…]}]}

Exit status: 0 when every expectation holds; 1 when one fails or the
pg_hba.conf does not load (missing, unreadable, a line error or a load
limit; each error is written to standard error as file:line: message); 2 for
bad usage, an unreadable --roles, --hosts or expectations file (at most
64 MiB), a bad expectation line, a failed write to standard output or
standard error, or an internal error.
`

// testDecision is the deciding rule of a failed expectation.
type testDecision struct {
	Result  string `json:"result"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Method  string `json:"method,omitempty"`
	Raw     string `json:"raw,omitempty"`
	Message string `json:"message,omitempty"`
}

type testFailure struct {
	File        string       `json:"file"`
	Line        int          `json:"line"`
	Expectation string       `json:"expectation"`
	Problems    []string     `json:"problems"`
	Decision    testDecision `json:"decision"`
	Trace       []traceStep  `json:"trace,omitempty"`
}

type testReport struct {
	Passed   int           `json:"passed"`
	Failed   int           `json:"failed"`
	Failures []testFailure `json:"failures"`
	Errors   []jsonError   `json:"errors,omitempty"`
}

// testFlags are the flags of pghba test besides the loading flags.
type testFlags struct {
	json, explain bool
}

func runTest(inv *invocation, args []string) int {
	var f testFlags
	inv.flags.BoolVar(&f.json, "json", false, "")
	inv.flags.BoolVar(&f.explain, "explain", false, "")
	p, err := inv.start(args, 1, func() error {
		if len(inv.args) == 0 {
			return usageError("missing the expectations file")
		}
		return nil
	})
	if err != nil {
		return inv.exit(err)
	}
	// The expectations first: a bad line is a usage error.
	exps, status, ok := readExpectations(inv, inv.args[0])
	if !ok {
		return status
	}
	ld := load(p, inv.load.path())
	if ld.rs == nil {
		writeLoadErrors(inv.stderr, ld.errors)
		if f.json {
			writeJSONLine(inv.stdout, testReport{Failed: len(exps), Failures: []testFailure{}, Errors: ld.errors})
		} else {
			fmt.Fprintf(inv.stdout, "FAIL: the pg_hba.conf did not load (%d error%s); %d expectation%s not checked\n",
				len(ld.errors), plural(len(ld.errors)), len(exps), plural(len(exps)))
		}
		return exitNotLoaded
	}
	rep := f.check(ld, exps)
	if f.json {
		writeJSONLine(inv.stdout, rep)
	} else {
		writeTestReport(inv.stdout, rep)
	}
	if rep.Failed > 0 {
		return exitNotLoaded
	}
	return exitOK
}

// readExpectations reads and parses the expectations file name ("-":
// standard input). When it fails (not ok) it has said why, and status is
// the exit status.
func readExpectations(inv *invocation, name string) (exps []audit.Expectation, status int, ok bool) {
	var data []byte
	var err error
	if name == "-" {
		name = "<stdin>"
		data, err = readLimited(name, inv.stdin, maxSideInput)
	} else {
		data, err = readFileLimited(name, maxSideInput)
	}
	if err != nil {
		return nil, inv.exit(err), false
	}
	exps, err = audit.ParsePolicy(name, data)
	if err != nil {
		var list hba.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintf(inv.stderr, "%s\n", e)
			}
		}
		return nil, exitUsage, false
	}
	return exps, exitOK, true
}

// check decides every expectation and reports the failures.
func (f *testFlags) check(ld *loaded, exps []audit.Expectation) *testReport {
	rep := &testReport{Failures: []testFailure{}}
	for _, r := range audit.CheckPolicy(context.Background(), ld.rs, exps) {
		if r.Passed() {
			rep.Passed++
			continue
		}
		rep.Failed++
		e := r.Expectation
		tf := testFailure{File: e.Pos.Filename, Line: e.Pos.Line, Expectation: e.Text, Problems: r.Problems,
			Decision: testDecision{Result: r.Decision.Outcome.String(), Message: r.Message}}
		if d := r.Decision; d.Rule != nil {
			tf.Decision.File, tf.Decision.Line, tf.Decision.Raw = ld.rel(d.Rule.Pos().Filename), d.Rule.Pos().Line, d.Rule.Raw()
			if d.Outcome == hba.Unresolved {
				tf.Decision.Message = "the rule could not be evaluated: " + d.Reason.String()
				if d.Err != nil {
					tf.Decision.Message += ": " + d.Err.Error()
				}
			} else {
				tf.Decision.Method = d.Rule.Method().String()
			}
		}
		if f.explain {
			_, tf.Trace = explainTrace(ld, e.Conn)
		}
		rep.Failures = append(rep.Failures, tf)
	}
	return rep
}

// writeTestReport prints the failures and a summary:
//
//	FAIL policy.txt:3: allow host 10.1.2.3 db=app user=alice
//	    expected allow, got deny (reject rule)
//	    decided by pg_hba.conf:2: "host all all 10.0.0.0/8 reject"
//	    message: pg_hba.conf rejects connection for host "10.1.2.3", …
func writeTestReport(w io.Writer, rep *testReport) {
	var b strings.Builder
	for _, f := range rep.Failures {
		fmt.Fprintf(&b, "FAIL %s:%d: %s\n", f.File, f.Line, f.Expectation)
		for _, p := range f.Problems {
			fmt.Fprintf(&b, "    %s\n", p)
		}
		d := f.Decision
		if d.File != "" {
			fmt.Fprintf(&b, "    decided by %s:%d: %s\n", d.File, d.Line, strconv.Quote(d.Raw))
		} else {
			b.WriteString("    decided by no rule\n")
		}
		if d.Message != "" {
			fmt.Fprintf(&b, "    message: %s\n", d.Message)
		}
		if len(f.Trace) > 0 {
			b.WriteString("    earlier rules:\n")
		}
		for _, s := range f.Trace {
			fmt.Fprintf(&b, "      %s:%d: %s\n", s.File, s.Line, s.Reason)
		}
	}
	total := rep.Passed + rep.Failed
	if rep.Failed == 0 {
		fmt.Fprintf(&b, "ok: %d expectation%s passed\n", total, plural(total))
	} else {
		fmt.Fprintf(&b, "FAIL: %d of %d expectation%s failed\n", rep.Failed, total, plural(total))
	}
	io.WriteString(w, b.String())
}
