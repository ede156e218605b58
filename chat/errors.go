package chat

import "messenger/fault"

// The domain's errors are the shared vocabulary's (package fault); these
// names keep chat's callers reading naturally.

// Code classifies a refusal; the API reports it as `extensions.code`.
type Code = fault.Code

// Codes of domain errors.
const (
	Unauthenticated = fault.Unauthenticated
	Forbidden       = fault.Forbidden
	NotFound        = fault.NotFound
	BadUserInput    = fault.BadUserInput
	Conflict        = fault.Conflict
	RateLimited     = fault.RateLimited
	CursorExpired   = fault.CursorExpired
	Unavailable     = fault.Unavailable
)

// Error is a refusal a client can act on (fault.Error).
type Error = fault.Error

// Sentinels for errors.Is: they match every error of their code.
var (
	ErrUnauthenticated = fault.ErrUnauthenticated
	ErrForbidden       = fault.ErrForbidden
	ErrNotFound        = fault.ErrNotFound
	ErrBadUserInput    = fault.ErrBadUserInput
	ErrCursorExpired   = fault.ErrCursorExpired
)

func notFound(what string) error { return fault.NotFoundf(what) }

func badInput(field, msg string) error { return fault.BadInput(field, msg) }

func forbidden(msg string) error { return fault.Forbid(msg) }
