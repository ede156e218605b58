package chat

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"messenger/storage"
	"messenger/textrules"
)

// Send appends a message to a conversation I am a member of and fans it out
// to every member. A retry with the same clientMessageID returns the
// original message and creates nothing. Attachments are ids that the
// Attachments port (media) claims before the message is written and binds
// before its event reaches anyone: a message is delivered whole or not at
// all.
func (s *Service) Send(ctx context.Context, me, conversationID, clientMessageID, body string, attachments ...string) (storage.Message, error) {
	return s.send(ctx, me, conversationID, clientMessageID, body, SendRefs{}, attachments)
}

// send is Send with refs (SendWith, threads.go).
func (s *Service) send(ctx context.Context, me, conversationID, clientMessageID, body string, sendRefs SendRefs, attachments []string) (storage.Message, error) {
	if err := textrules.ClientMessageID(clientMessageID); err != nil {
		return storage.Message{}, badInput("clientMessageId", "clientMessageId "+err.Error())
	}
	if err := s.validBody(body); err != nil {
		return storage.Message{}, err
	}
	mem, err := s.member(ctx, conversationID, me)
	if err != nil {
		return storage.Message{}, err
	}
	refs, err := s.resolveRefs(ctx, mem, sendRefs)
	if err != nil {
		return storage.Message{}, err
	}
	if err := s.checkPosting(ctx, mem); err != nil {
		return storage.Message{}, err
	}
	if err := s.mayMessageIn(ctx, me, conversationID); err != nil {
		return storage.Message{}, err
	}
	d := Draft{ConversationID: conversationID, SenderID: me, ClientMessageID: clientMessageID, Body: body, Attachments: attachments}
	if err := s.claimAttachments(ctx, d); err != nil {
		return storage.Message{}, err
	}
	m, created, err := s.store.AppendMessage(ctx, storage.Message{
		ConversationID: conversationID, SenderID: me, ClientMessageID: clientMessageID, Body: body, SentAt: s.now(), MessageRefs: refs,
	})
	if err != nil {
		return m, fmt.Errorf("chat: append message: %w", err)
	}
	s.indexMessages(conversationID, m.Seq)
	if len(attachments) > 0 {
		if err := s.bindAttachments(ctx, m); err != nil {
			// Durable and pending in the outbox, but not whole: it is not
			// fanned out now. A retry binds it again; the sweeper binds
			// before it replays.
			return storage.Message{}, fmt.Errorf("chat: attach to message %s: %w", m.ID, err)
		}
	}
	// The message is durable and pending in the outbox: fan it out now, in
	// its conversation's seq order (fanout.go), and confirm only if every
	// member's log has it. Otherwise, and if this process dies first, a
	// successor's takeover or the sweeper replays it (outbox.go). A retry
	// (created=false) leaves an unconfirmed original to them too.
	if created {
		delivered, ids := s.fanOut(ctx, m)
		s.linkPreviewWritten(m)
		s.threadSent(ctx, m)
		// What follows a send need not delay its answer: one background
		// task, not a goroutine per step. Each new goroutine's stack grows
		// anew to the store's depth; two per send were 12 % of the API's
		// CPU at 1,000 msg/s, one is 7 % (docs/BENCHMARKS.md, session 13).
		bg := context.WithoutCancel(ctx)
		s.goBackground(func() {
			if delivered {
				s.confirmFanOutNow(m, ids)
			}
			s.draftSent(bg, me, conversationID)
		})
	}
	return m, nil
}

// validBody checks a body sent or edited: not empty, showing something (a
// body of only zero-width characters is refused; see textrules.Body), and
// at most MaxBodyRunes characters.
func (s *Service) validBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return badInput("body", "body must not be empty")
	}
	if err := textrules.Body(body); err != nil {
		return badInput("body", "body "+err.Error())
	}
	if n := utf8.RuneCountInString(body); n > s.cfg.MaxBodyRunes {
		return badInput("body", fmt.Sprintf("body has %d characters; the limit is %d", n, s.cfg.MaxBodyRunes))
	}
	return nil
}

// Message returns a message of a conversation I am a member of and joined
// before it was sent.
func (s *Service) Message(ctx context.Context, me, messageID string) (storage.Message, error) {
	m, err := s.store.MessageByID(ctx, messageID)
	if errors.Is(err, storage.ErrNotFound) {
		return m, notFound("message")
	}
	if err != nil {
		return m, fmt.Errorf("chat: load message: %w", err)
	}
	mem, err := s.member(ctx, m.ConversationID, me)
	if err != nil || m.Seq <= mem.JoinedSeq {
		return storage.Message{}, notFound("message")
	}
	return m, nil
}

// MessageCursor is the opaque paging cursor of a message.
func MessageCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.FormatInt(seq, 10)))
}

func parseMessageCursor(field, c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), "seq:") {
		return 0, badInput(field, "malformed cursor")
	}
	seq, err := strconv.ParseInt(string(raw[4:]), 10, 64)
	if err != nil || seq < 0 {
		return 0, badInput(field, "malformed cursor")
	}
	return seq, nil
}

// MessagePage is one page of history, oldest first.
type MessagePage struct {
	Messages    []storage.Message
	HasNext     bool
	HasPrevious bool
}

// HistoryArgs are Relay paging arguments; nil means absent.
type HistoryArgs struct {
	First, Last   *int
	After, Before *string
	// IncludeThreadReplies keeps thread replies in the page (History
	// leaves them out by default; see threads.go).
	IncludeThreadReplies bool
}

// History pages a conversation's messages as I see them: only those sent
// after I joined, without those I deleted for myself.
func (s *Service) History(ctx context.Context, me, conversationID string, a HistoryArgs) (MessagePage, error) {
	var page MessagePage
	if a.First != nil && a.Last != nil {
		return page, badInput("first", "give first or last, not both")
	}
	mem, err := s.member(ctx, conversationID, me)
	if err != nil {
		return page, err
	}
	var afterSeq, beforeSeq int64
	if a.After != nil {
		if afterSeq, err = parseMessageCursor("after", *a.After); err != nil {
			return page, err
		}
	}
	if a.Before != nil {
		if beforeSeq, err = parseMessageCursor("before", *a.Before); err != nil {
			return page, err
		}
	}
	afterSeq = max(afterSeq, mem.JoinedSeq)
	forward := a.First != nil || (a.After != nil && a.Last == nil)
	n := 20
	if a.First != nil {
		n = *a.First
	} else if a.Last != nil {
		n = *a.Last
	}
	if n < 0 {
		return page, badInput("first", "first and last must not be negative")
	}
	n = min(n, MaxPage)
	if n == 0 {
		return page, nil
	}
	msgs, err := s.listHistory(ctx, conversationID, me, afterSeq, beforeSeq, n+1, !forward, a.IncludeThreadReplies)
	if err != nil {
		return page, fmt.Errorf("chat: list messages: %w", err)
	}
	msgs, more := trimPage(msgs, n)
	if forward {
		page.HasNext, page.HasPrevious = more, afterSeq > mem.JoinedSeq
	} else {
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
		page.HasPrevious, page.HasNext = more, beforeSeq > 0
	}
	page.Messages = msgs
	return page, nil
}

// Edit replaces the body of my own message; every member gets MessageUpdated.
func (s *Service) Edit(ctx context.Context, me, messageID, body string) (storage.Message, error) {
	if err := s.validBody(body); err != nil {
		return storage.Message{}, err
	}
	// The lock orders an edit and a recall within this process; across
	// processes the store's final tombstone does (see UpdateMessage).
	defer s.messages.lock(messageID)()
	m, err := s.Message(ctx, me, messageID)
	if err != nil {
		return m, err
	}
	if m.SenderID != me {
		return m, forbidden("only the sender may edit a message")
	}
	if m.DeletedAt != nil {
		return m, badInput("messageId", "a deleted message cannot be edited")
	}
	if err := s.mayMessageIn(ctx, me, m.ConversationID); err != nil {
		return m, err
	}
	now := s.now()
	if err := s.recordEdit(ctx, m, now); err != nil {
		return m, err
	}
	previous := m.Body
	m.Body, m.EditedAt = body, &now
	if err := s.store.UpdateMessage(ctx, m); err != nil {
		return m, fmt.Errorf("chat: edit message: %w", err)
	}
	// A recall from another process may have landed between our read and
	// write; the store keeps the tombstone then, and so must we.
	if after, err := s.store.Messages(ctx, m.ConversationID, []int64{m.Seq}); err == nil && after[m.Seq].DeletedAt != nil {
		return after[m.Seq], badInput("messageId", "a deleted message cannot be edited")
	}
	s.indexMessages(m.ConversationID, m.Seq)
	s.emitConversation(ctx, m.ConversationID, &MessageUpdated{Message: &m})
	s.linkPreviewEdited(previous, m)
	return m, nil
}

// Delete hides a message for me, or (forEveryone) turns my own message into a
// tombstone within the recall window and drops its attachments (see
// Attachments.DropAttachments).
func (s *Service) Delete(ctx context.Context, me, messageID string, forEveryone bool) (storage.Message, error) {
	m, err := s.Message(ctx, me, messageID)
	if err != nil {
		return m, err
	}
	ev := &MessageDeleted{ConversationID: m.ConversationID, MessageID: m.ID, Seq: m.Seq, ForEveryone: forEveryone}
	if !forEveryone {
		if err := s.store.HideMessage(ctx, me, m.ConversationID, m.Seq); err != nil {
			return m, fmt.Errorf("chat: hide message: %w", err)
		}
		s.indexHidden(m.ConversationID, m.Seq, me)
		s.dropMyMention(ctx, me, m)
		s.emit(ctx, []string{me}, ev)
		return m, nil
	}
	if m.SenderID != me {
		return s.moderatorDelete(ctx, me, m, ev) // moderation.go
	}
	if m, err = s.recall(ctx, me, messageID, ev); err != nil {
		return m, err
	}
	s.dropMentions(ctx, m)
	// Outside the message's lock: deleting the files' bytes may be slow.
	if a := s.attachmentsPort(); a != nil {
		if err := a.DropAttachments(ctx, m); err != nil {
			return m, fmt.Errorf("chat: drop the attachments of %s: %w", m.ID, err)
		}
	}
	return m, nil
}

// recall turns my message into a tombstone within the recall window, and
// tells every member; a message already deleted is returned as it is.
func (s *Service) recall(ctx context.Context, me, messageID string, ev *MessageDeleted) (storage.Message, error) {
	// Re-read under the message's lock: an edit in flight either lands
	// before the tombstone or sees it and is refused.
	defer s.messages.lock(messageID)()
	m, err := s.Message(ctx, me, messageID)
	if err != nil {
		return m, err
	}
	now := s.now()
	if now.Sub(m.SentAt) > s.cfg.RecallWindow {
		return m, forbidden(fmt.Sprintf("messages can be deleted for everyone only within %s of sending", s.cfg.RecallWindow))
	}
	if m.DeletedAt != nil {
		return m, nil
	}
	m.Body, m.DeletedAt = "", &now
	if err := s.store.UpdateMessage(ctx, m); err != nil {
		return m, fmt.Errorf("chat: delete message: %w", err)
	}
	s.indexMessages(m.ConversationID, m.Seq)
	s.afterRecall(ctx, m)
	s.emitConversation(ctx, m.ConversationID, ev)
	s.notifyRecalled(m)
	return m, nil
}
