// Package identconf compares hba's pg_ident.conf support with real PostgreSQL servers.
//
// Two differential tests run against throwaway clusters (internal/pgtest):
//
//   - TestIdentView writes generated pg_ident.conf files (with @files and include
//     directives), reloads, and compares the pg_ident_file_mappings view (15+) and whether
//     the server took the file with hba's ParseIdentFile, IdentFile.ViewRows and
//     CompileIdent.
//   - TestIdentCert makes a CA and client certificates whose CN is the system user, and
//     connects through hostssl rules with the cert method (and trust with
//     clientcert=verify-full): the server's decision (authenticated or not, and the log
//     message) is compared with IdentMaps.CheckRule.
//
// Divergences are kept as txtar files under testdata/ that TestRegressions replays against
// the library alone. Environment: see the comment on env (env_test.go).
package identconf
