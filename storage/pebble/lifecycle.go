package pebble

import (
	"context"
	"errors"
	"fmt"
	"time"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: job\0<id> -> Job JSON; jobslot\0<user>\0<kind> -> id of the
// user's unfinished job of that kind; joblatest\0<user>\0<kind> -> id of
// their latest; jobopen\0<id> -> "" while unfinished; joblease\0<id> ->
// lease JSON. Every read-modify-write below holds s.users: one process
// owns the directory, and these are rare.

type jobLease struct {
	Owner string
	Until time.Time
}

// SetUserBanned implements storage.Lifecycle.
func (s *Store) SetUserBanned(ctx context.Context, userID string, at time.Time) error {
	return s.updateUser(ctx, userID, func(u *storage.User) { u.BannedAt = at })
}

// TombstoneUser implements storage.Lifecycle.
func (s *Store) TombstoneUser(ctx context.Context, userID string, at time.Time) error {
	return s.updateUser(ctx, userID, func(u *storage.User) {
		if u.DeletedAt.IsZero() {
			u.DeletedAt = at
		}
		u.Username, u.DisplayName, u.PasswordHash = storage.DeletedUsername, storage.DeletedDisplayName, ""
	})
}

func (s *Store) updateUser(ctx context.Context, userID string, fn func(*storage.User)) error {
	s.users.Lock()
	defer s.users.Unlock()
	var u storage.User
	if err := s.getJSON(ctx, pebblekv.Key("user", userID), &u); err != nil {
		return fmt.Errorf("pebble: user %s: %w", userID, err)
	}
	fn(&u)
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("user", userID), u); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// ReleaseUsername implements storage.Lifecycle.
func (s *Store) ReleaseUsername(ctx context.Context, usernameKey, userID string) error {
	s.users.Lock()
	defer s.users.Unlock()
	v, closer, err := s.db.Get(pebblekv.Key("username", usernameKey))
	if err != nil {
		return nil // released already
	}
	owner := string(v)
	_ = closer.Close()
	if owner != userID {
		return nil
	}
	return s.db.Delete(pebblekv.Key("username", usernameKey), s.wo)
}

// CreateJob implements storage.Lifecycle.
func (s *Store) CreateJob(ctx context.Context, j storage.Job) (storage.Job, bool, error) {
	s.users.Lock()
	defer s.users.Unlock()
	slot := pebblekv.Key("jobslot", j.UserID, string(j.Kind))
	if v, closer, err := s.db.Get(slot); err == nil {
		id := string(v)
		_ = closer.Close()
		var old storage.Job
		if err := s.getJSON(ctx, pebblekv.Key("job", id), &old); err == nil && !old.State.Finished() {
			return old, false, nil
		}
	}
	if j.State == "" {
		j.State = storage.JobPending
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("job", j.ID), j); err != nil {
		return j, false, err
	}
	if err := b.Set(slot, []byte(j.ID), nil); err != nil {
		return j, false, err
	}
	if err := b.Set(pebblekv.Key("joblatest", j.UserID, string(j.Kind)), []byte(j.ID), nil); err != nil {
		return j, false, err
	}
	if !j.State.Finished() {
		if err := b.Set(pebblekv.Key("jobopen", j.ID), nil, nil); err != nil {
			return j, false, err
		}
	}
	if err := b.Commit(s.wo); err != nil {
		return j, false, fmt.Errorf("pebble: create job %s: %w", j.ID, err)
	}
	return j, true, nil
}

// UpdateJob implements storage.Lifecycle.
func (s *Store) UpdateJob(ctx context.Context, j storage.Job) error {
	s.users.Lock()
	defer s.users.Unlock()
	var old storage.Job
	if err := s.getJSON(ctx, pebblekv.Key("job", j.ID), &old); err != nil {
		return fmt.Errorf("pebble: job %s: %w", j.ID, err)
	}
	j.UserID, j.Kind, j.CreatedAt = old.UserID, old.Kind, old.CreatedAt
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("job", j.ID), j); err != nil {
		return err
	}
	if j.State.Finished() {
		if err := b.Delete(pebblekv.Key("jobopen", j.ID), nil); err != nil {
			return err
		}
	}
	return b.Commit(s.wo)
}

// Job implements storage.Lifecycle.
func (s *Store) Job(ctx context.Context, id string) (storage.Job, error) {
	var j storage.Job
	if err := s.getJSON(ctx, pebblekv.Key("job", id), &j); err != nil {
		return storage.Job{}, fmt.Errorf("pebble: job %s: %w", id, err)
	}
	return j, nil
}

// LatestJob implements storage.Lifecycle.
func (s *Store) LatestJob(ctx context.Context, userID string, kind storage.JobKind) (storage.Job, error) {
	v, closer, err := s.db.Get(pebblekv.Key("joblatest", userID, string(kind)))
	if err != nil {
		return storage.Job{}, fmt.Errorf("pebble: latest %s job of %s: %w", kind, userID, storage.ErrNotFound)
	}
	id := string(v)
	_ = closer.Close()
	return s.Job(ctx, id)
}

// UnfinishedJobs implements storage.Lifecycle.
func (s *Store) UnfinishedJobs(ctx context.Context, limit int) ([]storage.Job, error) {
	ids, err := s.listIDs(ctx, "jobopen", "", limit)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Job, 0, len(ids))
	for _, id := range ids {
		j, err := s.Job(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// ClaimJob implements storage.Lifecycle.
func (s *Store) ClaimJob(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	s.users.Lock()
	defer s.users.Unlock()
	if ok, err := s.exists(pebblekv.Key("job", id)); err != nil || !ok {
		return false, err
	}
	var l jobLease
	err := s.getJSON(ctx, pebblekv.Key("joblease", id), &l)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if err == nil && l.Owner != owner && l.Until.After(now) {
		return false, nil
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("joblease", id), jobLease{Owner: owner, Until: until}); err != nil {
		return false, err
	}
	if err := b.Commit(s.wo); err != nil {
		return false, fmt.Errorf("pebble: claim job %s: %w", id, err)
	}
	return true, nil
}
