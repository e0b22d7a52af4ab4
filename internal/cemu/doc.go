// Package cemu emulates the C library and PostgreSQL port functions whose
// exact behaviour decides how pg_hba.conf and pg_ident.conf text is read:
// glibc's inet_aton, getaddrinfo's numeric-host test, strtol and atoi,
// strerror, and PostgreSQL's canonicalize_path, trim_directory,
// SplitGUCList, SplitDirectoriesString and SplitIdentifierString.
//
// Each function names the C function it mirrors. The model is the one
// PostgreSQL 13 to 18 meets on Linux: glibc (checked against 2.36 by the
// tests, which call the C library through python3 where it exists), the C
// locale, a 64-bit long, Unix paths (no Windows drive letters or
// backslashes) and, for identifiers, a single-byte server encoding.
//
// A Go string stands for the bytes of a C string. A NUL byte inside it has
// no C meaning, since C would stop there; the functions treat it as an
// ordinary byte, and their docs say what it does to the result.
//
// The package imports only the standard library.
package cemu

//go:generate go test -run TestGlibcLive -update .
