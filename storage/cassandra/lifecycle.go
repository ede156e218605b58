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

// SetUserBanned implements storage.Lifecycle.
func (s *Store) SetUserBanned(ctx context.Context, userID string, at time.Time) error {
	if _, err := s.user(ctx, userID); err != nil {
		return err
	}
	var v any
	if !at.IsZero() {
		v = cql.Timestamp(at)
	}
	return wrap(s.query(ctx, "UPDATE users SET banned_at = ? WHERE id = ?", v, userID).Exec(), "ban user %s", userID)
}

// TombstoneUser implements storage.Lifecycle. The first DeletedAt is kept
// by reading it first; two deletions racing both write about the same
// time, and either is a fine answer.
func (s *Store) TombstoneUser(ctx context.Context, userID string, at time.Time) error {
	u, err := s.user(ctx, userID)
	if err != nil {
		return err
	}
	if !u.DeletedAt.IsZero() {
		at = u.DeletedAt
	}
	err = s.query(ctx, "UPDATE users SET deleted_at = ?, username = ?, display_name = ?, password_hash = '' WHERE id = ?",
		cql.Timestamp(at), storage.DeletedUsername, storage.DeletedDisplayName, userID).Exec()
	return wrap(err, "tombstone user %s", userID)
}

// ReleaseUsername implements storage.Lifecycle: a conditional delete, so
// a claim someone else made since is left alone.
func (s *Store) ReleaseUsername(ctx context.Context, usernameKey, userID string) error {
	_, err := s.lwt(ctx, "DELETE FROM usernames WHERE username_key = ? IF user_id = ?", usernameKey, userID).MapScanCAS(map[string]any{})
	return wrap(err, "release username %q", usernameKey)
}

const jobColumns = "id, user_id, kind, state, progress, run_after, created_at, updated_at, finished_at, blob_key, error, attempts"

// CreateJob implements storage.Lifecycle. The job's rows are written
// first, then the user's slot is claimed with a lightweight transaction;
// a loser deletes its rows again. A crash in between leaves an extra
// job that runs once: never two claimed at once.
func (s *Store) CreateJob(ctx context.Context, j storage.Job) (storage.Job, bool, error) {
	if j.State == "" {
		j.State = storage.JobPending
	}
	for range 5 {
		var current, latest string
		err := s.query(ctx, "SELECT job_id, latest_id FROM job_slots WHERE user_id = ? AND kind = ?", j.UserID, string(j.Kind)).Scan(&current, &latest)
		exists := err == nil
		if err != nil && !errors.Is(err, gocql.ErrNotFound) {
			return j, false, wrap(err, "read job slot of %s", j.UserID)
		}
		if current != "" {
			old, err := s.Job(ctx, current)
			if err == nil && !old.State.Finished() {
				return old, false, nil
			}
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return j, false, err
			}
		}
		if err := s.writeJob(ctx, j, true); err != nil {
			return j, false, err
		}
		var applied bool
		if exists {
			applied, err = s.lwt(ctx, "UPDATE job_slots SET job_id = ?, latest_id = ? WHERE user_id = ? AND kind = ? IF job_id = ?",
				j.ID, j.ID, j.UserID, string(j.Kind), current).MapScanCAS(map[string]any{})
		} else {
			applied, err = s.lwt(ctx, "INSERT INTO job_slots (user_id, kind, job_id, latest_id) VALUES (?, ?, ?, ?) IF NOT EXISTS",
				j.UserID, string(j.Kind), j.ID, j.ID).MapScanCAS(map[string]any{})
		}
		if err != nil {
			return j, false, wrap(err, "claim job slot of %s", j.UserID)
		}
		if applied {
			return j, true, nil
		}
		if err := s.dropJob(ctx, j.ID); err != nil {
			return j, false, err
		}
	}
	return j, false, fmt.Errorf("cassandra: create job for %s: slot contended: %w", j.UserID, storage.ErrUnavailable)
}

func (s *Store) writeJob(ctx context.Context, j storage.Job, create bool) error {
	args := []any{j.ID, j.UserID, string(j.Kind), string(j.State), j.Progress, optTime(j.RunAfter), cql.Timestamp(j.CreatedAt),
		optTime(j.UpdatedAt), optTime(j.FinishedAt), j.BlobKey, j.Error, j.Attempts}
	st := "INSERT INTO jobs (" + jobColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	if create {
		st = "INSERT INTO jobs (" + jobColumns + ", lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		args = append(args, time.Unix(0, 0).UTC())
	}
	if err := s.query(ctx, st, args...).Exec(); err != nil {
		return wrap(err, "write job %s", j.ID)
	}
	var err error
	if j.State.Finished() {
		err = s.query(ctx, "DELETE FROM open_jobs WHERE bucket = 0 AND job_id = ?", j.ID).Exec()
	} else if create {
		err = s.query(ctx, "INSERT INTO open_jobs (bucket, job_id) VALUES (0, ?)", j.ID).Exec()
	}
	return wrap(err, "list job %s", j.ID)
}

func (s *Store) dropJob(ctx context.Context, id string) error {
	if err := s.query(ctx, "DELETE FROM open_jobs WHERE bucket = 0 AND job_id = ?", id).Exec(); err != nil {
		return wrap(err, "drop job %s", id)
	}
	return wrap(s.query(ctx, "DELETE FROM jobs WHERE id = ?", id).Exec(), "drop job %s", id)
}

// UpdateJob implements storage.Lifecycle.
func (s *Store) UpdateJob(ctx context.Context, j storage.Job) error {
	old, err := s.Job(ctx, j.ID)
	if err != nil {
		return err
	}
	j.UserID, j.Kind, j.CreatedAt = old.UserID, old.Kind, old.CreatedAt
	return s.writeJob(ctx, j, false)
}

// Job implements storage.Lifecycle.
func (s *Store) Job(ctx context.Context, id string) (storage.Job, error) {
	var j storage.Job
	var kind, state string
	var runAfter, createdAt, updatedAt, finishedAt time.Time
	err := s.query(ctx, "SELECT "+jobColumns+" FROM jobs WHERE id = ?", id).Scan(&j.ID, &j.UserID, &kind, &state, &j.Progress,
		&runAfter, &createdAt, &updatedAt, &finishedAt, &j.BlobKey, &j.Error, &j.Attempts)
	if errors.Is(err, gocql.ErrNotFound) {
		return storage.Job{}, fmt.Errorf("cassandra: job %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Job{}, wrap(err, "read job %s", id)
	}
	j.Kind, j.State = storage.JobKind(kind), storage.JobState(state)
	j.RunAfter, j.CreatedAt, j.UpdatedAt, j.FinishedAt = utc(runAfter), utc(createdAt), utc(updatedAt), utc(finishedAt)
	return j, nil
}

// LatestJob implements storage.Lifecycle.
func (s *Store) LatestJob(ctx context.Context, userID string, kind storage.JobKind) (storage.Job, error) {
	var latest string
	err := s.query(ctx, "SELECT latest_id FROM job_slots WHERE user_id = ? AND kind = ?", userID, string(kind)).Scan(&latest)
	if errors.Is(err, gocql.ErrNotFound) || (err == nil && latest == "") {
		return storage.Job{}, fmt.Errorf("cassandra: latest %s job of %s: %w", kind, userID, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Job{}, wrap(err, "read job slot of %s", userID)
	}
	return s.Job(ctx, latest)
}

// UnfinishedJobs implements storage.Lifecycle.
func (s *Store) UnfinishedJobs(ctx context.Context, limit int) ([]storage.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	iter := s.query(ctx, "SELECT job_id FROM open_jobs WHERE bucket = 0 LIMIT ?", limit).Iter()
	var ids []string
	var id string
	for iter.Scan(&id) {
		ids = append(ids, id)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "list open jobs")
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
		if !j.State.Finished() {
			out = append(out, j)
		}
	}
	return out, nil
}

// ClaimJob implements storage.Lifecycle: a lightweight transaction on the
// job's lease columns, first as a renewal of owner's own lease, then as a
// takeover of an ended one (a failed condition returns only the columns it
// names, so the two cannot be one statement).
func (s *Store) ClaimJob(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	applied, err := s.lwt(ctx, "UPDATE jobs SET lease_until = ? WHERE id = ? IF lease_owner = ?",
		cql.Timestamp(until), id, owner).MapScanCAS(map[string]any{})
	if err != nil || applied {
		return applied, wrap(err, "renew job %s", id)
	}
	applied, err = s.lwt(ctx, "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id = ? IF lease_until <= ?",
		owner, cql.Timestamp(until), id, cql.Timestamp(now)).MapScanCAS(map[string]any{})
	return applied, wrap(err, "claim job %s", id)
}
