package pgtest

import (
	"crypto/tls"
	"fmt"
	"net"
)

// startTLSCert is startTLS presenting cert when the server asks for a client certificate
// (it does when ssl_ca_file is set). A nil cert sends none. The server's certificate is not
// verified.
func startTLSCert(nc net.Conn, cert *tls.Certificate) (net.Conn, error) {
	if cert == nil {
		return startTLS(nc)
	}
	ans, err := sslRequest(nc)
	if err != nil {
		return nil, fmt.Errorf("SSLRequest: %w", err)
	}
	if ans != 'S' {
		return nil, fmt.Errorf("server refused SSL (answer %q)", ans)
	}
	tc := tls.Client(nc, &tls.Config{
		InsecureSkipVerify: true,
		ServerName:         "localhost",
		Certificates:       []tls.Certificate{*cert},
	})
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}
