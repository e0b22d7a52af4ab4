package pgtest

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ReloadResult is what the postmaster logged while reloading its configuration.
type ReloadResult struct {
	Loaded      bool        // pg_hba.conf was taken (no "… was not reloaded" for it)
	IdentLoaded bool        // pg_ident.conf was taken
	Errors      []*LogEntry // messages logged while loading pg_hba.conf (errors and warnings), in order
	IdentErrors []*LogEntry // messages logged while loading pg_ident.conf
	Log         []*LogEntry // every postmaster message since the previous reload, markers included
}

// Reload sends SIGHUP to the postmaster, waits until it has processed it and reports what it
// logged about pg_hba.conf and pg_ident.conf since the previous reload.
//
// Waiting: a new connection is served only after the postmaster went back to its main loop,
// so a Unix-socket round trip (SSLRequest and its one-byte answer) after the signal
// guarantees that the reload has finished and its messages are in the log.
func (c *Cluster) Reload() (ReloadResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return ReloadResult{}, fmt.Errorf("pgtest: cluster stopped")
	}
	if err := syscall.Kill(c.pid, syscall.SIGHUP); err != nil {
		return ReloadResult{}, fmt.Errorf("pgtest: SIGHUP: %v", err)
	}
	// 13–15 reload inside the signal handler, which runs before the postmaster can accept
	// again; 16+ set a flag in the handler and the main loop processes it before it accepts
	// the next connection. Either way the answer to one new connection proves the reload done.
	if err := c.ping(); err != nil {
		return ReloadResult{}, fmt.Errorf("pgtest: waiting for the reload: %v; log:\n%s", err, c.logTail())
	}
	c.readLog()
	entries := c.pmLog
	c.pmLog = nil
	return c.reloadResult(entries), nil
}

// ping opens a Unix-socket connection, sends SSLRequest, reads the answer and hangs up
// (the server logs nothing for that beyond log_connections' "connection received").
func (c *Cluster) ping() error {
	nc, err := net.DialTimeout("unix", filepath.Join(c.sockDir, fmt.Sprintf(".s.PGSQL.%d", c.port)), 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	_, err = sslRequest(nc)
	return err
}

func (c *Cluster) reloadResult(entries []*LogEntry) ReloadResult {
	r := ReloadResult{Loaded: true, IdentLoaded: true}
	hbaDone := false
	from := 0 // classify only what follows the last SIGHUP
	for i, e := range entries {
		if e.PID == c.pid && e.Message == sighupMessage {
			from = i
		}
	}
	for i, e := range entries {
		if e.PID != c.pid {
			continue
		}
		r.Log = append(r.Log, e)
		if i < from {
			continue
		}
		switch {
		case e.Message == sighupMessage:
			continue
		case e.Message == "pg_hba.conf was not reloaded" || e.Message == c.HBAFile()+" was not reloaded":
			r.Loaded = false
			hbaDone = true
			continue
		case e.Message == "pg_ident.conf was not reloaded" || e.Message == c.IdentFile()+" was not reloaded":
			r.IdentLoaded = false
			continue
		case strings.HasPrefix(e.Message, "parameter \"") || strings.HasPrefix(e.Message, "configuration file \""):
			// postgresql.conf changes and their summaries
			if !strings.Contains(e.Message, "contains no entries") {
				continue
			}
		}
		if e.Line == 0 {
			// 13–15 log some ident errors without CONTEXT
			if m := missingEntryRE.FindStringSubmatch(e.Message); m != nil {
				e.File = m[1]
				e.Line, _ = strconv.Atoi(m[2])
			}
		}
		if !hbaDone && c.isIdentEntry(e) {
			hbaDone = true
		}
		if hbaDone {
			r.IdentErrors = append(r.IdentErrors, e)
		} else {
			r.Errors = append(r.Errors, e)
		}
	}
	return r
}

const sighupMessage = "received SIGHUP, reloading configuration files"

var missingEntryRE = regexp.MustCompile(`^missing entry in file "(.*)" at end of line (\d+)`)

// isIdentEntry tells pg_ident.conf messages from pg_hba.conf ones when pg_hba.conf loaded (so
// no "was not reloaded" line separates them): by the file named in CONTEXT or the message.
func (c *Cluster) isIdentEntry(e *LogEntry) bool {
	if e.File == c.IdentFile() {
		return true
	}
	m := e.Message
	return strings.HasPrefix(m, "missing entry") || strings.HasPrefix(m, "multiple values in ident field") ||
		strings.HasPrefix(m, "could not open usermap file") ||
		strings.Contains(m, "\""+c.IdentFile()+"\"")
}
