package chat

import (
	"context"
	"errors"
	"fmt"

	"messenger/storage"
)

// Around names the message a page is centred on: by Seq, or by MessageID
// when Seq is 0.
type Around struct {
	Seq       int64
	MessageID string
}

// HistoryAround is a page of about n messages (default 20, at most
// MaxPage) centred on one message, oldest first, the message itself
// included when I may see it: about half older, the rest newer, more of
// one side when the other runs out (as Discord's `around` and Matrix's
// /context). Its edges' cursors continue both ways with History's
// before/after, and HasPrevious/HasNext say whether anything is there.
// A message of another conversation, or one I may not see, is NOT_FOUND.
// Thread replies are left out unless a.IncludeThreadReplies, as in
// History (a thread reply centred on is then skipped: open its thread).
func (s *Service) HistoryAround(ctx context.Context, me, conversationID string, at Around, a HistoryArgs) (MessagePage, error) {
	var page MessagePage
	if a.After != nil || a.Before != nil || a.Last != nil {
		return page, badInput("around", "around takes first only: page on from the edges' cursors with after or before")
	}
	if at.Seq < 0 || (at.Seq == 0 && at.MessageID == "") {
		return page, badInput("around", "around is a message id or a positive seq")
	}
	n, err := capFirst(optIntArg(a.First))
	if err != nil {
		return page, err
	}
	mem, err := s.member(ctx, conversationID, me)
	if err != nil {
		return page, err
	}
	seq := at.Seq
	if seq == 0 {
		conv, mseq, err := storage.ParseMessageID(at.MessageID)
		if err != nil || conv != conversationID {
			return page, notFound("message")
		}
		seq = mseq
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return page, err
	}
	if seq <= mem.JoinedSeq || seq > c.LastSeq {
		return page, notFound("message")
	}
	older, err := s.listHistory(ctx, conversationID, me, mem.JoinedSeq, seq, n+1, true, a.IncludeThreadReplies)
	if err != nil {
		return page, fmt.Errorf("chat: list messages: %w", err)
	}
	newer, err := s.listHistory(ctx, conversationID, me, seq-1, 0, n+1, false, a.IncludeThreadReplies)
	if err != nil {
		return page, fmt.Errorf("chat: list messages: %w", err)
	}
	nNewer := min(len(newer), n-min(len(older), n/2))
	nOlder := min(len(older), n-nNewer)
	page.HasPrevious, page.HasNext = len(older) > nOlder, len(newer) > nNewer
	msgs := make([]storage.Message, 0, nOlder+nNewer)
	for i := nOlder - 1; i >= 0; i-- {
		msgs = append(msgs, older[i])
	}
	page.Messages = append(msgs, newer[:nNewer]...)
	return page, nil
}

// firstUnreadScan bounds how far FirstUnreadSeq looks past the read
// cursor for a message someone else sent.
const firstUnreadScan = 100

// FirstUnreadSeq is the seq of the first message after my read cursor
// that I should read (not mine, not hidden by me, not deleted for
// everyone), so a client can open the conversation there with
// messages(around:); ok is false when everything is read. One store read:
// past firstUnreadScan of my own or deleted messages it answers the first
// seq after the read cursor.
func (s *Service) FirstUnreadSeq(ctx context.Context, me, conversationID string) (seq int64, ok bool, err error) {
	mem, err := s.member(ctx, conversationID, me)
	if err != nil {
		return 0, false, err
	}
	from := max(mem.ReadSeq, mem.JoinedSeq)
	msgs, err := s.store.ListMessages(ctx, conversationID, me, from, 0, firstUnreadScan, false)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("chat: first unread: %w", err)
	}
	for _, m := range msgs {
		if m.SenderID != me && m.DeletedAt == nil {
			return m.Seq, true, nil
		}
	}
	if len(msgs) == firstUnreadScan {
		return from + 1, true, nil
	}
	return 0, false, nil
}

func optIntArg(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
