// Package media holds the rules of attachments and stories: what may be
// uploaded (decided from the bytes, see package sniff), size and count limits,
// who may attach or see what, story visibility, quotas and expiry. Bytes
// live in a blob.Store; metadata in a media Store; messages, memberships
// and events go through the chat domain. It knows nothing of GraphQL.
package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"messenger/blob"
	"messenger/chat"
	"messenger/fault"
	"messenger/sniff"
	"messenger/storage"
)

// Limits from the product rules.
const (
	// MaxFileBytes caps an attachment: 5 MiB.
	MaxFileBytes = 5 * 1024 * 1024
	// MaxAttachments caps the files of one message.
	MaxAttachments = 5
	// MaxVideoBytes caps a story video: 32 MiB, enough for 60 s of 720p
	// at about 4 Mbit/s.
	MaxVideoBytes = 32 * 1024 * 1024
	// MaxVideoDuration caps a story video's length.
	MaxVideoDuration = 60 * time.Second
)

// Config configures the Service. Zero values are the documented defaults.
type Config struct {
	// Chat is the messaging domain (membership, messages, events). Required.
	Chat *chat.Service
	// Store keeps upload and story metadata. Required.
	Store Store
	// Members tells who shares a conversation with whom: a story's
	// audience. Required; the chat store (storage.Store) is one.
	Members Members
	// Blobs keeps the bytes. Required.
	Blobs blob.Store
	// Downloads signs the URLs of documents (default Blobs). Set it when
	// Blobs cannot send X-Content-Type-Options: nosniff (S3): blob/relay
	// serves them through the API instead.
	Downloads URLSigner
	// Now is the clock (default time.Now).
	Now func() time.Time
	// TempDir spools uploads while they are checked (default os.TempDir()).
	TempDir string
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// URLTTL is how long download URLs work (default 15 min).
	URLTTL time.Duration
	// UploadTTL: unattached uploads are removed after it (default 24 h).
	UploadTTL time.Duration
	// StoryTTL: how long a story is visible (default 24 h).
	StoryTTL time.Duration
	// StoriesPerDay caps posts in any rolling StoryTTL window (default 10).
	StoriesPerDay int
	// MaxAudience caps the contacts a story is fanned out to (default 10,000).
	MaxAudience int
	// SweepEvery is the sweeper's period (default 1 min).
	SweepEvery time.Duration
	// MessageVideoBytes caps a video attached to a message (default
	// DefaultMessageVideoBytes, 32 MiB).
	MessageVideoBytes int64
	// Multipart enables large files uploaded in parts (multipart.go).
	Multipart MultipartConfig
}

// URLSigner signs download URLs with the contract of blob.Store.PresignGet.
type URLSigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration, opts blob.GetOptions) (string, error)
}

// Members is what stories read of the chat domain's memberships: a
// story's audience is everyone who shares a conversation with its author.
// storage.Members has these methods with this contract.
type Members interface {
	// UserConversationIDs lists every conversation the user is a member of
	// now, in no particular order.
	UserConversationIDs(ctx context.Context, userID string) ([]string, error)
	// Members returns up to limit members ordered by user id, starting after
	// afterUserID ("" = from the start). limit <= 0 means all.
	Members(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.Member, error)
}

var _ Members = storage.Members(nil)

// Service applies the rules. Each of its parts reads the part of the
// Store it needs.
type Service struct {
	cfg         Config
	uploads     Uploads
	attachments Attachments
	stories     Stories
	views       StoryViews
	thumbs      Thumbnails
	thumbJobs   chan string // this process's new thumbnail jobs (see RunThumbnails)
	members     Members
	blobs       blob.Store
	chat        *chat.Service
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Chat == nil || cfg.Store == nil || cfg.Members == nil || cfg.Blobs == nil {
		return nil, errors.New("media: Chat, Store, Members and Blobs are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Downloads == nil {
		cfg.Downloads = cfg.Blobs
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.URLTTL, 15*time.Minute)
	def(&cfg.UploadTTL, 24*time.Hour)
	def(&cfg.StoryTTL, 24*time.Hour)
	def(&cfg.SweepEvery, time.Minute)
	if cfg.StoriesPerDay <= 0 {
		cfg.StoriesPerDay = 10
	}
	if cfg.MaxAudience <= 0 {
		cfg.MaxAudience = 10000
	}
	s := &Service{cfg: cfg, uploads: cfg.Store, attachments: cfg.Store, stories: cfg.Store, views: cfg.Store,
		thumbs: cfg.Store, thumbJobs: make(chan string, thumbnailBacklog), members: cfg.Members, blobs: cfg.Blobs, chat: cfg.Chat}
	cfg.Chat.UseAttachments(s) // messages carry uploads through chat's port
	cfg.Chat.UseAvatars(s)     // profiles and groups make avatars through chat's port
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// BlobKey is where an upload's bytes are stored.
func BlobKey(uploadID string) string { return "uploads/" + uploadID }

func badInput(field, msg string) error {
	return &fault.Error{Code: fault.BadUserInput, Message: msg, Field: field}
}

func notFound(what string) error {
	return &fault.Error{Code: fault.NotFound, Message: what + " not found"}
}

func forbidden(msg string) error { return &fault.Error{Code: fault.Forbidden, Message: msg} }

// refusal turns a sniff.Inspect refusal into BAD_USER_INPUT.
func refusal(field string, err error) error {
	if errors.Is(err, sniff.ErrRefused) {
		return badInput(field, err.Error()[len(sniff.ErrRefused.Error())+2:])
	}
	return err
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var ce *fault.Error
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("media: %s: %w", what, err)
}
