package media

import (
	"context"
	"errors"
	"fmt"

	"messenger/chat"
	"messenger/storage"
)

// Attachment is an upload as attached to a message.
type Attachment struct {
	Upload
	// URL is a short-lived signed download URL.
	URL string
	// Waveform is a voice note's waveform (WaveformLen samples 0-255); nil
	// for other files.
	Waveform []int
	// Previews are its thumbnails and BlurHash (images only).
	Previews Previews
}

var _ chat.Attachments = (*Service)(nil)

// draftKey names one send (conversation, sender, client message id): the
// uploads' claim and the record of what the message will carry, so that
// BindAttachments finds them from the written message alone.
func draftKey(conversationID, senderID, clientMessageID string) string {
	return "m:" + conversationID + "|" + senderID + "|" + clientMessageID
}

// ClaimAttachments implements chat.Attachments: up to MaxAttachments of the
// sender's own confirmed uploads (no videos), each usable once. They are
// claimed under the send's key (so a retry claims them again, and two
// messages can never share an upload), then recorded under it in their
// order; a crash in between is repaired by the client's retry. A retry
// whose send already recorded its uploads keeps those and claims nothing.
func (s *Service) ClaimAttachments(ctx context.Context, d chat.Draft) error {
	ids := d.Attachments
	if len(ids) == 1 {
		if src, ok := chat.ForwardedFilesOf(ids[0]); ok {
			return s.shareAttachments(ctx, d, src)
		}
	}
	if len(ids) > MaxAttachments {
		return badInput("attachmentIds", fmt.Sprintf("a message carries at most %d files; got %d", MaxAttachments, len(ids)))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return badInput("attachmentIds", "the same upload is listed twice")
		}
		seen[id] = true
	}
	key := draftKey(d.ConversationID, d.SenderID, d.ClientMessageID)
	recorded, err := s.attachments.Attachments(ctx, []string{key})
	if err != nil {
		return fmt.Errorf("media: load the attachments of %s: %w", key, err)
	}
	if len(recorded[key]) > 0 {
		return nil
	}
	us, err := s.uploads.Uploads(ctx, ids)
	if err != nil {
		return fmt.Errorf("media: load uploads: %w", err)
	}
	for _, id := range ids {
		u, ok := us[id]
		switch {
		case !ok:
			return notFound("upload")
		case u.OwnerID != d.SenderID:
			return forbidden("only the uploader may attach an upload")
		case !u.Ready:
			return badInput("attachmentIds", "an upload is not confirmed yet: call confirmUpload first")
		case u.Claim != "" && u.Claim != key:
			return badInput("attachmentIds", "an upload can be attached only once")
		}
	}
	if err := s.checkAttachable(ids, us); err != nil {
		return err
	}
	switch err := s.uploads.Claim(ctx, ids, key); {
	case errors.Is(err, ErrClaimed):
		return badInput("attachmentIds", "an upload can be attached only once")
	case errors.Is(err, ErrNotFound):
		return notFound("upload")
	case err != nil:
		return fmt.Errorf("media: claim uploads: %w", err)
	}
	if err := s.attachments.Attach(ctx, key, ids); err != nil {
		return fmt.Errorf("media: record the attachments of %s: %w", key, err)
	}
	return nil
}

// BindAttachments implements chat.Attachments: the uploads recorded under
// m's send key become m's attachments, in their order.
func (s *Service) BindAttachments(ctx context.Context, m storage.Message) error {
	key := draftKey(m.ConversationID, m.SenderID, m.ClientMessageID)
	recorded, err := s.attachments.Attachments(ctx, []string{key})
	if err != nil {
		return fmt.Errorf("media: load the attachments of %s: %w", key, err)
	}
	ids := recorded[key]
	if len(ids) == 0 {
		return nil
	}
	if err := s.attachments.Attach(ctx, m.ID, ids); err != nil {
		return fmt.Errorf("media: attach uploads to %s: %w", m.ID, err)
	}
	return nil
}

// DropAttachments implements chat.Attachments: the bytes of a message
// deleted for everyone are deleted, so URLs already handed out stop
// working at once; files a forwarded copy shares keep their bytes.
func (s *Service) DropAttachments(ctx context.Context, m storage.Message) error {
	byMsg, err := s.attachments.Attachments(ctx, []string{m.ID})
	if err != nil {
		return fmt.Errorf("media: load attachments: %w", err)
	}
	ids, err := s.unshared(ctx, byMsg[m.ID])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.blobs.Delete(context.WithoutCancel(ctx), BlobKey(id)); err != nil {
			return fmt.Errorf("media: delete attachment: %w", err)
		}
		if err := s.dropThumbnails(context.WithoutCancel(ctx), id); err != nil {
			return err
		}
	}
	return nil
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
	byMsg, err := s.attachments.Attachments(ctx, live)
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
	us, err := s.uploads.Uploads(ctx, all)
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
	var withFiles []*Attachment
	for _, as := range out {
		for i := range as {
			withFiles = append(withFiles, &as[i])
		}
	}
	if err := s.addPreviews(ctx, withFiles); err != nil {
		return nil, err
	}
	return out, s.addWaveforms(ctx, out)
}
