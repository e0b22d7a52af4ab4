package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"

	proxyproto "github.com/pires/go-proxyproto"
)

// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): a
// load balancer in front of the proxy opens each connection with a header
// naming the client it relays.
//
// The framing is ours and reads exactly the header's bytes from the socket,
// never one more: the signature, then for version 1 up to the line feed
// (107 bytes at most), for version 2 the 16-byte fixed part and then the
// length it announces. What follows is the client's own startup packet,
// read by the startup code from the bare socket, so an allowed session is
// still spliced kernel to kernel. The parsing and validation of the header
// bytes is github.com/pires/go-proxyproto's (proxyproto.Read over the bytes
// we framed), a widely used implementation with its own fuzzing.

var (
	sigV1 = []byte("PROXY")
	sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

const (
	maxV1Header = 107  // the specification's limit for a version 1 line, CRLF included
	maxV2Header = 4096 // fixed part and TLVs; go-proxyproto's MaxV2HeaderSize
)

// Reasons a PROXY header is refused (the label of the failure metric).
const (
	ppMissing   = "missing"   // trusted sender, no header, -proxy-optional not set
	ppUntrusted = "untrusted" // a header from outside -proxy-networks
	ppMalformed = "malformed"
	ppTooLong   = "too_long"
	ppTruncated = "truncated" // the connection ended or timed out inside the header
	ppNoAddress = "no_address"
)

// headerError is a refused PROXY header.
type headerError struct {
	reason string
	err    error
}

func (e *headerError) Error() string { return "PROXY header " + e.reason + ": " + e.err.Error() }
func (e *headerError) Unwrap() error { return e.err }

// proxyHeader is what a connection's PROXY header said.
type proxyHeader struct {
	present bool           // a header was read
	local   bool           // v2 LOCAL or v1 UNKNOWN: the balancer's own connection (a health check)
	version byte           // 1 or 2
	src     netip.AddrPort // the client, for a PROXY command
	dst     netip.AddrPort // the address the client connected to, on the balancer
	tlvs    int            // TLVs (version 2), parsed and otherwise ignored
	prefix  []byte         // bytes read that were not a header: the start of the startup packet
}

// readProxyHeader reads the PROXY header, if any, at the start of a
// connection from a sender that is trusted (in -proxy-networks) or not.
func readProxyHeader(r io.Reader, trusted, optional bool) (proxyHeader, error) {
	var first [1]byte
	if _, err := io.ReadFull(r, first[:]); err != nil {
		if errors.Is(err, io.EOF) {
			// Closed before a byte: a balancer's TCP health check, say.
			return proxyHeader{}, err
		}
		return proxyHeader{}, &headerError{ppTruncated, err}
	}
	var sig []byte
	switch first[0] {
	case sigV1[0]:
		sig = sigV1
	case sigV2[0]:
		sig = sigV2
	}
	buf := append(make([]byte, 0, 16), first[0])
	// Read the signature byte by byte so that a startup packet (which
	// cannot start like a signature, but an invalid one may) is not read
	// past its first differing byte.
	for sig != nil && len(buf) < len(sig) && buf[len(buf)-1] == sig[len(buf)-1] {
		var b [1]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return proxyHeader{}, &headerError{ppTruncated, err}
		}
		buf = append(buf, b[0])
	}
	isHeader := sig != nil && bytes.Equal(buf, sig)
	if !isHeader {
		if trusted && !optional {
			return proxyHeader{}, &headerError{ppMissing, errors.New("connection from a -proxy-networks address without a PROXY header")}
		}
		return proxyHeader{prefix: buf}, nil
	}
	if !trusted {
		return proxyHeader{}, &headerError{ppUntrusted, errors.New("PROXY header from an address outside -proxy-networks")}
	}
	if len(sig) == len(sigV1) {
		// Version 1: a text line up to CRLF.
		for buf[len(buf)-1] != '\n' {
			if len(buf) >= maxV1Header {
				return proxyHeader{}, &headerError{ppTooLong, fmt.Errorf("version 1 header longer than %d bytes", maxV1Header)}
			}
			var b [1]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return proxyHeader{}, &headerError{ppTruncated, err}
			}
			buf = append(buf, b[0])
		}
	} else {
		var fixed [4]byte
		if _, err := io.ReadFull(r, fixed[:]); err != nil {
			return proxyHeader{}, &headerError{ppTruncated, err}
		}
		buf = append(buf, fixed[:]...)
		n := int(binary.BigEndian.Uint16(fixed[2:]))
		if 16+n > maxV2Header {
			return proxyHeader{}, &headerError{ppTooLong, fmt.Errorf("version 2 header of %d bytes (limit %d)", 16+n, maxV2Header)}
		}
		rest := make([]byte, n)
		if _, err := io.ReadFull(r, rest); err != nil {
			return proxyHeader{}, &headerError{ppTruncated, err}
		}
		buf = append(buf, rest...)
	}
	return parseProxyHeader(buf)
}

// parseProxyHeader validates one complete header with go-proxyproto.
func parseProxyHeader(b []byte) (proxyHeader, error) {
	br := bufio.NewReaderSize(bytes.NewReader(b), max(len(b), 16))
	h, err := proxyproto.Read(br)
	if err != nil {
		return proxyHeader{}, &headerError{ppMalformed, err}
	}
	if br.Buffered() != 0 {
		// The framing and the parser disagree on the header's length.
		return proxyHeader{}, &headerError{ppMalformed, errors.New("header length mismatch")}
	}
	ph := proxyHeader{present: true, version: h.Version}
	if h.Version == 2 {
		tlvs, err := h.TLVs()
		if err != nil {
			return proxyHeader{}, &headerError{ppMalformed, err}
		}
		ph.tlvs = len(tlvs)
	}
	if h.Command.IsLocal() {
		// Version 2 LOCAL, and version 1 "PROXY UNKNOWN", which
		// go-proxyproto reads as LOCAL and HAProxy sends for its health
		// checks.
		ph.local = true
		return ph, nil
	}
	if !h.TransportProtocol.IsStream() || !(h.TransportProtocol.IsIPv4() || h.TransportProtocol.IsIPv6()) {
		// PROXY UNKNOWN, AF_UNSPEC, AF_UNIX, or a datagram protocol: no
		// client IP address to decide on. (The specification would have
		// the receiver use the connection's own addresses, the balancer's:
		// exactly the wrong answer for pg_hba.conf.)
		return proxyHeader{}, &headerError{ppNoAddress, fmt.Errorf("PROXY header without a TCP client address (%v)", h.TransportProtocol)}
	}
	src, dst, ok := h.TCPAddrs()
	if !ok {
		return proxyHeader{}, &headerError{ppNoAddress, errors.New("PROXY header without a TCP client address")}
	}
	ph.src = src.AddrPort()
	ph.dst = dst.AddrPort()
	ph.src = netip.AddrPortFrom(ph.src.Addr().Unmap(), ph.src.Port())
	ph.dst = netip.AddrPortFrom(ph.dst.Addr().Unmap(), ph.dst.Port())
	return ph, nil
}
