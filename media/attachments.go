package media

import (
	"context"
	"errors"
	"fmt"

	"messenger/storage"
)

// Attachment is an upload as attached to a message.
type Attachment struct {
	Upload
	// URL is a short-lived signed download URL.
	URL string
}

// Send sends a message with up to MaxAttachments of my own uploads, each
// usable once. The uploads are claimed for this send (keyed by the
// client's message id, so a retry claims them again) before the message is
// written, then bound to it: two messages can never share an upload, and a
// crash in between is repaired by the client's retry.
func (s *Service) Send(ctx context.Context, me, conversationID, clientMessageID, body string, attachmentIDs []string) (storage.Message, error) {
	if len(attachmentIDs) == 0 {
		return s.chat.Send(ctx, me, conversationID, clientMessageID, body)
	}
	if len(attachmentIDs) > MaxAttachments {
		return storage.Message{}, badInput("attachmentIds", fmt.Sprintf("a message carries at most %d files; got %d", MaxAttachments, len(attachmentIDs)))
	}
	seen := map[string]bool{}
	for _, id := range attachmentIDs {
		if seen[id] {
			return storage.Message{}, badInput("attachmentIds", "the same upload is listed twice")
		}
		seen[id] = true
	}
	if _, err := s.chat.Membership(ctx, me, conversationID); err != nil {
		return storage.Message{}, err
	}
	us, err := s.store.Uploads(ctx, attachmentIDs)
	if err != nil {
		return storage.Message{}, fmt.Errorf("media: load uploads: %w", err)
	}
	claim := "m:" + conversationID + "|" + me + "|" + clientMessageID
	for _, id := range attachmentIDs {
		u, ok := us[id]
		switch {
		case !ok:
			return storage.Message{}, notFound("upload")
		case u.OwnerID != me:
			return storage.Message{}, forbidden("only the uploader may attach an upload")
		case !u.Ready:
			return storage.Message{}, badInput("attachmentIds", "an upload is not confirmed yet: call confirmUpload first")
		case u.Kind == Video:
			return storage.Message{}, badInput("attachmentIds", "videos can be posted as stories, not attached")
		case u.Claim != "" && u.Claim != claim:
			return storage.Message{}, badInput("attachmentIds", "an upload can be attached only once")
		}
	}
	switch err := s.store.Claim(ctx, attachmentIDs, claim); {
	case errors.Is(err, ErrClaimed):
		return storage.Message{}, badInput("attachmentIds", "an upload can be attached only once")
	case errors.Is(err, ErrNotFound):
		return storage.Message{}, notFound("upload")
	case err != nil:
		return storage.Message{}, fmt.Errorf("media: claim uploads: %w", err)
	}
	m, err := s.chat.Send(ctx, me, conversationID, clientMessageID, body)
	if err != nil {
		return m, err
	}
	if err := s.store.Attach(ctx, m.ID, attachmentIDs); err != nil {
		return m, fmt.Errorf("media: attach uploads: %w", err)
	}
	return m, nil
}

// Delete deletes a message (see chat.Service.Delete). Deleting for
// everyone also deletes its attachments' bytes, so URLs already handed
// out stop working at once.
func (s *Service) Delete(ctx context.Context, me, messageID string, forEveryone bool) (storage.Message, error) {
	m, err := s.chat.Delete(ctx, me, messageID, forEveryone)
	if err != nil || !forEveryone {
		return m, err
	}
	byMsg, err := s.store.Attachments(ctx, []string{m.ID})
	if err != nil {
		return m, fmt.Errorf("media: load attachments: %w", err)
	}
	for _, id := range byMsg[m.ID] {
		if err := s.blobs.Delete(context.WithoutCancel(ctx), BlobKey(id)); err != nil {
			return m, fmt.Errorf("media: delete attachment: %w", err)
		}
	}
	return m, nil
}

// Attachments lists a message's files with fresh URLs; none once the
// message was deleted for everyone. The caller has already checked that
// the viewer may see the message.
func (s *Service) Attachments(ctx context.Context, m *storage.Message) ([]Attachment, error) {
	byMsg, err := s.AttachmentsOf(ctx, []storage.Message{*m})
	return byMsg[m.ID], err
}

// AttachmentsOf lists the files of several messages (a page of history)
// with fresh URLs, keyed by message id, in two store calls however many
// messages there are: their upload ids, then the uploads. Every message has
// an entry, empty when it has no files or was deleted for everyone. The
// caller has already checked that the viewer may see the messages.
func (s *Service) AttachmentsOf(ctx context.Context, msgs []storage.Message) (map[string][]Attachment, error) {
	out := make(map[string][]Attachment, len(msgs))
	var live []string
	for _, m := range msgs {
		out[m.ID] = []Attachment{}
		if m.DeletedAt == nil {
			live = append(live, m.ID)
		}
	}
	if len(live) == 0 {
		return out, nil
	}
	byMsg, err := s.store.Attachments(ctx, live)
	if err != nil {
		return nil, fmt.Errorf("media: load attachments: %w", err)
	}
	var all []string
	for _, ids := range byMsg {
		all = append(all, ids...)
	}
	if len(all) == 0 {
		return out, nil
	}
	us, err := s.store.Uploads(ctx, all)
	if err != nil {
		return nil, fmt.Errorf("media: load attachments: %w", err)
	}
	for msgID, ids := range byMsg {
		if _, ok := out[msgID]; !ok {
			continue
		}
		as := make([]Attachment, 0, len(ids))
		for _, id := range ids {
			u, ok := us[id]
			if !ok {
				continue
			}
			url, err := s.URL(ctx, u)
			if err != nil {
				return nil, err
			}
			as = append(as, Attachment{Upload: u, URL: url})
		}
		out[msgID] = as
	}
	return out, nil
}
