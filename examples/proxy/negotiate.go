// The startup negotiation: SSLRequest and GSSENCRequest answered, TLS
// (direct or negotiated), a CancelRequest forwarded, and the startup packet
// read exactly as PostgreSQL reads it.

package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// startup is what the client asked for.
type startup struct {
	raw    []byte // the startup packet, to forward as received
	params map[string]string
	opts   []string // protocol options (_pq_.*)
	pkt    packet
	ssl    bool
}

// errClosed ends a connection without an error message to the client;
// errCancel ends a connection that brought a cancel request.
var (
	errClosed = errors.New("connection closed during startup")
	errCancel = errors.New("cancel request")
)

// startupError is a startup the proxy answers with a FATAL, as PostgreSQL.
type startupError struct {
	reason string
	resp   *pgproto3.ErrorResponse
	legacy bool // send it in protocol 2's format
}

func (e *startupError) Error() string { return e.resp.Message }

// readStartup runs the startup negotiation: SSLRequest and GSSENCRequest are
// answered, a CancelRequest is forwarded and ends the connection. It returns
// the connection to use afterwards (TLS when negotiated). Every packet is
// read exactly: bytes the client sent behind its startup packet stay in the
// socket, to be relayed.
func (p *Proxy) readStartup(c net.Conn, local bool) (net.Conn, *startup, error) {
	st := &startup{}
	sslDone, gssDone := false, false
	if p.tls != nil && !local {
		// A client with sslnegotiation=direct (PostgreSQL 17+) starts the
		// TLS handshake at once instead of sending an SSLRequest.
		var first [1]byte
		if _, err := io.ReadFull(c, first[:]); err != nil {
			return c, nil, err
		}
		c = &prefixConn{Conn: c, prefix: first[:]}
		if first[0] == 0x16 { // TLS handshake record
			tc := tls.Server(c, p.tls)
			if err := tc.Handshake(); err != nil {
				return c, nil, fmt.Errorf("direct tls handshake: %w", err)
			}
			c = tc
			if tc.ConnectionState().NegotiatedProtocol != "postgresql" {
				fatal(c, "08P01", "received direct SSL connection request without ALPN protocol negotiation extension", "")
				return c, nil, errClosed
			}
			st.ssl, sslDone, gssDone = true, true, true
		}
	}
	for {
		pkt, err := readPacket(c)
		if err != nil {
			return c, nil, err
		}
		switch pkt.code {
		case sslRequestCode, gssEncRequestCode:
			isSSL := pkt.code == sslRequestCode
			if (isSSL && sslDone) || (!isSSL && gssDone) || len(pkt.raw) != 8 {
				return c, nil, fmt.Errorf("%w: repeated or malformed encryption request", errClosed)
			}
			if pendingInput(c) {
				// Bytes after an encryption request would be read as if
				// they were encrypted; PostgreSQL refuses them too.
				return c, nil, fmt.Errorf("%w: unencrypted data after encryption request", errClosed)
			}
			answer := byte('N')
			if isSSL && p.tls != nil && !local {
				answer = 'S'
			}
			if _, err := c.Write([]byte{answer}); err != nil {
				return c, nil, err
			}
			if isSSL {
				sslDone = true
			} else {
				gssDone = true
			}
			if answer == 'S' {
				tc := tls.Server(c, p.tls)
				if err := tc.Handshake(); err != nil {
					return c, nil, fmt.Errorf("tls handshake: %w", err)
				}
				c = tc
				st.ssl = true
				gssDone = true // no GSS request inside TLS
			}
		case cancelRequestCode:
			if len(pkt.raw) == 16 {
				p.forwardCancel(pkt.raw)
			}
			return c, nil, errCancel
		default:
			if pkt.major() != 3 {
				return c, nil, &startupError{"protocol", unsupportedProtocol(pkt, p.cfg.PGVersion), pkt.major() < 3}
			}
			params, opts, bad := startupParams(pkt)
			if bad != nil {
				return c, nil, &startupError{reason: "bad_startup", resp: bad}
			}
			st.pkt, st.raw, st.params, st.opts = pkt, pkt.raw, params, opts
			return c, st, nil
		}
	}
}

// forwardCancel sends a CancelRequest packet to the upstream as received.
// The upstream answers nothing; it closes the connection.
func (p *Proxy) forwardCancel(pkt []byte) {
	u, err := net.DialTimeout("tcp", p.cfg.Upstream, p.cfg.DialTimeout)
	if err != nil {
		p.log.Warn("cancel request not forwarded", "err", err)
		return
	}
	defer u.Close()
	if _, err := u.Write(pkt); err != nil {
		p.log.Warn("cancel request not forwarded", "err", err)
		return
	}
	// Wait for the server to close, so the cancel is delivered before we
	// close the client (libpq waits for our close).
	u.SetReadDeadline(time.Now().Add(p.cfg.DialTimeout))
	io.Copy(io.Discard, u)
	p.log.Info("cancel request forwarded")
}
