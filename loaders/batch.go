package loaders

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"

	"messenger/storage"
)

// Source is what the loaders read: the store's batch lookups, nothing
// else. A storage.Store is one.
type Source interface {
	Users(ctx context.Context, ids []string) (map[string]storage.User, error)
	Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error)
	Messages(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.Message, error)
	Reactions(ctx context.Context, conversationID string, seqs []int64) (map[int64][]storage.ReactionSummary, error)
	ReactionsBy(ctx context.Context, conversationID string, seqs []int64, userID string) (map[int64][]string, error)
	ReceiptCounts(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.MessageCounts, error)
}

var _ Source = storage.Store(nil)

// reader holds the batch functions: each returns results in key order.
type reader struct {
	store Source
}

func results[K comparable, V any](keys []K, found map[K]V, err error, missing error) []*dataloader.Result[V] {
	out := make([]*dataloader.Result[V], len(keys))
	for i, k := range keys {
		if err != nil {
			out[i] = &dataloader.Result[V]{Error: err}
			continue
		}
		v, ok := found[k]
		if !ok && missing != nil {
			out[i] = &dataloader.Result[V]{Error: missing}
			continue
		}
		out[i] = &dataloader.Result[V]{Data: v}
	}
	return out
}

func (r *reader) users(ctx context.Context, keys []string) []*dataloader.Result[storage.User] {
	found, err := r.store.Users(ctx, keys)
	return results(keys, found, err, storage.ErrNotFound)
}

func (r *reader) conversations(ctx context.Context, keys []string) []*dataloader.Result[storage.Conversation] {
	found, err := r.store.Conversations(ctx, keys)
	return results(keys, found, err, storage.ErrNotFound)
}

// byConversation groups message keys by conversation: the store answers one
// conversation's messages in one call.
func byConversation(keys []MsgKey) map[string][]int64 {
	out := map[string][]int64{}
	for _, k := range keys {
		out[k.ConversationID] = append(out[k.ConversationID], k.Seq)
	}
	return out
}

func perConversation[V any](ctx context.Context, keys []MsgKey, fetch func(ctx context.Context, conv string, seqs []int64) (map[int64]V, error), missing error) []*dataloader.Result[V] {
	found := map[MsgKey]V{}
	var err error
	for conv, seqs := range byConversation(keys) {
		var got map[int64]V
		if got, err = fetch(ctx, conv, seqs); err != nil {
			break
		}
		for seq, v := range got {
			found[MsgKey{conv, seq}] = v
		}
	}
	return results(keys, found, err, missing)
}

func (r *reader) messages(ctx context.Context, keys []MsgKey) []*dataloader.Result[storage.Message] {
	return perConversation(ctx, keys, r.store.Messages, storage.ErrNotFound)
}

func (r *reader) reactions(ctx context.Context, keys []MsgKey) []*dataloader.Result[[]storage.ReactionSummary] {
	return perConversation(ctx, keys, r.store.Reactions, nil)
}

func (r *reader) counts(ctx context.Context, keys []MsgKey) []*dataloader.Result[storage.MessageCounts] {
	return perConversation(ctx, keys, r.store.ReceiptCounts, nil)
}

// reactionsBy answers each user's emoji per message with one store call per
// conversation and user.
func (r *reader) reactionsBy(ctx context.Context, keys []userMsgKey) []*dataloader.Result[[]string] {
	type group struct{ conv, user string }
	seqs := map[group][]int64{}
	for _, k := range keys {
		g := group{k.ConversationID, k.UserID}
		seqs[g] = append(seqs[g], k.Seq)
	}
	found := map[userMsgKey][]string{}
	var err error
	for g, ss := range seqs {
		var got map[int64][]string
		if got, err = r.store.ReactionsBy(ctx, g.conv, ss, g.user); err != nil {
			break
		}
		for seq, emoji := range got {
			found[userMsgKey{MsgKey{g.conv, seq}, g.user}] = emoji
		}
	}
	return results(keys, found, err, nil)
}
