package hba

// The checks of a pg_ident.conf: PostgreSQL's check_usermap (IdentMaps.Check)
// and what the methods do before it (CheckRule, CheckCert, the GSS and SSPI
// system user names). Loading the file is in ident.go.

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// IdentOptions are the inputs of a check besides the names.
type IdentOptions struct {
	// CaseInsensitive is check_usermap's case_insensitive argument: literal
	// system and database user names are then compared ignoring ASCII case
	// (regular expressions stay case-sensitive). The server's pg_strcasecmp
	// also folds bytes above 127 that its LC_CTYPE calls upper case; in the
	// C and UTF-8 locales there are none, and that is what is modelled. [IdentMaps.Check] uses it as
	// given. [IdentMaps.CheckRule] reads it as the server's
	// krb_caseins_users setting: it applies to gss rules (and their realm
	// check) only, since sspi rules always compare case-insensitively and the
	// other methods never do.
	CaseInsensitive bool
	// Roles, if non-nil, answers +role membership questions (16+) instead
	// of the Roles the maps were loaded with (Parser.Env.Roles).
	Roles Roles
}

// IdentOutcome is the kind of a check result.
type IdentOutcome uint8

// Check outcomes. The zero value is IdentNoMatch, a refusal.
const (
	// IdentNoMatch: no line of the map allows the pair (or, without a map,
	// the names differ). PostgreSQL refuses the connection.
	IdentNoMatch IdentOutcome = iota
	// IdentAllowed: the line in IdentResult.Line (or, without a map, the
	// equal names) allows the system user to connect as the database user.
	IdentAllowed
	// IdentError: a line raised an error that stopped the scan (a \1 with no
	// capture group). PostgreSQL refuses the connection; later lines are
	// not consulted.
	IdentError
	// IdentUnresolved: the answer cannot be known; refuse. Either a line
	// needed role membership and IdentOptions.Roles was nil or failed
	// (Reason says which), or a line's regular expression was too complex to
	// evaluate (Err wraps pgre's error; Message says "regular expression too
	// complex to evaluate" and names the line), or the system user is longer
	// than the server accepts from the rule's method (Err wraps
	// [ErrSystemUserTooLong]; Line is nil).
	IdentUnresolved
	// IdentRealmMismatch: the gss or sspi realm check that runs before the
	// map failed (krb_realm). PostgreSQL refuses the connection.
	IdentRealmMismatch
	// IdentNotApplicable: the rule's method checks no user name
	// ([IdentMaps.CheckRule] only). Nothing was checked; Allowed is false.
	IdentNotApplicable
)

var identOutcomeNames = [...]string{"no-match", "allowed", "error", "unresolved", "realm-mismatch", "not-applicable"}

// String returns "no-match", "allowed", "error", "unresolved",
// "realm-mismatch" or "not-applicable".
func (o IdentOutcome) String() string {
	if int(o) < len(identOutcomeNames) {
		return identOutcomeNames[o]
	}
	return ""
}

// IdentResult is the result of a user name map check.
type IdentResult struct {
	Outcome IdentOutcome
	// Allowed is true only for IdentAllowed.
	Allowed bool
	// Map is the map name checked ("" when the rule has no map: the names
	// are then compared directly).
	Map string
	// SystemUser and PGUser are the names as checked: the system user after
	// realm handling, the database user cut to 63 bytes.
	SystemUser, PGUser string
	// Line is the deciding line: the one that allowed (IdentAllowed), raised
	// the error (IdentError) or could not be evaluated (IdentUnresolved).
	// It is nil otherwise.
	Line *IdentMapping
	// Message is PostgreSQL's server-log message for a refusal, "" when
	// allowed. For IdentUnresolved it is pghba's own explanation in the
	// same shape.
	Message string
	// CertMessage is the second line the server logs when the certificate
	// check of a rule with clientcert=verify-full and a method other than
	// cert fails ("certificate validation (clientcert=verify-full) failed
	// for user …: CN mismatch"); "" otherwise.
	CertMessage string
	// Reason and Err explain IdentUnresolved: Err is the Roles error, the
	// regular-expression error, or wraps ErrSystemUserTooLong.
	Reason Reason
	Err    error
}

// Pos returns the deciding line's position, or the zero Position.
func (r IdentResult) Pos() Position {
	if r.Line == nil {
		return Position{}
	}
	return r.Line.Pos
}

// Check is PostgreSQL's check_usermap: may systemUser, authenticated by the
// rule's method, connect as database user pgUser under map mapName?
//
// An empty mapName (no map= option, or map=) compares the two names
// directly. Otherwise the lines of the map are tried in file order; the
// first that matches allows, and a line that raises an error stops the scan.
// A map name that no line defines, and nil maps, allow nothing.
//
// pgUser is cut to 63 bytes as the server cuts the startup packet's user
// name; with db_user_namespace (13–16) pass the decorated name the server
// uses (user@db). ctx is passed to the Roles source for +role lines (16+).
//
// Limits on the system user. Check itself does not know the method and
// applies no length limit; [IdentMaps.CheckRule] and [IdentMaps.CheckCert]
// refuse names no server could have received from the method (see
// [MaxIdentSystemUser] and [MaxGSSSystemUser]); certificate CNs and DNs,
// OAuth identities and peer (operating-system) user names have no server
// limit. For regular expressions without back-references the cost is
// linear in the length of the system user: the leftmost match is found in
// one backward and one forward pass over the name, and the split points of
// a \1 line's captures in one pass each (BenchmarkIdentCheckLongSystemUser:
// a 256 KiB name takes about 0.5–1 ms against /a*b and 10–13 ms against
// /^(.*)@example\.com$ with \1 on this project's 2-core machine). Two cases
// are capped by pgre's match budget instead: back-references (about a
// second of work) and the captures of an iterated group such as
// /^(a|a*c)*$ (about 0.2 s; the same budget also stops capture dissection
// of names of several megabytes).
//
// A regular expression (system user, or database user on 16+) whose match
// is abandoned at that budget stops the scan with IdentUnresolved: the
// message names the map line and says "regular expression too complex to
// evaluate". This is a deliberate divergence: PostgreSQL has no budget and
// would eventually answer.
func (m *IdentMaps) Check(ctx context.Context, mapName, systemUser, pgUser string, opts IdentOptions) IdentResult {
	pgUser = truncName(pgUser)
	res := IdentResult{Map: mapName, SystemUser: systemUser, PGUser: pgUser}
	if mapName == "" {
		if namesEqual(pgUser, systemUser, opts.CaseInsensitive) {
			res.allow(nil)
			return res
		}
		res.Message = "provided user name (" + pgUser + ") and authenticated user name (" + systemUser + ") do not match"
		return res
	}
	var lines []*IdentMapping
	roles := opts.Roles
	if m != nil {
		lines = m.byName[mapName]
		if roles == nil {
			roles = m.roles
		}
	}
	for _, l := range lines {
		if l.check(ctx, &res, roles, opts.CaseInsensitive) {
			return res
		}
	}
	res.Message = `no match in usermap "` + mapName + `" for user "` + pgUser + `" authenticated as "` + systemUser + `"`
	return res
}

func (r *IdentResult) allow(l *IdentMapping) {
	r.Outcome, r.Allowed, r.Line, r.Message = IdentAllowed, true, l, ""
}

// check is check_ident_usermap for one line of the right map. It reports
// whether the scan stops here (a match, an error or an unresolved test) and
// fills res then.
func (l *IdentMapping) check(ctx context.Context, res *IdentResult, roles Roles, ci bool) bool {
	sys, pg := res.SystemUser, res.PGUser
	want := l.PGUser
	pgRe := l.pgRe
	if l.sysRe != nil {
		loc, err := l.sysRe.Exec(sys)
		if err != nil {
			// The match budget (back-references, or the dissection of an
			// iterated capturing group); PostgreSQL would eventually
			// answer. Refuse here.
			regexUnresolved(res, l, l.SystemUser, err)
			return true
		}
		if loc == nil {
			return false
		}
		member := l.version >= 16 && !want.Quoted && strings.HasPrefix(want.Value, "+")
		if i := strings.Index(want.Value, `\1`); i >= 0 && !member && pgRe == nil {
			if len(loc) < 4 || loc[2] < 0 {
				res.Outcome, res.Line = IdentError, l
				res.Message = `regular expression "` + l.SystemUser.Value[1:] + `" has no subexpressions as requested by backreference in "` + want.Value + `"`
				return true
			}
			// The substituted name is a literal: PostgreSQL marks it quoted.
			want = Token{Value: want.Value[:i] + sys[loc[2]:loc[3]] + want.Value[i+2:], Quoted: true}
		}
	} else if !namesEqual(l.SystemUser.Value, sys, ci) {
		return false
	}

	// The database user: check_role with the one token.
	if l.version <= 15 {
		if namesEqual(want.Value, pg, ci) {
			res.allow(l)
			return true
		}
		return false
	}
	switch {
	case !want.Quoted && strings.HasPrefix(want.Value, "+"):
		if roles == nil {
			res.Outcome, res.Line, res.Reason = IdentUnresolved, l, ReasonNoRoles
			res.Message = unresolvedIdent(res, l)
			return true
		}
		ok, err := roles.IsMember(ctx, pg, want.Value[1:])
		if err != nil {
			res.Outcome, res.Line, res.Reason, res.Err = IdentUnresolved, l, ReasonRolesFailed, err
			res.Message = unresolvedIdent(res, l)
			return true
		}
		if ok {
			res.allow(l)
			return true
		}
	case !want.Quoted && want.Value == "all":
		res.allow(l)
		return true
	case pgRe != nil:
		loc, err := pgRe.Exec(pg)
		if err != nil {
			regexUnresolved(res, l, want, err)
			return true
		}
		if loc != nil {
			res.allow(l)
			return true
		}
	default:
		if namesEqual(want.Value, pg, ci) {
			res.allow(l)
			return true
		}
	}
	return false
}

// regexUnresolved fills res for a line whose regular expression tok could
// not be evaluated.
func regexUnresolved(res *IdentResult, l *IdentMapping, tok Token, err error) {
	res.Outcome, res.Line, res.Reason, res.Err = IdentUnresolved, l, ReasonRegexTooComplex, err
	res.Message = `usermap "` + res.Map + `" line ` + l.Pos.String() + ` could not be evaluated for user "` + res.PGUser + `" authenticated as "` + res.SystemUser + `": regular expression too complex to evaluate: "` + tok.Value[1:] + `": ` + err.Error()
}

// ErrSystemUserTooLong is wrapped by IdentResult.Err when the system user
// given to [IdentMaps.CheckRule] or [IdentMaps.CheckCert] is longer than the
// server accepts from the rule's method.
var ErrSystemUserTooLong = errors.New("system user longer than the server accepts from the method")

// Limits on the system user, as the server applies them (checked in
// PostgreSQL 13 to 18's source):
//
//   - MaxIdentSystemUser: ident_inet (src/backend/libpq/auth.c) reads the
//     RFC 1413 answer into a buffer of 80 + IDENT_USERNAME_MAX bytes and
//     interpret_ident_response copies at most IDENT_USERNAME_MAX (512)
//     bytes of the user name. A longer name cannot reach check_usermap (the
//     server keeps the first 512 bytes, or calls a reply over the buffer
//     "invalidly formatted"); CheckRule refuses it rather than guess which.
//   - MaxGSSSystemUser: pg_GSS_recvauth reads each GSSAPI token with
//     pq_getmessage(PG_MAX_AUTH_TOKEN_LENGTH), 65,535 bytes, and the client
//     principal arrives inside one token; pg_GSS_checkauth takes the name
//     from gss_display_name with no further limit. A longer principal cannot
//     have been authenticated.
//   - Certificate CN and DN (be_tls_open_server in be-secure-openssl.c):
//     no length limit; a name with an embedded NUL byte is refused there
//     ("SSL certificate's common name contains embedded null", "… distinguished
//     name …"), and CheckCert refuses it too.
//   - OAuth (18, auth-oauth.c): the identity is whatever the validator
//     module returns, with no limit (only the bearer token is capped, by
//     the SASL message limit of 65,535 bytes).
//   - peer: the getpwuid name, no server limit.
const (
	MaxIdentSystemUser = 512
	MaxGSSSystemUser   = 65535
)

// tooLong returns the refusal of a system user over limit for method.
func tooLong(mapName, sys, pg string, method Method, limit int) IdentResult {
	pg = truncName(pg)
	err := fmt.Errorf("%w: %d bytes, %s delivers at most %d", ErrSystemUserTooLong, len(sys), method, limit)
	shown := sys
	if len(shown) > 64 {
		shown = shown[:64] + "…"
	}
	return IdentResult{Outcome: IdentUnresolved, Map: mapName, SystemUser: sys, PGUser: pg, Err: err,
		Message: `usermap "` + mapName + `" could not be evaluated for user "` + pg + `" authenticated as "` + shown + `": ` + err.Error()}
}

func unresolvedIdent(res *IdentResult, l *IdentMapping) string {
	why := "the line tests role membership and no role source was given"
	if res.Reason == ReasonRolesFailed {
		why = "the role-membership lookup failed"
	}
	s := `usermap "` + res.Map + `" line ` + l.Pos.String() + ` could not be evaluated for user "` + res.PGUser + `" authenticated as "` + res.SystemUser + `": ` + why
	if res.Err != nil {
		s += ": " + res.Err.Error()
	}
	return s
}

// namesEqual compares as strcmp, or as pg_strcasecmp (ASCII letters only)
// when ci is set.
func namesEqual(a, b string, ci bool) bool {
	if !ci {
		return a == b
	}
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// ChecksUserName reports whether the server checks the authenticated
// system user against the requested database user for connections the rule
// decides, through the map named by map= or, without one, by comparing the
// names: for ident, peer, gss, sspi and cert rules, oauth rules without
// delegate_ident_mapping, and rules with clientcert=verify-full (whose
// certificate name is compared after the method succeeds).
func (r *Rule) ChecksUserName() bool {
	switch r.Method() {
	case Ident, Peer, GSS, SSPI, Cert:
		return true
	case OAuth:
		if !r.Options().DelegateIdentMapping {
			return true
		}
	}
	return r.Options().ClientCert == ClientCertVerifyFull
}

// CheckRule runs the user name check that the matched rule's method runs
// after authenticating systemUser, with the rule's map= (Options.Map).
//
// systemUser is what the method authenticated:
//   - peer: the operating-system user of the socket peer;
//   - ident: the name the RFC 1413 server returned;
//   - gss: the full Kerberos principal, name@REALM; the rule's include_realm
//     and krb_realm apply as in [GSSSystemUser], with opts.CaseInsensitive
//     as krb_caseins_users;
//   - sspi: account@DOMAIN; include_realm and krb_realm apply as in
//     [SSPISystemUser], and names compare case-insensitively;
//   - cert, and other methods with clientcert=verify-full: the client
//     certificate's CN, or its RFC 2253 DN with clientname=DN; an empty name
//     is refused before the map, as by the server;
//   - oauth (18): the identity the validator returned; an empty one is
//     refused before the map ("OAuth bearer authentication failed for user
//     …", with the log detail "Validator provided no identity.").
//
// A rule with both a mapped method (ident, gss, sspi) and
// clientcert=verify-full is checked twice by the server: once here with the
// method's name, once with [IdentMaps.CheckCert] and the certificate name.
// For a rule whose method checks no user name, CheckRule returns
// IdentNotApplicable.
func (m *IdentMaps) CheckRule(ctx context.Context, r *Rule, systemUser, pgUser string, opts IdentOptions) IdentResult {
	switch r.Method() {
	case Ident:
		if len(systemUser) > MaxIdentSystemUser {
			return tooLong(r.Options().Map, systemUser, pgUser, Ident, MaxIdentSystemUser)
		}
		opts.CaseInsensitive = false
	case Peer:
		opts.CaseInsensitive = false
	case OAuth:
		if r.Options().DelegateIdentMapping {
			return m.notApplicable(r, systemUser, pgUser)
		}
		if systemUser == "" {
			// The validator authorized but named no identity.
			pg := truncName(pgUser)
			return IdentResult{Map: r.Options().Map, PGUser: pg,
				Message: `OAuth bearer authentication failed for user "` + pg + `"`}
		}
		opts.CaseInsensitive = false
	case GSS:
		if len(systemUser) > MaxGSSSystemUser {
			return tooLong(r.Options().Map, systemUser, pgUser, GSS, MaxGSSSystemUser)
		}
		name, err := GSSSystemUser(systemUser, r.Options().IncludeRealm, r.Options().KrbRealm, opts.CaseInsensitive)
		if err != nil {
			return realmMismatch(r, systemUser, pgUser, err)
		}
		systemUser = name
	case SSPI:
		acct, dom := systemUser, ""
		if i := strings.LastIndexByte(systemUser, '@'); i >= 0 {
			acct, dom = systemUser[:i], systemUser[i+1:]
		}
		name, err := SSPISystemUser(acct, dom, r.Options().IncludeRealm, r.Options().KrbRealm)
		if err != nil {
			return realmMismatch(r, systemUser, pgUser, err)
		}
		systemUser = name
		opts.CaseInsensitive = true
	case Cert:
		return m.CheckCert(ctx, r, systemUser, pgUser, opts)
	default:
		if r.Options().ClientCert == ClientCertVerifyFull {
			return m.CheckCert(ctx, r, systemUser, pgUser, opts)
		}
		return m.notApplicable(r, systemUser, pgUser)
	}
	return m.Check(ctx, r.Options().Map, systemUser, pgUser, opts)
}

// CheckCert is the server's certificate check (CheckCertAuth) for a cert
// rule or a rule with clientcert=verify-full: certName (the certificate's
// CN, or DN with clientname=DN) must map to pgUser under the rule's map=,
// compared case-sensitively; with no map the names must be equal. An empty
// certName is refused before any map lookup. For other rules it returns
// IdentNotApplicable.
func (m *IdentMaps) CheckCert(ctx context.Context, r *Rule, certName, pgUser string, opts IdentOptions) IdentResult {
	if r.Method() != Cert && r.Options().ClientCert != ClientCertVerifyFull {
		return m.notApplicable(r, certName, pgUser)
	}
	if certName == "" {
		pg := truncName(pgUser)
		return IdentResult{Map: r.Options().Map, PGUser: pg,
			Message: `certificate authentication failed for user "` + pg + `": client certificate contains no user name`}
	}
	if strings.IndexByte(certName, 0) >= 0 {
		// be_tls_open_server ends the connection before any rule applies.
		what := "common name"
		if r.Options().ClientName == ClientNameDN {
			what = "distinguished name"
		}
		return IdentResult{Map: r.Options().Map, PGUser: truncName(pgUser),
			Message: "SSL certificate's " + what + " contains embedded null"}
	}
	opts.CaseInsensitive = false
	res := m.Check(ctx, r.Options().Map, certName, pgUser, opts)
	if !res.Allowed && r.Method() != Cert && r.Options().ClientCert == ClientCertVerifyFull {
		field := "CN"
		if r.Options().ClientName == ClientNameDN {
			field = "DN"
		}
		res.CertMessage = `certificate validation (clientcert=verify-full) failed for user "` + res.PGUser + `": ` + field + ` mismatch`
	}
	return res
}

func (m *IdentMaps) notApplicable(r *Rule, sys, pg string) IdentResult {
	return IdentResult{Outcome: IdentNotApplicable, Map: r.Options().Map, SystemUser: sys, PGUser: truncName(pg)}
}

func realmMismatch(r *Rule, sys, pg string, err error) IdentResult {
	return IdentResult{Outcome: IdentRealmMismatch, Map: r.Options().Map, SystemUser: sys, PGUser: truncName(pg), Message: err.Error()}
}

// GSSSystemUser returns the system user the gss method passes to the user
// name map for an authenticated principal (name@REALM), as PostgreSQL's
// pg_GSS_recvauth computes it:
//
//   - the principal is split at its first "@";
//   - without includeRealm (include_realm=0) the realm is removed; with it
//     (the default) the whole principal is the system user;
//   - if krbRealm (krb_realm) is not empty, the principal's realm must equal
//     it, ignoring ASCII case when krbCaseinsUsers (krb_caseins_users) is
//     set, and a principal without a realm fails.
//
// A failed realm check returns an error whose text is the server's (DEBUG2)
// log message; the connection is then refused without consulting the map.
func GSSSystemUser(principal string, includeRealm bool, krbRealm string, krbCaseinsUsers bool) (string, error) {
	name, realm, hasRealm := strings.Cut(principal, "@")
	if !hasRealm {
		if krbRealm != "" {
			return "", errors.New("GSSAPI did not return realm but realm matching was requested")
		}
		return principal, nil
	}
	if krbRealm != "" && !namesEqual(krbRealm, realm, krbCaseinsUsers) {
		return "", errors.New("GSSAPI realm (" + realm + ") and configured realm (" + krbRealm + ") don't match")
	}
	if includeRealm {
		return principal, nil
	}
	return name, nil
}

// SSPISystemUser returns the system user the sspi method (Windows) passes
// to the user name map for an account and its domain, as PostgreSQL's
// pg_SSPI_recvauth computes it: account@domain with includeRealm (the
// default), the bare account without. If krbRealm is not empty the domain
// must equal it, ignoring ASCII case; a mismatch returns an error whose
// text is the server's (DEBUG2) log message. (The domain itself depends on
// the rule's compat_realm and upn_username options and on Windows; pass it
// as the server would see it.)
func SSPISystemUser(account, domain string, includeRealm bool, krbRealm string) (string, error) {
	if krbRealm != "" && !namesEqual(krbRealm, domain, true) {
		return "", errors.New("SSPI domain (" + domain + ") and configured domain (" + krbRealm + ") don't match")
	}
	if includeRealm {
		return account + "@" + domain, nil
	}
	return account, nil
}
