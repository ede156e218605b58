package pebble

import (
	"context"
	"errors"
	"messenger/pebblekv"

	"messenger/storage"
)

// Keys: user\0<id> -> User JSON; username\0<key> -> id.

// CreateUser implements storage.Store.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	s.users.Lock()
	defer s.users.Unlock()
	owner, err := s.takenBy(ctx, u.UsernameKey, u.CreatedAt) // a passed hold is free (membership.go)
	if err != nil {
		return err
	}
	if owner != "" {
		return storage.ErrConflict
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("user", u.ID), u); err != nil {
		return err
	}
	if err := b.Set(pebblekv.Key("username", u.UsernameKey), []byte(u.ID), nil); err != nil {
		return err
	}
	if err := b.Delete(pebblekv.Key("usernamehold", u.UsernameKey), nil); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// UserByUsername implements storage.Store.
func (s *Store) UserByUsername(ctx context.Context, usernameKey string) (storage.User, error) {
	v, closer, err := s.db.Get(pebblekv.Key("username", usernameKey))
	if err != nil {
		return storage.User{}, storage.ErrNotFound
	}
	id := string(v)
	_ = closer.Close()
	var u storage.User
	err = s.getJSON(ctx, pebblekv.Key("user", id), &u)
	return u, err
}

// Users implements storage.Store.
func (s *Store) Users(ctx context.Context, ids []string) (map[string]storage.User, error) {
	out := make(map[string]storage.User, len(ids))
	for _, id := range ids {
		var u storage.User
		err := s.getJSON(ctx, pebblekv.Key("user", id), &u)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = u
	}
	return out, nil
}
