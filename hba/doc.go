// Package hba reads PostgreSQL's pg_hba.conf and pg_ident.conf exactly as
// the PostgreSQL server (major versions 13 to 18) does, and decides, for an
// incoming connection, which rule applies: the same rule, the same
// file:line and the same error texts as the server.
//
// # Stages
//
// Loading has three visible stages:
//
//   - [Parser.ParseFile] (or [Parser.ParseBytes]) reads the main file and
//     everything it includes into a [File]: every logical line with its
//     [Rule] or its [Error], as the pg_hba_file_rules view shows them.
//   - [Parser.Compile] turns a File without errors into a [Ruleset]. It
//     refuses any File with an error, and a File without rules, as the
//     server refuses to load such a file.
//   - [Ruleset.Match], [Ruleset.MatchContext] and [Ruleset.Decide] pick the
//     rule for a [Conn].
//
// [Parser.Load] does the first two. A Ruleset is immutable and safe for
// concurrent use; reload by loading a new one and storing it in a [Holder].
// A failed load returns an [ErrorList] and no Ruleset: keep the old one, as
// the server does.
//
// # The language, as the server reads it
//
// Lines are read as bytes; nothing is decoded. A backslash at the very end
// of a physical line joins the next one (14 and later); the joined line
// keeps the number of its first physical line.
//
// Tokens are separated by blanks (space, tab, carriage return) and by
// commas; a comma joins two tokens into one list (one column), so
// "db1, db2" is one column of two names but "db1 ,db2" is two columns. A #
// outside quotes ends the line. Double quotes may start and stop anywhere
// in a token and "" inside quotes is one quote; a token is quoted only when
// it starts with a quote, and a quoted token is never a keyword:
//
//	host all   all 10.0.0.0/8 md5   # any database
//	host "all" all 10.0.0.0/8 md5   # only the database named all
//	host a"ll" all 10.0.0.0/8 md5   # any database: the quote is not at the start
//
// Keywords are all, sameuser, samerole, samegroup and replication in the
// database column; all and +role (membership in role) in the user column;
// all, samehost and samenet in the address column. From 16, a token that
// starts with a slash, quoted or not, is a regular expression searched in
// the name ("/^db\d+$").
//
// An unquoted token @file is replaced by every token of that file, which is
// read relative to the directory of the file that names it; an @file with
// no tokens removes its column, shifting the later columns. From 16, a line
// of exactly two columns whose first token is include, include_if_exists or
// include_dir reads other files in its place.
//
// Addresses are numeric as the C library reads them (127.1 is 127.0.0.1,
// 010.0.0.1 is octal, a separate mask column "24" is the mask 0.0.0.24);
// anything else is a host name, and a host name starting with a dot
// matches every name ending in it. The bits after a slash are read as C's
// strtol reads them.
//
// # Analyses
//
// On top of the three stages: [Ruleset.Explain] says, for every rule before
// the deciding one, which test failed and why; [File.ViewRows] gives the
// rows of the pg_hba_file_rules view. pg_ident.conf is read by
// [Parser.ParseIdentFile] and checked by [IdentMaps.Check].
//
// The analyses for DBAs and CI live in package
// github.com/pghba/pghba/hba/audit: lint (load errors, rules that can never
// match, proved with a witness connection, and risky settings), the
// exposure summary (who can reach what) and policy tests (allow/deny
// expectations). They read a [File] through a small seam: the rule methods
// ([Rule.Type], [Rule.Address], [Rule.Method], [Rule.Never], ...) and
// [Rule.Names], which gives the database and user columns as the matcher
// reads them.
//
// # Server facts and outside sources
//
// What the server's build and settings change is a field of [Parser]:
// Version (and Minor), SSL, Features, DBUserNamespace and
// OAuthValidatorLibraries. The zero Parser is a PostgreSQL 18 on Linux with
// ssl off.
//
// What the server asks its environment for is injected through [Env]: role
// membership ([Roles]), host-name lookups ([Resolver], which
// *net.Resolver satisfies) and interface addresses ([Interfaces]).
//
// Matching fails closed. A rule that cannot be evaluated, because a source
// it needs was not given or failed, or because one of its regular
// expressions cannot be evaluated, decides the connection at that rule:
// the decision is Unresolved (errors.Is [ErrUnresolved] from
// [Ruleset.MatchContext]) with a [Reason], and the rule is never skipped,
// so a failure never lets a later rule grant access. [Ruleset.Explain]
// ends its trace at the same rule with the same reason. Each outcome of
// each source gives this decision at the rule that asked:
//
//	source                   outcome                      decision at that rule
//	Roles (+role, samerole)  ok                           its answer: member or not
//	                         not found (no such role)     not a member
//	                         error or timeout             Unresolved, ReasonRolesFailed
//	                         nil source                   Unresolved, ReasonNoRoles
//	Resolver, reverse        ok                           the first name is compared
//	                         not found, or no names       no match (*)
//	                         error or timeout             Unresolved, ReasonResolverFailed (F)
//	                         nil source                   Unresolved, ReasonNoResolver
//	Resolver, forward        ok                           match if the client address is listed (*)
//	                         not found, or no addresses   no match (*)
//	                         error or timeout             Unresolved, ReasonResolverFailed (F)
//	Interfaces (samehost,    ok                           match if the client is the server's
//	samenet)                                              address (samehost) or in its network
//	                         error or timeout             Unresolved, ReasonInterfacesFailed (F)
//	                         nil source                   SystemInterfaces is asked
//	/regex (16 and later)    ok                           its answer
//	                         over the work bound, error   Unresolved, ReasonRegexTooComplex
//	any source               the caller's context ends    host names: Unresolved,
//	                                                      ReasonResolverCanceled; others: as
//	                                                      the source answers
//
// Notes to the table:
//
//   - (*) As in the server, a failed host-name check (no name, no address,
//     or not the client's address) also fails every later host-name rule
//     of the connection, without a new lookup.
//   - (F) With [Env.FailuresDoNotMatch] set: no match instead, and the scan
//     goes on, as in the server, which logs the failure and skips the rule.
//     It does not change the other rows, and an Interfaces error returned
//     once the caller's context has ended still refuses.
//
// "Not found" is a lookup error that is, or wraps, a *net.DNSError with
// IsNotFound set (NXDOMAIN; [HostTable] answers so for a missing entry).
// Any other error is a failure: a *net.DNSError with IsTimeout, a
// resolver's own deadline (including [CachingResolver].Timeout, and
// [ErrTooManyLookups] when its cap on lookups in flight is reached), a
// malformed [HostTable] entry. A Roles or Interfaces timeout is whatever
// error the source returns. The regular-expression work bound applies only
// to patterns with back-references (the matcher stops after a fixed amount
// of work, about a second of CPU at most); other patterns match in
// polynomial time and never fail.
//
// # Speed and size
//
// Compile builds an index that keeps first-match semantics exactly (rules
// are partitioned by connection kind and address family and filed by
// literal database, literal user or address prefix; rules that consult an
// outside source are tried in file order), so deciding a connection costs
// a few hash lookups however large the file, and [Ruleset.Decide]
// allocates nothing. A [Rule] is immutable and reached through methods; it
// is stored compactly (its names are spans of its raw line), so a Ruleset
// holds a few hundred bytes per rule. BENCHMARKS.md in the repository has
// the figures next to PostgreSQL's.
//
// # Limits on hostile input
//
// The server has few limits (13–15 recurse through self-referencing @files
// until they run out of file descriptors). pghba keeps every load bounded
// in time and memory, whatever the files hold:
//
//   - Nesting: @file and include nesting stops at depth 10 (the server's
//     limit from 16; 64 for 13–15), an error on the line.
//   - Only regular files and directories are read. A FIFO, a character or
//     block device or a socket, as the main file, an @file, an include or
//     a file of an include_dir (symbolic links followed), is refused
//     before it is opened, with `could not open file "…": not a regular
//     file (a named pipe)` (or a character device, a block device, a
//     socket), category ErrFile. Files are opened without blocking and
//     checked again once open, so a file swapped for a FIFO in between is
//     refused too. /dev/stdin is what it names: a pipe or a terminal is
//     refused, a regular file redirected to it is read like any other.
//     The server opens these with fopen and reads them with fgets: a FIFO
//     blocks it in the open until a writer comes (at startup or on reload);
//     /dev/zero never ends, and since fgets then returns lines of NUL bytes
//     that strlen counts as empty, it reads forever in constant memory; a
//     pipe of endless lines (`yes` on @/dev/stdin) is read until memory
//     runs out; a socket fails to open ("No such device or address").
//   - Budgets per load, in [Parser.Limits] (zero fields take
//     [DefaultLimits], callers may raise or remove each): bytes read, the
//     main file included (512 MiB; a file over what remains is refused from
//     its size before it is read, a file of unknown size is read at most
//     one byte past it); files and directories opened (16,384, an @file or
//     included file counting once however often it is named — a load reads
//     it once and assumes it does not change meanwhile —, and every include
//     or @file refused for its nesting depth); non-empty logical lines (4 Mi); tokens (16 Mi);
//     tokens in one logical line, @files expanded (1 Mi); tokens produced
//     by @file expansion (2 Mi); line errors (100,000). The first line past
//     a budget gets an error naming it ("pghba limit of 16384 files opened
//     per load exceeded"), category [ErrLimit], and nothing more is read. The defaults load a
//     generated file of a million rules (69 MB).
//   - Memory: a load holds each file it reads twice (its bytes and one
//     string the rules share) plus the logical line being read and its
//     tokens; a loaded rule retains about 185 bytes (the 100,000-rule
//     benchmark file of BENCHMARKS.md, its line's text included), a name
//     of a database or user list 8. A main file of 256 KiB or more is read
//     in parallel chunks on every core; when a chunk fails, or the chunks
//     together spend a budget past its limit, the file is read again in one
//     pass, so that a load with an error reads its files at most twice. Measured with pghba check: a 50 MB main file of one
//     `a,a,a,…` list fails on its line (tokens in one line) in 0.2 s at a
//     peak of 195 MB; 50 MB of such lists of a million names each fail at
//     the token budget in 1.1 s at 560 MB; a 50 MB file of 1.7 million
//     short rules loads, at a peak of 630 MB. Error lines cost more than
//     their text (an error retains some 300 bytes, a line of `x` is 2):
//     4,000,000 lines of `x` (8 MB) fail at the error budget, on line
//     100,001, in 0.3 s at a peak of 107 MB (before the budget: out of
//     memory after 20 s at 2.3 GB); 4,000,000 such lines of 12 bytes
//     (48 MB) in 0.6 s at 187 MB.
//   - Time: [Parser.ParseFileContext], [Parser.LoadContext],
//     [Parser.ParseIdentFileContext] and [Parser.LoadIdentContext] stop
//     when their context ends. It is checked before each file is opened
//     (so between the files of an include_dir) and every 256 lines; the
//     error then matches ctx.Err() with errors.Is. No read can block,
//     since only regular files are read.
//
// # Conformance
//
// Behaviour follows the server's source and is checked against real
// servers (see CONFORMANCE.md in the repository). Deliberate divergences:
//
//   - A self-referencing or too deeply nested @file in 13–15 is a load error
//     on the line ("… maximum nesting depth exceeded"); the server crashes.
//   - RADIUS server names are resolved at load time only when
//     Parser.RADIUSResolver is set; otherwise every name is accepted.
//   - Regular expressions use PostgreSQL's ARE semantics; a construct that
//     cannot be reproduced exactly makes the file fail to load with an error
//     naming it, rather than match differently.
//   - Host-name rules without an Env.Resolver, and role tests without
//     Env.Roles, refuse the connection (ErrUnresolved) where the server
//     would have looked them up.
//   - A /regex token with back-references whose match exceeds the
//     matcher's work bound refuses the connection at its rule (Unresolved,
//     ReasonRegexTooComplex). The server has no bound and in the end
//     answers: with "/^(a*)(a*)(a*)(a*)(a*)(a*)\6\5\4\3\2\1$" in the
//     user column of a reject rule, PostgreSQL 16 rejects a user name of
//     62 a's at that rule after 0.8 s (measured on a 2-core machine).
//     Which answer the server would give is not known at the bound, so
//     none is guessed. The bound is some 0.5–0.9 s of CPU; Decide (and so
//     Match, MatchContext and a Holder's) polls its context during such a
//     match, every 65,536 units of work: once the context has ended the
//     match stops (0.8 ms into a match, measured, against 0.5–0.8 s
//     before) and the decision is Unresolved, ReasonRegexTooComplex, with
//     an Err that matches ctx.Err() with errors.Is. Explain runs the match
//     to the bound.
//   - A Resolver failure or timeout (anything but "not found") and an
//     Interfaces error refuse the connection at the rule (Unresolved),
//     where the server logs the failure and treats the rule as not
//     matching: the server behind a proxy may see a different DNS or other
//     interfaces, and skipping a reject rule could grant access.
//     Env.FailuresDoNotMatch restores the server's behaviour.
//   - A CachingResolver at its cap on lookups in flight refuses a
//     connection that needs a new lookup (ErrTooManyLookups) where the
//     server would wait for its own lookup.
package hba
