package audit

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

// A policy file states what a pg_hba.conf must allow and deny, one
// connection per line, for tests a DBA runs in CI:
//
//	# verdict  type      address     names and assertions
//	allow      host      10.1.2.3    db=app user=alice method=scram-sha-256
//	deny       host      203.0.113.9 db=all user=postgres
//	allow      local                 db=app user=bob line=4
//	allow      hostssl   10.0.0.1    db=app user=alice line=conf.d/app.conf:2
//	deny       host      10.1.2.3    user=repl replication=physical
//
// The verdict is allow (a rule matched and its method is not reject) or
// deny (a reject rule, or no rule). A decision that could not be evaluated
// (Unresolved: a rule needed a source that was not given, a lookup failed,
// a regular expression was too complex to evaluate) fails both verdicts
// with "could not be evaluated: REASON": PostgreSQL refuses no such
// connection for that reason, and might grant it, so a deny that passed
// on it would be a false assurance.
// The type is local (Unix-domain socket) or a TCP connection: host and
// hostnossl are unencrypted, hostssl is SSL-encrypted, hostgssenc is
// GSSAPI-encrypted. TCP types take the client's IP address next.
//
// Then name=value words: user= (required), db= (default: the user name),
// replication=physical|logical, and the assertions method=NAME (the
// deciding rule's method) and line=N or line=FILE:N (the deciding rule's
// line in the main file, or in FILE relative to the main file's directory).
// A value may be double-quoted ("my db", "" for a quote inside). # starts a
// comment outside quotes; blank lines are ignored.

// ErrPolicy is the category of policy-file syntax errors.
var ErrPolicy = errors.New("invalid policy line")

// Expectation is one line of a policy file.
type Expectation struct {
	// Pos is the line in the policy file.
	Pos hba.Position
	// Text is the line without its comment and surrounding blanks.
	Text string
	// Allow is the verdict: true for allow, false for deny.
	Allow bool
	// Conn is the connection to decide.
	Conn hba.Conn
	// Method, when valid, is the method the deciding rule must have.
	Method hba.Method
	// RuleLine, when non-zero, is the line the deciding rule must be on, in
	// RuleFile ("" for the main file; otherwise relative to the main file's
	// directory, or absolute).
	RuleFile string
	RuleLine int
}

// ParsePolicy reads a policy file. name places the errors. The error, when
// not nil, is an ErrorList of every bad line; the expectations of the good
// lines are returned with it.
func ParsePolicy(name string, data []byte) ([]Expectation, error) {
	var out []Expectation
	var errs hba.ErrorList
	for i, line := range strings.Split(string(data), "\n") {
		pos := hba.Position{Filename: name, Line: i + 1}
		words, err := policyWords(line)
		if err != "" {
			errs = append(errs, &hba.Error{Pos: pos, Msg: err, Err: ErrPolicy})
			continue
		}
		if len(words) == 0 {
			continue
		}
		e, msg := parseExpectation(words)
		if msg != "" {
			errs = append(errs, &hba.Error{Pos: pos, Msg: msg, Err: ErrPolicy})
			continue
		}
		e.Pos = pos
		e.Text = strings.Join(rawWords(words), " ")
		out = append(out, e)
	}
	return out, errs.Err()
}

// policyWord is one blank-separated word: its text as written and its
// value with quotes removed.
type policyWord struct {
	raw, value string
}

func rawWords(ws []policyWord) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.raw
	}
	return out
}

// policyWords splits a line at blanks outside double quotes and stops at a
// # outside quotes.
func policyWords(line string) ([]policyWord, string) {
	var out []policyWord
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == '\t' || c == '\r' {
			i++
			continue
		}
		if c == '#' {
			break
		}
		start := i
		var v strings.Builder
		for i < len(line) && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '#' {
			if line[i] != '"' {
				v.WriteByte(line[i])
				i++
				continue
			}
			i++
			for {
				if i >= len(line) {
					return nil, "unterminated quoted value"
				}
				if line[i] == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						v.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				v.WriteByte(line[i])
				i++
			}
		}
		out = append(out, policyWord{raw: line[start:i], value: v.String()})
	}
	return out, ""
}

func parseExpectation(words []policyWord) (Expectation, string) {
	var e Expectation
	switch words[0].raw {
	case "allow":
		e.Allow = true
	case "deny":
	default:
		return e, "want allow or deny first, not " + strconv.Quote(words[0].raw)
	}
	if len(words) < 2 {
		return e, "missing connection type (local, host, hostssl, hostnossl, hostgssenc)"
	}
	typ := parseConnType(words[1].raw)
	rest := words[2:]
	switch typ {
	case hba.Local:
		e.Conn.Local = true
	case hba.Host, hba.HostNoSSL, hba.HostNoGSSEnc, hba.HostSSL, hba.HostGSSEnc:
		if len(rest) == 0 || strings.Contains(rest[0].raw, "=") {
			return e, "missing client address after " + words[1].raw
		}
		a, err := netip.ParseAddr(rest[0].value)
		if err != nil {
			return e, "client address " + strconv.Quote(rest[0].value) + " is not an IP address"
		}
		e.Conn.Addr = a
		e.Conn.SSL = typ == hba.HostSSL
		e.Conn.GSS = typ == hba.HostGSSEnc
		rest = rest[1:]
	default:
		return e, "unknown connection type " + strconv.Quote(words[1].raw) + " (want local, host, hostssl, hostnossl, hostgssenc)"
	}
	seen := map[string]bool{}
	hasUser := false
	for _, w := range rest {
		k, v, ok := strings.Cut(w.value, "=")
		if !ok {
			return e, "want name=value, not " + strconv.Quote(w.raw)
		}
		if seen[k] {
			return e, k + "= given twice"
		}
		seen[k] = true
		switch k {
		case "user":
			if v == "" {
				return e, "user= is empty"
			}
			e.Conn.User, hasUser = v, true
		case "db":
			e.Conn.Database = v
		case "replication":
			switch v {
			case "physical":
				e.Conn.Replication = hba.PhysicalReplication
			case "logical":
				e.Conn.Replication = hba.LogicalReplication
			default:
				return e, "replication=" + strconv.Quote(v) + ": want physical or logical"
			}
		case "method":
			e.Method = parseMethod(v)
			if !e.Method.IsValid() {
				return e, "unknown method " + strconv.Quote(v)
			}
			if e.Allow && e.Method == hba.Reject {
				return e, "allow with method=reject can never pass: a reject rule denies"
			}
			if !e.Allow && e.Method != hba.Reject {
				return e, "deny with method=" + v + " can never pass: only method=reject denies through a rule"
			}
		case "line":
			file, num := "", v
			if i := strings.LastIndexByte(v, ':'); i >= 0 {
				file, num = v[:i], v[i+1:]
				if file == "" {
					return e, "line=" + strconv.Quote(v) + ": empty file name"
				}
			}
			n, err := strconv.Atoi(num)
			if err != nil || n <= 0 {
				return e, "line=" + strconv.Quote(v) + ": want a line number, or FILE:N"
			}
			e.RuleFile, e.RuleLine = file, n
		default:
			return e, "unknown name " + strconv.Quote(k) + " (want user, db, replication, method, line)"
		}
	}
	if !hasUser {
		return e, "missing user="
	}
	return e, ""
}

// PolicyResult is the outcome of one expectation.
type PolicyResult struct {
	Expectation Expectation
	// Decision is what the rules decided, and Message PostgreSQL's client
	// message for it ("" for Matched).
	Decision hba.Decision
	Message  string
	// Problems lists what did not hold, in words; empty when the
	// expectation passed.
	Problems []string
}

// Passed reports whether the expectation held.
func (r *PolicyResult) Passed() bool { return len(r.Problems) == 0 }

// CheckPolicy decides the connection of every expectation and checks the
// verdict and assertions. It returns one result per expectation, in order.
func CheckPolicy(ctx context.Context, rs *hba.Ruleset, exps []Expectation) []PolicyResult {
	out := make([]PolicyResult, 0, len(exps))
	for _, e := range exps {
		d := rs.Decide(ctx, e.Conn)
		r := PolicyResult{Expectation: e, Decision: d, Message: rs.Message(d, e.Conn)}
		allowed := d.Outcome == hba.Matched
		switch {
		case d.Outcome == hba.Unresolved:
			r.Problems = append(r.Problems, unresolvedText(rs, d))
		case e.Allow && !allowed:
			r.Problems = append(r.Problems, "expected allow, got "+verdictText(d))
		case !e.Allow && allowed:
			r.Problems = append(r.Problems, "expected deny, got "+verdictText(d))
		}
		if e.Method.IsValid() {
			switch {
			case d.Rule == nil || d.Outcome == hba.Unresolved:
				r.Problems = append(r.Problems, "expected method "+e.Method.String()+", but no rule decided")
			case d.Rule.Method() != e.Method:
				r.Problems = append(r.Problems, "expected method "+e.Method.String()+", got "+d.Rule.Method().String())
			}
		}
		if e.RuleLine > 0 {
			want := policyRulePos(rs, e)
			switch {
			case d.Rule == nil:
				r.Problems = append(r.Problems, "expected the rule at "+e.ruleText()+", but no rule decided")
			case d.Rule.Pos().Filename != want.Filename || d.Rule.Pos().Line != want.Line:
				r.Problems = append(r.Problems, "expected the rule at "+e.ruleText()+", got "+relPos(rs, d.Rule.Pos()))
			}
		}
		out = append(out, r)
	}
	return out
}

// unresolvedText is the problem of an expectation whose decision could
// not be evaluated, allow or deny alike.
func unresolvedText(rs *hba.Ruleset, d hba.Decision) string {
	msg := "could not be evaluated: " + d.Reason.String()
	if d.Err != nil {
		msg += ": " + d.Err.Error()
	}
	if d.Rule != nil {
		msg += " (at " + relPos(rs, d.Rule.Pos()) + ")"
	}
	return msg
}

func verdictText(d hba.Decision) string {
	switch d.Outcome {
	case hba.Matched:
		return "allow (method " + d.Rule.Method().String() + ")"
	case hba.Rejected:
		return "deny (reject rule)"
	case hba.NoMatch:
		return "deny (no matching rule)"
	}
	return "deny (unresolved: " + d.Reason.String() + ")"
}

// ruleText is the line= assertion as written.
func (e *Expectation) ruleText() string {
	if e.RuleFile == "" {
		return "line " + strconv.Itoa(e.RuleLine)
	}
	return e.RuleFile + ":" + strconv.Itoa(e.RuleLine)
}

// policyRulePos is the position a line= assertion names.
func policyRulePos(rs *hba.Ruleset, e Expectation) hba.Position {
	file := rs.Path()
	if e.RuleFile != "" {
		file = e.RuleFile
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(rs.Path()), file)
		}
		file = filepath.Clean(file)
	}
	return hba.Position{Filename: file, Line: e.RuleLine}
}

// relPos names a rule's position relative to the main file's directory.
func relPos(rs *hba.Ruleset, p hba.Position) string {
	if r, err := filepath.Rel(filepath.Dir(rs.Path()), p.Filename); err == nil && !strings.HasPrefix(r, "..") {
		p.Filename = filepath.ToSlash(r)
	}
	return p.String()
}

// parseConnType returns the connection type spelled s, or 0.
func parseConnType(s string) hba.ConnType {
	for t := hba.Local; t.IsValid(); t++ {
		if t.String() == s {
			return t
		}
	}
	return 0
}

// parseMethod returns the method spelled s, or 0.
func parseMethod(s string) hba.Method {
	for m := hba.Trust; m.IsValid(); m++ {
		if m.String() == s {
			return m
		}
	}
	return 0
}
