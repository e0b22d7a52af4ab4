// Package gucconf proves package pgconf against real servers: it generates
// postgresql.conf files (quoting, escapes, includes, duplicates, syntax
// errors, unknown names, bad values), has PostgreSQL 15 and 18 read them,
// and compares pg_file_settings (sourcefile, sourceline, name, setting,
// applied, error) and, after a reload, SHOW of the settings pghba reads,
// with what pgconf predicts. The package holds only tests; see
// CONFORMANCE.md for the per-run case count.
package gucconf
