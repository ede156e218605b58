package storage

import (
	"context"
	"time"
)

// DeletedUsername and DeletedDisplayName are what a deleted account's
// tombstone shows (textrules reserves the username, so no one can take it).
const (
	DeletedUsername    = "deleted"
	DeletedDisplayName = "Deleted account"
)

// JobKind names what a background job does.
type JobKind string

// The kinds of account jobs.
const (
	// JobExport writes a user's data to one archive in the blob store.
	JobExport JobKind = "EXPORT"
	// JobDeleteAccount erases a deleted user's data, step by step.
	JobDeleteAccount JobKind = "DELETE_ACCOUNT"
)

// JobState is where a job is in its life.
type JobState string

// The states of a job. Pending and running jobs are unfinished; done and
// failed ones are finished and never run again.
const (
	JobPending JobState = "PENDING"
	JobRunning JobState = "RUNNING"
	JobDone    JobState = "DONE"
	JobFailed  JobState = "FAILED"
)

// Finished reports whether a job in this state will never run again.
func (s JobState) Finished() bool { return s == JobDone || s == JobFailed }

// Job is a durable unit of background work on one user's account (an
// export, a deletion). Its runner records Progress after each step, so a
// runner that dies (kill -9) leaves a job another runner resumes from
// the last recorded step.
type Job struct {
	ID     string
	UserID string
	Kind   JobKind
	State  JobState
	// Progress is the runner's own resume point (opaque to the store).
	Progress string
	// RunAfter: the job is not run before this time (zero: at once).
	RunAfter  time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	// FinishedAt is when the job reached Done or Failed (zero before).
	FinishedAt time.Time
	// BlobKey is the object the job wrote (an export's archive).
	BlobKey string
	// Error says why a failed job failed.
	Error string
	// Attempts counts the runs that started this job.
	Attempts int
}

// Lifecycle is the account-lifecycle part of a Store: bans, deleted
// accounts' tombstones, and the durable jobs that export and erase an
// account's data.
type Lifecycle interface {
	// SetUserBanned sets a user's BannedAt to at; a zero at lifts the
	// ban. ErrNotFound for an unknown user.
	SetUserBanned(ctx context.Context, userID string, at time.Time) error
	// TombstoneUser turns a user into a deleted account's tombstone:
	// DeletedAt = at, Username = DeletedUsername, DisplayName =
	// DeletedDisplayName, PasswordHash empty (no password matches).
	// UsernameKey is kept, and stays claimed until ReleaseUsername. A tombstone is final: a second call keeps the
	// first DeletedAt and returns nil. ErrNotFound for an unknown user.
	TombstoneUser(ctx context.Context, userID string, at time.Time) error
	// ReleaseUsername frees usernameKey for new sign-ups when its claim
	// still names userID; otherwise (released already, or claimed by
	// someone else since) it changes nothing and returns nil.
	ReleaseUsername(ctx context.Context, usernameKey, userID string) error

	// CreateJob stores j, unless j.UserID has an unfinished job of
	// j.Kind: then it returns that job and created=false and writes
	// nothing. Of concurrent creators, from any process, at most one
	// creates a job.
	CreateJob(ctx context.Context, j Job) (job Job, created bool, err error)
	// UpdateJob replaces every field of the job j.ID but ID, UserID, Kind
	// and CreatedAt, or returns ErrNotFound. A finished job frees its
	// user's slot (CreateJob may create the next).
	UpdateJob(ctx context.Context, j Job) error
	// Job returns one job, or ErrNotFound.
	Job(ctx context.Context, id string) (Job, error)
	// LatestJob returns the user's most recently created job of kind, or
	// ErrNotFound when they have none.
	LatestJob(ctx context.Context, userID string, kind JobKind) (Job, error)
	// UnfinishedJobs lists at most limit jobs that are pending or running,
	// in no particular order but stable: a runner picks its work here.
	UnfinishedJobs(ctx context.Context, limit int) ([]Job, error)
	// ClaimJob leases job id to owner until until, when no one holds it
	// (never leased, or its lease ended at or before now) or owner holds
	// it already (a renewal). Of concurrent claimers, from any process,
	// exactly one wins. It reports whether owner holds the lease now.
	ClaimJob(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
}
