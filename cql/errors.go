package cql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/fault"
)

// Wrap adds what was being done (format and args, the backend's prefix
// included) to a driver error, and marks errors that mean "Cassandra cannot
// answer now" with fault.ErrUnavailable, so the API answers UNAVAILABLE
// (retry) rather than INTERNAL. Errors that already carry
// errors of the shared vocabulary (fault: not found, conflict, unavailable) keep their meaning.
// Wrap(nil, ...) is nil.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	if fault.CodeOf(err) != "" {
		return fmt.Errorf("%s: %w", what, err)
	}
	if Unavailable(err) {
		return fmt.Errorf("%s: %w: %w", what, fault.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Unavailable reports whether err means the cluster could not answer now
// (down, overloaded, timed out) rather than that the request was wrong.
func Unavailable(err error) bool {
	for _, e := range []error{
		gocql.ErrNoConnections, gocql.ErrNoConnectionsStarted, gocql.ErrConnectionClosed,
		gocql.ErrTimeoutNoResponse, gocql.ErrNoStreams,
		gocql.ErrUnavailable, gocql.ErrSessionClosed,
		context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF, syscall.ECONNREFUSED, syscall.ECONNRESET,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	var reqErr gocql.RequestError
	if errors.As(err, &reqErr) {
		switch reqErr.Code() {
		case gocql.ErrCodeUnavailable, gocql.ErrCodeOverloaded, gocql.ErrCodeBootstrapping,
			gocql.ErrCodeWriteTimeout, gocql.ErrCodeReadTimeout, gocql.ErrCodeCASWriteUnknown:
			return true
		}
		return false
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// The driver flattens some connection errors into text.
	msg := err.Error()
	return strings.Contains(msg, "no connections") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "unable to create session")
}
