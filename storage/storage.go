// Package storage defines the durable data of the messenger: users,
// conversations, memberships, messages, read and delivery cursors and
// reactions. The Store interface has an embedded implementation
// (storage/pebble) and a distributed one (storage/cassandra); both pass the
// same contract suite (storage/storagetest).
//
// The store enforces only the invariants that must hold under concurrency
// (unique usernames, one direct conversation per pair, contiguous sequence
// numbers, idempotent sends, forward-only cursors). Who may do what is
// decided by the domain package before it calls the store.
package storage

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors returned by every Store implementation. Callers test them with errors.Is.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict: a unique constraint (such as a username) is already taken.
	ErrConflict = errors.New("storage: conflict")
	// ErrUnavailable: the backend cannot be reached now; the call may be retried.
	ErrUnavailable = errors.New("storage: unavailable")
)

// ConversationKind tells direct (one-to-one) conversations from groups.
type ConversationKind string

// Conversation kinds.
const (
	Direct ConversationKind = "DIRECT"
	Group  ConversationKind = "GROUP"
)

// Role is a member's role in a conversation.
type Role string

// Member roles. Direct conversations have only RoleMember.
const (
	RoleOwner  Role = "OWNER"
	RoleAdmin  Role = "ADMIN"
	RoleMember Role = "MEMBER"
)

// CursorKind selects one of a member's two per-conversation cursors.
type CursorKind string

// Cursor kinds.
const (
	Delivered CursorKind = "DELIVERED"
	Read      CursorKind = "READ"
)

// User is an account. Username is unique ignoring case; UsernameKey is its
// case-folded form, computed by the caller.
type User struct {
	ID           string
	Username     string
	UsernameKey  string
	DisplayName  string
	PasswordHash string
	CreatedAt    time.Time
}

// Conversation is a direct conversation or a group. LastSeq is the seq of its
// newest message (0 when empty); LastActivityAt moves on every message and on
// membership changes.
type Conversation struct {
	ID             string
	Kind           ConversationKind
	Title          string
	CreatedBy      string
	CreatedAt      time.Time
	LastSeq        int64
	LastActivityAt time.Time
	// DirectKey identifies the pair of a direct conversation ("a|b" with the
	// two user ids sorted); empty for groups.
	DirectKey string
}

// Member is one user's membership of a conversation with their cursors.
// JoinedSeq is the conversation's LastSeq when the user (re)joined: they see
// messages with seq > JoinedSeq only.
type Member struct {
	ConversationID string
	UserID         string
	Role           Role
	JoinedAt       time.Time
	JoinedSeq      int64
	ReadSeq        int64
	DeliveredSeq   int64
}

// Message is one message of a conversation. ID is unique across all
// conversations (see MessageID). A message deleted for everyone keeps its seq and sender but
// has an empty Body and a DeletedAt.
type Message struct {
	ID              string
	ConversationID  string
	Seq             int64
	SenderID        string
	ClientMessageID string
	Body            string
	SentAt          time.Time
	EditedAt        *time.Time
	DeletedAt       *time.Time
}

// PendingFanOut names a message whose event may not have reached every
// member's event log yet (SentAt is the message's SentAt as stored), or,
// when EventID is set, an event whose fan-out failed and was deferred with
// DeferFanOut (Seq is 0; SentAt is when it was deferred).
type PendingFanOut struct {
	ConversationID string
	Seq            int64
	SentAt         time.Time
	// EventID, UserIDs, Type and Data are a deferred event: its id, the
	// users whose logs should have it, and its encoded form.
	EventID string
	UserIDs []string
	Type    string
	Data    []byte
}

// PendingFanOutOf is the pending fan-out of a created message.
func PendingFanOutOf(m Message) PendingFanOut {
	return PendingFanOut{ConversationID: m.ConversationID, Seq: m.Seq, SentAt: m.SentAt}
}

// Receipt is the time a member's cursor first reached a message.
type Receipt struct {
	UserID string
	At     time.Time
}

// ReactionSummary is one emoji on one message.
type ReactionSummary struct {
	MessageID string
	Emoji     string
	Count     int
	// FirstAt orders emoji by when they were first used on the message.
	FirstAt time.Time
}

// MessageCounts are the receipt counts of one message.
type MessageCounts struct {
	Read      int
	Delivered int
}

// Store is the durable data of the messenger. Every method may block on I/O,
// honours ctx, and returns ErrUnavailable (wrapped) when the backend cannot
// be reached. Values passed in and returned are copies: callers never alias
// stored data. All methods are safe for concurrent use, also from several
// processes sharing one distributed backend.
type Store interface {
	// CreateUser stores a new user. It returns ErrConflict when another user
	// already has u.UsernameKey, and then writes nothing.
	CreateUser(ctx context.Context, u User) error
	// UserByUsername finds a user by case-folded username, or ErrNotFound.
	UserByUsername(ctx context.Context, usernameKey string) (User, error)
	// Users returns the users with the given ids; unknown ids are absent from
	// the map (no error).
	Users(ctx context.Context, ids []string) (map[string]User, error)

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

	// ConversationIDs pages through the ids of every conversation, at most
	// limit of them (limit <= 0 gives none), after afterID ("" = from the
	// start), in an order that is the backend's own but stable: paging with
	// the last id of each page lists every conversation that existed
	// throughout exactly once. A page shorter than limit is the last. Its
	// cost is a scan: for background work (search catch-up), not requests.
	ConversationIDs(ctx context.Context, afterID string, limit int) ([]string, error)
	// UserIDs pages through the ids of every user like ConversationIDs.
	UserIDs(ctx context.Context, afterID string, limit int) ([]string, error)

	// Close flushes and releases the store.
	Close() error
}

// MessageID is the id of the message with seq in conversationID: ids are
// derived, so a message can be found without a secondary index.
func MessageID(conversationID string, seq int64) string {
	return conversationID + "." + strconv.FormatInt(seq, 10)
}

// ParseMessageID splits a message id into its conversation and seq.
func ParseMessageID(id string) (conversationID string, seq int64, err error) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 {
		return "", 0, ErrNotFound
	}
	seq, err = strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil || seq <= 0 {
		return "", 0, ErrNotFound
	}
	return id[:i], seq, nil
}
