package chat

import (
	"errors"
	"fmt"
)

// Code classifies a refusal; the API reports it as `extensions.code`.
type Code string

// Codes of domain errors.
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
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Is makes errors.Is(err, ErrNotFound) match any *Error with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code && t.Message == ""
}

// Sentinels for errors.Is: they match every error of their code.
var (
	ErrUnauthenticated = &Error{Code: Unauthenticated}
	ErrForbidden       = &Error{Code: Forbidden}
	ErrNotFound        = &Error{Code: NotFound}
	ErrBadUserInput    = &Error{Code: BadUserInput}
	ErrCursorExpired   = &Error{Code: CursorExpired}
)

func notFound(what string) error { return &Error{Code: NotFound, Message: what + " not found"} }

func badInput(field, msg string) error {
	return &Error{Code: BadUserInput, Message: msg, Field: field}
}

func forbidden(msg string) error { return &Error{Code: Forbidden, Message: msg} }
