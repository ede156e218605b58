package chat

import (
	"context"
	"messenger/fault"
	"time"
)

// What other domains (media) use to plug into this one: they publish their
// own event types (registered with RegisterEvent), apply the message
// reaction rules, and refuse with this package's error vocabulary.

// Publish appends a durable event to the logs of userIDs, after the caller
// has written what it reports. Failures are logged, not returned (see emit).
func (s *Service) Publish(ctx context.Context, userIDs []string, e Event) { s.emit(ctx, userIDs, e) }

// ValidEmoji applies the message reaction rules: exactly one emoji.
func ValidEmoji(e string) error { return validEmoji(e) }

// RateLimitedUntil is a RATE_LIMITED refusal that tells when to retry.
func RateLimitedUntil(msg string, retryAt time.Time) error {
	return &fault.Error{Code: fault.RateLimited, Message: msg, Extensions: map[string]any{"retryAt": retryAt.UTC().Format(time.RFC3339Nano)}}
}
