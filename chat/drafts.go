package chat

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"messenger/storage"
)

// SaveDraft stores my unsent text in a conversation ("" clears it) and
// syncs it to my devices (DraftUpdated). Sending a message clears it.
// It returns the draft, or nil when cleared.
func (s *Service) SaveDraft(ctx context.Context, me, conversationID, body string) (*storage.Draft, error) {
	if utf8.RuneCountInString(body) > s.cfg.MaxBodyRunes {
		return nil, badInput("body", fmt.Sprintf("a draft has at most %d characters", s.cfg.MaxBodyRunes))
	}
	if !utf8.ValidString(body) {
		return nil, badInput("body", "body is not valid UTF-8")
	}
	if _, err := s.member(ctx, conversationID, me); err != nil {
		return nil, err
	}
	d := storage.Draft{ConversationID: conversationID, Body: body, UpdatedAt: s.now()}
	if err := s.store.SaveDraft(ctx, me, d); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, notFound("conversation")
		}
		return nil, fmt.Errorf("chat: save draft: %w", err)
	}
	ev := &DraftUpdated{ConversationID: conversationID}
	if body != "" {
		ev.Draft = &d
	}
	s.emit(ctx, []string{me}, ev)
	return ev.Draft, nil
}

// Draft returns my draft in a conversation, or nil.
func (s *Service) Draft(ctx context.Context, me, conversationID string) (*storage.Draft, error) {
	ds, err := s.store.Drafts(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("chat: drafts: %w", err)
	}
	d, ok := ds[conversationID]
	if !ok {
		return nil, nil
	}
	return &d, nil
}

// draftSent clears my draft of a conversation I just sent to. A send runs
// it in its background task (the send is done; a draft left behind is only
// cosmetic).
func (s *Service) draftSent(ctx context.Context, me, conversationID string) {
	ds, err := s.store.Drafts(ctx, me)
	if err != nil {
		return
	}
	if _, ok := ds[conversationID]; !ok {
		return
	}
	if err := s.store.SaveDraft(ctx, me, storage.Draft{ConversationID: conversationID}); err != nil {
		return
	}
	s.emit(ctx, []string{me}, &DraftUpdated{ConversationID: conversationID})
}
