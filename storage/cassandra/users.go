package cassandra

import (
	"context"
	"errors"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// CreateUser implements storage.Store.
//
// The users row is written first, then the username is claimed with
// INSERT ... IF NOT EXISTS (one Paxos transaction). On conflict the users
// row is deleted again. A crash in between leaves at worst a users row no
// username points to, under an id nobody was given; never a username that
// is taken by nobody. A claim that already names this user id is this call's
// own earlier try, and counts as success.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	u.CreatedAt = cql.Timestamp(u.CreatedAt)
	err := s.query(ctx, `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.UsernameKey, u.DisplayName, u.PasswordHash, u.CreatedAt).Exec()
	if err != nil {
		return wrap(err, "create user %s", u.ID)
	}
	existing := map[string]any{}
	applied, err := s.lwt(ctx, "INSERT INTO usernames (username_key, user_id) VALUES (?, ?) IF NOT EXISTS", u.UsernameKey, u.ID).MapScanCAS(existing)
	if err != nil {
		return wrap(err, "create user %s: claim username", u.ID)
	}
	if applied || existing["user_id"] == u.ID {
		return nil
	}
	if err := s.query(ctx, "DELETE FROM users WHERE id = ?", u.ID).Exec(); err != nil {
		return wrap(err, "create user %s: undo", u.ID)
	}
	return fmt.Errorf("cassandra: create user %s: username %q: %w", u.ID, u.UsernameKey, storage.ErrConflict)
}

// UserByUsername implements storage.Store: the username claim, then the user.
func (s *Store) UserByUsername(ctx context.Context, usernameKey string) (storage.User, error) {
	var id string
	err := s.query(ctx, "SELECT user_id FROM usernames WHERE username_key = ?", usernameKey).Scan(&id)
	if errors.Is(err, gocql.ErrNotFound) {
		return storage.User{}, fmt.Errorf("cassandra: username %q: %w", usernameKey, storage.ErrNotFound)
	}
	if err != nil {
		return storage.User{}, wrap(err, "find username %q", usernameKey)
	}
	return s.user(ctx, id)
}

func (s *Store) user(ctx context.Context, id string) (storage.User, error) {
	u := storage.User{ID: id}
	var createdAt, bannedAt, deletedAt time.Time
	err := s.query(ctx, "SELECT username, username_key, display_name, password_hash, created_at, banned_at, deleted_at FROM users WHERE id = ?", id).
		Scan(&u.Username, &u.UsernameKey, &u.DisplayName, &u.PasswordHash, &createdAt, &bannedAt, &deletedAt)
	if errors.Is(err, gocql.ErrNotFound) {
		return storage.User{}, fmt.Errorf("cassandra: user %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return storage.User{}, wrap(err, "read user %s", id)
	}
	u.CreatedAt, u.BannedAt, u.DeletedAt = utc(createdAt), utc(bannedAt), utc(deletedAt)
	return u, nil
}

// Users implements storage.Store: one single-partition read per id, in
// parallel.
func (s *Store) Users(ctx context.Context, ids []string) (map[string]storage.User, error) {
	return lookupEach(ctx, ids, s.user)
}
