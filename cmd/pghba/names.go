package main

// This file is how every command names files: relative to the directory of
// the main pg_hba.conf.

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

// A namer names files relative to the directory of the main file, which it
// holds (absolute); the main file itself is then its base name.
type namer struct {
	dir string
	c   *hba.Composed // --lines: places in it are NAME[INDEX]
}

// locate is p with its segment and index, for --lines.
func (n namer) locate(p hba.Position) hba.Position {
	if n.c == nil {
		return p
	}
	return n.c.Locate(p)
}

// namerFor is the namer for the main file path before it is read: the
// directory of path made absolute.
func namerFor(path string) namer { return namer{dir: filepath.Dir(absPath(path))} }

// rel names the file name. A name that cannot be made relative (another
// volume) is returned as it is, and so is "".
func (n namer) rel(name string) string {
	if name == "" {
		return ""
	}
	if r, err := filepath.Rel(n.dir, name); err == nil {
		return r
	}
	return name
}

// at is p as the JSON output gives it.
func (n namer) at(p hba.Position) filePos {
	l := n.locate(p)
	return filePos{File: n.rel(p.Filename), Line: p.Line, Segment: l.Segment, Index: l.Index}
}

// inMessage names the place p in the library's message msg, which names
// it by absolute path, as the rest of the output does: file:line, the file
// named by rel. Only the first mention is renamed.
func (n namer) inMessage(msg string, p hba.Position) string {
	return strings.Replace(msg, p.String(), n.at(p).String(), 1)
}

// absPath is path made absolute, or only cleaned when the working directory
// is unknown.
func absPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	return abs
}

// filePos is a place in a file as the JSON output gives it, the file named
// by a namer.
type filePos struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Segment string `json:"-"` // --lines: segment and index replace file and line
	Index   int    `json:"-"`
}

// String is file:line, or segment[index].
func (p filePos) String() string {
	if p.Segment != "" {
		return p.Segment + "[" + strconv.Itoa(p.Index) + "]"
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}
