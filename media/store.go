package media

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors of Store implementations.
var (
	// ErrNotFound: no such upload or story.
	ErrNotFound = errors.New("media: not found")
	// ErrClaimed: an upload is already claimed by another message or story.
	ErrClaimed = errors.New("media: upload already used")
	// ErrQuota: the author has used up their posts for now (see QuotaError).
	ErrQuota = errors.New("media: story quota used up")
	// ErrBadCursor: a paging cursor this store did not make.
	ErrBadCursor = errors.New("media: malformed cursor")
)

// QuotaError is ReservePost's refusal: it says when the next post will be
// allowed. errors.Is(err, ErrQuota) holds.
type QuotaError struct {
	RetryAt time.Time
}

// Error says until when posting is refused.
func (e *QuotaError) Error() string {
	return fmt.Sprintf("%v until %s", ErrQuota, e.RetryAt.Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrQuota) hold.
func (e *QuotaError) Unwrap() error { return ErrQuota }

// Store keeps the metadata of uploads, attachments and stories (the bytes
// live in a blob.Store), composed of named parts so that each piece of the
// domain reads the part it needs. storage.Store is not extended for it:
// attachments are indexed here by message id, so the chat store stays as
// it is and a message's attachments are one lookup away. Methods honour
// ctx and are safe for concurrent use, also from several processes sharing
// one distributed backend: the invariants that span requests (an upload is
// claimed once, the posting quota) are decided by the store itself.
//
// Expiry: a backend with time-to-live (Cassandra) drops a story and
// everything about it from every query once it expires; the embedded one
// keeps it until the sweeper calls SweepStory. Callers therefore check
// Story.ExpiresAt themselves, and must not rely on expired stories being
// either present or absent.
type Store interface {
	Uploads
	Attachments
	Stories
	StoryViews
	Thumbnails
	Waveforms
	Multiparts

	// Close releases the store.
	Close() error
}

// Uploads are the uploaded files' records: created unclaimed, claimed
// once by a message or a story, removed by the sweeper while unclaimed.
type Uploads interface {
	// PutUpload creates an upload or replaces its description; Claim and
	// MessageID are left as they are (only Claim and Attach set them).
	PutUpload(ctx context.Context, u Upload) error
	// Uploads returns the uploads with these ids; unknown ids are absent.
	Uploads(ctx context.Context, ids []string) (map[string]Upload, error)
	// DeleteUpload removes an upload's record (and its waveform, see
	// Waveforms); missing is not an error.
	DeleteUpload(ctx context.Context, id string) error
	// Claim marks every upload as used by claim, all or none: when one is
	// missing it returns ErrNotFound, when one is claimed by something else
	// ErrClaimed, and leaves every upload as it was. Claiming again with the
	// same claim is a no-op (a retried send). Of concurrent claims on one
	// upload, from any number of processes, exactly one wins.
	Claim(ctx context.Context, ids []string, claim string) error
	// StaleUploads lists up to limit unclaimed uploads created before t, the
	// oldest first as far as the backend's index allows. Removing them is
	// the caller's job (DeleteUpload), so an upload listed but not removed
	// is listed again. CreatedAt is assumed to be about the time of the
	// PutUpload call.
	StaleUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error)
}

// Attachments are the ordered uploads of each message (or of a send's
// draft key, before the message exists).
type Attachments interface {
	// Attach records the ordered uploads of a message and sets their MessageID.
	Attach(ctx context.Context, messageID string, ids []string) error
	// Attachments lists the upload ids of each message, in attachment order;
	// messages without attachments are absent. One call serves a whole
	// page of messages.
	Attachments(ctx context.Context, messageIDs []string) (map[string][]string, error)
}

// Stories are posted stories, who may see them, the author's posting
// quota, and their expiry (see Store on what expiry means per backend).
type Stories interface {
	// PostedSince returns the ids of the stories whose posts authorID
	// reserved after since (at most the posting limit of them, in no
	// particular order). A released post is absent; a story deleted since
	// may still be listed (Story then gives ErrNotFound). Account deletion
	// finds a user's live stories with it.
	PostedSince(ctx context.Context, authorID string, since time.Time) ([]string, error)
	// ReservePost records that authorID posts storyID at time at, provided
	// fewer than limit posts were recorded in (at-window, at]; otherwise it
	// records nothing and returns a *QuotaError (errors.Is ErrQuota) with
	// the time the next post will be allowed. Reservations outlive deleted
	// stories, so deleting does not reset the quota. Concurrent
	// reservations, from any number of processes, never exceed limit.
	ReservePost(ctx context.Context, authorID, storyID string, at time.Time, window time.Duration, limit int) error
	// ReleasePost forgets the reservation of a story that was never stored
	// (its upload could not be claimed); unknown is not an error.
	ReleasePost(ctx context.Context, authorID, storyID string, at time.Time) error
	// PutStory stores a story visible to audience until s.ExpiresAt.
	PutStory(ctx context.Context, s Story, audience []string) error
	// Story returns a story, or ErrNotFound.
	Story(ctx context.Context, id string) (Story, error)
	// DeleteStory removes a story with its audience, views and reactions.
	DeleteStory(ctx context.Context, id string) error
	// Feed lists the stories whose audience includes viewerID (expired ones
	// may be among them, see Store on expiry).
	Feed(ctx context.Context, viewerID string) ([]Story, error)
	// InAudience reports whether userID may see the story.
	InAudience(ctx context.Context, storyID, userID string) (bool, error)
	// ExpiredStories lists up to limit stories (deleted ones too, so their
	// leftovers can be swept) that expired before t; SweepStory forgets one
	// for good, so a story listed but not swept is listed again.
	ExpiredStories(ctx context.Context, before time.Time, limit int) ([]Story, error)
	// SweepStory removes everything left of an expired story.
	SweepStory(ctx context.Context, s Story) error
}

// StoryViews is what a story's audience did with it: first views and
// emoji reactions, each recorded once per user (a repeat is a no-op).
type StoryViews interface {
	// AddView records userID's first view; later views are no-ops (false).
	AddView(ctx context.Context, storyID, userID string, at time.Time) (bool, error)
	// Seen reports which of the stories viewerID has viewed.
	Seen(ctx context.Context, viewerID string, storyIDs []string) (map[string]bool, error)
	// Views pages a story's views in time order after cursor ("" = start,
	// else a View.Cursor it returned; anything else is ErrBadCursor).
	Views(ctx context.Context, storyID, after string, limit int) ([]View, error)
	// CountViews counts a story's viewers.
	CountViews(ctx context.Context, storyID string) (int, error)
	// AddStoryReaction records a reaction; the same emoji twice is a no-op.
	AddStoryReaction(ctx context.Context, storyID, userID, emoji string, at time.Time) (bool, error)
	// StoryReactions counts a story's reactions per emoji, by first use.
	StoryReactions(ctx context.Context, storyID, userID string) ([]ReactionCount, error)
}
