package chat

import (
	"context"
	"time"
)

// Story events. The story itself lives in the media package; events carry
// its id and the API resolves it (null once it expired or was deleted).
type (
	// StoryPosted: a contact posted a story.
	StoryPosted struct {
		Cursor    string `json:"-"`
		Ephemeral bool   `json:"-"`
		StoryID   string `json:"storyId"`
		AuthorID  string `json:"authorId"`
	}
	// StoryReaction: someone reacted to my story.
	StoryReaction struct {
		Cursor    string `json:"-"`
		Ephemeral bool   `json:"-"`
		StoryID   string `json:"storyId"`
		UserID    string `json:"userId"`
		Emoji     string `json:"emoji"`
	}
)

// EventType implements Event.
func (*StoryPosted) EventType() string   { return "StoryPosted" }
func (*StoryReaction) EventType() string { return "StoryReaction" }

// Publish appends a durable event to the logs of userIDs, after the caller
// has written what it reports. Failures are logged, not returned (see emit).
func (s *Service) Publish(ctx context.Context, userIDs []string, e Event) { s.emit(ctx, userIDs, e) }

// ValidEmoji applies the message reaction rules: exactly one emoji.
func ValidEmoji(e string) error { return validEmoji(e) }

// RateLimitedUntil is a RATE_LIMITED refusal that tells when to retry.
func RateLimitedUntil(msg string, retryAt time.Time) error {
	return &Error{Code: RateLimited, Message: msg, Extensions: map[string]any{"retryAt": retryAt.UTC().Format(time.RFC3339Nano)}}
}
