package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Startup packet codes, as PostgreSQL's pqcomm.h defines them.
const (
	cancelRequestCode = 80877102
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104

	minStartupLen = 8      // length word and protocol version
	maxStartupLen = 10_000 // PostgreSQL's MAX_STARTUP_PACKET_LENGTH
)

// packet is one startup-phase packet as read from the client.
type packet struct {
	raw  []byte // the whole packet, length word included
	code uint32 // protocol version or request code
}

func (p packet) major() uint32 { return p.code >> 16 }
func (p packet) minor() uint32 { return p.code & 0xffff }

// errBadStartup is a startup packet PostgreSQL drops without an answer
// (it only logs it): a wrong length, an unknown request.
var errBadStartup = errors.New("invalid startup packet")

// readPacket reads one startup packet: exactly its bytes, nothing after.
func readPacket(r io.Reader) (packet, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return packet{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < minStartupLen || n > maxStartupLen {
		return packet{}, fmt.Errorf("%w: length %d", errBadStartup, n)
	}
	raw := make([]byte, n)
	copy(raw, hdr[:4])
	if _, err := io.ReadFull(r, raw[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return packet{}, err
	}
	return packet{raw: raw, code: binary.BigEndian.Uint32(raw[4:8])}, nil
}

// startupParams reads the name/value pairs of a protocol 3 startup packet.
// A packet whose pairs do not end with the terminating empty name is the
// FATAL PostgreSQL sends for it. opts lists the protocol options (names
// starting with _pq_.) in the packet's order.
func startupParams(pkt packet) (params map[string]string, opts []string, _ *pgproto3.ErrorResponse) {
	body := pkt.raw[8:]
	bad := &pgproto3.ErrorResponse{Code: "08P01", Message: "invalid startup packet layout: expected terminator as last byte"}
	if len(body) == 0 || body[len(body)-1] != 0 {
		return nil, nil, bad
	}
	params = map[string]string{}
	for {
		i := bytes.IndexByte(body, 0)
		if i == 0 {
			// The terminator: it must be the packet's last byte.
			if len(body) != 1 {
				return nil, nil, bad
			}
			return params, opts, nil
		}
		name := string(body[:i])
		body = body[i+1:]
		j := bytes.IndexByte(body, 0)
		if j < 0 || len(body) == j+1 {
			// A name without a value, or no terminator after the value.
			return nil, nil, bad
		}
		if strings.HasPrefix(name, "_pq_.") {
			opts = append(opts, name)
		}
		params[name] = string(body[:j])
		body = body[j+1:]
	}
}

// latestMinor is the newest minor version of protocol 3 that the server of
// a major version speaks: 3.2 from PostgreSQL 18, 3.0 before.
func latestMinor(pgVersion int) uint32 {
	if pgVersion == 0 || pgVersion >= 18 {
		return 2
	}
	return 0
}

// unsupportedProtocol is PostgreSQL's answer to a startup packet of a
// protocol major version it does not speak (2.0 included: the proxy speaks
// 3.x only, as PostgreSQL 14 and later). For a major version below 3 it is
// sent in protocol 2's format (legacyError), as the server does.
func unsupportedProtocol(pkt packet, pgVersion int) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Code: "0A000",
		Message: fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.%d",
			pkt.major(), pkt.minor(), latestMinor(pgVersion))}
}

// legacyError is an error message in protocol 2's format, as PostgreSQL
// 14 and later still send it to a client that asked for protocol 2 (or 1):
// 'E', then "FATAL:  message\n" and a NUL.
func legacyError(e *pgproto3.ErrorResponse) []byte {
	return append([]byte("E"+e.Severity+":  "+e.Message+"\n"), 0)
}

// negotiation returns the NegotiateProtocolVersion message PostgreSQL sends
// after a 3.x startup packet with a minor version newer than its own or
// with protocol options (_pq_.*) it does not know (it knows none), or nil
// when none is due.
// The version field carries the whole protocol number (3 << 16 | minor), as
// the server sends it.
func negotiation(pkt packet, opts []string, pgVersion int) *pgproto3.NegotiateProtocolVersion {
	latest := latestMinor(pgVersion)
	if pkt.minor() <= latest && len(opts) == 0 {
		return nil
	}
	return &pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 3<<16 | min(pkt.minor(), latest), UnrecognizedOptions: opts}
}
