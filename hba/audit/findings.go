package audit

// Findings: what Lint reports, their severities and check identifiers.

import (
	"github.com/pghba/pghba/hba"
)

// Severity is how much a lint finding matters.
type Severity uint8

// Severities, least serious first.
const (
	SeverityInfo Severity = iota + 1
	SeverityWarning
	SeverityError
)

var severityNames = [...]string{"", "info", "warning", "error"}

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return ""
}

// CheckID identifies a lint check. The values are stable, lowercase words
// joined by hyphens: tools may filter on them.
type CheckID string

// Lint checks.
const (
	// CheckLoadError: a line (or the file) does not load; the message is
	// PostgreSQL's. Error.
	CheckLoadError CheckID = "load-error"
	// CheckNeverMatches: the rule loads with PostgreSQL's warning and can
	// never match (hostssl with ssl off or without SSL support, hostgssenc
	// without GSSAPI). Warning.
	CheckNeverMatches = "never-matches"
	// CheckDuplicate: an earlier rule has the same type, database, user and
	// address columns, so this one can never match. Warning.
	CheckDuplicate = "duplicate"
	// CheckUnreachable: earlier rules, one or several together, match every
	// connection this rule matches. Warning.
	CheckUnreachable = "unreachable"
	// CheckNoEffect: the rule is reachable, but removing it changes no
	// decision: every connection it decides would be decided by later
	// rules with the same method and options (the finding names them).
	// Proved only where no outside source (roles, DNS, interfaces, regular
	// expressions against every name) takes part. Info.
	CheckNoEffect = "no-effect"
	// CheckUnreachableListen: with the given listen_addresses no client
	// that the rule's address admits can connect. Info.
	CheckUnreachableListen = "unreachable-listen"
	// CheckTrustRemote: trust for clients that are not on the loopback
	// interface. Warning.
	CheckTrustRemote = "trust-remote"
	// CheckPasswordCleartext: method password on a line that admits
	// unencrypted TCP connections from the network. Warning.
	CheckPasswordCleartext = "password-cleartext"
	// CheckMD5: method md5, deprecated in PostgreSQL 18; scram-sha-256 is
	// the replacement. Warning.
	CheckMD5 = "md5"
	// CheckWideOpen: every database and every user from a very wide address
	// range with a method other than reject. Warning.
	CheckWideOpen = "wide-open"
	// CheckReplicationWide: replication connections from a wide address
	// range with a method other than reject. Warning.
	CheckReplicationWide = "replication-wide"
	// CheckIdentTCP: ident over TCP believes the client machine's ident
	// server. Warning.
	CheckIdentTCP = "ident-tcp"
	// CheckHostName: a host-name address trusts reverse DNS (confirmed by a
	// forward lookup). Info.
	CheckHostName = "host-name"
	// CheckMissingMap: map= names a user name map the ident file does not
	// define. Warning.
	CheckMissingMap = "missing-map"
	// CheckIncomplete: the analysis could not decide everything it needed.
	// Either the file is too fragmented for the union analysis within its
	// work limit (the rules named were only compared with each earlier
	// rule alone), or a regular expression was too complex to evaluate
	// against a name (the rules named may be unreachable, but are not
	// claimed to be). Info.
	CheckIncomplete = "incomplete"
)

// Width thresholds of wide-open and replication-wide, in fixed (mask one)
// bits: an IPv4 range with fewer than WideOpenBits4 fixed bits (wider than a
// /8) is wide for wide-open, and so on.
const (
	WideOpenBits4    = 8
	WideOpenBits6    = 32
	ReplicationBits4 = 16
	ReplicationBits6 = 48
)

// Finding is one lint result.
type Finding struct {
	// Pos is the line, with Column and EndColumn (bytes of the logical
	// line, see hba.Position) on what is at fault: the TYPE column for
	// never-matches; the whole rule, TYPE to its last option, for
	// duplicate, unreachable and incomplete; the ADDRESS column (with a
	// separate netmask) for unreachable-listen, trust-remote, wide-open,
	// replication-wide and host-name; the METHOD column for
	// password-cleartext, md5, ident-tcp and password-encryption; the map=
	// option for missing-map; the clientcert= option, else METHOD, for
	// no-ssl-ca; the comment for unused-suppression and bad-suppression;
	// the error's own token for load-error (0 when the error is about the
	// line or file as a whole). IncludedFrom is the include chain,
	// innermost first.
	Pos          hba.Position
	IncludedFrom []hba.Position
	Severity     Severity
	// Check is one of the Check* identifiers.
	Check   CheckID
	Message string
	// Related are the other lines the finding names (covering rules, the
	// duplicated rule).
	Related []hba.Position
	// Witness, for unreachable and duplicate findings, is a connection the
	// rule would match and an earlier rule decides; nil when none could be
	// built without host names, interfaces or role grants.
	Witness *hba.Conn
	// Suppressed, set by Suppress, is the suppression comment that waives
	// the finding; nil when none does.
	Suppressed *Suppression
}
