package main

// This file is the reading of the main pg_hba.conf as the commands do it,
// and the load errors they report when it does not load.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pghba/pghba/hba"
)

// readMain reads the main file path with p. The namer is for the main
// file's directory: the directory of the file read, else of path made
// absolute. err is non-nil when the file could not be read at all; its
// errors are then named by errorsOf(err, path).
func readMain(p *hba.Parser, path string) (*hba.File, namer, error) {
	if lfs, ok := p.FS.(*linesFS); ok {
		f, n := readComposed(p, lfs)
		return f, n, nil
	}
	f, err := p.ParseFile(path)
	if err != nil {
		return nil, namerFor(path), err
	}
	return f, namer{dir: filepath.Dir(f.Path)}, nil
}

// loaded is the outcome of loading the configuration: the main file read
// and compiled.
type loaded struct {
	namer
	file   *hba.File    // the main file as read; nil when it could not be read
	rs     *hba.Ruleset // nil when the files did not load
	errors []jsonError  // load errors, when rs is nil
}

type jsonError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
	Segment string `json:"-"` // --lines: segment and index replace file and line
	Index   int    `json:"-"`
}

// load reads and compiles the configuration.
func load(p *hba.Parser, path string) *loaded {
	f, n, err := readMain(p, path)
	ld := &loaded{namer: n, file: f}
	if err == nil {
		var rs *hba.Ruleset
		if rs, err = p.Compile(f); err == nil {
			ld.rs = rs
			return ld
		}
	}
	// The main file could not be read, or some line failed.
	ld.errors = n.loadErrors(err, path)
	return ld
}

// loadErrors lists the errors of a load of the file path that failed (see
// hbaErrors), each file named by n.
func (n namer) loadErrors(err error, path string) []jsonError {
	return n.jsonErrors(hbaErrors(err, path))
}

// jsonErrors lists errs, each file named by n.
func (n namer) jsonErrors(errs []*hba.Error) []jsonError {
	var out []jsonError
	for _, e := range errs {
		pos := n.locate(e.Pos)
		out = append(out, jsonError{File: n.rel(e.Pos.Filename), Line: e.Pos.Line, Message: e.Msg, Segment: pos.Segment, Index: pos.Index})
	}
	return out
}

// hbaErrors lists the errors of a load that failed: each *hba.Error in err
// (an hba.ErrorList, or one *hba.Error, possibly wrapped), or else err's
// text. An error positioned in no file is put on path, the file that was
// being loaded, made absolute. Whatever its kind (a missing file, a line
// error, a limit of the library), the file did not load.
func hbaErrors(err error, path string) []*hba.Error {
	file := absPath(path)
	var out []*hba.Error
	add := func(e *hba.Error) {
		if e.Pos.Filename == "" {
			c := *e
			c.Pos.Filename = file
			e = &c
		}
		out = append(out, e)
	}
	var list hba.ErrorList
	var one *hba.Error
	switch {
	case errors.As(err, &list) && len(list) > 0:
		for _, e := range list {
			add(e)
		}
	case errors.As(err, &one):
		add(one)
	default:
		add(&hba.Error{Msg: err.Error(), Err: err})
	}
	return out
}

// writeLoadErrors prints load errors as file:line: message, one a line.
// They are written through a small buffer as they go, not gathered into
// one string first: a load holds at most Limits.MaxErrors of them.
func writeLoadErrors(w io.Writer, errs []jsonError) {
	b := bufio.NewWriter(w)
	for _, e := range errs {
		if e.Segment != "" {
			fmt.Fprintf(b, "%s[%d]: %s\n", e.Segment, e.Index, e.Message)
			continue
		}
		fmt.Fprintf(b, "%s:%d: %s\n", e.File, e.Line, e.Message)
	}
	b.Flush()
}
