package storage

import (
	"context"
	"time"
)

// Store is the durable data of the messenger, composed of named parts so
// that a consumer can declare the few methods it uses (loaders.Source, the
// search indexer's source) instead of taking all of them. Every method may
// block on I/O, honours ctx, and returns ErrUnavailable (wrapped) when the
// backend cannot be reached. Values passed in and returned are copies:
// callers never alias stored data. All methods are safe for concurrent use,
// also from several processes sharing one distributed backend.
type Store interface {
	Users
	Conversations
	Members
	Messages
	Outbox
	Cursors
	Reactions
	Listing
	Push
	Sessions
	Lifecycle
	Membership
	Privacy
	Replies
	Moderation
	MessageExtras
	LinkPreviews
	Cold
	LargeGroups
	MemberCounts

	// Close flushes and releases the store.
	Close() error
}

// Users is the accounts part of a Store: usernames are unique ignoring case.
type Users interface {
	// CreateUser stores a new user. It returns ErrConflict when another user
	// already has u.UsernameKey, and then writes nothing.
	CreateUser(ctx context.Context, u User) error
	// UserByUsername finds a user by case-folded username, or ErrNotFound.
	UserByUsername(ctx context.Context, usernameKey string) (User, error)
	// Users returns the users with the given ids; unknown ids are absent from
	// the map (no error).
	Users(ctx context.Context, ids []string) (map[string]User, error)
}

// Conversations creates and reads conversations themselves (not their members
// or messages).
type Conversations interface {
	// CreateConversation stores c with its initial members. When c.DirectKey
	// is set and a conversation with that key exists, it returns the existing
	// one and created=false, writing nothing: concurrent creators of the same
	// pair all get one conversation.
	CreateConversation(ctx context.Context, c Conversation, members []Member) (conv Conversation, created bool, err error)
	// Conversations returns the conversations with the given ids; unknown ids
	// are absent from the map.
	Conversations(ctx context.Context, ids []string) (map[string]Conversation, error)
	// RenameConversation sets a conversation's title, or ErrNotFound.
	RenameConversation(ctx context.Context, conversationID, title string, at time.Time) error
}

// Members is who belongs to which conversation, with which role. A membership
// ends when the user leaves or is removed; reading it then gives ErrNotFound.
type Members interface {
	// Member returns one membership, or ErrNotFound when the user is not a
	// member (never was, left or was removed).
	Member(ctx context.Context, conversationID, userID string) (Member, error)
	// Members returns up to limit members ordered by user id, starting after
	// afterUserID ("" = from the start). limit <= 0 means all.
	Members(ctx context.Context, conversationID, afterUserID string, limit int) ([]Member, error)
	// MemberIDs returns the user id of every member, ordered: Members
	// without the rest of each row, for a message's fan-out to a large
	// group. An unknown conversation has none.
	MemberIDs(ctx context.Context, conversationID string) ([]string, error)
	// AddMembers adds members, setting their JoinedSeq to the conversation's
	// LastSeq at that moment. Users who are already members are left as they
	// are. It returns the ids actually added, in input order.
	AddMembers(ctx context.Context, conversationID string, members []Member, at time.Time) ([]string, error)
	// RemoveMember ends a membership, or returns ErrNotFound.
	RemoveMember(ctx context.Context, conversationID, userID string, at time.Time) error
	// SetRole changes a member's role, or returns ErrNotFound.
	SetRole(ctx context.Context, conversationID, userID string, role Role) error
	// UserConversationIDs lists every conversation the user is a member of
	// now, in no particular order.
	UserConversationIDs(ctx context.Context, userID string) ([]string, error)
}

// Messages is a conversation's history: one total order by seq, contiguous,
// each message written once and then only edited or tombstoned.
type Messages interface {
	// AppendMessage assigns m the conversation's next seq (LastSeq+1: contiguous
	// and unique even with concurrent writers in several processes), stores it,
	// and moves the conversation's LastSeq and LastActivityAt. The store sets
	// m.ID to MessageID(conversation, seq); SentAt, SenderID, ClientMessageID
	// and Body are the caller's. It returns ErrNotFound for an unknown
	// conversation. When the sender
	// already sent a message with this ClientMessageID in this conversation,
	// it returns that message and created=false and writes nothing.
	//
	// A created message is also recorded as a pending fan-out (the outbox):
	// written with the message, so whenever the message exists, either its
	// fan-out was confirmed with FanOutDone or PendingFanOuts lists it.
	AppendMessage(ctx context.Context, m Message) (msg Message, created bool, err error)
	// Messages returns the messages with the given seqs of one conversation;
	// unknown seqs are absent from the map.
	Messages(ctx context.Context, conversationID string, seqs []int64) (map[int64]Message, error)
	// MessageByID finds a message by its id, or ErrNotFound.
	MessageByID(ctx context.Context, id string) (Message, error)
	// ListMessages pages through a conversation's history as seen by viewerID:
	// messages with afterSeq < seq < beforeSeq (beforeSeq 0 = no upper bound),
	// skipping those viewerID hid for themself, newest first when newestFirst,
	// at most limit of them. Pages are full whenever enough messages exist.
	ListMessages(ctx context.Context, conversationID, viewerID string, afterSeq, beforeSeq int64, limit int, newestFirst bool) ([]Message, error)
	// UpdateMessage edits an existing message (matched by ConversationID and
	// Seq; ErrNotFound otherwise): with DeletedAt set it becomes a tombstone
	// (Body and DeletedAt are written), else Body and EditedAt are replaced.
	// A tombstone is final: once a message has DeletedAt, updates change
	// nothing and return nil, so an edit racing a recall, from any process,
	// cannot bring the text back. Callers re-read to learn which won.
	UpdateMessage(ctx context.Context, m Message) error
	// HideMessage hides one message from one user's history and unread count.
	// Hiding twice is a no-op.
	HideMessage(ctx context.Context, userID, conversationID string, seq int64) error
	// CountUnread counts the messages with seq > afterSeq that userID should
	// read: not sent by them, not hidden by them, not deleted for everyone.
	CountUnread(ctx context.Context, conversationID, userID string, afterSeq int64) (int, error)
}

// Outbox is the record of fan-outs not yet confirmed (see chat/outbox.go): a
// created message is pending from the same write that stores it
// (Messages.AppendMessage) until FanOutDone.
type Outbox interface {
	// PendingFanOuts lists, oldest first, at most limit created messages sent
	// before sentBefore whose fan-out was not confirmed with FanOutDone.
	// Every process may read it (and replay what it finds): the list is the
	// same for all of them.
	PendingFanOuts(ctx context.Context, sentBefore time.Time, limit int) ([]PendingFanOut, error)
	// FanOutDone confirms a message's fan-out, so PendingFanOuts stops
	// listing it. Confirming twice, or a message never pending, is no error.
	FanOutDone(ctx context.Context, p PendingFanOut) error
	// DeferFanOut records an event whose fan-out failed (p.EventID, UserIDs,
	// Type, Data and SentAt set), so PendingFanOuts lists it until it is
	// confirmed with FanOutDone. Deferring one EventID twice records it once.
	DeferFanOut(ctx context.Context, p PendingFanOut) error
}

// Cursors are each member's read and delivered positions, which only move
// forward, and the receipts derived from them.
type Cursors interface {
	// AdvanceCursor moves a member's cursor of the given kind to seq if that
	// is ahead of where it is, remembering when it moved, and reports whether
	// it moved. A cursor never moves backwards: a smaller seq is a no-op.
	// ErrNotFound when the user is not a member.
	AdvanceCursor(ctx context.Context, conversationID, userID string, kind CursorKind, seq int64, at time.Time) (moved bool, err error)
	// ReceiptTime returns when userID's cursor of the given kind first reached
	// seq; ok is false when it has not reached it.
	ReceiptTime(ctx context.Context, conversationID, userID string, kind CursorKind, seq int64) (at time.Time, ok bool, err error)
	// Receipts lists the current members, other than the message's sender and
	// those who joined at or after seq (JoinedSeq >= seq: they never saw it),
	// whose cursor of the given kind has reached seq, ordered by user id,
	// after afterUserID, at most limit, each with the time it got there.
	Receipts(ctx context.Context, conversationID string, seq int64, kind CursorKind, afterUserID string, limit int) ([]Receipt, error)
	// ReceiptCounts counts, for each seq, the current members other than the
	// sender, and other than those who joined at or after seq, whose read and
	// delivered cursors have reached it. Its cost must not grow with the number
	// of seqs asked: at most one read of the conversation's member cursors.
	ReceiptCounts(ctx context.Context, conversationID string, seqs []int64) (map[int64]MessageCounts, error)
}

// Reactions are emoji on messages: a set per (message, user), so adding twice
// is one reaction.
type Reactions interface {
	// AddReaction records that userID reacted with emoji; adding the same
	// emoji twice is a no-op (added=false).
	AddReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string, at time.Time) (added bool, err error)
	// RemoveReaction removes one reaction; removing an absent one is a no-op.
	RemoveReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string) (removed bool, err error)
	// Reactions returns, per seq, the emoji used on that message with their
	// counts, ordered by FirstAt.
	Reactions(ctx context.Context, conversationID string, seqs []int64) (map[int64][]ReactionSummary, error)
	// ReactionsBy returns, per seq, the emoji userID used on that message.
	ReactionsBy(ctx context.Context, conversationID string, seqs []int64, userID string) (map[int64][]string, error)
	// ReactionUsers lists who reacted with emoji on a message, ordered by user
	// id, after afterUserID, at most limit, each with the reaction's time.
	ReactionUsers(ctx context.Context, conversationID string, seq int64, emoji, afterUserID string, limit int) ([]Receipt, error)
}

// Listing pages through every record of a kind, for background work (search
// catch-up and rebuild), never for requests.
type Listing interface {
	// ConversationIDs pages through the ids of every conversation, at most
	// limit of them (limit <= 0 gives none), after afterID ("" = from the
	// start), in an order that is the backend's own but stable: paging with
	// the last id of each page lists every conversation that existed
	// throughout exactly once. A page shorter than limit is the last. Its
	// cost is a scan: for background work (search catch-up), not requests.
	ConversationIDs(ctx context.Context, afterID string, limit int) ([]string, error)
	// UserIDs pages through the ids of every user like ConversationIDs.
	UserIDs(ctx context.Context, afterID string, limit int) ([]string, error)
}
