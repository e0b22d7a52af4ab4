// The bytes of a connection: prefixConn (bytes read ahead given back), the
// unread-input check, closing without losing the answer, and the relay to
// the upstream.

package main

import (
	"io"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// prefixConn gives back bytes already read before reading on.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// bare returns the socket under prefixConns whose prefix is used up, so that
// io.Copy can splice between two sockets.
func bare(c net.Conn) net.Conn {
	for {
		pc, ok := c.(*prefixConn)
		if !ok || len(pc.prefix) > 0 {
			return c
		}
		c = pc.Conn
	}
}

// pendingInput reports whether bytes have arrived on c that nobody has read
// yet (FIONREAD), as PostgreSQL checks its input buffer after an
// encryption request.
func pendingInput(c net.Conn) bool {
	if pc, ok := c.(*prefixConn); ok {
		return len(pc.prefix) > 0 || pendingInput(pc.Conn)
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	raw.Control(func(fd uintptr) {
		var v int32
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&v))); errno == 0 {
			n = int(v)
		}
	})
	return n > 0
}

// drainClose ends a connection the proxy answered (or gave up on) without
// reading all the client sent: closing a socket with unread input sends a
// TCP reset, which can destroy the answer before the client reads it. So
// the proxy half-closes and reads and discards until the client closes, for
// half a second and 64 KiB at most. The caller closes c afterwards.
func drainClose(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	tc.CloseWrite()
	tc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.Copy(io.Discard, io.LimitReader(tc, 64<<10))
}

// relay copies bytes both ways until either side closes, then closes both.
func relay(client, up net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		// Closing both ends unblocks the other copy.
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go cp(up, client)
	go cp(client, up)
	<-done
	<-done
}
