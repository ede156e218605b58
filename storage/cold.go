package storage

import (
	"context"
	"time"
)

// Cold moves old history out of the hot store into immutable segments (the
// cold tier, docs/cold-tier.md) without changing what any read returns:
// ListMessages, Messages, MessageByID and CountUnread give the same results
// before and after a move, with the same seqs as cursors, and edits,
// recalls, hides and reactions keep applying to moved messages.
type Cold interface {
	// MoveCold moves the complete, non-newest buckets of a conversation's
	// history whose newest message was sent before cutoff, and returns how
	// many messages it moved (0 when nothing was eligible, or when the
	// backend keeps everything local). It is resumable and safe to run from
	// several processes at once: a move interrupted at any point is finished
	// by the next call, and no message is lost or duplicated.
	MoveCold(ctx context.Context, conversationID string, cutoff time.Time) (moved int, err error)
}
