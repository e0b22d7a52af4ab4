// Package audit holds the analyses of a pg_hba.conf for DBAs and CI, built
// on package hba: lint, the exposure summary and policy tests. A proxy that
// only decides connections needs hba alone.
//
//   - [Lint] reports load errors, rules that can never match (duplicates,
//     and rules that earlier rules cover, alone or together: proved, with
//     the covering lines and a witness connection) and settings that expose
//     the server. Each [Finding] names its check with a [CheckID].
//   - [Suppressions] reads the "# pghba: ignore=ID" comments of a file and
//     [Suppress] applies them to the findings, reporting the unused and
//     malformed ones.
//   - [Exposure] summarises who can reach what: per method, [Transport],
//     client addresses, databases and users (each a [NameSet]).
//   - [ParsePolicy] reads allow/deny expectations and [CheckPolicy] checks
//     them against a loaded [hba.Ruleset].
//   - [ParseListen] reads a listen_addresses value, which Lint and Exposure
//     use to tell which clients can reach the server at all.
//
// The proofs rest on a connection-space algebra (space.go): the set of
// connections a rule matches is held symbolically, column by column, and
// an earlier rule's set is subtracted from a later one's. Where a column's
// extent depends on the server's environment (role grants, DNS answers,
// interface addresses, a regular expression too complex to evaluate within
// its budget), the algebra over-approximates, so a proof holds in every
// environment; Lint reports only what it proves.
//
// The analyses read a [hba.File] through the rule methods hba exports for
// them, chiefly [hba.Rule.Names]. The server facts a witness connection
// depends on (the major version, db_user_namespace) are given in
// [LintOptions] until the File records the dialect it was read for.
package audit
