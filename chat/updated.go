package chat

import (
	"context"
	"errors"
	"fmt"

	"messenger/storage"
)

// NotifyMessageUpdated tells every member of a message's conversation that
// something another domain keeps about it changed (its files' thumbnails
// were made): they get MessageUpdated with the message as stored, and
// resolve what changed through the API. A message deleted for everyone, or
// gone, is not announced.
func (s *Service) NotifyMessageUpdated(ctx context.Context, messageID string) error {
	m, err := s.store.MessageByID(ctx, messageID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("chat: load message %s: %w", messageID, err)
	}
	if m.DeletedAt != nil {
		return nil
	}
	ids, err := s.memberIDs(ctx, m.ConversationID)
	if err != nil {
		return err
	}
	s.appendConversation(ctx, m.ConversationID, ids, &MessageUpdated{Message: &m})
	return nil
}
