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

	mu    sync.Mutex
	pages map[string]*threadPage // by message id; see Page
}

// threadPage is one page of messages whose thread summaries, quoted
// messages and mentioned users are fetched together, on the first Thread
// or Quoted call for any of them: a page then costs one read of each kind
// however gqlgen schedules its fields (a batching window alone splits a
// busy page into several batches).
type threadPage struct {
	msgs []storage.Message
	once sync.Once
	me   string
	sums map[int64]storage.ThreadSummary
	err  error
}

// page names a history page (called by Page).
func (t *threadLoads) page(msgs []storage.Message) {
	p := &threadPage{msgs: msgs}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pages == nil {
		t.pages = map[string]*threadPage{}
	}
	for _, m := range msgs {
		t.pages[m.ID] = p
	}
}

// pageOf returns m's page, fetched for me, or nil when m is on none (or
// the page was fetched for someone else).
func (l *Loaders) pageOf(ctx context.Context, src ThreadSource, me string, m storage.Message) *threadPage {
	t := &l.threadLoads
	t.mu.Lock()
	p := t.pages[m.ID]
	t.mu.Unlock()
	if p == nil {
		return nil
	}
	p.once.Do(func() {
		p.me = me
		var roots []int64
		var quoted []MsgKey
		var users []string
		for _, m := range p.msgs {
			if m.ThreadRootSeq == 0 && m.DeletedAt == nil {
				roots = append(roots, m.Seq)
			}
			if m.ReplyToSeq > 0 {
				quoted = append(quoted, MsgKey{m.ConversationID, m.ReplyToSeq})
			}
			users = append(users, m.Mentions...)
		}
		// Warm the shared loaders' caches in one batch each.
		qThunk := l.messages.LoadMany(ctx, quoted)
		uThunk := l.users.LoadMany(ctx, users)
		if len(roots) > 0 {
			p.sums, p.err = src.ThreadSummaries(ctx, me, p.msgs[0].ConversationID, roots)
		}
		qThunk()
		uThunk()
	})
	if p.me != me {
		return nil
	}
	return p
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
	if p := l.pageOf(ctx, src, me, m); p != nil && p.err == nil {
		if sum, ok := p.sums[m.Seq]; ok {
			return &sum, nil
		}
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

// Quoted loads the message m quotes (storage.ErrNotFound when it does not
// exist); a page named with Page loads all its quotes in one read.
func (l *Loaders) Quoted(ctx context.Context, src ThreadSource, me string, m storage.Message) (storage.Message, error) {
	l.pageOf(ctx, src, me, m)
	return l.Message(ctx, m.ConversationID, m.ReplyToSeq)
}
