package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: session\0<user id>\0<session id> -> Session JSON. Rotations and
// password changes are serialised by the users lock (one process owns the
// directory), which makes RotateSession's compare-and-set atomic.

// CreateSession implements storage.Sessions.
func (s *Store) CreateSession(ctx context.Context, ses storage.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.users.Lock()
	defer s.users.Unlock()
	return s.putSession(ses)
}

func (s *Store) putSession(ses storage.Session) error {
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("session", ses.UserID, ses.ID), ses); err != nil {
		return fmt.Errorf("pebble: put session %s: %w", ses.ID, err)
	}
	return b.Commit(s.wo)
}

// Session implements storage.Sessions.
func (s *Store) Session(ctx context.Context, userID, sessionID string) (storage.Session, error) {
	var ses storage.Session
	err := s.getJSON(ctx, pebblekv.Key("session", userID, sessionID), &ses)
	return ses, err
}

// UserSessions implements storage.Sessions.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]storage.Session, error) {
	out := []storage.Session{}
	p := pebblekv.Prefix("session", userID)
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var ses storage.Session
		if err := json.Unmarshal(v, &ses); err != nil {
			return false, err
		}
		out = append(out, ses)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: sessions of %s: %w", userID, err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RotateSession implements storage.Sessions.
func (s *Store) RotateSession(ctx context.Context, userID, sessionID string, fromGen int64, lastSeen time.Time) (bool, error) {
	s.users.Lock()
	defer s.users.Unlock()
	ses, err := s.Session(ctx, userID, sessionID)
	if err != nil {
		return false, err
	}
	if ses.RefreshGen != fromGen {
		return false, nil
	}
	ses.RefreshGen, ses.LastSeenAt = fromGen+1, lastSeen
	return true, s.putSession(ses)
}

// DeleteSession implements storage.Sessions.
func (s *Store) DeleteSession(ctx context.Context, userID, sessionID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.users.Lock()
	defer s.users.Unlock()
	return s.db.Delete(pebblekv.Key("session", userID, sessionID), s.wo)
}

// SetPasswordHash implements storage.Sessions.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	s.users.Lock()
	defer s.users.Unlock()
	var u storage.User
	if err := s.getJSON(ctx, pebblekv.Key("user", userID), &u); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return storage.ErrNotFound
		}
		return err
	}
	u.PasswordHash = hash
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("user", userID), u); err != nil {
		return err
	}
	return b.Commit(s.wo)
}
