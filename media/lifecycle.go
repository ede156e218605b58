package media

import (
	"context"
	"fmt"
	"io"
	"strings"

	"messenger/storage"
)

// AttachmentFiles calls fn with each file attached to msgs, in order: a
// name unique in an archive ("<message id>/<upload id>-<filename>"), its
// content type and its bytes, stopping at fn's first error. Messages
// deleted for everyone have none. The account lifecycle's data export
// reads it (lifecycle.AttachmentFiles).
func (s *Service) AttachmentFiles(ctx context.Context, msgs []storage.Message, fn func(name, contentType string, r io.Reader) error) error {
	byMsg, err := s.AttachmentsOf(ctx, msgs)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		for _, a := range byMsg[m.ID] {
			r, _, err := s.blobs.Get(ctx, BlobKey(a.ID))
			if err != nil {
				return fmt.Errorf("media: read attachment %s: %w", a.ID, err)
			}
			name := strings.NewReplacer(":", "_", "|", "_").Replace(m.ID) + "/" + a.ID + "-" + strings.ReplaceAll(a.Filename, "/", "_")
			err = fn(name, a.ContentType, r)
			_ = r.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}
