package storage

import (
	"context"
	"errors"
	"sort"
	"time"
)

// ErrPinLimit is PinMessage's refusal when the conversation already has
// its limit of pins. The domain turns it into a clear BAD_USER_INPUT.
var ErrPinLimit = errors.New("storage: conversation has its limit of pinned messages")

// Pin is one pinned message of a conversation.
type Pin struct {
	ConversationID string
	Seq            int64
	PinnedBy       string
	PinnedAt       time.Time
}

// Edit is one previous version of a message: its Body as it was from
// WrittenAt (when it was sent or last edited) until ReplacedAt (the edit
// that replaced it).
type Edit struct {
	ConversationID string
	Seq            int64
	Body           string
	WrittenAt      time.Time
	ReplacedAt     time.Time
}

// ForwardKey names a send by its idempotency key (conversation, sender,
// client message id), so a forward is recorded before the copy exists and
// found from the written message alone.
type ForwardKey struct {
	ConversationID  string
	SenderID        string
	ClientMessageID string
}

// ForwardKeyOf is the key of a written message.
func ForwardKeyOf(m Message) ForwardKey {
	return ForwardKey{ConversationID: m.ConversationID, SenderID: m.SenderID, ClientMessageID: m.ClientMessageID}
}

// Forward says that the send named Key copies message SourceMessageID,
// first sent by SourceSenderID.
type Forward struct {
	Key             ForwardKey
	SourceMessageID string
	SourceSenderID  string
	ForwardedAt     time.Time
}

// SortPins orders pins as Pins.Pins returns them: the most recently
// pinned first, and of pins made at the same moment the later message.
func SortPins(pins []Pin) {
	sort.Slice(pins, func(i, j int) bool {
		if !pins[i].PinnedAt.Equal(pins[j].PinnedAt) {
			return pins[i].PinnedAt.After(pins[j].PinnedAt)
		}
		return pins[i].Seq > pins[j].Seq
	})
}

// MessageExtras is what members add around messages without changing
// them: pins, the edit history and forward marks.
type MessageExtras interface {
	Pins
	EditHistory
	Forwards
}

// Pins are each conversation's pinned messages: a small set (the domain's
// limit, 10) per conversation, one partition in a distributed backend.
type Pins interface {
	// PinMessage pins p.Seq in p.ConversationID. Pinning a pinned message is
	// a no-op (pinned=false; the first pin's PinnedBy and PinnedAt stay).
	// When the conversation already has limit pins it returns ErrPinLimit
	// and leaves the pins as they were; concurrent pinners, from any number
	// of processes, never leave more than limit pins behind.
	PinMessage(ctx context.Context, p Pin, limit int) (pinned bool, err error)
	// UnpinMessage removes a pin; removing an absent one is a no-op
	// (unpinned=false).
	UnpinMessage(ctx context.Context, conversationID string, seq int64) (unpinned bool, err error)
	// Pins lists a conversation's pins, the most recently pinned first
	// (see SortPins). An unknown conversation has none.
	Pins(ctx context.Context, conversationID string) ([]Pin, error)
}

// EditHistory keeps the previous versions of edited messages, one row per
// edit in the message's own partition.
type EditHistory interface {
	// AddEdit records a previous version. Recording the same (message,
	// ReplacedAt) twice keeps one.
	AddEdit(ctx context.Context, e Edit) error
	// Edits lists a message's previous versions, the most recent first,
	// those replaced strictly before before (zero: all), at most limit.
	Edits(ctx context.Context, conversationID string, seq int64, before time.Time, limit int) ([]Edit, error)
	// DropEdits forgets a message's history (a recall keeps none). No
	// history is no error.
	DropEdits(ctx context.Context, conversationID string, seq int64) error
}

// Forwards are the marks of forwarded copies, keyed by the copy's send key.
type Forwards interface {
	// PutForward records f before its copy is sent. Recording one key
	// again keeps the first record, so a retry cannot rewrite the origin.
	PutForward(ctx context.Context, f Forward) error
	// Forwards returns the records of the given keys; keys without one are
	// absent from the map. One call serves a page of messages.
	Forwards(ctx context.Context, keys []ForwardKey) (map[ForwardKey]Forward, error)
}
