package pgtest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ProbeConn describes one client connection attempt.
type ProbeConn struct {
	Local bool // Unix socket; otherwise TCP
	// Source is the client's source address for TCP: any 127.x.y.z (the server is reached on
	// 127.0.0.1) or ::1 (server on ::1). Empty means 127.0.0.1.
	Source string
	SSL    bool // SSLRequest, then TLS (certificate not verified); TCP only
	User   string
	// Database is sent in the startup packet; omitted when empty (the server then uses User).
	Database string
	// Replication: "" (none), "true" or "physical" (physical walsender), "database" or
	// "logical" (logical walsender).
	Replication string
	// Password answers a password request (cleartext, MD5 or SCRAM-SHA-256); empty means
	// DefaultProbePassword.
	Password string
	// ClientCert, with SSL, is presented when the server asks for a client certificate.
	ClientCert *tls.Certificate
}

// DefaultProbePassword is sent when the server asks a probe for a password.
const DefaultProbePassword = "wrong-password"

// ProbeKind classifies how the server treated a connection.
type ProbeKind int

const (
	// OtherError: the connection failed before any authentication exchange, for a reason other
	// than pg_hba.conf (e.g. too many connections).
	OtherError ProbeKind = iota
	// Matched: a rule with a method other than reject matched. The server asked for
	// authentication or let the client in; File/Line come from the server log when it named
	// the line (every authentication failure does).
	Matched
	// NoEntry: no rule matched ("no pg_hba.conf entry for …").
	NoEntry
	// Reject: a reject rule matched ("pg_hba.conf rejects …").
	Reject
)

func (k ProbeKind) String() string {
	switch k {
	case Matched:
		return "matched"
	case NoEntry:
		return "no-entry"
	case Reject:
		return "reject"
	default:
		return "other-error"
	}
}

// ProbeResult is the server's decision about one connection.
type ProbeResult struct {
	Kind          ProbeKind
	SQLState      string // of the error the client got, "" when none
	Message       string // the client-visible error text (FATAL), "" when none
	Detail        string // the client-visible DETAIL, if any
	File          string // file of the matched line: from the log on 16+, HBAFile() on 13–15
	Line          int    // matched line number from the server log, 0 when not logged
	LineText      string // the line's text as the log quoted it
	AuthRequests  []int  // authentication request codes the server sent (3 cleartext, 5 MD5, 10 SASL, 0 OK)
	Authenticated bool   // the server accepted the authentication (AuthenticationOk)
	BackendPID    int    // the backend serving the probe, when known
	Log           []*LogEntry
	Duration      time.Duration
}

func (r ProbeResult) String() string {
	s := r.Kind.String()
	if r.Line > 0 {
		s += fmt.Sprintf(" %s:%d", filepath.Base(r.File), r.Line)
	}
	if r.Message != "" {
		s += fmt.Sprintf(" [%s] %s", r.SQLState, r.Message)
	}
	return s
}

var (
	matched15RE = regexp.MustCompile(`^Connection matched pg_hba\.conf line (\d+): "(.*)"$`)
	matched16RE = regexp.MustCompile(`^Connection matched file "(.*?)" line (\d+): "(.*)"$`)
	// log_connections (14+): `connection authenticated: identity="…" method=… (FILE:LINE)`
	authnRE = regexp.MustCompile(`^connection authenticated: .* method=\S+ \((.*):(\d+)\)$`)
	pidRE   = regexp.MustCompile(`^connection received: host=\[local\]`)
)

// Probe connects as p describes and reports the server's decision.
func (c *Cluster) Probe(p ProbeConn) (ProbeResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return ProbeResult{}, errors.New("pgtest: cluster stopped")
	}
	start := time.Now()
	c.readLog() // everything logged so far belongs to someone else
	var res ProbeResult

	var nc net.Conn
	var err error
	remote := "[local]"
	if p.Local {
		if p.SSL {
			return res, errors.New("pgtest: SSL over a Unix socket is not possible")
		}
		nc, err = net.DialTimeout("unix", filepath.Join(c.sockDir, fmt.Sprintf(".s.PGSQL.%d", c.port)), 5*time.Second)
	} else {
		src := p.Source
		if src == "" {
			src = "127.0.0.1"
		}
		ip := net.ParseIP(src)
		if ip == nil {
			return res, fmt.Errorf("pgtest: bad source address %q", src)
		}
		dst := "127.0.0.1"
		if ip.To4() == nil {
			dst = "::1"
		}
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
		nc, err = d.Dial("tcp", net.JoinHostPort(dst, strconv.Itoa(c.port)))
		if err == nil {
			la := nc.LocalAddr().(*net.TCPAddr)
			remote = fmt.Sprintf("%s(%d)", la.IP.String(), la.Port)
		}
	}
	if err != nil {
		return res, fmt.Errorf("pgtest: probe dial: %v", err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	if p.SSL {
		if nc, err = startTLSCert(nc, p.ClientCert); err != nil {
			return res, fmt.Errorf("pgtest: probe: %v", err)
		}
	}
	wc := newWireConn(nc)
	params := [][2]string{{"user", p.User}}
	if p.Database != "" {
		params = append(params, [2]string{"database", p.Database})
	}
	switch p.Replication {
	case "":
	case "physical", "true":
		params = append(params, [2]string{"replication", "true"})
	case "logical", "database":
		params = append(params, [2]string{"replication", "database"})
	default:
		params = append(params, [2]string{"replication", p.Replication})
	}
	if err := wc.startup(params); err != nil {
		return res, fmt.Errorf("pgtest: probe startup: %v", err)
	}
	pw := p.Password
	if pw == "" {
		pw = DefaultProbePassword
	}
	st, err := wc.handshake(p.User, pw)
	if err != nil {
		return res, fmt.Errorf("pgtest: probe handshake: %v", err)
	}
	if st.ready {
		_ = wc.send('X', nil)
	}
	res.AuthRequests = st.requests
	res.Authenticated = st.authenticated
	res.BackendPID = st.backendPID
	if st.err != nil {
		res.SQLState, res.Message, res.Detail = st.err.Code, st.err.Message, st.err.Detail
	}
	// The server writes a message to its log before sending it to the client, so every line
	// about this connection up to the last response is in the file now.
	c.correlate(&res, c.readLog(), remote, p.Local)

	switch {
	case st.err != nil && st.err.Code == "28000" && strings.HasPrefix(st.err.Message, "no pg_hba.conf entry"):
		res.Kind = NoEntry
	case st.err != nil && st.err.Code == "28000" && strings.HasPrefix(st.err.Message, "pg_hba.conf rejects"):
		res.Kind = Reject
	case res.Line > 0 || len(st.requests) > 0:
		res.Kind = Matched
	default:
		res.Kind = OtherError
	}
	res.Duration = time.Since(start)
	return res, nil
}

// correlate picks the log entries of the probe's backend: by the client's host(port) for TCP,
// by the PID of the one new "[local]" connection for Unix sockets.
func (c *Cluster) correlate(res *ProbeResult, entries []*LogEntry, remote string, local bool) {
	pid := res.BackendPID
	if pid == 0 {
		for _, e := range entries {
			if e.Remote != remote || e.PID == c.adminPID {
				continue
			}
			if !local || pidRE.MatchString(e.Message) {
				pid = e.PID
			}
		}
	}
	for _, e := range entries {
		if e.PID != pid || (e.Remote != remote && e.Remote != "") {
			continue
		}
		res.Log = append(res.Log, e)
		if m := authnRE.FindStringSubmatch(e.Message); m != nil && res.Line == 0 {
			res.File = m[1]
			res.Line, _ = strconv.Atoi(m[2])
		}
		for _, d := range strings.Split(e.Detail, "\n") {
			if m := matched16RE.FindStringSubmatch(d); m != nil {
				res.File, res.LineText = m[1], m[3]
				res.Line, _ = strconv.Atoi(m[2])
			} else if m := matched15RE.FindStringSubmatch(d); m != nil {
				res.File, res.LineText = c.HBAFile(), m[2]
				res.Line, _ = strconv.Atoi(m[1])
			}
		}
	}
	if res.BackendPID == 0 {
		res.BackendPID = pid
	}
}
