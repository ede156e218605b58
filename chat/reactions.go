package chat

import (
	"context"
	"fmt"

	"messenger/storage"
	"messenger/textrules"
)

// MaxDistinctEmoji caps how many different emoji one message can carry.
const MaxDistinctEmoji = 50

// validEmoji accepts exactly one emoji (see textrules.Emoji): one grapheme
// cluster of emoji, with no combining marks, stray tag characters or
// variation selectors on anything but an emoji.
func validEmoji(e string) error {
	if err := textrules.Emoji(e); err != nil {
		return badInput("emoji", "emoji "+err.Error())
	}
	return nil
}

// AddReaction adds my reaction to a message (once per emoji).
func (s *Service) AddReaction(ctx context.Context, me, messageID, emoji string) (storage.Message, error) {
	if err := validEmoji(emoji); err != nil {
		return storage.Message{}, err
	}
	// The cap check and the add are one step: two new emoji racing for
	// the last free place must not both get it.
	defer s.messages.lock(messageID)()
	m, err := s.Message(ctx, me, messageID)
	if err != nil {
		return m, err
	}
	if m.DeletedAt != nil {
		return m, badInput("messageId", "a deleted message cannot be reacted to")
	}
	if err := s.mayMessageIn(ctx, me, m.ConversationID); err != nil {
		return m, err
	}
	sums, err := s.store.Reactions(ctx, m.ConversationID, []int64{m.Seq})
	if err != nil {
		return m, fmt.Errorf("chat: load reactions: %w", err)
	}
	known := false
	for _, r := range sums[m.Seq] {
		known = known || r.Emoji == emoji
	}
	if !known && len(sums[m.Seq]) >= MaxDistinctEmoji {
		return m, badInput("emoji", fmt.Sprintf("a message carries at most %d different emoji", MaxDistinctEmoji))
	}
	added, err := s.store.AddReaction(ctx, m.ConversationID, m.Seq, me, emoji, s.now())
	if err != nil {
		return m, fmt.Errorf("chat: add reaction: %w", err)
	}
	if added {
		s.reactionEvent(ctx, m, me, emoji, true)
	}
	return m, nil
}

// RemoveReaction removes my reaction; removing an absent one is a no-op.
func (s *Service) RemoveReaction(ctx context.Context, me, messageID, emoji string) (storage.Message, error) {
	if err := validEmoji(emoji); err != nil {
		return storage.Message{}, err
	}
	m, err := s.Message(ctx, me, messageID)
	if err != nil {
		return m, err
	}
	removed, err := s.store.RemoveReaction(ctx, m.ConversationID, m.Seq, me, emoji)
	if err != nil {
		return m, fmt.Errorf("chat: remove reaction: %w", err)
	}
	if removed {
		s.reactionEvent(ctx, m, me, emoji, false)
	}
	return m, nil
}

func (s *Service) reactionEvent(ctx context.Context, m storage.Message, me, emoji string, added bool) {
	s.emitConversation(ctx, m.ConversationID, &ReactionUpdated{Message: &m, UserID: me, Emoji: emoji, Added: added})
}

// ReactionUsers pages who reacted with emoji on a message, by user id.
func (s *Service) ReactionUsers(ctx context.Context, messageID, emoji string, first int, afterUserID string) ([]storage.Receipt, bool, error) {
	conv, seq, err := storage.ParseMessageID(messageID)
	if err != nil {
		return nil, false, notFound("message")
	}
	if first, err = capFirst(first); err != nil {
		return nil, false, err
	}
	rs, err := s.store.ReactionUsers(ctx, conv, seq, emoji, afterUserID, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("chat: reaction users: %w", err)
	}
	rs, more := trimPage(rs, first)
	return rs, more, nil
}
