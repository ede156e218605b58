package storage

import (
	"context"
	"time"
)

// Session is one signed-in device of a user: what log-in or sign-up
// created, until it is logged out or revoked (then it is deleted).
// RefreshGen is the generation of the one refresh token that is valid
// now: each refresh moves it on by one, so an older token is a reuse.
type Session struct {
	ID         string
	UserID     string
	DeviceName string
	Platform   string
	// IP is the client's address when the session was created.
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	RefreshGen int64
}

// Sessions stores users' sessions, keyed by (user id, session id), and the
// password a change of it replaces.
type Sessions interface {
	// CreateSession stores a new session. Creating the same id twice
	// overwrites it (ids are random; a retry writes the same values).
	CreateSession(ctx context.Context, s Session) error
	// Session returns one session, or ErrNotFound (never created, or
	// deleted).
	Session(ctx context.Context, userID, sessionID string) (Session, error)
	// UserSessions lists a user's sessions, oldest first (by CreatedAt,
	// then id); none is an empty slice, not an error.
	UserSessions(ctx context.Context, userID string) ([]Session, error)
	// RotateSession moves a session's RefreshGen from fromGen to fromGen+1
	// and sets its LastSeenAt, atomically: of concurrent calls with the
	// same fromGen exactly one reports true. It reports false when the
	// session's generation is not fromGen, and ErrNotFound when there is
	// no such session.
	RotateSession(ctx context.Context, userID, sessionID string, fromGen int64, lastSeen time.Time) (bool, error)
	// DeleteSession removes a session. Deleting one that does not exist
	// is not an error.
	DeleteSession(ctx context.Context, userID, sessionID string) error
	// SetPasswordHash replaces a user's password hash; ErrNotFound when
	// there is no such user.
	SetPasswordHash(ctx context.Context, userID, hash string) error
}
