package media

import (
	"context"
	"fmt"
)

// Attachment returns one file attached to a message, with a fresh URL, to
// whoever may see the message (the same rule as the message's own
// attachments): an upload not attached yet, attached to a message I may not
// see, or to one deleted for everyone, is NOT_FOUND.
func (s *Service) Attachment(ctx context.Context, me, uploadID string) (Attachment, error) {
	us, err := s.uploads.Uploads(ctx, []string{uploadID})
	if err != nil {
		return Attachment{}, fmt.Errorf("media: load attachment: %w", err)
	}
	u, ok := us[uploadID]
	if !ok || u.MessageID == "" {
		return Attachment{}, notFound("attachment")
	}
	m, err := s.chat.Message(ctx, me, u.MessageID)
	if err != nil {
		return Attachment{}, err
	}
	if m.DeletedAt != nil {
		return Attachment{}, notFound("attachment")
	}
	url, err := s.URL(ctx, u)
	if err != nil {
		return Attachment{}, err
	}
	a := []Attachment{{Upload: u, URL: url}}
	if err := s.addPreviews(ctx, []*Attachment{&a[0]}); err != nil {
		return Attachment{}, err
	}
	return a[0], s.addWaveforms(ctx, map[string][]Attachment{u.MessageID: a})
}
