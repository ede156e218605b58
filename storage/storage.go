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
	"strconv"
	"strings"
	"time"

	"messenger/fault"
)

// Errors returned by every Store implementation. Callers test them with
// errors.Is. They are the shared vocabulary's sentinels (package fault), so
// every layer, and the API's error presenter, reads the same codes.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = fault.ErrNotFound
	// ErrConflict: a unique constraint (such as a username) is already taken.
	ErrConflict = fault.ErrConflict
	// ErrUnavailable: the backend cannot be reached now; the call may be retried.
	ErrUnavailable = fault.ErrUnavailable
)

// ConversationKind tells direct (one-to-one) conversations from groups
// and broadcast channels.
type ConversationKind string

// Conversation kinds.
const (
	Direct ConversationKind = "DIRECT"
	Group  ConversationKind = "GROUP"
	// Channel is a broadcast group: only its owner and admins post,
	// members read, react and join by invite link.
	Channel ConversationKind = "CHANNEL"
)

// IsGroup reports whether a conversation of this kind has a title, roles
// and managed membership: a group or a channel (not a direct conversation).
func (k ConversationKind) IsGroup() bool {
	return k == Group || k == Channel
}

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
	// BannedAt is when an operator banned the account (zero: not banned);
	// DeletedAt is when the account was deleted (zero: not deleted). Tokens
	// of a banned or deleted user are refused.
	BannedAt  time.Time
	DeletedAt time.Time
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
	// MutedUntil silences the conversation for this member until then (zero:
	// not muted; MutedForever: until unmuted). NotificationLevel is the
	// member's own level for this conversation ("" follows the account default).
	MutedUntil        time.Time
	NotificationLevel NotificationLevel
}

// NotificationLevel is how much of a conversation notifies a member.
type NotificationLevel string

// Notification levels; the empty level follows the account default.
const (
	NotifyAll      NotificationLevel = "ALL"
	NotifyMentions NotificationLevel = "MENTIONS"
	NotifyNone     NotificationLevel = "NONE"
)

// MutedForever is the MutedUntil of a conversation muted until unmuted.
var MutedForever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

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
	// Refs are the message's replies and mentions (see MessageRefs).
	MessageRefs
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
