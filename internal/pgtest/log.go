package pgtest

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// LogEntry is one message of the server log, with its DETAIL/HINT/CONTEXT lines attached.
type LogEntry struct {
	Time    string // %m
	PID     int    // %p
	Remote  string // %r: "127.0.0.1(54321)", "::1(54321)", "[local]", or "" (postmaster, background)
	Level   string // LOG, FATAL, ERROR, WARNING, …
	Message string
	Detail  string // several lines joined by "\n" when the server logged several
	Hint    string
	Context string
	File    string // from CONTEXT `line N of configuration file "F"`, else ""
	Line    int    // N from that CONTEXT, else 0
}

func (e *LogEntry) String() string {
	var b strings.Builder
	b.WriteString(e.Level + ": " + e.Message)
	if e.Detail != "" {
		b.WriteString(" | DETAIL: " + e.Detail)
	}
	if e.Hint != "" {
		b.WriteString(" | HINT: " + e.Hint)
	}
	if e.Context != "" {
		b.WriteString(" | CONTEXT: " + e.Context)
	}
	return b.String()
}

var (
	// matches log_line_prefix '%m [%p] %r ' followed by "LEVEL:  text"
	logLineRE    = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+) \[(\d+)\] (\S*) ?([A-Z]+[0-9]?):  (.*)$`)
	logContextRE = regexp.MustCompile(`line (\d+) of configuration file "(.*)"`)
)

// logReader reads a server log incrementally.
type logReader struct {
	f       *os.File
	partial []byte
	last    map[int]*LogEntry // latest entry per PID, for DETAIL/CONTEXT lines
	lastAny *LogEntry         // latest entry, for unprefixed continuation lines
	lastFld *string           // field the previous line appended to
	buf     []byte
}

func openLog(path string) (*logReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &logReader{f: f, last: map[int]*LogEntry{}, buf: make([]byte, 64<<10)}, nil
}

func (r *logReader) close() { _ = r.f.Close() }

// read returns the entries completed since the previous call. A message's DETAIL or CONTEXT
// arriving only in a later read is attached to the entry returned earlier.
func (r *logReader) read() []*LogEntry {
	var out []*LogEntry
	if len(r.last) > 1024 {
		r.last = map[int]*LogEntry{}
	}
	for {
		n, err := r.f.Read(r.buf)
		if n > 0 {
			r.partial = append(r.partial, r.buf[:n]...)
		}
		if err == io.EOF || n == 0 || err != nil {
			break
		}
	}
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		line := string(r.partial[:i])
		r.partial = r.partial[i+1:]
		if e := r.addLine(line); e != nil {
			out = append(out, e)
		}
	}
	if len(r.partial) == 0 {
		r.partial = nil
	}
	return out
}

func (r *logReader) addLine(line string) *LogEntry {
	m := logLineRE.FindStringSubmatch(line)
	if m == nil {
		// continuation of a multi-line message text (the server indents those with a tab)
		if r.lastFld != nil {
			*r.lastFld += "\n" + strings.TrimPrefix(line, "\t")
			if r.lastAny != nil && r.lastFld == &r.lastAny.Context {
				r.lastAny.parseContext()
			}
		}
		return nil
	}
	pid, _ := strconv.Atoi(m[2])
	level, text := m[4], m[5]
	if prev := r.last[pid]; prev != nil {
		var fld *string
		switch level {
		case "DETAIL":
			fld = &prev.Detail
		case "HINT":
			fld = &prev.Hint
		case "CONTEXT":
			fld = &prev.Context
		case "STATEMENT", "QUERY", "LOCATION":
			r.lastFld = nil
			return nil
		}
		if fld != nil {
			if *fld != "" {
				*fld += "\n"
			}
			*fld += text
			r.lastFld = fld
			r.lastAny = prev
			if level == "CONTEXT" {
				prev.parseContext()
			}
			return nil
		}
	}
	e := &LogEntry{Time: m[1], PID: pid, Remote: m[3], Level: level, Message: text}
	r.last[pid] = e
	r.lastAny = e
	r.lastFld = &e.Message
	return e
}

func (e *LogEntry) parseContext() {
	if m := logContextRE.FindStringSubmatch(e.Context); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.File = m[2]
	}
}
