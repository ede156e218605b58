// Package loaders batches and caches the lookups of one request (Relay-style
// dataloaders), so a page of 50 conversations with their last messages and
// senders costs one store call per kind of object (plus one per conversation
// for its last message), not one per field.
package loaders

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"messenger/storage"
)

// MsgKey names a message by conversation and seq.
type MsgKey struct {
	ConversationID string
	Seq            int64
}

// Loaders are one request's loaders.
type Loaders struct {
	users         *dataloader.Loader[string, storage.User]
	conversations *dataloader.Loader[string, storage.Conversation]
	messages      *dataloader.Loader[MsgKey, storage.Message]
	reactions     *dataloader.Loader[MsgKey, []storage.ReactionSummary]
	counts        *dataloader.Loader[MsgKey, storage.MessageCounts]
	mine          *dataloader.Loader[userMsgKey, []string]

	opts            Options
	attachmentLoads // see Attachments and Page
	threadLoads     // see Thread, UnreadMentionCount and Membership
	membershipLoads // see MemberStates and Drafts
	forwardLoads    // see ForwardMark
}

// userMsgKey names one user's view of one message.
type userMsgKey struct {
	MsgKey
	UserID string
}

// Options tune one set of loaders.
type Options struct {
	// NoCache turns caching off: for long-lived operations (subscriptions),
	// where cached objects would go stale.
	NoCache bool
	// Wait is how long a batch collects keys (default 250 µs: gqlgen resolves
	// a list's fields concurrently, so a page's keys arrive within
	// microseconds; an idle Go runtime rounds timers up to about 1 ms).
	Wait time.Duration
	// Immediate fetches every key at once, without batching or waiting: for
	// mutations and subscription events, which load one object at a time and
	// where the batching timer would only add latency.
	Immediate bool
}

type ctxKey struct{}

// New returns loaders reading from store.
func New(store Source, o Options) *Loaders {
	if o.Wait <= 0 {
		o.Wait = 250 * time.Microsecond
	}
	r := &reader{store: store}
	return &Loaders{
		users:         newLoader(r.users, o),
		conversations: newLoader(r.conversations, o),
		messages:      newLoader(r.messages, o),
		reactions:     newLoader(r.reactions, o),
		counts:        newLoader(r.counts, o),
		mine:          newLoader(r.reactionsBy, o),
		opts:          o,
	}
}

func newLoader[K comparable, V any](fn dataloader.BatchFunc[K, V], o Options) *dataloader.Loader[K, V] {
	opts := []dataloader.Option[K, V]{dataloader.WithWait[K, V](o.Wait)}
	if o.Immediate {
		opts = append(opts, dataloader.WithBatchCapacity[K, V](1))
	}
	if o.NoCache {
		opts = append(opts, dataloader.WithCache[K, V](&dataloader.NoCache[K, V]{}))
	}
	return dataloader.NewBatchedLoader(fn, opts...)
}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// Lazy returns ctx whose loaders (For) are made by New on first use: for
// contexts most of which resolve no related object, such as each event of
// a subscription or a mutation answering with its own fields, where making
// the loaders cost more than the rest of the work.
func Lazy(ctx context.Context, store Source, o Options) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazy{store: store, o: o})
}

// lazy makes a context's loaders on first use.
type lazy struct {
	once  sync.Once
	store Source
	o     Options
	l     *Loaders
}

// For returns the loaders of ctx's request.
func For(ctx context.Context) *Loaders {
	switch l := ctx.Value(ctxKey{}).(type) {
	case *Loaders:
		return l
	case *lazy:
		l.once.Do(func() { l.l = New(l.store, l.o) })
		return l.l
	}
	return nil
}

// Middleware gives every HTTP request (and so every websocket connection) its
// own loaders.
func Middleware(store Source, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), New(store, Options{}))))
	})
}

// User loads a user; storage.ErrNotFound if unknown.
func (l *Loaders) User(ctx context.Context, id string) (storage.User, error) {
	return l.users.Load(ctx, id)()
}

// Conversation loads a conversation; storage.ErrNotFound if unknown.
func (l *Loaders) Conversation(ctx context.Context, id string) (storage.Conversation, error) {
	return l.conversations.Load(ctx, id)()
}

// Message loads one message; storage.ErrNotFound if unknown.
func (l *Loaders) Message(ctx context.Context, conversationID string, seq int64) (storage.Message, error) {
	return l.messages.Load(ctx, MsgKey{conversationID, seq})()
}

// Reactions loads a message's reaction summaries.
func (l *Loaders) Reactions(ctx context.Context, m storage.Message) ([]storage.ReactionSummary, error) {
	return l.reactions.Load(ctx, MsgKey{m.ConversationID, m.Seq})()
}

// Counts loads a message's read and delivered counts.
func (l *Loaders) Counts(ctx context.Context, m storage.Message) (storage.MessageCounts, error) {
	return l.counts.Load(ctx, MsgKey{m.ConversationID, m.Seq})()
}

// ReactedBy reports whether userID reacted with emoji on the message with
// the given storage id. A page of messages asks the store once per user, not
// once per emoji shown.
func (l *Loaders) ReactedBy(ctx context.Context, messageID, emoji, userID string) (bool, error) {
	conv, seq, err := storage.ParseMessageID(messageID)
	if err != nil {
		return false, err
	}
	mine, err := l.mine.Load(ctx, userMsgKey{MsgKey{conv, seq}, userID})()
	return slices.Contains(mine, emoji), err
}
