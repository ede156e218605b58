package chat

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"messenger/storage"
)

// EditPage is one page of a message's previous versions, the most recent
// first.
type EditPage struct {
	Edits   []storage.Edit
	HasNext bool
}

// EditCursor is the opaque paging cursor of one previous version.
func EditCursor(e storage.Edit) string {
	return base64.RawURLEncoding.EncodeToString([]byte("edit:" + strconv.FormatInt(e.ReplacedAt.UnixNano(), 10)))
}

func parseEditCursor(c string) (time.Time, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), "edit:") {
		return time.Time{}, badInput("after", "malformed cursor")
	}
	n, err := strconv.ParseInt(string(raw[5:]), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, badInput("after", "malformed cursor")
	}
	return time.Unix(0, n).UTC(), nil
}

// recordEdit keeps m's current body as a previous version before an edit
// at replacedAt replaces it. It runs before the edit is written, so a
// version is never lost; an edit that then fails leaves a version equal to
// the current body, which is harmless.
func (s *Service) recordEdit(ctx context.Context, m storage.Message, replacedAt time.Time) error {
	written := m.SentAt
	if m.EditedAt != nil {
		written = *m.EditedAt
	}
	err := s.store.AddEdit(ctx, storage.Edit{ConversationID: m.ConversationID, Seq: m.Seq, Body: m.Body, WrittenAt: written, ReplacedAt: replacedAt})
	if err != nil {
		return fmt.Errorf("chat: record the previous version of %s: %w", m.ID, err)
	}
	return nil
}

// Edits pages the previous versions of a message I may see, the most
// recent first, `first` at most MaxPage (default 20). A message deleted
// for everyone has none, whatever is still stored.
func (s *Service) Edits(ctx context.Context, me string, m storage.Message, first int, after *string) (EditPage, error) {
	var page EditPage
	n, err := capFirst(first)
	if err != nil {
		return page, err
	}
	var before time.Time
	if after != nil {
		if before, err = parseEditCursor(*after); err != nil {
			return page, err
		}
	}
	mem, err := s.member(ctx, m.ConversationID, me)
	if err != nil || m.Seq <= mem.JoinedSeq {
		return page, notFound("message")
	}
	if m.DeletedAt != nil || m.EditedAt == nil {
		return page, nil
	}
	edits, err := s.store.Edits(ctx, m.ConversationID, m.Seq, before, n+1)
	if err != nil {
		return page, fmt.Errorf("chat: edits of %s: %w", m.ID, err)
	}
	page.Edits, page.HasNext = trimPage(edits, n)
	return page, nil
}
