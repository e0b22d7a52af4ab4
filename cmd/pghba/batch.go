package main

// This file is pghba check --batch: connections read as JSON lines, one
// JSON result line written for each.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/pghba/pghba/hba"
)

// batchCase is one line of --batch input.
type batchCase struct {
	Type        *string `json:"type"`
	Addr        *string `json:"addr"`
	SSL         bool    `json:"ssl"`
	GSS         bool    `json:"gss"`
	DB          string  `json:"db"`
	User        *string `json:"user"`
	Replication string  `json:"replication"`
}

// conn checks the case and returns the connection it describes.
func (bc *batchCase) conn() (hba.Conn, error) {
	var c hba.Conn
	if bc.Type == nil {
		return c, errors.New(`missing "type" (local or host)`)
	}
	switch *bc.Type {
	case "local":
		c.Local = true
		if bc.Addr != nil {
			return c, errors.New(`"addr" given for a local connection`)
		}
		if bc.SSL || bc.GSS {
			return c, errors.New(`"ssl" and "gss" must be false for a local connection`)
		}
	case "host":
		if bc.Addr == nil {
			return c, errors.New(`missing "addr" for a host connection`)
		}
		a, err := netip.ParseAddr(*bc.Addr)
		if err != nil {
			return c, fmt.Errorf(`"addr" %q is not an IP address`, *bc.Addr)
		}
		c.Addr = a
	default:
		return c, fmt.Errorf(`"type" %q: want local or host`, *bc.Type)
	}
	if bc.SSL && bc.GSS {
		return c, errors.New(`"ssl" and "gss" cannot both be true`)
	}
	c.SSL, c.GSS = bc.SSL, bc.GSS
	if bc.User == nil || *bc.User == "" {
		return c, errors.New(`missing "user"`)
	}
	c.User, c.Database = *bc.User, bc.DB
	r, err := parseReplication(bc.Replication)
	if err != nil {
		return c, errors.New(`"replication": ` + err.Error())
	}
	c.Replication = r
	return c, nil
}

// maxBatchLine is the longest --batch line read, not counting its newline.
// A longer line is skipped, without being held in memory, with an error
// object in its place.
const maxBatchLine = 1 << 20

// runBatch decides every case read from name ("-": stdin), writing one JSON
// line per case and flushing after each, so that a caller may feed cases one
// at a time through a pipe.
func runBatch(inv *invocation, ld *loaded, name string) int {
	in := inv.stdin
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return inv.exit(fmt.Errorf("--batch: %w", err))
		}
		defer fh.Close()
		in = fh
	}
	r := bufio.NewReader(in)
	w := bufio.NewWriter(inv.stdout)
	status := exitOK
	if ld.rs == nil {
		status = exitNotLoaded
	}
	var buf []byte
	for lineno := 1; ; lineno++ {
		line, long, err := readBoundedLine(r, buf[:0], maxBatchLine)
		buf = line
		var res any // nil for a blank line
		switch {
		case long:
			res = batchError{fmt.Sprintf("line %d: longer than %d bytes", lineno, maxBatchLine)}
		case len(bytes.TrimSpace(line)) > 0:
			res = batchResult(ld, lineno, line)
		}
		if res != nil {
			writeJSONLine(w, res)
			if w.Flush() != nil {
				// stdout remembers the failed write and run reports it:
				// stop, as every later result would be lost too.
				return exitUsage
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return inv.exit(fmt.Errorf("--batch: %w", err))
		}
	}
	return status
}

// readBoundedLine reads one line from r, up to and including its newline,
// appending it to buf. A line of more than max bytes, not counting the
// newline, is read to its end but not kept: long is then true and line is
// empty. err is io.EOF at the end of the input (line may then be non-empty:
// a last line without a newline).
func readBoundedLine(r *bufio.Reader, buf []byte, max int) (line []byte, long bool, err error) {
	line = buf
	for {
		chunk, err := r.ReadSlice('\n')
		content := len(chunk)
		if content > 0 && chunk[content-1] == '\n' {
			content--
		}
		if !long && len(line)+content > max {
			long, line = true, line[:0]
		}
		if !long {
			line = append(line, chunk...)
		}
		if err != bufio.ErrBufferFull {
			return line, long, err
		}
	}
}

type batchError struct {
	Error string `json:"error"`
}

func batchResult(ld *loaded, lineno int, line []byte) any {
	var bc batchCase
	if err := json.Unmarshal(line, &bc); err != nil {
		return batchError{fmt.Sprintf("line %d: %s", lineno, jsonErrorText(err))}
	}
	c, err := bc.conn()
	if err != nil {
		return batchError{fmt.Sprintf("line %d: %s", lineno, err)}
	}
	return ld.decide(c)
}
