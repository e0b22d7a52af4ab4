// Package testkit is the project's shared test kit: the one txtar reader and
// writer (txtar.go), the one -update flag (update.go), and the skeleton of the
// differential harnesses that run generated cases against real servers
// (harness.go: seeds, versions, CI=true, saving divergences, environment
// options). It is imported only by tests and by the test-harness packages
// internal/conformance and internal/identconf; package hba never imports it.
//
// The txtar format is the one of golang.org/x/tools/txtar, read and written
// here rather than imported because the fixtures need one extension that
// package does not have: a file whose marker reads "-- NAME (quoted) --"
// holds Go-quoted strings, one per line, whose concatenation is the content.
// That keeps carriage returns, control bytes, invalid UTF-8, lines that look
// like markers, and a missing final newline exact, which pg_hba.conf and
// pg_ident.conf cases need. The writer chooses the quoted form by itself.
//
// # Updating expected output
//
// Every test that can rewrite its expected output does so under one flag:
//
//	go test ./PACKAGE -run TEST -update
//
// Tests read it through Update. What it rewrites (golden sections, a table
// generated from the C library, vectors recorded from a real server) is said
// next to each test.
package testkit
