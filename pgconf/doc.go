// Package pgconf reads postgresql.conf as the PostgreSQL server does, for
// the facts pghba needs before it loads pg_hba.conf: the version
// (PG_VERSION), where hba_file and ident_file are, and the settings that
// change what pg_hba.conf means (ssl, ssl_ca_file, listen_addresses,
// password_encryption, db_user_namespace, krb_caseins_users,
// oauth_validator_libraries).
//
// The syntax is the server's configuration-file lexer, byte for byte:
//
//	name = value          the = is optional: "name value" is the same
//	Name = 1              names compare case-insensitively (ASCII)
//	s = 'it''s'           single quotes; '' and \' are a quote
//	s = 'a\tb\101'        \b \f \n \r \t and octal \ooo escapes; \x is x
//	n = 10MB              unquoted: numbers with units (10MB, 0x1F, -1.5e3),
//	                      or words that start with a letter and go on
//	                      with letters, digits and - . _ : / (x/y:z);
//	                      /x and a.b must be quoted (a.b alone is a
//	                      dotted name, a syntax error as a value)
//	# comment             to the end of the line, anywhere outside quotes
//	include 'f.conf'      relative to the including file; must exist
//	include_if_exists 'f' skipped (and listed in Config.Skipped) if missing
//	include_dir 'conf.d'  its *.conf files in byte order; names starting
//	                      with "." and directories are skipped
//
// The last value of a name wins. Includes nest at most MaxDepth deep; an
// indirect include cycle ends at that limit, a file including itself
// directly is "configuration file recursion". Errors carry the server's
// texts and are placed where pg_file_settings places them; a file with any
// error is refused as a whole, as the server refuses it.
//
// Divergences, all deliberate: only regular files are read, within a byte
// budget (Parser.MaxBytes); a Parser checks names only against
// Parser.Known (without it, only the settings pghba reads that the
// Parser.Version lacks are unknown), and Load gives it KnownName, the
// settings of each major 13 to 18 as their pg_settings lists them plus
// the hidden and build-dependent ones; values are checked
// only for the settings pghba reads (Parser.Version, Load). The server at
// start reports up to 100 syntax errors per file; the pg_file_settings
// view stops at the first (Parser.View). The package is proven against PostgreSQL 15
// and 18 by internal/gucconf, which compares it with pg_file_settings and
// SHOW on generated files.
package pgconf
