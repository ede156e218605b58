package chat

import (
	"context"
	"errors"
	"fmt"

	"messenger/storage"
	"messenger/textrules"
)

// LinkPreviewer fetches the preview of the first link of messages:
// linkpreview.Service implements it.
type LinkPreviewer interface {
	// MessageWritten is told of every message just sent with a link, or
	// edited to another first link, after its own event was fanned out. It must return at once: the fetch runs
	// in the background and ends with LinkPreviewAttached. It may drop the
	// work when overloaded (the message then has no preview).
	MessageWritten(m storage.Message)
	// ImageURL is a short-lived URL of a stored preview image.
	ImageURL(ctx context.Context, key string) (string, error)
}

// UseLinkPreviews plugs in the link previewer (cmd/api does when
// MESSENGER_LINK_PREVIEWS allows). Without it no message gets a preview.
func (s *Service) UseLinkPreviews(p LinkPreviewer) { s.previewer.Store(&p) }

// linkPreviewWritten hands a message whose body holds a link to the
// previewer, if any, without blocking.
func (s *Service) linkPreviewWritten(m storage.Message) {
	p := s.previewer.Load()
	if p == nil || m.DeletedAt != nil || textrules.FirstURL(m.Body) == "" {
		return
	}
	(*p).MessageWritten(m)
}

// linkPreviewEdited hands an edited message over when the edit changed
// its first link (the preview of an unchanged link stands).
func (s *Service) linkPreviewEdited(previousBody string, m storage.Message) {
	if textrules.FirstURL(previousBody) != textrules.FirstURL(m.Body) {
		s.linkPreviewWritten(m)
	}
}

// LinkPreviewAttached tells every member that a preview was attached to the
// message (conversationID, seq), with MessageUpdated. A message recalled
// meanwhile tells nobody.
func (s *Service) LinkPreviewAttached(ctx context.Context, conversationID string, seq int64) error {
	got, err := s.store.Messages(ctx, conversationID, []int64{seq})
	if err != nil {
		return fmt.Errorf("chat: read message with a new preview: %w", err)
	}
	m, ok := got[seq]
	if !ok || m.DeletedAt != nil {
		return nil
	}
	ids, err := s.memberIDs(ctx, conversationID)
	if err != nil {
		return err
	}
	s.appendConversation(ctx, conversationID, ids, &MessageUpdated{Message: &m})
	return nil
}

// LinkPreview is the preview shown with m: nil when previews are off, the
// message was deleted, its body has no link, no preview was attached yet,
// or the one attached is of a link an edit has since removed. The caller
// has already been allowed to see m.
func (s *Service) LinkPreview(ctx context.Context, m storage.Message) (*storage.LinkPreview, error) {
	if s.previewer.Load() == nil || m.DeletedAt != nil {
		return nil, nil
	}
	url := textrules.FirstURL(m.Body)
	if url == "" {
		return nil, nil
	}
	got, err := s.store.MessageLinkPreviews(ctx, m.ConversationID, []int64{m.Seq})
	if err != nil {
		return nil, fmt.Errorf("chat: link preview of %s: %w", m.ID, err)
	}
	p, ok := got[m.Seq]
	if !ok || p.URL != url {
		return nil, nil
	}
	return &p, nil
}

// LinkPreviewImageURL is a short-lived URL of a preview's image.
func (s *Service) LinkPreviewImageURL(ctx context.Context, img storage.LinkPreviewImage) (string, error) {
	p := s.previewer.Load()
	if p == nil {
		return "", errors.New("chat: link previews are off")
	}
	return (*p).ImageURL(ctx, img.Key)
}
