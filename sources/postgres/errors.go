package postgres

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"flightdeck/internal/errchain"
	"flightdeck/internal/sanitize"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Error is what Fetch and the action methods return: a one-line message for
// the status bar ("connect 127.0.0.1:5433: connection refused") that wraps
// the driver's error for errors.Is/As.
type Error struct {
	msg string
	err error
	// Server is true when the server reported the error (a *pgconn.PgError).
	Server bool
	// Code is the SQLSTATE when Server is true.
	Code string
}

// Error is the one-line message.
func (e *Error) Error() string { return e.msg }

// Unwrap gives the driver's error, for errors.Is/As.
func (e *Error) Unwrap() error { return e.err }

// SQLSTATEs we explain.
const (
	codeInsufficientPrivilege = "42501"
	codeInvalidPassword       = "28P01"
	codeQueryCanceled         = "57014"
)

// humanize turns a driver error into an *Error. prefix says what was being
// done ("connect 10.0.0.5:5432", "terminate pid 4711"); limit is the
// timeout that applied.
func humanize(ctx context.Context, prefix string, err error, limit time.Duration) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{err: err}
	e.msg = describe(ctx, err, limit, e)
	if prefix != "" {
		e.msg = prefix + ": " + e.msg
	}
	return e
}

func describe(ctx context.Context, err error, limit time.Duration, e *Error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		e.Server, e.Code = true, pgErr.Code
		msg := sanitize.Text(pgErr.Message)
		switch pgErr.Code {
		case codeQueryCanceled:
			// "canceling statement due to statement timeout" says it all.
			return "cancelled by the server: " + msg
		case codeInsufficientPrivilege:
			if !strings.HasPrefix(msg, "permission denied") {
				msg = "permission denied: " + msg
			}
			if pgErr.Detail != "" {
				msg += ": " + sanitize.Text(pgErr.Detail)
			}
			return msg
		case codeInvalidPassword:
			if pgErr.Detail != "" {
				msg += ": " + sanitize.Text(pgErr.Detail)
			}
			return msg
		}
		if strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "08") {
			return "server: " + msg
		}
		return msg + " (SQLSTATE " + pgErr.Code + ")"
	}
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return "cancelled"
	case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err):
		return "timeout after " + short(limit)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by server"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, syscall.ENOENT):
		return "no such socket (is a server running here?)"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	case errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed):
		return "connection closed"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "no such host " + sanitize.Text(dnsErr.Name)
		}
		return "DNS: " + sanitize.Text(dnsErr.Err)
	}
	var certErr *x509.CertificateInvalidError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) {
		return "TLS: " + sanitize.Text(errchain.Root(err).Error())
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return sanitize.Text(errchain.Root(opErr.Err).Error())
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		// The text of a ConnectError repeats user and database; what
		// matters is the last cause.
		return sanitize.Text(errchain.Root(connErr.Unwrap()).Error())
	}
	return sanitize.Text(err.Error())
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// serverSideOnly reports whether err is an ERROR the server sent on a healthy
// connection (statement_timeout, permission denied), after which the
// connection can be reused. Anything else (I/O, timeout, FATAL) means the
// connection's state is unknown and it must be dropped.
func serverSideOnly(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Severity == "ERROR" || pgErr.SeverityUnlocalized == "ERROR"
}

// address is where cfg connects, as the messages show it: host:port, or the
// socket path for a unix-domain host.
func address(cfg *pgx.ConnConfig) string {
	port := strconv.Itoa(int(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		return cfg.Host + "/.s.PGSQL." + port
	}
	return net.JoinHostPort(cfg.Host, port)
}

// short renders a duration for messages: 700ms, 1.4s, 2s.
func short(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
