package media

import (
	"context"
	"errors"
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

// EraseUserMedia deletes the stories userID has up (their video bytes
// included) when the account is deleted (lifecycle.MediaEraser). It is
// idempotent: a resumed deletion job may call it again. Uploads the user
// never attached are removed by the sweeper within UploadTTL, and the
// files of their messages go when those messages are erased.
func (s *Service) EraseUserMedia(ctx context.Context, userID string) error {
	// Every live story was posted within StoryTTL; twice that is margin
	// for a clock step between instances.
	ids, err := s.stories.PostedSince(ctx, userID, s.now().Add(-2*s.cfg.StoryTTL))
	if err != nil {
		return fmt.Errorf("media: list the stories of %s: %w", userID, err)
	}
	for _, id := range ids {
		st, err := s.stories.Story(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted or swept already
		}
		if err != nil {
			return fmt.Errorf("media: read story %s: %w", id, err)
		}
		if st.AuthorID != userID {
			continue
		}
		// The bytes first: a job resumed after the story row is gone could
		// no longer find its upload.
		if err := s.dropUpload(ctx, st.UploadID); err != nil {
			return err
		}
		if err := s.stories.DeleteStory(ctx, id); err != nil {
			return fmt.Errorf("media: delete story %s: %w", id, err)
		}
	}
	return nil
}
