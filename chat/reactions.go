package chat

import (
	"context"
	"fmt"
	"unicode"

	"github.com/rivo/uniseg"

	"messenger/storage"
)

// MaxDistinctEmoji caps how many different emoji one message can carry.
const MaxDistinctEmoji = 50

// validEmoji accepts exactly one emoji: one grapheme cluster (so ZWJ
// sequences, skin tones, keycaps and flags count as one) that starts with an
// emoji code point, and nothing else.
func validEmoji(e string) error {
	if e == "" || len(e) > 64 || uniseg.GraphemeClusterCount(e) != 1 {
		return badInput("emoji", "give exactly one emoji")
	}
	r := []rune(e)
	first := r[0]
	switch {
	case first >= 0x1F000 && first <= 0x1FAFF, // pictographs, emoticons, flags' regional indicators
		first >= 0x2300 && first <= 0x23FF, first >= 0x2600 && first <= 0x27BF,
		first >= 0x2B00 && first <= 0x2BFF, first >= 0x2190 && first <= 0x21FF,
		first == 0x00A9, first == 0x00AE, first == 0x203C, first == 0x2049,
		first == 0x2122, first == 0x2139, first == 0x3030, first == 0x303D,
		first == 0x3297, first == 0x3299:
		return nil
	case (unicode.IsDigit(first) || first == '#' || first == '*') && len(r) >= 2 && r[len(r)-1] == 0x20E3:
		return nil // keycap
	}
	return badInput("emoji", "give exactly one emoji")
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
	ids, err := s.memberIDs(ctx, m.ConversationID)
	if err != nil {
		return
	}
	s.emit(ctx, ids, &ReactionUpdated{Message: &m, UserID: me, Emoji: emoji, Added: added})
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
