package media

import (
	"context"
	"fmt"

	"messenger/chat"
)

// sharedKey names the mark of an upload shared by forwarded copies: its
// bytes are never deleted by a recall, since another message shows them.
func sharedKey(uploadID string) string { return "shared:" + uploadID }

// shareAttachments is ClaimAttachments for a forwarded copy (its draft
// carries chat.ForwardedFiles(sourceID)): the files of the source, which
// the sender must be able to see, are recorded under the copy's send key
// in their order, claiming nothing and copying no bytes, and each is
// marked shared first, so that deleting the source (or any copy) for
// everyone keeps the bytes the other messages still show.
func (s *Service) shareAttachments(ctx context.Context, d chat.Draft, sourceID string) error {
	key := draftKey(d.ConversationID, d.SenderID, d.ClientMessageID)
	recorded, err := s.attachments.Attachments(ctx, []string{key})
	if err != nil {
		return fmt.Errorf("media: load the attachments of %s: %w", key, err)
	}
	if len(recorded[key]) > 0 {
		return nil
	}
	src, err := s.chat.Message(ctx, d.SenderID, sourceID)
	if err != nil {
		return err
	}
	if src.DeletedAt != nil {
		return badInput("attachmentIds", "the files of a deleted message cannot be forwarded")
	}
	byMsg, err := s.attachments.Attachments(ctx, []string{src.ID})
	if err != nil {
		return fmt.Errorf("media: load the attachments of %s: %w", src.ID, err)
	}
	ids := byMsg[src.ID]
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if err := s.attachments.Attach(ctx, sharedKey(id), []string{id}); err != nil {
			return fmt.Errorf("media: mark %s shared: %w", id, err)
		}
	}
	if err := s.attachments.Attach(ctx, key, ids); err != nil {
		return fmt.Errorf("media: record the attachments of %s: %w", key, err)
	}
	return nil
}

// unshared returns the uploads among ids that no forwarded copy shares:
// the only ones whose bytes a recall may delete.
func (s *Service) unshared(ctx context.Context, ids []string) ([]string, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = sharedKey(id)
	}
	marks, err := s.attachments.Attachments(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("media: load shared marks: %w", err)
	}
	out := ids[:0:0]
	for _, id := range ids {
		if len(marks[sharedKey(id)]) == 0 {
			out = append(out, id)
		}
	}
	return out, nil
}
