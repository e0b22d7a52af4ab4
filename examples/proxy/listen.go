package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
)

// Listen opens one listening socket. addr is host:port, with the host an
// IPv4 or IPv6 literal, a name, or empty for every interface; or
// "unix:PATH" for a Unix-domain socket, whose connections are local
// connections. With reusePort, SO_REUSEPORT is set so that several processes
// can listen on the same TCP port and the kernel spreads connections among
// them.
func Listen(ctx context.Context, addr string, reusePort bool) (net.Listener, error) {
	var lc net.ListenConfig
	if reusePort {
		lc.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		// A socket file left by a previous run would make bind fail.
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(path)
		}
		ln, err := lc.Listen(ctx, "unix", path)
		if err != nil {
			return nil, err
		}
		// Anyone may connect, as with PostgreSQL's default
		// unix_socket_permissions; pg_hba.conf decides.
		os.Chmod(path, 0o777)
		return ln, nil
	}
	network, err := tcpNetwork(addr)
	if err != nil {
		return nil, err
	}
	return lc.Listen(ctx, network, addr)
}

// tcpNetwork picks tcp4 for an IPv4 literal and tcp6 for an IPv6 literal (an
// IPv6-only socket, as PostgreSQL opens them), tcp otherwise.
func tcpNetwork(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Is4() {
			return "tcp4", nil
		}
		return "tcp6", nil
	}
	return "tcp", nil
}

// SO_REUSEPORT on Linux (the syscall package does not name it on every
// architecture).
const soReusePort = 0xf
