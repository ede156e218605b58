// Package search is full-text search over messages and users. Index is the
// engine: an embedded bleve index (package search/bleve) or OpenSearch
// (search/opensearch), both passing the contract suite in search/searchtest.
// The indexer (search/indexer) keeps an Index up to date from durable
// storage, asynchronously and in batches.
//
// Who may see what is never stored in the index: the caller passes the
// conversations to search (with the first seq they may see in each), read
// from durable storage at query time, and the engine filters by them before
// paging. So a member who leaves stops finding the conversation at once,
// whatever the index's lag. Only two per-message facts live in the index
// and are eventually consistent (seconds): the text (edits, deletes for
// everyone) and the users who hid the message for themselves.
package search

import (
	"context"
	"errors"
	"time"
)

// Errors of every Index.
var (
	// ErrBadCursor: an `after` cursor that this index did not produce for
	// this order.
	ErrBadCursor = errors.New("search: malformed cursor")
	// ErrUnavailable: the engine cannot be reached now; retry later.
	ErrUnavailable = errors.New("search: unavailable")
)

// Message is the indexed form of one message.
type Message struct {
	ConversationID string
	Seq            int64
	SenderID       string
	Body           string
	SentAt         time.Time
}

// Key returns the message's key.
func (m Message) Key() Key { return Key{ConversationID: m.ConversationID, Seq: m.Seq} }

// Key names one message.
type Key struct {
	ConversationID string
	Seq            int64
}

// Hide records that UserID deleted a message for themself.
type Hide struct {
	Key
	UserID string
}

// User is the indexed form of one user.
type User struct {
	ID          string
	Username    string
	DisplayName string
}

// Batch is one write to an Index. Its parts are applied in the order
// listed: upserts, deletes, hides, users, then watermarks, and watermarks
// only once everything before them succeeded.
type Batch struct {
	// Upserts index messages with their current text. A message's hides
	// survive an upsert.
	Upserts []Message
	// Deletes remove messages (deleted for everyone); absent ones are fine.
	Deletes []Key
	// Hides add a user to the message's hidden-for set. A hide may arrive
	// before the message itself: it is kept and applies once it does.
	Hides []Hide
	// Users index users.
	Users []User
	// Watermarks record, per conversation, the seq up to which every message
	// has been written (see Index.Watermarks).
	Watermarks map[string]int64
	// SyncedAt, when set, records that every change the Indexer was told
	// of before that time has been written (see Index.SyncedAt). It is
	// written with the watermarks, at millisecond precision.
	SyncedAt time.Time
}

// Empty reports a batch with nothing to write.
func (b *Batch) Empty() bool {
	return len(b.Upserts) == 0 && len(b.Deletes) == 0 && len(b.Hides) == 0 && len(b.Users) == 0 &&
		len(b.Watermarks) == 0 && b.SyncedAt.IsZero()
}

// Order is the order of message search results.
type Order string

// Orders.
const (
	// Newest: most recently sent first (ties by message id).
	Newest Order = "NEWEST"
	// Relevance: best match first, by the engine's BM25 score (ties by
	// message id). Scores are comparable within one index, not across the
	// two backends.
	Relevance Order = "RELEVANCE"
)

// Scope is one conversation the viewer may search: messages with
// seq > AfterSeq (the member's JoinedSeq).
type Scope struct {
	ConversationID string
	AfterSeq       int64
}

// MessageQuery asks for one page of matching messages.
type MessageQuery struct {
	// Viewer's hidden messages are excluded.
	Viewer string
	// Query is the analysed query (ParseQuery); it must not be Empty.
	Query Query
	// Scopes are the conversations to search; none gives an empty page.
	Scopes []Scope
	// Order of results (default Newest).
	Order Order
	// First is the page size (> 0).
	First int
	// After is the Cursor of the last hit of the previous page ("" = start).
	After string
}

// MessageHit is one matching message.
type MessageHit struct {
	Key
	// Cursor resumes the search after this hit (same query and order).
	Cursor string
}

// MessagePage is one page of message hits.
type MessagePage struct {
	Hits []MessageHit
	// HasNext: more hits follow the last one.
	HasNext bool
	// Total counts every hit of the query, on all pages.
	Total int
}

// UserQuery asks for users whose username, or a word of whose display name,
// starts with Prefix (folded like any text), ordered by username.
type UserQuery struct {
	Prefix string
	First  int
	After  string
}

// UserPage is one page of user hits.
type UserPage struct {
	IDs     []string
	Cursors []string
	HasNext bool
}

// Index is a full-text engine holding messages and users. Every method may
// block on I/O, honours ctx and returns ErrUnavailable (wrapped) when the
// engine cannot be reached; methods are safe for concurrent use.
//
// Writes are visible to searches within about a second (the engines'
// refresh interval), not at once: search is eventually consistent.
type Index interface {
	// Apply writes a batch. It is idempotent: on error some parts may have
	// been written, and the caller retries the whole batch.
	Apply(ctx context.Context, b Batch) error
	// Watermarks returns, for each given conversation that has one, the seq
	// up to which every message of it has been indexed. Absent means
	// nothing has been indexed yet.
	Watermarks(ctx context.Context, conversationIDs []string) (map[string]int64, error)
	// WatermarkedConversations pages, ordered by id, the conversations that
	// have a watermark: the ones the index knows about.
	WatermarkedConversations(ctx context.Context, afterID string, limit int) ([]string, error)
	// SyncedAt returns the last Batch.SyncedAt written (the last writer
	// wins), or the zero time when none was. The indexer's catch-up after a
	// restart re-reads what changed since then (see indexer.Indexer).
	SyncedAt(ctx context.Context) (time.Time, error)
	// SearchMessages returns one page of the messages of q.Scopes that match
	// q.Query and that q.Viewer did not hide. The filter is part of the
	// engine query: pages are full whenever enough hits exist, and Total is
	// exact. Paging with After is stable while the index does not change.
	SearchMessages(ctx context.Context, q MessageQuery) (MessagePage, error)
	// SearchUsers returns one page of users by prefix.
	SearchUsers(ctx context.Context, q UserQuery) (UserPage, error)
	// Close releases the index.
	Close() error
}

// Rebuilder is an Index whose mapping is versioned behind an alias: a
// rebuild writes a new generation and then atomically makes it current.
type Rebuilder interface {
	Index
	// NewGeneration creates an empty index of the current mapping version
	// beside the live one. Writes to it are not seen by searches of the
	// live index until Promote.
	NewGeneration(ctx context.Context) (Generation, error)
	// Hides lists every hide recorded in the live index (a rebuild carries
	// them over: durable storage answers "is it hidden for me", not "who
	// hid it").
	Hides(ctx context.Context, fn func(Hide) error) error
}

// Generation is a new index being filled by a rebuild.
type Generation interface {
	// Name identifies the generation (index or directory name).
	Name() string
	// Apply writes to the new generation.
	Apply(ctx context.Context, b Batch) error
	// Promote makes this generation the live one and drops the previous.
	Promote(ctx context.Context) error
	// Abandon deletes the generation.
	Abandon(ctx context.Context) error
}
