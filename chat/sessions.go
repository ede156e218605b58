package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"messenger/auth"
	"messenger/fault"
	"messenger/revocation"
	"messenger/storage"
)

// Limits on what a client says about its device.
const (
	MaxDeviceName = 64
	MaxPlatform   = 32
)

// Device is what a client says about itself when it signs in, and the
// address it signs in from (recorded, never trusted for anything).
type Device struct {
	Name     string
	Platform string
	IP       string
}

// SessionInfo is a session as its user sees it in the list of their
// devices; Current marks the one the request came from.
type SessionInfo struct {
	storage.Session
	Current bool
}

// SessionEndReason says why a session ended.
type SessionEndReason string

// Why sessions end.
const (
	EndLoggedOut       SessionEndReason = "LOGGED_OUT"
	EndRevoked         SessionEndReason = "REVOKED"
	EndPasswordChanged SessionEndReason = "PASSWORD_CHANGED"
	EndRefreshReused   SessionEndReason = "REFRESH_TOKEN_REUSED"
	EndAccountClosed   SessionEndReason = "ACCOUNT_CLOSED"
)

// SessionEndListener is told, after the store forgot it, that a session
// ended, whatever the reason (log-out, revocation, password change,
// refresh-token reuse, all sessions at once). Push unregisters the
// session's devices. It is called on the instance that ended the session,
// once per session, and must not block for long.
type SessionEndListener interface {
	SessionEnded(ctx context.Context, userID, sessionID string)
}

// cleanDevice trims what a client says about its device and refuses what
// is too long or holds control characters.
func cleanDevice(d Device) (Device, error) {
	d.Name, d.Platform = strings.TrimSpace(d.Name), strings.TrimSpace(d.Platform)
	for _, f := range []struct {
		field, v string
		max      int
	}{{"deviceName", d.Name, MaxDeviceName}, {"platform", d.Platform, MaxPlatform}} {
		if utf8.RuneCountInString(f.v) > f.max || !utf8.ValidString(f.v) || strings.IndexFunc(f.v, unicode.IsControl) >= 0 {
			return d, badInput(f.field, fmt.Sprintf("%s must be at most %d printable characters", f.field, f.max))
		}
	}
	if len(d.IP) > 64 {
		d.IP = d.IP[:64]
	}
	return d, nil
}

// startSession opens a session of u on dev and signs it in.
func (s *Service) startSession(ctx context.Context, u storage.User, dev Device) (Session, error) {
	now := s.now()
	// Time-ordered ids (monotonic within a process): sessions opened in
	// the same millisecond still list in the order they were opened.
	id, err := uuid.NewV7()
	if err != nil {
		return Session{}, fmt.Errorf("chat: session id: %w", err)
	}
	ses := storage.Session{ID: id.String(), UserID: u.ID, DeviceName: dev.Name, Platform: dev.Platform, IP: dev.IP,
		CreatedAt: now, LastSeenAt: now}
	if err := s.store.CreateSession(ctx, ses); err != nil {
		return Session{}, fmt.Errorf("chat: create session: %w", err)
	}
	return s.signIn(u, ses)
}

// signIn issues the tokens of a session at its current generation.
func (s *Service) signIn(u storage.User, ses storage.Session) (Session, error) {
	tok, exp, err := s.cfg.Tokens.Issue(u.ID, ses.ID)
	if err != nil {
		return Session{}, fmt.Errorf("chat: issue token: %w", err)
	}
	refresh, rexp, err := s.cfg.Tokens.IssueRefresh(u.ID, ses.ID, ses.RefreshGen)
	if err != nil {
		return Session{}, fmt.Errorf("chat: issue refresh token: %w", err)
	}
	return Session{Token: tok, ExpiresAt: exp, RefreshToken: refresh, RefreshTokenExpiresAt: rexp, User: u,
		Device: SessionInfo{Session: ses, Current: true}}, nil
}

// usable reports whether u may hold a session: not banned, not deleted.
func usable(u storage.User) bool { return u.BannedAt.IsZero() && u.DeletedAt.IsZero() }

// RefreshSession trades a refresh token for a new access token and a new
// refresh token (rotation). The old refresh token is spent: presenting it
// again, or racing two refreshes with it, is a reuse, and a reuse ends
// the whole session (OAuth 2.0 Security BCP: whoever holds a copy, the
// thief or the owner, is signed out, and the owner signs in again). The
// user is read again, so a banned or deleted user cannot refresh.
func (s *Service) RefreshSession(ctx context.Context, refreshToken string) (Session, error) {
	unauth := func(msg string) error {
		return &fault.Error{Code: fault.Unauthenticated, Message: msg, Field: "refreshToken"}
	}
	r, err := s.cfg.Tokens.VerifyRefresh(refreshToken)
	if err != nil {
		return Session{}, unauth("the refresh token is invalid or expired; log in again")
	}
	u, err := s.User(ctx, r.UserID)
	if fault.CodeOf(err) == fault.NotFound || (err == nil && !usable(u)) {
		return Session{}, unauth("the account cannot sign in")
	}
	if err != nil {
		return Session{}, err
	}
	ses, err := s.store.Session(ctx, r.UserID, r.SessionID)
	if errors.Is(err, storage.ErrNotFound) {
		return Session{}, unauth("the session has ended; log in again")
	}
	if err != nil {
		return Session{}, fmt.Errorf("chat: read session: %w", err)
	}
	reused := func() (Session, error) {
		// The refusal stands even if ending fails: the token is spent either way.
		_ = s.endSessions(ctx, r.UserID, []string{r.SessionID}, EndRefreshReused)
		return Session{}, unauth("the refresh token was already used, so the session has ended; log in again")
	}
	if r.Gen != ses.RefreshGen {
		return reused()
	}
	now := s.now()
	ok, err := s.store.RotateSession(ctx, r.UserID, r.SessionID, r.Gen, now)
	if errors.Is(err, storage.ErrNotFound) {
		return Session{}, unauth("the session has ended; log in again")
	}
	if err != nil {
		return Session{}, fmt.Errorf("chat: rotate session: %w", err)
	}
	if !ok {
		return reused() // another refresh with the same token won the race
	}
	ses.RefreshGen, ses.LastSeenAt = r.Gen+1, now
	return s.signIn(u, ses)
}

// LogOut ends the caller's own session.
func (s *Service) LogOut(ctx context.Context, me, sessionID string) error {
	return s.endSession(ctx, me, sessionID, EndLoggedOut)
}

// Sessions lists my open sessions, oldest first, marking current. A
// session not refreshed for longer than a refresh token lives is expired:
// it is not listed, and is deleted.
func (s *Service) Sessions(ctx context.Context, me, current string) ([]SessionInfo, error) {
	list, err := s.store.UserSessions(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("chat: list sessions: %w", err)
	}
	out := make([]SessionInfo, 0, len(list))
	stale := s.now().Add(-s.cfg.Tokens.RefreshTTL())
	for _, ses := range list {
		if ses.LastSeenAt.Before(stale) && ses.ID != current {
			// Its last refresh token has expired: nothing can use it
			// again. Dropped quietly (no event: it ended long ago).
			if err := s.store.DeleteSession(ctx, me, ses.ID); err != nil {
				s.cfg.Logger.Warn("chat: dropping an expired session", "session", ses.ID, "err", err)
			}
			continue
		}
		out = append(out, SessionInfo{Session: ses, Current: ses.ID == current})
	}
	return out, nil
}

// RevokeSession ends one of my sessions (current is the caller's: ending
// it is a log-out). Someone else's session, or one that already ended, is
// NOT_FOUND.
func (s *Service) RevokeSession(ctx context.Context, me, current, sessionID string) error {
	if _, err := uuid.Parse(sessionID); err != nil {
		return badInput("id", "id is not a session id")
	}
	reason := EndRevoked
	if sessionID == current {
		reason = EndLoggedOut
	}
	return s.endSession(ctx, me, sessionID, reason)
}

func (s *Service) endSession(ctx context.Context, me, sessionID string, reason SessionEndReason) error {
	if _, err := s.store.Session(ctx, me, sessionID); errors.Is(err, storage.ErrNotFound) {
		return notFound("session")
	} else if err != nil {
		return fmt.Errorf("chat: read session: %w", err)
	}
	return s.endSessions(ctx, me, []string{sessionID}, reason)
}

// RevokeOtherSessions ends every session of mine but current, and says
// how many ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, me, current string) (int, error) {
	return s.endAllBut(ctx, me, current, EndRevoked)
}

// RevokeAllSessions ends every session of userID: the account lifecycle
// calls it when an account is banned or deleted. Their tokens stop working
// on every instance within seconds and their websockets close with 4403.
func (s *Service) RevokeAllSessions(ctx context.Context, userID string) error {
	_, err := s.endAllBut(ctx, userID, "", EndAccountClosed)
	return err
}

func (s *Service) endAllBut(ctx context.Context, userID, keep string, reason SessionEndReason) (int, error) {
	list, err := s.store.UserSessions(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("chat: list sessions: %w", err)
	}
	ids := make([]string, 0, len(list))
	for _, ses := range list {
		if ses.ID != keep {
			ids = append(ids, ses.ID)
		}
	}
	return len(ids), s.endSessions(ctx, userID, ids, reason)
}

// endSessions ends sessions: deleted from the store first (so every
// instance refuses them at its next store read whatever else fails), then
// refused here at once, announced to every instance (which refuse them
// and close their sockets), told to the user's devices (SessionRevoked)
// and to the listener.
func (s *Service) endSessions(ctx context.Context, userID string, ids []string, reason SessionEndReason) error {
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if err := s.store.DeleteSession(ctx, userID, id); err != nil {
			return fmt.Errorf("chat: end session %s: %w", id, err)
		}
		s.cfg.Tokens.Revoke(id)
	}
	if err := s.cfg.Revocations.Publish(ctx, revocation.Ended{UserID: userID, SessionIDs: ids}); err != nil {
		// The store no longer has them: other instances refuse them
		// within a minute anyway (see auth.Sessions).
		s.cfg.Logger.Warn("chat: announcing ended sessions failed", "user", userID, "err", err)
	}
	at := s.now()
	for _, id := range ids {
		s.emit(ctx, []string{userID}, &SessionRevoked{SessionID: id, Reason: reason, At: at})
		if l := s.cfg.SessionEndListener; l != nil {
			l.SessionEnded(ctx, userID, id)
		}
	}
	return nil
}

// WatchEndedSessions calls fn for every session that ends anywhere in the
// fleet (the server closes their websockets). fn must not block for long.
func (s *Service) WatchEndedSessions(fn func(revocation.Ended)) (stop func()) {
	return s.cfg.Revocations.Subscribe(fn)
}

// SessionOpen reports whether a session is open; Tokens ask it, at most
// once a minute per session, before accepting an access token (see
// auth.Sessions).
func (s *Service) SessionOpen(ctx context.Context, userID, sessionID string) (bool, error) {
	_, err := s.store.Session(ctx, userID, sessionID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("chat: look up session %s: %w", sessionID, err)
	}
	return true, nil
}

var _ auth.Sessions = (*Service)(nil)

// SessionRevoked: one of my sessions ended. Every device of mine hears it,
// the ended one included (just before its socket closes with 4403).
type SessionRevoked struct {
	Cursor    string           `json:"-"`
	Ephemeral bool             `json:"-"`
	SessionID string           `json:"sessionId"`
	Reason    SessionEndReason `json:"reason"`
	At        time.Time        `json:"at"`
}

// EventType implements Event.
func (*SessionRevoked) EventType() string { return "SessionRevoked" }

// WithCursor implements Event.
func (e SessionRevoked) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func init() { RegisterEvent(func() Event { return &SessionRevoked{} }) }

// ExportSessions lists userID's open sessions for a data export archive
// (lifecycle.SessionLister): the same view the user gets from Sessions.
func (s *Service) ExportSessions(ctx context.Context, userID string) (any, error) {
	return s.Sessions(ctx, userID, "")
}
