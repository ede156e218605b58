package indexer

import (
	"context"

	"messenger/storage"
)

// Source is the part of durable storage the indexer reads: the current
// state of what changed, and listings of everything for the catch-up scan
// and the rebuild. storage.Store satisfies it; see it for the contracts.
type Source interface {
	// Conversations returns the conversations with the given ids; unknown
	// ids are absent from the map.
	Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error)
	// Messages returns the messages with the given seqs of one
	// conversation; unknown seqs are absent, and a message deleted for
	// everyone has DeletedAt set.
	Messages(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.Message, error)
	// Users returns the users with the given ids; unknown ids are absent.
	Users(ctx context.Context, ids []string) (map[string]storage.User, error)
	// ConversationIDs pages through every conversation id, in a stable
	// order, after afterID ("" = from the start); a short page is the last.
	ConversationIDs(ctx context.Context, afterID string, limit int) ([]string, error)
	// UserIDs pages through every user id like ConversationIDs.
	UserIDs(ctx context.Context, afterID string, limit int) ([]string, error)
}

var _ Source = storage.Store(nil)
