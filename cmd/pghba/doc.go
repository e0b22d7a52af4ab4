/*
Pghba reads PostgreSQL's pg_hba.conf as a PostgreSQL 13–18 server does and
answers questions about it.

Usage:

	pghba <command> [arguments]

Run "pghba help" for the list of commands and "pghba help <command>" for the
details of one.

# Check

Check loads a configuration and decides one connection, or a batch of them:

	pghba check [-f FILE] [--pgdata DIR] [--config-file FILE] [--dsn URL]
	            [--pg-version N] [--server-ssl on|off] [--missing LIST]
	            [--roles FILE] [--hosts FILE] [--server-addrs LIST] [--json]
	            ( --local | --host ADDR ) [--ssl] [--gss] [--db NAME] --user NAME
	            [--replication physical|logical]
	pghba check [loading flags] --batch FILE|-

Flags may be written with one dash or two. The loading flags describe the
server: -f is the main file (default $PGDATA/pg_hba.conf, else
./pg_hba.conf); --pg-version the major version, 13 to 18 (default 18);
--minor the minor release, which matters for the few rules PostgreSQL changed
within a major version (default: the newest); --server-ssl the ssl setting
(default off, as in PostgreSQL); --missing the build features the server
lacks, from gssapi, ldap, pam, bsd, sspi and ssl (default bsd,sspi, a typical
Linux build); --oauth-validators the oauth_validator_libraries setting (18);
--db-user-namespace turns db_user_namespace on (13 to 16).

Those facts can come from the server itself. --pgdata DIR reads the data
directory as the server does at start: PG_VERSION, postgresql.conf and
postgresql.auto.conf with their includes, for the version, hba_file, ssl,
ssl_ca_file, listen_addresses, password_encryption, db_user_namespace and
oauth_validator_libraries. --config-file FILE starts from a postgresql.conf
outside the data directory, whose data_directory names the data (Debian's
/etc/postgresql/N/main). --dsn URL connects to a running server (libpq
syntax; password from it, PGPASSWORD or ~/.pgpass; TLS per sslmode;
connect_timeout 10 s unless given) and reads its version, those settings and
its roles with their memberships, so +role and samerole rules resolve. A
flag given explicitly wins over what was read, and --dsn over the files.
A configuration the server would refuse, or a server that cannot be reached,
stops the command with exit status 2.

The world outside the files comes from flags too. --roles names a JSON object
mapping each role to the roles it is directly a member of; membership is
transitive, a role is a member of itself, and a role absent from the file
does not exist. --hosts names a JSON host table,

	{"reverse": {"192.0.2.7": ["db.example.com"]}, "forward": {"db.example.com": ["192.0.2.7"]}}

and when it is given no real DNS is used: a missing entry is a failed lookup.
The table serves host-name rules and also the radiusservers names that the
server resolves when it loads the file. Without --hosts both use this
machine's resolver. --server-addrs
lists the server's interface addresses with their prefix lengths
(127.0.0.1/8,::1/128) for samehost and samenet rules; without it the
machine's own interfaces are used.

The connection flags describe the client: --local or --host ADDR, --ssl or
--gss for an encrypted TCP connection, --db (default: the user name, as in
PostgreSQL), --user, and --replication physical or logical.

With --batch, connections are read as JSON lines from a file, or standard
input for "-":

	{"type":"host","addr":"192.0.2.7","ssl":true,"db":"app","user":"alice"}
	{"type":"local","user":"postgres","replication":"physical"}

and one JSON result line is written for each, in order, flushed as it is
written. Blank lines are skipped and unknown fields ignored. A line that does
not describe a connection gives {"error":"line N: ..."} and the batch goes on;
so does a line longer than 1 MiB (1,048,576 bytes, not counting its newline),
which is skipped without being held in memory.

A result is one JSON object:

	{"result":"match","file":"pg_hba.conf","line":3,"method":"scram-sha-256","options":{}}
	{"result":"reject","file":"conf.d/10-deny.conf","line":1,"method":"reject","options":{},
	 "message":"pg_hba.conf rejects connection for host \"192.0.2.7\", user \"bob\", database \"bob\", no encryption"}
	{"result":"no-match","message":"no pg_hba.conf entry for host \"192.0.2.7\", user \"bob\", database \"app\", SSL encryption"}
	{"result":"file-not-loaded","errors":[{"file":"pg_hba.conf","line":2,"message":"invalid connection type \"hots\""}]}

The file is relative to the main file's directory (the main file is its base
name), and line is the first physical line of the rule. Options are the
pg_hba_file_rules view's options column as name → value. The message of
reject and no-match is the text PostgreSQL sends the client.

Besides the four results of PostgreSQL's own, check has a fifth:

	{"result":"unresolved","file":"pg_hba.conf","line":4,"message":"..."}

It means the rule at file:line could not be evaluated: it tests role
membership (+role, samerole) and --roles was not given, or it names a host and
the lookup could not be done. The server's answer is then unknown, and the
message says why. pghba never guesses a grant.

Without --json the same decision is printed for people: the result with the
rule as file:line and its line quoted, then the include directives that led
to it, the method, options and message, one to a line:

	match: conf.d/10-apps.conf:3: "host all all 127.0.0.1/32 scram-sha-256"
	included from: pg_hba.conf:7
	method: scram-sha-256

Rules that load but can never match (hostssl with --server-ssl off, for
instance) are then also listed on standard error as file:line: warning: text.

Exit status: 0 when a decision was made, whatever it is (unresolved
included); 1 when the files did not load, each error then also written to
standard error as file:line: message; 2 for bad usage, an I/O error
(unreadable --roles, --hosts or --batch input) or a failed write (see Exit
status below).

# Exit status

Every command gives the same status for the same failure:

  - 1, did not load: the main pg_hba.conf (-f), or the pg_ident.conf given
    with --ident, is missing, cannot be read, has a line error or exceeds one
    of the library's load limits. Check, exposure and test write each error
    to standard error as file:line: message (line 0 when the error is about
    the whole file); so does rules for a file it cannot read, and it shows
    line errors in the error column; lint reports them as load-error
    findings. Lint and test also exit 1 for their own negative answer (a
    warning, a failed expectation). Lint given FILE or DIR arguments, its
    CI form (docs/ci.md), exits 2 instead for a FILE or DIR it cannot read,
    after linting the others, and for a bad .pghba.json.
  - 2, usage or I/O: bad flags or arguments; a side input that cannot be
    read or is malformed: --roles, --hosts, --batch, the expectations of
    pghba test (--roles, --hosts and expectations files are read whole, up to
    64 MiB); a failed write to standard output or standard error (a full
    disk, pghba check ... > /dev/full), reported on standard error when it
    can be; an internal error, reported as one line "pghba CMD: internal
    error: ..." instead of a stack dump.

Running out of memory is a fatal error of the Go runtime that no program can
catch; the library's load limits exist so that hostile files fail with a
load error (exit 1) before that.

# Adding commands

Each command lives in its own file and has a row in the command table in
commands.go (name, summary, usage, the optional loading flags it takes, and
its run function), which dispatch and help read. The loading flags are the
loadFlags type in loadflags.go: defined, checked and turned into an
hba.Parser in that one place. Files are named relative to the main file's
directory by the namer in names.go.
*/
package main
