package pgtest

// A deliberately small PostgreSQL v3 frontend: enough to open sessions, run simple queries,
// negotiate SSL and answer password requests (cleartext, MD5, SCRAM-SHA-256).

import (
	"bufio"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

const (
	protocolVersion3 = 196608
	sslRequestCode   = 80877103
)

// authentication request codes of the 'R' message
const (
	authOK           = 0
	authCleartext    = 3
	authMD5          = 5
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
	maxMessageLength = 64 << 20
)

// ServerError is an ErrorResponse (or NoticeResponse) from the server.
type ServerError struct {
	Severity string // S field, localised severity (C locale here): FATAL, ERROR, …
	Code     string // SQLSTATE
	Message  string
	Detail   string
	Hint     string
}

func (e *ServerError) Error() string {
	s := fmt.Sprintf("%s: %s (SQLSTATE %s)", e.Severity, e.Message, e.Code)
	if e.Detail != "" {
		s += "; DETAIL: " + e.Detail
	}
	return s
}

type wireConn struct {
	nc net.Conn
	r  *bufio.Reader
	w  []byte
}

func newWireConn(nc net.Conn) *wireConn {
	return &wireConn{nc: nc, r: bufio.NewReaderSize(nc, 8192)}
}

// sslRequest sends an SSLRequest and returns the server's one-byte answer ('S' or 'N').
func sslRequest(nc net.Conn) (byte, error) {
	var b [8]byte
	binary.BigEndian.PutUint32(b[0:], 8)
	binary.BigEndian.PutUint32(b[4:], sslRequestCode)
	if _, err := nc.Write(b[:]); err != nil {
		return 0, err
	}
	var ans [1]byte
	if _, err := io.ReadFull(nc, ans[:]); err != nil {
		return 0, err
	}
	return ans[0], nil
}

// startTLS negotiates SSL on a fresh connection; the server's certificate is not verified.
func startTLS(nc net.Conn) (net.Conn, error) {
	ans, err := sslRequest(nc)
	if err != nil {
		return nil, fmt.Errorf("SSLRequest: %w", err)
	}
	if ans != 'S' {
		return nil, fmt.Errorf("server refused SSL (answer %q)", ans)
	}
	tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}

func (c *wireConn) startup(params [][2]string) error {
	body := binary.BigEndian.AppendUint32(nil, protocolVersion3)
	for _, kv := range params {
		body = append(body, kv[0]...)
		body = append(body, 0)
		body = append(body, kv[1]...)
		body = append(body, 0)
	}
	body = append(body, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	_, err := c.nc.Write(append(msg, body...))
	return err
}

func (c *wireConn) send(typ byte, body []byte) error {
	c.w = append(c.w[:0], typ)
	c.w = binary.BigEndian.AppendUint32(c.w, uint32(len(body)+4))
	c.w = append(c.w, body...)
	_, err := c.nc.Write(c.w)
	return err
}

func (c *wireConn) recv() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n < 4 || n > maxMessageLength {
		return 0, nil, fmt.Errorf("bad message length %d for type %q", n, hdr[0])
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return 0, nil, err
	}
	return hdr[0], body, nil
}

func (c *wireConn) close() {
	_ = c.send('X', nil)
	_ = c.nc.Close()
}

func parseError(body []byte) *ServerError {
	e := &ServerError{}
	for len(body) > 0 && body[0] != 0 {
		f := body[0]
		body = body[1:]
		i := strings.IndexByte(string(body), 0)
		if i < 0 {
			i = len(body)
		}
		v := string(body[:i])
		if i < len(body) {
			body = body[i+1:]
		} else {
			body = nil
		}
		switch f {
		case 'V':
			e.Severity = v
		case 'S':
			if e.Severity == "" {
				e.Severity = v
			}
		case 'C':
			e.Code = v
		case 'M':
			e.Message = v
		case 'D':
			e.Detail = v
		case 'H':
			e.Hint = v
		}
	}
	return e
}

func cstring(b []byte) (string, []byte) {
	i := strings.IndexByte(string(b), 0)
	if i < 0 {
		return string(b), nil
	}
	return string(b[:i]), b[i+1:]
}

// authState reports how a connection attempt went.
type authState struct {
	requests      []int // authentication request codes received, in order
	authenticated bool  // AuthenticationOk received
	ready         bool  // ReadyForQuery received
	backendPID    int
	err           *ServerError
}

// handshake runs the startup exchange after the startup packet: it answers password requests
// with password and reads until ReadyForQuery or an ErrorResponse. A *ServerError is returned in
// st.err, not as the error; the error result is for transport and protocol failures.
func (c *wireConn) handshake(user, password string) (st authState, err error) {
	var scram *scramClient
	for {
		typ, body, err := c.recv()
		if err != nil {
			return st, err
		}
		switch typ {
		case 'E':
			st.err = parseError(body)
			return st, nil
		case 'R':
			if len(body) < 4 {
				return st, errors.New("short authentication message")
			}
			code := int(binary.BigEndian.Uint32(body))
			data := body[4:]
			if code != authSASLContinue && code != authSASLFinal {
				st.requests = append(st.requests, code)
			}
			switch code {
			case authOK:
				st.authenticated = true
			case authCleartext:
				err = c.send('p', append([]byte(password), 0))
			case authMD5:
				if len(data) < 4 {
					return st, errors.New("short MD5 salt")
				}
				err = c.send('p', append([]byte(md5Password(user, password, data[:4])), 0))
			case authSASL:
				mechs := map[string]bool{}
				for len(data) > 0 && data[0] != 0 {
					var m string
					m, data = cstring(data)
					mechs[m] = true
				}
				if !mechs["SCRAM-SHA-256"] {
					return st, fmt.Errorf("no supported SASL mechanism in %v", mechs)
				}
				scram = newSCRAM(password)
				first := scram.clientFirst()
				msg := append([]byte("SCRAM-SHA-256"), 0)
				msg = binary.BigEndian.AppendUint32(msg, uint32(len(first)))
				msg = append(msg, first...)
				err = c.send('p', msg)
			case authSASLContinue:
				if scram == nil {
					return st, errors.New("SASLContinue without SASL")
				}
				var final string
				final, err = scram.clientFinal(string(data))
				if err == nil {
					err = c.send('p', []byte(final))
				}
			case authSASLFinal:
				// The server signature is not verified: probes only need the decision.
			default:
				return st, fmt.Errorf("unsupported authentication request %d", code)
			}
			if err != nil {
				return st, err
			}
		case 'K':
			if len(body) >= 4 {
				st.backendPID = int(binary.BigEndian.Uint32(body))
			}
		case 'Z':
			st.ready = true
			return st, nil
		case 'S', 'N':
			// ParameterStatus, NoticeResponse
		default:
			return st, fmt.Errorf("unexpected message %q during startup", typ)
		}
	}
}

func md5Password(user, password string, salt []byte) string {
	inner := md5.Sum([]byte(password + user))
	innerHex := hex.EncodeToString(inner[:])
	outer := md5.Sum(append([]byte(innerHex), salt...))
	return "md5" + hex.EncodeToString(outer[:])
}

type scramClient struct {
	password    string
	nonce       string
	firstBare   string
	serverFirst string
}

func newSCRAM(password string) *scramClient {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return &scramClient{password: password, nonce: base64.StdEncoding.EncodeToString(b[:])}
}

func (s *scramClient) clientFirst() string {
	// The user name is taken from the startup packet; PostgreSQL ignores this one.
	s.firstBare = "n=,r=" + s.nonce
	return "n,," + s.firstBare
}

func (s *scramClient) clientFinal(serverFirst string) (string, error) {
	s.serverFirst = serverFirst
	var nonce, salt string
	iters := 0
	for _, attr := range strings.Split(serverFirst, ",") {
		if len(attr) < 2 || attr[1] != '=' {
			continue
		}
		switch attr[0] {
		case 'r':
			nonce = attr[2:]
		case 's':
			salt = attr[2:]
		case 'i':
			iters, _ = strconv.Atoi(attr[2:])
		}
	}
	if !strings.HasPrefix(nonce, s.nonce) || salt == "" || iters <= 0 {
		return "", fmt.Errorf("bad SCRAM server-first-message %q", serverFirst)
	}
	saltBytes, err := base64.StdEncoding.DecodeString(salt)
	if err != nil {
		return "", fmt.Errorf("bad SCRAM salt: %w", err)
	}
	salted, err := pbkdf2.Key(sha256.New, s.password, saltBytes, iters, sha256.Size)
	if err != nil {
		return "", err
	}
	withoutProof := "c=biws,r=" + nonce
	authMessage := s.firstBare + "," + serverFirst + "," + withoutProof
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	sig := hmacSHA256(storedKey[:], authMessage)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// queryResult is what a simple Query returned.
type queryResult struct {
	rows [][]*string
	tags []string
}

// simpleQuery runs sql with the simple query protocol and reads up to ReadyForQuery. Rows of
// every statement are returned together; the first ErrorResponse is the error.
func (c *wireConn) simpleQuery(sql string) (queryResult, error) {
	var res queryResult
	if err := c.send('Q', append([]byte(sql), 0)); err != nil {
		return res, err
	}
	var qerr error
	for {
		typ, body, err := c.recv()
		if err != nil {
			return res, err
		}
		switch typ {
		case 'T', 'N', 'S', 'I', 'A':
		case 'D':
			row, err := parseDataRow(body)
			if err != nil {
				return res, err
			}
			res.rows = append(res.rows, row)
		case 'C':
			tag, _ := cstring(body)
			res.tags = append(res.tags, tag)
		case 'E':
			if qerr == nil {
				qerr = parseError(body)
			}
		case 'Z':
			return res, qerr
		default:
			return res, fmt.Errorf("unexpected message %q in query response", typ)
		}
	}
}

func parseDataRow(body []byte) ([]*string, error) {
	if len(body) < 2 {
		return nil, errors.New("short DataRow")
	}
	n := int(binary.BigEndian.Uint16(body))
	body = body[2:]
	row := make([]*string, n)
	for i := range n {
		if len(body) < 4 {
			return nil, errors.New("short DataRow column")
		}
		l := int32(binary.BigEndian.Uint32(body))
		body = body[4:]
		if l < 0 {
			continue
		}
		if int(l) > len(body) {
			return nil, errors.New("DataRow column overruns message")
		}
		s := string(body[:l])
		row[i] = &s
		body = body[l:]
	}
	return row, nil
}
