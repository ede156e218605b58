package cassandra

import (
	"context"
	"fmt"
	"sort"
	"time"

	"messenger/cql"
	"messenger/storage"
)

// Sessions live in one partition per user (migration 003_sessions.cql).
// RotateSession and DeleteSession are lightweight transactions, so a
// rotation can never revive a deleted session.

const sessionColumns = "id, device_name, platform, ip, created_at, last_seen_at, refresh_gen"

// CreateSession implements storage.Sessions.
func (s *Store) CreateSession(ctx context.Context, ses storage.Session) error {
	err := s.query(ctx, "INSERT INTO sessions (user_id, "+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		ses.UserID, ses.ID, ses.DeviceName, ses.Platform, ses.IP, cql.Timestamp(ses.CreatedAt), cql.Timestamp(ses.LastSeenAt), ses.RefreshGen).Exec()
	return wrap(err, "create session %s", ses.ID)
}

func scanSession(userID string, sc interface{ Scan(...any) bool }) (storage.Session, bool) {
	ses := storage.Session{UserID: userID}
	var created, seen time.Time
	if !sc.Scan(&ses.ID, &ses.DeviceName, &ses.Platform, &ses.IP, &created, &seen, &ses.RefreshGen) {
		return ses, false
	}
	ses.CreatedAt, ses.LastSeenAt = utc(created), utc(seen)
	return ses, true
}

// Session implements storage.Sessions.
func (s *Store) Session(ctx context.Context, userID, sessionID string) (storage.Session, error) {
	iter := s.query(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE user_id = ? AND id = ?", userID, sessionID).Iter()
	ses, ok := scanSession(userID, iter)
	if err := iter.Close(); err != nil {
		return storage.Session{}, wrap(err, "read session %s", sessionID)
	}
	if !ok {
		return storage.Session{}, fmt.Errorf("cassandra: session %s: %w", sessionID, storage.ErrNotFound)
	}
	return ses, nil
}

// UserSessions implements storage.Sessions.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]storage.Session, error) {
	iter := s.query(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE user_id = ?", userID).PageSize(1000).Iter()
	out := []storage.Session{}
	for {
		ses, ok := scanSession(userID, iter)
		if !ok {
			break
		}
		out = append(out, ses)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "sessions of %s", userID)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RotateSession implements storage.Sessions: UPDATE ... IF refresh_gen = ?
// (a missing row does not match, and is not created).
func (s *Store) RotateSession(ctx context.Context, userID, sessionID string, fromGen int64, lastSeen time.Time) (bool, error) {
	applied, err := s.lwt(ctx, "UPDATE sessions SET refresh_gen = ?, last_seen_at = ? WHERE user_id = ? AND id = ? IF refresh_gen = ?",
		fromGen+1, cql.Timestamp(lastSeen), userID, sessionID, fromGen).MapScanCAS(map[string]any{})
	if err != nil {
		return false, wrap(err, "rotate session %s", sessionID)
	}
	if applied {
		return true, nil
	}
	if _, err := s.Session(ctx, userID, sessionID); err != nil {
		return false, err // ErrNotFound: the session is gone
	}
	return false, nil
}

// DeleteSession implements storage.Sessions.
func (s *Store) DeleteSession(ctx context.Context, userID, sessionID string) error {
	_, err := s.lwt(ctx, "DELETE FROM sessions WHERE user_id = ? AND id = ? IF EXISTS", userID, sessionID).MapScanCAS(map[string]any{})
	return wrap(err, "delete session %s", sessionID)
}

// SetPasswordHash implements storage.Sessions.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	applied, err := s.lwt(ctx, "UPDATE users SET password_hash = ? WHERE id = ? IF EXISTS", hash, userID).MapScanCAS(map[string]any{})
	if err != nil {
		return wrap(err, "set password of %s", userID)
	}
	if !applied {
		return fmt.Errorf("cassandra: user %s: %w", userID, storage.ErrNotFound)
	}
	return nil
}
