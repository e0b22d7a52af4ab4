// Connections: one client connection, timed from connect to
// ReadyForQuery or the FATAL, with a raw startup packet or with pgconn for
// scram-sha-256, closed with a reset.

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

type result struct {
	allowed bool
	msg     string // the FATAL's message when refused
	code    string
	err     error // anything else: not an answer
	lat     time.Duration
}

// attempt opens one connection with a raw startup packet and reads until
// ReadyForQuery (allowed; a Terminate is then sent) or an ErrorResponse.
func attempt(port int, user string) result {
	return attemptDB(port, user, "postgres")
}

func attemptDB(port int, user, db string) result {
	t0 := time.Now()
	c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
	if err != nil {
		return result{err: err}
	}
	defer closeReset(c)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	pkt, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": user, "database": db}}).Encode(nil)
	if _, err := c.Write(pkt); err != nil {
		return result{err: err}
	}
	fe := pgproto3.NewFrontend(c, c)
	for {
		m, err := fe.Receive()
		if err != nil {
			return result{err: err}
		}
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			return result{msg: m.Message, code: m.Code, lat: time.Since(t0)}
		case *pgproto3.ReadyForQuery:
			lat := time.Since(t0)
			fe.Send(&pgproto3.Terminate{})
			fe.Flush()
			return result{allowed: true, lat: lat}
		case *pgproto3.AuthenticationOk, *pgproto3.ParameterStatus, *pgproto3.BackendKeyData, *pgproto3.NoticeResponse:
		default:
			return result{err: fmt.Errorf("unexpected %T (a password request?)", m)}
		}
	}
}

// attemptSCRAM connects with pgconn and a password.
func attemptSCRAM(port int, user, password string) result {
	t0 := time.Now()
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=postgres sslmode=disable connect_timeout=10", port, user, password))
	if err != nil {
		return result{err: err}
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetLinger(0)
		}
		return c, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return result{msg: pe.Message, code: pe.Code, lat: time.Since(t0)}
		}
		return result{err: err}
	}
	lat := time.Since(t0)
	conn.Close(ctx)
	return result{allowed: true, lat: lat}
}

// closeReset closes with a reset: no TIME_WAIT on either side.
func closeReset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
