package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"messenger/storage"
)

// MaxPins is how many messages a conversation may have pinned at once.
const MaxPins = 10

// MessagePinned: a message was pinned (a durable event for every member).
type MessagePinned struct {
	Cursor         string           `json:"-"`
	Ephemeral      bool             `json:"-"`
	ConversationID string           `json:"conversationId"`
	Message        *storage.Message `json:"message"`
	ByID           string           `json:"byId"`
	At             time.Time        `json:"at"`
}

// MessageUnpinned: a message was unpinned, by a member or because it was
// deleted for everyone (ByID is then its sender).
type MessageUnpinned struct {
	Cursor         string    `json:"-"`
	Ephemeral      bool      `json:"-"`
	ConversationID string    `json:"conversationId"`
	MessageID      string    `json:"messageId"`
	Seq            int64     `json:"seq"`
	ByID           string    `json:"byId"`
	At             time.Time `json:"at"`
}

// EventType implements Event.
func (*MessagePinned) EventType() string { return "MessagePinned" }

// EventType implements Event.
func (*MessageUnpinned) EventType() string { return "MessageUnpinned" }

// WithCursor implements Event.
func (e MessagePinned) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

// WithCursor implements Event.
func (e MessageUnpinned) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func init() {
	RegisterEvent(func() Event { return &MessagePinned{} })
	RegisterEvent(func() Event { return &MessageUnpinned{} })
}

// mayPin is the pin rule: any member of a direct conversation; owners and
// admins of a group.
func mayPin(kind storage.ConversationKind, role storage.Role) bool {
	return kind == storage.Direct || role == storage.RoleOwner || role == storage.RoleAdmin
}

// pinTarget loads a message I may see and checks that I may pin or unpin
// in its conversation.
func (s *Service) pinTarget(ctx context.Context, me, messageID, verb string) (storage.Message, error) {
	m, err := s.Message(ctx, me, messageID)
	if err != nil {
		return m, err
	}
	mem, err := s.member(ctx, m.ConversationID, me)
	if err != nil {
		return m, err
	}
	c, err := s.conversation(ctx, m.ConversationID)
	if err != nil {
		return m, err
	}
	if !mayPin(c.Kind, mem.Role) {
		return m, forbidden("only owners and admins may " + verb + " messages in a group")
	}
	return m, nil
}

// PinMessage pins a message of a conversation (see mayPin), at most
// MaxPins per conversation; pinning a pinned message changes nothing.
// Every member gets MessagePinned when it is newly pinned.
func (s *Service) PinMessage(ctx context.Context, me, messageID string) (storage.Message, error) {
	m, err := s.pinTarget(ctx, me, messageID, "pin")
	if err != nil {
		return m, err
	}
	if m.DeletedAt != nil {
		return m, badInput("messageId", "a deleted message cannot be pinned")
	}
	at := s.now()
	pinned, err := s.store.PinMessage(ctx, storage.Pin{ConversationID: m.ConversationID, Seq: m.Seq, PinnedBy: me, PinnedAt: at}, MaxPins)
	if errors.Is(err, storage.ErrPinLimit) {
		return m, badInput("messageId", fmt.Sprintf("a conversation has at most %d pinned messages: unpin one first", MaxPins))
	}
	if err != nil {
		return m, fmt.Errorf("chat: pin message: %w", err)
	}
	if pinned {
		s.emitConversation(ctx, m.ConversationID, &MessagePinned{ConversationID: m.ConversationID, Message: &m, ByID: me, At: at})
	}
	return m, nil
}

// UnpinMessage unpins a message (the same rule as PinMessage); unpinning
// one that is not pinned changes nothing. Every member gets
// MessageUnpinned when it was pinned.
func (s *Service) UnpinMessage(ctx context.Context, me, messageID string) (storage.Message, error) {
	m, err := s.pinTarget(ctx, me, messageID, "unpin")
	if err != nil {
		return m, err
	}
	return m, s.unpin(ctx, m, me)
}

// unpin removes m's pin and tells every member, if it was pinned.
func (s *Service) unpin(ctx context.Context, m storage.Message, by string) error {
	unpinned, err := s.store.UnpinMessage(ctx, m.ConversationID, m.Seq)
	if err != nil {
		return fmt.Errorf("chat: unpin message: %w", err)
	}
	if unpinned {
		s.emitConversation(ctx, m.ConversationID, &MessageUnpinned{ConversationID: m.ConversationID, MessageID: m.ID, Seq: m.Seq, ByID: by, At: s.now()})
	}
	return nil
}

// PinnedMessages lists a conversation's pinned messages, the most recently
// pinned first, as I see them: without those sent before I joined or
// deleted for everyone. One store read for the pins, one for the messages.
func (s *Service) PinnedMessages(ctx context.Context, me, conversationID string) ([]storage.Message, error) {
	mem, err := s.member(ctx, conversationID, me)
	if err != nil {
		return nil, err
	}
	pins, err := s.store.Pins(ctx, conversationID)
	if err != nil {
		return nil, fmt.Errorf("chat: pins: %w", err)
	}
	seqs := make([]int64, 0, len(pins))
	for _, p := range pins {
		if p.Seq > mem.JoinedSeq {
			seqs = append(seqs, p.Seq)
		}
	}
	if len(seqs) == 0 {
		return []storage.Message{}, nil
	}
	byseq, err := s.store.Messages(ctx, conversationID, seqs)
	if err != nil {
		return nil, fmt.Errorf("chat: pinned messages: %w", err)
	}
	out := make([]storage.Message, 0, len(seqs))
	for _, seq := range seqs {
		if m, ok := byseq[seq]; ok && m.DeletedAt == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// afterRecall forgets what a message deleted for everyone leaves behind
// here: its edit history (a recall keeps none) and its pin. Best effort
// after the durable tombstone: readers hide both for a tombstone anyway.
func (s *Service) afterRecall(ctx context.Context, m storage.Message) {
	if err := s.store.DropEdits(ctx, m.ConversationID, m.Seq); err != nil {
		s.cfg.Logger.Warn("chat: drop the edit history of a recalled message", "message", m.ID, "err", err)
	}
	if err := s.unpin(ctx, m, m.SenderID); err != nil {
		s.cfg.Logger.Warn("chat: unpin a recalled message", "message", m.ID, "err", err)
	}
}
