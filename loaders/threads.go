package loaders

import (
	"context"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"messenger/storage"
)

// ThreadSource answers the per-viewer lookups of threads and mentions in
// batches (chat.Service): a page of messages costs one call per
// conversation, a list of conversations one call in all.
type ThreadSource interface {
	// ThreadSummaries returns the summaries of the roots with replies.
	ThreadSummaries(ctx context.Context, me, conversationID string, rootSeqs []int64) (map[int64]storage.ThreadSummary, error)
	// UnreadMentionCounts counts my unread mentions per conversation.
	UnreadMentionCounts(ctx context.Context, me string, conversationIDs []string) (map[string]int, error)
	// Membership returns my membership of a conversation.
	Membership(ctx context.Context, me, conversationID string) (storage.Member, error)
}

// userConvKey names one user's view of one conversation.
type userConvKey struct {
	UserID, ConversationID string
}

// threadLoads are a request's thread, mention and membership loaders, made
// on first use with the source of that first call (the same for one
// Loaders).
type threadLoads struct {
	once      sync.Once
	summaries *dataloader.Loader[userMsgKey, *storage.ThreadSummary]
	mentions  *dataloader.Loader[userConvKey, int]
	members   *dataloader.Loader[userConvKey, storage.Member]
}

func (l *Loaders) threads(src ThreadSource) *threadLoads {
	t := &l.threadLoads
	t.once.Do(func() {
		t.summaries = newLoader(func(ctx context.Context, keys []userMsgKey) []*dataloader.Result[*storage.ThreadSummary] {
			type group struct{ user, conv string }
			seqs := map[group][]int64{}
			for _, k := range keys {
				g := group{k.UserID, k.ConversationID}
				seqs[g] = append(seqs[g], k.Seq)
			}
			found := map[userMsgKey]*storage.ThreadSummary{}
			var err error
			for g, ss := range seqs {
				var sums map[int64]storage.ThreadSummary
				if sums, err = src.ThreadSummaries(ctx, g.user, g.conv, ss); err != nil {
					break
				}
				for seq, sum := range sums {
					found[userMsgKey{MsgKey{g.conv, seq}, g.user}] = &sum
				}
			}
			return results(keys, found, err, nil)
		}, l.opts)
		t.mentions = newLoader(func(ctx context.Context, keys []userConvKey) []*dataloader.Result[int] {
			convs := map[string][]string{}
			for _, k := range keys {
				convs[k.UserID] = append(convs[k.UserID], k.ConversationID)
			}
			found := map[userConvKey]int{}
			var err error
			for user, ids := range convs {
				var counts map[string]int
				if counts, err = src.UnreadMentionCounts(ctx, user, ids); err != nil {
					break
				}
				for _, id := range ids {
					found[userConvKey{user, id}] = counts[id]
				}
			}
			return results(keys, found, err, nil)
		}, l.opts)
		t.members = newLoader(func(ctx context.Context, keys []userConvKey) []*dataloader.Result[storage.Member] {
			out := make([]*dataloader.Result[storage.Member], len(keys))
			for i, k := range keys {
				m, err := src.Membership(ctx, k.UserID, k.ConversationID)
				out[i] = &dataloader.Result[storage.Member]{Data: m, Error: err}
			}
			return out
		}, l.opts)
	})
	return t
}

// Thread loads the summary of m's thread as me sees it; nil when m has no
// replies or is itself a thread reply (then without a lookup). Messages of
// one conversation asked together cost one ThreadSummaries call.
func (l *Loaders) Thread(ctx context.Context, src ThreadSource, me string, m storage.Message) (*storage.ThreadSummary, error) {
	if m.ThreadRootSeq != 0 || m.DeletedAt != nil {
		return nil, nil
	}
	return l.threads(src).summaries.Load(ctx, userMsgKey{MsgKey{m.ConversationID, m.Seq}, me})()
}

// UnreadMentionCount loads my unread mention count in one conversation;
// the conversations of one list cost one UnreadMentionCounts call.
func (l *Loaders) UnreadMentionCount(ctx context.Context, src ThreadSource, me, conversationID string) (int, error) {
	return l.threads(src).mentions.Load(ctx, userConvKey{me, conversationID})()
}

// Membership loads my membership of a conversation once per request (what
// a page of quotes needs to know which quoted messages I may see).
func (l *Loaders) Membership(ctx context.Context, src ThreadSource, me, conversationID string) (storage.Member, error) {
	return l.threads(src).members.Load(ctx, userConvKey{me, conversationID})()
}
