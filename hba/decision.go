package hba

// The result of matching: Conn (what is matched), Decision, Outcome and
// Reason, the errors Match returns and PostgreSQL's client messages.

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/pghba/pghba/internal/pgre"
)

// Replication is the kind of replication connection.
type Replication uint8

// Replication kinds. The zero value is an ordinary connection.
const (
	NoReplication       Replication = iota
	PhysicalReplication             // replication=true: matches only the replication keyword
	LogicalReplication              // replication=database: matches by database name
)

// String returns "", "physical" or "logical".
func (r Replication) String() string {
	switch r {
	case PhysicalReplication:
		return "physical"
	case LogicalReplication:
		return "logical"
	}
	return ""
}

// Conn describes an incoming connection as the server sees it when it picks
// a pg_hba.conf rule.
type Conn struct {
	// Local is true for a Unix-domain socket connection; Addr is then ignored.
	Local bool
	// Addr is the client address of a TCP connection. An IPv4-mapped IPv6
	// address is an IPv6 client, as on a PostgreSQL socket.
	Addr netip.Addr
	// SSL and GSS report SSL or GSSAPI encryption (TCP only).
	SSL, GSS bool
	// Database is the requested database; "" means the user name, as in
	// PostgreSQL. Physical replication matches no database; there it only
	// matters for db_user_namespace, which appends it to the user name.
	Database string
	// User is the requested role name.
	User        string
	Replication Replication
}

// Outcome is the kind of a decision.
type Outcome uint8

// Outcomes.
const (
	// NoMatch: no rule matched; PostgreSQL refuses with "no pg_hba.conf entry".
	NoMatch Outcome = iota
	// Matched: a rule matched; its method decides.
	Matched
	// Rejected: the matched rule's method is reject.
	Rejected
	// Unresolved: a rule could not be evaluated, because a source in Env was
	// missing or failed or because a regular expression was too complex to
	// evaluate; the connection must be refused. Rule is then that rule.
	Unresolved
)

var outcomeNames = [...]string{"no-match", "match", "reject", "unresolved"}

// String returns "no-match", "match", "reject" or "unresolved".
func (o Outcome) String() string { return outcomeNames[o] }

// Reason is a static explanation for an Unresolved decision. The package
// documentation ("Server facts and outside sources") lists which outcome of
// which source gives which reason.
type Reason uint8

// Reasons.
const (
	ReasonNone             Reason = iota
	ReasonNoRoles                 // a role-membership test needs Env.Roles
	ReasonRolesFailed             // Env.Roles returned an error
	ReasonNoResolver              // a host-name rule needs Env.Resolver
	ReasonResolverCanceled        // the context ended during a host-name lookup
	ReasonInterfacesFailed        // Env.Interfaces returned an error
	ReasonRegexTooComplex         // a /regex token's match hit the matcher's work limit or failed
	ReasonResolverFailed          // Env.Resolver failed or timed out (other than "not found")
)

var reasonTexts = [...]string{
	"",
	"the rule tests role membership and no role source was given",
	"the role-membership lookup failed",
	"the rule names a host and no resolver was given",
	"the host-name lookup was canceled",
	"the network interfaces could not be listed",
	"regular expression too complex to evaluate",
	"the host-name lookup failed",
}

// String returns the reason in words.
func (r Reason) String() string { return reasonTexts[r] }

// Decision is the result of Ruleset.Decide.
type Decision struct {
	Outcome Outcome
	// Rule is the matched rule (Matched, Rejected) or the rule that could not
	// be evaluated (Unresolved); nil for NoMatch.
	Rule *Rule
	// Reason explains an Unresolved decision.
	Reason Reason
	// Err is, for Unresolved decisions, the error returned by the source
	// (the context's error for ReasonResolverCanceled) or by the regular
	// expression matcher (ReasonRegexTooComplex: ErrRegexTooComplex when it
	// gave up at its work bound); nil when a source was missing.
	Err error
}

// Sentinel errors for errors.Is on the errors Match returns.
var (
	// ErrNoEntry: no rule matched the connection.
	ErrNoEntry = errors.New("no pg_hba.conf entry")
	// ErrRejected: the matched rule is a reject rule.
	ErrRejected = errors.New("pg_hba.conf rejects connection")
	// ErrUnresolved: a rule could not be evaluated; the connection is refused.
	ErrUnresolved = errors.New("pg_hba.conf rule could not be evaluated")
	// ErrRegexTooComplex is the Err of an Unresolved decision with
	// ReasonRegexTooComplex when the regular expression matcher gave up at
	// its work bound (a DenyError then also matches it with errors.Is).
	ErrRegexTooComplex = pgre.ErrMatchTooComplex
)

// DenyError is the error Match returns when the connection is refused. Its
// Error method returns PostgreSQL's client message.
type DenyError struct {
	Decision Decision
	Conn     Conn
	// Message is PostgreSQL's client message (for Unresolved, our own text).
	Message string
}

func (e *DenyError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNoEntry / ErrRejected / ErrUnresolved) work.
func (e *DenyError) Is(target error) bool {
	switch target {
	case ErrNoEntry:
		return e.Decision.Outcome == NoMatch
	case ErrRejected:
		return e.Decision.Outcome == Rejected
	case ErrUnresolved:
		return e.Decision.Outcome == Unresolved
	}
	return false
}

// Unwrap returns the source's error for Unresolved decisions.
func (e *DenyError) Unwrap() error { return e.Decision.Err }

// Match decides the connection with a background context. See MatchContext.
func (rs *Ruleset) Match(c Conn) (*Rule, error) {
	return rs.MatchContext(context.Background(), c)
}

// MatchContext returns the rule that decides the connection. A rule whose
// method is reject is returned together with a *DenyError (errors.Is
// ErrRejected); no matching rule gives a nil rule and ErrNoEntry; a rule that
// could not be evaluated gives ErrUnresolved. The error message is
// PostgreSQL's client message.
//
// A nil Ruleset refuses every connection as a zero [Holder] does: a nil
// rule and a *DenyError (errors.Is ErrNoEntry) with the message "no
// pg_hba.conf loaded".
func (rs *Ruleset) MatchContext(ctx context.Context, c Conn) (*Rule, error) {
	if rs == nil {
		return nil, &DenyError{Conn: c, Message: noRulesetMessage}
	}
	d := rs.Decide(ctx, c)
	if d.Outcome == Matched {
		return d.Rule, nil
	}
	e := &DenyError{Decision: d, Conn: c, Message: rs.Message(d, c)}
	if d.Outcome == Rejected {
		return d.Rule, e
	}
	return nil, e
}

// Message returns the client message PostgreSQL sends for a refused
// connection (Rejected, NoMatch); for Unresolved it explains the refusal in
// the same shape. It returns "" for Matched. For a nil Ruleset it returns
// "no pg_hba.conf loaded", as a zero [Holder] refuses.
func (rs *Ruleset) Message(d Decision, c Conn) string {
	if rs == nil {
		if d.Outcome == Matched {
			return ""
		}
		return noRulesetMessage
	}
	return denyMessage(rs.version, rs.dbUserNS, rs.features.Has(FeatureSSL), d, c)
}

// noRulesetMessage is the refusal of a nil Ruleset (and of a zero Holder).
const noRulesetMessage = "no pg_hba.conf loaded"

func denyMessage(version int, dbUserNS, sslBuild bool, d Decision, c Conn) string {
	host := "[local]"
	if !c.Local {
		host = c.Addr.String()
	}
	user, db := c.names(version, dbUserNS)
	var enc string
	if version >= 14 {
		switch {
		case c.GSS && !c.Local:
			enc = "GSS encryption"
		case c.SSL && !c.Local:
			enc = "SSL encryption"
		default:
			enc = "no encryption"
		}
	} else if sslBuild {
		if c.SSL && !c.Local {
			enc = "SSL on"
		} else {
			enc = "SSL off"
		}
	}
	repl := c.Replication == PhysicalReplication || (version < 14 && c.Replication != NoReplication)
	var b strings.Builder
	switch d.Outcome {
	case Matched:
		return ""
	case Rejected:
		if repl {
			b.WriteString(`pg_hba.conf rejects replication connection for host "` + host + `", user "` + user + `"`)
		} else {
			b.WriteString(`pg_hba.conf rejects connection for host "` + host + `", user "` + user + `", database "` + db + `"`)
		}
	case NoMatch:
		if repl {
			b.WriteString(`no pg_hba.conf entry for replication connection from host "` + host + `", user "` + user + `"`)
		} else {
			b.WriteString(`no pg_hba.conf entry for host "` + host + `", user "` + user + `", database "` + db + `"`)
		}
	case Unresolved:
		b.WriteString(`pg_hba.conf rule ` + d.Rule.Pos().String() + ` could not be evaluated for host "` + host + `", user "` + user + `", database "` + db + `": ` + d.Reason.String())
		if d.Err != nil && d.Err != ErrRegexTooComplex { // the reason says it
			b.WriteString(": " + d.Err.Error())
		}
		return b.String()
	}
	if enc != "" {
		b.WriteString(", " + enc)
	}
	return b.String()
}

// Names returns the user and database names that the rules of rs are
// compared with for c, as PostgreSQL's startup-packet processing leaves
// them: the database defaults to the user name; with db_user_namespace
// (13-16, Parser.DBUserNamespace) a user name ending in its only "@" loses
// it and any other gets "@database" appended; both are then cut to 63
// bytes (NAMEDATALEN-1; a plain byte cut, as the server does, which may
// split a multi-byte character); physical replication then has no
// database (""). They are the names PostgreSQL's messages show, for
// example "Peer authentication failed for user"; Decide, Explain and
// Message use them. A nil Ruleset applies no db_user_namespace rewrite.
func (rs *Ruleset) Names(c Conn) (user, database string) {
	if rs == nil {
		return c.names(MaxVersion, false)
	}
	return c.names(rs.version, rs.dbUserNS)
}

// names returns the user and database names PostgreSQL matches with, as
// its startup-packet processing leaves them: the database defaults to the
// user name; with db_user_namespace (13–16) a user name ending in its only
// "@" loses it and any other gets "@database" appended (for physical
// replication too, before the database is cleared); both are cut to 63
// bytes; physical replication then has no database.
func (c *Conn) names(version int, dbUserNS bool) (user, db string) {
	user, db = c.User, c.Database
	if db == "" {
		db = user
	}
	if dbUserNS && version <= 16 {
		if i := strings.IndexByte(user, '@'); i >= 0 && i == len(user)-1 {
			user = user[:i]
		} else {
			user = user + "@" + db
		}
	}
	user, db = truncName(user), truncName(db)
	if c.Replication == PhysicalReplication {
		db = ""
	}
	return user, db
}

// namedatalen is PostgreSQL's NAMEDATALEN: names are cut to 63 bytes.
const namedatalen = 64

func truncName(s string) string {
	if len(s) >= namedatalen {
		return s[:namedatalen-1]
	}
	return s
}
