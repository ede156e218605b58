package media

import (
	"context"
	"errors"
	"time"
)

// Errors of Store implementations.
var (
	// ErrNotFound: no such upload or story.
	ErrNotFound = errors.New("media: not found")
	// ErrClaimed: an upload is already claimed by another message or story.
	ErrClaimed = errors.New("media: upload already used")
)

// Upload is one uploaded file (or, before confirmation, a presigned upload
// slot). Its bytes are the blob at BlobKey(ID).
type Upload struct {
	ID       string
	OwnerID  string
	Filename string
	// Kind, ContentType, Width, Height and Duration come from Inspect;
	// they are empty until Ready.
	Kind          Kind
	ContentType   string
	Width, Height int
	Duration      time.Duration
	// Size is the stored size once Ready; before, the size the client declared.
	Size int64
	// Ready is false for a presigned slot not yet confirmed.
	Ready     bool
	CreatedAt time.Time
	// Claim names what uses the upload ("m:<conversation>|<sender>|<clientMessageId>"
	// for a message, "s:<story id>" for a story); empty while unused.
	Claim string
	// MessageID is the message it is attached to, once sent.
	MessageID string
}

// Story is one posted video.
type Story struct {
	ID        string
	AuthorID  string
	UploadID  string
	Caption   string
	PostedAt  time.Time
	ExpiresAt time.Time
}

// View is one user's first view of a story.
type View struct {
	UserID string
	At     time.Time
	// Cursor pages after this view.
	Cursor string
}

// ReactionCount is one emoji on a story.
type ReactionCount struct {
	Emoji   string
	Count   int
	FirstAt time.Time
	// Mine is set by StoryReactions when userID reacted with it.
	Mine bool
}

// Store keeps the metadata of uploads, attachments and stories (the bytes
// live in a blob.Store). storage.Store is not extended for it: attachments
// are indexed here by message id, so the chat store stays as it is and a
// message's attachments are one lookup away. Methods honour ctx and are
// safe for concurrent use.
type Store interface {
	// PutUpload creates or replaces an upload.
	PutUpload(ctx context.Context, u Upload) error
	// Uploads returns the uploads with these ids; unknown ids are absent.
	Uploads(ctx context.Context, ids []string) (map[string]Upload, error)
	// DeleteUpload removes an upload's record; missing is not an error.
	DeleteUpload(ctx context.Context, id string) error
	// Claim marks every upload as used by claim, all or none: when one is
	// missing it returns ErrNotFound, when one is claimed by something else
	// ErrClaimed, and changes nothing. Claiming again with the same claim
	// is a no-op (a retried send).
	Claim(ctx context.Context, ids []string, claim string) error
	// Attach records the ordered uploads of a message and sets their MessageID.
	Attach(ctx context.Context, messageID string, ids []string) error
	// Attachments lists a message's upload ids in order (nil when none).
	Attachments(ctx context.Context, messageID string) ([]string, error)
	// StaleUploads lists up to limit unclaimed uploads created before t.
	StaleUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error)

	// PutStory stores a story visible to audience, and records the post in
	// the author's posting log (kept for a day even if the story is deleted,
	// so deleting does not reset the daily quota).
	PutStory(ctx context.Context, s Story, audience []string) error
	// Story returns a story, or ErrNotFound.
	Story(ctx context.Context, id string) (Story, error)
	// DeleteStory removes a story with its audience, views and reactions.
	DeleteStory(ctx context.Context, id string) error
	// PostTimes lists when the author posted since t (deleted stories too), oldest first.
	PostTimes(ctx context.Context, authorID string, since time.Time) ([]time.Time, error)
	// Feed lists the stories whose audience includes viewerID, expired or not.
	Feed(ctx context.Context, viewerID string) ([]Story, error)
	// InAudience reports whether userID may see the story.
	InAudience(ctx context.Context, storyID, userID string) (bool, error)
	// AddView records userID's first view; later views are no-ops (false).
	AddView(ctx context.Context, storyID, userID string, at time.Time) (bool, error)
	// Seen reports which of the stories viewerID has viewed.
	Seen(ctx context.Context, viewerID string, storyIDs []string) (map[string]bool, error)
	// Views pages a story's views in time order after cursor ("" = start).
	Views(ctx context.Context, storyID, after string, limit int) ([]View, error)
	// CountViews counts a story's viewers.
	CountViews(ctx context.Context, storyID string) (int, error)
	// AddStoryReaction records a reaction; the same emoji twice is a no-op.
	AddStoryReaction(ctx context.Context, storyID, userID, emoji string, at time.Time) (bool, error)
	// StoryReactions counts a story's reactions per emoji, by first use.
	StoryReactions(ctx context.Context, storyID, userID string) ([]ReactionCount, error)
	// ExpiredStories lists up to limit stories (and posting-log entries of
	// deleted ones) that expired before t; SweepStory forgets one for good.
	ExpiredStories(ctx context.Context, before time.Time, limit int) ([]Story, error)
	// SweepStory removes everything left of an expired story, including its
	// posting-log entry.
	SweepStory(ctx context.Context, s Story) error

	// Close releases the store.
	Close() error
}
