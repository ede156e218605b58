// Package fault is the one error vocabulary of every layer: a Code a client
// can act on, a message safe to show, and the field at fault. Domains
// (chat, media, auth) return *Error for refusals; backends wrap
// ErrUnavailable when a server cannot answer now. The API translates them
// to GraphQL's `extensions.code` in exactly one place (server's error
// presenter); nothing else turns errors into codes.
package fault

import (
	"errors"
	"fmt"
)

// Code classifies a refusal; the API reports it as `extensions.code`.
type Code string

// Codes every layer uses.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadUserInput    Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	CursorExpired   Code = "CURSOR_EXPIRED"
	Unavailable     Code = "UNAVAILABLE"
)

// Error is a refusal a client can act on. Its Message is safe to show.
type Error struct {
	Code    Code
	Message string
	// Field names the offending argument, when there is one.
	Field string
	// Extensions are extra facts for the client (e.g. retryAt), added to
	// the error's extensions beside code.
	Extensions map[string]any
	// Err is the underlying cause, for logs and errors.Is; never shown.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = string(e.Code)
	} else {
		msg = string(e.Code) + ": " + msg
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", msg, e.Err)
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, fault.ErrNotFound) match any *Error with the same
// code: a sentinel is an *Error with a code and no message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Err == nil
}

// Sentinels for errors.Is: each matches every error of its code.
var (
	ErrUnauthenticated = &Error{Code: Unauthenticated}
	ErrForbidden       = &Error{Code: Forbidden}
	ErrNotFound        = &Error{Code: NotFound}
	ErrBadUserInput    = &Error{Code: BadUserInput}
	ErrConflict        = &Error{Code: Conflict}
	ErrRateLimited     = &Error{Code: RateLimited}
	ErrCursorExpired   = &Error{Code: CursorExpired}
	// ErrUnavailable: a backend cannot answer now; the call may be retried.
	// Backends wrap it (fmt.Errorf("...: %w", fault.ErrUnavailable)).
	ErrUnavailable = &Error{Code: Unavailable}
)

// NotFoundf is a NOT_FOUND refusal naming what was not found.
func NotFoundf(what string) error { return &Error{Code: NotFound, Message: what + " not found"} }

// BadInput is a BAD_USER_INPUT refusal of one argument.
func BadInput(field, msg string) error {
	return &Error{Code: BadUserInput, Message: msg, Field: field}
}

// Forbid is a FORBIDDEN refusal.
func Forbid(msg string) error { return &Error{Code: Forbidden, Message: msg} }

// CodeOf returns the code of the first *Error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
