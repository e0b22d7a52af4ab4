// Package conformance generates pg_hba.conf test cases and compares the
// decisions of real PostgreSQL servers with those of package hba.
//
// A Case is a set of files (the main pg_hba.conf, @files, included files and
// directories) in two variants from one model: the original, and a "password
// variant" in which every rule's method and options are replaced by
// "password" while every byte before the method and every line number stay
// the same. Matching never looks at the method, so a server running the
// password variant and refusing a wrong password names in its log the line
// the original would have matched. Lines that are meant to fail to parse stay
// byte-identical in both variants.
package conformance

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
)

// MainFile is the name of the main file in a case, relative to the case
// directory.
const MainFile = "pg_hba.conf"

// File is one file of a case. Path is slash-separated and relative to the
// directory holding the main file. A Dir entry is an (empty) directory.
type File struct {
	Path string
	Dir  bool
	// Data is the original contents, PW the password variant.
	Data, PW string
}

// Conn is one connection attempt of a case.
type Conn struct {
	Local bool
	Addr  netip.Addr // TCP source address (127.0.0.0/8 or ::1)
	SSL   bool
	Repl  hba.Replication
	User  string
	// Database is the startup packet's database; "" leaves it out (the
	// server then uses the user name).
	Database string
}

// HBA returns the connection as package hba describes it.
func (c Conn) HBA() hba.Conn {
	return hba.Conn{Local: c.Local, Addr: c.Addr, SSL: c.SSL && !c.Local, Database: c.Database, User: c.User, Replication: c.Repl}
}

// String renders the connection in the one-line form used by regression
// files: `local|tcp ADDR ssl|nossl normal|physical|logical user=Q db=Q`,
// with Go-quoted names.
func (c Conn) String() string {
	var b strings.Builder
	if c.Local {
		b.WriteString("local - nossl")
	} else {
		b.WriteString("tcp ")
		b.WriteString(c.Addr.String())
		if c.SSL {
			b.WriteString(" ssl")
		} else {
			b.WriteString(" nossl")
		}
	}
	switch c.Repl {
	case hba.PhysicalReplication:
		b.WriteString(" physical")
	case hba.LogicalReplication:
		b.WriteString(" logical")
	default:
		b.WriteString(" normal")
	}
	fmt.Fprintf(&b, " user=%q db=%q", c.User, c.Database)
	return b.String()
}

// ParseConn is the inverse of Conn.String.
func ParseConn(s string) (Conn, error) {
	var c Conn
	var kind, addr, ssl, repl string
	rest := s
	for _, p := range []*string{&kind, &addr, &ssl, &repl} {
		rest = strings.TrimLeft(rest, " ")
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return c, fmt.Errorf("conn %q: too few fields", s)
		}
		*p, rest = rest[:i], rest[i+1:]
	}
	switch kind {
	case "local":
		c.Local = true
	case "tcp":
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return c, fmt.Errorf("conn %q: %v", s, err)
		}
		c.Addr = a
	default:
		return c, fmt.Errorf("conn %q: bad kind %q", s, kind)
	}
	c.SSL = ssl == "ssl"
	switch repl {
	case "physical":
		c.Repl = hba.PhysicalReplication
	case "logical":
		c.Repl = hba.LogicalReplication
	case "normal":
	default:
		return c, fmt.Errorf("conn %q: bad replication %q", s, repl)
	}
	rest = strings.TrimLeft(rest, " ")
	if !strings.HasPrefix(rest, "user=") {
		return c, fmt.Errorf("conn %q: no user=", s)
	}
	u, rest, err := unquotePrefix(rest[len("user="):])
	if err != nil {
		return c, fmt.Errorf("conn %q: %v", s, err)
	}
	rest = strings.TrimLeft(rest, " ")
	if !strings.HasPrefix(rest, "db=") {
		return c, fmt.Errorf("conn %q: no db=", s)
	}
	d, rest, err := unquotePrefix(rest[len("db="):])
	if err != nil || strings.TrimSpace(rest) != "" {
		return c, fmt.Errorf("conn %q: bad db", s)
	}
	c.User, c.Database = u, d
	return c, nil
}

// Case is one generated test case.
type Case struct {
	Seed    uint64
	Index   int
	Version int
	Files   []File
	Conns   []Conn
	// Notes lists what the generator put into the case (line kinds), for
	// coverage statistics and failure reports.
	Notes []string
}

// Name returns "seed/index".
func (c *Case) Name() string { return fmt.Sprintf("%d/%d", c.Seed, c.Index) }

// Main returns the main file.
func (c *Case) Main() *File {
	for i := range c.Files {
		if c.Files[i].Path == MainFile {
			return &c.Files[i]
		}
	}
	return nil
}

// Dump renders the files of one variant for a failure report.
func (c *Case) Dump(pw bool) string {
	var b strings.Builder
	fs := append([]File(nil), c.Files...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Path == MainFile && fs[j].Path != MainFile })
	for _, f := range fs {
		if f.Dir {
			fmt.Fprintf(&b, "-- %s/ (directory) --\n", f.Path)
			continue
		}
		d := f.Data
		if pw {
			d = f.PW
		}
		fmt.Fprintf(&b, "-- %s --\n%s", f.Path, visible(d))
		if d != "" && !strings.HasSuffix(d, "\n") {
			b.WriteString("⟨no newline at end⟩\n")
		}
	}
	return b.String()
}

// visible shows control bytes other than newline and tab.
func visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r':
			b.WriteString("⟨CR⟩")
		case c < 0x20 && c != '\n' && c != '\t':
			fmt.Fprintf(&b, "⟨%02x⟩", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func unquotePrefix(s string) (val, rest string, err error) {
	if s == "" || s[0] != '"' {
		return "", s, fmt.Errorf("not a quoted string: %q", s)
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '"' {
			v, err := strconv.Unquote(s[:i+1])
			if err != nil {
				return "", s, err
			}
			return v, s[i+1:], nil
		}
	}
	return "", s, fmt.Errorf("unterminated quoted string: %q", s)
}
