package main

// This file is --lines: the main pg_hba.conf given as lists of lines (a
// JSON array of strings, or {"segments": [{"name": ..., "lines": [...]}]}),
// loaded with hba.Parser.ParseComposed. Places are then NAME[INDEX], in
// JSON "segment" and "index" in place of "file" and "line".

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pghba/pghba/hba"
)

// linesFS marks a Parser whose main file is lists of lines: readMain
// parses c instead of reading a file. It reads no file itself.
type linesFS struct{ c *hba.Composed }

func (*linesFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// readLines reads a --lines file. A bare array is one segment named after
// the file.
func readLines(name string) (*hba.Composed, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	c := &hba.Composed{}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var lines []string
		if err := json.Unmarshal(data, &lines); err != nil {
			return nil, fmt.Errorf("%s: want a JSON array of strings: %v", name, err)
		}
		c.Segments = []hba.Segment{{Name: filepath.Base(name), Lines: lines}}
		return c, nil
	}
	var doc struct {
		Segments []struct {
			Name  string   `json:"name"`
			Lines []string `json:"lines"`
		} `json:"segments"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf(`%s: want a JSON array of strings or {"segments": [{"name": "...", "lines": [...]}]}: %v`, name, err)
	}
	if doc.Segments == nil {
		return nil, fmt.Errorf(`%s: no "segments"`, name)
	}
	for i, s := range doc.Segments {
		if s.Name == "" {
			return nil, fmt.Errorf("%s: segment %d has no name", name, i)
		}
		c.Segments = append(c.Segments, hba.Segment{Name: s.Name, Lines: s.Lines})
	}
	return c, nil
}

// readComposed is readMain for --lines.
func readComposed(p *hba.Parser, lfs *linesFS) (*hba.File, namer) {
	q := *p
	q.FS = nil
	f := q.ParseComposed(lfs.c)
	return f, namer{dir: "/", c: lfs.c}
}

// segmentJSON returns v (a struct with file and line members) as JSON with
// segment and index in their place.
func segmentJSON(v any, seg string, idx int) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "file")
	delete(m, "line")
	m["segment"], _ = json.Marshal(seg)
	m["index"], _ = json.Marshal(idx)
	return json.Marshal(m)
}

func (e jsonError) MarshalJSON() ([]byte, error) {
	type plain jsonError
	if e.Segment == "" {
		return json.Marshal(plain(e))
	}
	return segmentJSON(plain(e), e.Segment, e.Index)
}

func (p filePos) MarshalJSON() ([]byte, error) {
	type plain filePos
	if p.Segment == "" {
		return json.Marshal(plain(p))
	}
	return segmentJSON(plain(p), p.Segment, p.Index)
}

func (j lintJSONFinding) MarshalJSON() ([]byte, error) {
	type plain lintJSONFinding
	if j.Segment == "" {
		return json.Marshal(plain(j))
	}
	return segmentJSON(plain(j), j.Segment, j.Index)
}
