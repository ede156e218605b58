// Package lifecycle is the end of an account's life and the data it takes
// along: deleting an account (DeleteAccount), exporting a user's data to
// one archive (RequestExport, Export), and the operator's bans (Ban,
// Unban). Deletion and export are durable jobs (storage.Job) run by a
// Runner that survives restarts: a process killed mid-job leaves the job
// leased to no one once its lease ends, and the next runner resumes it
// from its last recorded step.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"messenger/blob"
	"messenger/fault"
	"messenger/storage"
)

// Store is the durable data lifecycle reads and changes.
type Store interface {
	storage.Users
	storage.Lifecycle
	storage.Members
	storage.Conversations
	storage.Messages
	storage.Reactions
}

// Domain is the part of chat.Service lifecycle needs (*chat.Service
// implements it).
type Domain interface {
	// CheckPassword checks userID's password (BAD_USER_INPUT when wrong).
	CheckPassword(ctx context.Context, userID, password string) error
	// EraseMessage tombstones m whatever its age, tells its members,
	// updates search and drops its attachments' bytes. Idempotent.
	EraseMessage(ctx context.Context, m storage.Message) error
	// AccountChanged makes token checks and search re-read userID.
	AccountChanged(userID string)
}

// SessionEnder ends every session of a user at once, on every instance
// (the sessions layer implements it). Called on deletion and on a ban.
type SessionEnder interface {
	RevokeAllSessions(ctx context.Context, userID string) error
}

// PrivacyForgetter drops a deleted user's blocks, privacy settings and
// the like (the privacy layer implements it). Idempotent.
type PrivacyForgetter interface {
	ForgetPrivacy(ctx context.Context, userID string) error
}

// MediaEraser deletes a user's uploads and stories, bytes included (the
// media layer implements it). Idempotent.
type MediaEraser interface {
	EraseUserMedia(ctx context.Context, userID string) error
}

// AttachmentFiles reads the files attached to messages, for the archive
// (*media.Service implements it).
type AttachmentFiles interface {
	// AttachmentFiles calls fn with each file attached to msgs (a name
	// unique in the archive, its type, its bytes), in order, stopping at
	// fn's first error. Deleted messages have none.
	AttachmentFiles(ctx context.Context, msgs []storage.Message, fn func(name, contentType string, r io.Reader) error) error
}

// SessionLister lists a user's sessions for the archive (the sessions
// layer implements it); each value is marshalled to JSON as it is.
type SessionLister interface {
	ExportSessions(ctx context.Context, userID string) (any, error)
}

// Blobs is where archives are written and served from (a blob.Store).
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader, max int64, contentType string) (int64, error)
	Delete(ctx context.Context, key string) error
	PresignGet(ctx context.Context, key string, ttl time.Duration, opts blob.GetOptions) (string, error)
}

// Config configures a Service. Zero values are the documented defaults.
type Config struct {
	// Store holds the accounts and the jobs. Required.
	Store Store
	// Domain erases messages and checks passwords. Required.
	Domain Domain
	// Blobs holds export archives. Nil: exports are refused (UNAVAILABLE).
	Blobs Blobs
	// Sessions, Privacy, Media, Files and SessionList are the other
	// layers' hooks; each nil one is a no-op (and the archive then has no
	// sessions or no files).
	Sessions    SessionEnder
	Privacy     PrivacyForgetter
	Media       MediaEraser
	Files       AttachmentFiles
	SessionList SessionLister
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives the jobs' failures (default slog.Default()).
	Logger *slog.Logger
	// UsernameQuarantine is how long a deleted account's username stays
	// taken before anyone may sign up with it (default 30 days), so no
	// one can pose as a person who just left.
	UsernameQuarantine time.Duration
	// ExportTTL is how long an archive is kept after it is ready (default
	// 7 days); ExportURLTTL how long each download URL works (default 1 h).
	ExportTTL    time.Duration
	ExportURLTTL time.Duration
	// ExportInterval is the least time between two exports a user
	// requests (default 24 h): an archive is costly to build.
	ExportInterval time.Duration
	// MaxArchiveBytes bounds an archive (default 4 GiB).
	MaxArchiveBytes int64
	// TempDir holds archives while they are built (default os.TempDir()).
	TempDir string
	// Runner tunes the job runner (see RunnerConfig).
	Runner RunnerConfig
}

// Service runs the account lifecycle.
type Service struct {
	cfg   Config
	store Store
	jobs  *Runner
}

// New returns a Service; its jobs run once Run is called.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Domain == nil {
		return nil, errors.New("lifecycle: Store and Domain are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.UsernameQuarantine <= 0 {
		cfg.UsernameQuarantine = 30 * 24 * time.Hour
	}
	if cfg.ExportTTL <= 0 {
		cfg.ExportTTL = 7 * 24 * time.Hour
	}
	if cfg.ExportURLTTL <= 0 {
		cfg.ExportURLTTL = time.Hour
	}
	if cfg.ExportInterval <= 0 {
		cfg.ExportInterval = 24 * time.Hour
	}
	if cfg.MaxArchiveBytes <= 0 {
		cfg.MaxArchiveBytes = 4 << 30
	}
	if cfg.Sessions == nil {
		cfg.Sessions = noSessions{}
	}
	if cfg.Privacy == nil {
		cfg.Privacy = noPrivacy{}
	}
	s := &Service{cfg: cfg, store: cfg.Store}
	rc := cfg.Runner
	if rc.Now == nil {
		rc.Now = cfg.Now
	}
	if rc.Logger == nil {
		rc.Logger = cfg.Logger
	}
	s.jobs = NewRunner(cfg.Store, rc, map[storage.JobKind]Handler{
		storage.JobDeleteAccount: s.runDelete,
		storage.JobExport:        s.runExport,
	})
	return s, nil
}

// Run runs the jobs of every user (this instance's share of them) until
// ctx ends.
func (s *Service) Run(ctx context.Context) { s.jobs.Run(ctx) }

// Jobs is the service's runner (RunPending drives it by hand in tests and
// in the admin command).
func (s *Service) Jobs() *Runner { return s.jobs }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) newJob(userID string, kind storage.JobKind) storage.Job {
	now := s.now()
	return storage.Job{ID: uuid.NewString(), UserID: userID, Kind: kind, State: storage.JobPending, CreatedAt: now, UpdatedAt: now}
}

// user loads one user, or NOT_FOUND.
func (s *Service) user(ctx context.Context, id string) (storage.User, error) {
	us, err := s.store.Users(ctx, []string{id})
	if err != nil {
		return storage.User{}, fmt.Errorf("lifecycle: load user %s: %w", id, err)
	}
	u, ok := us[id]
	if !ok {
		return u, fault.NotFoundf("user")
	}
	return u, nil
}

// FindUser finds an account by username (any case, an "@" prefix
// allowed) or by id, for operators. NOT_FOUND when there is none.
func (s *Service) FindUser(ctx context.Context, nameOrID string) (storage.User, error) {
	key := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(nameOrID), "@"))
	u, err := s.store.UserByUsername(ctx, key)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return u, fmt.Errorf("lifecycle: find user %q: %w", nameOrID, err)
	}
	return s.user(ctx, strings.TrimSpace(nameOrID))
}

type noSessions struct{}

func (noSessions) RevokeAllSessions(context.Context, string) error { return nil }

type noPrivacy struct{}

func (noPrivacy) ForgetPrivacy(context.Context, string) error { return nil }
